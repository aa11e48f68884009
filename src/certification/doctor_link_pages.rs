//! The page a doctor's mailed link opens (`/medecin/<token>`): his assistants' progress,
//! attestations and CQPs, read-only, with one write: "transmis à la CPAM" in one click, on
//! what the CPAM wants (the FAE attestation, the CQP certificate). The token is
//! no session: every other page still asks him to sign in. He may switch his links off from
//! there (or from `/mes-assistants`), and staff from the trainee's file.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::cqp;
use crate::accounts::doctor_links::{self, Found};
use crate::accounts::{CurrentUser, Role};
use crate::attestation::rules;
use crate::attestation::store;
use crate::base::format;
use crate::base::paris::today;
use crate::cohorts::access::staff_access;
use crate::cohorts::store as cohorts;
use crate::web::csrf::{CsrfForm, Empty};
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/medecin/{token}", web::get().to(page))
        .route(
            "/medecin/{token}/attestations/{id}/cpam",
            web::post().to(mark_forwarded),
        )
        .route("/medecin/{token}/cqp/{id}/cpam", web::post().to(mark_cqp))
        .route("/medecin/{token}/desactiver", web::post().to(switch_off))
        .route(
            "/mes-assistants/liens/desactiver",
            web::post().to(switch_off_mine),
        )
        .route(
            "/stagiaires/{id}/liens-medecin/desactiver",
            web::post().to(switch_off_by_staff),
        );
}

/// The answer to a link that opens nothing: unknown (404), or expired or switched off (410).
fn dead(req: &HttpRequest, state: &State, found: &Found) -> AppResult<HttpResponse> {
    let (status, title, message) = match found {
        Found::Expired(at) => (
            StatusCode::GONE,
            "Lien expiré",
            format!(
                "Ce lien a expiré le {}. Le prochain e-mail de Parcours vous en apportera un nouveau ; vous pouvez aussi vous connecter.",
                format::datetime(*at)
            ),
        ),
        Found::Revoked(at) => (
            StatusCode::GONE,
            "Lien désactivé",
            format!(
                "Ce lien a été désactivé le {}. Le prochain e-mail de Parcours vous en apportera un nouveau ; vous pouvez aussi vous connecter.",
                format::datetime(*at)
            ),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            "Lien invalide",
            "Ce lien n'est pas valide. Vérifiez qu'il a été copié en entier.".to_string(),
        ),
    };
    let mut ctx = w::context(req);
    ctx.insert("title", title);
    ctx.insert("message", &message);
    state.render_status(status, "accounts/link_invalid.html", &ctx)
}

/// The live link a token names: `(link, doctor, name)`, or the page to answer instead.
async fn live(state: &State, token: &str) -> AppResult<Result<(i64, i64, String), Found>> {
    let t = token.to_string();
    let found = state.db(move |c| Ok(doctor_links::find(c, &t)?)).await?;
    Ok(match found {
        Found::Valid { link, doctor, name } => Ok((link, doctor, name)),
        other => Err(other),
    })
}

async fn page(req: HttpRequest, state: State, path: web::Path<String>) -> AppResult<HttpResponse> {
    let token = path.into_inner();
    let (link, doctor, name) = match live(&state, &token).await? {
        Ok(l) => l,
        Err(found) => return dead(&req, &state, &found),
    };
    let today = today();
    let (assistants, copies) = state
        .db(move |c| {
            let trainees = cohorts::assistants_of(c, doctor)?;
            let mut out = Vec::new();
            for t in &trainees {
                let hours = crate::tracking::progress::for_trainee(c, t, today)?.map(|h| h.1);
                let attendance = crate::tracking::attendance::attendance_of(c, t.id)?;
                out.push(serde_json::json!({
                    "trainee": crate::cohorts::access::trainee_view(t, today),
                    "hours": hours,
                    "attendance": attendance,
                }));
            }
            let copies = super::copies::for_doctor(c, &trainees)?;
            crate::db::transaction(c, |c| {
                doctor_links::used(c, link, doctor, serde_json::json!({"page": "assistants"}))
            })?;
            Ok((out, copies))
        })
        .await?;
    let mut ctx = w::context(&req);
    ctx.insert("name", &name);
    ctx.insert("token", &token);
    ctx.insert("assistants", &assistants);
    ctx.insert("copies", &copies);
    ctx.insert("notice", &notice(&req));
    state.render("certification/doctor_link.html", &ctx)
}

/// The `?avis=` the page was sent back with, if it is one we know.
fn notice(req: &HttpRequest) -> Option<&'static str> {
    let query = req.query_string();
    ["avis=transmise", "avis=deja"]
        .iter()
        .position(|n| query.split('&').any(|p| p == *n))
        .map(|i| ["transmise", "deja"][i])
}

