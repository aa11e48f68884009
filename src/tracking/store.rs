//! Hours queries: crediting heartbeats in batches, totals kept up to date in the same
//! transaction, corrections.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::rules::{self, Clock, CreditSettings, Outcome};
use crate::accounts::session::Claims;
use crate::audit::{self, Event};
use crate::cohorts::store::{Trainees, of_trainees};
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

/// A heartbeat as the writer receives it: who claims to send it (checked against the account
/// in the writer's transaction) and the page it comes from.
#[derive(Clone, Debug)]
pub struct Beat {
    pub claims: Claims,
    pub program_code: String,
    pub page_view: String,
    pub module_id: i64,
    pub lesson_id: Option<i64>,
    pub seq: i64,
}

impl Beat {
    fn trainee_id(&self) -> i64 {
        self.claims.sub
    }
}

/// What became of one beat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeatAnswer {
    /// The account no longer honours the token (session closed, account disabled, role or
    /// password changed).
    Unauthenticated,
    /// The page is not part of the trainee's current path.
    OutsidePath,
    /// The module is not open for study today.
    NotOpen,
    /// Decided by the rules, with the seconds of the page view so far.
    Decided(Outcome, i64),
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

/// The study clocks of some trainees; on PostgreSQL locked in trainee order, so another
/// instance crediting the same trainees waits instead of deadlocking.
fn clocks_of(conn: &mut DbConn, trainee_ids: &[i64]) -> QueryResult<HashMap<i64, Clock>> {
    let q = study_clocks::table
        .filter(study_clocks::trainee_id.eq_any(trainee_ids))
        .order(study_clocks::trainee_id.asc())
        .select((
            study_clocks::trainee_id,
            study_clocks::last_credit_at,
            study_clocks::day,
            study_clocks::day_seconds,
        ));
    let rows: Vec<(i64, NaiveDateTime, NaiveDate, i32)> = match conn {
        DbConn::Pg(c) => q.for_update().load(c)?,
        DbConn::Sqlite(c) => q.load(c)?,
    };
    Ok(rows
        .into_iter()
        .map(|(t, last_credit_at, day, secs)| {
            let clock = Clock {
                last_credit_at,
                day,
                day_seconds: secs as i64,
            };
            (t, clock)
        })
        .collect())
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

/// A page view's study session as the batch sees it.
struct Session {
    id: Option<i64>,
    module_id: i64,
    lesson_id: Option<i64>,
    last_seq: i64,
    seconds: i64,
    changed: bool,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = study_sessions)]
struct StoredSession {
    id: i64,
    trainee_id: i64,
    page_view: String,
    module_id: i64,
    lesson_id: Option<i64>,
    last_seq: i32,
    seconds_credited: i32,
}

fn sessions_of(conn: &mut DbConn, beats: &[Beat]) -> QueryResult<HashMap<(i64, String), Session>> {
    let ids: Vec<i64> = beats.iter().map(Beat::trainee_id).collect();
    let views: Vec<&str> = beats.iter().map(|b| b.page_view.as_str()).collect();
    let rows: Vec<StoredSession> = study_sessions::table
        .filter(study_sessions::trainee_id.eq_any(&ids))
        .filter(study_sessions::page_view.eq_any(&views))
        .select(StoredSession::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let s = Session {
                id: Some(r.id),
                module_id: r.module_id,
                lesson_id: r.lesson_id,
                last_seq: r.last_seq as i64,
                seconds: r.seconds_credited as i64,
                changed: false,
            };
            ((r.trainee_id, r.page_view), s)
        })
        .collect())
}

