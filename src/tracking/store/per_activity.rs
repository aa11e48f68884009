//! The rows of `tracking::per_activity`: time, quiz attempts and assignment versions per
//! trainee and activity, for many trainees in a few queries.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{
    activity_totals, assignment_submissions, cohorts, enrolments, evaluation_attempts, lessons,
    modules, package_attempts, programs, study_sessions,
};
use crate::tracking::per_activity::{self, ActivityLine, Grade, QuizTry};

/// Whose activities, over which UTC window `[start, end)`; `None` is "since she began".
#[derive(Clone, Copy, Debug)]
pub struct Whose {
    pub trainee_id: i64,
    pub window: Option<(NaiveDateTime, NaiveDateTime)>,
}

fn inside(w: Option<(NaiveDateTime, NaiveDateTime)>, t: NaiveDateTime) -> bool {
    w.is_none_or(|(s, e)| s <= t && t < e)
}

/// Each trainee's programme version: her latest enrolment's cohort's.
fn versions_of(conn: &mut DbConn, ids: &[i64]) -> QueryResult<HashMap<i64, i64>> {
    let rows: Vec<(i64, i64)> = enrolments::table
        .inner_join(cohorts::table)
        .filter(enrolments::trainee_id.eq_any(ids))
        .order(enrolments::id)
        .select((enrolments::trainee_id, cohorts::content_version_id))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

type LessonRow = (i64, i64, String, String, i32, i32, String, i32, bool);
type ModuleRow = (i64, String, String, i32, String);

type Window = Option<(NaiveDateTime, NaiveDateTime)>;

/// Each trainee's window, to ask of a row whether it falls in it.
struct Windows(HashMap<i64, Window>);

impl Windows {
    fn within(&self, trainee: i64, at: NaiveDateTime) -> bool {
        self.0.get(&trainee).is_some_and(|w| inside(*w, at))
    }

    /// "Since she began": her running totals count whole.
    fn unbounded(&self, trainee: i64) -> bool {
        self.0.get(&trainee).is_some_and(Option::is_none)
    }
}

/// Every activity each trainee spent time on, attempted or handed in within her window, in
/// the programme's order. Time is the sum of the page views opened in the window
/// (`study_sessions`, credited by the same beats as `activity_totals`), next to the running
/// total.
pub fn activity_lines(conn: &mut DbConn, whose: &[Whose]) -> QueryResult<Vec<ActivityLine>> {
    if whose.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = whose.iter().map(|w| w.trainee_id).collect();
    let windows = Windows(whose.iter().map(|w| (w.trainee_id, w.window)).collect());
    let totals = running_totals(conn, &ids)?;
    let in_window = period_times(conn, whose, &windows)?;
    let attempt_rows = quiz_attempts(conn, &ids, &windows)?;
    let mut grades = latest_grades(conn, &ids, &windows)?;
    let mut packages = package_traces(conn, &ids, &windows)?;

    // The activities concerned, with their module and programme.
    let mut lesson_ids: HashSet<i64> = grades.keys().map(|k| k.1).collect();
    lesson_ids.extend(packages.keys().map(|k| k.1));
    lesson_ids.extend(
        totals
            .keys()
            .filter(|(t, _)| windows.unbounded(*t))
            .map(|k| k.1),
    );
    lesson_ids.extend(in_window.keys().map(|k| k.1));
    let quiz_modules: HashSet<i64> = attempt_rows.iter().map(|r| r.2).collect();
    let (lesson_rows, module_rows) = activities_of(conn, &lesson_ids, &quiz_modules)?;
    let mut attempts = attempts_by_activity(&attempt_rows, &lesson_rows);
    let lessons_by_id: HashMap<i64, &LessonRow> = lesson_rows.iter().map(|r| (r.0, r)).collect();
    let versions = versions_of(conn, &ids)?;

    let mut keys: HashSet<(i64, i64)> = HashSet::new();
    keys.extend(in_window.iter().filter(|(_, s)| **s > 0).map(|(k, _)| *k));
    keys.extend(totals.keys().filter(|(t, _)| windows.unbounded(*t)));
    keys.extend(attempts.keys());
    keys.extend(grades.keys());
    keys.extend(packages.keys());
    let mut out = Vec::with_capacity(keys.len());
    for (t, l) in keys {
        let Some(lesson) = lessons_by_id.get(&l) else {
            continue;
        };
        let Some(module) = module_rows.get(&lesson.1) else {
            continue;
        };
        let windowed = windows.0.get(&t).copied().flatten().is_some();
        out.push(ActivityLine {
            trainee_id: t,
            lesson_id: l,
            program_code: module.4.clone(),
            version_id: versions.get(&t).copied().unwrap_or_default(),
            module_code: module.1.clone(),
            module_title: module.2.clone(),
            module_position: module.3,
            sequence: lesson.7,
            position: lesson.4,
            slug: lesson.2.clone(),
            title: lesson.3.clone(),
            kind: lesson.6.clone(),
            minutes: lesson.5,
            required: lesson.8,
            total_secs: totals.get(&(t, l)).copied().unwrap_or(0),
            period_secs: windowed.then(|| in_window.get(&(t, l)).copied().unwrap_or(0)),
            attempts: attempts.remove(&(t, l)).unwrap_or_default(),
            grade: grades.remove(&(t, l)),
            package: packages.remove(&(t, l)),
        });
    }
    per_activity::sort(&mut out);
    Ok(out)
}

type PackageRow = (i64, i64, String, String, Option<f64>, f64, NaiveDateTime);

/// What the packages recorded, by (trainee, activity): the SCOs or AUs whose last commit
/// falls in the window.
fn package_traces(
    conn: &mut DbConn,
    ids: &[i64],
    windows: &Windows,
) -> QueryResult<HashMap<(i64, i64), per_activity::PackageTrace>> {
    let rows: Vec<PackageRow> = package_attempts::table
        .filter(package_attempts::trainee_id.eq_any(ids))
        .order(package_attempts::id)
        .select((
            package_attempts::trainee_id,
            package_attempts::lesson_id,
            package_attempts::completion,
            package_attempts::success,
            package_attempts::score_scaled,
            package_attempts::package_seconds,
            package_attempts::updated_at,
        ))
        .load(conn)?;
    let mut out: HashMap<(i64, i64), per_activity::PackageTrace> = HashMap::new();
    let mut scores: HashMap<(i64, i64), Vec<f64>> = HashMap::new();
    for (t, l, completion, success, scaled, secs, at) in rows {
        if !windows.within(t, at) {
            continue;
        }
        let p = out.entry((t, l)).or_default();
        p.parts += 1;
        p.completed += usize::from(completion == "completed");
        p.passed += usize::from(success == "passed");
        p.failed += usize::from(success == "failed");
        p.package_secs += secs.round() as i64;
        if let Some(s) = scaled {
            scores.entry((t, l)).or_default().push(s);
        }
    }
    for (k, v) in scores {
        if let Some(p) = out.get_mut(&k) {
            p.score_pct = Some((v.iter().sum::<f64>() / v.len() as f64 * 100.0).round() as i32);
        }
    }
    Ok(out)
}

/// Running totals by (trainee, activity).
fn running_totals(conn: &mut DbConn, ids: &[i64]) -> QueryResult<HashMap<(i64, i64), i64>> {
    Ok(activity_totals::table
        .filter(activity_totals::trainee_id.eq_any(ids))
        .filter(activity_totals::seconds.gt(0))
        .select((
            activity_totals::trainee_id,
            activity_totals::lesson_id,
            activity_totals::seconds,
        ))
        .load::<(i64, i64, i64)>(conn)?
        .into_iter()
        .map(|(t, l, s)| ((t, l), s))
        .collect())
}

/// Time of the page views opened in each trainee's window, by (trainee, activity).
fn period_times(
    conn: &mut DbConn,
    whose: &[Whose],
    windows: &Windows,
) -> QueryResult<HashMap<(i64, i64), i64>> {
    let windowed: Vec<i64> = whose
        .iter()
        .filter(|w| w.window.is_some())
        .map(|w| w.trainee_id)
        .collect();
    let mut in_window: HashMap<(i64, i64), i64> = HashMap::new();
    let start = whose.iter().filter_map(|w| w.window).map(|w| w.0).min();
    let end = whose.iter().filter_map(|w| w.window).map(|w| w.1).max();
    let (Some(start), Some(end)) = (start, end) else {
        return Ok(in_window);
    };
    let rows: Vec<(i64, Option<i64>, NaiveDateTime, i32)> = study_sessions::table
        .filter(study_sessions::trainee_id.eq_any(&windowed))
        .filter(study_sessions::lesson_id.is_not_null())
        .filter(study_sessions::started_at.ge(start))
        .filter(study_sessions::started_at.lt(end))
        .filter(study_sessions::seconds_credited.gt(0))
        .select((
            study_sessions::trainee_id,
            study_sessions::lesson_id,
            study_sessions::started_at,
            study_sessions::seconds_credited,
        ))
        .load(conn)?;
    for (t, lesson, at, secs) in rows {
        if let Some(l) = lesson.filter(|_| windows.within(t, at)) {
            *in_window.entry((t, l)).or_default() += i64::from(secs);
        }
    }
    Ok(in_window)
}

type AttemptRow = (
    i64,
    i64,
    i64,
    String,
    i32,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<i32>,
    i32,
    Option<i32>,
    Option<bool>,
);

/// Formative quiz attempts started in the windows (the module's evaluation has an empty name).
fn quiz_attempts(
    conn: &mut DbConn,
    ids: &[i64],
    windows: &Windows,
) -> QueryResult<Vec<AttemptRow>> {
    let rows: Vec<AttemptRow> = evaluation_attempts::table
        .filter(evaluation_attempts::trainee_id.eq_any(ids))
        .filter(evaluation_attempts::quiz.ne(""))
        .order((
            evaluation_attempts::started_at.asc(),
            evaluation_attempts::id.asc(),
        ))
        .select((
            evaluation_attempts::id,
            evaluation_attempts::trainee_id,
            evaluation_attempts::module_id,
            evaluation_attempts::quiz,
            evaluation_attempts::attempt_no,
            evaluation_attempts::started_at,
            evaluation_attempts::submitted_at,
            evaluation_attempts::correct_count,
            evaluation_attempts::question_count,
            evaluation_attempts::score_pct,
            evaluation_attempts::passed,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|r| windows.within(r.1, r.5))
        .collect())
}

type SubmissionRow = (
    i64,
    i64,
    i64,
    i32,
    NaiveDateTime,
    String,
    Option<i32>,
    Option<i32>,
    Option<NaiveDateTime>,
);

/// The latest assignment version handed in within each window, by (trainee, activity).
fn latest_grades(
    conn: &mut DbConn,
    ids: &[i64],
    windows: &Windows,
) -> QueryResult<HashMap<(i64, i64), Grade>> {
    let submissions: Vec<SubmissionRow> = assignment_submissions::table
        .filter(assignment_submissions::trainee_id.eq_any(ids))
        .order((
            assignment_submissions::version_no.asc(),
            assignment_submissions::id.asc(),
        ))
        .select((
            assignment_submissions::id,
            assignment_submissions::trainee_id,
            assignment_submissions::lesson_id,
            assignment_submissions::version_no,
            assignment_submissions::submitted_at,
            assignment_submissions::status,
            assignment_submissions::points,
            assignment_submissions::max_points,
            assignment_submissions::graded_at,
        ))
        .load(conn)?;
    let mut grades = HashMap::new();
    for (id, t, l, version_no, submitted_at, status, points, max_points, graded_at) in submissions {
        if windows.within(t, submitted_at) {
            // Ordered by version: the last one stays.
            grades.insert(
                (t, l),
                Grade {
                    submission_id: id,
                    version_no,
                    submitted_at,
                    status,
                    points,
                    max_points,
                    graded_at,
                },
            );
        }
    }
    Ok(grades)
}

/// The activities named, and every activity of the modules whose quizzes were tried, with
/// their modules (and programme codes) by id.
fn activities_of(
    conn: &mut DbConn,
    lesson_ids: &HashSet<i64>,
    quiz_modules: &HashSet<i64>,
) -> QueryResult<(Vec<LessonRow>, HashMap<i64, ModuleRow>)> {
    let lesson_ids: Vec<i64> = lesson_ids.iter().copied().collect();
    let quiz_modules: Vec<i64> = quiz_modules.iter().copied().collect();
    let lesson_rows: Vec<LessonRow> = lessons::table
        .filter(
            lessons::id
                .eq_any(&lesson_ids)
                .or(lessons::module_id.eq_any(&quiz_modules)),
        )
        .select((
            lessons::id,
            lessons::module_id,
            lessons::slug,
            lessons::title,
            lessons::position,
            lessons::minutes,
            lessons::kind,
            lessons::sequence,
            lessons::required,
        ))
        .load(conn)?;
    let module_ids: Vec<i64> = lesson_rows.iter().map(|r| r.1).collect();
    let module_rows: HashMap<i64, ModuleRow> = modules::table
        .inner_join(programs::table)
        .filter(modules::id.eq_any(&module_ids))
        .select((
            modules::id,
            modules::code,
            modules::title,
            modules::position,
            programs::code,
        ))
        .load::<ModuleRow>(conn)?
        .into_iter()
        .map(|m| (m.0, m))
        .collect();
    Ok((lesson_rows, module_rows))
}

/// Attempts by (trainee, activity): a quiz is named by its module and slug.
fn attempts_by_activity(
    attempt_rows: &[AttemptRow],
    lesson_rows: &[LessonRow],
) -> HashMap<(i64, i64), Vec<QuizTry>> {
    let by_slug: HashMap<(i64, &str), i64> = lesson_rows
        .iter()
        .map(|r| ((r.1, r.2.as_str()), r.0))
        .collect();
    let mut attempts: HashMap<(i64, i64), Vec<QuizTry>> = HashMap::new();
    for r in attempt_rows {
        let Some(lesson) = by_slug.get(&(r.2, r.3.as_str())) else {
            continue;
        };
        attempts.entry((r.1, *lesson)).or_default().push(QuizTry {
            id: r.0,
            attempt_no: r.4,
            started_at: r.5,
            submitted_at: r.6,
            correct: r.7,
            questions: r.8,
            score_pct: r.9,
            passed: r.10,
        });
    }
    attempts
}

/// What trainees achieved on their activities, for the cohort's follow-up: quizzes passed,
/// assignments graded, and assignments waiting for a trainer (their latest version handed in).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Achieved {
    pub quizzes_passed: usize,
    pub graded: usize,
    pub to_grade: usize,
}

