use super::*;

fn running(version: Version) -> Runtime {
    let mut rt = Runtime::new(version, &Launch::default(), None);
    assert!(rt.initialize(""));
    rt
}

fn set_fails(rt: &mut Runtime, name: &str, value: &str, code: u16) {
    assert!(!rt.set_value(name, value), "{name} = {value} accepted");
    assert_eq!(rt.last_error(), code, "{name} = {value}");
}

fn get_fails(rt: &mut Runtime, name: &str, code: u16) {
    assert_eq!(rt.get_value(name), "");
    assert_eq!(rt.last_error(), code, "{name}");
}

#[test]
fn states_12() {
    let mut rt = Runtime::new(Version::Scorm12, &Launch::default(), None);
    get_fails(&mut rt, "cmi.core.lesson_status", 301);
    set_fails(&mut rt, "cmi.core.lesson_location", "p1", 301);
    assert!(rt.commit("").is_none());
    assert_eq!(rt.last_error(), 301);
    assert!(rt.terminate("").is_none());
    assert_eq!(rt.last_error(), 301);
    assert!(!rt.initialize("x"));
    assert_eq!(rt.last_error(), 201);
    assert!(rt.initialize(""));
    assert!(!rt.initialize(""));
    assert_eq!(rt.last_error(), 101);
    assert!(rt.terminate("").is_some());
    get_fails(&mut rt, "cmi.core.lesson_status", 301);
    assert_eq!(rt.error_string(301), "Not initialized");
    assert!(!rt.diagnostic(301).is_empty());
}

#[test]
fn states_2004() {
    let mut rt = Runtime::new(Version::Scorm2004, &Launch::default(), None);
    get_fails(&mut rt, "cmi.location", 122);
    set_fails(&mut rt, "cmi.location", "p1", 132);
    assert!(rt.commit("").is_none());
    assert_eq!(rt.last_error(), 142);
    assert!(rt.terminate("").is_none());
    assert_eq!(rt.last_error(), 112);
    assert!(rt.initialize(""));
    assert!(!rt.initialize(""));
    assert_eq!(rt.last_error(), 103);
    assert!(rt.commit("x").is_none());
    assert_eq!(rt.last_error(), 201);
    assert!(rt.terminate("").is_some());
    assert_eq!(rt.last_error(), 0);
    get_fails(&mut rt, "cmi.location", 123);
    set_fails(&mut rt, "cmi.location", "p1", 133);
    assert!(rt.commit("").is_none());
    assert_eq!(rt.last_error(), 143);
    assert!(rt.terminate("").is_none());
    assert_eq!(rt.last_error(), 113);
    assert!(!rt.initialize(""));
    assert_eq!(rt.last_error(), 104);
    assert_eq!(
        rt.error_string(408),
        "Data Model Dependency Not Established"
    );
}

#[test]
fn elements_12() {
    let mut rt = running(Version::Scorm12);
    assert_eq!(rt.get_value("cmi.core.lesson_status"), "not attempted");
    assert_eq!(rt.get_value("cmi.core.entry"), "ab-initio");
    assert_eq!(rt.get_value("cmi.core.credit"), "credit");
    assert_eq!(rt.get_value("cmi.core.lesson_location"), "");
    assert_eq!(rt.last_error(), 0);
    assert_eq!(rt.get_value("cmi.core.score._children"), "raw,min,max");
    get_fails(&mut rt, "cmi.core.lesson_status._children", 202);
    get_fails(&mut rt, "cmi.core.lesson_status._count", 203);
    get_fails(&mut rt, "cmi.core.nothing", 201);
    get_fails(&mut rt, "", 201);
    get_fails(&mut rt, "cmi.core.exit", 404);
    get_fails(&mut rt, "cmi.core.session_time", 404);
    set_fails(&mut rt, "cmi.core._children", "x", 402);
    set_fails(&mut rt, "cmi.interactions._count", "1", 402);
    set_fails(&mut rt, "cmi.core.student_id", "x", 403);
    set_fails(&mut rt, "cmi.core.credit", "credit", 403);
    set_fails(&mut rt, "cmi.core.lesson_status", "done", 405);
    set_fails(&mut rt, "cmi.core.lesson_status", "not attempted", 405);
    set_fails(&mut rt, "cmi.core.score.raw", "101", 405);
    set_fails(&mut rt, "cmi.core.score.raw", "abc", 405);
    assert!(rt.set_value("cmi.core.score.raw", ""));
    assert!(rt.set_value("cmi.core.score.raw", "85.5"));
    set_fails(&mut rt, "cmi.core.session_time", "PT1H", 405);
    assert!(rt.set_value("cmi.core.session_time", "0000:01:30.5"));
    set_fails(&mut rt, "cmi.core.exit", "normal", 405);
    assert!(rt.set_value("cmi.core.exit", "suspend"));
    set_fails(&mut rt, "cmi.core.lesson_location", &"x".repeat(256), 405);
    assert!(rt.set_value("cmi.suspend_data", &"x".repeat(4096)));
    set_fails(&mut rt, "cmi.suspend_data", &"x".repeat(4097), 405);
    set_fails(&mut rt, "cmi.student_preference.audio", "101", 405);
    assert!(rt.set_value("cmi.student_preference.audio", "-1"));
    set_fails(&mut rt, "cmi.launch_data", "x", 403);
}

