//! The catalogue as JSON: the same filters and facts as the public pages, no sign-in.

use actix_web::{HttpRequest, HttpResponse, web};

use super::listing::{cards, detail, raw_filter};
use super::view;
use crate::web::{AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/catalogue", web::get().to(list))
        .route("/catalogue/{id}", web::get().to(one));
}

async fn list(req: HttpRequest, state: State) -> AppResult<HttpResponse> {
    let filter = raw_filter(&req).check().map_err(AppError::Invalid)?;
    let list = cards(&state, filter).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "cohorts": list })))
}

async fn one(state: State, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let (card, days, outcomes) = detail(&state, id).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "cohort": card,
        "rhythm": super::rules::rhythm(&days),
        "training_days": days,
        "qualiopi": view::figures(&outcomes),
    })))
}
