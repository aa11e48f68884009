//! JSON API of VAE files, scoped like the pages.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::form::{paris_to_utc, settings};
use super::rules::state_counts;
use super::rules::{Action, Outcome, Status};
use super::store::{self, Scope};
use super::view::full;
use super::workflow::{self, Step};
use crate::accounts::CurrentUser;
use crate::mail::MailContext;
use crate::web::{AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/vae/requests", web::get().to(list))
        .route("/vae/requests/{id}", web::get().to(show))
        .route("/vae/requests/{id}/transitions", web::post().to(transition))
        .route("/organisms/{id}/vae/counts", web::get().to(counts));
}

#[derive(Deserialize)]
struct ListQuery {
    state: Option<String>,
}

async fn list(
    state: State,
    me: CurrentUser,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let filter = match query.state.as_deref() {
        None | Some("") => None,
        Some(s) => {
            Some(Status::parse(s).ok_or_else(|| AppError::invalid("state", "État inconnu."))?)
        }
    };
    let scope = workflow::scope_of(&me).0;
    let body = state
        .db(move |c| {
            Ok(match scope {
                Scope::Organism(org) => serde_json::to_value(store::list(c, org, filter)?),
                Scope::Candidate(id) => serde_json::to_value(
                    store::of_candidate(c, id)?
                        .into_iter()
                        .filter(|r| filter.is_none_or(|f| r.status() == f))
                        .collect::<Vec<_>>(),
                ),
                Scope::Platform => return Err(AppError::forbidden()),
            }
            .unwrap_or_default())
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

async fn show(state: State, me: CurrentUser, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let scope = workflow::scope_of(&me).0;
    Ok(HttpResponse::Ok().json(full(&state, scope, path.into_inner()).await?))
}

#[derive(Deserialize)]
struct TransitionBody {
    action: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    reasons: String,
    /// Paris local date and time of the jury: "2027-03-15" and "14:30".
    #[serde(default)]
    jury_date: String,
    #[serde(default)]
    jury_time: String,
    #[serde(default)]
    jury_place: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    validated: Vec<String>,
    #[serde(default)]
    recommendations: String,
}

async fn transition(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    body: web::Json<TransitionBody>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let b = body.into_inner();
    let action =
        Action::parse(&b.action).ok_or_else(|| AppError::invalid("action", "Action inconnue."))?;
    let step = Step {
        note: b.note,
        reasons: b.reasons,
        jury_at: paris_to_utc(&b.jury_date, &b.jury_time),
        jury_place: b.jury_place,
        outcome: Outcome::parse(&b.outcome),
        validated: b.validated,
        recommendations: b.recommendations,
    };
    let st = state.clone();
    let settings = settings(&state);
    let to = state
        .db(move |c| {
            let mc = MailContext {
                templates: &st.mail_templates,
                base_url: &st.config.base_url,
            };
            workflow::transition(c, &mc, &settings, &me, id, action, &step)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"id": id, "state": to.as_str()})))
}

async fn counts(state: State, me: CurrentUser, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let org = path.into_inner();
    me.require_staff_of(org)?;
    let counts = state.db(move |c| Ok(store::counts(c, org)?)).await?;
    Ok(HttpResponse::Ok().json(state_counts(&counts)))
}
