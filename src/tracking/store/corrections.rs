//! Manual changes of hours, each with its reason and an audit row.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::totals::add_to_totals;
use crate::audit::{self, Event};
use crate::db::schema::{hour_corrections, module_totals};
use crate::db::{self, DbConn};

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
