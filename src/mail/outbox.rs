//! The outbox table: enqueue in the caller's transaction, claim with a lease, settle.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::rules::{self, AfterFailure};
use super::{Attachment, Mail, Recipient};
use crate::db::schema::{outbox, outbox_attachments};
use crate::db::{self, DbConn};

pub const PENDING: &str = "pending";
pub const SENDING: &str = "sending";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";

/// Queues a message; call it inside the transaction of the event that causes it.
pub fn enqueue(
    conn: &mut DbConn,
    organism_id: Option<i64>,
    cause: &str,
    mail: &Mail,
    domain: &str,
) -> QueryResult<i64> {
    let now = db::now();
    let recipients = serde_json::to_string(&mail.to).unwrap_or_else(|_| "[]".into());
    let id: i64 = diesel::insert_into(outbox::table)
        .values((
            outbox::organism_id.eq(organism_id),
            outbox::kind.eq(&mail.kind),
            outbox::cause.eq(cause),
            outbox::recipients.eq(recipients),
            outbox::subject.eq(&mail.subject),
            outbox::body_text.eq(&mail.text),
            outbox::body_html.eq(&mail.html),
            outbox::message_id.eq(""),
            outbox::status.eq(PENDING),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(now),
            outbox::created_at.eq(now),
            outbox::list_unsubscribe.eq(&mail.list_unsubscribe),
        ))
        .returning(outbox::id)
        .get_result(conn)?;
    diesel::update(outbox::table.find(id))
        .set(outbox::message_id.eq(rules::message_id(id, now, domain)))
        .execute(conn)?;
    for a in &mail.attachments {
        diesel::insert_into(outbox_attachments::table)
            .values((
                outbox_attachments::outbox_id.eq(id),
                outbox_attachments::file_name.eq(&a.file_name),
                outbox_attachments::mime_type.eq(&a.mime_type),
                outbox_attachments::content.eq(&a.content),
            ))
            .execute(conn)?;
    }
    Ok(id)
}

macro_rules! due {
    ($now:expr, $limit:expr) => {
        outbox::table
            .filter(
                outbox::status
                    .eq(PENDING)
                    .and(outbox::next_attempt_at.le($now))
                    .or(outbox::status
                        .eq(SENDING)
                        .and(outbox::locked_until.lt($now))),
            )
            .order(outbox::next_attempt_at.asc())
            .limit($limit)
            .select(outbox::id)
    };
}

/// Reserves up to `limit` due messages for this instance. PostgreSQL skips rows another
/// instance holds; a reservation whose lease ran out (an instance died) is due again.
pub fn claim(
    conn: &mut DbConn,
    instance: &str,
    limit: i64,
    lease: Duration,
) -> QueryResult<Vec<i64>> {
    let now = db::now();
    db::transaction(conn, |conn| {
        // Not `db_run!`: only PostgreSQL has SKIP LOCKED (SQLite's write lock serialises).
        let ids: Vec<i64> = match conn {
            DbConn::Pg(c) => due!(now, limit).for_update().skip_locked().load(c)?,
            DbConn::Sqlite(c) => due!(now, limit).load(c)?,
        };
        if !ids.is_empty() {
            diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
                .set((
                    outbox::status.eq(SENDING),
                    outbox::attempts.eq(outbox::attempts + 1),
                    outbox::locked_until.eq(now + lease),
                    outbox::locked_by.eq(instance),
                ))
                .execute(conn)?;
        }
        Ok(ids)
    })
}

/// A claimed message with everything needed to send it.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: i64,
    pub to: Vec<Recipient>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub message_id: String,
    pub attempts: i32,
    pub attachments: Vec<Attachment>,
    pub list_unsubscribe: Option<String>,
}

pub fn load(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<Outgoing>> {
    type Row = (
        i64,
        String,
        String,
        String,
        Option<String>,
        String,
        i32,
        Option<String>,
    );
    let rows: Vec<Row> = outbox::table
        .filter(outbox::id.eq_any(ids))
        .order(outbox::id.asc())
        .select((
            outbox::id,
            outbox::recipients,
            outbox::subject,
            outbox::body_text,
            outbox::body_html,
            outbox::message_id,
            outbox::attempts,
            outbox::list_unsubscribe,
        ))
        .load(conn)?;
    let files: Vec<(i64, String, String, Vec<u8>)> = outbox_attachments::table
        .filter(outbox_attachments::outbox_id.eq_any(ids))
        .order(outbox_attachments::id.asc())
        .select((
            outbox_attachments::outbox_id,
            outbox_attachments::file_name,
            outbox_attachments::mime_type,
            outbox_attachments::content,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, to, subject, text, html, message_id, attempts, list_unsubscribe)| Outgoing {
                id,
                to: serde_json::from_str(&to).unwrap_or_default(),
                subject,
                text,
                html,
                message_id,
                attempts,
                attachments: files
                    .iter()
                    .filter(|f| f.0 == id)
                    .map(|(_, name, mime, content)| Attachment {
                        file_name: name.clone(),
                        mime_type: mime.clone(),
                        content: content.clone(),
                    })
                    .collect(),
                list_unsubscribe,
            },
        )
        .collect())
}

