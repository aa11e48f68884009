//! Building xAPI statements from rows, without I/O. Statement ids are derived from the row
//! they describe, so exporting the same period twice gives the same ids and an LRS keeps one.

use chrono::NaiveDateTime;
use serde_json::{Value, json};

pub const VERB_EXPERIENCED: &str = "http://adlnet.gov/expapi/verbs/experienced";
pub const VERB_COMPLETED: &str = "http://adlnet.gov/expapi/verbs/completed";
pub const VERB_PASSED: &str = "http://adlnet.gov/expapi/verbs/passed";
pub const VERB_FAILED: &str = "http://adlnet.gov/expapi/verbs/failed";
pub const VERB_SCORED: &str = "http://adlnet.gov/expapi/verbs/scored";
const TYPE_MODULE: &str = "http://adlnet.gov/expapi/activities/module";
const TYPE_LESSON: &str = "http://adlnet.gov/expapi/activities/lesson";
const TYPE_ASSESSMENT: &str = "http://adlnet.gov/expapi/activities/assessment";
const TYPE_ASSIGNMENT: &str = "http://id.tincanapi.com/activitytype/school-assignment";
const TYPE_COURSE: &str = "http://adlnet.gov/expapi/activities/course";
/// A SCO or an AU of an e-learning package.
const TYPE_MODULE_PART: &str = "http://adlnet.gov/expapi/activities/lesson";

/// Who the statements are about: an account on this platform, not an e-mail address.
pub struct Actor<'a> {
    pub id: i64,
    pub name: &'a str,
}

/// Where the platform is, and which organism exports.
pub struct Origin<'a> {
    pub base_url: &'a str,
    pub organism: &'a str,
}

/// A UUID (version 5, RFC 9562) named after what the statement describes.
pub fn statement_id(key: &str) -> String {
    // Version 5 (name-based): stable across exports, and accepted by LRSs that take
    // versions 1 to 5 only.
    let namespace = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, b"https://parcours/xapi");
    uuid::Uuid::new_v5(&namespace, key.as_bytes()).to_string()
}

/// ISO 8601 duration of whole seconds: `PT1H5M30S`, `PT0S`.
pub fn duration(secs: i64) -> String {
    let secs = secs.max(0);
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::from("PT");
    if h > 0 {
        out.push_str(&format!("{h}H"));
    }
    if m > 0 {
        out.push_str(&format!("{m}M"));
    }
    if s > 0 || (h == 0 && m == 0) {
        out.push_str(&format!("{s}S"));
    }
    out
}

/// UTC timestamps as xAPI wants them.
pub fn timestamp(t: NaiveDateTime) -> String {
    t.and_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn actor(o: &Origin<'_>, a: &Actor<'_>) -> Value {
    json!({"objectType": "Agent", "name": a.name, "account": {"homePage": o.base_url, "name": a.id.to_string()}})
}

fn verb(id: &str, fr: &str) -> Value {
    json!({"id": id, "display": {"fr-FR": fr}})
}

fn activity(id: String, kind: &str, name: &str) -> Value {
    json!({"objectType": "Activity", "id": id, "definition": {"type": kind, "name": {"fr-FR": name}}})
}

fn context(o: &Origin<'_>, program: &str) -> Value {
    json!({
        "platform": "Parcours",
        "language": "fr-FR",
        "extensions": {format!("{}/xapi/organisme", o.base_url): o.organism},
        "contextActivities": {"grouping": [{"id": format!("{}/programmes/{program}", o.base_url), "objectType": "Activity"}]}
    })
}

/// One day of distance study of a module.
pub struct StudyDay<'a> {
    pub row_id: i64,
    pub program: &'a str,
    pub module: &'a str,
    pub module_title: &'a str,
    pub seconds: i64,
    pub first_at: NaiveDateTime,
    pub last_at: NaiveDateTime,
}

pub fn study_day(o: &Origin<'_>, a: &Actor<'_>, d: &StudyDay<'_>) -> Value {
    let mut ctx = context(o, d.program);
    ctx["extensions"][format!("{}/xapi/premiere-activite", o.base_url)] =
        json!(timestamp(d.first_at));
    json!({
        "id": statement_id(&format!("{}:daily_activity:{}:{}", o.base_url, d.row_id, d.seconds)),
        "actor": actor(o, a),
        "verb": verb(VERB_EXPERIENCED, "a étudié"),
        "object": activity(format!("{}/programmes/{}/{}", o.base_url, d.program, d.module), TYPE_MODULE, &format!("{} — {}", d.module, d.module_title)),
        "result": {"duration": duration(d.seconds)},
        "context": ctx,
        "timestamp": timestamp(d.last_at),
    })
}

