//! Login, logout, and staff roles and status.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::login::{self, LoginError};
use super::next_page;
use super::rules::Role;
use super::session::{self, CurrentUser};
use super::sessions::{self, Kind};
use super::store;
use crate::web::csrf::CsrfForm;
use crate::web::{self as w, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/connexion", web::get().to(login_form))
        .route("/connexion", web::post().to(login_submit))
        .route("/deconnexion", web::post().to(logout))
        .route("/utilisateurs/{id}/role", web::post().to(change_role))
        .route("/utilisateurs/{id}/statut", web::post().to(change_status));
}

#[derive(Deserialize)]
struct NextQuery {
    suite: Option<String>,
}

async fn login_form(
    req: HttpRequest,
    state: State,
    query: web::Query<NextQuery>,
) -> AppResult<HttpResponse> {
    let mut ctx = w::context(&req);
    ctx.insert("suite", &next_page::after_login(query.suite.as_deref()));
    state.render("accounts/login.html", &ctx)
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    suite: Option<String>,
}

async fn login_submit(
    req: HttpRequest,
    state: State,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> AppResult<HttpResponse> {
    let ip = w::client_ip(&req);
    let next = next_page::after_login(form.suite.as_deref());
    match login::authenticate(&state, &form.email, form.password, ip).await? {
        Ok(user) => {
            let ttl = state.config.session_minutes * 60;
            let (token, _) = session::start(&state, &req, &user, Kind::Web, ttl).await?;
            Ok(HttpResponse::SeeOther()
                .cookie(session::session_cookie(&state.config, token))
                .insert_header(("Location", next))
                .finish())
        }
        Err(e) => {
            let status = match e {
                LoginError::TooManyFromAddress { .. } | LoginError::AccountLocked { .. } => {
                    StatusCode::TOO_MANY_REQUESTS
                }
                LoginError::Disabled => StatusCode::FORBIDDEN,
                LoginError::BadCredentials => StatusCode::UNAUTHORIZED,
            };
            let mut ctx = w::context(&req);
            ctx.insert("suite", &next);
            ctx.insert("email", form.email.trim());
            ctx.insert("error", &e.message());
            state.render_status(status, "accounts/login.html", &ctx)
        }
    }
}

#[derive(Deserialize)]
struct Empty {}

async fn logout(
    state: State,
    user: Option<CurrentUser>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    if let Some(user) = user {
        state
            .db(move |conn| {
                if let Some(sid) = user.session_id {
                    sessions::close(conn, user.id, sid)?;
                }
                crate::audit::record(
                    conn,
                    crate::audit::Event::new("logout", "user", Some(user.id))
                        .by(Some(user.id))
                        .in_organism(user.organism_id)
                        .key(user.email.clone()),
                )?;
                Ok(())
            })
            .await?;
    }
    Ok(HttpResponse::SeeOther()
        .cookie(session::removal_cookie())
        .insert_header(("Location", "/connexion"))
        .finish())
}

#[derive(Deserialize)]
struct RoleForm {
    role: String,
}

/// An organism's administrator moves a staff member between trainer and administrator.
async fn change_role(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> AppResult<HttpResponse> {
    let target = path.into_inner();
    let role = Role::parse(&form.role)
        .filter(|r| r.is_staff())
        .ok_or_else(|| w::AppError::invalid("role", "Rôle inconnu pour un membre de l'équipe."))?;
    let org = state
        .db(move |conn| {
            let user = store::by_id(conn, target)?.ok_or(w::AppError::NotFound)?;
            let org = user.organism_id.ok_or(w::AppError::NotFound)?;
            // Outside the organism, a person is answered like an id that does not exist.
            me.hide_unless_staff_of(org)?;
            me.require_org_admin_of(org)?;
            if !user.role().is_some_and(|r| r.is_staff()) {
                return Err(w::AppError::forbidden());
            }
            if user.id == me.id {
                return Err(w::AppError::Conflict(
                    "Vous ne pouvez pas changer votre propre rôle.".into(),
                ));
            }
            crate::db::transaction(conn, |conn| store::set_role(conn, me.id, &user, role))?;
            Ok(org)
        })
        .await?;
    Ok(w::redirect(&format!("/organismes/{org}")))
}

#[derive(Deserialize)]
struct StatusForm {
    disabled: String,
}

async fn change_status(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> AppResult<HttpResponse> {
    let target = path.into_inner();
    let disabled = form.disabled == "1";
    let org = state
        .db(move |conn| {
            let user = store::by_id(conn, target)?.ok_or(w::AppError::NotFound)?;
            let org = user.organism_id.ok_or(w::AppError::NotFound)?;
            // Outside the organism, a person is answered like an id that does not exist.
            me.hide_unless_staff_of(org)?;
            me.require_org_admin_of(org)?;
            if user.id == me.id {
                return Err(w::AppError::Conflict(
                    "Vous ne pouvez pas désactiver votre propre compte.".into(),
                ));
            }
            crate::db::transaction(conn, |conn| {
                store::set_disabled(conn, me.id, &user, disabled)
            })?;
            Ok(org)
        })
        .await?;
    Ok(w::redirect(&format!("/organismes/{org}")))
}
