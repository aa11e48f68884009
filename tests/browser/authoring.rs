//! Issue #18 in a browser: an organism admin copies the reference CQP and names a trainer
//! author; she adds a video, a quiz and an assignment in a new sequence of M1, previews the
//! draft and publishes version 2; a trainee of a cohort on that version watches the video on
//! her phone, passes the quiz and hands in the assignment; the trainer grades it; the
//! dashboard, the funders' export and the evidence pack show the new activities; another
//! organism sees none of it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use fantoccini::Locator;
use parcours::accounts::Role;
use serde_json::Value;

use crate::common::*;
use crate::driver::{Browser, DESKTOP, PASSWORD, PHONE};

const CODE: &str = "CQP-LYON";
const MODULE_DIR: &str = "01-suivi-parcours-sante";
const SEQUENCE: &str = "Accueillir en vidéo";
const VIDEO: (&str, &str) = ("20-video-accueil", "L'accueil filmé");
const QUIZ: (&str, &str) = ("21-quiz-accueil", "Quiz — l'accueil");
const ASSIGNMENT: (&str, &str) = ("22-devoir-accueil", "Devoir — votre accueil");
const FEEDBACK: &str = "Accueil clair et bienveillant, bravo.";

/// A small real MP4: an `ftyp` box then padding, as the upload check reads it.
fn mp4() -> Vec<u8> {
    let mut v = vec![0, 0, 0, 0x18];
    v.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2mp41");
    v.extend_from_slice(&[0u8; 2048]);
    v
}

async fn select(b: &Browser, id: &str, value: &str) {
    b.find(Locator::Id(id))
        .await
        .select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("no option {value} in #{id}: {e}"));
}

async fn click_css(b: &Browser, css: &str) {
    b.find(Locator::Css(css)).await.click().await.unwrap();
}

/// Fills the "Ajouter une activité" form of the editor and sends it.
async fn add_activity(b: &Browser, sequence: &str, kind: &str, (slug, title): (&str, &str)) {
    b.goto(&format!("/auteur/programmes/{CODE}")).await;
    b.wait_title(&format!("Brouillon {CODE}")).await;
    select(b, "add-module", MODULE_DIR).await;
    select(b, "add-sequence", sequence).await;
    if sequence == "nouvelle" {
        b.fill("add-seqtitle", SEQUENCE).await;
    }
    select(b, "add-kind", kind).await;
    b.fill("add-slug", slug).await;
    b.fill("add-title", title).await;
    b.fill("add-minutes", "6").await;
    if kind == "resource" {
        select(b, "add-file", "files/accueil-patient.mp4").await;
    }
    b.button("Ajouter au brouillon")
        .await
        .click()
        .await
        .unwrap();
    b.wait_text("p.notice", "Activité ajoutée au brouillon")
        .await;
}

/// The text a same-origin GET answers, with its status.
async fn fetch_text(b: &Browser, path: &str) -> (u16, String) {
    b.js(&format!(
        "return fetch('{path}').then(r => r.text().then(t => [r.status, t]))"
    ))
    .await
}

async fn status(b: &Browser, path: &str) -> u16 {
    b.js(&format!("return fetch('{path}').then(r => r.status)"))
        .await
}

/// The rows of a `;`-separated CSV (byte-order mark dropped), header included.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// The row whose column `col` is `value`, as a map from the header's names.
fn row_of<'a>(rows: &'a [Vec<String>], col: &str, value: &str) -> HashMap<&'a str, &'a str> {
    let header = &rows[0];
    let i = header
        .iter()
        .position(|h| h == col)
        .unwrap_or_else(|| panic!("no column {col}: {header:?}"));
    let row = rows[1..]
        .iter()
        .find(|r| r[i] == value)
        .unwrap_or_else(|| panic!("no line for {value}: {rows:?}"));
    header
        .iter()
        .map(String::as_str)
        .zip(row.iter().map(String::as_str))
        .collect()
}

/// The right choices of the first five questions of M1's bank, which the new quiz asks.
fn quiz_answers() -> Vec<(String, Vec<String>)> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("content/cqp-assistant-medical")
        .join(MODULE_DIR)
        .join("questions.toml");
    let bank: toml::Table = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    bank["questions"]
        .as_array()
        .unwrap()
        .iter()
        .take(5)
        .map(|q| {
            let kind = q["kind"].as_str().unwrap();
            assert!(
                ["single", "multiple", "true_false"].contains(&kind),
                "the first questions of the bank are choice questions: {kind}"
            );
            let correct = q["correct"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_string())
                .collect();
            (q["id"].as_str().unwrap().to_string(), correct)
        })
        .collect()
}

