//! Which version of its programme a cohort follows, the programme's current version, and a
//! cohort moved on to it. Nothing here touches hours, attempts or progress: they belong to the
//! trainees and stay as recorded.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{cohorts, content_versions, programs};

/// A version as read from its row: its id, its number (0 is a placeholder, never a version
/// anyone published) and when it was published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Queryable)]
pub struct VersionStamp {
    pub id: i64,
    pub number: i32,
    pub published_at: NaiveDateTime,
}

impl VersionStamp {
    /// A version someone published, not the placeholder a programme's row starts with.
    pub fn is_published(&self) -> bool {
        self.number > 0
    }
}

/// The version a cohort follows and its programme's current one (the one new cohorts start on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CohortVersions {
    pub followed: VersionStamp,
    pub current: VersionStamp,
}

impl CohortVersions {
    /// The programme's current version when it is a published one newer than the cohort's.
    pub fn newer(&self) -> Option<VersionStamp> {
        Some(self.current).filter(|c| c.is_published() && c.number > self.followed.number)
    }
}

/// Both versions of a cohort, read from the database; `None` for an unknown cohort.
pub fn versions_of(conn: &mut DbConn, cohort_id: i64) -> QueryResult<Option<CohortVersions>> {
    let followed: Option<(i64, VersionStamp)> = cohorts::table
        .inner_join(
            content_versions::table.on(content_versions::id.eq(cohorts::content_version_id)),
        )
        .filter(cohorts::id.eq(cohort_id))
        .select((
            cohorts::program_id,
            (
                content_versions::id,
                content_versions::number,
                content_versions::loaded_at,
            ),
        ))
        .first(conn)
        .optional()?;
    let Some((program_id, followed)) = followed else {
        return Ok(None);
    };
    let current: VersionStamp = programs::table
        .inner_join(content_versions::table.on(content_versions::id.eq(programs::version_id)))
        .filter(programs::id.eq(program_id))
        .select((
            content_versions::id,
            content_versions::number,
            content_versions::loaded_at,
        ))
        .first(conn)?;
    Ok(Some(CohortVersions { followed, current }))
}

/// Points the cohort to version `to` if it still follows `from`; returns whether it did, so
/// that two moves at once write one change.
pub fn set_version(conn: &mut DbConn, cohort_id: i64, from: i64, to: i64) -> QueryResult<bool> {
    let n = diesel::update(
        cohorts::table
            .filter(cohorts::id.eq(cohort_id))
            .filter(cohorts::content_version_id.eq(from)),
    )
    .set(cohorts::content_version_id.eq(to))
    .execute(conn)?;
    Ok(n == 1)
}
