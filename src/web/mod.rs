//! HTTP plumbing shared by every domain: app state, templates, CSRF, static files,
//! security headers and the French error pages. Imports no domain.

pub mod csrf;
pub mod error;
pub mod filters;

use anyhow::Context;
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sha2::{Digest, Sha256};

pub use error::{AppError, AppResult};

use crate::config::AppConfig;
use crate::db::{DbConn, Pool};

/// Everything a handler needs, built once by `startup` and shared by all workers.
pub struct AppState {
    pub config: Arc<AppConfig>,
    pub pool: Pool,
    pub templates: Arc<tera::Tera>,
    pub mail_templates: Arc<tera::Tera>,
    pub assets: Arc<Assets>,
    pub login_ip_limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    /// Look-ups of the public attestation verification page, per address.
    pub verify_ip_limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    /// Where every kept file is: the local folder or S3.
    pub objects: crate::objects::Objects,
}

pub type State = web::Data<AppState>;

impl AppState {
    pub fn new(
        config: Arc<AppConfig>,
        pool: Pool,
        objects: crate::objects::Objects,
        mail_templates: tera::Tera,
    ) -> anyhow::Result<AppState> {
        let assets = Arc::new(Assets::load(&config.templates_dir.join("static"))?);
        let templates = Arc::new(load_templates(&config.templates_dir, &assets)?);
        let per_minute = NonZeroU32::new(config.login_ip_per_minute).unwrap_or(NonZeroU32::MIN);
        let verify_per_minute =
            NonZeroU32::new(config.verify_ip_per_minute).unwrap_or(NonZeroU32::MIN);
        Ok(AppState {
            login_ip_limiter: Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute))),
            verify_ip_limiter: Arc::new(RateLimiter::keyed(Quota::per_minute(verify_per_minute))),
            config,
            pool,
            objects,
            templates,
            mail_templates: Arc::new(mail_templates),
            assets,
        })
    }

    /// Counts one login-like attempt from an address; `Err(seconds)` to wait when over the limit.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), u64> {
        check(&self.login_ip_limiter, ip)
    }

    /// Counts one look-up of the public verification page; `Err(seconds)` over the limit.
    pub fn check_verify_ip(&self, ip: IpAddr) -> Result<(), u64> {
        check(&self.verify_ip_limiter, ip)
    }

    /// Runs blocking database work off the async workers.
    pub async fn db<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await?
    }

    pub fn render(&self, name: &str, ctx: &tera::Context) -> AppResult<HttpResponse> {
        self.render_status(StatusCode::OK, name, ctx)
    }

    pub fn render_status(
        &self,
        status: StatusCode,
        name: &str,
        ctx: &tera::Context,
    ) -> AppResult<HttpResponse> {
        let html = self
            .templates
            .render(name, ctx)
            .with_context(|| format!("template {name}"))?;
        Ok(HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(html))
    }

    /// HMAC-SHA256 of `data` under the server secret, for a given purpose.
    pub fn sign(&self, purpose: &str, data: &[u8]) -> Vec<u8> {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.config.secret)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }
}

fn check(limiter: &DefaultKeyedRateLimiter<IpAddr>, ip: IpAddr) -> Result<(), u64> {
    limiter.check_key(&ip).map_err(|not_until| {
        let now = governor::clock::Clock::now(&governor::clock::DefaultClock::default());
        not_until.wait_time_from(now).as_secs().max(1)
    })
}

/// The base context of every page: the CSRF token for its forms.
pub fn context(req: &HttpRequest) -> tera::Context {
    let mut ctx = tera::Context::new();
    ctx.insert("csrf_token", &csrf::token_for(req));
    ctx
}

/// The client's address for per-address limits: `client_origin`, or the peer's when a
/// trusted proxy forwarded no readable address.
pub fn client_ip(req: &HttpRequest) -> IpAddr {
    let peer = req
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    client_origin(req).unwrap_or(peer)
}

/// The address the request came from: the peer's, or, when the peer is a trusted proxy, the
/// nearest address of `X-Forwarded-For` that is not one of ours (what is further left was
/// written by the client and proves nothing). `None` when a trusted proxy forwarded it
/// without a readable address: nothing may be granted on the proxy's own address then.
pub fn client_origin(req: &HttpRequest) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip().to_canonical();
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return Some(peer);
    };
    let trusted = &state.config.trusted_proxies;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    // Every header line, in order: a proxy may add its own line after the client's.
    let mut lines = req.headers().get_all("x-forwarded-for").peekable();
    if lines.peek().is_none() {
        // Not forwarded: the proxy's host itself is asking.
        return Some(peer);
    }
    let joined = lines
        .map(|v| v.to_str().ok())
        .collect::<Option<Vec<_>>>()?
        .join(",");
    forwarded_client(Some(&joined), trusted)
}

