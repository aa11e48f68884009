//! Sign-in sheets: open, sign from one's own device or the trainer's, mark, close for good.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::schema::{audit_events, module_totals, modules};

use crate::common::*;

pub(crate) fn add_session(app: &TestApp, org: i64, cohort: i64) -> i64 {
    let m1: i64 = modules::table
        .filter(modules::code.eq("M1"))
        .select(modules::id)
        .first(&mut *app.conn())
        .unwrap();
    let t = |h, m| chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap();
    let mut conn = app.conn();
    parcours::cohorts::store::add_sessions(
        &mut conn,
        1,
        org,
        cohort,
        &[parcours::cohorts::store::NewSession {
            module_id: m1,
            trainer_id: None,
            day: chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
            starts_at: t(9, 0),
            ends_at: t(12, 30),
            place: "Salle 2",
        }],
    )
    .unwrap();
    use parcours::db::schema::sessions;
    sessions::table
        .order(sessions::id.desc())
        .select(sessions::id)
        .first(&mut *conn)
        .unwrap()
}

fn presentiel(app: &TestApp, trainee: i64) -> i64 {
    module_totals::table
        .filter(module_totals::trainee_id.eq(trainee))
        .select(module_totals::presentiel_seconds)
        .first(&mut *app.conn())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_trainer_takes_attendance_for_a_half_day_end_to_end() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let b = app.create_organism("Organisme B");
    let (trainer, _) = signed_in(&app, Role::Trainer, Some(org), "formateur@a.fr").await;
    let (trainer_b, _) = signed_in(&app, Role::Trainer, Some(b), "formateur@b.fr").await;
    let cohort = app.create_cohort(org, "CQP-AM");
    let (alice, alice_id) = signed_in(&app, Role::Trainee, Some(org), "alice@a.fr").await;
    app.enrol(org, cohort, alice_id);
    let (_, bruno_id) = signed_in(&app, Role::Trainee, Some(org), "bruno@a.fr").await;
    app.enrol(org, cohort, bruno_id);
    let (claire, claire_id) = signed_in(&app, Role::Trainee, Some(org), "claire@a.fr").await;
    let other = app.create_cohort(org, "CQP-AM");
    app.enrol(org, other, claire_id);
    let session = add_session(&app, org, cohort);
    let sheet = app.url(&format!("/seances/{session}/emargement"));
    let post = |c: &reqwest::Client, path: String, form: Vec<(&'static str, String)>| {
        let c = c.clone();
        let app = &app;
        async move { c.post_form(app, &path, &form).await }
    };
    // Another organism's trainer sees nothing.
    assert_eq!(trainer_b.get(&sheet).send().await.unwrap().status(), 404);
    assert_eq!(
        post(
            &trainer,
            format!("/seances/{session}/emargement/ouvrir"),
            vec![]
        )
        .await
        .status(),
        303
    );
    // Alice signs from her phone; Claire, of another cohort, cannot.
    let open = alice
        .get(app.url("/emargement"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(open.contains("Je signe"), "{open}");
    assert_eq!(
        post(&alice, format!("/seances/{session}/signer"), vec![])
            .await
            .status(),
        303
    );
    assert_eq!(
        post(&claire, format!("/seances/{session}/signer"), vec![])
            .await
            .status(),
        403
    );
    // Bruno signs on the trainer's device and arrived 20 minutes late.
    assert_eq!(
        post(
            &trainer,
            format!("/seances/{session}/emargement/{bruno_id}/signer"),
            vec![]
        )
        .await
        .status(),
        303
    );
    let res = post(
        &trainer,
        format!("/seances/{session}/emargement/{bruno_id}"),
        vec![
            ("status", "present".into()),
            ("arrived_at", "09:20".into()),
            ("left_at", "".into()),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let html = trainer
        .get(&sheet)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("sur l'appareil du formateur"), "{html}");
    assert!(html.contains("arrivée 09:20"));
    assert_eq!(
        post(
            &trainer,
            format!("/seances/{session}/emargement/clore"),
            vec![]
        )
        .await
        .status(),
        303
    );
    assert_eq!(presentiel(&app, alice_id), 210 * 60);
    assert_eq!(presentiel(&app, bruno_id), 190 * 60);
    // A closed sheet never changes.
    let res = post(&alice, format!("/seances/{session}/signer"), vec![]).await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("close"));
    let res = post(
        &trainer,
        format!("/seances/{session}/emargement/{alice_id}"),
        vec![
            ("status", "absent".into()),
            ("arrived_at", "".into()),
            ("left_at", "".into()),
        ],
    )
    .await;
    assert_eq!(res.status(), 409);
    assert_eq!(
        post(
            &trainer,
            format!("/seances/{session}/emargement/clore"),
            vec![]
        )
        .await
        .status(),
        409
    );
    assert_eq!(
        presentiel(&app, alice_id),
        210 * 60,
        "closing twice credits nothing more"
    );
    let html = trainer
        .get(&sheet)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("close et signée le") && html.contains("3 h 10"),
        "{html}"
    );
    // Bruno's employer doctor sees his attendance, late arrival included.
    let (doctor, doctor_id) = signed_in(&app, Role::Doctor, None, "docteur@med.fr").await;
    app.employ(bruno_id, doctor_id, "Dr Roy");
    let html = doctor
        .get(app.url("/mes-assistants"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(
            "Présentiel : 1 demi-journée de présence (dont 1 avec retard ou départ anticipé)"
        ),
        "{html}"
    );
    assert_eq!(
        html.matches("aria-labelledby=\"a-").count(),
        1,
        "only the doctor's own assistant: {html}"
    );
    let actions: Vec<String> = audit_events::table
        .filter(audit_events::subject_type.eq("session"))
        .filter(audit_events::subject_id.eq(session))
        .order(audit_events::id.asc())
        .select(audit_events::action)
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(
        actions,
        [
            "sheet_opened",
            "attendance_signed",
            "attendance_signed",
            "attendance_marked",
            "sheet_closed"
        ]
    );
}
