//! The staff's list of follow-up threads, unanswered questions first.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::pages::line_view;
use super::store;
use crate::accounts::{CurrentUser, Role};
use crate::cohorts::store as cohorts;
use crate::web::{self as w, AppError, AppResult, State};

#[derive(Deserialize)]
pub(super) struct ListQuery {
    promotion: Option<String>,
    filtre: Option<String>,
}

pub(super) async fn staff_list(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let org = path.into_inner();
    if me.is(Role::Admin) {
        return Err(AppError::forbidden());
    }
    me.require_staff_of(org)?;
    let cohort = match query.promotion.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => Some(
            raw.parse::<i64>()
                .map_err(|_| AppError::invalid("promotion", "Promotion inconnue."))?,
        ),
    };
    let only_waiting = query.filtre.as_deref() != Some("tous");
    let reader = me.id;
    let (lines, cohorts_list) = state
        .db(move |c| {
            let list = cohorts::cohorts_of(c, org)?;
            if let Some(id) = cohort
                && !list.iter().any(|(row, _)| row.id == id)
            {
                return Err(AppError::NotFound);
            }
            let lines = store::lines(
                c,
                reader,
                store::Threads::OfOrganism {
                    organism: org,
                    cohort,
                },
                only_waiting,
            )?;
            Ok((lines, list))
        })
        .await?;
    let now = crate::db::now();
    let views: Vec<serde_json::Value> = lines.iter().map(|l| line_view(l, now)).collect();
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("organism_id", &org);
    ctx.insert("lines", &views);
    ctx.insert(
        "cohorts",
        &cohorts_list
            .iter()
            .map(|(c, _)| serde_json::json!({"id": c.id, "name": c.name}))
            .collect::<Vec<_>>(),
    );
    ctx.insert("cohort", &cohort);
    ctx.insert("all", &!only_waiting);
    state.render("followup/staff_list.html", &ctx)
}
