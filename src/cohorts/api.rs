//! JSON API of organisms' cohorts and trainees, scoped like the pages.

use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};

use super::access::{Access, cohort_for_staff, staff_access, trainee_access, trainee_view};
use super::cohort_pages::{Imported, run_import};
use super::new_cohort::{self, CohortForm};
use super::store;
use super::suspension;
use super::version;
use crate::accounts::{CurrentUser, Role};
use crate::base::paris::today;
use crate::web::{AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/organisms/{id}/cohorts", web::get().to(list))
        .route("/organisms/{id}/cohorts", web::post().to(create))
        .route("/cohorts/{id}", web::get().to(show))
        .route("/cohorts/{id}/trainees", web::get().to(trainees))
        .route("/cohorts/{id}/import", web::post().to(import))
        .route("/cohorts/{id}/version", web::post().to(move_version))
        .route("/trainees/{id}", web::get().to(trainee))
        .route("/trainees/{id}/transfer", web::post().to(transfer))
        .route(
            "/trainees/{id}/proa-suspensions",
            web::post().to(add_suspension),
        )
        .route(
            "/trainees/{id}/proa-suspensions/{window}/end",
            web::post().to(end_suspension),
        )
        .route("/me/assistants", web::get().to(assistants));
}

async fn list(state: State, me: CurrentUser, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let org = path.into_inner();
    me.require_staff_of(org)?;
    let list = state.db(move |c| Ok(store::cohorts_of(c, org)?)).await?;
    let body: Vec<_> = list
        .into_iter()
        .map(|(c, n)| serde_json::json!({"cohort": c, "trainees": n}))
        .collect();
    Ok(HttpResponse::Ok().json(body))
}

async fn create(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    body: web::Json<CohortForm>,
) -> AppResult<HttpResponse> {
    let org = path.into_inner();
    me.require_org_admin_of(org)?;
    let programs = super::new_cohort::Programs::of_organism(&state, org).await?;
    let cohort = body.check(&programs).map_err(AppError::Invalid)?;
    let id = new_cohort::create(&state, me.id, org, cohort).await?;
    let cohort = state.db(move |c| Ok(store::cohort(c, id)?)).await?;
    Ok(HttpResponse::Created().json(cohort))
}

async fn show(state: State, me: CurrentUser, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let cohort = cohort_for_staff(&state, &me, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(cohort))
}

#[derive(serde::Deserialize)]
struct VersionInput {
    /// The programme's current version number as the caller knows it: if the programme has
    /// published another since, nothing moves (409).
    version: i32,
}

