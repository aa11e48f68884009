//! Routes of the evidence: a trainee's pack for a period, and one half-day's sign-in sheet
//! as a PDF. Staff of the organism only.

use actix_web::{HttpRequest, HttpResponse, web};
use anyhow::Context;
use serde::Deserialize;

use super::export::{self, Ask};
use super::{rules, sheet_pdf, store};
use crate::accounts::CurrentUser;
use crate::attestation::issue::{Issuer, Signatory};
use crate::base::paris::today;
use crate::cohorts::access::cohort_for_staff;
use crate::cohorts::access::staff_access;
use crate::cohorts::store as cohorts;
use crate::curriculum::Content;
use crate::web::{AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/stagiaires/{id}/preuves.zip", web::get().to(pack))
        .route("/seances/{id}/emargement.pdf", web::get().to(sheet));
}

#[derive(Deserialize)]
struct PeriodQuery {
    du: Option<String>,
    au: Option<String>,
}

async fn pack(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let trainee = staff_access(&state, &me, path.into_inner()).await?;
    let q = web::Query::<PeriodQuery>::from_query(req.query_string())
        .map_err(|_| AppError::invalid("du", "Période invalide."))?
        .into_inner();
    let period = rules::parse_period(
        q.du.as_deref().unwrap_or_default(),
        q.au.as_deref().unwrap_or_default(),
    )
    .map_err(|(field, msg)| AppError::invalid(field, msg))?;
    // Issuing a missing certificate is an organism administrator's decision.
    let signatory = me
        .require_org_admin_of(trainee.organism_id)
        .is_ok()
        .then(|| Signatory {
            user_id: Some(me.id),
            name: me.name.clone(),
        });
    let (st, actor) = (state.clone(), me.id);
    let pack = state
        .db(move |c| {
            let cohort = match trainee.cohort_id {
                Some(id) => cohorts::cohort(c, id)?,
                None => None,
            };
            let editions = content.cohort_editions(c, trainee.organism_id)?;
            let issuer = Issuer {
                key: crate::attestation::key_of(&st.config),
                base_url: &st.config.base_url,
                mail_templates: &st.mail_templates,
                editions: &editions,
            };
            export::build(
                c,
                &Ask {
                    trainee: &trainee,
                    cohort: cohort.as_ref(),
                    period,
                    actor: Some(actor),
                    signatory,
                    issuer: &issuer,
                    today: today(),
                    now: crate::db::now(),
                },
            )
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{}\"", pack.file_name),
        ))
        .body(pack.bytes))
}

async fn sheet(state: State, me: CurrentUser, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let session = state
        .db(move |c| Ok(cohorts::session(c, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    let cohort = cohort_for_staff(&state, &me, session.cohort_id).await?;
    let (day, starts_at, code) = (session.day, session.starts_at, session.module_code.clone());
    let pdf = state
        .db(move |c| {
            let doc = store::sheet_doc(c, session, &cohort)?;
            Ok(sheet_pdf::render(&doc).context("sheet PDF")?)
        })
        .await?;
    let name = rules::sheet_path(day, starts_at, &code);
    let name = name.trim_start_matches("emargements/");
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            "Content-Disposition",
            format!("inline; filename=\"emargement-{name}\""),
        ))
        .body(pdf))
}
