//! Assignment queries: the versions a trainee handed in and their files, a trainer's grading,
//! and the lists staff grade from.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::rules::{self, Grading};
use crate::audit::{self, Event};
use crate::curriculum::rules::SubmissionState;
use crate::db::schema::{
    assignment_files as files, assignment_submissions as subs, enrolments, lessons, modules,
    trainee_profiles, users,
};
use crate::db::{self, DbConn};

#[derive(Clone, Debug, Queryable, Selectable, Serialize)]
#[diesel(table_name = subs)]
pub struct SubmissionRow {
    pub id: i64,
    pub trainee_id: i64,
    pub lesson_id: i64,
    pub version_no: i32,
    pub answer_text: String,
    pub submitted_at: NaiveDateTime,
    pub status: String,
    pub graded_by: Option<i64>,
    pub graded_at: Option<NaiveDateTime>,
    pub scores: Option<String>,
    pub points: Option<i32>,
    pub max_points: Option<i32>,
    pub feedback: Option<String>,
}

impl SubmissionRow {
    pub fn state(&self) -> SubmissionState {
        SubmissionState::parse(&self.status).unwrap_or(SubmissionState::Submitted)
    }
}

#[derive(Clone, Debug, Queryable, Selectable, Serialize)]
#[diesel(table_name = files)]
pub struct FileRow {
    pub id: i64,
    pub submission_id: i64,
    pub file_name: String,
    pub mime_type: String,
    pub size_bytes: i64,
    pub sha256: String,
}

/// A version with its files and the name of whoever graded it.
#[derive(Clone, Debug)]
pub struct Version {
    pub row: SubmissionRow,
    pub files: Vec<FileRow>,
    pub grader: Option<String>,
}

/// The state of the latest version of each assignment a trainee handed in, by activity id.
pub fn states(conn: &mut DbConn, trainee_id: i64) -> QueryResult<HashMap<i64, SubmissionState>> {
    let rows: Vec<(i64, String)> = subs::table
        .filter(subs::trainee_id.eq(trainee_id))
        .order((subs::lesson_id.asc(), subs::version_no.asc()))
        .select((subs::lesson_id, subs::status))
        .load(conn)?;
    // Later versions come last and replace earlier ones.
    Ok(rows
        .into_iter()
        .filter_map(|(lesson, status)| Some((lesson, SubmissionState::parse(&status)?)))
        .collect())
}

/// The state and number of a trainee's latest version of an assignment.
pub fn latest(
    conn: &mut DbConn,
    trainee_id: i64,
    lesson_id: i64,
) -> QueryResult<Option<(SubmissionState, i32)>> {
    let row: Option<(String, i32)> = subs::table
        .filter(subs::trainee_id.eq(trainee_id))
        .filter(subs::lesson_id.eq(lesson_id))
        .order(subs::version_no.desc())
        .select((subs::status, subs::version_no))
        .first(conn)
        .optional()?;
    Ok(row.map(|(s, n)| {
        (
            SubmissionState::parse(&s).unwrap_or(SubmissionState::Submitted),
            n,
        )
    }))
}

/// Every version of a trainee's assignment, newest first, with files and graders.
pub fn versions(conn: &mut DbConn, trainee_id: i64, lesson_id: i64) -> QueryResult<Vec<Version>> {
    let rows: Vec<SubmissionRow> = subs::table
        .filter(subs::trainee_id.eq(trainee_id))
        .filter(subs::lesson_id.eq(lesson_id))
        .order(subs::version_no.desc())
        .select(SubmissionRow::as_select())
        .load(conn)?;
    with_files(conn, rows)
}

/// The versions with their files and the names of their graders.
fn with_files(conn: &mut DbConn, rows: Vec<SubmissionRow>) -> QueryResult<Vec<Version>> {
    let mut by_version: HashMap<i64, Vec<FileRow>> = HashMap::new();
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    // Bounded chunks: one bound value per version.
    for chunk in ids.chunks(500) {
        for f in files::table
            .filter(files::submission_id.eq_any(chunk))
            .order(files::id.asc())
            .select(FileRow::as_select())
            .load(conn)?
        {
            by_version.entry(f.submission_id).or_default().push(f);
        }
    }
    let mut grader_ids: Vec<i64> = rows.iter().filter_map(|r| r.graded_by).collect();
    grader_ids.sort_unstable();
    grader_ids.dedup();
    let graders: HashMap<i64, String> = users::table
        .filter(users::id.eq_any(&grader_ids))
        .select((users::id, users::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|row| Version {
            files: by_version.remove(&row.id).unwrap_or_default(),
            grader: row.graded_by.and_then(|g| graders.get(&g).cloned()),
            row,
        })
        .collect())
}

