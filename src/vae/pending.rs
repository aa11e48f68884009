//! An anonymous request waits for its address to be confirmed through a mailed link before
//! anything exists for the organism: no account (a stranger's address cannot be squatted), no
//! file in the staff's list. The answer never depends on whether the address has an account.
//! Unconfirmed requests and their files are purged after `rules::CONFIRM_HOURS`.

use chrono::NaiveDateTime;

use super::documents::Staged;
use super::pending_store::{self as pstore, NewPending, PendingDocument};
use super::rules::{self, DocKind};
use super::store::{self as vstore, Scope};
use super::workflow::{self, Created, KeptFile, RequestInput, Requester, Settings};
use crate::accounts::invite;
use crate::accounts::rules::Role;
use crate::accounts::store as users;
use crate::audit::{self, Event};
use crate::config::StorageSettings;
use crate::db::{self, DbConn};
use crate::mail::MailContext;
use crate::mail::{self, Mail, Recipient, outbox};
use crate::storage::{self, quota, quota::Holder};
use crate::web::{AppError, AppResult};

/// What the anonymous requester is told: the same for every address.
#[derive(Debug, serde::Serialize)]
pub struct Held {
    pub warning: Option<String>,
    pub hours: i64,
}

fn mail_error(e: mail::MailError) -> AppError {
    AppError::Internal(anyhow::Error::new(e).context("VAE confirmation mail"))
}

/// The refusal once anonymous uploads of this hour reached the cap.
pub fn cap_reached(now: NaiveDateTime) -> AppError {
    tracing::warn!("hourly cap on anonymous VAE uploads reached");
    let wait = quota::seconds_to_next_hour(now);
    AppError::TooManyRequests {
        message: quota::anonymous_cap_message(wait),
        retry_after: wait,
    }
}

/// Keeps an anonymous request and its files until its address is confirmed, and mails the
/// link. Nothing here looks the address up. The files count against the hour's anonymous
/// cap, and must fit in the organism's quota (checked again on confirmation).
pub fn hold(
    conn: &mut DbConn,
    mc: &MailContext<'_>,
    settings: &Settings,
    quotas: &StorageSettings,
    dir: &crate::objects::Shelf,
    input: RequestInput<'_>,
    files: Vec<(DocKind, Staged)>,
) -> AppResult<Held> {
    let checked = workflow::check(conn, settings, &input)?;
    let Some((email, name)) = checked.identity else {
        return Err(AppError::forbidden());
    };
    let (organism_id, org_name) = input.organism;
    let bytes: u64 = files.iter().map(|(_, f)| f.size).sum();
    let mut kept = vec![];
    for (kind, staged) in files {
        let doc = PendingDocument {
            kind: kind.as_str().to_string(),
            file_name: staged.file_name.clone(),
            mime_type: staged.kind.mime().to_string(),
            size_bytes: i64::try_from(staged.size).unwrap_or(i64::MAX),
            sha256: staged.sha256.clone(),
        };
        let result = staged.keep(dir);
        kept.push(doc);
        if let Err(e) = result {
            forget_files(conn, dir, &kept);
            return Err(AppError::io("VAE file", e));
        }
    }
    let token = crate::web::random_token(32)?;
    let result = db::transaction(conn, |conn| {
        let now = db::now();
        if bytes > 0
            && !storage::store::reserve_anonymous(
                conn,
                quota::hour_of(now),
                bytes,
                quotas.anonymous_per_hour,
            )?
        {
            return Err(cap_reached(now));
        }
        let used = storage::store::organism_usage(conn, organism_id)?;
        quota::check(Holder::Organism, used, bytes, quotas.organism_quota)
            .map_err(|m| AppError::invalid("file", m))?;
        let id = pstore::insert(
            conn,
            &NewPending {
                token_hash: &invite::hash_token(&token),
                organism_id,
                email: &email,
                name: &name,
                phone: input.phone.trim(),
                address: input.address.trim(),
                employer: input.employer.trim(),
                requested: &input.requested,
                experiences: &input.experiences,
                ip: &input.ip,
            },
        )?;
        for doc in &kept {
            pstore::insert_document(conn, id, doc)?;
        }
        // Kept without the address: a stranger's address stays out of the log.
        audit::record(
            conn,
            Event::new("vae_request_pending", "vae_pending", Some(id))
                .key(format!("vae_pending:{id}"))
                .from_ip(&input.ip)
                .detail(serde_json::json!({
                    "organism": organism_id, "files": kept.len(), "bytes": bytes,
                })),
        )?;
        let mut ctx = tera::Context::new();
        ctx.insert("name", &name);
        ctx.insert("organism", org_name);
        ctx.insert("hours", &rules::CONFIRM_HOURS);
        ctx.insert("link", &format!("{}/vae/confirmation/{token}", mc.base_url));
        ctx.insert("base_url", mc.base_url);
        let (subject, text, html) =
            mail::render(mc.templates, "vae_confirm", &ctx).map_err(mail_error)?;
        let message = Mail::new(
            "vae_confirm",
            vec![Recipient {
                name: Some(name.clone()),
                email: email.clone(),
            }],
            &subject,
            text,
            html,
            vec![],
        )
        .map_err(mail_error)?;
        outbox::enqueue(
            conn,
            None,
            &format!("vae_pending:{id}"),
            &message,
            &mc.domain(),
        )?;
        Ok(Held {
            warning: checked.warning,
            hours: rules::CONFIRM_HOURS,
        })
    });
    if result.is_err() {
        forget_files(conn, dir, &kept);
    }
    result
}