pub fn mark_sent(conn: &mut DbConn, id: i64, instance: &str) -> QueryResult<()> {
    diesel::update(
        outbox::table
            .find(id)
            .filter(outbox::locked_by.eq(instance)),
    )
    .set((
        outbox::status.eq(SENT),
        outbox::sent_at.eq(db::now()),
        outbox::locked_until.eq(None::<NaiveDateTime>),
        outbox::last_error.eq(None::<String>),
    ))
    .execute(conn)
    .map(|_| ())
}

/// How a try failed: `permanent` for a refusal that retrying cannot change (SMTP 5xx).
#[derive(Debug, Clone)]
pub struct Failure {
    pub error: String,
    pub permanent: bool,
}

/// Records a failed try: retried later with backoff, or given up after the last attempt or
/// a permanent refusal.
pub fn mark_failure(
    conn: &mut DbConn,
    msg: &Outgoing,
    instance: &str,
    failure: &Failure,
    max_attempts: i32,
    base_secs: i64,
) -> QueryResult<()> {
    let error = &failure.error;
    let now = db::now();
    let error: String = error.chars().take(1000).collect();
    let target = outbox::table
        .find(msg.id)
        .filter(outbox::locked_by.eq(instance));
    match rules::after_failure(
        msg.attempts,
        max_attempts,
        now,
        base_secs,
        failure.permanent,
    ) {
        AfterFailure::RetryAt(at) => diesel::update(target)
            .set((
                outbox::status.eq(PENDING),
                outbox::next_attempt_at.eq(at),
                outbox::locked_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(error),
            ))
            .execute(conn),
        AfterFailure::GiveUp => diesel::update(target)
            .set((
                outbox::status.eq(FAILED),
                outbox::locked_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(error),
            ))
            .execute(conn),
    }
    .map(|_| ())
}

#[derive(Debug, Clone, Queryable, Serialize)]
pub struct OutboxLine {
    pub id: i64,
    pub kind: String,
    pub recipients: String,
    pub subject: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_error: Option<String>,
    pub sent_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// The latest messages of one organism, newest first.
pub fn list_for_organism(
    conn: &mut DbConn,
    organism_id: i64,
    limit: i64,
) -> QueryResult<Vec<OutboxLine>> {
    outbox::table
        .filter(outbox::organism_id.eq(organism_id))
        .order(outbox::id.desc())
        .limit(limit)
        .select((
            outbox::id,
            outbox::kind,
            outbox::recipients,
            outbox::subject,
            outbox::status,
            outbox::attempts,
            outbox::next_attempt_at,
            outbox::last_error,
            outbox::sent_at,
            outbox::created_at,
        ))
        .load(conn)
}

pub fn organism_of(conn: &mut DbConn, id: i64) -> QueryResult<Option<Option<i64>>> {
    outbox::table
        .find(id)
        .select(outbox::organism_id)
        .first(conn)
        .optional()
}

/// Puts a failed message back in the queue, for a fresh series of attempts.
pub fn retry(conn: &mut DbConn, id: i64) -> QueryResult<bool> {
    diesel::update(outbox::table.find(id).filter(outbox::status.eq(FAILED)))
        .set((
            outbox::status.eq(PENDING),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(db::now()),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// The addresses a message goes to.
pub fn recipients_of(conn: &mut DbConn, id: i64) -> QueryResult<Vec<String>> {
    let raw: String = outbox::table
        .find(id)
        .select(outbox::recipients)
        .first(conn)?;
    let to: Vec<Recipient> = serde_json::from_str(&raw).unwrap_or_default();
    Ok(to.into_iter().map(|r| r.email).collect())
}

pub fn status_of(conn: &mut DbConn, id: i64) -> QueryResult<(String, i32, Option<String>)> {
    outbox::table
        .find(id)
        .select((outbox::status, outbox::attempts, outbox::last_error))
        .first(conn)
}

/// Messages waiting to go (pending or being sent).
pub fn queue_length(conn: &mut DbConn) -> QueryResult<i64> {
    outbox::table
        .filter(outbox::status.eq_any([PENDING, SENDING]))
        .count()
        .get_result(conn)
}