/// A version with its activity, for the evidence pack.
#[derive(Clone, Debug)]
pub struct WorkLine {
    pub module_code: String,
    pub activity: String,
    pub version: Version,
}

/// The versions a trainee handed in within `[start, end)` (UTC), oldest first.
pub fn handed_in(
    conn: &mut DbConn,
    trainee_id: i64,
    (start, end): (NaiveDateTime, NaiveDateTime),
) -> QueryResult<Vec<WorkLine>> {
    let rows: Vec<(SubmissionRow, String, String)> = subs::table
        .inner_join(lessons::table.inner_join(modules::table))
        .filter(subs::trainee_id.eq(trainee_id))
        .filter(subs::submitted_at.ge(start))
        .filter(subs::submitted_at.lt(end))
        .order((subs::submitted_at.asc(), subs::id.asc()))
        .select((SubmissionRow::as_select(), modules::code, lessons::title))
        .load(conn)?;
    let (rows, labels): (Vec<_>, Vec<_>) = rows.into_iter().map(|(r, m, a)| (r, (m, a))).unzip();
    Ok(with_files(conn, rows)?
        .into_iter()
        .zip(labels)
        .map(|(version, (module_code, activity))| WorkLine {
            module_code,
            activity,
            version,
        })
        .collect())
}

pub fn submission(conn: &mut DbConn, id: i64) -> QueryResult<Option<SubmissionRow>> {
    subs::table
        .find(id)
        .select(SubmissionRow::as_select())
        .first(conn)
        .optional()
}

/// A file with the trainee who handed it in, for the download's access check.
pub fn file(conn: &mut DbConn, id: i64) -> QueryResult<Option<(FileRow, i64)>> {
    files::table
        .inner_join(subs::table)
        .filter(files::id.eq(id))
        .select((FileRow::as_select(), subs::trainee_id))
        .first(conn)
        .optional()
}

/// The organism a trainee trains with.
pub fn organism_of(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Option<i64>> {
    trainee_profiles::table
        .filter(trainee_profiles::user_id.eq(trainee_id))
        .select(trainee_profiles::organism_id)
        .first(conn)
        .optional()
}

/// A file already checked and kept under its SHA-256 (see `vae::documents`).
#[derive(Clone, Debug)]
pub struct NewFile {
    pub file_name: String,
    pub mime_type: String,
    pub size_bytes: i64,
    pub sha256: String,
}

pub struct NewVersion<'a> {
    pub trainee_id: i64,
    pub organism_id: i64,
    pub lesson_id: i64,
    pub answer_text: &'a str,
    pub files: &'a [NewFile],
    pub ip: String,
}

/// Records a new version, its files and its audit event in one transaction, if the trainee
/// may hand one in now; otherwise says why. Returns (id, version number).
pub fn hand_in(conn: &mut DbConn, v: &NewVersion<'_>) -> QueryResult<Result<(i64, i32), String>> {
    let saved = db::transaction(conn, |c| {
        let latest = latest(c, v.trainee_id, v.lesson_id)?;
        if let Some(why) = rules::hand_in_refusal(latest) {
            return Ok(Err(why));
        }
        let version_no = latest.map_or(1, |(_, n)| n + 1);
        let id: i64 = diesel::insert_into(subs::table)
            .values((
                subs::trainee_id.eq(v.trainee_id),
                subs::lesson_id.eq(v.lesson_id),
                subs::version_no.eq(version_no),
                subs::answer_text.eq(v.answer_text),
                subs::submitted_at.eq(db::now()),
                subs::status.eq(SubmissionState::Submitted.as_str()),
            ))
            .returning(subs::id)
            .get_result(c)?;
        for f in v.files {
            diesel::insert_into(files::table)
                .values((
                    files::submission_id.eq(id),
                    files::file_name.eq(&f.file_name),
                    files::mime_type.eq(&f.mime_type),
                    files::size_bytes.eq(f.size_bytes),
                    files::sha256.eq(&f.sha256),
                ))
                .execute(c)?;
        }
        audit::record(
            c,
            Event::new("assignment.submitted", "assignment_submission", Some(id))
                .by(Some(v.trainee_id))
                .in_organism(Some(v.organism_id))
                .detail(serde_json::json!({
                    "activity": v.lesson_id,
                    "version": version_no,
                    "text_chars": v.answer_text.chars().count(),
                    "files": v.files.iter().map(|f| &f.sha256).collect::<Vec<_>>(),
                }))
                .from_ip(&v.ip),
        )?;
        Ok(Ok((id, version_no)))
    });
    match saved {
        // The same version sent twice at once (two tabs): the other one was kept.
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(Err(
            "Une autre version de ce devoir vient d'être rendue : rechargez la page.".into(),
        )),
        other => other,
    }
}

