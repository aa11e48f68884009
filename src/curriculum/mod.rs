//! The curriculum: programmes (CQP, FAE) as content files, their lessons and evaluations.

pub mod api;
pub mod loader;
pub mod markdown;
pub mod pages;
pub mod rules;
pub mod store;

pub use rules::Curriculum;

/// The loaded curriculum and its database ids, registered as app data at start.
pub struct Content {
    pub curriculum: Curriculum,
    pub ids: store::ContentIds,
}

/// Loads, checks and syncs the content folder; any mistake stops the start.
pub fn load_and_sync(dir: &std::path::Path, pool: &crate::db::Pool) -> anyhow::Result<Content> {
    let curriculum = loader::load(dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    let mut conn = pool.get()?;
    let ids = store::sync(&mut conn, &curriculum)?;
    Ok(Content { curriculum, ids })
}
