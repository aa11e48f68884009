//! An organism's own programme: made as a copy of one it may open or from nothing, then published version by
//! version from its draft. Every publish runs the checks of `parcours content check` and is
//! audited with what changed. Blocking: call inside `state.db`.

use diesel::prelude::*;

use super::drafts::{self, Draft};
use super::manifest::{self, Manifest};
use super::scratch::{KindDefaults, NewProgram};
use crate::audit::{self, Event};
use crate::base::field::FieldError;
use crate::curriculum::versions::{self, VersionRow};
use crate::curriculum::{Content, Edition};
use crate::db::schema::programs;
use crate::db::{self, DbConn};
use crate::web::{AppError, AppResult};

/// Why a publish did not happen; nothing was recorded.
#[derive(Debug)]
pub enum Refused {
    /// Every problem the checks found, by file (relative to the programme) and line.
    Problems(Vec<String>),
    /// The draft changed since the author looked at it.
    Changed(Draft),
    Unchanged(i32),
}

/// A programme code as URLs and exports carry it: capitals, digits and dashes.
pub fn check_code(code: &str) -> Result<String, FieldError> {
    let code = code.trim().to_uppercase();
    let ok = (2..=24).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_alphanumeric())
        && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(code)
    } else {
        Err(FieldError::new(
            "code",
            "Code invalide : 2 à 24 lettres, chiffres ou tirets (par exemple CQP-AM-LYON).",
        ))
    }
}

/// `program.toml` with another code and title (the rest of the file as it was).
fn renamed(text: &str, code: &str, title: &str) -> Result<String, String> {
    let mut table: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
    table.insert("code".into(), toml::Value::String(code.into()));
    table.insert("title".into(), toml::Value::String(title.into()));
    toml::to_string(&table).map_err(|e| e.to_string())
}

/// Refused when a programme (a reference or any organism's) already has the code.
fn code_free(conn: &mut DbConn, code: &str) -> AppResult<()> {
    let taken: i64 = programs::table
        .filter(programs::code.eq(code))
        .count()
        .get_result(conn)?;
    if taken > 0 {
        return Err(AppError::Invalid(vec![FieldError::new(
            "code",
            format!("Le code {code} est déjà pris : choisissez-en un autre."),
        )]));
    }
    Ok(())
}

/// Creates a programme of the organism from nothing: its row on the placeholder version (no
/// cohort starts on it before its first publish) and a draft holding only its skeleton
/// `program.toml`, which fails the checks until modules add up to its hours.
pub fn create(
    content: &Content,
    conn: &mut DbConn,
    organism: i64,
    new: &NewProgram,
    by: i64,
) -> AppResult<i64> {
    let reference = content.reference().find(|p| p.kind == new.kind);
    let defaults = KindDefaults::of(new.kind, reference);
    let text = new.program_toml(&defaults);
    let sha = content
        .blobs()
        .put(text.as_bytes())
        .map_err(|e| AppError::io("programme file", e))?;
    let files = Manifest::from([("program.toml".to_string(), sha)]);
    let code = new.code.as_str();
    db::transaction(conn, |conn| {
        code_free(conn, code)?;
        let program = new.program(&defaults);
        let id =
            versions::insert_program(conn, &program, (code, &new.title), (Some(organism), None))?;
        drafts::create(conn, id, &files, None, Some(by))?;
        audit::record(
            conn,
            Event {
                actor: Some(by),
                organism: Some(organism),
                subject_key: Some(code.to_string()),
                after: Some(serde_json::json!({
                    "vierge": true,
                    "titre": new.title,
                    "type": new.kind.as_str(),
                    "heures": new.total_hours,
                })),
                ..Event::new("program.create", "program", Some(id))
            },
        )?;
        Ok(id)
    })
}

