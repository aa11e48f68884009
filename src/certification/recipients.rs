//! Who the organism's side of a certification mail goes to: its administrators who are not
//! disabled, or its contact address when it has none.

use diesel::prelude::*;

use crate::accounts::Role;
use crate::db::DbConn;
use crate::db::schema::users;
use crate::mail::Recipient;

pub fn organism(conn: &mut DbConn, organism_id: i64) -> QueryResult<Vec<Recipient>> {
    let mut staff: Vec<Recipient> = users::table
        .filter(users::organism_id.eq(organism_id))
        .filter(users::role.eq(Role::OrganismAdmin.as_str()))
        .filter(users::disabled.eq(false))
        .order(users::id.asc())
        .select((users::name, users::email))
        .load::<(String, String)>(conn)?
        .into_iter()
        .map(|(name, email)| Recipient {
            name: Some(name),
            email,
        })
        .collect();
    if staff.is_empty() {
        let contact = crate::organisms::store::get(conn, organism_id)?
            .and_then(|o| o.contact_email)
            .filter(|e| !e.trim().is_empty());
        staff.extend(contact.map(|email| Recipient { name: None, email }));
    }
    Ok(staff)
}
