//! Queries of requests waiting for their address to be confirmed, and their documents.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::rules::Experience;
use crate::db::schema::{vae_pending_documents as docs, vae_pending_requests as pending};
use crate::db::{self, DbConn};

pub struct NewPending<'a> {
    pub token_hash: &'a str,
    pub organism_id: i64,
    pub email: &'a str,
    pub name: &'a str,
    pub phone: &'a str,
    pub address: &'a str,
    pub employer: &'a str,
    pub requested: &'a [String],
    pub experiences: &'a [Experience],
    pub ip: &'a str,
}

pub fn insert(conn: &mut DbConn, p: &NewPending<'_>) -> QueryResult<i64> {
    diesel::insert_into(pending::table)
        .values((
            pending::token_hash.eq(p.token_hash),
            pending::organism_id.eq(p.organism_id),
            pending::email.eq(p.email),
            pending::name.eq(p.name),
            pending::phone.eq(p.phone),
            pending::address.eq(p.address),
            pending::employer.eq(p.employer),
            pending::requested_modules
                .eq(serde_json::to_string(p.requested).unwrap_or_else(|_| "[]".into())),
            pending::experiences
                .eq(serde_json::to_string(p.experiences).unwrap_or_else(|_| "[]".into())),
            pending::ip.eq(p.ip),
            pending::created_at.eq(db::now()),
        ))
        .returning(pending::id)
        .get_result(conn)
}

#[derive(Debug, Clone, Queryable)]
pub struct Pending {
    pub id: i64,
    pub organism_id: i64,
    pub email: String,
    pub name: String,
    pub phone: String,
    pub address: String,
    pub employer: String,
    pub requested_modules: String,
    pub experiences: String,
    pub ip: String,
    pub created_at: NaiveDateTime,
}

impl Pending {
    pub fn requested(&self) -> Vec<String> {
        serde_json::from_str(&self.requested_modules).unwrap_or_default()
    }

    pub fn experiences(&self) -> Vec<Experience> {
        serde_json::from_str(&self.experiences).unwrap_or_default()
    }
}

/// The request a link's token names, if made after `since`.
pub fn by_token(
    conn: &mut DbConn,
    token_hash: &str,
    since: NaiveDateTime,
) -> QueryResult<Option<Pending>> {
    pending::table
        .filter(pending::token_hash.eq(token_hash))
        .filter(pending::created_at.gt(since))
        .select((
            pending::id,
            pending::organism_id,
            pending::email,
            pending::name,
            pending::phone,
            pending::address,
            pending::employer,
            pending::requested_modules,
            pending::experiences,
            pending::ip,
            pending::created_at,
        ))
        .first(conn)
        .optional()
}

#[derive(Debug, Clone, Queryable)]
pub struct PendingDocument {
    pub kind: String,
    pub file_name: String,
    pub mime_type: String,
    pub size_bytes: i64,
    pub sha256: String,
}

pub fn insert_document(
    conn: &mut DbConn,
    pending_id: i64,
    d: &PendingDocument,
) -> QueryResult<usize> {
    diesel::insert_into(docs::table)
        .values((
            docs::pending_id.eq(pending_id),
            docs::kind.eq(&d.kind),
            docs::file_name.eq(&d.file_name),
            docs::mime_type.eq(&d.mime_type),
            docs::size_bytes.eq(d.size_bytes),
            docs::sha256.eq(&d.sha256),
        ))
        .execute(conn)
}

pub fn documents(conn: &mut DbConn, pending_id: i64) -> QueryResult<Vec<PendingDocument>> {
    docs::table
        .filter(docs::pending_id.eq(pending_id))
        .order(docs::id.asc())
        .select((
            docs::kind,
            docs::file_name,
            docs::mime_type,
            docs::size_bytes,
            docs::sha256,
        ))
        .load(conn)
}

/// Requests made before `before`, still unconfirmed.
pub fn older_than(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<Vec<i64>> {
    pending::table
        .filter(pending::created_at.le(before))
        .select(pending::id)
        .load(conn)
}

/// Deletes requests and their document rows; returns the digests of their files.
pub fn delete(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<String>> {
    let shas = docs::table
        .filter(docs::pending_id.eq_any(ids))
        .select(docs::sha256)
        .load(conn)?;
    diesel::delete(docs::table.filter(docs::pending_id.eq_any(ids))).execute(conn)?;
    diesel::delete(pending::table.filter(pending::id.eq_any(ids))).execute(conn)?;
    Ok(shas)
}
