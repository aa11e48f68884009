//! One middleware per request: a request id (the proxy's `X-Request-Id` when it is a sane
//! token, a new one otherwise) in a tracing span and the answer's header, one log line when
//! the answer leaves (JSON with `PARCOURS_LOG_JSON`), and the request metrics. The secret of
//! a link (a doctor's page, an invitation, a reset, a calendar feed) never reaches the logs.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

use super::metrics;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The proxy's id if it is 1 to 64 characters of `[A-Za-z0-9._-]`: anything else could
/// forge log lines.
pub fn accepted_id(raw: Option<&str>) -> Option<String> {
    raw.filter(|s| {
        (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    })
    .map(str::to_string)
}

/// Paths whose next segment is a secret: whoever reads the logs must not be able to open
/// the link.
const SECRET_AFTER: [&str; 8] = [
    "/medecin/",
    "/paquets/",
    "/invitation/",
    "/mot-de-passe/",
    "/calendrier/promotion/",
    "/calendrier/stagiaire/",
    "/vae/confirmation/",
    "/desabonnement/",
];

/// The path as the logs show it: a link's secret replaced by `[secret]`.
pub fn logged_path(path: &str) -> std::borrow::Cow<'_, str> {
    for prefix in SECRET_AFTER {
        if let Some(rest) = path.strip_prefix(prefix) {
            let tail = rest.find('/').map_or("", |i| &rest[i..]);
            if rest.len() > tail.len() {
                return format!("{prefix}[secret]{tail}").into();
            }
        }
    }
    path.into()
}

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = accepted_id(req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()))
        .unwrap_or_else(|| crate::web::random_token(9).unwrap_or_default());
    let method = req.method().to_string();
    let path = req.path().to_string();
    let logged = logged_path(&path);
    let span = tracing::info_span!("request", request_id = %id, %method, path = %logged);
    let result = next.call(req).instrument(span.clone()).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let kind = metrics::route_kind(&path);
    let status = match &result {
        Ok(res) => res.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    if let Some(m) = metrics::metrics() {
        m.requests
            .with_label_values(&[metrics::status_class(status)])
            .inc();
        m.latency.with_label_values(&[kind]).observe(ms / 1000.0);
    }
    span.in_scope(|| {
        if kind != "probe" {
            tracing::info!(status, ms = (ms * 10.0).round() / 10.0, "answered");
        }
    });
    let mut res = result?;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::{accepted_id, logged_path};

    #[test]
    fn link_secrets_are_not_logged() {
        assert_eq!(logged_path("/medecin/AbC123"), "/medecin/[secret]");
        assert_eq!(
            logged_path("/medecin/AbC123/cqp/4/cpam"),
            "/medecin/[secret]/cqp/4/cpam"
        );
        assert_eq!(logged_path("/mot-de-passe/xyz"), "/mot-de-passe/[secret]");
        assert_eq!(logged_path("/desabonnement/xyz"), "/desabonnement/[secret]");
        assert_eq!(
            logged_path("/calendrier/stagiaire/t0k3n"),
            "/calendrier/stagiaire/[secret]"
        );
        assert_eq!(
            logged_path("/paquets/s3cr3t/f/index.html"),
            "/paquets/[secret]/f/index.html"
        );
        assert_eq!(logged_path("/stagiaires/12"), "/stagiaires/12");
        assert_eq!(logged_path("/medecin/"), "/medecin/");
    }

    #[test]
    fn only_sane_ids_are_kept() {
        assert_eq!(accepted_id(Some("a1b2-c3.d_4")), Some("a1b2-c3.d_4".into()));
        assert_eq!(accepted_id(Some("")), None);
        assert_eq!(accepted_id(Some("x\ny")), None);
        assert_eq!(accepted_id(Some("\"}{")), None);
        assert_eq!(accepted_id(Some(&"a".repeat(65))), None);
        assert_eq!(accepted_id(None), None);
    }
}
