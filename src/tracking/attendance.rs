//! Sign-in sheets (*émargement*) of in-person half-days: opened by a trainer, signed by each
//! present trainee on their own device (or by the trainer for them), closed and signed by
//! the trainer. A closed sheet never changes; its hours go to the module totals once.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;
use serde::Serialize;

use super::rules::{
    ABSENT, Attendance, CLOSED, EXCUSED, OPEN, PENDING, PRESENT, check_signing_time,
    minutes_present, self_closing_time, tally,
};
use super::store;
use crate::audit::{self, Event};
use crate::cohorts::store::SessionRow;
use crate::db::schema::{
    attendance_entries, attendance_sheets, cohorts, enrolments, sessions, users,
};
use crate::db::{self, DbConn};

#[derive(Debug, Clone, Serialize, Queryable)]
pub struct Sheet {
    pub id: i64,
    pub session_id: i64,
    pub status: String,
    pub opened_by: i64,
    pub opened_at: NaiveDateTime,
    pub closed_by: Option<i64>,
    pub closed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Serialize, Queryable)]
pub struct Entry {
    pub trainee_id: i64,
    pub name: String,
    pub status: String,
    pub signed_at: Option<NaiveDateTime>,
    pub signed_via: Option<String>,
    pub arrived_at: Option<NaiveTime>,
    pub left_at: Option<NaiveTime>,
    pub minutes_credited: i32,
}

pub fn sheet_of(conn: &mut DbConn, session_id: i64) -> QueryResult<Option<Sheet>> {
    attendance_sheets::table
        .filter(attendance_sheets::session_id.eq(session_id))
        .select((
            attendance_sheets::id,
            attendance_sheets::session_id,
            attendance_sheets::status,
            attendance_sheets::opened_by,
            attendance_sheets::opened_at,
            attendance_sheets::closed_by,
            attendance_sheets::closed_at,
        ))
        .first(conn)
        .optional()
}

pub fn entries(conn: &mut DbConn, sheet_id: i64) -> QueryResult<Vec<Entry>> {
    attendance_entries::table
        .inner_join(users::table.on(users::id.eq(attendance_entries::trainee_id)))
        .filter(attendance_entries::sheet_id.eq(sheet_id))
        .order(users::name.asc())
        .select((
            attendance_entries::trainee_id,
            users::name,
            attendance_entries::status,
            attendance_entries::signed_at,
            attendance_entries::signed_via,
            attendance_entries::arrived_at,
            attendance_entries::left_at,
            attendance_entries::minutes_credited,
        ))
        .load(conn)
}

/// Opens the sheet of a session with a line for every trainee of the cohort.
pub fn open(
    conn: &mut DbConn,
    actor: i64,
    organism_id: i64,
    session: &SessionRow,
) -> QueryResult<i64> {
    db::transaction(conn, |conn| {
        if let Some(s) = sheet_of(conn, session.id)? {
            return Ok(s.id);
        }
        let id: i64 = diesel::insert_into(attendance_sheets::table)
            .values((
                attendance_sheets::session_id.eq(session.id),
                attendance_sheets::status.eq(OPEN),
                attendance_sheets::opened_by.eq(actor),
                attendance_sheets::opened_at.eq(db::now()),
            ))
            .returning(attendance_sheets::id)
            .get_result(conn)?;
        let trainees: Vec<i64> = enrolments::table
            .filter(enrolments::cohort_id.eq(session.cohort_id))
            .filter(enrolments::ended_on.is_null())
            .select(enrolments::trainee_id)
            .load(conn)?;
        for t in &trainees {
            diesel::insert_into(attendance_entries::table)
                .values((
                    attendance_entries::sheet_id.eq(id),
                    attendance_entries::trainee_id.eq(t),
                    attendance_entries::status.eq(PENDING),
                ))
                .execute(conn)?;
        }
        audit::record(
            conn,
            Event::new("sheet_opened", "session", Some(session.id))
                .by(Some(actor))
                .in_organism(Some(organism_id))
                .detail(serde_json::json!({"trainees": trainees.len()})),
        )?;
        Ok(id)
    })
}

#[derive(Debug, PartialEq, Eq)]
pub enum SignError {
    NoSheet,
    Closed,
    NotOnSheet,
    /// Outside the half-day's window (`rules::check_signing_time`), with what to tell.
    OutOfTime(String),
}

impl SignError {
    pub fn message(&self) -> String {
        match self {
            SignError::NoSheet => {
                "La feuille d'émargement de cette séance n'est pas ouverte.".into()
            }
            SignError::Closed => {
                "La feuille d'émargement est close : elle ne peut plus être signée.".into()
            }
            SignError::NotOnSheet => "Vous ne figurez pas sur cette feuille d'émargement.".into(),
            SignError::OutOfTime(m) => m.clone(),
        }
    }
}

