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
