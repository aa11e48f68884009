//! A VAE file as the pages and the API show it: the request, its periods, documents,
//! history and modules.

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

use super::rules::{self, DocKind, Outcome, Status};
use super::store::{self, Scope};
use crate::web::{AppError, AppResult, State};

pub fn module_views(modules: &[(i64, String, String, i32)]) -> Vec<serde_json::Value> {
    modules
        .iter()
        .map(|(_, code, title, minutes)| {
            serde_json::json!({"code": code, "title": title, "minutes": minutes})
        })
        .collect()
}

#[derive(Serialize)]
pub(super) struct FileView {
    id: i64,
    pub(super) state: String,
    state_label: &'static str,
    is_final: bool,
    candidate_name: String,
    candidate_email: String,
    phone: String,
    address: String,
    employer: String,
    requested: Vec<String>,
    validated: Vec<String>,
    experience_minutes: i32,
    below_threshold: bool,
    created_at: NaiveDateTime,
    reasons: Option<String>,
    recevable_at: Option<NaiveDateTime>,
    livret2_due: Option<NaiveDate>,
    jury_at: Option<NaiveDateTime>,
    jury_place: Option<String>,
    decision: Option<&'static str>,
    recommendations: Option<String>,
}

#[derive(Serialize)]
pub struct Full {
    pub(super) file: FileView,
    /// Each period as stored, with its missions' labels (`missions_label`) for people.
    experiences: Vec<serde_json::Value>,
    documents: Vec<serde_json::Value>,
    history: Vec<serde_json::Value>,
    modules: Vec<serde_json::Value>,
}

/// A file with everything the pages and the API show, if the scope may see it.
pub async fn full(state: &State, scope: Scope, id: i64) -> AppResult<Full> {
    let months = state.config.vae.livret2_months;
    state
        .db(move |c| {
            let r = store::get(c, scope, id)?.ok_or(AppError::NotFound)?;
            let cand =
                crate::accounts::store::by_id(c, r.candidate_id)?.ok_or(AppError::NotFound)?;
            let status = r.status();
            let docs = store::documents(c, id)?
                .into_iter()
                .map(|d| {
                    let label = DocKind::parse(&d.kind)
                        .map(|k| k.label())
                        .unwrap_or_default();
                    serde_json::json!({
                        "id": d.id, "kind": d.kind, "label": label, "file_name": d.file_name,
                        "mime_type": d.mime_type, "size_bytes": d.size_bytes,
                        "sha256": d.sha256, "uploaded_at": d.uploaded_at,
                    })
                })
                .collect();
            let history = crate::audit::history(c, "vae_request", id, 200)?
                .into_iter()
                .map(|h| {
                    let after: serde_json::Value = h
                        .after_json
                        .as_deref()
                        .and_then(|a| serde_json::from_str(a).ok())
                        .unwrap_or_default();
                    let actor = h
                        .actor_user_id
                        .and_then(|a| crate::accounts::store::by_id(c, a).ok().flatten())
                        .map(|u| u.name);
                    let state_label = after["state"]
                        .as_str()
                        .and_then(Status::parse)
                        .map(|s| s.label());
                    serde_json::json!({
                        "at": h.at, "action": h.action, "actor": actor,
                        "state_label": state_label, "note": after["note"], "detail": after,
                    })
                })
                .collect();
            let modules = crate::cohorts::store::program_modules(c, r.program_id)?;
            Ok(Full {
                experiences: store::experiences(c, id)?
                    .into_iter()
                    .map(|e| {
                        let label = rules::mission_labels(&e.missions);
                        let mut v = serde_json::to_value(e).unwrap_or_default();
                        v["missions_label"] = label.into();
                        v
                    })
                    .collect(),
                documents: docs,
                history,
                modules: module_views(&modules),
                file: FileView {
                    id: r.id,
                    state: r.state.clone(),
                    state_label: status.label(),
                    is_final: status.is_final(),
                    candidate_name: cand.name,
                    candidate_email: cand.email,
                    requested: r.requested(),
                    validated: r.validated(),
                    livret2_due: r.recevable_at.map(|t| rules::livret2_due(t, months)),
                    decision: r
                        .decision
                        .as_deref()
                        .and_then(Outcome::parse)
                        .map(|o| o.label()),
                    phone: r.phone,
                    address: r.address,
                    employer: r.employer,
                    experience_minutes: r.experience_minutes,
                    below_threshold: r.below_threshold,
                    created_at: r.created_at,
                    reasons: r.reasons,
                    recevable_at: r.recevable_at,
                    jury_at: r.jury_at,
                    jury_place: r.jury_place,
                    recommendations: r.recommendations,
                },
            })
        })
        .await
}
