//! Dashboards: the trainee's, a cohort's follow-up table for staff, a trainee's hours with
//! corrections, and the employer doctor's view.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{Datelike, Duration, NaiveDate};
use serde::Deserialize;

use super::progress::{self, TraineeHours};
use super::{chart, store};
use crate::accounts::{CurrentUser, Role};
use crate::base::format;
use crate::base::paris::today;
use crate::cohorts::access::cohort_for_staff;
use crate::cohorts::access::{Access, staff_access, trainee_access};
use crate::cohorts::store as cohorts;
use crate::curriculum::Content;
use crate::web::csrf::CsrfForm;
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/tableau-de-bord", web::get().to(trainee_dashboard))
        .route("/promotions/{id}/suivi", web::get().to(cohort_table))
        .route("/promotions/{id}/suivi.csv", web::get().to(cohort_csv))
        .route("/stagiaires/{id}/heures", web::get().to(trainee_hours))
        .route("/stagiaires/{id}/corrections", web::post().to(correct))
        .route("/mes-assistants", web::get().to(doctor_dashboard))
        .route("/mes-assistants/resume", web::post().to(digest_choice));
}

/// Hours of one trainee, whoever may see them.
async fn hours_of(
    state: &State,
    trainee: &cohorts::TraineeLine,
) -> AppResult<Option<(cohorts::CohortRow, TraineeHours)>> {
    let t = trainee.clone();
    let today = today();
    state.db(move |c| progress::for_trainee(c, &t, today)).await
}

/// The activities she worked on, by module, in the programme's order: time against the
/// estimate, and the result.
fn activity_views(lines: &[super::per_activity::ActivityLine]) -> Vec<serde_json::Value> {
    let mut out: Vec<serde_json::Value> = Vec::new();
    for l in lines {
        let view = serde_json::json!({
            "title": l.title,
            "kind": l.kind_label(),
            "estimate": crate::base::format::minutes(i64::from(l.minutes)),
            "spent": l.time_text(),
            "result": l.result(),
        });
        match out.last_mut() {
            Some(m) if m["code"] == l.module_code.as_str() => {
                if let Some(list) = m["lines"].as_array_mut() {
                    list.push(view);
                }
            }
            _ => out.push(serde_json::json!({
                "code": l.module_code,
                "title": l.module_title,
                "lines": [view],
            })),
        }
    }
    out
}

async fn trainee_dashboard(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
) -> AppResult<HttpResponse> {
    me.require(&[Role::Trainee])?;
    let id = me.id;
    let trainee = state
        .db(move |c| Ok(cohorts::trainee(c, cohorts::Scope::Checked, id)?))
        .await?;
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    let Some(trainee) = trainee else {
        return state.render("tracking/dashboard.html", &ctx);
    };
    let Some((cohort, hours)) = hours_of(&state, &trainee).await? else {
        return state.render("tracking/dashboard.html", &ctx);
    };
    let today = today();
    let first = today.with_day(1).unwrap_or(today);
    let days = state
        .db(move |c| Ok(store::days_since(c, &[id], first)?))
        .await?;
    let month_len = (first + chrono::Months::new(1) - first).num_days() as usize;
    let mut minutes = vec![0i64; month_len];
    for (_, day, secs) in days {
        if let Some(slot) = minutes.get_mut(day.day0() as usize) {
            *slot += secs / 60;
        }
    }
    let month_total: i64 = minutes.iter().sum();
    // What to do next: the first lesson not marked done in the first unfinished module.
    let content = content.clone();
    let next = state.db(move |c| Ok(content.next_lesson(c, id)?)).await?;
    let whose = [store::Whose {
        trainee_id: id,
        window: None,
    }];
    let lines = state
        .db(move |c| Ok(store::activity_lines(c, &whose)?))
        .await?;
    ctx.insert("activities", &activity_views(&lines));
    ctx.insert("cohort", &cohort);
    ctx.insert("hours", &hours);
    let days_left = (hours.deadline - today).num_days();
    ctx.insert(
        "deadline_words",
        &crate::cohorts::rules::deadline_words(days_left),
    );
    ctx.insert("overdue", &(days_left < 0));
    ctx.insert(
        "chart",
        &chart::month_bars(
            &minutes,
            &format!("Temps à distance en {}", month_fr(today)),
        ),
    );
    ctx.insert("month_total", &month_total);
    ctx.insert("next", &next);
    state.render("tracking/dashboard.html", &ctx)
}