/// A trainee signs (themselves, or through the trainer's device) at `at` (UTC), during the
/// half-day only; signing twice keeps the first signature.
pub fn sign(
    conn: &mut DbConn,
    actor: i64,
    organism_id: i64,
    session_id: i64,
    trainee_id: i64,
    via: &str,
    at: NaiveDateTime,
) -> QueryResult<Result<(), SignError>> {
    db::transaction(conn, |conn| {
        let (Some(sheet), Some(session)) = (
            sheet_of(conn, session_id)?,
            crate::cohorts::store::session(conn, session_id)?,
        ) else {
            return Ok(Err(SignError::NoSheet));
        };
        if sheet.status != OPEN {
            return Ok(Err(SignError::Closed));
        }
        if let Err(m) = check_signing_time(
            crate::base::paris::to_paris(at).naive_local(),
            session.day,
            session.starts_at,
            session.ends_at,
        ) {
            return Ok(Err(SignError::OutOfTime(m)));
        }
        let target = attendance_entries::table
            .filter(attendance_entries::sheet_id.eq(sheet.id))
            .filter(attendance_entries::trainee_id.eq(trainee_id));
        let current: Option<String> = target
            .select(attendance_entries::status)
            .first(conn)
            .optional()?;
        match current.as_deref() {
            None => Ok(Err(SignError::NotOnSheet)),
            Some(PRESENT) => Ok(Ok(())),
            Some(before) => {
                diesel::update(target)
                    .set((
                        attendance_entries::status.eq(PRESENT),
                        attendance_entries::signed_at.eq(at),
                        attendance_entries::signed_via.eq(via),
                    ))
                    .execute(conn)?;
                audit::record(
                    conn,
                    Event::new("attendance_signed", "session", Some(session_id))
                        .by(Some(actor))
                        .in_organism(Some(organism_id))
                        .change(
                            serde_json::json!({"trainee": trainee_id, "status": before}),
                            serde_json::json!({"trainee": trainee_id, "status": PRESENT, "via": via}),
                        ),
                )?;
                Ok(Ok(()))
            }
        }
    })
}

