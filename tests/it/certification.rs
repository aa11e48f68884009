//! The CQP certification record (#20 items 1 and 2): sessions, registrations on a complete
//! path or with an audited derogation, results per bloc kept for good, a second session for
//! the failed bloc only, the CQP obtained (the VAE side is `certification_vae.rs`); the FAE refused;
//! other organisms told nothing.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{
    audit_events, certification_candidates, certification_sessions, certifications, programs,
};

use crate::common::*;

/// Marks these modules of the CQP as fully done for the trainee (a full positionnement
/// exemption), which makes her path complete for them.
pub(crate) fn complete(app: &TestApp, org: i64, trainee: i64, codes: &[&str]) {
    let mut conn = app.conn();
    let pid: i64 = programs::table
        .filter(programs::code.eq("CQP-AM"))
        .select(programs::id)
        .first(&mut *conn as &mut DbConn)
        .unwrap();
    for (id, code, _, minutes) in parcours::cohorts::store::program_modules(&mut conn, pid).unwrap()
    {
        if codes.contains(&code.as_str()) {
            parcours::cohorts::store::set_adjustment(
                &mut conn,
                None,
                org,
                trainee,
                id,
                "positionnement",
                minutes,
                "Positionnement d'entrée",
                None,
            )
            .unwrap();
        }
    }
}

/// The number of rows of a table.
macro_rules! count {
    ($app:expr, $table:expr) => {{
        let mut conn = $app.conn();
        $table
            .count()
            .get_result::<i64>(&mut *conn as &mut DbConn)
            .unwrap()
    }};
}

fn candidate_blocs(app: &TestApp, session: i64, trainee: i64) -> String {
    let mut conn = app.conn();
    certification_candidates::table
        .filter(certification_candidates::session_id.eq(session))
        .filter(certification_candidates::trainee_id.eq(trainee))
        .select(certification_candidates::blocs)
        .first(&mut *conn as &mut DbConn)
        .unwrap()
}

/// Creates a session through the page; returns its id.
async fn new_session(app: &TestApp, admin: &reqwest::Client, org: i64, blocs: &[&str]) -> i64 {
    let mut fields = vec![
        ("held_on", "2026-11-20"),
        ("place", "Lyon, CCI"),
        ("jury", "Jury paritaire de branche"),
    ];
    fields.extend(blocs.iter().map(|b| ("blocs", *b)));
    let r = admin
        .post_form(app, &format!("/organismes/{org}/certification"), &fields)
        .await;
    assert_eq!(r.status(), 303, "session created");
    location_id(&r, "/certification/")
}

fn location_id(r: &reqwest::Response, prefix: &str) -> i64 {
    r.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches(prefix)
        .parse()
        .unwrap()
}

#[tokio::test]
async fn certification_full_story_from_complete_path_to_cqp() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (admin, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "dir@a.fr").await;
    let (trainer, _) = signed_in(&app, Role::Trainer, Some(org), "form@a.fr").await;
    let (_, camille) = app.trainee_in(org, "CQP-AM", "camille@a.fr").await;
    let (_, fae) = app.trainee_in(org, "FAE-AM", "ide@a.fr").await;

    session_refusals(&app, &admin, &trainer, org).await;
    let first = new_session(&app, &admin, org, &["M1", "M2", "M3", "M4"]).await;
    registrations(&app, &admin, org, first, camille, fae).await;
    results_then_second_session(&app, &admin, &trainer, org, first, camille).await;
    cqp_recorded(&app, &admin, &trainer, camille).await;
}

