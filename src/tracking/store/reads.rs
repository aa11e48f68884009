//! Reading the totals back: per module, last activity, recent pace, days for charts.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use crate::cohorts::store::{Trainees, of_trainees};
use crate::db::DbConn;
use crate::db::schema::{daily_activity, module_totals};

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

/// Distance seconds each trainee spent on each activity: (activity id, seconds) rows.
pub fn activity_times(conn: &mut DbConn, who: Trainees<'_>) -> QueryResult<Vec<(i64, i64)>> {
    use crate::db::schema::activity_totals;
    of_trainees!(
        activity_totals::table.into_boxed(),
        activity_totals::trainee_id,
        who
    )
    .filter(activity_totals::seconds.gt(0))
    .select((activity_totals::lesson_id, activity_totals::seconds))
    .load(conn)
}
