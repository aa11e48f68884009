//! Attestation pages: a trainee's completion and documents (staff), a cohort's batch, the
//! trainee's and the doctor's lists, the PDF and the organism's printed identity. The public
//! verification pages are in `verify_pages.rs`.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use serde::Deserialize;

use super::issue::{self, Issuer, Outcome, Request, Signatory};
use super::mails;
use super::rules::{self, Kind, Statement};
use super::store::{self, AttestationRow};
use crate::accounts::{CurrentUser, Role};
use crate::base::field::FieldError;
use crate::base::format;
use crate::base::paris::today;
use crate::cohorts::access::cohort_for_staff;
use crate::cohorts::access::staff_access;
use crate::cohorts::store as cohorts;
use crate::curriculum::{Content, Editions};
use crate::web::csrf::{CsrfForm, Empty};
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/stagiaires/{id}/attestations", web::get().to(trainee_page))
        .route("/stagiaires/{id}/attestations", web::post().to(issue_one))
        .route("/promotions/{id}/attestations", web::get().to(cohort_page))
        .route("/promotions/{id}/attestations", web::post().to(issue_batch))
        .route("/attestations/{id}/pdf", web::get().to(download))
        .route("/attestations/{id}/revocation", web::post().to(revoke))
        .route("/attestations/{id}/renvoi", web::post().to(resend))
        .route("/attestations/{id}/cpam", web::post().to(cpam))
        .route("/mes-attestations", web::get().to(mine))
        .route("/organismes/{id}/identite", web::get().to(identity_page))
        .route("/organismes/{id}/identite", web::post().to(identity_save));
}

fn issuer<'a>(state: &'a State, editions: &'a Editions) -> Issuer<'a> {
    Issuer {
        key: rules::derive_key(&state.config.secret),
        base_url: &state.config.base_url,
        mail_templates: &state.mail_templates,
        editions,
    }
}

/// A row as lists show it: its kind's title and what it states.
fn view(row: &AttestationRow) -> serde_json::Value {
    let st: Option<Statement> = serde_json::from_str(&row.payload).ok();
    let mut v = serde_json::to_value(row).unwrap_or_default();
    v["title"] = Kind::parse(&row.kind)
        .map_or("Attestation", Kind::title)
        .into();
    v["display_code"] = rules::display_code(&row.code).into();
    if let Some(st) = st {
        v["trainee_name"] = st.trainee_name.clone().into();
        v["program_title"] = st.program_title.clone().into();
        v["done_secs"] = st.done_secs().into();
        v["issued_on"] = st.issued_on.to_string().into();
    }
    v
}

async fn trainee_page(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let trainee = staff_access(&state, &me, id).await?;
    let today = today();
    let (t, c) = (trainee.clone(), content.clone());
    let (st, rows) = state
        .db(move |conn| {
            let eds = c.cohort_editions(conn, t.organism_id)?;
            let st = issue::state_of(conn, &eds, &t, today)?;
            Ok((st, store::of_trainee(conn, t.id)?))
        })
        .await?;
    let final_issued = st.as_ref().and_then(|s| {
        rows.iter().find(|r| {
            r.cohort_id == s.cohort.id && r.revoked_at.is_none() && r.kind != "realisation"
        })
    });
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("trainee", &trainee);
    ctx.insert("state", &st);
    ctx.insert("final_issued", &final_issued.map(view));
    ctx.insert("attestations", &rows.iter().map(view).collect::<Vec<_>>());
    ctx.insert(
        "can_issue",
        &me.require_org_admin_of(trainee.organism_id).is_ok(),
    );
    ctx.insert(
        "final_title",
        st.as_ref().map_or("Attestation de fin de formation", |s| {
            Kind::final_for(&s.cohort.program_kind).title()
        }),
    );
    ctx.insert("today", &today.to_string());
    let notice = web::Query::<NoticeQuery>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.into_inner().avis)
        .and_then(|a| match a.as_str() {
            "delivree" => Some("Document délivré ; il est envoyé au médecin employeur et au stagiaire."),
            "existante" => Some(
                "L'attestation de fin de parcours existe déjà : elle n'est jamais délivrée deux fois. Utilisez « Renvoyer » pour l'envoyer de nouveau.",
            ),
            "renvoyee" => Some("Le document est renvoyé au médecin employeur et au stagiaire."),
            "revoquee" => Some("Le document est révoqué ; la page de vérification l'indique désormais."),
            _ => None,
        });
    ctx.insert("notice", &notice);
    ctx.insert(
        "period_start",
        &st.as_ref()
            .map_or(today, |s| {
                crate::attestation::rules::path_dates(
                    s.cohort.start_date,
                    s.entered_on,
                    s.left_on,
                    today,
                )
                .0
            })
            .to_string(),
    );
    state.render("attestation/trainee.html", &ctx)
}