/// Moves the cohort on to its programme's current version; answers the cohort as it is now.
async fn move_version(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    body: web::Json<VersionInput>,
) -> AppResult<HttpResponse> {
    let cohort = cohort_for_staff(&state, &me, path.into_inner()).await?;
    me.require_org_admin_of(cohort.organism_id)?;
    version::move_on(&state, me.id, &cohort, body.version).await?;
    let id = cohort.id;
    let cohort = state
        .db(move |c| Ok(store::cohort(c, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok().json(cohort))
}

async fn trainees(state: State, me: CurrentUser, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let cohort = cohort_for_staff(&state, &me, path.into_inner()).await?;
    let (org, cid) = (cohort.organism_id, cohort.id);
    let list = state
        .db(move |c| Ok(store::trainees_of_cohort(c, org, cid)?))
        .await?;
    let today = today();
    Ok(HttpResponse::Ok().json(
        list.iter()
            .map(|t| trainee_view(t, today))
            .collect::<Vec<_>>(),
    ))
}

/// What a CSV file is sent as: its own type, or the one Windows gives `.csv` files. A form or
/// `text/plain` body is refused, so a cross-site form can never reach the import.
const CSV_TYPES: [&str; 2] = ["text/csv", "application/vnd.ms-excel"];

#[derive(serde::Deserialize)]
struct ImportQuery {
    /// Staff confirm enrolments in a cohort under way with less than the minimum length left.
    #[serde(default)]
    confirm: bool,
}

/// The CSV file as the request body; all or nothing, errors by line and column.
async fn import(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    query: web::Query<ImportQuery>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let cohort = cohort_for_staff(&state, &me, path.into_inner()).await?;
    let mime = req.mime_type().ok().flatten();
    if !mime.is_some_and(|m| CSV_TYPES.contains(&m.essence_str())) {
        return Err(AppError::UnsupportedMediaType(
            "Envoyez le fichier CSV avec l'en-tête Content-Type: text/csv.".into(),
        ));
    }
    match run_import(&state, &me, &cohort, body.to_vec(), query.confirm).await? {
        Imported::Done(summary) => Ok(HttpResponse::Ok().json(summary)),
        Imported::Refused(errors) => Ok(HttpResponse::UnprocessableEntity().json(serde_json::json!({
            "error": {
                "code": "invalid_input",
                "message": "Le fichier est refusé : aucune ligne n'a été importée.",
                "lines": errors,
            }
        }))),
        Imported::NeedsConfirmation(warning) => Ok(HttpResponse::Conflict().json(serde_json::json!({
            "error": {
                "code": "confirmation_required",
                "message": format!("{warning} Aucune ligne n'a été importée : confirmez avec « ?confirm=true »."),
            },
            "confirm": false,
        }))),
    }
}

async fn trainee(state: State, me: CurrentUser, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let (t, level) = trainee_access(&state, &me, path.into_inner()).await?;
    let mut view = trainee_view(&t, today());
    if level == Access::Employer {
        // The employer follows progress and the deadline, not the organism's internals.
        if let Some(o) = view.as_object_mut() {
            for key in ["funding", "funding_label", "suspendable", "suspensions"] {
                o.remove(key);
            }
        }
    }
    Ok(HttpResponse::Ok().json(view))
}

#[derive(serde::Deserialize)]
struct TransferInput {
    cohort_id: i64,
    /// Staff confirm a transfer that leaves less than the programme's minimum length.
    #[serde(default)]
    confirm: bool,
}

/// Transfers a trainee today, as the page does. Without `confirm`, a transfer leaving less
/// than the programme's minimum length answers 409 `confirmation_required` and changes nothing.
async fn transfer(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    body: web::Json<TransferInput>,
) -> AppResult<HttpResponse> {
    let trainee = staff_access(&state, &me, path.into_inner()).await?;
    me.require_org_admin_of(trainee.organism_id)?;
    let (actor, on, target, confirm) = (me.id, today(), body.cohort_id, body.confirm);
    let done = state
        .db(move |c| super::enrolment::transfer_checked(c, actor, &trainee, target, on, confirm))
        .await?;
    Ok(match done {
        super::enrolment::Transfer::Done(enrolment) => HttpResponse::Ok()
            .json(serde_json::json!({"enrolment_id": enrolment, "cohort_id": target})),
        super::enrolment::Transfer::NeedsConfirmation(warning) => {
            HttpResponse::Conflict().json(serde_json::json!({
                "error": {"code": "confirmation_required", "message": format!("{warning} Confirmez le transfert : « \"confirm\": true ».")},
                "confirm": false,
                "hint": "Send the same request with \"confirm\": true once staff have confirmed.",
            }))
        }
    })
}

#[derive(serde::Deserialize)]
struct SuspensionInput {
    #[serde(default)]
    from: String,
    /// Empty or absent while the suspension lasts.
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    reason: String,
}

/// Adds a window of ProA funding suspension, as the page does: 422 with the French reason
/// for a trainee whose delay cannot be suspended; answers the trainee with her new deadline.
async fn add_suspension(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    body: web::Json<SuspensionInput>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let trainee = staff_access(&state, &me, id).await?;
    let body = body.into_inner();
    let from = suspension::parse_date("from", &body.from)?;
    let to = suspension::parse_date("to", body.to.as_deref().unwrap_or_default())?;
    let actor = me.id;
    let window = state
        .db(move |c| suspension::add(c, actor, &trainee, from, to, &body.reason))
        .await?;
    let mut view = trainee_after(&state, id).await?;
    view["suspension_id"] = window.into();
    Ok(HttpResponse::Created().json(view))
}

#[derive(serde::Deserialize)]
struct SuspensionEnd {
    #[serde(default)]
    to: String,
}

/// Ends an open window; answers the trainee with her deadline.
async fn end_suspension(
    state: State,
    me: CurrentUser,
    path: web::Path<(i64, i64)>,
    body: web::Json<SuspensionEnd>,
) -> AppResult<HttpResponse> {
    let (id, window) = path.into_inner();
    let trainee = staff_access(&state, &me, id).await?;
    let to = suspension::parse_date("to", &body.to)?;
    let actor = me.id;
    state
        .db(move |c| suspension::end(c, actor, &trainee, window, to))
        .await?;
    Ok(HttpResponse::Ok().json(trainee_after(&state, id).await?))
}

/// The trainee as staff see her, read again after a change.
async fn trainee_after(state: &State, id: i64) -> AppResult<serde_json::Value> {
    let t = state
        .db(move |c| Ok(store::trainee(c, store::Scope::Checked, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(trainee_view(&t, today()))
}

async fn assistants(state: State, me: CurrentUser) -> AppResult<HttpResponse> {
    me.require(&[Role::Doctor])?;
    let id = me.id;
    let list = state.db(move |c| Ok(store::assistants_of(c, id)?)).await?;
    let today = today();
    Ok(HttpResponse::Ok().json(
        list.iter()
            .map(|t| trainee_view(t, today))
            .collect::<Vec<_>>(),
    ))
}
