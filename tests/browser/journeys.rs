//! Journeys through the pages that exist today, as a person does them in a browser.

use std::path::Path;

use fantoccini::Locator;
use fantoccini::key::Key;
use parcours::accounts::Role;
use parcours::curriculum::loader;
use parcours::curriculum::quiz::QuestionKind;
use parcours::curriculum::rules::{Activity, ActivityKind, Curriculum, Module, Program};

use crate::common::*;
use crate::driver::{Browser, DESKTOP, PASSWORD, PHONE, Size};

fn curriculum() -> Curriculum {
    loader::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("content")).unwrap()
}

fn m1(c: &Curriculum) -> (&Program, &Module, &Activity) {
    let program = c.program("CQP-AM").unwrap();
    let module = program.module("M1").unwrap();
    let first = &module.activities[0];
    assert_eq!(first.kind, ActivityKind::Lesson, "M1 opens with a lesson");
    (program, module, first)
}

fn required(m: &Module) -> usize {
    m.activities.iter().filter(|a| a.required).count()
}

/// Signs in through the login form; `page` names the login page's screenshot, if any.
async fn sign_in(b: &Browser, email: &str, page: Option<&str>) {
    b.goto("/connexion").await;
    b.wait_title("Connexion").await;
    match page {
        Some(page) => b.check_page(page).await,
        None => b.assert_accessible("login").await,
    }
    b.fill("email", email).await;
    b.fill("password", PASSWORD).await;
    b.button("Se connecter").await.click().await.unwrap();
    b.wait_title("Accueil").await;
    assert_eq!(b.path().await, "/");
    b.wait_text("h1", &format!("Bonjour Personne {email}"))
        .await;
}

async fn a_trainee_passes_module_1(size: Size) {
    let app = spawn_app().await;
    let org = app.create_organism("Institut Santé Plus");
    let email = "camille.martin@exemple.fr";
    app.trainee_in(org, "CQP-AM", email).await;
    let content = curriculum();
    let (program, module, lesson) = m1(&content);
    let evaluation = module.evaluation.as_ref().unwrap();
    let module_link = format!("M1 · {}", module.title);

    let b = Browser::start(size, &app.address).await;
    sign_in(&b, email, Some("login")).await;
    b.check_page("home-trainee").await;

    b.link("Mon parcours").await.click().await.unwrap();
    b.wait_title(&program.title).await;
    assert_eq!(b.path().await, "/programmes/CQP-AM");
    b.wait_text(
        "li.panel",
        &format!("0 / {} activités obligatoires terminées", required(module)),
    )
    .await;
    b.check_page("program").await;

    b.link(&module_link).await.click().await.unwrap();
    b.wait_title(&format!("M1 {}", module.title)).await;
    b.check_page("module").await;

    let first = b.find(Locator::Css("ol.activities li:first-child a")).await;
    assert_eq!(first.text().await.unwrap(), lesson.title);
    first.click().await.unwrap();
    b.wait_title(&lesson.title).await;
    assert_eq!(
        b.path().await,
        format!("/programmes/CQP-AM/M1/activites/{}", lesson.slug)
    );
    b.wait_text(
        "article.lesson",
        &format!("activité 1 sur {}", module.activities.len()),
    )
    .await;
    b.check_page("lesson").await;
    page_stays_local_and_light(&b, "lesson page").await;

    b.button("J'ai terminé cette activité")
        .await
        .click()
        .await
        .unwrap();
    b.wait_text("p.notice", "Activité terminée ✓").await;
    b.check_page("lesson-done").await;

    // Back to the module through the breadcrumb: the progress is recorded.
    b.link(&module_link).await.click().await.unwrap();
    b.wait_title(&format!("M1 {}", module.title)).await;
    b.wait_text(
        "dl.facts dd",
        &format!("1 / {} activités obligatoires", required(module)),
    )
    .await;
    b.wait_text("ol.activities li:first-child", "Terminé").await;
    b.assert_accessible("module with progress").await;

    b.link("Voir l'évaluation").await.click().await.unwrap();
    b.wait_title(&evaluation.title).await;
    b.wait_text("dl.facts dd", "0 utilisée(s)").await;
    b.check_page("evaluation").await;

    b.button("Commencer une tentative")
        .await
        .click()
        .await
        .unwrap();
    b.wait_title(&format!("{} — tentative 1", evaluation.title))
        .await;
    b.check_page("attempt").await;
    let attempt: i64 = b
        .path()
        .await
        .trim_start_matches("/tentatives/")
        .parse()
        .unwrap();
    let asked = evaluation.for_attempt(attempt);
    assert!(!asked.is_empty());
    for (qid, value) in right_answers(evaluation, attempt) {
        let q = asked.iter().find(|q| q.id == qid).unwrap();
        match q.kind {
            QuestionKind::Matching => {
                let left = value.split(':').next().unwrap();
                let select = b.find(Locator::Id(&format!("{qid}-{left}"))).await;
                select.select_by_value(&value).await.unwrap();
            }
            QuestionKind::Numeric => b.fill(&format!("{qid}-n"), &value).await,
            _ => {
                let input = b.find(Locator::Id(&format!("{qid}-{value}"))).await;
                input.click().await.unwrap();
                assert!(input.is_selected().await.unwrap(), "{qid}-{value}");
            }
        }
    }
    b.button("Valider mes réponses")
        .await
        .click()
        .await
        .unwrap();
    b.wait_text("#res", "Évaluation réussie").await;
    let n = asked.len();
    b.wait_text(
        ".result",
        &format!("Score : 100 % ({n} bonne(s) réponse(s) sur {n})"),
    )
    .await;
    b.check_page("result").await;

    b.link("Mes heures").await.click().await.unwrap();
    b.wait_title("Mon tableau de bord").await;
    b.check_page("dashboard").await;
    page_stays_local_and_light(&b, "trainee dashboard").await;
}

