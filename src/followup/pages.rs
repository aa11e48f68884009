//! Follow-up pages: the trainee's threads (one per module, and help requests), a thread with
//! its messages and read receipts, and the attachments' download (the staff's list is in
//! `staff_pages.rs`). Only the trainee and her organism's staff see a thread.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::attachments;
use super::rules::{self, MessageKind, Side, ThreadKind};
use super::store::{self, NewMessage, Target, ThreadRow};
use crate::accounts::{CurrentUser, Role};
use crate::base::format;
use crate::cohorts::store as cohorts;
use crate::vae::documents::{self, Staged, Upload};
use crate::web::{self as w, AppError, AppResult, State, csrf};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/mon-suivi", web::get().to(mine))
        .route("/mon-suivi/modules/{module}", web::get().to(module_page))
        .route("/mon-suivi/modules/{module}", web::post().to(post_module))
        .route("/aide", web::get().to(help_form))
        .route("/aide", web::post().to(post_help))
        .route("/suivi/pieces/{id}", web::get().to(download))
        .route("/suivi/{id}", web::get().to(thread_page))
        .route("/suivi/{id}", web::post().to(post_thread))
        .route(
            "/organismes/{id}/suivi",
            web::get().to(super::staff_pages::staff_list),
        );
}

/// The trainee herself, or her organism's own staff; a platform admin, a doctor or anyone
/// else does not read pedagogical exchanges.
fn side_of(me: &CurrentUser, thread: &ThreadRow) -> AppResult<Side> {
    if me.is(Role::Trainee) {
        return if me.id == thread.trainee_id {
            Ok(Side::Trainee)
        } else {
            Err(AppError::NotFound)
        };
    }
    if me.is(Role::Admin) {
        return Err(AppError::forbidden());
    }
    me.hide_unless_staff_of(thread.organism_id)?;
    Ok(Side::Staff)
}

/// The trainee's cohort now: (cohort, its programme's modules).
async fn my_cohort(
    state: &State,
    me: &CurrentUser,
) -> AppResult<Option<(cohorts::CohortRow, Vec<(i64, String, String, i32)>)>> {
    me.require(&[Role::Trainee])?;
    let id = me.id;
    state
        .db(move |c| {
            let Some(cid) = cohorts::active_cohort(c, id)? else {
                return Ok(None);
            };
            let Some(cohort) = cohorts::cohort(c, cid)? else {
                return Ok(None);
            };
            let modules = cohorts::program_modules(c, cohort.program_id)?;
            Ok(Some((cohort, modules)))
        })
        .await
}

pub(super) fn line_view(l: &store::ThreadLine, now: chrono::NaiveDateTime) -> serde_json::Value {
    serde_json::json!({
        "id": l.thread.id,
        "kind": l.thread.kind().label(),
        "subject": l.thread.subject,
        "module_id": l.thread.module_id,
        "module_code": l.module_code,
        "trainee": l.trainee_name,
        "cohort": l.cohort_name,
        "messages": l.messages,
        "unread": l.unread,
        "last": format::datetime(l.thread.last_message_at),
        "waiting": l.thread.waiting_since.map(|t| rules::waiting_label(now - t)),
    })
}

