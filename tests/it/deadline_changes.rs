//! Issue #20 item 4: when a certification session's date or a cohort's end moves, or a
//! trainee is registered for a session, a day after her deadline is flagged first; nothing
//! changes until staff confirm, and the confirmed flags are audited.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{
    audit_events, certification_candidates, certification_sessions, cohorts,
};

use crate::common::*;
use crate::deadline_alerts::{day, hired};

fn session_day(app: &Db, id: i64) -> chrono::NaiveDate {
    certification_sessions::table
        .find(id)
        .select(certification_sessions::held_on)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

fn cohort_end(app: &Db, id: i64) -> chrono::NaiveDate {
    cohorts::table
        .find(id)
        .select(cohorts::end_date)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

/// The `after_json` of the latest event of this action.
fn audited(app: &Db, action: &str) -> Option<String> {
    audit_events::table
        .filter(audit_events::action.eq(action))
        .order(audit_events::id.desc())
        .select(audit_events::after_json)
        .first::<Option<String>>(&mut *app.conn() as &mut DbConn)
        .optional()
        .unwrap()
        .flatten()
}

fn new_session(app: &Db, org: i64, actor: i64, held_on: chrono::NaiveDate) -> i64 {
    parcours::certification::store::insert_session(
        &mut app.conn(),
        actor,
        org,
        &parcours::certification::rules::NewSession {
            held_on,
            place: "Lyon".into(),
            jury: "Jury de branche".into(),
            blocs: vec!["M1".into()],
        },
    )
    .unwrap()
}

struct People {
    org: i64,
    admin: reqwest::Client,
    admin_id: i64,
    trainer: reqwest::Client,
    other: reqwest::Client,
    doctor: reqwest::Client,
    camille: i64,
    cohort: i64,
}

/// Organism A (administrator, trainer), Camille in a CQP cohort (01/09/2026 → 01/08/2027)
/// hired on 15/08/2025, so her deadline is 15/08/2027; her doctor; B's administrator.
async fn people(app: &TestApp) -> People {
    let org = app.create_organism("Organisme A");
    let b = app.create_organism("Organisme B");
    let (admin, admin_id) = signed_in(app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    let (trainer, _) = signed_in(app, Role::Trainer, Some(org), "form@a.fr").await;
    let (other, _) = signed_in(app, Role::OrganismAdmin, Some(b), "chef@b.fr").await;
    let (doctor, doctor_id) = signed_in(app, Role::Doctor, None, "dr@med.fr").await;
    let cohort = app.create_cohort(org, "CQP-AM");
    let camille = app.create_user(
        Role::Trainee,
        Some(org),
        "camille@a.fr",
        "mot-de-passe-solide",
    );
    app.enrol(org, cohort, camille);
    hired(app, camille, day(2025, 8, 15));
    app.employ(camille, doctor_id, "Dr Roy");
    People {
        org,
        admin,
        admin_id,
        trainer,
        other,
        doctor,
        camille,
        cohort,
    }
}

#[tokio::test]
async fn deadline_flag_on_a_session_date_change_refuses_without_confirm_and_saves_with_it() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let session = new_session(&app, p.org, p.admin_id, day(2027, 6, 1));
    let by = parcours::certification::store::By {
        actor: p.admin_id,
        organism_id: p.org,
    };
    parcours::certification::store::register(
        &mut app.conn(),
        by,
        session,
        p.camille,
        &["M1".into()],
        None,
    )
    .unwrap();
    let path = format!("/certification/{session}/date");

    // Bad dates: 422, nothing changed.
    for (raw, says) in [
        ("31/02/2027", "n&#x27;existe pas"),
        ("", "Indiquez la nouvelle date"),
    ] {
        let r = p.admin.post_form(&app, &path, &[("held_on", raw)]).await;
        assert_eq!(r.status(), 422, "{raw}");
        assert!(r.text().await.unwrap().contains(says), "{raw}");
    }
    // After her deadline: flagged, nothing changed.
    let r = p
        .admin
        .post_form(&app, &path, &[("held_on", "01/09/2027")])
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    for phrase in [
        "Personne camille@a.fr",
        "15/08/2027",
        "Certification prévue le 01/09/2027, après l&#x27;échéance du 15/08/2027",
        "name=\"confirm\" value=\"1\"",
    ] {
        assert!(page.contains(phrase), "{phrase}: {page}");
    }
    assert_eq!(session_day(&app, session), day(2027, 6, 1));
    assert!(audited(&app, "certification_session.date_changed").is_none());

    // Another organism's administrator, the doctor: as if it did not exist; a trainer: 403.
    for (who, status) in [(&p.other, 404), (&p.doctor, 404), (&p.trainer, 403)] {
        let r = who
            .post_form(&app, &path, &[("held_on", "2027-09-01"), ("confirm", "1")])
            .await;
        assert_eq!(r.status(), status);
    }
    assert_eq!(session_day(&app, session), day(2027, 6, 1));

    // Confirmed from the page: saved, audited with the flags.
    let r = p
        .admin
        .post_form_of(
            &app,
            &page,
            &path,
            &[("held_on", "2027-09-01"), ("confirm", "1")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(session_day(&app, session), day(2027, 9, 1));
    let after = audited(&app, "certification_session.date_changed").unwrap();
    assert!(
        after.contains("2027-09-01") && after.contains("certification"),
        "{after}"
    );
    // The session and her certification page show the flag.
    let shown = p
        .admin
        .get_text(&app, &format!("/certification/{session}"))
        .await;
    assert!(
        shown.contains("Certification prévue le 01/09/2027"),
        "{shown}"
    );
    let file = p
        .admin
        .get_text(&app, &format!("/stagiaires/{}/certification", p.camille))
        .await;
    assert!(
        file.contains("session de certification du 01/09/2027")
            && file.contains("Certification prévue le 01/09/2027"),
        "{file}"
    );
    // Back before her deadline: no flag, saved at once.
    let r = p
        .admin
        .post_form(&app, &path, &[("held_on", "2027-07-01")])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(session_day(&app, session), day(2027, 7, 1));
}

#[tokio::test]
async fn deadline_flag_on_registering_after_her_deadline_asks_to_confirm() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let session = new_session(&app, p.org, p.admin_id, day(2027, 9, 1));
    let path = format!("/certification/{session}/candidats");
    let id = p.camille.to_string();
    let fields = [
        ("trainee_id", id.as_str()),
        ("derogation", "Parcours allégé"),
    ];
    let r = p.admin.post_form(&app, &path, &fields).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Certification prévue le 01/09/2027, après l&#x27;échéance du 15/08/2027"),
        "{page}"
    );
    let registered = || {
        certification_candidates::table
            .count()
            .get_result::<i64>(&mut *app.conn() as &mut DbConn)
            .unwrap()
    };
    assert_eq!(registered(), 0);
    let mut confirmed = fields.to_vec();
    confirmed.push(("confirm", "1"));
    let r = p.admin.post_form_of(&app, &page, &path, &confirmed).await;
    assert_eq!(r.status(), 303);
    assert_eq!(registered(), 1);
    let after = audited(&app, "certification_registered.deadline_confirmed").unwrap();
    assert!(after.contains("15/08/2027"), "{after}");
}

#[tokio::test]
async fn deadline_flag_on_a_cohort_end_change_refuses_without_confirm_and_saves_with_it() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let path = format!("/promotions/{}/fin", p.cohort);
    let page = p
        .admin
        .get_text(&app, &format!("/promotions/{}", p.cohort))
        .await;
    assert!(
        page.contains(&format!("action=\"{path}\"")),
        "the form for staff"
    );

    // Bad input: 422 in French, nothing changed.
    for (raw, says) in [
        (
            "2026-08-01",
            "La date de fin doit être après la date de début.",
        ),
        ("2028-12-01", "entre 10 et 12 mois"),
        ("demain", "date attendue au format JJ/MM/AAAA"),
    ] {
        let r = p.admin.post_form(&app, &path, &[("end_date", raw)]).await;
        assert_eq!(r.status(), 422, "{raw}");
        assert!(r.text().await.unwrap().contains(says), "{raw}");
    }
    assert_eq!(cohort_end(&app, p.cohort), day(2027, 8, 1));
    // After her deadline: flagged, nothing changed.
    let r = p
        .admin
        .post_form(&app, &path, &[("end_date", "31/08/2027")])
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Personne camille@a.fr")
            && page.contains(
                "la promotion se termine le 31/08/2027, après l&#x27;échéance du 15/08/2027"
            ),
        "{page}"
    );
    assert_eq!(cohort_end(&app, p.cohort), day(2027, 8, 1));
    for (who, status) in [(&p.other, 404), (&p.doctor, 404), (&p.trainer, 403)] {
        let r = who
            .post_form(&app, &path, &[("end_date", "2027-08-31"), ("confirm", "1")])
            .await;
        assert_eq!(r.status(), status);
    }
    assert_eq!(cohort_end(&app, p.cohort), day(2027, 8, 1));
    // Confirmed: saved and audited with the flag.
    let r = p
        .admin
        .post_form_of(
            &app,
            &page,
            &path,
            &[("end_date", "2027-08-31"), ("confirm", "1")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(cohort_end(&app, p.cohort), day(2027, 8, 31));
    let after = audited(&app, "cohort.end_date_changed").unwrap();
    assert!(
        after.contains("cohort_end") && after.contains("2027-08-15"),
        "{after}"
    );
    // Before her deadline: saved at once.
    let r = p
        .admin
        .post_form(&app, &path, &[("end_date", "2027-08-10")])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(cohort_end(&app, p.cohort), day(2027, 8, 10));
}
