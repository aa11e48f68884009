//! Which beats of a batch may be credited: a live session, an enrolment in the path, and the
//! module open today.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use diesel::prelude::*;

use super::{Beat, BeatAnswer};
use crate::db::DbConn;
use crate::tracking::rules;

/// Which beats their senders may still send, and for which the module is open today.
pub(super) fn admissions(
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
    let live: HashSet<i64> = crate::accounts::sessions::live(conn, &sids)?
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
