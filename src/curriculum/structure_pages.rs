//! A draft's outline changed from the editor: a programme begun from nothing, a module added,
//! an activity taken out. Each change is saved at the author's revision; a refusal shows the
//! editor again with its reasons and saves nothing.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::Content;
use super::authoring::access::authored;
use super::authoring::drafts::{self, Saved};
use super::authoring::manifest;
use super::authoring::publish;
use super::authoring::scratch::{ExistingModule, ModuleForm, ProgramForm};
use super::authoring::sequences;
use super::authoring_pages::{render_editor_titled, text_in};
use crate::accounts::CurrentUser;
use crate::web::csrf::CsrfForm;
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/organismes/{id}/programmes/nouveau",
        web::post().to(create_program),
    )
    .route(
        "/auteur/programmes/{code}/modules",
        web::post().to(add_module),
    )
    .route(
        "/auteur/programmes/{code}/modules/{folder}/retrait",
        web::post().to(remove_activity),
    );
}

/// Creates a programme of the organism from nothing: a draft with its `program.toml` only,
/// unpublished, which its authors fill module by module.
async fn create_program(
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<ProgramForm>,
) -> AppResult<HttpResponse> {
    let org = path.into_inner();
    me.require_org_admin_of(org)?;
    let new = form.check().map_err(AppError::Invalid)?;
    let code = new.code.clone();
    let (content, by) = (content.clone(), me.id);
    state
        .db(move |c| publish::create(&content, c, org, &new, by))
        .await?;
    Ok(w::redirect(&format!("/auteur/programmes/{code}?avis=cree")))
}

/// What a refused change to the draft answers: the editor with the reasons, nothing saved.
async fn refused(
    req: &HttpRequest,
    state: &State,
    content: &web::Data<Content>,
    me: &CurrentUser,
    code: String,
    outcome: Result<Saved, Vec<String>>,
    done: &str,
) -> AppResult<HttpResponse> {
    let (status, messages) = match outcome {
        Ok(Saved::Saved(_)) => {
            return Ok(w::redirect(&format!(
                "/auteur/programmes/{code}?avis={done}"
            )));
        }
        Ok(Saved::Changed(d)) => (
            StatusCode::CONFLICT,
            vec![format!(
                "Le brouillon a changé entre-temps ({} le {}) : rien n'a été modifié, relisez-le et recommencez.",
                d.updated_by_name.unwrap_or_default(),
                crate::base::format::datetime(d.updated_at)
            )],
        ),
        Err(messages) => (StatusCode::UNPROCESSABLE_ENTITY, messages),
    };
    let refusal = Some(("Modification refusée", messages));
    render_editor_titled(req, state, content, me, (code, status), refusal).await
}

/// Adds a module to the draft at the author's revision: its folder with its `module.toml`,
/// no sequence yet.
async fn add_module(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let code = path.into_inner();
    let revision: Option<i32> = pairs
        .iter()
        .find(|(k, _)| k == "revision")
        .and_then(|(_, v)| v.trim().parse().ok());
    let form = ModuleForm::from_pairs(&pairs);
    let (content2, me2, code2) = (content.clone(), me.clone(), code.clone());
    let outcome = state
        .db(move |c| {
            // Who may is known before what was sent is judged.
            let (id, _, draft) = authored(c, &me2, &code2)?;
            let Some(revision) = revision else {
                return Err(AppError::invalid(
                    "revision",
                    "Révision du brouillon manquante.",
                ));
            };
            let new = match form.check() {
                Ok(n) => n,
                Err(errors) => return Ok(Err(errors.into_iter().map(|e| e.message).collect())),
            };
            // Judged against the draft the author saw, or not at all.
            if draft.revision != revision {
                return Ok(Ok(Saved::Changed(draft)));
            }
            let existing: Vec<ExistingModule> = draft
                .manifest
                .keys()
                .filter_map(|p| p.strip_suffix("/module.toml"))
                .filter(|dir| !dir.contains('/'))
                .map(|dir| {
                    let text = text_in(&content2, &draft, &format!("{dir}/module.toml"));
                    ExistingModule::read(dir, &text.unwrap_or_default())
                })
                .collect();
            let mut problems = new.conflicts(&existing);
            let taken = format!("Le dossier {} existe déjà dans le brouillon.", new.dir);
            let prefix = format!("{}/", new.dir);
            if draft.manifest.keys().any(|p| p.starts_with(&prefix)) && !problems.contains(&taken) {
                problems.push(taken);
            }
            if !problems.is_empty() {
                return Ok(Err(problems));
            }
            let sha = content2
                .blobs()
                .put(new.module_toml().as_bytes())
                .map_err(|e| AppError::Internal(e.into()))?;
            let edits = [(format!("{}/module.toml", new.dir), Some(sha))];
            Ok(Ok(drafts::save(c, id, revision, &edits, me2.id)?))
        })
        .await?;
    refused(&req, &state, &content, &me, code, outcome, "module").await
}

#[derive(Deserialize)]
struct RemoveForm {
    revision: i32,
    /// The activity as its module's sequences list it: `lessons/x.md`…
    activite: String,
}

/// Takes an activity out of the draft: out of its module's sequences, and its file dropped
/// once no sequence lists it. Its row and the hours recorded on it stay: the next version
/// simply has it no more.
async fn remove_activity(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<(String, String)>,
    CsrfForm(form): CsrfForm<RemoveForm>,
) -> AppResult<HttpResponse> {
    let (code, folder) = path.into_inner();
    let (content2, me2, code2) = (content.clone(), me.clone(), code.clone());
    let outcome = state
        .db(move |c| {
            let (id, _, draft) = authored(c, &me2, &code2)?;
            let module = format!("{folder}/module.toml");
            let Some(text) = text_in(&content2, &draft, &module) else {
                return Err(AppError::NotFound);
            };
            if draft.revision != form.revision {
                return Ok(Ok(Saved::Changed(draft)));
            }
            let entry = form.activite.trim();
            let file = format!("{folder}/{entry}");
            if manifest::check_path(&file).is_err() {
                return Ok(Err(vec![format!(
                    "« {entry} » n'est pas une activité du module."
                )]));
            }
            let text = match sequences::without_activity(&text, entry) {
                Ok(t) => t,
                Err(e) => return Ok(Err(vec![e])),
            };
            let sha = content2
                .blobs()
                .put(text.as_bytes())
                .map_err(|e| AppError::io("programme file", e))?;
            let mut edits = vec![(module, Some(sha))];
            if draft.manifest.contains_key(&file) && !sequences::lists(&text, entry) {
                edits.push((file, None));
            }
            Ok(Ok(drafts::save(c, id, form.revision, &edits, me2.id)?))
        })
        .await?;
    refused(&req, &state, &content, &me, code, outcome, "retrait").await
}
