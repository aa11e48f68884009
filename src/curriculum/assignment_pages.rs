//! The pages of assignments: the trainee's page (instructions, case files, rubric, her
//! versions, the form to hand in), and the staff's: a cohort's versions to grade, the grading
//! page of one version, the files' download. Staff reach a version through the trainee's
//! organism (`cohorts::access`); the employer doctor may not grade.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::Content;
use super::assignments::{Target, files, rules, store, version_view};
use super::pages::base;
use super::rules::SubmissionState;
use super::viewer::{Viewer, viewer, viewer_with};
use crate::accounts::{CurrentUser, Role};
use crate::base::format;
use crate::cohorts::access::{cohort_for_staff, staff_access};
use crate::vae::documents::{self, Staged};
use crate::web::csrf::{self, CsrfForm};
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/programmes/{program}/{module}/devoirs/{slug}",
        web::get().to(assignment_page),
    )
    .route(
        "/programmes/{program}/{module}/devoirs/{slug}",
        web::post().to(hand_in),
    )
    .route("/promotions/{id}/devoirs", web::get().to(cohort_list))
    .route("/devoirs/fichiers/{id}", web::get().to(download))
    .route("/devoirs/{id}", web::get().to(grading_page))
    .route("/devoirs/{id}/notation", web::post().to(grade));
}

/// What the form showed when it is sent back: the message and the text typed.
#[derive(Default)]
pub(super) struct Draft {
    error: Option<String>,
    answer: String,
}

fn first_message(fields: &[crate::base::field::FieldError]) -> String {
    fields
        .first()
        .map(|f| f.message.clone())
        .unwrap_or_else(|| "Informations invalides.".into())
}

