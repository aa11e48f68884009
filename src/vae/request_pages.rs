//! The public VAE request of an organism (anyone, signed in or not) and the confirmation of
//! an anonymous request's address.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;

use super::documents::Upload;
use super::form::{read_form, settings};
use super::pending;
use super::rules::{self, DocKind, Experience};
use super::store;
use super::view::module_views;
use super::workflow::{self, Requester};
use crate::accounts::CurrentUser;
use crate::mail::MailContext;
use crate::storage::quota;
use crate::web::csrf::CsrfForm;
use crate::web::{self as w, AppError, AppResult, State};

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

pub(super) async fn request_form(
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

pub(super) async fn submit_request(
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
    let dir = state.objects.uploads.clone();
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
pub(super) async fn confirm_form(
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

pub(super) async fn confirm(
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
