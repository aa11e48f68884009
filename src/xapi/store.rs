//! The rows an organism's xAPI export is made of, for trainees of that organism in a period.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{
    assignment_submissions, attestations, daily_activity, evaluation_attempts, lesson_progress,
    lessons, modules, package_attempts, programs, users,
};

/// Rows kept by the export, oldest first; each names the trainee.
pub struct Rows {
    pub days: Vec<Day>,
    pub lessons: Vec<Lesson>,
    pub attempts: Vec<Attempt>,
    /// Attempts at a module's formative quizzes.
    pub quiz_attempts: Vec<QuizAttempt>,
    /// Assignment versions graded.
    pub graded: Vec<Graded>,
    pub completions: Vec<Completion>,
    /// Packages' SCOs and AUs whose result was last recorded in the period.
    pub packages: Vec<PackageResult>,
}

#[derive(Queryable)]
pub struct PackageResult {
    pub id: i64,
    pub trainee_id: i64,
    pub trainee: String,
    pub program: String,
    pub module: String,
    pub slug: String,
    pub title: String,
    pub item: String,
    pub completion: String,
    pub success: String,
    pub score_scaled: Option<f64>,
    pub package_seconds: f64,
    pub updated_at: NaiveDateTime,
}

#[derive(Queryable)]
pub struct QuizAttempt {
    pub id: i64,
    pub trainee_id: i64,
    pub trainee: String,
    pub program: String,
    pub module: String,
    pub slug: String,
    pub title: String,
    pub attempt_no: i32,
    pub correct: Option<i32>,
    pub questions: i32,
    pub passed: Option<bool>,
    pub started_at: NaiveDateTime,
    pub submitted_at: Option<NaiveDateTime>,
}

#[derive(Queryable)]
pub struct Graded {
    pub id: i64,
    pub trainee_id: i64,
    pub trainee: String,
    pub program: String,
    pub module: String,
    pub slug: String,
    pub title: String,
    pub version_no: i32,
    pub points: Option<i32>,
    pub max_points: Option<i32>,
    pub graded_at: Option<NaiveDateTime>,
}

#[derive(Queryable)]
pub struct Day {
    pub id: i64,
    pub trainee_id: i64,
    pub trainee: String,
    pub program: String,
    pub module: String,
    pub module_title: String,
    pub seconds: i64,
    pub first_at: NaiveDateTime,
    pub last_at: NaiveDateTime,
}

#[derive(Queryable)]
pub struct Lesson {
    pub id: i64,
    pub trainee_id: i64,
    pub trainee: String,
    pub program: String,
    pub module: String,
    pub slug: String,
    pub title: String,
    pub at: NaiveDateTime,
}

#[derive(Queryable)]
pub struct Completion {
    pub id: i64,
    pub trainee_id: i64,
    pub trainee: String,
    pub number: String,
    pub program: String,
    pub program_title: String,
    pub at: NaiveDateTime,
}

#[derive(Queryable)]
pub struct Attempt {
    pub id: i64,
    pub trainee_id: i64,
    pub trainee: String,
    pub program: String,
    pub module: String,
    pub module_title: String,
    pub attempt_no: i32,
    pub correct: Option<i32>,
    pub questions: i32,
    pub passed: Option<bool>,
    pub started_at: NaiveDateTime,
    pub submitted_at: Option<NaiveDateTime>,
}

/// Everything of `organism`'s trainees between two Paris days (inclusive).
pub fn rows(conn: &mut DbConn, organism: i64, from: NaiveDate, to: NaiveDate) -> QueryResult<Rows> {
    let start = crate::base::paris::paris_midnight(from);
    let end = crate::base::paris::paris_midnight(to + chrono::Duration::days(1));
    let w = Window {
        organism,
        from,
        to,
        start,
        end,
    };
    Ok(Rows {
        days: day_rows(conn, &w)?,
        lessons: lesson_rows(conn, &w)?,
        attempts: attempt_rows(conn, &w)?,
        quiz_attempts: quiz_attempt_rows(conn, &w)?,
        graded: graded_rows(conn, &w)?,
        completions: completion_rows(conn, &w)?,
        packages: package_rows(conn, &w)?,
    })
}

