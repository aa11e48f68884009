//! A certification session moved to another day by its organism's administrator. A day
//! after some candidates' deadlines is flagged first: nothing changes until staff confirm,
//! and the flags they confirmed go to the audit. Also the confirmation page that registering
//! a candidate past her deadline shows.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use serde::Deserialize;

use super::pages::session_for_admin;
use super::store::{self, By, SessionRow};
use crate::accounts::CurrentUser;
use crate::base::format;
use crate::base::paris::today;
use crate::cohorts::access::{NamedFlag, flags_for_change};
use crate::cohorts::store::{self as cohorts, Scope, TraineeLine};
use crate::db::DbConn;
use crate::web::csrf::CsrfForm;
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/certification/{id}/date", web::post().to(change_date));
}

/// The candidates of a session, as the deadline rules read them.
pub(super) fn candidate_lines(conn: &mut DbConn, s: &SessionRow) -> AppResult<Vec<TraineeLine>> {
    let mut lines = Vec::new();
    for cand in store::candidates_of(conn, s.id)? {
        if let Some(t) = cohorts::trainee(conn, Scope::Organism(s.organism_id), cand.trainee_id)? {
            lines.push(t);
        }
    }
    Ok(lines)
}

/// What a confirmation step shows: the flags, and the form that sends the same fields again
/// with `confirm=1`.
pub(super) struct Confirm<'a> {
    pub title: String,
    pub intro: String,
    pub flags: &'a [NamedFlag],
    pub action: String,
    pub fields: Vec<(&'static str, String)>,
    pub back: String,
    pub label: &'static str,
}

/// The confirmation step, answered 422: nothing was changed.
pub(super) fn confirm_page(
    req: &HttpRequest,
    state: &State,
    me: &CurrentUser,
    c: Confirm<'_>,
) -> AppResult<HttpResponse> {
    let mut ctx = w::context(req);
    ctx.insert("me", &me.view());
    ctx.insert("title", &c.title);
    ctx.insert("intro", &c.intro);
    ctx.insert("flags", c.flags);
    ctx.insert("action", &c.action);
    ctx.insert("fields", &c.fields);
    ctx.insert("back", &c.back);
    ctx.insert("confirm_label", c.label);
    state.render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        "cohorts/deadline_confirm.html",
        &ctx,
    )
}

#[derive(Deserialize)]
struct DateForm {
    held_on: String,
    #[serde(default)]
    confirm: String,
}

enum Changed {
    Saved,
    ToConfirm(NaiveDate, Vec<NamedFlag>),
}

fn parse_date(raw: &str) -> AppResult<NaiveDate> {
    format::parse_day(raw).ok_or_else(|| {
        let message = if raw.trim().is_empty() {
            "Indiquez la nouvelle date de la session.".to_string()
        } else {
            format!("Date de la session : {}", format::fr_date_problem(raw))
        };
        AppError::invalid("held_on", message)
    })
}

async fn change_date(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<DateForm>,
) -> AppResult<HttpResponse> {
    let s = session_for_admin(&state, &me, path.into_inner()).await?;
    let held_on = parse_date(&form.held_on)?;
    let confirm = form.confirm == "1";
    let by = By {
        actor: me.id,
        organism_id: s.organism_id,
    };
    let session = s.clone();
    let changed = state
        .db(move |c| {
            if held_on == session.held_on {
                return Ok(Changed::Saved);
            }
            crate::db::transaction(c, |c| {
                if !store::results_of(c, session.id)?.is_empty() {
                    return Err(AppError::Conflict(
                        "Des résultats sont enregistrés pour cette session : sa date ne peut plus être changée.".into(),
                    ));
                }
                let lines = candidate_lines(c, &session)?;
                let flags = flags_for_change(&lines, today(), None, Some(held_on));
                if !flags.is_empty() && !confirm {
                    return Ok(Changed::ToConfirm(held_on, flags));
                }
                let audit = serde_json::to_value(&flags).unwrap_or_default();
                store::set_session_date(c, by, &session, held_on, &audit)?;
                Ok(Changed::Saved)
            })
        })
        .await?;
    match changed {
        Changed::Saved => Ok(w::redirect(&format!("/certification/{}", s.id))),
        Changed::ToConfirm(day, flags) => confirm_page(
            &req,
            &state,
            &me,
            Confirm {
                title: format!(
                    "Déplacer la session de certification du {}",
                    format::date(s.held_on)
                ),
                intro: format!(
                    "Le {}, la session aurait lieu après l'échéance de {} candidate(s) pour obtenir le CQP :",
                    format::date(day),
                    flags.len()
                ),
                flags: &flags,
                action: format!("/certification/{}/date", s.id),
                fields: vec![("held_on", day.to_string())],
                back: format!("/certification/{}", s.id),
                label: "Confirmer la nouvelle date",
            },
        ),
    }
}
