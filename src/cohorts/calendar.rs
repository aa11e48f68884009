//! A cohort's calendar: in-person sessions and distance periods, a weekly rhythm generator
//! that skips the organism's closed days (public holidays and its closures, kept in
//! `closure_pages`), and the ICS text of its feeds (see `feeds`).

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{NaiveDate, NaiveTime, Weekday};
use icalendar::{Calendar, Component, EventLike};
use serde::{Deserialize, Serialize};

use super::access::cohort_for_staff;
use super::closure_pages;
use super::rules;
use super::store::{self, CohortRow, NewSession, SessionRow};
use crate::accounts::CurrentUser;
use crate::audit::{self, Event};
use crate::base::field::FieldError;
use crate::base::format;
use crate::organisms::rules::ClosedDays;
use crate::organisms::store as organisms;
use crate::web::csrf::{CsrfForm, Empty};
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/promotions/{id}/calendrier", web::get().to(page))
        .route(
            "/promotions/{id}/calendrier/rythme",
            web::post().to(generate),
        )
        .route(
            "/promotions/{id}/calendrier/distance",
            web::post().to(add_distance),
        )
        .route(
            "/promotions/{id}/calendrier/fermetures",
            web::post().to(closure_pages::add),
        )
        .route(
            "/promotions/{id}/calendrier/fermetures/{closure}/supprimer",
            web::post().to(closure_pages::remove),
        )
        .route("/seances/{id}", web::post().to(update))
        .route("/seances/{id}/supprimer", web::post().to(delete));
}

/// The audit subject under which each generated rhythm records what it made and skipped (the
/// cohort's id): the calendar page reads the latest.
const RHYTHM_SUBJECT: &str = "cohort_rhythm";

/// What one generation of a weekly rhythm did, as its audit row keeps it.
#[derive(Debug, Serialize, Deserialize)]
struct RhythmOutcome {
    from: NaiveDate,
    to: NaiveDate,
    created: usize,
    skipped_sessions: usize,
    skipped: Vec<ClosedDay>,
}

/// A closed day, with why, and how many sessions are on it (or were left off it).
#[derive(Debug, Serialize, Deserialize)]
struct ClosedDay {
    day: NaiveDate,
    why: String,
    sessions: usize,
}

/// The sessions already planned on a closed day (added before the closure, or by hand),
/// one line per day.
fn sessions_on_closed_days(sessions: &[SessionRow], closed: &ClosedDays) -> Vec<ClosedDay> {
    let mut out: Vec<ClosedDay> = Vec::new();
    for s in sessions {
        let Some(why) = closed.why(s.day) else {
            continue;
        };
        match out.last_mut() {
            Some(last) if last.day == s.day => last.sessions += 1,
            _ => out.push(ClosedDay {
                day: s.day,
                why,
                sessions: 1,
            }),
        }
    }
    out
}

