//! From a launch's secret to what it opens: the attempt, the trainee's version of the
//! programme, the package activity and the SCO or AU. Blocking (database and cache).

use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::curriculum::rules::{Activity, Module, PackageActivity};
use crate::curriculum::{Content, Edition};
use crate::db::DbConn;
use crate::scorm::store::{self, Attempt, Launch};
use crate::web::{AppError, AppResult};

/// The SHA-256 a launch's secret is kept as.
pub fn token_sha(token: &str) -> String {
    crate::base::digest::hex(&Sha256::digest(token.as_bytes()))
}

/// Everything one launch opens.
pub struct Opened {
    pub launch: Launch,
    pub attempt: Attempt,
    pub edition: Arc<Edition>,
    pub module_code: String,
    pub activity_slug: String,
}

impl Opened {
    pub fn module(&self) -> Option<&Module> {
        self.edition.module(&self.module_code)
    }

    pub fn activity(&self) -> Option<&Activity> {
        self.module()?
            .activities
            .iter()
            .find(|a| a.slug == self.activity_slug)
    }

    pub fn package(&self) -> Option<&PackageActivity> {
        self.activity()?.package()
    }

    /// The ZIP in the version's folder.
    pub fn zip_path(&self) -> Option<std::path::PathBuf> {
        Some(self.module()?.dir.join(&self.package()?.file))
    }
}

/// The module and activity of an activity id in an edition.
pub fn locate(ed: &Edition, lesson_id: i64) -> Option<(String, String)> {
    ed.program.modules.iter().find_map(|m| {
        let index = ed
            .activity_ids(&m.code)
            .iter()
            .position(|&id| id == lesson_id)?;
        Some((m.code.clone(), m.activities.get(index)?.slug.clone()))
    })
}

/// What a secret opens, or 404 for an unknown or expired one (as for any unknown address).
pub fn open(conn: &mut DbConn, content: &Content, token: &str) -> AppResult<Opened> {
    let launch = store::launch(conn, &token_sha(token))?.ok_or(AppError::NotFound)?;
    let attempt = store::attempt(conn, launch.attempt_id)?;
    let (_, version) = crate::curriculum::store::trainee_version(conn, attempt.trainee_id)?
        .ok_or(AppError::NotFound)?;
    let edition = content.edition(conn, version)?;
    let (module_code, activity_slug) =
        locate(&edition, attempt.lesson_id).ok_or(AppError::NotFound)?;
    Ok(Opened {
        launch,
        attempt,
        edition,
        module_code,
        activity_slug,
    })
}
