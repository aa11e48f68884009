//! Attestations: completion, issuing with or without derogation, who may issue and see,
//! the public verification page, the doctor's mail with the PDF, batches.

use base64::Engine as _;
use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::attestation::rules;
use parcours::db::DbConn;
use parcours::db::schema::{
    attestations, audit_events, daily_activity, evaluation_attempts, module_totals, modules,
    outbox, programs,
};

use crate::common::*;

/// The modules of a programme: (id, planned minutes).
fn plan(app: &Db, program: &str) -> Vec<(i64, i32)> {
    let mut conn = app.conn();
    modules::table
        .inner_join(programs::table)
        .filter(programs::code.eq(program))
        .filter(modules::retired.eq(false))
        .order(modules::position.asc())
        .select((modules::id, modules::planned_minutes))
        .load(&mut *conn as &mut DbConn)
        .unwrap()
}

/// Credits every planned hour (minus `short_secs` on the first module) and a passed
/// evaluation of each module.
pub(crate) fn complete_path(app: &Db, trainee: i64, program: &str, short_secs: i64) {
    let mut conn = app.conn();
    for (i, (module, planned)) in plan(app, program).into_iter().enumerate() {
        let secs = planned as i64 * 60 - if i == 0 { short_secs } else { 0 };
        // Exactly these totals, whatever the trainee did before (the demo trainee has some).
        diesel::delete(
            module_totals::table
                .filter(module_totals::trainee_id.eq(trainee))
                .filter(module_totals::module_id.eq(module)),
        )
        .execute(&mut *conn as &mut DbConn)
        .unwrap();
        diesel::insert_into(module_totals::table)
            .values((
                module_totals::trainee_id.eq(trainee),
                module_totals::module_id.eq(module),
                module_totals::distance_seconds.eq(secs / 2),
                module_totals::presentiel_seconds.eq(secs - secs / 2),
                module_totals::correction_seconds.eq(0i64),
            ))
            .execute(&mut *conn as &mut DbConn)
            .unwrap();
        diesel::insert_into(evaluation_attempts::table)
            .values((
                evaluation_attempts::trainee_id.eq(trainee),
                evaluation_attempts::module_id.eq(module),
                evaluation_attempts::evaluation_hash.eq("test"),
                evaluation_attempts::attempt_no.eq(1),
                evaluation_attempts::status.eq("submitted"),
                evaluation_attempts::started_at.eq(parcours::db::now()),
                evaluation_attempts::submitted_at.eq(parcours::db::now()),
                evaluation_attempts::question_count.eq(10),
                evaluation_attempts::correct_count.eq(8),
                evaluation_attempts::score_pct.eq(80),
                evaluation_attempts::passed.eq(true),
            ))
            .execute(&mut *conn as &mut DbConn)
            .unwrap();
    }
}

/// A doctor employing the trainee; returns the doctor's id.
fn employ(app: &Db, trainee: i64, email: &str) -> i64 {
    let doctor = app.create_user(Role::Doctor, None, email, "mot-de-passe-solide");
    app.employ(trainee, doctor, &format!("Dr {email}"));
    doctor
}

pub(crate) fn rename(app: &Db, user: i64, name: &str) {
    use parcours::db::schema::users;
    let mut conn = app.conn();
    diesel::update(users::table.find(user))
        .set(users::name.eq(name))
        .execute(&mut *conn as &mut DbConn)
        .unwrap();
}

pub(crate) struct Setup {
    pub(crate) org: i64,
    pub(crate) admin: reqwest::Client,
    pub(crate) trainee: i64,
    pub(crate) cohort: i64,
}

/// An organism with its identity, a signed-in organism admin, a CQP trainee employed by a
/// doctor.
pub(crate) async fn setup(app: &TestApp, tag: &str) -> Setup {
    setup_on(app, tag, "CQP-AM").await
}

/// The same, on another programme (`FAE-AM`).
pub(crate) async fn setup_on(app: &TestApp, tag: &str, program: &str) -> Setup {
    let org = app.create_organism(&format!("Organisme {tag}"));
    {
        let mut conn = app.conn();
        parcours::attestation::store::set_identity(
            &mut conn,
            None,
            org,
            &parcours::attestation::store::Identity {
                siret: Some("73282932000074".into()),
                nda: Some("11755555575".into()),
                qualiopi_number: Some("Q-TEST-1".into()),
                address: Some("3 rue de la Paix, 69002 Lyon".into()),
                city: None,
            },
        )
        .unwrap();
    }
    let (admin, _) = signed_in(
        app,
        Role::OrganismAdmin,
        Some(org),
        &format!("direction-{tag}@of.fr"),
    )
    .await;
    let cohort = app.create_cohort(org, program);
    let trainee = app.create_user(
        Role::Trainee,
        Some(org),
        &format!("assistante-{tag}@cabinet.fr"),
        "mot-de-passe-solide",
    );
    rename(app, trainee, "Camille Dupont");
    app.enrol(org, cohort, trainee);
    employ(app, trainee, &format!("dr-{tag}@cabinet.fr"));
    Setup {
        org,
        admin,
        trainee,
        cohort,
    }
}