pub(super) fn render_page(
    req: &HttpRequest,
    state: &State,
    me: &CurrentUser,
    (t, viewer): (Target<'_>, Viewer),
    versions: &[store::Version],
    draft: Draft,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let m = &t.module.code;
    let latest = versions.first().map(|v| (v.row.state(), v.row.version_no));
    let mut ctx = base(req, me, viewer);
    ctx.insert("base", t.base);
    ctx.insert("program", &t.program.head());
    ctx.insert("module", &t.module.head());
    ctx.insert("activity", t.activity);
    ctx.insert("activity_id", &t.id);
    ctx.insert("body", t.activity.html());
    ctx.insert("sequence", &t.module.sequences.get(t.activity.sequence));
    ctx.insert("position", &(t.index + 1));
    ctx.insert("count", &t.module.activities.len());
    ctx.insert("minutes", &format::minutes(t.activity.minutes.into()));
    ctx.insert("rubric", &t.spec.rubric);
    ctx.insert("max_points", &t.spec.max_points());
    let case_files: Vec<_> = t
        .spec
        .case_files
        .iter()
        .map(|f| {
            serde_json::json!({
                "name": f.strip_prefix("files/").unwrap_or(f),
                "url": super::rules::file_url(t.base, m, f),
            })
        })
        .collect();
    ctx.insert("case_files", &case_files);
    let views: Vec<_> = versions
        .iter()
        .map(|v| version_view(v, &t.spec.rubric))
        .collect();
    ctx.insert("versions", &views);
    let open = matches!(viewer, Viewer::Trainee(_)) && rules::may_hand_in(latest.map(|l| l.0));
    ctx.insert("can_hand_in", &open);
    ctx.insert("refusal", &rules::hand_in_refusal(latest));
    ctx.insert(
        "revision",
        &(latest.map(|l| l.0) == Some(SubmissionState::RevisionRequested)),
    );
    ctx.insert("answer_text", &t.spec.answer.text());
    ctx.insert("answer_files", &t.spec.answer.files());
    ctx.insert("max_files", &rules::MAX_FILES);
    ctx.insert("max_mb", &(state.config.vae.max_upload_bytes / 1_048_576));
    ctx.insert("max_chars", &rules::MAX_ANSWER_CHARS);
    ctx.insert("action", &t.url());
    ctx.insert("error", &draft.error);
    ctx.insert("draft", &draft.answer);
    state.render_status(status, "curriculum/assignment.html", &ctx)
}

async fn assignment_page(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<(String, String, String)>,
) -> AppResult<HttpResponse> {
    let (p, m, slug) = path.into_inner();
    let (m2, s2) = (m.clone(), slug.clone());
    let (viewer, ed, versions) =
        viewer_with(&state, &content, &me, &p, move |c, viewer, ed| {
            match (viewer, ed.activity_id(&m2, &s2)) {
                (Viewer::Trainee(id), Some(lesson)) => Ok(store::versions(c, id, lesson)?),
                _ => Ok(vec![]),
            }
        })
        .await?;
    let t = Target::find(&ed, &m, &slug)?;
    let draft = Draft::default();
    render_page(
        &req,
        &state,
        &me,
        (t, viewer),
        &versions,
        draft,
        StatusCode::OK,
    )
}

/// The trainee's page again, with why her version was not kept.
async fn refused(
    req: &HttpRequest,
    state: &State,
    me: &CurrentUser,
    (t, trainee): (Target<'_>, i64),
    draft: Draft,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let lesson = t.id;
    let versions = state
        .db(move |c| Ok(store::versions(c, trainee, lesson)?))
        .await?;
    let viewer = Viewer::Trainee(trainee);
    render_page(req, state, me, (t, viewer), &versions, draft, status)
}

/// Keeps the files and records the version, or keeps nothing and says why (with the
/// status to answer).
async fn record(
    state: &State,
    req: &HttpRequest,
    (trainee, lesson): (i64, i64),
    answer: String,
    staged: Vec<Staged>,
) -> AppResult<Result<i32, (StatusCode, String)>> {
    let dir = state.objects.uploads.clone();
    let quotas = state.config.storage;
    let ip = w::client_ip(req).to_string();
    state
        .db(move |c| {
            let organism = store::organism_of(c, trainee)?.ok_or(AppError::NotFound)?;
            // Refused before any file is kept: the temporary files go with `staged`.
            if let Some(why) = rules::hand_in_refusal(store::latest(c, trainee, lesson)?) {
                return Ok(Err((StatusCode::CONFLICT, why)));
            }
            let kept = match files::keep(c, &dir, &quotas, (trainee, organism), staged) {
                Ok(kept) => kept,
                Err(AppError::Invalid(f)) => {
                    return Ok(Err((StatusCode::UNPROCESSABLE_ENTITY, first_message(&f))));
                }
                Err(e) => return Err(e),
            };
            let version = store::NewVersion {
                trainee_id: trainee,
                organism_id: organism,
                lesson_id: lesson,
                answer_text: &answer,
                files: &kept,
                ip,
            };
            match store::hand_in(c, &version) {
                Ok(Ok((_, n))) => Ok(Ok(n)),
                Ok(Err(why)) => {
                    files::forget(c, &dir, &kept);
                    Ok(Err((StatusCode::CONFLICT, why)))
                }
                Err(e) => {
                    files::forget(c, &dir, &kept);
                    Err(e.into())
                }
            }
        })
        .await
}

/// Hands in a version: text and files checked (files by their content), then the version,
/// its files and its audit event in one transaction. On any refusal nothing is kept.
async fn hand_in(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<(String, String, String)>,
    payload: Multipart,
) -> AppResult<HttpResponse> {
    let (p, m, slug) = path.into_inner();
    let (viewer, ed) = viewer(&state, &content, &me, &p).await?;
    let t = Target::find(&ed, &m, &slug)?;
    let Viewer::Trainee(trainee) = viewer else {
        return Err(AppError::Forbidden(
            "L'aperçu ne permet pas de rendre un devoir.".into(),
        ));
    };
    let limit = state.config.vae.max_upload_bytes;
    documents::check_length(&req, limit, rules::MAX_FILES as u64)?;
    let dir = &state.objects.uploads;
    let read = documents::read_with(payload, dir, limit, rules::MAX_FILES, files::check_work);
    let up = match read.await {
        Ok(up) => up,
        Err(AppError::Invalid(f)) => {
            let draft = Draft {
                error: Some(first_message(&f)),
                answer: String::new(),
            };
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return refused(&req, &state, &me, (t, trainee), draft, status).await;
        }
        Err(e) => return Err(e),
    };
    if let Err(e) = csrf::verify(&req, up.get(csrf::FIELD)) {
        up.discard().await;
        return Err(e);
    }
    let typed = up.get("answer").unwrap_or_default().to_string();
    let staged: Vec<Staged> = up.files.into_iter().map(|(_, s)| s).collect();
    let answer = match rules::check_answer(t.spec.answer, &typed, staged.len()) {
        Ok(a) => a,
        Err(e) => {
            let _ = web::block(move || drop(staged)).await;
            let draft = Draft {
                error: Some(e.message),
                answer: typed,
            };
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return refused(&req, &state, &me, (t, trainee), draft, status).await;
        }
    };
    match record(&state, &req, (trainee, t.id), answer, staged).await? {
        Ok(n) => Ok(w::redirect(&format!("{}#version-{n}", t.url()))),
        Err((status, why)) => {
            let draft = Draft {
                error: Some(why),
                answer: typed,
            };
            refused(&req, &state, &me, (t, trainee), draft, status).await
        }
    }
}

async fn cohort_list(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let cohort = cohort_for_staff(&state, &me, path.into_inner()).await?;
    let (org, id) = (cohort.organism_id, cohort.id);
    let (waiting, recent) = state
        .db(move |c| {
            Ok((
                store::cohort_queue(c, org, id, true, 500)?,
                store::cohort_queue(c, org, id, false, 50)?,
            ))
        })
        .await?;
    let line = |l: &store::QueueLine| {
        serde_json::json!({
            "id": l.id,
            "trainee": l.trainee_name,
            "trainee_id": l.trainee_id,
            "module": l.module_code,
            "activity": l.activity,
            "version_no": l.version_no,
            "submitted_at": format::datetime(l.submitted_at),
            "graded_at": l.graded_at.map(format::datetime),
            "state_label": SubmissionState::parse(&l.status).map_or("", |s| s.label()),
            "points": l.points,
            "max_points": l.max_points,
        })
    };
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("cohort", &cohort);
    ctx.insert("waiting", &waiting.iter().map(line).collect::<Vec<_>>());
    ctx.insert("recent", &recent.iter().map(line).collect::<Vec<_>>());
    state.render("curriculum/assignment_queue.html", &ctx)
}

/// A version and its trainee, for staff of her organism (the employer doctor: 403).
async fn staff_version(
    state: &State,
    me: &CurrentUser,
    id: i64,
) -> AppResult<(store::SubmissionRow, crate::cohorts::store::TraineeLine)> {
    let row = state
        .db(move |c| Ok(store::submission(c, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    let trainee = staff_access(state, me, row.trainee_id).await?;
    Ok((row, trainee))
}

/// What the grading form sent back: its values and problems, by field.
#[derive(Default)]
struct Marks {
    scores: Vec<String>,
    feedback: String,
    errors: Vec<crate::base::field::FieldError>,
}

async fn render_grading(
    req: &HttpRequest,
    state: &State,
    content: &web::Data<Content>,
    me: &CurrentUser,
    (row, trainee): (store::SubmissionRow, crate::cohorts::store::TraineeLine),
    marks: Marks,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let ed = trainee_edition(state, content, row.trainee_id).await?;
    let t = Target::of_activity(&ed, row.lesson_id)?;
    let (tid, lesson) = (row.trainee_id, row.lesson_id);
    let versions = state
        .db(move |c| Ok(store::versions(c, tid, lesson)?))
        .await?;
    let this = versions
        .iter()
        .find(|v| v.row.id == row.id)
        .ok_or(AppError::NotFound)?;
    let earlier: Vec<_> = versions
        .iter()
        .filter(|v| v.row.id != row.id)
        .map(|v| version_view(v, &t.spec.rubric))
        .collect();
    let criteria: Vec<_> = t
        .spec
        .rubric
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let field = rules::score_field(i);
            serde_json::json!({
                "field": field,
                "number": i + 1,
                "criterion": c.criterion,
                "points": c.points,
                "value": marks.scores.get(i).cloned().unwrap_or_default(),
                "error": marks.errors.iter().find(|e| e.field == field).map(|e| &e.message),
            })
        })
        .collect();
    let error_of = |f: &str| {
        marks
            .errors
            .iter()
            .find(|e| e.field == f)
            .map(|e| &e.message)
    };
    let mut ctx = w::context(req);
    ctx.insert("me", &me.view());
    ctx.insert("trainee", &trainee);
    ctx.insert("base", t.base);
    ctx.insert("program", &t.program.head());
    ctx.insert("module", &t.module.head());
    ctx.insert("activity", t.activity);
    ctx.insert("activity_url", &t.url());
    ctx.insert("version", &version_view(this, &t.spec.rubric));
    ctx.insert("earlier", &earlier);
    ctx.insert("criteria", &criteria);
    ctx.insert("max_points", &t.spec.max_points());
    ctx.insert("can_grade", &(row.state() == SubmissionState::Submitted));
    ctx.insert("feedback", &marks.feedback);
    ctx.insert("feedback_error", &error_of("feedback"));
    ctx.insert("decision_error", &error_of("decision"));
    ctx.insert("has_errors", &!marks.errors.is_empty());
    ctx.insert("action", &format!("/devoirs/{}/notation", row.id));
    state.render_status(status, "curriculum/assignment_grading.html", &ctx)
}

async fn grading_page(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let found = staff_version(&state, &me, path.into_inner()).await?;
    let marks = Marks::default();
    render_grading(&req, &state, &content, &me, found, marks, StatusCode::OK).await
}

async fn grade(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let (row, trainee) = staff_version(&state, &me, path.into_inner()).await?;
    if let Some(why) = rules::grading_refusal(row.state()) {
        return Err(AppError::Conflict(why.into()));
    }
    let ed = trainee_edition(&state, &content, row.trainee_id).await?;
    let t = Target::of_activity(&ed, row.lesson_id)?;
    let value = |k: &str| {
        form.iter()
            .find(|(f, _)| f == k)
            .map_or("", |(_, v)| v.as_str())
    };
    let scores: Vec<String> = (0..t.spec.rubric.len())
        .map(|i| value(&rules::score_field(i)).to_string())
        .collect();
    let raw: Vec<&str> = scores.iter().map(String::as_str).collect();
    let feedback = value("feedback").to_string();
    let grading = match rules::check_grading(&t.spec.rubric, value("decision"), &raw, &feedback) {
        Ok(g) => g,
        Err(errors) => {
            let marks = Marks {
                scores,
                feedback,
                errors,
            };
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            let found = (row, trainee);
            return render_grading(&req, &state, &content, &me, found, marks, status).await;
        }
    };
    let (id, ip) = (row.id, w::client_ip(&req).to_string());
    let (by, organism) = (me.id, trainee.organism_id);
    state
        .db(move |c| {
            let grader = store::Grader {
                id: by,
                organism_id: organism,
                ip: &ip,
            };
            store::grade(c, id, &grader, &grading)?.map_err(|m| AppError::Conflict(m.into()))
        })
        .await?;
    Ok(w::redirect(&format!("/devoirs/{id}")))
}

/// A file of a version: the trainee herself, or staff of her organism; anyone else, the
/// employer doctor included, gets the answer of a file that does not exist.
async fn download(state: State, me: CurrentUser, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let (file, owner) = state
        .db(move |c| Ok(store::file(c, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    match me.role {
        Role::Trainee if me.id == owner => {}
        Role::Trainee | Role::Doctor => return Err(AppError::NotFound),
        _ => {
            staff_access(&state, &me, owner).await?;
        }
    }
    let dir = state.objects.uploads.clone();
    let sha = file.sha256.clone();
    let bytes = web::block(move || documents::read_kept(&dir, &sha))
        .await
        .map_err(|e| AppError::Internal(e.into()))??;
    let mime = files::download_type(&file.mime_type);
    Ok(documents::attachment_response(&file.file_name, mime, bytes))
}

/// The version of the programme a trainee follows (her cohort's), for staff grading her work.
async fn trainee_edition(
    state: &State,
    content: &web::Data<Content>,
    trainee: i64,
) -> AppResult<std::sync::Arc<super::Edition>> {
    let content = content.clone();
    state
        .db(move |c| {
            let (_, version) =
                super::store::trainee_version(c, trainee)?.ok_or(AppError::NotFound)?;
            Ok(content.edition(c, version)?)
        })
        .await
}