/// Every request of the page goes to the app on 127.0.0.1, and the page with its resources
/// weighs under 100 KB.
async fn page_stays_local_and_light(b: &Browser, page: &str) {
    let requests = b.requests().await;
    assert!(
        requests
            .iter()
            .any(|(u, size)| u.contains("/static/parcours") && *size > 0),
        "the stylesheet is among the measured requests: {requests:?}"
    );
    for (u, _) in &requests {
        let parsed = url::Url::parse(u).unwrap_or_else(|e| panic!("{u}: {e}"));
        assert_eq!(parsed.host_str(), Some("127.0.0.1"), "request to {u}");
    }
    let total: u64 = requests.iter().map(|(_, size)| size).sum();
    eprintln!("{page}: {total} bytes in {} requests", requests.len() - 1);
    assert!(
        total > 0 && total < 100_000,
        "the {page} transfers {total} bytes: {requests:?}"
    );
}

#[tokio::test]
async fn a_trainee_reads_a_lesson_and_passes_the_m1_evaluation_on_a_desktop() {
    a_trainee_passes_module_1(DESKTOP).await;
}

#[tokio::test]
async fn a_trainee_reads_a_lesson_and_passes_the_m1_evaluation_on_a_phone() {
    a_trainee_passes_module_1(PHONE).await;
}

