//! Queries of the evidence pack: the sign-in sheets of a trainee's half-days, their distance
//! activity by day and module, evaluation attempts, an existing certificate, the trainees
//! of a cohort over a period. Days are Paris dates; timestamps are UTC.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::rules::Period;
use crate::base::paris::paris_midnight;
use crate::cohorts::store::{self as cohorts, CohortRow, SessionRow};
use crate::db::DbConn;
use crate::db::schema::{
    attendance_entries, attendance_sheets, attestations, daily_activity, enrolments,
    evaluation_attempts, lesson_progress, lessons, modules, organisms, sessions, study_sessions,
    users,
};
use crate::tracking::attendance::{self, Entry, Sheet};

/// The UTC bounds `[start, end)` of a period of Paris days.
pub fn utc_window(p: Period) -> (NaiveDateTime, NaiveDateTime) {
    (
        paris_midnight(p.from),
        paris_midnight(p.to + chrono::Duration::days(1)),
    )
}

/// Everything a sign-in sheet prints.
#[derive(Clone, Debug)]
pub struct SheetDoc {
    pub organism: String,
    pub cohort: String,
    pub session: SessionRow,
    pub trainer: Option<String>,
    pub sheet: Option<Sheet>,
    pub closed_by: Option<String>,
    pub entries: Vec<Entry>,
}

fn name_of(conn: &mut DbConn, id: Option<i64>) -> QueryResult<Option<String>> {
    match id {
        Some(id) => users::table
            .find(id)
            .select(users::name)
            .first(conn)
            .optional(),
        None => Ok(None),
    }
}

pub fn sheet_doc(
    conn: &mut DbConn,
    session: SessionRow,
    cohort: &CohortRow,
) -> QueryResult<SheetDoc> {
    let organism: String = organisms::table
        .find(cohort.organism_id)
        .select(organisms::name)
        .first(conn)?;
    let sheet = attendance::sheet_of(conn, session.id)?;
    let entries = match &sheet {
        Some(s) => attendance::entries(conn, s.id)?,
        None => vec![],
    };
    let trainer = name_of(conn, session.trainer_id)?;
    let closed_by = name_of(conn, sheet.as_ref().and_then(|s| s.closed_by))?;
    Ok(SheetDoc {
        organism,
        cohort: cohort.name.clone(),
        session,
        trainer,
        sheet,
        closed_by,
        entries,
    })
}

/// Sessions of the period on whose sheet the trainee has a line: (session id, closed).
pub fn sheets_of_trainee(
    conn: &mut DbConn,
    trainee_id: i64,
    p: Period,
) -> QueryResult<Vec<(i64, bool)>> {
    let rows: Vec<(i64, String)> = attendance_entries::table
        .inner_join(attendance_sheets::table.inner_join(sessions::table))
        .filter(attendance_entries::trainee_id.eq(trainee_id))
        .filter(sessions::day.ge(p.from))
        .filter(sessions::day.le(p.to))
        .order((
            sessions::day.asc(),
            sessions::starts_at.asc(),
            sessions::id.asc(),
        ))
        .select((sessions::id, attendance_sheets::status))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, status)| (id, status == crate::tracking::rules::CLOSED))
        .collect())
}

/// The sheet of one session with its cohort (for the organism check).
pub fn session_and_cohort(
    conn: &mut DbConn,
    session_id: i64,
) -> QueryResult<Option<(SessionRow, CohortRow)>> {
    let Some(session) = cohorts::session(conn, session_id)? else {
        return Ok(None);
    };
    Ok(cohorts::cohort(conn, session.cohort_id)?.map(|c| (session, c)))
}

/// One row of `daily_activity`, with its module.
#[derive(Clone, Debug, Queryable)]
pub struct DayActivity {
    pub day: NaiveDate,
    pub module_id: i64,
    pub module_code: String,
    pub module_title: String,
    pub position: i32,
    pub distance_seconds: i64,
    pub first_at: NaiveDateTime,
    pub last_at: NaiveDateTime,
}

pub fn activity(conn: &mut DbConn, trainee_id: i64, p: Period) -> QueryResult<Vec<DayActivity>> {
    daily_activity::table
        .inner_join(modules::table)
        .filter(daily_activity::trainee_id.eq(trainee_id))
        .filter(daily_activity::day.ge(p.from))
        .filter(daily_activity::day.le(p.to))
        .order((daily_activity::day.asc(), modules::position.asc()))
        .select((
            daily_activity::day,
            daily_activity::module_id,
            modules::code,
            modules::title,
            modules::position,
            daily_activity::distance_seconds,
            daily_activity::first_at,
            daily_activity::last_at,
        ))
        .load(conn)
}

/// A lesson touched at some time: (when, module id, code, title, position, lesson title).
pub type LessonEvent = (NaiveDateTime, i64, String, String, i32, String);

