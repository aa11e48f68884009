//! The rows of the data exports (`data_exports`) and the reading of a person's data for one:
//! the JSON rows of each source of `export_rules::SOURCES`, the rows they refer to, the names
//! of the people they name, and the files kept for her.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use serde::Serialize;

use super::export_rules::{self as rules, BUILDING, FAILED, PENDING, Part, READY, Rows};
use crate::db::schema::{
    assignment_files, assignment_submissions, attestations, certifications, data_exports,
    followup_attachments, followup_messages, followup_threads, users, vae_documents,
    vae_pending_documents, vae_pending_requests, vae_requests,
};
use crate::db::{self, DbConn, db_run};

/// One request, as the pages and the job read it.
#[derive(Clone, Debug, Queryable, Selectable, Serialize)]
#[diesel(table_name = data_exports)]
pub struct ExportRow {
    pub id: i64,
    pub user_id: i64,
    pub requested_by: i64,
    pub organism_id: Option<i64>,
    pub reference: Option<String>,
    pub status: String,
    pub attempts: i32,
    pub sha256: Option<String>,
    pub size_bytes: Option<i64>,
    pub created_at: NaiveDateTime,
    pub ready_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
}

pub struct NewRequest {
    pub user_id: i64,
    pub requested_by: i64,
    pub organism_id: Option<i64>,
    pub reference: Option<String>,
}

/// Records a request, to be built in the background. Call inside the audited transaction.
pub fn insert(conn: &mut DbConn, new: &NewRequest, now: NaiveDateTime) -> QueryResult<i64> {
    diesel::insert_into(data_exports::table)
        .values((
            data_exports::user_id.eq(new.user_id),
            data_exports::requested_by.eq(new.requested_by),
            data_exports::organism_id.eq(new.organism_id),
            data_exports::reference.eq(new.reference.as_deref()),
            data_exports::status.eq(PENDING),
            data_exports::attempts.eq(0),
            data_exports::created_at.eq(now),
        ))
        .returning(data_exports::id)
        .get_result(conn)
}

/// A request of this requester for this person still being prepared, if any.
pub fn in_progress(conn: &mut DbConn, user_id: i64, requested_by: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        data_exports::table
            .filter(data_exports::user_id.eq(user_id))
            .filter(data_exports::requested_by.eq(requested_by))
            .filter(data_exports::status.eq_any([PENDING, BUILDING])),
    ))
    .get_result(conn)
}

/// How many archives of this person this requester asked for since `since`.
pub fn asked_since(
    conn: &mut DbConn,
    user_id: i64,
    requested_by: i64,
    since: NaiveDateTime,
) -> QueryResult<i64> {
    data_exports::table
        .filter(data_exports::user_id.eq(user_id))
        .filter(data_exports::requested_by.eq(requested_by))
        .filter(data_exports::created_at.ge(since))
        .count()
        .get_result(conn)
}

pub fn get(conn: &mut DbConn, id: i64) -> QueryResult<Option<ExportRow>> {
    data_exports::table
        .find(id)
        .select(ExportRow::as_select())
        .first(conn)
        .optional()
}

