//! Organism pages: the platform admin's list and form, an organism's own page with its team,
//! invitations and public holidays' setting, and its outgoing mail.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::accounts::invite::{self, Invitee};
use crate::accounts::{CurrentUser, Role};
use crate::base::field::FieldError;
use crate::mail::MailContext;
use crate::mail::outbox;
use crate::organisms::rules::{self, OrganismInput};
use crate::organisms::store;
use crate::web::csrf::{CsrfForm, Empty};
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/organismes", web::get().to(list))
        .route("/admin/organismes", web::post().to(create))
        .route("/organismes/{id}", web::get().to(show))
        .route(
            "/organismes/{id}/invitations",
            web::post().to(invite_person),
        )
        .route(
            "/organismes/{id}/alsace-moselle",
            web::post().to(set_alsace_moselle),
        )
        .route("/organismes/{id}/courriels", web::get().to(mails))
        .route(
            "/organismes/{id}/courriels/{mail}/renvoyer",
            web::post().to(retry_mail),
        );
}

async fn list(req: HttpRequest, state: State, me: CurrentUser) -> AppResult<HttpResponse> {
    me.require(&[Role::Admin])?;
    let organisms = state.db(|c| Ok(store::list_organisms(c)?)).await?;
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("organisms", &organisms);
    ctx.insert("form", &OrganismInput::default());
    state.render("cohorts/organisms.html", &ctx)
}

async fn create(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    CsrfForm(input): CsrfForm<OrganismInput>,
) -> AppResult<HttpResponse> {
    me.require(&[Role::Admin])?;
    let organism = match rules::validate_organism(&input) {
        Ok(o) => o,
        Err(errors) => {
            let organisms = state.db(|c| Ok(store::list_organisms(c)?)).await?;
            let mut ctx = w::context(&req);
            ctx.insert("me", &me.view());
            ctx.insert("organisms", &organisms);
            ctx.insert("form", &input);
            ctx.insert("errors", &errors);
            return state.render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                "cohorts/organisms.html",
                &ctx,
            );
        }
    };
    let actor = me.id;
    let id = state
        .db(move |c| crate::db::transaction(c, |c| Ok(store::create(c, Some(actor), &organism)?)))
        .await?;
    Ok(w::redirect(&format!("/organismes/{id}")))
}

#[derive(Default, Deserialize, serde::Serialize)]
struct InviteForm {
    email: String,
    name: String,
    role: String,
}

#[derive(Deserialize)]
struct ShowQuery {
    invitation: Option<String>,
}

/// What the organism page shows around its facts: the invitation form and its outcome.
struct InviteOutcome {
    status: StatusCode,
    form: InviteForm,
    errors: Vec<FieldError>,
    notice: Option<String>,
}

async fn render_organism(
    req: &HttpRequest,
    state: &State,
    me: &CurrentUser,
    id: i64,
    outcome: InviteOutcome,
) -> AppResult<HttpResponse> {
    let InviteOutcome {
        status,
        form,
        errors,
        notice,
    } = outcome;
    let (organism, staff) = state
        .db(move |c| {
            let o = store::get(c, id)?.ok_or(AppError::NotFound)?;
            let staff = crate::accounts::store::staff_of(c, id)?;
            Ok((o, staff))
        })
        .await?;
    let mut ctx = w::context(req);
    ctx.insert("me", &me.view());
    ctx.insert("can_manage", &me.require_org_admin_of(id).is_ok());
    ctx.insert("organism", &organism);
    ctx.insert("staff", &staff);
    ctx.insert("form", &form);
    ctx.insert("errors", &errors);
    ctx.insert("notice", &notice);
    state.render_status(status, "cohorts/organism.html", &ctx)
}

async fn show(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    query: web::Query<ShowQuery>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    me.require_staff_of(id)?;
    let notice = query
        .invitation
        .as_ref()
        .map(|email| format!("Invitation envoyée à {email}."));
    let form = InviteForm {
        role: "trainer".into(),
        ..Default::default()
    };
    let outcome = InviteOutcome {
        status: StatusCode::OK,
        form,
        errors: vec![],
        notice,
    };
    render_organism(&req, &state, &me, id, outcome).await
}

