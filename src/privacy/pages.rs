//! The retention page of an organism, for its administrators and the platform's: the table of
//! `rules::RULES` with the configured lengths, and the tables of each processing activity.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::register;
use super::rules::{self, Activity};
use crate::accounts::CurrentUser;
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/organismes/{id}/conservation",
        web::get().to(retention_page),
    );
}

/// One processing activity and the tables holding its personal data.
#[derive(Serialize)]
struct ActivityView {
    title: &'static str,
    tables: Vec<&'static str>,
}

async fn retention_page(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    me.require_org_admin_of(id)?;
    let (organism, own_years, holds, targets, last_run) = state
        .db(move |c| {
            use super::erasure::holds;
            let organism = crate::organisms::store::get(c, id)?.ok_or(AppError::NotFound)?;
            // The date only: the counts are the whole installation's, not this organism's.
            let last = holds::last_run(c)?.map(|at| serde_json::json!({ "at": at }));
            Ok((
                organism,
                holds::proof_years(c, id)?,
                holds::of_organism(c, id)?,
                holds::targets(c, id)?,
                last,
            ))
        })
        .await?;
    let mut settings = super::Settings::from(state.config.retention);
    let installation_years = settings.proof_years;
    if let Some(y) = own_years.and_then(|y| u32::try_from(y).ok()) {
        settings.proof_years = y;
    }
    let activities: Vec<ActivityView> = Activity::ALL
        .iter()
        .map(|&a| ActivityView {
            title: a.title(),
            tables: register::tables_of(a).map(|t| t.name).collect(),
        })
        .collect();
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("organism_id", &id);
    ctx.insert("organism_name", &organism.name);
    ctx.insert("rules", &rules::shown(&settings));
    ctx.insert("activities", &activities);
    ctx.insert("own_years", &own_years);
    ctx.insert("installation_years", &installation_years);
    ctx.insert(
        "years_range",
        &[
            *super::erasure::rules::PROOF_YEARS.start(),
            *super::erasure::rules::PROOF_YEARS.end(),
        ],
    );
    ctx.insert("holds", &holds);
    ctx.insert("targets", &targets);
    ctx.insert("last_run", &last_run);
    state.render("privacy/retention.html", &ctx)
}
