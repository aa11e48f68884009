//! Uploaded files on disk, whichever domain keeps them (VAE documents, follow-up
//! attachments, assignment files): written off the async workers, counted against quotas,
//! and the hourly cap on what anonymous people may send. Files are named by their SHA-256 in
//! one folder, so a file is removed only when no record of any domain uses it any more.

pub mod quota;
pub mod spool;
pub mod store;

use std::path::Path;

use crate::db::DbConn;

/// Removes a kept file unless a record still uses it (the same content may be kept once for
/// several records). Blocking: call it off the async workers.
pub fn remove_unreferenced(conn: &mut DbConn, dir: &Path, sha256: &str) -> bool {
    let valid = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
    if !valid || store::is_referenced(conn, sha256).unwrap_or(true) {
        return false;
    }
    std::fs::remove_file(dir.join(sha256)).is_ok()
}
