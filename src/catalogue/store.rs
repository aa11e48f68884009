//! The catalogue's queries: an organism's entry for a cohort, and the public listing, read in
//! two queries whatever the number of cohorts (the entries, then their enrolled counts).

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::rules::{self, Entry, Filter};
use crate::db::DbConn;
use crate::db::schema::{
    catalogue_entries, cohorts, enrolments, modules, organisms, programs, sessions,
};

/// The stored entry of a cohort, as its form shows it again.
pub fn entry_of(conn: &mut DbConn, cohort_id: i64) -> QueryResult<Option<Entry>> {
    type Row = (String, String, i32, i32, i64, String, String, String, bool);
    let row: Option<Row> = catalogue_entries::table
        .find(cohort_id)
        .select((
            catalogue_entries::city,
            catalogue_entries::region,
            catalogue_entries::distance_percent,
            catalogue_entries::seats,
            catalogue_entries::price_cents,
            catalogue_entries::funding_routes,
            catalogue_entries::contact_email,
            catalogue_entries::contact_phone,
            catalogue_entries::published,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|r| Entry {
        city: r.0,
        region: r.1,
        distance_percent: r.2,
        seats: r.3,
        price_cents: r.4,
        funding_routes: rules::routes_of(&r.5),
        contact_email: r.6,
        contact_phone: r.7,
        published: r.8,
    }))
}

/// Writes the cohort's entry (the caller holds the transaction).
pub fn save(conn: &mut DbConn, cohort_id: i64, e: &Entry, now: NaiveDateTime) -> QueryResult<()> {
    let values = (
        catalogue_entries::city.eq(&e.city),
        catalogue_entries::region.eq(&e.region),
        catalogue_entries::distance_percent.eq(e.distance_percent),
        catalogue_entries::seats.eq(e.seats),
        catalogue_entries::price_cents.eq(e.price_cents),
        catalogue_entries::funding_routes.eq(e.routes_text()),
        catalogue_entries::contact_email.eq(&e.contact_email),
        catalogue_entries::contact_phone.eq(&e.contact_phone),
        catalogue_entries::published.eq(e.published),
        catalogue_entries::updated_at.eq(now),
    );
    let updated = diesel::update(catalogue_entries::table.find(cohort_id))
        .set(values.clone())
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(catalogue_entries::table)
            .values((catalogue_entries::cohort_id.eq(cohort_id), values))
            .execute(conn)?;
    }
    Ok(())
}

/// Takes the cohort out of the public catalogue, keeping what was typed.
pub fn unpublish(conn: &mut DbConn, cohort_id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(catalogue_entries::table.find(cohort_id))
        .set((
            catalogue_entries::published.eq(false),
            catalogue_entries::updated_at.eq(now),
        ))
        .execute(conn)
}

/// The programme's planned distance share, from its modules.
pub fn programme_distance(conn: &mut DbConn, program_id: i64) -> QueryResult<Option<i32>> {
    let rows: Vec<(i32, i32)> = modules::table
        .filter(modules::program_id.eq(program_id))
        .filter(modules::retired.eq(false))
        .select((modules::planned_minutes, modules::distance_minutes))
        .load(conn)?;
    Ok(rules::distance_share(&rows))
}

/// A published cohort as the public sees it.
#[derive(Clone, Debug, Serialize)]
pub struct Listing {
    pub cohort_id: i64,
    pub organism_id: i64,
    pub organism: String,
    pub cohort: String,
    /// `cqp` or `fae`.
    pub programme: String,
    pub programme_title: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub city: String,
    pub region: String,
    pub distance_percent: i32,
    pub seats: i32,
    pub seats_left: i32,
    pub price_cents: i64,
    pub funding_routes: Vec<String>,
    pub contact_email: String,
    pub contact_phone: String,
    pub updated_at: NaiveDateTime,
}