pub(crate) async fn post_issue(
    app: &TestApp,
    client: &reqwest::Client,
    trainee: i64,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let page = format!("/stagiaires/{trainee}/attestations");
    client.post_form(app, &page, fields).await
}

fn rows_of(app: &Db, trainee: i64) -> Vec<(i64, String, Option<String>)> {
    let mut conn = app.conn();
    attestations::table
        .filter(attestations::trainee_id.eq(trainee))
        .order(attestations::id.asc())
        .select((
            attestations::id,
            attestations::code,
            attestations::override_reason,
        ))
        .load(&mut *conn as &mut DbConn)
        .unwrap()
}

fn outbox_count(app: &Db, kind: &str) -> i64 {
    let mut conn = app.conn();
    outbox::table
        .filter(outbox::kind.eq(kind))
        .count()
        .get_result(&mut *conn as &mut DbConn)
        .unwrap()
}

#[tokio::test]
async fn attestation_refused_for_an_incomplete_path_unless_derogation_with_reason_audited() {
    let app = spawn_app().await;
    let s = setup(&app, "incomplet").await;
    complete_path(&app, s.trainee, "CQP-AM", 3600);
    // The staff page says what is missing.
    let page = s
        .admin
        .get(app.url(&format!("/stagiaires/{}/attestations", s.trainee)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Parcours incomplet"), "{page}");
    assert!(page.contains("Manque : 1 h à réaliser"), "{page}");

    let res = post_issue(&app, &s.admin, s.trainee, &[("kind", "final")]).await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("pas terminé"));
    assert!(rows_of(&app, s.trainee).is_empty());
    // A derogation needs a real reason.
    let res = post_issue(
        &app,
        &s.admin,
        s.trainee,
        &[("kind", "final"), ("derogation", "1"), ("reason", "vu")],
    )
    .await;
    assert_eq!(res.status(), 422);
    assert!(rows_of(&app, s.trainee).is_empty());
    let reason = "Décision du jury : heure manquante rattrapée en stage";
    let res = post_issue(
        &app,
        &s.admin,
        s.trainee,
        &[("kind", "final"), ("derogation", "1"), ("reason", reason)],
    )
    .await;
    assert_eq!(res.status(), 303);
    let rows = rows_of(&app, s.trainee);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].2.as_deref(), Some(reason));
    let mut conn = app.conn();
    let audited: Vec<Option<String>> = audit_events::table
        .filter(audit_events::action.eq("attestation_derogation"))
        .filter(audit_events::subject_id.eq(s.trainee))
        .select(audit_events::after_json)
        .load(&mut *conn as &mut DbConn)
        .unwrap();
    assert_eq!(audited.len(), 1);
    assert!(audited[0].as_deref().unwrap_or_default().contains(reason));
    // Issuing again gives the same attestation, never a second one.
    let res = post_issue(&app, &s.admin, s.trainee, &[("kind", "final")]).await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(rows_of(&app, s.trainee).len(), 1);
    let page = s
        .admin
        .get(app.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("n&#x27;est jamais délivrée deux fois"),
        "{page}"
    );
    assert!(page.contains("par dérogation"));
}

