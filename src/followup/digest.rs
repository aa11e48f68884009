//! The trainee's mail about answers: at most one a day, with the staff messages she has not
//! read yet. Several instances may run it at once: the day's digest row is unique per trainee
//! and written in the transaction that queues the mail, so only one of them sends.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::dsl::max;
use diesel::prelude::*;

use super::rules::{self, MessageKind, Pending};
use crate::accounts::mail_choices::{self, FOLLOWUP_DIGEST};
use crate::db::schema::{
    followup_digests, followup_messages, followup_reads, followup_threads, users,
};
use crate::db::{self, DbConn};
use crate::mail::MailContext;
use crate::mail::Recipient;
use crate::web::AppResult;

/// Answers written in a row go out together; one read at once needs no mail.
pub const GRACE_MINUTES: i64 = 10;
/// Older answers are left to the trainee's page.
const LOOKBACK_DAYS: i64 = 7;

type StaffMessage = (i64, i64, i64, NaiveDateTime, String, String, String);

/// Queues today's digest of each trainee with unread answers; returns how many were queued.
pub fn send_due(conn: &mut DbConn, mc: &MailContext<'_>, now: NaiveDateTime) -> AppResult<usize> {
    let answers = [MessageKind::Reponse.as_str(), MessageKind::Retour.as_str()];
    let recent: Vec<StaffMessage> = followup_messages::table
        .inner_join(followup_threads::table)
        .inner_join(users::table.on(users::id.eq(followup_messages::author_id)))
        .filter(followup_messages::kind.eq_any(answers))
        .filter(followup_messages::created_at.gt(now - Duration::days(LOOKBACK_DAYS)))
        .filter(followup_messages::created_at.le(now - Duration::minutes(GRACE_MINUTES)))
        .order(followup_messages::id.asc())
        .select((
            followup_messages::id,
            followup_messages::thread_id,
            followup_threads::trainee_id,
            followup_messages::created_at,
            followup_messages::kind,
            followup_messages::body,
            users::name,
        ))
        .load(conn)?;
    let mut by_trainee: BTreeMap<i64, Vec<StaffMessage>> = BTreeMap::new();
    for m in recent {
        by_trainee.entry(m.2).or_default().push(m);
    }
    let today = crate::base::paris::paris_date(now);
    let mut queued = 0;
    for (trainee, msgs) in by_trainee {
        let (sent_today, digested) = digested(conn, trainee, today)?;
        if sent_today {
            continue;
        }
        let read: BTreeMap<i64, i64> = followup_reads::table
            .filter(followup_reads::user_id.eq(trainee))
            .select((
                followup_reads::thread_id,
                followup_reads::last_read_message_id,
            ))
            .load::<(i64, i64)>(conn)?
            .into_iter()
            .collect();
        let pending: Vec<Pending> = msgs
            .iter()
            .map(|m| Pending {
                message_id: m.0,
                thread_id: m.1,
                created_at: m.3,
            })
            .collect();
        let chosen = rules::digest_selection(
            &pending,
            |t| read.get(&t).copied().unwrap_or(0),
            digested,
            now,
            Duration::minutes(GRACE_MINUTES),
        );
        let Some(last) = chosen.last().map(|p| p.message_id) else {
            continue;
        };
        let items: Vec<&StaffMessage> = msgs
            .iter()
            .filter(|m| chosen.iter().any(|p| p.message_id == m.0))
            .collect();
        if queue_one(conn, mc, trainee, today, last, &items)? {
            queued += 1;
        }
    }
    Ok(queued)
}

/// Takes `user`'s digest of the day, up to message `last`; `false` when another run (or
/// instance) took it first. Called in the transaction that queues the mail.
pub(super) fn claim(
    conn: &mut DbConn,
    user: i64,
    today: NaiveDate,
    last: i64,
) -> QueryResult<bool> {
    let values = (
        followup_digests::user_id.eq(user),
        followup_digests::sent_on.eq(today),
        followup_digests::up_to_message_id.eq(last),
    );
    let inserted = db::db_run!(conn, |c| diesel::insert_into(followup_digests::table)
        .values(values)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted > 0)
}

/// Whether `user` already had a digest today, and the last message the earlier ones named.
pub(super) fn digested(conn: &mut DbConn, user: i64, today: NaiveDate) -> QueryResult<(bool, i64)> {
    let sent_today: i64 = followup_digests::table
        .filter(followup_digests::user_id.eq(user))
        .filter(followup_digests::sent_on.eq(today))
        .count()
        .get_result(conn)?;
    let up_to: Option<i64> = followup_digests::table
        .filter(followup_digests::user_id.eq(user))
        .select(max(followup_digests::up_to_message_id))
        .first(conn)?;
    Ok((sent_today > 0, up_to.unwrap_or(0)))
}

fn queue_one(
    conn: &mut DbConn,
    mc: &MailContext<'_>,
    trainee: i64,
    today: NaiveDate,
    last: i64,
    items: &[&StaffMessage],
) -> AppResult<bool> {
    db::transaction(conn, |conn| {
        // She turned these off: nothing is claimed, her page still shows the answers.
        if mail_choices::wanted(conn, trainee, FOLLOWUP_DIGEST)? != Some(true) {
            return Ok(false);
        }
        if !claim(conn, trainee, today, last)? {
            return Ok(false);
        }
        let (name, email, disabled): (String, String, bool) = users::table
            .find(trainee)
            .select((users::name, users::email, users::disabled))
            .first(conn)?;
        if disabled {
            return Ok(true);
        }
        let subjects: BTreeMap<i64, String> = followup_threads::table
            .filter(followup_threads::id.eq_any(items.iter().map(|m| m.1)))
            .select((followup_threads::id, followup_threads::subject))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .collect();
        let list: Vec<serde_json::Value> = items
            .iter()
            .map(|m| {
                let excerpt: String = m.5.chars().take(200).collect();
                serde_json::json!({
                    "thread_id": m.1,
                    "at": crate::base::format::datetime(m.3),
                    "kind": MessageKind::parse(&m.4).map_or("Message", |k| k.label()),
                    "excerpt": if excerpt.len() < m.5.len() { format!("{excerpt}…") } else { excerpt },
                    "author": m.6,
                    "subject": subjects.get(&m.1).cloned().unwrap_or_default(),
                })
            })
            .collect();
        let mut ctx = tera::Context::new();
        ctx.insert("name", &name);
        ctx.insert("items", &list);
        ctx.insert("base_url", mc.base_url);
        crate::tracking::engagement::queue(
            conn,
            mc,
            FOLLOWUP_DIGEST,
            &mut ctx,
            (
                trainee,
                Recipient {
                    name: Some(name),
                    email,
                },
            ),
            &format!("followup_digest:{today}:{trainee}"),
        )?;
        Ok(true)
    })
}
