//! Organism queries.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::rules::Organism;
use crate::audit::{self, Event};
use crate::db::schema::organisms;
use crate::db::{self, DbConn};

#[derive(Clone, Debug, Queryable, Selectable, Serialize)]
#[diesel(table_name = organisms)]
pub struct OrganismRow {
    pub id: i64,
    pub name: String,
    pub siret: Option<String>,
    pub nda: Option<String>,
    pub address: Option<String>,
    pub qualiopi_number: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn create(conn: &mut DbConn, actor: Option<i64>, o: &Organism) -> QueryResult<i64> {
    let id: i64 = diesel::insert_into(organisms::table)
        .values((
            organisms::name.eq(&o.name),
            organisms::siret.eq(&o.siret),
            organisms::nda.eq(&o.nda),
            organisms::address.eq(&o.address),
            organisms::qualiopi_number.eq(&o.qualiopi_number),
            organisms::contact_email.eq(&o.contact_email),
            organisms::contact_phone.eq(&o.contact_phone),
            organisms::created_at.eq(db::now()),
        ))
        .returning(organisms::id)
        .get_result(conn)?;
    audit::record(
        conn,
        Event::new("organism_created", "organism", Some(id))
            .by(actor)
            .in_organism(Some(id))
            .detail(serde_json::json!({"name": o.name, "siret": o.siret})),
    )?;
    Ok(id)
}

pub fn get(conn: &mut DbConn, id: i64) -> QueryResult<Option<OrganismRow>> {
    organisms::table
        .find(id)
        .select(OrganismRow::as_select())
        .first(conn)
        .optional()
}

pub fn by_name(conn: &mut DbConn, name: &str) -> QueryResult<Option<OrganismRow>> {
    organisms::table
        .filter(organisms::name.eq(name))
        .select(OrganismRow::as_select())
        .first(conn)
        .optional()
}

pub fn list_organisms(conn: &mut DbConn) -> QueryResult<Vec<OrganismRow>> {
    organisms::table
        .order(organisms::name.asc())
        .select(OrganismRow::as_select())
        .load(conn)
}

pub struct NewCohort<'a> {
    pub organism_id: i64,
    pub program_id: i64,
    pub content_version_id: i64,
    pub name: &'a str,
    pub start_date: chrono::NaiveDate,
    pub end_date: chrono::NaiveDate,
}

pub fn create_cohort(conn: &mut DbConn, actor: Option<i64>, c: &NewCohort<'_>) -> QueryResult<i64> {
    use crate::db::schema::cohorts;
    let id: i64 = diesel::insert_into(cohorts::table)
        .values((
            cohorts::organism_id.eq(c.organism_id),
            cohorts::program_id.eq(c.program_id),
            cohorts::content_version_id.eq(c.content_version_id),
            cohorts::name.eq(c.name),
            cohorts::start_date.eq(c.start_date),
            cohorts::end_date.eq(c.end_date),
            cohorts::created_at.eq(db::now()),
            cohorts::ics_token.eq(new_ics_token()?),
        ))
        .returning(cohorts::id)
        .get_result(conn)?;
    audit::record(
        conn,
        Event::new("cohort_created", "cohort", Some(id))
            .by(actor)
            .in_organism(Some(c.organism_id))
            .detail(serde_json::json!({"name": c.name, "start": c.start_date, "end": c.end_date})),
    )?;
    Ok(id)
}

pub fn cohort_by_name(conn: &mut DbConn, organism_id: i64, name: &str) -> QueryResult<Option<i64>> {
    use crate::db::schema::cohorts;
    cohorts::table
        .filter(cohorts::organism_id.eq(organism_id))
        .filter(cohorts::name.eq(name))
        .select(cohorts::id)
        .first(conn)
        .optional()
}

