//! `GET /api/v1/organisms/{id}/xapi`: the organism's statements for a period, for its staff
//! or its integration tokens.

use actix_web::{HttpResponse, web};
use chrono::{Duration, NaiveDate};
use serde::Deserialize;

use super::statements::{self as st, Actor, Origin};
use super::store;
use crate::accounts::CurrentUser;
use crate::web::{AppError, AppResult, State};

/// A year at most per call: an LRS loads one period after another.
pub const MAX_DAYS: i64 = 366;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/organisms/{id}/xapi", web::get().to(export));
}

#[derive(Deserialize)]
struct Period {
    from: Option<String>,
    to: Option<String>,
}

fn day(field: &str, raw: Option<&str>, default: NaiveDate) -> AppResult<NaiveDate> {
    match raw {
        None => Ok(default),
        Some(r) => crate::base::format::parse_day(r)
            .ok_or_else(|| AppError::invalid(field, "Date invalide : AAAA-MM-JJ ou jj/mm/aaaa.")),
    }
}

fn actor(id: i64, name: &str) -> Actor<'_> {
    Actor { id, name }
}

async fn export(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    query: web::Query<Period>,
) -> AppResult<HttpResponse> {
    let org = path.into_inner();
    me.require_staff_of(org)?;
    let today = crate::base::paris::today();
    let to = day("to", query.to.as_deref(), today)?;
    let from = day("from", query.from.as_deref(), to - Duration::days(29))?;
    if from > to {
        return Err(AppError::invalid(
            "from",
            "La date de début est après la date de fin.",
        ));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(AppError::invalid(
            "to",
            format!("{MAX_DAYS} jours au plus par export : découpez la période."),
        ));
    }
    let (organism, rows) = state
        .db(move |c| {
            let o = crate::organisms::store::get(c, org)?.ok_or(AppError::NotFound)?;
            Ok((o.name, store::rows(c, org, from, to)?))
        })
        .await?;
    let origin = Origin {
        base_url: state.config.base_url.trim_end_matches('/'),
        organism: &organism,
    };
    let out = statements(&origin, &rows);
    Ok(HttpResponse::Ok()
        .insert_header(("X-Experience-API-Version", "1.0.3"))
        .json(serde_json::json!({
            "from": from,
            "to": to,
            "count": out.len(),
            "statements": out,
        })))
}

/// The statements of the rows, in a fixed order: days, lessons, evaluations, quizzes,
/// graded assignments, completions, packages' results.
fn statements(origin: &Origin<'_>, rows: &store::Rows) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for d in &rows.days {
        let day = st::StudyDay {
            row_id: d.id,
            program: &d.program,
            module: &d.module,
            module_title: &d.module_title,
            seconds: d.seconds,
            first_at: d.first_at,
            last_at: d.last_at,
        };
        out.push(st::study_day(
            origin,
            &actor(d.trainee_id, &d.trainee),
            &day,
        ));
    }
    for l in &rows.lessons {
        let lesson = st::LessonDone {
            row_id: l.id,
            program: &l.program,
            module: &l.module,
            slug: &l.slug,
            title: &l.title,
            at: l.at,
        };
        out.push(st::lesson_done(
            origin,
            &actor(l.trainee_id, &l.trainee),
            &lesson,
        ));
    }
    for t in &rows.attempts {
        let Some(submitted_at) = t.submitted_at else {
            continue;
        };
        let attempt = st::Attempt {
            row_id: t.id,
            program: &t.program,
            module: &t.module,
            module_title: &t.module_title,
            attempt_no: t.attempt_no,
            correct: t.correct.unwrap_or(0),
            questions: t.questions,
            passed: t.passed.unwrap_or(false),
            started_at: t.started_at,
            submitted_at,
        };
        out.push(st::attempt(
            origin,
            &actor(t.trainee_id, &t.trainee),
            &attempt,
        ));
    }
    for t in &rows.quiz_attempts {
        let Some(submitted_at) = t.submitted_at else {
            continue;
        };
        let attempt = st::QuizAttempt {
            row_id: t.id,
            program: &t.program,
            module: &t.module,
            slug: &t.slug,
            title: &t.title,
            attempt_no: t.attempt_no,
            correct: t.correct.unwrap_or(0),
            questions: t.questions,
            passed: t.passed.unwrap_or(false),
            started_at: t.started_at,
            submitted_at,
        };
        out.push(st::quiz_attempt(
            origin,
            &actor(t.trainee_id, &t.trainee),
            &attempt,
        ));
    }
    for g in &rows.graded {
        let Some(graded_at) = g.graded_at else {
            continue;
        };
        let work = st::Graded {
            row_id: g.id,
            program: &g.program,
            module: &g.module,
            slug: &g.slug,
            title: &g.title,
            version_no: g.version_no,
            points: g.points.zip(g.max_points),
            graded_at,
        };
        out.push(st::graded(origin, &actor(g.trainee_id, &g.trainee), &work));
    }
    for c in &rows.completions {
        let done = st::Completion {
            attestation_id: c.id,
            number: &c.number,
            program: &c.program,
            program_title: &c.program_title,
            at: c.at,
        };
        out.push(st::completion(
            origin,
            &actor(c.trainee_id, &c.trainee),
            &done,
        ));
    }
    for p in &rows.packages {
        let result = st::PackageResult {
            row_id: p.id,
            program: &p.program,
            module: &p.module,
            slug: &p.slug,
            title: &p.title,
            item: &p.item,
            success: match p.success.as_str() {
                "passed" => Some(true),
                "failed" => Some(false),
                _ => None,
            },
            completed: p.completion == "completed",
            scaled: p.score_scaled,
            package_seconds: p.package_seconds.round() as i64,
            at: p.updated_at,
        };
        out.push(st::package_result(
            origin,
            &actor(p.trainee_id, &p.trainee),
            &result,
        ));
    }
    out
}
