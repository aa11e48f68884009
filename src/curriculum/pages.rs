//! Trainee pages of the curriculum (staff see the same pages as a preview).

use std::collections::{HashMap, HashSet};

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::blocs::{self, BlocResult, BlocState};
use super::rules::{self, Activity, ActivityKind, ActivityState, Facts, Kind, Module};
use super::store::{self, Attempt};
use super::viewer::{Viewer, viewer, viewer_with};
use super::{Content, Edition};
use crate::accounts::{CurrentUser, Role};
use crate::db::DbConn;
use crate::web::csrf::CsrfForm;
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/parcours", web::get().to(my_path))
        .route("/programmes/{program}", web::get().to(program_page))
        .route("/programmes/{program}/{module}", web::get().to(module_page))
        .route(
            "/programmes/{program}/{module}/activites/{slug}",
            web::get().to(activity_page),
        )
        .route(
            "/programmes/{program}/{module}/activites/{slug}/terminee",
            web::post().to(activity_done),
        );
}

pub fn base(req: &HttpRequest, me: &CurrentUser, viewer: Viewer) -> tera::Context {
    let mut ctx = w::context(req);
    if let Some(state) = req.app_data::<State>() {
        ctx.insert("beat_ms", &(state.config.study.beat_seconds * 1000));
    }
    ctx.insert("me", &me.view());
    ctx.insert("preview", &(viewer == Viewer::Preview));
    ctx
}

#[derive(serde::Deserialize)]
pub struct Empty {}

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
    let (organism, all) = (me.organism_id, me.is(Role::Admin));
    let content = content.clone();
    let editions = state
        .db(move |c| {
            let mut list = Vec::new();
            for (code, org) in super::versions::visible_programs(c, organism, all)? {
                if let Some(ed) = content.current(c, &code)? {
                    list.push((ed, org));
                }
            }
            Ok(list)
        })
        .await?;
    let programs: Vec<_> = editions
        .iter()
        .map(|(ed, org)| serde_json::json!({"program": &*ed.program, "own": org.is_some(), "version": ed.number}))
        .collect();
    let mut ctx = base(&req, &me, Viewer::Preview);
    ctx.insert("programs", &programs);
    state.render("curriculum/programs.html", &ctx)
}

/// What is recorded about the trainee on every activity, read once per page.
#[derive(Default)]
pub struct Record {
    done: HashSet<i64>,
    attempts: Vec<Attempt>,
    seconds: HashMap<i64, i64>,
    submissions: HashMap<i64, rules::SubmissionState>,
    /// Her certification results by bloc: read for the programme page of a CQP only.
    blocs: Vec<BlocResult>,
}

fn record(c: &mut DbConn, viewer: Viewer, _: &Edition) -> AppResult<Record> {
    record_of(c, viewer, true)
}

/// The programme page shows what is done, not the time spent: one query fewer; and, for a
/// CQP, her blocs acquired or to pass again: one small query more.
fn progress_record(c: &mut DbConn, viewer: Viewer, ed: &Edition) -> AppResult<Record> {
    let mut r = record_of(c, viewer, false)?;
    if let (Viewer::Trainee(id), Kind::Cqp) = (viewer, ed.program.kind) {
        r.blocs = store::bloc_results(c, id)?;
    }
    Ok(r)
}

fn record_of(c: &mut DbConn, viewer: Viewer, with_times: bool) -> AppResult<Record> {
    Ok(match viewer {
        Viewer::Trainee(id) => Record {
            done: store::completed_lessons(c, id)?,
            attempts: store::all_attempts(c, id)?,
            seconds: if with_times {
                store::activity_seconds(c, id)?
            } else {
                HashMap::new()
            },
            submissions: super::assignments::store::states(c, id)?,
            blocs: Vec::new(),
        },
        Viewer::Preview => Record::default(),
    })
}

impl Record {
    /// The facts of each activity of a module, in its order.
    fn facts_of(&self, content: &Edition, m: &Module) -> Vec<Facts> {
        let ids = content.activity_ids(&m.code);
        let module_id = content.module_id(&m.code);
        m.activities
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let id = ids.get(i).copied();
                let attempts = || {
                    self.attempts
                        .iter()
                        .filter(move |t| Some(t.module_id) == module_id && t.quiz == a.slug)
                };
                Facts {
                    seconds: id
                        .and_then(|id| self.seconds.get(&id))
                        .copied()
                        .unwrap_or(0),
                    marked_done: id.is_some_and(|id| self.done.contains(&id)),
                    attempted: attempts().next().is_some(),
                    passed: attempts().any(|t| t.passed == Some(true)),
                    submission: id.and_then(|id| self.submissions.get(&id)).copied(),
                }
            })
            .collect()
    }

    fn evaluation_passed(&self, content: &Edition, m: &Module) -> bool {
        let module_id = content.module_id(&m.code);
        self.attempts
            .iter()
            .any(|a| Some(a.module_id) == module_id && a.quiz.is_empty() && a.passed == Some(true))
    }
}

