//! Data whose own period is over, with no person to erase: mails sent more than a year ago
//! and what follows them (`rules::Keep::Mail`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{
    bouncing_addresses, followup_digests, outbox, outbox_attachments, unsubscribe_links,
};
use crate::mail::outbox::{FAILED, SENT};
use crate::privacy::Settings;
use crate::privacy::rules::{self, Keep};

/// Deletes the mails (with their attachments), digests records, bounce records and unsubscribe
/// links older than the mail rule's period; returns how many mails went. Mails still to send
/// are never deleted.
pub fn purge_mails(conn: &mut DbConn, s: &Settings, now: NaiveDateTime) -> QueryResult<usize> {
    let Some(before) = rules::rule(Keep::Mail).and_then(|r| r.kept_since(s, now)) else {
        return Ok(0);
    };
    let old = outbox::table
        .filter(outbox::created_at.lt(before))
        .filter(outbox::status.eq_any([SENT, FAILED]))
        .select(outbox::id);
    diesel::delete(bouncing_addresses::table.filter(bouncing_addresses::bounced_at.lt(before)))
        .execute(conn)?;
    let old_nullable = outbox::table
        .filter(outbox::created_at.lt(before))
        .filter(outbox::status.eq_any([SENT, FAILED]))
        .select(outbox::id.nullable());
    diesel::update(
        bouncing_addresses::table.filter(bouncing_addresses::outbox_id.eq_any(old_nullable)),
    )
    .set(bouncing_addresses::outbox_id.eq(None::<i64>))
    .execute(conn)?;
    diesel::delete(outbox_attachments::table.filter(outbox_attachments::outbox_id.eq_any(old)))
        .execute(conn)?;
    let mails = diesel::delete(
        outbox::table
            .filter(outbox::created_at.lt(before))
            .filter(outbox::status.eq_any([SENT, FAILED])),
    )
    .execute(conn)?;
    diesel::delete(followup_digests::table.filter(followup_digests::sent_on.lt(before.date())))
        .execute(conn)?;
    diesel::delete(unsubscribe_links::table.filter(unsubscribe_links::created_at.lt(before)))
        .execute(conn)?;
    Ok(mails)
}