#[test]
fn arrays_12() {
    let mut rt = running(Version::Scorm12);
    assert_eq!(rt.get_value("cmi.interactions._count"), "0");
    set_fails(&mut rt, "cmi.interactions.1.id", "q1", 201);
    assert!(rt.set_value("cmi.interactions.0.id", "q1"));
    assert!(rt.set_value("cmi.interactions.0.type", "choice"));
    assert!(rt.set_value("cmi.interactions.0.objectives.0.id", "o1"));
    assert!(rt.set_value("cmi.interactions.0.correct_responses.0.pattern", "a"));
    assert!(rt.set_value("cmi.interactions.0.student_response", "b"));
    assert!(rt.set_value("cmi.interactions.0.result", "wrong"));
    assert!(rt.set_value("cmi.interactions.0.result", "0.5"));
    set_fails(&mut rt, "cmi.interactions.0.result", "incorrect", 405);
    assert!(rt.set_value("cmi.interactions.0.latency", "0000:00:12.00"));
    assert!(rt.set_value("cmi.interactions.0.time", "10:05:00"));
    assert_eq!(rt.get_value("cmi.interactions._count"), "1");
    assert_eq!(rt.get_value("cmi.interactions.0.objectives._count"), "1");
    assert_eq!(
        rt.get_value("cmi.interactions.0.correct_responses._count"),
        "1"
    );
    get_fails(&mut rt, "cmi.interactions.0.id", 404);
    get_fails(&mut rt, "cmi.interactions.1.objectives._count", 201);
    // Objectives are readable, without dependencies in 1.2.
    assert!(rt.set_value("cmi.objectives.0.score.raw", "50"));
    assert_eq!(rt.get_value("cmi.objectives._count"), "1");
    assert_eq!(rt.get_value("cmi.objectives.0.score.raw"), "50");
    assert_eq!(rt.get_value("cmi.objectives.0.id"), "");
    assert!(rt.set_value("cmi.objectives.0.status", "not attempted"));
    get_fails(&mut rt, "cmi.objectives.5.id", 201);
}

#[test]
fn elements_2004() {
    let mut rt = running(Version::Scorm2004);
    assert_eq!(rt.get_value("cmi._version"), "1.0");
    assert_eq!(rt.get_value("cmi.completion_status"), "unknown");
    assert_eq!(rt.get_value("cmi.entry"), "ab_initio");
    assert_eq!(rt.get_value("cmi.mode"), "normal");
    assert_eq!(rt.get_value("adl.nav.request"), "_none_");
    get_fails(&mut rt, "cmi.location", 403);
    get_fails(&mut rt, "cmi.score.raw", 403);
    get_fails(&mut rt, "cmi.core.lesson_status", 401);
    get_fails(&mut rt, "", 301);
    get_fails(&mut rt, "cmi.location._children", 301);
    get_fails(&mut rt, "cmi.score._count", 301);
    get_fails(&mut rt, "cmi.exit", 405);
    get_fails(&mut rt, "cmi.session_time", 405);
    set_fails(&mut rt, "", "x", 351);
    set_fails(&mut rt, "cmi._version", "2", 404);
    set_fails(&mut rt, "cmi.score._children", "x", 404);
    set_fails(&mut rt, "cmi.learner_id", "x", 404);
    set_fails(&mut rt, "cmi.nothing", "x", 401);
    set_fails(&mut rt, "cmi.completion_status", "passed", 406);
    set_fails(&mut rt, "cmi.score.scaled", "1.5", 407);
    set_fails(&mut rt, "cmi.score.scaled", "x", 406);
    set_fails(&mut rt, "cmi.progress_measure", "-0.1", 407);
    set_fails(&mut rt, "cmi.session_time", "00:10:00", 406);
    set_fails(&mut rt, "cmi.location", &"x".repeat(1001), 407);
    set_fails(&mut rt, "cmi.suspend_data", &"x".repeat(64001), 407);
    assert!(rt.set_value("cmi.suspend_data", &"x".repeat(64000)));
    assert!(rt.set_value("cmi.session_time", "PT1M30S"));
    assert!(rt.set_value("cmi.score.scaled", "-1"));
    assert!(rt.set_value("adl.nav.request", "{target=sco2}choice"));
    set_fails(&mut rt, "adl.nav.request", "jump", 406);
    assert!(rt.set_value("cmi.learner_preference.language", "fr-FR"));
    assert!(rt.set_value("cmi.comments_from_learner.0.comment", "{lang=fr}Très bien"));
    set_fails(&mut rt, "cmi.comments_from_lms.0.comment", "x", 404);
}