pub struct LessonDone<'a> {
    pub row_id: i64,
    pub program: &'a str,
    pub module: &'a str,
    pub slug: &'a str,
    pub title: &'a str,
    pub at: NaiveDateTime,
}

pub fn lesson_done(o: &Origin<'_>, a: &Actor<'_>, l: &LessonDone<'_>) -> Value {
    json!({
        "id": statement_id(&format!("{}:lesson_progress:{}", o.base_url, l.row_id)),
        "actor": actor(o, a),
        "verb": verb(VERB_COMPLETED, "a terminé"),
        "object": activity(format!("{}/programmes/{}/{}/activites/{}", o.base_url, l.program, l.module, l.slug), TYPE_LESSON, l.title),
        "result": {"completion": true},
        "context": context(o, l.program),
        "timestamp": timestamp(l.at),
    })
}

pub struct Attempt<'a> {
    pub row_id: i64,
    pub program: &'a str,
    pub module: &'a str,
    pub module_title: &'a str,
    pub attempt_no: i32,
    pub correct: i32,
    pub questions: i32,
    pub passed: bool,
    pub started_at: NaiveDateTime,
    pub submitted_at: NaiveDateTime,
}

pub fn attempt(o: &Origin<'_>, a: &Actor<'_>, t: &Attempt<'_>) -> Value {
    let scaled = if t.questions > 0 {
        f64::from(t.correct) / f64::from(t.questions)
    } else {
        0.0
    };
    let (v, fr) = if t.passed {
        (VERB_PASSED, "a réussi")
    } else {
        (VERB_FAILED, "a échoué à")
    };
    let mut ctx = context(o, t.program);
    ctx["extensions"][format!("{}/xapi/tentative", o.base_url)] = json!(t.attempt_no);
    json!({
        "id": statement_id(&format!("{}:evaluation_attempt:{}", o.base_url, t.row_id)),
        "actor": actor(o, a),
        "verb": verb(v, fr),
        "object": activity(format!("{}/programmes/{}/{}/evaluation", o.base_url, t.program, t.module), TYPE_ASSESSMENT, &format!("Évaluation {} — {}", t.module, t.module_title)),
        "result": {
            "score": {"scaled": (scaled * 10000.0).round() / 10000.0, "raw": t.correct, "min": 0, "max": t.questions},
            "success": t.passed,
            "completion": true,
            "duration": duration((t.submitted_at - t.started_at).num_seconds()),
        },
        "context": ctx,
        "timestamp": timestamp(t.submitted_at),
    })
}

fn scaled(raw: i32, max: i32) -> f64 {
    if max > 0 {
        (f64::from(raw) / f64::from(max) * 10000.0).round() / 10000.0
    } else {
        0.0
    }
}

/// An attempt at one of a module's formative quizzes, on the quiz activity's own IRI.
pub struct QuizAttempt<'a> {
    pub row_id: i64,
    pub program: &'a str,
    pub module: &'a str,
    pub slug: &'a str,
    pub title: &'a str,
    pub attempt_no: i32,
    pub correct: i32,
    pub questions: i32,
    pub passed: bool,
    pub started_at: NaiveDateTime,
    pub submitted_at: NaiveDateTime,
}

pub fn quiz_attempt(o: &Origin<'_>, a: &Actor<'_>, t: &QuizAttempt<'_>) -> Value {
    let (v, fr) = if t.passed {
        (VERB_PASSED, "a réussi")
    } else {
        (VERB_FAILED, "a échoué à")
    };
    let mut ctx = context(o, t.program);
    ctx["extensions"][format!("{}/xapi/tentative", o.base_url)] = json!(t.attempt_no);
    ctx["contextActivities"]["parent"] = json!([{
        "id": format!("{}/programmes/{}/{}", o.base_url, t.program, t.module),
        "objectType": "Activity"
    }]);
    json!({
        // The same key as a module evaluation's attempt: both are rows of one table.
        "id": statement_id(&format!("{}:evaluation_attempt:{}", o.base_url, t.row_id)),
        "actor": actor(o, a),
        "verb": verb(v, fr),
        "object": activity(format!("{}/programmes/{}/{}/activites/{}", o.base_url, t.program, t.module, t.slug), TYPE_ASSESSMENT, t.title),
        "result": {
            "score": {"scaled": scaled(t.correct, t.questions), "raw": t.correct, "min": 0, "max": t.questions},
            "success": t.passed,
            "completion": true,
            "duration": duration((t.submitted_at - t.started_at).num_seconds()),
        },
        "context": ctx,
        "timestamp": timestamp(t.submitted_at),
    })
}

