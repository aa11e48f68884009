//! The organism administrator's page of integration tokens: list, create (secret shown once),
//! revoke.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::api_tokens;
use super::{CurrentUser, Role};
use crate::web::csrf::{CsrfForm, Empty};
use crate::web::{self as w, AppError, AppResult, FieldError, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/organismes/{id}/jetons", web::get().to(list))
        .route("/organismes/{id}/jetons", web::post().to(create))
        .route(
            "/organismes/{id}/jetons/{token}/revoquer",
            web::post().to(revoke),
        );
}

/// Only the organism's own administrators: a token acts as the person who created it.
fn own_admin(me: &CurrentUser, organism: i64) -> AppResult<()> {
    if me.is(Role::OrganismAdmin) && me.organism_id == Some(organism) {
        Ok(())
    } else {
        Err(AppError::forbidden())
    }
}

#[derive(Default, Deserialize, serde::Serialize)]
struct TokenForm {
    name: String,
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
            let org = crate::cohorts::store::get(c, organism)?.ok_or(AppError::NotFound)?;
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
    let mut res = state.render_status(shown.status, "accounts/tokens.html", &ctx)?;
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, no-store"),
    );
    Ok(res)
}

async fn list(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let organism = path.into_inner();
    own_admin(&me, organism)?;
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
    own_admin(&me, organism)?;
    let name = match api_tokens::validate_name(&form.name) {
        Ok(name) => name,
        Err(message) => {
            let shown = Shown {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                form,
                errors: vec![FieldError::new("name", message)],
                secret: None,
            };
            return render(&req, &state, &me, organism, shown).await;
        }
    };
    let body = w::random_token(32)?;
    let admin = me.id;
    let secret = state
        .db(move |c| Ok(api_tokens::create(c, organism, admin, &name, &body)?))
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
    own_admin(&me, organism)?;
    let admin = me.id;
    let done = state
        .db(move |c| Ok(api_tokens::revoke(c, organism, admin, token)?))
        .await?;
    if !done {
        return Err(AppError::NotFound);
    }
    Ok(w::redirect(&format!("/organismes/{organism}/jetons")))
}
