//! A follow-up attachment is counted against the trainee's and her organism's quotas, then
//! kept under its digest. Blocking: runs inside `State::db`, off the async workers.

use super::store::{self, NewAttachment, Target};
use crate::config::StorageSettings;
use crate::db::DbConn;
use crate::storage::{self, quota, quota::Holder};
use crate::vae::documents::Staged;
use crate::web::{AppError, AppResult};

/// (organism, trainee) whose space a message of this target uses.
fn owner(conn: &mut DbConn, target: &Target) -> AppResult<(i64, i64)> {
    Ok(match target {
        Target::Thread(id) => {
            let t = store::thread(conn, *id)?.ok_or(AppError::NotFound)?;
            (t.organism_id, t.trainee_id)
        }
        Target::Module {
            organism_id,
            trainee_id,
            ..
        }
        | Target::Assistance {
            organism_id,
            trainee_id,
            ..
        } => (*organism_id, *trainee_id),
    })
}

/// Refuses the file past a quota (nothing is kept), or keeps it and says what to record.
pub fn keep(
    conn: &mut DbConn,
    dir: &crate::objects::Shelf,
    quotas: &StorageSettings,
    target: &Target,
    staged: Staged,
) -> AppResult<NewAttachment> {
    let (organism, trainee) = owner(conn, target)?;
    let refuse = |m: String| AppError::invalid("file", m);
    let used = storage::store::trainee_usage(conn, trainee)?;
    quota::check(Holder::Trainee, used, staged.size, quotas.trainee_quota).map_err(refuse)?;
    let used = storage::store::organism_usage(conn, organism)?;
    quota::check(Holder::Organism, used, staged.size, quotas.organism_quota).map_err(refuse)?;
    let attachment = NewAttachment {
        file_name: staged.file_name.clone(),
        mime_type: staged.kind.mime().to_string(),
        size_bytes: i64::try_from(staged.size).unwrap_or(i64::MAX),
        sha256: staged.sha256.clone(),
    };
    staged
        .keep(dir)
        .map_err(|e| AppError::io("follow-up attachment", e))?;
    Ok(attachment)
}