/// A version of an assignment graded: `scored` with its points, or `completed` when the
/// correction gave none.
pub struct Graded<'a> {
    pub row_id: i64,
    pub program: &'a str,
    pub module: &'a str,
    pub slug: &'a str,
    pub title: &'a str,
    pub version_no: i32,
    pub points: Option<(i32, i32)>,
    pub graded_at: NaiveDateTime,
}

pub fn graded(o: &Origin<'_>, a: &Actor<'_>, g: &Graded<'_>) -> Value {
    let mut ctx = context(o, g.program);
    ctx["extensions"][format!("{}/xapi/version", o.base_url)] = json!(g.version_no);
    ctx["contextActivities"]["parent"] = json!([{
        "id": format!("{}/programmes/{}/{}", o.base_url, g.program, g.module),
        "objectType": "Activity"
    }]);
    let (v, fr, result) = match g.points {
        Some((raw, max)) => (
            VERB_SCORED,
            "a obtenu une note à",
            json!({
                "score": {"scaled": scaled(raw, max), "raw": raw, "min": 0, "max": max},
                "completion": true,
            }),
        ),
        None => (VERB_COMPLETED, "a terminé", json!({"completion": true})),
    };
    json!({
        "id": statement_id(&format!("{}:assignment_submission:{}", o.base_url, g.row_id)),
        "actor": actor(o, a),
        "verb": verb(v, fr),
        "object": activity(format!("{}/programmes/{}/{}/devoirs/{}", o.base_url, g.program, g.module, g.slug), TYPE_ASSIGNMENT, g.title),
        "result": result,
        "context": ctx,
        "timestamp": timestamp(g.graded_at),
    })
}

pub struct Completion<'a> {
    pub attestation_id: i64,
    pub number: &'a str,
    pub program: &'a str,
    pub program_title: &'a str,
    pub at: NaiveDateTime,
}

pub fn completion(o: &Origin<'_>, a: &Actor<'_>, c: &Completion<'_>) -> Value {
    let mut ctx = context(o, c.program);
    ctx["extensions"][format!("{}/xapi/attestation", o.base_url)] = json!(c.number);
    json!({
        "id": statement_id(&format!("{}:attestation:{}", o.base_url, c.attestation_id)),
        "actor": actor(o, a),
        "verb": verb(VERB_COMPLETED, "a terminé"),
        "object": activity(format!("{}/programmes/{}", o.base_url, c.program), TYPE_COURSE, c.program_title),
        "result": {"completion": true, "success": true},
        "context": ctx,
        "timestamp": timestamp(c.at),
    })
}

/// The result a package (SCORM or cmi5) recorded for one SCO or AU: `passed`, `failed` or
/// `completed`, with its score. The package's own session time goes in an extension: it is what
/// the package says, never the time credited (that is in the study days).
pub struct PackageResult<'a> {
    pub row_id: i64,
    pub program: &'a str,
    pub module: &'a str,
    pub slug: &'a str,
    pub title: &'a str,
    pub item: &'a str,
    pub success: Option<bool>,
    pub completed: bool,
    pub scaled: Option<f64>,
    pub package_seconds: i64,
    pub at: NaiveDateTime,
}

