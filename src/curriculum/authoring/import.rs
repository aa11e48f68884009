//! A programme imported from a ZIP in the folder format of `content/` (`archive::pack`'s, one
//! zipped by hand, on Windows too) in place of its draft. The archive is unpacked with the
//! archive's limits and path checks into a private folder under the data folder, its programme
//! found as `parcours content check` finds it, its files kept as blobs and checked as a draft
//! is; then the draft's manifest is replaced at the revision its author saw, with its audit
//! event, in one transaction. Anything refused changes nothing; an import never publishes.
//! Blocking: run it off the async workers.

use std::io;
use std::path::Path;
use std::time::Duration;

use super::drafts::{self, Draft, Saved};
use super::manifest::{self, Manifest};
use crate::audit::{self, Event};
use crate::curriculum::archive;
use crate::curriculum::catalog::{self, Content};
use crate::curriculum::check::{self, TempDir};
use crate::db::{self, DbConn};
use crate::objects::Shelf;
use crate::vae::documents::{self, FileType};
use crate::web::{AppError, AppResult};

/// The largest archive an author sends, as received (its files unpacked are bounded by
/// `archive::LIMITS`).
pub const MAX_BYTES: u64 = 512 << 20;

/// Folders of imports left by a process that stopped mid-way are removed after this long.
const STALE: Duration = Duration::from_secs(24 * 3600);

/// What putting an archive's files in place of the draft did.
#[derive(Debug)]
pub enum Outcome {
    /// The draft's new revision.
    Imported(i32),
    /// The archive holds the draft's files exactly: nothing written, no new revision.
    Unchanged,
    /// The draft moved on from the revision the author saw; nothing changed.
    Changed(Draft),
}

/// What an upload of an archive accepts: a ZIP by its first bytes, whatever its name says.
pub fn zip_head(head: &[u8]) -> Result<FileType, String> {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Ok(FileType::Zip)
    } else {
        Err(
            "Le fichier n'est pas une archive ZIP (son contenu a été vérifié, pas seulement \
             son nom) : exportez le programme en ZIP, ou compressez son dossier."
                .into(),
        )
    }
}

/// The refusal of an archive of another programme.
fn other_code(found: &str, code: &str) -> Vec<String> {
    vec![format!(
        "Cette archive est le programme {found} ; ce brouillon est celui de {code}."
    )]
}

/// The checked files of the programme `code` in the archive `zip`, kept as blobs, or every
/// problem found. `work` holds the private folders of imports in progress. An `Err` is the
/// server's own trouble (a full disk), never the archive's.
pub fn read(
    content: &Content,
    zip: &Path,
    work: &Path,
    code: &str,
) -> io::Result<Result<Manifest, Vec<String>>> {
    // What a process that stopped mid-way left behind.
    documents::remove_older(work, STALE);
    let tmp = TempDir::new_in(work, "import")?;
    let unpacked = tmp.path().join("archive");
    std::fs::create_dir(&unpacked)?;
    let file = std::fs::File::open(zip)?;
    if let Err(e) = archive::unpack(io::BufReader::new(file), &unpacked, archive::LIMITS) {
        return Ok(Err(vec![format!("Archive refusée : {}.", e.message())]));
    }
    let dir = match check::program_folders(&unpacked).as_slice() {
        [one] => one.clone(),
        [] => {
            return Ok(Err(vec![
                "L'archive ne contient aucun programme : il y manque le fichier program.toml."
                    .into(),
            ]));
        }
        _ => {
            return Ok(Err(vec![
                "L'archive contient plusieurs programmes : importez seulement celui de ce \
                 brouillon."
                    .into(),
            ]));
        }
    };
    if let Some(found) = code_in(&dir).filter(|found| found != code) {
        return Ok(Err(other_code(&found, code)));
    }
    // Blobs kept here for an archive refused below stay in the folder of blobs: named by
    // their content, listed by no manifest, they only take room, and the same bytes sent
    // again reuse them.
    let files = match manifest::from_dir(content.blobs(), &dir) {
        Ok(files) => files,
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => return Ok(Err(vec![e.to_string()])),
        Err(e) => return Err(e),
    };
    // What is checked is what will be kept: the manifest, written out again from its blobs.
    let checked = tmp.path().join("verifie").join("programme");
    manifest::materialize(content.blobs(), &files, &checked)?;
    Ok(match catalog::check_folder(&checked) {
        Ok(program) if program.code != code => Err(other_code(&program.code, code)),
        Ok(_) => Ok(files),
        Err(problems) => Err(problems),
    })
}

/// The code `program.toml` gives, when it reads as TOML: told before any other problem, as
/// the other problems of another programme do not matter.
fn code_in(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("program.toml")).ok()?;
    let table: toml::Table = toml::from_str(&text).ok()?;
    Some(table.get("code")?.as_str()?.to_string())
}

/// Puts `files` in place of the draft of the programme `(id, organism, code)` at the revision
/// its author saw, with the audit event `program.import` (what changed from the draft), in
/// one transaction. Refused, and rolled back, when it would grow the organism's programmes
/// past their space (`quota` bytes of `blobs`, each file counted once, as uploads are).
pub fn apply(
    conn: &mut DbConn,
    (blobs, quota): (&Shelf, u64),
    (id, organism, code): (i64, i64, &str),
    (revision, files): (i32, &Manifest),
    by: i64,
) -> AppResult<Outcome> {
    db::transaction(conn, |c| {
        let before = drafts::get(c, id)?.ok_or(AppError::NotFound)?;
        if before.revision != revision {
            return Ok(Outcome::Changed(before));
        }
        let changes = manifest::changes(&before.manifest, files);
        if changes.is_empty() {
            return Ok(Outcome::Unchanged);
        }
        let used = drafts::organism_bytes(c, blobs, organism)?;
        let now = match drafts::replace(c, id, revision, files, by)? {
            Saved::Saved(now) => now,
            Saved::Changed(draft) => return Ok(Outcome::Changed(draft)),
        };
        let after = drafts::organism_bytes(c, blobs, organism)?;
        if after > quota && after > used {
            // An error rolls the transaction back: the draft stays as it was.
            return Err(AppError::invalid(
                "archive",
                format!(
                    "Avec cette archive, les programmes de l'organisme occuperaient {} Mo, \
                     au-delà de leur espace de {} Mo : rien n'a été importé.",
                    after.div_ceil(1 << 20),
                    quota >> 20
                ),
            ));
        }
        audit::record(
            c,
            Event {
                actor: Some(by),
                organism: Some(organism),
                subject_key: Some(code.to_string()),
                before: Some(serde_json::json!({ "revision": revision })),
                after: Some(serde_json::json!({
                    "revision": now,
                    "resume": changes.summary(),
                    "ajoutes": changes.added,
                    "modifies": changes.changed,
                    "supprimes": changes.removed,
                })),
                ..Event::new("program.import", "program", Some(id))
            },
        )?;
        Ok(Outcome::Imported(now))
    })
}
