//! A cohort's end moved by its organism's administrator. A new end after some trainees'
//! deadlines is flagged first: nothing changes until staff confirm, and the flags they
//! confirmed go to the audit.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::access::{NamedFlag, cohort_for_staff, flags_for_change};
use super::rules;
use super::store::{self, CohortRow};
use crate::accounts::CurrentUser;
use crate::base::format;
use crate::base::paris::today;
use crate::web::csrf::CsrfForm;
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/promotions/{id}/fin", web::post().to(change_end));
}

#[derive(Deserialize)]
struct EndForm {
    end_date: String,
    #[serde(default)]
    confirm: String,
}

/// What the change came to.
enum Changed {
    Saved,
    Unchanged,
    ToConfirm(chrono::NaiveDate, Vec<NamedFlag>),
}

/// The checked new end: a date, within the programme's range of lengths from the start.
fn check_end(
    cohort: &CohortRow,
    raw: &str,
    (min, max): (i32, i32),
) -> AppResult<chrono::NaiveDate> {
    let end = format::parse_day(raw).ok_or_else(|| {
        let message = if raw.trim().is_empty() {
            "Indiquez la nouvelle date de fin de la promotion.".to_string()
        } else {
            format!("Date de fin : {}", format::fr_date_problem(raw))
        };
        AppError::invalid("end_date", message)
    })?;
    let months = |m: i32| u32::try_from(m).unwrap_or(0);
    rules::check_cohort_dates(cohort.start_date, end, months(min), months(max))
        .map_err(|m| AppError::invalid("end_date", m))?;
    Ok(end)
}

async fn change_end(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<EndForm>,
) -> AppResult<HttpResponse> {
    let cohort = cohort_for_staff(&state, &me, path.into_inner()).await?;
    me.require_org_admin_of(cohort.organism_id)?;
    let confirm = form.confirm == "1";
    let (actor, c0, raw) = (me.id, cohort.clone(), form.end_date.clone());
    let changed = state
        .db(move |c| {
            let end = check_end(&c0, &raw, store::program_months(c, c0.program_id)?)?;
            if end == c0.end_date {
                return Ok(Changed::Unchanged);
            }
            crate::db::transaction(c, |c| {
                let trainees = store::trainees_of_cohort(c, c0.organism_id, c0.id)?;
                let flags = flags_for_change(&trainees, today(), Some(end), None);
                if !flags.is_empty() && !confirm {
                    return Ok(Changed::ToConfirm(end, flags));
                }
                let audit = serde_json::to_value(&flags).unwrap_or_default();
                store::set_end_date(c, actor, &c0, end, &audit)?;
                Ok(Changed::Saved)
            })
        })
        .await?;
    match changed {
        Changed::Saved | Changed::Unchanged => {
            Ok(w::redirect(&format!("/promotions/{}", cohort.id)))
        }
        Changed::ToConfirm(end, flags) => {
            let mut ctx = w::context(&req);
            ctx.insert("me", &me.view());
            ctx.insert("title", &format!("Fin de la promotion {}", cohort.name));
            ctx.insert(
                "intro",
                &format!(
                    "Avec une fin le {}, la promotion se terminerait après l'échéance de certification de {} stagiaire(s) :",
                    format::date(end),
                    flags.len()
                ),
            );
            ctx.insert("flags", &flags);
            ctx.insert("action", &format!("/promotions/{}/fin", cohort.id));
            ctx.insert("fields", &[("end_date", end.to_string())]);
            ctx.insert("back", &format!("/promotions/{}", cohort.id));
            ctx.insert("confirm_label", "Confirmer la nouvelle date de fin");
            state.render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                "cohorts/deadline_confirm.html",
                &ctx,
            )
        }
    }
}
