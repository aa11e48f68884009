//! An organism's programmes: copies of a reference or programmes begun from nothing, their
//! authors, the draft edited file by file in the browser (modules added, activities taken
//! out), and its publish as a new version.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use serde::Deserialize;

use super::Content;
// `draft_pages` takes it from here too.
pub(super) use super::authoring::access::authored;
use super::authoring::drafts::{self, Draft, Saved};
use super::authoring::manifest;
use super::authoring::publish::{self, Refused};
use super::versions;
use crate::accounts::{CurrentUser, Role};
use crate::db::schema::users;
use crate::web::csrf::CsrfForm;
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/organismes/{id}/programmes", web::get().to(list))
        .route("/organismes/{id}/programmes", web::post().to(copy))
        .route("/organismes/{id}/auteurs", web::post().to(set_authors))
        .route("/auteur/programmes/{code}", web::get().to(editor))
        .route(
            "/auteur/programmes/{code}/fichiers/{path:.*}",
            web::get().to(file_page),
        )
        .route(
            "/auteur/programmes/{code}/fichiers/{path:.*}",
            web::post().to(save_file),
        )
        .route(
            "/auteur/programmes/{code}/publier",
            web::post().to(publish_draft),
        );
}

#[derive(Deserialize)]
struct Notice {
    avis: Option<String>,
}

/// What the page after a redirect tells (`?avis=…`), a word the templates know.
fn notice(req: &HttpRequest) -> Option<String> {
    web::Query::<Notice>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.into_inner().avis)
}

async fn list(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let org = path.into_inner();
    me.require_staff_of(org)?;
    let content2 = content.clone();
    let (organism, own, staff) = state
        .db(move |c| {
            let content = content2;
            let o = crate::organisms::store::get(c, org)?.ok_or(AppError::NotFound)?;
            let mut own = Vec::new();
            for (code, owner) in versions::visible_programs(c, Some(org), false)? {
                if owner.is_some() {
                    let (title, version) = match content.current(c, &code)? {
                        Some(ed) => (ed.program.title.clone(), Some(ed.number)),
                        None => (title_of(c, &code)?, None),
                    };
                    own.push(serde_json::json!({
                        "code": code, "title": title, "version": version,
                    }));
                }
            }
            let staff: Vec<(i64, String, String, bool)> = users::table
                .filter(users::organism_id.eq(org))
                .filter(users::role.eq(Role::Trainer.as_str()))
                .filter(users::disabled.eq(false))
                .order(users::name)
                .select((users::id, users::name, users::email, users::can_author))
                .load(c)?;
            Ok((o, own, staff))
        })
        .await?;
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("organism", &organism);
    ctx.insert("own", &own);
    ctx.insert(
        "references",
        &content.reference().map(|p| p.head()).collect::<Vec<_>>(),
    );
    ctx.insert("trainers", &staff);
    ctx.insert("can_manage", &me.require_org_admin_of(org).is_ok());
    ctx.insert("notice", &notice(&req));
    state.render("curriculum/authoring/programs.html", &ctx)
}

fn title_of(c: &mut crate::db::DbConn, code: &str) -> AppResult<String> {
    use crate::db::schema::programs;
    Ok(programs::table
        .filter(programs::code.eq(code))
        .select(programs::title)
        .first(c)?)
}

#[derive(Deserialize)]
struct CopyForm {
    source: String,
    code: String,
    title: String,
}

/// Copies a reference programme as the organism's own, published as its version 1.
async fn copy(
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<CopyForm>,
) -> AppResult<HttpResponse> {
    let org = path.into_inner();
    me.require_org_admin_of(org)?;
    let code = publish::check_code(&form.code).map_err(|e| AppError::Invalid(vec![e]))?;
    let title = form.title.trim().to_string();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(AppError::invalid(
            "title",
            "Donnez un titre (200 caractères au plus).",
        ));
    }
    let (content, me2, code2) = (content.clone(), me.clone(), code.clone());
    state
        .db(move |c| {
            let (_, source) = super::viewer::edition_for(c, &content, &me2, &form.source)?;
            publish::copy(&content, c, org, &source, (&code2, &title), me2.id)
        })
        .await?;
    Ok(w::redirect(&format!("/auteur/programmes/{code}")))
}

