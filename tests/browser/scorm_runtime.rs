//! The player script's SCORM API (templates/static/scorm-runtime.js) against the Rust `Runtime`:
//! the same launch JSON as the host page serves, then the same calls through both, on a blank
//! page of a real Chromium. Every return value, error code and diagnostic must be the same call
//! by call, and so must the snapshot a commit hands over; some codes are also checked against
//! the standards, so that both cannot be wrong together.

use parcours::scorm::datamodel::{
    Launch, MAX_ENTRIES, Mode, Runtime, Snapshot, Version, definitions,
};
use parcours::scorm::manifest::Mastery;
use serde_json::{Value, json};

use crate::driver::{Browser, DESKTOP};

#[derive(Debug, Clone)]
enum Call {
    Initialize(String),
    Get(String),
    Set(String, String),
    Commit(String),
    Terminate(String),
    ErrorString(u16),
    Diagnostic,
}

/// A call, and what the standard says it gives, where a step checks it.
#[derive(Debug, Clone)]
struct Step {
    call: Call,
    code: Option<u16>,
    returns: Option<String>,
}

impl Step {
    fn code(mut self, code: u16) -> Step {
        self.code = Some(code);
        self
    }
    fn returns(mut self, value: &str) -> Step {
        self.returns = Some(value.to_string());
        self
    }
}

fn step(call: Call) -> Step {
    Step {
        call,
        code: None,
        returns: None,
    }
}
fn init(arg: &str) -> Step {
    step(Call::Initialize(arg.into()))
}
fn get(name: &str) -> Step {
    step(Call::Get(name.into()))
}
fn set(name: &str, value: &str) -> Step {
    step(Call::Set(name.into(), value.into()))
}
fn commit(arg: &str) -> Step {
    step(Call::Commit(arg.into()))
}
fn term(arg: &str) -> Step {
    step(Call::Terminate(arg.into()))
}
fn text(code: u16) -> Step {
    step(Call::ErrorString(code))
}
fn diag() -> Step {
    step(Call::Diagnostic)
}

/// What one call gives: its return value, then `GetLastError` and `GetDiagnostic`.
type Outcome = (String, String, String);

fn through_rust(rt: &mut Runtime, call: &Call) -> Outcome {
    let bool = |b: bool| if b { "true" } else { "false" }.to_string();
    let value = match call {
        Call::Initialize(a) => bool(rt.initialize(a)),
        Call::Get(n) => rt.get_value(n),
        Call::Set(n, v) => bool(rt.set_value(n, v)),
        Call::Commit(a) => bool(rt.commit(a).is_some()),
        Call::Terminate(a) => bool(rt.terminate(a).is_some()),
        Call::ErrorString(c) => rt.error_string(*c).to_string(),
        Call::Diagnostic => rt.diagnostic(0),
    };
    (value, rt.last_error().to_string(), rt.diagnostic(0))
}

/// Each version's method names for the calls, in `Call`'s order, then `GetLastError`.
fn methods(version: Version) -> Vec<&'static str> {
    let names = match version {
        Version::Scorm12 => {
            "LMSInitialize LMSGetValue LMSSetValue LMSCommit LMSFinish LMSGetErrorString \
             LMSGetDiagnostic LMSGetLastError"
        }
        Version::Scorm2004 => {
            "Initialize GetValue SetValue Commit Terminate GetErrorString GetDiagnostic \
             GetLastError"
        }
    };
    names.split_whitespace().collect()
}

/// A call as the page's script runs it: method name, then its string arguments.
fn as_js(version: Version, call: &Call) -> Value {
    let m = methods(version);
    match call {
        Call::Initialize(a) => json!([m[0], a]),
        Call::Get(n) => json!([m[1], n]),
        Call::Set(n, v) => json!([m[2], n, v]),
        Call::Commit(a) => json!([m[3], a]),
        Call::Terminate(a) => json!([m[4], a]),
        Call::ErrorString(c) => json!([m[5], c.to_string()]),
        Call::Diagnostic => json!([m[6], "0"]),
    }
}

