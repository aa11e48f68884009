//! The running totals a credit or a correction adds to: per module, and per day for distance
//! time. Upserts, typed per backend by diesel, hence `db_run!`.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{activity_totals, daily_activity, module_totals};
use crate::db::{self, DbConn};

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
    db::db_run!(conn, |c| diesel::insert_into(module_totals::table)
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

/// Adds distance seconds to a trainee's day on a module.
pub(super) fn add_to_day(
    conn: &mut DbConn,
    trainee_id: i64,
    day: NaiveDate,
    module_id: i64,
    secs: i64,
    at: NaiveDateTime,
) -> QueryResult<()> {
    db::db_run!(conn, |c| diesel::insert_into(daily_activity::table)
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

/// Adds distance seconds to a trainee's time on one activity.
pub(super) fn add_to_activity(
    conn: &mut DbConn,
    trainee_id: i64,
    lesson_id: i64,
    secs: i64,
    at: NaiveDateTime,
) -> QueryResult<()> {
    db::db_run!(conn, |c| diesel::insert_into(activity_totals::table)
        .values((
            activity_totals::trainee_id.eq(trainee_id),
            activity_totals::lesson_id.eq(lesson_id),
            activity_totals::seconds.eq(secs),
            activity_totals::last_at.eq(at),
        ))
        .on_conflict((activity_totals::trainee_id, activity_totals::lesson_id))
        .do_update()
        .set((
            activity_totals::seconds.eq(activity_totals::seconds + secs),
            activity_totals::last_at.eq(at),
        ))
        .execute(c))?;
    Ok(())
}
