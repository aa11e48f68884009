//! Curriculum queries: syncing content into the database, lesson progress, attempts.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{
    cohorts, content_versions, enrolments, evaluation_attempts, lesson_progress, programs,
};
use crate::db::{self, DbConn};

pub fn version_count(conn: &mut DbConn, program_code: &str) -> QueryResult<i64> {
    content_versions::table
        .filter(content_versions::program_code.eq(program_code))
        .filter(content_versions::number.gt(0))
        .count()
        .get_result(conn)
}

/// The programme code and cohort of a trainee's current enrolment.
pub fn trainee_program(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Option<(String, i64)>> {
    Ok(trainee_enrolment(conn, trainee_id)?.map(|(code, cohort, _, _)| (code, cohort)))
}

pub fn completed_lessons(conn: &mut DbConn, trainee_id: i64) -> QueryResult<HashSet<i64>> {
    lesson_progress::table
        .filter(lesson_progress::trainee_id.eq(trainee_id))
        .select(lesson_progress::lesson_id)
        .load::<i64>(conn)
        .map(|v| v.into_iter().collect())
}

pub fn lesson_done(conn: &mut DbConn, trainee_id: i64, lesson_id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        lesson_progress::table
            .filter(lesson_progress::trainee_id.eq(trainee_id))
            .filter(lesson_progress::lesson_id.eq(lesson_id)),
    ))
    .get_result(conn)
}

