//! Keeping people engaged: a weekly digest to each doctor about their assistants, and a nudge
//! to a trainee after some days without activity. Scheduled jobs run once per period even with
//! several instances: the first to record the (job, period) row runs it, in one transaction
//! with the mails it queues.

use anyhow::Context;
use chrono::{Datelike, Duration, NaiveDate, Timelike};
use diesel::prelude::*;

use super::progress;
use crate::cohorts::store as cohorts;
use crate::db::schema::{
    cohorts as cohort_table, enrolments, job_runs, module_totals, nudges, organisms, users,
};
use crate::db::{self, DbConn};
use crate::mail::MailContext;
use crate::mail::{self, Mail, Recipient, outbox};
use crate::web::AppResult;

pub use crate::accounts::mail_choices::{NUDGE, WEEKLY_DIGEST};
pub const NUDGES: &str = "nudges";

/// `2026-W48`: one digest per ISO week.
pub fn week_period(day: NaiveDate) -> String {
    let w = day.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// The organisms of a doctor's assistants, for his digest's footer ("A, B").
fn organisms_of(conn: &mut DbConn, trainees: &[i64]) -> QueryResult<Option<String>> {
    let names: Vec<String> = users::table
        .inner_join(organisms::table.on(users::organism_id.eq(organisms::id.nullable())))
        .filter(users::id.eq_any(trainees))
        .select(organisms::name)
        .distinct()
        .order(organisms::name.asc())
        .load(conn)?;
    Ok((!names.is_empty()).then(|| names.join(", ")))
}

/// Records that this instance runs `job` for `period`; false when another one already did.
fn claim(conn: &mut DbConn, job: &str, period: &str, instance: &str) -> QueryResult<bool> {
    let values = (
        job_runs::job.eq(job),
        job_runs::period.eq(period),
        job_runs::instance.eq(instance),
        job_runs::ran_at.eq(db::now()),
        job_runs::messages.eq(0),
    );
    let inserted = db::db_run!(conn, |c| diesel::insert_into(job_runs::table)
        .values(values)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

fn finish(conn: &mut DbConn, job: &str, period: &str, messages: usize) -> QueryResult<()> {
    diesel::update(
        job_runs::table
            .filter(job_runs::job.eq(job))
            .filter(job_runs::period.eq(period)),
    )
    .set(job_runs::messages.eq(messages as i32))
    .execute(conn)
    .map(|_| ())
}

/// Queues an optional mail (its kind is its template) to one person: with its own
/// unsubscribe link, in the text (`unsubscribe_link`) and as its `List-Unsubscribe` header,
/// and the organism responsible in its footer.
pub(crate) fn queue(
    conn: &mut DbConn,
    mc: &MailContext<'_>,
    template: &str,
    ctx: &mut tera::Context,
    to: (i64, Recipient),
    cause: &str,
) -> AppResult<()> {
    let (user, to) = to;
    let link = crate::accounts::unsubscribe::issue(conn, mc.base_url, user, template)?;
    ctx.insert("unsubscribe_link", &link);
    if !ctx.contains_key("organism") {
        ctx.insert("organism", &organism_of(conn, user)?);
    }
    let (subject, text, html) =
        mail::render(mc.templates, template, ctx).context("engagement mail")?;
    let message = Mail::new(template, vec![to], &subject, text, html, vec![])
        .and_then(|m| m.unsubscribe_at(&link))
        .context("engagement mail")?;
    outbox::enqueue(conn, None, cause, &message, &mc.domain())?;
    Ok(())
}

/// The name of a person's organism, for the footer of her mail.
fn organism_of(conn: &mut DbConn, user: i64) -> QueryResult<Option<String>> {
    users::table
        .inner_join(organisms::table.on(users::organism_id.eq(organisms::id.nullable())))
        .filter(users::id.eq(user))
        .select(organisms::name)
        .first(conn)
        .optional()
}

/// The week's digest to every doctor who wants it; `None` when this week's already went.
pub fn weekly_digest(
    conn: &mut DbConn,
    mc: &MailContext<'_>,
    instance: &str,
    today: NaiveDate,
) -> AppResult<Option<usize>> {
    let period = week_period(today);
    db::transaction(conn, |conn| {
        if !claim(conn, WEEKLY_DIGEST, &period, instance)? {
            return Ok(None);
        }
        let doctors: Vec<(i64, String, String)> = users::table
            .filter(users::role.eq("doctor"))
            // Those who turned it off (from its link or their pages) are skipped.
            .filter(users::weekly_digest.eq(true))
            .filter(users::disabled.eq(false))
            .filter(users::password_hash.is_not_null())
            .select((users::id, users::name, users::email))
            .load(conn)?;
        let monday = today - Duration::days(today.weekday().num_days_from_monday() as i64);
        let mut sent = 0;
        for (id, name, email) in doctors {
            let mut lines = Vec::new();
            let mut trainees = Vec::new();
            for t in cohorts::assistants_of(conn, id)? {
                let Some((_, h)) = progress::for_trainee(conn, &t, today)? else {
                    continue;
                };
                let week: i64 = super::store::days_since(conn, &[t.id], monday)?
                    .iter()
                    .map(|d| d.2)
                    .sum();
                lines.push(serde_json::json!({
                    "name": t.name,
                    "week_minutes": week / 60,
                    "credited_minutes": h.credited_secs / 60,
                    "planned_minutes": h.planned_secs / 60,
                    "status": h.status_label,
                    "deadline": h.deadline,
                    "deadline_words": crate::cohorts::rules::deadline_words((h.deadline - today).num_days()),
                    "overdue": h.deadline < today,
                }));
                trainees.push(t.id);
            }
            if lines.is_empty() {
                continue;
            }
            let mut ctx = tera::Context::new();
            ctx.insert("name", &name);
            ctx.insert("assistants", &lines);
            ctx.insert("base_url", mc.base_url);
            ctx.insert("week", &monday);
            let link = crate::accounts::doctor_links::issue(
                conn,
                mc.base_url,
                id,
                &format!("weekly_digest:{period}"),
            )?;
            ctx.insert("doctor_link", &link);
            ctx.insert("organism", &organisms_of(conn, &trainees)?);
            queue(
                conn,
                mc,
                WEEKLY_DIGEST,
                &mut ctx,
                (
                    id,
                    Recipient {
                        name: Some(name.clone()),
                        email,
                    },
                ),
                &format!("weekly_digest:{period}:{id}"),
            )?;
            sent += 1;
        }
        finish(conn, WEEKLY_DIGEST, &period, sent)?;
        Ok(Some(sent))
    })
}

/// A nudge to each trainee without activity for `days` days (once per such stretch).
pub fn nudges(
    conn: &mut DbConn,
    mc: &MailContext<'_>,
    instance: &str,
    today: NaiveDate,
    days: i64,
) -> AppResult<Option<usize>> {
    let period = today.to_string();
    db::transaction(conn, |conn| {
        if !claim(conn, NUDGES, &period, instance)? {
            return Ok(None);
        }
        let since = today - Duration::days(days);
        let enrolled: Vec<(i64, String, String, NaiveDate)> = enrolments::table
            .inner_join(users::table.on(users::id.eq(enrolments::trainee_id)))
            .inner_join(cohort_table::table.on(cohort_table::id.eq(enrolments::cohort_id)))
            .filter(enrolments::ended_on.is_null())
            .filter(users::disabled.eq(false))
            .filter(users::nudge.eq(true))
            .filter(users::password_hash.is_not_null())
            .filter(cohort_table::start_date.le(since))
            .filter(cohort_table::end_date.ge(today))
            .select((
                users::id,
                users::name,
                users::email,
                cohort_table::start_date,
            ))
            .load(conn)?;
        let ids: Vec<i64> = enrolled.iter().map(|e| e.0).collect();
        let active: Vec<(i64, Option<chrono::NaiveDateTime>)> = module_totals::table
            .filter(module_totals::trainee_id.eq_any(&ids))
            .select((module_totals::trainee_id, module_totals::last_activity_at))
            .load(conn)?;
        let nudged: Vec<i64> = nudges::table
            .filter(nudges::trainee_id.eq_any(&ids))
            .filter(nudges::sent_on.gt(since))
            .select(nudges::trainee_id)
            .load(conn)?;
        let mut sent = 0;
        for (id, name, email, _) in enrolled {
            let last = active
                .iter()
                .filter(|a| a.0 == id)
                .filter_map(|a| a.1)
                .max()
                .map(crate::base::paris::paris_date);
            if last.is_some_and(|d| d > since) || nudged.contains(&id) {
                continue;
            }
            let mut ctx = tera::Context::new();
            ctx.insert("name", &name);
            ctx.insert("days", &days);
            ctx.insert("base_url", mc.base_url);
            queue(
                conn,
                mc,
                NUDGE,
                &mut ctx,
                (
                    id,
                    Recipient {
                        name: Some(name),
                        email,
                    },
                ),
                &format!("nudge:{period}:{id}"),
            )?;
            diesel::insert_into(nudges::table)
                .values((nudges::trainee_id.eq(id), nudges::sent_on.eq(today)))
                .execute(conn)?;
            sent += 1;
        }
        finish(conn, NUDGES, &period, sent)?;
        Ok(Some(sent))
    })
}

/// Runs what is due at this Paris time: the digest on Mondays from 7 a.m., nudges daily from
/// 8 a.m.
pub fn run_due(
    conn: &mut DbConn,
    mc: &MailContext<'_>,
    instance: &str,
    nudge_days: i64,
) -> AppResult<()> {
    let now = crate::base::paris::to_paris(db::now());
    let today = now.date_naive();
    if now.weekday() == chrono::Weekday::Mon && now.hour() >= 7 {
        weekly_digest(conn, mc, instance, today)?;
    }
    if now.hour() >= 8 {
        nudges(conn, mc, instance, today, nudge_days)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn weeks_are_iso_weeks() {
        let d = |y, m, day| chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(super::week_period(d(2026, 11, 23)), "2026-W48");
        assert_eq!(super::week_period(d(2026, 11, 29)), "2026-W48");
        assert_eq!(super::week_period(d(2027, 1, 1)), "2026-W53");
    }
}
