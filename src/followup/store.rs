//! Follow-up queries: threads, messages with their attachments, read receipts, and posting a
//! message in one transaction with its audit row.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::dsl::{count_star, max};
use diesel::prelude::*;
use serde::Serialize;

use super::rules::{self, MessageKind, ThreadKind};
use crate::audit::{self, Event};
use crate::db::schema::{
    cohorts, followup_attachments, followup_messages, followup_reads, followup_threads, modules,
    users,
};
use crate::db::{self, DbConn};

#[derive(Clone, Debug, Queryable, Selectable, Serialize)]
#[diesel(table_name = followup_threads)]
pub struct ThreadRow {
    pub id: i64,
    pub organism_id: i64,
    pub cohort_id: i64,
    pub trainee_id: i64,
    pub module_id: Option<i64>,
    pub kind: String,
    pub subject: String,
    pub created_at: NaiveDateTime,
    pub last_message_at: NaiveDateTime,
    pub waiting_since: Option<NaiveDateTime>,
}

impl ThreadRow {
    pub fn kind(&self) -> ThreadKind {
        ThreadKind::parse(&self.kind).unwrap_or(ThreadKind::Assistance)
    }
}

#[derive(Clone, Debug, Queryable, Selectable, Serialize)]
#[diesel(table_name = followup_attachments)]
pub struct AttachmentRow {
    pub id: i64,
    pub message_id: i64,
    pub file_name: String,
    pub mime_type: String,
    pub size_bytes: i64,
    pub sha256: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct MessageRow {
    pub id: i64,
    pub author_id: i64,
    pub author_name: String,
    pub author_role: String,
    pub kind: String,
    pub body: String,
    pub created_at: NaiveDateTime,
    pub attachments: Vec<AttachmentRow>,
}

/// A thread in a list, with what the reader has not seen yet.
#[derive(Clone, Debug, Serialize)]
pub struct ThreadLine {
    pub thread: ThreadRow,
    pub trainee_name: String,
    pub cohort_name: String,
    pub module_code: Option<String>,
    pub messages: i64,
    pub unread: bool,
}

pub fn thread(conn: &mut DbConn, id: i64) -> QueryResult<Option<ThreadRow>> {
    followup_threads::table
        .find(id)
        .select(ThreadRow::as_select())
        .first(conn)
        .optional()
}

pub fn module_thread(
    conn: &mut DbConn,
    trainee_id: i64,
    cohort_id: i64,
    module_id: i64,
) -> QueryResult<Option<ThreadRow>> {
    followup_threads::table
        .filter(followup_threads::trainee_id.eq(trainee_id))
        .filter(followup_threads::cohort_id.eq(cohort_id))
        .filter(followup_threads::module_id.eq(module_id))
        .filter(followup_threads::kind.eq(ThreadKind::Pedagogique.as_str()))
        .select(ThreadRow::as_select())
        .first(conn)
        .optional()
}

/// Whose threads a list holds: always said, so no list means "every organism's".
#[derive(Clone, Copy, Debug)]
pub enum Threads {
    OfTrainee(i64),
    /// An organism's, or one of its cohorts'.
    OfOrganism {
        organism: i64,
        cohort: Option<i64>,
    },
}

/// Lines for `reader`: a trainee's own threads, or an organism's (one cohort's) for staff,
/// those waiting for an answer first, the longest wait on top.
pub fn lines(
    conn: &mut DbConn,
    reader: i64,
    of: Threads,
    only_waiting: bool,
) -> QueryResult<Vec<ThreadLine>> {
    let mut q = followup_threads::table
        .inner_join(users::table.on(users::id.eq(followup_threads::trainee_id)))
        .inner_join(cohorts::table.on(cohorts::id.eq(followup_threads::cohort_id)))
        .left_join(modules::table.on(modules::id.nullable().eq(followup_threads::module_id)))
        .select((
            ThreadRow::as_select(),
            users::name,
            cohorts::name,
            modules::code.nullable(),
        ))
        .order((
            followup_threads::waiting_since.is_null().asc(),
            followup_threads::waiting_since.asc(),
            followup_threads::last_message_at.desc(),
        ))
        .limit(500)
        .into_boxed();
    match of {
        Threads::OfTrainee(t) => q = q.filter(followup_threads::trainee_id.eq(t)),
        Threads::OfOrganism { organism, cohort } => {
            q = q.filter(followup_threads::organism_id.eq(organism));
            if let Some(c) = cohort {
                q = q.filter(followup_threads::cohort_id.eq(c));
            }
        }
    }
    if only_waiting {
        q = q.filter(followup_threads::waiting_since.is_not_null());
    }
    let rows: Vec<(ThreadRow, String, String, Option<String>)> = q.load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0.id).collect();
    let counts: HashMap<i64, (i64, i64)> = followup_messages::table
        .filter(followup_messages::thread_id.eq_any(&ids))
        .group_by(followup_messages::thread_id)
        .select((
            followup_messages::thread_id,
            count_star(),
            max(followup_messages::id),
        ))
        .load::<(i64, i64, Option<i64>)>(conn)?
        .into_iter()
        .map(|(t, n, last)| (t, (n, last.unwrap_or(0))))
        .collect();
    let read: HashMap<i64, i64> = followup_reads::table
        .filter(followup_reads::user_id.eq(reader))
        .filter(followup_reads::thread_id.eq_any(&ids))
        .select((
            followup_reads::thread_id,
            followup_reads::last_read_message_id,
        ))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|(thread, trainee_name, cohort_name, module_code)| {
            let (messages, last) = counts.get(&thread.id).copied().unwrap_or((0, 0));
            let unread = last > read.get(&thread.id).copied().unwrap_or(0);
            ThreadLine {
                thread,
                trainee_name,
                cohort_name,
                module_code,
                messages,
                unread,
            }
        })
        .collect())
}

