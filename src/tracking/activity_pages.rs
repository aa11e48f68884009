//! Staff: per activity of a cohort's programme, how long its trainees really took against the
//! estimate.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::activity_times::{self, Spent};
use super::store as reads;
use crate::accounts::CurrentUser;
use crate::base::format::minutes;
use crate::cohorts::access::cohort_for_staff;
use crate::cohorts::store::Trainees;
use crate::curriculum::Content;
use crate::web::{self as w, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/promotions/{id}/activites",
        web::get().to(cohort_activities),
    );
}

#[derive(Serialize)]
struct Line<'a> {
    title: &'a str,
    kind: &'static str,
    required: bool,
    estimate: String,
    trainees: usize,
    median: Option<String>,
    ratio: Option<String>,
}

#[derive(Serialize)]
struct ModuleTimes<'a> {
    code: &'a str,
    title: &'a str,
    lines: Vec<Line<'a>>,
}

async fn cohort_activities(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let cohort = cohort_for_staff(&state, &me, path.into_inner()).await?;
    let (id, version, content) = (cohort.id, cohort.content_version_id, content.clone());
    let (rows, ed) = state
        .db(move |c| {
            let rows = reads::activity_times(c, Trainees::OfCohort(id))?;
            Ok((rows, content.edition(c, version)?))
        })
        .await?;
    let spent = activity_times::by_activity(&rows);
    let program = &ed.program;
    let modules: Vec<ModuleTimes> = program
        .modules
        .iter()
        .map(|m| ModuleTimes {
            code: &m.code,
            title: &m.title,
            lines: m
                .activities
                .iter()
                .map(|a| {
                    let s: Option<&Spent> = ed
                        .activity_id(&m.code, &a.slug)
                        .and_then(|id| spent.get(&id));
                    Line {
                        title: &a.title,
                        kind: a.kind.label(),
                        required: a.required,
                        estimate: minutes(a.minutes.into()),
                        trainees: s.map_or(0, |s| s.trainees),
                        median: s.map(|s| minutes((s.median_secs + 59) / 60)),
                        ratio: s.and_then(|s| activity_times::ratio(s.median_secs, a.minutes)),
                    }
                })
                .collect(),
        })
        .collect();
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("cohort", &cohort);
    ctx.insert("modules", &modules);
    state.render("tracking/activities.html", &ctx)
}
