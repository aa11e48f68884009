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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    /// The editor's partial, included as the authoring pages will include it.
    fn render(page: &str) -> String {
        let name = "curriculum/authoring/_editor.html";
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("templates")
            .join(name);
        let mut tera = tera::Tera::default();
        tera.add_template_file(file, Some(name)).unwrap();
        tera.autoescape_on(vec![".html"]);
        tera.set_escape_fn(crate::web::escape_html);
        tera.register_function("asset", |args: &HashMap<String, tera::Value>| {
            Ok(format!("/static/{}?v=1", args["name"].as_str().unwrap_or_default()).into())
        });
        tera.add_raw_template("page.html", page).unwrap();
        let mut ctx = tera::Context::new();
        ctx.insert("csrf_token", "jeton");
        ctx.insert("body", "\n## Titre\n</textarea><script>x()</script>");
        tera.render("page.html", &ctx).unwrap()
    }

    #[test]
    fn the_editor_partial_renders_its_textarea_preview_and_toggle() {
        let html = render(
            "<form>{% set name = \"body\" %}{% set value = body %}{% set rows = 20 %}\
             {% include \"curriculum/authoring/_editor.html\" %}\
             {% set name = \"instructions\" %}{% set value = \"\" %}\
             {% set preview_url = \"/ailleurs\" %}{% set rows = 5 %}\
             {% include \"curriculum/authoring/_editor.html\" %}</form>",
        );
        assert!(
            html.contains(
                "<textarea id=\"editeur-body\" name=\"body\" rows=\"20\" spellcheck=\"true\" \
                 aria-describedby=\"editeur-body-aide\" data-preview-url=\"/auteur/apercu\" \
                 data-preview-target=\"editeur-body-apercu\" data-csrf=\"jeton\">\n\n## Titre\n\
                 &lt;/textarea&gt;&lt;script&gt;x()&lt;/script&gt;</textarea>"
            ),
            "the text kept whole, its first line break too, and escaped: {html}"
        );
        assert!(html.contains("<div id=\"editeur-body-apercu\" class=\"prose\">"));
        assert!(html.contains("data-editor-toggle aria-controls=\"editeur-body editeur-body-apercu\" hidden>Aperçu</button>"));
        assert!(html.contains("name=\"instructions\" rows=\"5\""), "{html}");
        assert!(html.contains("data-preview-url=\"/ailleurs\""), "{html}");
        assert!(
            html.contains("id=\"editeur-instructions-apercu\""),
            "{html}"
        );
        assert!(html.contains("<script src=\"/static/editor.js?v=1\" defer></script>"));
        assert!(!html.contains("style="), "no inline style: {html}");
    }
}
