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
