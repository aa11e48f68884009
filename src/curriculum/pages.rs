//! Trainee pages of the curriculum (staff see the same pages as a preview).

use std::collections::HashSet;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::Content;
use super::rules::{self, Answers, Evaluation, Module, Program};
use super::store::{self, Attempt, Start};
use crate::accounts::{CurrentUser, Role};
use crate::db::DbConn;
use crate::web::csrf::CsrfForm;
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/parcours", web::get().to(my_path))
        .route("/programmes/{program}", web::get().to(program_page))
        .route("/programmes/{program}/{module}", web::get().to(module_page))
        .route(
            "/programmes/{program}/{module}/lecons/{slug}",
            web::get().to(lesson_page),
        )
        .route(
            "/programmes/{program}/{module}/lecons/{slug}/terminee",
            web::post().to(lesson_done),
        )
        .route(
            "/programmes/{program}/{module}/evaluation",
            web::get().to(evaluation_page),
        )
        .route(
            "/programmes/{program}/{module}/evaluation",
            web::post().to(start_attempt),
        )
        .route("/tentatives/{id}", web::get().to(attempt_page))
        .route("/tentatives/{id}", web::post().to(submit_attempt));
}

/// Who is looking: a trainee of this programme, or staff previewing it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Viewer {
    Trainee(i64),
    Preview,
}

/// Who is looking, and what `read` finds for them, in one trip to the database.
pub async fn viewer_with<T, F>(
    state: &State,
    me: &CurrentUser,
    program: &str,
    read: F,
) -> AppResult<(Viewer, T)>
where
    F: FnOnce(&mut DbConn, Viewer) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    if me.is(Role::Doctor) {
        return Err(AppError::forbidden());
    }
    let (trainee, id, program) = (me.is(Role::Trainee), me.id, program.to_string());
    state
        .db(move |c| {
            let viewer = if trainee {
                match store::trainee_program(c, id)? {
                    Some((code, _)) if code == program => Viewer::Trainee(id),
                    _ => return Err(AppError::forbidden()),
                }
            } else {
                Viewer::Preview
            };
            Ok((viewer, read(c, viewer)?))
        })
        .await
}

pub async fn viewer(state: &State, me: &CurrentUser, program: &str) -> AppResult<Viewer> {
    Ok(viewer_with(state, me, program, |_, _| Ok(())).await?.0)
}

fn find<'a>(
    content: &'a Content,
    program: &str,
    module: &str,
) -> AppResult<(&'a Program, &'a Module)> {
    let p = content
        .curriculum
        .program(program)
        .ok_or(AppError::NotFound)?;
    let m = p.module(module).ok_or(AppError::NotFound)?;
    Ok((p, m))
}

fn base(req: &HttpRequest, me: &CurrentUser, viewer: Viewer) -> tera::Context {
    let mut ctx = w::context(req);
    if let Some(state) = req.app_data::<State>() {
        ctx.insert("beat_ms", &(state.config.study.beat_seconds * 1000));
    }
    ctx.insert("me", &me.view());
    ctx.insert("preview", &(viewer == Viewer::Preview));
    ctx
}

async fn my_path(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
) -> AppResult<HttpResponse> {
    if me.is(Role::Trainee) {
        let id = me.id;
        return match state
            .db(move |c| Ok(store::trainee_program(c, id)?))
            .await?
        {
            Some((code, _)) => Ok(w::redirect(&format!("/programmes/{code}"))),
            None => {
                let mut ctx = w::context(&req);
                ctx.insert("me", &me.view());
                state.render("curriculum/no_path.html", &ctx)
            }
        };
    }
    me.require(&[Role::Admin, Role::OrganismAdmin, Role::Trainer])?;
    let mut ctx = base(&req, &me, Viewer::Preview);
    ctx.insert("programs", &content.curriculum.programs);
    state.render("curriculum/programs.html", &ctx)
}

#[derive(Serialize)]
struct ModuleProgress<'a> {
    module: &'a Module,
    modality: &'static str,
    lessons_done: usize,
    lessons_total: usize,
    percent: usize,
    evaluation_passed: bool,
}

fn progress(c: &mut DbConn, viewer: Viewer) -> AppResult<(HashSet<i64>, Vec<Attempt>)> {
    Ok(match viewer {
        Viewer::Trainee(id) => (
            store::completed_lessons(c, id)?,
            store::all_attempts(c, id)?,
        ),
        Viewer::Preview => (HashSet::new(), vec![]),
    })
}