/// From the right, the first address that is not a trusted proxy; an unreadable one there
/// tells nothing (`None`). When all are trusted, the request began on one of them: the
/// leftmost.
pub fn forwarded_client(header: Option<&str>, trusted: &[IpAddr]) -> Option<IpAddr> {
    let mut last = None;
    for entry in header?.rsplit(',') {
        let ip = entry.trim().parse::<IpAddr>().ok()?.to_canonical();
        if !trusted.contains(&ip) {
            return Some(ip);
        }
        last = Some(ip);
    }
    last
}

pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

fn load_templates(dir: &Path, assets: &Assets) -> anyhow::Result<tera::Tera> {
    anyhow::ensure!(
        dir.is_dir(),
        "templates folder {} not found (set PARCOURS_TEMPLATES_DIR or run from the repository)",
        dir.display()
    );
    let glob = format!("{}/**/*.html", dir.display());
    let mut tera = tera::Tera::new(&glob).map_err(|e| anyhow::anyhow!("templates: {e:?}"))?;
    tera.autoescape_on(vec![".html"]);
    tera.set_escape_fn(escape_html);
    filters::register(&mut tera);
    let urls: HashMap<String, String> = assets
        .files
        .iter()
        .map(|(name, a)| (name.clone(), format!("/static/{name}?v={}", a.version)))
        .collect();
    tera.register_function(
        "asset",
        move |args: &HashMap<String, tera::Value>| -> tera::Result<tera::Value> {
            let name = args
                .get("name")
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            urls.get(name)
                .map(|u| tera::Value::String(u.clone()))
                .ok_or_else(|| tera::Error::msg(format!("unknown asset {name}")))
        },
    );
    Ok(tera)
}

/// HTML escaping of the five characters that matter (tera's own also rewrites `/`, which
/// makes dates and URLs unreadable in the source for no gain).
pub fn escape_html(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + 8);
    for c in input.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

pub struct Asset {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub version: String,
}

/// Static files, read once; their URLs carry a content hash so they can be cached for good.
pub struct Assets {
    files: HashMap<String, Asset>,
}

impl Assets {
    /// A text asset's content, for a page that must inline it (the packages' origin serves
    /// no `/static/`).
    pub fn text(&self, name: &str) -> Option<&str> {
        std::str::from_utf8(&self.files.get(name)?.bytes).ok()
    }

    fn load(dir: &Path) -> anyhow::Result<Assets> {
        let mut files = HashMap::new();
        let entries = std::fs::read_dir(dir)
            .map_err(|e| anyhow::anyhow!("static folder {}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry?.path();
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_string)
            else {
                continue;
            };
            let content_type = match path.extension().and_then(|e| e.to_str()) {
                Some("css") => "text/css; charset=utf-8",
                Some("js") => "text/javascript; charset=utf-8",
                Some("svg") => "image/svg+xml",
                Some("png") => "image/png",
                Some("ico") => "image/x-icon",
                Some("woff2") => "font/woff2",
                _ => continue,
            };
            let bytes = std::fs::read(&path)?;
            let version = crate::base::digest::hex(&Sha256::digest(&bytes)[..6]);
            files.insert(
                name,
                Asset {
                    bytes,
                    content_type,
                    version,
                },
            );
        }
        Ok(Assets { files })
    }
}

