//! Curriculum queries: syncing content into the database, lesson progress, attempts.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::rules::{Curriculum, Module, Program};
use crate::db::schema::{
    cohorts, content_versions, enrolments, evaluation_attempts, lesson_progress, lessons, modules,
    programs,
};
use crate::db::{self, DbConn};

/// Database ids of the loaded content, so pages never look them up.
#[derive(Debug, Default, Clone)]
pub struct ContentIds {
    pub programs: HashMap<String, i64>,
    pub versions: HashMap<String, i64>,
    pub modules: HashMap<String, i64>,
    /// Activity ids by (module code, slug), and the other way round.
    pub activities: HashMap<(String, String), i64>,
    pub activity_of: HashMap<i64, (String, String)>,
    /// A module's activity ids in the order of its activities.
    pub by_module: HashMap<String, Vec<i64>>,
}

/// The snapshot kept with each content version: what a cohort on that version plans.
#[derive(Serialize)]
struct Snapshot<'a> {
    code: &'a str,
    title: &'a str,
    total_hours: u32,
    modules: Vec<SnapshotModule<'a>>,
}

#[derive(Serialize)]
struct SnapshotModule<'a> {
    code: &'a str,
    title: &'a str,
    planned_hours: u32,
    distance_hours: u32,
    presentiel_hours: u32,
    activities: Vec<(&'a str, &'a str, u32, bool)>,
}

fn snapshot(p: &Program) -> String {
    serde_json::to_string(&Snapshot {
        code: &p.code,
        title: &p.title,
        total_hours: p.total_hours,
        modules: p
            .modules
            .iter()
            .map(|m| SnapshotModule {
                code: &m.code,
                title: &m.title,
                planned_hours: m.planned_hours,
                distance_hours: m.distance_hours,
                presentiel_hours: m.presentiel_hours,
                activities: m
                    .activities
                    .iter()
                    .map(|a| (a.slug.as_str(), a.kind.as_str(), a.minutes, a.required))
                    .collect(),
            })
            .collect(),
    })
    .unwrap_or_default()
}

/// Brings the database in line with the content files. A changed programme gets a new
/// version; rows are updated by code and never deleted (a lesson that left the content is
/// retired), so hours and attempts already recorded keep what they point to.
pub fn sync(conn: &mut DbConn, curriculum: &Curriculum) -> QueryResult<ContentIds> {
    db::transaction(conn, |conn| {
        if let DbConn::Pg(c) = conn {
            // Instances starting together sync one after the other.
            diesel::sql_query("SELECT pg_advisory_xact_lock(7061726301)").execute(c)?;
        }
        let now = db::now();
        let mut ids = ContentIds::default();
        for p in &curriculum.programs {
            let version_id = sync_version(conn, p, now)?;
            let program_id = sync_program(conn, p, version_id, now)?;
            ids.programs.insert(p.code.clone(), program_id);
            ids.versions.insert(p.code.clone(), version_id);
            sync_modules(conn, p, program_id, &mut ids)?;
        }
        Ok(ids)
    })
}

/// The version of a programme's content, recorded with its snapshot the first time it is seen.
fn sync_version(conn: &mut DbConn, p: &Program, now: NaiveDateTime) -> QueryResult<i64> {
    match content_versions::table
        .filter(content_versions::program_code.eq(&p.code))
        .filter(content_versions::hash.eq(&p.hash))
        .select(content_versions::id)
        .first(conn)
        .optional()?
    {
        Some(id) => Ok(id),
        None => diesel::insert_into(content_versions::table)
            .values((
                content_versions::program_code.eq(&p.code),
                content_versions::hash.eq(&p.hash),
                content_versions::snapshot.eq(snapshot(p)),
                content_versions::loaded_at.eq(now),
            ))
            .returning(content_versions::id)
            .get_result(conn),
    }
}

