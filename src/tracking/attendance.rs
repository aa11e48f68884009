//! Sign-in sheets (*émargement*) of in-person half-days: opened by a trainer, signed by each
//! present trainee on their own device (or by the trainer for them), closed and signed by
//! the trainer. A closed sheet never changes; its hours go to the module totals once.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;
use serde::Serialize;

use super::rules::{
    ABSENT, Attendance, CLOSED, EXCUSED, OPEN, PENDING, PRESENT, closer, credited_minutes,
    half_days, half_to_sign, self_closing_time, tally,
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
    /// `formateur` (the designated trainer) or `equipe` (none was designated).
    pub closed_as: Option<String>,
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
    /// The afternoon of a session longer than a half-day (`None` for a single half-day).
    pub pm_status: Option<String>,
    pub pm_signed_at: Option<NaiveDateTime>,
    pub pm_signed_via: Option<String>,
}

impl Entry {
    /// Whether each half-day of the session was signed or marked present.
    pub fn present(&self) -> [bool; 2] {
        [
            self.status == PRESENT,
            self.pm_status.as_deref() == Some(PRESENT),
        ]
    }
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
            attendance_sheets::closed_as,
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
            attendance_entries::pm_status,
            attendance_entries::pm_signed_at,
            attendance_entries::pm_signed_via,
        ))
        .load(conn)
}

/// Opens the sheet of a session with a line for every trainee of the cohort; a session
/// longer than a half-day gets its afternoon column.
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
        let afternoon =
            (half_days(session.starts_at, session.ends_at).len() > 1).then_some(PENDING);
        for t in &trainees {
            diesel::insert_into(attendance_entries::table)
                .values((
                    attendance_entries::sheet_id.eq(id),
                    attendance_entries::trainee_id.eq(t),
                    attendance_entries::status.eq(PENDING),
                    attendance_entries::pm_status.eq(afternoon),
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
    /// Outside the half-days' windows (`rules::half_to_sign`), with what to tell.
    OutOfTime(String),
    /// A trainer is designated for the session and someone else tries to close: their name.
    NotDesignated(String),
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
            SignError::NotDesignated(name) => format!(
                "Seul le formateur désigné pour cette séance, {name}, peut clore et signer la feuille."
            ),
        }
    }
}

/// A trainee signs (themselves, or through the trainer's device) at `at` (UTC), during a
/// half-day only: the morning or the afternoon of a longer session, whichever is open and not
/// yet signed; signing twice keeps the first signature.
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
        let target = attendance_entries::table
            .filter(attendance_entries::sheet_id.eq(sheet.id))
            .filter(attendance_entries::trainee_id.eq(trainee_id));
        let current: Option<(String, Option<String>)> = target
            .select((attendance_entries::status, attendance_entries::pm_status))
            .first(conn)
            .optional()?;
        let halves = half_days(session.starts_at, session.ends_at);
        let signed = current.as_ref().map_or([false, false], |(am, pm)| {
            [am == PRESENT, pm.as_deref() == Some(PRESENT)]
        });
        let now = crate::base::paris::to_paris(at).naive_local();
        let half = match half_to_sign(now, session.day, &halves, &signed) {
            Ok(h) => h,
            Err(m) => return Ok(Err(SignError::OutOfTime(m))),
        };
        let Some((am, pm)) = current else {
            return Ok(Err(SignError::NotOnSheet));
        };
        let before = if half == 0 { Some(am) } else { pm };
        if signed[half] {
            return Ok(Ok(()));
        }
        if half == 0 {
            diesel::update(target)
                .set((
                    attendance_entries::status.eq(PRESENT),
                    attendance_entries::signed_at.eq(at),
                    attendance_entries::signed_via.eq(via),
                ))
                .execute(conn)?;
        } else {
            diesel::update(target)
                .set((
                    attendance_entries::pm_status.eq(PRESENT),
                    attendance_entries::pm_signed_at.eq(at),
                    attendance_entries::pm_signed_via.eq(via),
                ))
                .execute(conn)?;
        }
        let part = halves.get(half).map_or("séance", |h| h.label);
        audit::record(
            conn,
            Event::new("attendance_signed", "session", Some(session_id))
                .by(Some(actor))
                .in_organism(Some(organism_id))
                .change(
                    serde_json::json!({"trainee": trainee_id, "half": part, "status": before}),
                    serde_json::json!({"trainee": trainee_id, "half": part, "status": PRESENT, "via": via}),
                ),
        )?;
        Ok(Ok(()))
    })
}

/// What the trainer records on a trainee's line; `pm_status` only for a longer session.
pub struct Marks<'a> {
    pub status: &'a str,
    pub pm_status: Option<&'a str>,
    pub arrived: Option<NaiveTime>,
    pub left: Option<NaiveTime>,
}