async fn an_admin_invites_a_trainer_who_signs_up_from_the_mail(size: Size) {
    let smtp = Smtp::start();
    let smtp_url = smtp.url();
    // A known port, so that the link in the mail leads to this very server.
    let port = free_port();
    let app = spawn_app_with(|env| {
        env.insert("PARCOURS_SMTP_URL".into(), smtp_url);
        env.insert("PARCOURS_BIND".into(), format!("127.0.0.1:{port}"));
        env.insert(
            "PARCOURS_BASE_URL".into(),
            format!("http://127.0.0.1:{port}"),
        );
    })
    .await;
    assert_eq!(app.address, format!("http://127.0.0.1:{port}"));
    let org = app.create_organism("Institut Santé Plus");
    app.create_user(Role::OrganismAdmin, Some(org), "chef@isp.fr", PASSWORD);

    let b = Browser::start(size, &app.address).await;
    sign_in(&b, "chef@isp.fr", None).await;
    b.check_page("home-organism-admin").await;

    b.link("Mon organisme").await.click().await.unwrap();
    b.wait_title("Institut Santé Plus").await;
    assert_eq!(b.path().await, format!("/organismes/{org}"));
    b.check_page("organism").await;

    b.fill("inv-name", "Léa Roux").await;
    b.fill("inv-email", "Lea.Roux@Exemple.fr").await;
    b.find(Locator::Id("inv-role"))
        .await
        .select_by_label("Formateur")
        .await
        .unwrap();
    b.button("Envoyer l'invitation")
        .await
        .click()
        .await
        .unwrap();
    b.wait_text("p.notice", "Invitation envoyée à lea.roux@exemple.fr.")
        .await;
    b.check_page("organism-invited").await;

    let mails = smtp.wait_for(1, 20).await;
    assert_eq!(mails.len(), 1, "one invitation mail");
    let text = mail_text(&mails[0]);
    assert!(text.contains("Bonjour Léa Roux"), "{text}");
    let link = link_in(&text, &format!("{}/invitation/", app.address));

    // The admin leaves; the invited person opens the link from the mail in this browser.
    b.button("Se déconnecter").await.click().await.unwrap();
    b.wait_title("Connexion").await;
    b.assert_accessible("login after logout").await;
    b.c.goto(&link).await.unwrap();
    b.wait_title("Bienvenue").await;
    b.wait_text("h1", "Bienvenue Léa Roux").await;
    b.check_page("invitation").await;
    b.fill("password", "un-mot-de-passe-neuf").await;
    b.fill("password_confirm", "un-mot-de-passe-neuf").await;
    b.button("Activer mon compte").await.click().await.unwrap();
    b.wait_title("Accueil").await;
    assert_eq!(b.path().await, "/");
    b.wait_text("h1", "Bonjour Léa Roux").await;
    b.wait_text(".who", "Léa Roux").await;
    b.wait_text("main", "Formateur").await;
    b.check_page("home-trainer").await;
}

#[tokio::test]
async fn an_admin_invites_a_trainer_who_signs_up_from_the_mail_on_a_desktop() {
    an_admin_invites_a_trainer_who_signs_up_from_the_mail(DESKTOP).await;
}

#[tokio::test]
async fn an_admin_invites_a_trainer_who_signs_up_from_the_mail_on_a_phone() {
    an_admin_invites_a_trainer_who_signs_up_from_the_mail(PHONE).await;
}

/// Presses Tab until `target` has the focus; returns what got the focus on the way, target
/// included. Fails after `max` presses.
async fn tab_to(b: &Browser, target: &str, max: usize) -> Vec<String> {
    let mut seen = vec![];
    for _ in 0..max {
        b.press(Key::Tab).await;
        let f = b.focused().await;
        seen.push(f.clone());
        if f == target {
            return seen;
        }
    }
    panic!("Tab never reached {target}: {seen:?}");
}