/// Lessons studied (a study session started on them) in the period.
pub fn lessons_studied(
    conn: &mut DbConn,
    trainee_id: i64,
    p: Period,
) -> QueryResult<Vec<LessonEvent>> {
    let (start, end) = utc_window(p);
    study_sessions::table
        .inner_join(lessons::table.on(lessons::id.nullable().eq(study_sessions::lesson_id)))
        .inner_join(modules::table.on(modules::id.eq(lessons::module_id)))
        .filter(study_sessions::trainee_id.eq(trainee_id))
        .filter(study_sessions::started_at.ge(start))
        .filter(study_sessions::started_at.lt(end))
        .order(study_sessions::started_at.asc())
        .select((
            study_sessions::started_at,
            modules::id,
            modules::code,
            modules::title,
            modules::position,
            lessons::title,
        ))
        .load(conn)
}

/// Lessons marked done in the period.
pub fn lessons_completed(
    conn: &mut DbConn,
    trainee_id: i64,
    p: Period,
) -> QueryResult<Vec<LessonEvent>> {
    let (start, end) = utc_window(p);
    lesson_progress::table
        .inner_join(lessons::table)
        .inner_join(modules::table.on(modules::id.eq(lessons::module_id)))
        .filter(lesson_progress::trainee_id.eq(trainee_id))
        .filter(lesson_progress::completed_at.ge(start))
        .filter(lesson_progress::completed_at.lt(end))
        .order(lesson_progress::completed_at.asc())
        .select((
            lesson_progress::completed_at,
            modules::id,
            modules::code,
            modules::title,
            modules::position,
            lessons::title,
        ))
        .load(conn)
}

/// An evaluation attempt with its module.
#[derive(Clone, Debug, Queryable)]
pub struct AttemptLine {
    pub module_code: String,
    pub module_title: String,
    pub attempt_no: i32,
    pub status: String,
    pub started_at: NaiveDateTime,
    pub submitted_at: Option<NaiveDateTime>,
    pub score_pct: Option<i32>,
    pub passed: Option<bool>,
}

/// Attempts started in the period, oldest first.
pub fn attempts(conn: &mut DbConn, trainee_id: i64, p: Period) -> QueryResult<Vec<AttemptLine>> {
    let (start, end) = utc_window(p);
    evaluation_attempts::table
        .inner_join(modules::table)
        .filter(evaluation_attempts::trainee_id.eq(trainee_id))
        .filter(evaluation_attempts::started_at.ge(start))
        // The module evaluations; formative quizzes have their own name.
        .filter(evaluation_attempts::quiz.eq(""))
        .filter(evaluation_attempts::started_at.lt(end))
        .order((
            evaluation_attempts::started_at.asc(),
            evaluation_attempts::id.asc(),
        ))
        .select((
            modules::code,
            modules::title,
            evaluation_attempts::attempt_no,
            evaluation_attempts::status,
            evaluation_attempts::started_at,
            evaluation_attempts::submitted_at,
            evaluation_attempts::score_pct,
            evaluation_attempts::passed,
        ))
        .load(conn)
}

/// A valid certificate of realisation of exactly this trainee, cohort and period: (id, number,
/// whether its holder was erased).
pub fn realisation_of(
    conn: &mut DbConn,
    trainee_id: i64,
    cohort_id: i64,
    p: Period,
) -> QueryResult<Option<(i64, String, bool)>> {
    attestations::table
        .filter(attestations::trainee_id.eq(trainee_id))
        .filter(attestations::cohort_id.eq(cohort_id))
        .filter(attestations::kind.eq(crate::attestation::rules::Kind::Realisation.as_str()))
        .filter(attestations::period_from.eq(p.from))
        .filter(attestations::period_to.eq(p.to))
        .filter(attestations::revoked_at.is_null())
        .order(attestations::id.desc())
        .select((
            attestations::id,
            attestations::number,
            attestations::erased_at.is_not_null(),
        ))
        .first(conn)
        .optional()
}

/// Trainees enrolled in the cohort at some time of the period, including those whose
/// enrolment ended in it.
pub fn trainees_over(conn: &mut DbConn, cohort_id: i64, p: Period) -> QueryResult<Vec<i64>> {
    let mut ids: Vec<i64> = enrolments::table
        .inner_join(users::table.on(users::id.eq(enrolments::trainee_id)))
        .filter(enrolments::cohort_id.eq(cohort_id))
        .filter(enrolments::started_on.le(p.to))
        .filter(
            enrolments::ended_on
                .is_null()
                .or(enrolments::ended_on.ge(p.from)),
        )
        .order((users::name.asc(), users::id.asc()))
        .select(enrolments::trainee_id)
        .load(conn)?;
    ids.dedup();
    Ok(ids)
}
