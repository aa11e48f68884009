//! The funding file on the trainee's staff pages, and the organism's list of files waiting
//! for an answer.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::file;
use super::rules::{self, Form, Funder, Scheme, Status};
use super::store::{self, FileRow};
use crate::accounts::CurrentUser;
use crate::base::format;
use crate::base::paris::today;
use crate::cohorts::access::staff_access;
use crate::web::csrf::CsrfForm;
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/stagiaires/{id}/financement", web::get().to(show))
        .route("/stagiaires/{id}/financement", web::post().to(save))
        .route("/organismes/{id}/financements", web::get().to(waiting));
}

/// The form's values from a stored file, so the page shows what is kept.
fn form_of(f: &rules::File) -> Form {
    Form {
        funder: f.funder.clone(),
        scheme: f.scheme.clone(),
        file_number: f.file_number.clone(),
        status: f.status.clone(),
        sent_on: f.sent_on.map(|d| d.to_string()).unwrap_or_default(),
        decided_on: f.decided_on.map(|d| d.to_string()).unwrap_or_default(),
        amount: f
            .approved_cents
            .map(|c| format!("{},{:02}", c / 100, c % 100))
            .unwrap_or_default(),
        hours: f
            .approved_minutes
            .map(|m| format::minutes(i64::from(m)))
            .unwrap_or_default(),
        refusal_reason: f.refusal_reason.clone().unwrap_or_default(),
        back_reason: String::new(),
    }
}

/// How the kept file reads: labels, amount in euros, hours.
fn file_view(f: &rules::File) -> serde_json::Value {
    json!({
        "funder": Funder::from_db(&f.funder).map_or("—", |x| x.label()),
        "scheme": Scheme::from_db(&f.scheme).map_or("—", |x| x.label()),
        "file_number": f.file_number,
        "status": Status::from_db(&f.status).map_or("—", |x| x.label()),
        "sent_on": f.sent_on,
        "decided_on": f.decided_on,
        "amount": f.approved_cents.map(rules::euros),
        "hours": f.approved_minutes.map(|m| format::minutes(i64::from(m))),
        "refusal_reason": f.refusal_reason,
    })
}

async fn render(
    req: &HttpRequest,
    state: &State,
    me: &CurrentUser,
    trainee_id: i64,
    typed: Option<(Form, Vec<String>)>,
) -> AppResult<HttpResponse> {
    let trainee = staff_access(state, me, trainee_id).await?;
    let tid = trainee.id;
    let (loaded, history) = state
        .db(move |c| {
            let loaded = file::load(c, tid)?;
            let history = match loaded.as_ref().and_then(|l| l.1.as_ref()) {
                Some(f) => store::history(c, f.id)?,
                None => vec![],
            };
            Ok((loaded, history))
        })
        .await?;
    let kept: Option<&FileRow> = loaded.as_ref().and_then(|l| l.1.as_ref());
    let mut ctx = w::context(req);
    ctx.insert("me", &me.view());
    ctx.insert("trainee", &json!({"id": trainee.id, "name": trainee.name}));
    ctx.insert("enrolled", &loaded.is_some());
    ctx.insert(
        "programme_hours",
        &loaded.as_ref().map(|l| format::minutes(l.2)),
    );
    ctx.insert("kept", &kept.map(|k| file_view(&k.file)));
    let history: Vec<_> = history
        .iter()
        .map(|h| {
            json!({
                "status": Status::from_db(&h.status).map_or("—", |s| s.label()),
                "reason": h.reason, "at": h.at, "by": h.by,
            })
        })
        .collect();
    ctx.insert("history", &history);
    let failed = typed.is_some();
    let (form, errors) = typed.unwrap_or_else(|| {
        let form = kept.map_or_else(
            || Form {
                funder: "opco_ep".into(),
                scheme: "contrat_pro".into(),
                status: "a_envoyer".into(),
                ..Form::default()
            },
            |k| form_of(&k.file),
        );
        (form, vec![])
    });
    ctx.insert(
        "form",
        &json!({
            "funder": form.funder, "scheme": form.scheme, "file_number": form.file_number,
            "status": form.status, "sent_on": form.sent_on, "decided_on": form.decided_on,
            "amount": form.amount, "hours": form.hours,
            "refusal_reason": form.refusal_reason, "back_reason": form.back_reason,
        }),
    );
    ctx.insert("errors", &errors);
    ctx.insert("funders", &Funder::options());
    ctx.insert("schemes", &Scheme::options());
    ctx.insert("statuses", &Status::options());
    let status = if failed {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        actix_web::http::StatusCode::OK
    };
    state.render_status(status, "funding/file.html", &ctx)
}

async fn show(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    render(&req, &state, &me, path.into_inner(), None).await
}

/// Records the file; refused (422, the form as typed, nothing changed) with the reasons.
async fn save(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<Form>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let trainee = staff_access(&state, &me, id).await?;
    let actor = me.id;
    let typed = form.clone();
    match state
        .db(move |c| file::save(c, actor, &trainee, &form))
        .await
    {
        Ok(_) => Ok(w::redirect(&format!("/stagiaires/{id}/financement"))),
        Err(AppError::Invalid(fields)) => {
            let messages = fields.into_iter().map(|f| f.message).collect();
            render(&req, &state, &me, id, Some((typed, messages))).await
        }
        Err(e) => Err(e),
    }
}

/// The organism's files sent and still without an answer, the oldest first; flagged after
/// `rules::ALERT_AFTER_DAYS` days.
async fn waiting(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    // As the organism's other pages: its id is no secret, its files are.
    me.require_staff_of(id)?;
    let (organism, lines) = state
        .db(move |c| {
            let organism = crate::organisms::store::get(c, id)?.ok_or(AppError::NotFound)?;
            Ok((organism, store::waiting(c, id)?))
        })
        .await?;
    let today = today();
    let lines: Vec<_> = lines
        .iter()
        .map(|l| {
            let (days, late) = l.sent_on.map_or((0, false), |d| rules::waiting(d, today));
            json!({
                "trainee_id": l.trainee_id, "trainee": l.trainee, "cohort": l.cohort,
                "funder": Funder::from_db(&l.funder).map_or("—", |x| x.label()),
                "scheme": Scheme::from_db(&l.scheme).map_or("—", |x| x.label()),
                "file_number": l.file_number, "sent_on": l.sent_on,
                "days": days, "late": late,
            })
        })
        .collect();
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert(
        "organism",
        &json!({"id": organism.id, "name": organism.name}),
    );
    ctx.insert("lines", &lines);
    ctx.insert("alert_after", &rules::ALERT_AFTER_DAYS);
    state.render("funding/waiting.html", &ctx)
}