#[test]
fn arrays_2004() {
    let mut rt = running(Version::Scorm2004);
    set_fails(&mut rt, "cmi.interactions.1.id", "q1", 351);
    set_fails(&mut rt, "cmi.interactions.0.result", "correct", 408);
    assert!(rt.set_value("cmi.interactions.0.id", "urn:q1"));
    set_fails(&mut rt, "cmi.interactions.0.learner_response", "a", 408);
    set_fails(
        &mut rt,
        "cmi.interactions.0.correct_responses.0.pattern",
        "a",
        408,
    );
    assert!(rt.set_value("cmi.interactions.0.type", "choice"));
    assert!(rt.set_value("cmi.interactions.0.learner_response", "a"));
    assert!(rt.set_value("cmi.interactions.0.correct_responses.0.pattern", "a"));
    set_fails(
        &mut rt,
        "cmi.interactions.0.correct_responses.2.pattern",
        "a",
        351,
    );
    assert!(rt.set_value("cmi.interactions.0.result", "incorrect"));
    set_fails(&mut rt, "cmi.interactions.0.result", "wrong", 406);
    assert!(rt.set_value("cmi.interactions.0.timestamp", "2026-12-05T10:30:00"));
    assert!(rt.set_value("cmi.interactions.0.latency", "PT5S"));
    assert_eq!(rt.get_value("cmi.interactions._count"), "1");
    assert_eq!(rt.get_value("cmi.interactions.0.learner_response"), "a");
    get_fails(&mut rt, "cmi.interactions.0.weighting", 403);
    get_fails(&mut rt, "cmi.interactions.1.id", 301);
    get_fails(&mut rt, "cmi.interactions.01.id", 401);
    // Objective ids come first and are unique.
    set_fails(&mut rt, "cmi.objectives.0.score.scaled", "0.5", 408);
    assert!(rt.set_value("cmi.objectives.0.id", "obj1"));
    assert!(rt.set_value("cmi.objectives.1.id", "obj2"));
    set_fails(&mut rt, "cmi.objectives.1.id", "obj1", 351);
    assert!(rt.set_value("cmi.objectives.1.id", "obj2"));
    assert!(rt.set_value("cmi.objectives.0.score.scaled", "0.5"));
    assert_eq!(rt.get_value("cmi.objectives._count"), "2");
    assert_eq!(
        rt.get_value("cmi.objectives.0.score._children"),
        "scaled,raw,min,max"
    );
}

#[test]
fn array_size_is_bounded() {
    let mut rt = running(Version::Scorm2004);
    for i in 0..MAX_ENTRIES {
        assert!(rt.set_value(&format!("cmi.interactions.{i}.id"), "q"));
    }
    set_fails(
        &mut rt,
        &format!("cmi.interactions.{MAX_ENTRIES}.id"),
        "q",
        351,
    );
}

#[test]
fn thresholds_evaluate_the_statuses() {
    let launch = Launch {
        mastery: Some(Mastery::Thresholds {
            scaled_passing_score: Some(0.7),
            completion_threshold: Some(0.8),
        }),
        ..Launch::default()
    };
    let mut rt = Runtime::new(Version::Scorm2004, &launch, None);
    rt.initialize("");
    assert_eq!(rt.get_value("cmi.scaled_passing_score"), "0.7");
    assert!(rt.set_value("cmi.completion_status", "completed"));
    assert!(rt.set_value("cmi.progress_measure", "0.5"));
    assert_eq!(rt.get_value("cmi.completion_status"), "incomplete");
    assert!(rt.set_value("cmi.success_status", "passed"));
    assert!(rt.set_value("cmi.score.scaled", "0.6"));
    assert_eq!(rt.get_value("cmi.success_status"), "failed");
}

#[test]
fn resume_after_suspend_and_new_attempt() {
    for (version, location, exit, entry) in [
        (
            Version::Scorm12,
            "cmi.core.lesson_location",
            "cmi.core.exit",
            "cmi.core.entry",
        ),
        (Version::Scorm2004, "cmi.location", "cmi.exit", "cmi.entry"),
    ] {
        let mut rt = running(version);
        assert!(rt.set_value(location, "page3"));
        assert!(rt.set_value("cmi.suspend_data", "abc"));
        assert!(rt.set_value(exit, "suspend"));
        let stored = rt.terminate("").unwrap();
        assert_eq!(stored.exit(), Some("suspend"));

        let mut again = Runtime::new(version, &Launch::default(), Some(&stored));
        again.initialize("");
        assert_eq!(again.get_value(entry), "resume");
        assert_eq!(again.get_value(location), "page3");
        assert_eq!(again.get_value("cmi.suspend_data"), "abc");
        // The last exit is not carried into this session.
        assert!(!again.snapshot().values.contains_key(exit));
    }
    // 2004: a normal exit ends the attempt; the next one starts empty.
    let mut rt = running(Version::Scorm2004);
    assert!(rt.set_value("cmi.location", "page3"));
    assert!(rt.set_value("cmi.exit", "normal"));
    let stored = rt.terminate("").unwrap();
    let mut again = Runtime::new(Version::Scorm2004, &Launch::default(), Some(&stored));
    again.initialize("");
    assert_eq!(again.get_value("cmi.entry"), "ab_initio");
    get_fails(&mut again, "cmi.location", 403);
}
