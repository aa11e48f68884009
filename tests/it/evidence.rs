//! Evidence packs: the ZIP of a trainee's period verifies with `sha256sum -c`, its PDFs
//! render, its hours are the dashboard's; scopes, bad dates, empty periods, the sign-in
//! sheet PDF alone and the command line.

use std::io::Read;

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{
    attestations, audit_events, enrolments, evaluation_attempts, followup_attachments,
    followup_messages, followup_threads, lessons, modules, outbox, sessions,
};

use crate::common::*;

fn today() -> chrono::NaiveDate {
    parcours::base::paris::to_paris(parcours::db::now()).date_naive()
}

pub(crate) fn fr(d: chrono::NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

fn m1(app: &TestApp) -> i64 {
    modules::table
        .filter(modules::code.eq("M1"))
        .select(modules::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

/// An organism whose identity allows certificates.
fn organism(app: &TestApp, name: &str) -> i64 {
    let org = app.create_organism(name);
    let mut conn = app.conn();
    parcours::attestation::store::set_identity(
        &mut conn,
        None,
        org,
        &parcours::attestation::store::Identity {
            siret: Some("73282932000074".into()),
            nda: Some("11755555575".into()),
            qualiopi_number: None,
            address: Some("3 rue de la Paix, 69002 Lyon".into()),
            city: None,
        },
    )
    .unwrap();
    org
}

fn rename(app: &TestApp, user: i64, name: &str) {
    use parcours::db::schema::users;
    diesel::update(users::table.find(user))
        .set(users::name.eq(name))
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();
}

async fn post(app: &TestApp, c: &reqwest::Client, path: &str) -> u16 {
    c.post_form(app, path, NO_FIELDS).await.status().as_u16()
}

/// A morning session yesterday on M1, its sheet opened, signed for the trainee on the
/// trainer's device, and closed unless `keep_open`.
async fn half_day(
    app: &TestApp,
    trainer: &reqwest::Client,
    trainer_id: i64,
    org: i64,
    cohort: i64,
    trainee: i64,
    keep_open: bool,
) -> i64 {
    let t = |h, m| chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap();
    {
        let mut conn = app.conn();
        parcours::cohorts::store::add_sessions(
            &mut conn,
            trainer_id,
            org,
            cohort,
            &[parcours::cohorts::store::NewSession {
                module_id: m1(app),
                trainer_id: Some(trainer_id),
                day: today() - chrono::Duration::days(1),
                starts_at: t(9, 0),
                ends_at: t(12, 30),
                place: "Salle Pasteur",
            }],
        )
        .unwrap();
    }
    let session: i64 = sessions::table
        .order(sessions::id.desc())
        .select(sessions::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert_eq!(
        post(
            app,
            trainer,
            &format!("/seances/{session}/emargement/ouvrir")
        )
        .await,
        303
    );
    // Signed yesterday during the half-day, on the trainer's device (a signature now would be
    // refused: it is past the half-day's window).
    let at = parcours::base::paris::paris_to_utc(
        (today() - chrono::Duration::days(1)).and_time(t(9, 40)),
    );
    let signed = parcours::tracking::attendance::sign(
        &mut app.conn(),
        trainer_id,
        org,
        session,
        trainee,
        &format!("formateur:{trainer_id}"),
        at,
    )
    .unwrap();
    assert_eq!(signed, Ok(()));
    if !keep_open {
        assert_eq!(
            post(
                app,
                trainer,
                &format!("/seances/{session}/emargement/clore")
            )
            .await,
            303
        );
    }
    session
}

/// Distance time through the real heartbeat API: a few beats 40 s apart on a lesson.
async fn study(app: &TestApp, email: &str, trainee: i64) {
    let token = api_token(app, email).await;
    let lesson: i64 = lessons::table
        .filter(lessons::slug.like("01-role-assistant%"))
        .select(lessons::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    for seq in 1..=4 {
        if seq > 1 {
            rewind(app, trainee, 40);
        }
        assert_eq!(beat(app, &token, lesson, "v", seq).await.status(), 200);
    }
}

/// A follow-up thread on M1 with a message now (with an attachment) and one long ago.
fn exchanges(app: &TestApp, org: i64, cohort: i64, trainee: i64, trainer: i64) {
    let mut conn = app.conn();
    let conn = &mut *conn as &mut DbConn;
    let now = parcours::db::now();
    let old = chrono::NaiveDate::from_ymd_opt(2025, 1, 10)
        .unwrap()
        .and_hms_opt(9, 0, 0)
        .unwrap();
    let thread: i64 = diesel::insert_into(followup_threads::table)
        .values((
            followup_threads::organism_id.eq(org),
            followup_threads::cohort_id.eq(cohort),
            followup_threads::trainee_id.eq(trainee),
            followup_threads::module_id.eq(Some(m1(app))),
            followup_threads::kind.eq("pedagogique"),
            followup_threads::subject.eq("Relevé de tension"),
            followup_threads::created_at.eq(old),
            followup_threads::last_message_at.eq(now),
        ))
        .returning(followup_threads::id)
        .get_result(conn)
        .unwrap();
    for (author, kind, body, at) in [
        (trainer, "retour", "Message trop ancien", old),
        (trainee, "travail", "Mon relevé du jour", now),
    ] {
        let id: i64 = diesel::insert_into(followup_messages::table)
            .values((
                followup_messages::thread_id.eq(thread),
                followup_messages::author_id.eq(author),
                followup_messages::kind.eq(kind),
                followup_messages::body.eq(body),
                followup_messages::created_at.eq(at),
            ))
            .returning(followup_messages::id)
            .get_result(conn)
            .unwrap();
        if kind == "travail" {
            diesel::insert_into(followup_attachments::table)
                .values((
                    followup_attachments::message_id.eq(id),
                    followup_attachments::file_name.eq("releve.pdf"),
                    followup_attachments::mime_type.eq("application/pdf"),
                    followup_attachments::size_bytes.eq(10i64),
                    followup_attachments::sha256.eq("ab".repeat(32)),
                ))
                .execute(conn)
                .unwrap();
        }
    }
    diesel::insert_into(evaluation_attempts::table)
        .values((
            evaluation_attempts::trainee_id.eq(trainee),
            evaluation_attempts::module_id.eq(m1(app)),
            evaluation_attempts::evaluation_hash.eq("test"),
            evaluation_attempts::attempt_no.eq(1),
            evaluation_attempts::status.eq("submitted"),
            evaluation_attempts::started_at.eq(now),
            evaluation_attempts::submitted_at.eq(now),
            evaluation_attempts::question_count.eq(10),
            evaluation_attempts::correct_count.eq(8),
            evaluation_attempts::score_pct.eq(80),
            evaluation_attempts::passed.eq(true),
        ))
        .execute(conn)
        .unwrap();
}

/// Unzips a pack into a fresh folder and runs the real `sha256sum -c SHA256SUMS` there.
pub(crate) fn unpack(bytes: &[u8]) -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let names: Vec<String> = (0..archive.len())
        .map(|i| archive.by_index(i).unwrap().name().to_string())
        .collect();
    archive.extract(dir.path()).unwrap();
    let out = std::process::Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.matches(": OK").count(),
        names.len() - 1,
        "every file but the manifest is checked: {stdout}"
    );
    (dir, names)
}

pub(crate) fn read(dir: &tempfile::TempDir, path: &str) -> String {
    let mut s = String::new();
    std::fs::File::open(dir.path().join(path))
        .unwrap()
        .read_to_string(&mut s)
        .unwrap();
    s.trim_start_matches('\u{feff}').to_string()
}

/// Renders every page of a PDF with poppler, and returns its text.
fn render(path: &std::path::Path) -> String {
    let out = std::process::Command::new("pdftoppm")
        .args(["-r", "40", "-png"])
        .arg(path)
        .arg(path.with_extension("page"))
        .output()
        .expect("pdftoppm (poppler-utils) must be installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "poppler complains about {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::process::Command::new("pdftotext")
        .arg(path)
        .arg("-")
        .output()
        .unwrap();
    assert!(text.status.success());
    String::from_utf8_lossy(&text.stdout).into_owned()
}

async fn get(c: &reqwest::Client, url: String) -> (u16, Vec<u8>) {
    let res = c.get(url).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn evidence_pack_verifies_renders_and_its_hours_are_the_dashboards() {
    let app = spawn_app().await;
    let org = organism(&app, "Institut Santé Formation");
    let (admin, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "direction@isf.fr").await;
    let (trainer, trainer_id) = signed_in(&app, Role::Trainer, Some(org), "nadia@isf.fr").await;
    rename(&app, trainer_id, "Nadia Benali");
    let cohort = app.create_cohort(org, "CQP-AM");
    let (_, trainee) = signed_in(&app, Role::Trainee, Some(org), "julie@cabinet.fr").await;
    rename(&app, trainee, "Julie Moreau");
    app.enrol(org, cohort, trainee);
    let session = half_day(&app, &trainer, trainer_id, org, cohort, trainee, false).await;
    study(&app, "julie@cabinet.fr", trainee).await;
    exchanges(&app, org, cohort, trainee, trainer_id);

    let url = app.url(&format!(
        "/stagiaires/{trainee}/preuves.zip?du=01/09/2026&au={}",
        fr(today())
    ));
    let res = admin.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/zip");
    // Named by the trainee and the period, as staff keep packs in one folder.
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.contains(&format!(
            "preuves-julie-moreau-{trainee}-2026-09-01-{}.zip",
            today().format("%Y-%m-%d")
        )),
        "{disposition}"
    );
    let bytes = res.bytes().await.unwrap();
    if let Ok(keep) = std::env::var("PARCOURS_KEEP_PACK") {
        std::fs::write(keep, &bytes).unwrap();
    }
    let (dir, names) = unpack(&bytes);
    let sheet_file = format!(
        "emargements/{}-matin-M1.pdf",
        (today() - chrono::Duration::days(1)).format("%Y-%m-%d")
    );
    for expected in [
        "certificat-de-realisation.pdf",
        sheet_file.as_str(),
        "distanciel/activite.csv",
        "distanciel/activite.pdf",
        "evaluations.csv",
        "suivi/echanges.csv",
        "suivi/echanges.txt",
        "LISEZMOI.txt",
        "SHA256SUMS",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    let mut texts = std::collections::HashMap::new();
    for n in names.iter().filter(|n| n.ends_with(".pdf")) {
        texts.insert(n.clone(), render(&dir.path().join(n)));
    }

    // The dashboard's figures for the same trainee.
    let token = api_token(&app, "direction@isf.fr").await;
    let hours: serde_json::Value = client()
        .get(app.url(&format!("/api/v1/trainees/{trainee}/hours")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sum = |field: &str| -> i64 {
        hours["modules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m[field].as_i64().unwrap())
            .sum()
    };
    let (distance, presentiel) = (sum("distance_secs"), sum("presentiel_secs"));
    assert!(distance >= 100, "heartbeats credited time: {distance}");
    assert_eq!(presentiel, 210 * 60);
    assert_eq!(hours["done_secs"].as_i64().unwrap(), distance + presentiel);

    // Distance: one row today on M1, whose time is the dashboard's.
    let csv = read(&dir, "distanciel/activite.csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    let cells: Vec<&str> = lines[1].split(';').collect();
    assert_eq!(cells[0], fr(today()));
    assert_eq!(cells[1], "M1");
    assert_eq!(
        cells[5],
        format!("{:.2}", distance as f64 / 3600.0).replace('.', ",")
    );
    assert_eq!(cells[6], parcours::base::format::minutes(distance / 60));
    assert!(!cells[7].is_empty(), "the lesson studied: {csv}");
    // In person: the sheet credits 3 h 30 to Julie, signed on the trainer's device.
    let sheet_text = &texts[&sheet_file];
    assert!(sheet_text.contains("Julie Moreau"), "{sheet_text}");
    assert!(sheet_text.contains("3 h 30"));
    assert!(sheet_text.contains("Nadia Benali"));
    assert!(sheet_text.contains("Feuille close le"));
    assert!(sheet_text.contains("appareil du formateur"));
    let readme = read(&dir, "LISEZMOI.txt");
    let minutes = parcours::base::format::minutes;
    assert!(
        readme.contains(&format!(
            "Heures réalisées sur la période : {} (à distance {}, en présentiel 3 h 30).",
            minutes((distance + presentiel) / 60),
            minutes(distance / 60)
        )),
        "{readme}"
    );
    assert!(readme.contains("sha256sum -c SHA256SUMS"));
    assert!(texts["certificat-de-realisation.pdf"].contains("Julie Moreau"));

    // Exchanges of the period only, with the attachment's fingerprint.
    let talks = read(&dir, "suivi/echanges.csv");
    assert!(talks.contains("Mon relevé du jour"), "{talks}");
    assert!(talks.contains(&format!("releve.pdf (SHA-256 {})", "ab".repeat(32))));
    assert!(talks.contains(";M1;Julie Moreau;stagiaire;Travail écrit;"));
    assert!(!talks.contains("Message trop ancien"));
    assert!(read(&dir, "suivi/echanges.txt").contains("Relevé de tension"));
    assert!(read(&dir, "evaluations.csv").contains(";80;réussie;soumise"));

    // A second export reuses the certificate; nobody was mailed; both exports audited.
    let (status, _) = get(&admin, url.clone()).await;
    assert_eq!(status, 200);
    let mut conn = app.conn();
    let conn = &mut *conn as &mut DbConn;
    let issued: i64 = attestations::table
        .filter(attestations::trainee_id.eq(trainee))
        .count()
        .get_result(conn)
        .unwrap();
    assert_eq!(issued, 1);
    let mails: i64 = outbox::table.count().get_result(conn).unwrap();
    let attestation_mails: i64 = outbox::table
        .filter(outbox::kind.like("attestation%"))
        .count()
        .get_result(conn)
        .unwrap();
    assert_eq!(
        attestation_mails, 0,
        "a pack mails nobody ({mails} other mails)"
    );
    let audits: Vec<Option<String>> = audit_events::table
        .filter(audit_events::action.eq("evidence.export"))
        .filter(audit_events::subject_id.eq(trainee))
        .select(audit_events::after_json)
        .load(conn)
        .unwrap();
    assert_eq!(audits.len(), 2);
    let detail: serde_json::Value = serde_json::from_str(audits[0].as_deref().unwrap()).unwrap();
    assert_eq!(detail["period"][0], "2026-09-01");
    assert_eq!(detail["sha256"].as_str().unwrap().len(), 64);
    let _ = session;
}

#[tokio::test]
async fn evidence_pack_scopes_bad_dates_and_an_honest_empty_pack() {
    let app = spawn_app().await;
    let org = organism(&app, "Organisme A");
    let b = app.create_organism("Organisme B");
    let (trainer, trainer_id) = signed_in(&app, Role::Trainer, Some(org), "f@a.fr").await;
    let (trainer_b, _) = signed_in(&app, Role::Trainer, Some(b), "f@b.fr").await;
    let cohort = app.create_cohort(org, "CQP-AM");
    let (trainee_c, trainee) = signed_in(&app, Role::Trainee, Some(org), "t@a.fr").await;
    app.enrol(org, cohort, trainee);
    let path = |q: &str| app.url(&format!("/stagiaires/{trainee}/preuves.zip?{q}"));
    let full = format!("du=2026-09-01&au={}", today().format("%Y-%m-%d"));
    assert_eq!(get(&trainer_b, path(&full)).await.0, 404);
    assert_eq!(get(&trainee_c, path(&full)).await.0, 403);
    // Even the employer doctor, who sees the trainee's hours, gets no pack.
    let (doctor_c, doctor) = signed_in(&app, Role::Doctor, None, "dr@cabinet.fr").await;
    app.employ(trainee, doctor, "Dr Martin");
    assert_eq!(
        get(&doctor_c, app.url(&format!("/stagiaires/{trainee}/heures")))
            .await
            .0,
        200,
        "the doctor sees the hours"
    );
    assert_eq!(get(&doctor_c, path(&full)).await.0, 403);
    let (status, body) = get(&trainer, path("du=31/02/2026&au=30/11/2026")).await;
    assert_eq!(status, 422);
    assert!(String::from_utf8_lossy(&body).contains("Date de début invalide"));
    let (status, body) = get(&trainer, path("du=30/11/2026&au=01/09/2026")).await;
    assert_eq!(status, 422);
    assert!(String::from_utf8_lossy(&body).contains("La fin de la période précède son début"));
    assert_eq!(get(&trainer, path("du=01/09/2026")).await.0, 422);

    // A period without anything: 200 and a pack that says so.
    let (status, bytes) = get(&trainer, path("du=01/01/2026&au=31/01/2026")).await;
    assert_eq!(status, 200);
    let (dir, names) = unpack(&bytes);
    assert!(
        !names.iter().any(|n| n.starts_with("certificat")),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.starts_with("emargements/")));
    let readme = read(&dir, "LISEZMOI.txt");
    assert!(
        readme.contains("Aucune activité sur la période"),
        "{readme}"
    );
    assert!(readme.contains("Aucune heure réalisée sur la période"));
    for csv in [
        "distanciel/activite.csv",
        "evaluations.csv",
        "suivi/echanges.csv",
    ] {
        assert_eq!(
            read(&dir, csv).lines().count(),
            1,
            "{csv} has its header only"
        );
    }
    render(&dir.path().join("distanciel/activite.pdf"));

    // A trainer may export but not issue: the LISEZMOI says who can.
    half_day(&app, &trainer, trainer_id, org, cohort, trainee, false).await;
    let (status, bytes) = get(&trainer, path(&full)).await;
    assert_eq!(status, 200);
    let (dir, names) = unpack(&bytes);
    assert!(!names.iter().any(|n| n.starts_with("certificat")));
    assert!(names.iter().any(|n| n.starts_with("emargements/")));
    assert!(read(&dir, "LISEZMOI.txt").contains("Seul un administrateur de l'organisme"));
}

#[tokio::test]
async fn sign_in_sheet_pdf_alone_renders_open_then_closed() {
    let app = spawn_app().await;
    let org = organism(&app, "Organisme A");
    let b = app.create_organism("Organisme B");
    let (trainer, trainer_id) = signed_in(&app, Role::Trainer, Some(org), "f@a.fr").await;
    let (trainer_b, _) = signed_in(&app, Role::Trainer, Some(b), "f@b.fr").await;
    let cohort = app.create_cohort(org, "CQP-AM");
    let (trainee_c, trainee) = signed_in(&app, Role::Trainee, Some(org), "t@a.fr").await;
    rename(&app, trainee, "Camille Dupont");
    app.enrol(org, cohort, trainee);
    let (_, other) = signed_in(&app, Role::Trainee, Some(org), "u@a.fr").await;
    rename(&app, other, "Bruno Lefèvre");
    app.enrol(org, cohort, other);
    let session = half_day(&app, &trainer, trainer_id, org, cohort, trainee, true).await;
    let url = app.url(&format!("/seances/{session}/emargement.pdf"));
    assert_eq!(get(&trainer_b, url.clone()).await.0, 404);
    assert_eq!(get(&trainee_c, url.clone()).await.0, 404);
    let page = trainer
        .get(app.url(&format!("/seances/{session}/emargement")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("/seances/{session}/emargement.pdf")));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("open.pdf");
    let (status, pdf) = get(&trainer, url.clone()).await;
    assert_eq!(status, 200);
    std::fs::write(&file, pdf).unwrap();
    let text = render(&file);
    assert!(text.contains("FEUILLE NON CLOSE"), "{text}");
    assert!(text.contains("Camille Dupont"));
    assert!(text.contains("Bruno Lefèvre"));

    assert_eq!(
        post(
            &app,
            &trainer,
            &format!("/seances/{session}/emargement/clore")
        )
        .await,
        303
    );
    let (status, pdf) = get(&trainer, url).await;
    assert_eq!(status, 200);
    let file = dir.path().join("closed.pdf");
    std::fs::write(&file, pdf).unwrap();
    let text = render(&file);
    assert!(!text.contains("FEUILLE NON CLOSE"), "{text}");
    assert!(text.contains("Feuille close le"));
    assert!(text.contains("Camille Dupont"));
    assert!(
        text.contains("absent (non excusé)"),
        "Bruno never signed: {text}"
    );
    assert!(text.contains("3 h 30"));
}

#[tokio::test]
async fn evidence_export_command_writes_a_pack_per_trainee_or_nothing() {
    let app = spawn_app().await;
    let org = organism(&app, "Organisme A");
    app.create_user(
        Role::OrganismAdmin,
        Some(org),
        "dir@a.fr",
        "mot-de-passe-solide",
    );
    let (trainer, trainer_id) = signed_in(&app, Role::Trainer, Some(org), "f@a.fr").await;
    let cohort = app.create_cohort(org, "CQP-AM");
    let (_, stays) = signed_in(&app, Role::Trainee, Some(org), "a@a.fr").await;
    app.enrol(org, cohort, stays);
    let (_, leaves) = signed_in(&app, Role::Trainee, Some(org), "b@a.fr").await;
    app.enrol(org, cohort, leaves);
    half_day(&app, &trainer, trainer_id, org, cohort, stays, false).await;
    diesel::update(enrolments::table.filter(enrolments::trainee_id.eq(leaves)))
        .set(enrolments::ended_on.eq(Some(chrono::NaiveDate::from_ymd_opt(2026, 10, 15).unwrap())))
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let mut env = base_env(app.dir.path(), &app.database_url);
    env.insert("PARCOURS_MAIL_WORKER".into(), "false".into());
    let out_dir = app.dir.path().join("exports");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_parcours"))
            .args(["export", "evidence"])
            .args(args)
            .arg("--out")
            .arg(&out_dir)
            .envs(&env)
            .output()
            .unwrap()
    };
    let (c, to) = (cohort.to_string(), fr(today()));
    let bad = run(&["--cohort", &c, "--from", "32/09/2026", "--to", &to]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--from : Date de début invalide"));
    let unknown = run(&["--cohort", "999999", "--from", "01/09/2026", "--to", &to]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("promotion n° 999999 introuvable"));
    assert!(!out_dir.exists(), "nothing written on bad input");

    let ok = run(&["--cohort", &c, "--from", "01/09/2026", "--to", &to]);
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(
        stdout.contains("2 dossier(s) de preuves écrit(s)"),
        "{stdout}"
    );
    let mut files: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    for f in &files {
        assert!(stdout.contains(f.as_str()));
    }
    let stays_pack = std::fs::read(
        out_dir.join(
            files
                .iter()
                .find(|f| f.contains(&format!("-{stays}-")))
                .unwrap(),
        ),
    )
    .unwrap();
    let (dir, names) = unpack(&stays_pack);
    // Issued in the name of the organism's administrator, since the command may.
    assert!(
        names.iter().any(|n| n == "certificat-de-realisation.pdf"),
        "{names:?}"
    );
    assert!(read(&dir, "LISEZMOI.txt").contains("en présentiel 3 h 30"));
    let leaves_pack = std::fs::read(
        out_dir.join(
            files
                .iter()
                .find(|f| f.contains(&format!("-{leaves}-")))
                .unwrap(),
        ),
    )
    .unwrap();
    let (dir, _) = unpack(&leaves_pack);
    assert!(read(&dir, "LISEZMOI.txt").contains("Aucune activité sur la période"));
}

/// The issue's "done when": the demo trainee (in-person and distance time) gets a pack from
/// the command line that opens, whose PDFs render, whose manifest verifies with
/// `sha256sum -c`, and whose hours are her dashboard's.
#[tokio::test]
async fn the_demo_trainees_pack_verifies_and_matches_her_dashboard() {
    let app = spawn_app().await;
    let env = base_env(app.dir.path(), &app.database_url);
    let parcours = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_parcours"))
            .args(args)
            .envs(&env)
            .output()
            .unwrap()
    };
    let demo = parcours(&["demo"]);
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let stdout = String::from_utf8_lossy(&demo.stdout).to_string();
    let line = stdout
        .lines()
        .find(|l| l.contains("assistante@cabinet-demo.fr"))
        .unwrap();
    let password = line.split_whitespace().last().unwrap().to_string();
    let (cohort, start): (i64, chrono::NaiveDate) = parcours::db::schema::cohorts::table
        .select((
            parcours::db::schema::cohorts::id,
            parcours::db::schema::cohorts::start_date,
        ))
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let out_dir = app.dir.path().join("exports");
    let (c, from, to) = (cohort.to_string(), fr(start), fr(today()));
    let out_arg = out_dir.to_string_lossy().to_string();
    let run = parcours(&[
        "export", "evidence", "--cohort", &c, "--from", &from, "--to", &to, "--out", &out_arg,
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let zip = std::fs::read_dir(&out_dir)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let (dir, names) = unpack(&std::fs::read(&zip).unwrap());
    let pdfs: Vec<&String> = names.iter().filter(|n| n.ends_with(".pdf")).collect();
    assert!(
        pdfs.len() >= 3,
        "certificate, a sheet, the distance summary: {names:?}"
    );
    for p in &pdfs {
        render(&dir.path().join(p));
    }
    assert!(names.iter().any(|n| n.starts_with("emargements/")));

    // Her dashboard, through the API, signed in with the demo's password.
    let token: serde_json::Value = client()
        .post(app.url("/api/v1/auth/token"))
        .json(&serde_json::json!({"email": "assistante@cabinet-demo.fr", "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hours: serde_json::Value = client()
        .get(app.url("/api/v1/me/hours"))
        .bearer_auth(token["token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sum = |key: &str| -> i64 {
        hours["modules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m[key].as_i64().unwrap_or(0))
            .sum()
    };
    let (distance, presence) = (sum("distance_secs"), sum("presentiel_secs"));
    assert!(distance > 0 && presence > 0, "{hours:#}");
    let fmt = |secs: i64| parcours::base::format::minutes(secs / 60);
    let readme = read(&dir, "LISEZMOI.txt");
    let expected = format!(
        "{} (à distance {}, en présentiel {})",
        fmt(distance + presence),
        fmt(distance),
        fmt(presence)
    );
    assert!(readme.contains(&expected), "{expected} in\n{readme}");
    let exchanges = read(&dir, "suivi/echanges.csv");
    assert!(
        exchanges.contains("renouvellement d'ordonnance"),
        "{exchanges}"
    );
}

/// The id of one of M1's activities, by its slug.
fn m1_activity(app: &TestApp, slug: &str) -> i64 {
    lessons::table
        .filter(lessons::module_id.eq(m1(app)))
        .filter(lessons::slug.eq(slug))
        .select(lessons::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

/// A formative quiz attempt on M1's first quiz, submitted at `at`.
fn quiz_attempt(app: &TestApp, trainee: i64, no: i32, at: chrono::NaiveDateTime, score: i32) {
    diesel::insert_into(evaluation_attempts::table)
        .values((
            evaluation_attempts::trainee_id.eq(trainee),
            evaluation_attempts::module_id.eq(m1(app)),
            evaluation_attempts::evaluation_hash.eq("test"),
            evaluation_attempts::attempt_no.eq(no),
            evaluation_attempts::status.eq("submitted"),
            evaluation_attempts::started_at.eq(at),
            evaluation_attempts::submitted_at.eq(at),
            evaluation_attempts::question_count.eq(10),
            evaluation_attempts::correct_count.eq(score / 10),
            evaluation_attempts::score_pct.eq(score),
            evaluation_attempts::passed.eq(score >= 70),
            evaluation_attempts::quiz.eq("01-role-et-limites"),
        ))
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();
}

#[tokio::test]
async fn evidence_pack_says_time_and_results_per_activity() {
    use parcours::db::schema::{activity_totals, assignment_submissions, study_sessions};
    let app = spawn_app().await;
    let org = organism(&app, "Institut Santé Formation");
    let (admin, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "direction@isf.fr").await;
    let (_, grader) = signed_in(&app, Role::Trainer, Some(org), "nadia@isf.fr").await;
    let cohort = app.create_cohort(org, "CQP-AM");
    let (_, trainee) = signed_in(&app, Role::Trainee, Some(org), "julie@cabinet.fr").await;
    app.enrol(org, cohort, trainee);
    study(&app, "julie@cabinet.fr", trainee).await;
    let lesson = m1_activity(&app, "01-role-assistant-parcours-sante");
    let assignment = m1_activity(&app, "01-missions-et-limites");
    let now = parcours::db::now();
    let august = chrono::NaiveDate::from_ymd_opt(2026, 8, 14)
        .unwrap()
        .and_hms_opt(9, 0, 0)
        .unwrap();
    {
        let mut conn = app.conn();
        let conn = &mut *conn as &mut DbConn;
        // Ten minutes on the lesson in August, before the period: in the running total only.
        diesel::insert_into(study_sessions::table)
            .values((
                study_sessions::trainee_id.eq(trainee),
                study_sessions::page_view.eq("aout"),
                study_sessions::module_id.eq(m1(&app)),
                study_sessions::lesson_id.eq(Some(lesson)),
                study_sessions::started_at.eq(august),
                study_sessions::last_beat_at.eq(august),
                study_sessions::last_seq.eq(20),
                study_sessions::seconds_credited.eq(600),
            ))
            .execute(conn)
            .unwrap();
        diesel::update(
            activity_totals::table
                .filter(activity_totals::trainee_id.eq(trainee))
                .filter(activity_totals::lesson_id.eq(lesson)),
        )
        .set(activity_totals::seconds.eq(activity_totals::seconds + 600))
        .execute(conn)
        .unwrap();
        // Two versions of an assignment, the second graded 15 / 20.
        for (no, status, points) in [(1, "revision_requested", None), (2, "graded", Some(15))] {
            diesel::insert_into(assignment_submissions::table)
                .values((
                    assignment_submissions::trainee_id.eq(trainee),
                    assignment_submissions::lesson_id.eq(assignment),
                    assignment_submissions::version_no.eq(no),
                    assignment_submissions::answer_text.eq("Ma réponse"),
                    assignment_submissions::submitted_at.eq(now),
                    assignment_submissions::status.eq(status),
                    assignment_submissions::graded_by.eq(Some(grader)),
                    assignment_submissions::graded_at.eq(Some(now)),
                    assignment_submissions::points.eq(points),
                    assignment_submissions::max_points.eq(points.map(|_| 20)),
                ))
                .execute(conn)
                .unwrap();
        }
    }
    // An attempt in August (outside), two in the period.
    quiz_attempt(&app, trainee, 1, august, 40);
    quiz_attempt(&app, trainee, 2, now, 60);
    quiz_attempt(&app, trainee, 3, now, 90);

    let url = app.url(&format!(
        "/stagiaires/{trainee}/preuves.zip?du=01/09/2026&au={}",
        fr(today())
    ));
    let (status, bytes) = get(&admin, url).await;
    assert_eq!(status, 200);
    let (dir, names) = unpack(&bytes);
    assert!(names.iter().any(|n| n == "distanciel/activites.csv"));
    let total: i64 = activity_totals::table
        .filter(activity_totals::trainee_id.eq(trainee))
        .filter(activity_totals::lesson_id.eq(lesson))
        .select(activity_totals::seconds)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let in_period = total - 600;
    assert!(in_period >= 80, "the heartbeats of today: {in_period}");
    let minutes = parcours::base::format::minutes;

    let csv = read(&dir, "distanciel/activites.csv");
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(';').collect()).collect();
    assert_eq!(rows.len(), 4, "lesson, quiz, assignment: {csv}");
    assert_eq!(rows[0][0], "Module");
    let seq = "Le rôle de l'assistant médical dans le parcours de santé";
    // In the programme's order: the lesson, the quiz, the assignment of the first sequence.
    let lesson_row = &rows[1];
    assert_eq!(lesson_row[0], "M1");
    assert_eq!(lesson_row[2], seq);
    assert_eq!(lesson_row[4], "Leçon");
    assert_eq!(lesson_row[7], minutes(in_period / 60), "{csv}");
    assert_eq!(lesson_row[8], minutes(total / 60), "{csv}");
    let quiz_row = &rows[2];
    assert_eq!(quiz_row[4], "Quiz");
    assert_eq!(quiz_row[9], "2", "the August attempt is outside: {csv}");
    assert_eq!(quiz_row[10], "90");
    assert_eq!(
        quiz_row[11],
        "n° 2 : 60 % (non réussie), n° 3 : 90 % (réussie)"
    );
    let work = &rows[3];
    assert_eq!(work[4], "Devoir");
    assert_eq!(
        &work[12..17],
        [
            "2",
            &parcours::base::format::datetime(now),
            "Noté",
            "15",
            "20"
        ]
    );

    let readme = read(&dir, "LISEZMOI.txt");
    assert!(
        readme.contains(&format!(
            "Activités : 3 activité(s) travaillée(s) sur la période, {} de temps à distance",
            minutes(in_period / 60)
        )),
        "{readme}"
    );
    assert!(
        readme.contains(
            "2 tentative(s) sur 1 quiz formatif(s) ; 1 devoir(s) rendu(s), dont 1 noté(s)"
        )
    );
    assert!(readme.contains("- distanciel/activites.csv : par activité travaillée"));
    assert!(readme.contains("« depuis le début » est le total courant"));
    // The module's final evaluation is no activity.
    assert!(!csv.contains("Évaluation"));
}
