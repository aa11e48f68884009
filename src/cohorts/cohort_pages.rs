//! Cohort pages for staff: list and creation, a cohort's trainees, import and export.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde::Deserialize;

use super::access::{cohort_for_staff, trainee_view};
use super::enrolment::{self, ImportFailure};
use super::import::{self, ImportError};
use super::new_cohort::{self, CohortForm, Programs};
use super::store::{self, CohortRow};
use super::version::{self, VersionView};
use crate::accounts::CurrentUser;
use crate::base::field::FieldError;
use crate::base::format;
use crate::base::paris::today;
use crate::mail::MailContext;
use crate::web::csrf::{self, CsrfForm};
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/organismes/{id}/promotions", web::get().to(list))
        .route("/organismes/{id}/promotions", web::post().to(create))
        .route("/promotions/{id}", web::get().to(show))
        .route("/promotions/{id}/import", web::post().to(import_file))
        .route("/promotions/{id}/stagiaires.csv", web::get().to(export))
        .route("/promotions/{id}/formateurs", web::post().to(set_trainers))
        .route("/promotions/{id}/version", web::post().to(move_version));
}

/// The cohort form as it goes back to the page, with its problems.
struct Submitted {
    status: StatusCode,
    form: CohortForm,
    errors: Vec<FieldError>,
}

async fn render_list(
    req: &HttpRequest,
    state: &State,
    me: &CurrentUser,
    org: i64,
    submitted: Submitted,
) -> AppResult<HttpResponse> {
    let Submitted {
        status,
        form,
        errors,
    } = submitted;
    let (organism, list, programs) = state
        .db(move |c| {
            let o = crate::organisms::store::get(c, org)?.ok_or(AppError::NotFound)?;
            Ok((
                o,
                store::cohorts_of(c, org)?,
                store::program_choices(c, org)?,
            ))
        })
        .await?;
    let list: Vec<_> = list
        .into_iter()
        .map(|(c, n)| serde_json::json!({"cohort": c, "trainees": n}))
        .collect();
    let mut ctx = w::context(req);
    ctx.insert("me", &me.view());
    ctx.insert("organism", &organism);
    ctx.insert("cohorts", &list);
    ctx.insert("programs", &programs);
    ctx.insert("form", &form);
    ctx.insert("errors", &errors);
    ctx.insert("can_manage", &me.require_org_admin_of(org).is_ok());
    state.render_status(status, "cohorts/cohorts.html", &ctx)
}

async fn list(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let org = path.into_inner();
    me.require_staff_of(org)?;
    let blank = Submitted {
        status: StatusCode::OK,
        form: CohortForm::default(),
        errors: vec![],
    };
    render_list(&req, &state, &me, org, blank).await
}

async fn create(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<CohortForm>,
) -> AppResult<HttpResponse> {
    let org = path.into_inner();
    me.require_org_admin_of(org)?;
    let programs = Programs::of_organism(&state, org).await?;
    match form.check(&programs) {
        Err(errors) => {
            let refused = Submitted {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                form,
                errors,
            };
            render_list(&req, &state, &me, org, refused).await
        }
        Ok(cohort) => {
            let id = new_cohort::create(&state, me.id, org, cohort).await?;
            Ok(w::redirect(&format!("/promotions/{id}")))
        }
    }
}

async fn render_cohort(
    req: &HttpRequest,
    state: &State,
    me: &CurrentUser,
    cohort: CohortRow,
    status: StatusCode,
    shown: Shown,
) -> AppResult<HttpResponse> {
    let (org, cid) = (cohort.organism_id, cohort.id);
    let (trainees, trainers, staff, versions) = state
        .db(move |c| {
            Ok((
                store::trainees_of_cohort(c, org, cid)?,
                store::trainers_of(c, cid)?,
                crate::accounts::store::staff_of(c, org)?,
                store::versions_of(c, cid)?.ok_or(AppError::NotFound)?,
            ))
        })
        .await?;
    let today = today();
    let lines: Vec<_> = trainees.iter().map(|t| trainee_view(t, today)).collect();
    let mut ctx = w::context(req);
    ctx.insert("me", &me.view());
    ctx.insert("cohort", &cohort);
    ctx.insert("trainees", &lines);
    ctx.insert("trainers", &trainers);
    ctx.insert("staff", &staff);
    ctx.insert("import", &shown.import);
    ctx.insert("notice", &shown.notice);
    ctx.insert("version", &VersionView::of(&versions));
    ctx.insert("can_manage", &me.require_org_admin_of(org).is_ok());
    ctx.insert(
        "ics_url",
        &format!(
            "{}/calendrier/promotion/{}.ics",
            state.config.base_url, cohort.ics_token
        ),
    );
    state.render_status(status, "cohorts/cohort.html", &ctx)
}