/// Marks a lesson done; doing it again changes nothing.
pub fn complete_lesson(conn: &mut DbConn, trainee_id: i64, lesson_id: i64) -> QueryResult<()> {
    db::transaction(conn, |conn| {
        if !lesson_done(conn, trainee_id, lesson_id)? {
            diesel::insert_into(lesson_progress::table)
                .values((
                    lesson_progress::trainee_id.eq(trainee_id),
                    lesson_progress::lesson_id.eq(lesson_id),
                    lesson_progress::completed_at.eq(db::now()),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = evaluation_attempts)]
pub struct Attempt {
    pub id: i64,
    pub trainee_id: i64,
    pub module_id: i64,
    pub evaluation_hash: String,
    pub attempt_no: i32,
    pub status: String,
    pub started_at: NaiveDateTime,
    pub submitted_at: Option<NaiveDateTime>,
    pub answers: Option<String>,
    pub correct_count: Option<i32>,
    pub question_count: i32,
    pub score_pct: Option<i32>,
    pub passed: Option<bool>,
    /// The quiz's slug; empty for the module's evaluation.
    pub quiz: String,
}

pub const OPEN: &str = "open";
pub const SUBMITTED: &str = "submitted";

/// A trainee's attempts at one quiz of a module (`""`: its evaluation).
pub fn attempts(
    conn: &mut DbConn,
    trainee_id: i64,
    module_id: i64,
    quiz: &str,
) -> QueryResult<Vec<Attempt>> {
    evaluation_attempts::table
        .filter(evaluation_attempts::trainee_id.eq(trainee_id))
        .filter(evaluation_attempts::module_id.eq(module_id))
        .filter(evaluation_attempts::quiz.eq(quiz))
        .order(evaluation_attempts::attempt_no.asc())
        .select(Attempt::as_select())
        .load(conn)
}

pub fn all_attempts(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Vec<Attempt>> {
    evaluation_attempts::table
        .filter(evaluation_attempts::trainee_id.eq(trainee_id))
        .order(evaluation_attempts::id.asc())
        .select(Attempt::as_select())
        .load(conn)
}

pub fn attempt(conn: &mut DbConn, id: i64) -> QueryResult<Option<Attempt>> {
    evaluation_attempts::table
        .find(id)
        .select(Attempt::as_select())
        .first(conn)
        .optional()
}

/// Which quiz an attempt is at: its module, its slug (`""` for the evaluation), its version.
pub struct QuizAt {
    pub module_id: i64,
    pub quiz: String,
    pub hash: String,
}

pub enum Start {
    Started(Attempt),
    LimitReached(usize),
}

/// The open attempt, or a new one while attempts remain. A double click reuses the open one.
pub fn start_attempt(
    conn: &mut DbConn,
    trainee_id: i64,
    at: &QuizAt,
    question_count: i32,
    max_attempts: u32,
) -> QueryResult<Start> {
    db::transaction(conn, |conn| {
        let existing = attempts(conn, trainee_id, at.module_id, &at.quiz)?;
        if let Some(open) = existing.iter().find(|a| a.status == OPEN) {
            return Ok(Start::Started(open.clone()));
        }
        if existing.len() >= max_attempts as usize {
            return Ok(Start::LimitReached(existing.len()));
        }
        let id: i64 = diesel::insert_into(evaluation_attempts::table)
            .values((
                evaluation_attempts::trainee_id.eq(trainee_id),
                evaluation_attempts::module_id.eq(at.module_id),
                evaluation_attempts::quiz.eq(&at.quiz),
                evaluation_attempts::evaluation_hash.eq(&at.hash),
                evaluation_attempts::attempt_no.eq(existing.len() as i32 + 1),
                evaluation_attempts::status.eq(OPEN),
                evaluation_attempts::started_at.eq(db::now()),
                evaluation_attempts::question_count.eq(question_count),
            ))
            .returning(evaluation_attempts::id)
            .get_result(conn)?;
        Ok(Start::Started(
            attempt(conn, id)?.ok_or(diesel::result::Error::NotFound)?,
        ))
    })
}

/// Records the answers of an open attempt. Submitting again (a double click) changes
/// nothing and returns the attempt as first recorded.
pub fn submit_attempt(
    conn: &mut DbConn,
    id: i64,
    answers_json: &str,
    correct: i32,
    pct: i32,
    passed: bool,
) -> QueryResult<Attempt> {
    db::transaction(conn, |conn| {
        diesel::update(
            evaluation_attempts::table
                .find(id)
                .filter(evaluation_attempts::status.eq(OPEN)),
        )
        .set((
            evaluation_attempts::status.eq(SUBMITTED),
            evaluation_attempts::submitted_at.eq(db::now()),
            evaluation_attempts::answers.eq(answers_json),
            evaluation_attempts::correct_count.eq(correct),
            evaluation_attempts::score_pct.eq(pct),
            evaluation_attempts::passed.eq(passed),
        ))
        .execute(conn)?;
        attempt(conn, id)?.ok_or(diesel::result::Error::NotFound)
    })
}

/// A trainee's current programme code, cohort and cohort dates.
pub type Enrolment = (String, i64, chrono::NaiveDate, chrono::NaiveDate);

pub fn trainee_enrolment(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Option<Enrolment>> {
    Ok(current_enrolments(conn, &[trainee_id])?.remove(&trainee_id))
}

/// Current enrolments of some trainees, in one query (the newest wins).
pub fn current_enrolments(
    conn: &mut DbConn,
    trainee_ids: &[i64],
) -> QueryResult<HashMap<i64, Enrolment>> {
    let rows: Vec<(i64, Enrolment)> = enrolments::table
        .inner_join(cohorts::table.inner_join(programs::table))
        .filter(enrolments::trainee_id.eq_any(trainee_ids))
        .filter(enrolments::ended_on.is_null())
        .order(enrolments::id.asc())
        .select((
            enrolments::trainee_id,
            (
                programs::code,
                cohorts::id,
                cohorts::start_date,
                cohorts::end_date,
            ),
        ))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Distance seconds a trainee spent on each activity, by activity id.
pub fn activity_seconds(conn: &mut DbConn, trainee_id: i64) -> QueryResult<HashMap<i64, i64>> {
    use crate::db::schema::activity_totals;
    activity_totals::table
        .filter(activity_totals::trainee_id.eq(trainee_id))
        .select((activity_totals::lesson_id, activity_totals::seconds))
        .load::<(i64, i64)>(conn)
        .map(|v| v.into_iter().collect())
}

/// The programme code and version of a trainee's current enrolment (her cohort's version).
pub fn trainee_version(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Option<(String, i64)>> {
    enrolments::table
        .inner_join(cohorts::table.inner_join(programs::table))
        .filter(enrolments::trainee_id.eq(trainee_id))
        .filter(enrolments::ended_on.is_null())
        .order(enrolments::id.desc())
        .select((programs::code, cohorts::content_version_id))
        .first(conn)
        .optional()
}

/// A trainee's certification results by bloc (a CQP module's code), oldest first, with the
/// day of the session each came from. `certification_blocs` belongs to the certification
/// domain, which imports this one: read here, for the programme page, without a circle.
pub fn bloc_results(
    conn: &mut DbConn,
    trainee_id: i64,
) -> QueryResult<Vec<super::blocs::BlocResult>> {
    use crate::db::schema::{certification_blocs as blocs, certification_sessions as sessions};
    type Row = (
        String,
        String,
        Option<chrono::NaiveDate>,
        chrono::NaiveDate,
        bool,
    );
    let rows: Vec<Row> = blocs::table
        .left_join(sessions::table.on(blocs::session_id.eq(sessions::id.nullable())))
        .filter(blocs::trainee_id.eq(trainee_id))
        .order((blocs::decided_on.asc(), blocs::id.asc()))
        .select((
            blocs::bloc,
            blocs::result,
            sessions::held_on.nullable(),
            blocs::decided_on,
            blocs::vae_request_id.is_not_null(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(bloc, result, session_on, decided_on, by_vae)| super::blocs::BlocResult {
                bloc,
                result,
                session_on,
                decided_on,
                by_vae,
            },
        )
        .collect())
}