#[tokio::test]
async fn the_login_and_a_lesson_work_with_the_keyboard_alone() {
    let app = spawn_app().await;
    let org = app.create_organism("Institut Santé Plus");
    let email = "clavier@exemple.fr";
    app.trainee_in(org, "CQP-AM", email).await;
    let content = curriculum();
    let (_, _, lesson) = m1(&content);

    let b = Browser::start(DESKTOP, &app.address).await;
    b.goto("/connexion").await;
    b.wait_title("Connexion").await;
    b.assert_accessible("login").await;
    assert_eq!(b.focused().await, "body");

    // The first Tab shows the skip link on screen.
    b.press(Key::Tab).await;
    let skip = "a « Aller au contenu »";
    assert_eq!(b.focused().await, skip);
    let visible: bool = b
        .js("const r = document.activeElement.getBoundingClientRect();\
             return r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0\
               && r.right <= window.innerWidth && r.bottom <= window.innerHeight;")
        .await;
    assert!(visible, "the focused skip link is on screen");

    // Then the email field, the password field and the button, in this order.
    let mut order = vec![skip.to_string()];
    order.extend(tab_to(&b, "#email", 5).await);
    b.type_text(email).await;
    order.extend(tab_to(&b, "#password", 5).await);
    b.type_text(PASSWORD).await;
    order.extend(tab_to(&b, "button « Se connecter »", 5).await);
    let at = |what: &str| order.iter().position(|f| f == what).unwrap();
    assert!(at(skip) < at("#email"), "{order:?}");
    assert!(at("#email") < at("#password"), "{order:?}");
    assert!(at("#password") < at("button « Se connecter »"), "{order:?}");
    let fields: Vec<String> = order
        .iter()
        .filter(|f| f.starts_with('#') || f.starts_with("button") || f.starts_with("input"))
        .cloned()
        .collect();
    assert_eq!(
        fields,
        ["#email", "#password", "button « Se connecter »"],
        "no other form control in between: {order:?}"
    );
    b.press(Key::Enter).await;
    b.wait_title("Accueil").await;
    b.wait_text("h1", &format!("Bonjour Personne {email}"))
        .await;
    b.assert_accessible("home").await;

    // A lesson: the skip link leads into the content, and Tab then reaches the button.
    let path = format!("/programmes/CQP-AM/M1/activites/{}", lesson.slug);
    b.goto(&path).await;
    b.wait_title(&lesson.title).await;
    b.assert_accessible("lesson").await;
    assert_eq!(b.focused().await, "body");
    b.press(Key::Tab).await;
    assert_eq!(b.focused().await, skip);
    b.press(Key::Enter).await;
    b.wait_until(
        "the focus in the content",
        "return document.activeElement === document.getElementById('contenu')",
        vec![],
    )
    .await;
    let done = "button « J'ai terminé cette activité »";
    let on_the_way = tab_to(&b, done, 100).await;
    assert!(
        on_the_way.iter().all(|f| !f.contains("Se déconnecter")),
        "after the skip link, Tab starts in the content: {on_the_way:?}"
    );
    b.press(Key::Enter).await;
    b.wait_text("p.notice", "Activité terminée ✓").await;
    assert_eq!(b.path().await, path);
    let buttons: Vec<String> = b
        .js("return Array.from(document.querySelectorAll('main button')).map(e => e.textContent)")
        .await;
    assert!(
        !buttons.iter().any(|t| t.contains("J'ai terminé")),
        "{buttons:?}"
    );
    b.assert_accessible("lesson-done").await;
}

/// The checks themselves can fail: a field without a label is an axe violation, and a wide
/// block is seen as horizontal overflow.
#[tokio::test]
async fn the_page_checks_catch_a_missing_label_and_a_too_wide_page() {
    let app = spawn_app().await;
    let b = Browser::start(PHONE, &app.address).await;
    b.goto("/connexion").await;
    b.wait_title("Connexion").await;
    let before = b.axe().await;
    assert!(before.passes > 0 && before.violations.is_empty());
    b.assert_no_horizontal_overflow("login").await;

    let () = b
        .js("const i = document.createElement('input'); i.id = 'sans-etiquette';\
             document.querySelector('form').append(i);\
             const d = document.createElement('div'); d.style.width = '800px'; d.textContent = 'large';\
             document.querySelector('main').append(d);")
        .await;
    let after = b.axe().await;
    let label = after
        .violations
        .iter()
        .find(|v| v.id == "label")
        .unwrap_or_else(|| panic!("no label violation: {:?}", after.violations));
    assert!(
        label
            .nodes
            .iter()
            .any(|n| n.html.contains("sans-etiquette")),
        "{label:?}"
    );
    assert!(b.overflows().await, "{:?}", b.widths().await);
}

