//! The statements an AU sends (xAPI §7.2): checked by the rules cmi5 gives an LMS, kept once
//! per id, and, from `completed`, `passed`, `failed` and `terminated`, its attempt moved on;
//! the activity is done when every AU is, as a lesson marked done is.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::Player;
use super::cmi5_pages::{Session, answer, flooded, open_or_answer, query, refuse, session};
use super::commits::all_done;
use crate::curriculum::Content;
use crate::db::DbConn;
use crate::scorm::cmi5_rules::{self as rules, Checked, Effect, Progress};
use crate::scorm::cmi5_store::{self, Recorded};
use crate::scorm::progress::{self as progress, ItemState};
use crate::web::{AppError, AppResult, State};

/// Statements in one request, more is no AU's doing.
const MAX_STATEMENTS: usize = 100;

fn parse(body: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(body).map_err(|e| format!("Déclaration xAPI illisible : {e}"))
}

/// `PUT statements?statementId=…`: one statement with its id; 204.
pub async fn put(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    player: web::Data<Player>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let s = open_or_answer!(session(&req, &state, &content, true));
    if let Some(res) = flooded(&player, &s) {
        return Ok(res);
    }
    let Some(id) = query(&req).remove("statementId") else {
        return Ok(refuse(
            StatusCode::BAD_REQUEST,
            "Le paramètre statementId manque.",
        ));
    };
    let mut stmt = match parse(&body) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => {
            return Ok(refuse(
                StatusCode::BAD_REQUEST,
                "PUT attend une seule déclaration.",
            ));
        }
        Err(why) => return Ok(refuse(StatusCode::BAD_REQUEST, &why)),
    };
    match stmt.get("id") {
        Some(v) if v.as_str() != Some(id.as_str()) => {
            return Ok(refuse(
                StatusCode::BAD_REQUEST,
                "L'id de la déclaration n'est pas le paramètre statementId.",
            ));
        }
        _ => stmt["id"] = Value::String(id),
    }
    Ok(match save(&state, s, vec![stmt]).await? {
        Ok(_) => answer(StatusCode::NO_CONTENT).finish(),
        Err(res) => res,
    })
}

/// `POST statements`: one statement or an array; the ids, in order.
pub async fn post(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    player: web::Data<Player>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let s = open_or_answer!(session(&req, &state, &content, true));
    if let Some(res) = flooded(&player, &s) {
        return Ok(res);
    }
    let stmts = match parse(&body) {
        Ok(Value::Array(v)) if !v.is_empty() && v.len() <= MAX_STATEMENTS => v,
        Ok(v @ Value::Object(_)) => vec![v],
        Ok(_) => {
            return Ok(refuse(
                StatusCode::BAD_REQUEST,
                &format!(
                    "Une déclaration, ou un tableau de 1 à {MAX_STATEMENTS} déclarations, est attendu."
                ),
            ));
        }
        Err(why) => return Ok(refuse(StatusCode::BAD_REQUEST, &why)),
    };
    Ok(match save(&state, s, stmts).await? {
        Ok(ids) => answer(StatusCode::OK).json(ids),
        Err(res) => res,
    })
}

/// What became of a request's statements.
enum Kept {
    Done,
    /// An id another attempt's statement has.
    Conflict,
    /// Out of the order cmi5 gives them.
    Refused(String),
}

