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
    let (day, starts_at, ends_at) = half_day_now();
    let mut conn = app.conn();
    parcours::cohorts::store::add_sessions(
        &mut conn,
        1,
        org,
        cohort,
        &[parcours::cohorts::store::NewSession {
            module_id: m1,
            trainer_id: None,
            day,
            starts_at,
            ends_at,
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
    let starts_at: chrono::NaiveTime = {
        use parcours::db::schema::sessions;
        sessions::table
            .find(session)
            .select(sessions::starts_at)
            .first(&mut *app.conn())
            .unwrap()
    };
    let late = (starts_at + chrono::Duration::minutes(20))
        .format("%H:%M")
        .to_string();
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
            ("arrived_at", late.clone()),
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
    assert!(html.contains(&format!("arrivée {late}")), "{html}");
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

/// A sheet is signed during its half-day only: a week later the trainee is refused and told
/// when it could be signed. A sheet nobody closed closes by itself after the configured delay,
/// its unsigned lines become absences, and the page and the PDF say the trainer's signature is
/// missing.
#[tokio::test]
async fn a_late_signature_is_refused_and_a_forgotten_sheet_closes_by_itself() {
    use parcours::db::schema::{attendance_sheets, audit_events, sessions};
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (trainer, _) = signed_in(&app, Role::Trainer, Some(org), "formateur@a.fr").await;
    let cohort = app.create_cohort(org, "CQP-AM");
    let (alice, alice_id) = signed_in(&app, Role::Trainee, Some(org), "alice@a.fr").await;
    app.enrol(org, cohort, alice_id);
    // A half-day a week ago, its sheet opened (as a trainer would have) and never closed.
    let week_ago = parcours::base::paris::today() - chrono::Duration::days(7);
    let t = |h, m| chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap();
    let session = add_session(&app, org, cohort);
    diesel::update(sessions::table.find(session))
        .set((
            sessions::day.eq(week_ago),
            sessions::starts_at.eq(t(9, 0)),
            sessions::ends_at.eq(t(12, 30)),
        ))
        .execute(&mut *app.conn())
        .unwrap();
    let res = trainer
        .post_form(
            &app,
            &format!("/seances/{session}/emargement/ouvrir"),
            NO_FIELDS,
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = alice
        .post_form(&app, &format!("/seances/{session}/signer"), NO_FIELDS)
        .await;
    assert_eq!(res.status(), 409);
    let body = res.text().await.unwrap();
    let day = week_ago.format("%d/%m/%Y").to_string();
    assert!(
        body.contains("ne se signe plus")
            && body.contains(&format!("le {day} de 8 h 45 à 12 h 30")),
        "{body}"
    );
    // On the trainer's device too: the signature would be as late.
    let res = trainer
        .post_form(
            &app,
            &format!("/seances/{session}/emargement/{alice_id}/signer"),
            NO_FIELDS,
        )
        .await;
    assert!(res.text().await.unwrap().contains("ne se signe plus"));
    // The scheduled job: not yet due one hour after the half-day with a 200-hour delay…
    let now = chrono::Utc::now().naive_utc();
    let closed = parcours::tracking::attendance::close_overdue(&mut app.conn(), now, 200).unwrap();
    assert_eq!(closed, 0);
    // …due with the default 24 hours.
    let closed = parcours::tracking::attendance::close_overdue(&mut app.conn(), now, 24).unwrap();
    assert_eq!(closed, 1);
    let (status, closed_by): (String, Option<i64>) = attendance_sheets::table
        .filter(attendance_sheets::session_id.eq(session))
        .select((attendance_sheets::status, attendance_sheets::closed_by))
        .first(&mut *app.conn())
        .unwrap();
    assert_eq!((status.as_str(), closed_by), ("closed", None));
    let actions: Vec<String> = audit_events::table
        .filter(audit_events::subject_id.eq(session))
        .filter(audit_events::subject_type.eq("session"))
        .select(audit_events::action)
        .load(&mut *app.conn())
        .unwrap();
    assert!(
        actions.contains(&"sheet_closed_automatically".to_string()),
        "{actions:?}"
    );
    let page = trainer
        .get(app.url(&format!("/seances/{session}/emargement")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("signature du formateur manquante"), "{page}");
    let pdf = trainer
        .get(app.url(&format!("/seances/{session}/emargement.pdf")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feuille.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(text.contains("SIGNATURE DU FORMATEUR MANQUANTE"), "{text}");
    assert_eq!(presentiel(&app, alice_id), 0);
    // A second run finds nothing more to close.
    let closed = parcours::tracking::attendance::close_overdue(&mut app.conn(), now, 24).unwrap();
    assert_eq!(closed, 0);
}
