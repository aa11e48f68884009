//! The optional mails a person may turn off, and her choice for each (issue #23). One place
//! for it: the mail's link (`unsubscribe.rs`), `/mon-compte`, the doctor's page and the
//! senders all read and write the same column of `users`, named as the kind.

use diesel::prelude::*;

use super::rules::Role;
use crate::audit::{self, Event};
use crate::db::DbConn;
use crate::db::schema::users;
use crate::web::AppResult;

/// One optional kind of mail.
#[derive(Clone, Copy, Debug)]
pub struct Optional {
    pub kind: &'static str,
    /// How the unsubscribe page names it ("Ne plus recevoir …").
    pub what: &'static str,
    /// How the account page names it.
    pub label: &'static str,
    /// Who receives it.
    pub roles: &'static [Role],
}

pub const WEEKLY_DIGEST: &str = "weekly_digest";
pub const NUDGE: &str = "nudge";
pub const FOLLOWUP_DIGEST: &str = "followup_digest";
pub const FOLLOWUP_STAFF_DIGEST: &str = "followup_staff_digest";

pub const OPTIONAL: [Optional; 4] = [
    Optional {
        kind: WEEKLY_DIGEST,
        what: "le résumé hebdomadaire de la progression de vos assistants",
        label: "Chaque lundi, un résumé de la progression de mes assistants",
        roles: &[Role::Doctor],
    },
    Optional {
        kind: NUDGE,
        what: "les rappels après plusieurs jours sans activité",
        label: "Un rappel quand je ne me suis pas formé(e) depuis plusieurs jours",
        roles: &[Role::Trainee],
    },
    Optional {
        kind: FOLLOWUP_DIGEST,
        what: "le récapitulatif des réponses de l'équipe pédagogique",
        label: "Un récapitulatif (au plus un par jour) des réponses de l'équipe pédagogique que je n'ai pas lues",
        roles: &[Role::Trainee],
    },
    Optional {
        kind: FOLLOWUP_STAFF_DIGEST,
        what: "le récapitulatif des questions en attente de réponse",
        label: "Un récapitulatif (au plus un par jour) des questions des stagiaires qui attendent une réponse",
        roles: &[Role::Trainer, Role::OrganismAdmin],
    },
];

/// The optional kind of this name; `None` for an essential or unknown one.
pub fn optional(kind: &str) -> Option<&'static Optional> {
    OPTIONAL.iter().find(|o| o.kind == kind)
}

/// The optional kinds a role receives.
pub fn for_role(role: Role) -> impl Iterator<Item = &'static Optional> {
    OPTIONAL.iter().filter(move |o| o.roles.contains(&role))
}

/// Whether `user` wants mails of `kind`: `None` for a disabled account or a kind that is not
/// optional.
pub fn wanted(conn: &mut DbConn, user: i64, kind: &str) -> QueryResult<Option<bool>> {
    let live = users::table.find(user).filter(users::disabled.eq(false));
    match kind {
        WEEKLY_DIGEST => live.select(users::weekly_digest).first(conn).optional(),
        NUDGE => live.select(users::nudge).first(conn).optional(),
        FOLLOWUP_DIGEST => live.select(users::followup_digest).first(conn).optional(),
        FOLLOWUP_STAFF_DIGEST => live
            .select(users::followup_staff_digest)
            .first(conn)
            .optional(),
        _ => Ok(None),
    }
}

/// Every choice of a person, as her account page shows them: (kind, label, wanted).
pub fn of(conn: &mut DbConn, user: i64, role: Role) -> QueryResult<Vec<(Optional, bool)>> {
    let mut out = Vec::new();
    for o in for_role(role) {
        if let Some(w) = wanted(conn, user, o.kind)? {
            out.push((*o, w));
        }
    }
    Ok(out)
}

/// Where a choice was made, for the audit.
#[derive(Clone, Copy, Debug)]
pub enum Via<'a> {
    /// The mail's link (its id): recorded as `unsubscribed`.
    Link(i64),
    /// A page, by its path: recorded as `mail_choice_set`.
    Page(&'a str),
}

/// Writes a choice; `false` when the kind is not optional or nothing changed (then nothing
/// is recorded).
pub fn set(conn: &mut DbConn, user: i64, kind: &str, want: bool, via: Via<'_>) -> AppResult<bool> {
    crate::db::transaction(conn, |conn| {
        if wanted(conn, user, kind)? != Some(!want) {
            return Ok(false);
        }
        let row = users::table.find(user);
        match kind {
            WEEKLY_DIGEST => diesel::update(row)
                .set(users::weekly_digest.eq(want))
                .execute(conn)?,
            NUDGE => diesel::update(row)
                .set(users::nudge.eq(want))
                .execute(conn)?,
            FOLLOWUP_DIGEST => diesel::update(row)
                .set(users::followup_digest.eq(want))
                .execute(conn)?,
            _ => diesel::update(row)
                .set(users::followup_staff_digest.eq(want))
                .execute(conn)?,
        };
        let (action, detail) = match via {
            Via::Link(link) => (
                "unsubscribed",
                serde_json::json!({"kind": kind, "link": link}),
            ),
            Via::Page(page) => (
                "mail_choice_set",
                serde_json::json!({"kind": kind, "wanted": want, "page": page}),
            ),
        };
        audit::record(
            conn,
            Event::new(action, "user", Some(user))
                .by(Some(user))
                .key(user.to_string())
                .detail(detail),
        )?;
        Ok(true)
    })
}
