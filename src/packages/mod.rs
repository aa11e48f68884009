//! Playing e-learning packages as activities (issue #19): the launch from the trainee's
//! activity page (`launch_pages`), the packages' own origin with the host page, the files and
//! the commits (`frame_pages`, `commits`), a cmi5 AU's xAPI calls (`cmi5_pages`,
//! `cmi5_statements`, `cmi5_cors`), the unpacked cache (`cache`), and the player's
//! rules (`rules`). Manifests, the run-time data model and the attempts' rows are `scorm`'s.

pub mod cache;
pub mod cmi5_cors;
pub mod cmi5_pages;
pub mod cmi5_statements;
pub mod commits;
pub mod frame_pages;
pub mod launch_pages;
pub mod play;
pub mod rules;

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Mutex;

use chrono::NaiveDateTime;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// What the player's handlers share: the unpacked packages, where each launch's files are,
/// and the commits' rate.
pub struct Player {
    pub unpacked: cache::Unpacked,
    pub commits: DefaultKeyedRateLimiter<i64>,
    /// Launch secret → its unpacked folder, until the launch expires: a SCO asks for dozens
    /// of files, each would otherwise cost the same four reads. A launch never changes.
    folders: Mutex<HashMap<String, (PathBuf, NaiveDateTime)>>,
}

/// Past this many launches remembered, the expired ones are forgotten.
const FOLDERS_KEPT: usize = 4096;

impl Player {
    pub fn new(data_dir: &std::path::Path) -> Player {
        let per_minute = NonZeroU32::new(rules::COMMITS_PER_MINUTE).unwrap_or(NonZeroU32::MIN);
        Player {
            unpacked: cache::Unpacked::new(data_dir),
            commits: RateLimiter::keyed(Quota::per_minute(per_minute)),
            folders: Mutex::new(HashMap::new()),
        }
    }

    /// The unpacked folder a launch opens, if remembered and not expired.
    pub fn known_folder(&self, token: &str) -> Option<PathBuf> {
        let now = crate::db::now();
        let folders = self.folders.lock().ok()?;
        folders
            .get(token)
            .filter(|(_, expires)| *expires > now)
            .map(|(folder, _)| folder.clone())
    }

    fn remember(&self, token: &str, folder: PathBuf, expires: NaiveDateTime) {
        if let Ok(mut folders) = self.folders.lock() {
            if folders.len() >= FOLDERS_KEPT {
                let now = crate::db::now();
                folders.retain(|_, (_, e)| *e > now);
            }
            if folders.len() < FOLDERS_KEPT {
                folders.insert(token.to_string(), (folder, expires));
            }
        }
    }

    /// The folder of the package a launch opens, unpacked first if needed (off the async
    /// workers), and remembered for the launch's next files.
    pub async fn folder(
        self: &std::sync::Arc<Self>,
        token: &str,
        o: &play::Opened,
    ) -> crate::web::AppResult<PathBuf> {
        use crate::web::AppError;
        let zip = o.zip_path().ok_or(AppError::NotFound)?;
        let me = self.clone();
        let folder = actix_web::web::block(move || me.unpacked.folder(&zip))
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?
            .map_err(|e| AppError::Internal(e.into()))?;
        self.remember(token, folder.clone(), o.launch.expires_at);
        Ok(folder)
    }
}