/// The trainer records an absence, a late arrival or an early departure on an open sheet;
/// the afternoon's status only where the line has an afternoon.
pub fn mark(
    conn: &mut DbConn,
    actor: i64,
    organism_id: i64,
    session_id: i64,
    trainee_id: i64,
    m: &Marks<'_>,
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
        type Line = (String, Option<String>, Option<NaiveTime>, Option<NaiveTime>);
        let before: Option<Line> = target
            .select((
                attendance_entries::status,
                attendance_entries::pm_status,
                attendance_entries::arrived_at,
                attendance_entries::left_at,
            ))
            .first(conn)
            .optional()?;
        let Some(before) = before else {
            return Ok(Err(SignError::NotOnSheet));
        };
        let pm = match (&before.1, m.pm_status) {
            (Some(_), Some(p)) => Some(p.to_string()),
            (kept, _) => kept.clone(),
        };
        diesel::update(target)
            .set((
                attendance_entries::status.eq(m.status),
                attendance_entries::pm_status.eq(&pm),
                attendance_entries::arrived_at.eq(m.arrived),
                attendance_entries::left_at.eq(m.left),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            Event::new("attendance_marked", "session", Some(session_id))
                .by(Some(actor))
                .in_organism(Some(organism_id))
                .change(
                    serde_json::json!({"trainee": trainee_id, "status": before.0, "pm_status": before.1, "arrived": before.2, "left": before.3}),
                    serde_json::json!({"trainee": trainee_id, "status": m.status, "pm_status": pm, "arrived": m.arrived, "left": m.left}),
                ),
        )?;
        Ok(Ok(()))
    })
}

/// A half-day's status once the sheet closes: unsigned becomes absent.
fn final_status(status: &str) -> &'static str {
    match status {
        PRESENT => PRESENT,
        EXCUSED => EXCUSED,
        _ => ABSENT,
    }
}

/// Closes and signs the sheet: unsigned half-days become absences, present trainees are
/// credited each half-day's in-person time, and the sheet is frozen. Only the designated
/// trainer closes it, or, with none designated, a member of the staff, recorded as such.
/// Without an actor, the sheet closed by itself (`close_overdue`): the trainer's signature is
/// missing, and the sheet says so.
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
        let closed_as = match actor.map(|a| closer(session.trainer_id, a)) {
            None => None,
            Some(Some(c)) => Some(c.as_str()),
            Some(None) => {
                let name = match session.trainer_id {
                    Some(t) => crate::accounts::store::by_id(conn, t)?.map(|u| u.name),
                    None => None,
                };
                return Ok(Err(SignError::NotDesignated(name.unwrap_or_default())));
            }
        };
        let now = db::now();
        let halves = half_days(session.starts_at, session.ends_at);
        let mut credited = Vec::new();
        for e in entries(conn, sheet.id)? {
            let minutes = credited_minutes(&halves, &e.present(), e.arrived_at, e.left_at);
            let status = final_status(&e.status);
            let pm = e.pm_status.as_deref().map(final_status);
            diesel::update(
                attendance_entries::table
                    .filter(attendance_entries::sheet_id.eq(sheet.id))
                    .filter(attendance_entries::trainee_id.eq(e.trainee_id)),
            )
            .set((
                attendance_entries::status.eq(status),
                attendance_entries::pm_status.eq(pm),
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
            credited.push(serde_json::json!({
                "trainee": e.trainee_id, "status": status, "pm_status": pm, "minutes": minutes,
            }));
        }
        diesel::update(attendance_sheets::table.find(sheet.id))
            .set((
                attendance_sheets::status.eq(CLOSED),
                attendance_sheets::closed_by.eq(actor),
                attendance_sheets::closed_at.eq(now),
                attendance_sheets::closed_as.eq(closed_as),
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
                    serde_json::json!({
                        "status": CLOSED, "closed_by": actor, "closed_as": closed_as,
                        "entries": credited,
                    }),
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

/// An open sheet's session, and when the trainee signed its morning and its afternoon.
pub type OpenLine = (i64, Option<NaiveDateTime>, Option<NaiveDateTime>);

/// Open sheets of a trainee's sessions, with when they signed each half-day (if they did).
pub fn open_for_trainee(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Vec<OpenLine>> {
    attendance_entries::table
        .inner_join(attendance_sheets::table)
        .filter(attendance_entries::trainee_id.eq(trainee_id))
        .filter(attendance_sheets::status.eq(OPEN))
        .order(attendance_sheets::session_id.asc())
        .select((
            attendance_sheets::session_id,
            attendance_entries::signed_at,
            attendance_entries::pm_signed_at,
        ))
        .load(conn)
}

/// Attendance of one trainee over the closed sheets of their sessions, by half-day: the
/// morning carries a late arrival, the afternoon an early departure.
pub fn attendance_of(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Attendance> {
    type Row = (String, Option<String>, Option<NaiveTime>, Option<NaiveTime>);
    let rows: Vec<Row> = attendance_entries::table
        .inner_join(attendance_sheets::table)
        .filter(attendance_entries::trainee_id.eq(trainee_id))
        .filter(attendance_sheets::status.eq(CLOSED))
        .select((
            attendance_entries::status,
            attendance_entries::pm_status,
            attendance_entries::arrived_at,
            attendance_entries::left_at,
        ))
        .load(conn)?;
    Ok(tally(rows.iter().flat_map(
        |(s, pm, arrived, left)| match pm {
            None => vec![(s.as_str(), arrived.is_some() || left.is_some())],
            Some(pm) => vec![
                (s.as_str(), arrived.is_some()),
                (pm.as_str(), left.is_some()),
            ],
        },
    )))
}
