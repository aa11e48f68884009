//! The right of access and portability: a person asks for her data (`/mon-compte/donnees`),
//! an organism's administrator asks for it for a person who wrote
//! (`/organismes/ID/donnees-personnelles`), and whoever asked downloads the archive, only
//! they, until it expires.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::export_rules::{self as rules, READY};
use super::export_store::{self as store, ExportRow, NewRequest};
use crate::accounts::{CurrentUser, Role};
use crate::audit::{self, Event};
use crate::web::csrf::{CsrfForm, Empty};
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/mon-compte/donnees", web::get().to(mine))
        .route("/mon-compte/donnees", web::post().to(ask_mine))
        .route(
            "/mon-compte/donnees/{id}/archive.zip",
            web::get().to(download),
        )
        .route(
            "/organismes/{id}/donnees-personnelles",
            web::get().to(organism_page),
        )
        .route(
            "/organismes/{id}/donnees-personnelles",
            web::post().to(ask_for_person),
        );
}

/// One request as a page lists it.
#[derive(Serialize)]
struct Line {
    id: i64,
    created_at: chrono::NaiveDateTime,
    status: &'static str,
    ready: bool,
    expires_at: Option<chrono::NaiveDateTime>,
    size: Option<String>,
    reference: Option<String>,
    /// The person, on the organism's page; who asked, when it is not the reader.
    person: Option<String>,
    requested_by: Option<String>,
    mine: bool,
}

fn line(r: &ExportRow, now: chrono::NaiveDateTime, me: i64) -> Line {
    let live = r.expires_at.is_some_and(|e| e > now);
    Line {
        id: r.id,
        created_at: r.created_at,
        status: if r.status == READY && !live {
            "expirée"
        } else {
            rules::status_label(&r.status)
        },
        ready: r.status == READY && live,
        expires_at: r.expires_at,
        size: r
            .size_bytes
            .map(|b| format!("{:.1} Mo", b as f64 / 1_000_000.0).replace('.', ",")),
        reference: r.reference.clone(),
        person: None,
        requested_by: None,
        mine: r.requested_by == me,
    }
}

async fn mine(req: HttpRequest, state: State, me: CurrentUser) -> AppResult<HttpResponse> {
    let id = me.id;
    let (rows, names) = state
        .db(move |c| {
            let rows = store::requested_by(c, id)?;
            let others: Vec<i64> = rows
                .iter()
                .map(|r| r.user_id)
                .filter(|u| *u != id)
                .collect();
            Ok((rows, store::names(c, &others)?))
        })
        .await?;
    let now = crate::db::now();
    let lines: Vec<Line> = rows
        .iter()
        .map(|r| Line {
            person: names
                .iter()
                .find(|(u, _)| *u == r.user_id)
                .map(|(_, n)| n.clone()),
            ..line(r, now, id)
        })
        .collect();
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("exports", &lines);
    ctx.insert("days", &rules::EXPIRY_DAYS);
    ctx.insert(
        "asked",
        &req.query_string().split('&').any(|p| p == "avis=demande"),
    );
    state.render("privacy/my_data.html", &ctx)
}

/// Records the request, audited, and starts building it on this instance at once.
async fn ask(state: &State, me: &CurrentUser, new: NewRequest, key: String) -> AppResult<()> {
    let actor = me.id;
    let (organism, subject) = (new.organism_id, new.user_id);
    state
        .db(move |c| {
            crate::db::transaction(c, |c| {
                if store::in_progress(c, new.user_id, new.requested_by)? {
                    return Err(AppError::Conflict(
                        "Une archive de ces données est déjà en préparation : un courriel \
                         vous dira quand elle sera prête."
                            .into(),
                    ));
                }
                let now = crate::db::now();
                let day_ago = now - chrono::Duration::days(1);
                if store::asked_since(c, new.user_id, new.requested_by, day_ago)? >= rules::PER_DAY
                {
                    return Err(AppError::TooManyRequests {
                        message: format!(
                            "Cette archive a déjà été demandée {} fois en 24 heures : \
                             téléchargez la dernière, ou demandez-la à nouveau demain.",
                            rules::PER_DAY
                        ),
                        retry_after: 3600,
                    });
                }
                let id = store::insert(c, &new, now)?;
                audit::record(
                    c,
                    Event::new("data_export_requested", "user", Some(subject))
                        .by(Some(actor))
                        .in_organism(organism)
                        .key(key)
                        .detail(serde_json::json!({"export": id, "reference": new.reference})),
                )?;
                Ok(())
            })
        })
        .await?;
    tokio::spawn(super::export::run(state.clone()));
    Ok(())
}

async fn ask_mine(
    state: State,
    me: CurrentUser,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let new = NewRequest {
        user_id: me.id,
        requested_by: me.id,
        organism_id: None,
        reference: None,
    };
    ask(&state, &me, new, me.email.clone()).await?;
    Ok(w::redirect("/mon-compte/donnees?avis=demande"))
}

