//! The Markdown preview of the authoring pages (`templates/static/editor.js`): the author's
//! text rendered by the very function that renders lessons for trainees, as an HTML fragment.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::markdown;
use crate::accounts::{CurrentUser, Role};
use crate::web::{AppError, AppResult, csrf};

/// The largest text previewed: far above a lesson (a long one is some 20 KiB).
pub const MAX_BYTES: usize = 512 * 1024;

/// Who writes content: staff of an organism and platform administrators.
const AUTHORS: [Role; 3] = [Role::Admin, Role::OrganismAdmin, Role::Trainer];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/auteur/apercu", web::post().to(preview));
}

#[derive(serde::Deserialize)]
struct PreviewForm {
    #[serde(default)]
    text: String,
    csrf_token: Option<String>,
}

/// `text=…` (URL-encoded), with the CSRF token in the `X-CSRF-Token` header (as the script
/// sends it) or in a `csrf_token` field (as a form would); answers the rendered fragment.
async fn preview(
    req: HttpRequest,
    me: CurrentUser,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    me.require(&AUTHORS)?;
    let body = match payload.to_bytes_limited(MAX_BYTES).await {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => {
            return Err(AppError::invalid(
                "text",
                "Le texte n'a pas été reçu en entier. Réessayez.",
            ));
        }
        Err(_) => return Ok(too_large()),
    };
    let form: PreviewForm = serde_urlencoded::from_bytes(&body)
        .map_err(|_| AppError::invalid("text", "Le texte envoyé est illisible."))?;
    let header = req
        .headers()
        .get(csrf::HEADER)
        .and_then(|v| v.to_str().ok());
    csrf::verify(&req, header.or(form.csrf_token.as_deref()))?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(markdown::preview(&form.text)))
}

/// A short French answer the script shows as it is (plain text, not an error page).
fn too_large() -> HttpResponse {
    HttpResponse::build(StatusCode::PAYLOAD_TOO_LARGE)
        .content_type("text/plain; charset=utf-8")
        .body(format!(
            "le texte dépasse {} Ko, découpez-le en plusieurs leçons",
            MAX_BYTES / 1024
        ))
}
