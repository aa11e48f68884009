//! Funding files and their history: read, written with their audit row, and the list of
//! files waiting for an answer.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::rules::File;
use crate::audit::{self, Event};
use crate::db::schema::{cohorts, enrolments, funding_events, funding_files, users};
use crate::db::{self, DbConn};

/// The enrolment a funding file belongs to: the trainee's current one.
#[derive(Debug, Clone, Copy)]
pub struct EnrolmentRef {
    pub id: i64,
    pub program_id: i64,
}

/// The trainee's enrolment now (not ended), the latest if she has several.
pub fn current_enrolment(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Option<EnrolmentRef>> {
    enrolments::table
        .inner_join(cohorts::table)
        .filter(enrolments::trainee_id.eq(trainee_id))
        .filter(enrolments::ended_on.is_null())
        .order(enrolments::id.desc())
        .select((enrolments::id, cohorts::program_id))
        .first::<(i64, i64)>(conn)
        .optional()
        .map(|r| r.map(|(id, program_id)| EnrolmentRef { id, program_id }))
}

/// A stored file with its id.
#[derive(Debug, Clone)]
pub struct FileRow {
    pub id: i64,
    pub file: File,
}

type Row = (
    i64,
    String,
    String,
    String,
    String,
    Option<NaiveDate>,
    Option<NaiveDate>,
    Option<i64>,
    Option<i32>,
    Option<String>,
);

macro_rules! file_columns {
    () => {
        (
            funding_files::id,
            funding_files::funder,
            funding_files::scheme,
            funding_files::file_number,
            funding_files::status,
            funding_files::sent_on,
            funding_files::decided_on,
            funding_files::approved_cents,
            funding_files::approved_minutes,
            funding_files::refusal_reason,
        )
    };
}

fn from_row(r: Row) -> FileRow {
    FileRow {
        id: r.0,
        file: File {
            funder: r.1,
            scheme: r.2,
            file_number: r.3,
            status: r.4,
            sent_on: r.5,
            decided_on: r.6,
            approved_cents: r.7,
            approved_minutes: r.8,
            refusal_reason: r.9,
        },
    }
}

/// The funding file of an enrolment, if one was opened.
pub fn file_of(conn: &mut DbConn, enrolment_id: i64) -> QueryResult<Option<FileRow>> {
    funding_files::table
        .filter(funding_files::enrolment_id.eq(enrolment_id))
        .select(file_columns!())
        .first::<Row>(conn)
        .optional()
        .map(|r| r.map(from_row))
}

/// The file of the trainee's latest enrolment in this cohort, for her certificate.
pub fn file_for_cohort(
    conn: &mut DbConn,
    trainee_id: i64,
    cohort_id: i64,
) -> QueryResult<Option<File>> {
    funding_files::table
        .inner_join(enrolments::table)
        .filter(enrolments::trainee_id.eq(trainee_id))
        .filter(enrolments::cohort_id.eq(cohort_id))
        .order(enrolments::id.desc())
        .select(file_columns!())
        .first::<Row>(conn)
        .optional()
        .map(|r| r.map(|r| from_row(r).file))
}

/// Who saves, for whom, which enrolment.
pub struct Saving<'a> {
    pub actor: i64,
    pub organism_id: i64,
    pub trainee_id: i64,
    pub enrolment_id: i64,
    pub before: Option<&'a FileRow>,
    pub back_reason: Option<&'a str>,
}