/// The one write the link allows: today's "transmis à la CPAM" on the FAE attestation of one
/// of his assistants; a document already marked keeps its date.
async fn mark_forwarded(
    req: HttpRequest,
    state: State,
    path: web::Path<(String, i64)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (token, id) = path.into_inner();
    one_click(&req, &state, token, move |c, doctor| {
        let row = store::get(c, id)?.ok_or(AppError::NotFound)?;
        // Another doctor's assistant, or a revoked document: as if it did not exist.
        if row.revoked_at.is_some() || !cohorts::employs(c, doctor, row.trainee_id)? {
            return Err(AppError::NotFound);
        }
        rules::check_for_cpam(&row.kind).map_err(|m| AppError::Conflict(m.into()))?;
        if row.cpam_forwarded_on.is_some() {
            return Ok(None);
        }
        store::mark_forwarded(c, doctor, &row, Some(today()))?;
        Ok(Some(serde_json::json!({"attestation": id})))
    })
    .await
}

/// The same, on the CQP certificate of one of his assistants.
async fn mark_cqp(
    req: HttpRequest,
    state: State,
    path: web::Path<(String, i64)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (token, id) = path.into_inner();
    one_click(&req, &state, token, move |c, doctor| {
        let row = cqp::get(c, id)?.ok_or(AppError::NotFound)?;
        if row.certificate_at.is_none() || !cohorts::employs(c, doctor, row.trainee_id)? {
            return Err(AppError::NotFound);
        }
        if row.cpam_forwarded_on.is_some() {
            return Ok(None);
        }
        cqp::mark_forwarded(c, doctor, &row, Some(today()))?;
        Ok(Some(serde_json::json!({"cqp": id})))
    })
    .await
}

/// Runs a marking for the link's doctor in one transaction with the link's use (`mark` gives
/// what was marked, or `None` when it already was), then back to his page with the notice.
async fn one_click<F>(
    req: &HttpRequest,
    state: &State,
    token: String,
    mark: F,
) -> AppResult<HttpResponse>
where
    F: FnOnce(&mut crate::db::DbConn, i64) -> AppResult<Option<serde_json::Value>> + Send + 'static,
{
    let (link, doctor, _) = match live(state, &token).await? {
        Ok(l) => l,
        Err(found) => return dead(req, state, &found),
    };
    let marked = state
        .db(move |c| {
            crate::db::transaction(c, |c| {
                let marked = mark(c, doctor)?;
                if let Some(what) = &marked {
                    doctor_links::used(c, link, doctor, what.clone())?;
                }
                Ok::<_, AppError>(marked.is_some())
            })
        })
        .await?;
    let avis = if marked { "transmise" } else { "deja" };
    Ok(w::redirect(&format!(
        "{}/{token}?avis={avis}#attestations",
        doctor_links::PATH
    )))
}

/// The doctor switches off every link he was sent, from the link's own page.
async fn switch_off(
    req: HttpRequest,
    state: State,
    path: web::Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let token = path.into_inner();
    let (_, doctor, _) = match live(&state, &token).await? {
        Ok(l) => l,
        Err(found) => return dead(&req, &state, &found),
    };
    state
        .db(move |c| doctor_links::revoke_all(c, doctor, Some(doctor), None))
        .await?;
    let mut ctx = w::context(&req);
    ctx.insert("title", "Liens désactivés");
    ctx.insert(
        "message",
        "Les liens d'accès qui vous ont été envoyés par e-mail sont désactivés. Les prochains e-mails de Parcours en contiendront de nouveaux.",
    );
    state.render("accounts/link_invalid.html", &ctx)
}

/// The same, signed in, from `/mes-assistants`.
async fn switch_off_mine(
    state: State,
    me: CurrentUser,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    me.require(&[Role::Doctor])?;
    let doctor = me.id;
    state
        .db(move |c| doctor_links::revoke_all(c, doctor, Some(doctor), None))
        .await?;
    Ok(w::redirect("/mes-assistants?avis=liens-desactives"))
}

/// Staff switch off the links of the trainee's doctors (a mail that reached the wrong person).
async fn switch_off_by_staff(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let trainee = staff_access(&state, &me, path.into_inner()).await?;
    let (actor, id, org) = (me.id, trainee.id, trainee.organism_id);
    let employer = trainee.employer_id;
    state
        .db(move |c| {
            // Every doctor of her employer, disabled or not: a link may outlive an account.
            let doctors = crate::cohorts::doctors::reach(c, employer)?.all;
            crate::db::transaction(c, |c| {
                for d in &doctors {
                    doctor_links::revoke_all(c, d.id, Some(actor), Some(org))?;
                }
                Ok::<_, AppError>(())
            })
        })
        .await?;
    Ok(w::redirect(&format!(
        "/stagiaires/{id}?avis=liens-desactives"
    )))
}
