//! Reporting queries: narrow reads of one organism's enrolments, sign-in lines,
//! attestations, evaluations, VAE decisions and follow-up messages.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;

use super::rules::{Decision, Enrolment, Message};
use crate::db::DbConn;
use crate::db::schema::{
    attendance_entries, attendance_sheets, attestations, cohorts, enrolments, evaluation_attempts,
    followup_messages, followup_threads, modules, sessions, trainee_profiles, users, vae_requests,
};

/// An enrolment with what exports print of its trainee and cohort.
#[derive(Clone, Debug)]
pub struct Enrolled {
    pub enrolment: Enrolment,
    pub cohort_name: String,
    pub program_id: i64,
    pub name: String,
    pub email: String,
    pub funding: String,
    pub hire_date: NaiveDate,
    /// Why the enrolment ended early, when it did (not a transfer).
    pub end_reason: Option<String>,
}

type EnrolledRow = (
    (i64, i64, i64, NaiveDate, Option<NaiveDate>, Option<String>),
    String,
    i64,
    String,
    String,
    String,
    NaiveDate,
);

/// Enrolments in the organism's cohorts (or one of them), ended or not, that overlap a
/// period when one is given; by cohort, then name. Unlike `trainees_of_cohort`, those who
/// left count: they were trainees for part of the period.
pub fn enrolled(
    conn: &mut DbConn,
    organism_id: i64,
    cohort: Option<i64>,
    period: Option<(NaiveDate, NaiveDate)>,
) -> QueryResult<Vec<Enrolled>> {
    let mut q = enrolments::table
        .inner_join(cohorts::table)
        .inner_join(users::table.on(users::id.eq(enrolments::trainee_id)))
        .inner_join(trainee_profiles::table.on(trainee_profiles::user_id.eq(users::id)))
        .filter(cohorts::organism_id.eq(organism_id))
        .filter(trainee_profiles::organism_id.eq(organism_id))
        .into_boxed();
    if let Some(c) = cohort {
        q = q.filter(enrolments::cohort_id.eq(c));
    }
    if let Some((from, to)) = period {
        q = q.filter(enrolments::started_on.le(to)).filter(
            enrolments::ended_on
                .is_null()
                .or(enrolments::ended_on.gt(from)),
        );
    }
    let rows: Vec<EnrolledRow> = q
        .order((cohorts::name.asc(), users::name.asc(), enrolments::id.asc()))
        .select((
            (
                enrolments::id,
                enrolments::cohort_id,
                enrolments::trainee_id,
                enrolments::started_on,
                enrolments::ended_on,
                enrolments::end_reason,
            ),
            cohorts::name,
            cohorts::program_id,
            users::name,
            users::email,
            trainee_profiles::funding,
            trainee_profiles::hire_date,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(e, cohort_name, program_id, name, email, funding, hire)| Enrolled {
                enrolment: Enrolment {
                    id: e.0,
                    cohort_id: e.1,
                    trainee_id: e.2,
                    started_on: e.3,
                    ended_on: e.4,
                },
                cohort_name,
                program_id,
                name,
                email,
                funding,
                hire_date: hire,
                end_reason: e.5,
            },
        )
        .collect())
}

/// A closed sign-in line where time was missed.
#[derive(Clone, Debug, Queryable)]
pub struct Missed {
    pub cohort_name: String,
    pub trainee_id: i64,
    pub name: String,
    pub email: String,
    pub day: NaiveDate,
    pub module_code: String,
    pub module_title: String,
    pub starts_at: NaiveTime,
    pub ends_at: NaiveTime,
    pub planned_minutes: i32,
    pub status: String,
    pub arrived_at: Option<NaiveTime>,
    pub left_at: Option<NaiveTime>,
    pub minutes_credited: i32,
    pub note: Option<String>,
}

