//! The files of a module (a resource's video, an assignment's case file), served to those who
//! may open the module, with HTTP range requests so that a video can be sought and resumed.

use actix_files::NamedFile;
use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpRequest, HttpResponse, web};

use super::Content;
use super::viewer::viewer;
use crate::accounts::{CurrentUser, Role};
use crate::web::{AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/programmes/{program}/{module}/fichiers/{name}",
        web::get().to(module_file),
    )
    .route("/programmes/{program}/archive.zip", web::get().to(archive));
}

/// The programme as the folder format of `content/`, zipped: how it moves to another
/// instance or into Git (`parcours content check` reads it back).
async fn archive(
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    me.require(&[Role::Admin, Role::OrganismAdmin])?;
    let code = path.into_inner();
    let (_, ed) = viewer(&state, &content, &me, &code).await?;
    let dir = ed.program.dir.clone();
    let bytes = web::block(move || super::archive::pack(&dir))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(format!("{code}.zip"))],
        })
        .body(bytes))
}

async fn module_file(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<(String, String, String)>,
) -> AppResult<HttpResponse> {
    let (pcode, mcode, name) = path.into_inner();
    let (_, ed) = viewer(&state, &content, &me, &pcode).await?;
    let module = ed.module(&mcode).ok_or(AppError::NotFound)?;
    // Only files an activity names, with the type the loader read from their content.
    let rel = format!("files/{name}");
    let known = *module.files.get(&rel).ok_or(AppError::NotFound)?;
    serve(&req, module.dir.join(&rel), &name, known).await
}

/// A module's file with the type its content showed (`None`: a text case file), with range
/// requests, ETag and a private cache.
pub(super) async fn serve(
    req: &HttpRequest,
    file: std::path::PathBuf,
    name: &str,
    known: Option<crate::base::media::Media>,
) -> AppResult<HttpResponse> {
    let (mime, inline) = match known {
        Some(m) => (m.mime().to_string(), true),
        // Case files in text: downloaded as they are.
        None if name.ends_with(".csv") => ("text/csv; charset=utf-8".to_string(), false),
        None => (
            "text/plain; charset=utf-8".to_string(),
            name.ends_with(".txt"),
        ),
    };
    let named = NamedFile::open_async(&file)
        .await
        .map_err(|_| AppError::NotFound)?
        .set_content_type(mime.parse().map_err(|_| AppError::NotFound)?)
        .set_content_disposition(ContentDisposition {
            disposition: if inline {
                DispositionType::Inline
            } else {
                DispositionType::Attachment
            },
            parameters: vec![DispositionParam::Filename(name.to_string())],
        })
        .use_etag(true)
        .use_last_modified(true);
    let mut res = named.into_response(req);
    // Private to the signed-in user: a shared cache must not keep it.
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, max-age=3600"),
    );
    Ok(res)
}
