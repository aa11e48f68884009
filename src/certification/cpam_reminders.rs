//! The daily follow-up of copies for the CPAM not marked as forwarded: the doctor is reminded
//! after 15 days, the organism told after 30 (`rules::cpam_follow_up`). Each step is claimed
//! by a conditional update in the transaction that queues its mails, so several instances
//! running the job send it once.

use anyhow::Context as _;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::rules::{self, CPAM_LOOKBACK_DAYS, CPAM_REMINDER_DAYS};
use crate::accounts::doctor_links;
use crate::audit::{self, Event};
use crate::base::format;
use crate::base::paris::paris_date;
use crate::cohorts::doctors;
use crate::cohorts::store::{self as cohorts, Scope};
use crate::db::schema::{attestations, certifications};
use crate::db::{self, DbConn};
use crate::mail::{self, Mail, MailContext, Recipient, outbox};
use crate::web::AppResult;

/// A copy mailed to the doctors and not marked as forwarded.
struct Pending {
    cqp: bool,
    id: i64,
    trainee_id: i64,
    organism_id: i64,
    number: String,
    sent_at: NaiveDateTime,
    reminded: bool,
    told: bool,
}

impl Pending {
    fn title(&self) -> &'static str {
        if self.cqp {
            "le certificat du CQP Assistant médical"
        } else {
            "l'attestation de formation d'adaptation à l'emploi"
        }
    }
}

type Row<O, T> = (
    i64,
    i64,
    O,
    String,
    T,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
);

