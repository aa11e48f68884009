//! The curriculum: programmes (CQP, FAE) as content files, their modules, sequences and
//! activities (lessons, quizzes, assignments, resources) and evaluations.

pub mod api;
pub mod archive;
pub mod assignment_pages;
pub mod assignments;
pub mod authoring;
pub mod file_pages;
pub mod loader;
pub mod markdown;
pub mod pages;
pub mod quiz;
pub mod quiz_pages;
pub mod quizzes;
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
    /// The next lesson to read: the first lesson, in the programme's order, not marked done.
    pub fn next_lesson(
        &self,
        program_code: &str,
        done: &std::collections::HashSet<i64>,
    ) -> Option<NextLesson> {
        let p = self.curriculum.program(program_code)?;
        p.modules.iter().find_map(|m| {
            m.activities
                .iter()
                .filter(|a| a.kind == rules::ActivityKind::Lesson)
                .find_map(|a| {
                    let id = self.activity_id(&m.code, &a.slug)?;
                    (!done.contains(&id)).then(|| NextLesson {
                        module: m.code.clone(),
                        title: a.title.clone(),
                        url: rules::activity_url(&p.code, &m.code, a),
                    })
                })
        })
    }

    /// A programme and one of its modules, by their codes.
    pub fn module(&self, program: &str, module: &str) -> Option<(&rules::Program, &rules::Module)> {
        let p = self.curriculum.program(program)?;
        Some((p, p.module(module)?))
    }

    pub fn module_id(&self, module: &str) -> Option<i64> {
        self.ids.modules.get(module).copied()
    }

    pub fn activity_id(&self, module: &str, slug: &str) -> Option<i64> {
        self.ids
            .activities
            .get(&(module.to_string(), slug.to_string()))
            .copied()
    }

    /// A module's activity ids, in the order of `Module::activities`.
    pub fn activity_ids(&self, module: &str) -> &[i64] {
        self.ids.by_module.get(module).map_or(&[], Vec::as_slice)
    }

    /// The module code of a module id.
    pub fn module_code(&self, module_id: i64) -> Option<&str> {
        self.ids
            .modules
            .iter()
            .find(|(_, id)| **id == module_id)
            .map(|(code, _)| code.as_str())
    }
}

/// Loads, checks and syncs the content folder; any mistake stops the start.
pub fn load_and_sync(dir: &std::path::Path, pool: &crate::db::Pool) -> anyhow::Result<Content> {
    let curriculum = loader::load(dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    let mut conn = pool.get()?;
    let ids = store::sync(&mut conn, &curriculum)?;
    Ok(Content { curriculum, ids })
}
