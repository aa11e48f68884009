//! A trainee's file (staff, and the employer doctor in part), the doctor's assistants and
//! the trainee's own cohort page.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::access::{Access, staff_access, trainee_access, trainee_view};
use super::rules;
use super::store::{self, TraineeLine};
use super::suspension;
use crate::accounts::{CurrentUser, Role};
use crate::base::paris::today;
use crate::web::csrf::CsrfForm;
use crate::web::{self as w, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/stagiaires/{id}", web::get().to(show))
        .route("/stagiaires/{id}/parcours", web::post().to(adjust_path))
        .route("/stagiaires/{id}/transfert", web::post().to(transfer))
        .route("/stagiaires/{id}/sortie", web::post().to(depart))
        .route(
            "/stagiaires/{id}/sortie/annuler",
            web::post().to(undo_departure),
        )
        .route("/stagiaires/{id}/proa", web::post().to(proa))
        .route(
            "/stagiaires/{id}/proa/{window}/fin",
            web::post().to(end_proa),
        )
        .route("/ma-promotion", web::get().to(my_cohort));
}

/// A trainee whose file `me` may change: an administrator of the trainee's organism.
async fn managed(state: &State, me: &CurrentUser, trainee_id: i64) -> AppResult<TraineeLine> {
    let trainee = staff_access(state, me, trainee_id).await?;
    me.require_org_admin_of(trainee.organism_id)?;
    Ok(trainee)
}

#[derive(Serialize)]
struct PathLine {
    module_id: i64,
    code: String,
    title: String,
    planned_minutes: i32,
    exempted_minutes: i32,
    individual_minutes: i32,
    kind: Option<String>,
    reason: Option<String>,
    document_ref: Option<String>,
}

async fn path_of(
    state: &State,
    trainee: &TraineeLine,
) -> AppResult<(Option<store::CohortRow>, Vec<PathLine>)> {
    let (tid, cid) = (trainee.id, trainee.cohort_id);
    state
        .db(move |c| {
            let Some(cohort) = cid.map(|id| store::cohort(c, id)).transpose()?.flatten() else {
                return Ok((None, vec![]));
            };
            let modules = store::program_modules(c, cohort.program_id)?;
            let adjustments = store::adjustments(c, tid)?;
            let lines = modules
                .into_iter()
                .map(|(id, code, title, planned)| {
                    let a = adjustments.iter().find(|a| a.module_id == id);
                    let exempted = a.map_or(0, |a| a.exempted_minutes);
                    PathLine {
                        module_id: id,
                        code,
                        title,
                        planned_minutes: planned,
                        exempted_minutes: exempted,
                        individual_minutes: planned - exempted,
                        kind: a.map(|a| a.kind.clone()),
                        reason: a.map(|a| a.reason.clone()),
                        document_ref: a.and_then(|a| a.document_ref.clone()),
                    }
                })
                .collect();
            Ok((Some(cohort), lines))
        })
        .await
}

/// Can the trainee and her doctors be reached by mail: the addresses that bounce (date and
/// reason), the mails not delivered to them, and each doctor's live links to his page.
async fn reach(state: &State, trainee: &TraineeLine) -> AppResult<serde_json::Value> {
    let (email, employer) = (trainee.email.clone(), trainee.employer_id);
    state
        .db(move |c| {
            let doctors = match employer {
                Some(e) => store::doctor_contacts(c, e)?,
                None => vec![],
            };
            let mut emails = vec![email];
            emails.extend(doctors.iter().map(|d| d.2.clone()));
            let bouncing = crate::mail::bounces::among(c, &emails)?;
            let dead: Vec<String> = bouncing.iter().map(|b| b.email.clone()).collect();
            let not_sent = crate::mail::bounces::failed_to(c, &dead, 10)?;
            let mut links = Vec::new();
            for (id, name, email) in &doctors {
                let (count, until) = crate::accounts::doctor_links::live(c, *id)?;
                links.push(serde_json::json!({"name": name, "email": email, "count": count, "until": until}));
            }
            Ok(serde_json::json!({
                "bouncing": bouncing,
                "not_sent": not_sent,
                "doctors": links,
                "live_links": links.iter().any(|l| l["count"].as_i64() > Some(0)),
            }))
        })
        .await
}

