//! The staff's mail about questions: at most one a day to each person who should answer,
//! naming the threads that wait for an answer and that no earlier mail named. A module's
//! question goes to the cohort's trainers; a help request, or a question in a cohort without
//! trainers, to the organism's administrators. Several instances may run it at once: the
//! day's digest row is unique per person (see `digest::claim`).

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDateTime};
use diesel::dsl::max;
use diesel::prelude::*;

use super::digest;
use super::rules::ThreadKind;
use crate::accounts::Role;
use crate::accounts::mail_choices::{self, FOLLOWUP_STAFF_DIGEST};
use crate::db::schema::{cohort_trainers, followup_messages, followup_threads, users};
use crate::db::{self, DbConn};
use crate::mail::MailContext;
use crate::mail::Recipient;
use crate::web::AppResult;

/// A question answered within this time needs no mail.
pub const GRACE_MINUTES: i64 = 30;
/// Older waits are left to the staff's list, where they come first.
const LOOKBACK_DAYS: i64 = 14;

/// A thread waiting for an answer.
#[derive(Clone, Debug, Queryable)]
struct Waiting {
    thread_id: i64,
    organism_id: i64,
    cohort_id: i64,
    kind: String,
    subject: String,
    since: Option<NaiveDateTime>,
    trainee: String,
}

/// Queues today's digest of each staff member with newly waiting questions; returns how
/// many were queued.
pub fn send_due(conn: &mut DbConn, mc: &MailContext<'_>, now: NaiveDateTime) -> AppResult<usize> {
    let waiting: Vec<Waiting> = followup_threads::table
        .inner_join(users::table.on(users::id.eq(followup_threads::trainee_id)))
        .filter(followup_threads::waiting_since.le(now - Duration::minutes(GRACE_MINUTES)))
        .filter(followup_threads::waiting_since.gt(now - Duration::days(LOOKBACK_DAYS)))
        .order(followup_threads::waiting_since.asc())
        .select((
            followup_threads::id,
            followup_threads::organism_id,
            followup_threads::cohort_id,
            followup_threads::kind,
            followup_threads::subject,
            followup_threads::waiting_since,
            users::name,
        ))
        .load(conn)?;
    if waiting.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = waiting.iter().map(|w| w.thread_id).collect();
    let last: HashMap<i64, i64> = followup_messages::table
        .filter(followup_messages::thread_id.eq_any(&ids))
        .group_by(followup_messages::thread_id)
        .select((followup_messages::thread_id, max(followup_messages::id)))
        .load::<(i64, Option<i64>)>(conn)?
        .into_iter()
        .filter_map(|(t, m)| Some((t, m?)))
        .collect();
    let mut trainers: HashMap<i64, Vec<i64>> = HashMap::new();
    let cohorts: Vec<i64> = waiting.iter().map(|w| w.cohort_id).collect();
    // A disabled trainer answers nobody: the admins hear of the question instead.
    for (cohort, trainer) in cohort_trainers::table
        .inner_join(users::table.on(users::id.eq(cohort_trainers::trainer_id)))
        .filter(cohort_trainers::cohort_id.eq_any(&cohorts))
        .filter(users::disabled.eq(false))
        .select((cohort_trainers::cohort_id, cohort_trainers::trainer_id))
        .load::<(i64, i64)>(conn)?
    {
        trainers.entry(cohort).or_default().push(trainer);
    }
    let mut admins: HashMap<i64, Vec<i64>> = HashMap::new();
    let organisms: Vec<i64> = waiting.iter().map(|w| w.organism_id).collect();
    for (organism, admin) in users::table
        .filter(users::organism_id.eq_any(&organisms))
        .filter(users::role.eq(Role::OrganismAdmin.as_str()))
        .filter(users::disabled.eq(false))
        .select((users::organism_id.assume_not_null(), users::id))
        .load::<(i64, i64)>(conn)?
    {
        admins.entry(organism).or_default().push(admin);
    }
    let mut by_person: BTreeMap<i64, Vec<&Waiting>> = BTreeMap::new();
    for w in &waiting {
        let module_question = ThreadKind::parse(&w.kind) == Some(ThreadKind::Pedagogique);
        let to = match trainers.get(&w.cohort_id) {
            Some(t) if module_question && !t.is_empty() => t,
            _ => admins.get(&w.organism_id).map_or(&[][..], Vec::as_slice),
        };
        for person in to {
            by_person.entry(*person).or_default().push(w);
        }
    }
    let today = crate::base::paris::paris_date(now);
    let mut queued = 0;
    for (person, threads) in by_person {
        let (sent_today, up_to) = digest::digested(conn, person, today)?;
        if sent_today {
            continue;
        }
        let new: Vec<&Waiting> = threads
            .into_iter()
            .filter(|w| last.get(&w.thread_id).is_some_and(|m| *m > up_to))
            .collect();
        let Some(newest) = new.iter().filter_map(|w| last.get(&w.thread_id)).max() else {
            continue;
        };
        if queue_one(conn, mc, person, today, *newest, &new, now)? {
            queued += 1;
        }
    }
    Ok(queued)
}

fn queue_one(
    conn: &mut DbConn,
    mc: &MailContext<'_>,
    person: i64,
    today: chrono::NaiveDate,
    newest: i64,
    threads: &[&Waiting],
    now: NaiveDateTime,
) -> AppResult<bool> {
    db::transaction(conn, |conn| {
        // Turned off: nothing is claimed, the waiting questions stay on the staff's list.
        if mail_choices::wanted(conn, person, FOLLOWUP_STAFF_DIGEST)? != Some(true) {
            return Ok(false);
        }
        if !digest::claim(conn, person, today, newest)? {
            return Ok(false);
        }
        let (name, email, disabled, organism): (String, String, bool, Option<i64>) = users::table
            .find(person)
            .select((
                users::name,
                users::email,
                users::disabled,
                users::organism_id,
            ))
            .first(conn)?;
        if disabled {
            return Ok(true);
        }
        let items: Vec<serde_json::Value> = threads
            .iter()
            .map(|w| {
                let waited = w.since.map_or(Duration::zero(), |s| now - s);
                serde_json::json!({
                    "thread_id": w.thread_id,
                    "trainee": w.trainee,
                    "subject": w.subject,
                    "waiting": crate::followup::rules::waiting_label(waited),
                    "help": ThreadKind::parse(&w.kind) == Some(ThreadKind::Assistance),
                })
            })
            .collect();
        let mut ctx = tera::Context::new();
        ctx.insert("name", &name);
        ctx.insert("items", &items);
        ctx.insert("base_url", mc.base_url);
        ctx.insert("organism_id", &organism.unwrap_or_default());
        crate::tracking::engagement::queue(
            conn,
            mc,
            FOLLOWUP_STAFF_DIGEST,
            &mut ctx,
            (
                person,
                Recipient {
                    name: Some(name),
                    email,
                },
            ),
            &format!("followup_staff_digest:{today}:{person}"),
        )?;
        Ok(true)
    })
}
