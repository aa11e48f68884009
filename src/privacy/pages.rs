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
    let organism = state
        .db(move |c| crate::organisms::store::get(c, id)?.ok_or(AppError::NotFound))
        .await?;
    let settings = super::Settings::from(state.config.retention);
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
    state.render("privacy/retention.html", &ctx)
}
