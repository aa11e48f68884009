//! Single-use links by mail: invitations (choose a first password, 7 days) and password
//! resets (24 hours). Only a SHA-256 of the token is stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::rules::{self, LinkState, Role};
use super::store::{self, NewUser, User};
use crate::audit::{self, Event};
use crate::db::schema::invitations;
use crate::db::{self, DbConn};
use crate::mail::{self, Mail, MailContext, Recipient, outbox};
use crate::web::{AppError, AppResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Invitation,
    Reset,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Invitation => "invitation",
            Purpose::Reset => "reset",
        }
    }

    fn lifetime(self) -> Duration {
        match self {
            Purpose::Invitation => Duration::days(rules::INVITATION_DAYS),
            Purpose::Reset => Duration::hours(rules::RESET_HOURS),
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Purpose::Invitation => "/invitation",
            Purpose::Reset => "/mot-de-passe",
        }
    }
}

/// A random token and its SHA-256, the only form kept.
pub(super) fn new_token() -> AppResult<(String, String)> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| AppError::Internal(anyhow::anyhow!("random: {e}")))?;
    let token = URL_SAFE_NO_PAD.encode(raw);
    Ok((hash_token(&token), token))
}

pub fn hash_token(token: &str) -> String {
    crate::base::digest::sha256_hex(token.as_bytes())
}

fn mail_error(e: mail::MailError) -> AppError {
    match e {
        mail::MailError::Invalid(m) => AppError::invalid("email", m),
        mail::MailError::Template(t) => AppError::Internal(anyhow::anyhow!("mail template {t}")),
    }
}

/// Mails an invitation to an existing account without a password, in the caller's
/// transaction (used when an import creates the account).
pub fn send_invitation(
    conn: &mut DbConn,
    mc: &MailContext<'_>,
    user: &User,
    organism: (i64, &str),
    actor: Option<i64>,
) -> AppResult<i64> {
    issue_link(
        conn,
        mc,
        user,
        Purpose::Invitation,
        Some((organism.0, organism.1.to_string())),
        actor,
    )
}

/// Creates a link for a user and queues its mail, in the caller's transaction.
fn issue_link(
    conn: &mut DbConn,
    mc: &MailContext<'_>,
    user: &User,
    purpose: Purpose,
    organism: Option<(i64, String)>,
    actor: Option<i64>,
) -> AppResult<i64> {
    let now = db::now();
    // A new link replaces the older ones of the same kind.
    diesel::update(
        invitations::table
            .filter(invitations::user_id.eq(user.id))
            .filter(invitations::purpose.eq(purpose.as_str()))
            .filter(invitations::used_at.is_null())
            .filter(invitations::expires_at.gt(now)),
    )
    .set(invitations::expires_at.eq(now))
    .execute(conn)?;
    let (hash, token) = new_token()?;
    let expires_at = now + purpose.lifetime();
    let id: i64 = diesel::insert_into(invitations::table)
        .values((
            invitations::user_id.eq(user.id),
            invitations::purpose.eq(purpose.as_str()),
            invitations::token_hash.eq(&hash),
            invitations::organism_id.eq(organism.as_ref().map(|o| o.0)),
            invitations::created_by.eq(actor),
            invitations::created_at.eq(now),
            invitations::expires_at.eq(expires_at),
        ))
        .returning(invitations::id)
        .get_result(conn)?;
    let role = user.role().map(|r| r.label()).unwrap_or_default();
    let mut ctx = tera::Context::new();
    // A doctor known by his address only (a practice was named in his place) is greeted
    // without a name rather than by his address.
    let name = if user.name == user.email {
        ""
    } else {
        user.name.as_str()
    };
    ctx.insert("name", name);
    ctx.insert("role", role);
    ctx.insert("organism", &organism.as_ref().map(|o| o.1.clone()));
    ctx.insert(
        "link",
        &format!("{}{}/{token}", mc.base_url, purpose.path()),
    );
    ctx.insert("base_url", mc.base_url);
    ctx.insert("expires_at", &expires_at);
    // A doctor may follow his assistants before he ever chooses a password.
    let doctor_link = if purpose == Purpose::Invitation && user.role() == Some(Role::Doctor) {
        Some(super::doctor_links::issue(
            conn,
            mc.base_url,
            user.id,
            "invitation",
        )?)
    } else {
        None
    };
    ctx.insert("doctor_link", &doctor_link);
    let template = match purpose {
        Purpose::Invitation => "invitation",
        Purpose::Reset => "password_reset",
    };
    let (subject, text, html) = mail::render(mc.templates, template, &ctx).map_err(mail_error)?;
    let message = Mail::new(
        template,
        vec![Recipient {
            name: Some(user.name.clone()),
            email: user.email.clone(),
        }],
        &subject,
        text,
        html,
        vec![],
    )
    .map_err(mail_error)?;
    outbox::enqueue(
        conn,
        organism.as_ref().map(|o| o.0),
        &format!("{}:{id}", purpose.as_str()),
        &message,
        &mc.domain(),
    )?;
    audit::record(
        conn,
        Event::new(
            match purpose {
                Purpose::Invitation => "invitation_sent",
                Purpose::Reset => "password_reset_requested",
            },
            "user",
            Some(user.id),
        )
        .by(actor)
        .in_organism(organism.as_ref().map(|o| o.0))
        .key(user.email.clone()),
    )?;
    Ok(id)
}

