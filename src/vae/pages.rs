//! VAE pages: the public request of an organism, the candidate's space, the staff's files,
//! document downloads. Thin: read, authorise by scope, call `workflow`, render.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde::Serialize;

use super::documents::{self, Upload};
use super::pending;
use super::rules::{self, Action, DocKind, Experience, Outcome, Status};
use super::store::{self, Scope};
use super::workflow::{self, Requester, Settings, Step};
use crate::accounts::CurrentUser;
use crate::mail::MailContext;
use crate::storage::quota;
use crate::web::csrf::{self, CsrfForm};
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/organismes/{org}/vae/demande", web::get().to(request_form))
        .route(
            "/organismes/{org}/vae/demande",
            web::post().to(submit_request),
        )
        .route("/organismes/{org}/vae", web::get().to(staff_list))
        .route("/ma-vae", web::get().to(my_files))
        .route("/ma-vae/{id}", web::get().to(my_file))
        .route("/ma-vae/{id}/documents", web::post().to(upload))
        .route("/vae/dossiers/{id}", web::get().to(staff_file))
        .route("/vae/dossiers/{id}/etape", web::post().to(step))
        .route("/vae/documents/{id}", web::get().to(download))
        .route("/vae/confirmation/{token}", web::get().to(confirm_form))
        .route("/vae/confirmation/{token}", web::post().to(confirm));
}

pub fn settings(state: &State) -> Settings {
    Settings {
        min_hours: state.config.vae.min_hours,
        livret2_months: state.config.vae.livret2_months,
    }
}

pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

pub fn all<'a>(fields: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    fields
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// Hours as typed in French ("1607", "12,5").
fn parse_hours(raw: &str) -> Option<i32> {
    let h: f64 = raw.trim().replace(',', ".").parse().ok()?;
    (0.0..1_000_000.0)
        .contains(&h)
        .then(|| (h * 60.0).round() as i32)
}

/// The experience periods of the form (`exp1_from`, `exp1_to`…); empty rows are skipped.
fn experiences(up: &Upload) -> AppResult<Vec<Experience>> {
    let mut out = vec![];
    for i in 1..=5 {
        let g = |k: &str| up.get(&format!("exp{i}_{k}")).unwrap_or_default().trim();
        if ["from", "to", "employer", "role", "hours"]
            .iter()
            .all(|k| g(k).is_empty())
        {
            continue;
        }
        let date = |k: &str| {
            NaiveDate::parse_from_str(g(k), "%Y-%m-%d").map_err(|_| {
                AppError::invalid(
                    "experience",
                    format!("Période {i} : indiquez des dates valides."),
                )
            })
        };
        out.push(Experience {
            from: date("from")?,
            to: date("to")?,
            employer: g("employer").to_string(),
            role: g("role").to_string(),
            minutes: parse_hours(g("hours")).ok_or_else(|| {
                AppError::invalid("experience", format!("Période {i} : heures invalides."))
            })?,
            missions: up
                .all(&format!("exp{i}_missions"))
                .into_iter()
                .map(str::to_string)
                .collect(),
        });
    }
    Ok(out)
}

async fn organism(state: &State, org: i64) -> AppResult<(String, Vec<(i64, String, String, i32)>)> {
    state
        .db(move |c| {
            let o = crate::organisms::store::get(c, org)?.ok_or(AppError::NotFound)?;
            let (pid, _) =
                store::program_by_code(c, workflow::PROGRAM_CODE)?.ok_or(AppError::NotFound)?;
            Ok((o.name, crate::cohorts::store::program_modules(c, pid)?))
        })
        .await
}

fn module_views(modules: &[(i64, String, String, i32)]) -> Vec<serde_json::Value> {
    modules
        .iter()
        .map(|(_, code, title, minutes)| {
            serde_json::json!({"code": code, "title": title, "minutes": minutes})
        })
        .collect()
}

fn doc_kinds(livret2: bool) -> Vec<serde_json::Value> {
    DocKind::ALL
        .into_iter()
        .filter(|k| (*k == DocKind::Livret2) == livret2)
        .map(|k| serde_json::json!({"kind": k.as_str(), "label": k.label()}))
        .collect()
}