fn package_rows(conn: &mut DbConn, w: &Window) -> QueryResult<Vec<PackageResult>> {
    package_attempts::table
        .inner_join(users::table.on(users::id.eq(package_attempts::trainee_id)))
        .inner_join(lessons::table.on(lessons::id.eq(package_attempts::lesson_id)))
        .inner_join(modules::table.on(modules::id.eq(lessons::module_id)))
        .inner_join(programs::table.on(programs::id.eq(modules::program_id)))
        .filter(users::organism_id.eq(w.organism))
        .filter(package_attempts::updated_at.ge(w.start))
        .filter(package_attempts::updated_at.lt(w.end))
        .filter(
            package_attempts::completion
                .eq("completed")
                .or(package_attempts::success.ne("unknown")),
        )
        .order(package_attempts::id.asc())
        .select((
            package_attempts::id,
            users::id,
            users::name,
            programs::code,
            modules::code,
            lessons::slug,
            lessons::title,
            package_attempts::item,
            package_attempts::completion,
            package_attempts::success,
            package_attempts::score_scaled,
            package_attempts::package_seconds,
            package_attempts::updated_at,
        ))
        .load(conn)
}

/// An organism and a period, as Paris days and as their UTC bounds `[start, end)`.
struct Window {
    organism: i64,
    from: NaiveDate,
    to: NaiveDate,
    start: NaiveDateTime,
    end: NaiveDateTime,
}

fn day_rows(conn: &mut DbConn, w: &Window) -> QueryResult<Vec<Day>> {
    daily_activity::table
        .inner_join(users::table.on(users::id.eq(daily_activity::trainee_id)))
        .inner_join(modules::table.on(modules::id.eq(daily_activity::module_id)))
        .inner_join(programs::table.on(programs::id.eq(modules::program_id)))
        .filter(users::organism_id.eq(w.organism))
        .filter(daily_activity::day.ge(w.from))
        .filter(daily_activity::day.le(w.to))
        .filter(daily_activity::distance_seconds.gt(0))
        .order(daily_activity::id.asc())
        .select((
            daily_activity::id,
            users::id,
            users::name,
            programs::code,
            modules::code,
            modules::title,
            daily_activity::distance_seconds,
            daily_activity::first_at,
            daily_activity::last_at,
        ))
        .load(conn)
}

fn lesson_rows(conn: &mut DbConn, w: &Window) -> QueryResult<Vec<Lesson>> {
    lesson_progress::table
        .inner_join(users::table.on(users::id.eq(lesson_progress::trainee_id)))
        .inner_join(lessons::table.on(lessons::id.eq(lesson_progress::lesson_id)))
        .inner_join(modules::table.on(modules::id.eq(lessons::module_id)))
        .inner_join(programs::table.on(programs::id.eq(modules::program_id)))
        .filter(users::organism_id.eq(w.organism))
        .filter(lesson_progress::completed_at.ge(w.start))
        .filter(lesson_progress::completed_at.lt(w.end))
        .order(lesson_progress::id.asc())
        .select((
            lesson_progress::id,
            users::id,
            users::name,
            programs::code,
            modules::code,
            lessons::slug,
            lessons::title,
            lesson_progress::completed_at,
        ))
        .load(conn)
}

fn attempt_rows(conn: &mut DbConn, w: &Window) -> QueryResult<Vec<Attempt>> {
    evaluation_attempts::table
        .inner_join(users::table.on(users::id.eq(evaluation_attempts::trainee_id)))
        .inner_join(modules::table.on(modules::id.eq(evaluation_attempts::module_id)))
        .inner_join(programs::table.on(programs::id.eq(modules::program_id)))
        .filter(users::organism_id.eq(w.organism))
        .filter(evaluation_attempts::submitted_at.ge(w.start))
        // The module evaluations; formative quizzes have their own name.
        .filter(evaluation_attempts::quiz.eq(""))
        .filter(evaluation_attempts::submitted_at.lt(w.end))
        .order(evaluation_attempts::id.asc())
        .select((
            evaluation_attempts::id,
            users::id,
            users::name,
            programs::code,
            modules::code,
            modules::title,
            evaluation_attempts::attempt_no,
            evaluation_attempts::correct_count,
            evaluation_attempts::question_count,
            evaluation_attempts::passed,
            evaluation_attempts::started_at,
            evaluation_attempts::submitted_at,
        ))
        .load(conn)
}

