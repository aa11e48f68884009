//! The draft of an organism's programme: its files as a manifest and a revision. Every save
//! names the revision its author started from; when the draft moved on meanwhile (another
//! author, another instance), nothing is written and the author is shown the draft as it is.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::Error;

use super::manifest::{self, Manifest};
use crate::db::schema::{program_drafts as d, users};
use crate::db::{self, DbConn};

/// A programme's draft as stored, with the name of its last author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub program_id: i64,
    pub revision: i32,
    pub manifest: Manifest,
    /// The version the draft started from.
    pub based_on: Option<i64>,
    pub updated_by: Option<i64>,
    pub updated_by_name: Option<String>,
    pub updated_at: NaiveDateTime,
}

/// What a save did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saved {
    /// Written; the draft's new revision.
    Saved(i32),
    /// Nothing written: the draft had moved on from the revision named. It is as given here.
    Changed(Draft),
}

type Row = (
    i64,
    i32,
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
    NaiveDateTime,
);

/// The draft of a programme, if it has one.
pub fn get(conn: &mut DbConn, program_id: i64) -> QueryResult<Option<Draft>> {
    let row: Option<Row> = d::table
        .left_join(users::table.on(d::updated_by.eq(users::id.nullable())))
        .filter(d::program_id.eq(program_id))
        .select((
            d::program_id,
            d::revision,
            d::manifest,
            d::based_on,
            d::updated_by,
            users::name.nullable(),
            d::updated_at,
        ))
        .first(conn)
        .optional()?;
    row.map(draft_of).transpose()
}

fn draft_of(row: Row) -> QueryResult<Draft> {
    let (program_id, revision, text, based_on, updated_by, updated_by_name, updated_at) = row;
    let manifest = manifest::from_json(&text)
        .map_err(|e| Error::DeserializationError(format!("draft {program_id}: {e}").into()))?;
    Ok(Draft {
        program_id,
        revision,
        manifest,
        based_on,
        updated_by,
        updated_by_name,
        updated_at,
    })
}

/// Starts the draft of a programme at revision 1. Fails if it already has one.
pub fn create(
    conn: &mut DbConn,
    program_id: i64,
    manifest: &Manifest,
    based_on: Option<i64>,
    by: Option<i64>,
) -> QueryResult<()> {
    let text = checked_json(manifest)?;
    diesel::insert_into(d::table)
        .values((
            d::program_id.eq(program_id),
            d::revision.eq(1),
            d::manifest.eq(text),
            d::based_on.eq(based_on),
            d::updated_by.eq(by),
            d::updated_at.eq(db::now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Applies `edits` (a path to the blob it now holds, or `None` to remove the file) to the
/// draft at `expected_revision`. `Changed` when the draft is at another revision: nothing is
/// written. `NotFound` when the programme has no draft; a path or blob name that
/// `manifest::check` refuses is an error and nothing is written.
pub fn save(
    conn: &mut DbConn,
    program_id: i64,
    expected_revision: i32,
    edits: &[(String, Option<String>)],
    by: i64,
) -> QueryResult<Saved> {
    db::transaction(conn, |c| {
        let current = get(c, program_id)?.ok_or(Error::NotFound)?;
        if current.revision != expected_revision {
            return Ok(Saved::Changed(current));
        }
        let mut manifest = current.manifest;
        for (path, sha) in edits {
            match sha {
                Some(sha) => manifest.insert(path.clone(), sha.clone()),
                None => manifest.remove(path),
            };
        }
        write(c, program_id, expected_revision, &manifest, by)
    })
}

/// Replaces the whole manifest of the draft at `expected_revision` (an import), as `save`.
pub fn replace(
    conn: &mut DbConn,
    program_id: i64,
    expected_revision: i32,
    manifest: &Manifest,
    by: i64,
) -> QueryResult<Saved> {
    db::transaction(conn, |c| {
        let current = get(c, program_id)?.ok_or(Error::NotFound)?;
        if current.revision != expected_revision {
            return Ok(Saved::Changed(current));
        }
        write(c, program_id, expected_revision, manifest, by)
    })
}

/// Writes the next revision, only over `expected_revision`: a save committed meanwhile by
/// another instance leaves no row to update, and the draft is read again.
fn write(
    conn: &mut DbConn,
    program_id: i64,
    expected_revision: i32,
    manifest: &Manifest,
    by: i64,
) -> QueryResult<Saved> {
    let text = checked_json(manifest)?;
    let updated = diesel::update(
        d::table
            .filter(d::program_id.eq(program_id))
            .filter(d::revision.eq(expected_revision)),
    )
    .set((
        d::manifest.eq(text),
        d::revision.eq(d::revision + 1),
        d::updated_by.eq(Some(by)),
        d::updated_at.eq(db::now()),
    ))
    .execute(conn)?;
    if updated == 1 {
        return Ok(Saved::Saved(expected_revision + 1));
    }
    let current = get(conn, program_id)?.ok_or(Error::NotFound)?;
    Ok(Saved::Changed(current))
}

/// The manifest as stored, once its paths and blob names are checked: a draft that could
/// not be read back is never written.
fn checked_json(m: &Manifest) -> QueryResult<String> {
    manifest::check(m).map_err(|e| Error::SerializationError(e.into()))?;
    Ok(manifest::to_json(m))
}

/// Bytes the files of an organism's drafts take, each file counted once (a video used by two
/// programmes is kept once): what its programmes' space holds.
pub fn organism_bytes(
    conn: &mut DbConn,
    blobs: &crate::objects::Shelf,
    organism: i64,
) -> QueryResult<u64> {
    use crate::db::schema::programs;
    let manifests: Vec<String> = d::table
        .inner_join(programs::table.on(programs::id.eq(d::program_id)))
        .filter(programs::organism_id.eq(organism))
        .select(d::manifest)
        .load(conn)?;
    let shas: std::collections::BTreeSet<String> = manifests
        .iter()
        .filter_map(|m| super::manifest::from_json(m).ok())
        .flat_map(|m| m.into_values())
        .collect();
    Ok(shas.iter().filter_map(|s| blobs.size(s).ok()).sum())
}