#[derive(Deserialize)]
struct NoticeQuery {
    avis: Option<String>,
}

#[derive(Deserialize)]
struct IssueForm {
    kind: String,
    #[serde(default)]
    derogation: Option<String>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

fn parse_date(field: &str, raw: &str) -> AppResult<NaiveDate> {
    format::parse_day(raw).ok_or_else(|| AppError::invalid(field, "Date invalide (jj/mm/aaaa)."))
}

fn signatory(me: &CurrentUser) -> Signatory {
    Signatory {
        user_id: Some(me.id),
        name: me.name.clone(),
    }
}

async fn issue_one(
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<IssueForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let trainee = staff_access(&state, &me, id).await?;
    // Issuing is an organism administrator's decision; trainers may only look.
    me.require_org_admin_of(trainee.organism_id)?;
    let request = match form.kind.as_str() {
        "final" => Request::Final {
            derogation: form.derogation.is_some().then(|| form.reason.clone()),
        },
        "realisation" => Request::Realisation {
            from: parse_date("from", &form.from)?,
            to: parse_date("to", &form.to)?,
            notify: true,
        },
        _ => return Err(AppError::invalid("kind", "Choisissez un document.")),
    };
    let st = state.clone();
    let by = signatory(&me);
    let org = trainee.organism_id;
    let today = today();
    let outcome = state
        .db(move |c| {
            let eds = content.cohort_editions(c, org)?;
            let ctx = issuer(&st, &eds);
            issue::issue(c, &ctx, &by, org, id, &request, today)
        })
        .await?;
    let notice = match outcome {
        Outcome::Issued(_) => "delivree",
        Outcome::AlreadyIssued(_) => "existante",
    };
    Ok(w::redirect(&format!(
        "/stagiaires/{id}/attestations?avis={notice}"
    )))
}

async fn cohort_page(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let cohort = cohort_for_staff(&state, &me, path.into_inner()).await?;
    let today = today();
    let (c2, content2) = (cohort.clone(), content.clone());
    let lines = state
        .db(move |conn| {
            let trainees = cohorts::trainees_of_cohort(conn, c2.organism_id, c2.id)?;
            let eds = content2.cohort_editions(conn, c2.organism_id)?;
            let finals = store::finals_of_cohort(conn, c2.id)?;
            let mut out = Vec::with_capacity(trainees.len());
            for t in &trainees {
                let st = issue::state_of(conn, &eds, t, today)?;
                out.push(serde_json::json!({
                    "trainee": t,
                    "complete": st.as_ref().is_some_and(|s| s.completion.complete),
                    "missing": st.as_ref().map(|s| s.completion.modules.iter()
                        .filter(|m| !m.complete)
                        .map(|m| format!("{} : {}", m.code, m.missing.join(", ")))
                        .collect::<Vec<_>>()).unwrap_or_default(),
                    "attestation": finals.get(&t.id),
                }));
            }
            Ok(out)
        })
        .await?;
    let ready = lines
        .iter()
        .filter(|l| l["complete"] == true && l["attestation"].is_null())
        .count();
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("cohort", &cohort);
    ctx.insert("lines", &lines);
    ctx.insert("ready", &ready);
    ctx.insert(
        "can_issue",
        &me.require_org_admin_of(cohort.organism_id).is_ok(),
    );
    ctx.insert(
        "summary",
        &web::Query::<BatchQuery>::from_query(req.query_string())
            .ok()
            .map(|q| q.into_inner()),
    );
    state.render("attestation/cohort.html", &ctx)
}

#[derive(Deserialize, serde::Serialize)]
struct BatchQuery {
    emises: Option<usize>,
    deja: Option<usize>,
    incompletes: Option<usize>,
}

async fn issue_batch(
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let cohort = cohort_for_staff(&state, &me, path.into_inner()).await?;
    me.require_org_admin_of(cohort.organism_id)?;
    let st = state.clone();
    let by = signatory(&me);
    let (c2, today) = (cohort.clone(), today());
    let summary = state
        .db(move |c| {
            let eds = content.cohort_editions(c, c2.organism_id)?;
            let ctx = issuer(&st, &eds);
            issue::issue_cohort(c, &ctx, &by, &c2, today, |_, _| {})
        })
        .await?;
    Ok(w::redirect(&format!(
        "/promotions/{}/attestations?emises={}&deja={}&incompletes={}",
        cohort.id, summary.issued, summary.already, summary.incomplete
    )))
}

/// Who may see an attestation: staff of its organism, the trainee, their employer doctor.
async fn visible(state: &State, me: &CurrentUser, id: i64) -> AppResult<AttestationRow> {
    let me2 = me.clone();
    state
        .db(move |c| {
            let row = store::get(c, id)?.ok_or(AppError::NotFound)?;
            let allowed = match me2.role {
                Role::Trainee => row.trainee_id == me2.id,
                Role::Doctor => cohorts::employs(c, me2.id, row.trainee_id)?,
                _ => me2.require_staff_of(row.organism_id).is_ok(),
            };
            // Nobody else learns that the document exists.
            if !allowed {
                return Err(AppError::NotFound);
            }
            Ok(row)
        })
        .await
}

async fn download(state: State, me: CurrentUser, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let row = visible(&state, &me, path.into_inner()).await?;
    if row.erased_at.is_some() {
        return Err(AppError::Conflict(super::rules::ERASED.into()));
    }
    let id = row.id;
    let pdf = state.db(move |c| Ok(store::pdf(c, id)?)).await?;
    let stem = Kind::parse(&row.kind).map_or("attestation", Kind::file_stem);
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            "Content-Disposition",
            format!("inline; filename=\"{stem}-{}.pdf\"", row.number),
        ))
        .body(pdf))
}

