//! The CQP's copy for the CPAM, on pages: the organism uploads the certificate the branch
//! issued (mailed to the doctors at once) and records what the CPAM asks (the doctor's RPPS
//! or Assurance Maladie number, the aid contract's reference); the trainee, her doctors and
//! her organism download it; a signed-in doctor marks it forwarded.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::cqp::{self, Certificate};
use crate::accounts::{CurrentUser, Role};
use crate::base::field;
use crate::base::paris::today;
use crate::cohorts::access::{staff_access, trainee_access};
use crate::cohorts::doctors;
use crate::cohorts::store as cohorts;
use crate::mail::MailContext;
use crate::vae::documents;
use crate::web::csrf::{self, CsrfForm};
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/stagiaires/{id}/certification/certificat",
        web::post().to(upload),
    )
    .route(
        "/stagiaires/{id}/certification/certificat",
        web::get().to(download),
    )
    .route(
        "/stagiaires/{id}/certification/cpam",
        web::post().to(identifiers),
    )
    .route("/certifications/{id}/cpam", web::post().to(forwarded));
}

/// The certificate (one file, PDF, JPEG or PNG by content), kept and mailed in one go.
async fn upload(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    payload: Multipart,
) -> AppResult<HttpResponse> {
    let trainee = staff_access(&state, &me, path.into_inner()).await?;
    me.require_org_admin_of(trainee.organism_id)?;
    let limit = state.config.vae.max_upload_bytes;
    documents::check_length(&req, limit, 1)?;
    let mut up = documents::read(payload, &state.objects.uploads, limit, 1).await?;
    if let Err(e) = csrf::verify(&req, up.get(csrf::FIELD)) {
        up.discard().await;
        return Err(e);
    }
    let file = up.files.iter().position(|(name, _)| name == "certificate");
    let Some((_, staged)) = file.map(|i| up.files.swap_remove(i)) else {
        up.discard().await;
        return Err(AppError::invalid(
            "certificate",
            "Choisissez le fichier du certificat (PDF, JPEG ou PNG).",
        ));
    };
    let (dir, actor, id) = (state.objects.uploads.clone(), me.id, trainee.id);
    let st = state.clone();
    state
        .db(move |c| {
            let cert = Certificate {
                sha256: staged.sha256.clone(),
                file_name: format!("cqp-{}.{}", trainee.id, staged.kind.extensions()[0]),
                mime: staged.kind.mime().into(),
                bytes: match staged.path() {
                    Some(waiting) => std::fs::read(waiting).map_err(|e| AppError::io("CQP", e))?,
                    None => documents::read_kept(&dir, &staged.sha256)?,
                },
            };
            let mc = MailContext {
                templates: &st.mail_templates,
                base_url: &st.config.base_url,
            };
            cqp::attach_and_send(c, &mc, actor, &trainee, &cert, || {
                staged.keep(&dir).map(|_| ())
            })
        })
        .await?;
    Ok(w::redirect(&format!(
        "/stagiaires/{id}/certification?avis=certificat#cqp-title"
    )))
}

/// The certificate, for the trainee herself, her employer's doctors and her organism.
async fn download(state: State, me: CurrentUser, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    if me.id != id {
        trainee_access(&state, &me, id).await?;
    }
    let row = state
        .db(move |c| Ok(cqp::of_trainee(c, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    let (Some(sha), Some(name), Some(mime)) = (
        row.certificate_sha256.clone(),
        row.certificate_name.clone(),
        row.certificate_mime.clone(),
    ) else {
        return Err(AppError::NotFound);
    };
    let dir = state.objects.uploads.clone();
    let bytes = web::block(move || documents::read_kept(&dir, &sha))
        .await
        .map_err(|e| AppError::Internal(e.into()))??;
    Ok(documents::attachment_response(&name, &mime, bytes))
}

#[derive(Deserialize)]
struct IdentifiersForm {
    #[serde(default)]
    aid_contract_ref: String,
    /// One doctor of the employer at a time.
    #[serde(default)]
    doctor_id: Option<i64>,
    #[serde(default)]
    rpps: String,
    #[serde(default)]
    am_number: String,
}

/// Staff record what the CPAM asks: the aid contract's reference and, for one of the
/// employer's doctors, his RPPS and Assurance Maladie numbers. Audited.
async fn identifiers(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<IdentifiersForm>,
) -> AppResult<HttpResponse> {
    let trainee = staff_access(&state, &me, path.into_inner()).await?;
    me.require_org_admin_of(trainee.organism_id)?;
    let contract = optional(&form.aid_contract_ref, 60, "aid_contract_ref")?;
    let rpps = field::check_rpps(&form.rpps).map_err(|e| AppError::invalid("rpps", e))?;
    let am =
        field::check_am_number(&form.am_number).map_err(|e| AppError::invalid("am_number", e))?;
    let (actor, id) = (me.id, trainee.id);
    state
        .db(move |c| {
            crate::db::transaction(c, |c| {
                doctors::set_aid_contract_ref(c, id, contract.as_deref())?;
                let mut detail = serde_json::json!({"aid_contract_ref": contract});
                if let Some(doctor) = form.doctor_id {
                    // Only a doctor of her employer, reachable or not.
                    if !cohorts::employs(c, doctor, id)? {
                        return Err(AppError::NotFound);
                    }
                    crate::accounts::store::set_cpam_identifiers(
                        c,
                        doctor,
                        rpps.as_deref(),
                        am.as_deref(),
                    )?;
                    detail["doctor"] =
                        serde_json::json!({"id": doctor, "rpps": rpps, "am_number": am});
                }
                crate::audit::record(
                    c,
                    crate::audit::Event::new("cpam_identifiers", "trainee", Some(id))
                        .by(Some(actor))
                        .in_organism(Some(trainee.organism_id))
                        .detail(detail),
                )?;
                Ok(())
            })
        })
        .await?;
    Ok(w::redirect(&format!(
        "/stagiaires/{id}/certification?avis=cpam#cpam-title"
    )))
}

fn optional(raw: &str, max: usize, field: &'static str) -> AppResult<Option<String>> {
    let v = raw.trim();
    if v.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("La référence du contrat d'aide dépasse {max} caractères."),
        ));
    }
    Ok((!v.is_empty()).then(|| v.to_string()))
}

#[derive(Deserialize)]
struct ForwardedForm {
    #[serde(default)]
    forwarded: Option<String>,
}

/// A signed-in doctor ticks "CQP transmis à la CPAM" (today) or unticks it.
async fn forwarded(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<ForwardedForm>,
) -> AppResult<HttpResponse> {
    me.require(&[Role::Doctor])?;
    let (doctor, id) = (me.id, path.into_inner());
    let on = form.forwarded.is_some().then(today);
    state
        .db(move |c| {
            let row = cqp::get(c, id)?.ok_or(AppError::NotFound)?;
            if !cohorts::employs(c, doctor, row.trainee_id)? {
                return Err(AppError::NotFound);
            }
            crate::db::transaction(c, |c| Ok(cqp::mark_forwarded(c, doctor, &row, on)?))
        })
        .await?;
    Ok(w::redirect("/"))
}
