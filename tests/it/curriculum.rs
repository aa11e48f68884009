//! Curriculum: the content checker, delivery to trainees, evaluations, preview, API.

use std::path::{Path, PathBuf};

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::curriculum::loader;
use parcours::db::schema::evaluation_attempts;

use crate::common::*;

fn content_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("content")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).unwrap();
        }
    }
}

/// A copy of the real content with one file edited.
fn broken(edit: &str, f: impl FnOnce(String) -> String) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&content_dir(), dir.path());
    let file = dir.path().join(edit);
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, f(text)).unwrap();
    (dir, file)
}

fn errors_of(dir: &Path) -> Vec<String> {
    match loader::load(dir) {
        Ok(_) => vec![],
        Err(e) => e.0.iter().map(|e| e.to_string()).collect(),
    }
}

const M1: &str = "cqp-assistant-medical/01-suivi-parcours-sante";

#[test]
fn the_real_content_checks_and_totals_266_and_112_hours() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_parcours"))
        .args(["content", "check"])
        .arg(content_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("CQP-AM — CQP Assistant médical : 266 h en 4 modules"),
        "{stdout}"
    );
    assert!(stdout.contains("FAE-AM"), "{stdout}");
    assert!(stdout.contains(": 112 h en 4 modules"), "{stdout}");
    let c = loader::load(&content_dir()).unwrap();
    for p in &c.programs {
        for m in &p.modules {
            let lessons = m
                .activities
                .iter()
                .filter(|a| a.kind == parcours::curriculum::rules::ActivityKind::Lesson)
                .count();
            assert!(lessons >= 4, "{} has {lessons} lessons", m.code);
            let q = m.evaluation.as_ref().map_or(0, |e| e.questions.len());
            assert!(q >= 8, "{} has {q} questions", m.code);
        }
    }
}

#[test]
fn module_hours_that_do_not_add_up_are_refused() {
    let (dir, _) = broken(&format!("{M1}/module.toml"), |t| {
        t.replace("planned_hours = 77", "planned_hours = 78")
            .replace("distance_hours = 35", "distance_hours = 36")
    });
    let errors = errors_of(dir.path());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("cqp-assistant-medical/program.toml:"),
        "{errors:?}"
    );
    assert!(errors[0].contains("les modules totalisent 267 h mais total_hours vaut 266 h"));
}

#[test]
fn a_duplicate_module_code_is_refused() {
    let (dir, _) = broken(
        "cqp-assistant-medical/02-accueil-administratif/module.toml",
        |t| t.replace("code = \"M2\"", "code = \"M1\""),
    );
    let errors = errors_of(dir.path());
    assert!(
        errors
            .iter()
            .any(|e| e.contains("code de module « M1 » en double")),
        "{errors:?}"
    );
}

#[test]
fn a_quiz_answer_that_does_not_exist_is_refused_with_its_line() {
    let (dir, file) = broken(&format!("{M1}/questions.toml"), |t| {
        t.replacen("correct = [\"b\"]", "correct = [\"z\"]", 1)
    });
    let text = std::fs::read_to_string(&file).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("correct = [\"z\"]"))
        .unwrap()
        + 1;
    let errors = errors_of(dir.path());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains(&format!("questions.toml:{line}:")),
        "{errors:?}"
    );
    assert!(errors[0].contains("la bonne réponse « z » n'existe pas"));
}

#[test]
fn a_lesson_without_a_title_is_refused() {
    let (dir, _) = broken(&format!("{M1}/lessons/02-examens-soins-courants.md"), |t| {
        let mut lines: Vec<&str> = t.lines().collect();
        lines.retain(|l| !l.starts_with("title ="));
        lines.join("\n")
    });
    let errors = errors_of(dir.path());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("02-examens-soins-courants.md:"));
    assert!(errors[0].contains("activité sans titre"), "{errors:?}");
}

#[test]
fn raw_html_in_a_lesson_is_refused_with_its_line() {
    let (dir, file) = broken(&format!("{M1}/lessons/03-coordination-parcours.md"), |t| {
        format!("{t}\n\nTexte <script>alert('x')</script>\n")
    });
    let line = std::fs::read_to_string(&file).unwrap().lines().count();
    let errors = errors_of(dir.path());
    assert!(!errors.is_empty());
    assert!(
        errors[0].contains(&format!("03-coordination-parcours.md:{line}:")),
        "{errors:?}"
    );
    assert!(errors[0].contains("HTML brut interdit"));
}