/// A blank page with the launch JSON and the script, as the host page has them.
async fn open(b: &Browser, launch: &Value) {
    let script = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/templates/static/scorm-runtime.js"
    ))
    .unwrap();
    b.c.goto("about:blank").await.unwrap();
    let setup = r#"
        if (window.API || window.API_1484_11) return "left over";
        var data = document.createElement("script");
        data.id = "parcours-launch";
        data.type = "application/json";
        data.textContent = arguments[0];
        document.head.appendChild(data);
        var code = document.createElement("script");
        code.textContent = arguments[1];
        document.head.appendChild(code);
        var frame = document.createElement("iframe");
        frame.id = "sco";
        document.body.appendChild(frame);
        return [typeof window.API, typeof window.API_1484_11].join(" ");
    "#;
    let apis =
        b.c.execute(setup, vec![json!(launch.to_string()), json!(script)])
            .await
            .unwrap();
    let expected = match launch["definitions"]["version"].as_str() {
        Some("scorm12") => "object undefined",
        _ => "undefined object",
    };
    assert_eq!(apis, json!(expected), "only the version's API is defined");
}

/// Runs the steps through both, compares them call by call, then compares the snapshots and
/// has the server's check accept the script's.
async fn compare(b: &Browser, name: &str, mut rt: Runtime, version: Version, steps: &[Step]) {
    let launch = json!({
        "definitions": definitions(version),
        "start": rt.start(),
        "commit_url": null,
        "max_entries": MAX_ENTRIES,
    });
    open(b, &launch).await;
    let calls: Vec<Value> = steps.iter().map(|s| as_js(version, &s.call)).collect();
    let run = r#"
        var api = window.API || window.API_1484_11;
        var last = arguments[1], diagnostic = arguments[2];
        return arguments[0].map(function (c) {
            var value = api[c[0]].apply(api, c.slice(1));
            return [value, api[last](), api[diagnostic]("0")];
        });
    "#;
    let m = methods(version);
    let js =
        b.c.execute(run, vec![json!(calls), json!(m[7]), json!(m[6])])
            .await
            .unwrap();
    let js: Vec<Outcome> = serde_json::from_value(js).unwrap();
    assert_eq!(js.len(), steps.len());
    for (i, (s, from_js)) in steps.iter().zip(&js).enumerate() {
        let from_rust = through_rust(&mut rt, &s.call);
        // Long values cut, so that a failure stays readable.
        let call: String = format!("{:?}", s.call).chars().take(150).collect();
        assert_eq!(from_js, &from_rust, "{name}, step {i}: {call}");
        if let Some(code) = s.code {
            assert_eq!(from_rust.1, code.to_string(), "{name}, step {i}: {call}");
        }
        if let Some(value) = &s.returns {
            assert_eq!(&from_rust.0, value, "{name}, step {i}: {call}");
        }
    }
    let snapshot: Snapshot =
        serde_json::from_value(b.js::<Value>("return ParcoursScorm.snapshot()").await).unwrap();
    assert_eq!(snapshot, rt.snapshot(), "{name}: snapshots");
    assert_eq!(
        Snapshot::validate(version, &snapshot),
        Ok(snapshot.clone()),
        "{name}: the server's check"
    );
    let (pending, last): (bool, Value) = b
        .js("return [ParcoursScorm.pending, ParcoursScorm.lastCommit]")
        .await;
    assert!(!pending && last.is_null(), "{name}: nothing to post");
}

/// Ids up to `MAX_ENTRIES`, and the one past it refused.
fn fill_interactions(past: u16) -> Vec<Step> {
    let mut steps: Vec<Step> = (0..MAX_ENTRIES)
        .map(|i| set(&format!("cmi.interactions.{i}.id"), &format!("q{i}")).code(0))
        .collect();
    steps.push(set(&format!("cmi.interactions.{MAX_ENTRIES}.id"), "q").code(past));
    steps.push(get("cmi.interactions._count").returns(&MAX_ENTRIES.to_string()));
    steps
}

/// The order of the calls, the same shape in both versions: before, during, after.
fn states(version: Version) -> (Vec<Step>, Vec<Step>) {
    let v12 = version == Version::Scorm12;
    let c = |a: u16, b: u16| if v12 { a } else { b };
    let (status, location) = if v12 {
        ("cmi.core.lesson_status", "cmi.core.lesson_location")
    } else {
        ("cmi.completion_status", "cmi.location")
    };
    let before = vec![
        get(status).code(c(301, 122)).returns(""),
        set(location, "p1").code(c(301, 132)).returns("false"),
        commit("").code(c(301, 142)).returns("false"),
        term("").code(c(301, 112)).returns("false"),
        diag(),
        text(c(301, 122)),
        init("x").code(201).returns("false"),
        init("").code(0).returns("true"),
        init("").code(c(101, 103)).returns("false"),
        diag(),
    ];
    let after = vec![
        commit("x").code(201).returns("false"),
        commit("").code(0).returns("true"),
        get(location).code(0),
        term("x").code(201),
        term("").code(0).returns("true"),
        get(status).code(c(301, 123)),
        set(location, "p2").code(c(301, 133)),
        commit("").code(c(301, 143)),
        term("").code(c(301, 113)),
        init("").code(c(101, 104)),
        text(0),
        text(201),
        text(999).returns(""),
        diag(),
    ];
    (before, after)
}