/// Copies a programme (its current version) as a new programme of the organism, published
/// at once as its version 1 so its cohorts can start; its draft starts from the same files.
pub fn copy(
    content: &Content,
    conn: &mut DbConn,
    organism: i64,
    source: &Edition,
    (code, title): (&str, &str),
    by: i64,
) -> AppResult<VersionRow> {
    let row = versions::version(conn, source.version_id)?.ok_or(AppError::NotFound)?;
    let mut files =
        manifest::from_json(&row.manifest).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    let sha = files.get("program.toml").ok_or(AppError::NotFound)?.clone();
    let io = |e: std::io::Error| AppError::io("programme file", e);
    let text = String::from_utf8(content.blobs().read(&sha).map_err(io)?)
        .map_err(|e| AppError::Internal(e.into()))?;
    let text = renamed(&text, code, title).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    files.insert(
        "program.toml".into(),
        content.blobs().put(text.as_bytes()).map_err(io)?,
    );
    db::transaction(conn, |conn| {
        code_free(conn, code)?;
        let owner = (Some(organism), Some(source.program_id));
        let id = versions::insert_program(conn, &source.program, (code, title), owner)?;
        drafts::create(conn, id, &files, None, Some(by))?;
        audit::record(
            conn,
            Event {
                actor: Some(by),
                organism: Some(organism),
                subject_key: Some(code.to_string()),
                after: Some(serde_json::json!({"copie_de": source.code(), "titre": title})),
                ..Event::new("program.create", "program", Some(id))
            },
        )?;
        match publish(
            content,
            conn,
            id,
            1,
            by,
            "Copie de ".to_string() + source.code(),
        )? {
            Ok(v) => Ok(v),
            Err(Refused::Problems(p)) => Err(AppError::Internal(anyhow::anyhow!(p.join("\n")))),
            Err(_) => Err(AppError::Internal(anyhow::anyhow!("copy not published"))),
        }
    })
}

/// Publishes the draft at the revision the author saw as the programme's next version.
pub fn publish(
    content: &Content,
    conn: &mut DbConn,
    program_id: i64,
    revision: i32,
    by: i64,
    note: String,
) -> AppResult<Result<VersionRow, Refused>> {
    let draft = drafts::get(conn, program_id)?.ok_or(AppError::NotFound)?;
    if draft.revision != revision {
        return Ok(Err(Refused::Changed(draft)));
    }
    let (code, organism, current): (String, Option<i64>, i64) = programs::table
        .find(program_id)
        .select((programs::code, programs::organism_id, programs::version_id))
        .first(conn)?;
    let program = match content.check_files(&format!("d{program_id}-r{revision}"), &draft.manifest)
    {
        Ok(p) => p,
        Err(problems) => return Ok(Err(Refused::Problems(problems))),
    };
    if program.code != code {
        return Ok(Err(Refused::Problems(vec![format!(
            "program.toml : le code doit rester {code} (il vaut {})",
            program.code
        )])));
    }
    let before = versions::version(conn, current)?;
    let old: Manifest = before
        .as_ref()
        .filter(|v| v.number > 0)
        .and_then(|v| manifest::from_json(&v.manifest).ok())
        .unwrap_or_default();
    let changes = manifest::changes(&old, &draft.manifest);
    if changes.is_empty() {
        return Ok(Err(Refused::Unchanged(before.map_or(0, |v| v.number))));
    }
    let summary = match note.trim() {
        "" => changes.summary(),
        n => format!("{n} — {}", changes.summary()),
    };
    let row = db::transaction(conn, |conn| {
        let row = versions::publish(conn, program_id, &program, &draft.manifest, by, &summary)?;
        audit::record(
            conn,
            Event {
                actor: Some(by),
                organism,
                subject_key: Some(code.clone()),
                after: Some(serde_json::json!({
                    "version": row.number,
                    "ajoutes": changes.added,
                    "modifies": changes.changed,
                    "supprimes": changes.removed,
                    "note": note.trim(),
                })),
                ..Event::new("program.publish", "program", Some(program_id))
            },
        )?;
        Ok::<_, AppError>(row)
    })?;
    Ok(Ok(row))
}
