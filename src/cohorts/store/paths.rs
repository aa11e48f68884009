//! Enrolments and individual paths: entry, adjustments, departure, transfer.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

use super::*;
use crate::audit::{self, Event};
use crate::db::schema::{cohorts, enrolments, path_adjustments};
use crate::db::{self, DbConn};

/// Enrols a trainee in a cohort (the trainee must not be enrolled elsewhere).
pub fn enrol(
    conn: &mut DbConn,
    actor: Option<i64>,
    organism_id: i64,
    cohort_id: i64,
    trainee_id: i64,
    on: chrono::NaiveDate,
) -> QueryResult<i64> {
    use crate::db::schema::enrolments;
    let id: i64 = diesel::insert_into(enrolments::table)
        .values((
            enrolments::cohort_id.eq(cohort_id),
            enrolments::trainee_id.eq(trainee_id),
            enrolments::started_on.eq(on),
            enrolments::created_at.eq(db::now()),
        ))
        .returning(enrolments::id)
        .get_result(conn)?;
    audit::record(
        conn,
        Event::new("enrolment_created", "enrolment", Some(id))
            .by(actor)
            .in_organism(Some(organism_id))
            .detail(serde_json::json!({"cohort": cohort_id, "trainee": trainee_id, "on": on})),
    )?;
    Ok(id)
}

pub fn is_enrolled(conn: &mut DbConn, trainee_id: i64) -> QueryResult<bool> {
    use crate::db::schema::enrolments;
    diesel::select(diesel::dsl::exists(
        enrolments::table
            .filter(enrolments::trainee_id.eq(trainee_id))
            .filter(enrolments::ended_on.is_null()),
    ))
    .get_result(conn)
}