/// Enrols a trainee in a cohort (the trainee must not be enrolled elsewhere).
pub fn enrol(
    conn: &mut DbConn,
    actor: Option<i64>,
    organism_id: i64,
    cohort_id: i64,
    trainee_id: i64,
    on: chrono::NaiveDate,
) -> QueryResult<i64> {
    use crate::db::schema::enrolments;
    let id: i64 = diesel::insert_into(enrolments::table)
        .values((
            enrolments::cohort_id.eq(cohort_id),
            enrolments::trainee_id.eq(trainee_id),
            enrolments::started_on.eq(on),
            enrolments::created_at.eq(db::now()),
        ))
        .returning(enrolments::id)
        .get_result(conn)?;
    audit::record(
        conn,
        Event::new("enrolment_created", "enrolment", Some(id))
            .by(actor)
            .in_organism(Some(organism_id))
            .detail(serde_json::json!({"cohort": cohort_id, "trainee": trainee_id, "on": on})),
    )?;
    Ok(id)
}

pub fn is_enrolled(conn: &mut DbConn, trainee_id: i64) -> QueryResult<bool> {
    use crate::db::schema::enrolments;
    diesel::select(diesel::dsl::exists(
        enrolments::table
            .filter(enrolments::trainee_id.eq(trainee_id))
            .filter(enrolments::ended_on.is_null()),
    ))
    .get_result(conn)
}

use chrono::NaiveDate;

use crate::db::schema::{
    cohort_trainers, cohorts, distance_periods, employer_doctors, employers, enrolments, modules,
    path_adjustments, programs, sessions, trainee_profiles, users,
};

#[derive(Debug, Clone, Queryable, Serialize)]
pub struct CohortRow {
    pub id: i64,
    pub organism_id: i64,
    pub program_id: i64,
    pub name: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    #[serde(skip)]
    pub ics_token: String,
    pub program_code: String,
    pub program_title: String,
    pub program_kind: String,
}

macro_rules! cohort_select {
    () => {
        (
            cohorts::id,
            cohorts::organism_id,
            cohorts::program_id,
            cohorts::name,
            cohorts::start_date,
            cohorts::end_date,
            cohorts::ics_token,
            programs::code,
            programs::title,
            programs::kind,
        )
    };
}

pub fn cohort(conn: &mut DbConn, id: i64) -> QueryResult<Option<CohortRow>> {
    cohorts::table
        .inner_join(programs::table)
        .filter(cohorts::id.eq(id))
        .select(cohort_select!())
        .first(conn)
        .optional()
}

pub fn cohort_by_token(conn: &mut DbConn, token: &str) -> QueryResult<Option<CohortRow>> {
    cohorts::table
        .inner_join(programs::table)
        .filter(cohorts::ics_token.eq(token))
        .select(cohort_select!())
        .first(conn)
        .optional()
}