fn elements_12() -> Vec<Step> {
    let smileys = "😀".repeat(255);
    vec![
        get("cmi.core._children").code(0),
        get("cmi.core.score._children").returns("raw,min,max"),
        get("cmi.core.student_id").returns("stagiaire-7"),
        get("cmi.core.student_name"),
        get("cmi.core.lesson_status").returns("not attempted"),
        get("cmi.core.entry").returns("ab-initio"),
        get("cmi.core.credit").returns("no-credit"),
        get("cmi.core.lesson_mode").returns("browse"),
        get("cmi.core.total_time"),
        get("cmi.core.lesson_location").code(0).returns(""),
        get("cmi.launch_data"),
        get("cmi.student_data.mastery_score").returns("80"),
        get("cmi.student_data.max_time_allowed").code(0),
        get("cmi.core.lesson_status._children").code(202),
        get("cmi.core.lesson_status._count").code(203),
        get("cmi.core.score._count").code(203),
        get("cmi.core._count").code(203),
        get("cmi.nothing._children").code(201),
        get("cmi.core.nothing").code(201),
        get("").code(201),
        get("cmi.core.exit").code(404),
        get("cmi.core.session_time").code(404),
        get("cmi.objectives.0.id").code(201),
        get("__proto__").code(201),
        set("cmi.objectives.constructor.id", "x").code(201),
        set("cmi.core._children", "x").code(402),
        set("cmi.interactions._count", "1").code(402),
        set("cmi.core.lesson_status._children", "x").code(402),
        set("cmi.core.student_id", "x").code(403),
        set("cmi.core.credit", "credit").code(403),
        set("cmi.launch_data", "x").code(403),
        set("cmi.comments_from_lms", "x").code(403),
        set("cmi.nothing", "x").code(201),
        set("", "x").code(201),
        set("cmi.core.lesson_status", "done").code(405),
        set("cmi.core.lesson_status", "not attempted").code(405),
        set("cmi.core.lesson_status", "incomplete").code(0),
        set("cmi.core.score.raw", "101").code(405),
        set("cmi.core.score.raw", "abc").code(405),
        set("cmi.core.score.raw", "-1").code(405),
        set("cmi.core.score.raw", "1e3").code(405),
        set("cmi.core.score.raw", "").code(0),
        set("cmi.core.score.raw", "85.5").code(0),
        set("cmi.core.score.min", ".5").code(0),
        set("cmi.core.score.max", "100").code(0),
        set("cmi.core.session_time", "PT1H").code(405),
        set("cmi.core.session_time", "1:00:00").code(405),
        set("cmi.core.session_time", "00:60:00").code(405),
        set("cmi.core.session_time", "00:00:00.123").code(405),
        set("cmi.core.session_time", "9999:59:59.99").code(0),
        set("cmi.core.session_time", "0000:01:30.5").code(0),
        set("cmi.core.exit", "normal").code(405),
        set("cmi.core.exit", "suspend").code(0),
        set("cmi.core.lesson_location", &"x".repeat(256)).code(405),
        set("cmi.core.lesson_location", &smileys).code(0),
        get("cmi.core.lesson_location").returns(&smileys),
        set("cmi.suspend_data", &"x".repeat(4097)).code(405),
        set("cmi.suspend_data", &"é".repeat(4096)).code(0),
        set("cmi.student_preference.audio", "101").code(405),
        set("cmi.student_preference.audio", "1.5").code(405),
        set("cmi.student_preference.audio", "0010").code(0),
        set("cmi.student_preference.text", "2").code(405),
        set("cmi.student_preference.speed", "-100").code(0),
        set("cmi.student_preference.language", "fr").code(0),
        set("cmi.comments", "Bien").code(0),
    ]
}