/// The fields of the request form that are typed back when it is shown again.
const TEXT_FIELDS: [&str; 5] = ["name", "email", "phone", "address", "employer"];
const PERIOD_FIELDS: [&str; 5] = ["from", "to", "employer", "role", "hours"];
const PERIODS: [u8; 3] = [1, 2, 3];

async fn request_form(
    req: HttpRequest,
    state: State,
    me: Option<CurrentUser>,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let org = path.into_inner();
    render_request_form(&req, &state, me.as_ref(), org, Refusal::default(), None).await
}

/// Why a sent request form is shown again: the status and the messages to read.
struct Refusal {
    status: actix_web::http::StatusCode,
    messages: Vec<String>,
}

impl Default for Refusal {
    fn default() -> Self {
        Refusal {
            status: actix_web::http::StatusCode::OK,
            messages: vec![],
        }
    }
}

/// The request form, empty or as the candidate sent it with what is wrong (files cannot be
/// given back: the page asks for them again).
async fn render_request_form(
    req: &HttpRequest,
    state: &State,
    me: Option<&CurrentUser>,
    org: i64,
    refusal: Refusal,
    sent: Option<&Upload>,
) -> AppResult<HttpResponse> {
    let (org_name, modules) = organism(state, org).await?;
    let values: std::collections::HashMap<String, String> = TEXT_FIELDS
        .iter()
        .map(|k| k.to_string())
        .chain(
            PERIODS
                .iter()
                .flat_map(|i| PERIOD_FIELDS.iter().map(move |k| format!("exp{i}_{k}"))),
        )
        .map(|k| {
            let v = sent.and_then(|u| u.get(&k)).unwrap_or_default().to_string();
            (k, v)
        })
        .collect();
    // Checked boxes as `name=value`; on a first visit every module is asked for.
    let checked: Vec<String> = match sent {
        Some(u) => u
            .fields
            .iter()
            .filter(|(k, _)| k == "modules" || k == "consent" || k.ends_with("_missions"))
            .map(|(k, v)| format!("{k}={v}"))
            .collect(),
        None => modules.iter().map(|m| format!("modules={}", m.1)).collect(),
    };
    let mut ctx = w::context(req);
    ctx.insert("me", &me.map(|m| m.view()));
    ctx.insert(
        "organism",
        &serde_json::json!({"id": org, "name": org_name}),
    );
    ctx.insert("modules", &module_views(&modules));
    ctx.insert("missions", &rules::MISSIONS);
    ctx.insert("doc_kinds", &doc_kinds(false));
    ctx.insert("rows", &PERIODS);
    ctx.insert("values", &values);
    ctx.insert("checked", &checked);
    ctx.insert("errors", &refusal.messages);
    ctx.insert("max_mb", &(state.config.vae.max_upload_bytes / 1_048_576));
    ctx.insert("min_hours", &state.config.vae.min_hours);
    state.render_status(refusal.status, "vae/request_form.html", &ctx)
}

/// Reads a multipart form with the VAE limit (per file; `files` of them at most) and checks
/// its CSRF token.
async fn read_form(
    req: &HttpRequest,
    state: &State,
    payload: Multipart,
    files: u64,
) -> AppResult<Upload> {
    let limit = state.config.vae.max_upload_bytes;
    documents::check_length(req, limit, files)?;
    let up = documents::read(payload, &state.config.vae.dir, limit, files as usize).await?;
    csrf::verify(req, up.get(csrf::FIELD))?;
    Ok(up)
}

/// What the form itself must hold before anything is created: consent, readable periods.
fn check_request(up: &Upload) -> AppResult<Vec<Experience>> {
    if up.get("consent") != Some("1") {
        return Err(AppError::invalid(
            "consent",
            "Votre accord pour le traitement de vos données est nécessaire.",
        ));
    }
    experiences(up)
}

