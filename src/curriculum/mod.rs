//! The curriculum: programmes (CQP, FAE) as content files, their modules, sequences and
//! activities (lessons, quizzes, assignments, resources) and evaluations. The shipped
//! programmes are the platform's references; organisms publish versions of their own.

pub mod api;
pub mod archive;
pub mod assignment_pages;
pub mod assignments;
pub mod authoring;
pub mod authoring_pages;
pub mod blocs;
pub mod catalog;
pub mod check;
pub mod draft_pages;
pub mod edition;
pub mod file_pages;
pub mod import_pages;
pub mod loader;
pub mod markdown;
pub mod markdown_pages;
pub mod package_activity;
pub mod package_view;
pub mod pages;
pub mod quiz;
pub mod quiz_pages;
pub mod quizzes;
pub mod rules;
pub mod store;
pub mod structure_pages;
pub mod versions;
pub mod viewer;

pub use catalog::Content;
pub use edition::{Edition, Editions, NextLesson};
pub use rules::Curriculum;

/// Loads and checks the content folder, then records it; any mistake stops the start.
pub fn load_and_sync(
    dir: &std::path::Path,
    data_dir: &std::path::Path,
    blobs: crate::objects::Shelf,
    pool: &crate::db::Pool,
) -> anyhow::Result<Content> {
    let curriculum = loader::load(dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    let mut conn = pool.get()?;
    Content::start(curriculum, data_dir, blobs, &mut conn)
}