pub struct Invitee<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
}

/// Invites a person into an organism: creates the account if needed and mails the link.
/// All in one transaction: on any error nothing is created and nothing is queued.
pub fn invite(
    conn: &mut DbConn,
    mc: &MailContext<'_>,
    actor: &super::CurrentUser,
    organism: (i64, &str),
    invitee: Invitee<'_>,
) -> AppResult<i64> {
    let (organism_id, org_name) = organism;
    actor.require_org_admin_of(organism_id)?;
    if !rules::may_invite(actor.role, invitee.role) {
        return Err(AppError::Forbidden(
            "Vous ne pouvez pas inviter une personne avec ce rôle.".into(),
        ));
    }
    let email = crate::base::field::normalize_email(invitee.email)
        .map_err(|m| AppError::invalid("email", m))?;
    let name = crate::base::field::validate_name(invitee.name)
        .map_err(|m| AppError::invalid("name", m))?;
    db::transaction(conn, |conn| {
        let user = match store::by_email(conn, &email)? {
            Some(u) if u.password_hash.is_some() => {
                return Err(AppError::Conflict(format!(
                    "Un compte existe déjà pour l'adresse {email}."
                )));
            }
            Some(u) if u.organism_id.is_some() && u.organism_id != Some(organism_id) => {
                return Err(AppError::Conflict(format!(
                    "L'adresse {email} est déjà invitée par un autre organisme."
                )));
            }
            Some(u) => u,
            None => {
                let org = (invitee.role != Role::Doctor).then_some(organism_id);
                let id = store::create(
                    conn,
                    Some(actor.id),
                    NewUser {
                        email: &email,
                        name: &name,
                        role: invitee.role,
                        organism_id: org,
                        password_hash: None,
                    },
                )?;
                store::by_id(conn, id)?.ok_or(AppError::NotFound)?
            }
        };
        issue_link(
            conn,
            mc,
            &user,
            Purpose::Invitation,
            Some((organism_id, org_name.to_string())),
            Some(actor.id),
        )?;
        Ok(user.id)
    })
}

/// Reset mails one account may receive in an hour: enough for a lost mail, too few to flood
/// an inbox.
pub const RESET_MAILS_PER_HOUR: i64 = 3;