pub(super) async fn render(
    req: &HttpRequest,
    state: &State,
    me: &CurrentUser,
    cohort: CohortRow,
    errors: Vec<FieldError>,
) -> AppResult<HttpResponse> {
    let (cid, pid, org) = (cohort.id, cohort.program_id, cohort.organism_id);
    let (start, end) = (cohort.start_date, cohort.end_date);
    let (sessions, periods, modules, staff, organism, closures, last_rhythm) = state
        .db(move |c| {
            Ok((
                store::sessions_of(c, cid)?,
                store::distance_periods_of(c, cid)?,
                store::program_modules(c, pid)?,
                crate::accounts::store::staff_of(c, org)?,
                organisms::get(c, org)?.ok_or(AppError::NotFound)?,
                organisms::closures_between(c, org, start, end)?,
                audit::history(c, RHYTHM_SUBJECT, cid, 1)?,
            ))
        })
        .await?;
    let closed = ClosedDays {
        alsace_moselle: organism.alsace_moselle,
        closures: closures.iter().map(|c| c.closure()).collect(),
    };
    let last_rhythm: Option<RhythmOutcome> = last_rhythm
        .first()
        .and_then(|row| row.after_json.as_deref())
        .and_then(|json| serde_json::from_str(json).ok());
    let planned: i64 = sessions.iter().map(|s| s.planned_minutes as i64).sum();
    let mut ctx = w::context(req);
    ctx.insert("me", &me.view());
    ctx.insert("cohort", &cohort);
    ctx.insert("sessions", &sessions);
    ctx.insert("periods", &periods);
    ctx.insert("modules", &modules);
    ctx.insert("staff", &staff);
    ctx.insert("planned_minutes", &planned);
    ctx.insert("alsace_moselle", &organism.alsace_moselle);
    ctx.insert("holidays", &closed.holidays_between(start, end));
    ctx.insert("closures", &closures);
    ctx.insert(
        "sessions_on_closed_days",
        &sessions_on_closed_days(&sessions, &closed),
    );
    ctx.insert("last_rhythm", &last_rhythm);
    ctx.insert("errors", &errors);
    ctx.insert("can_manage", &me.require_org_admin_of(org).is_ok());
    ctx.insert(
        "ics_url",
        &format!(
            "{}/calendrier/promotion/{}",
            state.config.base_url, cohort.ics_token
        ),
    );
    let status = if errors.is_empty() {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    state.render_status(status, "cohorts/calendar.html", &ctx)
}

async fn page(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let cohort = cohort_for_staff(&state, &me, path.into_inner()).await?;
    render(&req, &state, &me, cohort, vec![]).await
}

fn date(field: &str, raw: &str, errors: &mut Vec<FieldError>) -> Option<NaiveDate> {
    let d = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .ok()
        .or_else(|| format::parse_fr_date(raw));
    if d.is_none() {
        errors.push(FieldError::new(
            field,
            format!("Date invalide : « {raw} »."),
        ));
    }
    d
}

fn time(field: &str, raw: &str, errors: &mut Vec<FieldError>) -> Option<NaiveTime> {
    let t = NaiveTime::parse_from_str(raw.trim(), "%H:%M").ok();
    if t.is_none() {
        errors.push(FieldError::new(
            field,
            format!("Heure invalide : « {raw} » (HH:MM)."),
        ));
    }
    t
}

fn weekday(v: &str) -> Option<Weekday> {
    Some(match v {
        "lundi" => Weekday::Mon,
        "mardi" => Weekday::Tue,
        "mercredi" => Weekday::Wed,
        "jeudi" => Weekday::Thu,
        "vendredi" => Weekday::Fri,
        "samedi" => Weekday::Sat,
        _ => return None,
    })
}

/// The morning and afternoon hours of a rhythm form; a half-day left empty is skipped.
fn half_days(
    get: impl Fn(&str) -> String,
    errors: &mut Vec<FieldError>,
) -> Vec<(NaiveTime, NaiveTime)> {
    let mut slots = Vec::new();
    for (s, e) in [("am_start", "am_end"), ("pm_start", "pm_end")] {
        let (a, b) = (get(s), get(e));
        if a.trim().is_empty() && b.trim().is_empty() {
            continue;
        }
        if let (Some(a), Some(b)) = (time(s, &a, errors), time(e, &b, errors)) {
            if b <= a {
                errors.push(FieldError::new(
                    e,
                    "La fin d'une demi-journée doit suivre son début.",
                ));
            }
            slots.push((a, b));
        }
    }
    slots
}

/// A rhythm's period runs forwards and stays within the cohort's dates.
fn check_period(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    cohort: &CohortRow,
    errors: &mut Vec<FieldError>,
) {
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            errors.push(FieldError::new(
                "to",
                "La période se termine avant de commencer.",
            ));
        } else if f < cohort.start_date || t > cohort.end_date {
            errors.push(FieldError::new(
                "from",
                format!(
                    "La période doit rester dans les dates de la promotion ({} – {}).",
                    format::date(cohort.start_date),
                    format::date(cohort.end_date)
                ),
            ));
        }
    }
}

/// Creates the sessions of a weekly rhythm; every problem is reported, nothing half-made.
impl RhythmOutcome {
    /// What a generation created, and what it left out because the organism was closed.
    fn of(
        (from, to): (NaiveDate, NaiveDate),
        plan: &rules::Rhythm,
        closed: &crate::organisms::rules::ClosedDays,
        slots: usize,
    ) -> RhythmOutcome {
        RhythmOutcome {
            from,
            to,
            created: plan.sessions.len(),
            skipped_sessions: plan.skipped.len() * slots,
            skipped: plan
                .skipped
                .iter()
                .map(|&day| ClosedDay {
                    day,
                    why: closed.why(day).unwrap_or_default(),
                    sessions: slots,
                })
                .collect(),
        }
    }
}

