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

/// The next lesson of a programme for someone who has done these: the first lesson, in the
/// programme's order, not marked done. `None` when all are done or the programme is unknown.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct NextLesson {
    pub module: String,
    pub title: String,
    pub url: String,
}

impl Content {
    pub fn next_lesson(
        &self,
        program_code: &str,
        done: &std::collections::HashSet<i64>,
    ) -> Option<NextLesson> {
        let p = self.curriculum.program(program_code)?;
        p.modules.iter().find_map(|m| {
            m.lessons.iter().find_map(|l| {
                let lid = self.ids.lessons.get(&(m.code.clone(), l.slug.clone()))?;
                (!done.contains(lid)).then(|| NextLesson {
                    module: m.code.clone(),
                    title: l.title.clone(),
                    url: format!("/programmes/{}/{}/lecons/{}", p.code, m.code, l.slug),
                })
            })
        })
    }
}

/// Loads, checks and syncs the content folder; any mistake stops the start.
pub fn load_and_sync(dir: &std::path::Path, pool: &crate::db::Pool) -> anyhow::Result<Content> {
    let curriculum = loader::load(dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    let mut conn = pool.get()?;
    let ids = store::sync(&mut conn, &curriculum)?;
    Ok(Content { curriculum, ids })
}