/// Which beats their senders may still send, and for which the module is open today.
fn admissions(
    conn: &mut DbConn,
    beats: &[Beat],
    today: NaiveDate,
) -> QueryResult<Vec<Option<BeatAnswer>>> {
    use crate::db::schema::{distance_periods as dp, users};
    let ids: Vec<i64> = beats.iter().map(Beat::trainee_id).collect();
    let accounts: HashMap<i64, (bool, i32, String)> = users::table
        .filter(users::id.eq_any(&ids))
        .select((
            users::id,
            (users::disabled, users::token_version, users::role),
        ))
        .load::<(i64, (bool, i32, String))>(conn)?
        .into_iter()
        .collect();
    let sids: Vec<i64> = beats.iter().map(|b| b.claims.sid).collect();
    let live: std::collections::HashSet<i64> = crate::accounts::sessions::live(conn, &sids)?
        .into_iter()
        .collect();
    let enrolled = crate::curriculum::store::current_enrolments(conn, &ids)?;
    let cohorts: Vec<i64> = enrolled.values().map(|e| e.1).collect();
    let mut periods: HashMap<(i64, i64), Vec<(NaiveDate, NaiveDate)>> = HashMap::new();
    for (cohort, module, from, to) in dp::table
        .filter(dp::cohort_id.eq_any(&cohorts))
        .select((dp::cohort_id, dp::module_id, dp::from_date, dp::to_date))
        .load::<(i64, i64, NaiveDate, NaiveDate)>(conn)?
    {
        periods
            .entry((cohort, module))
            .or_default()
            .push((from, to));
    }
    Ok(beats
        .iter()
        .map(|b| {
            let valid = live.contains(&b.claims.sid)
                && accounts.get(&b.trainee_id()).is_some_and(|(d, tv, role)| {
                    crate::accounts::session::still_valid(&b.claims, *d, *tv, role)
                });
            if !valid {
                return Some(BeatAnswer::Unauthenticated);
            }
            let Some((program, cohort, start, end)) = enrolled.get(&b.trainee_id()) else {
                return Some(BeatAnswer::OutsidePath);
            };
            if *program != b.program_code {
                return Some(BeatAnswer::OutsidePath);
            }
            let planned = periods
                .get(&(*cohort, b.module_id))
                .map_or(&[][..], Vec::as_slice);
            (!rules::module_open((*start, *end), planned, today)).then_some(BeatAnswer::NotOpen)
        })
        .collect())
}

/// Credits a batch of beats in one transaction (group commit): a beat is acknowledged only
/// once this commits, so nothing acknowledged is ever lost. A few reads for the whole batch,
/// the rules in memory, then one write per changed row.
pub fn apply_beats(
    conn: &mut DbConn,
    beats: &[Beat],
    settings: &CreditSettings,
) -> QueryResult<Vec<BeatAnswer>> {
    db::transaction(conn, |conn| {
        let now = db::now();
        let today = crate::base::paris::paris_date(now);
        let admitted = admissions(conn, beats, today)?;
        let ids: Vec<i64> = beats.iter().map(Beat::trainee_id).collect();
        let stored = clocks_of(conn, &ids)?;
        let mut clocks = stored.clone();
        let mut sessions = sessions_of(conn, beats)?;
        let mut credited: HashMap<(i64, i64), i64> = HashMap::new();
        let mut out = Vec::with_capacity(beats.len());
        for (b, refused) in beats.iter().zip(admitted) {
            if let Some(answer) = refused {
                out.push(answer);
                continue;
            }
            let key = (b.trainee_id(), b.page_view.clone());
            let session = sessions.get(&key);
            let clock = clocks.get(&b.trainee_id()).copied();
            let (outcome, new_clock) = rules::credit(
                now,
                today,
                clock,
                session.map(|s| s.last_seq),
                b.seq,
                settings,
            );
            if outcome == Outcome::Replay {
                out.push(BeatAnswer::Decided(
                    outcome,
                    session.map_or(0, |s| s.seconds),
                ));
                continue;
            }
            if let Some(c) = new_clock {
                clocks.insert(b.trainee_id(), c);
            }
            let secs = match outcome {
                Outcome::Credited(n) => n,
                _ => 0,
            };
            let s = sessions.entry(key).or_insert(Session {
                id: None,
                module_id: b.module_id,
                lesson_id: b.lesson_id,
                last_seq: b.seq,
                seconds: 0,
                changed: true,
            });
            s.last_seq = b.seq;
            s.seconds += secs;
            s.changed = true;
            if secs > 0 {
                *credited.entry((b.trainee_id(), b.module_id)).or_default() += secs;
            }
            out.push(BeatAnswer::Decided(outcome, s.seconds));
        }
        let changed_clocks: Vec<(i64, Clock, bool)> = clocks
            .iter()
            .filter(|(t, c)| stored.get(*t) != Some(*c))
            .map(|(t, c)| (*t, *c, stored.contains_key(t)))
            .collect();
        // A new page view is one row per page opened: rare enough to insert alone.
        for ((trainee, view), s) in sessions.iter().filter(|(_, s)| s.changed && s.id.is_none()) {
            save_session(conn, *trainee, view, s, now)?;
        }
        let changed_sessions: Vec<(i64, &str, &Session)> = sessions
            .iter()
            .filter(|(_, s)| s.changed && s.id.is_some())
            .map(|((t, view), s)| (*t, view.as_str(), s))
            .collect();
        let credited: Vec<(i64, i64, i64)> = credited
            .into_iter()
            .map(|((t, m), secs)| (t, m, secs))
            .collect();
        match conn {
            DbConn::Pg(pg) => pg_batch::save(
                pg,
                &changed_clocks,
                &changed_sessions,
                &credited,
                now,
                today,
            )?,
            DbConn::Sqlite(_) => {
                for (trainee, clock, existed) in &changed_clocks {
                    save_clock(conn, *trainee, *existed, clock)?;
                }
                for (trainee, view, s) in &changed_sessions {
                    save_session(conn, *trainee, view, s, now)?;
                }
                for (trainee, module, secs) in &credited {
                    add_to_totals(conn, *trainee, *module, *secs, 0, 0, now)?;
                    add_to_day(conn, *trainee, today, *module, *secs, now)?;
                }
            }
        }
        Ok(out)
    })
}

