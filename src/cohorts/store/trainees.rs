//! Trainees as the pages list them: identity, employer, profile and current cohort.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

use super::sessions::new_ics_token;
use crate::db::schema::{
    cohorts, employer_doctors, employers, enrolments, trainee_profiles, users,
};
use crate::db::{self, DbConn};

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
    /// The windows of a ProA funding suspension, oldest first.
    pub suspensions: Vec<crate::cohorts::rules::Suspension>,
    pub prior_experience: Option<String>,
    pub cohort_id: Option<i64>,
    /// The end of her current cohort, which her deadline is weighed against.
    pub cohort_end: Option<NaiveDate>,
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
    let cohorts_of: Vec<(i64, (i64, NaiveDate))> = enrolments::table
        .inner_join(cohorts::table)
        .filter(enrolments::trainee_id.eq_any(&user_ids))
        .filter(enrolments::ended_on.is_null())
        .select((
            enrolments::trainee_id,
            (enrolments::cohort_id, cohorts::end_date),
        ))
        .load(conn)?;
    let mut suspensions = super::suspensions_of(conn, &user_ids)?;
    let employer_names: std::collections::HashMap<i64, String> = names.into_iter().collect();
    let mut doctors_by: std::collections::HashMap<i64, Vec<String>> =
        std::collections::HashMap::new();
    for (employer, name) in doctors {
        doctors_by.entry(employer).or_default().push(name);
    }
    let cohort_by: std::collections::HashMap<i64, (i64, NaiveDate)> =
        cohorts_of.into_iter().collect();
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
            suspensions: suspensions.remove(&r.0).unwrap_or_default(),
            prior_experience: r.9,
            cohort_id: cohort_by.get(&r.0).map(|c| c.0),
            cohort_end: cohort_by.get(&r.0).map(|c| c.1),
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
/// Whose trainees a lookup may return. Always given, so no query means "everyone" by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// One organism's.
    Organism(i64),
    /// Any, for a caller that checks the person afterwards (`access`) or looks up herself.
    Checked,
}

pub fn trainee(conn: &mut DbConn, scope: Scope, user_id: i64) -> QueryResult<Option<TraineeLine>> {
    let mut q = users::table
        .inner_join(trainee_profiles::table.on(trainee_profiles::user_id.eq(users::id)))
        .filter(users::id.eq(user_id))
        .select(profile_select!())
        .into_boxed();
    if let Scope::Organism(org) = scope {
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

/// The doctors of an employer, to reach: `(id, name, e-mail)`.
pub fn doctor_contacts(
    conn: &mut DbConn,
    employer_id: i64,
) -> QueryResult<Vec<(i64, String, String)>> {
    employer_doctors::table
        .inner_join(users::table.on(users::id.eq(employer_doctors::doctor_id)))
        .filter(employer_doctors::employer_id.eq(employer_id))
        .order(users::id.asc())
        .select((users::id, users::name, users::email))
        .load(conn)
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
