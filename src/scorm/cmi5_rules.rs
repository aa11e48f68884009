//! What the cmi5 specification asks of an LMS, apart from I/O: the launch parameters and the
//! `LMS.LaunchData` document it gives an AU, and the checks of the statements the AU sends.

use serde_json::{Value, json};

use super::cmi5::{Au, LaunchMethod, MoveOn};
use super::datamodel::types::duration;
use super::datamodel::{Completion, Success};

pub const SESSION_EXT: &str = "https://w3id.org/xapi/cmi5/context/extensions/sessionid";
pub const CMI5_CATEGORY: &str = "https://w3id.org/xapi/cmi5/context/categories/cmi5";
pub const LAUNCH_DATA: &str = "LMS.LaunchData";
pub const LEARNER_PREFERENCES: &str = "cmi5LearnerPreferences";

const ADL: &str = "http://adlnet.gov/expapi/verbs/";
const VOIDED: &str = "http://adlnet.gov/expapi/verbs/voided";
/// The verbs cmi5 defines that an AU sends.
pub const AU_VERBS: [&str; 5] = [
    "http://adlnet.gov/expapi/verbs/initialized",
    "http://adlnet.gov/expapi/verbs/completed",
    "http://adlnet.gov/expapi/verbs/passed",
    "http://adlnet.gov/expapi/verbs/failed",
    "http://adlnet.gov/expapi/verbs/terminated",
];
/// Verbs only the LMS states: an AU that sends them is refused.
const LMS_ONLY: [&str; 4] = [
    "http://adlnet.gov/expapi/verbs/launched",
    "https://w3id.org/xapi/adl/verbs/abandoned",
    "https://w3id.org/xapi/adl/verbs/waived",
    "https://w3id.org/xapi/adl/verbs/satisfied",
];

/// Who the AU is told the learner is, and the ids its statements must carry.
#[derive(Debug, Clone)]
pub struct Expected {
    pub home_page: String,
    pub name: String,
    pub registration: String,
    pub session_id: String,
    pub activity_id: String,
    pub mastery_score: Option<f64>,
}

/// The Agent of a trainee: an account on the site, never her e-mail address.
pub fn actor(home_page: &str, trainee: i64) -> Value {
    json!({
        "objectType": "Agent",
        "account": { "homePage": home_page, "name": format!("parcours-{trainee}") },
    })
}

/// A registration stable for an attempt: a name-based UUID, nothing to store.
pub fn registration(attempt_id: i64, started_at: &str) -> String {
    let name = format!("parcours:cmi5:{attempt_id}:{started_at}");
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes()).to_string()
}

fn move_on_str(m: MoveOn) -> &'static str {
    match m {
        MoveOn::Passed => "Passed",
        MoveOn::Completed => "Completed",
        MoveOn::CompletedAndPassed => "CompletedAndPassed",
        MoveOn::CompletedOrPassed => "CompletedOrPassed",
        MoveOn::NotApplicable => "NotApplicable",
    }
}

/// The `LMS.LaunchData` state document (cmi5 §10), but its `returnURL`, an address of the
/// launch. An AU already done opens for `review`, as a SCO does.
pub fn launch_data(au: &Au, session_id: &str, review: bool) -> Value {
    let mut doc = json!({
        "contextTemplate": {
            "contextActivities": { "grouping": [{ "objectType": "Activity", "id": au.id }] },
            "extensions": { SESSION_EXT: session_id },
        },
        "launchMode": if review { "Review" } else { "Normal" },
        "launchMethod": match au.launch_method {
            LaunchMethod::AnyWindow => "AnyWindow",
            LaunchMethod::OwnWindow => "OwnWindow",
        },
        "moveOn": move_on_str(au.move_on),
    });
    if let Some(m) = au.mastery_score {
        doc["masteryScore"] = json!(m);
    }
    if let Some(p) = &au.launch_parameters {
        doc["launchParameters"] = json!(p);
    }
    doc
}

/// Whether an Agent (as sent in a query or a statement) is the expected learner.
pub fn same_agent(agent: &Value, e: &Expected) -> bool {
    let account = &agent["account"];
    account["homePage"].as_str() == Some(e.home_page.as_str())
        && account["name"].as_str() == Some(e.name.as_str())
}

