//! A person corrects her own e-mail address (right of correction, issue #23). The new address
//! changes nothing until the link mailed to it is used: a mistyped address cannot lock her
//! out. Then the old address is told, in case someone else did it. Only a SHA-256 of the
//! token is kept; a request not confirmed within 48 hours is purged.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::invite::{hash_token, new_token};
use crate::audit::{self, Event};
use crate::base::field;
use crate::db::schema::{email_changes, organisms, users};
use crate::db::{self, DbConn};
use crate::mail::{self, Mail, MailContext, Recipient, outbox};
use crate::web::{AppError, AppResult};

use super::rules::EMAIL_CHANGE_HOURS;
/// The path the link's page lives under.
pub const PATH: &str = "/adresse/confirmation";

/// A change waiting for its link.
#[derive(Clone, Debug)]
pub struct Pending {
    pub id: i64,
    pub user: i64,
    pub new_email: String,
    pub expires_at: NaiveDateTime,
}

/// The checked new address: the French refusal of a bad one, of her own, or of another
/// account's.
fn check(conn: &mut DbConn, user: i64, raw: &str) -> AppResult<String> {
    let email = field::normalize_email(raw).map_err(|m| AppError::invalid("email", m))?;
    let current: String = users::table.find(user).select(users::email).first(conn)?;
    if email == current {
        return Err(AppError::invalid(
            "email",
            "C'est déjà l'adresse de votre compte.",
        ));
    }
    if super::store::email_taken(conn, &email)? {
        return Err(AppError::invalid(
            "email",
            "Cette adresse est déjà celle d'un autre compte : choisissez-en une autre.",
        ));
    }
    Ok(email)
}

/// Records a change for `user` and returns the token of its link; an earlier change still
/// waiting is dropped. In the caller's transaction.
pub fn create(conn: &mut DbConn, user: i64, raw: &str) -> AppResult<(String, Pending)> {
    let email = check(conn, user, raw)?;
    diesel::delete(email_changes::table.filter(email_changes::user_id.eq(user))).execute(conn)?;
    let (hash, token) = new_token()?;
    let now = db::now();
    let expires_at = now + Duration::hours(EMAIL_CHANGE_HOURS);
    let id: i64 = diesel::insert_into(email_changes::table)
        .values((
            email_changes::user_id.eq(user),
            email_changes::new_email.eq(&email),
            email_changes::token_hash.eq(&hash),
            email_changes::created_at.eq(now),
            email_changes::expires_at.eq(expires_at),
        ))
        .returning(email_changes::id)
        .get_result(conn)?;
    let pending = Pending {
        id,
        user,
        new_email: email,
        expires_at,
    };
    Ok((token, pending))
}

/// The name, the organism's id and name of a person, for her mails.
fn person(conn: &mut DbConn, user: i64) -> QueryResult<(String, Option<i64>, Option<String>)> {
    let (name, org): (String, Option<i64>) = users::table
        .find(user)
        .select((users::name, users::organism_id))
        .first(conn)?;
    let org_name = match org {
        Some(o) => organisms::table
            .find(o)
            .select(organisms::name)
            .first(conn)
            .optional()?,
        None => None,
    };
    Ok((name, org, org_name))
}

/// Queues one of this module's mails.
fn send(
    conn: &mut DbConn,
    mc: &MailContext<'_>,
    template: &str,
    ctx: &tera::Context,
    to: Recipient,
    organism: Option<i64>,
    cause: &str,
) -> AppResult<()> {
    let invalid = |e: mail::MailError| AppError::Internal(anyhow::anyhow!("{template}: {e}"));
    let (subject, text, html) = mail::render(mc.templates, template, ctx).map_err(invalid)?;
    let message = Mail::new(template, vec![to], &subject, text, html, vec![]).map_err(invalid)?;
    outbox::enqueue(conn, organism, cause, &message, &mc.domain())?;
    Ok(())
}