async fn render_file(
    req: &HttpRequest,
    state: &State,
    me: &CurrentUser,
    trainee_id: i64,
    error: Option<String>,
) -> AppResult<HttpResponse> {
    let (trainee, access) = trainee_access(state, me, trainee_id).await?;
    let (cohort, path) = path_of(state, &trainee).await?;
    let today = today();
    let mut ctx = w::context(req);
    ctx.insert("me", &me.view());
    ctx.insert("trainee", &trainee_view(&trainee, today));
    ctx.insert("cohort", &cohort);
    ctx.insert("path", &path);
    ctx.insert(
        "planned_total",
        &path
            .iter()
            .map(|p| p.individual_minutes as i64)
            .sum::<i64>(),
    );
    ctx.insert("staff", &(access == Access::Staff));
    ctx.insert(
        "can_manage",
        &me.require_org_admin_of(trainee.organism_id).is_ok(),
    );
    ctx.insert("error", &error);
    if let Some(c) = &cohort
        && let Some(w) = rules::program_fit_warning(profile_of(&trainee), &c.program_kind)
    {
        ctx.insert("fit_warning", &w);
    }
    if access == Access::Staff {
        let (org, tid) = (trainee.organism_id, trainee.id);
        let (history, cohorts, departure, suspensions) = state
            .db(move |c| {
                Ok((
                    crate::audit::history(c, "trainee", tid, 100)?,
                    store::cohorts_of(c, org)?,
                    store::last_departure(c, tid)?,
                    store::suspensions(c, tid)?,
                ))
            })
            .await?;
        ctx.insert("history", &history);
        ctx.insert("suspensions", &suspensions);
        ctx.insert("reach", &reach(state, &trainee).await?);
        ctx.insert(
            "links_off",
            &req.query_string().contains("avis=liens-desactives"),
        );
        if let Some(d) = departure {
            let reason = d.reason.as_deref().and_then(rules::EndReason::from_db);
            ctx.insert(
                "departure",
                &serde_json::json!({
                    "cohort": d.cohort,
                    "on": d.on,
                    "reason": reason.map_or("—", |r| r.label()),
                    "note": d.note,
                }),
            );
        }
        ctx.insert(
            "end_reasons",
            &rules::EndReason::ALL
                .iter()
                .map(|r| (r.as_str(), r.label()))
                .collect::<Vec<_>>(),
        );
        ctx.insert(
            "cohorts",
            &cohorts
                .into_iter()
                .map(|(c, _)| c)
                .filter(|c| Some(c.id) != trainee.cohort_id)
                .collect::<Vec<_>>(),
        );
    }
    let status = if error.is_some() {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        actix_web::http::StatusCode::OK
    };
    state.render_status(status, "cohorts/trainee.html", &ctx)
}

fn profile_of(t: &TraineeLine) -> rules::Profile {
    rules::Profile::parse(&t.profile).unwrap_or(rules::Profile::Aucun)
}

async fn show(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    render_file(&req, &state, &me, path.into_inner(), None).await
}

#[derive(Deserialize)]
struct AdjustForm {
    module_id: i64,
    kind: String,
    exempted_hours: String,
    reason: String,
    document_ref: String,
}

