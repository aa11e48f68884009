//! A person's request to erase her data: answered at once by `rules::answer`, recorded with
//! its answer, and carried out in the same transaction when the law allows it.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::rules::{self, Answer};
use super::store::{self, Cause};
use crate::accounts::Role;
use crate::audit::{self, Event};
use crate::db::schema::{erasure_requests, users};
use crate::db::{self, DbConn};
use crate::privacy::Settings;
use crate::web::{AppError, AppResult};

/// What a request was answered.
#[derive(Debug, Clone, Serialize)]
pub struct Answered {
    pub requested_at: NaiveDateTime,
    pub accepted: bool,
    pub reason: String,
    pub erase_on: Option<NaiveDate>,
}

/// Why an accepted request was accepted, as recorded.
const ACCEPTED: &str = "Aucune obligation légale ni aucun gel n'imposait de garder vos données : elles ont été effacées, et ce qui doit rester prouvable (vos attestations) ne porte plus votre nom.";

/// Answers and records `person`'s request; erases her when accepted.
pub fn request(
    conn: &mut DbConn,
    key: &[u8; 32],
    s: &Settings,
    person: i64,
    today: NaiveDate,
) -> AppResult<Answered> {
    db::transaction(conn, |c| {
        let (role, organism): (String, Option<i64>) = users::table
            .find(person)
            .filter(users::erased_at.is_null())
            .select((users::role, users::organism_id))
            .first(c)
            .optional()?
            .ok_or(AppError::NotFound)?;
        let mut facts = store::facts_of(c, s, person, today)?;
        facts.staff = !matches!(Role::parse(&role), Some(Role::Trainee | Role::Doctor));
        let (accepted, reason, erase_on) = match rules::answer(&facts, today) {
            Answer::Accepted => (true, ACCEPTED, None),
            Answer::Refused { reason, erase_on } => (false, reason, erase_on),
        };
        let requested_at = db::now();
        diesel::insert_into(erasure_requests::table)
            .values((
                erasure_requests::user_id.eq(person),
                erasure_requests::requested_at.eq(requested_at),
                erasure_requests::accepted.eq(accepted),
                erasure_requests::reason.eq(reason),
                erasure_requests::erase_on.eq(erase_on),
            ))
            .execute(c)?;
        audit::record(
            c,
            Event::new("personal_data.erasure_requested", "user", Some(person))
                .by(Some(person))
                .in_organism(organism)
                .detail(serde_json::json!({ "accepted": accepted, "erase_on": erase_on })),
        )?;
        if accepted {
            store::erase_person(c, key, person, Cause::Request, Some(person))?;
        }
        Ok(Answered {
            requested_at,
            accepted,
            reason: reason.to_string(),
            erase_on,
        })
    })
}

/// The answers given to a person's requests, newest first.
pub fn answers_of(conn: &mut DbConn, person: i64) -> QueryResult<Vec<Answered>> {
    let rows: Vec<(NaiveDateTime, bool, String, Option<NaiveDate>)> = erasure_requests::table
        .filter(erasure_requests::user_id.eq(person))
        .order(erasure_requests::id.desc())
        .select((
            erasure_requests::requested_at,
            erasure_requests::accepted,
            erasure_requests::reason,
            erasure_requests::erase_on,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(requested_at, accepted, reason, erase_on)| Answered {
            requested_at,
            accepted,
            reason,
            erase_on,
        })
        .collect())
}