async fn show(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let cohort = cohort_for_staff(&state, &me, path.into_inner()).await?;
    let Ok(query) = web::Query::<ShowQuery>::from_query(req.query_string()) else {
        return Err(AppError::invalid(
            "query",
            "Rapport d'import ou changement de version inconnu.",
        ));
    };
    let cid = cohort.id;
    // After an upload: its report, kept in the audit log (POST, redirect, GET).
    let import = match query.import {
        Some(id) => {
            let summary = state
                .db(move |c| {
                    Ok(crate::audit::after_of(
                        c,
                        id,
                        "trainees_imported",
                        "cohort",
                        cid,
                    )?)
                })
                .await?
                .ok_or(AppError::NotFound)?;
            Some(serde_json::json!({ "summary": summary }))
        }
        None => None,
    };
    // After a move to another version: what its audit event recorded.
    let notice = match query.passage {
        Some(event) => version::notice(&state, cid, event).await?,
        None => None,
    };
    let shown = Shown { import, notice };
    render_cohort(&req, &state, &me, cohort, StatusCode::OK, shown).await
}

#[derive(Deserialize)]
struct ShowQuery {
    import: Option<i64>,
    passage: Option<i64>,
}

/// What the cohort page shows above its facts after a form: an import's report or errors,
/// a move's notice.
struct Shown {
    import: Option<serde_json::Value>,
    notice: Option<String>,
}

/// The multipart form: its CSRF token, the file, and whether staff confirmed late entries.
type Upload = (Option<String>, Vec<u8>, bool);

/// Reads the multipart form, never more than the limit.
async fn read_upload(mut payload: Multipart) -> AppResult<Upload> {
    let mut token = None;
    let mut file = Vec::new();
    let mut confirm = false;
    while let Some(field) = payload.next().await {
        let mut field =
            field.map_err(|e| AppError::invalid("file", format!("Envoi illisible : {e}")))?;
        let name = field.name().unwrap_or_default().to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk =
                chunk.map_err(|e| AppError::invalid("file", format!("Envoi interrompu : {e}")))?;
            if bytes.len() + chunk.len() > import::MAX_BYTES {
                return Err(AppError::invalid(
                    "file",
                    format!(
                        "Le fichier dépasse la limite de {} Mo.",
                        import::MAX_BYTES / 1_048_576
                    ),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        match name.as_str() {
            csrf::FIELD => token = Some(String::from_utf8_lossy(&bytes).into_owned()),
            "file" => file = bytes,
            "confirm" => confirm = !bytes.is_empty(),
            _ => {}
        }
    }
    Ok((token, file, confirm))
}

/// What an import came to.
pub enum Imported {
    Done(enrolment::ImportSummary),
    Refused(Vec<ImportError>),
    /// Trainees would enter a cohort under way with less than the programme's minimum length
    /// left, or one ending after their deadline: nothing was written; staff confirm and send
    /// again.
    NeedsConfirmation(String),
}

/// Runs a whole import for a cohort: parse, then apply in one transaction, rolled back when
/// it enrols late trainees or trainees whose deadline falls before the cohort's end
/// (`enrolment::ImportSummary::to_confirm`) without `confirm`.
pub async fn run_import(
    state: &State,
    me: &CurrentUser,
    cohort: &CohortRow,
    bytes: Vec<u8>,
    confirm: bool,
) -> AppResult<Imported> {
    me.require_staff_of(cohort.organism_id)?;
    let rows = match import::parse(&bytes, today()) {
        Ok(rows) => rows,
        Err(errors) => return Ok(Imported::Refused(errors)),
    };
    let st = state.clone();
    let cohort = cohort.clone();
    let actor = me.id;
    state
        .db(move |c| {
            let org =
                crate::organisms::store::get(c, cohort.organism_id)?.ok_or(AppError::NotFound)?;
            let mc = MailContext {
                templates: &st.mail_templates,
                base_url: &st.config.base_url,
            };
            let applied = enrolment::apply_confirmed(
                c,
                &mc,
                Some(actor),
                &cohort,
                &org.name,
                &rows,
                confirm,
                |_| {},
            );
            match applied {
                Ok(enrolment::Applied::Done(s)) => Ok(Imported::Done(s)),
                Ok(enrolment::Applied::NeedsConfirmation(w)) => Ok(Imported::NeedsConfirmation(w)),
                Err(ImportFailure::Refused(e)) => Ok(Imported::Refused(e)),
                Err(ImportFailure::Internal(e)) => Err(e),
            }
        })
        .await
}

async fn import_file(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    payload: Multipart,
) -> AppResult<HttpResponse> {
    let cohort = cohort_for_staff(&state, &me, path.into_inner()).await?;
    let upload = read_upload(payload).await;
    let (token, bytes, confirm) = match upload {
        Ok(u) => u,
        Err(AppError::Invalid(fields)) => {
            let errors: Vec<_> = fields
                .iter()
                .map(|f| serde_json::json!({"line": 0, "column": "", "message": f.message}))
                .collect();
            let result = serde_json::json!({"errors": errors});
            return render_cohort(
                &req,
                &state,
                &me,
                cohort,
                StatusCode::UNPROCESSABLE_ENTITY,
                Shown {
                    import: Some(result),
                    notice: None,
                },
            )
            .await;
        }
        Err(e) => return Err(e),
    };
    csrf::verify(&req, token.as_deref())?;
    let (result, status) = match run_import(&state, &me, &cohort, bytes, confirm).await? {
        // A reload shows the report again and sends nothing twice.
        Imported::Done(summary) => {
            return Ok(w::redirect(&match summary.report_id {
                Some(report) => format!("/promotions/{}?import={report}", cohort.id),
                None => format!("/promotions/{}", cohort.id),
            }));
        }
        Imported::Refused(errors) => (
            serde_json::json!({"errors": errors}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Imported::NeedsConfirmation(warning) => (
            serde_json::json!({"errors": [{"line": 0, "column": "", "message": format!(
                "{warning} Cochez « Je confirme les inscriptions signalées » et envoyez de nouveau le fichier."
            )}], "confirm": true}),
            StatusCode::CONFLICT,
        ),
    };
    render_cohort(
        &req,
        &state,
        &me,
        cohort,
        status,
        Shown {
            import: Some(result),
            notice: None,
        },
    )
    .await
}

/// The cohort's trainees as a CSV for Excel in French: `;`, UTF-8 with BOM, formulas made inert.
async fn export(state: State, me: CurrentUser, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let cohort = cohort_for_staff(&state, &me, path.into_inner()).await?;
    let (org, cid) = (cohort.organism_id, cohort.id);
    let trainees = state
        .db(move |c| Ok(store::trainees_of_cohort(c, org, cid)?))
        .await?;
    let today = today();
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut writer = csv::WriterBuilder::new()
            .delimiter(b';')
            .from_writer(&mut out);
        let header = [
            "Nom complet",
            "E-mail",
            "Profil",
            "Date d'embauche",
            "Médecin",
            "Cabinet",
            "Financement",
            "Échéance de certification",
        ];
        writer
            .write_record(header)
            .map_err(|e| AppError::Internal(e.into()))?;
        for t in &trainees {
            let v = trainee_view(t, today);
            let deadline = v["deadline"]
                .as_str()
                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            let record = [
                import::spreadsheet_safe(&t.name),
                import::spreadsheet_safe(&t.email),
                v["profile_label"].as_str().unwrap_or_default().to_string(),
                format::date(t.hire_date),
                import::spreadsheet_safe(&t.doctors.join(", ")),
                // A doctor practising alone is his own employer: no "Cabinet" repeating him.
                import::spreadsheet_safe(
                    t.employer
                        .as_deref()
                        .filter(|e| !t.doctors.iter().any(|d| d == e))
                        .unwrap_or_default(),
                ),
                v["funding_label"].as_str().unwrap_or_default().to_string(),
                deadline.map(format::date).unwrap_or_default(),
            ];
            writer
                .write_record(&record)
                .map_err(|e| AppError::Internal(e.into()))?;
        }
        writer.flush().map_err(|e| AppError::Internal(e.into()))?;
    }
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"promotion-{}.csv\"", cohort.id),
        ))
        .body(out))
}