async fn adjust_path(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<AdjustForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let trainee = managed(&state, &me, id).await?;
    let (_, lines) = path_of(&state, &trainee).await?;
    let Some(line) = lines.iter().find(|l| l.module_id == form.module_id) else {
        return render_file(
            &req,
            &state,
            &me,
            id,
            Some("Ce module ne fait pas partie du parcours.".into()),
        )
        .await;
    };
    if line.kind.as_deref() == Some("vae") {
        return render_file(
            &req,
            &state,
            &me,
            id,
            Some("Ce module a été validé par la VAE : il reste acquis définitivement.".into()),
        )
        .await;
    }
    let hours: Option<f64> = form.exempted_hours.trim().replace(',', ".").parse().ok();
    let minutes = hours.map(|h| (h * 60.0).round() as i32);
    let problem = match minutes {
        None => Some("Indiquez un nombre d'heures (par exemple 7 ou 3,5).".to_string()),
        Some(m) if m < 0 || m > line.planned_minutes => Some(format!(
            "Les heures dispensées doivent être comprises entre 0 et {} h.",
            line.planned_minutes / 60
        )),
        Some(m) if m > 0 && form.reason.trim().is_empty() => {
            Some("Le motif de l'allègement est obligatoire.".to_string())
        }
        _ => None,
    }
    .or_else(|| {
        // A VAE exemption comes from a recorded VAE decision (`vae::workflow`), not by hand.
        match form.kind.as_str() {
            "positionnement" | "equivalence" => None,
            "vae" => Some("Une dispense par VAE découle de la décision du jury enregistrée dans le dossier VAE : elle ne se saisit pas ici.".to_string()),
            _ => Some("Type d'allègement inconnu.".to_string()),
        }
    });
    if let Some(p) = problem {
        return render_file(&req, &state, &me, id, Some(p)).await;
    }
    let minutes = minutes.unwrap_or(0);
    let (actor, org, module_id) = (me.id, trainee.organism_id, form.module_id);
    let (kind, reason, doc) = (
        form.kind,
        form.reason.trim().to_string(),
        form.document_ref.trim().to_string(),
    );
    state
        .db(move |c| {
            crate::db::transaction(c, |c| {
                Ok(store::set_adjustment(
                    c,
                    Some(actor),
                    org,
                    id,
                    module_id,
                    &kind,
                    minutes,
                    &reason,
                    Some(doc.as_str()).filter(|d| !d.is_empty()),
                )?)
            })
        })
        .await?;
    Ok(w::redirect(&format!("/stagiaires/{id}")))
}

#[derive(Deserialize)]
struct TransferForm {
    cohort_id: i64,
    /// Staff confirm a transfer leaving less than the programme's minimum length.
    #[serde(default)]
    confirm: Option<String>,
}

async fn transfer(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<TransferForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let trainee = managed(&state, &me, id).await?;
    let (actor, on, target) = (me.id, today(), form.cohort_id);
    let confirm = form.confirm.is_some();
    let done = state
        .db(move |c| super::enrolment::transfer_checked(c, actor, &trainee, target, on, confirm))
        .await;
    let error = match done {
        Ok(super::enrolment::Transfer::Done(_)) => {
            return Ok(w::redirect(&format!("/stagiaires/{id}")));
        }
        Ok(super::enrolment::Transfer::NeedsConfirmation(warning)) => format!(
            "{warning} Cochez « Je confirme » sous le choix de la promotion, puis transférez de nouveau."
        ),
        Err(crate::web::AppError::Invalid(_)) => {
            "Choisissez une autre promotion de l'organisme.".into()
        }
        Err(e) => return Err(e),
    };
    render_file(&req, &state, &me, id, Some(error)).await
}

#[derive(Deserialize)]
struct DepartureForm {
    #[serde(default)]
    on: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
}

/// Records that the trainee left the training early: the enrolment ends, the hours stay,
/// and Qualiopi's figures count a drop-out.
async fn depart(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<DepartureForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let trainee = managed(&state, &me, id).await?;
    let (actor, today) = (me.id, today());
    let on = crate::base::format::parse_day(&form.on);
    let refused = state
        .db(move |c| {
            crate::db::transaction(c, |c| {
                let Some((cohort, started)) = store::active_enrolment(c, trainee.id)? else {
                    return Ok(Some(
                        "Ce stagiaire n'est inscrit dans aucune promotion.".to_string(),
                    ));
                };
                let (on, reason, note) =
                    match rules::check_departure(started, today, on, &form.reason, &form.note) {
                        Ok(departure) => departure,
                        Err(e) => return Ok(Some(e.message)),
                    };
                store::end_enrolment(c, actor, &trainee, cohort, on, reason, note.as_deref())?;
                Ok(None)
            })
        })
        .await?;
    match refused {
        None => Ok(w::redirect(&format!("/stagiaires/{id}"))),
        Some(message) => render_file(&req, &state, &me, id, Some(message)).await,
    }
}

