//! Crediting heartbeats in batches: one transaction per batch, the rules in memory.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::admission::admissions;
use super::pg_batch;
use super::totals::{add_to_activity, add_to_day, add_to_totals};
use crate::accounts::session::Claims;
use crate::db::schema::{study_clocks, study_sessions};
use crate::db::{self, DbConn};
use crate::tracking::rules::{self, Clock, CreditSettings, Outcome};

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
    pub(super) fn trainee_id(&self) -> i64 {
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
    // Not `db_run!`: SQLite has no FOR UPDATE (its write transaction already locks).
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
pub(super) struct Session {
    pub(super) id: Option<i64>,
    module_id: i64,
    lesson_id: Option<i64>,
    pub(super) last_seq: i64,
    pub(super) seconds: i64,
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
        let mut by_activity: HashMap<(i64, i64), i64> = HashMap::new();
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
                if let Some(activity) = b.lesson_id {
                    *by_activity.entry((b.trainee_id(), activity)).or_default() += secs;
                }
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
        let flat = |m: HashMap<(i64, i64), i64>| -> Vec<(i64, i64, i64)> {
            m.into_iter().map(|((t, k), secs)| (t, k, secs)).collect()
        };
        let (credited, by_activity) = (flat(credited), flat(by_activity));
        // Not `db_run!`: PostgreSQL writes the batch in one statement per table.
        match conn {
            DbConn::Pg(pg) => pg_batch::save(
                pg,
                &changed_clocks,
                &changed_sessions,
                &credited,
                &by_activity,
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
                for (trainee, activity, secs) in &by_activity {
                    add_to_activity(conn, *trainee, *activity, *secs, now)?;
                }
            }
        }
        Ok(out)
    })
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
