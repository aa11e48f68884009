//! Corrections of a person's name (right of correction, issue #23). Her name is printed on
//! the documents her organism issues, so she does not change it herself: she asks, with the
//! right spelling (birth name included when it must appear); her organism's administrators
//! are told and apply or refuse it with a reason. Applying changes `users.name` only: issued
//! attestations are never rewritten, the staff page lists those that carry the old name, to
//! be issued again (the old one revoked with its reason) where needed.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::audit::{self, Event};
use crate::base::field;
use crate::db::schema::{attestations, identity_corrections, organisms, users};
use crate::db::{self, DbConn};
use crate::mail::{self, Mail, MailContext, Recipient, outbox};
use crate::web::{AppError, AppResult};

pub const PENDING: &str = "pending";
pub const APPLIED: &str = "applied";
pub const REFUSED: &str = "refused";
const NOTE_MAX: usize = 1000;

#[derive(Clone, Debug, Queryable, Serialize)]
pub struct Correction {
    pub id: i64,
    pub user_id: i64,
    pub organism_id: i64,
    pub current_name: String,
    pub requested_name: String,
    pub note: String,
    pub state: String,
    pub created_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
    pub decision_reason: Option<String>,
}

macro_rules! correction_select {
    () => {
        (
            identity_corrections::id,
            identity_corrections::user_id,
            identity_corrections::organism_id,
            identity_corrections::current_name,
            identity_corrections::requested_name,
            identity_corrections::note,
            identity_corrections::state,
            identity_corrections::created_at,
            identity_corrections::decided_at,
            identity_corrections::decision_reason,
        )
    };
}

/// How a state reads on the pages.
pub fn state_label(state: &str) -> &'static str {
    match state {
        PENDING => "en attente",
        APPLIED => "appliquée",
        _ => "refusée",
    }
}

fn send(
    conn: &mut DbConn,
    mc: &MailContext<'_>,
    template: &str,
    ctx: &tera::Context,
    to: Recipient,
    organism: i64,
    cause: &str,
) -> AppResult<()> {
    let invalid = |e: mail::MailError| AppError::Internal(anyhow::anyhow!("{template}: {e}"));
    let (subject, text, html) = mail::render(mc.templates, template, ctx).map_err(invalid)?;
    let message = Mail::new(template, vec![to], &subject, text, html, vec![]).map_err(invalid)?;
    outbox::enqueue(conn, Some(organism), cause, &message, &mc.domain())?;
    Ok(())
}

/// A person asks her organism to correct her name: refused in French without an organism, for
/// a bad name, her current one, or while another request waits. Her organism's
/// administrators are told by mail. Audited.
pub fn request(
    conn: &mut DbConn,
    mc: &MailContext<'_>,
    user: i64,
    requested: &str,
    note: &str,
) -> AppResult<i64> {
    let requested = field::validate_name(requested).map_err(|m| AppError::invalid("name", m))?;
    let note = note.trim().to_string();
    if note.chars().count() > NOTE_MAX
        || note
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        return Err(AppError::invalid(
            "note",
            "La précision ne doit pas dépasser 1 000 caractères.",
        ));
    }
    db::transaction(conn, |conn| {
        let (current, org): (String, Option<i64>) = users::table
            .find(user)
            .select((users::name, users::organism_id))
            .first(conn)?;
        let Some(org) = org else {
            return Err(AppError::invalid(
                "name",
                "Votre compte ne dépend d'aucun organisme de formation : écrivez à l'administrateur de Parcours pour corriger votre nom.",
            ));
        };
        if requested == current {
            return Err(AppError::invalid(
                "name",
                "C'est déjà le nom enregistré sur votre compte.",
            ));
        }
        if pending_of(conn, user)?.is_some() {
            return Err(AppError::Conflict(
                "Une demande de correction attend déjà la réponse de votre organisme.".into(),
            ));
        }
        let id: i64 = diesel::insert_into(identity_corrections::table)
            .values((
                identity_corrections::user_id.eq(user),
                identity_corrections::organism_id.eq(org),
                identity_corrections::current_name.eq(&current),
                identity_corrections::requested_name.eq(&requested),
                identity_corrections::note.eq(&note),
                identity_corrections::state.eq(PENDING),
                identity_corrections::created_at.eq(db::now()),
            ))
            .returning(identity_corrections::id)
            .get_result(conn)?;
        audit::record(
            conn,
            Event::new(
                "identity_correction_requested",
                "identity_correction",
                Some(id),
            )
            .by(Some(user))
            .in_organism(Some(org))
            .key(user.to_string())
            .change(
                serde_json::json!({"name": current}),
                serde_json::json!({"name": requested}),
            ),
        )?;
        tell_admins(conn, mc, org, id, (&current, &requested, &note))?;
        Ok(id)
    })
}

