//! Hours queries: crediting heartbeats in batches, totals kept up to date in the same
//! transaction, corrections.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::rules::{self, Clock, CreditSettings, Outcome};
use crate::audit::{self, Event};
use crate::db::schema::{
    daily_activity, hour_corrections, module_totals, study_clocks, study_sessions,
};
use crate::db::{self, DbConn};

/// The same statement on either backend (diesel's upserts are typed per backend).
macro_rules! on_both {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            DbConn::Sqlite($c) => $body,
            DbConn::Pg($c) => $body,
        }
    };
}

#[derive(Clone, Debug)]
pub struct Beat {
    pub trainee_id: i64,
    pub page_view: String,
    pub module_id: i64,
    pub lesson_id: Option<i64>,
    pub seq: i64,
}

/// Adds time to a trainee's module totals (and, for distance time, to the day's activity).
pub fn add_to_totals(
    conn: &mut DbConn,
    trainee_id: i64,
    module_id: i64,
    distance: i64,
    presentiel: i64,
    correction: i64,
    at: NaiveDateTime,
) -> QueryResult<()> {
    on_both!(conn, |c| diesel::insert_into(module_totals::table)
        .values((
            module_totals::trainee_id.eq(trainee_id),
            module_totals::module_id.eq(module_id),
            module_totals::distance_seconds.eq(distance),
            module_totals::presentiel_seconds.eq(presentiel),
            module_totals::correction_seconds.eq(correction),
            module_totals::last_activity_at.eq(at),
        ))
        .on_conflict((module_totals::trainee_id, module_totals::module_id))
        .do_update()
        .set((
            module_totals::distance_seconds.eq(module_totals::distance_seconds + distance),
            module_totals::presentiel_seconds.eq(module_totals::presentiel_seconds + presentiel),
            module_totals::correction_seconds.eq(module_totals::correction_seconds + correction),
            module_totals::last_activity_at.eq(at),
        ))
        .execute(c))?;
    Ok(())
}

fn add_to_day(
    conn: &mut DbConn,
    trainee_id: i64,
    day: NaiveDate,
    module_id: i64,
    secs: i64,
    at: NaiveDateTime,
) -> QueryResult<()> {
    on_both!(conn, |c| diesel::insert_into(daily_activity::table)
        .values((
            daily_activity::trainee_id.eq(trainee_id),
            daily_activity::day.eq(day),
            daily_activity::module_id.eq(module_id),
            daily_activity::distance_seconds.eq(secs),
            daily_activity::first_at.eq(at),
            daily_activity::last_at.eq(at),
        ))
        .on_conflict((
            daily_activity::trainee_id,
            daily_activity::day,
            daily_activity::module_id,
        ))
        .do_update()
        .set((
            daily_activity::distance_seconds.eq(daily_activity::distance_seconds + secs),
            daily_activity::last_at.eq(at),
        ))
        .execute(c))?;
    Ok(())
}