/// Who grades, in which organism, from where.
pub struct Grader<'a> {
    pub id: i64,
    pub organism_id: i64,
    pub ip: &'a str,
}

/// Records a grading of a version waiting for it, audited with the points before and after;
/// a version already graded (or sent back) is refused with the reason, unchanged.
pub fn grade(
    conn: &mut DbConn,
    id: i64,
    by: &Grader<'_>,
    g: &Grading,
) -> QueryResult<Result<(), &'static str>> {
    db::transaction(conn, |c| {
        let before: Option<(String, Option<i32>)> = subs::table
            .find(id)
            .select((subs::status, subs::points))
            .first(c)
            .optional()?;
        let Some((status, points)) = before else {
            return Err(diesel::result::Error::NotFound);
        };
        let state = SubmissionState::parse(&status).unwrap_or(SubmissionState::Submitted);
        if let Some(why) = rules::grading_refusal(state) {
            return Ok(Err(why));
        }
        let to_i32 = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
        let after = g.decision.state();
        let scores = g
            .scores
            .as_ref()
            .map(|s| serde_json::to_string(s).unwrap_or_default());
        // Conditional on the status: of two graders at once, the second changes nothing.
        let changed = diesel::update(
            subs::table
                .filter(subs::id.eq(id))
                .filter(subs::status.eq(SubmissionState::Submitted.as_str())),
        )
        .set((
            subs::status.eq(after.as_str()),
            subs::graded_by.eq(Some(by.id)),
            subs::graded_at.eq(Some(db::now())),
            subs::scores.eq(scores),
            subs::points.eq(g.points.map(to_i32)),
            subs::max_points.eq(Some(to_i32(g.max_points))),
            subs::feedback.eq(Some(&g.feedback)),
        ))
        .execute(c)?;
        if changed == 0 {
            let why = rules::grading_refusal(SubmissionState::Graded).unwrap_or_default();
            return Ok(Err(why));
        }
        audit::record(
            c,
            Event::new(
                match g.decision {
                    rules::Decision::Graded => "assignment.graded",
                    rules::Decision::RevisionRequested => "assignment.revision_requested",
                },
                "assignment_submission",
                Some(id),
            )
            .by(Some(by.id))
            .in_organism(Some(by.organism_id))
            .change(
                serde_json::json!({"status": status, "points": points}),
                serde_json::json!({
                    "status": after.as_str(),
                    "points": g.points,
                    "max_points": g.max_points,
                    "scores": g.scores,
                }),
            )
            .from_ip(by.ip),
        )?;
        Ok(Ok(()))
    })
}

/// A version in a cohort's list.
#[derive(Clone, Debug, Queryable, Serialize)]
pub struct QueueLine {
    pub id: i64,
    pub trainee_id: i64,
    pub trainee_name: String,
    pub lesson_id: i64,
    pub activity: String,
    pub module_code: String,
    pub version_no: i32,
    pub submitted_at: NaiveDateTime,
    pub status: String,
    pub graded_at: Option<NaiveDateTime>,
    pub points: Option<i32>,
    pub max_points: Option<i32>,
}

/// The versions handed in by the trainees of a cohort of `organism_id`: those waiting for a
/// trainer (oldest first) when `waiting`, else the latest graded or sent back (newest first).
pub fn cohort_queue(
    conn: &mut DbConn,
    organism_id: i64,
    cohort_id: i64,
    waiting: bool,
    limit: i64,
) -> QueryResult<Vec<QueueLine>> {
    let in_cohort = enrolments::table
        .filter(enrolments::cohort_id.eq(cohort_id))
        .select(enrolments::trainee_id);
    let q = subs::table
        .inner_join(users::table.on(users::id.eq(subs::trainee_id)))
        .inner_join(trainee_profiles::table.on(trainee_profiles::user_id.eq(subs::trainee_id)))
        .inner_join(lessons::table.inner_join(modules::table))
        .filter(trainee_profiles::organism_id.eq(organism_id))
        .filter(subs::trainee_id.eq_any(in_cohort))
        .select((
            subs::id,
            subs::trainee_id,
            users::name,
            subs::lesson_id,
            lessons::title,
            modules::code,
            subs::version_no,
            subs::submitted_at,
            subs::status,
            subs::graded_at,
            subs::points,
            subs::max_points,
        ))
        .limit(limit)
        .into_boxed();
    let submitted = SubmissionState::Submitted.as_str();
    if waiting {
        q.filter(subs::status.eq(submitted))
            .order((subs::submitted_at.asc(), subs::id.asc()))
            .load(conn)
    } else {
        q.filter(subs::status.ne(submitted))
            .order((subs::graded_at.desc(), subs::id.desc()))
            .load(conn)
    }
}