/// The organism's trainers named authors: exactly those ticked.
async fn set_authors(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let org = path.into_inner();
    me.require_org_admin_of(org)?;
    let chosen: Vec<i64> = pairs
        .iter()
        .filter(|(k, _)| k == "author")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    let actor = me.id;
    state
        .db(move |c| {
            crate::db::transaction(c, |c| {
                let trainers = users::table
                    .filter(users::organism_id.eq(org))
                    .filter(users::role.eq(Role::Trainer.as_str()));
                diesel::update(trainers)
                    .set(users::can_author.eq(false))
                    .execute(c)?;
                diesel::update(trainers.filter(users::id.eq_any(&chosen)))
                    .set(users::can_author.eq(true))
                    .execute(c)?;
                crate::audit::record(
                    c,
                    crate::audit::Event {
                        actor: Some(actor),
                        organism: Some(org),
                        after: Some(serde_json::json!({ "auteurs": chosen })),
                        ..crate::audit::Event::new("program.authors", "organism", Some(org))
                    },
                )?;
                Ok(())
            })
        })
        .await?;
    Ok(w::redirect(&format!(
        "/organismes/{org}/programmes?avis=auteurs"
    )))
}

/// What the editor shows of a draft: its files by module folder and the checks' result.
fn draft_view(content: &Content, program_id: i64, d: &Draft) -> serde_json::Value {
    let mut folders: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for path in d.manifest.keys() {
        let (folder, _) = path.split_once('/').unwrap_or(("", path));
        folders.entry(folder).or_default().push(path);
    }
    let checked = content.check_files(&format!("d{program_id}-r{}", d.revision), &d.manifest);
    let modules: Vec<_> = match &checked {
        Ok(p) => p
            .modules
            .iter()
            .map(|m| {
                let dir = m
                    .dir
                    .file_name()
                    .and_then(|d| d.to_str())
                    .unwrap_or_default();
                let files: Vec<&str> = d
                    .manifest
                    .keys()
                    .filter_map(|p| p.strip_prefix(dir)?.strip_prefix("/files/"))
                    .collect();
                serde_json::json!({
                    "code": m.code, "title": m.title, "dir": dir,
                    "sequences": m.sequences, "files": files,
                    "distance": m.distance_hours,
                    "required": crate::base::format::minutes(m.required_minutes().into()),
                    "warning": m.duration_warning(),
                    "activities": m.activities.len(),
                })
            })
            .collect(),
        Err(_) => vec![],
    };
    serde_json::json!({
        "revision": d.revision,
        "updated_by": d.updated_by_name,
        "updated_at": crate::base::format::datetime(d.updated_at),
        "folders": folders,
        "problems": checked.as_ref().err(),
        "modules": modules,
        "outline": outline(content, d, checked.as_deref().ok()),
    })
}

