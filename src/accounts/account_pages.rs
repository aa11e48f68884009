//! A person's own account page: who they are signed in as, and their open sessions, each of
//! which they can close, or all at once ("se déconnecter partout").

use actix_web::{HttpRequest, HttpResponse, web};

use super::session::{self, CurrentUser};
use super::sessions;
use crate::audit::{self, Event};
use crate::web::csrf::{CsrfForm, Empty};
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/mon-compte", web::get().to(show))
        .route(
            "/mon-compte/sessions/{id}/fermer",
            web::post().to(close_one),
        )
        .route("/mon-compte/deconnexion-partout", web::post().to(close_all));
}

async fn show(req: HttpRequest, state: State, me: CurrentUser) -> AppResult<HttpResponse> {
    let id = me.id;
    let open = state.db(move |c| Ok(sessions::list(c, id)?)).await?;
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("sessions", &open);
    ctx.insert("current", &me.session_id);
    state.render("accounts/account.html", &ctx)
}

/// Closes one of one's own sessions; another person's session id is not found.
async fn close_one(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let sid = path.into_inner();
    let (user, org, email) = (me.id, me.organism_id, me.email.clone());
    state
        .db(move |c| {
            crate::db::transaction(c, |c| {
                if !sessions::close(c, user, sid)? {
                    return Err(AppError::NotFound);
                }
                audit::record(
                    c,
                    Event::new("session_closed", "user", Some(user))
                        .by(Some(user))
                        .in_organism(org)
                        .key(email)
                        .detail(serde_json::json!({ "session": sid })),
                )?;
                Ok(())
            })
        })
        .await?;
    let to = if me.session_id == Some(sid) {
        "/connexion"
    } else {
        "/mon-compte"
    };
    let mut res = HttpResponse::SeeOther();
    res.insert_header(("Location", to));
    if me.session_id == Some(sid) {
        res.cookie(session::removal_cookie());
    }
    Ok(res.finish())
}

/// Ends every session of the account, this one included, on every instance.
async fn close_all(
    state: State,
    me: CurrentUser,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (user, org, email) = (me.id, me.organism_id, me.email.clone());
    state
        .db(move |c| {
            crate::db::transaction(c, |c| {
                let closed = sessions::close_all(c, user, None)?;
                audit::record(
                    c,
                    Event::new("sessions_closed", "user", Some(user))
                        .by(Some(user))
                        .in_organism(org)
                        .key(email)
                        .detail(serde_json::json!({ "closed": closed })),
                )?;
                Ok(())
            })
        })
        .await?;
    Ok(HttpResponse::SeeOther()
        .cookie(session::removal_cookie())
        .insert_header(("Location", "/connexion"))
        .finish())
}
