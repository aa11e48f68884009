//! The packages' own origin (`PARCOURS_PACKAGES_URL`): the host page that gives a SCO its
//! run-time API, the package's files, and the commits. A launch's secret in the path opens
//! them: no cookie of the site reaches this origin, and nothing else is served here.

use actix_files::NamedFile;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::Player;
use super::commits;
use super::play::{self, Opened};
use crate::curriculum::Content;
use crate::scorm::datamodel::{self, Launch, Mode, Runtime, Snapshot};
use crate::scorm::package::Found;
use crate::web::{AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/paquets/{token}/", web::get().to(host))
        .route("/paquets/{token}/f/{path:.*}", web::get().to(file))
        .route("/paquets/{token}/commit", web::post().to(commit));
}

/// What authoring tools need (inline scripts, `eval`, media, blobs), only on this origin; the
/// site's pages frame it, nobody else.
pub fn csp(base_url: &str) -> String {
    format!(
        "default-src 'self' 'unsafe-inline' 'unsafe-eval' data: blob:; img-src 'self' data: blob:; \
         media-src 'self' data: blob:; font-src 'self' data:; object-src 'none'; base-uri 'self'; \
         form-action 'self'; frame-ancestors 'self' {base_url}"
    )
}

/// Requests for this origin's paths on another host (the site's own) are unknown there.
pub fn on_packages_origin(req: &HttpRequest, state: &State) -> bool {
    let host = req.connection_info().host().to_string();
    state
        .config
        .packages_url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .is_some_and(|u| {
            let want = match u.port() {
                Some(p) => format!("{}:{p}", u.host_str().unwrap_or_default()),
                None => u.host_str().unwrap_or_default().to_string(),
            };
            host.eq_ignore_ascii_case(&want)
        })
}

fn framed(state: &State, mut res: HttpResponse) -> HttpResponse {
    if let Ok(v) = HeaderValue::from_str(&csp(&state.config.base_url)) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    res
}

async fn opened(
    req: &HttpRequest,
    state: &State,
    content: &web::Data<Content>,
    token: String,
) -> AppResult<Opened> {
    if !on_packages_origin(req, state) {
        return Err(AppError::NotFound);
    }
    let content = content.clone();
    state.db(move |c| play::open(c, &content, &token)).await
}

#[derive(Serialize)]
struct Boot {
    definitions: datamodel::Definitions,
    start: datamodel::Start,
    commit_url: String,
    max_entries: usize,
}

/// The page in the player's frame: the run-time API of the SCO's version, then the SCO in a
/// frame of its own, on this same origin so that it finds the API in its parent.
async fn host(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    player: web::Data<Player>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let token = path.into_inner();
    if !on_packages_origin(&req, &state) {
        return Err(AppError::NotFound);
    }
    let (content, t) = (content.clone(), token.clone());
    // One trip: what the secret opens, and the name the SCO greets her with.
    let (o, name) = state
        .db(move |c| {
            let o = play::open(c, &content, &t)?;
            let name = crate::scorm::store::learner_name(c, o.attempt.trainee_id)?;
            Ok((o, name))
        })
        .await?;
    let package = o.package().ok_or(AppError::NotFound)?;
    let Found::Scorm(manifest) = &package.opened.found else {
        return Ok(framed(&state, super::cmi5_pages::host(&state, &o, &token)?));
    };
    let sco = manifest
        .scos
        .iter()
        .find(|s| s.identifier == o.attempt.item)
        .ok_or(AppError::NotFound)?;
    // The files are unpacked before the SCO asks for them.
    player.clone().into_inner().folder(&token, &o).await?;
    let version = manifest.standard.version();
    let stored: Option<Snapshot> = serde_json::from_str(&o.attempt.data).ok();
    let trainee = o.attempt.trainee_id;
    // A part already done opens for review: what it records then changes no result.
    let done = o.attempt.completed_at.is_some();
    let launch = Launch {
        learner_id: format!("parcours-{trainee}"),
        learner_name: name,
        credit: !done,
        mode: if done { Mode::Review } else { Mode::Normal },
        launch_data: sco.launch_data.clone(),
        mastery: sco.mastery,
        total_seconds: o.launch.base_seconds,
    };
    let runtime = Runtime::new(version, &launch, stored.as_ref());
    let boot = Boot {
        definitions: datamodel::definitions(version),
        start: runtime.start(),
        commit_url: format!("/paquets/{token}/commit"),
        max_entries: datamodel::MAX_ENTRIES,
    };
    let boot = serde_json::to_string(&boot)
        .map_err(|e| AppError::Internal(e.into()))?
        // Inside a <script> element: never let a value close it.
        .replace("</", "<\\/");
    let mut ctx = tera::Context::new();
    ctx.insert("boot", &boot);
    ctx.insert("title", &sco.title);
    ctx.insert(
        "src",
        &format!("/paquets/{token}/f/{}{}", package.opened.root, sco.launch),
    );
    ctx.insert(
        "runtime",
        &state
            .assets
            .text("scorm-runtime.js")
            .ok_or(AppError::NotFound)?,
    );
    Ok(framed(&state, state.render("packages/host.html", &ctx)?))
}

/// One file of the package, with range requests (video) and its type from its name.
async fn file(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    player: web::Data<Player>,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (token, rel) = path.into_inner();
    if crate::scorm::paths::check_relative(&rel).is_err() {
        return Err(AppError::NotFound);
    }
    let folder = match player.known_folder(&token) {
        Some(f) if on_packages_origin(&req, &state) => f,
        _ => {
            let o = opened(&req, &state, &content, token.clone()).await?;
            player.clone().into_inner().folder(&token, &o).await?
        }
    };
    let target = folder.join(&rel);
    if !target.starts_with(&folder) || !target.is_file() {
        return Err(AppError::NotFound);
    }
    let named = NamedFile::open_async(&target)
        .await
        .map_err(|_| AppError::NotFound)?;
    let mut res = named.into_response(&req);
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    Ok(framed(&state, res))
}

/// A commit from the host page's run-time API: re-checked by replay, then stored. The
/// answer is JSON either way: the run-time script reads it, no person does.
async fn commit(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    player: web::Data<Player>,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let token = path.into_inner();
    let o = opened(&req, &state, &content, token).await?;
    let refuse = |status: StatusCode, message: String| {
        framed(
            &state,
            HttpResponse::build(status).json(serde_json::json!({ "error": message })),
        )
    };
    if player.commits.check_key(&o.attempt.trainee_id).is_err() {
        return Ok(refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "Trop d'enregistrements envoyés par le module : réessayez dans une minute.".into(),
        ));
    }
    let received: Snapshot = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => {
            return Ok(refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("Données du module illisibles : {e}"),
            ));
        }
    };
    match commits::save(&state, o, received).await? {
        Ok(saved) => Ok(framed(&state, HttpResponse::Ok().json(saved))),
        Err(why) => Ok(refuse(StatusCode::UNPROCESSABLE_ENTITY, why)),
    }
}

/// The packages' origin serves the packages and nothing else: a sign-in page there would give
/// a package's scripts a session cookie of their own origin.
pub async fn origin_guard(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let foreign = req
        .app_data::<State>()
        .is_some_and(|s| on_packages_origin(req.request(), s))
        && !req.path().starts_with("/paquets/");
    if foreign {
        let res = HttpResponse::NotFound().finish();
        return Ok(req.into_response(res).map_into_right_body());
    }
    next.call(req)
        .await
        .map(actix_web::dev::ServiceResponse::map_into_left_body)
}
