//! The alerts 6 and 3 months before a CQP trainee's deadline, while the CQP is not obtained
//! (`rules::alert_due`): to her employer's doctors, each with his signed link, and to her
//! organism (its administrators, or its contact address when it has none). A daily job;
//! several instances may run it at once: each alert's row is claimed in the transaction that
//! queues its mails, so it goes once.

use anyhow::Context as _;
use chrono::{NaiveDate, NaiveDateTime, Timelike};
use diesel::prelude::*;

use super::record;
use super::rules::{self, AlertFacts, Threshold};
use super::store;
use crate::accounts::doctor_links;
use crate::audit::{self, Event};
use crate::base::format;
use crate::cohorts::access::deadline_of;
use crate::cohorts::rules::{Funding, deadline_words};
use crate::cohorts::store::{self as cohorts, Scope, TraineeLine};
use crate::curriculum::Content;
use crate::db::schema::{
    certifications, cohorts as cohort_table, deadline_alerts, enrolments, job_runs, programs,
    trainee_profiles,
};
use crate::db::{self, DbConn};
use crate::mail::{self, Mail, MailContext, Recipient, outbox};
use crate::web::AppResult;

pub const JOB: &str = "deadline_alerts";
/// Mails go in the morning, Paris time, like the nudges.
const FROM_HOUR: u32 = 8;

/// The day's alerts, once a day from 8:00 (Paris): a day is recorded when its run ended, so
/// a run that failed is tried again at the next tick.
pub fn run_due(
    conn: &mut DbConn,
    mc: &MailContext<'_>,
    content: &Content,
    instance: &str,
    now: NaiveDateTime,
) -> AppResult<()> {
    let local = crate::base::paris::to_paris(now);
    if local.hour() < FROM_HOUR {
        return Ok(());
    }
    let today = local.date_naive();
    let period = today.to_string();
    let ran: i64 = job_runs::table
        .filter(job_runs::job.eq(JOB))
        .filter(job_runs::period.eq(&period))
        .count()
        .get_result(conn)?;
    if ran > 0 {
        return Ok(());
    }
    let sent = send_due(conn, mc, content, today)?;
    let values = (
        job_runs::job.eq(JOB),
        job_runs::period.eq(&period),
        job_runs::instance.eq(instance),
        job_runs::ran_at.eq(db::now()),
        job_runs::messages.eq(i32::try_from(sent).unwrap_or(i32::MAX)),
    );
    db::db_run!(conn, |c| diesel::insert_into(job_runs::table)
        .values(values)
        .on_conflict_do_nothing()
        .execute(c))?;
    if sent > 0 {
        tracing::info!(sent, "deadline alerts sent");
    }
    Ok(())
}

/// Sends the alerts due on `today`; returns how many alerts went (each to every recipient).
/// One trainee's failure is logged and does not stop the others.
pub fn send_due(
    conn: &mut DbConn,
    mc: &MailContext<'_>,
    content: &Content,
    today: NaiveDate,
) -> AppResult<usize> {
    let mut sent = 0;
    for id in candidates(conn, today)? {
        let Some(t) = cohorts::trainee(conn, Scope::Checked, id)? else {
            continue;
        };
        let deadline = deadline_of(&t, today);
        let already: Vec<Threshold> = deadline_alerts::table
            .filter(deadline_alerts::trainee_id.eq(id))
            .filter(deadline_alerts::deadline.eq(deadline))
            .order(deadline_alerts::id.asc())
            .select(deadline_alerts::threshold_months)
            .load::<i32>(conn)?
            .into_iter()
            .filter_map(Threshold::from_months)
            .collect();
        let facts = AlertFacts {
            program_kind: "cqp",
            enrolled: true,
            cqp_obtained: false,
            clock_stopped: rules::clock_stopped(
                t.hire_date,
                Funding::from_db(&t.funding),
                &t.suspensions,
                today,
            ),
            deadline,
            sent: &already,
        };
        let Some(threshold) = rules::alert_due(&facts, today) else {
            continue;
        };
        match alert_one(conn, mc, content, &t, threshold, deadline, today) {
            Ok(true) => sent += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(trainee = id, error = %e, "deadline alert"),
        }
    }
    Ok(sent)
}

/// CQP trainees still in a cohort, without the CQP, hired early enough to be within 6
/// months of their deadline (`rules::alert_hire_cutoff`).
fn candidates(conn: &mut DbConn, today: NaiveDate) -> AppResult<Vec<i64>> {
    let no_cqp = diesel::dsl::not(diesel::dsl::exists(
        certifications::table.filter(certifications::trainee_id.eq(enrolments::trainee_id)),
    ));
    let mut ids: Vec<i64> = enrolments::table
        .inner_join(cohort_table::table.inner_join(programs::table))
        .inner_join(
            trainee_profiles::table.on(trainee_profiles::user_id.eq(enrolments::trainee_id)),
        )
        .filter(enrolments::ended_on.is_null())
        .filter(programs::kind.eq("cqp"))
        .filter(trainee_profiles::hire_date.le(rules::alert_hire_cutoff(today)))
        .filter(no_cqp)
        .order(enrolments::trainee_id.asc())
        .select(enrolments::trainee_id)
        .load(conn)?;
    ids.dedup();
    Ok(ids)
}

