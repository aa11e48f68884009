//! The right of correction of a name, both sides: the person asks from
//! `/mon-compte/identite`; her organism's administrators answer on
//! `/organismes/ID/corrections`, which names the issued attestations that carry the old
//! name. Only the administrators of the person's own organism see or decide a request: anyone
//! else gets the answer of an unknown id.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::corrections::{self, Correction, Decision};
use crate::accounts::{CurrentUser, Role};
use crate::mail::MailContext;
use crate::web::csrf::CsrfForm;
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/mon-compte/identite", web::get().to(own_page))
        .route("/mon-compte/identite", web::post().to(ask))
        .route("/organismes/{id}/corrections", web::get().to(organism_page))
        .route("/corrections/{id}", web::post().to(decide));
}

fn view(c: &Correction) -> serde_json::Value {
    let mut v = serde_json::to_value(c).unwrap_or_default();
    v["state_label"] = corrections::state_label(&c.state).into();
    v
}

async fn own_page(req: HttpRequest, state: State, me: CurrentUser) -> AppResult<HttpResponse> {
    let id = me.id;
    let list = state.db(move |c| Ok(corrections::of_user(c, id)?)).await?;
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("has_organism", &me.organism_id.is_some());
    ctx.insert(
        "waiting",
        &list.iter().any(|c| c.state == corrections::PENDING),
    );
    ctx.insert("requests", &list.iter().map(view).collect::<Vec<_>>());
    ctx.insert("sent", &req.query_string().contains("avis=envoyee"));
    state.render("privacy/identity.html", &ctx)
}

#[derive(Deserialize)]
struct AskForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    note: String,
}

async fn ask(
    state: State,
    me: CurrentUser,
    CsrfForm(form): CsrfForm<AskForm>,
) -> AppResult<HttpResponse> {
    let id = me.id;
    let st = state.clone();
    state
        .db(move |c| {
            let mc = MailContext {
                templates: &st.mail_templates,
                base_url: &st.config.base_url,
            };
            corrections::request(c, &mc, id, &form.name, &form.note)
        })
        .await?;
    Ok(w::redirect("/mon-compte/identite?avis=envoyee"))
}

async fn organism_page(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let org = path.into_inner();
    me.require_own_admin_of(org)?;
    let (organism, rows) = state
        .db(move |c| {
            let organism = crate::organisms::store::get(c, org)?.ok_or(AppError::NotFound)?;
            let mut rows = Vec::new();
            for r in corrections::of_organism(c, org)? {
                // Refused: the printed name stays right; otherwise what still prints another.
                let stale = match r.state.as_str() {
                    corrections::REFUSED => vec![],
                    _ => corrections::stale_attestations(c, r.user_id, &r.requested_name)?,
                };
                let mut v = view(&r);
                v["stale"] = serde_json::to_value(stale).unwrap_or_default();
                rows.push(v);
            }
            Ok((organism, rows))
        })
        .await?;
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("organism_id", &org);
    ctx.insert("organism_name", &organism.name);
    ctx.insert("requests", &rows);
    state.render("privacy/corrections.html", &ctx)
}

#[derive(Deserialize)]
struct DecideForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

/// An administrator of the person's organism applies or refuses a request; for anyone else
/// the request does not exist.
async fn decide(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<DecideForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let row = state
        .db(move |c| Ok(corrections::get(c, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    if me.role != Role::OrganismAdmin || me.organism_id != Some(row.organism_id) {
        return Err(AppError::NotFound);
    }
    let decision = match form.decision.as_str() {
        "appliquer" => Decision::Apply,
        "refuser" => Decision::Refuse,
        _ => {
            return Err(AppError::invalid(
                "decision",
                "Choisissez d'appliquer ou de refuser la demande.",
            ));
        }
    };
    let reason = corrections::check_reason(decision, &form.reason)
        .map_err(|m| AppError::invalid("reason", m))?;
    let (actor, org) = (me.id, row.organism_id);
    let st = state.clone();
    state
        .db(move |c| {
            let mc = MailContext {
                templates: &st.mail_templates,
                base_url: &st.config.base_url,
            };
            corrections::decide(c, &mc, actor, &row, decision, reason.as_deref())
        })
        .await?;
    Ok(w::redirect(&format!(
        "/organismes/{org}/corrections#demande-{id}"
    )))
}
