//! Heartbeats of distance study and hours in JSON.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::progress;
use super::rules::Outcome;
use super::store::{Beat, BeatAnswer};
use super::writer::BeatWriter;
use crate::accounts::{CurrentUser, Role, session};
use crate::base::paris::today;
use crate::cohorts::access::cohort_for_staff;
use crate::cohorts::access::trainee_access;
use crate::cohorts::store as cohorts;
use crate::curriculum::Content;
use crate::web::{AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/study/heartbeats", web::post().to(heartbeat))
        .route("/me/hours", web::get().to(my_hours))
        .route("/cohorts/{id}/progress", web::get().to(cohort_progress))
        .route("/trainees/{id}/hours", web::get().to(trainee_hours));
}

#[derive(Deserialize)]
pub struct BeatRequest {
    /// `activity` (with `lesson_id`, the activity's id) or `evaluation` (with `module_id`).
    pub page: String,
    pub lesson_id: Option<i64>,
    pub module_id: Option<i64>,
    /// The module's code: older pages sent it for a reference programme's evaluation.
    pub module: Option<String>,
    /// A random id per page view.
    pub view: String,
    pub seq: i64,
}

/// The account is checked by the writer, in the transaction that credits the beat, so a beat
/// costs no database round trip of its own before it joins a batch.
async fn heartbeat(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    writer: web::Data<BeatWriter>,
    body: web::Json<BeatRequest>,
) -> AppResult<HttpResponse> {
    let claims = session::claims_of(&req, &state)?;
    if claims.role != Role::Trainee.as_str() {
        return Err(AppError::Forbidden(
            "Seuls les stagiaires enregistrent du temps d'étude.".into(),
        ));
    }
    let b = body.into_inner();
    if b.view.is_empty()
        || b.view.len() > 64
        || !b
            .view
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(AppError::invalid("view", "Identifiant de page invalide."));
    }
    if !(0..=1_000_000).contains(&b.seq) {
        return Err(AppError::invalid("seq", "Numéro de séquence invalide."));
    }
    let page = (b.page.as_str(), b.lesson_id, b.module_id, b.module.clone());
    let (program_code, module_id, lesson_id) = locate(&state, &content, page).await?;
    let answer = writer
        .submit(Beat {
            claims,
            program_code,
            page_view: b.view,
            module_id,
            lesson_id,
            seq: b.seq,
        })
        .await?;
    match answer {
        BeatAnswer::Unauthenticated => Err(AppError::Unauthenticated),
        BeatAnswer::OutsidePath => Err(AppError::Forbidden(
            "Cette page ne fait pas partie de votre parcours.".into(),
        )),
        BeatAnswer::NotOpen => {
            crate::ops::metrics::record_heartbeat("module_not_open", 0);
            Ok(HttpResponse::Ok().json(serde_json::json!({
            "outcome": "module_not_open", "credited_seconds": 0
            })))
        }
        BeatAnswer::Decided(outcome, session) => {
            let credited = match outcome {
                Outcome::Credited(n) => n,
                _ => 0,
            };
            crate::ops::metrics::record_heartbeat(outcome.label(), credited);
            Ok(HttpResponse::Ok().json(serde_json::json!({
                "outcome": outcome, "credited_seconds": credited, "session_seconds": session
            })))
        }
    }
}

async fn my_hours(state: State, me: CurrentUser) -> AppResult<HttpResponse> {
    me.require(&[Role::Trainee])?;
    let id = me.id;
    let today = today();
    let hours = state
        .db(
            move |c| match cohorts::trainee(c, cohorts::Scope::Checked, id)? {
                Some(t) => Ok(progress::for_trainee(c, &t, today)?.map(|h| h.1)),
                None => Ok(None),
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(hours))
}

async fn cohort_progress(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let cohort = cohort_for_staff(&state, &me, path.into_inner()).await?;
    let today = today();
    let list = state
        .db(move |c| {
            let trainees = cohorts::trainees_of_cohort(c, cohort.organism_id, cohort.id)?;
            progress::for_cohort(c, &cohort, &trainees, today)
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

async fn trainee_hours(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let (t, _) = trainee_access(&state, &me, path.into_inner()).await?;
    let today = today();
    let hours = state
        .db(move |c| Ok(progress::for_trainee(c, &t, today)?.map(|h| h.1)))
        .await?;
    Ok(HttpResponse::Ok().json(hours))
}

/// What a beat credits: the programme, the module and the activity open. From the loaded
/// versions when they have it, else from the database (a version another instance loaded).
async fn locate(
    state: &State,
    content: &Content,
    (page, lesson, module_id, module): (&str, Option<i64>, Option<i64>, Option<String>),
) -> AppResult<(String, i64, Option<i64>)> {
    let unknown = |f: &str, m: &str| AppError::invalid(f, m);
    match (page, lesson, module_id, module) {
        // "lesson" is the name this page kind had before quizzes, assignments and resources.
        ("activity" | "lesson", Some(id), _, _) => {
            if let Some((module, program)) = content.locate_activity(id) {
                return Ok((program, module, Some(id)));
            }
            let found = state
                .db(move |c| Ok(crate::curriculum::versions::locate_activity(c, id)?))
                .await?;
            let (program, module) =
                found.ok_or_else(|| unknown("lesson_id", "Activité inconnue."))?;
            Ok((program, module, Some(id)))
        }
        ("evaluation", _, Some(id), _) => {
            let program = match content.locate_module(id) {
                Some(p) => Some(p),
                None => {
                    state
                        .db(move |c| {
                            Ok(crate::curriculum::versions::program_code_of_module(c, id)?)
                        })
                        .await?
                }
            };
            let program = program.ok_or_else(|| unknown("module_id", "Module inconnu."))?;
            Ok((program, id, None))
        }
        ("evaluation", _, None, Some(code)) => {
            let (program, module) = content
                .reference()
                .find_map(|p| p.module(&code).map(|_| p.code.clone()))
                .and_then(|p| Some((p.clone(), content.reference_module_id(&p, &code)?)))
                .ok_or_else(|| unknown("module", "Module inconnu."))?;
            Ok((program, module, None))
        }
        _ => Err(unknown("page", "Page inconnue.")),
    }
}
