//! The rows of a cmi5 AU's xAPI calls: its statements, its state documents, and what the
//! statements change in its attempt.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{cmi5_statements, cmi5_states, package_attempts, package_launches};
use crate::db::{self, DbConn};

/// When a launch was made: an AU done before it is played for review.
pub fn launched_at(conn: &mut DbConn, token_sha256: &str) -> QueryResult<NaiveDateTime> {
    package_launches::table
        .find(token_sha256)
        .select(package_launches::created_at)
        .first(conn)
}

/// The attempt a statement id was stored for, if it was.
pub fn statement_attempt(conn: &mut DbConn, statement_id: &str) -> QueryResult<Option<i64>> {
    cmi5_statements::table
        .filter(cmi5_statements::statement_id.eq(statement_id))
        .select(cmi5_statements::attempt_id)
        .first(conn)
        .optional()
}

/// The cmi5 defined statements kept for an attempt: their verb, and whether of this session.
pub fn history(
    conn: &mut DbConn,
    attempt_id: i64,
    session_id: &str,
    verbs: &[&str],
) -> QueryResult<Vec<(String, bool)>> {
    let rows: Vec<(String, String)> = cmi5_statements::table
        .filter(cmi5_statements::attempt_id.eq(attempt_id))
        .filter(cmi5_statements::verb.eq_any(verbs))
        .order(cmi5_statements::id)
        .select((cmi5_statements::verb, cmi5_statements::session_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(verb, session)| (verb, session == session_id))
        .collect())
}

/// Keeps a statement; `false` when its id was already kept (sent again: nothing changes).
pub fn add_statement(
    conn: &mut DbConn,
    attempt_id: i64,
    session_id: &str,
    statement_id: &str,
    verb: &str,
    body: &str,
) -> QueryResult<bool> {
    let n = db::db_run!(conn, |c| diesel::insert_into(cmi5_statements::table)
        .values((
            cmi5_statements::attempt_id.eq(attempt_id),
            cmi5_statements::session_id.eq(session_id),
            cmi5_statements::statement_id.eq(statement_id),
            cmi5_statements::verb.eq(verb),
            cmi5_statements::body.eq(body),
            cmi5_statements::stored_at.eq(db::now()),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(n == 1)
}

/// A state document: its body and content type.
pub fn state(
    conn: &mut DbConn,
    attempt_id: i64,
    state_id: &str,
) -> QueryResult<Option<(String, String)>> {
    cmi5_states::table
        .filter(cmi5_states::attempt_id.eq(attempt_id))
        .filter(cmi5_states::state_id.eq(state_id))
        .select((cmi5_states::body, cmi5_states::content_type))
        .first(conn)
        .optional()
}

pub fn put_state(
    conn: &mut DbConn,
    attempt_id: i64,
    state_id: &str,
    body: &str,
    content_type: &str,
) -> QueryResult<()> {
    let now = db::now();
    db::db_run!(conn, |c| diesel::insert_into(cmi5_states::table)
        .values((
            cmi5_states::attempt_id.eq(attempt_id),
            cmi5_states::state_id.eq(state_id),
            cmi5_states::body.eq(body),
            cmi5_states::content_type.eq(content_type),
            cmi5_states::updated_at.eq(now),
        ))
        .on_conflict((cmi5_states::attempt_id, cmi5_states::state_id))
        .do_update()
        .set((
            cmi5_states::body.eq(body),
            cmi5_states::content_type.eq(content_type),
            cmi5_states::updated_at.eq(now),
        ))
        .execute(c))
    .map(|_| ())
}

/// Deletes one document, or all of the attempt's (`None`).
pub fn delete_states(
    conn: &mut DbConn,
    attempt_id: i64,
    state_id: Option<&str>,
) -> QueryResult<()> {
    let mut q = diesel::delete(cmi5_states::table)
        .filter(cmi5_states::attempt_id.eq(attempt_id))
        .into_boxed();
    if let Some(id) = state_id {
        q = q.filter(cmi5_states::state_id.eq(id.to_string()));
    }
    q.execute(conn).map(|_| ())
}

/// The attempt's result, locked until the transaction ends: two requests of one AU never
/// both move it from the same state.
pub fn locked_result(
    conn: &mut DbConn,
    attempt_id: i64,
) -> QueryResult<(String, String, Option<f64>, f64)> {
    let q = package_attempts::table.find(attempt_id).select((
        package_attempts::completion,
        package_attempts::success,
        package_attempts::score_scaled,
        package_attempts::package_seconds,
    ));
    // Not `db_run!`: SQLite has no FOR UPDATE (its write transaction already locks).
    match conn {
        DbConn::Pg(c) => q.for_update().first(c),
        DbConn::Sqlite(c) => q.first(c),
    }
}

/// What the AU's statements say of its attempt.
pub struct Recorded<'a> {
    pub completion: &'a str,
    pub success: &'a str,
    pub score_scaled: Option<f64>,
    pub package_seconds: f64,
    pub completed: bool,
}

pub fn record(conn: &mut DbConn, attempt_id: i64, r: &Recorded<'_>) -> QueryResult<()> {
    let now = db::now();
    diesel::update(package_attempts::table.find(attempt_id))
        .set((
            package_attempts::completion.eq(r.completion),
            package_attempts::success.eq(r.success),
            package_attempts::score_scaled.eq(r.score_scaled),
            package_attempts::package_seconds.eq(r.package_seconds),
            package_attempts::commits.eq(package_attempts::commits + 1),
            package_attempts::updated_at.eq(now),
        ))
        .execute(conn)?;
    if r.completed {
        diesel::update(
            package_attempts::table
                .find(attempt_id)
                .filter(package_attempts::completed_at.is_null()),
        )
        .set(package_attempts::completed_at.eq(now))
        .execute(conn)?;
    }
    Ok(())
}
