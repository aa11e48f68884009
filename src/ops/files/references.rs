//! Which files the records use: the manifests of programme versions and drafts (the
//! programmes shelf) and the rows of the uploads tables (the uploads shelf).

use diesel::prelude::*;

use super::rules::{Holder, Reference};
use crate::curriculum::authoring::manifest;
use crate::db::DbConn;
use crate::db::schema::{content_versions, program_drafts, programs};

/// Every use of a file, per shelf, and the manifests that could not be read.
#[derive(Debug, Default)]
pub struct References {
    pub programmes: Vec<Reference>,
    pub uploads: Vec<Reference>,
    pub unreadable: Vec<String>,
}

impl References {
    /// The uses of a shelf of `crate::objects::Objects::shelves`.
    pub fn of(&self, shelf: &str) -> &[Reference] {
        if shelf == "programmes" {
            &self.programmes
        } else {
            &self.uploads
        }
    }
}

pub fn read(conn: &mut DbConn) -> QueryResult<References> {
    let mut all = References::default();
    // A placeholder version has an empty manifest: it names no file.
    let versions: Vec<(i64, String, i32, String)> = content_versions::table
        .filter(content_versions::manifest.ne(""))
        .order(content_versions::id)
        .select((
            content_versions::id,
            content_versions::program_code,
            content_versions::number,
            content_versions::manifest,
        ))
        .load(conn)?;
    for (id, code, number, json) in versions {
        let holder = |path: String| Holder::Version {
            id,
            code: code.clone(),
            number,
            path,
        };
        add_manifest(&mut all, &json, holder, || {
            format!("version {number} du programme {code} (content_versions n° {id})")
        });
    }
    let drafts: Vec<(i64, String, String)> = program_drafts::table
        .inner_join(programs::table.on(programs::id.eq(program_drafts::program_id)))
        .order(program_drafts::program_id)
        .select((
            program_drafts::program_id,
            programs::code,
            program_drafts::manifest,
        ))
        .load(conn)?;
    for (program_id, code, json) in drafts {
        let holder = |path: String| Holder::Draft {
            program_id,
            code: code.clone(),
            path,
        };
        add_manifest(&mut all, &json, holder, || {
            format!("brouillon du programme {code} (program_drafts n° {program_id})")
        });
    }
    all.uploads = crate::storage::store::upload_references(conn)?
        .into_iter()
        .map(|r| Reference {
            sha256: r.sha256,
            size: r.size,
            by: Holder::Row {
                table: r.table,
                id: r.id,
            },
        })
        .collect();
    Ok(all)
}

fn add_manifest(
    all: &mut References,
    json: &str,
    holder: impl Fn(String) -> Holder,
    name: impl FnOnce() -> String,
) {
    match manifest::from_json(json) {
        Ok(m) => all
            .programmes
            .extend(m.into_iter().map(|(path, sha256)| Reference {
                sha256,
                size: None,
                by: holder(path),
            })),
        Err(e) => all.unreadable.push(format!("{} : {e}", name())),
    }
}