/// A refusal the candidate can mend in the form; any other error stays one.
fn refusal_of(e: AppError) -> AppResult<Refusal> {
    use actix_web::http::StatusCode;
    match e {
        AppError::Invalid(fields) => Ok(Refusal {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            messages: fields.into_iter().map(|f| f.message).collect(),
        }),
        AppError::Conflict(m) => Ok(Refusal {
            status: StatusCode::CONFLICT,
            messages: vec![m],
        }),
        other => Err(other),
    }
}

async fn submit_request(
    req: HttpRequest,
    state: State,
    me: Option<CurrentUser>,
    path: web::Path<i64>,
    payload: Multipart,
) -> AppResult<HttpResponse> {
    let org = path.into_inner();
    let ip = w::client_ip(&req);
    if let Err(wait) = state.check_ip(ip) {
        return Err(AppError::TooManyRequests {
            message: format!("Trop de demandes depuis votre adresse : réessayez dans {wait} s."),
            retry_after: wait,
        });
    }
    let (org_name, _) = organism(&state, org).await?;
    if me.is_none() {
        // Refused before a byte is read once the hour's anonymous cap is reached.
        let cap = state.config.storage.anonymous_per_hour;
        let now = crate::db::now();
        let sent = state
            .db(move |c| {
                Ok(crate::storage::store::anonymous_bytes(
                    c,
                    quota::hour_of(now),
                )?)
            })
            .await?;
        if sent >= cap {
            return Err(pending::cap_reached(now));
        }
    }
    let mut up = read_form(&req, &state, payload, 4).await?;
    let experiences = match check_request(&up) {
        Ok(e) => e,
        Err(e) => {
            let refusal = refusal_of(e)?;
            let page = render_request_form(&req, &state, me.as_ref(), org, refusal, Some(&up));
            let page = page.await;
            up.discard().await;
            return page;
        }
    };
    let files = std::mem::take(&mut up.files);
    let mut staged = vec![];
    for (name, file) in files {
        let kind = name
            .strip_prefix("doc_")
            .and_then(DocKind::parse)
            .filter(|k| *k != DocKind::Livret2)
            .ok_or_else(|| AppError::invalid("file", "Pièce inconnue."))?;
        staged.push((kind, file));
    }
    let st = state.clone();
    let me2 = me.clone();
    let settings = settings(&state);
    let quotas = state.config.storage;
    let dir = state.config.vae.dir.clone();
    let fields = up.fields.clone();
    let result = state
        .db(move |c| {
            let mc = MailContext {
                templates: &st.mail_templates,
                base_url: &st.config.base_url,
            };
            let input = |requester| workflow::RequestInput {
                organism: (org, &org_name),
                requester,
                phone: up.get("phone").unwrap_or_default(),
                address: up.get("address").unwrap_or_default(),
                employer: up.get("employer").unwrap_or_default(),
                requested: up.all("modules").into_iter().map(str::to_string).collect(),
                experiences,
                ip: ip.to_string(),
            };
            let Some(me) = &me2 else {
                let requester = Requester::New {
                    email: up.get("email").unwrap_or_default(),
                    name: up.get("name").unwrap_or_default(),
                };
                let held =
                    pending::hold(c, &mc, &settings, &quotas, &dir, input(requester), staged)?;
                return Ok(Answer::Held(held));
            };
            let bytes = staged.iter().map(|(_, f)| f.size).sum();
            workflow::check_quotas(c, &quotas, me.id, org, bytes)?;
            let created = workflow::create(c, &mc, &settings, input(Requester::Account(me.id)))?;
            for (kind, file) in staged {
                workflow::add_document(c, &dir, &quotas, me.id, created.id, kind, file)?;
            }
            Ok(Answer::Created(created))
        })
        .await;
    let answer = match result {
        Ok(done) => done,
        Err(e) => {
            let refusal = refusal_of(e)?;
            let sent = Upload {
                fields,
                files: vec![],
            };
            return render_request_form(&req, &state, me.as_ref(), org, refusal, Some(&sent)).await;
        }
    };
    let mut ctx = w::context(&req);
    ctx.insert("me", &None::<()>);
    match answer {
        Answer::Created(created) => Ok(w::redirect(&format!("/ma-vae/{}", created.id))),
        Answer::Held(held) => {
            ctx.insert("held", &held);
            state.render("vae/request_pending.html", &ctx)
        }
    }
}

