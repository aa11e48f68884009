//! An organism's programme draft as a ZIP and back (issue #18): exported in the folder format
//! of `content/`, the way a programme moves to another instance or into Git, and imported in
//! place of the draft after every check (`authoring::import`). Same access as the editor.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpRequest, HttpResponse, web};

use super::Content;
use super::archive;
use super::authoring::access::authored;
use super::authoring::import::{self, Outcome};
use crate::accounts::CurrentUser;
use crate::base::field::FieldError;
use crate::vae::documents::{self, Staged};
use crate::web::{self as w, AppError, AppResult, State, csrf};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/auteur/programmes/{code}/brouillon.zip",
        web::get().to(export),
    )
    .route("/auteur/programmes/{code}/import", web::post().to(import));
}

/// The draft's files as a ZIP whose entries start with a folder named after the programme's
/// code, as `content/` holds a programme: `parcours content check` and the import read it back.
async fn export(
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let code = path.into_inner();
    let (me2, code2) = (me.clone(), code.clone());
    let (id, draft) = state
        .db(move |c| authored(c, &me2, &code2).map(|(id, _, draft)| (id, draft)))
        .await?;
    let revision = draft.revision;
    let (content2, code2) = (content.clone(), code.clone());
    let bytes = web::block(move || {
        // The folder the editor's checks write the same revision out to.
        let dir = content2.written_out(&format!("d{id}-r{revision}"), &draft.manifest)?;
        archive::pack_as(&dir, &code2)
    })
    .await?
    .map_err(|e| AppError::io("draft export", e))?;
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(format!(
                "{code}-brouillon-r{revision}.zip"
            ))],
        })
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(bytes))
}

/// Replaces the draft's files by those of a ZIP, at the revision the author saw, once every
/// check passed; otherwise shows every problem and changes nothing. Never publishes.
async fn import(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<String>,
    payload: Multipart,
) -> AppResult<HttpResponse> {
    let code = path.into_inner();
    let (me2, code2) = (me.clone(), code.clone());
    // Who may not edit the draft is answered before a byte of the archive is read.
    state.db(move |c| authored(c, &me2, &code2)).await?;
    let (revision, zip) = match receive(&req, &state, payload).await {
        Ok(received) => received,
        Err(e) => return refused(&req, &state, &me, (&code, None), e),
    };
    match put_in_place(&state, content, &me, &code, (revision, zip)).await {
        Ok(notice) => Ok(w::redirect(&format!(
            "/auteur/programmes/{code}?avis={notice}"
        ))),
        Err(e) => refused(&req, &state, &me, (&code, Some(revision)), e),
    }
}

/// The archive's programme read and checked, then put in place of the draft: the notice to
/// show. Its problems are `Invalid`, a draft that moved on a `Conflict`.
async fn put_in_place(
    state: &State,
    content: web::Data<Content>,
    me: &CurrentUser,
    code: &str,
    (revision, zip): (i32, Staged),
) -> AppResult<&'static str> {
    let work = state.config.data_dir.join("programmes").join("imports");
    let (content2, code2) = (content.clone(), code.to_string());
    let read = web::block(move || {
        let read = match zip.path() {
            Some(file) => import::read(&content2, file, &work, &code2),
            None => Err(std::io::Error::other("the archive received is gone")),
        };
        // The archive received is removed here, whatever the outcome.
        drop(zip);
        read
    })
    .await?
    .map_err(|e| AppError::io("programme import", e))?;
    let files = read.map_err(|problems| {
        AppError::Invalid(
            problems
                .into_iter()
                .map(|p| FieldError::new("archive", p))
                .collect(),
        )
    })?;
    let (me2, code2) = (me.clone(), code.to_string());
    let quota = state.config.storage.organism_quota;
    let outcome = state
        .db(move |c| {
            let (id, organism, _) = authored(c, &me2, &code2)?;
            let space = (content.blobs(), quota);
            let program = (id, organism, code2.as_str());
            import::apply(c, space, program, (revision, &files), me2.id)
        })
        .await?;
    match outcome {
        Outcome::Imported(_) => Ok("importe"),
        Outcome::Unchanged => Ok("importe-identique"),
        Outcome::Changed(d) => Err(AppError::Conflict(format!(
            "Le brouillon a changé depuis que vous l'avez ouvert ({}, le {}) : rien n'a été \
             importé. Relisez-le, puis importez l'archive à nouveau.",
            d.updated_by_name.unwrap_or_default(),
            crate::base::format::datetime(d.updated_at)
        ))),
    }
}

/// The form, its size limited (announced, then counted as it streams to disk), its CSRF token
/// checked: the revision the author saw and the archive, waiting in a temporary file.
async fn receive(req: &HttpRequest, state: &State, payload: Multipart) -> AppResult<(i32, Staged)> {
    documents::check_length(req, import::MAX_BYTES, 1)?;
    let dir = &state.objects.uploads;
    let mut up = documents::read_with(payload, dir, import::MAX_BYTES, 1, import::zip_head).await?;
    if let Err(e) = csrf::verify(req, up.get(csrf::FIELD)) {
        up.discard().await;
        return Err(e);
    }
    let revision = up
        .get("revision")
        .and_then(|r| r.trim().parse::<i32>().ok());
    let zip = match up.files.iter().position(|(name, _)| name == "archive") {
        Some(i) => Some(up.files.swap_remove(i).1),
        None => None,
    };
    up.discard().await;
    match (revision, zip) {
        (Some(revision), Some(zip)) => Ok((revision, zip)),
        (_, zip) => {
            if let Some(zip) = zip {
                zip.discard().await;
            }
            Err(AppError::invalid(
                "archive",
                "Choisissez l'archive ZIP du programme à importer.",
            ))
        }
    }
}

/// The page of a refused import: every problem (422), or who changed the draft (409), and
/// the form again when the revision the author saw still stands. Other errors are their own.
fn refused(
    req: &HttpRequest,
    state: &State,
    me: &CurrentUser,
    (code, revision): (&str, Option<i32>),
    error: AppError,
) -> AppResult<HttpResponse> {
    let (status, problems, revision) = match error {
        AppError::Invalid(fields) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            fields.into_iter().map(|f| f.message).collect(),
            revision,
        ),
        AppError::Conflict(why) => (StatusCode::CONFLICT, vec![why], None),
        other => return Err(other),
    };
    let mut ctx = w::context(req);
    ctx.insert("me", &me.view());
    ctx.insert("code", code);
    ctx.insert("revision", &revision);
    ctx.insert("problems", &problems);
    ctx.insert("conflict", &(status == StatusCode::CONFLICT));
    state.render_status(status, "curriculum/authoring/import.html", &ctx)
}