fn module_progress<'a>(
    content: &Content,
    m: &'a Module,
    done: &HashSet<i64>,
    attempts: &[Attempt],
) -> ModuleProgress<'a> {
    let lessons_done = m
        .lessons
        .iter()
        .filter(|l| {
            content
                .ids
                .lessons
                .get(&(m.code.clone(), l.slug.clone()))
                .is_some_and(|id| done.contains(id))
        })
        .count();
    let module_id = content.ids.modules.get(&m.code).copied();
    let evaluation_passed = attempts
        .iter()
        .any(|a| Some(a.module_id) == module_id && a.passed == Some(true));
    ModuleProgress {
        module: m,
        modality: m.modality.label(),
        lessons_done,
        lessons_total: m.lessons.len(),
        percent: (lessons_done * 100)
            .checked_div(m.lessons.len())
            .unwrap_or(0),
        evaluation_passed,
    }
}

async fn program_page(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let code = path.into_inner();
    let program = content
        .curriculum
        .program(&code)
        .ok_or(AppError::NotFound)?;
    let (viewer, (done, attempts)) = viewer_with(&state, &me, &code, progress).await?;
    let modules: Vec<_> = program
        .modules
        .iter()
        .map(|m| module_progress(&content, m, &done, &attempts))
        .collect();
    let mut ctx = base(&req, &me, viewer);
    ctx.insert("program", program);
    ctx.insert("modules", &modules);
    state.render("curriculum/program.html", &ctx)
}

#[derive(Serialize)]
struct LessonLine<'a> {
    slug: &'a str,
    title: &'a str,
    minutes: u32,
    done: bool,
}

async fn module_page(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (pcode, mcode) = path.into_inner();
    let (program, module) = find(&content, &pcode, &mcode)?;
    let (viewer, (done, attempts)) = viewer_with(&state, &me, &pcode, progress).await?;
    let lessons: Vec<_> = module
        .lessons
        .iter()
        .map(|l| LessonLine {
            slug: &l.slug,
            title: &l.title,
            minutes: l.minutes,
            done: content
                .ids
                .lessons
                .get(&(module.code.clone(), l.slug.clone()))
                .is_some_and(|id| done.contains(id)),
        })
        .collect();
    let mut ctx = base(&req, &me, viewer);
    ctx.insert("program", program);
    ctx.insert("module", module);
    ctx.insert(
        "progress",
        &module_progress(&content, module, &done, &attempts),
    );
    ctx.insert("lessons", &lessons);
    ctx.insert(
        "missions",
        &module
            .missions
            .iter()
            .map(|m| m.label())
            .collect::<Vec<_>>(),
    );
    ctx.insert(
        "evaluation",
        &module
            .evaluation
            .as_ref()
            .map(|e| (&e.title, e.questions.len(), e.minutes)),
    );
    state.render("curriculum/module.html", &ctx)
}

async fn lesson_page(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<(String, String, String)>,
) -> AppResult<HttpResponse> {
    let (pcode, mcode, slug) = path.into_inner();
    let (program, module) = find(&content, &pcode, &mcode)?;
    let (index, lesson) = module.lesson(&slug).ok_or(AppError::NotFound)?;
    let lesson_id = content
        .ids
        .lessons
        .get(&(mcode.clone(), slug.clone()))
        .copied()
        .ok_or(AppError::NotFound)?;
    let (viewer, done) = viewer_with(&state, &me, &pcode, move |c, viewer| match viewer {
        Viewer::Trainee(id) => Ok(store::lesson_done(c, id, lesson_id)?),
        Viewer::Preview => Ok(false),
    })
    .await?;
    let mut ctx = base(&req, &me, viewer);
    ctx.insert("program", program);
    ctx.insert("module", module);
    ctx.insert("lesson", lesson);
    ctx.insert("lesson_id", &lesson_id);
    ctx.insert("body", &lesson.html);
    ctx.insert("done", &done);
    ctx.insert("position", &(index + 1));
    ctx.insert("count", &module.lessons.len());
    ctx.insert(
        "previous",
        &index.checked_sub(1).and_then(|i| module.lessons.get(i)),
    );
    ctx.insert("next", &module.lessons.get(index + 1));
    state.render("curriculum/lesson.html", &ctx)
}

#[derive(serde::Deserialize)]
struct Empty {}