/// Writes the file (new or changed), a history line when its status changes, and the audit
/// row with before and after. Answers the file's id.
pub fn save(conn: &mut DbConn, s: &Saving<'_>, file: &File) -> QueryResult<i64> {
    let now = db::now();
    let values = (
        funding_files::funder.eq(&file.funder),
        funding_files::scheme.eq(&file.scheme),
        funding_files::file_number.eq(&file.file_number),
        funding_files::status.eq(&file.status),
        funding_files::sent_on.eq(file.sent_on),
        funding_files::decided_on.eq(file.decided_on),
        funding_files::approved_cents.eq(file.approved_cents),
        funding_files::approved_minutes.eq(file.approved_minutes),
        funding_files::refusal_reason.eq(&file.refusal_reason),
        funding_files::updated_by.eq(Some(s.actor)),
        funding_files::updated_at.eq(now),
    );
    let id = match s.before {
        Some(b) => {
            diesel::update(funding_files::table.filter(funding_files::id.eq(b.id)))
                .set(values)
                .execute(conn)?;
            b.id
        }
        None => diesel::insert_into(funding_files::table)
            .values((
                funding_files::enrolment_id.eq(s.enrolment_id),
                funding_files::trainee_id.eq(s.trainee_id),
                funding_files::organism_id.eq(s.organism_id),
                values,
            ))
            .returning(funding_files::id)
            .get_result(conn)?,
    };
    if s.before.is_none_or(|b| b.file.status != file.status) {
        diesel::insert_into(funding_events::table)
            .values((
                funding_events::file_id.eq(id),
                funding_events::status.eq(&file.status),
                funding_events::reason.eq(s.back_reason),
                funding_events::at.eq(now),
                funding_events::by_user.eq(Some(s.actor)),
            ))
            .execute(conn)?;
    }
    let action = if s.before.is_some() {
        "funding_file_changed"
    } else {
        "funding_file_opened"
    };
    let mut after = serde_json::to_value(file).unwrap_or_default();
    if let Some(reason) = s.back_reason {
        after["back_reason"] = reason.into();
    }
    audit::record(
        conn,
        Event::new(action, "trainee", Some(s.trainee_id))
            .by(Some(s.actor))
            .in_organism(Some(s.organism_id))
            .key(format!("funding_file:{id}"))
            .change(s.before.map(|b| &b.file), after),
    )?;
    Ok(id)
}

/// One change of status, as the file's history lists it.
#[derive(Debug, Clone, Queryable, Serialize)]
pub struct EventLine {
    pub status: String,
    pub reason: Option<String>,
    pub at: NaiveDateTime,
    pub by: Option<String>,
}

/// The file's status changes, newest first.
pub fn history(conn: &mut DbConn, file_id: i64) -> QueryResult<Vec<EventLine>> {
    funding_events::table
        .left_join(users::table.on(users::id.nullable().eq(funding_events::by_user)))
        .filter(funding_events::file_id.eq(file_id))
        .order((funding_events::at.desc(), funding_events::id.desc()))
        .select((
            funding_events::status,
            funding_events::reason,
            funding_events::at,
            users::name.nullable(),
        ))
        .load(conn)
}

/// A file sent and not yet answered, for the organism's list.
#[derive(Debug, Clone, Queryable, Serialize)]
pub struct WaitingLine {
    pub trainee_id: i64,
    pub trainee: String,
    pub cohort: String,
    pub funder: String,
    pub scheme: String,
    pub file_number: String,
    pub sent_on: Option<NaiveDate>,
}

/// The organism's files sent and waiting for an answer, the oldest sending first.
pub fn waiting(conn: &mut DbConn, organism_id: i64) -> QueryResult<Vec<WaitingLine>> {
    funding_files::table
        .inner_join(enrolments::table.inner_join(cohorts::table))
        .inner_join(users::table.on(users::id.eq(funding_files::trainee_id)))
        .filter(funding_files::organism_id.eq(organism_id))
        .filter(funding_files::status.eq("envoye"))
        .order((funding_files::sent_on.asc(), funding_files::id.asc()))
        .select((
            funding_files::trainee_id,
            users::name,
            cohorts::name,
            funding_files::funder,
            funding_files::scheme,
            funding_files::file_number,
            funding_files::sent_on,
        ))
        .load(conn)
}

/// The printed reference of each of these enrolments' files, by enrolment id.
pub fn references(
    conn: &mut DbConn,
    enrolment_ids: &[i64],
) -> QueryResult<std::collections::HashMap<i64, String>> {
    let rows: Vec<(i64, String, String)> = funding_files::table
        .filter(funding_files::enrolment_id.eq_any(enrolment_ids))
        .select((
            funding_files::enrolment_id,
            funding_files::funder,
            funding_files::file_number,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, funder, number)| Some((id, super::rules::reference(&funder, &number)?)))
        .collect())
}
