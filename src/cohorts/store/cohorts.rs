//! Cohorts: creation, lookup, their trainers and their programme's modules.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

use super::sessions::new_ics_token;
use crate::audit::{self, Event};
use crate::db::schema::{
    cohort_trainers, cohorts, content_versions, enrolments, modules, programs,
};
use crate::db::{self, DbConn};

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
    /// The programme version the cohort follows.
    pub content_version_id: i64,
    /// Its number (0 for a programme's placeholder, which no one published).
    pub version_number: i32,
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
            cohorts::content_version_id,
            content_versions::number,
        )
    };
}

/// Cohorts with their programme and the version they follow.
macro_rules! cohort_from {
    () => {
        cohorts::table.inner_join(programs::table).inner_join(
            content_versions::table.on(content_versions::id.eq(cohorts::content_version_id)),
        )
    };
}

pub fn cohort(conn: &mut DbConn, id: i64) -> QueryResult<Option<CohortRow>> {
    cohort_from!()
        .filter(cohorts::id.eq(id))
        .select(cohort_select!())
        .first(conn)
        .optional()
}

pub fn cohort_by_token(conn: &mut DbConn, token: &str) -> QueryResult<Option<CohortRow>> {
    cohort_from!()
        .filter(cohorts::ics_token.eq(token))
        .select(cohort_select!())
        .first(conn)
        .optional()
}

/// Cohorts of one organism, newest first, with their number of active trainees.
pub fn cohorts_of(conn: &mut DbConn, organism_id: i64) -> QueryResult<Vec<(CohortRow, i64)>> {
    let list: Vec<CohortRow> = cohort_from!()
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

/// The programme's minimum length, in months (what a late entry is checked against).
pub fn min_months(conn: &mut DbConn, program_id: i64) -> QueryResult<i32> {
    programs::table
        .find(program_id)
        .select(programs::min_months)
        .first(conn)
}

/// The programmes an organism's new cohorts may follow, each at its current version: the
/// references and the organism's own once published.
pub fn program_choices(
    conn: &mut DbConn,
    organism: i64,
) -> QueryResult<Vec<super::super::new_cohort::ProgramChoice>> {
    let rows: Vec<(String, String, i32, i32, i32, i64, i64)> = programs::table
        .inner_join(content_versions::table.on(content_versions::id.eq(programs::version_id)))
        .filter(
            programs::organism_id
                .is_null()
                .or(programs::organism_id.eq(organism)),
        )
        .filter(content_versions::number.gt(0))
        .order((programs::organism_id.is_not_null(), programs::code))
        .select((
            programs::code,
            programs::title,
            programs::total_minutes,
            programs::min_months,
            programs::max_months,
            programs::id,
            programs::version_id,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(code, title, total, min, max, program_id, version)| {
            super::super::new_cohort::ProgramChoice {
                code,
                title,
                total_hours: (total / 60) as u32,
                min_months: min as u32,
                max_months: max as u32,
                program_id,
                content_version_id: version,
            }
        })
        .collect())
}

/// The programme's range of lengths, in months: (minimum, maximum).
pub fn program_months(conn: &mut DbConn, program_id: i64) -> QueryResult<(i32, i32)> {
    programs::table
        .find(program_id)
        .select((programs::min_months, programs::max_months))
        .first(conn)
}

/// Moves a cohort's end, with what it makes fall after trainees' deadlines (as staff
/// confirmed them) in the audit.
pub fn set_end_date(
    conn: &mut DbConn,
    actor: i64,
    cohort: &CohortRow,
    end: NaiveDate,
    flags: &serde_json::Value,
) -> QueryResult<()> {
    diesel::update(cohorts::table.find(cohort.id))
        .set(cohorts::end_date.eq(end))
        .execute(conn)?;
    audit::record(
        conn,
        Event::new("cohort.end_date_changed", "cohort", Some(cohort.id))
            .by(Some(actor))
            .in_organism(Some(cohort.organism_id))
            .change(
                serde_json::json!({"end_date": cohort.end_date}),
                serde_json::json!({"end_date": end, "flags": flags}),
            ),
    )
}
