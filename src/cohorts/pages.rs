//! Organism pages: the platform admin's list and form, and an organism's own page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::rules::{self, OrganismInput};
use super::store;
use crate::accounts::{CurrentUser, Role};
use crate::web::csrf::CsrfForm;
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/organismes", web::get().to(list))
        .route("/admin/organismes", web::post().to(create))
        .route("/organismes/{id}", web::get().to(show));
}

async fn list(req: HttpRequest, state: State, me: CurrentUser) -> AppResult<HttpResponse> {
    me.require(&[Role::Admin])?;
    let organisms = state.db(|c| Ok(store::list_organisms(c)?)).await?;
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("organisms", &organisms);
    ctx.insert("form", &OrganismInput::default());
    state.render("cohorts/organisms.html", &ctx)
}

async fn create(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    CsrfForm(input): CsrfForm<OrganismInput>,
) -> AppResult<HttpResponse> {
    me.require(&[Role::Admin])?;
    let organism = match rules::validate_organism(&input) {
        Ok(o) => o,
        Err(errors) => {
            let organisms = state.db(|c| Ok(store::list_organisms(c)?)).await?;
            let mut ctx = w::context(&req);
            ctx.insert("me", &me.view());
            ctx.insert("organisms", &organisms);
            ctx.insert("form", &input);
            ctx.insert("errors", &errors);
            return state.render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                "cohorts/organisms.html",
                &ctx,
            );
        }
    };
    let actor = me.id;
    let id = state
        .db(move |c| crate::db::transaction(c, |c| Ok(store::create(c, Some(actor), &organism)?)))
        .await?;
    Ok(w::redirect(&format!("/organismes/{id}")))
}

async fn show(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    me.require_staff_of(id)?;
    let (organism, staff) = state
        .db(move |c| {
            let o = store::get(c, id)?.ok_or(AppError::NotFound)?;
            let staff = crate::accounts::store::staff_of(c, id)?;
            Ok((o, staff))
        })
        .await?;
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("can_manage", &me.require_org_admin_of(id).is_ok());
    ctx.insert("organism", &organism);
    ctx.insert("staff", &staff);
    state.render("cohorts/organism.html", &ctx)
}
