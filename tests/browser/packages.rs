//! Issue #19 in a browser: a trainee plays each shipped SCORM package from her activity page,
//! at PC and phone size, through WebDriver frame switches (activity page → host page on the
//! packages' origin → SCO). Rustici's Golf example (SCORM 2004) is driven by clicks alone
//! (Next, the resume `confirm()`, the assessment's answers, Submit, Exit). The Adapt course
//! (SCORM 1.2) by clicks for its menu, a first question and its resume prompt; its 58
//! questions are then answered by a script in its frame (DOM clicks on a choice and Submit),
//! and Adapt's own `tracking.checkCompletion()` is called, which this course never calls by
//! itself (its completion criteria are both off). Each package is left half-way, resumes where
//! it was, ends completed or passed, and the study time on the page is credited.
//!
//! axe checks our page around the frame: it is injected into the top document only, and the
//! frame is of another origin with no axe of its own, so axe cannot descend into the
//! package's content (not ours to fix) and audits our page alone.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use fantoccini::Locator;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{activity_totals, package_attempts};
use serde_json::{Value, json};

use crate::common::*;
use crate::driver::{Browser, DESKTOP, PHONE, Size};
use crate::package_fixture::{ADAPT, GOLF, Package, activity_path, publish_package};

const PROGRAM: &str = "CQP-B";

/// A server with short study beats, the package published in an organism's copy of the CQP,
/// and a trainee of it signed in: the server, the browser and her id.
async fn trainee_with(package: &Package, size: Size) -> (TestApp, Browser, i64) {
    let app = spawn_app_with(|env| {
        // As in journeys.rs: short, but well under the idle limit of three beats.
        env.insert("PARCOURS_BEAT_SECONDS".into(), "2".into());
    })
    .await;
    let org = app.create_organism("Organisme A");
    let (admin, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "admin@a.fr").await;
    publish_package(&app, &admin, (org, PROGRAM), package).await;
    let email = "stagiaire@a.fr";
    let (_, id) = app.trainee_in(org, PROGRAM, email).await;
    let b = Browser::start(size, &app.address).await;
    b.sign_in(email).await;
    (app, b, id)
}

/// Her attempt at the package's one SCO: completion, success, scaled score, stored data.
type Attempt = (String, String, Option<f64>, String);

/// Her attempt, if she launched the package.
fn attempt(app: &TestApp, trainee: i64) -> Option<Attempt> {
    package_attempts::table
        .filter(package_attempts::trainee_id.eq(trainee))
        .select((
            package_attempts::completion,
            package_attempts::success,
            package_attempts::score_scaled,
            package_attempts::data,
        ))
        .first(&mut *app.conn() as &mut DbConn)
        .optional()
        .unwrap()
}

/// The study time credited to her on package activities.
fn credited(app: &TestApp, trainee: i64) -> i64 {
    activity_totals::table
        .filter(activity_totals::trainee_id.eq(trainee))
        .select(activity_totals::seconds)
        .load::<i64>(&mut *app.conn() as &mut DbConn)
        .unwrap()
        .into_iter()
        .sum()
}