/// Checks every statement, then keeps them all and moves the attempt on, or refuses them all.
/// A statement without an id is refused, as cmi5 asks (§9.1), though xAPI would give it one.
async fn save(
    state: &State,
    s: Session,
    stmts: Vec<Value>,
) -> AppResult<Result<Vec<String>, HttpResponse>> {
    let mut checked: Vec<(String, Checked, String)> = Vec::with_capacity(stmts.len());
    for st in &stmts {
        let id = st["id"]
            .as_str()
            .and_then(|i| uuid::Uuid::parse_str(i).ok())
            .map(|u| u.hyphenated().to_string());
        let Some(id) = id else {
            return Ok(Err(refuse(
                StatusCode::BAD_REQUEST,
                "Chaque déclaration doit avoir un id, un UUID.",
            )));
        };
        match rules::check(st, &s.expected) {
            Ok(c) => checked.push((id, c, st.to_string())),
            Err(why) => return Ok(Err(refuse(StatusCode::BAD_REQUEST, &why))),
        }
    }
    let ids: Vec<String> = checked.iter().map(|(id, _, _)| id.clone()).collect();
    let kept = state
        .db(move |c| crate::db::transaction(c, |c| keep(c, &s, &checked)))
        .await?;
    match kept {
        Kept::Done => Ok(Ok(ids)),
        Kept::Conflict => Ok(Err(refuse(
            StatusCode::CONFLICT,
            "Une déclaration porte l'id d'une déclaration d'un autre lancement.",
        ))),
        Kept::Refused(why) => Ok(Err(refuse(StatusCode::BAD_REQUEST, &why))),
    }
}

/// In one transaction: the order checked against what was kept, the new statements kept, the
/// attempt moved on and, when every AU is done, the activity done.
fn keep(c: &mut DbConn, s: &Session, checked: &[(String, Checked, String)]) -> AppResult<Kept> {
    let (attempt_id, session) = (s.opened.attempt.id, s.expected.session_id.as_str());
    // Locked first: the order and the result are read and moved by one request at a time.
    let (completion, success, scaled, seconds) = cmi5_store::locked_result(c, attempt_id)?;
    let mut new = Vec::with_capacity(checked.len());
    for (id, check, body) in checked {
        match cmi5_store::statement_attempt(c, id)? {
            Some(a) if a != attempt_id => return Ok(Kept::Conflict),
            // Sent again: kept already.
            Some(_) => {}
            None if new.iter().any(|(i, _, _): &(&String, _, _)| *i == id) => {}
            None => new.push((id, check, body)),
        }
    }
    let mut history: Vec<(Effect, bool)> =
        cmi5_store::history(c, attempt_id, session, &rules::AU_VERBS)?
            .iter()
            .map(|(verb, this)| (rules::effect_of(verb), *this))
            .collect();
    for (_, check, _) in &new {
        if let Err(why) = rules::check_order(&history, check.effect) {
            return Ok(Kept::Refused(why));
        }
        history.push((check.effect, true));
    }
    if s.review {
        // Played again for review: kept, but the result it reached stays.
        for (id, check, body) in &new {
            cmi5_store::add_statement(c, attempt_id, session, id, &check.verb, body)?;
        }
        return Ok(Kept::Done);
    }
    let mut p = Progress {
        completion: progress::completion_of(&completion),
        success: progress::success_of(&success),
        scaled,
        seconds,
    };
    for (id, check, body) in &new {
        cmi5_store::add_statement(c, attempt_id, session, id, &check.verb, body)?;
        rules::apply(&mut p, check, s.opened.launch.base_seconds);
    }
    if new.iter().all(|(_, check, _)| check.effect == Effect::None) {
        return Ok(Kept::Done);
    }
    let item = ItemState {
        completion: p.completion,
        success: p.success,
    };
    cmi5_store::record(
        c,
        attempt_id,
        &Recorded {
            completion: progress::completion_str(p.completion),
            success: progress::success_str(p.success),
            score_scaled: p.scaled,
            package_seconds: p.seconds,
            completed: progress::cmi5_done(s.au.move_on, &item),
        },
    )?;
    let (trainee, lesson) = (s.opened.attempt.trainee_id, s.opened.attempt.lesson_id);
    let package = s.opened.package().ok_or(AppError::NotFound)?;
    if all_done(c, package, trainee, lesson)? {
        crate::curriculum::store::complete_lesson(c, trainee, lesson)?;
    }
    Ok(Kept::Done)
}