#[derive(Serialize)]
struct ModuleProgress<'a> {
    module: rules::ModuleHead<'a>,
    modality: &'static str,
    required_done: usize,
    required_total: usize,
    percent: usize,
    evaluation_passed: bool,
    /// Its bloc of the certification, acquired or to pass again, when she has a result.
    bloc: Option<BlocState>,
}

fn module_progress<'a>(content: &Edition, m: &'a Module, r: &Record) -> ModuleProgress<'a> {
    let facts = r.facts_of(content, m);
    let required: Vec<&Activity> = m.activities.iter().filter(|a| a.required).collect();
    let required_done = m
        .activities
        .iter()
        .zip(&facts)
        .filter(|(a, f)| {
            a.required
                && matches!(
                    rules::state_of(a.kind, f),
                    ActivityState::Done | ActivityState::Graded
                )
        })
        .count();
    ModuleProgress {
        module: m.head(),
        modality: m.modality.label(),
        required_done,
        required_total: required.len(),
        percent: (required_done * 100)
            .checked_div(required.len())
            .unwrap_or(0),
        evaluation_passed: r.evaluation_passed(content, m),
        bloc: blocs::state_of(&m.code, &r.blocs),
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
    let (viewer, ed, r) = viewer_with(&state, &content, &me, &code, progress_record).await?;
    render_program(&req, &state, &me, viewer, &ed, &r)
}

/// The programme page of a version, for whoever `viewer` is (a draft's preview too).
pub fn render_program(
    req: &HttpRequest,
    state: &State,
    me: &CurrentUser,
    viewer: Viewer,
    ed: &Edition,
    r: &Record,
) -> AppResult<HttpResponse> {
    let program = &ed.program;
    let modules: Vec<_> = program
        .modules
        .iter()
        .map(|m| module_progress(ed, m, r))
        .collect();
    let mut ctx = base(req, me, viewer);
    ctx.insert("base", &ed.base);
    ctx.insert("program", &program.head());
    ctx.insert("modules", &modules);
    state.render("curriculum/program.html", &ctx)
}

/// One line of the module page: an activity, its duration, the trainee's state and time.
#[derive(Serialize)]
struct ActivityLine<'a> {
    url: String,
    title: &'a str,
    kind: &'static str,
    minutes: String,
    required: bool,
    state: ActivityState,
    state_label: &'static str,
    spent: Option<String>,
}

#[derive(Serialize)]
struct SequenceView<'a> {
    title: &'a str,
    minutes: String,
    activities: Vec<ActivityLine<'a>>,
}