async fn set_trainers(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let cohort = cohort_for_staff(&state, &me, path.into_inner()).await?;
    me.require_org_admin_of(cohort.organism_id)?;
    let wanted: Vec<i64> = pairs
        .iter()
        .filter(|(k, _)| k == "trainer")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    let (org, cid, actor) = (cohort.organism_id, cohort.id, me.id);
    state
        .db(move |c| {
            // Only this organism's own staff can be trainers of its cohort.
            let staff: Vec<i64> = crate::accounts::store::staff_of(c, org)?
                .iter()
                .map(|u| u.id)
                .collect();
            if wanted.iter().any(|t| !staff.contains(t)) {
                return Err(AppError::forbidden());
            }
            crate::db::transaction(c, |c| {
                let before = store::trainers_of(c, cid)?;
                store::set_trainers(c, cid, &wanted)?;
                crate::audit::record(
                    c,
                    crate::audit::Event::new("cohort_trainers_set", "cohort", Some(cid))
                        .by(Some(actor))
                        .in_organism(Some(org))
                        .change(before, &wanted),
                )?;
                Ok(())
            })
        })
        .await?;
    Ok(w::redirect(&format!("/promotions/{cid}")))
}

#[derive(Deserialize)]
struct VersionForm {
    /// The number of the version the page offered, so that a page shown before a later
    /// publish cannot move the cohort to a version its administrator never saw.
    version: i32,
}

/// Moves the cohort on to its programme's current version (its organism's administrator).
async fn move_version(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<VersionForm>,
) -> AppResult<HttpResponse> {
    let cohort = cohort_for_staff(&state, &me, path.into_inner()).await?;
    me.require_org_admin_of(cohort.organism_id)?;
    let moved = version::move_on(&state, me.id, &cohort, form.version).await?;
    Ok(w::redirect(&format!(
        "/promotions/{}?passage={}",
        cohort.id, moved.event
    )))
}