/// Cohorts of one organism, newest first, with their number of active trainees.
pub fn cohorts_of(conn: &mut DbConn, organism_id: i64) -> QueryResult<Vec<(CohortRow, i64)>> {
    let list: Vec<CohortRow> = cohorts::table
        .inner_join(programs::table)
        .filter(cohorts::organism_id.eq(organism_id))
        .order(cohorts::start_date.desc())
        .select(cohort_select!())
        .load(conn)?;
    let ids: Vec<i64> = list.iter().map(|c| c.id).collect();
    let counts: Vec<(i64, i64)> = enrolments::table
        .filter(enrolments::cohort_id.eq_any(&ids))
        .filter(enrolments::ended_on.is_null())
        .group_by(enrolments::cohort_id)
        .select((enrolments::cohort_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(list
        .into_iter()
        .map(|c| {
            let n = counts.iter().find(|(id, _)| *id == c.id).map_or(0, |x| x.1);
            (c, n)
        })
        .collect())
}

/// A trainee as staff and the employer see them.
#[derive(Debug, Clone, Serialize)]
pub struct TraineeLine {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub activated: bool,
    pub organism_id: i64,
    pub profile: String,
    pub hire_date: NaiveDate,
    pub funding: String,
    pub employer_id: Option<i64>,
    pub employer: Option<String>,
    pub doctors: Vec<String>,
    pub proa_from: Option<NaiveDate>,
    pub proa_to: Option<NaiveDate>,
    pub prior_experience: Option<String>,
    pub cohort_id: Option<i64>,
}

type ProfileRow = (
    i64,
    String,
    String,
    Option<String>,
    i64,
    String,
    NaiveDate,
    String,
    Option<i64>,
    Option<NaiveDate>,
    Option<NaiveDate>,
    Option<String>,
);

fn trainee_lines(conn: &mut DbConn, rows: Vec<ProfileRow>) -> QueryResult<Vec<TraineeLine>> {
    let user_ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let employer_ids: Vec<i64> = rows.iter().filter_map(|r| r.8).collect();
    let names: Vec<(i64, String)> = employers::table
        .filter(employers::id.eq_any(&employer_ids))
        .select((employers::id, employers::name))
        .load(conn)?;
    let doctors: Vec<(i64, String)> = employer_doctors::table
        .inner_join(users::table.on(users::id.eq(employer_doctors::doctor_id)))
        .filter(employer_doctors::employer_id.eq_any(&employer_ids))
        .select((employer_doctors::employer_id, users::name))
        .load(conn)?;
    let cohorts_of: Vec<(i64, i64)> = enrolments::table
        .filter(enrolments::trainee_id.eq_any(&user_ids))
        .filter(enrolments::ended_on.is_null())
        .select((enrolments::trainee_id, enrolments::cohort_id))
        .load(conn)?;
    let employer_names: std::collections::HashMap<i64, String> = names.into_iter().collect();
    let mut doctors_by: std::collections::HashMap<i64, Vec<String>> =
        std::collections::HashMap::new();
    for (employer, name) in doctors {
        doctors_by.entry(employer).or_default().push(name);
    }
    let cohort_by: std::collections::HashMap<i64, i64> = cohorts_of.into_iter().collect();
    Ok(rows
        .into_iter()
        .map(|r| TraineeLine {
            id: r.0,
            name: r.1,
            email: r.2,
            activated: r.3.is_some(),
            organism_id: r.4,
            profile: r.5,
            hire_date: r.6,
            funding: r.7,
            employer_id: r.8,
            employer: r.8.and_then(|e| employer_names.get(&e).cloned()),
            doctors: r
                .8
                .and_then(|e| doctors_by.get(&e).cloned())
                .unwrap_or_default(),
            proa_from: r.9,
            proa_to: r.10,
            prior_experience: r.11,
            cohort_id: cohort_by.get(&r.0).copied(),
        })
        .collect())
}

macro_rules! profile_select {
    () => {
        (
            users::id,
            users::name,
            users::email,
            users::password_hash,
            trainee_profiles::organism_id,
            trainee_profiles::profile,
            trainee_profiles::hire_date,
            trainee_profiles::funding,
            trainee_profiles::employer_id,
            trainee_profiles::proa_suspended_from,
            trainee_profiles::proa_suspended_to,
            trainee_profiles::prior_experience,
        )
    };
}

/// The trainees a query of hours is about: a few by id, or every current member of a cohort
/// (one bound value however many they are, instead of a thousand).
#[derive(Clone, Copy, Debug)]
pub enum Trainees<'a> {
    Ids(&'a [i64]),
    OfCohort(i64),
}

/// Filters a boxed query on its trainee column by a `Trainees` set.
macro_rules! of_trainees {
    ($query:expr, $column:expr, $who:expr) => {
        match $who {
            $crate::cohorts::store::Trainees::Ids(ids) => $query.filter($column.eq_any(ids)),
            $crate::cohorts::store::Trainees::OfCohort(cohort) => {
                use $crate::db::schema::enrolments as e;
                $query.filter(
                    $column.eq_any(
                        e::table
                            .filter(e::cohort_id.eq(cohort))
                            .filter(e::ended_on.is_null())
                            .select(e::trainee_id),
                    ),
                )
            }
        }
    };
}
pub(crate) use of_trainees;

/// Active trainees of a cohort of this organism, by name.
pub fn trainees_of_cohort(
    conn: &mut DbConn,
    organism_id: i64,
    cohort_id: i64,
) -> QueryResult<Vec<TraineeLine>> {
    let rows: Vec<ProfileRow> = enrolments::table
        .inner_join(users::table.on(users::id.eq(enrolments::trainee_id)))
        .inner_join(trainee_profiles::table.on(trainee_profiles::user_id.eq(users::id)))
        .filter(enrolments::cohort_id.eq(cohort_id))
        .filter(enrolments::ended_on.is_null())
        .filter(trainee_profiles::organism_id.eq(organism_id))
        .order(users::name.asc())
        .select(profile_select!())
        .load(conn)?;
    trainee_lines(conn, rows)
}

/// One trainee, seen from an organism (`Some(org)`), or by anyone already checked (`None`).
pub fn trainee(
    conn: &mut DbConn,
    organism_scope: Option<i64>,
    user_id: i64,
) -> QueryResult<Option<TraineeLine>> {
    let mut q = users::table
        .inner_join(trainee_profiles::table.on(trainee_profiles::user_id.eq(users::id)))
        .filter(users::id.eq(user_id))
        .select(profile_select!())
        .into_boxed();
    if let Some(org) = organism_scope {
        q = q.filter(trainee_profiles::organism_id.eq(org));
    }
    let rows: Vec<ProfileRow> = q.load(conn)?;
    Ok(trainee_lines(conn, rows)?.into_iter().next())
}

/// The assistants a doctor employs, directly or through a group practice.
pub fn assistants_of(conn: &mut DbConn, doctor_id: i64) -> QueryResult<Vec<TraineeLine>> {
    let employer_ids: Vec<i64> = employer_doctors::table
        .filter(employer_doctors::doctor_id.eq(doctor_id))
        .select(employer_doctors::employer_id)
        .load(conn)?;
    let rows: Vec<ProfileRow> = users::table
        .inner_join(trainee_profiles::table.on(trainee_profiles::user_id.eq(users::id)))
        .filter(trainee_profiles::employer_id.eq_any(&employer_ids))
        .order(users::name.asc())
        .select(profile_select!())
        .load(conn)?;
    trainee_lines(conn, rows)
}

pub fn employs(conn: &mut DbConn, doctor_id: i64, trainee_id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        trainee_profiles::table
            .inner_join(
                employer_doctors::table.on(employer_doctors::employer_id
                    .nullable()
                    .eq(trainee_profiles::employer_id)),
            )
            .filter(trainee_profiles::user_id.eq(trainee_id))
            .filter(employer_doctors::doctor_id.eq(doctor_id)),
    ))
    .get_result(conn)
}

