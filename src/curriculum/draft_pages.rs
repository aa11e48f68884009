//! What authors add to a draft besides editing its files: an activity in a sequence (new or
//! not), a file for a module (a video, an image, a PDF, a case file), and the draft seen as
//! a trainee will see it once published.

use std::sync::Arc;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde::Deserialize;

use super::authoring::additions::ActivityForm;
use super::authoring::drafts::{self, Saved};
use super::authoring_pages::{authored, render_editor};
use super::pages::{Record, render_activity, render_module, render_program};
use super::viewer::Viewer;
use super::{Content, Edition};
use crate::accounts::CurrentUser;
use crate::base::media;
use crate::web::csrf::{self, CsrfForm};
use crate::web::{self as w, AppError, AppResult, State};

/// A file of a programme: videos are large, but bounded.
const MAX_FILE: u64 = 512 << 20;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/auteur/programmes/{code}/activites",
        web::post().to(add_activity),
    )
    .route(
        "/auteur/programmes/{code}/modules/{folder}/fichiers",
        web::post().to(upload),
    )
    .route("/auteur/apercu/{code}", web::get().to(preview))
    .route("/auteur/apercu/{code}/{module}", web::get().to(preview))
    .route(
        "/auteur/apercu/{code}/{module}/activites/{slug}",
        web::get().to(preview),
    )
    .route(
        "/auteur/apercu/{code}/{module}/devoirs/{slug}",
        web::get().to(preview),
    )
    .route(
        "/auteur/apercu/{code}/{module}/fichiers/{name}",
        web::get().to(preview),
    );
}

#[derive(Deserialize)]
struct AddForm {
    revision: i32,
    #[serde(flatten)]
    activity: ActivityForm,
}

/// The question ids of a module's bank, in their order.
fn bank_ids(text: &str) -> Vec<String> {
    toml::from_str::<toml::Table>(text)
        .ok()
        .and_then(|t| t.get("questions")?.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|q| q.get("id")?.as_str().map(str::to_string))
        .collect()
}

async fn add_activity(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<AddForm>,
) -> AppResult<HttpResponse> {
    let code = path.into_inner();
    let refuse = |messages: Vec<String>| {
        let (req, state, content, me, code) = (&req, &state, &content, &me, code.clone());
        async move {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render_editor(req, state, content, me, code, status, Some(messages)).await
        }
    };
    let new = match form.activity.check() {
        Ok(n) => n,
        Err(errors) => return refuse(errors.into_iter().map(|e| e.message).collect()).await,
    };
    let (content2, me2, code2, revision) =
        (content.clone(), me.clone(), code.clone(), form.revision);
    let outcome = state
        .db(move |c| {
            let (id, _, draft) = authored(c, &me2, &code2)?;
            let dir = &new.module;
            let read = |path: &str| -> AppResult<Option<String>> {
                let Some(sha) = draft.manifest.get(path) else {
                    return Ok(None);
                };
                let bytes = content2
                    .blobs()
                    .read(sha)
                    .map_err(|e| AppError::io("programme file", e))?;
                Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
            };
            let Some(module_toml) = read(&format!("{dir}/module.toml"))? else {
                return Ok(Err(vec![
                    "Ce module n'existe pas dans le brouillon.".to_string(),
                ]));
            };
            let taken = ["lessons", "quizzes", "assignments", "resources"]
                .iter()
                .any(|f| {
                    draft
                        .manifest
                        .keys()
                        .any(|p| p.starts_with(&format!("{dir}/{f}/{}.", new.slug)))
                });
            if taken {
                return Ok(Err(vec![format!(
                    "L'identifiant « {} » est déjà pris dans ce module.",
                    new.slug
                )]));
            }
            if !new.file.is_empty() && !draft.manifest.contains_key(&format!("{dir}/{}", new.file))
            {
                return Ok(Err(vec![format!(
                    "Le fichier {} n'est pas dans ce module.",
                    new.file
                )]));
            }
            let bank = bank_ids(&read(&format!("{dir}/questions.toml"))?.unwrap_or_default());
            let module_toml = match new.module_toml(&module_toml) {
                Ok(t) => t,
                Err(e) => return Ok(Err(vec![e])),
            };
            let put = |text: &str| {
                content2
                    .blobs()
                    .put(text.as_bytes())
                    .map_err(|e| AppError::io("programme file", e))
            };
            let edits = vec![
                (
                    format!("{dir}/{}", new.file_name()),
                    Some(put(&new.text(&bank))?),
                ),
                (format!("{dir}/module.toml"), Some(put(&module_toml)?)),
            ];
            Ok(Ok(drafts::save(c, id, revision, &edits, me2.id)?))
        })
        .await?;
    match outcome {
        Ok(Saved::Saved(_)) => Ok(w::redirect(&format!(
            "/auteur/programmes/{code}?avis=activite"
        ))),
        Ok(Saved::Changed(d)) => {
            let who = d.updated_by_name.unwrap_or_default();
            let status = StatusCode::CONFLICT;
            let msg = format!(
                "Le brouillon a changé entre-temps ({who}) : rien n'a été ajouté, recommencez."
            );
            render_editor(&req, &state, &content, &me, code, status, Some(vec![msg])).await
        }
        Err(messages) => refuse(messages).await,
    }
}

