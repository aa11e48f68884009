//! A person's data export, made in the background: `run_due` takes each request waiting
//! (`export_store::claim`, under a lease, so that several instances never build one twice
//! at once and one that died is taken over), reads her rows and files, writes the ZIP
//! (`donnees.html` to read, `donnees.json` for machines, `fichiers/…`, `SHA256SUMS`), keeps it
//! on the uploads shelf, marks it ready and mails the requester, in one transaction.
//! `forget_expired` erases the row and the file once its days are over.

use actix_web::web;
use anyhow::Context;
use chrono::NaiveDateTime;
use serde_json::json;

use super::export_rules::{self as rules, Rows};
use super::export_store::{self as store, ExportRow, Kept};
use super::export_summary;
use crate::audit::{self, Event};
use crate::db::DbConn;
use crate::evidence::pack;
use crate::mail::{self, Mail, MailContext, Recipient, outbox};
use crate::objects::{Shelf, Stored};
use crate::web::{AppError, AppResult, AppState};

/// What building needs from the running app.
pub struct Builder<'a> {
    pub shelf: &'a Shelf,
    pub templates: &'a tera::Tera,
    pub mail: &'a MailContext<'a>,
    /// Who holds a request while building it.
    pub instance: &'a str,
}

/// Builds the requests waiting, one after another; the number built.
pub fn run_due(conn: &mut DbConn, b: &Builder<'_>) -> AppResult<usize> {
    let lease = chrono::Duration::minutes(rules::LEASE_MINUTES);
    let mut built = 0;
    while let Some(row) = store::claim(conn, b.instance, crate::db::now(), lease)? {
        match build(conn, b, &row) {
            Ok(file) => {
                if settle(conn, b, &row, &file)? {
                    built += 1;
                } else {
                    // Taken over by another instance meanwhile: its archive is the one kept.
                    crate::storage::remove_unreferenced(conn, b.shelf, &file.sha256);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, export = row.id, "data export");
                let message = e.to_string();
                crate::db::transaction(conn, |c| {
                    if store::set_failed(c, row.id, b.instance, &message)? {
                        audit::record(
                            c,
                            Event::new("data_export_failed", "user", Some(row.user_id))
                                .in_organism(row.organism_id)
                                .detail(json!({ "export": row.id, "error": message })),
                        )?;
                    }
                    Ok::<_, AppError>(())
                })?;
            }
        }
    }
    Ok(built)
}

/// The archive of one request, kept on the shelf.
fn build(conn: &mut DbConn, b: &Builder<'_>, row: &ExportRow) -> AppResult<Stored> {
    let now = crate::db::now();
    let person = crate::accounts::store::by_id(conn, row.user_id)?.ok_or(AppError::NotFound)?;
    let requester = store::names(conn, &[row.requested_by])?;
    let rows = store::rows_of(conn, row.user_id)?;
    let kept = store::files_of(conn, row.user_id)?;
    let mut files: Vec<pack::File> = Vec::new();
    let mut listed = Vec::new();
    for k in kept {
        let (path, bytes, origin) = match k {
            Kept::Shelf {
                folder,
                id,
                name,
                sha256,
            } => {
                let path = format!("fichiers/{folder}/{id}-{}", rules::safe_name(&name));
                match b.shelf.read(&sha256) {
                    Ok(bytes) => (path, bytes, sha256),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        listed.push(json!({"chemin": path, "sha256": sha256, "manquant": true}));
                        continue;
                    }
                    Err(e) => return Err(AppError::io("data export: a kept file", e)),
                }
            }
            Kept::Bytes {
                folder,
                name,
                bytes,
            } => {
                let path = format!("fichiers/{folder}/{}", rules::safe_name(&name));
                let sha = crate::base::digest::sha256_hex(&bytes);
                (path, bytes, sha)
            }
        };
        listed.push(json!({"chemin": path, "sha256": origin, "manquant": false}));
        files.push(pack::File::new(path, bytes));
    }
    let data = json!({
        "format": "parcours-donnees-personnelles/1",
        "produit_le": now,
        "personne": {"id": person.id, "nom": person.name, "email": person.email},
        "demande": {
            "id": row.id,
            "demandee_le": row.created_at,
            "par": requester.first().map(|(_, n)| n.as_str()),
            "reference": row.reference,
        },
        "donnees": rows.own,
        "actions": rows.acted,
        "references": rows.references,
        "personnes": rows.people,
        "fichiers": listed,
    });
    let json = serde_json::to_vec_pretty(&data).context("export JSON")?;
    let html = summary(b.templates, &person, row, &rows, &listed, now)?;
    let mut all = vec![
        pack::File::new("donnees.html", html),
        pack::File::new("donnees.json", json),
    ];
    all.extend(files);
    let local = crate::base::paris::to_paris(now).naive_local();
    let zip = pack::zip(all, local).context("export ZIP")?;
    let size = zip.len() as u64;
    let sha256 = b
        .shelf
        .put(&zip)
        .map_err(|e| AppError::io("data export: keeping the archive", e))?;
    Ok(Stored { sha256, size })
}