/// Waits until the stored attempt satisfies `ok` (commits land asynchronously).
async fn wait_attempt(
    app: &TestApp,
    trainee: i64,
    what: &str,
    ok: impl Fn(&Attempt) -> bool,
) -> Attempt {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = attempt(app, trainee);
        if let Some(a) = got.as_ref().filter(|a| ok(a)) {
            return a.clone();
        }
        assert!(Instant::now() < deadline, "{what}: {got:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The stored data model value `name` of an attempt's snapshot.
fn stored(data: &str, name: &str) -> Option<String> {
    let v: Value = serde_json::from_str(data).ok()?;
    v["values"][name].as_str().map(str::to_string)
}

/// Opens the activity page.
async fn open(b: &Browser, package: &Package) {
    // The Golf page asks `confirm()` while it loads: the navigation may report the open dialog.
    let _ = b.c.goto(&b.url(&activity_path(PROGRAM, package))).await;
}

/// Enters the package's frame, then the host page's SCO frame.
async fn enter_sco(b: &Browser) {
    b.c.enter_frame(0).await.unwrap();
    wait_js(b, "the host page's API", "return !!window.ParcoursScorm").await;
    b.find(Locator::Id("sco"))
        .await
        .enter_frame()
        .await
        .unwrap();
}

/// Like `Browser::wait_until`, but in whatever frame is current.
async fn wait_js(b: &Browser, what: &str, script: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = b.c.execute(script, vec![]).await;
        if let Ok(Value::Bool(true)) = got {
            return;
        }
        if Instant::now() > deadline {
            let here =
                b.c.execute(
                    "return location.href + ' ' + document.body.innerText.slice(0, 600)",
                    vec![],
                )
                .await;
            panic!("timed out waiting for {what}: {got:?} in {here:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Accepts the next `alert`/`confirm` whose text contains `text`.
async fn accept_dialog(b: &Browser, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(got) = b.c.get_alert_text().await {
            assert!(got.contains(text), "unexpected dialog: {got}");
            b.c.accept_alert().await.unwrap();
            return;
        }
        assert!(Instant::now() < deadline, "no dialog « {text} »");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The page's checks (axe on our page, phone width) once the frame is there.
async fn check_activity_page(b: &Browser, name: &str) {
    b.wait_until(
        "the package's frame",
        "return document.readyState === 'complete' && !!document.querySelector('.package-frame iframe')",
        vec![],
    )
    .await;
    b.check_page(name).await;
}

/// Back on the activity page after the package ended: the part and the activity are done.
async fn shows_done(b: &Browser, state: &str) {
    b.wait_text(".done-box", "Activité terminée ✓").await;
    b.wait_text(".package-items li", state).await;
}

async fn click_id(b: &Browser, id: &str) {
    b.find(Locator::Id(id)).await.click().await.unwrap();
}

/// Golf's launch page (the SCO): clicks Next until it shows page `to` (0 to 14).
async fn golf_next_to(b: &Browser, to: i64) {
    loop {
        let at: i64 = b.js("return currentPage").await;
        if at == to {
            return;
        }
        click_id(b, "butNext").await;
    }
}

/// Answers Golf's assessment in its content frame: clicks the right choices and types the
/// numbers (read from the page's own question list), then sends them.
async fn golf_assessment(b: &Browser) {
    b.find(Locator::Id("contentFrame"))
        .await
        .enter_frame()
        .await
        .unwrap();
    wait_js(
        b,
        "Golf's assessment",
        "return document.readyState === 'complete' && !!document.getElementById('frmTest')",
    )
    .await;
    let questions: Vec<(String, String, Value)> = b
        .js("return test.Questions.map(q => [q.Id, q.Type,\
               q.Type === 'choice' ? q.Answers.indexOf(q.CorrectAnswer) : q.CorrectAnswer])")
        .await;
    assert!(questions.len() >= 10, "{questions:?}");
    for (id, kind, right) in &questions {
        match (kind.as_str(), right) {
            ("choice", Value::Number(i)) => click_id(b, &format!("question_{id}_{i}")).await,
            ("true-false", Value::Bool(t)) => {
                let answer = if *t { "True" } else { "False" };
                click_id(b, &format!("question_{id}_{answer}")).await
            }
            ("numeric", n) => b
                .find(Locator::Id(&format!("question_{id}_Text")))
                .await
                .send_keys(&n.to_string())
                .await
                .unwrap(),
            other => panic!("a question of a kind Golf does not have: {other:?}"),
        }
    }
    b.find(Locator::XPath("//input[@value='Submit Answers']"))
        .await
        .click()
        .await
        .unwrap();
    wait_js(
        b,
        "Golf's score",
        "return document.body.innerText.includes('Score: 100')",
    )
    .await;
    b.c.enter_parent_frame().await.unwrap();
}

/// Waits until the time credited to her is more than `than` seconds.
async fn credited_over(app: &TestApp, trainee: i64, than: i64) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = credited(app, trainee);
        if s > than {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "no study time credited past {than} s while the package is used"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The first session: launched from the page, three pages on, left half-way; suspended.
async fn golf_first_session(app: &TestApp, b: &Browser, me: i64) -> i64 {
    open(b, &GOLF).await;
    check_activity_page(b, "paquet-golf").await;
    b.wait_text(".package-items li", "à faire").await;
    enter_sco(b).await;
    wait_js(b, "Golf's first page", "return window.currentPage === 0").await;
    golf_next_to(b, 3).await;
    let used = credited_over(app, me, 0).await;
    // The host page holds what the SCO set.
    b.c.enter_parent_frame().await.unwrap();
    let location: Value = b
        .js("return window.ParcoursScorm.snapshot().values['cmi.location']")
        .await;
    assert_eq!(location, json!("3"));
    // She goes to the module's page: the SCO suspends and terminates as its frame goes.
    b.goto(&format!("/programmes/{PROGRAM}/M1")).await;
    let (completion, _, _, data) = wait_attempt(app, me, "Golf suspended", |a| {
        stored(&a.3, "cmi.exit").as_deref() == Some("suspend")
    })
    .await;
    assert_eq!(completion, "incomplete");
    assert_eq!(stored(&data, "cmi.location").as_deref(), Some("3"));
    used
}

async fn golf(size: Size) {
    let (app, b, me) = trainee_with(&GOLF, size).await;
    let used = golf_first_session(&app, &b, me).await;
    // Reopened: Golf asks whether to resume; accepted, it shows the page she left.
    open(&b, &GOLF).await;
    accept_dialog(&b, "resume").await;
    b.wait_text(".package-items li", "en cours").await;
    enter_sco(&b).await;
    wait_js(&b, "Golf back on page 3", "return window.currentPage === 3").await;
    assert_eq!(
        host_api(&b, "API_1484_11.GetValue('cmi.entry')").await,
        "resume"
    );
    let src: String = b
        .js("return document.getElementById('contentFrame').getAttribute('src')")
        .await;
    assert!(src.ends_with("Playing/OtherScoring.html"), "{src}");
    // On to the assessment, all right, then Exit: the SCO terminates, the page reloads.
    golf_next_to(&b, 14).await;
    golf_assessment(&b).await;
    click_id(&b, "butExit").await;
    b.c.enter_parent_frame().await.unwrap();
    b.c.enter_parent_frame().await.unwrap();
    shows_done(&b, "réussi").await;
    b.wait_text(".package-items li", "score 100 %").await;
    check_activity_page(&b, "paquet-golf-termine").await;
    let (completion, success, score, _) = attempt(&app, me).unwrap();
    assert_eq!(
        (completion.as_str(), success.as_str(), score),
        ("completed", "passed", Some(1.0))
    );
    credited_over(&app, me, used).await;
}

#[tokio::test]
async fn a_trainee_plays_golf_scorm_2004_on_a_desktop() {
    golf(DESKTOP).await;
}

#[tokio::test]
async fn a_trainee_plays_golf_scorm_2004_on_a_phone() {
    golf(PHONE).await;
}

async fn click_css(b: &Browser, css: &str) {
    b.find(Locator::Css(css)).await.click().await.unwrap();
}

/// A value read from the host page's API (entered from the SCO's frame).
async fn host_api(b: &Browser, call: &str) -> String {
    b.c.enter_parent_frame().await.unwrap();
    let v = b.js(&format!("return {call}")).await;
    b.find(Locator::Id("sco"))
        .await
        .enter_frame()
        .await
        .unwrap();
    v
}

/// What the host page holds of the SCO's data model (entered from the SCO's frame).
async fn host_snapshot(b: &Browser) -> Value {
    b.c.enter_parent_frame().await.unwrap();
    let v = b.js("return window.ParcoursScorm.snapshot().values").await;
    b.find(Locator::Id("sco"))
        .await
        .enter_frame()
        .await
        .unwrap();
    v
}

/// The first session: launched from the page, the first topic opened from Adapt's menu and
/// its first question answered by clicks; then she leaves. The time credited and the
/// location Adapt stored.
async fn adapt_first_session(app: &TestApp, b: &Browser, me: i64) -> (i64, String) {
    open(b, &ADAPT).await;
    check_activity_page(b, "paquet-adapt").await;
    enter_sco(b).await;
    wait_js(
        b,
        "Adapt's menu",
        "return !!document.querySelector('.boxmenu-item__button')",
    )
    .await;
    click_css(b, ".boxmenu-item__button").await;
    wait_js(
        b,
        "the first topic",
        "return !!document.querySelector('.mcq .mcq-item__label')",
    )
    .await;
    click_css(b, ".mcq .mcq-item__label").await;
    click_css(b, ".mcq .js-btn-action").await;
    wait_js(
        b,
        "the question answered",
        "return !!document.querySelector('.mcq.is-complete')",
    )
    .await;
    let used = credited_over(app, me, 0).await;
    let held = host_snapshot(b).await;
    let location = held["cmi.core.lesson_location"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!location.is_empty(), "{held}");
    // She goes to the module's page: Adapt finishes its session as its frame goes.
    b.goto(&format!("/programmes/{PROGRAM}/M1")).await;
    let (completion, _, _, data) = wait_attempt(app, me, "Adapt's session finished", |a| {
        stored(&a.3, "cmi.core.session_time").is_some()
    })
    .await;
    assert_eq!(completion, "incomplete");
    assert_eq!(
        stored(&data, "cmi.core.lesson_location").as_ref(),
        Some(&location)
    );
    assert!(stored(&data, "cmi.suspend_data").is_some_and(|d| d.len() > 100));
    (used, location)
}

/// Answers every question of the topic on screen as Adapt's own handlers take it: a choice,
/// then Submit, clicked by a script in its frame (58 questions are too many to click one by
/// one through WebDriver). Returns how many are left unanswered.
const ANSWER_ALL: &str = "const done = arguments[arguments.length - 1];\
    const tick = () => new Promise(r => setTimeout(r, 30));\
    (async () => {\
      for (const q of document.querySelectorAll('.mcq:not(.is-complete)')) {\
        q.querySelector('.mcq-item__label').click(); await tick();\
        q.querySelector('.js-btn-action').click(); await tick();\
      }\
      done(document.querySelectorAll('.mcq:not(.is-complete)').length);\
    })();";

async fn adapt(size: Size) {
    let (app, b, me) = trainee_with(&ADAPT, size).await;
    let (used, location) = adapt_first_session(&app, &b, me).await;
    // Reopened: Adapt asks whether to go back where she was; « Yes » shows her answer.
    open(&b, &ADAPT).await;
    b.wait_text(".package-items li", "en cours").await;
    enter_sco(&b).await;
    wait_js(
        &b,
        "Adapt's resume prompt, shown",
        // A click while the popup still fades in is lost.
        "const p = document.querySelector('.notify__popup');\
         return !!p && !!document.querySelector('.js-notify-btn-prompt')\
           && getComputedStyle(p).opacity === '1'",
    )
    .await;
    let yes: String = b
        .js("return document.querySelector('.js-notify-btn-prompt').textContent.trim()")
        .await;
    assert_eq!(yes, "Yes");
    click_css(&b, ".js-notify-btn-prompt").await;
    wait_js(
        &b,
        "the topic she left, with her answer",
        // On a loaded machine a click during Adapt's transitions can be lost: the prompt,
        // still up, is answered again.
        "const p = document.querySelector('.notify__popup');\
         const yes = document.querySelector('.js-notify-btn-prompt');\
         if (p && yes && getComputedStyle(p).opacity === '1') { yes.click(); }\
         return !!document.querySelector('.mcq.is-complete')",
    )
    .await;
    // Adapt left with `cmi.core.exit` "" (not "suspend"): SCORM 1.2 then says entry "", and
    // the location and suspend data are still hers.
    assert_eq!(host_api(&b, "API.LMSGetValue('cmi.core.entry')").await, "");
    // What the host page started from (Adapt has since moved on to the topic itself).
    let start = "JSON.parse(document.getElementById('parcours-launch').textContent).start.values";
    assert_eq!(
        host_api(&b, &format!("{start}['cmi.core.lesson_location']")).await,
        location
    );
    // Then every question of its three topics, as a learner would.
    let pages: Vec<String> = b
        .js("return require('core/js/adapt').data\
               .filter(m => m.get('_type') === 'page').map(m => m.get('_id'))")
        .await;
    assert_eq!(pages.len(), 3, "{pages:?}");
    for page in &pages {
        let shown = format!(
            "return [...document.querySelectorAll('.page')].some(e => e.classList.contains('{page}'))\
               && document.querySelectorAll('.mcq').length > 0"
        );
        let here: bool = b.js(&shown).await;
        if !here {
            let _: Value = b
                .js(&format!("location.hash = '#/id/{page}'; return null"))
                .await;
            wait_js(&b, "the topic on screen", &shown).await;
        }
        let left = b.c.execute_async(ANSWER_ALL, vec![]).await.unwrap();
        assert_eq!(left, json!(0), "questions left unanswered in {page}");
    }
    // This course's completion criteria ask for neither its content nor its assessment, so
    // Adapt never checks them by itself: its own check, run in its frame, reports completion.
    let _: Value = b
        .js("require('core/js/tracking').checkCompletion(); return null")
        .await;
    let (_, success, _, _) =
        wait_attempt(&app, me, "Adapt completed", |a| a.0 == "completed").await;
    assert_eq!(success, "unknown", "no score is asked of this course");
    // Back on her page (Adapt's session ends as its frame goes): the part is done.
    let _ = b.c.goto(&b.url(&activity_path(PROGRAM, &ADAPT))).await;
    shows_done(&b, "terminé").await;
    check_activity_page(&b, "paquet-adapt-termine").await;
    credited_over(&app, me, used).await;
}

#[tokio::test]
async fn a_trainee_plays_adapt_scorm_1_2_on_a_desktop() {
    adapt(DESKTOP).await;
}

#[tokio::test]
async fn a_trainee_plays_adapt_scorm_1_2_on_a_phone() {
    adapt(PHONE).await;
}