/// A file's name in a module's `files/`: its stem in plain lowercase, its extension from the
/// type its content showed (never from the name it was sent with).
fn file_name(sent: &str, ext: &str) -> String {
    let stem = std::path::Path::new(sent)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("fichier");
    let mut clean = crate::base::format::slug(stem, 60);
    if clean.is_empty() {
        clean = "fichier".into();
    }
    format!("{clean}.{ext}")
}

/// The extension of what a file's first bytes show, or why it is refused. Case files may be
/// text (Markdown, CSV) in UTF-8.
fn accepted(head: &[u8], sent: &str) -> Result<&'static str, String> {
    if let Some(m) = media::sniff(head) {
        return Ok(m.ext());
    }
    let text = std::str::from_utf8(head).is_ok() && !head.contains(&0);
    match sent.rsplit('.').next().map(str::to_lowercase).as_deref() {
        Some("md") if text => Ok("md"),
        Some("csv") if text => Ok("csv"),
        Some("txt") if text => Ok("txt"),
        _ => Err(format!(
            "« {sent} » n'est ni une image (PNG, JPEG), ni un PDF, ni un son (MP3, OGG, M4A), ni une vidéo \
             (MP4, WebM), ni un texte (Markdown, CSV), ni un paquet SCORM ou cmi5 (ZIP) : son contenu a été vérifié, pas seulement son nom."
        )),
    }
}

/// The one file of an upload, spooled to a private file, with its first bytes (its type).
struct Staged {
    temp: std::path::PathBuf,
    sent: String,
    done: crate::storage::spool::Spooled,
    head: Vec<u8>,
}