type ListingRow = (
    (
        i64,
        i64,
        String,
        String,
        String,
        String,
        NaiveDate,
        NaiveDate,
    ),
    (
        String,
        String,
        i32,
        i32,
        i64,
        String,
        String,
        String,
        NaiveDateTime,
    ),
);

/// Which published, upcoming cohorts to read: all those a filter keeps, or one.
pub enum Which<'a> {
    Filtered(&'a Filter),
    One(i64),
}

/// Published cohorts starting today or later, by start date, with their seats left.
pub fn listed(conn: &mut DbConn, which: Which<'_>, today: NaiveDate) -> QueryResult<Vec<Listing>> {
    let mut q = catalogue_entries::table
        .inner_join(cohorts::table.inner_join(programs::table))
        .inner_join(organisms::table.on(organisms::id.eq(cohorts::organism_id)))
        .filter(catalogue_entries::published.eq(true))
        .filter(cohorts::start_date.ge(today))
        .into_boxed();
    match which {
        Which::One(id) => q = q.filter(cohorts::id.eq(id)),
        Which::Filtered(f) => {
            if let Some(r) = &f.region {
                q = q.filter(catalogue_entries::region.eq(r.clone()));
            }
            if let Some(p) = &f.programme {
                q = q.filter(programs::kind.eq(p.clone()));
            }
            if let Some(m) = f.month {
                q = q
                    .filter(cohorts::start_date.ge(m))
                    .filter(cohorts::start_date.lt(rules::next_month(m)));
            }
            if let Some(d) = f.distance_min {
                q = q.filter(catalogue_entries::distance_percent.ge(d));
            }
        }
    }
    let rows: Vec<ListingRow> = q
        .order((cohorts::start_date.asc(), cohorts::id.asc()))
        .select((
            (
                cohorts::id,
                organisms::id,
                organisms::name,
                cohorts::name,
                programs::kind,
                programs::title,
                cohorts::start_date,
                cohorts::end_date,
            ),
            (
                catalogue_entries::city,
                catalogue_entries::region,
                catalogue_entries::distance_percent,
                catalogue_entries::seats,
                catalogue_entries::price_cents,
                catalogue_entries::funding_routes,
                catalogue_entries::contact_email,
                catalogue_entries::contact_phone,
                catalogue_entries::updated_at,
            ),
        ))
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|(c, _)| c.0).collect();
    let enrolled = enrolled_counts(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|(c, e)| {
            let taken = enrolled.get(&c.0).copied().unwrap_or(0);
            Listing {
                cohort_id: c.0,
                organism_id: c.1,
                organism: c.2,
                cohort: c.3,
                programme: c.4,
                programme_title: c.5,
                start_date: c.6,
                end_date: c.7,
                city: e.0,
                region: e.1,
                distance_percent: e.2,
                seats: e.3,
                seats_left: (i64::from(e.3) - taken).clamp(0, i64::from(i32::MAX)) as i32,
                price_cents: e.4,
                funding_routes: rules::routes_of(&e.5),
                contact_email: e.6,
                contact_phone: e.7,
                updated_at: e.8,
            }
        })
        .collect())
}

/// Trainees enrolled now (not ended) in each of these cohorts, in one query.
fn enrolled_counts(conn: &mut DbConn, ids: &[i64]) -> QueryResult<HashMap<i64, i64>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, i64)> = enrolments::table
        .filter(enrolments::cohort_id.eq_any(ids))
        .filter(enrolments::ended_on.is_null())
        .group_by(enrolments::cohort_id)
        .select((enrolments::cohort_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// The in-person training days of the cohort's calendar, in order.
pub fn training_days(conn: &mut DbConn, cohort_id: i64) -> QueryResult<Vec<NaiveDate>> {
    sessions::table
        .filter(sessions::cohort_id.eq(cohort_id))
        .order(sessions::day.asc())
        .select(sessions::day)
        .distinct()
        .load(conn)
}