pub fn trainee_ics_token(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Option<String>> {
    trainee_profiles::table
        .filter(trainee_profiles::user_id.eq(trainee_id))
        .select(trainee_profiles::ics_token)
        .first(conn)
        .optional()
}

/// The cohort a trainee's feed shows: none once her account is disabled or she has no
/// active enrolment, so that a feed dies with either.
pub fn trainee_feed_cohort(conn: &mut DbConn, token: &str) -> QueryResult<Option<i64>> {
    let trainee: Option<i64> = trainee_profiles::table
        .inner_join(users::table.on(users::id.eq(trainee_profiles::user_id)))
        .filter(trainee_profiles::ics_token.eq(token))
        .filter(users::disabled.eq(false))
        .select(trainee_profiles::user_id)
        .first(conn)
        .optional()?;
    match trainee {
        Some(id) => active_cohort(conn, id),
        None => Ok(None),
    }
}

fn new_ics_token() -> QueryResult<String> {
    crate::web::random_token(18).map_err(|_| diesel::result::Error::RollbackTransaction)
}

/// A new secret for a trainee's feed, so the old address answers no more. Audited without
/// the secret. `false` when the person has no trainee profile.
pub fn renew_trainee_ics_token(
    conn: &mut DbConn,
    actor: i64,
    trainee_id: i64,
) -> QueryResult<bool> {
    let Some(org) = trainee_profiles::table
        .filter(trainee_profiles::user_id.eq(trainee_id))
        .select(trainee_profiles::organism_id)
        .first::<i64>(conn)
        .optional()?
    else {
        return Ok(false);
    };
    diesel::update(trainee_profiles::table.filter(trainee_profiles::user_id.eq(trainee_id)))
        .set((
            trainee_profiles::ics_token.eq(new_ics_token()?),
            trainee_profiles::updated_at.eq(db::now()),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        Event::new("ics_feed_renewed", "trainee", Some(trainee_id))
            .by(Some(actor))
            .in_organism(Some(org)),
    )?;
    Ok(true)
}

/// A new secret for a cohort's feed (audited without the secret).
pub fn renew_cohort_ics_token(
    conn: &mut DbConn,
    actor: i64,
    cohort: &CohortRow,
) -> QueryResult<()> {
    diesel::update(cohorts::table.find(cohort.id))
        .set(cohorts::ics_token.eq(new_ics_token()?))
        .execute(conn)?;
    audit::record(
        conn,
        Event::new("ics_feed_renewed", "cohort", Some(cohort.id))
            .by(Some(actor))
            .in_organism(Some(cohort.organism_id)),
    )
}

pub fn active_cohort(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Option<i64>> {
    Ok(active_enrolment(conn, trainee_id)?.map(|(cohort, _)| cohort))
}

/// The cohort the trainee is in now, and since when.
pub fn active_enrolment(
    conn: &mut DbConn,
    trainee_id: i64,
) -> QueryResult<Option<(i64, NaiveDate)>> {
    enrolments::table
        .filter(enrolments::trainee_id.eq(trainee_id))
        .filter(enrolments::ended_on.is_null())
        .select((enrolments::cohort_id, enrolments::started_on))
        .first(conn)
        .optional()
}

#[derive(Debug, Clone, Queryable, Serialize)]
pub struct Adjustment {
    pub module_id: i64,
    pub kind: String,
    pub exempted_minutes: i32,
    pub reason: String,
    pub document_ref: Option<String>,
}

pub fn adjustments(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Vec<Adjustment>> {
    path_adjustments::table
        .filter(path_adjustments::trainee_id.eq(trainee_id))
        .select((
            path_adjustments::module_id,
            path_adjustments::kind,
            path_adjustments::exempted_minutes,
            path_adjustments::reason,
            path_adjustments::document_ref,
        ))
        .load(conn)
}

/// Sets (or clears, with 0 minutes) the exempted part of a module for a trainee; audited.
#[allow(clippy::too_many_arguments)]
pub fn set_adjustment(
    conn: &mut DbConn,
    actor: Option<i64>,
    organism_id: i64,
    trainee_id: i64,
    module_id: i64,
    kind: &str,
    minutes: i32,
    reason: &str,
    document_ref: Option<&str>,
) -> QueryResult<()> {
    let before: Option<Adjustment> = adjustments(conn, trainee_id)?
        .into_iter()
        .find(|a| a.module_id == module_id);
    diesel::delete(
        path_adjustments::table
            .filter(path_adjustments::trainee_id.eq(trainee_id))
            .filter(path_adjustments::module_id.eq(module_id)),
    )
    .execute(conn)?;
    if minutes > 0 {
        diesel::insert_into(path_adjustments::table)
            .values((
                path_adjustments::trainee_id.eq(trainee_id),
                path_adjustments::module_id.eq(module_id),
                path_adjustments::kind.eq(kind),
                path_adjustments::exempted_minutes.eq(minutes),
                path_adjustments::reason.eq(reason),
                path_adjustments::document_ref.eq(document_ref),
                path_adjustments::updated_by.eq(actor),
                path_adjustments::updated_at.eq(db::now()),
            ))
            .execute(conn)?;
    }
    audit::record(
        conn,
        Event::new("path_adjusted", "trainee", Some(trainee_id))
            .by(actor)
            .in_organism(Some(organism_id))
            .change(
                before.map(|b| serde_json::json!({"module": b.module_id, "kind": b.kind, "minutes": b.exempted_minutes, "reason": b.reason})),
                serde_json::json!({"module": module_id, "kind": kind, "minutes": minutes, "reason": reason, "document": document_ref}),
            ),
    )
}

pub fn set_proa(
    conn: &mut DbConn,
    actor: i64,
    trainee: &TraineeLine,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> QueryResult<()> {
    diesel::update(trainee_profiles::table.filter(trainee_profiles::user_id.eq(trainee.id)))
        .set((
            trainee_profiles::proa_suspended_from.eq(from),
            trainee_profiles::proa_suspended_to.eq(to),
            trainee_profiles::updated_at.eq(db::now()),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        Event::new("proa_suspension_set", "trainee", Some(trainee.id))
            .by(Some(actor))
            .in_organism(Some(trainee.organism_id))
            .change(
                serde_json::json!({"from": trainee.proa_from, "to": trainee.proa_to}),
                serde_json::json!({"from": from, "to": to}),
            ),
    )
}

/// Ends the trainee's current enrolment, in `cohort`, on `on` (the first day out) for a
/// reason, as a departure that Qualiopi counts.
pub fn end_enrolment(
    conn: &mut DbConn,
    actor: i64,
    trainee: &TraineeLine,
    cohort: i64,
    on: NaiveDate,
    reason: super::rules::EndReason,
    note: Option<&str>,
) -> QueryResult<()> {
    diesel::update(
        enrolments::table
            .filter(enrolments::trainee_id.eq(trainee.id))
            .filter(enrolments::ended_on.is_null()),
    )
    .set((
        enrolments::ended_on.eq(on),
        enrolments::end_reason.eq(reason.as_str()),
        enrolments::end_note.eq(note),
    ))
    .execute(conn)?;
    audit::record(
        conn,
        Event::new("trainee_left", "trainee", Some(trainee.id))
            .by(Some(actor))
            .in_organism(Some(trainee.organism_id))
            .change(
                serde_json::json!({"cohort": cohort}),
                serde_json::json!({"cohort": cohort, "ended_on": on, "reason": reason.as_str(), "note": note}),
            ),
    )
}

/// Takes back a departure recorded by mistake: the trainee's last enrolment goes on as if it
/// had not ended. `false` when there is no departure to take back (the trainee is in a
/// cohort, or the last enrolment ended by a transfer).
pub fn undo_departure(conn: &mut DbConn, actor: i64, trainee: &TraineeLine) -> QueryResult<bool> {
    let Some(d) = last_departure(conn, trainee.id)? else {
        return Ok(false);
    };
    diesel::update(enrolments::table.find(d.enrolment_id))
        .set((
            enrolments::ended_on.eq(None::<NaiveDate>),
            enrolments::end_reason.eq(None::<String>),
            enrolments::end_note.eq(None::<String>),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        Event::new("trainee_departure_undone", "trainee", Some(trainee.id))
            .by(Some(actor))
            .in_organism(Some(trainee.organism_id))
            .change(
                serde_json::json!({"cohort": d.cohort_id, "ended_on": d.on, "reason": d.reason}),
                serde_json::json!({"cohort": d.cohort_id}),
            ),
    )?;
    Ok(true)
}

/// A trainee's early departure from a cohort.
#[derive(Debug, Clone, Queryable)]
pub struct Departure {
    pub enrolment_id: i64,
    pub cohort_id: i64,
    pub cohort: String,
    pub on: Option<NaiveDate>,
    pub reason: Option<String>,
    pub note: Option<String>,
}

/// The trainee's last departure, when her newest enrolment ended with one: she is in no
/// cohort now (an enrolment is never older than the one it follows). A transfer is not a
/// departure.
pub fn last_departure(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Option<Departure>> {
    let last: Option<Departure> = enrolments::table
        .inner_join(cohorts::table)
        .filter(enrolments::trainee_id.eq(trainee_id))
        .order(enrolments::id.desc())
        .select((
            enrolments::id,
            cohorts::id,
            cohorts::name,
            enrolments::ended_on,
            enrolments::end_reason,
            enrolments::end_note,
        ))
        .first(conn)
        .optional()?;
    Ok(last.filter(|d| d.on.is_some() && d.reason.is_some()))
}

/// Moves a trainee to another cohort of the same organism. Hours belong to the trainee and
/// the module, not to the enrolment, so every hour done stays.
pub fn transfer(
    conn: &mut DbConn,
    actor: i64,
    trainee: &TraineeLine,
    to_cohort: i64,
    on: NaiveDate,
) -> QueryResult<i64> {
    let from = active_cohort(conn, trainee.id)?;
    diesel::update(
        enrolments::table
            .filter(enrolments::trainee_id.eq(trainee.id))
            .filter(enrolments::ended_on.is_null()),
    )
    .set(enrolments::ended_on.eq(on))
    .execute(conn)?;
    let id = enrol(
        conn,
        Some(actor),
        trainee.organism_id,
        to_cohort,
        trainee.id,
        on,
    )?;
    audit::record(
        conn,
        Event::new("trainee_transferred", "trainee", Some(trainee.id))
            .by(Some(actor))
            .in_organism(Some(trainee.organism_id))
            .change(
                serde_json::json!({"cohort": from}),
                serde_json::json!({"cohort": to_cohort}),
            ),
    )?;
    Ok(id)
}

#[derive(Debug, Clone, Queryable, Serialize)]
pub struct SessionRow {
    pub id: i64,
    pub cohort_id: i64,
    pub module_id: i64,
    pub module_code: String,
    pub module_title: String,
    pub trainer_id: Option<i64>,
    pub day: NaiveDate,
    pub starts_at: chrono::NaiveTime,
    pub ends_at: chrono::NaiveTime,
    pub place: String,
    pub planned_minutes: i32,
}

macro_rules! session_select {
    () => {
        (
            sessions::id,
            sessions::cohort_id,
            sessions::module_id,
            modules::code,
            modules::title,
            sessions::trainer_id,
            sessions::day,
            sessions::starts_at,
            sessions::ends_at,
            sessions::place,
            sessions::planned_minutes,
        )
    };
}

pub fn sessions_of(conn: &mut DbConn, cohort_id: i64) -> QueryResult<Vec<SessionRow>> {
    sessions::table
        .inner_join(modules::table)
        .filter(sessions::cohort_id.eq(cohort_id))
        .order((sessions::day.asc(), sessions::starts_at.asc()))
        .select(session_select!())
        .load(conn)
}

pub fn session(conn: &mut DbConn, id: i64) -> QueryResult<Option<SessionRow>> {
    sessions::table
        .inner_join(modules::table)
        .filter(sessions::id.eq(id))
        .select(session_select!())
        .first(conn)
        .optional()
}

pub struct NewSession<'a> {
    pub module_id: i64,
    pub trainer_id: Option<i64>,
    pub day: NaiveDate,
    pub starts_at: chrono::NaiveTime,
    pub ends_at: chrono::NaiveTime,
    pub place: &'a str,
}

pub fn add_sessions(
    conn: &mut DbConn,
    actor: i64,
    organism_id: i64,
    cohort_id: i64,
    list: &[NewSession<'_>],
) -> QueryResult<usize> {
    for s in list {
        diesel::insert_into(sessions::table)
            .values((
                sessions::cohort_id.eq(cohort_id),
                sessions::module_id.eq(s.module_id),
                sessions::trainer_id.eq(s.trainer_id),
                sessions::day.eq(s.day),
                sessions::starts_at.eq(s.starts_at),
                sessions::ends_at.eq(s.ends_at),
                sessions::place.eq(s.place),
                sessions::planned_minutes.eq((s.ends_at - s.starts_at).num_minutes() as i32),
                sessions::created_at.eq(db::now()),
            ))
            .execute(conn)?;
    }
    audit::record(
        conn,
        Event::new("sessions_added", "cohort", Some(cohort_id))
            .by(Some(actor))
            .in_organism(Some(organism_id))
            .detail(serde_json::json!({"count": list.len()})),
    )?;
    Ok(list.len())
}

pub fn update_session(
    conn: &mut DbConn,
    actor: i64,
    organism_id: i64,
    before: &SessionRow,
    new: &NewSession<'_>,
) -> QueryResult<()> {
    diesel::update(sessions::table.find(before.id))
        .set((
            sessions::module_id.eq(new.module_id),
            sessions::trainer_id.eq(new.trainer_id),
            sessions::day.eq(new.day),
            sessions::starts_at.eq(new.starts_at),
            sessions::ends_at.eq(new.ends_at),
            sessions::place.eq(new.place),
            sessions::planned_minutes.eq((new.ends_at - new.starts_at).num_minutes() as i32),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        Event::new("session_changed", "session", Some(before.id))
            .by(Some(actor))
            .in_organism(Some(organism_id))
            .change(
                serde_json::json!({"day": before.day, "start": before.starts_at, "end": before.ends_at, "place": before.place, "module": before.module_id}),
                serde_json::json!({"day": new.day, "start": new.starts_at, "end": new.ends_at, "place": new.place, "module": new.module_id}),
            ),
    )
}

pub fn delete_session(
    conn: &mut DbConn,
    actor: i64,
    organism_id: i64,
    before: &SessionRow,
) -> QueryResult<()> {
    diesel::delete(sessions::table.find(before.id)).execute(conn)?;
    audit::record(
        conn,
        Event::new("session_deleted", "session", Some(before.id))
            .by(Some(actor))
            .in_organism(Some(organism_id))
            .change(
                serde_json::json!({"day": before.day, "start": before.starts_at, "module": before.module_id}),
                serde_json::Value::Null,
            ),
    )
}

pub fn distance_periods_of(
    conn: &mut DbConn,
    cohort_id: i64,
) -> QueryResult<Vec<(i64, String, NaiveDate, NaiveDate)>> {
    distance_periods::table
        .inner_join(modules::table)
        .filter(distance_periods::cohort_id.eq(cohort_id))
        .order(distance_periods::from_date.asc())
        .select((
            distance_periods::id,
            modules::code,
            distance_periods::from_date,
            distance_periods::to_date,
        ))
        .load(conn)
}

pub fn add_distance_period(
    conn: &mut DbConn,
    actor: i64,
    organism_id: i64,
    cohort_id: i64,
    module_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<()> {
    diesel::insert_into(distance_periods::table)
        .values((
            distance_periods::cohort_id.eq(cohort_id),
            distance_periods::module_id.eq(module_id),
            distance_periods::from_date.eq(from),
            distance_periods::to_date.eq(to),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        Event::new("distance_period_added", "cohort", Some(cohort_id))
            .by(Some(actor))
            .in_organism(Some(organism_id))
            .detail(serde_json::json!({"module": module_id, "from": from, "to": to})),
    )
}

pub fn trainers_of(conn: &mut DbConn, cohort_id: i64) -> QueryResult<Vec<i64>> {
    cohort_trainers::table
        .filter(cohort_trainers::cohort_id.eq(cohort_id))
        .select(cohort_trainers::trainer_id)
        .load(conn)
}

pub fn set_trainers(conn: &mut DbConn, cohort_id: i64, trainers: &[i64]) -> QueryResult<()> {
    diesel::delete(cohort_trainers::table.filter(cohort_trainers::cohort_id.eq(cohort_id)))
        .execute(conn)?;
    for t in trainers {
        diesel::insert_into(cohort_trainers::table)
            .values((
                cohort_trainers::cohort_id.eq(cohort_id),
                cohort_trainers::trainer_id.eq(t),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn program_modules(
    conn: &mut DbConn,
    program_id: i64,
) -> QueryResult<Vec<(i64, String, String, i32)>> {
    modules::table
        .filter(modules::program_id.eq(program_id))
        .filter(modules::retired.eq(false))
        .order(modules::position.asc())
        .select((
            modules::id,
            modules::code,
            modules::title,
            modules::planned_minutes,
        ))
        .load(conn)
}

pub struct NewProfile<'a> {
    pub user_id: i64,
    pub organism_id: i64,
    pub profile: &'a str,
    pub hire_date: NaiveDate,
    pub funding: &'a str,
    pub employer_id: Option<i64>,
}

pub fn create_profile(conn: &mut DbConn, p: &NewProfile<'_>) -> QueryResult<()> {
    diesel::insert_into(trainee_profiles::table)
        .values((
            trainee_profiles::user_id.eq(p.user_id),
            trainee_profiles::organism_id.eq(p.organism_id),
            trainee_profiles::profile.eq(p.profile),
            trainee_profiles::hire_date.eq(p.hire_date),
            trainee_profiles::funding.eq(p.funding),
            trainee_profiles::employer_id.eq(p.employer_id),
            trainee_profiles::ics_token.eq(new_ics_token()?),
            trainee_profiles::updated_at.eq(db::now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// What the trainee did before, as her organism's file said it.
pub fn set_prior_experience(
    conn: &mut DbConn,
    user_id: i64,
    prior: Option<&str>,
) -> QueryResult<()> {
    diesel::update(trainee_profiles::table.filter(trainee_profiles::user_id.eq(user_id)))
        .set(trainee_profiles::prior_experience.eq(prior))
        .execute(conn)
        .map(|_| ())
}

/// Exempted minutes of several trainees: (trainee, module, minutes).
pub fn adjustments_of_many(
    conn: &mut DbConn,
    who: Trainees<'_>,
) -> QueryResult<Vec<(i64, i64, i32)>> {
    of_trainees!(
        path_adjustments::table.into_boxed(),
        path_adjustments::trainee_id,
        who
    )
    .select((
        path_adjustments::trainee_id,
        path_adjustments::module_id,
        path_adjustments::exempted_minutes,
    ))
    .load(conn)
}
