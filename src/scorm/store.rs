//! Attempts and launches of packages in the database.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{package_attempts, package_launches, users};
use crate::db::{self, DbConn};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = package_attempts)]
pub struct Attempt {
    pub id: i64,
    pub trainee_id: i64,
    pub lesson_id: i64,
    pub item: String,
    pub standard: String,
    pub data: String,
    pub completion: String,
    pub success: String,
    pub score_scaled: Option<f64>,
    pub score_raw: Option<f64>,
    pub package_seconds: f64,
    pub commits: i32,
    pub started_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub completed_at: Option<NaiveDateTime>,
}

/// The trainee's attempt at one SCO or AU, made when she first launches it.
pub fn attempt_for(
    conn: &mut DbConn,
    trainee_id: i64,
    lesson_id: i64,
    item: &str,
    standard: &str,
) -> QueryResult<Attempt> {
    let now = db::now();
    db::db_run!(conn, |c| diesel::insert_into(package_attempts::table)
        .values((
            package_attempts::trainee_id.eq(trainee_id),
            package_attempts::lesson_id.eq(lesson_id),
            package_attempts::item.eq(item),
            package_attempts::standard.eq(standard),
            package_attempts::data.eq(""),
            package_attempts::completion.eq("not_attempted"),
            package_attempts::success.eq("unknown"),
            package_attempts::package_seconds.eq(0.0),
            package_attempts::commits.eq(0),
            package_attempts::started_at.eq(now),
            package_attempts::updated_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    package_attempts::table
        .filter(package_attempts::trainee_id.eq(trainee_id))
        .filter(package_attempts::lesson_id.eq(lesson_id))
        .filter(package_attempts::item.eq(item))
        .select(Attempt::as_select())
        .first(conn)
}

/// Every attempt of a trainee at one package activity.
pub fn attempts(conn: &mut DbConn, trainee_id: i64, lesson_id: i64) -> QueryResult<Vec<Attempt>> {
    package_attempts::table
        .filter(package_attempts::trainee_id.eq(trainee_id))
        .filter(package_attempts::lesson_id.eq(lesson_id))
        .order(package_attempts::id)
        .select(Attempt::as_select())
        .load(conn)
}

pub fn attempt(conn: &mut DbConn, id: i64) -> QueryResult<Attempt> {
    package_attempts::table
        .find(id)
        .select(Attempt::as_select())
        .first(conn)
}

/// A new launch of an attempt: only the secret's SHA-256 is kept.
pub fn add_launch(
    conn: &mut DbConn,
    token_sha256: &str,
    attempt_id: i64,
    expires_at: NaiveDateTime,
    session_id: &str,
    base_seconds: f64,
) -> QueryResult<()> {
    diesel::insert_into(package_launches::table)
        .values((
            package_launches::token_sha256.eq(token_sha256),
            package_launches::attempt_id.eq(attempt_id),
            package_launches::created_at.eq(db::now()),
            package_launches::expires_at.eq(expires_at),
            package_launches::session_id.eq(session_id),
            package_launches::fetched.eq(false),
            package_launches::base_seconds.eq(base_seconds),
        ))
        .execute(conn)
        .map(|_| ())
}

#[derive(Debug, Clone, Queryable)]
pub struct Launch {
    pub attempt_id: i64,
    pub expires_at: NaiveDateTime,
    pub session_id: String,
    pub fetched: bool,
    pub base_seconds: f64,
}

/// The launch a secret opens, if it has not expired.
pub fn launch(conn: &mut DbConn, token_sha256: &str) -> QueryResult<Option<Launch>> {
    package_launches::table
        .find(token_sha256)
        .filter(package_launches::expires_at.gt(db::now()))
        .select((
            package_launches::attempt_id,
            package_launches::expires_at,
            package_launches::session_id,
            package_launches::fetched,
            package_launches::base_seconds,
        ))
        .first(conn)
        .optional()
}

/// cmi5: the fetch URL gives its token once; `false` when it was already used.
pub fn mark_fetched(conn: &mut DbConn, token_sha256: &str) -> QueryResult<bool> {
    diesel::update(
        package_launches::table
            .find(token_sha256)
            .filter(package_launches::fetched.eq(false)),
    )
    .set(package_launches::fetched.eq(true))
    .execute(conn)
    .map(|n| n == 1)
}

/// Launches past their time: their secrets open nothing any more.
pub fn forget_expired(conn: &mut DbConn) -> QueryResult<usize> {
    diesel::delete(package_launches::table.filter(package_launches::expires_at.le(db::now())))
        .execute(conn)
}

/// What one commit changes in an attempt.
pub struct Committed<'a> {
    pub data: &'a str,
    pub completion: &'a str,
    pub success: &'a str,
    pub score_scaled: Option<f64>,
    pub score_raw: Option<f64>,
    /// The package's own time, its sessions added up (shown, never credited).
    pub package_seconds: f64,
    pub completed: bool,
}

pub fn commit(conn: &mut DbConn, attempt_id: i64, c: &Committed<'_>) -> QueryResult<()> {
    let now = db::now();
    let completed_at = c.completed.then_some(now);
    diesel::update(package_attempts::table.find(attempt_id))
        .set((
            package_attempts::data.eq(c.data),
            package_attempts::completion.eq(c.completion),
            package_attempts::success.eq(c.success),
            package_attempts::score_scaled.eq(c.score_scaled),
            package_attempts::score_raw.eq(c.score_raw),
            package_attempts::package_seconds.eq(c.package_seconds),
            package_attempts::commits.eq(package_attempts::commits + 1),
            package_attempts::updated_at.eq(now),
        ))
        .execute(conn)?;
    if completed_at.is_some() {
        diesel::update(
            package_attempts::table
                .find(attempt_id)
                .filter(package_attempts::completed_at.is_null()),
        )
        .set(package_attempts::completed_at.eq(completed_at))
        .execute(conn)?;
    }
    Ok(())
}

/// The name a SCO greets the trainee with (`cmi.core.student_name`, `cmi.learner_name`).
pub fn learner_name(conn: &mut DbConn, trainee_id: i64) -> QueryResult<String> {
    users::table
        .find(trainee_id)
        .select(users::name)
        .first(conn)
}