#[tokio::test]
async fn attestation_a_trainer_cannot_issue_and_another_organism_neither_issues_nor_sees() {
    let app = spawn_app().await;
    let s = setup(&app, "portee").await;
    complete_path(&app, s.trainee, "CQP-AM", 0);
    // No attestation from an organism whose identity is missing.
    let bare = app.create_organism("Organisme sans SIRET");
    let (bare_admin, _) = signed_in(&app, Role::OrganismAdmin, Some(bare), "dir@bare.fr").await;
    let bare_cohort = app.create_cohort(bare, "CQP-AM");
    let bare_trainee = app.create_user(
        Role::Trainee,
        Some(bare),
        "t@bare.fr",
        "mot-de-passe-solide",
    );
    app.enrol(bare, bare_cohort, bare_trainee);
    complete_path(&app, bare_trainee, "CQP-AM", 0);
    let res = post_issue(&app, &bare_admin, bare_trainee, &[("kind", "final")]).await;
    assert_eq!(res.status(), 409);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("identité de l&#x27;organisme")
    );
    assert!(rows_of(&app, bare_trainee).is_empty());

    let (trainer, _) = signed_in(&app, Role::Trainer, Some(s.org), "formateur@of.fr").await;
    let res = post_issue(&app, &trainer, s.trainee, &[("kind", "final")]).await;
    assert_eq!(res.status(), 403);
    assert!(rows_of(&app, s.trainee).is_empty());
    // The trainer sees the state, without the issue form.
    let page = trainer
        .get(app.url(&format!("/stagiaires/{}/attestations", s.trainee)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Parcours terminé"));
    assert!(!page.contains("Valider et délivrer"));

    let other = app.create_organism("Autre organisme");
    let (intruder, _) = signed_in(&app, Role::OrganismAdmin, Some(other), "dir@autre.fr").await;
    let res = post_issue(&app, &intruder, s.trainee, &[("kind", "final")]).await;
    assert_eq!(res.status(), 404);
    assert!(rows_of(&app, s.trainee).is_empty());
    let res = intruder
        .post_form(
            &app,
            &format!("/promotions/{}/attestations", s.cohort),
            NO_FIELDS,
        )
        .await;
    assert_eq!(res.status(), 404);
    assert!(rows_of(&app, s.trainee).is_empty());

    // Issued by its own organism, it stays invisible to the other one.
    let res = post_issue(&app, &s.admin, s.trainee, &[("kind", "final")]).await;
    assert_eq!(res.status(), 303);
    let id = rows_of(&app, s.trainee)[0].0;
    let res = intruder
        .get(app.url(&format!("/attestations/{id}/pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = trainer
        .get(app.url(&format!("/attestations/{id}/pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.bytes().await.unwrap().starts_with(b"%PDF"));
    let res = intruder
        .post_form(
            &app,
            &format!("/attestations/{id}/revocation"),
            &[("reason", "pour voir")],
        )
        .await;
    assert_eq!(res.status(), 404);
}

pub(crate) async fn verify_page(app: &TestApp, code: &str) -> (u16, String) {
    let res = client()
        .get(app.url(&format!("/verifier/{code}")))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn attestation_verify_page_valid_changed_unknown_revoked_and_discreet() {
    let app = spawn_app().await;
    let s = setup(&app, "verif").await;
    complete_path(&app, s.trainee, "CQP-AM", 0);
    // Another trainee of the organism, with other hours, holds a certificate.
    let other = app.create_user(
        Role::Trainee,
        Some(s.org),
        "autre-verif@cabinet.fr",
        "mot-de-passe-solide",
    );
    rename(&app, other, "Léa Martin");
    app.enrol(s.org, s.cohort, other);
    {
        let mut conn = app.conn();
        let (m, _) = plan(&app, "CQP-AM")[0];
        diesel::insert_into(daily_activity::table)
            .values((
                daily_activity::trainee_id.eq(other),
                daily_activity::day.eq(chrono::NaiveDate::from_ymd_opt(2026, 10, 5).unwrap()),
                daily_activity::module_id.eq(m),
                daily_activity::distance_seconds.eq(13 * 3600 + 17 * 60),
                daily_activity::first_at.eq(parcours::db::now()),
                daily_activity::last_at.eq(parcours::db::now()),
            ))
            .execute(&mut *conn as &mut DbConn)
            .unwrap();
    }
    let res = post_issue(&app, &s.admin, s.trainee, &[("kind", "final")]).await;
    assert_eq!(res.status(), 303);
    let res = post_issue(
        &app,
        &s.admin,
        other,
        &[
            ("kind", "realisation"),
            ("from", "2026-09-01"),
            ("to", "2026-10-31"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let code = rows_of(&app, s.trainee)[0].1.clone();
    let other_code = rows_of(&app, other)[0].1.clone();

    let (status, page) = verify_page(&app, &rules::display_code(&code)).await;
    assert_eq!(status, 200);
    assert!(page.contains("Document authentique et valide"), "{page}");
    assert!(page.contains("Camille Dupont"));
    assert!(page.contains("CQP Assistant médical"));
    assert!(page.contains("266 h"), "{page}");
    assert!(page.contains("Organisme verif"));
    // Nothing else about the trainee: no address, no other document's hours.
    assert!(!page.contains("assistante-verif@cabinet.fr"), "{page}");
    assert!(!page.contains("@"), "no email at all on the page");
    assert!(!page.contains("13 h 17"));
    assert!(!page.contains("naissance"));
    let (status, page) = verify_page(&app, &other_code).await;
    assert_eq!(status, 200);
    assert!(page.contains("13 h 17"), "{page}");
    assert!(page.contains("Certificat de réalisation"));

    // One character changed.
    let mut changed = code.clone().into_bytes();
    changed[5] = if changed[5] == b'A' { b'B' } else { b'A' };
    let (status, page) = verify_page(&app, &String::from_utf8(changed).unwrap()).await;
    assert_eq!(status, 404);
    assert!(page.contains("mal formé"), "{page}");
    assert!(!page.contains("authentique et valide"));
    // A well-formed code no document has.
    let made_up = rules::code_from_signature(&rules::signature(&[7u8; 32], "inventé"));
    let (status, page) = verify_page(&app, &made_up).await;
    assert_eq!(status, 404);
    assert!(page.contains("Aucune attestation ne correspond"), "{page}");
    // Junk.
    let (status, page) = verify_page(&app, "%3Cscript%3E").await;
    assert_eq!(status, 404);
    assert!(!page.contains("<script>"));

    // Revoked, with a reason (audited): shown as revoked.
    let id = rows_of(&app, s.trainee)[0].0;
    let res = s
        .admin
        .post_form(
            &app,
            &format!("/attestations/{id}/revocation"),
            &[("reason", "Erreur de dates")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (status, page) = verify_page(&app, &code).await;
    assert_eq!(status, 200);
    assert!(page.contains("Document révoqué"), "{page}");
    assert!(!page.contains("authentique et valide"));
    assert!(
        !page.contains("Erreur de dates"),
        "the reason stays internal"
    );
    let mut conn = app.conn();
    let revoked: i64 = audit_events::table
        .filter(audit_events::action.eq("attestation_revoked"))
        .filter(audit_events::subject_id.eq(id))
        .count()
        .get_result(&mut *conn as &mut DbConn)
        .unwrap();
    assert_eq!(revoked, 1);
    // A corrected attestation may then be issued.
    drop(conn);
    let res = post_issue(&app, &s.admin, s.trainee, &[("kind", "final")]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(rows_of(&app, s.trainee).len(), 2);
}

#[tokio::test]
async fn attestation_a_flipped_byte_in_the_signed_fields_does_not_verify() {
    let app = spawn_app().await;
    let s = setup(&app, "octet").await;
    complete_path(&app, s.trainee, "CQP-AM", 0);
    let res = post_issue(&app, &s.admin, s.trainee, &[("kind", "final")]).await;
    assert_eq!(res.status(), 303);
    let (id, code, _) = rows_of(&app, s.trainee).remove(0);
    let (status, page) = verify_page(&app, &code).await;
    assert_eq!(status, 200);
    assert!(page.contains("authentique"));
    // Someone with write access to the table raises the hours by flipping one byte.
    let mut conn = app.conn();
    let payload: String = attestations::table
        .find(id)
        .select(attestations::payload)
        .first(&mut *conn as &mut DbConn)
        .unwrap();
    let start = payload.find("\"distance_secs\":").unwrap() + "\"distance_secs\":".len();
    // The last digit of the first module's distance hours.
    let at = start + payload[start..].find(',').unwrap() - 1;
    let mut bytes = payload.into_bytes();
    bytes[at] ^= 0x01; // "1" <-> "0", "3" <-> "2", … still valid JSON
    let tampered = String::from_utf8(bytes).unwrap();
    assert!(serde_json::from_str::<serde_json::Value>(&tampered).is_ok());
    diesel::update(attestations::table.find(id))
        .set(attestations::payload.eq(&tampered))
        .execute(&mut *conn as &mut DbConn)
        .unwrap();
    drop(conn);
    let (status, page) = verify_page(&app, &code).await;
    assert_eq!(status, 404);
    assert!(page.contains("ne peut pas être authentifié"), "{page}");
    assert!(!page.contains("authentique et valide"));
}

#[tokio::test]
async fn attestation_verify_page_is_rate_limited() {
    let app = spawn_app_with(|env| {
        env.insert("PARCOURS_VERIFY_IP_PER_MINUTE".into(), "3".into());
    })
    .await;
    let code = rules::code_from_signature(&rules::signature(&[1u8; 32], "x"));
    for _ in 0..3 {
        assert_eq!(verify_page(&app, &code).await.0, 404);
    }
    let (status, page) = verify_page(&app, &code).await;
    assert_eq!(status, 429);
    assert!(page.contains("Trop de vérifications"));
}

#[tokio::test]
async fn attestation_batch_issues_complete_paths_once() {
    let app = spawn_app().await;
    let s = setup(&app, "lot").await;
    complete_path(&app, s.trainee, "CQP-AM", 0);
    let second = app.create_user(
        Role::Trainee,
        Some(s.org),
        "deux-lot@cabinet.fr",
        "mot-de-passe-solide",
    );
    app.enrol(s.org, s.cohort, second);
    complete_path(&app, second, "CQP-AM", 0);
    let unfinished = app.create_user(
        Role::Trainee,
        Some(s.org),
        "trois-lot@cabinet.fr",
        "mot-de-passe-solide",
    );
    app.enrol(s.org, s.cohort, unfinished);
    complete_path(&app, unfinished, "CQP-AM", 600);

    let batch = format!("/promotions/{}/attestations", s.cohort);
    let page = s.admin.get_text(&app, &batch).await;
    assert!(page.contains("2 stagiaire(s) ont terminé"), "{page}");
    let res = s.admin.post_form_of(&app, &page, &batch, NO_FIELDS).await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.contains("emises=2&deja=0&incompletes=1"),
        "{location}"
    );
    assert_eq!(rows_of(&app, s.trainee).len(), 1);
    assert_eq!(rows_of(&app, second).len(), 1);
    assert!(rows_of(&app, unfinished).is_empty());
    // One doctor mail (only the first trainee has an employer doctor), two trainee mails.
    assert_eq!(outbox_count(&app, "attestation_doctor"), 1);
    assert_eq!(outbox_count(&app, "attestation_trainee"), 2);

    // The command line, on the same cohort: nothing new.
    let cohort = s.cohort.to_string();
    let out = app.cli(&["attestations", "issue", "--cohort", &cohort]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("0 attestation(s) délivrée(s) et envoyée(s), 2 déjà délivrée(s), 1 parcours incomplet(s)"),
        "{stdout}"
    );
    // The last trainee finishes; the command issues exactly that one.
    {
        let mut conn = app.conn();
        diesel::update(module_totals::table.filter(module_totals::trainee_id.eq(unfinished)))
            .set(module_totals::correction_seconds.eq(600i64))
            .execute(&mut *conn as &mut DbConn)
            .unwrap();
    }
    let out = app.cli(&["attestations", "issue", "--cohort", &cohort]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("1 attestation(s) délivrée(s)"), "{stdout}");
    assert_eq!(rows_of(&app, unfinished).len(), 1);
    assert_eq!(outbox_count(&app, "attestation_trainee"), 3);
}

/// The PDF attachment of a raw MIME message.
pub(crate) fn pdf_attachment(raw: &str) -> Vec<u8> {
    let raw = raw.replace("\r\n", "\n");
    let at = raw
        .find("Content-Type: application/pdf")
        .expect("a PDF attachment");
    let part = &raw[at..];
    let body_start = part.find("\n\n").unwrap() + 2;
    let b64: String = part[body_start..]
        .lines()
        .take_while(|l| !l.trim().is_empty() && !l.starts_with("--"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .unwrap()
}

#[tokio::test]
async fn attestation_demo_trainee_end_to_end_mail_to_the_doctor_with_a_pdf_that_verifies() {
    let smtp = Smtp::start();
    let url = smtp.url();
    let app = spawn_app_with(|env| {
        env.insert("PARCOURS_SMTP_URL".into(), url);
    })
    .await;
    // The demo: organism with its identity, its admin, the doctor employing the trainee.
    // The app recorded the reference programmes when it started.
    let logins = parcours::demo::seed(&mut app.conn()).unwrap();
    let login_of = |role: Role| logins.iter().find(|l| l.role == role).unwrap();
    let trainee_email = &login_of(Role::Trainee).email;
    let trainee = {
        let mut conn = app.conn();
        parcours::accounts::store::by_email(&mut conn, trainee_email)
            .unwrap()
            .unwrap()
            .id
    };
    complete_path(&app, trainee, "CQP-AM", 0);
    let admin = client();
    let l = login_of(Role::OrganismAdmin);
    assert_eq!(
        login(&app, &admin, &l.email, &l.password).await.status(),
        303
    );
    let res = post_issue(&app, &admin, trainee, &[("kind", "final")]).await;
    assert_eq!(res.status(), 303);

    let mails = smtp.wait_for(2, 30).await;
    assert_eq!(mails.len(), 2, "doctor and trainee");
    let doctor_email = &login_of(Role::Doctor).email;
    let to_doctor = mails
        .iter()
        .find(|m| m.contains(doctor_email.as_str()))
        .expect("the doctor's mail");
    let text = mail_text(to_doctor);
    // The CQP's end of training: for information, the CPAM wants the CQP itself.
    assert!(text.contains("Pour information seulement"), "{text}");
    assert!(!text.contains("Madame, Monsieur"), "{text}");
    assert!(text.contains("Julie Moreau"));
    let pdf = pdf_attachment(to_doctor);
    assert!(pdf.starts_with(b"%PDF-"), "the attachment is a PDF");
    assert!(pdf.len() > 10_000);
    if std::process::Command::new("pdftoppm")
        .arg("-v")
        .output()
        .is_ok()
    {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.pdf");
        std::fs::write(&file, &pdf).unwrap();
        let out = std::process::Command::new("pdftoppm")
            .args(["-r", "50", "-png"])
            .arg(&file)
            .arg(dir.path().join("page"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "poppler complains: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let png = std::fs::read(dir.path().join("page-1.png")).unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        if let Ok(keep) = std::env::var("PARCOURS_KEEP_PDF") {
            std::fs::write(format!("{keep}.pdf"), &pdf).unwrap();
            std::fs::write(format!("{keep}.png"), &png).unwrap();
        }
    }
    // The QR code's URL (also in the trainee's mail) verifies as genuine.
    let to_her = mails
        .iter()
        .find(|m| m.contains(trainee_email.as_str()))
        .expect("the trainee's mail");
    let path = link_in(&mail_text(to_her), "/verifier/");
    let (status, page) = verify_page(&app, &path["/verifier/".len()..]).await;
    assert_eq!(status, 200);
    assert!(page.contains("Document authentique et valide"));
    assert!(page.contains("Julie Moreau"));
    assert!(page.contains("Institut Santé Formation"));

    // The doctor's page lists it as for information; "forwarded to the CPAM" is refused.
    let doctor = client();
    let d = login_of(Role::Doctor);
    assert_eq!(
        login(&app, &doctor, &d.email, &d.password).await.status(),
        303
    );
    let page = doctor
        .get(app.url("/mes-attestations"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Attestation de fin de formation"), "{page}");
    assert!(page.contains("Julie Moreau"));
    // His home page says it came, for information.
    let card = doctor.get_text(&app, "/").await;
    assert!(
        card.contains("Julie Moreau : Attestation de fin de formation n° ")
            && card.contains("pour information, pas à transmettre à la CPAM"),
        "{card}"
    );
    let id = rows_of(&app, trainee)[0].0;
    let res = doctor
        .post_form_of(
            &app,
            &page,
            &format!("/attestations/{id}/cpam"),
            &[("forwarded", "1"), ("forwarded_on", "")],
        )
        .await;
    assert_eq!(res.status(), 409);
    assert!(page.contains("Pour information"), "{page}");
    let res = doctor
        .get(app.url(&format!("/attestations/{id}/pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // Re-sending sends the same document again, never a second attestation.
    let res = admin
        .post_form(&app, &format!("/attestations/{id}/renvoi"), NO_FIELDS)
        .await;
    assert_eq!(res.status(), 303);
    let mails = smtp.wait_for(4, 30).await;
    assert_eq!(mails.len(), 4);
    assert_eq!(rows_of(&app, trainee).len(), 1);
    let to_doctor: Vec<&String> = mails
        .iter()
        .filter(|m| m.contains(doctor_email.as_str()))
        .collect();
    assert_eq!(to_doctor.len(), 2);
    for m in to_doctor {
        assert_eq!(pdf_attachment(m), pdf, "the very same PDF");
    }
}

#[tokio::test]
async fn attestation_identity_is_filled_by_the_organism_admin_and_printed() {
    let app = spawn_app().await;
    let s = setup(&app, "identite").await;
    complete_path(&app, s.trainee, "CQP-AM", 0);
    let identity = format!("/organismes/{}/identite", s.org);
    let url = app.url(&identity);
    let (trainer, _) = signed_in(&app, Role::Trainer, Some(s.org), "f-identite@of.fr").await;
    assert_eq!(trainer.get(&url).send().await.unwrap().status(), 403);
    let page = s.admin.get_text(&app, &identity).await;
    assert!(page.contains("73282932000074"), "current values are shown");
    let res = s
        .admin
        .post_form_of(
            &app,
            &page,
            &identity,
            &[
                ("siret", "12345678901234"),
                ("nda", "11755555575"),
                ("qualiopi_number", "Q-2"),
                ("address", "5 avenue Jean Jaurès, 69100 Villeurbanne"),
                ("city", "Villeurbanne"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422, "an invalid SIRET is refused");
    let res = s
        .admin
        .post_form_of(
            &app,
            &page,
            &identity,
            &[
                ("siret", "732 829 320 00074"),
                ("nda", "11755555575"),
                ("qualiopi_number", "Q-2026-77"),
                ("address", "5 avenue Jean Jaurès, 69100 Villeurbanne"),
                ("city", "Villeurbanne"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = post_issue(&app, &s.admin, s.trainee, &[("kind", "final")]).await;
    assert_eq!(res.status(), 303);
    let (id, code, _) = rows_of(&app, s.trainee).remove(0);
    let (_, page) = verify_page(&app, &code).await;
    assert!(page.contains("à Villeurbanne, le"), "{page}");
    assert!(page.contains("Qualiopi n° Q-2026-77"));
    // The trainee sees and downloads their own document; another trainee does not.
    let trainee = client();
    assert_eq!(
        login(
            &app,
            &trainee,
            "assistante-identite@cabinet.fr",
            "mot-de-passe-solide"
        )
        .await
        .status(),
        303
    );
    let mine = trainee
        .get(app.url("/mes-attestations"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(mine.contains(&format!("/attestations/{id}/pdf")), "{mine}");
    let res = trainee
        .get(app.url(&format!("/attestations/{id}/pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (stranger, _) = signed_in(
        &app,
        Role::Trainee,
        Some(s.org),
        "autre-identite@cabinet.fr",
    )
    .await;
    let res = stranger
        .get(app.url(&format!("/attestations/{id}/pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let (doctor, _) = signed_in(&app, Role::Doctor, None, "dr-autre-identite@cabinet.fr").await;
    let res = doctor
        .get(app.url(&format!("/attestations/{id}/pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        404,
        "a doctor who does not employ the trainee"
    );
}

#[tokio::test]
async fn attestation_certificate_of_a_period_counts_only_the_hours_done_in_it() {
    let app = spawn_app().await;
    let s = setup(&app, "periode").await;
    let trainer = app.create_user(
        Role::Trainer,
        Some(s.org),
        "f-periode@of.fr",
        "mot-de-passe-solide",
    );
    let (m1, _) = plan(&app, "CQP-AM")[0];
    let (m2, _) = plan(&app, "CQP-AM")[1];
    let d = |m, day| chrono::NaiveDate::from_ymd_opt(2026, m, day).unwrap();
    let present = |module, day, minutes| {
        closed_sheet(
            &app, s.cohort, module, s.trainee, trainer, day, "present", None, minutes, None,
        )
    };
    present(m1, d(10, 6), 210);
    present(m2, d(11, 20), 180);
    {
        let mut conn = app.conn();
        for (day, secs) in [
            (d(9, 30), 3600i64),
            (d(10, 1), 1800),
            (d(10, 31), 900),
            (d(11, 1), 7200),
        ] {
            diesel::insert_into(daily_activity::table)
                .values((
                    daily_activity::trainee_id.eq(s.trainee),
                    daily_activity::day.eq(day),
                    daily_activity::module_id.eq(m2),
                    daily_activity::distance_seconds.eq(secs),
                    daily_activity::first_at.eq(parcours::db::now()),
                    daily_activity::last_at.eq(parcours::db::now()),
                ))
                .execute(&mut *conn as &mut DbConn)
                .unwrap();
        }
    }
    // Corrections by Paris date: 01/10 at 00:30 Paris is in, 01/11 at 00:30 Paris is out.
    {
        use parcours::db::schema::hour_corrections;
        let mut conn = app.conn();
        for (at, secs) in [
            (d(9, 30).and_hms_opt(22, 30, 0).unwrap(), 600i64),
            (d(10, 31).and_hms_opt(23, 30, 0).unwrap(), 1200),
        ] {
            diesel::insert_into(hour_corrections::table)
                .values((
                    hour_corrections::trainee_id.eq(s.trainee),
                    hour_corrections::module_id.eq(m1),
                    hour_corrections::seconds.eq(secs),
                    hour_corrections::reason.eq("rattrapage"),
                    hour_corrections::created_by.eq(trainer),
                    hour_corrections::created_at.eq(at),
                ))
                .execute(&mut *conn as &mut DbConn)
                .unwrap();
        }
    }
    // A period in the future or upside down is refused; French dates are understood.
    for (from, to, status) in [
        ("2026-10-31", "2026-10-01", 422),
        ("2026-10-01", "2099-01-01", 422),
        ("01/10/2026", "31/10/2026", 303),
    ] {
        let form = [("kind", "realisation"), ("from", from), ("to", to)];
        let res = post_issue(&app, &s.admin, s.trainee, &form).await;
        assert_eq!(res.status(), status, "{from} – {to}");
    }
    let mut conn = app.conn();
    let payload: String = attestations::table
        .filter(attestations::trainee_id.eq(s.trainee))
        .select(attestations::payload)
        .first(&mut *conn as &mut DbConn)
        .unwrap();
    let st: rules::Statement = serde_json::from_str(&payload).unwrap();
    assert_eq!(st.kind, rules::Kind::Realisation);
    assert_eq!(st.presentiel_secs(), 210 * 60, "only the sheet of October");
    assert_eq!(
        st.distance_secs(),
        1800 + 900,
        "only the days of October, both ends included"
    );
    assert_eq!(st.modules[0].presentiel_secs, 210 * 60);
    assert_eq!(
        st.correction_secs(),
        600,
        "corrections counted by Paris date"
    );
    assert_eq!(st.modules[1].distance_secs, 2700);
    // A certificate is not the end of the path: the final attestation is still to come.
    drop(conn);
    let page = s
        .admin
        .get(app.url(&format!("/stagiaires/{}/attestations", s.trainee)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Valider et délivrer"));
    assert!(page.contains("Certificat de réalisation"));
}

#[tokio::test]
async fn a_trainee_who_left_early_still_gets_her_certificat_de_realisation() {
    use parcours::db::schema::{cohorts, enrolments};
    let app = spawn_app().await;
    let s = setup(&app, "sortie").await;
    let start: chrono::NaiveDate = cohorts::table
        .find(s.cohort)
        .select(cohorts::start_date)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let today = parcours::base::paris::today();
    let from = start.min(today - chrono::Duration::days(20));
    diesel::update(enrolments::table.filter(enrolments::trainee_id.eq(s.trainee)))
        .set(enrolments::started_on.eq(from))
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();
    diesel::update(cohorts::table.find(s.cohort))
        .set(cohorts::start_date.eq(from))
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let m1: i64 = parcours::db::schema::modules::table
        .filter(parcours::db::schema::modules::code.eq("M1"))
        .select(parcours::db::schema::modules::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let admin_id: i64 = parcours::db::schema::users::table
        .filter(parcours::db::schema::users::email.eq("direction-sortie@of.fr"))
        .select(parcours::db::schema::users::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let half_day = from + chrono::Duration::days(3);
    closed_sheet(
        &app, s.cohort, m1, s.trainee, admin_id, half_day, "present", None, 210, None,
    );
    // She leaves ten days ago; the form on her file ends the enrolment.
    let out = today - chrono::Duration::days(10);
    let res = s
        .admin
        .post_form(
            &app,
            &format!("/stagiaires/{}/sortie", s.trainee),
            &[
                ("on", out.to_string().as_str()),
                ("reason", "abandon"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let fr = |d: chrono::NaiveDate| d.format("%d/%m/%Y").to_string();
    let (f, t) = (fr(from), fr(out - chrono::Duration::days(1)));
    let form = [
        ("kind", "realisation"),
        ("from", f.as_str()),
        ("to", t.as_str()),
    ];
    let res = post_issue(&app, &s.admin, s.trainee, &form).await;
    assert_eq!(res.status(), 303);
    let payload: String = attestations::table
        .filter(attestations::trainee_id.eq(s.trainee))
        .select(attestations::payload)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let st: rules::Statement = serde_json::from_str(&payload).unwrap();
    assert_eq!(st.kind, rules::Kind::Realisation);
    assert_eq!(
        st.presentiel_secs(),
        210 * 60,
        "the half-day before she left"
    );
}

/// A trainee who joined the cohort two months after it started: her end-of-path attestation
/// states her own entry date, as the funders' export does, not the cohort's start; the staff
/// page proposes her entry as the start of a certificate's period.
#[tokio::test]
async fn a_late_joiners_attestation_starts_at_her_own_entry() {
    use parcours::db::schema::enrolments;
    let app = spawn_app().await;
    let s = setup(&app, "tardive").await;
    let entry = chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    diesel::update(enrolments::table.filter(enrolments::trainee_id.eq(s.trainee)))
        .set(enrolments::started_on.eq(entry))
        .execute(&mut *app.conn())
        .unwrap();
    complete_path(&app, s.trainee, "CQP-AM", 0);
    let page = s
        .admin
        .get(app.url(&format!("/stagiaires/{}/attestations", s.trainee)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("value=\"2026-11-02\""), "{page}");
    let res = post_issue(&app, &s.admin, s.trainee, &[("kind", "final")]).await;
    assert_eq!(res.status(), 303);
    let payload: String = attestations::table
        .filter(attestations::trainee_id.eq(s.trainee))
        .select(attestations::payload)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let st: rules::Statement = serde_json::from_str(&payload).unwrap();
    assert_eq!(st.period_from, entry, "not the cohort's 01/09/2026");
    assert_eq!(st.period_to, parcours::base::paris::today());
}