pub fn achieved(conn: &mut DbConn, trainees: &[i64]) -> QueryResult<HashMap<i64, Achieved>> {
    use crate::db::schema::{assignment_submissions as s, evaluation_attempts as e};
    let mut out: HashMap<i64, Achieved> = HashMap::new();
    let passed: Vec<(i64, i64, String)> = e::table
        .filter(e::trainee_id.eq_any(trainees))
        .filter(e::quiz.ne(""))
        .filter(e::passed.eq(true))
        .select((e::trainee_id, e::module_id, e::quiz))
        .distinct()
        .load(conn)?;
    for (t, _, _) in passed {
        out.entry(t).or_default().quizzes_passed += 1;
    }
    // The latest version of each assignment decides: ordered by version, the last one wins.
    let versions: Vec<(i64, i64, String)> = s::table
        .filter(s::trainee_id.eq_any(trainees))
        .order((s::trainee_id, s::lesson_id, s::version_no))
        .select((s::trainee_id, s::lesson_id, s::status))
        .load(conn)?;
    let latest: HashMap<(i64, i64), String> = versions
        .into_iter()
        .map(|(t, l, status)| ((t, l), status))
        .collect();
    for ((t, _), status) in latest {
        let a = out.entry(t).or_default();
        match status.as_str() {
            "graded" => a.graded += 1,
            "submitted" => a.to_grade += 1,
            _ => {}
        }
    }
    Ok(out)
}