fn sequences<'a>(content: &Edition, m: &'a Module, r: &Record) -> Vec<SequenceView<'a>> {
    let fmt = |mins: i64| crate::base::format::minutes(mins);
    let facts = r.facts_of(content, m);
    m.sequences
        .iter()
        .enumerate()
        .map(|(i, title)| {
            let acts: Vec<(&Activity, &Facts)> = m
                .activities
                .iter()
                .zip(&facts)
                .filter(|(a, _)| a.sequence == i)
                .collect();
            SequenceView {
                title,
                minutes: fmt(acts.iter().map(|(a, _)| i64::from(a.minutes)).sum()),
                activities: acts
                    .into_iter()
                    .map(|(a, f)| {
                        let state = rules::state_of(a.kind, f);
                        ActivityLine {
                            url: rules::activity_url(&content.base, &m.code, a),
                            title: &a.title,
                            kind: a.kind.label(),
                            minutes: fmt(a.minutes.into()),
                            required: a.required,
                            state,
                            state_label: state.label(),
                            spent: (f.seconds > 0).then(|| fmt((f.seconds + 59) / 60)),
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}

async fn module_page(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (pcode, mcode) = path.into_inner();
    let (viewer, ed, r) = viewer_with(&state, &content, &me, &pcode, record).await?;
    render_module(&req, &state, &me, (viewer, &ed, &r), &mcode)
}

/// A module's page in a version, for whoever `viewer` is (a draft's preview too).
pub fn render_module(
    req: &HttpRequest,
    state: &State,
    me: &CurrentUser,
    (viewer, ed, r): (Viewer, &Edition, &Record),
    mcode: &str,
) -> AppResult<HttpResponse> {
    let (program, module) = (&ed.program, ed.module(mcode).ok_or(AppError::NotFound)?);
    let mut ctx = base(req, me, viewer);
    ctx.insert("base", &ed.base);
    ctx.insert("program", &program.head());
    ctx.insert("module", &module.head());
    ctx.insert("progress", &module_progress(ed, module, r));
    ctx.insert("sequences", &sequences(ed, module, r));
    ctx.insert(
        "required_minutes",
        &crate::base::format::minutes(module.required_minutes().into()),
    );
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
            .map(|e| (&e.title, e.attempt_size(), e.minutes)),
    );
    state.render("curriculum/module.html", &ctx)
}

/// A lesson, a quiz or a resource (assignments have their own pages).
async fn activity_page(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<(String, String, String)>,
) -> AppResult<HttpResponse> {
    let (pcode, mcode, slug) = path.into_inner();
    let (m2, s2) = (mcode.clone(), slug.clone());
    let (viewer, ed, done) =
        viewer_with(&state, &content, &me, &pcode, move |c, viewer, ed| {
            match (viewer, ed.activity_id(&m2, &s2)) {
                (Viewer::Trainee(t), Some(id)) => Ok(store::lesson_done(c, t, id)?),
                _ => Ok(false),
            }
        })
        .await?;
    render_activity(&req, &state, &me, (viewer, &ed, done), (&mcode, &slug)).await
}

/// A lesson's, a quiz's or a resource's page in a version (a draft's preview too).
pub async fn render_activity(
    req: &HttpRequest,
    state: &State,
    me: &CurrentUser,
    (viewer, ed, done): (Viewer, &std::sync::Arc<Edition>, bool),
    (mcode, slug): (&str, &str),
) -> AppResult<HttpResponse> {
    let (program, module) = (&ed.program, ed.module(mcode).ok_or(AppError::NotFound)?);
    let (index, activity) = module.activity(slug).ok_or(AppError::NotFound)?;
    match activity.kind {
        ActivityKind::Quiz => {
            let qr = super::quizzes::QuizRef::find(ed, mcode, slug)?;
            return super::quiz_pages::quiz_page(req, state, me, viewer, qr).await;
        }
        ActivityKind::Assignment => {
            return Ok(w::redirect(&rules::activity_url(&ed.base, mcode, activity)));
        }
        ActivityKind::Lesson | ActivityKind::Resource | ActivityKind::Package => {}
    }
    let id = ed.activity_id(mcode, slug).ok_or(AppError::NotFound)?;
    let link = |a: &Activity| serde_json::json!({"title": a.title, "url": rules::activity_url(&ed.base, mcode, a)});
    let mut ctx = base(req, me, viewer);
    ctx.insert("base", &ed.base);
    ctx.insert("program", &program.head());
    ctx.insert("module", &module.head());
    ctx.insert("activity", activity);
    ctx.insert("activity_id", &id);
    ctx.insert("body", activity.html());
    ctx.insert("done", &done);
    ctx.insert("position", &(index + 1));
    ctx.insert("count", &module.activities.len());
    ctx.insert("sequence", &module.sequences.get(activity.sequence));
    let mut framing = None;
    if let Some(p) = activity.package() {
        let chosen = web::Query::<HashMap<String, String>>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.get("partie").and_then(|v| v.parse().ok()));
        let origin = state.config.packages_url.clone();
        let (ed2, m2, a2, p2) = (ed.clone(), mcode.to_string(), activity.clone(), p.clone());
        let view = state
            .db(move |c| {
                super::package_view::view(
                    c,
                    (viewer, &ed2, &m2),
                    &a2,
                    &p2,
                    (chosen, origin.is_some()),
                )
            })
            .await?;
        framing = view.frame.as_ref().and(state.config.packages_url.clone());
        ctx.insert("package", &view);
        ctx.insert("package_origin", &framing);
    }
    if let Some(r) = activity.resource() {
        ctx.insert("resource", r);
        ctx.insert("src", &rules::file_url(&ed.base, mcode, &r.file));
        ctx.insert("media", r.media.family());
        ctx.insert("mime", r.media.mime());
    }
    ctx.insert(
        "previous",
        &index
            .checked_sub(1)
            .and_then(|i| module.activities.get(i))
            .map(link),
    );
    ctx.insert("next", &module.activities.get(index + 1).map(link));
    let mut res = state.render("curriculum/activity.html", &ctx)?;
    // Only the page that plays a package may frame the packages' origin.
    // And a cmi5 AU's own site, when `cmi5.xml` gives an absolute URL.
    let foreign = activity
        .package()
        .map(super::rules::PackageActivity::foreign_origins)
        .unwrap_or_default();
    if let Some(v) = framing.and_then(|o| {
        actix_web::http::header::HeaderValue::from_str(&w::csp_framing(&format!("{o}{foreign}")))
            .ok()
    }) {
        res.headers_mut()
            .insert(actix_web::http::header::CONTENT_SECURITY_POLICY, v);
    }
    Ok(res)
}

/// Marks a lesson or a resource done (quizzes are done when passed, assignments when graded).
async fn activity_done(
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<(String, String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (pcode, mcode, slug) = path.into_inner();
    let (viewer, ed) = viewer(&state, &content, &me, &pcode).await?;
    let module = ed.module(&mcode).ok_or(AppError::NotFound)?;
    let (_, activity) = module.activity(&slug).ok_or(AppError::NotFound)?;
    if !matches!(activity.kind, ActivityKind::Lesson | ActivityKind::Resource) {
        return Err(AppError::NotFound);
    }
    let Viewer::Trainee(trainee) = viewer else {
        return Err(AppError::Forbidden(
            "L'aperçu ne permet pas d'enregistrer une progression.".into(),
        ));
    };
    let id = ed.activity_id(&mcode, &slug).ok_or(AppError::NotFound)?;
    state
        .db(move |c| Ok(store::complete_lesson(c, trainee, id)?))
        .await?;
    Ok(w::redirect(&rules::activity_url(
        &ed.base, &mcode, activity,
    )))
}