#[test]
fn every_activity_file_is_in_one_sequence_and_quizzes_ask_bank_questions() {
    // A lesson left out of module.toml is refused: it would never be shown.
    let (dir, _) = broken(&format!("{M1}/module.toml"), |t| {
        t.replacen("  \"lessons/03-coordination-parcours.md\",\n", "", 1)
    });
    let errors = errors_of(dir.path());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("lessons/03-coordination-parcours.md"),
        "{errors:?}"
    );
    assert!(
        errors[0].contains("ne figure dans aucune séquence"),
        "{errors:?}"
    );
    // A quiz naming a question the bank does not have.
    let quiz = std::fs::read_dir(content_dir().join(M1).join("quizzes"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name()
        .into_string()
        .unwrap();
    let (dir, _) = broken(&format!("{M1}/quizzes/{quiz}"), |t| {
        t.replacen("questions = [", "questions = [\"inconnue\", ", 1)
    });
    let errors = errors_of(dir.path());
    assert!(
        errors
            .iter()
            .any(|e| e.contains("la question « inconnue » n'est pas dans la banque")),
        "{errors:?}"
    );
    // An entry outside the module's activity folders.
    let (dir, _) = broken(&format!("{M1}/module.toml"), |t| {
        t.replacen(
            "activities = [",
            "activities = [\"../../program.toml\", ",
            1,
        )
    });
    let errors = errors_of(dir.path());
    assert!(
        errors
            .iter()
            .any(|e| e.contains("« ../../program.toml » n'est pas une activité")),
        "{errors:?}"
    );
}

#[test]
fn a_resource_is_checked_by_its_content_not_its_name() {
    let (dir, _) = broken(&format!("{M1}/module.toml"), |t| {
        t.replacen(
            "activities = [",
            "activities = [\"resources/video.toml\", ",
            1,
        )
    });
    let m1 = dir.path().join(M1);
    std::fs::create_dir_all(m1.join("resources")).unwrap();
    std::fs::write(
        m1.join("resources/video.toml"),
        "title = \"Le circuit du patient\"\nminutes = 8\nrequired = false\nfile = \"files/circuit.mp4\"\n",
    )
    .unwrap();
    // A text file named .mp4 is not a video.
    std::fs::write(m1.join("files/circuit.mp4"), "Ceci n'est pas une vidéo.").unwrap();
    let errors = errors_of(dir.path());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("« files/circuit.mp4 » : contenu refusé"),
        "{errors:?}"
    );
    // A real MP4 header passes, and the resource knows it is a video.
    let mut mp4 = vec![0, 0, 0, 0x18];
    mp4.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2mp41");
    std::fs::write(m1.join("files/circuit.mp4"), &mp4).unwrap();
    let c = loader::load(dir.path()).unwrap();
    let m = reference_module(&c, "M1");
    let (_, video) = m.activity("video").unwrap();
    assert_eq!(video.resource().unwrap().media.family(), "video");
    assert!(!video.required);
}

#[test]
fn the_shipped_modules_plan_their_distance_hours_activity_by_activity() {
    let c = loader::load(&content_dir()).unwrap();
    for p in &c.programs {
        for m in &p.modules {
            assert_eq!(m.duration_warning(), None, "{}", m.code);
            assert_eq!(m.required_minutes(), m.distance_hours * 60, "{}", m.code);
            let graded = m
                .activities
                .iter()
                .filter(|a| a.kind == parcours::curriculum::rules::ActivityKind::Assignment)
                .count();
            assert!(graded >= 2, "{} has {graded} assignments", m.code);
        }
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_parcours"))
        .args(["content", "check"])
        .arg(content_dir())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains(
            "à distance : 35 h prévues, activités obligatoires 35 h (évaluation comprise) ✓"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("✗"), "{stdout}");
}

#[test]
fn broken_toml_is_reported_with_its_line() {
    let (dir, _) = broken(&format!("{M1}/module.toml"), |t| {
        t.replace("order = 1", "order = = 1")
    });
    let errors = errors_of(dir.path());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("module.toml:3:"), "{errors:?}");
}

#[tokio::test]
async fn a_broken_content_folder_stops_the_start_with_the_file_and_reason() {
    let (content, _) = broken(&format!("{M1}/questions.toml"), |t| {
        t.replacen("correct = [\"b\"]", "correct = [\"z\"]", 1)
    });
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_parcours"))
        .arg("serve")
        .env("PARCOURS_BIND", "127.0.0.1:0")
        .env("PARCOURS_DATA_DIR", dir.path())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/p.db", dir.path().display()),
        )
        .env("PARCOURS_CONTENT_DIR", content.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("questions.toml:"), "{stderr}");
    assert!(stderr.contains("n'existe pas parmi les choix"), "{stderr}");
    assert!(!stderr.contains("panicked"));
}

