//! A person's own account page: who they are signed in as, and their open sessions, each of
//! which they can close, or all at once ("se déconnecter partout"); a doctor also keeps there
//! the numbers his CPAM asks for. Its other forms, the optional mails and the e-mail address,
//! are handled in `contact_pages.rs`.

use actix_web::{HttpRequest, HttpResponse, web};

use super::rules::Role;
use super::session::{self, CurrentUser};
use super::sessions;
use crate::audit::{self, Event};
use crate::base::field;
use crate::web::csrf::{CsrfForm, Empty};
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/mon-compte", web::get().to(show))
        .route(
            "/mon-compte/sessions/{id}/fermer",
            web::post().to(close_one),
        )
        .route("/mon-compte/deconnexion-partout", web::post().to(close_all))
        .route("/mon-compte/cpam", web::post().to(cpam_identifiers));
}

async fn show(req: HttpRequest, state: State, me: CurrentUser) -> AppResult<HttpResponse> {
    let (id, doctor, role) = (me.id, me.role == Role::Doctor, me.role);
    let (open, cpam, choices, waiting) = state
        .db(move |c| {
            let cpam = match doctor {
                true => Some(super::store::cpam_identifiers(c, id)?),
                false => None,
            };
            let choices: Vec<serde_json::Value> = super::mail_choices::of(c, id, role)?
                .into_iter()
                .map(|(o, wanted)| {
                    serde_json::json!({"kind": o.kind, "label": o.label, "wanted": wanted})
                })
                .collect();
            let waiting = super::email_change::waiting(c, id)?;
            Ok((sessions::list(c, id)?, cpam, choices, waiting))
        })
        .await?;
    let mut ctx = w::context(&req);
    ctx.insert("mail_choices", &choices);
    ctx.insert("email_waiting", &waiting);
    let notice = req
        .query_string()
        .split('&')
        .find_map(|p| p.strip_prefix("avis="))
        .unwrap_or_default();
    ctx.insert("notice", notice);
    ctx.insert("me", &me.view());
    ctx.insert("sessions", &open);
    ctx.insert("cpam", &cpam);
    ctx.insert(
        "saved",
        &req.query_string().split('&').any(|p| p == "avis=cpam"),
    );
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

#[derive(serde::Deserialize)]
struct CpamForm {
    #[serde(default)]
    rpps: String,
    #[serde(default)]
    am_number: String,
}

/// A doctor records his RPPS and Assurance Maladie numbers, printed in the text he forwards
/// to his CPAM with his assistant's CQP. Audited.
async fn cpam_identifiers(
    state: State,
    me: CurrentUser,
    CsrfForm(form): CsrfForm<CpamForm>,
) -> AppResult<HttpResponse> {
    me.require(&[Role::Doctor])?;
    let rpps = field::check_rpps(&form.rpps).map_err(|e| AppError::invalid("rpps", e))?;
    let am =
        field::check_am_number(&form.am_number).map_err(|e| AppError::invalid("am_number", e))?;
    let id = me.id;
    state
        .db(move |c| {
            crate::db::transaction(c, |c| {
                let before = super::store::cpam_identifiers(c, id)?;
                super::store::set_cpam_identifiers(c, id, rpps.as_deref(), am.as_deref())?;
                audit::record(
                    c,
                    Event::new("cpam_identifiers", "user", Some(id))
                        .by(Some(id))
                        .change(
                            serde_json::json!({"rpps": before.0, "am_number": before.1}),
                            serde_json::json!({"rpps": rpps, "am_number": am}),
                        ),
                )?;
                Ok(())
            })
        })
        .await?;
    Ok(w::redirect("/mon-compte?avis=cpam"))
}