async fn mine(req: HttpRequest, state: State, me: CurrentUser) -> AppResult<HttpResponse> {
    let current = my_cohort(&state, &me).await?;
    let id = me.id;
    let lines = state
        .db(move |c| Ok(store::lines(c, id, store::Threads::OfTrainee(id), false)?))
        .await?;
    let now = crate::db::now();
    let modules: Vec<serde_json::Value> = current
        .as_ref()
        .map(|(cohort, modules)| {
            modules
                .iter()
                .map(|(mid, code, title, _)| {
                    let line = lines.iter().find(|l| {
                        l.thread.module_id == Some(*mid) && l.thread.cohort_id == cohort.id
                    });
                    serde_json::json!({
                        "id": mid, "code": code, "title": title,
                        "thread": line.map(|l| line_view(l, now)),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let help: Vec<serde_json::Value> = lines
        .iter()
        .filter(|l| l.thread.kind() == ThreadKind::Assistance)
        .map(|l| line_view(l, now))
        .collect();
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("cohort", &current.as_ref().map(|c| &c.0));
    ctx.insert("modules", &modules);
    ctx.insert("help", &help);
    state.render("followup/mine.html", &ctx)
}

/// What the thread page shows before its first message: a module not asked about yet.
struct Blank {
    module_id: i64,
    title: String,
}

#[derive(Default)]
struct Draft {
    error: Option<String>,
    body: String,
    kind: String,
}

async fn render_thread(
    req: &HttpRequest,
    state: &State,
    me: &CurrentUser,
    thread: Result<ThreadRow, Blank>,
    draft: Draft,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let mut ctx = w::context(req);
    ctx.insert("me", &me.view());
    let (side, thread_kind) = match &thread {
        Ok(t) => (side_of(me, t)?, t.kind()),
        Err(_) => (Side::Trainee, ThreadKind::Pedagogique),
    };
    match thread {
        Err(blank) => {
            ctx.insert("title", &blank.title);
            ctx.insert("action", &format!("/mon-suivi/modules/{}", blank.module_id));
            ctx.insert("messages", &Vec::<()>::new());
            ctx.insert("receipts", &Vec::<()>::new());
            ctx.insert("thread", &None::<ThreadRow>);
        }
        Ok(t) => {
            let (tid, reader) = (t.id, me.id);
            let (messages, reads, trainee, cohort, module) = state
                .db(move |c| {
                    let messages = store::messages(c, tid)?;
                    // A receipt that cannot be written (a full disk) must not hide the thread.
                    if let Some(last) = messages.last()
                        && let Err(e) = store::mark_read(c, tid, reader, last.id)
                    {
                        tracing::warn!(error = %e, thread = tid, "read receipt not recorded");
                    }
                    let reads = store::reads(c, tid)?;
                    let trainee =
                        cohorts::trainee(c, cohorts::Scope::Organism(t.organism_id), t.trainee_id)?
                            .map(|l| l.name);
                    let cohort = cohorts::cohort(c, t.cohort_id)?;
                    let module = match t.module_id {
                        Some(m) => cohorts::program_modules(
                            c,
                            cohort.as_ref().map_or(0, |c| c.program_id),
                        )?
                        .into_iter()
                        .find(|x| x.0 == m),
                        None => None,
                    };
                    Ok((messages, reads, trainee, cohort, module))
                })
                .await?;
            let views: Vec<serde_json::Value> = messages
                .iter()
                .map(|m| {
                    let readers: Vec<&str> = reads
                        .iter()
                        .filter(|r| r.0 != m.author_id && r.2 >= m.id)
                        .map(|r| r.1.as_str())
                        .collect();
                    serde_json::json!({
                        "id": m.id,
                        "author": m.author_name,
                        "from_trainee": MessageKind::parse(&m.kind).is_some_and(|k| k.from_trainee()),
                        "role": Role::parse(&m.author_role).map_or("", |r| r.label()),
                        "kind": MessageKind::parse(&m.kind).map_or("Message", |k| k.label()),
                        "body": m.body,
                        "at": format::datetime(m.created_at),
                        "attachments": m.attachments.iter().map(|a| serde_json::json!({
                            "id": a.id, "name": a.file_name, "kb": (a.size_bytes + 1023) / 1024,
                        })).collect::<Vec<_>>(),
                        "read_by": readers,
                    })
                })
                .collect();
            let receipts: Vec<serde_json::Value> = reads
                .iter()
                .filter(|r| r.0 != me.id)
                .map(|r| serde_json::json!({"name": r.1, "at": format::datetime(r.3)}))
                .collect();
            let title = match (&module, t.kind()) {
                (Some((_, code, title, _)), _) => format!("{code} — {title}"),
                _ => t.subject.clone(),
            };
            ctx.insert("title", &title);
            ctx.insert("thread", &t);
            ctx.insert("kind_label", t.kind().label());
            ctx.insert("trainee", &trainee);
            ctx.insert("cohort", &cohort);
            ctx.insert("messages", &views);
            ctx.insert("receipts", &receipts);
            ctx.insert(
                "waiting",
                &t.waiting_since
                    .map(|s| rules::waiting_label(crate::db::now() - s)),
            );
            ctx.insert("action", &format!("/suivi/{}", t.id));
        }
    }
    let kinds: Vec<serde_json::Value> = rules::allowed_kinds(side, thread_kind)
        .into_iter()
        .map(|k| serde_json::json!({"value": k.as_str(), "label": k.label()}))
        .collect();
    ctx.insert("kinds", &kinds);
    ctx.insert("staff", &(side == Side::Staff));
    ctx.insert("error", &draft.error);
    ctx.insert("draft", &draft.body);
    ctx.insert("draft_kind", &draft.kind);
    ctx.insert("max_mb", &(state.config.vae.max_upload_bytes / 1_048_576));
    state.render_status(status, "followup/thread.html", &ctx)
}

async fn load_thread(state: &State, id: i64) -> AppResult<ThreadRow> {
    state
        .db(move |c| Ok(store::thread(c, id)?))
        .await?
        .ok_or(AppError::NotFound)
}

async fn thread_page(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let t = load_thread(&state, path.into_inner()).await?;
    render_thread(&req, &state, &me, Ok(t), Draft::default(), StatusCode::OK).await
}

/// A module of the trainee's programme: (cohort, module id, "M1 — title").
async fn my_module(
    state: &State,
    me: &CurrentUser,
    module: i64,
) -> AppResult<(cohorts::CohortRow, i64, String)> {
    let (cohort, modules) = my_cohort(state, me).await?.ok_or(AppError::NotFound)?;
    let (id, code, title, _) = modules
        .into_iter()
        .find(|m| m.0 == module)
        .ok_or(AppError::NotFound)?;
    Ok((cohort, id, format!("{code} — {title}")))
}

async fn module_page(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let (cohort, module_id, title) = my_module(&state, &me, path.into_inner()).await?;
    let (tid, cid) = (me.id, cohort.id);
    let existing = state
        .db(move |c| Ok(store::module_thread(c, tid, cid, module_id)?))
        .await?;
    if let Some(t) = existing {
        return Ok(w::redirect(&format!("/suivi/{}", t.id)));
    }
    let blank = Blank { module_id, title };
    render_thread(
        &req,
        &state,
        &me,
        Err(blank),
        Draft::default(),
        StatusCode::OK,
    )
    .await
}

/// The form of a message: CSRF checked, at most one attachment kept under the VAE checks.
async fn read_message(req: &HttpRequest, state: &State, payload: Multipart) -> AppResult<Upload> {
    let limit = state.config.vae.max_upload_bytes;
    documents::check_length(req, limit, 1)?;
    let up = documents::read(payload, &state.objects.uploads, limit, 1).await?;
    csrf::verify(req, up.get(csrf::FIELD))?;
    Ok(up)
}

/// A message ready to post; its file is kept only once the quotas allow it.
struct Parts {
    kind: MessageKind,
    body: String,
    file: Option<Staged>,
    ip: String,
}

/// The message to post, or what to tell its author.
fn message_of(side: Side, thread: ThreadKind, up: &mut Upload, ip: String) -> Result<Parts, Draft> {
    let draft = |error: String, up: &Upload| Draft {
        error: Some(error),
        body: up.get("body").unwrap_or_default().to_string(),
        kind: up.get("kind").unwrap_or_default().to_string(),
    };
    let kind = rules::check_kind(side, thread, up.get("kind").unwrap_or_default())
        .map_err(|e| draft(e, up))?;
    let body = rules::check_body(up.get("body").unwrap_or_default()).map_err(|e| draft(e, up))?;
    let file = up.files.pop().map(|(_, staged)| staged);
    Ok(Parts {
        kind,
        body,
        file,
        ip,
    })
}

/// Posts the message (its file kept off the async workers); a file past a quota comes back
/// as a `Draft` to show again, with nothing stored.
async fn send(
    state: &State,
    me: &CurrentUser,
    target: Target,
    parts: Parts,
) -> AppResult<Result<i64, Draft>> {
    let author = me.id;
    let dir = state.objects.uploads.clone();
    let quotas = state.config.storage;
    state
        .db(move |c| {
            let Parts {
                kind,
                body,
                file,
                ip,
            } = parts;
            let attachment = match file {
                None => None,
                Some(staged) => match attachments::keep(c, &dir, &quotas, &target, staged) {
                    Ok(a) => Some(a),
                    Err(AppError::Invalid(fields)) => {
                        let error = fields.into_iter().next().map(|f| f.message);
                        return Ok(Err(Draft {
                            error,
                            body,
                            kind: kind.as_str().to_string(),
                        }));
                    }
                    Err(e) => return Err(e),
                },
            };
            let sha = attachment.as_ref().map(|a| a.sha256.clone());
            let message = NewMessage {
                author_id: author,
                kind,
                body: &body,
                attachment,
                ip,
            };
            let result = store::post(c, target, message);
            if result.is_err()
                && let Some(sha) = &sha
            {
                crate::storage::remove_unreferenced(c, &dir, sha);
            }
            Ok(Ok(result?.0))
        })
        .await
}

async fn post_thread(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    payload: Multipart,
) -> AppResult<HttpResponse> {
    let t = load_thread(&state, path.into_inner()).await?;
    let side = side_of(&me, &t)?;
    let mut up = read_message(&req, &state, payload).await?;
    let ip = w::client_ip(&req).to_string();
    let posted = match message_of(side, t.kind(), &mut up, ip) {
        Err(draft) => Err(draft),
        Ok(parts) => send(&state, &me, Target::Thread(t.id), parts).await?,
    };
    match posted {
        Ok(id) => Ok(w::redirect(&format!("/suivi/{id}#dernier"))),
        Err(draft) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render_thread(&req, &state, &me, Ok(t), draft, status).await
        }
    }
}

async fn post_module(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    payload: Multipart,
) -> AppResult<HttpResponse> {
    let (cohort, module_id, title) = my_module(&state, &me, path.into_inner()).await?;
    let mut up = read_message(&req, &state, payload).await?;
    let ip = w::client_ip(&req).to_string();
    let kind = ThreadKind::Pedagogique;
    let posted = match message_of(Side::Trainee, kind, &mut up, ip) {
        Err(draft) => Err(draft),
        Ok(parts) => {
            let target = Target::Module {
                organism_id: cohort.organism_id,
                cohort_id: cohort.id,
                trainee_id: me.id,
                module_id,
                subject: title.clone(),
            };
            send(&state, &me, target, parts).await?
        }
    };
    match posted {
        Ok(id) => Ok(w::redirect(&format!("/suivi/{id}#dernier"))),
        Err(draft) => {
            let blank = Blank { module_id, title };
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render_thread(&req, &state, &me, Err(blank), draft, status).await
        }
    }
}

async fn render_help(
    req: &HttpRequest,
    state: &State,
    me: &CurrentUser,
    draft: (Option<String>, String, String),
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let current = my_cohort(state, me).await?;
    let mut ctx = w::context(req);
    ctx.insert("me", &me.view());
    ctx.insert("enrolled", &current.is_some());
    ctx.insert("error", &draft.0);
    ctx.insert("subject", &draft.1);
    ctx.insert("draft", &draft.2);
    ctx.insert("max_subject", &rules::MAX_SUBJECT);
    ctx.insert("max_mb", &(state.config.vae.max_upload_bytes / 1_048_576));
    state.render_status(status, "followup/help.html", &ctx)
}

async fn help_form(req: HttpRequest, state: State, me: CurrentUser) -> AppResult<HttpResponse> {
    render_help(&req, &state, &me, Default::default(), StatusCode::OK).await
}

async fn post_help(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    payload: Multipart,
) -> AppResult<HttpResponse> {
    let (cohort, _) = my_cohort(&state, &me)
        .await?
        .ok_or_else(|| AppError::invalid("cohort", "Vous n'êtes inscrit dans aucune promotion."))?;
    let mut up = read_message(&req, &state, payload).await?;
    let subject = match rules::check_subject(up.get("subject").unwrap_or_default()) {
        Ok(s) => s,
        Err(e) => {
            let draft = (
                Some(e),
                up.get("subject").unwrap_or_default().to_string(),
                up.get("body").unwrap_or_default().to_string(),
            );
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return render_help(&req, &state, &me, draft, status).await;
        }
    };
    // The help form has no kind field: a request is a question.
    up.fields
        .push(("kind".into(), MessageKind::Question.as_str().into()));
    let ip = w::client_ip(&req).to_string();
    let kind = ThreadKind::Assistance;
    let posted = match message_of(Side::Trainee, kind, &mut up, ip) {
        Err(draft) => Err(draft),
        Ok(parts) => {
            let target = Target::Assistance {
                organism_id: cohort.organism_id,
                cohort_id: cohort.id,
                trainee_id: me.id,
                subject: subject.clone(),
            };
            send(&state, &me, target, parts).await?
        }
    };
    match posted {
        Ok(id) => Ok(w::redirect(&format!("/suivi/{id}#dernier"))),
        Err(draft) => {
            let draft = (draft.error, subject, draft.body);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render_help(&req, &state, &me, draft, status).await
        }
    }
}

async fn download(state: State, me: CurrentUser, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let (file, thread) = state
        .db(move |c| Ok(store::attachment(c, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    side_of(&me, &thread)?;
    let dir = state.objects.uploads.clone();
    let sha = file.sha256.clone();
    let bytes = web::block(move || documents::read_kept(&dir, &sha))
        .await
        .map_err(|e| AppError::Internal(e.into()))??;
    Ok(documents::attachment_response(
        &file.file_name,
        &file.mime_type,
        bytes,
    ))
}