fn evaluation(module: &str) -> parcours::curriculum::quiz::Quiz {
    let c = loader::load(&content_dir()).unwrap();
    reference_module(&c, module).evaluation.clone().unwrap()
}

/// How many required activities a module has, and how many activities in all.
fn activity_counts(module: &str) -> (usize, usize) {
    let c = loader::load(&content_dir()).unwrap();
    let m = reference_module(&c, module);
    (
        m.activities.iter().filter(|a| a.required).count(),
        m.activities.len(),
    )
}

async fn start(app: &TestApp, c: &reqwest::Client, module: &str) -> reqwest::Response {
    let path = format!("/programmes/CQP-AM/{module}/evaluation");
    c.post_form(app, &path, NO_FIELDS).await
}

#[tokio::test]
async fn a_trainee_reads_lessons_and_passes_an_evaluation_once_despite_a_double_click() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (c, trainee) = app.trainee_in(org, "CQP-AM", "eleve@a.fr").await;
    let res = c.get(app.url("/parcours")).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/programmes/CQP-AM");
    let html = c
        .get(app.url("/programmes/CQP-AM"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("M1 · Suivi du parcours de santé du patient"));
    assert!(html.contains("77 h"));
    let (required, all) = activity_counts("M1");
    assert!(html.contains(&format!("0 / {required} activités obligatoires terminées")));

    let lesson = "/programmes/CQP-AM/M1/activites/01-role-assistant-parcours-sante";
    let html = c
        .get(app.url(lesson))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Le rôle de l&#x27;assistant médical dans le parcours de santé"));
    assert!(html.contains(&format!("activité 1 sur {all}")));
    assert!(html.contains("<h2>Pourquoi ce métier a été créé</h2>"));
    assert!(html.contains("rel=\"next\""));
    assert!(!html.contains("Activité terminée ✓"));
    for _ in 0..2 {
        let res = c
            .post_form_of(&app, &html, &format!("{lesson}/terminee"), NO_FIELDS)
            .await;
        assert_eq!(res.status(), 303);
    }
    let page = c.get(app.url(lesson)).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("Activité terminée ✓"));
    let html = c
        .get(app.url("/programmes/CQP-AM"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!("1 / {required} activités obligatoires terminées")),
        "done once"
    );

    // Start twice (double click): one attempt.
    let first = start(&app, &c, "M1").await;
    let second = start(&app, &c, "M1").await;
    assert_eq!(first.headers()["location"], second.headers()["location"]);
    let attempt_url = first.headers()["location"].to_str().unwrap().to_string();
    let page = c
        .get(app.url(&attempt_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let attempt_id: i64 = attempt_url
        .trim_start_matches("/tentatives/")
        .parse()
        .unwrap();
    let form = right_answers(&evaluation("M1"), attempt_id);
    for _ in 0..2 {
        let res = c.post_form_of(&app, &page, &attempt_url, &form).await;
        assert_eq!(res.status(), 303);
    }
    let result = c
        .get(app.url(&attempt_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(result.contains("Évaluation réussie"), "{result}");
    assert!(result.contains("Score : 100 %"));
    let rows: Vec<(String, Option<i32>)> = evaluation_attempts::table
        .filter(evaluation_attempts::trainee_id.eq(trainee))
        .select((evaluation_attempts::status, evaluation_attempts::score_pct))
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(rows, [("submitted".to_string(), Some(100))]);
    let html = c
        .get(app.url("/programmes/CQP-AM"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("évaluation réussie"));
}

#[tokio::test]
async fn bad_answers_and_other_trainees_attempts_change_nothing() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (alice, _) = app.trainee_in(org, "CQP-AM", "alice@a.fr").await;
    let (bob, _) = app.trainee_in(org, "CQP-AM", "bob@a.fr").await;
    let attempt_url = start(&app, &alice, "M3").await.headers()["location"]
        .to_str()
        .unwrap()
        .to_string();
    // Bob answers Alice's attempt: for him it does not exist.
    let res = bob.post_form(&app, &attempt_url, &[("q1", "a")]).await;
    assert_eq!(res.status(), 404);
    assert_eq!(
        bob.get(app.url(&attempt_url))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // Unknown question, unknown answer.
    for (q, a, msg) in [
        ("q99", "a", "La question « q99 » n&#x27;existe pas."),
        ("q1", "z", "n&#x27;existe pas pour la question"),
    ] {
        let res = alice.post_form(&app, &attempt_url, &[(q, a)]).await;
        assert_eq!(res.status(), 422);
        assert!(res.text().await.unwrap().contains(msg));
    }
    let status: Vec<String> = evaluation_attempts::table
        .select(evaluation_attempts::status)
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(status, ["open"], "still open, nothing recorded");
    // Use up the three attempts with wrong answers, then a fourth is refused.
    for _ in 0..3 {
        let url = start(&app, &alice, "M3").await.headers()["location"]
            .to_str()
            .unwrap()
            .to_string();
        alice.post_form(&app, &url, NO_FIELDS).await;
    }
    let res = start(&app, &alice, "M3").await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Vous avez utilisé vos 3 tentatives")
    );
    let n: i64 = evaluation_attempts::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(n, 3);
}

#[tokio::test]
async fn staff_preview_pages_and_others_are_kept_out() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (trainer, _) = signed_in(&app, Role::Trainer, Some(org), "formateur@a.fr").await;
    let (doctor, _) = signed_in(&app, Role::Doctor, None, "dr@a.fr").await;
    let (fae, _) = app.trainee_in(org, "FAE-AM", "infirmiere@a.fr").await;
    let lesson = "/programmes/CQP-AM/M4/activites/01-constantes-vitales";
    let lesson = {
        let c = loader::load(&content_dir()).unwrap();
        let slug = reference_module(&c, "M4").activities[0].slug.clone();
        if lesson.ends_with(&slug) {
            lesson.to_string()
        } else {
            format!("/programmes/CQP-AM/M4/activites/{slug}")
        }
    };
    let html = trainer
        .get(app.url(&lesson))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Aperçu : vous voyez cette page comme un stagiaire"));
    let eval = trainer
        .get(app.url("/programmes/CQP-AM/M4/evaluation"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(eval.contains("(bonne réponse)"), "staff see the answers");
    assert_eq!(start(&app, &trainer, "M4").await.status(), 403);
    assert_eq!(
        doctor.get(app.url(&lesson)).send().await.unwrap().status(),
        403
    );
    assert_eq!(
        fae.get(app.url(&lesson)).send().await.unwrap().status(),
        403,
        "not their programme"
    );
    assert_eq!(
        fae.get(app.url("/programmes/FAE-AM"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let html = fae
        .get(app.url("/programmes/FAE-AM/F1/evaluation"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains("(bonne réponse)"),
        "trainees do not see the answers"
    );
    assert_eq!(
        trainer
            .get(app.url("/programmes/CQP-AM/M9"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn the_api_serves_programmes_and_records_attempts() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (_c, _) = app.trainee_in(org, "CQP-AM", "api@a.fr").await;
    let token: serde_json::Value = client()
        .post(app.url("/api/v1/auth/token"))
        .json(&serde_json::json!({"email": "api@a.fr", "password": "mot-de-passe-solide"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap().to_string();
    let api = client();
    let list: serde_json::Value = api
        .get(app.url("/api/v1/programs"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hours: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["total_hours"].as_i64().unwrap())
        .collect();
    assert_eq!(hours, [266, 112]);
    let e: serde_json::Value = api
        .get(app.url("/api/v1/programs/CQP-AM/modules/M2/evaluation"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        !e.to_string().contains("\"correct\""),
        "no answers before submission"
    );
    let res = api
        .post(app.url("/api/v1/programs/CQP-AM/modules/M2/evaluation/attempts"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let started: serde_json::Value = res.json().await.unwrap();
    let id = started["attempt"]["id"].as_i64().unwrap();
    let mut answers: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (q, a) in right_answers(&evaluation("M2"), id) {
        answers.entry(q).or_default().push(a);
    }
    let res = api
        .post(app.url(&format!("/api/v1/attempts/{id}/submit")))
        .bearer_auth(&token)
        .json(&serde_json::json!({"answers": {"q1": ["nope"]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_input");
    let done: serde_json::Value = api
        .post(app.url(&format!("/api/v1/attempts/{id}/submit")))
        .bearer_auth(&token)
        .json(&serde_json::json!({"answers": answers}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(done["score_pct"], 100);
    assert_eq!(done["passed"], true);
    // A page session calling the API must send the CSRF header.
    let (page, _) = app.trainee_in(org, "CQP-AM", "page@a.fr").await;
    let res = page
        .post(app.url("/api/v1/programs/CQP-AM/modules/M2/evaluation/attempts"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn a_content_change_makes_a_new_version_and_keeps_progress() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (c, trainee) = app.trainee_in(org, "CQP-AM", "v@a.fr").await;
    let lesson = "/programmes/CQP-AM/M1/activites/01-role-assistant-parcours-sante";
    c.post_form(&app, &format!("{lesson}/terminee"), NO_FIELDS)
        .await;
    let (dir, _) = broken(
        &format!("{M1}/lessons/01-role-assistant-parcours-sante.md"),
        |t| t.replace("title = \"Le rôle", "title = \"Nouveau titre : le rôle"),
    );
    std::fs::remove_file(
        dir.path()
            .join(format!("{M1}/lessons/06-campagnes-sante-publique.md")),
    )
    .unwrap();
    // The lesson leaves its sequence too.
    let module_toml = dir.path().join(format!("{M1}/module.toml"));
    let text = std::fs::read_to_string(&module_toml).unwrap();
    std::fs::write(
        &module_toml,
        text.replace("  \"lessons/06-campagnes-sante-publique.md\",\n", ""),
    )
    .unwrap();
    let mut conn = app.conn();
    let before = parcours::curriculum::store::version_count(&mut conn, "CQP-AM").unwrap();
    let blobs_dir = tempfile::tempdir().unwrap();
    let blobs = parcours::objects::folder(blobs_dir.path()).unwrap();
    let sync = |conn: &mut parcours::db::DbConn, c: &parcours::curriculum::Curriculum| {
        use parcours::curriculum::{authoring::manifest, versions};
        let p = c.program("CQP-AM").unwrap();
        let files = manifest::from_dir(&blobs, &p.dir).unwrap();
        let row = versions::sync_reference(conn, p, &files).unwrap();
        versions::ids(conn, row.program_id, p).unwrap()
    };
    let old_ids = sync(&mut conn, &loader::load(&content_dir()).unwrap());
    let changed = loader::load(dir.path());
    let changed = match changed {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    let new_ids = sync(&mut conn, &changed);
    assert_eq!(before, 1);
    assert_eq!(
        parcours::curriculum::store::version_count(&mut conn, "CQP-AM").unwrap(),
        2
    );
    let key = (
        "M1".to_string(),
        "01-role-assistant-parcours-sante".to_string(),
    );
    assert_eq!(
        old_ids.activities[&key], new_ids.activities[&key],
        "same lesson row"
    );
    let done = parcours::curriculum::store::completed_lessons(&mut conn, trainee).unwrap();
    assert!(done.contains(&new_ids.activities[&key]), "progress kept");
    use parcours::db::schema::lessons;
    let retired: bool = lessons::table
        .filter(lessons::slug.eq("06-campagnes-sante-publique"))
        .select(lessons::retired)
        .first(&mut *conn)
        .unwrap();
    assert!(retired, "a removed lesson is retired, not deleted");
    // Syncing the same content again makes no new version.
    sync(&mut conn, &changed);
    assert_eq!(
        parcours::curriculum::store::version_count(&mut conn, "CQP-AM").unwrap(),
        2
    );
}

#[tokio::test]
async fn a_programme_exported_as_a_zip_is_checked_as_it_was() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (admin, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "admin@a.fr").await;
    let res = admin
        .get(app.url("/programmes/CQP-AM/archive.zip"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/zip");
    let bytes = res.bytes().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("CQP-AM.zip");
    std::fs::write(&zip, &bytes).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_parcours"))
        .args(["content", "check"])
        .arg(&zip)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("CQP-AM — CQP Assistant médical : 266 h en 4 modules"),
        "{stdout}"
    );
    assert!(!stdout.contains("FAE-AM"), "one programme only: {stdout}");
    assert!(stdout.contains("Contenu valide."), "{stdout}");

    // An archive that writes outside its folder is refused before anything is read.
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file(
        "../../programme.toml",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    std::io::Write::write_all(&mut w, b"code = \"X\"").unwrap();
    let evil = dir.path().join("evil.zip");
    std::fs::write(&evil, w.finish().unwrap().into_inner()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_parcours"))
        .args(["content", "check"])
        .arg(&evil)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("« ../../programme.toml » : chemin refusé"),
        "{stderr}"
    );
    // A trainee cannot take the programme away.
    let (trainee, _) = app.trainee_in(org, "CQP-AM", "t@a.fr").await;
    let res = trainee
        .get(app.url("/programmes/CQP-AM/archive.zip"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}
