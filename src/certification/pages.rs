//! Pages of the certification record: an organism's sessions, a session (candidates,
//! results per bloc), and a trainee's blocs and CQP. Staff read; administrators change.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::date_pages::{Confirm, candidate_lines, confirm_page};
use super::record;
use super::rules::{self, Outcome, SessionInput};
use super::store::{self, SessionRow};
use crate::accounts::CurrentUser;
use crate::audit::{self, Event};
use crate::base::format;
use crate::base::paris::today;
use crate::cohorts::access::{
    Access, NamedFlag, deadline_flags_of, deadline_of, flags_for_change, staff_access,
    trainee_access,
};
use crate::cohorts::store::{self as cohorts, Scope};
use crate::curriculum::Content;
use crate::web::csrf::CsrfForm;
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(super::my_pages::routes)
        .route("/organismes/{id}/certification", web::get().to(list))
        .route("/organismes/{id}/certification", web::post().to(create))
        .route("/certification/{id}", web::get().to(show))
        .route("/certification/{id}/candidats", web::post().to(register))
        .route(
            "/certification/{id}/candidats/{trainee}/retrait",
            web::post().to(unregister),
        )
        .route(
            "/certification/{id}/candidats/{trainee}/resultats",
            web::post().to(results),
        )
        .route(
            "/stagiaires/{id}/certification",
            web::get().to(trainee_page),
        )
        .route("/stagiaires/{id}/certification", web::post().to(record_cqp));
}