/// The table check can fail too: a header cut inside a word, even after a hyphen, and a date
/// cut in a cell are found; a compound name cut after its hyphen in a cell is not.
#[tokio::test]
async fn the_table_check_catches_a_word_cut_over_two_lines() {
    let app = spawn_app().await;
    let b = Browser::start(PHONE, &app.address).await;
    b.goto("/connexion").await;
    b.wait_title("Connexion").await;
    assert!(b.broken_cells().await.is_empty());
    // One-cell tables, each narrower than its word; the lines each word takes.
    let lines: Vec<usize> = b
        .js("const cut = (tag, text, width, anywhere) => {\
               const t = document.createElement('table');\
               t.style.tableLayout = 'fixed'; t.style.width = width;\
               const c = document.createElement(tag); t.insertRow().append(c);\
               c.textContent = text; c.style.padding = '0';\
               if (anywhere) c.style.overflowWrap = 'anywhere';\
               document.querySelector('main').append(t);\
               const r = document.createRange(); r.selectNodeContents(c);\
               return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size;\
             };\
             return [cut('th', 'Financement', '4ch', true), cut('td', '04/12/2028', '4ch', true),\
                     cut('th', 'E-mail', '3ch', false), cut('td', 'Marie-Claude', '8ch', false)];")
        .await;
    assert!(lines.iter().all(|n| *n > 1), "every word is cut: {lines:?}");
    let found = b.broken_cells().await;
    for word in ["Financement", "04/12/2028", "E-mail"] {
        assert!(found.iter().any(|f| f.contains(word)), "{word}: {found:?}");
    }
    assert!(
        !found.iter().any(|f| f.contains("Marie")),
        "a name may be cut after its hyphen: {found:?}"
    );
}

#[tokio::test]
async fn reading_a_lesson_in_the_browser_credits_study_time() {
    let app = spawn_app_with(|env| {
        // Short beats, but not so short that a loaded CI machine delays one past the idle
        // limit (three beats) and restarts the clock.
        env.insert("PARCOURS_BEAT_SECONDS".into(), "2".into());
    })
    .await;
    let org = app.create_organism("Institut Santé Plus");
    let email = "lecteur@exemple.fr";
    let (_, trainee) = app.trainee_in(org, "CQP-AM", email).await;
    let content = curriculum();
    let (_, _, lesson) = m1(&content);
    let b = Browser::start(DESKTOP, &app.address).await;
    sign_in(&b, email, None).await;
    b.goto(&format!("/programmes/CQP-AM/M1/activites/{}", lesson.slug))
        .await;
    b.wait_title(&lesson.title).await;
    // Read for a while: the page is used (scrolling), so beats go out every two seconds.
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(10) {
        let _: serde_json::Value = b
            .js("window.scrollBy(0, 40); window.dispatchEvent(new Event('scroll')); return null")
            .await;
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    }
    b.wait_text("#study-time", "d'étude sur cette page").await;
    let credited: i64 = {
        use diesel::prelude::*;
        use parcours::db::schema::module_totals;
        module_totals::table
            .filter(module_totals::trainee_id.eq(trainee))
            .select(module_totals::distance_seconds)
            .first(&mut *app.conn())
            .unwrap()
    };
    // The first beat starts the clock; the next ones credit the time since, never more.
    assert!(
        (4..=10).contains(&credited),
        "about the time spent reading: {credited} s"
    );
}

