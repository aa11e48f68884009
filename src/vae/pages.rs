//! VAE pages of a file once it exists: the candidate's space (her files, her uploads), the
//! staff's list and file, the workflow steps, document downloads. Thin: read, authorise by
//! scope, call `workflow`, render. The public request and its confirmation are in
//! `request_pages`.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};

use super::documents;
use super::form::{field, read_form, settings, step_of};
use super::request_pages;
use super::rules::{self, Action, DocKind, Status};
use super::store::{self, Scope};
use super::view::full;
use super::workflow;
use crate::accounts::CurrentUser;
use crate::mail::MailContext;
use crate::web::csrf::CsrfForm;
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/organismes/{org}/vae/demande",
        web::get().to(request_pages::request_form),
    )
    .route(
        "/organismes/{org}/vae/demande",
        web::post().to(request_pages::submit_request),
    )
    .route("/organismes/{org}/vae", web::get().to(staff_list))
    .route("/ma-vae", web::get().to(my_files))
    .route("/ma-vae/{id}", web::get().to(my_file))
    .route("/ma-vae/{id}/documents", web::post().to(upload))
    .route("/vae/dossiers/{id}", web::get().to(staff_file))
    .route("/vae/dossiers/{id}/etape", web::post().to(step))
    .route("/vae/documents/{id}", web::get().to(download))
    .route(
        "/vae/confirmation/{token}",
        web::get().to(request_pages::confirm_form),
    )
    .route(
        "/vae/confirmation/{token}",
        web::post().to(request_pages::confirm),
    );
}

async fn my_files(req: HttpRequest, state: State, me: CurrentUser) -> AppResult<HttpResponse> {
    let id = me.id;
    let files = state.db(move |c| Ok(store::of_candidate(c, id)?)).await?;
    let views: Vec<_> = files
        .iter()
        .map(|r| serde_json::json!({"id": r.id, "state_label": r.status().label(), "created_at": r.created_at, "organism_id": r.organism_id}))
        .collect();
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("files", &views);
    state.render("vae/mine.html", &ctx)
}

async fn my_file(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let full = full(&state, Scope::Candidate(me.id), path.into_inner()).await?;
    let status = Status::parse(&full.file.state).unwrap_or(Status::Deposee);
    let kinds: Vec<_> = DocKind::ALL
        .into_iter()
        .filter(|k| k.accepted_in(status))
        .map(|k| serde_json::json!({"kind": k.as_str(), "label": k.label()}))
        .collect();
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("full", &full);
    ctx.insert("upload_kinds", &kinds);
    ctx.insert("can_deposit", &(status == Status::Recevable));
    ctx.insert("max_mb", &(state.config.vae.max_upload_bytes / 1_048_576));
    state.render("vae/candidate.html", &ctx)
}

async fn upload(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    payload: Multipart,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let mut up = read_form(&req, &state, payload, 1).await?;
    let kind = DocKind::parse(up.get("kind").unwrap_or_default())
        .ok_or_else(|| AppError::invalid("kind", "Choisissez le type de pièce."))?;
    let Some((_, staged)) = up.files.pop() else {
        return Err(AppError::invalid("file", "Choisissez un fichier."));
    };
    let dir = state.objects.uploads.clone();
    let quotas = state.config.storage;
    let cid = me.id;
    state
        .db(move |c| {
            drop(up);
            workflow::add_document(c, &dir, &quotas, cid, id, kind, staged)
        })
        .await?;
    Ok(w::redirect(&format!("/ma-vae/{id}")))
}

fn require_staff(me: &CurrentUser) -> AppResult<Scope> {
    match workflow::scope_of(me) {
        (s @ (Scope::Organism(_) | Scope::Platform), _) => Ok(s),
        _ => Err(AppError::forbidden()),
    }
}

async fn staff_list(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    query: web::Query<std::collections::HashMap<String, String>>,
) -> AppResult<HttpResponse> {
    let org = path.into_inner();
    me.require_staff_of(org)?;
    let filter = query.get("etat").and_then(|s| Status::parse(s));
    let (lines, counts) = state
        .db(move |c| Ok((store::list(c, org, filter)?, store::counts(c, org)?)))
        .await?;
    let lines: Vec<_> = lines
        .into_iter()
        .map(|l| {
            let label = Status::parse(&l.state).map(|s| s.label());
            let mut v = serde_json::to_value(&l).unwrap_or_default();
            v["state_label"] = label.into();
            v
        })
        .collect();
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("org", &org);
    ctx.insert(
        "public_url",
        &format!(
            "{}/organismes/{org}/vae/demande",
            state.config.base_url.trim_end_matches('/')
        ),
    );
    ctx.insert("lines", &lines);
    ctx.insert("states", &rules::state_counts(&counts));
    ctx.insert("filter", &filter.map(|s| s.as_str()));
    state.render("vae/staff_list.html", &ctx)
}

async fn staff_file(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let scope = require_staff(&me)?;
    let full = full(&state, scope, path.into_inner()).await?;
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("full", &full);
    state.render("vae/staff_file.html", &ctx)
}

async fn step(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let action = Action::parse(field(&fields, "action"))
        .ok_or_else(|| AppError::invalid("action", "Action inconnue."))?;
    let step = step_of(&fields);
    let st = state.clone();
    let settings = settings(&state);
    let me2 = me.clone();
    state
        .db(move |c| {
            let mc = MailContext {
                templates: &st.mail_templates,
                base_url: &st.config.base_url,
            };
            workflow::transition(c, &mc, &settings, &me2, id, action, &step)
        })
        .await?;
    let to = match workflow::scope_of(&me).0 {
        Scope::Candidate(_) => format!("/ma-vae/{id}"),
        _ => format!("/vae/dossiers/{id}"),
    };
    Ok(w::redirect(&to))
}

async fn download(state: State, me: CurrentUser, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let scope = workflow::scope_of(&me).0;
    let dir = state.objects.uploads.clone();
    let (doc, bytes) = state
        .db(move |c| {
            let doc = store::document(c, scope, id)?.ok_or(AppError::NotFound)?;
            let bytes = documents::read_kept(&dir, &doc.sha256)?;
            Ok((doc, bytes))
        })
        .await?;
    Ok(documents::attachment_response(
        &doc.file_name,
        &doc.mime_type,
        bytes,
    ))
}
