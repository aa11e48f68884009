//! Programmes and their versions in the database: recording a version (a reference
//! programme read at start, or an organism's publish), its modules' and activities' rows,
//! and which version applies where.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::authoring::manifest::{self, Manifest};
use super::edition::ProgramIds;
use super::rules::{Module, Program};
use crate::db::schema::{cohorts, content_versions, lessons, modules, programs};
use crate::db::{self, DbConn};

/// A version's row.
#[derive(Debug, Clone)]
pub struct VersionRow {
    pub id: i64,
    pub program_id: i64,
    pub program_code: String,
    pub number: i32,
    pub hash: String,
    pub manifest: String,
}

pub fn version(conn: &mut DbConn, id: i64) -> QueryResult<Option<VersionRow>> {
    // A placeholder (number 0) may have no programme id: it is no version of anything.
    let row: Option<(i64, Option<i64>, String, i32, String, String)> = content_versions::table
        .find(id)
        .select((
            content_versions::id,
            content_versions::program_id,
            content_versions::program_code,
            content_versions::number,
            content_versions::hash,
            content_versions::manifest,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(
        |(id, program_id, program_code, number, hash, manifest)| VersionRow {
            id,
            program_id: program_id.unwrap_or_default(),
            program_code,
            number,
            hash,
            manifest,
        },
    ))
}

pub fn organism_of(conn: &mut DbConn, program_id: i64) -> QueryResult<Option<i64>> {
    programs::table
        .find(program_id)
        .select(programs::organism_id)
        .first(conn)
}

/// The version a programme's new cohorts start on, by the programme's code.
pub fn current_version(conn: &mut DbConn, code: &str) -> QueryResult<Option<i64>> {
    programs::table
        .filter(programs::code.eq(code))
        .select(programs::version_id)
        .first(conn)
        .optional()
}

pub fn program_code_of_module(conn: &mut DbConn, module_id: i64) -> QueryResult<Option<String>> {
    modules::table
        .inner_join(programs::table)
        .filter(modules::id.eq(module_id))
        .select(programs::code)
        .first(conn)
        .optional()
}

/// The ids of a programme's modules and activities, for a loaded version of it.
pub fn ids(conn: &mut DbConn, program_id: i64, p: &Program) -> QueryResult<ProgramIds> {
    let mods: Vec<(i64, String)> = modules::table
        .filter(modules::program_id.eq(program_id))
        .select((modules::id, modules::code))
        .load(conn)?;
    let module_ids: Vec<i64> = mods.iter().map(|(id, _)| *id).collect();
    let acts: Vec<(i64, i64, String)> = lessons::table
        .filter(lessons::module_id.eq_any(&module_ids))
        .select((lessons::id, lessons::module_id, lessons::slug))
        .load(conn)?;
    Ok(ProgramIds::build(p, &mods, &acts))
}

/// Records the reference programme read from `content/`: a new version when its files
/// changed, with their manifest. Instances starting together record it one after the other.
pub fn sync_reference(conn: &mut DbConn, p: &Program, files: &Manifest) -> QueryResult<VersionRow> {
    db::transaction(conn, |conn| {
        if let DbConn::Pg(c) = conn {
            diesel::sql_query("SELECT pg_advisory_xact_lock(7061726301)").execute(c)?;
        }
        let now = db::now();
        let program_id = reference_program(conn, p)?;
        let known: Option<(i64, String)> = content_versions::table
            .filter(content_versions::program_code.eq(&p.code))
            .filter(content_versions::hash.eq(&p.hash))
            .order(content_versions::id.desc())
            .select((content_versions::id, content_versions::manifest))
            .first(conn)
            .optional()?;
        let version_id = match known {
            Some((id, m)) => {
                if m.is_empty() {
                    diesel::update(content_versions::table.find(id))
                        .set((
                            content_versions::manifest.eq(manifest::to_json(files)),
                            content_versions::program_id.eq(program_id),
                        ))
                        .execute(conn)?;
                }
                id
            }
            None => insert_version(conn, program_id, p, files, None, "")?,
        };
        set_current(conn, program_id, p, version_id, now)?;
        sync_modules(conn, p, program_id)?;
        version(conn, version_id)?.ok_or(diesel::result::Error::NotFound)
    })
}

/// Records a publish: the next version number, its files, who published it and what changed;
/// the programme's new cohorts start on it. Rows are added or updated, never deleted.
pub fn publish(
    conn: &mut DbConn,
    program_id: i64,
    p: &Program,
    files: &Manifest,
    by: i64,
    changes: &str,
) -> QueryResult<VersionRow> {
    db::transaction(conn, |conn| {
        let version_id = insert_version(conn, program_id, p, files, Some(by), changes)?;
        set_current(conn, program_id, p, version_id, db::now())?;
        sync_modules(conn, p, program_id)?;
        version(conn, version_id)?.ok_or(diesel::result::Error::NotFound)
    })
}

fn insert_version(
    conn: &mut DbConn,
    program_id: i64,
    p: &Program,
    files: &Manifest,
    by: Option<i64>,
    changes: &str,
) -> QueryResult<i64> {
    let last: Option<i32> = content_versions::table
        .filter(content_versions::program_code.eq(&p.code))
        .select(diesel::dsl::max(content_versions::number))
        .first(conn)?;
    diesel::insert_into(content_versions::table)
        .values((
            content_versions::program_code.eq(&p.code),
            content_versions::hash.eq(&p.hash),
            content_versions::snapshot.eq(snapshot(p)),
            content_versions::loaded_at.eq(db::now()),
            content_versions::program_id.eq(program_id),
            content_versions::number.eq(last.unwrap_or(0) + 1),
            content_versions::manifest.eq(manifest::to_json(files)),
            content_versions::published_by.eq(by),
            content_versions::changes.eq(changes),
        ))
        .returning(content_versions::id)
        .get_result(conn)
}

/// The reference programme's row, created the first time it is seen.
fn reference_program(conn: &mut DbConn, p: &Program) -> QueryResult<i64> {
    if let Some(id) = programs::table
        .filter(programs::code.eq(&p.code))
        .select(programs::id)
        .first(conn)
        .optional()?
    {
        return Ok(id);
    }
    insert_program(conn, p, (&p.code, &p.title), (None, None))
}

/// A new programme's row. It needs a version and a version needs its row: it points to a
/// placeholder (number 0, no files) until its first version is recorded.
pub fn insert_program(
    conn: &mut DbConn,
    p: &Program,
    (code, title): (&str, &str),
    (organism, source): (Option<i64>, Option<i64>),
) -> QueryResult<i64> {
    let now = db::now();
    let placeholder: i64 = diesel::insert_into(content_versions::table)
        .values((
            content_versions::program_code.eq(code),
            content_versions::hash.eq(""),
            content_versions::snapshot.eq("{}"),
            content_versions::loaded_at.eq(now),
            content_versions::number.eq(0),
        ))
        .returning(content_versions::id)
        .get_result(conn)?;
    let id = diesel::insert_into(programs::table)
        .values((
            programs::code.eq(code),
            programs::kind.eq(p.kind.as_str()),
            programs::title.eq(title),
            programs::total_minutes.eq((p.total_hours * 60) as i32),
            programs::min_months.eq(p.min_months as i32),
            programs::max_months.eq(p.max_months as i32),
            programs::version_id.eq(placeholder),
            programs::updated_at.eq(now),
            programs::organism_id.eq(organism),
            programs::source_program_id.eq(source),
        ))
        .returning(programs::id)
        .get_result(conn)?;
    diesel::update(content_versions::table.find(placeholder))
        .set(content_versions::program_id.eq(id))
        .execute(conn)?;
    Ok(id)
}

/// The programme's row points to its current version and says what that version plans.
fn set_current(
    conn: &mut DbConn,
    program_id: i64,
    p: &Program,
    version_id: i64,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(programs::table.find(program_id))
        .set((
            programs::kind.eq(p.kind.as_str()),
            programs::title.eq(&p.title),
            programs::total_minutes.eq((p.total_hours * 60) as i32),
            programs::min_months.eq(p.min_months as i32),
            programs::max_months.eq(p.max_months as i32),
            programs::version_id.eq(version_id),
            programs::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The snapshot kept with each content version: what a cohort on that version plans.
#[derive(Serialize)]
struct Snapshot<'a> {
    code: &'a str,
    title: &'a str,
    total_hours: u32,
    modules: Vec<SnapshotModule<'a>>,
}

#[derive(Serialize)]
struct SnapshotModule<'a> {
    code: &'a str,
    title: &'a str,
    planned_hours: u32,
    distance_hours: u32,
    presentiel_hours: u32,
    activities: Vec<(&'a str, &'a str, u32, bool)>,
}

fn snapshot(p: &Program) -> String {
    serde_json::to_string(&Snapshot {
        code: &p.code,
        title: &p.title,
        total_hours: p.total_hours,
        modules: p
            .modules
            .iter()
            .map(|m| SnapshotModule {
                code: &m.code,
                title: &m.title,
                planned_hours: m.planned_hours,
                distance_hours: m.distance_hours,
                presentiel_hours: m.presentiel_hours,
                activities: m
                    .activities
                    .iter()
                    .map(|a| (a.slug.as_str(), a.kind.as_str(), a.minutes, a.required))
                    .collect(),
            })
            .collect(),
    })
    .unwrap_or_default()
}

/// The programme's modules: those gone from the content retired, the others updated or
/// created, each with its lessons.
fn sync_modules(conn: &mut DbConn, p: &Program, program_id: i64) -> QueryResult<()> {
    let existing: Vec<(i64, String)> = modules::table
        .filter(modules::program_id.eq(program_id))
        .select((modules::id, modules::code))
        .load(conn)?;
    let present: HashSet<&str> = p.modules.iter().map(|m| m.code.as_str()).collect();
    for (id, code) in &existing {
        if !present.contains(code.as_str()) {
            diesel::update(modules::table.find(id))
                .set(modules::retired.eq(true))
                .execute(conn)?;
        }
    }
    for m in &p.modules {
        let values = (
            modules::program_id.eq(program_id),
            modules::title.eq(&m.title),
            modules::position.eq(m.order as i32),
            modules::planned_minutes.eq((m.planned_hours * 60) as i32),
            modules::distance_minutes.eq((m.distance_hours * 60) as i32),
            modules::presentiel_minutes.eq((m.presentiel_hours * 60) as i32),
            modules::modality.eq(format!("{:?}", m.modality).to_lowercase()),
            modules::retired.eq(false),
        );
        let module_id: i64 = match existing.iter().find(|(_, c)| c == &m.code) {
            Some((id, _)) => {
                diesel::update(modules::table.find(id))
                    .set(values)
                    .execute(conn)?;
                *id
            }
            None => diesel::insert_into(modules::table)
                .values((modules::code.eq(&m.code), values))
                .returning(modules::id)
                .get_result(conn)?,
        };
        sync_activities(conn, m, module_id)?;
    }
    Ok(())
}

/// An activity's row as a publish writes it.
#[derive(Queryable, PartialEq, Eq)]
struct ActivityRow {
    title: String,
    position: i32,
    minutes: i32,
    retired: bool,
    kind: String,
    required: bool,
    sequence: i32,
}

/// A module's activities: those gone from the content retired, the others updated or created.
/// Only rows that differ are written: a publish that changed one lesson writes one row.
fn sync_activities(conn: &mut DbConn, m: &Module, module_id: i64) -> QueryResult<()> {
    let known: HashMap<String, (i64, ActivityRow)> = lessons::table
        .filter(lessons::module_id.eq(module_id))
        .select((
            lessons::slug,
            lessons::id,
            (
                lessons::title,
                lessons::position,
                lessons::minutes,
                lessons::retired,
                lessons::kind,
                lessons::required,
                lessons::sequence,
            ),
        ))
        .load::<(String, i64, ActivityRow)>(conn)?
        .into_iter()
        .map(|(slug, id, row)| (slug, (id, row)))
        .collect();
    let slugs: HashSet<&str> = m.activities.iter().map(|a| a.slug.as_str()).collect();
    let gone: Vec<i64> = known
        .iter()
        .filter(|(slug, (_, row))| !row.retired && !slugs.contains(slug.as_str()))
        .map(|(_, (id, _))| *id)
        .collect();
    if !gone.is_empty() {
        diesel::update(lessons::table.filter(lessons::id.eq_any(&gone)))
            .set(lessons::retired.eq(true))
            .execute(conn)?;
    }
    for (position, l) in m.activities.iter().enumerate() {
        let row = ActivityRow {
            title: l.title.clone(),
            position: position as i32 + 1,
            minutes: l.minutes as i32,
            retired: false,
            kind: l.kind.as_str().to_string(),
            required: l.required,
            sequence: l.sequence as i32,
        };
        let values = (
            lessons::title.eq(&row.title),
            lessons::position.eq(row.position),
            lessons::minutes.eq(row.minutes),
            lessons::retired.eq(false),
            lessons::kind.eq(&row.kind),
            lessons::required.eq(row.required),
            lessons::sequence.eq(row.sequence),
        );
        match known.get(&l.slug) {
            Some((_, old)) if *old == row => {}
            Some((id, _)) => {
                diesel::update(lessons::table.find(id))
                    .set(values)
                    .execute(conn)?;
            }
            None => {
                diesel::insert_into(lessons::table)
                    .values((
                        lessons::module_id.eq(module_id),
                        lessons::slug.eq(&l.slug),
                        values,
                    ))
                    .execute(conn)?;
            }
        }
    }
    Ok(())
}

/// The programmes staff may open: the references and their organism's own (all for the
/// platform admin), with the owner.
pub fn visible_programs(
    conn: &mut DbConn,
    organism: Option<i64>,
    all: bool,
) -> QueryResult<Vec<(String, Option<i64>)>> {
    let mut q = programs::table
        .select((programs::code, programs::organism_id))
        .order((programs::organism_id.is_not_null(), programs::code))
        .into_boxed();
    if !all {
        q = q.filter(
            programs::organism_id
                .is_null()
                .or(programs::organism_id.eq(organism.unwrap_or(-1))),
        );
    }
    q.load(conn)
}

/// The versions the organism's cohorts follow.
pub fn cohort_versions(conn: &mut DbConn, organism: i64) -> QueryResult<Vec<i64>> {
    cohorts::table
        .filter(cohorts::organism_id.eq(organism))
        .select(cohorts::content_version_id)
        .distinct()
        .load(conn)
}

/// A programme's row by its code: its id, current version and owner.
pub fn program_by_code(
    conn: &mut DbConn,
    code: &str,
) -> QueryResult<Option<(i64, i64, Option<i64>)>> {
    programs::table
        .filter(programs::code.eq(code))
        .select((programs::id, programs::version_id, programs::organism_id))
        .first(conn)
        .optional()
}

/// The programme code and module id of an activity.
pub fn locate_activity(conn: &mut DbConn, activity_id: i64) -> QueryResult<Option<(String, i64)>> {
    lessons::table
        .inner_join(modules::table.inner_join(programs::table))
        .filter(lessons::id.eq(activity_id))
        .select((programs::code, modules::id))
        .first(conn)
        .optional()
}
