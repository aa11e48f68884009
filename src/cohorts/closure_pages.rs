//! The organism's closure days, kept from a cohort's calendar page: its staff admins add a day
//! or a run of days ("Fermeture d'été") and remove them, and weekly rhythms skip them. A
//! closure is the organism's, so all its cohorts see it; another organism never does, not even
//! by its number (404).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::access::cohort_for_staff;
use super::calendar::render;
use crate::accounts::CurrentUser;
use crate::organisms::{rules, store};
use crate::web::csrf::{CsrfForm, Empty};
use crate::web::{self as w, AppError, AppResult, State};

#[derive(Deserialize)]
pub(super) struct ClosureForm {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    label: String,
}

pub(super) async fn add(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<ClosureForm>,
) -> AppResult<HttpResponse> {
    let cohort = cohort_for_staff(&state, &me, path.into_inner()).await?;
    me.require_org_admin_of(cohort.organism_id)?;
    let closure = match rules::validate_closure(&form.from, &form.to, &form.label) {
        Ok(closure) => closure,
        Err(errors) => return render(&req, &state, &me, cohort, errors).await,
    };
    let (actor, org, cid) = (me.id, cohort.organism_id, cohort.id);
    state
        .db(move |c| {
            crate::db::transaction(c, |c| Ok(store::add_closure(c, actor, org, &closure)?))
        })
        .await?;
    Ok(w::redirect(&format!("/promotions/{cid}/calendrier")))
}

pub(super) async fn remove(
    state: State,
    me: CurrentUser,
    path: web::Path<(i64, i64)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (cohort, closure) = path.into_inner();
    let cohort = cohort_for_staff(&state, &me, cohort).await?;
    me.require_org_admin_of(cohort.organism_id)?;
    let (actor, org, cid) = (me.id, cohort.organism_id, cohort.id);
    let removed = state
        .db(move |c| {
            crate::db::transaction(c, |c| Ok(store::remove_closure(c, actor, org, closure)?))
        })
        .await?;
    if !removed {
        return Err(AppError::NotFound);
    }
    Ok(w::redirect(&format!("/promotions/{cid}/calendrier")))
}
