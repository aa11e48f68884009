//! Organism queries.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::rules::{ClosedDays, Closure, Organism};
use crate::audit::{self, Event};
use crate::db::schema::{closure_days, organisms};
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
    /// Good Friday and 26 December are public holidays too (local law of Alsace-Moselle).
    pub alsace_moselle: bool,
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

/// Sets whether the organism works under Alsace-Moselle's local law; audited when it changes.
pub fn set_alsace_moselle(conn: &mut DbConn, actor: i64, id: i64, on: bool) -> QueryResult<()> {
    let before: bool = organisms::table
        .find(id)
        .select(organisms::alsace_moselle)
        .first(conn)?;
    if before == on {
        return Ok(());
    }
    diesel::update(organisms::table.find(id))
        .set(organisms::alsace_moselle.eq(on))
        .execute(conn)?;
    audit::record(
        conn,
        Event::new("organism_alsace_moselle_set", "organism", Some(id))
            .by(Some(actor))
            .in_organism(Some(id))
            .change(
                serde_json::json!({"alsace_moselle": before}),
                serde_json::json!({"alsace_moselle": on}),
            ),
    )
}

/// A closure of an organism, as stored.
#[derive(Clone, Debug, Queryable, Selectable, Serialize)]
#[diesel(table_name = closure_days)]
pub struct ClosureRow {
    pub id: i64,
    pub organism_id: i64,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub label: String,
    pub created_at: NaiveDateTime,
}

impl ClosureRow {
    pub fn closure(&self) -> Closure {
        Closure {
            first_day: self.first_day,
            last_day: self.last_day,
            label: self.label.clone(),
        }
    }
}

/// The organism's closures that touch the days from `from` to `to`, in date order. The
/// organism is not optional: no query lists several organisms' closures.
pub fn closures_between(
    conn: &mut DbConn,
    organism_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<ClosureRow>> {
    closure_days::table
        .filter(closure_days::organism_id.eq(organism_id))
        .filter(closure_days::first_day.le(to))
        .filter(closure_days::last_day.ge(from))
        .order((closure_days::first_day.asc(), closure_days::id.asc()))
        .select(ClosureRow::as_select())
        .load(conn)
}

/// The days the organism does not train between `from` and `to`: its holidays' setting and
/// its closures.
pub fn closed_days(
    conn: &mut DbConn,
    organism_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<ClosedDays> {
    let alsace_moselle: bool = organisms::table
        .find(organism_id)
        .select(organisms::alsace_moselle)
        .first(conn)?;
    let closures = closures_between(conn, organism_id, from, to)?
        .iter()
        .map(ClosureRow::closure)
        .collect();
    Ok(ClosedDays {
        alsace_moselle,
        closures,
    })
}

pub fn add_closure(
    conn: &mut DbConn,
    actor: i64,
    organism_id: i64,
    c: &Closure,
) -> QueryResult<i64> {
    let id: i64 = diesel::insert_into(closure_days::table)
        .values((
            closure_days::organism_id.eq(organism_id),
            closure_days::first_day.eq(c.first_day),
            closure_days::last_day.eq(c.last_day),
            closure_days::label.eq(&c.label),
            closure_days::created_by.eq(Some(actor)),
            closure_days::created_at.eq(db::now()),
        ))
        .returning(closure_days::id)
        .get_result(conn)?;
    audit::record(
        conn,
        Event::new("closure_added", "closure_day", Some(id))
            .by(Some(actor))
            .in_organism(Some(organism_id))
            .detail(serde_json::json!({
                "first_day": c.first_day,
                "last_day": c.last_day,
                "label": c.label,
            })),
    )?;
    Ok(id)
}

/// Removes one of the organism's closures; `false` when it has none with this id (another
/// organism's closure is not found either).
pub fn remove_closure(
    conn: &mut DbConn,
    actor: i64,
    organism_id: i64,
    id: i64,
) -> QueryResult<bool> {
    let Some(row) = closure_days::table
        .find(id)
        .filter(closure_days::organism_id.eq(organism_id))
        .select(ClosureRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(false);
    };
    diesel::delete(closure_days::table.find(id)).execute(conn)?;
    let mut event = Event::new("closure_removed", "closure_day", Some(id))
        .by(Some(actor))
        .in_organism(Some(organism_id));
    event.before = Some(serde_json::json!({
        "first_day": row.first_day,
        "last_day": row.last_day,
        "label": row.label,
    }));
    audit::record(conn, event)?;
    Ok(true)
}