#[derive(Deserialize)]
struct RevokeForm {
    reason: String,
}

async fn revoke(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<RevokeForm>,
) -> AppResult<HttpResponse> {
    let row = visible(&state, &me, path.into_inner()).await?;
    if !me.role.is_staff() && me.role != Role::Admin {
        return Err(AppError::forbidden());
    }
    me.require_org_admin_of(row.organism_id)?;
    let reason =
        rules::check_revoke_reason(&form.reason).map_err(|m| AppError::invalid("reason", m))?;
    let (actor, trainee) = (me.id, row.trainee_id);
    let changed = state
        .db(move |c| crate::db::transaction(c, |c| Ok(store::revoke(c, actor, &row, &reason)?)))
        .await?;
    if !changed {
        return Err(AppError::Conflict(
            "Cette attestation est déjà révoquée.".into(),
        ));
    }
    Ok(w::redirect(&format!(
        "/stagiaires/{trainee}/attestations?avis=revoquee"
    )))
}

async fn resend(
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let row = visible(&state, &me, path.into_inner()).await?;
    if !me.role.is_staff() && me.role != Role::Admin {
        return Err(AppError::forbidden());
    }
    me.require_org_admin_of(row.organism_id)?;
    let trainee = row.trainee_id;
    let (st, actor) = (state.clone(), me.id);
    state
        .db(move |c| {
            let eds = content.cohort_editions(c, row.organism_id)?;
            let ctx = issuer(&st, &eds);
            mails::resend(c, &ctx, actor, &row)
        })
        .await?;
    Ok(w::redirect(&format!(
        "/stagiaires/{trainee}/attestations?avis=renvoyee"
    )))
}

#[derive(Deserialize)]
struct CpamForm {
    #[serde(default)]
    forwarded: Option<String>,
    #[serde(default)]
    forwarded_on: String,
}

/// The doctor ticks "forwarded to the CPAM on …" (or unticks it).
async fn cpam(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<CpamForm>,
) -> AppResult<HttpResponse> {
    me.require(&[Role::Doctor])?;
    let row = visible(&state, &me, path.into_inner()).await?;
    rules::check_for_cpam(&row.kind).map_err(|m| AppError::Conflict(m.into()))?;
    let on = match form.forwarded.is_some() {
        false => None,
        true if form.forwarded_on.trim().is_empty() => Some(today()),
        true => {
            let d = parse_date("forwarded_on", &form.forwarded_on)?;
            if d > today() || d < row.issued_at.date() - chrono::Duration::days(1) {
                return Err(AppError::invalid(
                    "forwarded_on",
                    "La date de transmission doit être comprise entre la date de l'attestation et aujourd'hui.",
                ));
            }
            Some(d)
        }
    };
    let doctor = me.id;
    state
        .db(move |c| crate::db::transaction(c, |c| Ok(store::mark_forwarded(c, doctor, &row, on)?)))
        .await?;
    Ok(w::redirect("/mes-attestations"))
}