/// Absences, late arrivals and early departures on the closed sheets of a period (both ends
/// included), by day.
pub fn missed(
    conn: &mut DbConn,
    organism_id: i64,
    cohort: Option<i64>,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<Missed>> {
    use crate::tracking::rules::{CLOSED, PRESENT};
    let mut q = attendance_entries::table
        .inner_join(
            attendance_sheets::table.inner_join(
                sessions::table
                    .inner_join(modules::table)
                    .inner_join(cohorts::table),
            ),
        )
        .inner_join(users::table.on(users::id.eq(attendance_entries::trainee_id)))
        .filter(cohorts::organism_id.eq(organism_id))
        .filter(attendance_sheets::status.eq(CLOSED))
        .filter(sessions::day.ge(from))
        .filter(sessions::day.le(to))
        .filter(
            attendance_entries::status
                .ne(PRESENT)
                .or(attendance_entries::minutes_credited.lt(sessions::planned_minutes)),
        )
        .into_boxed();
    if let Some(c) = cohort {
        q = q.filter(sessions::cohort_id.eq(c));
    }
    q.order((
        sessions::day.asc(),
        sessions::starts_at.asc(),
        users::name.asc(),
    ))
    .select((
        cohorts::name,
        attendance_entries::trainee_id,
        users::name,
        users::email,
        sessions::day,
        modules::code,
        modules::title,
        sessions::starts_at,
        sessions::ends_at,
        sessions::planned_minutes,
        attendance_entries::status,
        attendance_entries::arrived_at,
        attendance_entries::left_at,
        attendance_entries::minutes_credited,
        attendance_entries::note,
    ))
    .load(conn)
}

/// An attestation of the organism, without its document.
#[derive(Clone, Debug, Queryable)]
pub struct Issued {
    pub trainee_id: i64,
    pub cohort_id: i64,
    pub kind: String,
    pub final_key: Option<String>,
    pub issued_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

/// Every attestation of the organism (finals of any year tell a drop-out from a completion).
pub fn attestations_of(conn: &mut DbConn, organism_id: i64) -> QueryResult<Vec<Issued>> {
    attestations::table
        .filter(attestations::organism_id.eq(organism_id))
        .select((
            attestations::trainee_id,
            attestations::cohort_id,
            attestations::kind,
            attestations::final_key,
            attestations::issued_at,
            attestations::revoked_at,
        ))
        .load(conn)
}

/// Submitted evaluation attempts of the organism's trainees in `[start, end)`:
/// (module code, trainee, passed).
pub fn attempts(
    conn: &mut DbConn,
    organism_id: i64,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> QueryResult<Vec<(String, i64, bool)>> {
    let rows: Vec<(String, i64, Option<bool>)> = evaluation_attempts::table
        .inner_join(modules::table)
        .inner_join(
            trainee_profiles::table
                .on(trainee_profiles::user_id.eq(evaluation_attempts::trainee_id)),
        )
        .filter(trainee_profiles::organism_id.eq(organism_id))
        .filter(evaluation_attempts::status.eq(crate::curriculum::store::SUBMITTED))
        // The module evaluations; formative quizzes have their own name.
        .filter(evaluation_attempts::quiz.eq(""))
        .filter(evaluation_attempts::submitted_at.ge(start))
        .filter(evaluation_attempts::submitted_at.lt(end))
        .select((
            modules::code,
            evaluation_attempts::trainee_id,
            evaluation_attempts::passed,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(m, t, p)| (m, t, p.unwrap_or(false)))
        .collect())
}

/// VAE decisions of the organism made in `[start, end)`. The file has no decision date of
/// its own: a decided file is final, so its last update is the decision.
pub fn vae_decisions(
    conn: &mut DbConn,
    organism_id: i64,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> QueryResult<Vec<Decision>> {
    let rows: Vec<(Option<String>, String, Option<String>)> = vae_requests::table
        .filter(vae_requests::organism_id.eq(organism_id))
        .filter(vae_requests::state.eq(crate::vae::rules::Status::Decision.as_str()))
        .filter(vae_requests::updated_at.ge(start))
        .filter(vae_requests::updated_at.lt(end))
        .select((
            vae_requests::decision,
            vae_requests::requested_modules,
            vae_requests::validated_modules,
        ))
        .load(conn)?;
    let list = |json: Option<&str>| -> Vec<String> {
        json.and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default()
    };
    Ok(rows
        .into_iter()
        .map(|(decision, requested, validated)| Decision {
            outcome: decision.unwrap_or_default(),
            requested: list(Some(&requested)),
            validated: list(validated.as_deref()),
        })
        .collect())
}

/// Follow-up messages of the organism's threads sent from `start` on, with each thread's
/// cohort: what answer times are computed from.
pub fn messages_since(
    conn: &mut DbConn,
    organism_id: i64,
    start: NaiveDateTime,
) -> QueryResult<Vec<(i64, Message)>> {
    let rows: Vec<(i64, i64, i64, i64, i64, String, NaiveDateTime)> = followup_messages::table
        .inner_join(followup_threads::table)
        .filter(followup_threads::organism_id.eq(organism_id))
        .filter(followup_messages::created_at.ge(start))
        .select((
            followup_threads::cohort_id,
            followup_messages::id,
            followup_messages::thread_id,
            followup_threads::trainee_id,
            followup_messages::author_id,
            followup_messages::kind,
            followup_messages::created_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(cohort, id, thread_id, trainee_id, author_id, kind, at)| {
            (
                cohort,
                Message {
                    id,
                    thread_id,
                    trainee_id,
                    author_id,
                    kind,
                    at,
                },
            )
        })
        .collect())
}