/// On PostgreSQL every statement is a round trip: a batch's rows are written with one
/// statement per table (arrays unnested), where SQLite, in process, takes them one by one.
mod pg_batch {
    use chrono::{NaiveDate, NaiveDateTime};
    use diesel::prelude::*;
    use diesel::sql_types::{Array, BigInt, Date, Integer, Timestamp};

    use super::{Clock, Session};

    pub fn save(
        pg: &mut PgConnection,
        clocks: &[(i64, Clock, bool)],
        sessions: &[(i64, &str, &Session)],
        credited: &[(i64, i64, i64)],
        now: NaiveDateTime,
        today: NaiveDate,
    ) -> QueryResult<()> {
        if !clocks.is_empty() {
            diesel::sql_query(
                "INSERT INTO study_clocks (trainee_id, last_credit_at, day, day_seconds) \
                 SELECT * FROM UNNEST($1, $2, $3, $4) \
                 ON CONFLICT (trainee_id) DO UPDATE SET last_credit_at = EXCLUDED.last_credit_at, \
                 day = EXCLUDED.day, day_seconds = EXCLUDED.day_seconds",
            )
            .bind::<Array<BigInt>, _>(clocks.iter().map(|c| c.0).collect::<Vec<_>>())
            .bind::<Array<Timestamp>, _>(
                clocks
                    .iter()
                    .map(|c| c.1.last_credit_at)
                    .collect::<Vec<_>>(),
            )
            .bind::<Array<Date>, _>(clocks.iter().map(|c| c.1.day).collect::<Vec<_>>())
            .bind::<Array<Integer>, _>(
                clocks
                    .iter()
                    .map(|c| c.1.day_seconds as i32)
                    .collect::<Vec<_>>(),
            )
            .execute(pg)?;
        }
        let known = sessions;
        if !known.is_empty() {
            diesel::sql_query(
                "UPDATE study_sessions s SET last_seq = u.seq, last_beat_at = $4, \
                 seconds_credited = u.secs FROM UNNEST($1, $2, $3) AS u(id, seq, secs) \
                 WHERE s.id = u.id",
            )
            .bind::<Array<BigInt>, _>(known.iter().filter_map(|s| s.2.id).collect::<Vec<_>>())
            .bind::<Array<Integer>, _>(
                known
                    .iter()
                    .map(|s| s.2.last_seq as i32)
                    .collect::<Vec<_>>(),
            )
            .bind::<Array<Integer>, _>(known.iter().map(|s| s.2.seconds as i32).collect::<Vec<_>>())
            .bind::<Timestamp, _>(now)
            .execute(pg)?;
        }
        if !credited.is_empty() {
            let trainees: Vec<i64> = credited.iter().map(|c| c.0).collect();
            let modules: Vec<i64> = credited.iter().map(|c| c.1).collect();
            let secs: Vec<i64> = credited.iter().map(|c| c.2).collect();
            diesel::sql_query(
                "INSERT INTO module_totals (trainee_id, module_id, distance_seconds, \
                 presentiel_seconds, correction_seconds, last_activity_at) \
                 SELECT t, m, s, 0, 0, $4 FROM UNNEST($1, $2, $3) AS u(t, m, s) \
                 ON CONFLICT (trainee_id, module_id) DO UPDATE SET \
                 distance_seconds = module_totals.distance_seconds + EXCLUDED.distance_seconds, \
                 last_activity_at = EXCLUDED.last_activity_at",
            )
            .bind::<Array<BigInt>, _>(&trainees)
            .bind::<Array<BigInt>, _>(&modules)
            .bind::<Array<BigInt>, _>(&secs)
            .bind::<Timestamp, _>(now)
            .execute(pg)?;
            diesel::sql_query(
                "INSERT INTO daily_activity (trainee_id, day, module_id, distance_seconds, \
                 first_at, last_at) \
                 SELECT t, $4, m, s, $5, $5 FROM UNNEST($1, $2, $3) AS u(t, m, s) \
                 ON CONFLICT (trainee_id, day, module_id) DO UPDATE SET \
                 distance_seconds = daily_activity.distance_seconds + EXCLUDED.distance_seconds, \
                 last_at = EXCLUDED.last_at",
            )
            .bind::<Array<BigInt>, _>(&trainees)
            .bind::<Array<BigInt>, _>(&modules)
            .bind::<Array<BigInt>, _>(&secs)
            .bind::<Date, _>(today)
            .bind::<Timestamp, _>(now)
            .execute(pg)?;
        }
        Ok(())
    }
}