/// A signed-in person's request is a file at once; an anonymous one waits for its address.
enum Answer {
    Created(workflow::Created),
    Held(pending::Held),
}

fn dead_confirmation(req: &HttpRequest, state: &State) -> AppResult<HttpResponse> {
    let mut ctx = w::context(req);
    ctx.insert("title", "Lien invalide ou expiré");
    ctx.insert(
        "message",
        &format!(
            "Ce lien de confirmation n'est pas valide, a déjà servi, ou a plus de {} heures : \
             la demande non confirmée a été effacée. Déposez une nouvelle demande si besoin.",
            rules::CONFIRM_HOURS
        ),
    );
    state.render_status(
        actix_web::http::StatusCode::NOT_FOUND,
        "accounts/link_invalid.html",
        &ctx,
    )
}

/// The confirmation link of a mail: a page with a button, so that a mail scanner following
/// links does not confirm for the person.
async fn confirm_form(
    req: HttpRequest,
    state: State,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let token = path.into_inner();
    let t = token.clone();
    let found = state
        .db(move |c| match pending::find(c, &t)? {
            Some(org) => Ok(crate::organisms::store::get(c, org)?.map(|o| o.name)),
            None => Ok(None),
        })
        .await?;
    let Some(organism) = found else {
        return dead_confirmation(&req, &state);
    };
    let mut ctx = w::context(&req);
    ctx.insert("me", &None::<()>);
    ctx.insert("organism", &organism);
    ctx.insert("token", &token);
    state.render("vae/confirm.html", &ctx)
}

async fn confirm(
    req: HttpRequest,
    state: State,
    path: web::Path<String>,
    _form: CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let token = path.into_inner();
    let ip = w::client_ip(&req).to_string();
    let st = state.clone();
    let settings = settings(&state);
    let quotas = state.config.storage;
    let created = state
        .db(move |c| {
            let mc = MailContext {
                templates: &st.mail_templates,
                base_url: &st.config.base_url,
            };
            pending::confirm(c, &mc, &settings, &quotas, &token, &ip)
        })
        .await;
    let created = match created {
        Err(AppError::NotFound) => return dead_confirmation(&req, &state),
        other => other?,
    };
    let mut ctx = w::context(&req);
    ctx.insert("me", &None::<()>);
    ctx.insert("created", &created);
    state.render("vae/request_done.html", &ctx)
}

