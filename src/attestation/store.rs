//! Attestation queries: the rows, the organism's identity as printed, the hours of a period,
//! the doctors to write to.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::rules::OrganismFacts;
use crate::audit::{self, Event};
use crate::db::schema::{
    attendance_entries, attendance_sheets, attestations, certification_candidates,
    certification_sessions, daily_activity, hour_corrections, organisms, sessions, users,
};
use crate::db::{self, DbConn};

/// An attestation as lists and pages show it (without its PDF).
#[derive(Clone, Debug, Queryable, Selectable, Serialize)]
#[diesel(table_name = attestations)]
pub struct AttestationRow {
    pub id: i64,
    pub organism_id: i64,
    pub trainee_id: i64,
    pub cohort_id: i64,
    pub kind: String,
    pub number: String,
    pub code: String,
    #[serde(skip)]
    pub signature: String,
    #[serde(skip)]
    pub payload: String,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub override_reason: Option<String>,
    pub issued_by: Option<i64>,
    pub issued_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub revoked_reason: Option<String>,
    pub cpam_forwarded_on: Option<NaiveDate>,
    /// Why no doctor was mailed it (shown to staff as "non envoyé").
    pub doctor_not_sent: Option<String>,
    /// Its holder's data was erased: the statement is pseudonymised, the PDF gone.
    pub erased_at: Option<NaiveDateTime>,
    #[serde(skip)]
    pub erased_signature: Option<String>,
}

pub struct NewAttestation<'a> {
    pub organism_id: i64,
    pub trainee_id: i64,
    pub cohort_id: i64,
    pub kind: &'a str,
    pub final_key: Option<String>,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub override_reason: Option<&'a str>,
    pub issued_by: Option<i64>,
}

/// Inserts a row whose number, code and content are filled by `seal` in the same
/// transaction (the number needs the id). A placeholder keeps the unique columns unique.
pub fn insert(conn: &mut DbConn, a: &NewAttestation<'_>, placeholder: &str) -> QueryResult<i64> {
    diesel::insert_into(attestations::table)
        .values((
            attestations::organism_id.eq(a.organism_id),
            attestations::trainee_id.eq(a.trainee_id),
            attestations::cohort_id.eq(a.cohort_id),
            attestations::kind.eq(a.kind),
            attestations::number.eq(placeholder),
            attestations::code.eq(placeholder),
            attestations::signature.eq(""),
            attestations::payload.eq(""),
            attestations::pdf.eq(Vec::<u8>::new()),
            attestations::final_key.eq(&a.final_key),
            attestations::period_from.eq(a.period_from),
            attestations::period_to.eq(a.period_to),
            attestations::override_reason.eq(a.override_reason),
            attestations::issued_by.eq(a.issued_by),
            attestations::issued_at.eq(db::now()),
        ))
        .returning(attestations::id)
        .get_result(conn)
}