/// Enrols a trainee in the cohort from today, with a profile.
fn enrol_today(app: &TestApp, org: i64, cohort: i64, trainee: i64) {
    use parcours::cohorts::store as cs;
    let mut conn = app.conn();
    cs::create_profile(
        &mut conn,
        &cs::NewProfile {
            user_id: trainee,
            organism_id: org,
            profile: "aucun",
            hire_date: chrono::NaiveDate::from_ymd_opt(2025, 1, 15).unwrap(),
            funding: "proa",
            employer_id: None,
        },
    )
    .unwrap();
    cs::enrol(
        &mut conn,
        None,
        org,
        cohort,
        trainee,
        parcours::base::paris::today(),
    )
    .unwrap();
}

#[tokio::test]
async fn an_author_publishes_new_activities_a_trainee_does_them_and_the_reports_show_them() {
    let started = Instant::now();
    // Short study beats, so that a minute on the video counts within the test.
    let app = spawn_app_with(|env| {
        env.insert("PARCOURS_BEAT_SECONDS".into(), "2".into());
    })
    .await;
    let org = app.create_organism("Institut Santé Plus");
    let other_org = app.create_organism("Organisme Voisin");
    let admin_email = "direction@isp.fr";
    app.create_user(Role::OrganismAdmin, Some(org), admin_email, PASSWORD);
    let trainer_id = app.create_user(Role::Trainer, Some(org), "formatrice@isp.fr", PASSWORD);
    let trainee_email = "lea@cabinet.fr";
    let trainee_id = app.create_user(Role::Trainee, Some(org), trainee_email, PASSWORD);
    app.create_user(
        Role::OrganismAdmin,
        Some(other_org),
        "direction@voisin.fr",
        PASSWORD,
    );

    // 1. The admin copies the reference CQP and names the trainer author.
    let admin = Browser::start(DESKTOP, &app.address).await;
    admin.sign_in(admin_email).await;
    admin.goto(&format!("/organismes/{org}/programmes")).await;
    admin.wait_title("Programmes —").await;
    admin.check_page("authoring-programmes").await;
    select(&admin, "source", "CQP-AM").await;
    admin.fill("code", CODE).await;
    admin.fill("title", "CQP de Lyon").await;
    admin.button("Créer la copie").await.click().await.unwrap();
    admin.wait_title(&format!("Brouillon {CODE}")).await;
    assert_eq!(admin.path().await, format!("/auteur/programmes/{CODE}"));
    admin.goto(&format!("/organismes/{org}/programmes")).await;
    admin.wait_text("td", CODE).await;
    let ticked: bool = admin
        .js(&format!(
            "return document.getElementById('author-{trainer_id}').checked"
        ))
        .await;
    assert!(!ticked, "the trainer is no author yet");
    click_css(&admin, &format!("#author-{trainer_id}")).await;
    admin
        .button("Enregistrer les auteurs")
        .await
        .click()
        .await
        .unwrap();
    admin
        .wait_text("p.notice", "Les auteurs sont enregistrés.")
        .await;
    let ticked: bool = admin
        .js(&format!(
            "return document.getElementById('author-{trainer_id}').checked"
        ))
        .await;
    assert!(ticked, "the trainer is an author now");

    // 2. The trainer uploads a video, adds three activities in a new sequence, previews, publishes.
    let trainer = Browser::start(DESKTOP, &app.address).await;
    trainer.sign_in("formatrice@isp.fr").await;
    trainer.goto(&format!("/auteur/programmes/{CODE}")).await;
    trainer.wait_title(&format!("Brouillon {CODE}")).await;
    trainer.check_page("authoring-editor").await;
    let video_file = app.dir.path().join("accueil-patient.mp4");
    std::fs::write(&video_file, mp4()).unwrap();
    trainer
        .find(Locator::Id(&format!("up-{MODULE_DIR}")))
        .await
        .send_keys(&video_file.display().to_string())
        .await
        .unwrap();
    click_css(
        &trainer,
        &format!("form[action$='/modules/{MODULE_DIR}/fichiers'] button"),
    )
    .await;
    trainer
        .wait_text("p.notice", "Fichier envoyé dans le module.")
        .await;
    trainer
        .wait_text("li", &format!("{MODULE_DIR}/files/accueil-patient.mp4"))
        .await;
    add_activity(&trainer, "nouvelle", "resource", VIDEO).await;
    let (last, label): (String, String) = trainer
        .js(&format!(
            "const o = [...document.querySelectorAll('#add-sequence option')]\
               .filter(o => o.value.startsWith('{MODULE_DIR}|')).pop();\
             return [o.value, o.textContent];"
        ))
        .await;
    assert!(
        label.contains(SEQUENCE),
        "the new sequence is last: {label}"
    );
    add_activity(&trainer, &last, "quiz", QUIZ).await;
    add_activity(&trainer, &last, "assignment", ASSIGNMENT).await;
    trainer
        .link("Voir le brouillon comme un stagiaire")
        .await
        .click()
        .await
        .unwrap();
    trainer
        .wait_until(
            "the draft's preview",
            "return document.readyState === 'complete' && location.pathname === arguments[0]",
            vec![Value::from(format!("/auteur/apercu/{CODE}"))],
        )
        .await;
    trainer.goto(&format!("/auteur/apercu/{CODE}/M1")).await;
    trainer.wait_text("a", VIDEO.1).await;
    trainer.check_page("authoring-preview-module").await;
    let links: Vec<String> = trainer
        .js("return [...document.querySelectorAll('li.activity a')].map(a => a.textContent.trim())")
        .await;
    for (_, title) in [VIDEO, QUIZ, ASSIGNMENT] {
        assert!(
            links.iter().any(|l| l == title),
            "{title} in the preview: {links:?}"
        );
    }
    let text: String = trainer.js("return document.body.innerText").await;
    assert!(text.contains(SEQUENCE), "the new sequence's title: {text}");
    trainer.goto(&format!("/auteur/programmes/{CODE}")).await;
    trainer.wait_title(&format!("Brouillon {CODE}")).await;
    trainer
        .button("Publier une nouvelle version")
        .await
        .click()
        .await
        .unwrap();
    trainer.wait_text("p.notice", "Version 2 publiée.").await;
    trainer.check_page("authoring-published").await;

    // 3. A cohort on the programme, created on the promotions page: it starts on version 2.
    admin.goto(&format!("/organismes/{org}/promotions")).await;
    admin.wait_title("Promotions —").await;
    let offered: Vec<String> = admin
        .js("return [...document.querySelectorAll('#program option')].map(o => o.value)")
        .await;
    assert!(
        offered.iter().any(|v| v == CODE),
        "the copy is offered: {offered:?}"
    );
    admin.fill("name", "Promotion Lyon 2027").await;
    select(&admin, "program", CODE).await;
    let today = parcours::base::paris::today();
    let end = today + chrono::Months::new(11);
    let _: Value = admin
        .js(&format!(
            "document.getElementById('start_date').value = '{today}';\
             document.getElementById('end_date').value = '{end}'; return null"
        ))
        .await;
    admin
        .button("Créer la promotion")
        .await
        .click()
        .await
        .unwrap();
    admin.wait_title("Promotion Lyon 2027").await;
    let cohort: i64 = admin
        .path()
        .await
        .trim_start_matches("/promotions/")
        .parse()
        .expect("the cohort's page");
    // Enrolment through the test app: the UI's way is a CSV import.
    enrol_today(&app, org, cohort, trainee_id);

    // 4. The trainee, on her phone: the video, the quiz, the assignment.
    let phone = Browser::start(PHONE, &app.address).await;
    phone.sign_in(trainee_email).await;
    phone.goto(&format!("/programmes/{CODE}/M1")).await;
    phone.link(VIDEO.1).await.click().await.unwrap();
    phone.wait_title(VIDEO.1).await;
    phone.check_page("authoring-trainee-video").await;
    let src: String = phone
        .js("const v = document.querySelector('video source'); return v ? v.getAttribute('src') : ''")
        .await;
    assert!(
        src.starts_with(&format!("/programmes/{CODE}/M1/fichiers/")) && src.ends_with(".mp4"),
        "the video's source: {src}"
    );
    let (code, kind): (u16, String) = phone
        .js(&format!(
            "return fetch('{src}', {{headers: {{Range: 'bytes=0-9'}}}})\
               .then(r => [r.status, r.headers.get('content-type')])"
        ))
        .await;
    assert_eq!(
        (code, kind.as_str()),
        (206, "video/mp4"),
        "the video streams"
    );
    // The padded MP4 holds no frame to play: the trainee stays on the page, using it, until a
    // minute of study counts.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let shown: String = phone
            .js("window.scrollBy(0, 20); window.scrollBy(0, -20); window.dispatchEvent(new Event('scroll'));\
                 const s = document.getElementById('study-time'); return s ? s.textContent : ''")
            .await;
        if shown.contains("min d'étude") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no minute of study counted: « {shown} »"
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    phone
        .button("J'ai terminé cette activité")
        .await
        .click()
        .await
        .unwrap();
    phone.wait_text("p.notice", "Activité terminée").await;

    phone.goto(&format!("/programmes/{CODE}/M1")).await;
    phone.link(QUIZ.1).await.click().await.unwrap();
    phone.wait_title(QUIZ.1).await;
    phone.check_page("authoring-trainee-quiz").await;
    phone
        .button("Commencer une tentative")
        .await
        .click()
        .await
        .unwrap();
    phone.wait_text("button", "Valider mes réponses").await;
    let answers = quiz_answers();
    let shown: Vec<String> = phone
        .js("return [...new Set([...document.querySelectorAll('form.quiz input[name]')].map(i => i.name))].filter(n => n !== 'csrf_token')")
        .await;
    let mut asked: Vec<&str> = answers.iter().map(|(q, _)| q.as_str()).collect();
    let mut shown_sorted: Vec<&str> = shown.iter().map(String::as_str).collect();
    asked.sort_unstable();
    shown_sorted.sort_unstable();
    assert_eq!(
        shown_sorted, asked,
        "the quiz asks the bank's first five questions"
    );
    phone.check_page("authoring-trainee-attempt").await;
    for (question, choices) in &answers {
        for choice in choices {
            click_css(&phone, &format!("#{question}-{choice}")).await;
        }
    }
    phone
        .button("Valider mes réponses")
        .await
        .click()
        .await
        .unwrap();
    phone.wait_text("h2", "Quiz réussi").await;

    phone.goto(&format!("/programmes/{CODE}/M1")).await;
    phone.link(ASSIGNMENT.1).await.click().await.unwrap();
    phone.wait_title(ASSIGNMENT.1).await;
    phone.check_page("authoring-trainee-assignment").await;
    phone
        .fill(
            "answer",
            "J'accueille le patient par son nom et je vérifie son dossier.",
        )
        .await;
    phone
        .button("Rendre ma version 1")
        .await
        .click()
        .await
        .unwrap();
    phone.wait_text("h3", "Version 1").await;

    // 5. The trainer grades it from the cohort's assignments, full marks.
    trainer.goto(&format!("/promotions/{cohort}/devoirs")).await;
    trainer.wait_title("Devoirs").await;
    trainer.link(ASSIGNMENT.1).await.click().await.unwrap();
    trainer
        .wait_title(&format!("Correction · {}", ASSIGNMENT.1))
        .await;
    trainer.check_page("authoring-grading").await;
    let criteria: Vec<(String, String)> = trainer
        .js("return [...document.querySelectorAll('form input[type=number]')].map(i => [i.id, i.max])")
        .await;
    assert_eq!(
        criteria.len(),
        2,
        "the template's two criteria: {criteria:?}"
    );
    for (id, max) in &criteria {
        trainer.fill(id, max).await;
    }
    trainer.fill("feedback", FEEDBACK).await;
    trainer.button("Noter").await.click().await.unwrap();
    trainer
        .wait_text("p.notice", "Cette version est corrigée")
        .await;
    trainer.wait_text("h3", "Note : 10 / 10").await;

    // 6. The trainee's dashboard shows the new activities and their results.
    phone.goto("/tableau-de-bord").await;
    phone.wait_text("h2", "Activités").await;
    phone.check_page("authoring-trainee-dashboard").await;
    let lines: Vec<Vec<String>> = phone
        .js(
            "return [...document.querySelectorAll('section[aria-labelledby=act-title] tbody tr')]\
               .map(r => [...r.cells].map(c => c.textContent.trim()))",
        )
        .await;
    let line = |title: &str| {
        lines
            .iter()
            .find(|l| l[0] == title)
            .unwrap_or_else(|| panic!("{title} on the dashboard: {lines:?}"))
            .clone()
    };
    let video_line = line(VIDEO.1);
    assert!(
        video_line[2] != "0 h 00" && !video_line[2].is_empty(),
        "time spent on the video: {video_line:?}"
    );
    let quiz_line = line(QUIZ.1);
    assert!(
        quiz_line[4].starts_with("Réussi, meilleur score 100 %"),
        "{quiz_line:?}"
    );
    let assignment_line = line(ASSIGNMENT.1);
    assert!(
        assignment_line[4].ends_with("10 / 10"),
        "{assignment_line:?}"
    );

    // The funders' export of the organism: a line per new activity, with time and grade.
    admin
        .goto(&format!("/organismes/{org}/financeurs?promotion={cohort}"))
        .await;
    admin.wait_title("Export financeurs").await;
    admin.wait_text("a", "Activités (CSV)").await;
    let (code, csv) = fetch_text(
        &admin,
        &format!("/organismes/{org}/financeurs.csv?promotion={cohort}&partie=activites"),
    )
    .await;
    assert_eq!(code, 200, "{csv}");
    let rows = csv_rows(&csv);
    let v = row_of(&rows, "Activité", VIDEO.1);
    assert_eq!(v["Séquence"], SEQUENCE);
    assert!(!v["Stagiaire"].is_empty());
    assert_ne!(
        v["Temps passé sur la période (h)"], "0,00",
        "the minute on the video: {v:?}"
    );
    let q = row_of(&rows, "Activité", QUIZ.1);
    assert_eq!(
        (q["Tentatives de quiz"], q["Meilleur score (%)"]),
        ("1", "100")
    );
    let a = row_of(&rows, "Activité", ASSIGNMENT.1);
    assert_eq!((a["Points du devoir"], a["Sur"]), ("10", "10"), "{a:?}");

    // The trainee's evidence pack, downloaded by staff (the dates its form on the trainee's
    // page sends): the activity lines with the grade.
    let zip_b64: String = admin
        .js(&format!(
            "return fetch('/stagiaires/{trainee_id}/preuves.zip?du={today}&au={today}')\
               .then(r => r.ok ? r.arrayBuffer() : r.text().then(t => {{ throw new Error(r.status + ' ' + t); }}))\
               .then(b => {{\
               const a = new Uint8Array(b); let s = '';\
               for (let i = 0; i < a.length; i += 0x8000) s += String.fromCharCode.apply(null, a.subarray(i, i + 0x8000));\
               return btoa(s); }})"
        ))
        .await;
    let zip_bytes = base64::engine::general_purpose::STANDARD
        .decode(zip_b64)
        .unwrap();
    let mut pack = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes)).expect("a ZIP");
    let mut activities = String::new();
    std::io::Read::read_to_string(
        &mut pack
            .by_name("distanciel/activites.csv")
            .expect("distanciel/activites.csv in the pack"),
        &mut activities,
    )
    .unwrap();
    let rows = csv_rows(&activities);
    let v = row_of(&rows, "Activité", VIDEO.1);
    assert_ne!(v["Temps passé sur la période"], "0 h 00", "{v:?}");
    let q = row_of(&rows, "Activité", QUIZ.1);
    assert_eq!(q["Meilleur score (%)"], "100", "{q:?}");
    let a = row_of(&rows, "Activité", ASSIGNMENT.1);
    assert_eq!(
        (a["Devoir : points"], a["Devoir : sur"]),
        ("10", "10"),
        "{a:?}"
    );

    // Another organism's admin knows nothing of the programme.
    trainer.sign_out().await;
    trainer.sign_in("direction@voisin.fr").await;
    for path in [
        format!("/auteur/programmes/{CODE}"),
        format!("/programmes/{CODE}"),
    ] {
        assert_eq!(status(&trainer, &path).await, 404, "{path}");
    }
    let (code, list) = fetch_text(&trainer, "/parcours").await;
    assert_eq!(code, 200);
    assert!(list.contains("CQP-AM"), "the list shows the reference");
    assert!(!list.contains(CODE), "nor the copy's code");
    eprintln!(
        "authoring scenario: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