fn arrays_12() -> Vec<Step> {
    vec![
        get("cmi.objectives._count").returns("0"),
        set("cmi.interactions.1.id", "q1").code(201),
        set("cmi.interactions.0.id", "q 1").code(405),
        set("cmi.interactions.0.id", "q1").code(0),
        set("cmi.interactions.0.type", "essay").code(405),
        set("cmi.interactions.0.type", "choice").code(0),
        set("cmi.interactions.0.objectives.0.id", "o1").code(0),
        set("cmi.interactions.0.objectives.2.id", "o1").code(201),
        set("cmi.interactions.0.correct_responses.0.pattern", "a").code(0),
        set("cmi.interactions.0.student_response", "b").code(0),
        set("cmi.interactions.0.result", "wrong").code(0),
        set("cmi.interactions.0.result", "0.5").code(0),
        set("cmi.interactions.0.result", "incorrect").code(405),
        set("cmi.interactions.0.latency", "0000:00:12.00").code(0),
        set("cmi.interactions.0.time", "24:00:00").code(405),
        set("cmi.interactions.0.time", "10:05:00").code(0),
        set("cmi.interactions.0.weighting", "2").code(0),
        get("cmi.interactions._count").returns("1"),
        get("cmi.interactions.0.objectives._count").returns("1"),
        get("cmi.interactions.0.correct_responses._count").returns("1"),
        get("cmi.interactions.0.id").code(404),
        get("cmi.interactions.1.objectives._count").code(201),
        get("cmi.interactions.01.id").code(201),
        set("cmi.objectives.0.score.raw", "50").code(0),
        get("cmi.objectives._count").returns("1"),
        get("cmi.objectives.0.score.raw").returns("50"),
        get("cmi.objectives.0.id").code(0).returns(""),
        get("cmi.objectives.0.score._children").returns("raw,min,max"),
        set("cmi.objectives.0.status", "not attempted").code(0),
        set("cmi.objectives.0.id", "obj 1").code(405),
        set("cmi.objectives.1.id", "obj1").code(0),
        get("cmi.objectives.5.id").code(201),
    ]
}

fn elements_2004() -> Vec<Step> {
    vec![
        get("cmi._version").returns("1.0"),
        get("cmi.completion_status").returns("unknown"),
        get("cmi.success_status").returns("unknown"),
        get("cmi.entry").returns("ab_initio"),
        get("cmi.mode").returns("review"),
        get("cmi.credit"),
        get("cmi.learner_id"),
        get("cmi.learner_name"),
        get("cmi.total_time"),
        get("cmi.launch_data"),
        get("cmi.time_limit_action"),
        get("cmi.max_time_allowed").code(403),
        get("adl.nav.request").returns("_none_"),
        get("adl.nav.request_valid.continue").returns("unknown"),
        get("cmi.scaled_passing_score").returns("0.7"),
        get("cmi.location").code(403),
        get("cmi.score.raw").code(403),
        get("cmi.core.lesson_status").code(401),
        get("").code(301),
        get("cmi.location._children").code(301),
        get("cmi.score._count").code(301),
        get("cmi.nothing._count").code(401),
        get("cmi.location.").code(401),
        get("hasOwnProperty").code(401),
        get("cmi.exit").code(405),
        get("cmi.session_time").code(405),
        get("cmi.learner_preference._children"),
        set("", "x").code(351),
        set("cmi._version", "2").code(404),
        set("cmi.score._children", "x").code(404),
        set("cmi.location._children", "x").code(404),
        set("cmi.interactions._count", "3").code(404),
        set("cmi.learner_id", "x").code(404),
        set("cmi.comments_from_lms.0.comment", "x").code(404),
        set("cmi.nothing", "x").code(401),
        set("cmi.nothing._version", "x").code(401),
        set("cmi.completion_status", "passed").code(406),
        set("cmi.completion_status", "completed").code(0),
        set("cmi.score.scaled", "1.5").code(407),
        set("cmi.score.scaled", "x").code(406),
        set("cmi.score.scaled", "0.6").code(0),
        get("cmi.success_status").returns("failed"),
        set("cmi.score.raw", "-12.25").code(0),
        set("cmi.progress_measure", "-0.1").code(407),
        set("cmi.progress_measure", "0.9").code(0),
        get("cmi.completion_status").returns("completed"),
        set("cmi.session_time", "00:10:00").code(406),
        set("cmi.session_time", "PT").code(406),
        set("cmi.session_time", "PT1.5M").code(406),
        set("cmi.session_time", "PT1S1M").code(406),
        set("cmi.session_time", "P1DT2H3M.5S").code(0),
        set("cmi.session_time", "PT1M30S").code(0),
        set("cmi.location", &"x".repeat(1001)).code(407),
        set("cmi.location", "chapitre-2").code(0),
        set("cmi.suspend_data", &"x".repeat(64001)).code(407),
        set("cmi.suspend_data", &"x".repeat(64000)).code(0),
        set("cmi.exit", "quit").code(406),
        set("cmi.exit", "suspend").code(0),
        set("adl.nav.request", "{target=sco2}choice").code(0),
        set("adl.nav.request", "{target=}jump").code(406),
        set("adl.nav.request", "jump").code(406),
        set("adl.nav.request", "exitAll").code(0),
        set("cmi.learner_preference.language", "fr-FR").code(0),
        set("cmi.learner_preference.language", "fr_FR").code(406),
        set("cmi.learner_preference.audio_level", "-1").code(407),
        set("cmi.learner_preference.audio_captioning", "2").code(406),
        set("cmi.learner_preference.delivery_speed", "1.5").code(0),
    ]
}