/// A reset link for an existing, enabled account, at most `RESET_MAILS_PER_HOUR` an hour;
/// silently nothing otherwise, so the answer never tells whether an address has an account.
/// The links already issued are the count, so it holds across instances.
pub fn request_reset(conn: &mut DbConn, mc: &MailContext<'_>, raw_email: &str) -> AppResult<()> {
    let Ok(email) = crate::base::field::normalize_email(raw_email) else {
        return Ok(());
    };
    db::transaction(conn, |conn| {
        let Some(user) = store::by_email(conn, &email)? else {
            return Ok(());
        };
        if user.disabled || user.password_hash.is_none() {
            return Ok(());
        }
        if resets_in_last_hour(conn, user.id)? >= RESET_MAILS_PER_HOUR {
            audit::record(
                conn,
                Event::new("password_reset_limited", "user", Some(user.id))
                    .in_organism(user.organism_id)
                    .key(user.email.clone()),
            )?;
            return Ok(());
        }
        issue_link(conn, mc, &user, Purpose::Reset, None, None)?;
        Ok(())
    })
}

/// Reset links issued to the account in the last hour. On PostgreSQL the account's row is
/// locked first, so that requests reaching several instances at once count one after the
/// other (SQLite's write transaction already does that).
fn resets_in_last_hour(conn: &mut DbConn, user_id: i64) -> QueryResult<i64> {
    use crate::db::schema::users;
    if let DbConn::Pg(c) = conn {
        users::table
            .find(user_id)
            .select(users::id)
            .for_update()
            .first::<i64>(c)?;
    }
    invitations::table
        .filter(invitations::user_id.eq(user_id))
        .filter(invitations::purpose.eq(Purpose::Reset.as_str()))
        .filter(invitations::created_at.gt(db::now() - Duration::hours(1)))
        .count()
        .get_result(conn)
}

pub struct Link {
    pub id: i64,
    pub user: User,
    pub state: LinkState,
    pub expires_at: NaiveDateTime,
}

pub fn find(conn: &mut DbConn, purpose: Purpose, token: &str) -> AppResult<Option<Link>> {
    let row: Option<(i64, i64, NaiveDateTime, Option<NaiveDateTime>)> = invitations::table
        .filter(invitations::token_hash.eq(hash_token(token)))
        .filter(invitations::purpose.eq(purpose.as_str()))
        .select((
            invitations::id,
            invitations::user_id,
            invitations::expires_at,
            invitations::used_at,
        ))
        .first(conn)
        .optional()?;
    let Some((id, user_id, expires_at, used_at)) = row else {
        return Ok(None);
    };
    let user = store::by_id(conn, user_id)?.ok_or(AppError::NotFound)?;
    Ok(Some(Link {
        id,
        state: rules::link_state(expires_at, used_at, db::now()),
        user,
        expires_at,
    }))
}

/// Uses a link to set a password. Checked again inside the transaction, so a double
/// submission uses it once.
pub fn consume(
    conn: &mut DbConn,
    purpose: Purpose,
    token: &str,
    password_hash: &str,
) -> AppResult<Result<User, (LinkState, Option<NaiveDateTime>)>> {
    db::transaction(conn, |conn| {
        let Some(link) = find(conn, purpose, token)? else {
            return Err(AppError::NotFound);
        };
        if link.state != LinkState::Valid {
            return Ok(Err((link.state, Some(link.expires_at))));
        }
        if link.user.disabled {
            return Err(AppError::Forbidden(
                "Ce compte est désactivé. Contactez votre organisme de formation.".into(),
            ));
        }
        let used = diesel::update(
            invitations::table
                .find(link.id)
                .filter(invitations::used_at.is_null()),
        )
        .set(invitations::used_at.eq(db::now()))
        .execute(conn)?;
        if used != 1 {
            return Ok(Err((LinkState::Used, None)));
        }
        store::set_password(conn, Some(link.user.id), &link.user, password_hash)?;
        audit::record(
            conn,
            Event::new(
                match purpose {
                    Purpose::Invitation => "invitation_accepted",
                    Purpose::Reset => "password_reset",
                },
                "user",
                Some(link.user.id),
            )
            .by(Some(link.user.id))
            .in_organism(link.user.organism_id)
            .key(link.user.email.clone()),
        )?;
        Ok(Ok(
            store::by_id(conn, link.user.id)?.ok_or(AppError::NotFound)?
        ))
    })
}