fn pending(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<Vec<Pending>> {
    let (due, oldest) = (
        now - Duration::days(CPAM_REMINDER_DAYS),
        now - Duration::days(CPAM_LOOKBACK_DAYS),
    );
    let fae: Vec<Row<i64, NaiveDateTime>> = attestations::table
        .filter(attestations::kind.eq("fae"))
        .filter(attestations::revoked_at.is_null())
        .filter(attestations::cpam_forwarded_on.is_null())
        .filter(attestations::doctor_not_sent.is_null())
        .filter(attestations::issued_at.le(due))
        .filter(attestations::issued_at.ge(oldest))
        .order(attestations::id.asc())
        .select((
            attestations::id,
            attestations::trainee_id,
            attestations::organism_id,
            attestations::number,
            attestations::issued_at,
            attestations::cpam_reminded_at,
            attestations::organism_told_at,
        ))
        .load(conn)?;
    let cqp: Vec<Row<Option<i64>, Option<NaiveDateTime>>> = certifications::table
        .filter(certifications::cpam_forwarded_on.is_null())
        .filter(certifications::doctor_not_sent.is_null())
        .filter(certifications::certificate_at.le(due))
        .filter(certifications::certificate_at.ge(oldest))
        .order(certifications::id.asc())
        .select((
            certifications::id,
            certifications::trainee_id,
            certifications::organism_id,
            certifications::certificate_number,
            certifications::certificate_at,
            certifications::cpam_reminded_at,
            certifications::organism_told_at,
        ))
        .load(conn)?;
    let mut out: Vec<Pending> = fae
        .into_iter()
        .map(|r| Pending {
            cqp: false,
            id: r.0,
            trainee_id: r.1,
            organism_id: r.2,
            number: r.3,
            sent_at: r.4,
            reminded: r.5.is_some(),
            told: r.6.is_some(),
        })
        .collect();
    out.extend(cqp.into_iter().filter_map(|r| {
        Some(Pending {
            cqp: true,
            id: r.0,
            trainee_id: r.1,
            organism_id: r.2?,
            number: r.3,
            sent_at: r.4?,
            reminded: r.5.is_some(),
            told: r.6.is_some(),
        })
    }));
    Ok(out)
}

/// Claims one step of one copy: whether this run is the one to send it.
fn claim(conn: &mut DbConn, p: &Pending, organism: bool, now: NaiveDateTime) -> QueryResult<bool> {
    let n = match (p.cqp, organism) {
        (false, false) => diesel::update(
            attestations::table
                .find(p.id)
                .filter(attestations::cpam_reminded_at.is_null()),
        )
        .set(attestations::cpam_reminded_at.eq(now))
        .execute(conn)?,
        (false, true) => diesel::update(
            attestations::table
                .find(p.id)
                .filter(attestations::organism_told_at.is_null()),
        )
        .set(attestations::organism_told_at.eq(now))
        .execute(conn)?,
        (true, false) => diesel::update(
            certifications::table
                .find(p.id)
                .filter(certifications::cpam_reminded_at.is_null()),
        )
        .set(certifications::cpam_reminded_at.eq(now))
        .execute(conn)?,
        (true, true) => diesel::update(
            certifications::table
                .find(p.id)
                .filter(certifications::organism_told_at.is_null()),
        )
        .set(certifications::organism_told_at.eq(now))
        .execute(conn)?,
    };
    Ok(n == 1)
}

/// Runs the follow-up as of `now`; returns the mails queued.
pub fn send_due(conn: &mut DbConn, mc: &MailContext<'_>, now: NaiveDateTime) -> AppResult<usize> {
    let mut queued = 0;
    for mut p in pending(conn, now)? {
        let due = rules::cpam_follow_up(p.sent_at, now, p.reminded, p.told);
        for (organism, wanted) in [(false, due.remind_doctor), (true, due.tell_organism)] {
            if wanted {
                queued += db::transaction(conn, |c| step(c, mc, &p, organism, now))?;
                p.reminded = true;
            }
        }
    }
    Ok(queued)
}

fn step(
    conn: &mut DbConn,
    mc: &MailContext<'_>,
    p: &Pending,
    organism: bool,
    now: NaiveDateTime,
) -> AppResult<usize> {
    if !claim(conn, p, organism, now)? {
        return Ok(0);
    }
    let Some(trainee) = cohorts::trainee(conn, Scope::Organism(p.organism_id), p.trainee_id)?
    else {
        return Ok(0);
    };
    let reach = doctors::reach(conn, trainee.employer_id)?;
    let mut vars = tera::Context::new();
    vars.insert("trainee_name", &trainee.name);
    vars.insert("document", p.title());
    vars.insert("number", &p.number);
    vars.insert("sent_on", &format::date(paris_date(p.sent_at)));
    vars.insert("days", &(now - p.sent_at).num_days());
    vars.insert("reminded", &p.reminded);
    let organism_name = crate::organisms::store::get(conn, p.organism_id)?.map(|o| o.name);
    vars.insert("organism", &organism_name);
    vars.insert("base_url", mc.base_url);
    vars.insert(
        "doctors",
        &reach.all.iter().map(|d| &d.name).collect::<Vec<_>>(),
    );
    let page = if p.cqp {
        "certification"
    } else {
        "attestations"
    };
    vars.insert(
        "trainee_url",
        &format!("{}/stagiaires/{}/{page}", mc.base_url, trainee.id),
    );
    let (template, cause) = if organism {
        ("cpam_unforwarded", "cpam_organism_notice")
    } else {
        ("cpam_reminder", "cpam_doctor_reminder")
    };
    let mut to: Vec<(Option<i64>, Recipient)> = Vec::new();
    if organism {
        let staff = super::recipients::organism(conn, p.organism_id)?;
        to.extend(staff.into_iter().map(|r| (None, r)));
    } else {
        for d in &reach.doctors {
            let r = Recipient {
                name: Some(d.name.clone()),
                email: d.email.clone(),
            };
            to.push((Some(d.id), r));
        }
    }
    let domain = mc.domain();
    for (doctor, r) in &to {
        let mut own = vars.clone();
        if let Some(id) = doctor {
            own.insert(
                "doctor_link",
                &doctor_links::issue(conn, mc.base_url, *id, cause)?,
            );
        }
        let (subject, text, html) = mail::render(mc.templates, template, &own).context(template)?;
        let m =
            Mail::new(template, vec![r.clone()], &subject, text, html, vec![]).context(template)?;
        outbox::enqueue(conn, Some(p.organism_id), cause, &m, &domain)?;
    }
    let subject = if p.cqp {
        "certification"
    } else {
        "attestation"
    };
    audit::record(
        conn,
        Event::new(cause, subject, Some(p.id))
            .in_organism(Some(p.organism_id))
            .key(p.number.clone())
            .detail(serde_json::json!({"messages": to.len(), "sent_at": p.sent_at})),
    )?;
    Ok(to.len())
}