fn arrays_2004() -> Vec<Step> {
    let long = format!("{{lang=fr}}{}", "é".repeat(250));
    vec![
        set("cmi.comments_from_learner.0.comment", "{lang=fr}Très bien").code(0),
        set("cmi.comments_from_learner.0.comment", "{lang=fr Très").code(406),
        set("cmi.comments_from_learner.0.comment", "{lang=f_r}Très").code(406),
        set(
            "cmi.comments_from_learner.0.timestamp",
            "2026-12-05T10:30:15.25Z",
        )
        .code(0),
        set("cmi.comments_from_learner.0.timestamp", "2026-12-05T10Z").code(406),
        set("cmi.comments_from_learner.0.timestamp", "2026-13").code(406),
        set(
            "cmi.comments_from_learner.0.timestamp",
            "2026-12-05T10:30:15Z01:00",
        )
        .code(406),
        set("cmi.comments_from_learner.1.location", "p2").code(0),
        get("cmi.comments_from_learner._count").returns("2"),
        get("cmi.comments_from_learner.1.comment").code(403),
        set("cmi.interactions.1.id", "q1").code(351),
        set("cmi.interactions.0.result", "correct").code(408),
        set("cmi.interactions.0.id", "").code(406),
        set("cmi.interactions.0.id", "urn:q1").code(0),
        set("cmi.interactions.0.learner_response", "a").code(408),
        set("cmi.interactions.0.correct_responses.0.pattern", "a").code(408),
        set("cmi.interactions.0.type", "essay").code(406),
        set("cmi.interactions.0.type", "choice").code(0),
        set("cmi.interactions.0.learner_response", "a").code(0),
        set("cmi.interactions.0.correct_responses.0.pattern", "a").code(0),
        set("cmi.interactions.0.correct_responses.2.pattern", "a").code(351),
        set("cmi.interactions.0.result", "incorrect").code(0),
        set("cmi.interactions.0.result", "wrong").code(406),
        set("cmi.interactions.0.result", "-0.5").code(0),
        set("cmi.interactions.0.timestamp", "2026-12-05T10:30:00+01:00").code(0),
        set("cmi.interactions.0.latency", "PT5S").code(0),
        set("cmi.interactions.0.description", &long).code(0),
        set("cmi.interactions.0.description", &format!("{long}x")).code(407),
        set("cmi.interactions.0.objectives.0.id", "obj1").code(0),
        set("cmi.interactions.0.objectives.1.id", "obj1").code(351),
        get("cmi.interactions.0.objectives._count").returns("1"),
        get("cmi.interactions.0.learner_response").returns("a"),
        get("cmi.interactions.0.weighting").code(403),
        get("cmi.interactions.1.id").code(301),
        get("cmi.interactions.01.id").code(401),
        get("cmi.interactions.1.objectives._count").code(301),
        set("cmi.objectives.0.score.scaled", "0.5").code(408),
        set("cmi.objectives.0.id", "obj1").code(0),
        set("cmi.objectives.1.id", "obj2").code(0),
        set("cmi.objectives.1.id", "obj1").code(351),
        set("cmi.objectives.1.id", "obj2").code(0),
        set("cmi.objectives.0.score.scaled", "0.5").code(0),
        set("cmi.objectives.0.progress_measure", "2").code(407),
        set("cmi.objectives.0.success_status", "passed").code(0),
        get("cmi.objectives._count").returns("2"),
        get("cmi.objectives.0.score._children").returns("scaled,raw,min,max"),
    ]
}

