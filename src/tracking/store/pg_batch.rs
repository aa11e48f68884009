//! On PostgreSQL every statement is a round trip: a batch's rows are written with one
//! statement per table (arrays unnested), where SQLite, in process, takes them one by one.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Integer, Timestamp};

use super::beats::Session;
use crate::tracking::rules::Clock;

pub(super) fn save(
    pg: &mut PgConnection,
    clocks: &[(i64, Clock, bool)],
    sessions: &[(i64, &str, &Session)],
    credited: &[(i64, i64, i64)],
    by_activity: &[(i64, i64, i64)],
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
    if !by_activity.is_empty() {
        diesel::sql_query(
            "INSERT INTO activity_totals (trainee_id, lesson_id, seconds, last_at) \
             SELECT t, a, s, $4 FROM UNNEST($1, $2, $3) AS u(t, a, s) \
             ON CONFLICT (trainee_id, lesson_id) DO UPDATE SET \
             seconds = activity_totals.seconds + EXCLUDED.seconds, last_at = EXCLUDED.last_at",
        )
        .bind::<Array<BigInt>, _>(by_activity.iter().map(|c| c.0).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(by_activity.iter().map(|c| c.1).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(by_activity.iter().map(|c| c.2).collect::<Vec<_>>())
        .bind::<Timestamp, _>(now)
        .execute(pg)?;
    }
    Ok(())
}