async fn generate(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let cohort = cohort_for_staff(&state, &me, path.into_inner()).await?;
    me.require_org_admin_of(cohort.organism_id)?;
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let all = |k: &str| {
        pairs
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
    };
    let mut errors = Vec::new();
    let from = date("from", &get("from"), &mut errors);
    let to = date("to", &get("to"), &mut errors);
    let days: Vec<Weekday> = all("day").iter().filter_map(|d| weekday(d)).collect();
    if days.is_empty() {
        errors.push(FieldError::new(
            "day",
            "Choisissez au moins un jour de la semaine.",
        ));
    }
    let slots = half_days(get, &mut errors);
    if slots.is_empty() && errors.is_empty() {
        errors.push(FieldError::new(
            "am_start",
            "Indiquez les horaires du matin, de l'après-midi ou des deux.",
        ));
    }
    let modules: Vec<i64> = all("module")
        .iter()
        .filter_map(|m| m.parse().ok())
        .collect();
    let known: Vec<i64> = {
        let pid = cohort.program_id;
        state
            .db(move |c| Ok(store::program_modules(c, pid)?))
            .await?
            .into_iter()
            .map(|m| m.0)
            .collect()
    };
    if modules.is_empty() || modules.iter().any(|m| !known.contains(m)) {
        errors.push(FieldError::new(
            "module",
            "Choisissez un ou plusieurs modules du programme.",
        ));
    }
    let place = get("place").trim().to_string();
    if place.is_empty() || place.chars().count() > 200 {
        errors.push(FieldError::new(
            "place",
            "Indiquez le lieu (200 caractères au plus).",
        ));
    }
    check_period(from, to, &cohort, &mut errors);
    let trainer: Option<i64> = get("trainer").parse().ok();
    if !errors.is_empty() {
        return render(&req, &state, &me, cohort, errors).await;
    }
    let (Some(from), Some(to)) = (from, to) else {
        return render(&req, &state, &me, cohort, errors).await;
    };
    let (actor, org, cid) = (me.id, cohort.organism_id, cohort.id);
    state
        .db(move |c| {
            let staff: Vec<i64> = crate::accounts::store::staff_of(c, org)?
                .iter()
                .map(|u| u.id)
                .collect();
            if trainer.is_some_and(|t| !staff.contains(&t)) {
                return Err(AppError::forbidden());
            }
            let closed = organisms::closed_days(c, org, from, to)?;
            let plan = rules::weekly_rhythm(from, to, &days, &slots, modules.len(), |d| {
                closed.is_closed(d)
            });
            let outcome = RhythmOutcome::of((from, to), &plan, &closed, slots.len());
            let list: Vec<NewSession> = plan
                .sessions
                .iter()
                .map(|p| NewSession {
                    module_id: modules[p.module],
                    trainer_id: trainer,
                    day: p.day,
                    starts_at: p.starts_at,
                    ends_at: p.ends_at,
                    place: &place,
                })
                .collect();
            crate::db::transaction(c, |c| {
                store::add_sessions(c, actor, org, cid, &list)?;
                audit::record(
                    c,
                    Event::new("rhythm_generated", RHYTHM_SUBJECT, Some(cid))
                        .by(Some(actor))
                        .in_organism(Some(org))
                        .detail(&outcome),
                )?;
                Ok(())
            })
        })
        .await?;
    Ok(w::redirect(&format!("/promotions/{cid}/calendrier")))
}

#[derive(Deserialize)]
struct DistanceForm {
    module: i64,
    from: String,
    to: String,
}

async fn add_distance(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<DistanceForm>,
) -> AppResult<HttpResponse> {
    let cohort = cohort_for_staff(&state, &me, path.into_inner()).await?;
    me.require_org_admin_of(cohort.organism_id)?;
    let mut errors = Vec::new();
    let from = date("from", &form.from, &mut errors);
    let to = date("to", &form.to, &mut errors);
    let pid = cohort.program_id;
    let known: Vec<i64> = state
        .db(move |c| Ok(store::program_modules(c, pid)?))
        .await?
        .into_iter()
        .map(|m| m.0)
        .collect();
    if !known.contains(&form.module) {
        errors.push(FieldError::new("module", "Module inconnu."));
    }
    match (from, to) {
        (Some(f), Some(t)) if t >= f && errors.is_empty() => {
            let (actor, org, cid, module) = (me.id, cohort.organism_id, cohort.id, form.module);
            state
                .db(move |c| {
                    crate::db::transaction(c, |c| {
                        Ok(store::add_distance_period(
                            c, actor, org, cid, module, f, t,
                        )?)
                    })
                })
                .await?;
            Ok(w::redirect(&format!("/promotions/{cid}/calendrier")))
        }
        (Some(_), Some(_)) if errors.is_empty() => {
            render(
                &req,
                &state,
                &me,
                cohort,
                vec![FieldError::new(
                    "to",
                    "La période se termine avant de commencer.",
                )],
            )
            .await
        }
        _ => render(&req, &state, &me, cohort, errors).await,
    }
}

