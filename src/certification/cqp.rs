//! The CQP obtained and its copy for the CPAM: the certificate the branch issued, uploaded by
//! the organism (a PDF or an image, checked by content), mailed to the employer's doctors
//! with a text ready to forward, then marked by a doctor once forwarded.

use anyhow::Context as _;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use crate::accounts::doctor_links;
use crate::audit::{self, Event};
use crate::base::format;
use crate::cohorts::doctors;
use crate::cohorts::store::TraineeLine;
use crate::db::schema::certifications;
use crate::db::{self, DbConn};
use crate::mail::{self, Attachment, Mail, MailContext, Recipient, outbox};
use crate::web::{AppError, AppResult};

#[derive(Clone, Debug, Queryable, Selectable, Serialize)]
#[diesel(table_name = certifications)]
pub struct CqpRow {
    pub id: i64,
    pub trainee_id: i64,
    pub organism_id: Option<i64>,
    pub obtained_on: NaiveDate,
    pub certificate_number: String,
    #[serde(skip)]
    pub certificate_sha256: Option<String>,
    pub certificate_name: Option<String>,
    pub certificate_mime: Option<String>,
    pub certificate_at: Option<NaiveDateTime>,
    /// Why no doctor was mailed the certificate (shown to staff as "non envoyé").
    pub doctor_not_sent: Option<String>,
    pub cpam_forwarded_on: Option<NaiveDate>,
    pub cpam_reminded_at: Option<NaiveDateTime>,
    pub organism_told_at: Option<NaiveDateTime>,
}

pub fn of_trainee(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Option<CqpRow>> {
    certifications::table
        .filter(certifications::trainee_id.eq(trainee_id))
        .select(CqpRow::as_select())
        .first(conn)
        .optional()
}

pub fn of_trainees(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<CqpRow>> {
    certifications::table
        .filter(certifications::trainee_id.eq_any(ids))
        .order(certifications::id.asc())
        .select(CqpRow::as_select())
        .load(conn)
}

pub fn get(conn: &mut DbConn, id: i64) -> QueryResult<Option<CqpRow>> {
    certifications::table
        .find(id)
        .select(CqpRow::as_select())
        .first(conn)
        .optional()
}

/// A certificate received and kept under its SHA-256.
pub struct Certificate {
    pub sha256: String,
    pub file_name: String,
    pub mime: String,
    pub bytes: Vec<u8>,
}

/// Attaches the certificate to the CQP recorded and mails it (doctors and trainee), in one
/// transaction: no certificate recorded without its mails, no mail without the record. The
/// file is put in place (`keep`) last, before the commit: a refusal leaves no file behind. A
/// new upload replaces the file and is mailed again. Returns the doctors mailed.
pub fn attach_and_send(
    conn: &mut DbConn,
    mc: &MailContext<'_>,
    actor: i64,
    trainee: &TraineeLine,
    cert: &Certificate,
    keep: impl FnOnce() -> std::io::Result<()>,
) -> AppResult<usize> {
    db::transaction(conn, |conn| {
        let row = of_trainee(conn, trainee.id)?.ok_or_else(|| {
            AppError::invalid(
                "certificate",
                "Enregistrez d'abord le CQP obtenu (date et numéro), puis déposez son certificat.",
            )
        })?;
        let reach = doctors::reach(conn, trainee.employer_id)?;
        diesel::update(certifications::table.find(row.id))
            .set((
                certifications::certificate_sha256.eq(&cert.sha256),
                certifications::certificate_name.eq(&cert.file_name),
                certifications::certificate_mime.eq(&cert.mime),
                certifications::certificate_at.eq(db::now()),
                certifications::doctor_not_sent.eq(reach.not_sent.as_deref()),
                certifications::cpam_reminded_at.eq(None::<NaiveDateTime>),
                certifications::organism_told_at.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
        let sent = send(conn, mc, trainee, &row, cert, &reach)?;
        audit::record(
            conn,
            Event::new("cqp_certificate", "certification", Some(row.id))
                .by(Some(actor))
                .in_organism(Some(trainee.organism_id))
                .key(row.certificate_number.clone())
                .change(
                    serde_json::json!({"sha256": row.certificate_sha256}),
                    serde_json::json!({
                        "sha256": cert.sha256, "file_name": cert.file_name,
                        "doctors_mailed": sent, "not_sent": reach.not_sent,
                    }),
                ),
        )?;
        keep().map_err(|e| AppError::Internal(e.into()))?;
        Ok(sent)
    })
}

/// The doctors' mails (the certificate and the text to forward) and the trainee's.
fn send(
    conn: &mut DbConn,
    mc: &MailContext<'_>,
    trainee: &TraineeLine,
    row: &CqpRow,
    cert: &Certificate,
    reach: &doctors::Reach,
) -> AppResult<usize> {
    let attachment = Attachment {
        file_name: cert.file_name.clone(),
        mime_type: cert.mime.clone(),
        content: cert.bytes.clone(),
    };
    let domain = mc.domain();
    let mut vars = tera::Context::new();
    vars.insert("trainee_name", &trainee.name);
    vars.insert("hire_date", &format::date(trainee.hire_date));
    vars.insert("obtained_on", &format::date(row.obtained_on));
    vars.insert("number", &row.certificate_number);
    vars.insert(
        "aid_contract_ref",
        &doctors::aid_contract_ref(conn, trainee.id)?,
    );
    vars.insert("base_url", mc.base_url);
    vars.insert("doctors_mailed", &reach.doctors.len());
    let organism = crate::organisms::store::get(conn, trainee.organism_id)?.map(|o| o.name);
    vars.insert("organism", &organism);
    let queue = |conn: &mut DbConn, template: &str, to: Recipient, vars: &tera::Context| {
        let (subject, text, html) =
            mail::render(mc.templates, template, vars).context("CQP mail")?;
        let m = Mail::new(
            template,
            vec![to],
            &subject,
            text,
            html,
            vec![attachment.clone()],
        )
        .context("CQP mail")?;
        outbox::enqueue(conn, Some(trainee.organism_id), "cqp_obtained", &m, &domain)?;
        Ok::<_, AppError>(())
    };
    for d in &reach.doctors {
        let mut own = vars.clone();
        own.insert("doctor", d);
        own.insert(
            "doctor_link",
            &doctor_links::issue(conn, mc.base_url, d.id, "cqp_obtained")?,
        );
        let to = Recipient {
            name: Some(d.name.clone()),
            email: d.email.clone(),
        };
        queue(conn, "cqp_doctor", to, &own)?;
    }
    let to = Recipient {
        name: Some(trainee.name.clone()),
        email: trainee.email.clone(),
    };
    queue(conn, "cqp_trainee", to, &vars)?;
    Ok(reach.doctors.len())
}

/// A doctor marks the CQP's copy as forwarded to his CPAM (or not, with `None`); audited.
pub fn mark_forwarded(
    conn: &mut DbConn,
    doctor: i64,
    row: &CqpRow,
    on: Option<NaiveDate>,
) -> QueryResult<()> {
    diesel::update(certifications::table.find(row.id))
        .set((
            certifications::cpam_forwarded_on.eq(on),
            certifications::cpam_marked_by.eq(doctor),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        Event::new("cqp_cpam_forwarded", "certification", Some(row.id))
            .by(Some(doctor))
            .in_organism(row.organism_id)
            .key(row.certificate_number.clone())
            .change(
                serde_json::json!({"cpam_forwarded_on": row.cpam_forwarded_on}),
                serde_json::json!({"cpam_forwarded_on": on}),
            ),
    )
}
