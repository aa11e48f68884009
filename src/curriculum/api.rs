//! JSON API of the curriculum: programmes, modules, lessons and evaluation attempts.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::Content;
use super::quiz::Quiz;
use super::quizzes::{self, PublicQuestion, QuizRef, public_question};
use super::store;
use super::viewer::{Viewer, viewer};
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

/// The reference programmes and the caller's organism's own.
async fn programs(
    content: web::Data<Content>,
    state: State,
    me: CurrentUser,
) -> AppResult<HttpResponse> {
    let (organism, all) = (me.organism_id, me.is(crate::accounts::Role::Admin));
    let content = content.clone();
    let editions = state
        .db(move |c| {
            let mut list = Vec::new();
            for (code, _) in super::versions::visible_programs(c, organism, all)? {
                list.extend(content.current(c, &code)?);
            }
            Ok(list)
        })
        .await?;
    let list: Vec<_> = editions
        .iter()
        .map(|e| &e.program)
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
    Ok(HttpResponse::Ok().json(list))
}

async fn program(
    content: web::Data<Content>,
    state: State,
    me: CurrentUser,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let code = path.into_inner();
    let (_, ed) = viewer(&state, &content, &me, &code).await?;
    Ok(HttpResponse::Ok().json(&*ed.program))
}

#[derive(Serialize)]
struct LessonBody<'a> {
    slug: &'a str,
    title: &'a str,
    minutes: u32,
    html: &'a str,
}

/// A lesson's text (the other kinds of activity are listed in the programme).
async fn lesson(
    content: web::Data<Content>,
    state: State,
    me: CurrentUser,
    path: web::Path<(String, String, String)>,
) -> AppResult<HttpResponse> {
    let (p, m, slug) = path.into_inner();
    let (_, ed) = viewer(&state, &content, &me, &p).await?;
    let module = ed.module(&m).ok_or(AppError::NotFound)?;
    let (_, l) = module
        .activity(&slug)
        .filter(|(_, a)| a.kind == super::rules::ActivityKind::Lesson)
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok().json(LessonBody {
        slug: &l.slug,
        title: &l.title,
        minutes: l.minutes,
        html: l.html(),
    }))
}

/// A quiz as a trainee sees it before answering: no correct answers, no feedback.
#[derive(Serialize)]
struct PublicQuiz<'a> {
    title: &'a str,
    pass_mark: u32,
    max_attempts: u32,
    questions: Vec<PublicQuestion<'a>>,
}

fn public<'a>(q: &'a Quiz, asked: &[&'a super::quiz::Question]) -> PublicQuiz<'a> {
    PublicQuiz {
        title: &q.title,
        pass_mark: q.pass_mark,
        max_attempts: q.max_attempts,
        questions: asked.iter().map(|q| public_question(q)).collect(),
    }
}

async fn evaluation(
    content: web::Data<Content>,
    state: State,
    me: CurrentUser,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (p, m) = path.into_inner();
    let (_, ed) = viewer(&state, &content, &me, &p).await?;
    let qr = QuizRef::find(&ed, &m, "")?;
    let all: Vec<_> = qr.quiz.questions.iter().collect();
    Ok(HttpResponse::Ok().json(public(qr.quiz, &all)))
}

async fn start(
    content: web::Data<Content>,
    state: State,
    me: CurrentUser,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (p, m) = path.into_inner();
    let (viewer, ed) = viewer(&state, &content, &me, &p).await?;
    let qr = QuizRef::find(&ed, &m, "")?;
    let Viewer::Trainee(trainee) = viewer else {
        return Err(AppError::Forbidden("Réservé aux stagiaires.".into()));
    };
    let a = quizzes::start(&state, trainee, &qr).await?;
    let asked = qr.quiz.for_attempt(a.id);
    Ok(HttpResponse::Created().json(serde_json::json!({
        "attempt": a,
        "evaluation": public(qr.quiz, &asked),
    })))
}

async fn my_attempts(state: State, me: CurrentUser) -> AppResult<HttpResponse> {
    let id = me.id;
    let list = state.db(move |c| Ok(store::all_attempts(c, id)?)).await?;
    Ok(HttpResponse::Ok().json(list))
}

#[derive(Deserialize)]
struct SubmitBody {
    answers: super::quiz::Answers,
}

async fn submit_answers(
    content: web::Data<Content>,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    body: web::Json<SubmitBody>,
) -> AppResult<HttpResponse> {
    let attempt = quizzes::submit(
        &state,
        &content,
        &me,
        path.into_inner(),
        body.into_inner().answers,
    )
    .await?;
    Ok(HttpResponse::Ok().json(attempt))
}