async fn lesson_done(
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<(String, String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (pcode, mcode, slug) = path.into_inner();
    find(&content, &pcode, &mcode)?;
    let Viewer::Trainee(trainee) = viewer(&state, &me, &pcode).await? else {
        return Err(AppError::Forbidden(
            "L'aperçu ne permet pas d'enregistrer une progression.".into(),
        ));
    };
    let lesson_id = content
        .ids
        .lessons
        .get(&(mcode.clone(), slug.clone()))
        .copied()
        .ok_or(AppError::NotFound)?;
    state
        .db(move |c| Ok(store::complete_lesson(c, trainee, lesson_id)?))
        .await?;
    Ok(w::redirect(&format!(
        "/programmes/{pcode}/{mcode}/lecons/{slug}"
    )))
}

fn evaluation_of(module: &Module) -> AppResult<&Evaluation> {
    module.evaluation.as_ref().ok_or(AppError::NotFound)
}

async fn evaluation_page(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (pcode, mcode) = path.into_inner();
    let (program, module) = find(&content, &pcode, &mcode)?;
    let evaluation = evaluation_of(module)?;
    let module_id = content
        .ids
        .modules
        .get(&mcode)
        .copied()
        .ok_or(AppError::NotFound)?;
    let (viewer, attempts) = viewer_with(&state, &me, &pcode, move |c, viewer| match viewer {
        Viewer::Trainee(id) => Ok(store::attempts(c, id, module_id)?),
        Viewer::Preview => Ok(vec![]),
    })
    .await?;
    let mut ctx = base(&req, &me, viewer);
    ctx.insert("program", program);
    ctx.insert("module", module);
    ctx.insert("evaluation", evaluation);
    ctx.insert("attempts", &attempts);
    ctx.insert(
        "remaining",
        &(evaluation.max_attempts as usize).saturating_sub(attempts.len()),
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

async fn start_attempt(
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (pcode, mcode) = path.into_inner();
    let (_, module) = find(&content, &pcode, &mcode)?;
    let evaluation = evaluation_of(module)?;
    let Viewer::Trainee(trainee) = viewer(&state, &me, &pcode).await? else {
        return Err(AppError::Forbidden(
            "L'aperçu ne permet pas de passer l'évaluation.".into(),
        ));
    };
    let module_id = content
        .ids
        .modules
        .get(&mcode)
        .copied()
        .ok_or(AppError::NotFound)?;
    let (hash, count, max) = (
        evaluation.hash.clone(),
        evaluation.questions.len() as i32,
        evaluation.max_attempts,
    );
    let started = state
        .db(move |c| {
            Ok(store::start_attempt(
                c, trainee, module_id, &hash, count, max,
            )?)
        })
        .await?;
    match started {
        Start::Started(a) => Ok(w::redirect(&format!("/tentatives/{}", a.id))),
        Start::LimitReached(n) => Err(AppError::invalid(
            "attempt",
            format!("Vous avez utilisé vos {n} tentatives pour cette évaluation."),
        )),
    }
}

/// An attempt of the signed-in trainee, with its module and evaluation.
async fn own_attempt<'a>(
    state: &State,
    content: &'a Content,
    me: &CurrentUser,
    id: i64,
) -> AppResult<(Attempt, &'a Program, &'a Module, &'a Evaluation)> {
    let attempt = state
        .db(move |c| Ok(store::attempt(c, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    // Someone else's attempt is answered like one that does not exist.
    if attempt.trainee_id != me.id {
        return Err(AppError::NotFound);
    }
    let code = content
        .ids
        .modules
        .iter()
        .find(|(_, mid)| **mid == attempt.module_id)
        .map(|(c, _)| c.clone())
        .ok_or(AppError::NotFound)?;
    let (program, module) = content.curriculum.module(&code).ok_or(AppError::NotFound)?;
    let evaluation = evaluation_of(module)?;
    Ok((attempt, program, module, evaluation))
}

async fn attempt_page(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let (attempt, program, module, evaluation) =
        own_attempt(&state, &content, &me, path.into_inner()).await?;
    let answers: Answers = attempt
        .answers
        .as_deref()
        .and_then(|a| serde_json::from_str(a).ok())
        .unwrap_or_default();
    let right: HashSet<String> = rules::score(evaluation, &answers)
        .map(|s| s.right.into_iter().collect())
        .unwrap_or_default();
    let mut ctx = base(&req, &me, Viewer::Trainee(me.id));
    ctx.insert("program", program);
    ctx.insert("module", module);
    ctx.insert("evaluation", evaluation);
    ctx.insert("attempt", &attempt);
    ctx.insert("answers", &answers);
    ctx.insert("right", &right);
    state.render("curriculum/attempt.html", &ctx)
}

pub fn answers_from_pairs(pairs: Vec<(String, String)>) -> Answers {
    let mut answers = Answers::new();
    for (k, v) in pairs {
        if k != crate::web::csrf::FIELD {
            answers.entry(k).or_default().push(v);
        }
    }
    answers
}

/// Scores and records an open attempt of the current trainee.
pub async fn submit(
    state: &State,
    content: &Content,
    me: &CurrentUser,
    id: i64,
    answers: Answers,
) -> AppResult<Attempt> {
    let (attempt, _, _, evaluation) = own_attempt(state, content, me, id).await?;
    if attempt.status != store::OPEN {
        return Ok(attempt);
    }
    let score = rules::score(evaluation, &answers)
        .map_err(|e| AppError::invalid("answers", e.message()))?;
    let json = serde_json::to_string(&answers).unwrap_or_default();
    state
        .db(move |c| {
            Ok(store::submit_attempt(
                c,
                id,
                &json,
                score.correct as i32,
                score.pct as i32,
                score.passed,
            )?)
        })
        .await
}

async fn submit_attempt(
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    submit(&state, &content, &me, id, answers_from_pairs(pairs)).await?;
    Ok(w::redirect(&format!("/tentatives/{id}")))
}