pub fn messages(conn: &mut DbConn, thread_id: i64) -> QueryResult<Vec<MessageRow>> {
    let rows: Vec<(i64, i64, String, String, String, String, NaiveDateTime)> =
        followup_messages::table
            .inner_join(users::table.on(users::id.eq(followup_messages::author_id)))
            .filter(followup_messages::thread_id.eq(thread_id))
            .order(followup_messages::id.asc())
            .select((
                followup_messages::id,
                followup_messages::author_id,
                users::name,
                users::role,
                followup_messages::kind,
                followup_messages::body,
                followup_messages::created_at,
            ))
            .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let mut files: HashMap<i64, Vec<AttachmentRow>> = HashMap::new();
    for a in followup_attachments::table
        .filter(followup_attachments::message_id.eq_any(&ids))
        .order(followup_attachments::id.asc())
        .select(AttachmentRow::as_select())
        .load(conn)?
    {
        files.entry(a.message_id).or_default().push(a);
    }
    Ok(rows
        .into_iter()
        .map(
            |(id, author_id, author_name, author_role, kind, body, created_at)| MessageRow {
                attachments: files.remove(&id).unwrap_or_default(),
                id,
                author_id,
                author_name,
                author_role,
                kind,
                body,
                created_at,
            },
        )
        .collect())
}

/// Read receipts of a thread: (reader, name, newest message seen, when).
pub fn reads(
    conn: &mut DbConn,
    thread_id: i64,
) -> QueryResult<Vec<(i64, String, i64, NaiveDateTime)>> {
    followup_reads::table
        .inner_join(users::table.on(users::id.eq(followup_reads::user_id)))
        .filter(followup_reads::thread_id.eq(thread_id))
        .select((
            followup_reads::user_id,
            users::name,
            followup_reads::last_read_message_id,
            followup_reads::read_at,
        ))
        .load(conn)
}

/// Records that `user` has seen the thread up to `message_id`; the time moves only when
/// something new was seen, so it says when the newest message was read.
pub fn mark_read(
    conn: &mut DbConn,
    thread_id: i64,
    user_id: i64,
    message_id: i64,
) -> QueryResult<()> {
    let now = db::now();
    let values = (
        followup_reads::thread_id.eq(thread_id),
        followup_reads::user_id.eq(user_id),
        followup_reads::last_read_message_id.eq(message_id),
        followup_reads::read_at.eq(now),
    );
    let inserted = db::db_run!(conn, |c| diesel::insert_into(followup_reads::table)
        .values(values)
        .on_conflict_do_nothing()
        .execute(c))?;
    if inserted == 0 {
        diesel::update(
            followup_reads::table
                .filter(followup_reads::thread_id.eq(thread_id))
                .filter(followup_reads::user_id.eq(user_id))
                .filter(followup_reads::last_read_message_id.lt(message_id)),
        )
        .set((
            followup_reads::last_read_message_id.eq(message_id),
            followup_reads::read_at.eq(now),
        ))
        .execute(conn)?;
    }
    Ok(())
}

/// Where a message goes: an existing thread, or the thread to open with it.
pub enum Target {
    Thread(i64),
    Module {
        organism_id: i64,
        cohort_id: i64,
        trainee_id: i64,
        module_id: i64,
        subject: String,
    },
    Assistance {
        organism_id: i64,
        cohort_id: i64,
        trainee_id: i64,
        subject: String,
    },
}

/// A file already checked and kept under its SHA-256 (see `vae::documents`).
pub struct NewAttachment {
    pub file_name: String,
    pub mime_type: String,
    pub size_bytes: i64,
    pub sha256: String,
}

