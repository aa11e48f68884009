//! The audit log: one row per change that matters, written in the caller's transaction.

use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::audit_events;
use crate::db::{self, DbConn};

/// What happened, to what, by whom. Build it, then `record` it inside the transaction.
#[derive(Debug, Default)]
pub struct Event<'a> {
    pub actor: Option<i64>,
    pub organism: Option<i64>,
    pub action: &'a str,
    pub subject_type: &'a str,
    pub subject_id: Option<i64>,
    pub subject_key: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub ip: Option<String>,
}

impl<'a> Event<'a> {
    pub fn new(action: &'a str, subject_type: &'a str, subject_id: Option<i64>) -> Self {
        Event {
            action,
            subject_type,
            subject_id,
            ..Default::default()
        }
    }

    pub fn by(mut self, actor: Option<i64>) -> Self {
        self.actor = actor;
        self
    }

    pub fn in_organism(mut self, organism: Option<i64>) -> Self {
        self.organism = organism;
        self
    }

    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.subject_key = Some(key.into());
        self
    }

    pub fn change(mut self, before: impl Serialize, after: impl Serialize) -> Self {
        self.before = serde_json::to_value(before).ok();
        self.after = serde_json::to_value(after).ok();
        self
    }

    pub fn detail(mut self, after: impl Serialize) -> Self {
        self.after = serde_json::to_value(after).ok();
        self
    }

    pub fn from_ip(mut self, ip: impl ToString) -> Self {
        self.ip = Some(ip.to_string());
        self
    }
}

pub fn record(conn: &mut DbConn, event: Event<'_>) -> QueryResult<()> {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::at.eq(db::now()),
            audit_events::actor_user_id.eq(event.actor),
            audit_events::organism_id.eq(event.organism),
            audit_events::action.eq(event.action),
            audit_events::subject_type.eq(event.subject_type),
            audit_events::subject_id.eq(event.subject_id),
            audit_events::subject_key.eq(event.subject_key),
            audit_events::before_json.eq(event.before.map(|v| v.to_string())),
            audit_events::after_json.eq(event.after.map(|v| v.to_string())),
            audit_events::ip.eq(event.ip),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The id of the latest `action` on `subject_type` n° `subject_id`: read in the transaction
/// that recorded it, the event just written (an import's report, shown again after a redirect).
pub fn latest(
    conn: &mut DbConn,
    action: &str,
    subject_type: &str,
    subject_id: i64,
) -> QueryResult<Option<i64>> {
    audit_events::table
        .filter(audit_events::action.eq(action))
        .filter(audit_events::subject_type.eq(subject_type))
        .filter(audit_events::subject_id.eq(subject_id))
        .order(audit_events::id.desc())
        .select(audit_events::id)
        .first(conn)
        .optional()
}

/// What one event recorded after the change, if it is `action` on `subject_type` n° `subject_id`:
/// the caller asks for exactly the event it may show.
pub fn after_of(
    conn: &mut DbConn,
    id: i64,
    action: &str,
    subject_type: &str,
    subject_id: i64,
) -> QueryResult<Option<serde_json::Value>> {
    let after: Option<Option<String>> = audit_events::table
        .find(id)
        .filter(audit_events::action.eq(action))
        .filter(audit_events::subject_type.eq(subject_type))
        .filter(audit_events::subject_id.eq(subject_id))
        .select(audit_events::after_json)
        .first(conn)
        .optional()?;
    Ok(after
        .flatten()
        .and_then(|text| serde_json::from_str(&text).ok()))
}

#[derive(Debug, Queryable, Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: chrono::NaiveDateTime,
    pub actor_user_id: Option<i64>,
    pub action: String,
    pub subject_type: String,
    pub subject_id: Option<i64>,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

/// The history of one subject, newest first.
pub fn history(
    conn: &mut DbConn,
    subject_type: &str,
    subject_id: i64,
    limit: i64,
) -> QueryResult<Vec<AuditRow>> {
    audit_events::table
        .filter(audit_events::subject_type.eq(subject_type))
        .filter(audit_events::subject_id.eq(subject_id))
        .order(audit_events::id.desc())
        .limit(limit)
        .select((
            audit_events::id,
            audit_events::at,
            audit_events::actor_user_id,
            audit_events::action,
            audit_events::subject_type,
            audit_events::subject_id,
            audit_events::before_json,
            audit_events::after_json,
        ))
        .load(conn)
}
