//! What a person changes herself from `/mon-compte` (issue #23): which optional mails she
//! receives, and her e-mail address, which changes once the link mailed to the new address
//! is used (`/adresse/confirmation/<token>`: the token is the proof, no session needed).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::email_change::{self, PATH};
use super::mail_choices::{self, Via};
use super::session::CurrentUser;
use crate::mail::MailContext;
use crate::web::csrf::{CsrfForm, Empty};
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/mon-compte/courriels", web::post().to(mail_choice))
        .route("/mon-compte/adresse", web::post().to(ask_email_change))
        .route("/adresse/confirmation/{token}", web::get().to(confirm_page))
        .route("/adresse/confirmation/{token}", web::post().to(confirm));
}

#[derive(Deserialize)]
struct ChoiceForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    wanted: String,
}

/// Turns one optional mail on or off; a kind her role does not receive is refused.
async fn mail_choice(
    state: State,
    me: CurrentUser,
    CsrfForm(form): CsrfForm<ChoiceForm>,
) -> AppResult<HttpResponse> {
    let kind = mail_choices::for_role(me.role)
        .find(|o| o.kind == form.kind)
        .map(|o| o.kind)
        .ok_or_else(|| {
            AppError::invalid(
                "kind",
                "Ce type d'e-mail n'existe pas ou ne vous est pas envoyé : il ne peut pas être choisi.",
            )
        })?;
    let wanted = match form.wanted.as_str() {
        "1" => true,
        "0" => false,
        _ => {
            return Err(AppError::invalid(
                "wanted",
                "Choisissez de recevoir ou non cet e-mail.",
            ));
        }
    };
    let id = me.id;
    state
        .db(move |c| mail_choices::set(c, id, kind, wanted, Via::Page("/mon-compte")))
        .await?;
    Ok(w::redirect("/mon-compte?avis=courriels#courriels"))
}

#[derive(Deserialize)]
struct EmailForm {
    #[serde(default)]
    email: String,
}

/// Asks for a new address: nothing changes until the link mailed to it is used.
async fn ask_email_change(
    state: State,
    me: CurrentUser,
    CsrfForm(form): CsrfForm<EmailForm>,
) -> AppResult<HttpResponse> {
    let id = me.id;
    let st = state.clone();
    state
        .db(move |c| {
            let mc = MailContext {
                templates: &st.mail_templates,
                base_url: &st.config.base_url,
            };
            email_change::request(c, &mc, id, &form.email)
        })
        .await?;
    Ok(w::redirect("/mon-compte?avis=adresse#adresse"))
}

/// The answer to a link that names nothing (unknown, expired or already used).
fn invalid(req: &HttpRequest, state: &State) -> AppResult<HttpResponse> {
    let mut ctx = w::context(req);
    ctx.insert("title", "Lien invalide");
    ctx.insert(
        "message",
        "Ce lien de confirmation n'est pas valide : il a expiré, a déjà servi ou n'a pas été copié en entier. Votre adresse n'a pas changé ; vous pouvez refaire la demande depuis « Mon compte ».",
    );
    state.render_status(StatusCode::NOT_FOUND, "accounts/link_invalid.html", &ctx)
}

async fn find(state: &State, token: String) -> AppResult<Option<email_change::Pending>> {
    if token.len() < 20 {
        return Ok(None);
    }
    state.db(move |c| Ok(email_change::find(c, &token)?)).await
}

async fn confirm_page(
    req: HttpRequest,
    state: State,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let token = path.into_inner();
    let Some(pending) = find(&state, token.clone()).await? else {
        return invalid(&req, &state);
    };
    let mut ctx = w::context(&req);
    ctx.insert("new_email", &pending.new_email);
    ctx.insert("done", &false);
    ctx.insert("action", &format!("{PATH}/{token}"));
    state.render("accounts/email_confirm.html", &ctx)
}

async fn confirm(
    req: HttpRequest,
    state: State,
    path: web::Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let Some(pending) = find(&state, path.into_inner()).await? else {
        return invalid(&req, &state);
    };
    let st = state.clone();
    let new_email = pending.new_email.clone();
    state
        .db(move |c| {
            let mc = MailContext {
                templates: &st.mail_templates,
                base_url: &st.config.base_url,
            };
            email_change::confirm(c, &mc, &pending)
        })
        .await?;
    let mut ctx = w::context(&req);
    ctx.insert("new_email", &new_email);
    ctx.insert("done", &true);
    state.render("accounts/email_confirm.html", &ctx)
}