pub struct NewMessage<'a> {
    pub author_id: i64,
    pub kind: MessageKind,
    pub body: &'a str,
    pub attachment: Option<NewAttachment>,
    pub ip: String,
}

fn open_thread(conn: &mut DbConn, target: &Target, now: NaiveDateTime) -> QueryResult<i64> {
    let (org, cohort, trainee, module, kind, subject) = match target {
        Target::Thread(id) => return Ok(*id),
        Target::Module {
            organism_id,
            cohort_id,
            trainee_id,
            module_id,
            subject,
        } => {
            if let Some(t) = module_thread(conn, *trainee_id, *cohort_id, *module_id)? {
                return Ok(t.id);
            }
            let k = ThreadKind::Pedagogique;
            (
                *organism_id,
                *cohort_id,
                *trainee_id,
                Some(*module_id),
                k,
                subject,
            )
        }
        Target::Assistance {
            organism_id,
            cohort_id,
            trainee_id,
            subject,
        } => (
            *organism_id,
            *cohort_id,
            *trainee_id,
            None,
            ThreadKind::Assistance,
            subject,
        ),
    };
    diesel::insert_into(followup_threads::table)
        .values((
            followup_threads::organism_id.eq(org),
            followup_threads::cohort_id.eq(cohort),
            followup_threads::trainee_id.eq(trainee),
            followup_threads::module_id.eq(module),
            followup_threads::kind.eq(kind.as_str()),
            followup_threads::subject.eq(subject),
            followup_threads::created_at.eq(now),
            followup_threads::last_message_at.eq(now),
        ))
        .returning(followup_threads::id)
        .get_result(conn)
}

/// Posts a message (opening its thread if needed), moves the thread's waiting mark, counts
/// it as read by its author and audits it, all in one transaction. Returns (thread, message).
pub fn post(conn: &mut DbConn, target: Target, message: NewMessage<'_>) -> QueryResult<(i64, i64)> {
    match post_once(conn, &target, &message) {
        // Two first questions on one module at once: the other opened the thread; join it.
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => post_once(conn, &target, &message),
        other => other,
    }
}

fn post_once(
    conn: &mut DbConn,
    target: &Target,
    message: &NewMessage<'_>,
) -> QueryResult<(i64, i64)> {
    db::transaction(conn, |conn| {
        let now = db::now();
        let thread_id = open_thread(conn, target, now)?;
        let (org, waiting): (i64, Option<NaiveDateTime>) = followup_threads::table
            .find(thread_id)
            .select((
                followup_threads::organism_id,
                followup_threads::waiting_since,
            ))
            .first(conn)?;
        let id: i64 = diesel::insert_into(followup_messages::table)
            .values((
                followup_messages::thread_id.eq(thread_id),
                followup_messages::author_id.eq(message.author_id),
                followup_messages::kind.eq(message.kind.as_str()),
                followup_messages::body.eq(message.body),
                followup_messages::created_at.eq(now),
            ))
            .returning(followup_messages::id)
            .get_result(conn)?;
        if let Some(a) = &message.attachment {
            diesel::insert_into(followup_attachments::table)
                .values((
                    followup_attachments::message_id.eq(id),
                    followup_attachments::file_name.eq(&a.file_name),
                    followup_attachments::mime_type.eq(&a.mime_type),
                    followup_attachments::size_bytes.eq(a.size_bytes),
                    followup_attachments::sha256.eq(&a.sha256),
                ))
                .execute(conn)?;
        }
        diesel::update(followup_threads::table.find(thread_id))
            .set((
                followup_threads::last_message_at.eq(now),
                followup_threads::waiting_since.eq(rules::waiting_after(
                    waiting,
                    message.kind,
                    now,
                )),
            ))
            .execute(conn)?;
        mark_read(conn, thread_id, message.author_id, id)?;
        audit::record(
            conn,
            Event::new("followup.message", "followup_thread", Some(thread_id))
                .by(Some(message.author_id))
                .in_organism(Some(org))
                .detail(serde_json::json!({
                    "message": id,
                    "kind": message.kind.as_str(),
                    "attachment": message.attachment.as_ref().map(|a| &a.sha256),
                }))
                .from_ip(&message.ip),
        )?;
        Ok((thread_id, id))
    })
}

/// An attachment with the thread it belongs to, for the download's scope check.
pub fn attachment(conn: &mut DbConn, id: i64) -> QueryResult<Option<(AttachmentRow, ThreadRow)>> {
    followup_attachments::table
        .inner_join(followup_messages::table.inner_join(followup_threads::table))
        .filter(followup_attachments::id.eq(id))
        .select((AttachmentRow::as_select(), ThreadRow::as_select()))
        .first(conn)
        .optional()
}