fn month_fr(d: NaiveDate) -> String {
    const MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    format!("{} {}", MONTHS[d.month0() as usize], d.year())
}

#[derive(Deserialize)]
struct TableQuery {
    tri: Option<String>,
    statut: Option<String>,
}

/// A row of a cohort's follow-up: the trainee and their hours.
type Row = (TraineeHours, cohorts::TraineeLine);

/// Every trainee of a cohort with their hours, alerts first.
async fn cohort_rows(
    state: &State,
    me: &CurrentUser,
    id: i64,
    query: &TableQuery,
) -> AppResult<(
    cohorts::CohortRow,
    Vec<Row>,
    Vec<(i64, String, String, i32)>,
)> {
    let cohort = cohort_for_staff(state, me, id).await?;
    let c2 = cohort.clone();
    let today = today();
    let (trainees, hours, plan) = state
        .db(move |c| {
            let trainees = cohorts::trainees_of_cohort(c, c2.organism_id, c2.id)?;
            let hours = progress::for_cohort(c, &c2, &trainees, today)?;
            Ok((trainees, hours, cohorts::program_modules(c, c2.program_id)?))
        })
        .await?;
    // for_cohort answers in the order of the trainees it is given.
    let mut rows: Vec<Row> = hours
        .into_iter()
        .zip(trainees)
        .filter(|(h, _)| {
            query
                .statut
                .as_deref()
                .is_none_or(|s| h.pace.status.code() == s)
        })
        .collect();
    match query.tri.as_deref() {
        Some("nom") => rows.sort_by(|a, b| a.1.name.cmp(&b.1.name)),
        Some("heures") => rows.sort_by_key(|r| std::cmp::Reverse(r.0.credited_secs)),
        Some("activite") => rows.sort_by_key(|r| r.0.last_activity),
        _ => rows.sort_by(|a, b| {
            (a.0.pace.status.rank(), &a.1.name).cmp(&(b.0.pace.status.rank(), &b.1.name))
        }),
    }
    Ok((cohort, rows, plan))
}

async fn cohort_table(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    query: web::Query<TableQuery>,
) -> AppResult<HttpResponse> {
    let (cohort, rows, plan) = cohort_rows(&state, &me, path.into_inner(), &query).await?;
    let ids: Vec<i64> = rows.iter().map(|(_, t)| t.id).collect();
    let achieved = state.db(move |c| Ok(store::achieved(c, &ids)?)).await?;
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("cohort", &cohort);
    ctx.insert("rows_html", &rows_html(&rows, &achieved, cohort.end_date));
    ctx.insert("count", &rows.len());
    ctx.insert("modules", &plan);
    ctx.insert("tri", &query.tri);
    ctx.insert("statut", &query.statut);
    state.render("tracking/cohort.html", &ctx)
}

