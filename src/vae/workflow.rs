//! What happens to a file, each in one transaction with its audit row and the candidate's
//! mail: a new request, a document, a transition and the effect of a decision on the path.

use chrono::NaiveDateTime;
use serde::Serialize;

use super::rules::{self, Action, Actor, DocKind, Experience, Outcome, Status};
use super::store::{self, Change, Request, Scope};
use crate::accounts::CurrentUser;
use crate::accounts::invite;
use crate::accounts::rules::Role;
use crate::accounts::store::{self as users, NewUser, User};
use crate::audit::{self, Event};
use crate::base::format;
use crate::config::StorageSettings;
use crate::db::{self, DbConn};
use crate::mail::MailContext;
use crate::mail::{self, Mail, Recipient, outbox};
use crate::storage::{self, quota, quota::Holder};
use crate::web::{AppError, AppResult};

/// The certification a VAE asks for.
pub const PROGRAM_CODE: &str = "CQP-AM";

pub struct Settings {
    pub min_hours: i64,
    pub livret2_months: u32,
}

/// Who asks: an account (signed in, or whose address was just confirmed), or a new
/// candidate whose address was just confirmed.
pub enum Requester<'a> {
    Account(i64),
    New { email: &'a str, name: &'a str },
}

pub struct RequestInput<'a> {
    pub organism: (i64, &'a str),
    pub requester: Requester<'a>,
    pub phone: &'a str,
    pub address: &'a str,
    pub employer: &'a str,
    pub requested: Vec<String>,
    pub experiences: Vec<Experience>,
    pub ip: String,
}

#[derive(Debug, Serialize)]
pub struct Created {
    pub id: i64,
    pub candidate_id: i64,
    pub warning: Option<String>,
}

fn mail_error(e: mail::MailError) -> AppError {
    AppError::Internal(anyhow::Error::new(e).context("VAE mail"))
}

/// Queues the candidate's mail about their file, in the caller's transaction.
fn notify(
    conn: &mut DbConn,
    mc: &MailContext<'_>,
    req: &Request,
    candidate: &User,
    settings: &Settings,
) -> AppResult<()> {
    let status = req.status();
    let mut ctx = tera::Context::new();
    ctx.insert("name", &candidate.name);
    let organism = crate::organisms::store::get(conn, req.organism_id)?.map(|o| o.name);
    ctx.insert("organism", &organism);
    ctx.insert("status", status.label());
    ctx.insert("state", status.as_str());
    ctx.insert("id", &req.id);
    ctx.insert("link", &format!("{}/ma-vae/{}", mc.base_url, req.id));
    ctx.insert("base_url", mc.base_url);
    ctx.insert("reasons", &req.reasons);
    ctx.insert(
        "jury_at",
        &req.jury_at.map(format::datetime).unwrap_or_default(),
    );
    ctx.insert("jury_place", &req.jury_place);
    ctx.insert(
        "decision",
        &req.decision
            .as_deref()
            .and_then(Outcome::parse)
            .map(|o| o.label()),
    );
    ctx.insert("validated", &req.validated());
    ctx.insert("recommendations", &req.recommendations);
    ctx.insert(
        "livret2_due",
        &req.recevable_at
            .map(|t| format::date(rules::livret2_due(t, settings.livret2_months)))
            .unwrap_or_default(),
    );
    let (subject, text, html) =
        mail::render(mc.templates, "vae_status", &ctx).map_err(mail_error)?;
    let message = Mail::new(
        "vae_status",
        vec![Recipient {
            name: Some(candidate.name.clone()),
            email: candidate.email.clone(),
        }],
        &subject,
        text,
        html,
        vec![],
    )
    .map_err(mail_error)?;
    outbox::enqueue(
        conn,
        Some(req.organism_id),
        &format!("vae:{}:{}", req.id, status.as_str()),
        &message,
        &mc.domain(),
    )?;
    Ok(())
}