pub fn package_result(o: &Origin<'_>, a: &Actor<'_>, p: &PackageResult<'_>) -> Value {
    let (v, fr) = match p.success {
        Some(true) => (VERB_PASSED, "a réussi"),
        Some(false) => (VERB_FAILED, "a échoué à"),
        None => (VERB_COMPLETED, "a terminé"),
    };
    let activity_url = format!(
        "{}/programmes/{}/{}/activites/{}",
        o.base_url, p.program, p.module, p.slug
    );
    let mut ctx = context(o, p.program);
    ctx["contextActivities"]["parent"] = json!([{"id": activity_url, "objectType": "Activity"}]);
    let mut result = json!({ "completion": p.completed });
    if let Some(success) = p.success {
        result["success"] = json!(success);
    }
    if let Some(scaled) = p.scaled {
        result["score"] = json!({ "scaled": scaled });
    }
    result["extensions"] = json!({
        format!("{}/xapi/duree-declaree-par-le-module", o.base_url): duration(p.package_seconds)
    });
    // Revisions of the same attempt keep one id per state reached: an LRS keeps each once.
    let key = format!("{}:package_attempt:{}:{v}", o.base_url, p.row_id);
    json!({
        "id": statement_id(&key),
        "actor": actor(o, a),
        "verb": verb(v, fr),
        "object": activity(format!("{activity_url}#{}", p.item), TYPE_MODULE_PART, p.title),
        "result": result,
        "context": ctx,
        "timestamp": timestamp(p.at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 23)
            .and_then(|d| d.and_hms_opt(h, 0, 0))
            .unwrap()
    }

    #[test]
    fn ids_are_stable_uuids() {
        let a = statement_id("x:daily_activity:1:60");
        assert_eq!(a, statement_id("x:daily_activity:1:60"));
        assert_ne!(a, statement_id("x:daily_activity:1:120"));
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('5'), "version 5: {a}");
        assert!("89ab".contains(&parts[3][..1]), "RFC variant: {a}");
    }

    #[test]
    fn durations_are_iso_8601() {
        assert_eq!(duration(0), "PT0S");
        assert_eq!(duration(59), "PT59S");
        assert_eq!(duration(3600), "PT1H");
        assert_eq!(duration(3930), "PT1H5M30S");
        assert_eq!(duration(-4), "PT0S");
    }

    #[test]
    fn a_formative_quiz_and_a_graded_assignment_have_their_own_iris() {
        let o = Origin {
            base_url: "https://p.fr",
            organism: "OF",
        };
        let a = Actor {
            id: 7,
            name: "Alice",
        };
        let q = quiz_attempt(
            &o,
            &a,
            &QuizAttempt {
                row_id: 4,
                program: "CQP-AM",
                module: "M1",
                slug: "01-role",
                title: "Rôle et limites",
                attempt_no: 1,
                correct: 3,
                questions: 10,
                passed: false,
                started_at: at(9),
                submitted_at: at(9),
            },
        );
        assert_eq!(q["verb"]["id"], VERB_FAILED);
        assert_eq!(
            q["object"]["id"],
            "https://p.fr/programmes/CQP-AM/M1/activites/01-role"
        );
        assert_eq!(q["result"]["score"]["scaled"], 0.3);
        assert_eq!(
            q["context"]["contextActivities"]["parent"][0]["id"],
            "https://p.fr/programmes/CQP-AM/M1"
        );
        let mut work = Graded {
            row_id: 4,
            program: "CQP-AM",
            module: "M1",
            slug: "01-missions",
            title: "Missions",
            version_no: 2,
            points: Some((15, 20)),
            graded_at: at(11),
        };
        let g = graded(&o, &a, &work);
        assert_eq!(g["verb"]["id"], VERB_SCORED);
        assert_eq!(
            g["object"]["id"],
            "https://p.fr/programmes/CQP-AM/M1/devoirs/01-missions"
        );
        assert_eq!(g["result"]["score"]["scaled"], 0.75);
        assert_eq!(g["result"]["score"]["raw"], 15);
        assert_ne!(g["id"], q["id"], "two tables, two keys");
        work.points = None;
        let done = graded(&o, &a, &work);
        assert_eq!(done["verb"]["id"], VERB_COMPLETED);
        assert!(done["result"].get("score").is_none());
        assert_eq!(done["id"], g["id"], "the statement of one version");
    }

    #[test]
    fn an_attempt_says_its_score_and_success() {
        let o = Origin {
            base_url: "https://p.fr",
            organism: "OF",
        };
        let a = Actor {
            id: 7,
            name: "Alice",
        };
        let s = attempt(
            &o,
            &a,
            &Attempt {
                row_id: 3,
                program: "CQP-AM",
                module: "M1",
                module_title: "Accueil",
                attempt_no: 2,
                correct: 12,
                questions: 15,
                passed: true,
                started_at: at(9),
                submitted_at: at(10),
            },
        );
        assert_eq!(s["verb"]["id"], VERB_PASSED);
        assert_eq!(s["result"]["score"]["scaled"], 0.8);
        assert_eq!(s["result"]["score"]["max"], 15);
        assert_eq!(s["result"]["duration"], "PT1H");
        assert_eq!(s["actor"]["account"]["name"], "7");
        assert_eq!(
            s["object"]["id"],
            "https://p.fr/programmes/CQP-AM/M1/evaluation"
        );
        assert_eq!(s["timestamp"], "2026-11-23T10:00:00Z");
        assert_eq!(s["context"]["extensions"]["https://p.fr/xapi/tentative"], 2);
    }
}
