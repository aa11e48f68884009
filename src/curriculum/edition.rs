//! One version of one programme as pages use it: the loaded files and the database ids of its
//! modules and activities. Editions never change once loaded; a new version is a new edition.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::Serialize;

use super::rules::{self, Module, Program};

/// Database ids of a programme's modules and activities. They belong to the programme, not
/// to a version: an activity keeps its id (and the hours recorded on it) across versions.
#[derive(Debug, Default, Clone)]
pub struct ProgramIds {
    pub modules: HashMap<String, i64>,
    /// Activity ids by (module code, slug), and the other way round.
    pub activities: HashMap<(String, String), i64>,
    pub activity_of: HashMap<i64, (String, String)>,
    /// A module's activity ids in the order of its activities.
    pub by_module: HashMap<String, Vec<i64>>,
}

impl ProgramIds {
    /// Ids from the programme's rows, `(module id, module code)` and `(activity id, module
    /// id, slug)`; in a draft's preview, activities with no row yet get negative ids, which
    /// nothing records against.
    pub fn build(
        p: &Program,
        modules: &[(i64, String)],
        activities: &[(i64, i64, String)],
    ) -> Self {
        let mut ids = ProgramIds::default();
        let module_ids: HashMap<&str, i64> =
            modules.iter().map(|(id, c)| (c.as_str(), *id)).collect();
        let activity_ids: HashMap<(i64, &str), i64> = activities
            .iter()
            .map(|(id, m, s)| ((*m, s.as_str()), *id))
            .collect();
        let mut synthetic = 0;
        for m in &p.modules {
            let module_id = module_ids.get(m.code.as_str()).copied();
            if let Some(id) = module_id {
                ids.modules.insert(m.code.clone(), id);
            }
            for a in &m.activities {
                let id = module_id
                    .and_then(|mid| activity_ids.get(&(mid, a.slug.as_str())).copied())
                    .unwrap_or_else(|| {
                        synthetic -= 1;
                        synthetic
                    });
                ids.activities.insert((m.code.clone(), a.slug.clone()), id);
                ids.activity_of.insert(id, (m.code.clone(), a.slug.clone()));
                ids.by_module.entry(m.code.clone()).or_default().push(id);
            }
        }
        ids
    }
}

/// A programme version, loaded.
#[derive(Debug)]
pub struct Edition {
    /// The `content_versions` row; 0 for a draft's preview.
    pub version_id: i64,
    pub number: i32,
    pub program_id: i64,
    /// `None` for the platform's reference programmes.
    pub organism_id: Option<i64>,
    pub program: Arc<Program>,
    /// Where its pages are: `/programmes/CODE`, or `/auteur/apercu/CODE` for a draft's
    /// preview, whose links then stay inside the preview.
    pub base: String,
    pub ids: ProgramIds,
}

/// The next lesson of a programme for someone who has done these.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NextLesson {
    pub module: String,
    pub title: String,
    pub url: String,
}

impl Edition {
    pub fn code(&self) -> &str {
        &self.program.code
    }

    pub fn module(&self, code: &str) -> Option<&Module> {
        self.program.module(code)
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

    /// The module code of a module id of this programme.
    pub fn module_code(&self, module_id: i64) -> Option<&str> {
        self.ids
            .modules
            .iter()
            .find(|(_, id)| **id == module_id)
            .map(|(code, _)| code.as_str())
    }

    /// The first lesson, in the programme's order, not marked done.
    pub fn next_lesson(&self, done: &HashSet<i64>) -> Option<NextLesson> {
        let p = &self.program;
        p.modules.iter().find_map(|m| {
            m.activities
                .iter()
                .filter(|a| a.kind == rules::ActivityKind::Lesson)
                .find_map(|a| {
                    let id = self.activity_id(&m.code, &a.slug)?;
                    (!done.contains(&id)).then(|| NextLesson {
                        module: m.code.clone(),
                        title: a.title.clone(),
                        url: rules::activity_url(&self.base, &m.code, a),
                    })
                })
        })
    }
}

/// The versions a document reads, by version id. Each cohort keeps its own version, so two
/// cohorts of one programme may read two versions in one export.
#[derive(Debug, Default, Clone)]
pub struct Editions(HashMap<i64, Arc<Edition>>);

impl Editions {
    pub fn new(list: impl IntoIterator<Item = Arc<Edition>>) -> Self {
        Editions(list.into_iter().map(|e| (e.version_id, e)).collect())
    }

    pub fn program(&self, version_id: i64) -> Option<&Program> {
        self.0.get(&version_id).map(|e| &*e.program)
    }
}