pub async fn static_file(
    state: State,
    name: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> AppResult<HttpResponse> {
    let asset = state
        .assets
        .files
        .get(name.as_str())
        .ok_or(AppError::NotFound)?;
    let cache = if query.get("v") == Some(&asset.version) {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    Ok(HttpResponse::Ok()
        .content_type(asset.content_type)
        .insert_header((header::CACHE_CONTROL, cache))
        .body(asset.bytes.clone()))
}

pub async fn not_found() -> AppResult<HttpResponse> {
    Err(AppError::NotFound)
}

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
frame-ancestors 'none'";

/// The site's own policy, with the packages' origin allowed in frames: the page that plays a
/// package, and no other, sends it. `'self'` too: the frame first opens the launch on this
/// origin, which redirects it there.
pub fn csp_framing(origin: &str) -> String {
    CSP.replacen(
        "default-src 'self';",
        &format!("default-src 'self'; frame-src {origin} 'self';"),
        1,
    )
}

fn policy_denies_frames(h: &actix_web::http::header::HeaderMap) -> bool {
    h.get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("frame-ancestors 'none'"))
}

/// Security headers on every response.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    // A handler that set its own policy (the packages' origin, a page framing a package)
    // keeps it, and its `frame-ancestors` says who may frame it.
    let own_policy = h.contains_key(header::CONTENT_SECURITY_POLICY);
    for (name, value) in [
        ("content-security-policy", CSP),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
        (
            "permissions-policy",
            "camera=(), microphone=(), geolocation=()",
        ),
    ] {
        let framable = own_policy && !policy_denies_frames(h);
        if own_policy
            && (name == "content-security-policy" || (name == "x-frame-options" && framable))
        {
            continue;
        }
        h.insert(
            header::HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res)
}

/// Marks a request that the router sent to the JSON API scope. What is checked (cookie
/// calls need a CSRF header, integration tokens open nothing else) is then decided on what
/// was routed, not on the raw path, which may spell `/api/` as `/%61pi/`.
#[derive(Clone, Copy)]
struct ApiRoute;

pub async fn mark_api(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    req.extensions_mut().insert(ApiRoute);
    next.call(req).await
}

/// Whether this request was routed to `/api/v1`.
pub fn is_api(req: &HttpRequest) -> bool {
    req.extensions().contains::<ApiRoute>()
}

/// Errors outside the API become French HTML pages; a missing login becomes a redirect.
pub async fn error_pages(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let res = next.call(req).await?.map_into_boxed_body();
    let is_api = is_api(res.request());
    let status = res.status();
    // Pages that render their own error (a form with its messages) carry no error value.
    if is_api || res.response().error().is_none() {
        return Ok(res);
    }
    let app_error = res
        .response()
        .error()
        .and_then(|e| e.as_error::<AppError>());
    let (title, message, fields) = match app_error {
        Some(AppError::Unauthenticated) => {
            let (req, _) = res.into_parts();
            let next_url = match req.method() {
                &Method::GET => req.uri().to_string(),
                _ => "/".to_string(),
            };
            let location = format!(
                "/connexion?suite={}",
                url::form_urlencoded::byte_serialize(next_url.as_bytes()).collect::<String>()
            );
            return Ok(ServiceResponse::new(req, redirect(&location)));
        }
        Some(e) => (title_for(status), e.public_message(), e.fields().to_vec()),
        None if status.is_client_error() || status.is_server_error() => (
            title_for(status),
            default_message(status).to_string(),
            vec![],
        ),
        None => return Ok(res),
    };
    let (req, old) = res.into_parts();
    let Some(state) = req.app_data::<State>() else {
        return Ok(ServiceResponse::new(req, old));
    };
    let mut ctx = context(&req);
    ctx.insert("status", &status.as_u16());
    ctx.insert("title", title);
    ctx.insert("message", &message);
    ctx.insert("fields", &fields);
    let mut page = match state.render_status(status, "error.html", &ctx) {
        Ok(page) => page,
        Err(_) => HttpResponse::build(status)
            .content_type("text/plain; charset=utf-8")
            .body(message),
    };
    for (name, value) in old.headers() {
        if name == header::RETRY_AFTER || name == header::SET_COOKIE {
            page.headers_mut().append(name.clone(), value.clone());
        }
    }
    Ok(ServiceResponse::new(req, page))
}

fn title_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "Requête incorrecte",
        401 => "Connexion nécessaire",
        403 => "Accès refusé",
        404 => "Page introuvable",
        409 => "Conflit",
        413 => "Fichier trop volumineux",
        422 => "Informations invalides",
        429 => "Trop de tentatives",
        503 => "Service indisponible",
        _ => "Erreur",
    }
}

fn default_message(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "La requête n'a pas pu être comprise.",
        404 => "La page demandée n'existe pas.",
        405 => "Cette action n'est pas possible sur cette page.",
        413 => "Le contenu envoyé dépasse la taille autorisée.",
        _ if status.is_server_error() => "Une erreur interne est survenue.",
        _ => "La requête n'a pas pu aboutir.",
    }
}

/// A random URL-safe token (for links and secret feed URLs).
pub fn random_token(bytes: usize) -> AppResult<String> {
    use base64::Engine;
    let mut raw = vec![0u8; bytes];
    getrandom::fill(&mut raw).context("random")?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw))
}

#[cfg(test)]
mod tests {
    use super::forwarded_client;
    use std::net::IpAddr;

    #[test]
    fn only_the_address_our_proxy_saw_counts() {
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().ok();
        assert_eq!(
            forwarded_client(Some("203.0.113.7"), &[proxy]),
            ip("203.0.113.7")
        );
        // A client writing its own header cannot choose the address that is limited.
        assert_eq!(
            forwarded_client(Some("1.2.3.4, 203.0.113.7"), &[proxy]),
            ip("203.0.113.7")
        );
        assert_eq!(
            forwarded_client(Some("203.0.113.7, 127.0.0.1"), &[proxy]),
            ip("203.0.113.7")
        );
        assert_eq!(forwarded_client(Some("n'importe quoi"), &[proxy]), None);
        assert_eq!(forwarded_client(None, &[proxy]), None);
        // Unreadable where the client should be: unknown, never the proxy's own address.
        assert_eq!(forwarded_client(Some("203.0.113.7, unix:"), &[proxy]), None);
        // A request that began on the proxy's host.
        assert_eq!(
            forwarded_client(Some("127.0.0.1"), &[proxy]),
            ip("127.0.0.1")
        );
        assert_eq!(
            forwarded_client(Some("::ffff:203.0.113.7"), &[proxy]),
            ip("203.0.113.7")
        );
    }
}