/// The page she reads first.
fn summary(
    templates: &tera::Tera,
    person: &crate::accounts::store::User,
    row: &ExportRow,
    rows: &Rows,
    files: &[serde_json::Value],
    now: NaiveDateTime,
) -> AppResult<String> {
    let mut ctx = tera::Context::new();
    ctx.insert("person", person);
    ctx.insert(
        "role",
        &person.role().map(|r| r.label()).unwrap_or_default(),
    );
    ctx.insert("made_at", &now);
    ctx.insert("reference", &row.reference);
    ctx.insert("sections", &export_summary::sections(rows));
    ctx.insert("counts", &export_summary::counts(rows));
    ctx.insert("files", files);
    templates
        .render("privacy/export_summary.html", &ctx)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("export summary: {e:?}")))
}

/// Marks the request ready and mails whoever asked, in one transaction; false when another
/// instance took the request over meanwhile.
fn settle(conn: &mut DbConn, b: &Builder<'_>, row: &ExportRow, file: &Stored) -> AppResult<bool> {
    crate::db::transaction(conn, |c| {
        let now = crate::db::now();
        if !store::set_ready(c, row.id, b.instance, file, now)? {
            return Ok(false);
        }
        let requester =
            crate::accounts::store::by_id(c, row.requested_by)?.ok_or(AppError::NotFound)?;
        let person = store::names(c, &[row.user_id])?;
        let organism = match row.organism_id {
            Some(id) => crate::organisms::store::get(c, id)?.map(|o| o.name),
            None => None,
        };
        let mut ctx = tera::Context::new();
        ctx.insert("name", &requester.name);
        ctx.insert("for_self", &(row.user_id == row.requested_by));
        ctx.insert("person", &person.first().map(|(_, n)| n.as_str()));
        ctx.insert("reference", &row.reference);
        ctx.insert("link", &format!("{}/mon-compte/donnees", b.mail.base_url));
        ctx.insert(
            "expires_at",
            &(now + chrono::Duration::days(rules::EXPIRY_DAYS)),
        );
        ctx.insert("base_url", b.mail.base_url);
        ctx.insert("organism", &organism);
        let mail_error = |e: mail::MailError| AppError::Internal(anyhow::anyhow!("{e}"));
        let (subject, text, html) =
            mail::render(b.mail.templates, "data_export_ready", &ctx).map_err(mail_error)?;
        let message = Mail::new(
            "data_export_ready",
            vec![Recipient {
                name: Some(requester.name.clone()),
                email: requester.email.clone(),
            }],
            &subject,
            text,
            html,
            vec![],
        )
        .map_err(mail_error)?;
        outbox::enqueue(
            c,
            row.organism_id,
            &format!("data_export:{}", row.id),
            &message,
            &b.mail.domain(),
        )?;
        audit::record(
            c,
            Event::new("data_export_ready", "user", Some(row.user_id))
                .in_organism(row.organism_id)
                .detail(
                    json!({"export": row.id, "bytes": file.size, "requested_by": row.requested_by}),
                ),
        )?;
        Ok(true)
    })
}

/// Erases the requests whose days are over, rows then files; the number erased. Safe to run
/// on several instances at once and again after a crash: a row gone is not erased twice, and
/// a file is removed only when no row names it.
pub fn forget_expired(conn: &mut DbConn, shelf: &Shelf, now: NaiveDateTime) -> AppResult<usize> {
    let mut erased = 0;
    for row in store::expired(conn, now)? {
        let gone = crate::db::transaction(conn, |c| {
            if store::delete(c, row.id)? == 0 {
                return Ok::<_, AppError>(false);
            }
            audit::record(
                c,
                Event::new("data_export_erased", "user", Some(row.user_id))
                    .in_organism(row.organism_id)
                    .detail(json!({"export": row.id, "status": row.status})),
            )?;
            Ok(true)
        })?;
        if gone {
            erased += 1;
        }
        if let Some(sha) = &row.sha256 {
            crate::storage::remove_unreferenced(conn, shelf, sha);
        }
    }
    Ok(erased)
}

/// Both jobs on this instance, from the scheduler or right after a request (so that a person
/// waits seconds, not the next minute). Failures are logged, never fatal.
pub async fn run(state: web::Data<AppState>) {
    let instance = format!(
        "{}-{}",
        std::process::id(),
        crate::web::random_token(6).unwrap_or_default()
    );
    let st = state.clone();
    let result = state
        .db(move |c| {
            let mc = MailContext {
                templates: &st.mail_templates,
                base_url: &st.config.base_url,
            };
            let b = Builder {
                shelf: &st.objects.uploads,
                templates: &st.templates,
                mail: &mc,
                instance: &instance,
            };
            let erased = forget_expired(c, b.shelf, crate::db::now())?;
            let built = run_due(c, &b)?;
            Ok((erased, built))
        })
        .await;
    match result {
        Ok((0, 0)) => {}
        Ok((erased, built)) => tracing::info!(erased, built, "data exports"),
        Err(e) => tracing::warn!(error = %e, "data exports"),
    }
}