/// The trainee's own documents, or the attestations of the doctor's assistants.
async fn mine(req: HttpRequest, state: State, me: CurrentUser) -> AppResult<HttpResponse> {
    me.require(&[Role::Trainee, Role::Doctor])?;
    let me2 = me.clone();
    let rows = state
        .db(move |c| {
            let ids: Vec<i64> = match me2.role {
                Role::Doctor => cohorts::assistants_of(c, me2.id)?
                    .into_iter()
                    .map(|t| t.id)
                    .collect(),
                _ => vec![me2.id],
            };
            Ok(store::of_trainees(c, &ids)?)
        })
        .await?;
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("attestations", &rows.iter().map(view).collect::<Vec<_>>());
    ctx.insert("today", &today().to_string());
    state.render("attestation/mine.html", &ctx)
}

#[derive(Default, Deserialize, serde::Serialize)]
struct IdentityForm {
    #[serde(default)]
    siret: String,
    #[serde(default)]
    nda: String,
    #[serde(default)]
    qualiopi_number: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    city: String,
}

async fn render_identity(
    req: &HttpRequest,
    state: &State,
    me: &CurrentUser,
    id: i64,
    form: Option<IdentityForm>,
    errors: Vec<FieldError>,
) -> AppResult<HttpResponse> {
    let identity = state
        .db(move |c| store::organism_identity(c, id)?.ok_or(AppError::NotFound))
        .await?;
    let form = form.unwrap_or_else(|| {
        let (o, city) = &identity;
        IdentityForm {
            siret: o.siret.clone().unwrap_or_default(),
            nda: o.nda.clone().unwrap_or_default(),
            qualiopi_number: o.qualiopi_number.clone().unwrap_or_default(),
            address: o.address.clone().unwrap_or_default(),
            city: city.clone().unwrap_or_default(),
        }
    });
    let mut ctx = w::context(req);
    ctx.insert("me", &me.view());
    ctx.insert("organism_id", &id);
    ctx.insert("organism_name", &identity.0.name);
    ctx.insert("form", &form);
    ctx.insert("errors", &errors);
    let status = if errors.is_empty() {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    state.render_status(status, "attestation/identity.html", &ctx)
}

async fn identity_page(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    me.require_org_admin_of(id)?;
    render_identity(&req, &state, &me, id, None, vec![]).await
}

async fn identity_save(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<IdentityForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    me.require_org_admin_of(id)?;
    // The organism's own checks (SIRET, NDA, lengths), on its current name.
    let name = state
        .db(move |c| {
            Ok(store::organism_identity(c, id)?
                .ok_or(AppError::NotFound)?
                .0
                .name)
        })
        .await?;
    let input = crate::organisms::rules::OrganismInput {
        name,
        siret: form.siret.clone(),
        nda: form.nda.clone(),
        address: form.address.clone(),
        qualiopi_number: form.qualiopi_number.clone(),
        ..Default::default()
    };
    let city = form.city.trim().to_string();
    let city_error = (city.chars().count() > 100 || city.chars().any(char::is_control))
        .then(|| FieldError::new("city", "La ville : 100 caractères au plus."));
    let checked = match (
        crate::organisms::rules::validate_organism(&input),
        city_error,
    ) {
        (Ok(o), None) => o,
        (result, city_error) => {
            let mut errors = result.err().unwrap_or_default();
            errors.extend(city_error);
            return render_identity(&req, &state, &me, id, Some(form), errors).await;
        }
    };
    let identity = store::Identity {
        siret: checked.siret,
        nda: checked.nda,
        qualiopi_number: checked.qualiopi_number,
        address: checked.address,
        city: Some(city).filter(|c| !c.is_empty()),
    };
    let actor = me.id;
    state
        .db(move |c| {
            crate::db::transaction(c, |c| {
                Ok(store::set_identity(c, Some(actor), id, &identity)?)
            })
        })
        .await?;
    Ok(w::redirect(&format!("/organismes/{id}")))
}