fn audit_key(req: &Request) -> String {
    format!("vae:{}", req.id)
}

/// What a request form holds once checked, whoever sends it.
pub struct Checked {
    /// The new candidate's normalised address and name.
    pub identity: Option<(String, String)>,
    pub experience_minutes: i64,
    pub warning: Option<String>,
}

/// Checks a request without looking at who holds the address: periods, modules, contact,
/// address and name. The same refusals whether or not an account exists.
pub fn check(
    conn: &mut DbConn,
    settings: &Settings,
    input: &RequestInput<'_>,
) -> AppResult<Checked> {
    let today = crate::base::paris::today();
    let mut problems = vec![];
    for e in &input.experiences {
        if let Err(m) = rules::check_experience(e, today) {
            problems.push(crate::base::field::FieldError::new("experience", m));
            break;
        }
    }
    if input.experiences.is_empty() {
        problems.push(crate::base::field::FieldError::new(
            "experience",
            "Déclarez au moins une période d'expérience.",
        ));
    }
    if input.requested.is_empty() {
        problems.push(crate::base::field::FieldError::new(
            "modules",
            "Choisissez au moins un module demandé.",
        ));
    }
    if input.phone.trim().is_empty() || input.address.trim().is_empty() {
        problems.push(crate::base::field::FieldError::new(
            "contact",
            "Le téléphone et l'adresse sont obligatoires.",
        ));
    }
    let identity = match &input.requester {
        Requester::Account(_) => None,
        Requester::New { email, name } => Some((
            crate::base::field::normalize_email(email)
                .map_err(|m| AppError::invalid("email", m))?,
            crate::base::field::validate_name(name).map_err(|m| AppError::invalid("name", m))?,
        )),
    };
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let (program_id, _) = store::program_by_code(conn, PROGRAM_CODE)?.ok_or(AppError::NotFound)?;
    let modules = crate::cohorts::store::program_modules(conn, program_id)?;
    if input
        .requested
        .iter()
        .any(|c| !modules.iter().any(|m| &m.1 == c))
    {
        return Err(AppError::invalid("modules", "Module demandé inconnu."));
    }
    let total: i64 = input.experiences.iter().map(|e| i64::from(e.minutes)).sum();
    Ok(Checked {
        identity,
        experience_minutes: total,
        warning: rules::threshold_warning(total, settings.min_hours),
    })
}

/// Records a request: the candidate's account (invited by mail when new), the file, its
/// periods, the audit row and the mail. One per certification and calendar year.
pub fn create(
    conn: &mut DbConn,
    mc: &MailContext<'_>,
    settings: &Settings,
    input: RequestInput<'_>,
) -> AppResult<Created> {
    let checked = check(conn, settings, &input)?;
    let (organism_id, org_name) = input.organism;
    let total = checked.experience_minutes;
    let warning = checked.warning;
    db::transaction(conn, |conn| {
        let (program_id, _) =
            store::program_by_code(conn, PROGRAM_CODE)?.ok_or(AppError::NotFound)?;
        let (candidate, is_new) = match (&input.requester, &checked.identity) {
            (Requester::Account(id), _) => {
                (users::by_id(conn, *id)?.ok_or(AppError::NotFound)?, false)
            }
            (Requester::New { .. }, Some((email, name))) => {
                let id = users::create(
                    conn,
                    None,
                    NewUser {
                        email,
                        name,
                        role: Role::Trainee,
                        organism_id: Some(organism_id),
                        password_hash: None,
                    },
                )?;
                (users::by_id(conn, id)?.ok_or(AppError::NotFound)?, true)
            }
            (Requester::New { .. }, None) => return Err(AppError::NotFound),
        };
        let year = rules::request_year(db::now());
        if let Some(first) = store::same_year(conn, candidate.id, program_id, year)? {
            return Err(AppError::Conflict(format!(
                "Une demande de VAE pour ce CQP a déjà été déposée le {} : une seule demande \
                 par certification et par année civile est possible.",
                format::date(crate::base::paris::paris_date(first))
            )));
        }
        let id = store::insert(
            conn,
            &store::NewRequest {
                organism_id,
                candidate_id: candidate.id,
                program_id,
                year,
                phone: input.phone.trim(),
                address: input.address.trim(),
                employer: input.employer.trim(),
                requested: &input.requested,
                experiences: &input.experiences,
                below_threshold: warning.is_some(),
            },
        )?;
        let req = store::get(conn, Scope::Platform, id)?.ok_or(AppError::NotFound)?;
        audit::record(
            conn,
            Event::new("vae_requested", "vae_request", Some(id))
                .by(Some(candidate.id))
                .in_organism(Some(organism_id))
                .key(audit_key(&req))
                .from_ip(&input.ip)
                .detail(serde_json::json!({
                    "state": Status::Deposee.as_str(),
                    "modules": input.requested,
                    "experience_minutes": total,
                    "below_threshold": warning.is_some(),
                })),
        )?;
        if is_new {
            invite::send_invitation(conn, mc, &candidate, (organism_id, org_name), None)?;
        }
        notify(conn, mc, &req, &candidate, settings)?;
        Ok(Created {
            id,
            candidate_id: candidate.id,
            warning,
        })
    })
}

