//! Assignments (devoirs): versions handed in by a trainee, graded by a trainer with the
//! activity's rubric, or sent back for a new version. Every version is kept: it is the work
//! produced and evaluated that inspectors ask for.

pub mod files;
pub mod rules;
pub mod store;

use serde::Serialize;

use super::Edition;
use super::rules::{Activity, Assignment, Criterion, Module, Program};
use crate::base::format;
use crate::web::{AppError, AppResult};

/// An assignment activity of the loaded content, with its database id.
#[derive(Clone, Copy)]
pub struct Target<'a> {
    pub program: &'a Program,
    /// The edition's `base`: where its pages are.
    pub base: &'a str,
    pub module: &'a Module,
    pub index: usize,
    pub activity: &'a Activity,
    pub spec: &'a Assignment,
    pub id: i64,
}

impl<'a> Target<'a> {
    /// The assignment at these codes; anything else (a lesson's slug…) is not found.
    pub fn find(ed: &'a Edition, module: &str, slug: &str) -> AppResult<Self> {
        let (program, module) = (&ed.program, ed.module(module).ok_or(AppError::NotFound)?);
        let (index, activity) = module.activity(slug).ok_or(AppError::NotFound)?;
        let spec = activity.assignment().ok_or(AppError::NotFound)?;
        let id = ed
            .activity_id(&module.code, slug)
            .ok_or(AppError::NotFound)?;
        Ok(Target {
            program,
            base: &ed.base,
            module,
            index,
            activity,
            spec,
            id,
        })
    }

    /// The assignment a version was handed in for, by its activity id.
    pub fn of_activity(ed: &'a Edition, id: i64) -> AppResult<Self> {
        let (module, slug) = ed.ids.activity_of.get(&id).ok_or(AppError::NotFound)?;
        Target::find(ed, module, slug)
    }

    pub fn url(&self) -> String {
        super::rules::activity_url(self.base, &self.module.code, self.activity)
    }
}

#[derive(Serialize)]
struct FileView<'a> {
    id: i64,
    name: &'a str,
    kb: i64,
}

/// A version as pages show it, its scores against the rubric.
pub fn version_view(v: &store::Version, rubric: &[Criterion]) -> serde_json::Value {
    let r = &v.row;
    let state = r.state();
    serde_json::json!({
        "id": r.id,
        "version_no": r.version_no,
        "submitted_at": format::datetime(r.submitted_at),
        "state": state.as_str(),
        "state_label": state.label(),
        "answer_text": r.answer_text,
        "files": v.files.iter().map(|f| FileView {
            id: f.id,
            name: &f.file_name,
            kb: (f.size_bytes + 1023) / 1024,
        }).collect::<Vec<_>>(),
        "scores": rules::score_lines(rubric, r.scores.as_deref()),
        "points": r.points,
        "max_points": r.max_points,
        "feedback": r.feedback,
        "grader": v.grader,
        "graded_at": r.graded_at.map(format::datetime),
    })
}
