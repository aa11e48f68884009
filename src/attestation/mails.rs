//! The mails of an attestation: to the employer's doctors (the FAE's to forward to the CPAM,
//! the others for information) and to the trainee, when it is issued and when staff send it
//! again.

use anyhow::Context as _;

use super::issue::Issuer;
use super::rules::{Kind, Statement, display_code};
use super::store::{self, AttestationRow};
use crate::accounts::doctor_links;
use crate::audit::{self, Event};
use crate::cohorts::doctors;
use crate::cohorts::store::{self as cohorts, TraineeLine};
use crate::db::{self, DbConn};
use crate::mail::{self, Attachment, Mail, Recipient, outbox};
use crate::web::{AppError, AppResult};

/// Queues the doctors' mails and the trainee's, and records on the attestation why no doctor
/// was mailed, if none could be. Only the FAE attestation is for the CPAM: the CQP's
/// end-of-training attestation goes to the doctor for information (the CPAM wants the CQP).
pub(super) fn send(
    conn: &mut DbConn,
    ctx: &Issuer<'_>,
    trainee: &TraineeLine,
    st: &Statement,
    code: &str,
    pdf: &[u8],
    cause: &str,
) -> AppResult<usize> {
    let attachment = Attachment {
        file_name: format!("{}-{}.pdf", st.kind.file_stem(), st.number),
        mime_type: "application/pdf".into(),
        content: pdf.to_vec(),
    };
    let domain = ctx.mail_context().domain();
    let queue = |conn: &mut DbConn, template: &str, to, vars: &tera::Context| -> AppResult<()> {
        let (subject, text, html) =
            mail::render(ctx.mail_templates, template, vars).context("attestation mail")?;
        let m = Mail::new(template, to, &subject, text, html, vec![attachment.clone()])
            .context("attestation mail")?;
        outbox::enqueue(conn, Some(trainee.organism_id), cause, &m, &domain)?;
        Ok(())
    };
    let mut vars = mail_vars(ctx, st, code);
    if st.kind == Kind::FinFormation {
        let next = store::next_certification_day(conn, trainee.id, st.issued_on)?;
        vars.insert("certification_on", &next.map(crate::base::format::date));
    }
    let reach = doctors::reach(conn, trainee.employer_id)?;
    store::set_doctor_not_sent(conn, &st.number, reach.not_sent.as_deref())?;
    vars.insert(
        "doctors",
        &reach
            .doctors
            .iter()
            .map(|d| d.name.clone())
            .collect::<Vec<_>>(),
    );
    // One mail each: each carries his own link to his assistants' page.
    for d in &reach.doctors {
        let mut own = vars.clone();
        let link = doctor_links::issue(conn, ctx.base_url, d.id, cause)?;
        own.insert("doctor_link", &link);
        let to = vec![Recipient {
            name: Some(d.name.clone()),
            email: d.email.clone(),
        }];
        queue(conn, "attestation_doctor", to, &own)?;
    }
    let to = vec![Recipient {
        name: Some(trainee.name.clone()),
        email: trainee.email.clone(),
    }];
    queue(conn, "attestation_trainee", to, &vars)?;
    Ok(reach.doctors.len() + 1)
}

/// What both mails say of the document.
fn mail_vars(ctx: &Issuer<'_>, st: &Statement, code: &str) -> tera::Context {
    let mut c = tera::Context::new();
    c.insert("trainee_name", &st.trainee_name);
    c.insert("title", st.kind.title());
    c.insert("kind", st.kind.as_str());
    c.insert("number", &st.number);
    c.insert("program", &st.program_title);
    c.insert("organism", &st.organism.name);
    c.insert("issued_on", &crate::base::format::date(st.issued_on));
    c.insert("period_from", &crate::base::format::date(st.period_from));
    c.insert("period_to", &crate::base::format::date(st.period_to));
    c.insert("done", &crate::base::format::minutes(st.done_secs() / 60));
    c.insert("code", &display_code(code));
    c.insert("verify_url", &ctx.verify_url(code));
    c.insert("base_url", ctx.base_url);
    c
}

/// Sends an attestation again (same document, same number): never a second attestation.
pub fn resend(
    conn: &mut DbConn,
    ctx: &Issuer<'_>,
    actor: i64,
    row: &AttestationRow,
) -> AppResult<usize> {
    if row.revoked_at.is_some() {
        return Err(AppError::Conflict(
            "Une attestation révoquée ne peut pas être renvoyée.".into(),
        ));
    }
    if row.erased_at.is_some() {
        return Err(AppError::Conflict(super::rules::ERASED.into()));
    }
    db::transaction(conn, |conn| {
        let trainee = cohorts::trainee(
            conn,
            cohorts::Scope::Organism(row.organism_id),
            row.trainee_id,
        )?
        .ok_or(AppError::NotFound)?;
        let st: Statement = serde_json::from_str(&row.payload).context("attestation payload")?;
        let pdf = store::pdf(conn, row.id)?;
        let n = send(
            conn,
            ctx,
            &trainee,
            &st,
            &row.code,
            &pdf,
            "attestation_resent",
        )?;
        audit::record(
            conn,
            Event::new("attestation_resent", "attestation", Some(row.id))
                .by(Some(actor))
                .in_organism(Some(row.organism_id))
                .key(row.number.clone())
                .detail(serde_json::json!({"messages": n})),
        )?;
        Ok(n)
    })
}
