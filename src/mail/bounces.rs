//! Addresses that bounce: read from the bounce mailbox (`PARCOURS_BOUNCE_MAILDIR`, a Maildir
//! the mail server delivers delivery-status notifications to) by the scheduled jobs, kept in
//! `bouncing_addresses`, shown to staff on the trainee's file, and never mailed again until
//! staff send a message to them again.

use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::dsn::{self, Report};
use super::outbox;
use crate::audit::{self, Event};
use crate::db::schema::{bouncing_addresses, outbox as outbox_table};
use crate::db::{self, DbConn};

/// An address a server refused for good.
#[derive(Debug, Clone, Queryable, Serialize, PartialEq, Eq)]
pub struct Bouncing {
    pub email: String,
    pub bounced_at: NaiveDateTime,
    pub reason: String,
}

/// What one reading of the mailbox did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reading {
    /// Files claimed and read.
    pub files: usize,
    /// Addresses marked as bouncing.
    pub bounces: usize,
    /// Mail that was no delivery report (moved to `cur/` all the same).
    pub other: usize,
    /// Files that could not be read as a report: left aside, flagged, in `cur/`.
    pub malformed: usize,
}

/// Marks an address as bouncing (or refreshes it), and the message it is about as not
/// delivered; audited. In the caller's transaction.
pub fn mark(
    conn: &mut DbConn,
    failure: &dsn::Failure,
    message_id: Option<&str>,
) -> QueryResult<()> {
    let now = db::now();
    let mail: Option<(i64, Option<i64>)> = match message_id {
        Some(id) => outbox_table::table
            .filter(outbox_table::message_id.eq(id))
            .select((outbox_table::id, outbox_table::organism_id))
            .first(conn)
            .optional()?,
        None => None,
    };
    // No upsert in the two-backend derive: replace the row.
    diesel::delete(bouncing_addresses::table.find(&failure.recipient)).execute(conn)?;
    diesel::insert_into(bouncing_addresses::table)
        .values((
            bouncing_addresses::email.eq(&failure.recipient),
            bouncing_addresses::bounced_at.eq(now),
            bouncing_addresses::reason.eq(&failure.reason),
            bouncing_addresses::outbox_id.eq(mail.map(|m| m.0)),
        ))
        .execute(conn)?;
    if let Some((id, _)) = mail {
        diesel::update(outbox_table::table.find(id))
            .set((
                outbox_table::status.eq(outbox::FAILED),
                outbox_table::last_error.eq(not_sent(&failure.reason)),
            ))
            .execute(conn)?;
    }
    audit::record(
        conn,
        Event::new("mail_bounced", "outbox", mail.map(|m| m.0))
            .in_organism(mail.and_then(|m| m.1))
            .key(failure.recipient.clone())
            .detail(serde_json::json!({"status": failure.status, "reason": failure.reason})),
    )
}

/// The error a mail to a bouncing address shows.
pub fn not_sent(reason: &str) -> String {
    format!("Non envoyé : adresse refusée par son serveur ({reason})")
}

/// Which of these addresses bounce, by address.
pub fn among(conn: &mut DbConn, emails: &[String]) -> QueryResult<Vec<Bouncing>> {
    if emails.is_empty() {
        return Ok(vec![]);
    }
    bouncing_addresses::table
        .filter(bouncing_addresses::email.eq_any(emails))
        .order(bouncing_addresses::email.asc())
        .select((
            bouncing_addresses::email,
            bouncing_addresses::bounced_at,
            bouncing_addresses::reason,
        ))
        .load(conn)
}

/// A message that was not delivered, as the trainee's file lists it.
#[derive(Debug, Clone, Serialize)]
pub struct NotSent {
    pub id: i64,
    pub email: String,
    pub subject: String,
    pub created_at: NaiveDateTime,
    pub error: Option<String>,
}

