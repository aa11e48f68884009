//! The ADL CATAPULT cmi5 example played in Chromium from the trainee's activity page: its own
//! cmi5.js fetches the credentials, reads `LMS.LaunchData`, sends its statements to our xAPI
//! endpoint on the packages' origin, and the activity is done once the quiz is passed.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{cmi5_statements, package_attempts};

use crate::common::*;
use crate::driver::{Browser, DESKTOP};

const MODULE: &str = "01-suivi-parcours-sante";

fn revision_in(html: &str) -> String {
    let at = html
        .find("name=\"revision\" value=\"")
        .expect("revision field")
        + 23;
    html[at..].split('"').next().unwrap().to_string()
}

async fn editor(app: &TestApp, c: &reqwest::Client) -> String {
    let res = c.get(app.url("/auteur/programmes/CQP-B")).send().await;
    res.unwrap().text().await.unwrap()
}

/// An organism's copy of the CQP with the CATAPULT package as an activity, published.
async fn published_with_catapult(app: &TestApp, org: i64) {
    let (admin, _) = signed_in(app, Role::OrganismAdmin, Some(org), "admin@a.fr").await;
    let fields = [
        ("source", "CQP-AM"),
        ("code", "CQP-B"),
        ("title", "CQP de Lyon"),
    ];
    let res = admin
        .post_form(app, &format!("/organismes/{org}/programmes"), &fields)
        .await;
    assert_eq!(res.status(), 303);
    let zip = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/assets/scorm/cmi5_catapult_single_au_basic_responsive.zip"),
    )
    .unwrap();
    let rev = revision_in(&editor(app, &admin).await);
    let path = format!("/auteur/programmes/CQP-B/modules/{MODULE}/fichiers");
    let res = admin
        .post_multipart(app, &path, move |f| {
            f.text("revision", rev).part(
                "file",
                reqwest::multipart::Part::bytes(zip).file_name("geologie.zip"),
            )
        })
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let page = editor(app, &admin).await;
    let file = page
        .split("files/")
        .filter_map(|s| s.split(['"', '<']).next())
        .find(|s| s.ends_with(".zip"))
        .map(|s| format!("files/{s}"))
        .expect("the ZIP in the draft");
    let rev = revision_in(&page);
    let fields = [
        ("revision", rev.as_str()),
        ("module", MODULE),
        ("sequence", "nouvelle"),
        ("sequence_title", "Modules e-learning"),
        ("kind", "package"),
        ("slug", "40-geologie"),
        ("title", "La géologie, en cmi5"),
        ("minutes", "20"),
        ("required", "on"),
        ("file", file.as_str()),
    ];
    let res = admin
        .post_form(app, "/auteur/programmes/CQP-B/activites", &fields)
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let rev = revision_in(&editor(app, &admin).await);
    let res = admin
        .post_form(
            app,
            "/auteur/programmes/CQP-B/publier",
            &[("revision", rev.as_str())],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
}

/// The attempt's completion and success once `until` holds.
async fn wait_attempt(app: &TestApp, until: impl Fn(&str, &str) -> bool) -> (String, String) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let conn = &mut *app.conn() as &mut DbConn;
        let row: Option<(String, String)> = package_attempts::table
            .select((package_attempts::completion, package_attempts::success))
            .first(conn)
            .optional()
            .unwrap();
        if let Some((c, s)) = row.filter(|(c, s)| until(c, s)) {
            return (c, s);
        }
        assert!(
            Instant::now() < deadline,
            "the AU's statements did not arrive"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until `n` statements of this verb are kept.
async fn wait_verb(app: &TestApp, verb: &str, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let conn = &mut *app.conn() as &mut DbConn;
        let kept: i64 = cmi5_statements::table
            .filter(cmi5_statements::verb.eq(verb))
            .count()
            .get_result(conn)
            .unwrap();
        if kept == n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{kept} statements {verb}, not {n}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn the_catapult_cmi5_au_plays_in_chromium_and_completes_the_activity() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    published_with_catapult(&app, org).await;
    let email = "stagiaire@a.fr";
    app.trainee_in(org, "CQP-B", email).await;
    let b = Browser::start(DESKTOP, &app.address).await;
    b.sign_in(email).await;
    b.goto("/programmes/CQP-B/M1/activites/40-geologie").await;
    b.wait_title("La géologie, en cmi5").await;
    // What the frame tells this page (the study clock listens the same way).
    b.js::<serde_json::Value>(
        "window.told = []; window.addEventListener('message', e => window.told.push(e.data.event)); return null",
    )
    .await;
    // The host page on the packages' origin, then the AU in its frame.
    b.c.enter_frame(0).await.unwrap();
    b.wait_until(
        "the AU's frame",
        "return document.readyState === 'complete' && !!document.getElementById('au')",
        vec![],
    )
    .await;
    b.c.enter_frame(0).await.unwrap();
    // cmi5.js started: fetch, LMS.LaunchData, preferences, then `initialized`.
    b.wait_until(
        "the AU's cmi5 session",
        "return typeof course !== 'undefined' && course.trackingPlugin.cmi5 !== null \
         && course.trackingPlugin.cmi5.isActive() && course.trackingPlugin.launchMode === 'Normal'",
        vec![],
    )
    .await;
    wait_attempt(&app, |c, _| c == "incomplete").await;
    // A real click in the AU: the host page tells the activity page it is being used.
    b.find(fantoccini::Locator::Css(
        "#navmenuitems li[data-pageidx='1']",
    ))
    .await
    .click()
    .await
    .unwrap();
    b.c.enter_parent_frame().await.unwrap();
    b.c.enter_parent_frame().await.unwrap();
    b.wait_until(
        "the AU's use told to the activity page",
        "return window.told.includes('activity')",
        vec![],
    )
    .await;
    b.c.enter_frame(0).await.unwrap();
    b.c.enter_frame(0).await.unwrap();
    // The quiz, answered right: `passed` then `completed`.
    let quiz: u64 = b.js("return course.pageList.indexOf('quiz')").await;
    b.js::<serde_json::Value>(&format!(
        "course.gotoPage({quiz}); course.autopass(); course.submitAnswers(); return null"
    ))
    .await;
    let (completion, success) = wait_attempt(&app, |c, s| c == "completed" && s == "passed").await;
    assert_eq!(
        (completion.as_str(), success.as_str()),
        ("completed", "passed")
    );
    // The quiz's five answers, sent after the pass in one POST.
    wait_verb(&app, "http://adlnet.gov/expapi/verbs/answered", 5).await;
    let errors: String = b
        .js("return document.getElementById('error-content').innerHTML")
        .await;
    assert_eq!(errors, "", "the AU saw no tracking error");
    // Exit: `terminated`.
    b.js::<serde_json::Value>("course.exit(); return null")
        .await;
    wait_verb(&app, "http://adlnet.gov/expapi/verbs/terminated", 1).await;
    // The session's own duration, kept apart from the hours credited.
    let seconds: f64 = package_attempts::table
        .select(package_attempts::package_seconds)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert!(seconds > 0.0, "{seconds}");
    // The AU went to its returnURL: the activity page shows the new state by itself.
    b.c.enter_parent_frame().await.unwrap();
    b.c.enter_parent_frame().await.unwrap();
    b.wait_text("main", "Activité terminée").await;
}
