//! The organism administrator's page of integration tokens: list, create (secret shown once),
//! revoke.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::CurrentUser;
use super::api_tokens;
use crate::base::field::FieldError;
use crate::web::csrf::{CsrfForm, Empty};
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/organismes/{id}/jetons", web::get().to(list))
        .route("/organismes/{id}/jetons", web::post().to(create))
        .route(
            "/organismes/{id}/jetons/{token}/revoquer",
            web::post().to(revoke),
        );
}

#[derive(Default, Deserialize, serde::Serialize)]
struct TokenForm {
    name: String,
    #[serde(default)]
    duree: String,
}

struct Shown {
    status: StatusCode,
    form: TokenForm,
    errors: Vec<FieldError>,
    secret: Option<String>,
}

async fn render(
    req: &HttpRequest,
    state: &State,
    me: &CurrentUser,
    organism: i64,
    shown: Shown,
) -> AppResult<HttpResponse> {
    let (org, tokens) = state
        .db(move |c| {
            let org = crate::organisms::store::get(c, organism)?.ok_or(AppError::NotFound)?;
            Ok((org, api_tokens::list(c, organism)?))
        })
        .await?;
    let mut ctx = w::context(req);
    ctx.insert("me", &me.view());
    ctx.insert("organism", &org);
    ctx.insert("tokens", &tokens);
    ctx.insert("form", &shown.form);
    ctx.insert("errors", &shown.errors);
    ctx.insert("secret", &shown.secret);
    ctx.insert("lifetimes", &api_tokens::LIFETIMES);
    // Never cached: the security headers add `no-store` to every page.
    state.render_status(shown.status, "accounts/tokens.html", &ctx)
}

async fn list(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let organism = path.into_inner();
    me.require_own_admin_of(organism)?;
    let shown = Shown {
        status: StatusCode::OK,
        form: TokenForm::default(),
        errors: vec![],
        secret: None,
    };
    render(&req, &state, &me, organism, shown).await
}

async fn create(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> AppResult<HttpResponse> {
    let organism = path.into_inner();
    me.require_own_admin_of(organism)?;
    let checked = (
        api_tokens::validate_name(&form.name).map_err(|m| FieldError::new("name", m)),
        api_tokens::validate_lifetime(&form.duree).map_err(|m| FieldError::new("duree", m)),
    );
    let (name, days) = match checked {
        (Ok(name), Ok(days)) => (name, days),
        (name, days) => {
            let shown = Shown {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                form,
                errors: [name.err(), days.err()].into_iter().flatten().collect(),
                secret: None,
            };
            return render(&req, &state, &me, organism, shown).await;
        }
    };
    let body = w::random_token(32)?;
    let admin = me.id;
    let secret = state
        .db(move |c| Ok(api_tokens::create(c, organism, admin, &name, &body, days)?))
        .await?;
    // Shown in this answer only; the list never shows more than the prefix.
    let shown = Shown {
        status: StatusCode::OK,
        form: TokenForm::default(),
        errors: vec![],
        secret: Some(secret),
    };
    render(&req, &state, &me, organism, shown).await
}

async fn revoke(
    state: State,
    me: CurrentUser,
    path: web::Path<(i64, i64)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (organism, token) = path.into_inner();
    me.require_own_admin_of(organism)?;
    let admin = me.id;
    let done = state
        .db(move |c| Ok(api_tokens::revoke(c, organism, admin, token)?))
        .await?;
    if !done {
        return Err(AppError::NotFound);
    }
    Ok(w::redirect(&format!("/organismes/{organism}/jetons")))
}