#[derive(Serialize)]
struct FileView {
    id: i64,
    state: String,
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
    file: FileView,
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

async fn my_files(req: HttpRequest, state: State, me: CurrentUser) -> AppResult<HttpResponse> {
    let id = me.id;
    let files = state.db(move |c| Ok(store::of_candidate(c, id)?)).await?;
    let views: Vec<_> = files
        .iter()
        .map(|r| serde_json::json!({"id": r.id, "state_label": r.status().label(), "created_at": r.created_at, "organism_id": r.organism_id}))
        .collect();
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("files", &views);
    state.render("vae/mine.html", &ctx)
}

async fn my_file(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let full = full(&state, Scope::Candidate(me.id), path.into_inner()).await?;
    let status = Status::parse(&full.file.state).unwrap_or(Status::Deposee);
    let kinds: Vec<_> = DocKind::ALL
        .into_iter()
        .filter(|k| k.accepted_in(status))
        .map(|k| serde_json::json!({"kind": k.as_str(), "label": k.label()}))
        .collect();
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("full", &full);
    ctx.insert("upload_kinds", &kinds);
    ctx.insert("can_deposit", &(status == Status::Recevable));
    ctx.insert("max_mb", &(state.config.vae.max_upload_bytes / 1_048_576));
    state.render("vae/candidate.html", &ctx)
}

async fn upload(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    payload: Multipart,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let mut up = read_form(&req, &state, payload, 1).await?;
    let kind = DocKind::parse(up.get("kind").unwrap_or_default())
        .ok_or_else(|| AppError::invalid("kind", "Choisissez le type de pièce."))?;
    let Some((_, staged)) = up.files.pop() else {
        return Err(AppError::invalid("file", "Choisissez un fichier."));
    };
    let dir = state.config.vae.dir.clone();
    let quotas = state.config.storage;
    let cid = me.id;
    state
        .db(move |c| {
            drop(up);
            workflow::add_document(c, &dir, &quotas, cid, id, kind, staged)
        })
        .await?;
    Ok(w::redirect(&format!("/ma-vae/{id}")))
}

fn require_staff(me: &CurrentUser) -> AppResult<Scope> {
    match workflow::scope_of(me) {
        (s @ (Scope::Organism(_) | Scope::Platform), _) => Ok(s),
        _ => Err(AppError::forbidden()),
    }
}

async fn staff_list(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    query: web::Query<std::collections::HashMap<String, String>>,
) -> AppResult<HttpResponse> {
    let org = path.into_inner();
    me.require_staff_of(org)?;
    let filter = query.get("etat").and_then(|s| Status::parse(s));
    let (lines, counts) = state
        .db(move |c| Ok((store::list(c, org, filter)?, store::counts(c, org)?)))
        .await?;
    let lines: Vec<_> = lines
        .into_iter()
        .map(|l| {
            let label = Status::parse(&l.state).map(|s| s.label());
            let mut v = serde_json::to_value(&l).unwrap_or_default();
            v["state_label"] = label.into();
            v
        })
        .collect();
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("org", &org);
    ctx.insert(
        "public_url",
        &format!(
            "{}/organismes/{org}/vae/demande",
            state.config.base_url.trim_end_matches('/')
        ),
    );
    ctx.insert("lines", &lines);
    ctx.insert("states", &rules::state_counts(&counts));
    ctx.insert("filter", &filter.map(|s| s.as_str()));
    state.render("vae/staff_list.html", &ctx)
}

async fn staff_file(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let scope = require_staff(&me)?;
    let full = full(&state, scope, path.into_inner()).await?;
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("full", &full);
    state.render("vae/staff_file.html", &ctx)
}

/// A jury date typed as Paris local time, stored as naive UTC.
pub fn paris_to_utc(date: &str, time: &str) -> Option<NaiveDateTime> {
    let d = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").ok()?;
    let t = NaiveTime::parse_from_str(time.trim(), "%H:%M").ok()?;
    Some(crate::base::paris::paris_to_utc(d.and_time(t)))
}

pub fn step_of(fields: &[(String, String)]) -> Step {
    Step {
        note: field(fields, "note").to_string(),
        reasons: field(fields, "reasons").to_string(),
        jury_at: paris_to_utc(field(fields, "jury_date"), field(fields, "jury_time")),
        jury_place: field(fields, "jury_place").to_string(),
        outcome: Outcome::parse(field(fields, "outcome")),
        validated: all(fields, "validated")
            .into_iter()
            .map(str::to_string)
            .collect(),
        recommendations: field(fields, "recommendations").to_string(),
    }
}

async fn step(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let action = Action::parse(field(&fields, "action"))
        .ok_or_else(|| AppError::invalid("action", "Action inconnue."))?;
    let step = step_of(&fields);
    let st = state.clone();
    let settings = settings(&state);
    let me2 = me.clone();
    state
        .db(move |c| {
            let mc = MailContext {
                templates: &st.mail_templates,
                base_url: &st.config.base_url,
            };
            workflow::transition(c, &mc, &settings, &me2, id, action, &step)
        })
        .await?;
    let to = match workflow::scope_of(&me).0 {
        Scope::Candidate(_) => format!("/ma-vae/{id}"),
        _ => format!("/vae/dossiers/{id}"),
    };
    Ok(w::redirect(&to))
}

async fn download(state: State, me: CurrentUser, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let scope = workflow::scope_of(&me).0;
    let dir = state.config.vae.dir.clone();
    let (doc, bytes) = state
        .db(move |c| {
            let doc = store::document(c, scope, id)?.ok_or(AppError::NotFound)?;
            let bytes = documents::read_kept(&dir, &doc.sha256)?;
            Ok((doc, bytes))
        })
        .await?;
    Ok(documents::attachment_response(
        &doc.file_name,
        &doc.mime_type,
        bytes,
    ))
}
