//! Probes for a load balancer or an orchestrator: `/healthz` says the process and its
//! database answer; `/readyz` also says the schema is the one this binary expects, so a
//! proxy sends nothing to an instance started before its migrations ran.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::web::{AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
}

async fn healthz(state: State) -> HttpResponse {
    match state.db(|c| Ok(c.ping()?)).await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ok"})),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            HttpResponse::ServiceUnavailable().json(json!({"status": "unavailable"}))
        }
    }
}

async fn readyz(state: State) -> HttpResponse {
    let checked = state
        .db(|c| {
            c.ping()?;
            crate::db::has_pending(c).map_err(crate::web::AppError::Internal)
        })
        .await;
    match checked {
        Ok(false) => HttpResponse::Ok()
            .json(json!({"status": "ready", "database": "ok", "schema": "current"})),
        Ok(true) => HttpResponse::ServiceUnavailable().json(
            json!({"status": "unavailable", "database": "ok", "schema": "migrations pending"}),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .json(json!({"status": "unavailable", "database": "unreachable"}))
        }
    }
}

/// Prometheus text format. The outbox length is read at scrape time, so it is the same on
/// every instance: the queue is shared. Anyone not allowed gets the 404 of an unknown path.
async fn metrics(req: HttpRequest, state: State) -> AppResult<HttpResponse> {
    let authorization = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let origin = crate::web::client_origin(&req);
    if !super::metrics::may_read(&state.config, origin, authorization) {
        return Err(AppError::NotFound);
    }
    let queued = state
        .db(|c| Ok(crate::mail::outbox::queue_length(c)?))
        .await;
    if let (Some(m), Ok(n)) = (super::metrics::metrics(), &queued) {
        m.outbox_pending.set(*n);
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(super::metrics::render()))
}