/// The trainer records an absence, a late arrival or an early departure on an open sheet.
#[allow(clippy::too_many_arguments)]
pub fn mark(
    conn: &mut DbConn,
    actor: i64,
    organism_id: i64,
    session_id: i64,
    trainee_id: i64,
    status: &str,
    arrived: Option<NaiveTime>,
    left: Option<NaiveTime>,
) -> QueryResult<Result<(), SignError>> {
    db::transaction(conn, |conn| {
        let Some(sheet) = sheet_of(conn, session_id)? else {
            return Ok(Err(SignError::NoSheet));
        };
        if sheet.status != OPEN {
            return Ok(Err(SignError::Closed));
        }
        let target = attendance_entries::table
            .filter(attendance_entries::sheet_id.eq(sheet.id))
            .filter(attendance_entries::trainee_id.eq(trainee_id));
        let before: Option<(String, Option<NaiveTime>, Option<NaiveTime>)> = target
            .select((
                attendance_entries::status,
                attendance_entries::arrived_at,
                attendance_entries::left_at,
            ))
            .first(conn)
            .optional()?;
        let Some(before) = before else {
            return Ok(Err(SignError::NotOnSheet));
        };
        diesel::update(target)
            .set((
                attendance_entries::status.eq(status),
                attendance_entries::arrived_at.eq(arrived),
                attendance_entries::left_at.eq(left),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            Event::new("attendance_marked", "session", Some(session_id))
                .by(Some(actor))
                .in_organism(Some(organism_id))
                .change(
                    serde_json::json!({"trainee": trainee_id, "status": before.0, "arrived": before.1, "left": before.2}),
                    serde_json::json!({"trainee": trainee_id, "status": status, "arrived": arrived, "left": left}),
                ),
        )?;
        Ok(Ok(()))
    })
}

/// Closes and signs the sheet: unsigned lines become absences, present trainees are credited
/// their in-person time, and the sheet is frozen. Without an actor, the sheet closed by
/// itself (`close_overdue`): the trainer's signature is missing, and the sheet says so.
pub fn close(
    conn: &mut DbConn,
    actor: Option<i64>,
    organism_id: i64,
    session: &SessionRow,
) -> QueryResult<Result<(), SignError>> {
    db::transaction(conn, |conn| {
        let Some(sheet) = sheet_of(conn, session.id)? else {
            return Ok(Err(SignError::NoSheet));
        };
        if sheet.status != OPEN {
            return Ok(Err(SignError::Closed));
        }
        let now = db::now();
        let mut credited = Vec::new();
        for e in entries(conn, sheet.id)? {
            let (status, minutes) = match e.status.as_str() {
                PRESENT => (
                    PRESENT,
                    minutes_present(session.starts_at, session.ends_at, e.arrived_at, e.left_at),
                ),
                PENDING => (ABSENT, 0),
                other => (if other == EXCUSED { EXCUSED } else { ABSENT }, 0),
            };
            diesel::update(
                attendance_entries::table
                    .filter(attendance_entries::sheet_id.eq(sheet.id))
                    .filter(attendance_entries::trainee_id.eq(e.trainee_id)),
            )
            .set((
                attendance_entries::status.eq(status),
                attendance_entries::minutes_credited.eq(minutes as i32),
            ))
            .execute(conn)?;
            if minutes > 0 {
                store::add_to_totals(
                    conn,
                    e.trainee_id,
                    session.module_id,
                    0,
                    minutes * 60,
                    0,
                    now,
                )?;
            }
            credited.push(
                serde_json::json!({"trainee": e.trainee_id, "status": status, "minutes": minutes}),
            );
        }
        diesel::update(attendance_sheets::table.find(sheet.id))
            .set((
                attendance_sheets::status.eq(CLOSED),
                attendance_sheets::closed_by.eq(actor),
                attendance_sheets::closed_at.eq(now),
            ))
            .execute(conn)?;
        let action = if actor.is_some() {
            "sheet_closed"
        } else {
            "sheet_closed_automatically"
        };
        audit::record(
            conn,
            Event::new(action, "session", Some(session.id))
                .by(actor)
                .in_organism(Some(organism_id))
                .change(
                    serde_json::json!({"status": OPEN}),
                    serde_json::json!({"status": CLOSED, "entries": credited}),
                ),
        )?;
        Ok(Ok(()))
    })
}

/// Closes the sheets still open `delay_hours` after their half-day ended (Paris time), as no
/// trainer did; returns how many.
pub fn close_overdue(
    conn: &mut DbConn,
    now: NaiveDateTime,
    delay_hours: i64,
) -> QueryResult<usize> {
    let now_paris = crate::base::paris::to_paris(now).naive_local();
    // One query a minute on every instance: only sheets whose day may be due are read.
    let last_day = (now_paris - chrono::Duration::hours(delay_hours)).date();
    let candidates: Vec<(i64, NaiveDate, NaiveTime, i64)> = attendance_sheets::table
        .inner_join(sessions::table.on(sessions::id.eq(attendance_sheets::session_id)))
        .inner_join(cohorts::table.on(cohorts::id.eq(sessions::cohort_id)))
        .filter(attendance_sheets::status.eq(OPEN))
        .filter(sessions::day.le(last_day))
        .select((
            sessions::id,
            sessions::day,
            sessions::ends_at,
            cohorts::organism_id,
        ))
        .load(conn)?;
    let mut closed = 0;
    for (session_id, day, ends_at, organism_id) in candidates {
        if self_closing_time(day, ends_at, delay_hours) > now_paris {
            continue;
        }
        let Some(session) = crate::cohorts::store::session(conn, session_id)? else {
            continue;
        };
        if close(conn, None, organism_id, &session)?.is_ok() {
            closed += 1;
        }
    }
    Ok(closed)
}

/// Open sheets of a trainee's sessions, with when they signed (if they did).
pub fn open_for_trainee(
    conn: &mut DbConn,
    trainee_id: i64,
) -> QueryResult<Vec<(i64, Option<NaiveDateTime>)>> {
    attendance_entries::table
        .inner_join(attendance_sheets::table)
        .filter(attendance_entries::trainee_id.eq(trainee_id))
        .filter(attendance_sheets::status.eq(OPEN))
        .select((attendance_sheets::session_id, attendance_entries::signed_at))
        .load(conn)
}

/// Attendance of one trainee over the closed sheets of their sessions.
pub fn attendance_of(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Attendance> {
    let rows: Vec<(String, Option<NaiveTime>, Option<NaiveTime>)> = attendance_entries::table
        .inner_join(attendance_sheets::table)
        .filter(attendance_entries::trainee_id.eq(trainee_id))
        .filter(attendance_sheets::status.eq(CLOSED))
        .select((
            attendance_entries::status,
            attendance_entries::arrived_at,
            attendance_entries::left_at,
        ))
        .load(conn)?;
    Ok(tally(rows.iter().map(|(s, arrived, left)| {
        (s.as_str(), arrived.is_some() || left.is_some())
    })))
}