/// A session its organism's staff may see; anyone else is told it does not exist.
pub(super) async fn session_for_staff(
    state: &State,
    me: &CurrentUser,
    id: i64,
) -> AppResult<SessionRow> {
    let s = state
        .db(move |c| Ok(store::session(c, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    me.hide_unless_staff_of(s.organism_id)?;
    Ok(s)
}

/// The same, for an administrator of the organism (a trainer only reads).
pub(super) async fn session_for_admin(
    state: &State,
    me: &CurrentUser,
    id: i64,
) -> AppResult<SessionRow> {
    let s = session_for_staff(state, me, id).await?;
    me.require_org_admin_of(s.organism_id)?;
    Ok(s)
}

fn session_view(s: &SessionRow, titles: &[(String, String)]) -> serde_json::Value {
    let blocs: Vec<serde_json::Value> = s
        .blocs()
        .iter()
        .map(|b| {
            let title = titles
                .iter()
                .find(|t| &t.0 == b)
                .map_or("", |t| t.1.as_str());
            serde_json::json!({"code": b, "title": title})
        })
        .collect();
    serde_json::json!({
        "id": s.id, "organism_id": s.organism_id, "held_on": s.held_on,
        "place": s.place, "jury": s.jury, "blocs": blocs,
    })
}

async fn list(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let org = path.into_inner();
    me.hide_unless_staff_of(org)?;
    let (sessions, titles) = state
        .db(move |c| Ok((store::sessions_of(c, org)?, store::cqp_blocs(c)?)))
        .await?;
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("organism_id", &org);
    ctx.insert(
        "sessions",
        &sessions
            .iter()
            .map(|s| session_view(s, &titles))
            .collect::<Vec<_>>(),
    );
    ctx.insert("blocs", &titles);
    ctx.insert("can_edit", &me.require_org_admin_of(org).is_ok());
    state.render("certification/sessions.html", &ctx)
}

async fn create(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let org = path.into_inner();
    me.hide_unless_staff_of(org)?;
    me.require_org_admin_of(org)?;
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map_or(String::new(), |(_, v)| v.clone())
    };
    let chosen: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "blocs")
        .map(|(_, v)| v.clone())
        .collect();
    let (held_on, place, jury) = (field("held_on"), field("place"), field("jury"));
    let actor = me.id;
    let id = state
        .db(move |c| {
            let known: Vec<String> = store::cqp_blocs(c)?.into_iter().map(|b| b.0).collect();
            let input = SessionInput {
                held_on: &held_on,
                place: &place,
                jury: &jury,
                blocs: &chosen,
            };
            let new = rules::check_session(&input, &known).map_err(|errors| {
                AppError::Invalid(
                    errors
                        .into_iter()
                        .map(|(f, m)| crate::base::field::FieldError::new(f, m))
                        .collect(),
                )
            })?;
            crate::db::transaction(c, |c| Ok(store::insert_session(c, actor, org, &new)?))
        })
        .await?;
    Ok(w::redirect(&format!("/certification/{id}")))
}

async fn show(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let s = session_for_staff(&state, &me, path.into_inner()).await?;
    let (sid, org) = (s.id, s.organism_id);
    let held_on = s.held_on;
    let s2 = s.clone();
    let (candidates, results, titles, trainees, flags) = state
        .db(move |c| {
            let lines = candidate_lines(c, &s2)?;
            Ok((
                store::candidates_of(c, sid)?,
                store::results_of(c, sid)?,
                store::cqp_blocs(c)?,
                store::cqp_trainees(c, org)?,
                flags_for_change(&lines, today(), None, Some(held_on)),
            ))
        })
        .await?;
    let lines: Vec<serde_json::Value> = candidates
        .iter()
        .map(|cand| {
            let blocs: Vec<serde_json::Value> = cand
                .blocs()
                .iter()
                .map(|b| {
                    let result = results
                        .iter()
                        .find(|r| r.0 == cand.trainee_id && &r.1 == b)
                        .map(|r| r.2.clone());
                    let label = result
                        .as_deref()
                        .and_then(Outcome::parse)
                        .map(Outcome::label);
                    serde_json::json!({"code": b, "result": result, "label": label})
                })
                .collect();
            let has_results = results.iter().any(|r| r.0 == cand.trainee_id);
            let mine: Vec<&NamedFlag> = flags
                .iter()
                .filter(|f| f.trainee_id == cand.trainee_id)
                .collect();
            serde_json::json!({
                "trainee_id": cand.trainee_id, "name": cand.name,
                "derogation": cand.derogation, "blocs": blocs, "has_results": has_results,
                "flags": mine,
            })
        })
        .collect();
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("session", &session_view(&s, &titles));
    ctx.insert("candidates", &lines);
    ctx.insert(
        "trainees",
        &trainees
            .iter()
            .filter(|t| !candidates.iter().any(|c| c.trainee_id == t.0))
            .collect::<Vec<_>>(),
    );
    ctx.insert("can_edit", &me.require_org_admin_of(org).is_ok());
    ctx.insert("has_results", &!results.is_empty());
    state.render("certification/session.html", &ctx)
}

#[derive(Deserialize)]
struct RegisterForm {
    trainee_id: String,
    #[serde(default)]
    derogation: String,
    /// `1` once staff saw that the session falls after her deadline.
    #[serde(default)]
    confirm: String,
}

/// Why a registration's transaction stops: a refusal, or a deadline to confirm first.
enum Stop {
    Refused(AppError),
    Unconfirmed(Vec<NamedFlag>),
}

impl From<diesel::result::Error> for Stop {
    fn from(e: diesel::result::Error) -> Self {
        Stop::Refused(e.into())
    }
}

impl From<AppError> for Stop {
    fn from(e: AppError) -> Self {
        Stop::Refused(e)
    }
}

async fn register(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<RegisterForm>,
) -> AppResult<HttpResponse> {
    let s = session_for_admin(&state, &me, path.into_inner()).await?;
    let trainee: i64 = form
        .trainee_id
        .trim()
        .parse()
        .map_err(|_| AppError::invalid("trainee_id", "Choisissez une stagiaire."))?;
    let (actor, sid, held_on) = (me.id, s.id, s.held_on);
    let confirm = form.confirm == "1";
    let derogation = form.derogation.clone();
    // Her eligibility first (`record::register`), then her deadline: rolled back until confirmed.
    let done = state
        .db(move |c| {
            let result = crate::db::transaction(c, |c| {
                record::register(c, &content, actor, &s, trainee, Some(derogation.as_str()))?;
                let lines: Vec<_> = cohorts::trainee(c, Scope::Organism(s.organism_id), trainee)?
                    .into_iter()
                    .collect();
                let flags = flags_for_change(&lines, today(), None, Some(s.held_on));
                if flags.is_empty() {
                    return Ok(());
                }
                if !confirm {
                    return Err(Stop::Unconfirmed(flags));
                }
                audit::record(
                    c,
                    Event::new(
                        "certification_registered.deadline_confirmed",
                        "trainee",
                        Some(trainee),
                    )
                    .by(Some(actor))
                    .in_organism(Some(s.organism_id))
                    .detail(serde_json::json!({"session": s.id, "flags": flags})),
                )?;
                Ok(())
            });
            match result {
                Ok(()) => Ok(None),
                Err(Stop::Unconfirmed(flags)) => Ok(Some(flags)),
                Err(Stop::Refused(e)) => Err(e),
            }
        })
        .await?;
    let Some(flags) = done else {
        return Ok(w::redirect(&format!("/certification/{sid}")));
    };
    confirm_page(
        &req,
        &state,
        &me,
        Confirm {
            title: "Inscrire une candidate après son échéance".into(),
            intro: format!(
                "La session du {} a lieu après l'échéance de cette stagiaire pour obtenir le CQP :",
                format::date(held_on)
            ),
            flags: &flags,
            action: format!("/certification/{sid}/candidats"),
            fields: vec![
                ("trainee_id", trainee.to_string()),
                ("derogation", form.derogation),
            ],
            back: format!("/certification/{sid}"),
            label: "Confirmer l'inscription",
        },
    )
}

async fn unregister(
    state: State,
    me: CurrentUser,
    path: web::Path<(i64, i64)>,
    CsrfForm(_): CsrfForm<crate::web::csrf::Empty>,
) -> AppResult<HttpResponse> {
    let (id, trainee) = path.into_inner();
    let s = session_for_admin(&state, &me, id).await?;
    let by = store::By {
        actor: me.id,
        organism_id: s.organism_id,
    };
    state
        .db(move |c| crate::db::transaction(c, |c| store::unregister(c, by, id, trainee)))
        .await?;
    Ok(w::redirect(&format!("/certification/{id}")))
}

async fn results(
    state: State,
    me: CurrentUser,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let (id, trainee) = path.into_inner();
    let s = session_for_admin(&state, &me, id).await?;
    // Fields `bloc_M1=acquired`…
    let results: Vec<(String, String)> = form
        .into_iter()
        .filter_map(|(k, v)| k.strip_prefix("bloc_").map(|b| (b.to_string(), v)))
        .collect();
    let actor = me.id;
    state
        .db(move |c| record::record_results(c, actor, &s, trainee, &results))
        .await?;
    Ok(w::redirect(&format!("/certification/{id}")))
}

async fn trainee_page(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let (trainee, access) = trainee_access(&state, &me, path.into_inner()).await?;
    let t = trainee.clone();
    let (st, cqp, reach, contract, planned, alerts) = state
        .db(move |c| {
            let st = record::status(c, &content, &t, today())?;
            let reach = crate::cohorts::doctors::reach(c, t.employer_id)?;
            let contract = crate::cohorts::doctors::aid_contract_ref(c, t.id)?;
            let next = store::next_sessions_of(c, &[t.id], today())?.remove(&t.id);
            let alerts = store::alerts_of(c, t.id)?;
            let cqp = super::cqp::of_trainee(c, t.id)?;
            Ok((st, cqp, reach, contract, next, alerts))
        })
        .await?;
    // Her next session is the certification her deadline is weighed against.
    let deadline = deadline_of(&trainee, today());
    let days_left = (deadline - today()).num_days();
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("trainee", &trainee);
    ctx.insert("status", &st);
    ctx.insert("cqp", &cqp);
    ctx.insert("doctors", &reach.all);
    ctx.insert("doctor_not_reached", &reach.not_sent);
    ctx.insert("aid_contract_ref", &contract);
    ctx.insert("notice", &notice(&req));
    ctx.insert("is_cqp", &(st.program_kind.as_deref() == Some("cqp")));
    ctx.insert(
        "can_edit",
        &(access == Access::Staff && me.require_org_admin_of(trainee.organism_id).is_ok()),
    );
    ctx.insert("today", &today().to_string());
    ctx.insert("deadline", &deadline);
    ctx.insert(
        "deadline_words",
        &crate::cohorts::rules::deadline_words(days_left),
    );
    ctx.insert("overdue", &(days_left < 0));
    ctx.insert("planned", &planned);
    let alerts: Vec<serde_json::Value> = alerts
        .iter()
        .map(|(months, deadline, at, mails)| {
            serde_json::json!({"months": months, "deadline": deadline,
                "at": format::datetime(*at), "mails": mails})
        })
        .collect();
    ctx.insert("alerts", &alerts);
    ctx.insert(
        "deadline_flags",
        &deadline_flags_of(&trainee, today(), planned),
    );
    state.render("certification/trainee.html", &ctx)
}

/// The `?avis=` a change sent the page back with.
fn notice(req: &HttpRequest) -> Option<&'static str> {
    let q = req.query_string();
    [
        ("avis=certificat", "Certificat déposé."),
        ("avis=cpam", "Informations pour la CPAM enregistrées."),
    ]
    .into_iter()
    .find(|(k, _)| q.split('&').any(|p| p == *k))
    .map(|(_, v)| v)
}

#[derive(Deserialize)]
struct CqpForm {
    obtained_on: String,
    certificate_number: String,
}

async fn record_cqp(
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<CqpForm>,
) -> AppResult<HttpResponse> {
    let trainee = staff_access(&state, &me, path.into_inner()).await?;
    me.require_org_admin_of(trainee.organism_id)?;
    let (actor, id) = (me.id, trainee.id);
    state
        .db(move |c| {
            record::record_cqp(
                c,
                &content,
                actor,
                &trainee,
                &form.obtained_on,
                &form.certificate_number,
            )
        })
        .await?;
    Ok(w::redirect(&format!("/stagiaires/{id}/certification")))
}