/// Takes back a departure recorded by mistake.
async fn undo_departure(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<crate::web::csrf::Empty>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let trainee = managed(&state, &me, id).await?;
    let actor = me.id;
    let undone = state
        .db(move |c| crate::db::transaction(c, |c| Ok(store::undo_departure(c, actor, &trainee)?)))
        .await?;
    if undone {
        Ok(w::redirect(&format!("/stagiaires/{id}")))
    } else {
        let message = "Aucune sortie anticipée à annuler pour ce stagiaire.".to_string();
        render_file(&req, &state, &me, id, Some(message)).await
    }
}

#[derive(Deserialize)]
struct ProaForm {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    reason: String,
}

/// Adds a window of ProA funding suspension (several are kept); refused, with the reason,
/// for a trainee whose delay cannot be suspended.
async fn proa(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<ProaForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let trainee = staff_access(&state, &me, id).await?;
    let actor = me.id;
    let done = match (
        suspension::parse_date("from", &form.from),
        suspension::parse_date("to", &form.to),
    ) {
        (Ok(from), Ok(to)) => {
            state
                .db(move |c| suspension::add(c, actor, &trainee, from, to, &form.reason))
                .await
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    after_proa(&req, &state, &me, id, done.map(|_| ())).await
}

#[derive(Deserialize)]
struct ProaEndForm {
    #[serde(default)]
    to: String,
}

/// Gives an open suspension window its end.
async fn end_proa(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<ProaEndForm>,
) -> AppResult<HttpResponse> {
    let (id, window) = path.into_inner();
    let trainee = staff_access(&state, &me, id).await?;
    let actor = me.id;
    let done = match suspension::parse_date("to", &form.to) {
        Ok(to) => {
            state
                .db(move |c| suspension::end(c, actor, &trainee, window, to))
                .await
        }
        Err(e) => Err(e),
    };
    after_proa(&req, &state, &me, id, done).await
}

/// Back to the file, or the file with the refusal (422) and nothing changed.
async fn after_proa(
    req: &HttpRequest,
    state: &State,
    me: &CurrentUser,
    id: i64,
    done: AppResult<()>,
) -> AppResult<HttpResponse> {
    match done {
        Ok(()) => Ok(w::redirect(&format!("/stagiaires/{id}#proa-title"))),
        Err(e @ crate::web::AppError::Invalid(_)) => {
            render_file(req, state, me, id, Some(e.public_message())).await
        }
        Err(e) => Err(e),
    }
}

async fn my_cohort(req: HttpRequest, state: State, me: CurrentUser) -> AppResult<HttpResponse> {
    me.require(&[Role::Trainee])?;
    let id = me.id;
    let (trainee, cohort, sessions, token) = state
        .db(move |c| {
            let t = store::trainee(c, store::Scope::Checked, id)?;
            let cohort = match t.as_ref().and_then(|t| t.cohort_id) {
                Some(cid) => store::cohort(c, cid)?,
                None => None,
            };
            let sessions = match &cohort {
                Some(co) => store::sessions_of(c, co.id)?,
                None => vec![],
            };
            Ok((t, cohort, sessions, store::trainee_ics_token(c, id)?))
        })
        .await?;
    let today = today();
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    if let Some(t) = &trainee {
        ctx.insert("trainee", &trainee_view(t, today));
    }
    ctx.insert("cohort", &cohort);
    ctx.insert(
        "sessions",
        &sessions
            .iter()
            .filter(|s| s.day >= today)
            .take(20)
            .collect::<Vec<_>>(),
    );
    ctx.insert(
        "ics_url",
        &token.map(|t| format!("{}/calendrier/stagiaire/{t}.ics", state.config.base_url)),
    );
    state.render("cohorts/my_cohort.html", &ctx)
}