/// Asks for a new address: mails the link to it, audited. Returns the new address.
pub fn request(conn: &mut DbConn, mc: &MailContext<'_>, user: i64, raw: &str) -> AppResult<String> {
    db::transaction(conn, |conn| {
        let (token, pending) = create(conn, user, raw)?;
        let (name, org, org_name) = person(conn, user)?;
        let mut ctx = tera::Context::new();
        ctx.insert("name", &name);
        ctx.insert("base_url", mc.base_url);
        ctx.insert("organism", &org_name);
        ctx.insert("new_email", &pending.new_email);
        ctx.insert("expires_at", &pending.expires_at);
        ctx.insert(
            "link",
            &format!("{}{PATH}/{token}", mc.base_url.trim_end_matches('/')),
        );
        let to = Recipient {
            name: Some(name),
            email: pending.new_email.clone(),
        };
        let cause = format!("email_change:{}", pending.id);
        send(conn, mc, "email_change_confirm", &ctx, to, org, &cause)?;
        audit::record(
            conn,
            Event::new("email_change_requested", "user", Some(user))
                .by(Some(user))
                .in_organism(org)
                .key(user.to_string())
                .detail(serde_json::json!({"new_email": pending.new_email})),
        )?;
        Ok(pending.new_email)
    })
}

/// The live change of a token: `None` when unknown, expired, or the account is disabled.
pub fn find(conn: &mut DbConn, token: &str) -> QueryResult<Option<Pending>> {
    email_changes::table
        .inner_join(users::table.on(users::id.eq(email_changes::user_id)))
        .filter(email_changes::token_hash.eq(hash_token(token)))
        .filter(email_changes::expires_at.gt(db::now()))
        .filter(users::disabled.eq(false))
        .select((
            email_changes::id,
            email_changes::user_id,
            email_changes::new_email,
            email_changes::expires_at,
        ))
        .first::<(i64, i64, String, NaiveDateTime)>(conn)
        .optional()
        .map(|r| {
            r.map(|(id, user, new_email, expires_at)| Pending {
                id,
                user,
                new_email,
                expires_at,
            })
        })
}

/// The change a person is waiting for, shown on her account page.
pub fn waiting(conn: &mut DbConn, user: i64) -> QueryResult<Option<(String, NaiveDateTime)>> {
    email_changes::table
        .filter(email_changes::user_id.eq(user))
        .filter(email_changes::expires_at.gt(db::now()))
        .select((email_changes::new_email, email_changes::expires_at))
        .first(conn)
        .optional()
}

/// Applies a confirmed change: the account's address becomes the new one, the old one is
/// told, audited. Refused in French when another account took the address meanwhile.
pub fn confirm(conn: &mut DbConn, mc: &MailContext<'_>, pending: &Pending) -> AppResult<()> {
    db::transaction(conn, |conn| {
        let old: String = users::table
            .find(pending.user)
            .select(users::email)
            .first(conn)?;
        if super::store::email_taken(conn, &pending.new_email)? {
            return Err(AppError::Conflict(
                "Cette adresse est devenue celle d'un autre compte entre-temps : la vôtre n'a pas changé."
                    .into(),
            ));
        }
        let now = db::now();
        diesel::update(users::table.find(pending.user))
            .set((
                users::email.eq(&pending.new_email),
                users::updated_at.eq(now),
            ))
            .execute(conn)?;
        diesel::delete(email_changes::table.filter(email_changes::user_id.eq(pending.user)))
            .execute(conn)?;
        let (name, org, org_name) = person(conn, pending.user)?;
        let mut ctx = tera::Context::new();
        ctx.insert("name", &name);
        ctx.insert("base_url", mc.base_url);
        ctx.insert("organism", &org_name);
        ctx.insert("new_email", &pending.new_email);
        ctx.insert("at", &now);
        let to = Recipient {
            name: Some(name),
            email: old.clone(),
        };
        let cause = format!("email_changed:{}", pending.id);
        send(conn, mc, "email_change_notice", &ctx, to, org, &cause)?;
        audit::record(
            conn,
            Event::new("email_changed", "user", Some(pending.user))
                .by(Some(pending.user))
                .in_organism(org)
                .key(pending.user.to_string())
                .change(
                    serde_json::json!({"email": old}),
                    serde_json::json!({"email": pending.new_email}),
                ),
        )?;
        Ok(())
    })
}

/// Forgets the changes whose link expired (the retention rule of `privacy::rules`).
pub fn purge(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(email_changes::table.filter(email_changes::expires_at.le(now))).execute(conn)
}