fn forget_files(conn: &mut DbConn, dir: &crate::objects::Shelf, docs: &[PendingDocument]) {
    for d in docs {
        storage::remove_unreferenced(conn, dir, &d.sha256);
    }
}

/// Whether a link names a request that can still be confirmed: its organism's id.
pub fn find(conn: &mut DbConn, token: &str) -> AppResult<Option<i64>> {
    let cutoff = rules::pending_cutoff(db::now());
    Ok(pstore::by_token(conn, &invite::hash_token(token), cutoff)?.map(|p| p.organism_id))
}

/// Turns a confirmed request into a file, as a signed-in request would have been: a new
/// account is invited, an existing candidate's account gets the file. Only the owner of the
/// address sees the answer, so refusals may name the account.
pub fn confirm(
    conn: &mut DbConn,
    mc: &MailContext<'_>,
    settings: &Settings,
    quotas: &StorageSettings,
    token: &str,
    ip: &str,
) -> AppResult<Created> {
    db::transaction(conn, |conn| {
        let cutoff = rules::pending_cutoff(db::now());
        let p = pstore::by_token(conn, &invite::hash_token(token), cutoff)?
            .ok_or(AppError::NotFound)?;
        let docs = pstore::documents(conn, p.id)?;
        let org = crate::organisms::store::get(conn, p.organism_id)?.ok_or(AppError::NotFound)?;
        let requester = match users::by_email(conn, &p.email)? {
            None => Requester::New {
                email: &p.email,
                name: &p.name,
            },
            Some(u) if u.role() == Some(Role::Trainee) && !u.disabled => Requester::Account(u.id),
            Some(_) => {
                return Err(AppError::Conflict(
                    "Votre adresse est celle d'un compte qui ne peut pas déposer de demande de \
                     VAE. Contactez l'organisme de formation."
                        .into(),
                ));
            }
        };
        let bytes: u64 = docs
            .iter()
            .map(|d| u64::try_from(d.size_bytes).unwrap_or(0))
            .sum();
        let used = match requester {
            Requester::Account(id) => storage::store::candidate_usage(conn, id)?,
            Requester::New { .. } => 0,
        };
        quota::check(Holder::Candidate, used, bytes, quotas.candidate_quota)
            .map_err(AppError::Conflict)?;
        let used = storage::store::organism_usage(conn, p.organism_id)?;
        quota::check(Holder::Organism, used, bytes, quotas.organism_quota)
            .map_err(AppError::Conflict)?;
        let created = workflow::create(
            conn,
            mc,
            settings,
            RequestInput {
                organism: (p.organism_id, &org.name),
                requester,
                phone: &p.phone,
                address: &p.address,
                employer: &p.employer,
                requested: p.requested(),
                experiences: p.experiences(),
                ip: p.ip.clone(),
            },
        )?;
        pstore::delete(conn, &[p.id])?;
        let req = vstore::get(conn, Scope::Platform, created.id)?.ok_or(AppError::NotFound)?;
        for d in &docs {
            let kind = DocKind::parse(&d.kind).ok_or(AppError::NotFound)?;
            let file = KeptFile {
                kind,
                file_name: &d.file_name,
                mime_type: &d.mime_type,
                size: u64::try_from(d.size_bytes).unwrap_or(0),
                sha256: &d.sha256,
            };
            workflow::record_document(conn, &req, created.candidate_id, &file)?;
        }
        audit::record(
            conn,
            Event::new("vae_request_confirmed", "vae_request", Some(created.id))
                .by(Some(created.candidate_id))
                .in_organism(Some(p.organism_id))
                .key(format!("vae:{}", created.id))
                .from_ip(ip)
                .detail(serde_json::json!({
                    "pending": p.id, "requested_at": p.created_at, "requested_from": p.ip,
                })),
        )?;
        Ok(created)
    })
}

/// What a purge removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Purged {
    pub requests: usize,
    pub files: usize,
}

/// Forgets the requests still unconfirmed `CONFIRM_HOURS` after they were made, then removes
/// their files unless another record uses them; and the anonymous counts of past days.
/// Idempotent: several instances may run it at once.
pub fn purge(
    conn: &mut DbConn,
    dir: &crate::objects::Shelf,
    now: NaiveDateTime,
) -> AppResult<Purged> {
    let cutoff = rules::pending_cutoff(now);
    let (requests, shas) = db::transaction(conn, |conn| -> AppResult<(usize, Vec<String>)> {
        storage::store::forget_hours_before(conn, now - chrono::Duration::days(1))?;
        let ids = pstore::older_than(conn, cutoff)?;
        if ids.is_empty() {
            return Ok((0, vec![]));
        }
        let shas = pstore::delete(conn, &ids)?;
        audit::record(
            conn,
            Event::new("vae_pending_purged", "vae_pending", None).detail(serde_json::json!({
                "requests": ids, "files": shas.len(),
            })),
        )?;
        Ok((ids.len(), shas))
    })?;
    let files = shas
        .iter()
        .filter(|sha| storage::remove_unreferenced(conn, dir, sha))
        .count();
    Ok(Purged { requests, files })
}