/// The text of a file of the draft, if it has it and it reads.
pub(super) fn text_in(content: &Content, d: &Draft, path: &str) -> Option<String> {
    let sha = d.manifest.get(path)?;
    let bytes = content.blobs().read(sha).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The draft's modules as their `module.toml` files list them, whether or not the draft
/// passes the checks: the forms that add to a module and the activities one may take out.
/// Titles come from the checked programme when there is one.
fn outline(
    content: &Content,
    d: &Draft,
    checked: Option<&super::rules::Program>,
) -> Vec<serde_json::Value> {
    let mut out: Vec<(u32, String, serde_json::Value)> = Vec::new();
    for path in d.manifest.keys() {
        let Some(dir) = path
            .strip_suffix("/module.toml")
            .filter(|d| !d.contains('/'))
        else {
            continue;
        };
        let text = text_in(content, d, path).unwrap_or_default();
        let doc: toml::Table = toml::from_str(&text).unwrap_or_default();
        let code = doc.get("code").and_then(|v| v.as_str()).unwrap_or(dir);
        let title = doc
            .get("title")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let order = doc
            .get("order")
            .and_then(|v| v.as_integer())
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(u32::MAX);
        let module = checked.and_then(|p| {
            p.modules
                .iter()
                .find(|m| m.dir.file_name().and_then(|f| f.to_str()) == Some(dir))
        });
        let sequences: Vec<_> = super::authoring::sequences::sequences(&text)
            .into_iter()
            .map(|(title, entries)| {
                let activities: Vec<_> = entries
                    .iter()
                    .map(|e| {
                        let slug = e
                            .rsplit('/')
                            .next()
                            .and_then(|n| n.rsplit_once('.'))
                            .map_or(e.as_str(), |(s, _)| s);
                        let title = module
                            .and_then(|m| m.activities.iter().find(|a| a.slug == slug))
                            .map(|a| a.title.clone());
                        serde_json::json!({ "entry": e, "title": title })
                    })
                    .collect();
                serde_json::json!({ "title": title, "activities": activities })
            })
            .collect();
        let files: Vec<&str> = d
            .manifest
            .keys()
            .filter_map(|p| p.strip_prefix(dir)?.strip_prefix("/files/"))
            .collect();
        out.push((
            order,
            dir.to_string(),
            serde_json::json!({
                "dir": dir, "code": code, "title": title,
                "sequences": sequences, "files": files,
            }),
        ));
    }
    out.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    out.into_iter().map(|(_, _, v)| v).collect()
}

pub(super) async fn render_editor(
    req: &HttpRequest,
    state: &State,
    content: &web::Data<Content>,
    me: &CurrentUser,
    code: String,
    status: StatusCode,
    refusal: Option<Vec<String>>,
) -> AppResult<HttpResponse> {
    let refusal = refusal.map(|r| ("Publication refusée", r));
    render_editor_titled(req, state, content, me, (code, status), refusal).await
}

/// The editor, with the refusal under its own heading.
pub(super) async fn render_editor_titled(
    req: &HttpRequest,
    state: &State,
    content: &web::Data<Content>,
    me: &CurrentUser,
    (code, status): (String, StatusCode),
    refusal: Option<(&str, Vec<String>)>,
) -> AppResult<HttpResponse> {
    let (content2, me2, code2) = (content.clone(), me.clone(), code.clone());
    let (view, current) = state
        .db(move |c| {
            let (id, _, draft) = authored(c, &me2, &code2)?;
            let current = content2.current(c, &code2)?.map(|e| e.number);
            Ok((draft_view(&content2, id, &draft), current))
        })
        .await?;
    let mut ctx = w::context(req);
    ctx.insert("me", &me.view());
    ctx.insert("code", &code);
    ctx.insert("draft", &view);
    ctx.insert("current", &current);
    ctx.insert("refusal_title", &refusal.as_ref().map(|r| r.0));
    ctx.insert("refusal", &refusal.map(|r| r.1));
    ctx.insert("notice", &notice(req));
    state.render_status(status, "curriculum/authoring/editor.html", &ctx)
}

async fn editor(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    render_editor(
        &req,
        &state,
        &content,
        &me,
        path.into_inner(),
        StatusCode::OK,
        None,
    )
    .await
}

/// Files authors write in the browser; the others (videos, images) are uploaded.
fn is_text(path: &str) -> bool {
    path.ends_with(".md")
        || path.ends_with(".toml")
        || path.ends_with(".csv")
        || path.ends_with(".txt")
}

async fn file_page(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (code, file) = path.into_inner();
    let (content2, me2, code2, file2) = (content.clone(), me.clone(), code.clone(), file.clone());
    let (revision, text) = state
        .db(move |c| {
            let (_, _, draft) = authored(c, &me2, &code2)?;
            let sha = draft.manifest.get(&file2).ok_or(AppError::NotFound)?;
            if !is_text(&file2) {
                return Err(AppError::NotFound);
            }
            let bytes = content2
                .blobs()
                .read(sha)
                .map_err(|e| AppError::io("programme file", e))?;
            Ok((draft.revision, String::from_utf8_lossy(&bytes).into_owned()))
        })
        .await?;
    render_file(
        &req,
        &state,
        &me,
        (&code, &file, revision, &text),
        None,
        StatusCode::OK,
    )
}

fn render_file(
    req: &HttpRequest,
    state: &State,
    me: &CurrentUser,
    (code, file, revision, text): (&str, &str, i32, &str),
    conflict: Option<&Draft>,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let mut ctx = w::context(req);
    ctx.insert("me", &me.view());
    ctx.insert("code", code);
    ctx.insert("file", file);
    ctx.insert("revision", &revision);
    ctx.insert("text", text);
    ctx.insert("markdown", &file.ends_with(".md"));
    ctx.insert(
        "conflict",
        &conflict.map(|d| {
            serde_json::json!({
                "by": d.updated_by_name,
                "at": crate::base::format::datetime(d.updated_at),
            })
        }),
    );
    state.render_status(status, "curriculum/authoring/file.html", &ctx)
}

#[derive(Deserialize)]
struct FileForm {
    revision: i32,
    texte: String,
}

/// Saves one file of the draft at the revision the author opened; if another author saved
/// in between, nothing is saved and the author gets her text back with who changed what.
async fn save_file(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<(String, String)>,
    CsrfForm(form): CsrfForm<FileForm>,
) -> AppResult<HttpResponse> {
    let (code, chemin) = path.into_inner();
    if !is_text(&chemin) || manifest::check_path(&chemin).is_err() {
        return Err(AppError::invalid(
            "chemin",
            "Ce fichier ne se modifie pas ici.",
        ));
    }
    if form.texte.len() > 512 * 1024 {
        return Err(AppError::invalid(
            "texte",
            "Texte trop long (512 Ko au plus).",
        ));
    }
    // Browsers send CRLF from a textarea; the files keep the line ends of content/.
    let text = form.texte.replace("\r\n", "\n");
    let (content2, me2, code2, file) = (content.clone(), me.clone(), code.clone(), chemin.clone());
    let revision = form.revision;
    let body = text.clone();
    let saved = state
        .db(move |c| {
            let (id, _, draft) = authored(c, &me2, &code2)?;
            if !draft.manifest.contains_key(&file) {
                return Err(AppError::NotFound);
            }
            let sha = content2
                .blobs()
                .put(body.as_bytes())
                .map_err(|e| AppError::io("programme file", e))?;
            Ok(drafts::save(c, id, revision, &[(file, Some(sha))], me2.id)?)
        })
        .await?;
    match saved {
        Saved::Saved(_) => Ok(w::redirect(&format!(
            "/auteur/programmes/{code}?avis=enregistre"
        ))),
        Saved::Changed(now) => render_file(
            &req,
            &state,
            &me,
            (&code, &chemin, now.revision, &text),
            Some(&now),
            StatusCode::CONFLICT,
        ),
    }
}

#[derive(Deserialize)]
struct PublishForm {
    revision: i32,
    #[serde(default)]
    note: String,
}

async fn publish_draft(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<PublishForm>,
) -> AppResult<HttpResponse> {
    let code = path.into_inner();
    let (content2, me2, code2) = (content.clone(), me.clone(), code.clone());
    let outcome = state
        .db(move |c| {
            let (id, _, _) = authored(c, &me2, &code2)?;
            let note: String = form.note.chars().take(500).collect();
            publish::publish(&content2, c, id, form.revision, me2.id, note)
        })
        .await?;
    let refusal = match outcome {
        Ok(v) => {
            return Ok(w::redirect(&format!(
                "/auteur/programmes/{code}?avis=publie-{}",
                v.number
            )));
        }
        Err(Refused::Problems(p)) => p,
        Err(Refused::Changed(d)) => vec![format!(
            "Le brouillon a changé depuis que vous l'avez ouvert ({} le {}) : relisez-le avant de publier.",
            d.updated_by_name.unwrap_or_default(),
            crate::base::format::datetime(d.updated_at)
        )],
        Err(Refused::Unchanged(n)) => vec![format!(
            "Rien n'a changé depuis la version {n} : il n'y a rien à publier."
        )],
    };
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    render_editor(&req, &state, &content, &me, code, status, Some(refusal)).await
}
