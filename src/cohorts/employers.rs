//! Employers of trainees: a doctor practising alone or a group practice, always owned by the
//! organism that named them (see `rules::match_practice`), with the doctors linked to them.

use diesel::prelude::*;

use crate::db::schema::{employer_doctors, employers};
use crate::db::{self, DbConn};
use crate::organisms::rules::{KnownPractice, PracticeNumber, PracticeRef, match_practice};

/// The employer of a doctor practising alone, as this organism knows him, created as needed.
/// Employers belong to the organism that named them: another organism never reaches them.
pub fn doctor_employer(
    conn: &mut DbConn,
    organism_id: i64,
    doctor_id: i64,
    doctor_name: &str,
) -> QueryResult<i64> {
    let existing: Option<i64> = employers::table
        .inner_join(employer_doctors::table)
        .filter(employers::organism_id.eq(organism_id))
        .filter(employers::kind.eq("doctor"))
        .filter(employer_doctors::doctor_id.eq(doctor_id))
        .select(employers::id)
        .first(conn)
        .optional()?;
    let id = match existing {
        Some(id) => id,
        None => new_employer(conn, organism_id, doctor_name, "doctor", None)?,
    };
    link_doctor(conn, id, doctor_id)?;
    Ok(id)
}

/// The organism's group practice an import line names (see `rules::match_practice`), created
/// as needed, with the line's doctor linked to it; `Err` when the name alone is ambiguous.
pub fn practice_employer(
    conn: &mut DbConn,
    organism_id: i64,
    doctor_id: i64,
    practice: &PracticeRef,
) -> QueryResult<Result<i64, String>> {
    let known: Vec<KnownPractice> = employers::table
        .filter(employers::organism_id.eq(organism_id))
        .filter(employers::kind.eq("practice"))
        .select((employers::id, employers::name, employers::registration))
        .load(conn)?;
    let key = practice.number.as_ref().map(PracticeNumber::key);
    let id = match match_practice(practice, &known) {
        Err(message) => return Ok(Err(message)),
        Ok(Some(id)) => {
            let unnumbered = known.iter().any(|(k, _, r)| *k == id && r.is_none());
            if let (Some(key), true) = (&key, unnumbered) {
                diesel::update(employers::table.find(id))
                    .set(employers::registration.eq(key))
                    .execute(conn)?;
            }
            id
        }
        Ok(None) => new_employer(conn, organism_id, &practice.name, "practice", key)?,
    };
    link_doctor(conn, id, doctor_id)?;
    Ok(Ok(id))
}

fn new_employer(
    conn: &mut DbConn,
    organism_id: i64,
    name: &str,
    kind: &str,
    registration: Option<String>,
) -> QueryResult<i64> {
    diesel::insert_into(employers::table)
        .values((
            employers::name.eq(name),
            employers::kind.eq(kind),
            employers::organism_id.eq(organism_id),
            employers::registration.eq(registration),
            employers::created_at.eq(db::now()),
        ))
        .returning(employers::id)
        .get_result(conn)
}

fn link_doctor(conn: &mut DbConn, employer_id: i64, doctor_id: i64) -> QueryResult<()> {
    let linked: bool = diesel::select(diesel::dsl::exists(
        employer_doctors::table
            .filter(employer_doctors::employer_id.eq(employer_id))
            .filter(employer_doctors::doctor_id.eq(doctor_id)),
    ))
    .get_result(conn)?;
    if !linked {
        diesel::insert_into(employer_doctors::table)
            .values((
                employer_doctors::employer_id.eq(employer_id),
                employer_doctors::doctor_id.eq(doctor_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}
