//! Open sessions as rows: a token names its row and is honoured only while the row is there
//! and unexpired, so a logout ends a session at once on every instance.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::store::User;
use crate::db::schema::{login_sessions, users};
use crate::db::{self, DbConn};

/// A page session (cookie) or an API session (Bearer token from `/api/v1/auth/token`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Web,
    Api,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Web => "web",
            Kind::Api => "api",
        }
    }
}

pub struct NewSession<'a> {
    pub user_id: i64,
    pub kind: Kind,
    pub device: &'a str,
    pub ip: Option<String>,
    pub ttl_secs: i64,
}

pub fn open(conn: &mut DbConn, s: &NewSession<'_>) -> QueryResult<i64> {
    let now = db::now();
    diesel::insert_into(login_sessions::table)
        .values((
            login_sessions::user_id.eq(s.user_id),
            login_sessions::kind.eq(s.kind.as_str()),
            login_sessions::device.eq(s.device),
            login_sessions::ip.eq(&s.ip),
            login_sessions::created_at.eq(now),
            login_sessions::last_seen_at.eq(now),
            login_sessions::expires_at.eq(now + Duration::seconds(s.ttl_secs)),
        ))
        .returning(login_sessions::id)
        .get_result(conn)
}

/// The account behind a live session of it: the one read of who is calling.
pub fn user_of(conn: &mut DbConn, user_id: i64, session_id: i64) -> QueryResult<Option<User>> {
    users::table
        .inner_join(login_sessions::table)
        .filter(users::id.eq(user_id))
        .filter(login_sessions::id.eq(session_id))
        .filter(login_sessions::expires_at.gt(db::now()))
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// Which of these sessions are still live (for the heartbeat writer's batch).
pub fn live(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<i64>> {
    login_sessions::table
        .filter(login_sessions::id.eq_any(ids))
        .filter(login_sessions::expires_at.gt(db::now()))
        .select(login_sessions::id)
        .load(conn)
}

/// Moves a live session's expiry forward; false when it has been closed meanwhile.
pub fn renew(conn: &mut DbConn, user_id: i64, session_id: i64, ttl_secs: i64) -> QueryResult<bool> {
    let now = db::now();
    let n = diesel::update(
        login_sessions::table
            .filter(login_sessions::id.eq(session_id))
            .filter(login_sessions::user_id.eq(user_id))
            .filter(login_sessions::expires_at.gt(now)),
    )
    .set((
        login_sessions::last_seen_at.eq(now),
        login_sessions::expires_at.eq(now + Duration::seconds(ttl_secs)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Closes one session of this person; false when there was none such.
pub fn close(conn: &mut DbConn, user_id: i64, session_id: i64) -> QueryResult<bool> {
    let n = diesel::delete(
        login_sessions::table
            .filter(login_sessions::id.eq(session_id))
            .filter(login_sessions::user_id.eq(user_id)),
    )
    .execute(conn)?;
    Ok(n == 1)
}

/// Closes every session of this person but `keep`; returns how many were closed.
pub fn close_all(conn: &mut DbConn, user_id: i64, keep: Option<i64>) -> QueryResult<usize> {
    let mut q = diesel::delete(login_sessions::table)
        .filter(login_sessions::user_id.eq(user_id))
        .into_boxed();
    if let Some(keep) = keep {
        q = q.filter(login_sessions::id.ne(keep));
    }
    q.execute(conn)
}

/// Drops sessions expired for a day: they honour nothing and list nothing.
pub fn purge_expired(conn: &mut DbConn) -> QueryResult<usize> {
    diesel::delete(
        login_sessions::table.filter(login_sessions::expires_at.lt(db::now() - Duration::days(1))),
    )
    .execute(conn)
}

#[derive(Debug, Clone, Queryable, Serialize)]
pub struct OpenSession {
    pub id: i64,
    pub kind: String,
    pub device: String,
    pub ip: Option<String>,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
}

/// A person's live sessions, the most recently used first.
pub fn list(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<OpenSession>> {
    login_sessions::table
        .filter(login_sessions::user_id.eq(user_id))
        .filter(login_sessions::expires_at.gt(db::now()))
        .order(login_sessions::last_seen_at.desc())
        .select((
            login_sessions::id,
            login_sessions::kind,
            login_sessions::device,
            login_sessions::ip,
            login_sessions::created_at,
            login_sessions::last_seen_at,
        ))
        .load(conn)
}