async fn invite_person(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<InviteForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    me.require_org_admin_of(id)?;
    let role = Role::parse(&form.role).filter(|r| *r != Role::Admin);
    let st = state.clone();
    let (email, name, me2) = (form.email.clone(), form.name.clone(), me.clone());
    let result = match role {
        None => Err(AppError::invalid("role", "Choisissez un rôle.")),
        Some(role) => {
            state
                .db(move |c| {
                    let org = store::get(c, id)?.ok_or(AppError::NotFound)?;
                    let mc = MailContext {
                        templates: &st.mail_templates,
                        base_url: &st.config.base_url,
                    };
                    invite::invite(
                        c,
                        &mc,
                        &me2,
                        (id, &org.name),
                        Invitee {
                            email: &email,
                            name: &name,
                            role,
                        },
                    )
                })
                .await
        }
    };
    match result {
        Ok(_) => {
            let email = crate::base::field::normalize_email(&form.email).unwrap_or_default();
            let q: String = url::form_urlencoded::byte_serialize(email.as_bytes()).collect();
            Ok(w::redirect(&format!("/organismes/{id}?invitation={q}")))
        }
        Err(AppError::Invalid(errors)) => {
            let outcome = InviteOutcome {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                form,
                errors,
                notice: None,
            };
            render_organism(&req, &state, &me, id, outcome).await
        }
        Err(AppError::Conflict(message)) => {
            let outcome = InviteOutcome {
                status: StatusCode::CONFLICT,
                form,
                errors: vec![FieldError::new("email", message)],
                notice: None,
            };
            render_organism(&req, &state, &me, id, outcome).await
        }
        Err(other) => Err(other),
    }
}

#[derive(Deserialize)]
struct LocalLawForm {
    /// A checkbox: sent as `1` when ticked, absent otherwise.
    alsace_moselle: Option<String>,
}

/// Whether the organism works under Alsace-Moselle's local law, where Good Friday and
/// 26 December are public holidays too: its weekly rhythms skip them.
async fn set_alsace_moselle(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<LocalLawForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    me.require_org_admin_of(id)?;
    let on = form.alsace_moselle.as_deref() == Some("1");
    let actor = me.id;
    state
        .db(move |c| {
            store::get(c, id)?.ok_or(AppError::NotFound)?;
            crate::db::transaction(c, |c| Ok(store::set_alsace_moselle(c, actor, id, on)?))
        })
        .await?;
    Ok(w::redirect(&format!("/organismes/{id}")))
}

async fn mails(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    me.require_staff_of(id)?;
    let (organism, lines, bouncing) = state
        .db(move |c| {
            let o = store::get(c, id)?.ok_or(AppError::NotFound)?;
            let lines = outbox::list_for_organism(c, id, 200)?;
            let emails: Vec<String> = lines
                .iter()
                .flat_map(|l| {
                    serde_json::from_str::<Vec<crate::mail::Recipient>>(&l.recipients)
                        .unwrap_or_default()
                })
                .map(|r| r.email)
                .collect();
            let bouncing = crate::mail::bounces::among(c, &emails)?;
            Ok((o, lines, bouncing))
        })
        .await?;
    let lines: Vec<serde_json::Value> = lines
        .into_iter()
        .map(|l| {
            let to: Vec<crate::mail::Recipient> =
                serde_json::from_str(&l.recipients).unwrap_or_default();
            let mut v = serde_json::to_value(&l).unwrap_or_default();
            // A message that failed to an address known to bounce: the server's reason.
            v["bounce"] = serde_json::to_value(
                bouncing
                    .iter()
                    .find(|b| to.iter().any(|r| r.email == b.email)),
            )
            .unwrap_or_default();
            v["to"] = to
                .iter()
                .map(|r| r.email.clone())
                .collect::<Vec<_>>()
                .join(", ")
                .into();
            v
        })
        .collect();
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("organism", &organism);
    ctx.insert("mails", &lines);
    state.render("cohorts/outbox.html", &ctx)
}

async fn retry_mail(
    state: State,
    me: CurrentUser,
    path: web::Path<(i64, i64)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (id, mail) = path.into_inner();
    me.require_staff_of(id)?;
    state
        .db(move |c| {
            // The message must be this organism's: no retrying another's mail by number.
            if outbox::organism_of(c, mail)? != Some(Some(id)) {
                return Err(AppError::NotFound);
            }
            crate::db::transaction(c, |c| {
                if !outbox::retry(c, mail)? {
                    return Err(AppError::Conflict(
                        "Seul un message en échec peut être renvoyé.".into(),
                    ));
                }
                // Sending again is staff saying the address works now: it gets another try.
                let to = outbox::recipients_of(c, mail)?;
                if crate::mail::bounces::clear(c, &to)? > 0 {
                    crate::audit::record(
                        c,
                        crate::audit::Event::new("mail_bounce_cleared", "outbox", Some(mail))
                            .by(Some(me.id))
                            .in_organism(Some(id))
                            .detail(serde_json::json!({"addresses": to})),
                    )?;
                }
                crate::audit::record(
                    c,
                    crate::audit::Event::new("mail_retried", "outbox", Some(mail))
                        .by(Some(me.id))
                        .in_organism(Some(id)),
                )?;
                Ok(())
            })
        })
        .await?;
    Ok(w::redirect(&format!("/organismes/{id}/courriels")))
}