/// Reads an upload's form: its small text fields, and its one file streamed to disk under
/// `tmp`, bounded by `MAX_FILE`. On any refusal no file is left behind.
async fn receive(
    payload: &mut Multipart,
    tmp: &std::path::Path,
) -> AppResult<(Vec<(String, String)>, Staged)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut staged: Option<Staged> = None;
    let refuse = |staged: &Option<Staged>, e: AppError| {
        if let Some(s) = staged {
            let _ = std::fs::remove_file(&s.temp);
        }
        e
    };
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|e| {
            refuse(
                &staged,
                AppError::invalid("file", format!("Envoi illisible : {e}")),
            )
        })?;
        let name = field.name().unwrap_or_default().to_string();
        let sent = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_string);
        let Some(sent) = sent else {
            let mut value = Vec::new();
            while let Some(chunk) = field.next().await {
                let chunk =
                    chunk.map_err(|e| refuse(&staged, AppError::invalid(&name, e.to_string())))?;
                if value.len() + chunk.len() > 4096 {
                    return Err(refuse(
                        &staged,
                        AppError::invalid(&name, "Champ trop long."),
                    ));
                }
                value.extend_from_slice(&chunk);
            }
            fields.push((name, String::from_utf8_lossy(&value).into_owned()));
            continue;
        };
        if staged.is_some() {
            return Err(refuse(
                &staged,
                AppError::invalid("file", "Un seul fichier à la fois."),
            ));
        }
        let temp = tmp.join(format!("up-{}", w::random_token(12)?));
        let mut spool = crate::storage::spool::Spool::create(temp.clone());
        let (mut head, mut size) = (Vec::new(), 0u64);
        while let Some(chunk) = field.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    spool.abort().await;
                    return Err(AppError::invalid("file", format!("Envoi interrompu : {e}")));
                }
            };
            size += chunk.len() as u64;
            if size > MAX_FILE {
                spool.abort().await;
                return Err(AppError::invalid(
                    "file",
                    format!("« {sent} » dépasse {} Mo.", MAX_FILE >> 20),
                ));
            }
            if head.len() < 4096 {
                head.extend_from_slice(&chunk[..chunk.len().min(4096 - head.len())]);
            }
            if spool.write(chunk).await.is_err() {
                break;
            }
        }
        let done = spool
            .finish()
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        staged = Some(Staged {
            temp,
            sent,
            done,
            head,
        });
    }
    match staged {
        Some(s) => Ok((fields, s)),
        None => Err(AppError::invalid("file", "Choisissez un fichier.")),
    }
}

/// Receives one file for a module of the draft: streamed to disk, checked by its content,
/// counted against the organism's space, then kept as a blob and named in the draft.
async fn upload(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<(String, String)>,
    mut payload: Multipart,
) -> AppResult<HttpResponse> {
    let (code, module) = path.into_inner();
    // Who may send is known before a byte of the file is read.
    let (me2, code2) = (me.clone(), code.clone());
    state
        .db(move |c| authored(c, &me2, &code2).map(|_| ()))
        .await?;
    crate::vae::documents::check_length(&req, MAX_FILE, 1)?;
    let tmp = state.config.data_dir.join("programmes").join("tmp");
    let (
        fields,
        Staged {
            temp,
            sent,
            done,
            head,
        },
    ) = receive(&mut payload, &tmp).await?;
    let forget = |t: &std::path::Path| {
        let _ = std::fs::remove_file(t);
    };
    let get = |k: &str| fields.iter().find(|(f, _)| f == k).map(|(_, v)| v.as_str());
    if let Err(e) = csrf::verify(&req, get(csrf::FIELD)) {
        forget(&temp);
        return Err(e);
    }
    let revision: i32 = get("revision").and_then(|r| r.parse().ok()).unwrap_or(0);
    let ext = match accepted(&head, &sent) {
        Ok(e) => e,
        Err(why) => {
            forget(&temp);
            return Err(AppError::invalid("file", why));
        }
    };
    if ext == "zip" {
        let temp2 = temp.clone();
        let checked = web::block(move || super::package_view::check_zip(&temp2))
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
        if let Err(why) = checked {
            forget(&temp);
            return Err(AppError::invalid("file", format!("« {sent} » : {why}")));
        }
    }
    let name = file_name(&sent, ext);
    let quota = state.config.storage.organism_quota;
    let (content2, me2, code2, temp2) = (content.clone(), me.clone(), code.clone(), temp.clone());
    let saved = state
        .db(move |c| {
            let (id, org, draft) = authored(c, &me2, &code2)?;
            if !draft.manifest.contains_key(&format!("{module}/module.toml")) {
                return Err(AppError::NotFound);
            }
            let used = super::authoring::drafts::organism_bytes(c, content2.blobs(), org)?;
            if used + done.size > quota {
                return Err(AppError::invalid(
                    "file",
                    format!(
                        "L'espace des programmes de l'organisme est plein ({} Mo utilisés sur {} Mo) : rien n'a été gardé.",
                        used >> 20,
                        quota >> 20
                    ),
                ));
            }
            let sha = content2.blobs().put_file(&temp2).map_err(|e| AppError::io("programme file", e))?.sha256;
            let edits = [(format!("{module}/files/{name}"), Some(sha))];
            Ok(drafts::save(c, id, revision, &edits, me2.id)?)
        })
        .await;
    forget(&temp);
    match saved? {
        Saved::Saved(_) => Ok(w::redirect(&format!(
            "/auteur/programmes/{code}?avis=fichier"
        ))),
        Saved::Changed(_) => Err(AppError::Conflict(
            "Le brouillon a changé entre-temps : rien n'a été gardé, envoyez le fichier à nouveau."
                .into(),
        )),
    }
}