/// The cmi5 defined verb a statement carries, if any.
pub fn effect_of(verb: &str) -> Effect {
    match verb.strip_prefix(ADL) {
        Some("initialized") => Effect::Initialized,
        Some("completed") => Effect::Completed,
        Some("passed") => Effect::Passed,
        Some("failed") => Effect::Failed,
        Some("terminated") => Effect::Terminated,
        _ => Effect::None,
    }
}

/// The order of statements (cmi5 §9.3): `initialized` first and once in a session, nothing
/// after `terminated`; `completed` and `passed` once per registration, no `failed` after
/// `passed`. `history`: the statements kept for the attempt, and whether of this session.
pub fn check_order(history: &[(Effect, bool)], effect: Effect) -> Result<(), String> {
    let in_session = |e: Effect| history.iter().any(|&(h, s)| s && h == e);
    let ever = |e: Effect| history.iter().any(|&(h, _)| h == e);
    let refuse = |m: &str| Err(m.to_string());
    if in_session(Effect::Terminated) {
        return refuse("Cette session du module est terminée : relancez-le pour continuer.");
    }
    match effect {
        Effect::Initialized if in_session(Effect::Initialized) => {
            refuse("« initialized » a déjà été envoyé dans cette session.")
        }
        Effect::Initialized => Ok(()),
        _ if !in_session(Effect::Initialized) => {
            refuse("Le module doit envoyer « initialized » avant toute autre déclaration.")
        }
        Effect::Completed if ever(Effect::Completed) => {
            refuse("« completed » a déjà été envoyé pour ce module.")
        }
        Effect::Passed if ever(Effect::Passed) => {
            refuse("« passed » a déjà été envoyé pour ce module.")
        }
        Effect::Failed if ever(Effect::Passed) => {
            refuse("« failed » après « passed » : le module est déjà réussi.")
        }
        _ => Ok(()),
    }
}

/// What a statement changes in the attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    None,
    Initialized,
    Completed,
    Passed,
    Failed,
    Terminated,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub verb: String,
    pub effect: Effect,
    pub scaled: Option<f64>,
    pub duration_seconds: Option<f64>,
}

/// The checks cmi5 asks of an LMS for one statement from the AU. `Err` is said in French.
pub fn check(stmt: &Value, e: &Expected) -> Result<Checked, String> {
    if !stmt.is_object() {
        return Err("Une déclaration xAPI doit être un objet JSON.".into());
    }
    if !same_agent(&stmt["actor"], e) {
        return Err("L'acteur de la déclaration n'est pas le stagiaire de ce lancement.".into());
    }
    let context = &stmt["context"];
    if context["registration"].as_str() != Some(e.registration.as_str()) {
        return Err(
            "L'inscription (registration) de la déclaration n'est pas celle du lancement.".into(),
        );
    }
    if context["extensions"][SESSION_EXT].as_str() != Some(e.session_id.as_str()) {
        return Err("La déclaration ne porte pas l'identifiant de session du lancement.".into());
    }
    let verb = stmt["verb"]["id"]
        .as_str()
        .ok_or("La déclaration n'a pas de verbe.")?
        .to_string();
    if LMS_ONLY.contains(&verb.as_str()) {
        return Err(format!(
            "Le verbe « {verb} » est réservé à la plateforme, pas au module."
        ));
    }
    // Credentials that void statements are not given to an AU (cmi5 §6.3).
    if verb == VOIDED {
        return Err("Le module ne peut pas annuler (voided) une déclaration.".into());
    }
    let effect = effect_of(&verb);
    let result = &stmt["result"];
    let scaled = match &result["score"]["scaled"] {
        Value::Null => None,
        v => match v.as_f64() {
            Some(s) if (-1.0..=1.0).contains(&s) => Some(s),
            _ => return Err("Le score (result.score.scaled) doit être entre -1 et 1.".into()),
        },
    };
    let duration_seconds = match &result["duration"] {
        Value::Null => None,
        v => Some(
            v.as_str()
                .and_then(duration)
                .ok_or("La durée (result.duration) n'est pas une durée ISO 8601.")?,
        ),
    };
    if effect != Effect::None {
        check_defined(stmt, e, effect, scaled)?;
    }
    Ok(Checked {
        verb,
        effect,
        scaled,
        duration_seconds,
    })
}

