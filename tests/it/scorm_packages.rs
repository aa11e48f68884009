//! Packages made by real authoring tools (tests/assets/scorm/), small hand-made ones for the
//! edge cases they lack, and the run-time call sequences those packages make.

use std::cell::RefCell;
use std::io::{Cursor, Read, Write};

use parcours::scorm::cmi5::{AuUrl, MoveOn};
use parcours::scorm::datamodel::{
    Completion, Launch, Mode, Runtime, Snapshot, Success, Version, definitions,
};
use parcours::scorm::manifest::{Edition, Mastery, ScoKind, Standard};
use parcours::scorm::package::{Found, Opened, open};
use parcours::scorm::{PackageError, manifest};

fn asset(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/assets/scorm")
        .join(name);
    std::fs::read(path).unwrap()
}

/// Opens a ZIP the way the upload will: its names, and a reader of one entry.
fn open_zip(bytes: Vec<u8>) -> Result<Opened, PackageError> {
    let archive = RefCell::new(zip::ZipArchive::new(Cursor::new(bytes)).unwrap());
    let names: Vec<String> = archive.borrow().file_names().map(str::to_string).collect();
    open(&names, |name| {
        let mut archive = archive.borrow_mut();
        let mut file = archive.by_name(name).ok()?;
        let mut out = Vec::new();
        file.read_to_end(&mut out).ok()?;
        Some(out)
    })
}

fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content) in files {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(content.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn scorm(opened: Opened) -> manifest::Package {
    match opened.found {
        Found::Scorm(p) => p,
        Found::Cmi5(_) => panic!("cmi5 found instead of SCORM"),
    }
}

#[test]
fn adapt_scorm12_package() {
    let opened = open_zip(asset("scorm12_adapt_etce_circular_economy.zip")).unwrap();
    assert_eq!(opened.root, "");
    // What the upload will keep with the activity.
    let json = serde_json::to_value(&opened).unwrap();
    assert_eq!(json["found"]["kind"], "scorm");
    assert_eq!(json["found"]["standard"]["standard"], "scorm12");
    assert_eq!(json["found"]["scos"][0]["launch"], "index_lms.html");
    let p = scorm(opened);
    assert_eq!(p.standard, Standard::Scorm12);
    assert_eq!(p.title, "Emerging Technologies for the Circular Economy");
    assert_eq!(p.scos.len(), 1);
    assert_eq!(p.scos[0].launch, "index_lms.html");
    assert_eq!(p.scos[0].kind, ScoKind::Sco);
    assert_eq!(p.scos[0].mastery, None);
}

#[test]
fn golf_scorm2004_package() {
    let p = scorm(open_zip(asset("scorm2004_3rd_golf_runtimebasiccalls.zip")).unwrap());
    assert_eq!(
        p.standard,
        Standard::Scorm2004 {
            edition: Edition::Third
        }
    );
    assert_eq!(p.title, "Golf Explained - Run-time Basic Calls");
    assert_eq!(p.scos.len(), 1);
    assert_eq!(p.scos[0].identifier, "item_1");
    assert_eq!(p.scos[0].launch, "shared/launchpage.html");
    // Its sequencing has delivery controls only: no passing score, no threshold.
    assert_eq!(p.scos[0].mastery, None);
}

#[test]
fn catapult_cmi5_package() {
    let opened = open_zip(asset("cmi5_catapult_single_au_basic_responsive.zip")).unwrap();
    let Found::Cmi5(course) = opened.found else {
        panic!("SCORM found instead of cmi5");
    };
    assert_eq!(
        course.id,
        "https://w3id.org/xapi/cmi5/catapult/lts/course/geology-intro-single-au-basic-responsive"
    );
    assert_eq!(course.title, "Introduction to Geology - Responsive Style");
    assert_eq!(course.aus.len(), 1);
    let au = &course.aus[0];
    assert_eq!(au.url, AuUrl::Relative("index.html".into()));
    assert_eq!(au.move_on, MoveOn::CompletedOrPassed);
    assert_eq!(au.mastery_score, None);
}

const NS12: &str = r#"xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2""#;

fn manifest12(organization: &str, resources: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="m" version="1" {NS12}>
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="org"><organization identifier="org"><title>Module 1</title>{organization}</organization></organizations>
  <resources>{resources}</resources>
</manifest>"#
    )
}

#[test]
fn several_scos_in_nested_items_in_manifest_order() {
    let xml = manifest12(
        r##"<item identifier="chap1"><title>Chapitre 1</title>
             <item identifier="s1" identifierref="r1" parameters="?page=2"><title>Accueil</title>
               <adlcp:masteryscore>75</adlcp:masteryscore></item>
             <item identifier="hidden" identifierref="r2" isvisible="false"><title>Caché</title>
               <item identifier="under_hidden" identifierref="r2"><title>Sous caché</title></item></item>
             <item identifier="s2" identifierref="r2" parameters="#fin"><title>Quiz</title></item>
           </item>
           <item identifier="s3" identifierref="r3" parameters="&amp;lang=fr"><title>Annexe</title></item>"##,
        r#"<resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="sco1/index.html"/>
           <resource identifier="r2" type="webcontent" adlcp:scormtype="sco" xml:base="sco2/" href="quiz.html?mode=a"/>
           <resource identifier="r3" type="webcontent" adlcp:scormtype="asset" href="annexe%20a.pdf"/>"#,
    )
    .replace(r#"<resources>"#, r#"<resources xml:base="content/">"#);
    let package = zip_of(&[
        ("imsmanifest.xml", &xml),
        ("content/sco1/index.html", "<p>1</p>"),
        ("content/sco2/quiz.html", "<p>2</p>"),
        ("content/annexe a.pdf", "%PDF"),
        ("__MACOSX/._imsmanifest.xml", "junk"),
        (".DS_Store", "junk"),
        ("content/.DS_Store", "junk"),
    ]);
    let p = scorm(open_zip(package).unwrap());
    let ids: Vec<&str> = p.scos.iter().map(|s| s.identifier.as_str()).collect();
    assert_eq!(ids, ["s1", "s2", "s3"]);
    let launches: Vec<&str> = p.scos.iter().map(|s| s.launch.as_str()).collect();
    assert_eq!(
        launches,
        [
            "content/sco1/index.html?page=2",
            "content/sco2/quiz.html?mode=a#fin",
            "content/annexe%20a.pdf?lang=fr"
        ]
    );
    assert_eq!(
        p.scos[0].mastery,
        Some(Mastery::Score {
            mastery_score: 75.0
        })
    );
    assert_eq!(p.scos[2].kind, ScoKind::Asset);
    assert_eq!(p.scos[1].title, "Quiz");
}

#[test]
fn scorm2004_fourth_edition_with_two_scos() {
    let xml = r#"<?xml version="1.0"?>
<manifest identifier="m" xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3" xmlns:imsss="http://www.imsglobal.org/xsd/imsss">
  <metadata><schema>ADL SCORM</schema><schemaversion>2004 4th Edition</schemaversion></metadata>
  <organizations default="org"><organization identifier="org"><title>Hygiène des mains</title>
    <item identifier="intro" identifierref="r1"><title>Introduction</title>
      <adlcp:completionThreshold completedByMeasure="true" minProgressMeasure="0.8"/></item>
    <item identifier="quiz" identifierref="r2" parameters="?mode=quiz"><title>Évaluation</title>
      <imsss:sequencing><imsss:objectives>
        <imsss:primaryObjective objectiveID="p" satisfiedByMeasure="true">
          <imsss:minNormalizedMeasure>0.7</imsss:minNormalizedMeasure></imsss:primaryObjective>
      </imsss:objectives></imsss:sequencing></item>
  </organization></organizations>
  <resources>
    <resource identifier="r1" type="webcontent" adlcp:scormType="sco" href="intro/index.html"/>
    <resource identifier="r2" type="webcontent" adlcp:scormType="sco" href="quiz/index.html?x=1"/>
  </resources>
</manifest>"#;
    let package = zip_of(&[
        ("imsmanifest.xml", xml),
        ("intro/index.html", "1"),
        ("quiz/index.html", "2"),
    ]);
    let p = scorm(open_zip(package).unwrap());
    assert_eq!(
        p.standard,
        Standard::Scorm2004 {
            edition: Edition::Fourth
        }
    );
    assert_eq!(p.title, "Hygiène des mains");
    assert_eq!(p.scos.len(), 2);
    assert_eq!(p.scos[1].launch, "quiz/index.html?x=1&mode=quiz");
    assert_eq!(
        p.scos[0].mastery,
        Some(Mastery::Thresholds {
            scaled_passing_score: None,
            completion_threshold: Some(0.8)
        })
    );
    // The quiz's passing score reaches the SCO and judges its score.
    let launch = Launch {
        mastery: p.scos[1].mastery,
        ..learner()
    };
    let mut rt = Runtime::new(Version::Scorm2004, &launch, None);
    assert!(rt.initialize(""));
    assert_eq!(rt.get_value("cmi.scaled_passing_score"), "0.7");
    assert!(rt.set_value("cmi.score.scaled", "0.65"));
    assert_eq!(rt.get_value("cmi.success_status"), "failed");
    let last = rt.terminate("").unwrap();
    assert_eq!(last.outcome(p.scos[1].mastery).success, Success::Failed);
}

#[test]
fn a_package_zipped_in_its_folder_is_found() {
    let xml = manifest12(
        r#"<item identifier="s1" identifierref="r1"><title>Un</title></item>"#,
        r#"<resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="index.html"/>"#,
    );
    let package = zip_of(&[
        ("export/", ""),
        ("export/imsmanifest.xml", &xml),
        ("export/index.html", "x"),
        ("__MACOSX/export/._index.html", "junk"),
    ]);
    let opened = open_zip(package).unwrap();
    assert_eq!(opened.root, "export/");
    assert_eq!(scorm(opened).scos[0].launch, "index.html");
}

#[test]
fn bad_packages_are_refused_with_their_reason() {
    let one = |href: &str| {
        manifest12(
            r#"<item identifier="s1" identifierref="r1"><title>Un</title></item>"#,
            &format!(
                r#"<resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="{href}"/>"#
            ),
        )
    };
    let cases: Vec<(Vec<(&str, String)>, PackageError)> = vec![
        (vec![("index.html", "x".into())], PackageError::NoManifest),
        (
            vec![("imsmanifest.xml", "<manifest><organizations>".into())],
            PackageError::Malformed {
                file: "imsmanifest.xml".into(),
                row: 1,
                col: 26,
            },
        ),
        (
            vec![
                ("imsmanifest.xml", one("../outside.html")),
                ("index.html", "x".into()),
            ],
            PackageError::Escapes("../outside.html".into()),
        ),
        (
            vec![
                ("imsmanifest.xml", one("missing.html")),
                ("index.html", "x".into()),
            ],
            PackageError::LaunchMissing("missing.html".into()),
        ),
        (
            vec![(
                "imsmanifest.xml",
                manifest12(
                    r#"<item identifier="s1" identifierref="nowhere"><title>Un</title></item>"#,
                    "",
                ),
            )],
            PackageError::MissingResource {
                item: "s1".into(),
                resource: "nowhere".into(),
            },
        ),
        (
            vec![("imsmanifest.xml", manifest12("", ""))],
            PackageError::NothingToLaunch,
        ),
        (
            vec![(
                "imsmanifest.xml",
                r#"<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><manifest>&x;</manifest>"#.into(),
            )],
            PackageError::Dtd("imsmanifest.xml".into()),
        ),
        (
            vec![("imsmanifest.xml", one("index.html")), ("index.html", "x".into()), ("../evil.sh", "x".into())],
            PackageError::Escapes("../evil.sh".into()),
        ),
    ];
    for (files, expected) in cases {
        let files: Vec<(&str, &str)> = files.iter().map(|(n, c)| (*n, c.as_str())).collect();
        let got = open_zip(zip_of(&files)).unwrap_err();
        assert_eq!(got, expected);
        // Every refusal speaks French to the administrator.
        let message = got.to_string();
        assert!(
            message.ends_with('.') && !message.contains("error"),
            "{message}"
        );
    }
}

fn learner() -> Launch {
    Launch {
        learner_id: "42".into(),
        learner_name: "Durand, Léa".into(),
        credit: true,
        mode: Mode::Normal,
        launch_data: None,
        mastery: None,
        total_seconds: 0.0,
    }
}

/// What Adapt's SCORM 1.2 wrapper does: read the learner and the bookmark, mark incomplete,
/// save answers in suspend data and interactions, commit, suspend and finish.
fn adapt_first_session(rt: &mut Runtime) -> Snapshot {
    assert!(rt.initialize(""));
    assert_eq!(rt.get_value("cmi.core.lesson_status"), "not attempted");
    assert_eq!(rt.get_value("cmi.core.student_id"), "42");
    assert_eq!(rt.get_value("cmi.core.student_name"), "Durand, Léa");
    assert_eq!(rt.get_value("cmi.core.entry"), "ab-initio");
    assert_eq!(rt.get_value("cmi.suspend_data"), "");
    assert!(
        rt.get_value("cmi.interactions._children")
            .contains("student_response")
    );
    assert!(rt.set_value("cmi.core.lesson_status", "incomplete"));
    assert!(rt.set_value("cmi.core.score.raw", "0"));
    assert!(rt.set_value("cmi.core.score.min", "0"));
    assert!(rt.set_value("cmi.core.score.max", "100"));
    assert!(rt.commit("").is_some());
    assert!(rt.set_value("cmi.core.lesson_location", "co-05"));
    assert!(rt.set_value("cmi.suspend_data", r#"{"c":"1","q":"0110"}"#));
    let n = rt.get_value("cmi.interactions._count");
    assert_eq!(n, "0");
    assert!(rt.set_value("cmi.interactions.0.id", "c-20-q1"));
    assert!(rt.set_value("cmi.interactions.0.type", "choice"));
    assert!(rt.set_value("cmi.interactions.0.student_response", "b"));
    assert!(rt.set_value("cmi.interactions.0.correct_responses.0.pattern", "b"));
    assert!(rt.set_value("cmi.interactions.0.result", "correct"));
    assert!(rt.set_value("cmi.interactions.0.latency", "0000:00:12.5"));
    assert!(rt.set_value("cmi.interactions.0.time", "10:21:07"));
    assert!(rt.set_value("cmi.objectives.0.id", "c-20"));
    assert!(rt.commit("").is_some());
    assert!(rt.set_value("cmi.core.session_time", "0000:07:41.3"));
    assert!(rt.set_value("cmi.core.exit", "suspend"));
    let stored = rt.finish("").unwrap();
    // Calls after LMSFinish get the standard's code, not an exception.
    assert!(!rt.set_value("cmi.core.lesson_status", "completed"));
    assert_eq!(rt.last_error(), 301);
    stored
}

#[test]
fn adapt_like_scorm12_session_resumes_and_completes() {
    let launch = learner();
    let mut rt = Runtime::new(Version::Scorm12, &launch, None);
    let stored = adapt_first_session(&mut rt);
    assert_eq!(stored.values["cmi.core.lesson_location"], "co-05");
    let outcome = stored.outcome(None);
    assert_eq!(outcome.completion, Completion::Incomplete);
    assert_eq!(outcome.session_seconds, Some(461.3));
    assert!(outcome.suspended);
    // The server re-checks what the browser sends.
    assert_eq!(
        Snapshot::validate(Version::Scorm12, &stored),
        Ok(stored.clone())
    );

    let resumed = Launch {
        total_seconds: 461.3,
        ..launch
    };
    let mut rt = Runtime::new(Version::Scorm12, &resumed, Some(&stored));
    assert!(rt.initialize(""));
    assert_eq!(rt.get_value("cmi.core.entry"), "resume");
    assert_eq!(rt.get_value("cmi.core.lesson_location"), "co-05");
    assert_eq!(rt.get_value("cmi.suspend_data"), r#"{"c":"1","q":"0110"}"#);
    assert_eq!(rt.get_value("cmi.core.lesson_status"), "incomplete");
    assert_eq!(rt.get_value("cmi.core.total_time"), "0000:07:41.30");
    assert_eq!(rt.get_value("cmi.interactions._count"), "1");
    assert!(rt.set_value("cmi.interactions.1.id", "c-25-q1"));
    assert!(rt.set_value("cmi.core.score.raw", "80"));
    assert!(rt.set_value("cmi.core.lesson_status", "passed"));
    assert!(rt.set_value("cmi.core.session_time", "0000:03:00.00"));
    assert!(rt.set_value("cmi.core.exit", ""));
    let last = rt.terminate("").unwrap();
    let outcome = last.outcome(Some(Mastery::Score {
        mastery_score: 70.0,
    }));
    assert_eq!(outcome.completion, Completion::Completed);
    assert_eq!(outcome.success, Success::Passed);
    assert_eq!(outcome.raw, Some(80.0));
    assert_eq!(outcome.scaled, Some(0.8));
    assert!(!outcome.suspended);
}

/// What the Golf example's launch page does, including a close half-way.
#[test]
fn golf_like_scorm2004_session_resumes_and_passes() {
    let mut rt = Runtime::new(Version::Scorm2004, &learner(), None);
    assert!(!rt.set_value("cmi.location", "1"));
    assert_eq!(rt.last_error(), 132);
    assert!(rt.initialize(""));
    assert_eq!(rt.get_value("cmi.completion_status"), "unknown");
    assert!(rt.set_value("cmi.completion_status", "incomplete"));
    assert_eq!(rt.get_value("cmi.location"), "");
    assert_eq!(rt.last_error(), 403);
    assert!(rt.set_value("cmi.location", "3"));
    assert!(rt.set_value("cmi.session_time", "PT0H2M7.12S"));
    assert!(rt.set_value("cmi.exit", "suspend"));
    let stored = rt.terminate("").unwrap();
    assert_eq!(stored.outcome(None).completion, Completion::Incomplete);
    assert_eq!(stored.outcome(None).session_seconds, Some(127.12));

    let mut rt = Runtime::new(Version::Scorm2004, &learner(), Some(&stored));
    assert!(rt.initialize(""));
    assert_eq!(rt.get_value("cmi.entry"), "resume");
    assert_eq!(rt.get_value("cmi.location"), "3");
    assert_eq!(rt.get_value("cmi.completion_status"), "incomplete");
    assert!(rt.set_value("cmi.location", "12"));
    assert!(rt.set_value("cmi.completion_status", "completed"));
    assert!(rt.set_value("cmi.score.raw", "83.33333333333333"));
    assert!(rt.set_value("cmi.score.min", "0"));
    assert!(rt.set_value("cmi.score.max", "100"));
    assert!(rt.set_value("cmi.score.scaled", "0.8333333333333334"));
    assert!(rt.set_value("cmi.success_status", "passed"));
    assert!(rt.set_value("cmi.session_time", "PT1M5S"));
    assert!(rt.set_value("cmi.exit", ""));
    assert!(rt.set_value("adl.nav.request", "exitAll"));
    let last = rt.terminate("").unwrap();
    assert_eq!(
        Snapshot::validate(Version::Scorm2004, &last),
        Ok(last.clone())
    );
    let outcome = last.outcome(None);
    assert_eq!(outcome.completion, Completion::Completed);
    assert_eq!(outcome.success, Success::Passed);
    assert_eq!(outcome.scaled, Some(0.8333333333333334));
    assert!(!rt.initialize(""));
    assert_eq!(rt.last_error(), 104);
}

#[test]
fn a_forged_snapshot_is_refused() {
    let forged = |pairs: &[(&str, &str)]| Snapshot {
        version: Version::Scorm2004,
        values: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    };
    for pairs in [
        vec![("cmi.credit", "no-credit")],
        vec![("cmi.learner_id", "someone-else")],
        vec![("cmi.score.scaled", "7")],
        vec![("cmi.interactions.3.id", "q")],
        vec![("cmi.objectives.0.score.scaled", "0.5")],
        vec![("cmi.core.lesson_status", "passed")],
    ] {
        let err = Snapshot::validate(Version::Scorm2004, &forged(&pairs)).unwrap_err();
        assert!(err.starts_with("Valeur refusée pour"), "{err}");
    }
    let other_version = Snapshot {
        version: Version::Scorm12,
        ..forged(&[])
    };
    assert!(Snapshot::validate(Version::Scorm2004, &other_version).is_err());
    let huge = forged(&[("cmi.suspend_data", &"x".repeat(600_000))]);
    assert!(Snapshot::validate(Version::Scorm2004, &huge).is_err());
    // Interactions in any order of keys replay in index order, ids first.
    let ok = forged(&[
        ("cmi.interactions.1.result", "correct"),
        ("cmi.interactions.0.id", "a"),
        ("cmi.interactions.1.id", "b"),
        ("cmi.interactions.0.learner_response", "x"),
        ("cmi.interactions.0.type", "fill-in"),
    ]);
    assert!(Snapshot::validate(Version::Scorm2004, &ok).is_ok());
}

#[test]
fn the_element_tables_serve_as_json() {
    let json = serde_json::to_value(definitions(Version::Scorm12)).unwrap();
    let status = json["elements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "cmi.core.lesson_status")
        .unwrap();
    assert_eq!(status["access"], "read_write");
    assert_eq!(status["type"], "vocabulary");
    assert!(
        json["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["code"] == 405)
    );
    let json = serde_json::to_value(definitions(Version::Scorm2004)).unwrap();
    let suspend = json["elements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "cmi.suspend_data")
        .unwrap();
    assert_eq!(suspend["max_len"], 64000);
}