/// Bad input creates no session; a trainer reads but does not create.
async fn session_refusals(
    app: &TestApp,
    admin: &reqwest::Client,
    trainer: &reqwest::Client,
    org: i64,
) {
    // Bad input creates no session.
    let r = admin
        .post_form(
            app,
            &format!("/organismes/{org}/certification"),
            &[
                ("held_on", "31/02/2026"),
                ("place", "Lyon"),
                ("jury", "Jury"),
                ("blocs", "M1"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("31/02/2026 n&#x27;existe pas")
    );
    let r = admin
        .post_form(
            app,
            &format!("/organismes/{org}/certification"),
            &[
                ("held_on", "2026-11-20"),
                ("place", "Lyon"),
                ("jury", "Jury"),
                ("blocs", "M9"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(count!(app, certification_sessions::table), 0);
    // A trainer reads but does not create.
    let r = trainer
        .post_form(
            app,
            &format!("/organismes/{org}/certification"),
            &[
                ("held_on", "2026-11-20"),
                ("place", "Lyon"),
                ("jury", "Jury"),
                ("blocs", "M1"),
            ],
        )
        .await;
    assert_eq!(r.status(), 403);
}

/// Incomplete path, FAE and duplicate refused; the CQP refused before every bloc.
async fn registrations(
    app: &TestApp,
    admin: &reqwest::Client,
    org: i64,
    first: i64,
    camille: i64,
    fae: i64,
) {
    let register = format!("/certification/{first}/candidats");
    let id = camille.to_string();
    // Incomplete path, no derogation: refused, nothing registered.
    complete(app, org, camille, &["M1", "M2", "M3"]);
    let r = admin
        .post_form(
            app,
            &register,
            &[("trainee_id", id.as_str()), ("derogation", "")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("pas complet pour M4"));
    assert_eq!(count!(app, certification_candidates::table), 0);
    // An FAE trainee has no certification.
    let r = admin
        .post_form(
            app,
            &register,
            &[("trainee_id", fae.to_string().as_str()), ("derogation", "")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("FAE"));
    assert_eq!(count!(app, certification_candidates::table), 0);

    // Complete: registered; a second time is refused.
    complete(app, org, camille, &["M4"]);
    let r = admin
        .post_form(
            app,
            &register,
            &[("trainee_id", id.as_str()), ("derogation", "")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let r = admin
        .post_form(
            app,
            &register,
            &[("trainee_id", id.as_str()), ("derogation", "")],
        )
        .await;
    assert_eq!(r.status(), 409);
    assert_eq!(count!(app, certification_candidates::table), 1);

    // The CQP before every bloc is acquired: refused, nothing kept.
    let cqp = format!("/stagiaires/{camille}/certification");
    let r = admin
        .post_form(
            app,
            &cqp,
            &[
                ("obtained_on", "2026-11-30"),
                ("certificate_number", "CQP-1"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("il reste : M1, M2, M3, M4")
    );
    assert_eq!(count!(app, certifications::table), 0);
}

/// M4 not acquired at the first session; registered again for M4 only, then acquired.
async fn results_then_second_session(
    app: &TestApp,
    admin: &reqwest::Client,
    trainer: &reqwest::Client,
    org: i64,
    first: i64,
    camille: i64,
) {
    let id = camille.to_string();
    let cqp = format!("/stagiaires/{camille}/certification");
    // Results: M4 not acquired.
    let results = format!("/certification/{first}/candidats/{camille}/resultats");
    let r = admin
        .post_form(
            app,
            &results,
            &[
                ("bloc_M1", "acquired"),
                ("bloc_M2", "acquired"),
                ("bloc_M3", "acquired"),
                ("bloc_M4", "not_acquired"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    // An acquired bloc stays acquired.
    let r = admin
        .post_form(app, &results, &[("bloc_M1", "not_acquired")])
        .await;
    assert_eq!(r.status(), 409);
    // With results, she is no longer taken off the session.
    let r = admin
        .post_form(
            app,
            &format!("/certification/{first}/candidats/{camille}/retrait"),
            NO_FIELDS,
        )
        .await;
    assert_eq!(r.status(), 409);
    let page = trainer.get_text(app, &cqp).await;
    assert!(page.contains("Blocs à passer : M4."), "{page}");
    assert!(
        page.contains("session de certification du 20/11/2026"),
        "{page}"
    );

    // A second session: registered for M4 only.
    let second = new_session(app, admin, org, &["M1", "M2", "M3", "M4"]).await;
    let r = admin
        .post_form(
            app,
            &format!("/certification/{second}/candidats"),
            &[("trainee_id", id.as_str()), ("derogation", "")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(candidate_blocs(app, second, camille), r#"["M4"]"#);
    // A bloc she is not registered for is refused.
    let results2 = format!("/certification/{second}/candidats/{camille}/resultats");
    let r = admin
        .post_form(app, &results2, &[("bloc_M1", "acquired")])
        .await;
    assert_eq!(r.status(), 422);
    let r = admin
        .post_form(app, &results2, &[("bloc_M4", "acquired")])
        .await;
    assert_eq!(r.status(), 303);
}

/// The CQP: bad and future dates refused; then recorded once, audited, read on the API.
async fn cqp_recorded(
    app: &TestApp,
    admin: &reqwest::Client,
    trainer: &reqwest::Client,
    camille: i64,
) {
    let cqp = format!("/stagiaires/{camille}/certification");
    // The CQP: bad and future dates refused; then recorded once.
    for (on, number) in [
        ("30/02/2026", "CQP-1"),
        ("2099-01-01", "CQP-1"),
        ("2026-11-30", " "),
    ] {
        let r = admin
            .post_form(
                app,
                &cqp,
                &[("obtained_on", on), ("certificate_number", number)],
            )
            .await;
        assert_eq!(r.status(), 422, "{on} {number}");
    }
    assert_eq!(count!(app, certifications::table), 0);
    let r = trainer
        .post_form(
            app,
            &cqp,
            &[
                ("obtained_on", "2026-11-30"),
                ("certificate_number", "CQP-2026-17"),
            ],
        )
        .await;
    assert_eq!(r.status(), 403);
    let r = admin
        .post_form(
            app,
            &cqp,
            &[
                ("obtained_on", "2026-11-30"),
                ("certificate_number", "CQP-2026-17"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let r = admin
        .post_form(
            app,
            &cqp,
            &[
                ("obtained_on", "2026-11-30"),
                ("certificate_number", "CQP-2026-18"),
            ],
        )
        .await;
    assert_eq!(r.status(), 409);
    let page = admin.get_text(app, &cqp).await;
    assert!(
        page.contains("CQP obtenu</strong> le 30/11/2026, certificat n° CQP-2026-17"),
        "{page}"
    );
    let api: serde_json::Value = admin
        .get(app.url(&format!("/api/v1/trainees/{camille}/certification")))
        .header("x-csrf-token", csrf_from(admin, &app.url(TOKEN_PAGE)).await)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(api["remaining"], serde_json::json!([]));
    assert_eq!(api["cqp"]["certificate_number"], "CQP-2026-17");
    let mut conn = app.conn();
    let actions: Vec<String> = audit_events::table
        .filter(
            audit_events::action
                .like("cqp_%")
                .or(audit_events::action.like("certification_%")),
        )
        .order(audit_events::id.asc())
        .select(audit_events::action)
        .load(&mut *conn as &mut DbConn)
        .unwrap();
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "certification_result")
            .count(),
        5
    );
    assert_eq!(actions.last().map(String::as_str), Some("cqp_obtained"));
}

#[tokio::test]
async fn certification_a_derogation_is_audited_and_other_organisms_see_nothing() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let other = app.create_organism("Organisme B");
    let (admin, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "dir@a.fr").await;
    let (intruder, _) = signed_in(&app, Role::OrganismAdmin, Some(other), "dir@b.fr").await;
    let (doctor, doctor_id) = signed_in(&app, Role::Doctor, None, "dr@cabinet.fr").await;
    let (trainee_client, lea) = app.trainee_in(org, "CQP-AM", "lea@a.fr").await;
    app.employ(lea, doctor_id, "Dr Martin");
    let session = new_session(&app, &admin, org, &["M1"]).await;
    let register = format!("/certification/{session}/candidats");
    let id = lea.to_string();
    let r = admin
        .post_form(
            &app,
            &register,
            &[("trainee_id", id.as_str()), ("derogation", "court")],
        )
        .await;
    assert_eq!(r.status(), 422);
    let reason = "Parcours rattrapé en décembre, accord du jury";
    let r = admin
        .post_form(
            &app,
            &register,
            &[("trainee_id", id.as_str()), ("derogation", reason)],
        )
        .await;
    assert_eq!(r.status(), 303);
    let mut conn = app.conn();
    let after: String = audit_events::table
        .filter(audit_events::action.eq("certification_registered"))
        .select(audit_events::after_json)
        .first::<Option<String>>(&mut *conn as &mut DbConn)
        .unwrap()
        .unwrap();
    drop(conn);
    assert!(after.contains(reason), "{after}");
    assert!(
        admin
            .get_text(&app, &format!("/certification/{session}"))
            .await
            .contains(reason)
    );

    // Another organism, the doctor and the trainee: as if the session did not exist.
    for c in [&intruder, &doctor, &trainee_client] {
        for path in [
            format!("/certification/{session}"),
            format!("/organismes/{org}/certification"),
        ] {
            let r = c.get(app.url(&path)).send().await.unwrap();
            assert_eq!(r.status(), 404, "{path}");
        }
    }
    let (other_trainee_c, other_trainee) = app.trainee_in(other, "CQP-AM", "zoe@b.fr").await;
    drop(other_trainee_c);
    complete(&app, other, other_trainee, &["M1"]);
    let r = intruder
        .post_form(
            &app,
            &register,
            &[
                ("trainee_id", other_trainee.to_string().as_str()),
                ("derogation", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 404);
    // A's administrator cannot register B's trainee either.
    let r = admin
        .post_form(
            &app,
            &register,
            &[
                ("trainee_id", other_trainee.to_string().as_str()),
                ("derogation", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(count!(&app, certification_candidates::table), 1);
    // Her doctor reads her blocs; another organism does not.
    let r = doctor
        .get(app.url(&format!("/stagiaires/{lea}/certification")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = intruder
        .get(app.url(&format!("/stagiaires/{lea}/certification")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // Unregistered (no results yet).
    let r = admin
        .post_form(
            &app,
            &format!("/certification/{session}/candidats/{lea}/retrait"),
            NO_FIELDS,
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(count!(&app, certification_candidates::table), 0);
}