/// The rules of the statements cmi5 defines (§9.3).
fn check_defined(
    stmt: &Value,
    e: &Expected,
    effect: Effect,
    scaled: Option<f64>,
) -> Result<(), String> {
    if stmt["object"]["id"].as_str() != Some(e.activity_id.as_str()) {
        return Err("L'objet de la déclaration n'est pas l'activité du module.".into());
    }
    let categories = stmt["context"]["contextActivities"]["category"].as_array();
    if !categories.is_some_and(|c| c.iter().any(|a| a["id"] == CMI5_CATEGORY)) {
        return Err("La déclaration cmi5 n'a pas la catégorie cmi5.".into());
    }
    let result = &stmt["result"];
    match effect {
        Effect::Completed if result["completion"] != Value::Bool(true) => {
            Err("« completed » doit porter result.completion à vrai.".into())
        }
        Effect::Passed if result["success"] != Value::Bool(true) => {
            Err("« passed » doit porter result.success à vrai.".into())
        }
        Effect::Failed if result["success"] != Value::Bool(false) => {
            Err("« failed » doit porter result.success à faux.".into())
        }
        Effect::Passed if matches!((scaled, e.mastery_score), (Some(s), Some(m)) if s < m) => {
            Err("« passed » avec un score sous le seuil de réussite du module.".into())
        }
        Effect::Failed if matches!((scaled, e.mastery_score), (Some(s), Some(m)) if s >= m) => {
            Err("« failed » avec un score au seuil de réussite du module.".into())
        }
        _ => Ok(()),
    }
}

/// Where an AU's attempt stands, as its statements move it.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub completion: Completion,
    pub success: Success,
    pub scaled: Option<f64>,
    pub seconds: f64,
}