fn clock_of(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Option<Clock>> {
    let q = study_clocks::table
        .filter(study_clocks::trainee_id.eq(trainee_id))
        .select((
            study_clocks::last_credit_at,
            study_clocks::day,
            study_clocks::day_seconds,
        ));
    let row: Option<(NaiveDateTime, NaiveDate, i32)> = match conn {
        // Another instance crediting the same trainee waits for this one.
        DbConn::Pg(c) => q.for_update().first(c).optional()?,
        DbConn::Sqlite(c) => q.first(c).optional()?,
    };
    Ok(row.map(|(last_credit_at, day, secs)| Clock {
        last_credit_at,
        day,
        day_seconds: secs as i64,
    }))
}

fn save_clock(conn: &mut DbConn, trainee_id: i64, existed: bool, c: &Clock) -> QueryResult<()> {
    if existed {
        diesel::update(study_clocks::table.filter(study_clocks::trainee_id.eq(trainee_id)))
            .set((
                study_clocks::last_credit_at.eq(c.last_credit_at),
                study_clocks::day.eq(c.day),
                study_clocks::day_seconds.eq(c.day_seconds as i32),
            ))
            .execute(conn)?;
    } else {
        diesel::insert_into(study_clocks::table)
            .values((
                study_clocks::trainee_id.eq(trainee_id),
                study_clocks::last_credit_at.eq(c.last_credit_at),
                study_clocks::day.eq(c.day),
                study_clocks::day_seconds.eq(c.day_seconds as i32),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Credits a batch of beats in one transaction (group commit): a beat is acknowledged only
/// once this commits, so nothing acknowledged is ever lost.
pub fn apply_beats(
    conn: &mut DbConn,
    beats: &[Beat],
    settings: &CreditSettings,
) -> QueryResult<Vec<(Outcome, i64)>> {
    db::transaction(conn, |conn| {
        let now = db::now();
        let today = crate::web::format::to_paris(now).date_naive();
        let mut out = Vec::with_capacity(beats.len());
        for b in beats {
            let clock = clock_of(conn, b.trainee_id)?;
            let session: Option<(i64, i32, i32)> = study_sessions::table
                .filter(study_sessions::trainee_id.eq(b.trainee_id))
                .filter(study_sessions::page_view.eq(&b.page_view))
                .select((
                    study_sessions::id,
                    study_sessions::last_seq,
                    study_sessions::seconds_credited,
                ))
                .first(conn)
                .optional()?;
            let (outcome, new_clock) = rules::credit(
                now,
                today,
                clock,
                session.map(|s| s.1 as i64),
                b.seq,
                settings,
            );
            if outcome == Outcome::Replay {
                out.push((outcome, session.map_or(0, |s| s.2 as i64)));
                continue;
            }
            if let Some(c) = &new_clock
                && Some(*c) != clock
            {
                save_clock(conn, b.trainee_id, clock.is_some(), c)?;
            }
            let secs = match outcome {
                Outcome::Credited(n) => n,
                _ => 0,
            };
            let session_total = match session {
                Some((id, _, total)) => {
                    diesel::update(study_sessions::table.find(id))
                        .set((
                            study_sessions::last_seq.eq(b.seq as i32),
                            study_sessions::last_beat_at.eq(now),
                            study_sessions::seconds_credited
                                .eq(study_sessions::seconds_credited + secs as i32),
                        ))
                        .execute(conn)?;
                    total as i64 + secs
                }
                None => {
                    diesel::insert_into(study_sessions::table)
                        .values((
                            study_sessions::trainee_id.eq(b.trainee_id),
                            study_sessions::page_view.eq(&b.page_view),
                            study_sessions::module_id.eq(b.module_id),
                            study_sessions::lesson_id.eq(b.lesson_id),
                            study_sessions::started_at.eq(now),
                            study_sessions::last_beat_at.eq(now),
                            study_sessions::last_seq.eq(b.seq as i32),
                            study_sessions::seconds_credited.eq(secs as i32),
                        ))
                        .execute(conn)?;
                    secs
                }
            };
            if secs > 0 {
                add_to_totals(conn, b.trainee_id, b.module_id, secs, 0, 0, now)?;
                add_to_day(conn, b.trainee_id, today, b.module_id, secs, now)?;
            }
            out.push((outcome, session_total));
        }
        Ok(out)
    })
}

#[derive(Clone, Debug, Default, Serialize, Queryable)]
pub struct ModuleTotal {
    pub module_id: i64,
    pub distance_seconds: i64,
    pub presentiel_seconds: i64,
    pub correction_seconds: i64,
    pub last_activity_at: Option<NaiveDateTime>,
}

/// Pre-aggregated totals of some trainees, by trainee then module.
pub fn totals(
    conn: &mut DbConn,
    trainee_ids: &[i64],
) -> QueryResult<HashMap<i64, Vec<ModuleTotal>>> {
    let rows: Vec<(i64, ModuleTotal)> = module_totals::table
        .filter(module_totals::trainee_id.eq_any(trainee_ids))
        .select((
            module_totals::trainee_id,
            (
                module_totals::module_id,
                module_totals::distance_seconds,
                module_totals::presentiel_seconds,
                module_totals::correction_seconds,
                module_totals::last_activity_at,
            ),
        ))
        .load(conn)?;
    let mut map: HashMap<i64, Vec<ModuleTotal>> = HashMap::new();
    for (t, m) in rows {
        map.entry(t).or_default().push(m);
    }
    Ok(map)
}

/// Distance seconds by day since a date (for charts and the recent pace).
pub fn days_since(
    conn: &mut DbConn,
    trainee_ids: &[i64],
    since: NaiveDate,
) -> QueryResult<Vec<(i64, NaiveDate, i64)>> {
    daily_activity::table
        .filter(daily_activity::trainee_id.eq_any(trainee_ids))
        .filter(daily_activity::day.ge(since))
        .select((
            daily_activity::trainee_id,
            daily_activity::day,
            daily_activity::distance_seconds,
        ))
        .load(conn)
}

/// A manual change of hours, with its reason; never a silent edit.
pub fn correct(
    conn: &mut DbConn,
    actor: i64,
    organism_id: i64,
    trainee_id: i64,
    module_id: i64,
    seconds: i64,
    reason: &str,
) -> QueryResult<()> {
    db::transaction(conn, |conn| {
        let before: Option<i64> = module_totals::table
            .filter(module_totals::trainee_id.eq(trainee_id))
            .filter(module_totals::module_id.eq(module_id))
            .select(module_totals::correction_seconds)
            .first(conn)
            .optional()?;
        let now = db::now();
        diesel::insert_into(hour_corrections::table)
            .values((
                hour_corrections::trainee_id.eq(trainee_id),
                hour_corrections::module_id.eq(module_id),
                hour_corrections::seconds.eq(seconds),
                hour_corrections::reason.eq(reason),
                hour_corrections::created_by.eq(actor),
                hour_corrections::created_at.eq(now),
            ))
            .execute(conn)?;
        add_to_totals(conn, trainee_id, module_id, 0, 0, seconds, now)?;
        audit::record(
            conn,
            Event::new("hours_corrected", "trainee", Some(trainee_id))
                .by(Some(actor))
                .in_organism(Some(organism_id))
                .change(
                    serde_json::json!({"module": module_id, "correction_seconds": before.unwrap_or(0)}),
                    serde_json::json!({"module": module_id, "correction_seconds": before.unwrap_or(0) + seconds, "change": seconds, "reason": reason}),
                ),
        )
    })
}

#[derive(Debug, Clone, Serialize, Queryable)]
pub struct CorrectionRow {
    pub module_id: i64,
    pub seconds: i64,
    pub reason: String,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
}

pub fn corrections_of(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Vec<CorrectionRow>> {
    hour_corrections::table
        .filter(hour_corrections::trainee_id.eq(trainee_id))
        .order(hour_corrections::id.desc())
        .select((
            hour_corrections::module_id,
            hour_corrections::seconds,
            hour_corrections::reason,
            hour_corrections::created_by,
            hour_corrections::created_at,
        ))
        .load(conn)
}
