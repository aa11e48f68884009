//! The windows of a ProA trainee's funding suspension: each kept, each change audited.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::TraineeLine;
use crate::audit::{self, Event};
use crate::cohorts::rules::Suspension;
use crate::db::schema::{proa_suspensions, users};
use crate::db::{self, DbConn};

/// A window as the trainee's file lists it.
#[derive(Debug, Clone, Queryable, Serialize)]
pub struct SuspensionRow {
    pub id: i64,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
    pub reason: String,
    pub created_at: NaiveDateTime,
    pub created_by: Option<String>,
}

impl SuspensionRow {
    pub fn window(&self) -> Suspension {
        Suspension {
            from: self.from,
            to: self.to,
        }
    }
}

/// A trainee's windows, oldest first, with who recorded each.
pub fn suspensions(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Vec<SuspensionRow>> {
    proa_suspensions::table
        .left_join(users::table.on(users::id.nullable().eq(proa_suspensions::created_by)))
        .filter(proa_suspensions::trainee_id.eq(trainee_id))
        .order((
            proa_suspensions::starts_on.asc(),
            proa_suspensions::id.asc(),
        ))
        .select((
            proa_suspensions::id,
            proa_suspensions::starts_on,
            proa_suspensions::ends_on,
            proa_suspensions::reason,
            proa_suspensions::created_at,
            users::name.nullable(),
        ))
        .load(conn)
}

/// The windows of several trainees, for their deadlines.
pub fn suspensions_of(
    conn: &mut DbConn,
    trainee_ids: &[i64],
) -> QueryResult<HashMap<i64, Vec<Suspension>>> {
    let rows: Vec<(i64, NaiveDate, Option<NaiveDate>)> = proa_suspensions::table
        .filter(proa_suspensions::trainee_id.eq_any(trainee_ids))
        .order((
            proa_suspensions::trainee_id.asc(),
            proa_suspensions::starts_on.asc(),
            proa_suspensions::id.asc(),
        ))
        .select((
            proa_suspensions::trainee_id,
            proa_suspensions::starts_on,
            proa_suspensions::ends_on,
        ))
        .load(conn)?;
    let mut by: HashMap<i64, Vec<Suspension>> = HashMap::new();
    for (trainee, from, to) in rows {
        by.entry(trainee).or_default().push(Suspension { from, to });
    }
    Ok(by)
}

/// Records a new window (already checked by `rules::check_suspension`); audited.
pub fn add_suspension(
    conn: &mut DbConn,
    actor: i64,
    trainee: &TraineeLine,
    window: Suspension,
    reason: &str,
) -> QueryResult<i64> {
    let id: i64 = diesel::insert_into(proa_suspensions::table)
        .values((
            proa_suspensions::trainee_id.eq(trainee.id),
            proa_suspensions::starts_on.eq(window.from),
            proa_suspensions::ends_on.eq(window.to),
            proa_suspensions::reason.eq(reason),
            proa_suspensions::created_by.eq(Some(actor)),
            proa_suspensions::created_at.eq(db::now()),
        ))
        .returning(proa_suspensions::id)
        .get_result(conn)?;
    audit::record(
        conn,
        Event::new("proa_suspension_added", "trainee", Some(trainee.id))
            .by(Some(actor))
            .in_organism(Some(trainee.organism_id))
            .detail(serde_json::json!({
                "suspension": id, "from": window.from, "to": window.to, "reason": reason,
            })),
    )?;
    Ok(id)
}

/// Gives an open window its end (checked by `rules::check_suspension_end`); audited.
pub fn end_suspension(
    conn: &mut DbConn,
    actor: i64,
    trainee: &TraineeLine,
    window: &SuspensionRow,
    to: NaiveDate,
) -> QueryResult<()> {
    diesel::update(
        proa_suspensions::table
            .filter(proa_suspensions::id.eq(window.id))
            .filter(proa_suspensions::trainee_id.eq(trainee.id)),
    )
    .set((
        proa_suspensions::ends_on.eq(Some(to)),
        proa_suspensions::ended_by.eq(Some(actor)),
        proa_suspensions::ended_at.eq(Some(db::now())),
    ))
    .execute(conn)?;
    audit::record(
        conn,
        Event::new("proa_suspension_ended", "trainee", Some(trainee.id))
            .by(Some(actor))
            .in_organism(Some(trainee.organism_id))
            .change(
                serde_json::json!({"suspension": window.id, "from": window.from, "to": null}),
                serde_json::json!({"suspension": window.id, "from": window.from, "to": to}),
            ),
    )
}
