//! Pages of single-use links: accept an invitation, forgotten password, reset.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::invite::{self, Purpose};
use super::password;
use super::rules::{self, LinkState};
use super::session;
use super::sessions::Kind;
use crate::base::format;
use crate::mail::MailContext;
use crate::web::csrf::CsrfForm;
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/invitation/{token}", web::get().to(invitation_form))
        .route("/invitation/{token}", web::post().to(invitation_submit))
        .route("/mot-de-passe-oublie", web::get().to(forgot_form))
        .route("/mot-de-passe-oublie", web::post().to(forgot_submit))
        .route("/mot-de-passe/{token}", web::get().to(reset_form))
        .route("/mot-de-passe/{token}", web::post().to(reset_submit));
}

fn dead_link(
    req: &HttpRequest,
    state: &State,
    purpose: Purpose,
    link: Option<(LinkState, Option<chrono::NaiveDateTime>)>,
) -> AppResult<HttpResponse> {
    let (status, title, message) = match link {
        None => (
            StatusCode::NOT_FOUND,
            "Lien invalide",
            "Ce lien n'est pas valide. Vérifiez qu'il a été copié en entier.".to_string(),
        ),
        Some((LinkState::Used, _)) => (
            StatusCode::GONE,
            "Lien déjà utilisé",
            "Ce lien a déjà été utilisé. Connectez-vous avec votre mot de passe, ou demandez un nouveau lien."
                .to_string(),
        ),
        Some((_, expires)) => (
            StatusCode::GONE,
            "Lien expiré",
            format!(
                "Ce lien a expiré{}. {}",
                expires
                    .map(|e| format!(" le {}", format::datetime(e)))
                    .unwrap_or_default(),
                match purpose {
                    Purpose::Invitation => "Demandez à votre organisme de formation de vous inviter à nouveau.",
                    Purpose::Reset => "Demandez un nouveau lien depuis la page « Mot de passe oublié ».",
                }
            ),
        ),
    };
    let mut ctx = w::context(req);
    ctx.insert("title", title);
    ctx.insert("message", &message);
    ctx.insert("purpose", &purpose.path());
    state.render_status(status, "accounts/link_invalid.html", &ctx)
}

async fn show_form(
    req: HttpRequest,
    state: State,
    token: String,
    purpose: Purpose,
) -> AppResult<HttpResponse> {
    let t = token.clone();
    let link = state.db(move |c| invite::find(c, purpose, &t)).await?;
    match link {
        Some(l) if l.state == LinkState::Valid => {
            let mut ctx = w::context(&req);
            ctx.insert("purpose", &purpose.path());
            ctx.insert("token", &token);
            ctx.insert("name", &l.user.name);
            ctx.insert("email", &l.user.email);
            ctx.insert("invitation", &(purpose == Purpose::Invitation));
            state.render("accounts/set_password.html", &ctx)
        }
        Some(l) => dead_link(&req, &state, purpose, Some((l.state, Some(l.expires_at)))),
        None => dead_link(&req, &state, purpose, None),
    }
}

#[derive(Deserialize)]
struct PasswordForm {
    password: String,
    password_confirm: String,
}

async fn submit(
    req: HttpRequest,
    state: State,
    token: String,
    purpose: Purpose,
    form: PasswordForm,
) -> AppResult<HttpResponse> {
    let problem = if form.password != form.password_confirm {
        Some("Les deux mots de passe ne sont pas identiques.")
    } else {
        rules::validate_password(&form.password).err()
    };
    if let Some(problem) = problem {
        let t = token.clone();
        let link = state.db(move |c| invite::find(c, purpose, &t)).await?;
        let Some(link) = link else {
            return dead_link(&req, &state, purpose, None);
        };
        let mut ctx = w::context(&req);
        ctx.insert("purpose", &purpose.path());
        ctx.insert("token", &token);
        ctx.insert("name", &link.user.name);
        ctx.insert("email", &link.user.email);
        ctx.insert("invitation", &(purpose == Purpose::Invitation));
        ctx.insert("error", problem);
        return state.render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "accounts/set_password.html",
            &ctx,
        );
    }
    let hash = web::block(move || password::hash(&form.password))
        .await?
        .map_err(AppError::Internal)?;
    let t = token.clone();
    let outcome = match state
        .db(move |c| invite::consume(c, purpose, &t, &hash))
        .await
    {
        Err(AppError::NotFound) => return dead_link(&req, &state, purpose, None),
        other => other?,
    };
    match outcome {
        Ok(user) => {
            let ttl = state.config.session_minutes * 60;
            let (token, _) = session::start(&state, &req, &user, Kind::Web, ttl).await?;
            Ok(HttpResponse::SeeOther()
                .cookie(session::session_cookie(&state.config, token))
                .insert_header(("Location", "/"))
                .finish())
        }
        Err(dead) => dead_link(&req, &state, purpose, Some(dead)),
    }
}

async fn invitation_form(
    req: HttpRequest,
    state: State,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    show_form(req, state, path.into_inner(), Purpose::Invitation).await
}

async fn invitation_submit(
    req: HttpRequest,
    state: State,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> AppResult<HttpResponse> {
    submit(req, state, path.into_inner(), Purpose::Invitation, form).await
}

async fn reset_form(
    req: HttpRequest,
    state: State,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    show_form(req, state, path.into_inner(), Purpose::Reset).await
}

async fn reset_submit(
    req: HttpRequest,
    state: State,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> AppResult<HttpResponse> {
    submit(req, state, path.into_inner(), Purpose::Reset, form).await
}

async fn forgot_form(req: HttpRequest, state: State) -> AppResult<HttpResponse> {
    state.render("accounts/forgot.html", &w::context(&req))
}

#[derive(Deserialize)]
struct ForgotForm {
    email: String,
}

async fn forgot_submit(
    req: HttpRequest,
    state: State,
    CsrfForm(form): CsrfForm<ForgotForm>,
) -> AppResult<HttpResponse> {
    // Same limiter as logins: nobody floods an inbox or probes addresses from one place.
    if let Err(retry_after) = state.check_ip(w::client_ip(&req)) {
        return Err(AppError::TooManyRequests {
            message: format!(
                "Trop de demandes depuis votre adresse. Réessayez dans {retry_after} secondes."
            ),
            retry_after,
        });
    }
    let started = std::time::Instant::now();
    let st = state.clone();
    let done = state
        .db(move |c| {
            let mc = MailContext {
                templates: &st.mail_templates,
                base_url: &st.config.base_url,
            };
            invite::request_reset(c, &mc, &form.email)
        })
        .await;
    // Only a known address gets work done (a link, a mail, an audit row): an error there
    // must not answer differently either.
    if let Err(e) = done {
        tracing::error!(error = %e, "password reset request failed");
    }
    // The same time whatever the address: the answer waits for a floor well above the real
    // work. Faking that work for unknown addresses would mean writing rows for nobody and
    // would still differ in cost; the wait is async, so it holds no worker or connection.
    if let Some(rest) = FORGOT_FLOOR.checked_sub(started.elapsed()) {
        actix_web::rt::time::sleep(rest).await;
    }
    let mut ctx = w::context(&req);
    ctx.insert("sent", &true);
    state.render("accounts/forgot.html", &ctx)
}

/// How long a password-reset request takes, known address or not.
const FORGOT_FLOOR: std::time::Duration = std::time::Duration::from_millis(400);