/// The latest failed messages to these addresses, newest first.
pub fn failed_to(conn: &mut DbConn, emails: &[String], limit: usize) -> QueryResult<Vec<NotSent>> {
    let mut out = Vec::new();
    for email in emails {
        // LIKE narrows (its `_` may match more); the recipients' JSON decides.
        let rows: Vec<(i64, String, String, NaiveDateTime, Option<String>)> = outbox_table::table
            .filter(outbox_table::status.eq(outbox::FAILED))
            .filter(outbox_table::recipients.like(format!("%\"{email}\"%")))
            .order(outbox_table::id.desc())
            .limit(limit as i64)
            .select((
                outbox_table::id,
                outbox_table::recipients,
                outbox_table::subject,
                outbox_table::created_at,
                outbox_table::last_error,
            ))
            .load(conn)?;
        for (id, to, subject, created_at, error) in rows {
            let to: Vec<super::Recipient> = serde_json::from_str(&to).unwrap_or_default();
            if to.iter().any(|r| &r.email == email) {
                out.push(NotSent {
                    id,
                    email: email.clone(),
                    subject,
                    created_at,
                    error,
                });
            }
        }
    }
    out.sort_by_key(|m| std::cmp::Reverse(m.id));
    out.truncate(limit);
    Ok(out)
}

/// Staff send a message again: its addresses are given another chance. Audited by the caller.
pub fn clear(conn: &mut DbConn, emails: &[String]) -> QueryResult<usize> {
    diesel::delete(bouncing_addresses::table.filter(bouncing_addresses::email.eq_any(emails)))
        .execute(conn)
}

/// Reads every new file of the Maildir once: each is first claimed by renaming it into
/// `cur/` (a rename is atomic, so of several instances one alone gets it), then read. A
/// report's permanent failures are recorded; a file that cannot be read is left aside,
/// flagged, and counted; nothing in a file stops the reading of the others.
pub fn read_maildir(conn: &mut DbConn, dir: &Path) -> std::io::Result<Reading> {
    let mut reading = Reading::default();
    let new = dir.join("new");
    let cur = dir.join("cur");
    let entries = match std::fs::read_dir(&new) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(reading),
        Err(e) => return Err(e),
    };
    std::fs::create_dir_all(&cur)?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    for name in names {
        let Some(claimed) = claim(&new, &cur, &name) else {
            continue;
        };
        reading.files += 1;
        match read_one(conn, &claimed) {
            Ok(Outcome::Bounces(n)) => reading.bounces += n,
            Ok(Outcome::Other) => reading.other += 1,
            Ok(Outcome::Malformed(why)) => {
                reading.malformed += 1;
                tracing::warn!(file = %claimed.display(), %why, "bounce mailbox: unreadable report left aside");
                // Maildir's "flagged": a person opening the mailbox finds it marked.
                let _ = std::fs::rename(&claimed, cur.join(format!("{name}:2,FS")));
            }
            Err(e) => {
                // The database or the disk failed, not the file: back to `new/` for the next run.
                tracing::warn!(file = %claimed.display(), error = %e, "bounce mailbox: file not processed, kept for the next run");
                reading.files -= 1;
                let _ = std::fs::rename(&claimed, new.join(&name));
            }
        }
    }
    Ok(reading)
}

/// Moves `new/NAME` to `cur/NAME:2,S`; `None` when another instance took it first.
fn claim(new: &Path, cur: &Path, name: &str) -> Option<PathBuf> {
    let target = cur.join(format!("{name}:2,S"));
    match std::fs::rename(new.join(name), &target) {
        Ok(()) => Some(target),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            tracing::warn!(file = name, error = %e, "bounce mailbox: cannot claim file");
            None
        }
    }
}

enum Outcome {
    Bounces(usize),
    Other,
    Malformed(String),
}

/// The largest file read: a report with the whole returned message can be big, but not this.
const MAX_FILE: u64 = 10 * 1024 * 1024;

fn read_one(conn: &mut DbConn, path: &Path) -> anyhow::Result<Outcome> {
    if std::fs::metadata(path)?.len() > MAX_FILE {
        return Ok(Outcome::Malformed("fichier trop volumineux".into()));
    }
    let raw = std::fs::read(path)?;
    match dsn::read(&raw) {
        Report::Delivery {
            failures,
            message_id,
        } => {
            db::transaction(conn, |c| {
                for f in &failures {
                    mark(c, f, message_id.as_deref())?;
                }
                Ok::<_, diesel::result::Error>(())
            })?;
            Ok(Outcome::Bounces(failures.len()))
        }
        Report::NotAReport => Ok(Outcome::Other),
        Report::Malformed(why) => Ok(Outcome::Malformed(why)),
    }
}
