//! The organism's side: an administrator publishes one of its cohorts in the catalogue, with
//! what the cohort does not say itself (place, seats, price, funding, contact), or takes it
//! out. Every change is audited.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::rules::{self, Entry, EntryForm, FUNDING_ROUTES, REGIONS};
use super::store;
use crate::accounts::CurrentUser;
use crate::audit::{self, Event};
use crate::base::field::FieldError;
use crate::base::paris::today;
use crate::cohorts::access::cohort_for_staff;
use crate::cohorts::store::CohortRow;
use crate::web::csrf::{CsrfForm, Empty};
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/promotions/{id}/catalogue", web::get().to(page))
        .route("/promotions/{id}/catalogue", web::post().to(save))
        .route(
            "/promotions/{id}/catalogue/retirer",
            web::post().to(withdraw),
        );
}

/// The cohort, for one of its organism's administrators (or a platform admin).
async fn admin_cohort(state: &State, me: &CurrentUser, id: i64) -> AppResult<CohortRow> {
    let cohort = cohort_for_staff(state, me, id).await?;
    me.require_org_admin_of(cohort.organism_id)?;
    Ok(cohort)
}

/// The form as stored, or prefilled from the organism (its city and contact).
fn form_of(entry: Option<&Entry>, org: &crate::organisms::store::OrganismRow) -> EntryForm {
    match entry {
        Some(e) => EntryForm {
            city: e.city.clone(),
            region: e.region.clone(),
            distance_percent: e.distance_percent.to_string(),
            seats: e.seats.to_string(),
            price: rules::price_input(e.price_cents),
            funding: e.funding_routes.clone(),
            contact_email: e.contact_email.clone(),
            contact_phone: e.contact_phone.clone(),
            published: e.published,
        },
        None => EntryForm {
            contact_email: org.contact_email.clone().unwrap_or_default(),
            contact_phone: org.contact_phone.clone().unwrap_or_default(),
            published: true,
            ..EntryForm::default()
        },
    }
}

async fn render(
    req: &HttpRequest,
    state: &State,
    me: &CurrentUser,
    cohort: CohortRow,
    form: Option<EntryForm>,
    errors: Vec<FieldError>,
) -> AppResult<HttpResponse> {
    let (cid, org_id, program) = (cohort.id, cohort.organism_id, cohort.program_id);
    let (org, entry, distance) = state
        .db(move |c| {
            let org = crate::organisms::store::get(c, org_id)?.ok_or(AppError::NotFound)?;
            Ok((
                org,
                store::entry_of(c, cid)?,
                store::programme_distance(c, program)?,
            ))
        })
        .await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let form = form.unwrap_or_else(|| form_of(entry.as_ref(), &org));
    let mut ctx = w::context(req);
    ctx.insert("me", &me.view());
    ctx.insert("upcoming", &(cohort.start_date >= today()));
    ctx.insert("cohort", &cohort);
    ctx.insert("form", &form);
    ctx.insert("errors", &errors);
    ctx.insert("stored", &entry.is_some());
    ctx.insert("published", &entry.as_ref().is_some_and(|e| e.published));
    ctx.insert("programme_distance", &distance);
    ctx.insert("regions", REGIONS);
    let routes: Vec<(&str, &str, bool)> = FUNDING_ROUTES
        .iter()
        .map(|(code, label)| (*code, *label, form.funding.iter().any(|f| f == code)))
        .collect();
    ctx.insert("routes", &routes);
    state.render_status(status, "catalogue/entry.html", &ctx)
}

async fn page(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let cohort = admin_cohort(&state, &me, path.into_inner()).await?;
    render(&req, &state, &me, cohort, None, Vec::new()).await
}

/// The form's pairs (the funding routes are repeated checkboxes).
fn form_from(pairs: &[(String, String)]) -> EntryForm {
    let one = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    EntryForm {
        city: one("city"),
        region: one("region"),
        distance_percent: one("distance_percent"),
        seats: one("seats"),
        price: one("price"),
        funding: pairs
            .iter()
            .filter(|(k, _)| k == "funding")
            .map(|(_, v)| v.clone())
            .collect(),
        contact_email: one("contact_email"),
        contact_phone: one("contact_phone"),
        published: one("published") == "1",
    }
}

async fn save(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let cohort = admin_cohort(&state, &me, path.into_inner()).await?;
    let form = form_from(&pairs);
    let program = cohort.program_id;
    let distance = state
        .db(move |c| Ok(store::programme_distance(c, program)?))
        .await?;
    let mut checked = rules::check(&form, distance);
    // Only a cohort still to come may be offered to the public.
    if form.published && cohort.start_date < today() {
        let e = FieldError::new(
            "published",
            "Cette promotion a déjà commencé : elle ne peut plus être publiée au catalogue.",
        );
        checked = match checked {
            Ok(_) => Err(vec![e]),
            Err(mut v) => {
                v.push(e);
                Err(v)
            }
        };
    }
    let entry = match checked {
        Ok(e) => e,
        Err(errors) => return render(&req, &state, &me, cohort, Some(form), errors).await,
    };
    let (cid, org, actor, ip) = (cohort.id, cohort.organism_id, me.id, w::client_ip(&req));
    state
        .db(move |c| {
            crate::db::transaction(c, |c| {
                let before = store::entry_of(c, cid)?;
                store::save(c, cid, &entry, crate::db::now())?;
                let action = if entry.published {
                    "catalogue_published"
                } else {
                    "catalogue_saved"
                };
                audit::record(
                    c,
                    Event::new(action, "cohort", Some(cid))
                        .by(Some(actor))
                        .in_organism(Some(org))
                        .change(before, &entry)
                        .from_ip(ip),
                )?;
                Ok(())
            })
        })
        .await?;
    Ok(w::redirect(&format!("/promotions/{cid}/catalogue")))
}

async fn withdraw(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let cohort = admin_cohort(&state, &me, path.into_inner()).await?;
    let (cid, org, actor, ip) = (cohort.id, cohort.organism_id, me.id, w::client_ip(&req));
    state
        .db(move |c| {
            crate::db::transaction(c, |c| {
                // Nothing published: nothing to withdraw, nothing to record.
                if store::unpublish(c, cid, crate::db::now())? == 0 {
                    return Ok(());
                }
                audit::record(
                    c,
                    Event::new("catalogue_unpublished", "cohort", Some(cid))
                        .by(Some(actor))
                        .in_organism(Some(org))
                        .from_ip(ip),
                )?;
                Ok(())
            })
        })
        .await?;
    Ok(w::redirect(&format!("/promotions/{cid}/catalogue")))
}