/// The programme's row, updated by code or created, pointing to its current version.
fn sync_program(
    conn: &mut DbConn,
    p: &Program,
    version_id: i64,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    let values = (
        programs::kind.eq(match p.kind {
            super::rules::Kind::Cqp => "cqp",
            super::rules::Kind::Fae => "fae",
        }),
        programs::title.eq(&p.title),
        programs::total_minutes.eq((p.total_hours * 60) as i32),
        programs::min_months.eq(p.min_months as i32),
        programs::max_months.eq(p.max_months as i32),
        programs::version_id.eq(version_id),
        programs::updated_at.eq(now),
    );
    match programs::table
        .filter(programs::code.eq(&p.code))
        .select(programs::id)
        .first(conn)
        .optional()?
    {
        Some(id) => {
            diesel::update(programs::table.find(id))
                .set(values)
                .execute(conn)?;
            Ok(id)
        }
        None => diesel::insert_into(programs::table)
            .values((programs::code.eq(&p.code), values))
            .returning(programs::id)
            .get_result(conn),
    }
}

/// The programme's modules: those gone from the content retired, the others updated or
/// created, each with its lessons.
fn sync_modules(
    conn: &mut DbConn,
    p: &Program,
    program_id: i64,
    ids: &mut ContentIds,
) -> QueryResult<()> {
    let existing: Vec<(i64, String)> = modules::table
        .filter(modules::program_id.eq(program_id))
        .select((modules::id, modules::code))
        .load(conn)?;
    let present: HashSet<&str> = p.modules.iter().map(|m| m.code.as_str()).collect();
    for (id, code) in &existing {
        if !present.contains(code.as_str()) {
            diesel::update(modules::table.find(id))
                .set(modules::retired.eq(true))
                .execute(conn)?;
        }
    }
    for m in &p.modules {
        let values = (
            modules::program_id.eq(program_id),
            modules::title.eq(&m.title),
            modules::position.eq(m.order as i32),
            modules::planned_minutes.eq((m.planned_hours * 60) as i32),
            modules::distance_minutes.eq((m.distance_hours * 60) as i32),
            modules::presentiel_minutes.eq((m.presentiel_hours * 60) as i32),
            modules::modality.eq(format!("{:?}", m.modality).to_lowercase()),
            modules::retired.eq(false),
        );
        let module_id: i64 = match existing.iter().find(|(_, c)| c == &m.code) {
            Some((id, _)) => {
                diesel::update(modules::table.find(id))
                    .set(values)
                    .execute(conn)?;
                *id
            }
            None => diesel::insert_into(modules::table)
                .values((modules::code.eq(&m.code), values))
                .returning(modules::id)
                .get_result(conn)?,
        };
        ids.modules.insert(m.code.clone(), module_id);
        sync_activities(conn, m, module_id, ids)?;
    }
    Ok(())
}

/// A module's activities: those gone from the content retired, the others updated or created.
fn sync_activities(
    conn: &mut DbConn,
    m: &Module,
    module_id: i64,
    ids: &mut ContentIds,
) -> QueryResult<()> {
    let known: Vec<(i64, String)> = lessons::table
        .filter(lessons::module_id.eq(module_id))
        .select((lessons::id, lessons::slug))
        .load(conn)?;
    let slugs: HashSet<&str> = m.activities.iter().map(|a| a.slug.as_str()).collect();
    for (id, slug) in &known {
        if !slugs.contains(slug.as_str()) {
            diesel::update(lessons::table.find(id))
                .set(lessons::retired.eq(true))
                .execute(conn)?;
        }
    }
    for (position, l) in m.activities.iter().enumerate() {
        let values = (
            lessons::title.eq(&l.title),
            lessons::position.eq(position as i32 + 1),
            lessons::minutes.eq(l.minutes as i32),
            lessons::retired.eq(false),
            lessons::kind.eq(l.kind.as_str()),
            lessons::required.eq(l.required),
            lessons::sequence.eq(l.sequence as i32),
        );
        let lesson_id: i64 = match known.iter().find(|(_, s)| s == &l.slug) {
            Some((id, _)) => {
                diesel::update(lessons::table.find(id))
                    .set(values)
                    .execute(conn)?;
                *id
            }
            None => diesel::insert_into(lessons::table)
                .values((
                    lessons::module_id.eq(module_id),
                    lessons::slug.eq(&l.slug),
                    values,
                ))
                .returning(lessons::id)
                .get_result(conn)?,
        };
        ids.activities
            .insert((m.code.clone(), l.slug.clone()), lesson_id);
        ids.activity_of
            .insert(lesson_id, (m.code.clone(), l.slug.clone()));
        ids.by_module
            .entry(m.code.clone())
            .or_default()
            .push(lesson_id);
    }
    Ok(())
}