/// The table body of a cohort's follow-up, written directly: a thousand rows through the
/// template engine cost ten times more than the whole rest of the request.
/// A trainee whose deadline falls before the cohort's end carries the flag under her name.
fn rows_html(
    rows: &[Row],
    achieved: &std::collections::HashMap<i64, store::Achieved>,
    cohort_end: NaiveDate,
) -> String {
    use std::fmt::Write;
    let e = crate::web::escape_html;
    let hm = |secs: i64| format::minutes(secs / 60);
    let mut out = String::with_capacity(rows.len() * 700);
    for (h, t) in rows {
        let _ = write!(
            out,
            r#"<tr><td><a href="/stagiaires/{}/heures">{}</a>"#,
            t.id,
            e(&t.name),
        );
        let flags = crate::cohorts::rules::deadline_flags(h.deadline, Some(cohort_end), None);
        if !flags.is_empty() {
            let _ = write!(
                out,
                r#"<br><strong class="overdue">échéance dépassée avant la fin de la promotion</strong><br><span class="muted small">échéance le {}, fin le {}</span>"#,
                format::date(h.deadline),
                format::date(cohort_end),
            );
        }
        let _ = write!(
            out,
            r#"</td><td><span class="status-{}">{}</span></td>"#,
            h.pace.status.code(),
            h.status_label,
        );
        for m in &h.modules {
            let _ = write!(
                out,
                r#"<td>{}<br><span class="muted small">/ {}</span></td>"#,
                hm(m.credited_secs),
                hm(m.planned_secs)
            );
        }
        let last = h
            .last_activity
            .map_or_else(|| "—".to_string(), format::date);
        let a = achieved.get(&t.id).copied().unwrap_or_default();
        let waiting = match a.to_grade {
            0 => String::new(),
            n => format!(r#"<br><span class="status-en_retard">{n} à noter</span>"#),
        };
        let _ = write!(
            out,
            "<td><strong>{}</strong></td><td>{} quiz réussi(s)<br>{} devoir(s) noté(s){waiting}</td><td>{last}</td></tr>",
            hm(h.credited_secs),
            a.quizzes_passed,
            a.graded,
        );
    }
    out
}

async fn cohort_csv(
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    query: web::Query<TableQuery>,
) -> AppResult<HttpResponse> {
    let (cohort, rows, plan) = cohort_rows(&state, &me, path.into_inner(), &query).await?;
    let mut out = Vec::new();
    {
        let mut wr = format::excel_csv(&mut out);
        let mut header = vec!["Nom".to_string(), "E-mail".into(), "Statut".into()];
        header.extend(plan.iter().map(|m| format!("{} (h)", m.1)));
        header.extend([
            "Total (h)".to_string(),
            "Prévu (h)".into(),
            "Dernière activité".into(),
        ]);
        wr.write_record(&header)
            .map_err(|e| AppError::Internal(e.into()))?;
        let h = format::decimal_hours;
        let safe = crate::cohorts::import::spreadsheet_safe;
        for (hours, t) in &rows {
            let mut rec = vec![
                safe(&t.name),
                safe(&t.email),
                hours.status_label.to_string(),
            ];
            rec.extend(hours.modules.iter().map(|m| h(m.credited_secs)));
            rec.push(h(hours.credited_secs));
            rec.push(h(hours.planned_secs));
            rec.push(hours.last_activity.map(format::date).unwrap_or_default());
            wr.write_record(&rec)
                .map_err(|e| AppError::Internal(e.into()))?;
        }
        wr.flush().map_err(|e| AppError::Internal(e.into()))?;
    }
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"suivi-promotion-{}.csv\"", cohort.id),
        ))
        .body(out))
}

async fn render_hours(
    req: &HttpRequest,
    state: &State,
    me: &CurrentUser,
    id: i64,
    error: Option<String>,
) -> AppResult<HttpResponse> {
    let (trainee, level) = trainee_access(state, me, id).await?;
    let hours = hours_of(state, &trainee).await?;
    let corrections = if level == Access::Staff {
        state.db(move |c| Ok(store::corrections_of(c, id)?)).await?
    } else {
        vec![]
    };
    let mut ctx = w::context(req);
    ctx.insert("me", &me.view());
    ctx.insert("trainee", &trainee);
    ctx.insert("staff", &(level == Access::Staff));
    ctx.insert("cohort", &hours.as_ref().map(|h| &h.0));
    ctx.insert("hours", &hours.as_ref().map(|h| &h.1));
    ctx.insert("corrections", &corrections);
    ctx.insert("error", &error);
    let status = if error.is_some() {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        actix_web::http::StatusCode::OK
    };
    state.render_status(status, "tracking/trainee.html", &ctx)
}

async fn trainee_hours(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    render_hours(&req, &state, &me, path.into_inner(), None).await
}

#[derive(Deserialize)]
struct CorrectionForm {
    module_id: i64,
    direction: String,
    hours: String,
    minutes: String,
    reason: String,
}