/// Claims the alert, then queues its mails and audits it, in one transaction; `false` when
/// another run (or instance) claimed it first.
fn alert_one(
    conn: &mut DbConn,
    mc: &MailContext<'_>,
    content: &Content,
    t: &TraineeLine,
    threshold: Threshold,
    deadline: NaiveDate,
    today: NaiveDate,
) -> AppResult<bool> {
    db::transaction(conn, |conn| {
        // Recorded since the list was read: nothing to alert.
        if store::cqp_of(conn, t.id)?.is_some() {
            return Ok(false);
        }
        let values = (
            deadline_alerts::trainee_id.eq(t.id),
            deadline_alerts::threshold_months.eq(threshold.months()),
            deadline_alerts::deadline.eq(deadline),
            deadline_alerts::sent_at.eq(db::now()),
            deadline_alerts::messages.eq(0),
        );
        let claimed = db::db_run!(conn, |c| diesel::insert_into(deadline_alerts::table)
            .values(values)
            .on_conflict_do_nothing()
            .execute(c))?;
        if claimed == 0 {
            return Ok(false);
        }
        let vars = mail_vars(conn, content, t, threshold, deadline, today)?;
        let (doctors, staff) = queue_mails(conn, mc, t, &vars)?;
        diesel::update(
            deadline_alerts::table
                .filter(deadline_alerts::trainee_id.eq(t.id))
                .filter(deadline_alerts::threshold_months.eq(threshold.months()))
                .filter(deadline_alerts::deadline.eq(deadline)),
        )
        .set(deadline_alerts::messages.eq(i32::try_from(doctors + staff).unwrap_or(i32::MAX)))
        .execute(conn)?;
        audit::record(
            conn,
            Event::new("deadline_alert.sent", "trainee", Some(t.id))
                .in_organism(Some(t.organism_id))
                .detail(serde_json::json!({
                    "threshold_months": threshold.months(),
                    "deadline": deadline,
                    "doctors": doctors,
                    "organism": staff,
                    "planned_certification": vars.get("planned_certification"),
                    "remaining": vars.get("remaining_codes"),
                })),
        )?;
        Ok(true)
    })
}

/// What both mails say: the deadline, the time left, her next session, the blocs to pass.
fn mail_vars(
    conn: &mut DbConn,
    content: &Content,
    t: &TraineeLine,
    threshold: Threshold,
    deadline: NaiveDate,
    today: NaiveDate,
) -> AppResult<tera::Context> {
    let status = record::status(conn, content, t, today)?;
    let planned = store::next_sessions_of(conn, &[t.id], today)?.remove(&t.id);
    let organism = crate::organisms::store::get(conn, t.organism_id)?
        .map(|o| o.name)
        .unwrap_or_default();
    let remaining: Vec<String> = status
        .blocs
        .iter()
        .filter(|b| status.remaining.contains(&b.code))
        .map(|b| format!("{} — {}", b.code, b.title))
        .collect();
    let days_left = (deadline - today).num_days();
    let mut c = tera::Context::new();
    c.insert("trainee_name", &t.name);
    c.insert("trainee_id", &t.id);
    c.insert("organism", &organism);
    c.insert("months", &threshold.months());
    c.insert("deadline", &format::date(deadline));
    c.insert("days_left", &days_left);
    c.insert("days_words", &deadline_words(days_left));
    c.insert("planned_certification", &planned.map(format::date));
    c.insert("remaining", &remaining);
    c.insert("remaining_codes", &status.remaining);
    Ok(c)
}

/// One mail to each doctor of her employer who can be reached, and one to each administrator
/// of her organism, or to its contact address when it has none: `(doctors, organism)` queued.
fn queue_mails(
    conn: &mut DbConn,
    mc: &MailContext<'_>,
    t: &TraineeLine,
    vars: &tera::Context,
) -> AppResult<(usize, usize)> {
    let mut reached: Vec<String> = Vec::new();
    let queue = |conn: &mut DbConn, template: &str, to: Recipient, ctx: &tera::Context| {
        let (subject, text, html) =
            mail::render(mc.templates, template, ctx).context("deadline alert mail")?;
        let m = Mail::new(template, vec![to], &subject, text, html, vec![])
            .context("deadline alert mail")?;
        outbox::enqueue(conn, Some(t.organism_id), JOB, &m, &mc.domain())?;
        AppResult::Ok(())
    };
    let mut ctx = vars.clone();
    ctx.insert("base_url", mc.base_url);
    // Doctors who can be reached: not disabled, address not bouncing.
    for d in crate::cohorts::doctors::reach(conn, t.employer_id)?.doctors {
        let mut own = ctx.clone();
        own.insert(
            "doctor_link",
            &doctor_links::issue(conn, mc.base_url, d.id, JOB)?,
        );
        let to = Recipient {
            name: Some(d.name.clone()),
            email: d.email,
        };
        queue(conn, "deadline_alert_doctor", to, &own)?;
        reached.push(d.name);
    }
    let staff = super::recipients::organism(conn, t.organism_id)?;
    ctx.insert("doctors", &reached);
    let count = staff.len();
    for to in staff {
        queue(conn, "deadline_alert_organism", to, &ctx)?;
    }
    Ok((reached.len(), count))
}