fn save_session(
    conn: &mut DbConn,
    trainee_id: i64,
    view: &str,
    s: &Session,
    now: NaiveDateTime,
) -> QueryResult<()> {
    match s.id {
        Some(id) => diesel::update(study_sessions::table.find(id))
            .set((
                study_sessions::last_seq.eq(s.last_seq as i32),
                study_sessions::last_beat_at.eq(now),
                study_sessions::seconds_credited.eq(s.seconds as i32),
            ))
            .execute(conn)?,
        None => diesel::insert_into(study_sessions::table)
            .values((
                study_sessions::trainee_id.eq(trainee_id),
                study_sessions::page_view.eq(view),
                study_sessions::module_id.eq(s.module_id),
                study_sessions::lesson_id.eq(s.lesson_id),
                study_sessions::started_at.eq(now),
                study_sessions::last_beat_at.eq(now),
                study_sessions::last_seq.eq(s.last_seq as i32),
                study_sessions::seconds_credited.eq(s.seconds as i32),
            ))
            .execute(conn)?,
    };
    Ok(())
}

#[derive(Clone, Debug, Default, Serialize, Queryable)]
pub struct ModuleTotal {
    pub module_id: i64,
    pub distance_seconds: i64,
    pub presentiel_seconds: i64,
    pub correction_seconds: i64,
}

/// Pre-aggregated totals of some trainees, by trainee then module.
pub fn totals(conn: &mut DbConn, who: Trainees<'_>) -> QueryResult<HashMap<i64, Vec<ModuleTotal>>> {
    let rows: Vec<(i64, ModuleTotal)> = of_trainees!(
        module_totals::table.into_boxed(),
        module_totals::trainee_id,
        who
    )
    .select((
        module_totals::trainee_id,
        (
            module_totals::module_id,
            module_totals::distance_seconds,
            module_totals::presentiel_seconds,
            module_totals::correction_seconds,
        ),
    ))
    .load(conn)?;
    let mut map: HashMap<i64, Vec<ModuleTotal>> = HashMap::new();
    for (t, m) in rows {
        map.entry(t).or_default().push(m);
    }
    Ok(map)
}

/// When each trainee was last credited anything (one timestamp each, not one per module).
pub fn last_activity(
    conn: &mut DbConn,
    who: Trainees<'_>,
) -> QueryResult<HashMap<i64, NaiveDateTime>> {
    let q = module_totals::table
        .group_by(module_totals::trainee_id)
        .select((
            module_totals::trainee_id,
            diesel::dsl::max(module_totals::last_activity_at),
        ))
        .into_boxed();
    let rows: Vec<(i64, Option<NaiveDateTime>)> =
        of_trainees!(q, module_totals::trainee_id, who).load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(t, at)| Some((t, at?)))
        .collect())
}

/// Distance seconds of each trainee since a date, summed by the database (the recent pace).
pub fn recent_seconds(
    conn: &mut DbConn,
    who: Trainees<'_>,
    since: NaiveDate,
) -> QueryResult<HashMap<i64, i64>> {
    use diesel::dsl::sql;
    use diesel::sql_types::BigInt;
    // SUM of a BIGINT is NUMERIC on PostgreSQL: cast so both backends answer the same type.
    let q = daily_activity::table
        .filter(daily_activity::day.ge(since))
        .group_by(daily_activity::trainee_id)
        .select((
            daily_activity::trainee_id,
            sql::<BigInt>("CAST(SUM(distance_seconds) AS BIGINT)"),
        ))
        .into_boxed();
    let rows: Vec<(i64, i64)> = of_trainees!(q, daily_activity::trainee_id, who).load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Distance seconds by day since a date (for charts).
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
