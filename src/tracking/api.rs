//! Heartbeats of distance study and hours in JSON.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::progress;
use super::rules::Outcome;
use super::store::Beat;
use super::writer::BeatWriter;
use crate::accounts::{CurrentUser, Role};
use crate::cohorts::cohort_pages::{cohort_for_staff, today};
use crate::cohorts::store as cohorts;
use crate::cohorts::trainee_pages::access;
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
    /// `lesson` or `evaluation`.
    pub page: String,
    pub lesson_id: Option<i64>,
    pub module: Option<String>,
    /// A random id per page view.
    pub view: String,
    pub seq: i64,
}

/// Is the module open for study today: the cohort runs, and when distance periods are
/// planned for the module, today falls in one of them.
fn module_open(
    (start, end): (chrono::NaiveDate, chrono::NaiveDate),
    periods: &[(chrono::NaiveDate, chrono::NaiveDate)],
    today: chrono::NaiveDate,
) -> bool {
    today >= start
        && today <= end
        && (periods.is_empty() || periods.iter().any(|p| p.0 <= today && today <= p.1))
}

async fn heartbeat(
    state: State,
    content: web::Data<Content>,
    writer: web::Data<BeatWriter>,
    me: CurrentUser,
    body: web::Json<BeatRequest>,
) -> AppResult<HttpResponse> {
    if !me.is(Role::Trainee) {
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
    let (module_code, lesson_id) = match (b.page.as_str(), b.lesson_id, b.module.as_deref()) {
        ("lesson", Some(id), _) => {
            let code = content
                .ids
                .lessons
                .iter()
                .find(|(_, lid)| **lid == id)
                .map(|((m, _), _)| m.clone())
                .ok_or_else(|| AppError::invalid("lesson_id", "Leçon inconnue."))?;
            (code, Some(id))
        }
        ("evaluation", _, Some(code)) => (code.to_string(), None),
        _ => return Err(AppError::invalid("page", "Page inconnue.")),
    };
    let (program, _) = content
        .curriculum
        .module(&module_code)
        .ok_or_else(|| AppError::invalid("module", "Module inconnu."))?;
    let program_code = program.code.clone();
    let module_id = *content
        .ids
        .modules
        .get(&module_code)
        .ok_or(AppError::NotFound)?;
    let trainee = me.id;
    let open = state
        .db(move |c| {
            use crate::db::schema::distance_periods as dp;
            use diesel::prelude::*;
            let Some((enrolled, cohort_id, start, end)) =
                crate::curriculum::store::trainee_enrolment(c, trainee)?
            else {
                return Ok(None);
            };
            if enrolled != program_code {
                return Ok(None);
            }
            let periods: Vec<(chrono::NaiveDate, chrono::NaiveDate)> = dp::table
                .filter(dp::cohort_id.eq(cohort_id))
                .filter(dp::module_id.eq(module_id))
                .select((dp::from_date, dp::to_date))
                .load(c)?;
            Ok(Some(module_open((start, end), &periods, today())))
        })
        .await?;
    match open {
        None => Err(AppError::Forbidden(
            "Cette page ne fait pas partie de votre parcours.".into(),
        )),
        Some(false) => Ok(HttpResponse::Ok().json(serde_json::json!({
            "outcome": "module_not_open", "credited_seconds": 0
        }))),
        Some(true) => {
            let (outcome, session) = writer
                .submit(Beat {
                    trainee_id: trainee,
                    page_view: b.view,
                    module_id,
                    lesson_id,
                    seq: b.seq,
                })
                .await?;
            let credited = match outcome {
                Outcome::Credited(n) => n,
                _ => 0,
            };
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
        .db(move |c| match cohorts::trainee(c, None, id)? {
            Some(t) => Ok(progress::for_trainee(c, &t, today)?.map(|h| h.1)),
            None => Ok(None),
        })
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
    let (t, _) = access(&state, &me, path.into_inner()).await?;
    let today = today();
    let hours = state
        .db(move |c| Ok(progress::for_trainee(c, &t, today)?.map(|h| h.1)))
        .await?;
    Ok(HttpResponse::Ok().json(hours))
}
