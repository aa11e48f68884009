//! A cohort's calendar: in-person sessions, distance periods and the calendar feeds' tokens.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

use super::*;
use crate::audit::{self, Event};
use crate::db::schema::{cohorts, distance_periods, modules, sessions, trainee_profiles, users};
use crate::db::{self, DbConn};

pub fn trainee_ics_token(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Option<String>> {
    trainee_profiles::table
        .filter(trainee_profiles::user_id.eq(trainee_id))
        .select(trainee_profiles::ics_token)
        .first(conn)
        .optional()
}

/// The cohort a trainee's feed shows: none once her account is disabled or she has no
/// active enrolment, so that a feed dies with either.
pub fn trainee_feed_cohort(conn: &mut DbConn, token: &str) -> QueryResult<Option<i64>> {
    let trainee: Option<i64> = trainee_profiles::table
        .inner_join(users::table.on(users::id.eq(trainee_profiles::user_id)))
        .filter(trainee_profiles::ics_token.eq(token))
        .filter(users::disabled.eq(false))
        .select(trainee_profiles::user_id)
        .first(conn)
        .optional()?;
    match trainee {
        Some(id) => active_cohort(conn, id),
        None => Ok(None),
    }
}

pub(super) fn new_ics_token() -> QueryResult<String> {
    crate::web::random_token(18).map_err(|_| diesel::result::Error::RollbackTransaction)
}

/// A new secret for a trainee's feed, so the old address answers no more. Audited without
/// the secret. `false` when the person has no trainee profile.
pub fn renew_trainee_ics_token(
    conn: &mut DbConn,
    actor: i64,
    trainee_id: i64,
) -> QueryResult<bool> {
    let Some(org) = trainee_profiles::table
        .filter(trainee_profiles::user_id.eq(trainee_id))
        .select(trainee_profiles::organism_id)
        .first::<i64>(conn)
        .optional()?
    else {
        return Ok(false);
    };
    diesel::update(trainee_profiles::table.filter(trainee_profiles::user_id.eq(trainee_id)))
        .set((
            trainee_profiles::ics_token.eq(new_ics_token()?),
            trainee_profiles::updated_at.eq(db::now()),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        Event::new("ics_feed_renewed", "trainee", Some(trainee_id))
            .by(Some(actor))
            .in_organism(Some(org)),
    )?;
    Ok(true)
}

/// A new secret for a cohort's feed (audited without the secret).
pub fn renew_cohort_ics_token(
    conn: &mut DbConn,
    actor: i64,
    cohort: &CohortRow,
) -> QueryResult<()> {
    diesel::update(cohorts::table.find(cohort.id))
        .set(cohorts::ics_token.eq(new_ics_token()?))
        .execute(conn)?;
    audit::record(
        conn,
        Event::new("ics_feed_renewed", "cohort", Some(cohort.id))
            .by(Some(actor))
            .in_organism(Some(cohort.organism_id)),
    )
}

#[derive(Debug, Clone, Queryable, Serialize)]
pub struct SessionRow {
    pub id: i64,
    pub cohort_id: i64,
    pub module_id: i64,
    pub module_code: String,
    pub module_title: String,
    pub trainer_id: Option<i64>,
    pub day: NaiveDate,
    pub starts_at: chrono::NaiveTime,
    pub ends_at: chrono::NaiveTime,
    pub place: String,
    pub planned_minutes: i32,
}

macro_rules! session_select {
    () => {
        (
            sessions::id,
            sessions::cohort_id,
            sessions::module_id,
            modules::code,
            modules::title,
            sessions::trainer_id,
            sessions::day,
            sessions::starts_at,
            sessions::ends_at,
            sessions::place,
            sessions::planned_minutes,
        )
    };
}

pub fn sessions_of(conn: &mut DbConn, cohort_id: i64) -> QueryResult<Vec<SessionRow>> {
    sessions::table
        .inner_join(modules::table)
        .filter(sessions::cohort_id.eq(cohort_id))
        .order((sessions::day.asc(), sessions::starts_at.asc()))
        .select(session_select!())
        .load(conn)
}

pub fn session(conn: &mut DbConn, id: i64) -> QueryResult<Option<SessionRow>> {
    sessions::table
        .inner_join(modules::table)
        .filter(sessions::id.eq(id))
        .select(session_select!())
        .first(conn)
        .optional()
}

pub struct NewSession<'a> {
    pub module_id: i64,
    pub trainer_id: Option<i64>,
    pub day: NaiveDate,
    pub starts_at: chrono::NaiveTime,
    pub ends_at: chrono::NaiveTime,
    pub place: &'a str,
}

pub fn add_sessions(
    conn: &mut DbConn,
    actor: i64,
    organism_id: i64,
    cohort_id: i64,
    list: &[NewSession<'_>],
) -> QueryResult<usize> {
    for s in list {
        diesel::insert_into(sessions::table)
            .values((
                sessions::cohort_id.eq(cohort_id),
                sessions::module_id.eq(s.module_id),
                sessions::trainer_id.eq(s.trainer_id),
                sessions::day.eq(s.day),
                sessions::starts_at.eq(s.starts_at),
                sessions::ends_at.eq(s.ends_at),
                sessions::place.eq(s.place),
                sessions::planned_minutes.eq((s.ends_at - s.starts_at).num_minutes() as i32),
                sessions::created_at.eq(db::now()),
            ))
            .execute(conn)?;
    }
    audit::record(
        conn,
        Event::new("sessions_added", "cohort", Some(cohort_id))
            .by(Some(actor))
            .in_organism(Some(organism_id))
            .detail(serde_json::json!({"count": list.len()})),
    )?;
    Ok(list.len())
}

pub fn update_session(
    conn: &mut DbConn,
    actor: i64,
    organism_id: i64,
    before: &SessionRow,
    new: &NewSession<'_>,
) -> QueryResult<()> {
    diesel::update(sessions::table.find(before.id))
        .set((
            sessions::module_id.eq(new.module_id),
            sessions::trainer_id.eq(new.trainer_id),
            sessions::day.eq(new.day),
            sessions::starts_at.eq(new.starts_at),
            sessions::ends_at.eq(new.ends_at),
            sessions::place.eq(new.place),
            sessions::planned_minutes.eq((new.ends_at - new.starts_at).num_minutes() as i32),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        Event::new("session_changed", "session", Some(before.id))
            .by(Some(actor))
            .in_organism(Some(organism_id))
            .change(
                serde_json::json!({"day": before.day, "start": before.starts_at, "end": before.ends_at, "place": before.place, "module": before.module_id}),
                serde_json::json!({"day": new.day, "start": new.starts_at, "end": new.ends_at, "place": new.place, "module": new.module_id}),
            ),
    )
}

pub fn delete_session(
    conn: &mut DbConn,
    actor: i64,
    organism_id: i64,
    before: &SessionRow,
) -> QueryResult<()> {
    diesel::delete(sessions::table.find(before.id)).execute(conn)?;
    audit::record(
        conn,
        Event::new("session_deleted", "session", Some(before.id))
            .by(Some(actor))
            .in_organism(Some(organism_id))
            .change(
                serde_json::json!({"day": before.day, "start": before.starts_at, "module": before.module_id}),
                serde_json::Value::Null,
            ),
    )
}

pub fn distance_periods_of(
    conn: &mut DbConn,
    cohort_id: i64,
) -> QueryResult<Vec<(i64, String, NaiveDate, NaiveDate)>> {
    distance_periods::table
        .inner_join(modules::table)
        .filter(distance_periods::cohort_id.eq(cohort_id))
        .order(distance_periods::from_date.asc())
        .select((
            distance_periods::id,
            modules::code,
            distance_periods::from_date,
            distance_periods::to_date,
        ))
        .load(conn)
}

pub fn add_distance_period(
    conn: &mut DbConn,
    actor: i64,
    organism_id: i64,
    cohort_id: i64,
    module_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<()> {
    diesel::insert_into(distance_periods::table)
        .values((
            distance_periods::cohort_id.eq(cohort_id),
            distance_periods::module_id.eq(module_id),
            distance_periods::from_date.eq(from),
            distance_periods::to_date.eq(to),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        Event::new("distance_period_added", "cohort", Some(cohort_id))
            .by(Some(actor))
            .in_organism(Some(organism_id))
            .detail(serde_json::json!({"module": module_id, "from": from, "to": to})),
    )
}
