//! Who receives an employee's documents: her employer's doctors that mail can reach (not
//! disabled, address not bouncing), with what the CPAM asks to identify them, or why none can.

use diesel::prelude::*;
use serde::Serialize;

use super::rules::{Candidate, not_sent_reason};
use crate::db::DbConn;
use crate::db::schema::{employer_doctors, trainee_profiles, users};
use crate::mail::bounces;

#[derive(Clone, Debug, Serialize)]
pub struct Doctor {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub rpps: Option<String>,
    pub am_number: Option<String>,
}

/// The doctors to mail, or, when there is none, the reason in French.
pub struct Reach {
    pub doctors: Vec<Doctor>,
    /// Every doctor of the employer, reachable or not (for staff to complete).
    pub all: Vec<Doctor>,
    pub not_sent: Option<String>,
}

pub fn reach(conn: &mut DbConn, employer_id: Option<i64>) -> QueryResult<Reach> {
    let Some(employer) = employer_id else {
        return Ok(Reach {
            doctors: vec![],
            all: vec![],
            not_sent: not_sent_reason(false, &[]),
        });
    };
    type Row = (i64, String, String, bool, Option<String>, Option<String>);
    let rows: Vec<Row> = employer_doctors::table
        .inner_join(users::table.on(users::id.eq(employer_doctors::doctor_id)))
        .filter(employer_doctors::employer_id.eq(employer))
        .order(users::id.asc())
        .select((
            users::id,
            users::name,
            users::email,
            users::disabled,
            users::rpps,
            users::am_number,
        ))
        .load(conn)?;
    let emails: Vec<String> = rows.iter().map(|r| r.2.clone()).collect();
    let bouncing = bounces::among(conn, &emails)?;
    let bounce_of = |email: &str| {
        bouncing
            .iter()
            .find(|b| b.email == email)
            .map(|b| b.reason.as_str())
    };
    let candidates: Vec<Candidate<'_>> = rows
        .iter()
        .map(|r| Candidate {
            disabled: r.3,
            bouncing: bounce_of(&r.2),
        })
        .collect();
    let not_sent = not_sent_reason(true, &candidates);
    let all: Vec<Doctor> = rows
        .iter()
        .map(|r| Doctor {
            id: r.0,
            name: r.1.clone(),
            email: r.2.clone(),
            rpps: r.4.clone(),
            am_number: r.5.clone(),
        })
        .collect();
    let doctors = all
        .iter()
        .zip(&candidates)
        .filter(|(_, c)| !c.disabled && c.bouncing.is_none())
        .map(|(d, _)| d.clone())
        .collect();
    Ok(Reach {
        doctors,
        all,
        not_sent,
    })
}

/// The reference of the aid contract the employer signed with the CPAM for this post.
pub fn aid_contract_ref(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Option<String>> {
    Ok(trainee_profiles::table
        .filter(trainee_profiles::user_id.eq(trainee_id))
        .select(trainee_profiles::aid_contract_ref)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

pub fn set_aid_contract_ref(
    conn: &mut DbConn,
    trainee_id: i64,
    value: Option<&str>,
) -> QueryResult<usize> {
    diesel::update(trainee_profiles::table.filter(trainee_profiles::user_id.eq(trainee_id)))
        .set(trainee_profiles::aid_contract_ref.eq(value))
        .execute(conn)
}
