//! An assignment's files are counted against the trainee's and her organism's quotas, then
//! kept under their digest like follow-up attachments. Blocking: runs inside `State::db`.

use std::path::Path;

use super::rules;
use super::store::NewFile;
use crate::config::StorageSettings;
use crate::db::DbConn;
use crate::storage::{self, quota, quota::Holder};
use crate::vae::documents::{FileType, Staged};
use crate::web::{AppError, AppResult};

/// Refuses the files past a quota (nothing is kept), or keeps them all and says what to
/// record. A file kept before a later one fails is removed again.
pub fn keep(
    conn: &mut DbConn,
    dir: &Path,
    quotas: &StorageSettings,
    (trainee, organism): (i64, i64),
    staged: Vec<Staged>,
) -> AppResult<Vec<NewFile>> {
    let refuse = |m: String| AppError::invalid("file", m);
    let adding: u64 = staged.iter().map(|s| s.size).sum();
    let used = storage::store::assignment_usage(conn, trainee)?;
    quota::check(Holder::Assignments, used, adding, quotas.trainee_quota).map_err(refuse)?;
    let used = storage::store::organism_usage(conn, organism)?;
    quota::check(Holder::Organism, used, adding, quotas.organism_quota).map_err(refuse)?;
    let mut kept: Vec<NewFile> = Vec::new();
    for s in staged {
        let file = NewFile {
            file_name: rules::stored_name(&s.file_name, s.kind.extensions()),
            mime_type: s.kind.mime().to_string(),
            size_bytes: i64::try_from(s.size).unwrap_or(i64::MAX),
            sha256: s.sha256.clone(),
        };
        if let Err(e) = s.keep(dir) {
            forget(conn, dir, &kept);
            return Err(AppError::io("assignment file", e));
        }
        kept.push(file);
    }
    Ok(kept)
}

/// Removes kept files that no record uses (a version that could not be recorded).
pub fn forget(conn: &mut DbConn, dir: &Path, files: &[NewFile]) {
    for f in files {
        storage::remove_unreferenced(conn, dir, &f.sha256);
    }
}

/// The type a download is sent as: the one sniffed when it was handed in.
pub fn download_type(mime: &str) -> &'static str {
    FileType::from_mime(mime).map_or("application/octet-stream", FileType::mime)
}