/// The archive, to whoever asked for it and no one else, until it expires.
async fn download(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let row = state
        .db(move |c| Ok(store::get(c, id)?))
        .await?
        .filter(|r| r.requested_by == me.id)
        .ok_or(AppError::NotFound)?;
    let now = crate::db::now();
    if let Some(expired) = row.expires_at.filter(|e| *e <= now) {
        let mut ctx = w::context(&req);
        ctx.insert("me", &me.view());
        ctx.insert("expired_at", &expired);
        return state.render_status(StatusCode::GONE, "privacy/export_expired.html", &ctx);
    }
    let sha = match (row.status.as_str(), &row.sha256) {
        (READY, Some(sha)) => sha.clone(),
        _ => {
            return Err(AppError::Conflict(
                "L'archive n'est pas encore prête : un courriel vous dira quand la télécharger."
                    .into(),
            ));
        }
    };
    let (st, user, organism, key) = (
        state.clone(),
        row.user_id,
        row.organism_id,
        me.email.clone(),
    );
    let (bytes, name) = state
        .db(move |c| {
            let bytes = st
                .objects
                .uploads
                .read(&sha)
                .map_err(|e| AppError::io("data export download", e))?;
            let name = store::names(c, &[user])?
                .pop()
                .map(|(_, n)| n)
                .unwrap_or_default();
            audit::record(
                c,
                Event::new("data_export_downloaded", "user", Some(user))
                    .by(Some(me.id))
                    .in_organism(organism)
                    .key(key)
                    .detail(serde_json::json!({"export": id})),
            )?;
            Ok((bytes, name))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header(("Cache-Control", "private, no-store"))
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"{}\"",
                rules::file_name(&name, row.ready_at.unwrap_or(now))
            ),
        ))
        .body(bytes))
}

async fn organism_page(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    me.require_org_admin_of(id)?;
    page_for_organism(&req, &state, &me, id, None, StatusCode::OK).await
}

async fn page_for_organism(
    req: &HttpRequest,
    state: &State,
    me: &CurrentUser,
    id: i64,
    refused: Option<(&StaffForm, String)>,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let (organism, rows) = state
        .db(move |c| {
            let o = crate::organisms::store::get(c, id)?.ok_or(AppError::NotFound)?;
            Ok((o, store::of_organism(c, id)?))
        })
        .await?;
    let now = crate::db::now();
    let lines: Vec<Line> = rows
        .iter()
        .map(|(r, person, by)| Line {
            person: Some(person.clone()),
            requested_by: Some(by.clone()),
            ..line(r, now, me.id)
        })
        .collect();
    let mut ctx = w::context(req);
    ctx.insert("me", &me.view());
    ctx.insert("organism_id", &id);
    ctx.insert("organism_name", &organism.name);
    ctx.insert("exports", &lines);
    ctx.insert("days", &rules::EXPIRY_DAYS);
    ctx.insert(
        "asked",
        &req.query_string().split('&').any(|p| p == "avis=demande"),
    );
    let (email, reference, error) = match &refused {
        Some((f, e)) => (f.email.as_str(), f.reference.as_str(), Some(e)),
        None => ("", "", None),
    };
    ctx.insert("email", email);
    ctx.insert("reference", reference);
    ctx.insert("error", &error);
    state.render_status(status, "privacy/staff_exports.html", &ctx)
}

#[derive(Deserialize)]
struct StaffForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    reference: String,
}

/// An administrator asks for the archive of a person of the organism who wrote to it; the
/// platform's administrator, for anyone (a doctor belongs to no one organism).
async fn ask_for_person(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<StaffForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    me.require_org_admin_of(id)?;
    let refuse = |message: String| {
        let (req, state, me, form) = (req.clone(), state.clone(), me.clone(), &form);
        async move {
            page_for_organism(
                &req,
                &state,
                &me,
                id,
                Some((form, message)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    };
    let reference = match rules::check_reference(&form.reference) {
        Ok(r) => r,
        Err(m) => return refuse(m.into()).await,
    };
    let Ok(email) = crate::base::field::normalize_email(&form.email) else {
        return refuse("Indiquez l'adresse e-mail de la personne.".into()).await;
    };
    let anyone = me.is(Role::Admin);
    let lookup = email.clone();
    let person = state
        .db(move |c| Ok(crate::accounts::store::by_email(c, &lookup)?))
        .await?
        .filter(|u| anyone || u.organism_id == Some(id));
    let Some(person) = person else {
        return refuse(format!(
            "Aucune personne de l'organisme n'a l'adresse {email}. Un médecin employeur n'est \
             rattaché à aucun organisme : sa demande passe par l'administrateur de la plateforme."
        ))
        .await;
    };
    let new = NewRequest {
        user_id: person.id,
        requested_by: me.id,
        organism_id: Some(id),
        reference: Some(reference),
    };
    ask(&state, &me, new, person.email).await?;
    Ok(w::redirect(&format!(
        "/organismes/{id}/donnees-personnelles?avis=demande"
    )))
}
