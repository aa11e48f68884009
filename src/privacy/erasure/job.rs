//! The daily erasure: everyone whose proofs have served their time and whom no hold protects,
//! then the mails past their period, then the files queued by erasures. Several instances may
//! run it at once: each person is taken in her own transaction, once.

use chrono::{NaiveDateTime, Timelike};
use diesel::prelude::*;
use serde::Serialize;

use super::{expired, rules, store};
use crate::audit::{self, Event};
use crate::db::schema::job_runs;
use crate::db::{self, DbConn};
use crate::objects::Shelf;
use crate::privacy::Settings;
use crate::web::AppResult;

pub const JOB: &str = "erasure";
/// At night, Paris time, when nobody studies.
const FROM_HOUR: u32 = 3;

/// What one run did, as its audit row records it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Run {
    /// People erased.
    pub erased: usize,
    /// People whose time had come but whom a legal hold protects.
    pub held: usize,
    /// People whose erasure failed (logged; tried again next run).
    pub failed: usize,
    pub rows: usize,
    pub attestations: usize,
    pub mails: usize,
    pub files: usize,
}

/// Erases what is due on `now`'s Paris day.
pub fn run(
    conn: &mut DbConn,
    uploads: &Shelf,
    key: &[u8; 32],
    s: &Settings,
    now: NaiveDateTime,
) -> AppResult<Run> {
    let today = crate::base::paris::paris_date(now);
    let mut run = Run::default();
    for (person, facts) in store::facts(conn, s, None)? {
        if rules::due(&facts, today) {
            erase_one(conn, key, person, &mut run);
        } else {
            let over = rules::due_on(&facts).is_some_and(|d| d <= today);
            run.held += usize::from(facts.held && over);
        }
    }
    for doctor in store::idle_doctors(conn, s, now)? {
        erase_one(conn, key, doctor, &mut run);
    }
    run.mails += expired::purge_mails(conn, s, now)?;
    run.files = store::delete_queued_files(conn, uploads)?;
    audit::record(
        conn,
        Event::new("personal_data.erasure_run", "erasure", None).detail(run),
    )?;
    Ok(run)
}

/// Erases one person and counts it; a failure is logged and counted, and the next run tries
/// again.
fn erase_one(conn: &mut DbConn, key: &[u8; 32], person: i64, run: &mut Run) {
    match store::erase_person(conn, key, person, store::Cause::Retention, None) {
        Ok(Some(e)) => {
            run.erased += 1;
            run.rows += e.rows;
            run.attestations += e.attestations;
            run.mails += e.mails;
        }
        Ok(None) => {}
        Err(e) => {
            run.failed += 1;
            tracing::warn!(person, error = %e, "erasure of a person failed");
        }
    }
}

/// Once a day from 3:00 (Paris): a day is recorded when its run ended, so a run that failed
/// or was killed is done again at the next tick, without harm.
pub fn run_due(
    conn: &mut DbConn,
    uploads: &Shelf,
    key: &[u8; 32],
    s: &Settings,
    instance: &str,
    now: NaiveDateTime,
) -> AppResult<Option<Run>> {
    let local = crate::base::paris::to_paris(now);
    if local.hour() < FROM_HOUR {
        return Ok(None);
    }
    let period = local.date_naive().to_string();
    let ran: i64 = job_runs::table
        .filter(job_runs::job.eq(JOB))
        .filter(job_runs::period.eq(&period))
        .count()
        .get_result(conn)?;
    if ran > 0 {
        return Ok(None);
    }
    let done = run(conn, uploads, key, s, now)?;
    let values = (
        job_runs::job.eq(JOB),
        job_runs::period.eq(&period),
        job_runs::instance.eq(instance),
        job_runs::ran_at.eq(db::now()),
        job_runs::messages.eq(i32::try_from(done.erased).unwrap_or(i32::MAX)),
    );
    db::db_run!(conn, |c| diesel::insert_into(job_runs::table)
        .values(values)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(Some(done))
}