/// A session through `Runtime` alone, left suspended (or not): what the server stored.
fn stored(version: Version, exit: &str) -> Snapshot {
    let mut rt = Runtime::new(version, &Launch::default(), None);
    assert!(rt.initialize(""));
    let (location, exit_name) = match version {
        Version::Scorm12 => ("cmi.core.lesson_location", "cmi.core.exit"),
        Version::Scorm2004 => ("cmi.location", "cmi.exit"),
    };
    for (name, value) in [
        (location, "page3"),
        ("cmi.suspend_data", "état=3;réponses=a,b"),
        ("cmi.interactions.0.id", "q1"),
        (exit_name, exit),
    ] {
        assert!(rt.set_value(name, value), "{name}");
    }
    rt.terminate("").unwrap()
}

/// The next session of a stored one: resumed after `suspend`, a new 2004 attempt otherwise.
fn resumed(version: Version) -> Vec<Step> {
    let v12 = version == Version::Scorm12;
    let name = |a: &'static str, b: &'static str| if v12 { a } else { b };
    let c = |a: u16, b: u16| if v12 { a } else { b };
    vec![
        init("").code(0),
        get(name("cmi.core.entry", "cmi.entry")).returns("resume"),
        get(name("cmi.core.lesson_location", "cmi.location")).returns("page3"),
        get("cmi.suspend_data").returns("état=3;réponses=a,b"),
        get("cmi.interactions._count").returns("1"),
        get(name("cmi.core.exit", "cmi.exit")).code(c(404, 405)),
        set("cmi.interactions.1.id", "q2").code(0),
        set("cmi.interactions.3.id", "q4").code(c(201, 351)),
        set("cmi.suspend_data", "état=4").code(0),
        commit("").code(0),
        term("").code(0),
    ]
}

fn new_attempt() -> Vec<Step> {
    vec![
        init(""),
        get("cmi.entry").returns("ab_initio"),
        get("cmi.location").code(403),
        get("cmi.suspend_data").code(403),
        get("cmi.interactions._count").returns("0"),
        set("cmi.location", "page1").code(0),
        term(""),
    ]
}

fn launch(version: Version) -> Launch {
    let v12 = version == Version::Scorm12;
    Launch {
        learner_id: "stagiaire-7".into(),
        learner_name: "Roux, Léa".into(),
        credit: false,
        mode: if v12 { Mode::Browse } else { Mode::Review },
        launch_data: Some("chapitre=2&niveau=1".into()),
        mastery: Some(match version {
            Version::Scorm12 => Mastery::Score {
                mastery_score: 80.0,
            },
            Version::Scorm2004 => Mastery::Thresholds {
                scaled_passing_score: Some(0.7),
                completion_threshold: Some(0.8),
            },
        }),
        total_seconds: 3723.5,
    }
}

#[tokio::test]
async fn scorm_runtime_script_and_rust_runtime_agree_call_by_call() {
    // A blank page is enough: no server is involved, the script posts nothing.
    let b = Browser::start(DESKTOP, "http://127.0.0.1:9").await;
    for version in [Version::Scorm12, Version::Scorm2004] {
        let (before, after) = states(version);
        let middle = match version {
            Version::Scorm12 => [elements_12(), arrays_12(), fill_interactions(201)].concat(),
            Version::Scorm2004 => [elements_2004(), arrays_2004(), fill_interactions(351)].concat(),
        };
        let steps = [before, middle, after].concat();
        assert!(steps.len() > 60 + MAX_ENTRIES);
        let rt = Runtime::new(version, &launch(version), None);
        compare(&b, &format!("{version:?}"), rt, version, &steps).await;

        let suspended = stored(version, "suspend");
        let rt = Runtime::new(version, &launch(version), Some(&suspended));
        let (label, steps) = (format!("{version:?} resumed"), resumed(version));
        compare(&b, &label, rt, version, &steps).await;
    }
    let ended = stored(Version::Scorm2004, "normal");
    let rt = Runtime::new(Version::Scorm2004, &Launch::default(), Some(&ended));
    let steps = new_attempt();
    compare(&b, "2004 new attempt", rt, Version::Scorm2004, &steps).await;
}