pub fn seal(
    conn: &mut DbConn,
    id: i64,
    number: &str,
    code: &str,
    signature: &str,
    payload: &str,
    pdf: &[u8],
) -> QueryResult<()> {
    diesel::update(attestations::table.find(id))
        .set((
            attestations::number.eq(number),
            attestations::code.eq(code),
            attestations::signature.eq(signature),
            attestations::payload.eq(payload),
            attestations::pdf.eq(pdf),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn final_key(trainee_id: i64, cohort_id: i64) -> String {
    format!("{trainee_id}:{cohort_id}")
}

/// The valid end-of-path attestation of a trainee in a cohort, if issued.
pub fn final_of(conn: &mut DbConn, trainee_id: i64, cohort_id: i64) -> QueryResult<Option<i64>> {
    attestations::table
        .filter(attestations::final_key.eq(final_key(trainee_id, cohort_id)))
        .select(attestations::id)
        .first(conn)
        .optional()
}

/// Trainees of a list who already hold a valid end-of-path attestation of this cohort.
pub fn finals_of_cohort(conn: &mut DbConn, cohort_id: i64) -> QueryResult<HashMap<i64, i64>> {
    let rows: Vec<(i64, i64)> = attestations::table
        .filter(attestations::cohort_id.eq(cohort_id))
        .filter(attestations::final_key.is_not_null())
        .select((attestations::trainee_id, attestations::id))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

pub fn get(conn: &mut DbConn, id: i64) -> QueryResult<Option<AttestationRow>> {
    attestations::table
        .find(id)
        .select(AttestationRow::as_select())
        .first(conn)
        .optional()
}

pub fn by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<AttestationRow>> {
    attestations::table
        .filter(attestations::code.eq(code))
        .select(AttestationRow::as_select())
        .first(conn)
        .optional()
}

pub fn pdf(conn: &mut DbConn, id: i64) -> QueryResult<Vec<u8>> {
    attestations::table
        .find(id)
        .select(attestations::pdf)
        .first(conn)
}

pub fn of_trainee(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Vec<AttestationRow>> {
    attestations::table
        .filter(attestations::trainee_id.eq(trainee_id))
        .order(attestations::id.desc())
        .select(AttestationRow::as_select())
        .load(conn)
}

pub fn of_trainees(conn: &mut DbConn, trainee_ids: &[i64]) -> QueryResult<Vec<AttestationRow>> {
    attestations::table
        .filter(attestations::trainee_id.eq_any(trainee_ids))
        .order(attestations::id.desc())
        .select(AttestationRow::as_select())
        .load(conn)
}

pub fn revoke(
    conn: &mut DbConn,
    actor: i64,
    row: &AttestationRow,
    reason: &str,
) -> QueryResult<bool> {
    let n = diesel::update(
        attestations::table
            .find(row.id)
            .filter(attestations::revoked_at.is_null()),
    )
    .set((
        attestations::revoked_at.eq(db::now()),
        attestations::revoked_by.eq(actor),
        attestations::revoked_reason.eq(reason),
        // A revoked attestation no longer closes the path: a corrected one may be issued.
        attestations::final_key.eq(None::<String>),
    ))
    .execute(conn)?;
    if n == 1 {
        audit::record(
            conn,
            Event::new("attestation_revoked", "attestation", Some(row.id))
                .by(Some(actor))
                .in_organism(Some(row.organism_id))
                .key(row.number.clone())
                .change(
                    serde_json::json!({"status": "valid"}),
                    serde_json::json!({"status": "revoked", "reason": reason}),
                ),
        )?;
    }
    Ok(n == 1)
}

pub fn mark_forwarded(
    conn: &mut DbConn,
    doctor: i64,
    row: &AttestationRow,
    on: Option<NaiveDate>,
) -> QueryResult<()> {
    diesel::update(attestations::table.find(row.id))
        .set((
            attestations::cpam_forwarded_on.eq(on),
            attestations::cpam_marked_by.eq(doctor),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        Event::new("attestation_cpam_forwarded", "attestation", Some(row.id))
            .by(Some(doctor))
            .in_organism(Some(row.organism_id))
            .key(row.number.clone())
            .change(
                serde_json::json!({"cpam_forwarded_on": row.cpam_forwarded_on}),
                serde_json::json!({"cpam_forwarded_on": on}),
            ),
    )
}

/// The organism as attestations print it, and its city (the place of issue).
pub fn organism_identity(
    conn: &mut DbConn,
    id: i64,
) -> QueryResult<Option<(OrganismFacts, Option<String>)>> {
    type Row = (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let row: Option<Row> = organisms::table
        .find(id)
        .select((
            organisms::name,
            organisms::siret,
            organisms::nda,
            organisms::qualiopi_number,
            organisms::address,
            organisms::city,
        ))
        .first(conn)
        .optional()?;
    Ok(
        row.map(|(name, siret, nda, qualiopi_number, address, city)| {
            (
                OrganismFacts {
                    name,
                    siret,
                    nda,
                    qualiopi_number,
                    address,
                },
                city,
            )
        }),
    )
}

pub struct Identity {
    pub siret: Option<String>,
    pub nda: Option<String>,
    pub qualiopi_number: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
}

/// The organism admin fills what attestations print; audited with before and after.
pub fn set_identity(
    conn: &mut DbConn,
    actor: Option<i64>,
    id: i64,
    identity: &Identity,
) -> QueryResult<()> {
    let before = organism_identity(conn, id)?;
    diesel::update(organisms::table.find(id))
        .set((
            organisms::siret.eq(&identity.siret),
            organisms::nda.eq(&identity.nda),
            organisms::qualiopi_number.eq(&identity.qualiopi_number),
            organisms::address.eq(&identity.address),
            organisms::city.eq(&identity.city),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        Event::new("organism_identity_updated", "organism", Some(id))
            .by(actor)
            .in_organism(Some(id))
            .change(
                before.map(|(o, city)| serde_json::json!({"identity": o, "city": city})),
                serde_json::json!({
                    "siret": identity.siret, "nda": identity.nda,
                    "qualiopi_number": identity.qualiopi_number,
                    "address": identity.address, "city": identity.city,
                }),
            ),
    )
}

/// Hours actually done in a period (Paris days, both included), by module: (distance,
/// in-person, corrections) seconds. Distance from the daily totals, in-person from closed
/// sign-in sheets of sessions held in the period, corrections recorded in it.
pub type PeriodHours = HashMap<i64, (i64, i64, i64)>;

/// One trainee's [`PeriodHours`].
pub fn hours_in_period(
    conn: &mut DbConn,
    trainee_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<PeriodHours> {
    Ok(hours_in_periods(conn, &[(trainee_id, from, to)])?
        .pop()
        .unwrap_or_default())
}

/// [`PeriodHours`] of many (trainee, from, to) at once, in their order. The database sums
/// them: three grouped queries per distinct period (an export's trainees mostly share one),
/// not three per trainee.
pub fn hours_in_periods(
    conn: &mut DbConn,
    periods: &[(i64, NaiveDate, NaiveDate)],
) -> QueryResult<Vec<PeriodHours>> {
    use diesel::dsl::sql;
    use diesel::sql_types::BigInt;
    // SUM of a BIGINT is NUMERIC on PostgreSQL: cast so both backends answer the same type.
    let mut windows: HashMap<(NaiveDate, NaiveDate), Vec<i64>> = HashMap::new();
    for &(trainee, from, to) in periods {
        windows.entry((from, to)).or_default().push(trainee);
    }
    let mut found: HashMap<(i64, NaiveDate, NaiveDate), PeriodHours> = HashMap::new();
    // Period days are Europe/Paris dates; corrections are stamped in UTC.
    let utc_midnight = crate::base::paris::paris_midnight;
    for ((from, to), mut ids) in windows {
        ids.sort_unstable();
        ids.dedup();
        let (start, end) = (
            utc_midnight(from),
            utc_midnight(to + chrono::Duration::days(1)),
        );
        // Bounded lists keep under each backend's limit of bound parameters.
        for chunk in ids.chunks(1000) {
            let distance: Vec<(i64, i64, i64)> = daily_activity::table
                .filter(daily_activity::trainee_id.eq_any(chunk))
                .filter(daily_activity::day.ge(from))
                .filter(daily_activity::day.le(to))
                .group_by((daily_activity::trainee_id, daily_activity::module_id))
                .select((
                    daily_activity::trainee_id,
                    daily_activity::module_id,
                    sql::<BigInt>("CAST(SUM(daily_activity.distance_seconds) AS BIGINT)"),
                ))
                .load(conn)?;
            let presence: Vec<(i64, i64, i64)> = attendance_entries::table
                .inner_join(attendance_sheets::table.inner_join(sessions::table))
                .filter(attendance_entries::trainee_id.eq_any(chunk))
                .filter(attendance_sheets::status.eq(crate::tracking::rules::CLOSED))
                .filter(sessions::day.ge(from))
                .filter(sessions::day.le(to))
                .group_by((attendance_entries::trainee_id, sessions::module_id))
                .select((
                    attendance_entries::trainee_id,
                    sessions::module_id,
                    sql::<BigInt>("CAST(SUM(attendance_entries.minutes_credited) AS BIGINT)"),
                ))
                .load(conn)?;
            let corrections: Vec<(i64, i64, i64)> = hour_corrections::table
                .filter(hour_corrections::trainee_id.eq_any(chunk))
                .filter(hour_corrections::created_at.ge(start))
                .filter(hour_corrections::created_at.lt(end))
                .group_by((hour_corrections::trainee_id, hour_corrections::module_id))
                .select((
                    hour_corrections::trainee_id,
                    hour_corrections::module_id,
                    sql::<BigInt>("CAST(SUM(hour_corrections.seconds) AS BIGINT)"),
                ))
                .load(conn)?;
            for (t, m, s) in distance {
                line(&mut found, (t, from, to), m).0 += s;
            }
            for (t, m, minutes) in presence {
                line(&mut found, (t, from, to), m).1 += minutes * 60;
            }
            for (t, m, s) in corrections {
                line(&mut found, (t, from, to), m).2 += s;
            }
        }
    }
    Ok(periods
        .iter()
        .map(|p| found.get(p).cloned().unwrap_or_default())
        .collect())
}

fn line(
    found: &mut HashMap<(i64, NaiveDate, NaiveDate), PeriodHours>,
    period: (i64, NaiveDate, NaiveDate),
    module: i64,
) -> &mut (i64, i64, i64) {
    found.entry(period).or_default().entry(module).or_default()
}

/// The first organism administrator, who signs what the command line issues.
pub fn first_org_admin(conn: &mut DbConn, organism_id: i64) -> QueryResult<Option<(i64, String)>> {
    users::table
        .filter(users::organism_id.eq(organism_id))
        .filter(users::role.eq(crate::accounts::Role::OrganismAdmin.as_str()))
        .filter(users::disabled.eq(false))
        .order(users::id.asc())
        .select((users::id, users::name))
        .first(conn)
        .optional()
}

/// Why no doctor was mailed the attestation numbered `number` (`None`: one was at least).
pub fn set_doctor_not_sent(
    conn: &mut DbConn,
    number: &str,
    reason: Option<&str>,
) -> QueryResult<usize> {
    diesel::update(attestations::table.filter(attestations::number.eq(number)))
        .set(attestations::doctor_not_sent.eq(reason))
        .execute(conn)
}

/// The day of the next certification session the trainee is registered for, from `from` on.
/// Read here from the certification tables, as that domain builds on this one.
pub fn next_certification_day(
    conn: &mut DbConn,
    trainee_id: i64,
    from: NaiveDate,
) -> QueryResult<Option<NaiveDate>> {
    certification_candidates::table
        .inner_join(certification_sessions::table)
        .filter(certification_candidates::trainee_id.eq(trainee_id))
        .filter(certification_sessions::held_on.ge(from))
        .order(certification_sessions::held_on.asc())
        .select(certification_sessions::held_on)
        .first(conn)
        .optional()
}
