//! The page of a mailed "ne plus recevoir" link (`/desabonnement/<token>`): GET asks to
//! confirm, POST turns the kind off. The token is the proof: no session and no CSRF token are
//! needed, so the same URL is the mail's `List-Unsubscribe` header, which a mail client POSTs
//! to with `List-Unsubscribe=One-Click` (RFC 8058) from no page of ours. A forged request
//! would need the secret token, and it can only turn a mail off.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::unsubscribe::{self, Link};
use crate::web::{self as w, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/desabonnement/{token}", web::get().to(page))
        .route("/desabonnement/{token}", web::post().to(confirm));
}

/// The answer to a token that names nothing (unknown, tampered, or a closed account).
fn invalid(req: &HttpRequest, state: &State) -> AppResult<HttpResponse> {
    let mut ctx = w::context(req);
    ctx.insert("title", "Lien invalide");
    ctx.insert(
        "message",
        "Ce lien de désabonnement n'est pas valide. Vérifiez qu'il a été copié en entier, ou connectez-vous pour choisir les e-mails que vous recevez.",
    );
    state.render_status(StatusCode::NOT_FOUND, "accounts/link_invalid.html", &ctx)
}

async fn find(state: &State, token: String) -> AppResult<Option<Link>> {
    if token.len() < 20 {
        return Ok(None);
    }
    state.db(move |c| Ok(unsubscribe::find(c, &token)?)).await
}

async fn page(req: HttpRequest, state: State, path: web::Path<String>) -> AppResult<HttpResponse> {
    let token = path.into_inner();
    let Some(link) = find(&state, token.clone()).await? else {
        return invalid(&req, &state);
    };
    let mut ctx = w::context(&req);
    ctx.insert("what", unsubscribe::label(&link.kind).unwrap_or_default());
    ctx.insert("wanted", &link.wanted);
    ctx.insert("done", &false);
    ctx.insert("action", &format!("{}/{token}", unsubscribe::PATH));
    state.render("accounts/unsubscribe.html", &ctx)
}

/// The button of the page and the mail client's one-click POST; the body is not read.
async fn confirm(
    req: HttpRequest,
    state: State,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let Some(link) = find(&state, path.into_inner()).await? else {
        return invalid(&req, &state);
    };
    let what = unsubscribe::label(&link.kind).unwrap_or_default();
    state.db(move |c| unsubscribe::turn_off(c, &link)).await?;
    let mut ctx = w::context(&req);
    ctx.insert("what", what);
    ctx.insert("wanted", &false);
    ctx.insert("done", &true);
    state.render("accounts/unsubscribe.html", &ctx)
}
