//! Links mailed to an employer doctor that open his assistants' page without a password, for
//! `DOCTOR_LINK_DAYS`: read-only, plus the one-click "transmise à la CPAM". Not a session:
//! the link's page is the only place the token opens. Only a SHA-256 of the token is kept;
//! every link issued, used and revoked is audited.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::invite::{hash_token, new_token};
use super::rules::{DOCTOR_LINK_DAYS, Role};
use crate::audit::{self, Event};
use crate::db::schema::{doctor_links, users};
use crate::db::{self, DbConn};
use crate::web::AppResult;

/// The path a link's page lives under (`/medecin/<token>`).
pub const PATH: &str = "/medecin";

/// What a token names, if anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A live link: its id and the doctor's id and name.
    Valid {
        link: i64,
        doctor: i64,
        name: String,
    },
    Expired(NaiveDateTime),
    Revoked(NaiveDateTime),
    Unknown,
}

/// Creates a link for a doctor, in the caller's transaction; returns its full URL, for a mail.
pub fn issue(conn: &mut DbConn, base_url: &str, doctor: i64, cause: &str) -> AppResult<String> {
    let now = db::now();
    let (hash, token) = new_token()?;
    let expires_at = now + Duration::days(DOCTOR_LINK_DAYS);
    let id: i64 = diesel::insert_into(doctor_links::table)
        .values((
            doctor_links::doctor_id.eq(doctor),
            doctor_links::token_hash.eq(&hash),
            doctor_links::created_at.eq(now),
            doctor_links::expires_at.eq(expires_at),
        ))
        .returning(doctor_links::id)
        .get_result(conn)?;
    audit::record(
        conn,
        Event::new("doctor_link_issued", "doctor_link", Some(id))
            .key(doctor.to_string())
            .detail(
                serde_json::json!({"doctor": doctor, "cause": cause, "expires_at": expires_at}),
            ),
    )?;
    Ok(format!("{}{PATH}/{token}", base_url.trim_end_matches('/')))
}

/// Looks a token up; a disabled doctor's links are dead with his account.
pub fn find(conn: &mut DbConn, token: &str) -> QueryResult<Found> {
    type Row = (i64, i64, String, bool, NaiveDateTime, Option<NaiveDateTime>);
    let row: Option<Row> = doctor_links::table
        .inner_join(users::table.on(users::id.eq(doctor_links::doctor_id)))
        .filter(doctor_links::token_hash.eq(hash_token(token)))
        // A person who is no longer a doctor has no assistants to follow.
        .filter(users::role.eq(Role::Doctor.as_str()))
        .select((
            doctor_links::id,
            users::id,
            users::name,
            users::disabled,
            doctor_links::expires_at,
            doctor_links::revoked_at,
        ))
        .first(conn)
        .optional()?;
    let now = db::now();
    Ok(match row {
        None | Some((_, _, _, true, _, _)) => Found::Unknown,
        Some((_, _, _, _, _, Some(revoked))) => Found::Revoked(revoked),
        Some((_, _, _, _, expires, None)) if expires <= now => Found::Expired(expires),
        Some((link, doctor, name, ..)) => Found::Valid { link, doctor, name },
    })
}

/// Notes a use of a live link (`what`: the page, or the attestation marked), in the caller's
/// transaction.
pub fn used(conn: &mut DbConn, link: i64, doctor: i64, what: serde_json::Value) -> AppResult<()> {
    diesel::update(doctor_links::table.find(link))
        .set(doctor_links::last_used_at.eq(db::now()))
        .execute(conn)?;
    audit::record(
        conn,
        Event::new("doctor_link_used", "doctor_link", Some(link))
            .by(Some(doctor))
            .key(doctor.to_string())
            .detail(what),
    )?;
    Ok(())
}

/// Revokes every live link of a doctor (by himself, or by staff: `actor`); returns how many.
pub fn revoke_all(
    conn: &mut DbConn,
    doctor: i64,
    actor: Option<i64>,
    organism: Option<i64>,
) -> AppResult<usize> {
    db::transaction(conn, |conn| {
        let now = db::now();
        let ids: Vec<i64> = doctor_links::table
            .filter(doctor_links::doctor_id.eq(doctor))
            .filter(doctor_links::revoked_at.is_null())
            .filter(doctor_links::expires_at.gt(now))
            .order(doctor_links::id.asc())
            .select(doctor_links::id)
            .load(conn)?;
        if ids.is_empty() {
            return Ok(0);
        }
        diesel::update(doctor_links::table.filter(doctor_links::id.eq_any(&ids)))
            .set((
                doctor_links::revoked_at.eq(now),
                doctor_links::revoked_by.eq(actor),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            Event::new("doctor_link_revoked", "user", Some(doctor))
                .by(actor)
                .in_organism(organism)
                .detail(serde_json::json!({"links": ids})),
        )?;
        Ok(ids.len())
    })
}

/// How many live links a doctor has, and until when the latest one is valid.
pub fn live(conn: &mut DbConn, doctor: i64) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    let now = db::now();
    let base = || {
        doctor_links::table
            .filter(doctor_links::doctor_id.eq(doctor))
            .filter(doctor_links::revoked_at.is_null())
            .filter(doctor_links::expires_at.gt(now))
    };
    let count = base().count().get_result(conn)?;
    let until = base()
        .select(diesel::dsl::max(doctor_links::expires_at))
        .first(conn)?;
    Ok((count, until))
}