/// What a transition carries.
#[derive(Debug, Default, Clone)]
pub struct Step {
    pub note: String,
    pub reasons: String,
    pub jury_at: Option<NaiveDateTime>,
    pub jury_place: String,
    pub outcome: Option<Outcome>,
    pub validated: Vec<String>,
    pub recommendations: String,
}

/// The scope of a signed-in person over VAE files, and in which capacity they act.
pub fn scope_of(me: &CurrentUser) -> (Scope, Actor) {
    match me.role {
        Role::Admin => (Scope::Platform, Actor::Staff),
        r if r.is_staff() => (
            me.organism_id
                .map(Scope::Organism)
                .unwrap_or(Scope::Candidate(me.id)),
            Actor::Staff,
        ),
        _ => (Scope::Candidate(me.id), Actor::Candidate),
    }
}

/// Moves a file one step, checked by the state machine; audited and mailed.
pub fn transition(
    conn: &mut DbConn,
    mc: &MailContext<'_>,
    settings: &Settings,
    me: &CurrentUser,
    id: i64,
    action: Action,
    step: &Step,
) -> AppResult<Status> {
    let (scope, actor) = scope_of(me);
    // PostgreSQL stores no NUL character: refuse it on both backends alike.
    let texts = [
        &step.note,
        &step.reasons,
        &step.jury_place,
        &step.recommendations,
    ];
    if texts.iter().any(|t| t.contains('\0')) {
        return Err(AppError::invalid(
            "note",
            "Le texte contient un caractère nul (U+0000) : retirez-le.",
        ));
    }
    db::transaction(conn, |conn| {
        let req = store::get(conn, scope, id)?.ok_or(AppError::NotFound)?;
        let from = req.status();
        let to = rules::next(from, action, actor).map_err(|r| AppError::Conflict(r.message()))?;
        let mut change = Change::default();
        match action {
            Action::Reject => {
                let r = step.reasons.trim();
                if r.is_empty() {
                    return Err(AppError::invalid(
                        "reasons",
                        "Indiquez les motifs de la non-recevabilité.",
                    ));
                }
                change.reasons = Some(r.to_string());
            }
            Action::Accept => {
                let kinds: Vec<DocKind> = store::documents(conn, id)?
                    .iter()
                    .filter_map(|d| DocKind::parse(&d.kind))
                    .collect();
                rules::check_recevable(&kinds).map_err(|m| AppError::invalid("livret1", m))?;
                change.recevable_at = Some(db::now());
            }
            Action::DepositLivret2 => {
                let docs = store::documents(conn, id)?;
                if !docs.iter().any(|d| d.kind == DocKind::Livret2.as_str()) {
                    return Err(AppError::invalid(
                        "livret2",
                        "Joignez d'abord votre livret 2 avant de le déposer.",
                    ));
                }
            }
            Action::PlanJury => {
                let Some(at) = step.jury_at else {
                    return Err(AppError::invalid(
                        "jury_at",
                        "Indiquez la date et l'heure du jury.",
                    ));
                };
                if step.jury_place.trim().is_empty() {
                    return Err(AppError::invalid("jury_place", "Indiquez le lieu du jury."));
                }
                change.jury_at = Some(at);
                change.jury_place = Some(step.jury_place.trim().to_string());
            }
            Action::Decide => {
                rules::check_decision_time(db::now(), req.jury_at)
                    .map_err(|m| AppError::invalid("jury_at", m))?;
                let Some(outcome) = step.outcome else {
                    return Err(AppError::invalid(
                        "outcome",
                        "Choisissez la décision du jury.",
                    ));
                };
                let validated = rules::check_decision(outcome, &step.validated, &req.requested())
                    .map_err(|m| AppError::invalid("validated", m))?;
                change.decision = Some(outcome.as_str().to_string());
                change.validated_modules =
                    Some(serde_json::to_string(&validated).unwrap_or_else(|_| "[]".into()));
                change.recommendations = Some(step.recommendations.trim().to_string());
                keep_validated(conn, me.id, &req, &validated)?;
            }
            Action::Examine | Action::Abandon => {}
        }
        if !store::set_state(conn, id, from, to, &change)? {
            return Err(AppError::Conflict(
                "Le dossier vient de changer : rechargez la page.".into(),
            ));
        }
        audit::record(
            conn,
            Event::new("vae_transition", "vae_request", Some(id))
                .by(Some(me.id))
                .in_organism(Some(req.organism_id))
                .key(audit_key(&req))
                .change(
                    serde_json::json!({"state": from.as_str()}),
                    serde_json::json!({
                        "state": to.as_str(),
                        "action": action.as_str(),
                        "note": step.note.trim(),
                        "reasons": change.reasons,
                        "jury_at": change.jury_at,
                        "jury_place": change.jury_place,
                        "decision": change.decision,
                        "validated": change.validated_modules,
                    }),
                ),
        )?;
        let req = store::get(conn, Scope::Platform, id)?.ok_or(AppError::NotFound)?;
        let candidate = users::by_id(conn, req.candidate_id)?.ok_or(AppError::NotFound)?;
        notify(conn, mc, &req, &candidate, settings)?;
        Ok(to)
    })
}

