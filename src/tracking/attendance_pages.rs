//! Pages of the sign-in sheets: the trainer's sheet of a half-day, and the trainee's signing.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveTime;
use serde::Deserialize;

use super::attendance::{self, SignError};
use super::rules;
use crate::accounts::{CurrentUser, Role};
use crate::cohorts::access::cohort_for_staff;
use crate::cohorts::store::{self as cohorts, CohortRow, SessionRow};
use crate::web::csrf::CsrfForm;
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/seances/{id}/emargement", web::get().to(sheet_page))
        .route("/seances/{id}/emargement/ouvrir", web::post().to(open))
        .route("/seances/{id}/emargement/clore", web::post().to(close))
        .route("/seances/{id}/emargement/{trainee}", web::post().to(mark))
        .route(
            "/seances/{id}/emargement/{trainee}/signer",
            web::post().to(sign_for),
        )
        .route("/emargement", web::get().to(my_sheets))
        .route("/seances/{id}/signer", web::post().to(sign_self));
}

#[derive(Deserialize)]
struct Empty {}

async fn session_for_staff(
    state: &State,
    me: &CurrentUser,
    id: i64,
) -> AppResult<(SessionRow, CohortRow)> {
    let session = state
        .db(move |c| Ok(cohorts::session(c, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    let cohort = cohort_for_staff(state, me, session.cohort_id).await?;
    Ok((session, cohort))
}

async fn render_sheet(
    req: &HttpRequest,
    state: &State,
    me: &CurrentUser,
    id: i64,
    error: Option<&SignError>,
) -> AppResult<HttpResponse> {
    let (session, cohort) = session_for_staff(state, me, id).await?;
    let trainer_id = session.trainer_id;
    let (sheet, entries, trainer, closed_by) = state
        .db(move |c| {
            let sheet = attendance::sheet_of(c, id)?;
            let entries = match &sheet {
                Some(s) => attendance::entries(c, s.id)?,
                None => vec![],
            };
            let name = |c: &mut crate::db::DbConn, id: Option<i64>| match id {
                Some(t) => crate::accounts::store::by_id(c, t).map(|u| u.map(|u| u.name)),
                None => Ok(None),
            };
            let trainer = name(c, trainer_id)?;
            let closed_by = name(c, sheet.as_ref().and_then(|s| s.closed_by))?;
            Ok((sheet, entries, trainer, closed_by))
        })
        .await?;
    let entries: Vec<_> = entries
        .iter()
        .map(|e| {
            let mut v = serde_json::to_value(e).unwrap_or_default();
            v["label"] = rules::status_label(&e.status).into();
            v["pm_label"] = e.pm_status.as_deref().map(rules::status_label).into();
            v
        })
        .collect();
    let mut ctx = w::context(req);
    ctx.insert("me", &me.view());
    ctx.insert("session", &session);
    ctx.insert("cohort", &cohort);
    ctx.insert("sheet", &sheet);
    ctx.insert("entries", &entries);
    ctx.insert("trainer", &trainer);
    ctx.insert("closed_by", &closed_by);
    ctx.insert(
        "halves",
        &rules::half_days(session.starts_at, session.ends_at),
    );
    ctx.insert("error", &error.map(|e| e.message()));
    let status = match error {
        None => StatusCode::OK,
        Some(SignError::NotDesignated(_)) => StatusCode::FORBIDDEN,
        Some(_) => StatusCode::CONFLICT,
    };
    state.render_status(status, "tracking/sheet.html", &ctx)
}

async fn sheet_page(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    render_sheet(&req, &state, &me, path.into_inner(), None).await
}

async fn open(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let (session, cohort) = session_for_staff(&state, &me, id).await?;
    let (actor, org) = (me.id, cohort.organism_id);
    state
        .db(move |c| Ok(attendance::open(c, actor, org, &session)?))
        .await?;
    Ok(w::redirect(&format!("/seances/{id}/emargement")))
}

async fn close(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let (session, cohort) = session_for_staff(&state, &me, id).await?;
    let (actor, org) = (me.id, cohort.organism_id);
    match state
        .db(move |c| Ok(attendance::close(c, Some(actor), org, &session)?))
        .await?
    {
        Ok(()) => Ok(w::redirect(&format!("/seances/{id}/emargement"))),
        Err(e) => render_sheet(&req, &state, &me, id, Some(&e)).await,
    }
}

#[derive(Deserialize)]
struct MarkForm {
    status: String,
    /// The afternoon of a session longer than a half-day.
    #[serde(default)]
    pm_status: Option<String>,
    arrived_at: String,
    left_at: String,
}

fn known_status(raw: &str) -> AppResult<String> {
    match raw {
        s @ (rules::PRESENT | rules::ABSENT | rules::EXCUSED | rules::PENDING) => Ok(s.to_string()),
        _ => Err(AppError::invalid("status", "Statut inconnu.")),
    }
}

fn time(raw: &str) -> Result<Option<NaiveTime>, ()> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    NaiveTime::parse_from_str(raw, "%H:%M")
        .map(Some)
        .map_err(|_| ())
}

async fn mark(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<MarkForm>,
) -> AppResult<HttpResponse> {
    let (id, trainee) = path.into_inner();
    let (_, cohort) = session_for_staff(&state, &me, id).await?;
    let status = known_status(&form.status)?;
    let pm_status = match form.pm_status.as_deref() {
        Some(p) => Some(known_status(p)?),
        None => None,
    };
    let (Ok(arrived), Ok(left)) = (time(&form.arrived_at), time(&form.left_at)) else {
        return Err(AppError::invalid("arrived_at", "Heure invalide (HH:MM)."));
    };
    let (actor, org) = (me.id, cohort.organism_id);
    let result = state
        .db(move |c| {
            let marks = attendance::Marks {
                status: &status,
                pm_status: pm_status.as_deref(),
                arrived,
                left,
            };
            Ok(attendance::mark(c, actor, org, id, trainee, &marks)?)
        })
        .await?;
    match result {
        Ok(()) => Ok(w::redirect(&format!("/seances/{id}/emargement"))),
        Err(e) => render_sheet(&req, &state, &me, id, Some(&e)).await,
    }
}

async fn sign_for(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<(i64, i64)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (id, trainee) = path.into_inner();
    let (_, cohort) = session_for_staff(&state, &me, id).await?;
    let (actor, org) = (me.id, cohort.organism_id);
    let via = format!("formateur:{actor}");
    match state
        .db(move |c| {
            Ok(attendance::sign(
                c,
                actor,
                org,
                id,
                trainee,
                &via,
                crate::db::now(),
            )?)
        })
        .await?
    {
        Ok(()) => Ok(w::redirect(&format!("/seances/{id}/emargement"))),
        Err(e) => render_sheet(&req, &state, &me, id, Some(&e)).await,
    }
}

async fn my_sheets(req: HttpRequest, state: State, me: CurrentUser) -> AppResult<HttpResponse> {
    me.require(&[Role::Trainee])?;
    let id = me.id;
    let sessions = state
        .db(move |c| {
            let open = attendance::open_for_trainee(c, id)?;
            let mut out = Vec::new();
            for (s, signed_at, pm_signed_at) in open {
                if let Some(row) = cohorts::session(c, s)? {
                    let halves = rules::half_days(row.starts_at, row.ends_at);
                    let done = signed_at.is_some() && (halves.len() < 2 || pm_signed_at.is_some());
                    out.push(serde_json::json!({
                        "session": row, "signed_at": signed_at, "pm_signed_at": pm_signed_at,
                        "halves": halves, "done": done,
                    }));
                }
            }
            Ok(out)
        })
        .await?;
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("sessions", &sessions);
    state.render("tracking/sign.html", &ctx)
}

async fn sign_self(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    me.require(&[Role::Trainee])?;
    let id = path.into_inner();
    let trainee = me.id;
    let result = state
        .db(move |c| {
            let session = cohorts::session(c, id)?.ok_or(AppError::NotFound)?;
            let cohort = cohorts::cohort(c, session.cohort_id)?.ok_or(AppError::NotFound)?;
            // A session of another organism is answered like one that does not exist.
            let own = cohorts::trainee(c, cohorts::Scope::Checked, trainee)?;
            if own.is_none_or(|t| t.organism_id != cohort.organism_id) {
                return Err(AppError::NotFound);
            }
            Ok(attendance::sign(
                c,
                trainee,
                cohort.organism_id,
                id,
                trainee,
                "stagiaire",
                crate::db::now(),
            )?)
        })
        .await?;
    match result {
        Ok(()) => Ok(w::redirect("/emargement?signe=1")),
        Err(SignError::NotOnSheet) => Err(AppError::Forbidden(SignError::NotOnSheet.message())),
        Err(e) => {
            let mut ctx = w::context(&req);
            ctx.insert("me", &me.view());
            ctx.insert("sessions", &Vec::<serde_json::Value>::new());
            ctx.insert("error", &e.message());
            state.render_status(StatusCode::CONFLICT, "tracking/sign.html", &ctx)
        }
    }
}