fn quiz_attempt_rows(conn: &mut DbConn, w: &Window) -> QueryResult<Vec<QuizAttempt>> {
    evaluation_attempts::table
        .inner_join(users::table.on(users::id.eq(evaluation_attempts::trainee_id)))
        .inner_join(
            lessons::table.on(lessons::module_id
                .eq(evaluation_attempts::module_id)
                .and(lessons::slug.eq(evaluation_attempts::quiz))),
        )
        .inner_join(modules::table.on(modules::id.eq(evaluation_attempts::module_id)))
        .inner_join(programs::table.on(programs::id.eq(modules::program_id)))
        .filter(users::organism_id.eq(w.organism))
        .filter(evaluation_attempts::quiz.ne(""))
        .filter(evaluation_attempts::submitted_at.ge(w.start))
        .filter(evaluation_attempts::submitted_at.lt(w.end))
        .order(evaluation_attempts::id.asc())
        .select((
            evaluation_attempts::id,
            users::id,
            users::name,
            programs::code,
            modules::code,
            lessons::slug,
            lessons::title,
            evaluation_attempts::attempt_no,
            evaluation_attempts::correct_count,
            evaluation_attempts::question_count,
            evaluation_attempts::passed,
            evaluation_attempts::started_at,
            evaluation_attempts::submitted_at,
        ))
        .load(conn)
}

fn graded_rows(conn: &mut DbConn, w: &Window) -> QueryResult<Vec<Graded>> {
    assignment_submissions::table
        .inner_join(users::table.on(users::id.eq(assignment_submissions::trainee_id)))
        .inner_join(lessons::table.on(lessons::id.eq(assignment_submissions::lesson_id)))
        .inner_join(modules::table.on(modules::id.eq(lessons::module_id)))
        .inner_join(programs::table.on(programs::id.eq(modules::program_id)))
        .filter(users::organism_id.eq(w.organism))
        .filter(
            assignment_submissions::status
                .eq(crate::curriculum::rules::SubmissionState::Graded.as_str()),
        )
        .filter(assignment_submissions::graded_at.ge(w.start))
        .filter(assignment_submissions::graded_at.lt(w.end))
        .order(assignment_submissions::id.asc())
        .select((
            assignment_submissions::id,
            users::id,
            users::name,
            programs::code,
            modules::code,
            lessons::slug,
            lessons::title,
            assignment_submissions::version_no,
            assignment_submissions::points,
            assignment_submissions::max_points,
            assignment_submissions::graded_at,
        ))
        .load(conn)
}

fn completion_rows(conn: &mut DbConn, w: &Window) -> QueryResult<Vec<Completion>> {
    let final_kinds = [
        crate::attestation::rules::Kind::FinFormation.as_str(),
        crate::attestation::rules::Kind::Fae.as_str(),
    ];
    attestations::table
        .inner_join(users::table.on(users::id.eq(attestations::trainee_id)))
        .inner_join(crate::db::schema::cohorts::table.inner_join(programs::table))
        .filter(attestations::organism_id.eq(w.organism))
        .filter(attestations::kind.eq_any(final_kinds))
        .filter(attestations::revoked_at.is_null())
        .filter(attestations::issued_at.ge(w.start))
        .filter(attestations::issued_at.lt(w.end))
        .order(attestations::id.asc())
        .select((
            attestations::id,
            users::id,
            users::name,
            attestations::number,
            programs::code,
            programs::title,
            attestations::issued_at,
        ))
        .load(conn)
}