/// Validated modules are kept for good: first as acquired blocs of the certification record,
/// then, derived from that decision, as path adjustments of kind VAE (the whole module's
/// hours count as validated, not as done) whenever the candidate is a trainee.
fn keep_validated(
    conn: &mut DbConn,
    actor: i64,
    req: &Request,
    validated: &[String],
) -> AppResult<()> {
    let modules = crate::cohorts::store::program_modules(conn, req.program_id)?;
    let today = crate::base::paris::today();
    let known: Vec<String> = validated
        .iter()
        .filter(|c| modules.iter().any(|m| &&m.1 == c))
        .cloned()
        .collect();
    let granted = store::grant_blocs(conn, actor, req, &known, today)?;
    if !granted.is_empty() {
        audit::record(
            conn,
            Event::new(
                "certification_blocs_granted",
                "trainee",
                Some(req.candidate_id),
            )
            .by(Some(actor))
            .in_organism(Some(req.organism_id))
            .detail(serde_json::json!({"vae_request": req.id, "blocs": granted, "on": today})),
        )?;
    }
    let on = format::date(today);
    for code in validated {
        let Some((module_id, _, _, minutes)) = modules.iter().find(|m| &m.1 == code) else {
            continue;
        };
        crate::cohorts::store::set_adjustment(
            conn,
            Some(actor),
            req.organism_id,
            req.candidate_id,
            *module_id,
            "vae",
            *minutes,
            &format!("Validé par VAE (décision du jury du {on})"),
            Some(&format!("VAE n° {}", req.id)),
        )?;
    }
    Ok(())
}

