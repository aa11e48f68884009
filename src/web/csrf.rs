//! CSRF protection: a random cookie per browser and, in every form, an HMAC of it under the
//! server secret. The secret is shared, so any instance accepts any instance's forms.

use std::future::Future;
use std::pin::Pin;

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;

use super::{AppError, State};

pub const COOKIE: &str = "parcours_csrf";
pub const FIELD: &str = "csrf_token";
pub const HEADER: &str = "x-csrf-token";

#[derive(Clone)]
struct BrowserKey(String);

fn random_key() -> String {
    let mut raw = [0u8; 24];
    // Without randomness we cannot protect forms; an empty key makes every check fail safely.
    if getrandom::fill(&mut raw).is_err() {
        return String::new();
    }
    URL_SAFE_NO_PAD.encode(raw)
}

/// Makes sure the browser has its CSRF cookie, and remembers it for this request.
pub async fn ensure_cookie(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // API clients with a Bearer token and probes have no forms: no key to make for them.
    let formless = req
        .headers()
        .contains_key(actix_web::http::header::AUTHORIZATION)
        || req.path() == "/healthz";
    let existing = req
        .cookie(COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| v.len() == 32);
    let fresh = existing.is_none();
    let key = existing.or_else(|| (!formless).then(random_key));
    if let Some(k) = &key {
        req.extensions_mut().insert(BrowserKey(k.clone()));
    }
    let mut res = next.call(req).await?;
    if let Some(key) = key.filter(|k| fresh && !k.is_empty()) {
        let secure = res
            .request()
            .app_data::<State>()
            .is_some_and(|s| s.config.base_url.starts_with("https://"));
        let cookie = Cookie::build(COOKIE, key)
            .path("/")
            .http_only(true)
            .secure(secure)
            .same_site(SameSite::Lax)
            .finish();
        res.response_mut().add_cookie(&cookie)?;
    }
    Ok(res)
}

/// The token that this browser's forms must send back.
pub fn token_for(req: &HttpRequest) -> String {
    let key = req.extensions().get::<BrowserKey>().map(|k| k.0.clone());
    match (key, req.app_data::<State>()) {
        (Some(key), Some(state)) if !key.is_empty() => {
            URL_SAFE_NO_PAD.encode(state.sign("csrf", key.as_bytes()))
        }
        _ => String::new(),
    }
}

/// Constant-time check of a submitted token.
pub fn verify(req: &HttpRequest, submitted: Option<&str>) -> Result<(), AppError> {
    let expected = token_for(req);
    let ok = match submitted {
        Some(s) if !expected.is_empty() && s.len() == expected.len() => {
            s.bytes()
                .zip(expected.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Le formulaire a expiré ou ne vient pas de ce site. Rechargez la page et recommencez."
                .into(),
        ))
    }
}

/// Whether a URL-encoded form holds a NUL character, raw or as `%00` (a literal `%00` is
/// sent as `%2500`). PostgreSQL cannot store one in text: the form is refused before anything
/// reads it, on either backend.
fn has_nul(body: &[u8]) -> bool {
    body.contains(&0) || body.windows(3).any(|w| w == b"%00")
}

/// The answer to a form holding a NUL character.
pub fn nul_refused() -> AppError {
    AppError::invalid(
        "form",
        "Le formulaire contient un caractère nul, qui n'est pas accepté.",
    )
}

#[derive(serde::Deserialize)]
struct TokenField {
    csrf_token: Option<String>,
}

/// A URL-encoded form whose CSRF token has been checked: the only way pages read a form.
/// The form of a button that sends nothing but its CSRF token.
#[derive(serde::Deserialize)]
pub struct Empty {}

pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let body = body
                .await
                .map_err(|_| AppError::invalid("form", "Le formulaire envoyé est illisible."))?;
            let token: TokenField = serde_urlencoded::from_bytes(&body)
                .map_err(|_| AppError::invalid("form", "Le formulaire envoyé est illisible."))?;
            verify(&req, token.csrf_token.as_deref())?;
            if has_nul(&body) {
                return Err(nul_refused());
            }
            serde_urlencoded::from_bytes(&body)
                .map(CsrfForm)
                .map_err(|e| AppError::invalid("form", format!("Formulaire incomplet : {e}")))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::has_nul;

    #[test]
    fn a_nul_character_is_found_raw_or_encoded_and_nothing_else() {
        assert!(has_nul(b"csrf_token=x&body=%00"));
        assert!(has_nul(b"body=a\0b"));
        assert!(!has_nul(b"body=%2500&note=100%25"));
        assert!(!has_nul(b"body=caf%C3%A9+%0A"));
    }
}