/// The draft as a trainee will see it, at its current revision; a draft that does not pass
/// the checks has no preview (the editor lists why).
async fn draft_edition(
    state: &State,
    content: &web::Data<Content>,
    me: &CurrentUser,
    code: &str,
) -> AppResult<Arc<Edition>> {
    let (content, me, code) = (content.clone(), me.clone(), code.to_string());
    state
        .db(move |c| {
            let (id, _, draft) = authored(c, &me, &code)?;
            content
                .draft(c, id, draft.revision, &draft.manifest)
                .map_err(|_| {
                    AppError::Conflict(
                        "Le brouillon ne passe pas les vérifications : corrigez-le dans l'éditeur pour le prévisualiser."
                            .into(),
                    )
                })
        })
        .await
}

/// A page of the draft as a trainee will see it once published: the same renderers as the
/// published pages, on the draft's edition, whose links stay inside the preview. Which page is
/// told by the route that matched.
async fn preview(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
) -> AppResult<HttpResponse> {
    let info = req.match_info();
    let ed = draft_edition(&state, &content, &me, info.query("code")).await?;
    let (none, pattern) = (Record::default(), req.match_pattern().unwrap_or_default());
    let me = &me;
    let mut res = match (info.get("module"), info.get("slug"), info.get("name")) {
        (None, ..) => render_program(&req, &state, me, Viewer::Preview, &ed, &none)?,
        (Some(m), None, None) => render_module(&req, &state, me, (Viewer::Preview, &ed, &none), m)?,
        (Some(m), None, Some(name)) => {
            let module = ed.module(m).ok_or(AppError::NotFound)?;
            let rel = format!("files/{name}");
            let known = module.files.get(&rel).ok_or(AppError::NotFound)?;
            return super::file_pages::serve(&req, module.dir.join(&rel), name, *known).await;
        }
        (Some(m), Some(slug), _) if pattern.contains("/devoirs/") => {
            let t = super::assignments::Target::find(&ed, m, slug)?;
            let page = (t, Viewer::Preview);
            super::assignment_pages::render_page(
                &req,
                &state,
                me,
                page,
                &[],
                Default::default(),
                StatusCode::OK,
            )?
        }
        (Some(m), Some(slug), _) => {
            render_activity(&req, &state, me, (Viewer::Preview, &ed, false), (m, slug)).await?
        }
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::file_name;

    #[test]
    fn file_names_are_plain_lowercase_words() {
        assert_eq!(
            file_name("Éducation thérapeutique – œdème (v2).MOV", "mp4"),
            "education-therapeutique-oedeme-v2.mp4"
        );
        assert_eq!(
            file_name("C:\\Dossier patient.pdf", "pdf"),
            "c-dossier-patient.pdf"
        );
        assert_eq!(file_name("¿?.png", "png"), "fichier.png");
    }
}
