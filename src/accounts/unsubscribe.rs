//! Turning off a non-essential mail from a link in the mail itself, without signing in (issue
//! #23). Each such mail carries its own link, naming one person and one kind of mail; only a
//! SHA-256 of its token is kept. Using a link turns that kind off for that person, once: a
//! second use changes nothing. Every link issued and used is audited.
//!
//! Which mails are non-essential (may be turned off) and which are not:
//! - `weekly_digest` (the doctor's Monday summary of his assistants), `nudge` (a trainee
//!   inactive for some days), `followup_digest` and `followup_staff_digest` (summaries of
//!   unread answers and of waiting questions): reminders of what the platform shows anyway;
//!   non-essential. Their list and their stored choices are `mail_choices.rs`; each such mail
//!   carries its link in its text and as its `List-Unsubscribe` header (RFC 8058: a one-click
//!   POST to the same address, without session or CSRF token, the token being the proof).
//! - Essential, never turned off, and each says why it is sent: `invitation` and
//!   `password_reset` (asked for, or the way into an account), the attestations and CQP copies
//!   (the documents themselves), `cpam_reminder` and `cpam_unforwarded` (the doctor's legal
//!   duty to forward the copy to his CPAM, for the aid he receives), `deadline_alert_doctor`
//!   and `deadline_alert_organism` (the legal deadline to obtain the CQP of the doctor's own
//!   employee, on which his aid depends), `vae_*` (the answer to a request the person made),
//!   the e-mail change and identity correction mails (asked for by the person, or her
//!   organism's duty to answer).

use diesel::prelude::*;

use super::invite::{hash_token, new_token};
use super::mail_choices::{self, Via};
use crate::audit::{self, Event};
use crate::db::schema::unsubscribe_links;
use crate::db::{self, DbConn};
use crate::web::AppResult;

/// The path a link's page lives under (`/desabonnement/<token>`).
pub const PATH: &str = "/desabonnement";

/// How the confirmation page names a kind; `None` for a kind no link may turn off.
pub fn label(kind: &str) -> Option<&'static str> {
    mail_choices::optional(kind).map(|o| o.what)
}

/// What a live token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub id: i64,
    pub user: i64,
    pub kind: String,
    /// Whether the person still receives this kind.
    pub wanted: bool,
}

/// Creates a link for one person and one kind, in the caller's transaction (the one that
/// queues the mail); returns its full URL.
pub fn issue(conn: &mut DbConn, base_url: &str, user: i64, kind: &str) -> AppResult<String> {
    let (hash, token) = new_token()?;
    let id: i64 = diesel::insert_into(unsubscribe_links::table)
        .values((
            unsubscribe_links::user_id.eq(user),
            unsubscribe_links::kind.eq(kind),
            unsubscribe_links::token_hash.eq(&hash),
            unsubscribe_links::created_at.eq(db::now()),
        ))
        .returning(unsubscribe_links::id)
        .get_result(conn)?;
    audit::record(
        conn,
        Event::new("unsubscribe_link_issued", "unsubscribe_link", Some(id))
            .key(user.to_string())
            .detail(serde_json::json!({"user": user, "kind": kind})),
    )?;
    Ok(format!("{}{PATH}/{token}", base_url.trim_end_matches('/')))
}

/// Looks a token up: `None` for an unknown token, a disabled account or a kind no longer
/// optional.
pub fn find(conn: &mut DbConn, token: &str) -> QueryResult<Option<Link>> {
    let row: Option<(i64, i64, String)> = unsubscribe_links::table
        .filter(unsubscribe_links::token_hash.eq(hash_token(token)))
        .select((
            unsubscribe_links::id,
            unsubscribe_links::user_id,
            unsubscribe_links::kind,
        ))
        .first(conn)
        .optional()?;
    let Some((id, user, kind)) = row else {
        return Ok(None);
    };
    Ok(mail_choices::wanted(conn, user, &kind)?.map(|wanted| Link {
        id,
        user,
        kind,
        wanted,
    }))
}

/// Turns the link's kind off for its person; a second use changes nothing (and records
/// nothing). Returns whether it was on.
pub fn turn_off(conn: &mut DbConn, link: &Link) -> AppResult<bool> {
    let link = link.clone();
    db::transaction(conn, |conn| {
        let done = mail_choices::set(conn, link.user, &link.kind, false, Via::Link(link.id))?;
        if done {
            diesel::update(unsubscribe_links::table.find(link.id))
                .set(unsubscribe_links::used_at.eq(db::now()))
                .execute(conn)?;
        }
        Ok(done)
    })
}