/// A document's file, already kept under its digest, as recorded.
pub struct KeptFile<'a> {
    pub kind: DocKind,
    pub file_name: &'a str,
    pub mime_type: &'a str,
    pub size: u64,
    pub sha256: &'a str,
}

/// Records a kept file on a request with its audit row (the caller holds the transaction).
pub fn record_document(
    conn: &mut DbConn,
    req: &Request,
    uploaded_by: i64,
    file: &KeptFile<'_>,
) -> AppResult<i64> {
    let doc = store::insert_document(
        conn,
        &store::NewDocument {
            request_id: req.id,
            kind: file.kind.as_str(),
            file_name: file.file_name,
            mime_type: file.mime_type,
            size_bytes: i64::try_from(file.size).unwrap_or(i64::MAX),
            sha256: file.sha256,
            uploaded_by,
        },
    )?;
    audit::record(
        conn,
        Event::new("vae_document_added", "vae_request", Some(req.id))
            .by(Some(uploaded_by))
            .in_organism(Some(req.organism_id))
            .key(audit_key(req))
            .detail(serde_json::json!({
                "document": doc, "kind": file.kind.as_str(), "sha256": file.sha256,
                "size": file.size,
            })),
    )?;
    Ok(doc)
}

/// Refuses `adding` bytes past the candidate's or the organism's quota.
pub fn check_quotas(
    conn: &mut DbConn,
    quotas: &StorageSettings,
    candidate_id: i64,
    organism_id: i64,
    adding: u64,
) -> AppResult<()> {
    let refuse = |m: String| AppError::invalid("file", m);
    let used = storage::store::candidate_usage(conn, candidate_id)?;
    quota::check(Holder::Candidate, used, adding, quotas.candidate_quota).map_err(refuse)?;
    let used = storage::store::organism_usage(conn, organism_id)?;
    quota::check(Holder::Organism, used, adding, quotas.organism_quota).map_err(refuse)
}

/// Records an uploaded document on the candidate's own file: the file is moved into place
/// first, and removed again if the row cannot be written, so no file is left unreferenced.
pub fn add_document(
    conn: &mut DbConn,
    dir: &crate::objects::Shelf,
    quotas: &StorageSettings,
    candidate_id: i64,
    id: i64,
    kind: DocKind,
    staged: super::documents::Staged,
) -> AppResult<i64> {
    // Refuse before anything is kept.
    let req = store::get(conn, Scope::Candidate(candidate_id), id)?.ok_or(AppError::NotFound)?;
    if !kind.accepted_in(req.status()) {
        return Err(AppError::Conflict(format!(
            "Cette pièce ne peut pas être ajoutée à un dossier « {} ».",
            req.status().label()
        )));
    }
    check_quotas(conn, quotas, candidate_id, req.organism_id, staged.size)?;
    let sha = staged.sha256.clone();
    let (size, mime, name) = (staged.size, staged.kind.mime(), staged.file_name.clone());
    staged.keep(dir).map_err(|e| AppError::io("VAE file", e))?;
    let result = db::transaction(conn, |conn| {
        let req =
            store::get(conn, Scope::Candidate(candidate_id), id)?.ok_or(AppError::NotFound)?;
        if !kind.accepted_in(req.status()) {
            return Err(AppError::Conflict("Le dossier vient de changer.".into()));
        }
        let file = KeptFile {
            kind,
            file_name: &name,
            mime_type: mime,
            size,
            sha256: &sha,
        };
        record_document(conn, &req, candidate_id, &file)
    });
    if result.is_err() {
        storage::remove_unreferenced(conn, dir, &sha);
    }
    result
}