/// Mails the organism's active administrators about a new request.
fn tell_admins(
    conn: &mut DbConn,
    mc: &MailContext<'_>,
    org: i64,
    id: i64,
    (current, requested, note): (&str, &str, &str),
) -> AppResult<()> {
    let organism: String = organisms::table
        .find(org)
        .select(organisms::name)
        .first(conn)?;
    let admins: Vec<(String, String)> = users::table
        .filter(users::organism_id.eq(org))
        .filter(users::role.eq("organism_admin"))
        .filter(users::disabled.eq(false))
        .select((users::name, users::email))
        .load(conn)?;
    for (name, email) in admins {
        let mut ctx = tera::Context::new();
        ctx.insert("name", &name);
        ctx.insert("base_url", mc.base_url);
        ctx.insert("organism", &organism);
        ctx.insert("organism_id", &org);
        ctx.insert("current_name", current);
        ctx.insert("requested_name", requested);
        ctx.insert("note", note);
        let to = Recipient {
            name: Some(name),
            email,
        };
        let cause = format!("identity_correction:{id}");
        send(
            conn,
            mc,
            "identity_correction_request",
            &ctx,
            to,
            org,
            &cause,
        )?;
    }
    Ok(())
}

/// A person's request still waiting, if any.
pub fn pending_of(conn: &mut DbConn, user: i64) -> QueryResult<Option<Correction>> {
    identity_corrections::table
        .filter(identity_corrections::user_id.eq(user))
        .filter(identity_corrections::state.eq(PENDING))
        .select(correction_select!())
        .first(conn)
        .optional()
}

/// A person's requests, newest first.
pub fn of_user(conn: &mut DbConn, user: i64) -> QueryResult<Vec<Correction>> {
    identity_corrections::table
        .filter(identity_corrections::user_id.eq(user))
        .order(identity_corrections::id.desc())
        .select(correction_select!())
        .load(conn)
}

/// An organism's requests: the waiting ones first, then the latest decided.
pub fn of_organism(conn: &mut DbConn, organism: i64) -> QueryResult<Vec<Correction>> {
    let mut rows: Vec<Correction> = identity_corrections::table
        .filter(identity_corrections::organism_id.eq(organism))
        .order(identity_corrections::id.desc())
        .limit(200)
        .select(correction_select!())
        .load(conn)?;
    rows.sort_by_key(|c| c.state != PENDING);
    Ok(rows)
}

pub fn get(conn: &mut DbConn, id: i64) -> QueryResult<Option<Correction>> {
    identity_corrections::table
        .find(id)
        .select(correction_select!())
        .first(conn)
        .optional()
}

/// An issued attestation that still prints a name other than the person's current one.
#[derive(Clone, Debug, Serialize)]
pub struct StaleAttestation {
    pub id: i64,
    pub number: String,
    pub kind: String,
    pub issued_at: NaiveDateTime,
    pub printed_name: String,
}

/// The person's attestations in force whose printed name is not `name`: what the staff may
/// issue again after a correction (nothing rewrites them).
pub fn stale_attestations(
    conn: &mut DbConn,
    user: i64,
    name: &str,
) -> QueryResult<Vec<StaleAttestation>> {
    let rows: Vec<(i64, String, String, NaiveDateTime, String)> = attestations::table
        .filter(attestations::trainee_id.eq(user))
        .filter(attestations::revoked_at.is_null())
        .order(attestations::id.asc())
        .select((
            attestations::id,
            attestations::number,
            attestations::kind,
            attestations::issued_at,
            attestations::payload,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, number, kind, issued_at, payload)| {
            let printed = serde_json::from_str::<serde_json::Value>(&payload)
                .ok()?
                .get("trainee_name")?
                .as_str()?
                .to_string();
            (printed != name).then_some(StaleAttestation {
                id,
                number,
                kind,
                issued_at,
                printed_name: printed,
            })
        })
        .collect())
}

