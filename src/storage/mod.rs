//! Uploaded files, whichever domain keeps them (VAE documents, follow-up
//! attachments, assignment files): written off the async workers, counted against quotas,
//! and the hourly cap on what anonymous people may send. Files are named by their SHA-256 on
//! the uploads shelf (`crate::objects`), so a file is removed only when no record of any domain uses it any more.

pub mod quota;
pub mod spool;
pub mod store;

use crate::db::DbConn;
use crate::objects::Shelf;

/// Removes a kept file unless a record still uses it (the same content may be kept once for
/// several records). Blocking: call it off the async workers.
pub fn remove_unreferenced(conn: &mut DbConn, shelf: &Shelf, sha256: &str) -> bool {
    if !crate::objects::is_sha(sha256) || store::is_referenced(conn, sha256).unwrap_or(true) {
        return false;
    }
    shelf.delete(sha256).is_ok()
}
