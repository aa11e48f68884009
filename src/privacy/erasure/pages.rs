//! The pages of erasure: a person's request (`/mon-compte/effacement`), and on the organism's
//! retention page, its legal holds and its proof period.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::holds::{self, Target};
use super::{request, rules, store};
use crate::accounts::CurrentUser;
use crate::web::csrf::CsrfForm;
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/mon-compte/effacement", web::get().to(request_page))
        .route("/mon-compte/effacement", web::post().to(ask))
        .route("/organismes/{id}/gels", web::post().to(set_hold))
        .route(
            "/organismes/{id}/gels/{hold}/levee",
            web::post().to(lift_hold),
        )
        .route(
            "/organismes/{id}/conservation/duree",
            web::post().to(proof_years),
        );
}

async fn request_page(req: HttpRequest, state: State, me: CurrentUser) -> AppResult<HttpResponse> {
    render_request(&req, &state, &me, None).await
}

async fn render_request(
    req: &HttpRequest,
    state: &State,
    me: &CurrentUser,
    error: Option<&str>,
) -> AppResult<HttpResponse> {
    let id = me.id;
    let answers = state.db(move |c| Ok(request::answers_of(c, id)?)).await?;
    let mut ctx = w::context(req);
    ctx.insert("me", &me.view());
    ctx.insert("answers", &answers);
    ctx.insert("error", &error);
    let status = match error {
        Some(_) => actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        None => actix_web::http::StatusCode::OK,
    };
    state.render_status(status, "privacy/erasure.html", &ctx)
}

#[derive(Deserialize)]
struct AskForm {
    #[serde(default)]
    confirm: Option<String>,
}

/// The request: answered at once; when accepted, she is erased and signed out.
async fn ask(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    CsrfForm(form): CsrfForm<AskForm>,
) -> AppResult<HttpResponse> {
    if me.session_id.is_none() {
        return Err(AppError::forbidden());
    }
    if form.confirm.as_deref() != Some("oui") {
        let message = "Cochez la case qui confirme votre demande : rien n'a été enregistré.";
        return render_request(&req, &state, &me, Some(message)).await;
    }
    let (id, st) = (me.id, state.clone());
    let answered = state
        .db(move |c| {
            let key = crate::attestation::rules::derive_key(&st.config.secret);
            let settings = crate::privacy::Settings::from(st.config.retention);
            let today = crate::base::paris::today();
            let answered = request::request(c, &key, &settings, id, today)?;
            if answered.accepted {
                store::delete_queued_files(c, &st.objects.uploads)?;
            }
            Ok(answered)
        })
        .await?;
    if !answered.accepted {
        return Ok(w::redirect("/mon-compte/effacement"));
    }
    let mut ctx = w::context(&req);
    ctx.insert("answered", &answered);
    let mut res = state.render("privacy/erased.html", &ctx)?;
    res.add_cookie(&crate::accounts::session::removal_cookie())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("cookie: {e}")))?;
    Ok(res)
}

#[derive(Deserialize)]
struct HoldForm {
    #[serde(default)]
    target: String,
    #[serde(default)]
    reason: String,
}

/// `cohorte-12` or `stagiaire-34`, as the select names them.
fn parse_target(raw: &str) -> Option<Target> {
    let (kind, id) = raw.split_once('-')?;
    let id: i64 = id.parse().ok()?;
    match kind {
        "cohorte" => Some(Target::Cohort(id)),
        "stagiaire" => Some(Target::Trainee(id)),
        _ => None,
    }
}

async fn set_hold(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<HoldForm>,
) -> AppResult<HttpResponse> {
    let organism = path.into_inner();
    me.require_org_admin_of(organism)?;
    let target = parse_target(&form.target).ok_or_else(|| {
        AppError::invalid("target", "Choisissez la promotion ou le stagiaire à geler.")
    })?;
    let by = me.id;
    state
        .db(move |c| holds::set(c, organism, target, &form.reason, by))
        .await?;
    Ok(w::redirect(&format!(
        "/organismes/{organism}/conservation#gels"
    )))
}

#[derive(Deserialize)]
struct LiftForm {
    #[serde(default)]
    reason: String,
}

async fn lift_hold(
    state: State,
    me: CurrentUser,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<LiftForm>,
) -> AppResult<HttpResponse> {
    let (organism, hold) = path.into_inner();
    me.require_org_admin_of(organism)?;
    let by = me.id;
    state
        .db(move |c| holds::lift(c, organism, hold, &form.reason, by))
        .await?;
    Ok(w::redirect(&format!(
        "/organismes/{organism}/conservation#gels"
    )))
}

#[derive(Deserialize)]
struct YearsForm {
    #[serde(default)]
    years: String,
}

/// The organism's proof period; empty: the installation's.
async fn proof_years(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<YearsForm>,
) -> AppResult<HttpResponse> {
    let organism = path.into_inner();
    me.require_org_admin_of(organism)?;
    let years = match form.years.trim() {
        "" => None,
        raw => Some(rules::check_proof_years(raw).map_err(|m| AppError::invalid("years", m))?),
    };
    let by = me.id;
    state
        .db(move |c| holds::set_proof_years(c, organism, years, by))
        .await?;
    Ok(w::redirect(&format!(
        "/organismes/{organism}/conservation#duree"
    )))
}