pub fn version_count(conn: &mut DbConn, program_code: &str) -> QueryResult<i64> {
    content_versions::table
        .filter(content_versions::program_code.eq(program_code))
        .count()
        .get_result(conn)
}

/// The programme code and cohort of a trainee's current enrolment.
pub fn trainee_program(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Option<(String, i64)>> {
    Ok(trainee_enrolment(conn, trainee_id)?.map(|(code, cohort, _, _)| (code, cohort)))
}

pub fn completed_lessons(conn: &mut DbConn, trainee_id: i64) -> QueryResult<HashSet<i64>> {
    lesson_progress::table
        .filter(lesson_progress::trainee_id.eq(trainee_id))
        .select(lesson_progress::lesson_id)
        .load::<i64>(conn)
        .map(|v| v.into_iter().collect())
}

pub fn lesson_done(conn: &mut DbConn, trainee_id: i64, lesson_id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        lesson_progress::table
            .filter(lesson_progress::trainee_id.eq(trainee_id))
            .filter(lesson_progress::lesson_id.eq(lesson_id)),
    ))
    .get_result(conn)
}

/// Marks a lesson done; doing it again changes nothing.
pub fn complete_lesson(conn: &mut DbConn, trainee_id: i64, lesson_id: i64) -> QueryResult<()> {
    db::transaction(conn, |conn| {
        if !lesson_done(conn, trainee_id, lesson_id)? {
            diesel::insert_into(lesson_progress::table)
                .values((
                    lesson_progress::trainee_id.eq(trainee_id),
                    lesson_progress::lesson_id.eq(lesson_id),
                    lesson_progress::completed_at.eq(db::now()),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = evaluation_attempts)]
pub struct Attempt {
    pub id: i64,
    pub trainee_id: i64,
    pub module_id: i64,
    pub evaluation_hash: String,
    pub attempt_no: i32,
    pub status: String,
    pub started_at: NaiveDateTime,
    pub submitted_at: Option<NaiveDateTime>,
    pub answers: Option<String>,
    pub correct_count: Option<i32>,
    pub question_count: i32,
    pub score_pct: Option<i32>,
    pub passed: Option<bool>,
    /// The quiz's slug; empty for the module's evaluation.
    pub quiz: String,
}

pub const OPEN: &str = "open";
pub const SUBMITTED: &str = "submitted";

/// A trainee's attempts at one quiz of a module (`""`: its evaluation).
pub fn attempts(
    conn: &mut DbConn,
    trainee_id: i64,
    module_id: i64,
    quiz: &str,
) -> QueryResult<Vec<Attempt>> {
    evaluation_attempts::table
        .filter(evaluation_attempts::trainee_id.eq(trainee_id))
        .filter(evaluation_attempts::module_id.eq(module_id))
        .filter(evaluation_attempts::quiz.eq(quiz))
        .order(evaluation_attempts::attempt_no.asc())
        .select(Attempt::as_select())
        .load(conn)
}

pub fn all_attempts(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Vec<Attempt>> {
    evaluation_attempts::table
        .filter(evaluation_attempts::trainee_id.eq(trainee_id))
        .order(evaluation_attempts::id.asc())
        .select(Attempt::as_select())
        .load(conn)
}

pub fn attempt(conn: &mut DbConn, id: i64) -> QueryResult<Option<Attempt>> {
    evaluation_attempts::table
        .find(id)
        .select(Attempt::as_select())
        .first(conn)
        .optional()
}

/// Which quiz an attempt is at: its module, its slug (`""` for the evaluation), its version.
pub struct QuizAt {
    pub module_id: i64,
    pub quiz: String,
    pub hash: String,
}

pub enum Start {
    Started(Attempt),
    LimitReached(usize),
}

/// The open attempt, or a new one while attempts remain. A double click reuses the open one.
pub fn start_attempt(
    conn: &mut DbConn,
    trainee_id: i64,
    at: &QuizAt,
    question_count: i32,
    max_attempts: u32,
) -> QueryResult<Start> {
    db::transaction(conn, |conn| {
        let existing = attempts(conn, trainee_id, at.module_id, &at.quiz)?;
        if let Some(open) = existing.iter().find(|a| a.status == OPEN) {
            return Ok(Start::Started(open.clone()));
        }
        if existing.len() >= max_attempts as usize {
            return Ok(Start::LimitReached(existing.len()));
        }
        let id: i64 = diesel::insert_into(evaluation_attempts::table)
            .values((
                evaluation_attempts::trainee_id.eq(trainee_id),
                evaluation_attempts::module_id.eq(at.module_id),
                evaluation_attempts::quiz.eq(&at.quiz),
                evaluation_attempts::evaluation_hash.eq(&at.hash),
                evaluation_attempts::attempt_no.eq(existing.len() as i32 + 1),
                evaluation_attempts::status.eq(OPEN),
                evaluation_attempts::started_at.eq(db::now()),
                evaluation_attempts::question_count.eq(question_count),
            ))
            .returning(evaluation_attempts::id)
            .get_result(conn)?;
        Ok(Start::Started(
            attempt(conn, id)?.ok_or(diesel::result::Error::NotFound)?,
        ))
    })
}

/// Records the answers of an open attempt. Submitting again (a double click) changes
/// nothing and returns the attempt as first recorded.
pub fn submit_attempt(
    conn: &mut DbConn,
    id: i64,
    answers_json: &str,
    correct: i32,
    pct: i32,
    passed: bool,
) -> QueryResult<Attempt> {
    db::transaction(conn, |conn| {
        diesel::update(
            evaluation_attempts::table
                .find(id)
                .filter(evaluation_attempts::status.eq(OPEN)),
        )
        .set((
            evaluation_attempts::status.eq(SUBMITTED),
            evaluation_attempts::submitted_at.eq(db::now()),
            evaluation_attempts::answers.eq(answers_json),
            evaluation_attempts::correct_count.eq(correct),
            evaluation_attempts::score_pct.eq(pct),
            evaluation_attempts::passed.eq(passed),
        ))
        .execute(conn)?;
        attempt(conn, id)?.ok_or(diesel::result::Error::NotFound)
    })
}

/// A trainee's current programme code, cohort and cohort dates.
pub type Enrolment = (String, i64, chrono::NaiveDate, chrono::NaiveDate);

pub fn trainee_enrolment(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Option<Enrolment>> {
    Ok(current_enrolments(conn, &[trainee_id])?.remove(&trainee_id))
}

/// Current enrolments of some trainees, in one query (the newest wins).
pub fn current_enrolments(
    conn: &mut DbConn,
    trainee_ids: &[i64],
) -> QueryResult<HashMap<i64, Enrolment>> {
    let rows: Vec<(i64, Enrolment)> = enrolments::table
        .inner_join(cohorts::table.inner_join(programs::table))
        .filter(enrolments::trainee_id.eq_any(trainee_ids))
        .filter(enrolments::ended_on.is_null())
        .order(enrolments::id.asc())
        .select((
            enrolments::trainee_id,
            (
                programs::code,
                cohorts::id,
                cohorts::start_date,
                cohorts::end_date,
            ),
        ))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Distance seconds a trainee spent on each activity, by activity id.
pub fn activity_seconds(conn: &mut DbConn, trainee_id: i64) -> QueryResult<HashMap<i64, i64>> {
    use crate::db::schema::activity_totals;
    activity_totals::table
        .filter(activity_totals::trainee_id.eq(trainee_id))
        .select((activity_totals::lesson_id, activity_totals::seconds))
        .load::<(i64, i64)>(conn)
        .map(|v| v.into_iter().collect())
}