/// Parses "3" hours and "30" minutes into seconds.
pub fn parse_duration(hours: &str, minutes: &str) -> Option<i64> {
    let h: i64 = if hours.trim().is_empty() {
        0
    } else {
        hours.trim().parse().ok()?
    };
    let m: i64 = if minutes.trim().is_empty() {
        0
    } else {
        minutes.trim().parse().ok()?
    };
    ((0..=500).contains(&h) && (0..60).contains(&m) && h * 60 + m > 0).then_some((h * 60 + m) * 60)
}

async fn correct(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<CorrectionForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let trainee = staff_access(&state, &me, id).await?;
    let Some(secs) = parse_duration(&form.hours, &form.minutes) else {
        return render_hours(
            &req,
            &state,
            &me,
            id,
            Some("Indiquez une durée (heures et minutes) supérieure à zéro.".into()),
        )
        .await;
    };
    let reason = form.reason.trim().to_string();
    if reason.chars().count() < 3 {
        return render_hours(
            &req,
            &state,
            &me,
            id,
            Some("Le motif de la correction est obligatoire.".into()),
        )
        .await;
    }
    let secs = if form.direction == "retrait" {
        -secs
    } else {
        secs
    };
    let hours = hours_of(&state, &trainee).await?;
    let Some(module) = hours
        .as_ref()
        .and_then(|h| h.1.modules.iter().find(|m| m.module_id == form.module_id))
    else {
        return render_hours(
            &req,
            &state,
            &me,
            id,
            Some("Ce module ne fait pas partie du parcours.".into()),
        )
        .await;
    };
    if module.distance_secs + module.presentiel_secs + module.correction_secs + secs < 0 {
        return render_hours(
            &req,
            &state,
            &me,
            id,
            Some("Le retrait dépasse les heures enregistrées pour ce module.".into()),
        )
        .await;
    }
    let (actor, org, module_id) = (me.id, trainee.organism_id, form.module_id);
    state
        .db(move |c| Ok(store::correct(c, actor, org, id, module_id, secs, &reason)?))
        .await?;
    Ok(w::redirect(&format!("/stagiaires/{id}/heures")))
}

async fn doctor_dashboard(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
) -> AppResult<HttpResponse> {
    me.require(&[Role::Doctor])?;
    let id = me.id;
    let today = today();
    let (list, digest, links) = state
        .db(move |c| {
            let trainees = cohorts::assistants_of(c, id)?;
            let mut out = Vec::new();
            for t in trainees {
                let hours = progress::for_trainee(c, &t, today)?.map(|h| h.1);
                let attendance = super::attendance::attendance_of(c, t.id)?;
                out.push(serde_json::json!({
                    "trainee": crate::cohorts::access::trainee_view(&t, today),
                    "hours": hours,
                    "attendance": attendance,
                }));
            }
            use crate::db::schema::users;
            use diesel::prelude::*;
            let digest: bool = users::table
                .find(id)
                .select(users::weekly_digest)
                .first(c)?;
            let links = crate::accounts::doctor_links::live(c, id)?;
            Ok((out, digest, links))
        })
        .await?;
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("assistants", &list);
    ctx.insert("weekly_digest", &digest);
    ctx.insert("links", &links);
    ctx.insert(
        "links_off",
        &req.query_string().contains("avis=liens-desactives"),
    );
    ctx.insert(
        "week_start",
        &(today - Duration::days(today.weekday().num_days_from_monday() as i64)),
    );
    state.render("tracking/doctor.html", &ctx)
}

#[derive(Deserialize)]
struct DigestForm {
    weekly_digest: Option<String>,
}

/// The doctor turns the weekly digest on or off.
async fn digest_choice(
    state: State,
    me: CurrentUser,
    CsrfForm(form): CsrfForm<DigestForm>,
) -> AppResult<HttpResponse> {
    me.require(&[Role::Doctor])?;
    let (id, wanted) = (me.id, form.weekly_digest.as_deref() == Some("1"));
    // The same choice as on /mon-compte and the mail's link: one column, one audit event.
    state
        .db(move |c| {
            crate::accounts::mail_choices::set(
                c,
                id,
                super::engagement::WEEKLY_DIGEST,
                wanted,
                crate::accounts::mail_choices::Via::Page("/mes-assistants"),
            )
        })
        .await?;
    Ok(w::redirect("/mes-assistants"))
}