async fn session_for_admin(
    state: &State,
    me: &CurrentUser,
    id: i64,
) -> AppResult<(SessionRow, CohortRow)> {
    let session = state
        .db(move |c| Ok(store::session(c, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    let cohort = cohort_for_staff(state, me, session.cohort_id).await?;
    me.require_org_admin_of(cohort.organism_id)?;
    Ok((session, cohort))
}

#[derive(Deserialize)]
struct SessionForm {
    day: String,
    starts_at: String,
    ends_at: String,
    place: String,
    module: i64,
    trainer: String,
}

async fn update(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<SessionForm>,
) -> AppResult<HttpResponse> {
    let (session, cohort) = session_for_admin(&state, &me, path.into_inner()).await?;
    let mut errors = Vec::new();
    let day = date("day", &form.day, &mut errors);
    let start = time("starts_at", &form.starts_at, &mut errors);
    let end = time("ends_at", &form.ends_at, &mut errors);
    if let (Some(s), Some(e)) = (start, end)
        && e <= s
    {
        errors.push(FieldError::new("ends_at", "La fin doit suivre le début."));
    }
    let place = form.place.trim().to_string();
    if place.is_empty() {
        errors.push(FieldError::new("place", "Indiquez le lieu."));
    }
    let (Some(day), Some(start), Some(end), true) = (day, start, end, errors.is_empty()) else {
        return render(&req, &state, &me, cohort, errors).await;
    };
    let trainer: Option<i64> = form.trainer.parse().ok();
    let (actor, org, pid, module) = (me.id, cohort.organism_id, cohort.program_id, form.module);
    let cid = cohort.id;
    state
        .db(move |c| {
            let known: Vec<i64> = store::program_modules(c, pid)?
                .into_iter()
                .map(|m| m.0)
                .collect();
            let staff: Vec<i64> = crate::accounts::store::staff_of(c, org)?
                .iter()
                .map(|u| u.id)
                .collect();
            if !known.contains(&module) || trainer.is_some_and(|t| !staff.contains(&t)) {
                return Err(AppError::invalid("module", "Module ou formateur inconnu."));
            }
            let new = NewSession {
                module_id: module,
                trainer_id: trainer,
                day,
                starts_at: start,
                ends_at: end,
                place: &place,
            };
            crate::db::transaction(c, |c| {
                Ok(store::update_session(c, actor, org, &session, &new)?)
            })
        })
        .await?;
    Ok(w::redirect(&format!("/promotions/{cid}/calendrier")))
}

async fn delete(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (session, cohort) = session_for_admin(&state, &me, path.into_inner()).await?;
    let (actor, org, cid) = (me.id, cohort.organism_id, cohort.id);
    state
        .db(move |c| {
            crate::db::transaction(c, |c| Ok(store::delete_session(c, actor, org, &session)?))
        })
        .await?;
    Ok(w::redirect(&format!("/promotions/{cid}/calendrier")))
}

fn paris_utc(day: NaiveDate, t: NaiveTime) -> chrono::DateTime<chrono::Utc> {
    crate::base::paris::paris_to_utc(day.and_time(t)).and_utc()
}

/// The ICS text of a cohort's calendar. Times are written in UTC so every phone agrees.
pub fn ics(
    cohort: &CohortRow,
    sessions: &[SessionRow],
    periods: &[(i64, String, NaiveDate, NaiveDate)],
    host: &str,
) -> String {
    let mut cal = Calendar::new();
    cal.name(&format!("Parcours — {}", cohort.name));
    for s in sessions {
        cal.push(
            icalendar::Event::new()
                .uid(&format!("seance-{}@{host}", s.id))
                .summary(&format!(
                    "{} · {} (présentiel)",
                    s.module_code, s.module_title
                ))
                .location(&s.place)
                .starts(paris_utc(s.day, s.starts_at))
                .ends(paris_utc(s.day, s.ends_at))
                .done(),
        );
    }
    for (id, code, from, to) in periods {
        cal.push(
            icalendar::Event::new()
                .uid(&format!("distance-{id}@{host}"))
                .summary(&format!("{code} · période à distance"))
                .all_day(*from)
                .ends(*to + chrono::Duration::days(1))
                .done(),
        );
    }
    cal.done().to_string()
}