/// One accepted statement's change. A pass is never undone by a later failure; the session's
/// duration is added to the earlier sessions' time (`base_seconds`).
pub fn apply(p: &mut Progress, c: &Checked, base_seconds: f64) {
    match c.effect {
        Effect::Initialized => {
            if matches!(p.completion, Completion::NotAttempted | Completion::Unknown) {
                p.completion = Completion::Incomplete;
            }
        }
        Effect::Completed => p.completion = Completion::Completed,
        Effect::Passed => {
            p.success = Success::Passed;
            p.scaled = c.scaled.or(p.scaled);
        }
        Effect::Failed if p.success != Success::Passed => {
            p.success = Success::Failed;
            p.scaled = c.scaled.or(p.scaled);
        }
        Effect::Terminated => {
            if let Some(d) = c.duration_seconds {
                p.seconds = base_seconds + d;
            }
        }
        Effect::Failed | Effect::None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected() -> Expected {
        Expected {
            home_page: "https://site".into(),
            name: "parcours-7".into(),
            registration: registration(3, "2026-12-05 10:00:00"),
            session_id: "s1".into(),
            activity_id: "https://au/1".into(),
            mastery_score: Some(0.8),
        }
    }

    fn stmt(e: &Expected, verb: &str, result: Value) -> Value {
        json!({
            "id": "0b4b7d1a-0000-4000-8000-000000000001",
            "actor": actor(&e.home_page, 7),
            "verb": { "id": format!("{ADL}{verb}") },
            "object": { "id": e.activity_id },
            "result": result,
            "context": {
                "registration": e.registration,
                "extensions": { SESSION_EXT: e.session_id },
                "contextActivities": { "category": [{ "id": CMI5_CATEGORY }] },
            },
        })
    }

    #[test]
    fn defined_statements_and_their_results() {
        let e = expected();
        let ok = check(
            &stmt(
                &e,
                "passed",
                json!({"success": true, "score": {"scaled": 0.9}}),
            ),
            &e,
        );
        assert_eq!(
            ok.map(|c| (c.effect, c.scaled)),
            Ok((Effect::Passed, Some(0.9)))
        );
        let t = check(&stmt(&e, "terminated", json!({"duration": "PT1M30S"})), &e).unwrap();
        assert_eq!(t.duration_seconds, Some(90.0));
        for (verb, result) in [
            ("completed", json!({})),
            ("passed", json!({"success": false})),
            ("passed", json!({"success": true, "score": {"scaled": 0.5}})),
            ("failed", json!({"success": true})),
            ("passed", json!({"success": true, "score": {"scaled": 2}})),
            ("terminated", json!({"duration": "une minute"})),
            ("launched", json!({})),
            ("voided", json!({})),
        ] {
            assert!(
                check(&stmt(&e, verb, result.clone()), &e).is_err(),
                "{verb} {result}"
            );
        }
        let other = json!({"actor": actor("https://site", 8)});
        let mut s = stmt(&e, "completed", json!({"completion": true}));
        s["actor"] = other["actor"].clone();
        assert!(check(&s, &e).unwrap_err().contains("acteur"));
        let mut s = stmt(&e, "answered", json!({}));
        s["object"]["id"] = json!("https://au/1/q1");
        assert_eq!(check(&s, &e).map(|c| c.effect), Ok(Effect::None));
        s["context"]["registration"] = json!("autre");
        assert!(check(&s, &e).unwrap_err().contains("registration"));
    }

    #[test]
    fn a_pass_is_not_undone() {
        let mut p = Progress {
            completion: Completion::NotAttempted,
            success: Success::Unknown,
            scaled: None,
            seconds: 0.0,
        };
        let c = |effect, scaled, duration_seconds| Checked {
            verb: String::new(),
            effect,
            scaled,
            duration_seconds,
        };
        apply(&mut p, &c(Effect::Initialized, None, None), 60.0);
        assert_eq!(p.completion, Completion::Incomplete);
        apply(&mut p, &c(Effect::Passed, Some(0.9), None), 60.0);
        apply(&mut p, &c(Effect::Failed, Some(0.1), None), 60.0);
        apply(&mut p, &c(Effect::Terminated, None, Some(30.0)), 60.0);
        assert_eq!(
            (p.success, p.scaled, p.seconds),
            (Success::Passed, Some(0.9), 90.0)
        );
    }

    #[test]
    fn statements_come_in_the_cmi5_order() {
        use Effect::*;
        assert!(check_order(&[], Initialized).is_ok());
        assert!(
            check_order(&[], Completed)
                .unwrap_err()
                .contains("initialized")
        );
        assert!(
            check_order(&[(Initialized, false)], None).is_err(),
            "another session's"
        );
        let open = [(Initialized, true)];
        assert!(check_order(&open, None).is_ok());
        assert!(check_order(&open, Initialized).is_err());
        assert!(check_order(&[(Initialized, true), (Terminated, true)], None).is_err());
        let done = [(Completed, false), (Passed, false), (Initialized, true)];
        assert!(check_order(&done, Completed).is_err());
        assert!(check_order(&done, Passed).is_err());
        assert!(check_order(&done, Failed).is_err());
        assert!(check_order(&done, Terminated).is_ok());
    }

    #[test]
    fn launch_data_from_the_course_structure() {
        let au = Au {
            id: "https://au/1".into(),
            title: "Un".into(),
            url: super::super::cmi5::AuUrl::Relative("index.html".into()),
            launch_method: LaunchMethod::AnyWindow,
            move_on: MoveOn::Passed,
            mastery_score: Some(0.8),
            launch_parameters: Some("{}".into()),
            activity_type: None,
        };
        let d = launch_data(&au, "s1", false);
        assert_eq!(d["contextTemplate"]["extensions"][SESSION_EXT], "s1");
        assert_eq!(
            (&d["launchMode"], &d["moveOn"], &d["masteryScore"]),
            (&json!("Normal"), &json!("Passed"), &json!(0.8))
        );
        assert_eq!(launch_data(&au, "s2", true)["launchMode"], "Review");
    }

    #[test]
    fn registration_is_stable_per_attempt() {
        assert_eq!(registration(1, "t"), registration(1, "t"));
        assert_ne!(registration(1, "t"), registration(2, "t"));
        assert_eq!(registration(1, "t").len(), 36);
    }
}