/// From an empty platform to a cohort of 30 trainees whose doctors are invited, in a browser:
/// the first administrator (made on the command line) creates the organism and invites its
/// administrator, who creates a cohort and imports an Excel-exported CSV file.
#[tokio::test]
async fn a_newcomer_goes_from_an_empty_platform_to_a_cohort_of_thirty() {
    let smtp = Smtp::start();
    let smtp_url = smtp.url();
    let port = free_port();
    let app = spawn_app_with(|env| {
        env.insert("PARCOURS_SMTP_URL".into(), smtp_url);
        env.insert("PARCOURS_BIND".into(), format!("127.0.0.1:{port}"));
        env.insert(
            "PARCOURS_BASE_URL".into(),
            format!("http://127.0.0.1:{port}"),
        );
    })
    .await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_parcours"))
        .args([
            "admin",
            "create",
            "--email",
            "admin@parcours.fr",
            "--name",
            "Personne admin@parcours.fr",
        ])
        .env("DATABASE_URL", &app.database_url)
        .env("PARCOURS_DATA_DIR", app.dir.path())
        .env("PARCOURS_ADMIN_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let b = Browser::start(DESKTOP, &app.address).await;
    sign_in(&b, "admin@parcours.fr", None).await;
    b.link("Gérer les organismes").await.click().await.unwrap();
    b.wait_title("Organismes").await;
    b.assert_accessible("organisms").await;
    b.fill("name", "Institut Santé Plus").await;
    b.fill("siret", "732 829 320 00074").await;
    b.button("Créer l'organisme").await.click().await.unwrap();
    b.wait_title("Institut Santé Plus").await;
    b.fill("inv-name", "Nadia Benali").await;
    b.fill("inv-email", "direction@isp.fr").await;
    b.find(Locator::Id("inv-role"))
        .await
        .select_by_value("organism_admin")
        .await
        .unwrap();
    b.button("Envoyer l'invitation")
        .await
        .click()
        .await
        .unwrap();
    b.wait_text("p.notice", "Invitation envoyée à direction@isp.fr.")
        .await;
    let mails = smtp.wait_for(1, 20).await;
    let link = link_in(
        &mail_text(&mails[0]),
        &format!("{}/invitation/", app.address),
    );
    b.button("Se déconnecter").await.click().await.unwrap();
    b.wait_title("Connexion").await;

    b.c.goto(&link).await.unwrap();
    b.wait_text("h1", "Bienvenue Nadia Benali").await;
    b.fill("password", "un-mot-de-passe-neuf").await;
    b.fill("password_confirm", "un-mot-de-passe-neuf").await;
    b.button("Activer mon compte").await.click().await.unwrap();
    b.wait_text("h1", "Bonjour Nadia Benali").await;
    b.link("Voir les promotions").await.click().await.unwrap();
    b.wait_title("Promotions — Institut Santé Plus").await;
    b.assert_accessible("cohorts").await;
    b.fill("name", "Promotion CQP automne 2026").await;
    let _: serde_json::Value = b
        .js("document.getElementById('start_date').value = '2026-09-01'; document.getElementById('end_date').value = '2027-07-15'; return null")
        .await;
    b.button("Créer la promotion").await.click().await.unwrap();
    b.wait_title("Promotion CQP automne 2026").await;

    let mut text = String::from(
        "Nom;Prénom;E-mail;Profil;Date d'embauche;Médecin;E-mail du médecin;Financement\r\n",
    );
    for i in 0..30 {
        text.push_str(&format!(
            "Lefèvre{i};Hélène;stagiaire{i}@cabinet.fr;aucun;0{}/03/2025;Dr Élise Roy{};roy{}@medecin.fr;Contrat de professionnalisation\r\n",
            1 + i % 9,
            i % 10,
            i % 10
        ));
    }
    let file = app.dir.path().join("stagiaires.csv");
    std::fs::write(&file, encoding_rs::WINDOWS_1252.encode(&text).0).unwrap();
    b.find(Locator::Id("file"))
        .await
        .send_keys(&file.to_string_lossy())
        .await
        .unwrap();
    // The cohort began on 01/09/2026: staff confirm these late enrolments.
    b.find(Locator::Id("imp-confirm"))
        .await
        .click()
        .await
        .unwrap();
    b.button("Importer").await.click().await.unwrap();
    b.wait_text("div.notice", "30 stagiaire(s) ajouté(s)").await;
    b.wait_text("div.notice", "10 médecin(s) invité(s)").await;
    b.assert_accessible("cohort after import").await;
    b.screenshot("cohort-imported").await;
    let mails = smtp.wait_for(41, 60).await;
    assert_eq!(
        mails.len(),
        41,
        "the organism admin, 30 trainees and 10 doctors were invited"
    );
}