pub fn active_cohort(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Option<i64>> {
    Ok(active_enrolment(conn, trainee_id)?.map(|(cohort, _)| cohort))
}

/// The cohort the trainee is in now, and since when.
pub fn active_enrolment(
    conn: &mut DbConn,
    trainee_id: i64,
) -> QueryResult<Option<(i64, NaiveDate)>> {
    enrolments::table
        .filter(enrolments::trainee_id.eq(trainee_id))
        .filter(enrolments::ended_on.is_null())
        .select((enrolments::cohort_id, enrolments::started_on))
        .first(conn)
        .optional()
}

#[derive(Debug, Clone, Queryable, Serialize)]
pub struct Adjustment {
    pub module_id: i64,
    pub kind: String,
    pub exempted_minutes: i32,
    pub reason: String,
    pub document_ref: Option<String>,
}

pub fn adjustments(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Vec<Adjustment>> {
    path_adjustments::table
        .filter(path_adjustments::trainee_id.eq(trainee_id))
        .select((
            path_adjustments::module_id,
            path_adjustments::kind,
            path_adjustments::exempted_minutes,
            path_adjustments::reason,
            path_adjustments::document_ref,
        ))
        .load(conn)
}

/// Sets (or clears, with 0 minutes) the exempted part of a module for a trainee; audited.
#[allow(clippy::too_many_arguments)]
pub fn set_adjustment(
    conn: &mut DbConn,
    actor: Option<i64>,
    organism_id: i64,
    trainee_id: i64,
    module_id: i64,
    kind: &str,
    minutes: i32,
    reason: &str,
    document_ref: Option<&str>,
) -> QueryResult<()> {
    let before: Option<Adjustment> = adjustments(conn, trainee_id)?
        .into_iter()
        .find(|a| a.module_id == module_id);
    diesel::delete(
        path_adjustments::table
            .filter(path_adjustments::trainee_id.eq(trainee_id))
            .filter(path_adjustments::module_id.eq(module_id)),
    )
    .execute(conn)?;
    if minutes > 0 {
        diesel::insert_into(path_adjustments::table)
            .values((
                path_adjustments::trainee_id.eq(trainee_id),
                path_adjustments::module_id.eq(module_id),
                path_adjustments::kind.eq(kind),
                path_adjustments::exempted_minutes.eq(minutes),
                path_adjustments::reason.eq(reason),
                path_adjustments::document_ref.eq(document_ref),
                path_adjustments::updated_by.eq(actor),
                path_adjustments::updated_at.eq(db::now()),
            ))
            .execute(conn)?;
    }
    audit::record(
        conn,
        Event::new("path_adjusted", "trainee", Some(trainee_id))
            .by(actor)
            .in_organism(Some(organism_id))
            .change(
                before.map(|b| serde_json::json!({"module": b.module_id, "kind": b.kind, "minutes": b.exempted_minutes, "reason": b.reason})),
                serde_json::json!({"module": module_id, "kind": kind, "minutes": minutes, "reason": reason, "document": document_ref}),
            ),
    )
}

/// Ends the trainee's current enrolment, in `cohort`, on `on` (the first day out) for a
/// reason, as a departure that Qualiopi counts.
pub fn end_enrolment(
    conn: &mut DbConn,
    actor: i64,
    trainee: &TraineeLine,
    cohort: i64,
    on: NaiveDate,
    reason: crate::cohorts::rules::EndReason,
    note: Option<&str>,
) -> QueryResult<()> {
    diesel::update(
        enrolments::table
            .filter(enrolments::trainee_id.eq(trainee.id))
            .filter(enrolments::ended_on.is_null()),
    )
    .set((
        enrolments::ended_on.eq(on),
        enrolments::end_reason.eq(reason.as_str()),
        enrolments::end_note.eq(note),
    ))
    .execute(conn)?;
    audit::record(
        conn,
        Event::new("trainee_left", "trainee", Some(trainee.id))
            .by(Some(actor))
            .in_organism(Some(trainee.organism_id))
            .change(
                serde_json::json!({"cohort": cohort}),
                serde_json::json!({"cohort": cohort, "ended_on": on, "reason": reason.as_str(), "note": note}),
            ),
    )
}

/// Takes back a departure recorded by mistake: the trainee's last enrolment goes on as if it
/// had not ended. `false` when there is no departure to take back (the trainee is in a
/// cohort, or the last enrolment ended by a transfer).
pub fn undo_departure(conn: &mut DbConn, actor: i64, trainee: &TraineeLine) -> QueryResult<bool> {
    let Some(d) = last_departure(conn, trainee.id)? else {
        return Ok(false);
    };
    diesel::update(enrolments::table.find(d.enrolment_id))
        .set((
            enrolments::ended_on.eq(None::<NaiveDate>),
            enrolments::end_reason.eq(None::<String>),
            enrolments::end_note.eq(None::<String>),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        Event::new("trainee_departure_undone", "trainee", Some(trainee.id))
            .by(Some(actor))
            .in_organism(Some(trainee.organism_id))
            .change(
                serde_json::json!({"cohort": d.cohort_id, "ended_on": d.on, "reason": d.reason}),
                serde_json::json!({"cohort": d.cohort_id}),
            ),
    )?;
    Ok(true)
}

/// A trainee's early departure from a cohort.
#[derive(Debug, Clone, Queryable)]
pub struct Departure {
    pub enrolment_id: i64,
    pub cohort_id: i64,
    pub cohort: String,
    pub on: Option<NaiveDate>,
    pub reason: Option<String>,
    pub note: Option<String>,
}

/// The trainee's last departure, when her newest enrolment ended with one: she is in no
/// cohort now (an enrolment is never older than the one it follows). A transfer is not a
/// departure.
pub fn last_departure(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Option<Departure>> {
    let last: Option<Departure> = enrolments::table
        .inner_join(cohorts::table)
        .filter(enrolments::trainee_id.eq(trainee_id))
        .order(enrolments::id.desc())
        .select((
            enrolments::id,
            cohorts::id,
            cohorts::name,
            enrolments::ended_on,
            enrolments::end_reason,
            enrolments::end_note,
        ))
        .first(conn)
        .optional()?;
    Ok(last.filter(|d| d.on.is_some() && d.reason.is_some()))
}

/// The trainee's own dates in a cohort: when she entered it and, if she left, when (her latest
/// enrolment in it).
pub fn enrolment_dates(
    conn: &mut DbConn,
    trainee_id: i64,
    cohort_id: i64,
) -> QueryResult<Option<(NaiveDate, Option<NaiveDate>)>> {
    enrolments::table
        .filter(enrolments::trainee_id.eq(trainee_id))
        .filter(enrolments::cohort_id.eq(cohort_id))
        .order(enrolments::id.desc())
        .select((enrolments::started_on, enrolments::ended_on))
        .first(conn)
        .optional()
}

/// Moves a trainee to another cohort of the same organism. Hours belong to the trainee and
/// the module, not to the enrolment, so every hour done stays.
pub fn transfer(
    conn: &mut DbConn,
    actor: i64,
    trainee: &TraineeLine,
    to_cohort: i64,
    on: NaiveDate,
) -> QueryResult<i64> {
    let from = active_cohort(conn, trainee.id)?;
    diesel::update(
        enrolments::table
            .filter(enrolments::trainee_id.eq(trainee.id))
            .filter(enrolments::ended_on.is_null()),
    )
    .set(enrolments::ended_on.eq(on))
    .execute(conn)?;
    let id = enrol(
        conn,
        Some(actor),
        trainee.organism_id,
        to_cohort,
        trainee.id,
        on,
    )?;
    audit::record(
        conn,
        Event::new("trainee_transferred", "trainee", Some(trainee.id))
            .by(Some(actor))
            .in_organism(Some(trainee.organism_id))
            .change(
                serde_json::json!({"cohort": from}),
                serde_json::json!({"cohort": to_cohort}),
            ),
    )?;
    Ok(id)
}

/// Exempted minutes of several trainees: (trainee, module, minutes).
pub fn adjustments_of_many(
    conn: &mut DbConn,
    who: Trainees<'_>,
) -> QueryResult<Vec<(i64, i64, i32)>> {
    of_trainees!(
        path_adjustments::table.into_boxed(),
        path_adjustments::trainee_id,
        who
    )
    .select((
        path_adjustments::trainee_id,
        path_adjustments::module_id,
        path_adjustments::exempted_minutes,
    ))
    .load(conn)
}