/// The requests one person made, newest first.
pub fn requested_by(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<ExportRow>> {
    data_exports::table
        .filter(data_exports::requested_by.eq(user_id))
        .order(data_exports::id.desc())
        .select(ExportRow::as_select())
        .load(conn)
}

/// The requests an organism's staff made for people who wrote, newest first, with the
/// person's and the requester's names.
pub fn of_organism(
    conn: &mut DbConn,
    organism_id: i64,
) -> QueryResult<Vec<(ExportRow, String, String)>> {
    let rows: Vec<ExportRow> = data_exports::table
        .filter(data_exports::organism_id.eq(organism_id))
        .order(data_exports::id.desc())
        .select(ExportRow::as_select())
        .load(conn)?;
    let mut ids: Vec<i64> = rows
        .iter()
        .flat_map(|r| [r.user_id, r.requested_by])
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let names: BTreeMap<i64, String> = names(conn, &ids)?.into_iter().collect();
    let name = |id: i64| names.get(&id).cloned().unwrap_or_default();
    Ok(rows
        .into_iter()
        .map(|r| {
            let (who, by) = (name(r.user_id), name(r.requested_by));
            (r, who, by)
        })
        .collect())
}

macro_rules! due {
    ($now:expr) => {
        data_exports::table
            .filter(
                data_exports::status.eq(PENDING).or(data_exports::status
                    .eq(BUILDING)
                    .and(data_exports::locked_until.lt($now))),
            )
            .order(data_exports::id.asc())
            .select((data_exports::id, data_exports::attempts))
    };
}

/// Takes one request to build for `lease`, if one is due: a new one, or one whose builder
/// died. One built too often already is given up (`FAILED`) and the next one is looked at.
pub fn claim(
    conn: &mut DbConn,
    instance: &str,
    now: NaiveDateTime,
    lease: Duration,
) -> QueryResult<Option<ExportRow>> {
    db::transaction(conn, |conn| {
        loop {
            // Not `db_run!`: only PostgreSQL has SKIP LOCKED (SQLite's write lock serialises).
            let due: Option<(i64, i32)> = match conn {
                DbConn::Pg(c) => due!(now).for_update().skip_locked().first(c).optional()?,
                DbConn::Sqlite(c) => due!(now).first(c).optional()?,
            };
            let Some((id, attempts)) = due else {
                return Ok(None);
            };
            if attempts >= rules::MAX_ATTEMPTS {
                diesel::update(data_exports::table.find(id))
                    .set((
                        data_exports::status.eq(FAILED),
                        data_exports::error.eq("built too many times without finishing"),
                    ))
                    .execute(conn)?;
                continue;
            }
            diesel::update(data_exports::table.find(id))
                .set((
                    data_exports::status.eq(BUILDING),
                    data_exports::attempts.eq(attempts + 1),
                    data_exports::locked_by.eq(instance),
                    data_exports::locked_until.eq(now + lease),
                ))
                .execute(conn)?;
            return get(conn, id);
        }
    })
}

/// Marks a request built by `instance` ready; false when it is no longer this instance's
/// (its lease ran out and another took it).
pub fn set_ready(
    conn: &mut DbConn,
    id: i64,
    instance: &str,
    file: &crate::objects::Stored,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        data_exports::table
            .find(id)
            .filter(data_exports::status.eq(BUILDING))
            .filter(data_exports::locked_by.eq(instance)),
    )
    .set((
        data_exports::status.eq(READY),
        data_exports::sha256.eq(&file.sha256),
        data_exports::size_bytes.eq(i64::try_from(file.size).unwrap_or(i64::MAX)),
        data_exports::ready_at.eq(now),
        data_exports::expires_at.eq(now + Duration::days(rules::EXPIRY_DAYS)),
        data_exports::locked_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn set_failed(conn: &mut DbConn, id: i64, instance: &str, error: &str) -> QueryResult<bool> {
    let n = diesel::update(
        data_exports::table
            .find(id)
            .filter(data_exports::status.eq(BUILDING))
            .filter(data_exports::locked_by.eq(instance)),
    )
    .set((
        data_exports::status.eq(FAILED),
        data_exports::error.eq(error),
        data_exports::locked_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Requests whose time is over: ready ones past their date, failed ones as old.
pub fn expired(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<Vec<ExportRow>> {
    let old = now - Duration::days(rules::EXPIRY_DAYS);
    data_exports::table
        .filter(
            data_exports::expires_at.le(now).or(data_exports::status
                .eq(FAILED)
                .and(data_exports::created_at.le(old))),
        )
        .select(ExportRow::as_select())
        .load(conn)
}

pub fn delete(conn: &mut DbConn, id: i64) -> QueryResult<usize> {
    diesel::delete(data_exports::table.find(id)).execute(conn)
}

#[derive(QueryableByName)]
struct JsonRow {
    #[diesel(sql_type = Text)]
    j: String,
}

/// The rows one statement of `export_rules::select_sql` gives, bound to `person` if any.
fn json_rows(
    conn: &mut DbConn,
    sql: &str,
    person: Option<i64>,
) -> QueryResult<Vec<serde_json::Value>> {
    let rows: Vec<JsonRow> = match person {
        Some(p) => db_run!(conn, |c| diesel::sql_query(sql)
            .bind::<BigInt, _>(p)
            .load(c))?,
        None => db_run!(conn, |c| diesel::sql_query(sql).load(c))?,
    };
    rows.into_iter()
        .map(|r| {
            serde_json::from_str(&r.j)
                .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
        })
        .collect()
}

pub fn rows_of(conn: &mut DbConn, person: i64) -> QueryResult<Rows> {
    let pg = !conn.is_sqlite();
    let mut out = Rows::default();
    for source in rules::SOURCES {
        let sql = rules::select_sql(source.table, &rules::columns(source), source.filter, pg);
        let rows = json_rows(conn, &sql, Some(person))?;
        let into = match source.part {
            Part::Own => &mut out.own,
            Part::Acted(_) => &mut out.acted,
        };
        into.entry(source.table).or_default().extend(rows);
    }
    references(conn, &mut out, pg)?;
    let mut ids: Vec<i64> = Vec::new();
    for rows in out.own.values().chain(out.acted.values()) {
        for row in rows {
            let Some(fields) = row.as_object() else {
                continue;
            };
            ids.extend(
                fields
                    .iter()
                    .filter(|(k, _)| rules::names_a_person(k))
                    .filter_map(|(_, v)| v.as_i64()),
            );
        }
    }
    ids.sort_unstable();
    ids.dedup();
    out.people = names(conn, &ids)?.into_iter().collect();
    Ok(out)
}

/// Loads the rows hers refer to, and those theirs refer to (a sheet's session, a session's
/// module), until nothing new is named.
fn references(conn: &mut DbConn, out: &mut Rows, pg: bool) -> QueryResult<()> {
    for _ in 0..4 {
        let mut added = false;
        for r in rules::REFERENCES {
            let from_tables = out
                .own
                .iter()
                .chain(out.acted.iter())
                .chain(out.references.iter())
                .filter(|(t, _)| r.from.is_empty() || r.from.contains(t));
            let wanted = rules::ids_in(from_tables.flat_map(|(_, rows)| rows), r.column);
            let have = rules::ids_in(out.references.get(r.table).into_iter().flatten(), "id");
            let missing: Vec<i64> = wanted.into_iter().filter(|i| !have.contains(i)).collect();
            if missing.is_empty() {
                continue;
            }
            let sql = rules::select_sql(r.table, r.columns, &rules::ids_filter(&missing), pg);
            let rows = json_rows(conn, &sql, None)?;
            added |= !rows.is_empty();
            out.references.entry(r.table).or_default().extend(rows);
        }
        if !added {
            break;
        }
    }
    Ok(())
}

/// Names of people by id (their name only: nothing else of theirs is exported).
pub fn names(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<(i64, String)>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        out.extend(
            users::table
                .filter(users::id.eq_any(chunk))
                .select((users::id, users::name))
                .load::<(i64, String)>(conn)?,
        );
    }
    Ok(out)
}

/// A file kept for her, and where it goes in the archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kept {
    /// On the uploads shelf, by its SHA-256.
    Shelf {
        folder: &'static str,
        id: i64,
        name: String,
        sha256: String,
    },
    /// In the database (an attestation's PDF).
    Bytes {
        folder: &'static str,
        name: String,
        bytes: Vec<u8>,
    },
}

/// Every file kept for her: VAE documents (confirmed or not), the attachments of her
/// follow-up threads, her assignments' files, her CQP certificate, her attestations' PDFs.
pub fn files_of(conn: &mut DbConn, person: i64) -> QueryResult<Vec<Kept>> {
    let shelf = |folder, rows: Vec<(i64, String, String)>| {
        rows.into_iter().map(move |(id, name, sha256)| Kept::Shelf {
            folder,
            id,
            name,
            sha256,
        })
    };
    let mut out: Vec<Kept> = Vec::new();
    let rows = vae_documents::table
        .inner_join(vae_requests::table.on(vae_requests::id.eq(vae_documents::request_id)))
        .filter(vae_requests::candidate_id.eq(person))
        .select((
            vae_documents::id,
            vae_documents::file_name,
            vae_documents::sha256,
        ))
        .order(vae_documents::id)
        .load(conn)?;
    out.extend(shelf("vae", rows));
    let email: String = users::table.find(person).select(users::email).first(conn)?;
    let rows = vae_pending_documents::table
        .inner_join(vae_pending_requests::table)
        .filter(vae_pending_requests::email.eq(email))
        .select((
            vae_pending_documents::id,
            vae_pending_documents::file_name,
            vae_pending_documents::sha256,
        ))
        .order(vae_pending_documents::id)
        .load(conn)?;
    out.extend(shelf("vae-non-confirmee", rows));
    let rows = followup_attachments::table
        .inner_join(followup_messages::table.inner_join(followup_threads::table))
        .filter(followup_threads::trainee_id.eq(person))
        .select((
            followup_attachments::id,
            followup_attachments::file_name,
            followup_attachments::sha256,
        ))
        .order(followup_attachments::id)
        .load(conn)?;
    out.extend(shelf("suivi", rows));
    let rows = assignment_files::table
        .inner_join(assignment_submissions::table)
        .filter(assignment_submissions::trainee_id.eq(person))
        .select((
            assignment_files::id,
            assignment_files::file_name,
            assignment_files::sha256,
        ))
        .order(assignment_files::id)
        .load(conn)?;
    out.extend(shelf("devoirs", rows));
    let rows: Vec<(i64, Option<String>, Option<String>)> = certifications::table
        .filter(certifications::trainee_id.eq(person))
        .select((
            certifications::id,
            certifications::certificate_name,
            certifications::certificate_sha256,
        ))
        .load(conn)?;
    out.extend(rows.into_iter().filter_map(|(id, name, sha)| {
        Some(Kept::Shelf {
            folder: "certification",
            id,
            name: name.unwrap_or_else(|| "certificat".into()),
            sha256: sha?,
        })
    }));
    let rows: Vec<(String, Vec<u8>)> = attestations::table
        .filter(attestations::trainee_id.eq(person))
        .order(attestations::id)
        .select((attestations::number, attestations::pdf))
        .load(conn)?;
    out.extend(rows.into_iter().map(|(number, bytes)| Kept::Bytes {
        folder: "attestations",
        name: format!("{number}.pdf"),
        bytes,
    }));
    Ok(out)
}