/// What the organism decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Apply,
    Refuse,
}

/// Checks the reason: required to refuse, optional to apply, at most 1 000 characters.
pub fn check_reason(decision: Decision, raw: &str) -> Result<Option<String>, &'static str> {
    let reason = raw.trim();
    if reason.chars().count() > NOTE_MAX {
        return Err("Le motif ne doit pas dépasser 1 000 caractères.");
    }
    match (decision, reason.is_empty()) {
        (Decision::Refuse, true) => Err("Donnez le motif du refus : la personne le recevra."),
        (_, true) => Ok(None),
        _ => Ok(Some(reason.to_string())),
    }
}

/// Applies or refuses a waiting request, audited, and tells the person. Applying changes her
/// name on her account only (audited with the before and after); her issued attestations
/// stay as they are.
pub fn decide(
    conn: &mut DbConn,
    mc: &MailContext<'_>,
    actor: i64,
    correction: &Correction,
    decision: Decision,
    reason: Option<&str>,
) -> AppResult<()> {
    db::transaction(conn, |conn| {
        let now = db::now();
        let state = match decision {
            Decision::Apply => APPLIED,
            Decision::Refuse => REFUSED,
        };
        let changed = diesel::update(
            identity_corrections::table
                .find(correction.id)
                .filter(identity_corrections::state.eq(PENDING)),
        )
        .set((
            identity_corrections::state.eq(state),
            identity_corrections::decided_by.eq(actor),
            identity_corrections::decided_at.eq(now),
            identity_corrections::decision_reason.eq(reason),
        ))
        .execute(conn)?;
        if changed == 0 {
            return Err(AppError::Conflict(
                "Cette demande a déjà reçu une réponse.".into(),
            ));
        }
        let (name, email): (String, String) = users::table
            .find(correction.user_id)
            .select((users::name, users::email))
            .first(conn)?;
        let org = Some(correction.organism_id);
        audit::record(
            conn,
            Event::new(
                match decision {
                    Decision::Apply => "identity_correction_applied",
                    Decision::Refuse => "identity_correction_refused",
                },
                "identity_correction",
                Some(correction.id),
            )
            .by(Some(actor))
            .in_organism(org)
            .key(correction.user_id.to_string())
            .detail(serde_json::json!({"reason": reason})),
        )?;
        if decision == Decision::Apply {
            diesel::update(users::table.find(correction.user_id))
                .set((
                    users::name.eq(&correction.requested_name),
                    users::updated_at.eq(now),
                ))
                .execute(conn)?;
            audit::record(
                conn,
                Event::new("user_renamed", "user", Some(correction.user_id))
                    .by(Some(actor))
                    .in_organism(org)
                    .key(correction.user_id.to_string())
                    .change(
                        serde_json::json!({"name": name}),
                        serde_json::json!({"name": correction.requested_name, "correction": correction.id}),
                    ),
            )?;
        }
        let organism: String = organisms::table
            .find(correction.organism_id)
            .select(organisms::name)
            .first(conn)?;
        let mut ctx = tera::Context::new();
        ctx.insert("name", &correction.requested_name);
        if decision == Decision::Refuse {
            ctx.insert("name", &name);
        }
        ctx.insert("base_url", mc.base_url);
        ctx.insert("organism", &organism);
        ctx.insert("applied", &(decision == Decision::Apply));
        ctx.insert("requested_name", &correction.requested_name);
        ctx.insert("reason", &reason);
        let to = Recipient { name: None, email };
        let cause = format!("identity_correction_decided:{}", correction.id);
        send(
            conn,
            mc,
            "identity_correction_decided",
            &ctx,
            to,
            correction.organism_id,
            &cause,
        )?;
        Ok(())
    })
}
