//! The pages of a quiz: the module's evaluation and its quiz activities, their attempts.

use std::collections::HashSet;

use actix_web::{HttpRequest, HttpResponse, web};

use super::Content;
use super::pages::{Empty, base};
use super::quiz::{self, Answers};
use super::quizzes::{self, QuizRef};
use super::store;
use super::viewer::{Viewer, viewer};
use crate::accounts::CurrentUser;
use crate::web::csrf::CsrfForm;
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/programmes/{program}/{module}/evaluation",
        web::get().to(evaluation_page),
    )
    .route(
        "/programmes/{program}/{module}/evaluation",
        web::post().to(start_evaluation),
    )
    .route(
        "/programmes/{program}/{module}/activites/{slug}/tentatives",
        web::post().to(start_quiz),
    )
    .route("/tentatives/{id}", web::get().to(attempt_page))
    .route("/tentatives/{id}", web::post().to(submit_attempt));
}

/// The page of a quiz: its facts, the trainee's attempts, and the button to start one.
pub async fn quiz_page(
    req: &HttpRequest,
    state: &State,
    me: &CurrentUser,
    viewer: Viewer,
    qr: QuizRef<'_>,
) -> AppResult<HttpResponse> {
    let at = qr.at();
    let attempts = match viewer {
        Viewer::Trainee(id) => {
            state
                .db(move |c| Ok(store::attempts(c, id, at.module_id, &at.quiz)?))
                .await?
        }
        Viewer::Preview => vec![],
    };
    let mut ctx = base(req, me, viewer);
    ctx.insert("base", qr.base);
    ctx.insert("program", &qr.program.head());
    ctx.insert("module", &qr.module.head());
    ctx.insert("evaluation", qr.quiz);
    ctx.insert("is_evaluation", &qr.is_evaluation());
    ctx.insert("quiz_url", &qr.url());
    ctx.insert(
        "start_url",
        &if qr.is_evaluation() {
            qr.url()
        } else {
            format!("{}/tentatives", qr.url())
        },
    );
    ctx.insert("question_count", &qr.quiz.attempt_size());
    ctx.insert("attempts", &attempts);
    ctx.insert(
        "remaining",
        &(qr.quiz.max_attempts as usize).saturating_sub(attempts.len()),
    );
    ctx.insert(
        "open",
        &attempts
            .iter()
            .find(|a| a.status == store::OPEN)
            .map(|a| a.id),
    );
    state.render("curriculum/evaluation.html", &ctx)
}

async fn evaluation_page(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (p, m) = path.into_inner();
    let (viewer, ed) = viewer(&state, &content, &me, &p).await?;
    quiz_page(&req, &state, &me, viewer, QuizRef::find(&ed, &m, "")?).await
}

async fn start(
    state: &State,
    content: &web::Data<Content>,
    me: &CurrentUser,
    (p, m, slug): (String, String, String),
) -> AppResult<HttpResponse> {
    let (viewer, ed) = viewer(state, content, me, &p).await?;
    let Viewer::Trainee(trainee) = viewer else {
        return Err(AppError::Forbidden(
            "L'aperçu ne permet pas de répondre.".into(),
        ));
    };
    let a = quizzes::start(state, trainee, &QuizRef::find(&ed, &m, &slug)?).await?;
    Ok(w::redirect(&format!("/tentatives/{}", a.id)))
}

async fn start_evaluation(
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (p, m) = path.into_inner();
    start(&state, &content, &me, (p, m, String::new())).await
}

async fn start_quiz(
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<(String, String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    start(&state, &content, &me, path.into_inner()).await
}

async fn attempt_page(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let (attempt, ed) = quizzes::own_attempt(&state, &content, &me, path.into_inner()).await?;
    let qr = QuizRef::of_attempt(&ed, &attempt)?;
    let asked = qr.quiz.for_attempt(attempt.id);
    let answers: Answers = attempt
        .answers
        .as_deref()
        .and_then(|a| serde_json::from_str(a).ok())
        .unwrap_or_default();
    let right: HashSet<String> = quiz::score(qr.quiz, &asked, &answers)
        .map(|s| s.right.into_iter().collect())
        .unwrap_or_default();
    let public: Vec<_> = asked.iter().map(|q| quizzes::public_question(q)).collect();
    let mut ctx = base(&req, &me, Viewer::Trainee(me.id));
    ctx.insert("base", qr.base);
    ctx.insert("program", &qr.program.head());
    ctx.insert("module", &qr.module.head());
    ctx.insert("evaluation", qr.quiz);
    ctx.insert("is_evaluation", &qr.is_evaluation());
    ctx.insert("quiz_url", &qr.url());
    ctx.insert("questions", &asked);
    ctx.insert("activity_id", &ed.activity_id(&qr.module.code, qr.slug));
    ctx.insert("public", &public);
    ctx.insert("module_id", &qr.module_id);
    ctx.insert("attempt", &attempt);
    ctx.insert("answers", &answers);
    ctx.insert("right", &right);
    state.render("curriculum/attempt.html", &ctx)
}

/// Form fields to answers: the CSRF token and empty fields (a question left blank) dropped.
pub fn answers_from_pairs(pairs: Vec<(String, String)>) -> Answers {
    let mut answers = Answers::new();
    for (k, v) in pairs {
        if k != crate::web::csrf::FIELD && !v.trim().is_empty() {
            answers.entry(k).or_default().push(v);
        }
    }
    answers
}

async fn submit_attempt(
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    quizzes::submit(&state, &content, &me, id, answers_from_pairs(pairs)).await?;
    Ok(w::redirect(&format!("/tentatives/{id}")))
}
