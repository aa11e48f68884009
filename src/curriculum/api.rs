//! JSON API of the curriculum: programmes, modules, lessons and evaluation attempts.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::Content;
use super::pages::{Viewer, submit, viewer};
use super::rules::{Evaluation, QuestionKind};
use super::store::{self, Start};
use crate::accounts::CurrentUser;
use crate::web::{AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/programs", web::get().to(programs))
        .route("/programs/{program}", web::get().to(program))
        .route(
            "/programs/{program}/modules/{module}/lessons/{slug}",
            web::get().to(lesson),
        )
        .route(
            "/programs/{program}/modules/{module}/evaluation",
            web::get().to(evaluation),
        )
        .route(
            "/programs/{program}/modules/{module}/evaluation/attempts",
            web::post().to(start),
        )
        .route("/attempts", web::get().to(my_attempts))
        .route("/attempts/{id}/submit", web::post().to(submit_answers));
}

#[derive(Serialize)]
struct ProgramSummary<'a> {
    code: &'a str,
    title: &'a str,
    kind: super::rules::Kind,
    total_hours: u32,
    modules: Vec<ModuleSummary<'a>>,
}

#[derive(Serialize)]
struct ModuleSummary<'a> {
    code: &'a str,
    title: &'a str,
    planned_hours: u32,
    modality: super::rules::Modality,
}

async fn programs(content: web::Data<Content>, _me: CurrentUser) -> HttpResponse {
    let list: Vec<_> = content
        .curriculum
        .programs
        .iter()
        .map(|p| ProgramSummary {
            code: &p.code,
            title: &p.title,
            kind: p.kind,
            total_hours: p.total_hours,
            modules: p
                .modules
                .iter()
                .map(|m| ModuleSummary {
                    code: &m.code,
                    title: &m.title,
                    planned_hours: m.planned_hours,
                    modality: m.modality,
                })
                .collect(),
        })
        .collect();
    HttpResponse::Ok().json(list)
}

async fn program(
    content: web::Data<Content>,
    state: State,
    me: CurrentUser,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let code = path.into_inner();
    let p = content
        .curriculum
        .program(&code)
        .ok_or(AppError::NotFound)?;
    viewer(&state, &me, &code).await?;
    Ok(HttpResponse::Ok().json(p))
}

#[derive(Serialize)]
struct LessonBody<'a> {
    slug: &'a str,
    title: &'a str,
    minutes: u32,
    html: &'a str,
}

async fn lesson(
    content: web::Data<Content>,
    state: State,
    me: CurrentUser,
    path: web::Path<(String, String, String)>,
) -> AppResult<HttpResponse> {
    let (p, m, slug) = path.into_inner();
    let module = content
        .curriculum
        .program(&p)
        .and_then(|p| p.module(&m))
        .ok_or(AppError::NotFound)?;
    let (_, l) = module.lesson(&slug).ok_or(AppError::NotFound)?;
    viewer(&state, &me, &p).await?;
    Ok(HttpResponse::Ok().json(LessonBody {
        slug: &l.slug,
        title: &l.title,
        minutes: l.minutes,
        html: &l.html,
    }))
}

/// An evaluation as a trainee sees it before answering: no correct answers, no feedback.
#[derive(Serialize)]
struct PublicEvaluation<'a> {
    title: &'a str,
    pass_mark: u32,
    max_attempts: u32,
    questions: Vec<PublicQuestion<'a>>,
}

#[derive(Serialize)]
struct PublicQuestion<'a> {
    id: &'a str,
    kind: QuestionKind,
    text: &'a str,
    choices: Vec<(&'a str, &'a str)>,
}

fn public(e: &Evaluation) -> PublicEvaluation<'_> {
    PublicEvaluation {
        title: &e.title,
        pass_mark: e.pass_mark,
        max_attempts: e.max_attempts,
        questions: e
            .questions
            .iter()
            .map(|q| PublicQuestion {
                id: &q.id,
                kind: q.kind,
                text: &q.text,
                choices: q
                    .choices
                    .iter()
                    .map(|c| (c.id.as_str(), c.text.as_str()))
                    .collect(),
            })
            .collect(),
    }
}

fn evaluation_for<'a>(content: &'a Content, p: &str, m: &str) -> AppResult<(&'a Evaluation, i64)> {
    let module = content
        .curriculum
        .program(p)
        .and_then(|p| p.module(m))
        .ok_or(AppError::NotFound)?;
    let e = module.evaluation.as_ref().ok_or(AppError::NotFound)?;
    let id = content
        .ids
        .modules
        .get(m)
        .copied()
        .ok_or(AppError::NotFound)?;
    Ok((e, id))
}

async fn evaluation(
    content: web::Data<Content>,
    state: State,
    me: CurrentUser,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (p, m) = path.into_inner();
    let (e, _) = evaluation_for(&content, &p, &m)?;
    viewer(&state, &me, &p).await?;
    Ok(HttpResponse::Ok().json(public(e)))
}

async fn start(
    content: web::Data<Content>,
    state: State,
    me: CurrentUser,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (p, m) = path.into_inner();
    let (e, module_id) = evaluation_for(&content, &p, &m)?;
    let Viewer::Trainee(trainee) = viewer(&state, &me, &p).await? else {
        return Err(AppError::Forbidden("Réservé aux stagiaires.".into()));
    };
    let (hash, count, max) = (e.hash.clone(), e.questions.len() as i32, e.max_attempts);
    match state
        .db(move |c| {
            Ok(store::start_attempt(
                c, trainee, module_id, &hash, count, max,
            )?)
        })
        .await?
    {
        Start::Started(a) => Ok(HttpResponse::Created().json(serde_json::json!({
            "attempt": a,
            "evaluation": public(e),
        }))),
        Start::LimitReached(n) => Err(AppError::invalid(
            "attempt",
            format!("Vous avez utilisé vos {n} tentatives pour cette évaluation."),
        )),
    }
}

async fn my_attempts(state: State, me: CurrentUser) -> AppResult<HttpResponse> {
    let id = me.id;
    let list = state.db(move |c| Ok(store::all_attempts(c, id)?)).await?;
    Ok(HttpResponse::Ok().json(list))
}

#[derive(Deserialize)]
struct SubmitBody {
    answers: super::rules::Answers,
}

async fn submit_answers(
    content: web::Data<Content>,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    body: web::Json<SubmitBody>,
) -> AppResult<HttpResponse> {
    let attempt = submit(
        &state,
        &content,
        &me,
        path.into_inner(),
        body.into_inner().answers,
    )
    .await?;
    Ok(HttpResponse::Ok().json(attempt))
}
