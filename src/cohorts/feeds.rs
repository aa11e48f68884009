//! ICS feeds for phone calendars, per cohort and per trainee, behind secret URLs. A trainee's
//! feed dies with her account or her enrolment; a secret can be renewed, which kills the old
//! URL at once.

use actix_web::{HttpResponse, web};

use super::access::cohort_for_staff;
use super::access::staff_access;
use super::calendar::ics;
use super::store::{self, CohortRow};
use crate::accounts::{CurrentUser, Role};
use crate::web::csrf::{CsrfForm, Empty};
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/calendrier/promotion/{token}", web::get().to(cohort_feed))
        .route("/calendrier/stagiaire/{token}", web::get().to(trainee_feed))
        .route(
            "/promotions/{id}/calendrier/renouveler",
            web::post().to(renew_cohort),
        )
        .route("/ma-promotion/agenda/renouveler", web::post().to(renew_own))
        .route(
            "/stagiaires/{id}/agenda/renouveler",
            web::post().to(renew_for_trainee),
        );
}

async fn feed(state: &State, cohort: CohortRow) -> AppResult<HttpResponse> {
    let cid = cohort.id;
    let (sessions, periods) = state
        .db(move |c| {
            Ok((
                store::sessions_of(c, cid)?,
                store::distance_periods_of(c, cid)?,
            ))
        })
        .await?;
    let host = url::Url::parse(&state.config.base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "parcours.local".into());
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header(("Cache-Control", "private, max-age=300"))
        .body(ics(&cohort, &sessions, &periods, &host)))
}

fn token_of(raw: &str) -> &str {
    raw.strip_suffix(".ics").unwrap_or(raw)
}

async fn cohort_feed(state: State, path: web::Path<String>) -> AppResult<HttpResponse> {
    let token = token_of(&path).to_string();
    if token.len() < 20 {
        return Err(AppError::NotFound);
    }
    let cohort = state
        .db(move |c| Ok(store::cohort_by_token(c, &token)?))
        .await?
        .ok_or(AppError::NotFound)?;
    feed(&state, cohort).await
}

async fn trainee_feed(state: State, path: web::Path<String>) -> AppResult<HttpResponse> {
    let token = token_of(&path).to_string();
    if token.len() < 20 {
        return Err(AppError::NotFound);
    }
    let cohort = state
        .db(move |c| match store::trainee_feed_cohort(c, &token)? {
            Some(cid) => Ok(store::cohort(c, cid)?),
            None => Ok(None),
        })
        .await?
        .ok_or(AppError::NotFound)?;
    feed(&state, cohort).await
}

async fn renew_trainee(state: &State, actor: i64, trainee: i64) -> AppResult<()> {
    let renewed = state
        .db(move |c| {
            crate::db::transaction(c, |c| {
                Ok(store::renew_trainee_ics_token(c, actor, trainee)?)
            })
        })
        .await?;
    if renewed {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// The trainee renews her own feed, from her cohort page.
async fn renew_own(
    state: State,
    me: CurrentUser,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    me.require(&[Role::Trainee])?;
    renew_trainee(&state, me.id, me.id).await?;
    Ok(w::redirect("/ma-promotion"))
}

/// Staff of her organism renew a trainee's feed, from her file.
async fn renew_for_trainee(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let trainee = staff_access(&state, &me, path.into_inner()).await?;
    renew_trainee(&state, me.id, trainee.id).await?;
    Ok(w::redirect(&format!("/stagiaires/{}", trainee.id)))
}

/// An administrator of the organism renews a cohort's feed, from its calendar.
async fn renew_cohort(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let cohort = cohort_for_staff(&state, &me, path.into_inner()).await?;
    me.require_org_admin_of(cohort.organism_id)?;
    let (actor, cid) = (me.id, cohort.id);
    state
        .db(move |c| {
            crate::db::transaction(c, |c| Ok(store::renew_cohort_ics_token(c, actor, &cohort)?))
        })
        .await?;
    Ok(w::redirect(&format!("/promotions/{cid}/calendrier")))
}
