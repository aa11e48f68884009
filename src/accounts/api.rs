//! JSON API of accounts: tokens for API clients and who am I.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::login;
use super::session::{self, CurrentUser};
use super::sessions::Kind;
use crate::web::{self as w, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/auth/token", web::post().to(token))
        .route("/me", web::get().to(me));
}

#[derive(Deserialize)]
struct TokenRequest {
    email: String,
    password: String,
}

#[derive(Serialize)]
struct TokenResponse {
    token: String,
    token_type: &'static str,
    expires_at: i64,
}

/// API tokens live one hour; clients ask for a new one with the same credentials.
const API_TOKEN_SECS: i64 = 3600;

async fn token(
    req: HttpRequest,
    state: State,
    body: web::Json<TokenRequest>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    let user =
        login::authenticate(&state, &body.email, body.password, w::client_ip(&req)).await??;
    let (token, claims) = session::start(&state, &req, &user, Kind::Api, API_TOKEN_SECS).await?;
    Ok(HttpResponse::Ok().json(TokenResponse {
        token,
        token_type: "Bearer",
        expires_at: claims.exp,
    }))
}

async fn me(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().json(user)
}
