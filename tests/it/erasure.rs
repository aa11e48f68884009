//! Issue #23, erasure: the daily job erases a cohort whose proofs have served their time (the
//! clock moved seven years on), leaves what a legal hold protects and what is still within its
//! period, and its attestations still verify, without a name; a person's request is refused
//! with the legal reason and the day of erasure, or accepted and carried out; holds and the
//! organism's proof period are set by its administrators only; a run cut off half-way is
//! finished by the next one.

use chrono::{Months, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{
    attestations, audit_events, cohorts, erasure_files, erasure_requests, followup_attachments,
    followup_messages, followup_threads, legal_holds, outbox, users,
};
use parcours::privacy::erasure::{job, store};

use crate::attestation::{complete_path, post_issue, rename, setup, verify_page};
use crate::common::*;

fn key() -> [u8; 32] {
    parcours::attestation::rules::derive_key(SECRET.as_bytes())
}

fn settings() -> parcours::privacy::Settings {
    parcours::privacy::Settings::default()
}

fn cohort_end(app: &Db, cohort: i64) -> NaiveDate {
    cohorts::table
        .find(cohort)
        .select(cohorts::end_date)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

fn at_noon(day: NaiveDate) -> NaiveDateTime {
    day.and_hms_opt(12, 0, 0).unwrap()
}

fn name_and_email(app: &Db, user: i64) -> (String, String) {
    users::table
        .find(user)
        .select((users::name, users::email))
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

fn actions(app: &Db) -> Vec<String> {
    audit_events::table
        .order(audit_events::id.asc())
        .select(audit_events::action)
        .load(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

fn codes_of(app: &Db, trainee: i64) -> Vec<String> {
    attestations::table
        .filter(attestations::trainee_id.eq(trainee))
        .select(attestations::code)
        .load(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

/// A follow-up thread of the trainee with a message and an attachment kept on the uploads
/// shelf; returns the file's SHA-256.
fn thread_with_file(app: &TestApp, org: i64, cohort: i64, trainee: i64, bytes: &[u8]) -> String {
    let stored = app.objects.uploads.put(bytes).unwrap();
    let mut conn = app.conn();
    let now = parcours::db::now();
    let thread: i64 = diesel::insert_into(followup_threads::table)
        .values((
            followup_threads::organism_id.eq(org),
            followup_threads::cohort_id.eq(cohort),
            followup_threads::trainee_id.eq(trainee),
            followup_threads::kind.eq("question"),
            followup_threads::subject.eq("Mon arrêt maladie du mois de mars"),
            followup_threads::created_at.eq(now),
            followup_threads::last_message_at.eq(now),
        ))
        .returning(followup_threads::id)
        .get_result(&mut *conn as &mut DbConn)
        .unwrap();
    let message: i64 = diesel::insert_into(followup_messages::table)
        .values((
            followup_messages::thread_id.eq(thread),
            followup_messages::author_id.eq(trainee),
            followup_messages::kind.eq("message"),
            followup_messages::body.eq("Voici mon certificat médical."),
            followup_messages::created_at.eq(now),
        ))
        .returning(followup_messages::id)
        .get_result(&mut *conn as &mut DbConn)
        .unwrap();
    diesel::insert_into(followup_attachments::table)
        .values((
            followup_attachments::message_id.eq(message),
            followup_attachments::file_name.eq("certificat.pdf"),
            followup_attachments::mime_type.eq("application/pdf"),
            followup_attachments::size_bytes.eq(bytes.len() as i64),
            followup_attachments::sha256.eq(&stored),
        ))
        .execute(&mut *conn as &mut DbConn)
        .unwrap();
    stored
}

fn count_where_like(app: &Db, needle: &str) -> (i64, i64) {
    let pattern = format!("%{needle}%");
    let mut conn = app.conn();
    let audit: i64 = audit_events::table
        .filter(
            audit_events::after_json
                .like(&pattern)
                .or(audit_events::before_json.like(&pattern))
                .or(audit_events::subject_key.like(&pattern)),
        )
        .count()
        .get_result(&mut *conn as &mut DbConn)
        .unwrap();
    let mails: i64 = outbox::table
        .filter(
            outbox::body_text
                .like(&pattern)
                .or(outbox::recipients.like(&pattern)),
        )
        .count()
        .get_result(&mut *conn as &mut DbConn)
        .unwrap();
    (audit, mails)
}

#[tokio::test]
async fn a_cohort_ended_seven_years_ago_is_erased_by_the_job_and_its_attestations_verify_without_a_name()
 {
    let app = spawn_app().await;
    let s = setup(&app, "sept-ans").await;
    complete_path(&app, s.trainee, "CQP-AM", 0);
    let res = post_issue(&app, &s.admin, s.trainee, &[("kind", "final")]).await;
    assert_eq!(res.status(), 303);
    let sha = thread_with_file(&app, s.org, s.cohort, s.trainee, b"%PDF-1.4 certificat");
    let (name, email) = name_and_email(&app, s.trainee);
    assert_eq!(name, "Camille Dupont");
    assert!(
        count_where_like(&app, &email).1 > 0,
        "she was mailed her attestation"
    );
    // A cohort of the same age whose organism set a hold on it, and a cohort still running.
    let held = setup(&app, "gel").await;
    rename(&app, held.trainee, "Bérénice Gelée");
    complete_path(&app, held.trainee, "CQP-AM", 0);
    diesel::insert_into(legal_holds::table)
        .values((
            legal_holds::organism_id.eq(held.org),
            legal_holds::cohort_id.eq(held.cohort),
            legal_holds::reason.eq("Contrôle de l'OPCO en cours"),
            legal_holds::set_at.eq(parcours::db::now()),
        ))
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let running = setup(&app, "en-cours").await;
    rename(&app, running.trainee, "Jeanne En-Cours");
    let later = cohort_end(&app, running.cohort) + Months::new(12 * 8);
    diesel::update(cohorts::table.find(running.cohort))
        .set(cohorts::end_date.eq(later))
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();

    // Seven years after the end: the proof period (6 years) is over.
    let now = at_noon(cohort_end(&app, s.cohort) + Months::new(7 * 12));
    let run = {
        let mut conn = app.conn();
        job::run(&mut conn, &app.objects.uploads, &key(), &settings(), now).unwrap()
    };
    // She, and her employer doctor, whose account served only her training and who has not
    // signed in for seven years; the practice itself stays.
    assert_eq!(run.erased, 2, "{run:?}");
    assert_eq!(run.held, 1, "{run:?}");
    assert_eq!(run.failed, 0);
    assert_eq!(run.attestations, 1);
    assert_eq!(run.files, 1);

    let doctor: i64 = users::table
        .filter(
            users::email
                .eq("dr-sept-ans@cabinet.fr")
                .or(users::name.like("%n° %")),
        )
        .filter(users::role.eq("doctor"))
        .select(users::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert!(
        name_and_email(&app, doctor)
            .0
            .starts_with("Personne effacée")
    );
    let (name, new_email) = name_and_email(&app, s.trainee);
    assert_eq!(name, format!("Personne effacée n° {}", s.trainee));
    assert!(new_email.ends_with(".invalid"), "{new_email}");
    let threads: i64 = followup_threads::table
        .filter(followup_threads::trainee_id.eq(s.trainee))
        .count()
        .get_result(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert_eq!(threads, 0);
    assert!(
        !app.kept_uploads().contains(&sha),
        "the attachment's file is deleted"
    );
    assert_eq!(count_where_like(&app, "Camille Dupont"), (0, 0));
    assert_eq!(count_where_like(&app, &email), (0, 0));
    // The held and the running trainees keep everything.
    assert_eq!(name_and_email(&app, held.trainee).0, "Bérénice Gelée");
    assert_eq!(name_and_email(&app, running.trainee).0, "Jeanne En-Cours");

    for code in codes_of(&app, s.trainee) {
        let (status, html) = verify_page(&app, &code).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Document authentique et valide"), "{html}");
        assert!(html.contains("données personnelles effacées"), "{html}");
        assert!(!html.contains("Camille"), "{html}");
    }
    // The PDF is gone: staff get a French explanation, not an empty file.
    let id: i64 = attestations::table
        .filter(attestations::trainee_id.eq(s.trainee))
        .select(attestations::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let res = s
        .admin
        .get(app.url(&format!("/attestations/{id}/pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("effacées"));

    // Run again: nothing more to do, nothing changes.
    let again = {
        let mut conn = app.conn();
        job::run(&mut conn, &app.objects.uploads, &key(), &settings(), now).unwrap()
    };
    assert_eq!((again.erased, again.files, again.held), (0, 0, 1));
    let runs = actions(&app);
    assert!(
        runs.iter()
            .filter(|a| *a == "personal_data.erasure_run")
            .count()
            >= 2,
        "{runs:?}"
    );
}

#[tokio::test]
async fn a_forged_or_altered_erased_attestation_does_not_verify() {
    let app = spawn_app().await;
    let s = setup(&app, "scelle").await;
    complete_path(&app, s.trainee, "CQP-AM", 0);
    assert_eq!(
        post_issue(&app, &s.admin, s.trainee, &[("kind", "final")])
            .await
            .status(),
        303
    );
    let erased = {
        let mut conn = app.conn();
        store::erase_person(&mut conn, &key(), s.trainee, store::Cause::Retention, None).unwrap()
    };
    assert!(erased.is_some());
    let code = codes_of(&app, s.trainee).remove(0);
    assert_eq!(verify_page(&app, &code).await.0, 200);
    // Someone with the database writes a name back into the pseudonymised statement.
    let payload: String = attestations::table
        .filter(attestations::code.eq(&code))
        .select(attestations::payload)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert!(payload.contains("\"trainee_name\":\"\""), "{payload}");
    diesel::update(attestations::table.filter(attestations::code.eq(&code)))
        .set(attestations::payload.eq(payload.replace(
            "\"trainee_name\":\"\"",
            "\"trainee_name\":\"Quelqu'un d'autre\"",
        )))
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let (status, html) = verify_page(&app, &code).await;
    assert_eq!(status, 404);
    assert!(!html.contains("authentique et valide"), "{html}");
    // A second erasure of the same person finds nothing to do.
    let mut conn = app.conn();
    let twice =
        store::erase_person(&mut conn, &key(), s.trainee, store::Cause::Retention, None).unwrap();
    assert!(twice.is_none());
}

#[tokio::test]
async fn a_request_is_refused_with_the_reason_and_the_day_then_accepted_once_the_proofs_expired() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme demandes");
    let cohort = app.create_cohort(org, "CQP-AM");
    let (trainee, id) = signed_in(&app, Role::Trainee, Some(org), "lea-demande@cabinet.fr").await;
    app.enrol(org, cohort, id);
    let (other, other_id) =
        signed_in(&app, Role::Trainee, Some(org), "zoe-voisine@cabinet.fr").await;
    app.enrol(org, cohort, other_id);
    let requests = |app: &Db| -> i64 {
        erasure_requests::table
            .count()
            .get_result(&mut *app.conn() as &mut DbConn)
            .unwrap()
    };

    // Without the confirmation box: a French error, nothing recorded.
    let res = trainee
        .post_form(&app, "/mon-compte/effacement", NO_FIELDS)
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("Cochez la case"));
    assert_eq!(requests(&app), 0);

    // Her training runs: refused, with the legal reason and the day of erasure.
    let res = trainee
        .post_form(&app, "/mon-compte/effacement", &[("confirm", "oui")])
        .await;
    assert_eq!(res.status(), 303);
    let page = trainee.get_text(&app, "/mon-compte/effacement").await;
    let day = cohort_end(&app, cohort) + Months::new(6 * 12);
    assert!(page.contains("refusée"), "{page}");
    assert!(page.contains("L6353-1"), "{page}");
    assert!(page.contains(&day.format("%d/%m/%Y").to_string()), "{page}");
    assert!(!name_and_email(&app, id).0.contains("effacée"));
    assert_eq!(requests(&app), 1);

    // Years later the proofs have served their time: accepted, carried out, signed out.
    let long_ago = NaiveDate::from_ymd_opt(2015, 6, 30).unwrap();
    diesel::update(cohorts::table.find(cohort))
        .set((
            cohorts::start_date.eq(long_ago - Months::new(11)),
            cohorts::end_date.eq(long_ago),
        ))
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let res = trainee
        .post_form(&app, "/mon-compte/effacement", &[("confirm", "oui")])
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Vos données ont été effacées")
    );
    assert!(name_and_email(&app, id).0.starts_with("Personne effacée"));
    let res = trainee.get(app.url("/mon-compte")).send().await.unwrap();
    assert_ne!(res.status(), 200, "her session is closed");
    // Her neighbour is untouched and her pages work.
    assert_eq!(name_and_email(&app, other_id).1, "zoe-voisine@cabinet.fr");
    let res = other.get(app.url("/mon-compte")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let done = actions(&app);
    assert!(done.iter().any(|a| a == "personal_data.erasure_requested"));
    assert!(done.iter().any(|a| a == "personal_data.erased"));
}

#[tokio::test]
async fn the_rest_of_the_cohort_s_pages_exports_and_evidence_still_work_after_one_is_erased() {
    let app = spawn_app().await;
    let s = setup(&app, "reste").await;
    let neighbour = app.create_user(
        Role::Trainee,
        Some(s.org),
        "ines-reste@cabinet.fr",
        "mot-de-passe-solide",
    );
    app.enrol(s.org, s.cohort, neighbour);
    complete_path(&app, s.trainee, "CQP-AM", 0);
    complete_path(&app, neighbour, "CQP-AM", 0);
    for t in [s.trainee, neighbour] {
        let res = post_issue(&app, &s.admin, t, &[("kind", "final")]).await;
        assert_eq!(res.status(), 303);
    }
    let form = [
        ("kind", "realisation"),
        ("from", "2026-09-01"),
        ("to", "2026-10-31"),
    ];
    let res = post_issue(&app, &s.admin, s.trainee, &form).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    {
        let mut conn = app.conn();
        store::erase_person(&mut conn, &key(), s.trainee, store::Cause::Request, None).unwrap();
    }
    let pages = [
        format!("/promotions/{}", s.cohort),
        format!("/promotions/{}/suivi", s.cohort),
        format!("/promotions/{}/suivi.csv", s.cohort),
        format!("/promotions/{}/stagiaires.csv", s.cohort),
        format!("/organismes/{}/financeurs", s.org),
        format!("/api/v1/organisms/{}/xapi", s.org),
        format!("/stagiaires/{neighbour}"),
        format!(
            "/stagiaires/{neighbour}/preuves.zip?du=01/09/2026&au={}",
            parcours::base::paris::today().format("%d/%m/%Y")
        ),
        format!("/stagiaires/{}", s.trainee),
    ];
    // Nothing more is issued to her, and her pack says why it holds no certificate.
    let form = [
        ("kind", "realisation"),
        ("from", "2026-09-01"),
        ("to", "2026-09-30"),
    ];
    let res = post_issue(&app, &s.admin, s.trainee, &form).await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("effacées"));
    let pack = s
        .admin
        .get(app.url(&format!(
            "/stagiaires/{}/preuves.zip?du=01/09/2026&au=31/10/2026",
            s.trainee
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(pack.status(), 200);
    let (dir, names) = crate::evidence::unpack(&pack.bytes().await.unwrap());
    assert!(!names.iter().any(|n| n.contains("certificat")), "{names:?}");
    let readme = std::fs::read_to_string(dir.path().join("LISEZMOI.txt")).unwrap();
    assert!(readme.contains("effacées"), "{readme}");
    for page in &pages {
        let res = s.admin.get(app.url(page)).send().await.unwrap();
        let status = res.status().as_u16();
        let body = res.bytes().await.unwrap();
        assert_eq!(status, 200, "{page}: {}", String::from_utf8_lossy(&body));
        let text = String::from_utf8_lossy(&body);
        assert!(!text.contains("Camille Dupont"), "{page} still names her");
    }
}

#[tokio::test]
async fn holds_and_the_proof_period_are_set_by_the_organism_s_administrators_only() {
    let app = spawn_app().await;
    let s = setup(&app, "gels").await;
    let other = setup(&app, "autre-of").await;
    let page = format!("/organismes/{}/conservation", s.org);
    let holds = |app: &Db| -> Vec<(Option<i64>, Option<String>)> {
        legal_holds::table
            .select((legal_holds::cohort_id, legal_holds::lifted_reason))
            .load(&mut *app.conn() as &mut DbConn)
            .unwrap()
    };
    let target = format!("cohorte-{}", s.cohort);
    // Another organism's administrator, and another organism's cohort: refused, nothing kept.
    let res = other
        .admin
        .post_form(
            &app,
            &format!("/organismes/{}/gels", s.org),
            &[("target", target.as_str()), ("reason", "Litige prud'homal")],
        )
        .await;
    assert_eq!(res.status(), 403);
    let theirs = format!("cohorte-{}", other.cohort);
    let res = s
        .admin
        .post_form(
            &app,
            &format!("/organismes/{}/gels", s.org),
            &[("target", theirs.as_str()), ("reason", "Litige prud'homal")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("appartient pas à votre organisme")
    );
    let res = s
        .admin
        .post_form(
            &app,
            &format!("/organismes/{}/gels", s.org),
            &[("target", target.as_str()), ("reason", " ")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(holds(&app).is_empty());

    let res = s
        .admin
        .post_form(
            &app,
            &format!("/organismes/{}/gels", s.org),
            &[
                ("target", target.as_str()),
                ("reason", "Contrôle de l'OPCO EP"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let html = s.admin.get_text(&app, &page).await;
    assert!(html.contains("Contrôle de l&#x27;OPCO EP"), "{html}");
    let hold: i64 = legal_holds::table
        .select(legal_holds::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let lift = format!("/organismes/{}/gels/{hold}/levee", s.org);
    let res = other
        .admin
        .post_form(&app, &lift, &[("reason", "Contrôle terminé")])
        .await;
    assert_eq!(res.status(), 403);
    let res = s
        .admin
        .post_form(&app, &lift, &[("reason", "Contrôle terminé")])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        holds(&app),
        vec![(Some(s.cohort), Some("Contrôle terminé".to_string()))]
    );

    let years = format!("/organismes/{}/conservation/duree", s.org);
    let res = s.admin.post_form(&app, &years, &[("years", "2")]).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("entre 3 et 30 ans"));
    let res = s.admin.post_form(&app, &years, &[("years", "10")]).await;
    assert_eq!(res.status(), 303);
    let html = s.admin.get_text(&app, &page).await;
    assert!(html.contains("<strong>10 ans</strong>"), "{html}");
    let done = actions(&app);
    for a in [
        "legal_hold.set",
        "legal_hold.lifted",
        "retention.proof_years",
    ] {
        assert!(done.iter().any(|x| x == a), "{a}: {done:?}");
    }
    // Ten years: a cohort ended seven years ago is not erased yet.
    let now = at_noon(cohort_end(&app, s.cohort) + Months::new(7 * 12));
    let mut conn = app.conn();
    let run = job::run(&mut conn, &app.objects.uploads, &key(), &settings(), now).unwrap();
    assert_eq!(
        run.erased, 2,
        "only the other organism's trainee and her doctor: {run:?}"
    );
    drop(conn);
    assert_eq!(name_and_email(&app, s.trainee).0, "Camille Dupont");
}

#[tokio::test]
async fn an_erasure_cut_off_before_its_files_is_finished_by_the_next_run() {
    let app = spawn_app().await;
    let s = setup(&app, "coupure").await;
    let sha = thread_with_file(&app, s.org, s.cohort, s.trainee, b"piece jointe coupure");
    // The process dies right after the person's transaction: her rows are erased, her file
    // is queued, not yet deleted.
    {
        let mut conn = app.conn();
        store::erase_person(&mut conn, &key(), s.trainee, store::Cause::Retention, None).unwrap();
    }
    let queued: Vec<String> = erasure_files::table
        .select(erasure_files::sha256)
        .load(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert_eq!(queued, vec![sha.clone()]);
    assert!(app.kept_uploads().contains(&sha));
    // Nothing is half-erased in a way that breaks a page.
    for page in [
        format!("/promotions/{}", s.cohort),
        format!("/stagiaires/{}", s.trainee),
    ] {
        let res = s.admin.get(app.url(&page)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{page}");
    }
    let now = parcours::db::now();
    let run = {
        let mut conn = app.conn();
        job::run(&mut conn, &app.objects.uploads, &key(), &settings(), now).unwrap()
    };
    assert_eq!(run.files, 1);
    assert!(!app.kept_uploads().contains(&sha));
    let left: i64 = erasure_files::table
        .count()
        .get_result(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn a_file_or_a_practice_another_trainee_still_uses_stays() {
    use parcours::db::schema::{employers, trainee_profiles};
    let app = spawn_app().await;
    let s = setup(&app, "partage").await;
    let colleague = app.create_user(
        Role::Trainee,
        Some(s.org),
        "collegue-partage@cabinet.fr",
        "mot-de-passe-solide",
    );
    app.enrol(s.org, s.cohort, colleague);
    // Both work at the same group practice, and both sent the same scanned form.
    let practice: Option<i64> = trainee_profiles::table
        .filter(trainee_profiles::user_id.eq(s.trainee))
        .select(trainee_profiles::employer_id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    diesel::update(trainee_profiles::table.filter(trainee_profiles::user_id.eq(colleague)))
        .set(trainee_profiles::employer_id.eq(practice))
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let bytes = b"%PDF-1.4 formulaire du cabinet";
    let sha = thread_with_file(&app, s.org, s.cohort, s.trainee, bytes);
    assert_eq!(
        thread_with_file(&app, s.org, s.cohort, colleague, bytes),
        sha
    );
    let now = at_noon(cohort_end(&app, s.cohort) + Months::new(7 * 12));
    // Her colleague holds a hold of her own (a dispute), so only she is erased.
    diesel::insert_into(legal_holds::table)
        .values((
            legal_holds::organism_id.eq(s.org),
            legal_holds::trainee_id.eq(colleague),
            legal_holds::reason.eq("Litige aux prud'hommes"),
            legal_holds::set_at.eq(parcours::db::now()),
        ))
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let run = {
        let mut conn = app.conn();
        job::run(&mut conn, &app.objects.uploads, &key(), &settings(), now).unwrap()
    };
    assert_eq!((run.erased, run.held), (1, 1), "{run:?}");
    assert!(
        name_and_email(&app, s.trainee)
            .0
            .starts_with("Personne effacée")
    );
    assert_eq!(
        name_and_email(&app, colleague).1,
        "collegue-partage@cabinet.fr"
    );
    assert!(
        app.kept_uploads().contains(&sha),
        "her colleague's copy stays"
    );
    let colleague_threads: i64 = followup_threads::table
        .filter(followup_threads::trainee_id.eq(colleague))
        .count()
        .get_result(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert_eq!(colleague_threads, 1);
    let practices: i64 = employers::table
        .filter(employers::id.nullable().eq(practice))
        .count()
        .get_result(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert_eq!(practices, 1, "the practice stays");
}

#[tokio::test]
async fn two_instances_running_the_erasure_at_once_erase_each_person_once() {
    let app = spawn_app().await;
    let mut trainees = Vec::new();
    let s = setup(&app, "deux-instances").await;
    trainees.push(s.trainee);
    for n in 0..5 {
        let t = app.create_user(
            Role::Trainee,
            Some(s.org),
            &format!("stagiaire-{n}-deux@cabinet.fr"),
            "mot-de-passe-solide",
        );
        app.enrol(s.org, s.cohort, t);
        thread_with_file(&app, s.org, s.cohort, t, format!("pièce {n}").as_bytes());
        trainees.push(t);
    }
    let now = at_noon(cohort_end(&app, s.cohort) + Months::new(7 * 12));
    let runs: Vec<job::Run> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (db, uploads) = (&app.db, &app.objects.uploads);
                scope.spawn(move || {
                    let mut conn = db.conn();
                    job::run(&mut conn, uploads, &key(), &settings(), now).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let erased: usize = runs.iter().map(|r| r.erased).sum();
    let failed: usize = runs.iter().map(|r| r.failed).sum();
    // Six trainees and the doctor employing the first one.
    assert_eq!((erased, failed), (7, 0), "{runs:?}");
    let files: usize = runs.iter().map(|r| r.files).sum();
    assert_eq!(files, 5, "{runs:?}");
    let marks: i64 = audit_events::table
        .filter(audit_events::action.eq("personal_data.erased"))
        .count()
        .get_result(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert_eq!(marks, 7, "each person erased once");
    for t in trainees {
        assert!(name_and_email(&app, t).0.starts_with("Personne effacée"));
    }
}
