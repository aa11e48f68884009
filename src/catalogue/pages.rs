//! The public catalogue: the list with its filters, a cohort's page and the Atom feed. No
//! sign-in, no JavaScript; a bad filter is answered in French with a 400.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::feed;
use super::listing::{cards, detail, raw_filter};
use super::rules::{self, DISTANCE_STEPS, REGIONS};
use super::view::{self, Card};
use crate::base::field::FieldError;
use crate::base::format;
use crate::base::paris::today;
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/catalogue", web::get().to(list))
        .route("/catalogue.atom", web::get().to(atom))
        .route("/catalogue/{id}", web::get().to(one));
}

async fn list(req: HttpRequest, state: State) -> AppResult<HttpResponse> {
    let raw = raw_filter(&req);
    let (status, list, errors): (StatusCode, Vec<Card>, Vec<FieldError>) = match raw.check() {
        Ok(f) => (StatusCode::OK, cards(&state, f).await?, Vec::new()),
        Err(e) => (StatusCode::BAD_REQUEST, Vec::new(), e),
    };
    let mut ctx = w::context(&req);
    ctx.insert("cards", &list);
    ctx.insert("errors", &errors);
    ctx.insert("filter", &raw);
    ctx.insert("regions", REGIONS);
    let steps: Vec<String> = DISTANCE_STEPS.iter().map(ToString::to_string).collect();
    ctx.insert("steps", &steps);
    ctx.insert("months", &view::month_choices(today()));
    ctx.insert("feed_query", req.query_string());
    state.render_status(status, "catalogue/list.html", &ctx)
}

async fn one(req: HttpRequest, state: State, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let day = today();
    let (card, days, outcomes) = detail(&state, id).await?;
    let next: Vec<String> = days
        .iter()
        .filter(|d| **d >= day)
        .take(6)
        .map(|d| format::date(*d))
        .collect();
    let mut ctx = w::context(&req);
    ctx.insert("rhythm", &rules::rhythm(&days));
    ctx.insert("next_days", &next);
    ctx.insert(
        "more_days",
        &(days.iter().filter(|d| **d >= day).count() > next.len()),
    );
    ctx.insert("figures", &view::figures(&outcomes));
    ctx.insert("card", &card);
    state.render("catalogue/one.html", &ctx)
}

async fn atom(req: HttpRequest, state: State) -> AppResult<HttpResponse> {
    let filter = raw_filter(&req).check().map_err(AppError::Invalid)?;
    let list = cards(&state, filter).await?;
    let xml = feed::atom(&state.config.base_url, &list, crate::db::now());
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/atom+xml; charset=utf-8"))
        .body(xml))
}
