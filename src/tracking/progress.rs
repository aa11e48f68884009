//! A trainee's hours against their individual plan, assembled from pre-aggregated totals.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde::Serialize;

use super::rules::{self, Pace};
use super::store::{self, ModuleTotal};
use crate::cohorts::store::{self as cohorts, CohortRow, TraineeLine, Trainees};
use crate::db::DbConn;
use crate::web::AppResult;

#[derive(Debug, Clone, Serialize)]
pub struct ModuleHours {
    pub module_id: i64,
    pub code: String,
    pub title: String,
    pub planned_secs: i64,
    pub exempted_secs: i64,
    pub distance_secs: i64,
    pub presentiel_secs: i64,
    pub correction_secs: i64,
    /// Done + exempted, against the individual plan.
    pub credited_secs: i64,
    pub percent: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TraineeHours {
    pub trainee_id: i64,
    pub modules: Vec<ModuleHours>,
    pub planned_secs: i64,
    pub done_secs: i64,
    pub credited_secs: i64,
    pub percent: i64,
    pub last_activity: Option<NaiveDate>,
    pub pace: Pace,
    pub status_label: &'static str,
    pub deadline: NaiveDate,
}

/// Pure assembly: plan rows (module id, code, title, planned minutes), exemptions (minutes by
/// module), totals, when anything was last credited, and the recent daily seconds.
#[allow(clippy::too_many_arguments)]
pub fn assemble(
    trainee_id: i64,
    plan: &[(i64, String, String, i32)],
    exempted_minutes: &HashMap<i64, i32>,
    totals: &[ModuleTotal],
    last_activity_at: Option<NaiveDateTime>,
    recent_28d_secs: i64,
    cohort: (NaiveDate, NaiveDate),
    deadline: NaiveDate,
    today: NaiveDate,
) -> TraineeHours {
    let modules: Vec<ModuleHours> = plan
        .iter()
        .map(|(id, code, title, planned)| {
            let t = totals.iter().find(|t| t.module_id == *id);
            let exempted = *exempted_minutes.get(id).unwrap_or(&0) as i64 * 60;
            let planned = *planned as i64 * 60;
            let (d, p, c) = t.map_or((0, 0, 0), |t| {
                (
                    t.distance_seconds,
                    t.presentiel_seconds,
                    t.correction_seconds,
                )
            });
            let credited = (d + p + c + exempted).max(0);
            ModuleHours {
                module_id: *id,
                code: code.clone(),
                title: title.clone(),
                planned_secs: planned,
                exempted_secs: exempted,
                distance_secs: d,
                presentiel_secs: p,
                correction_secs: c,
                credited_secs: credited,
                percent: (credited.min(planned) * 100)
                    .checked_div(planned)
                    .unwrap_or(100),
            }
        })
        .collect();
    let planned: i64 = modules.iter().map(|m| m.planned_secs).sum();
    let exempted: i64 = modules.iter().map(|m| m.exempted_secs).sum();
    let credited: i64 = modules
        .iter()
        .map(|m| m.credited_secs.min(m.planned_secs))
        .sum();
    let done = credited - exempted.min(credited);
    let last_activity = last_activity_at.map(crate::base::paris::paris_date);
    let individual = planned - exempted;
    let pace = rules::pace(
        cohort.0,
        cohort.1,
        deadline,
        today,
        individual,
        done,
        recent_28d_secs,
        last_activity,
    );
    TraineeHours {
        trainee_id,
        planned_secs: planned,
        done_secs: done,
        credited_secs: credited,
        percent: (credited * 100).checked_div(planned).unwrap_or(0),
        last_activity,
        status_label: pace.status.label(),
        pace,
        modules,
        deadline,
    }
}

/// Hours of the trainees of one cohort (in their order), with a few queries whatever their
/// number.
pub fn for_cohort(
    conn: &mut DbConn,
    cohort: &CohortRow,
    trainees: &[TraineeLine],
    today: NaiveDate,
) -> AppResult<Vec<TraineeHours>> {
    hours(conn, cohort, trainees, Trainees::OfCohort(cohort.id), today)
}

fn hours(
    conn: &mut DbConn,
    cohort: &CohortRow,
    trainees: &[TraineeLine],
    who: Trainees<'_>,
    today: NaiveDate,
) -> AppResult<Vec<TraineeHours>> {
    let plan = cohorts::program_modules(conn, cohort.program_id)?;
    let totals = store::totals(conn, who)?;
    let last = store::last_activity(conn, who)?;
    let exemptions = cohorts::adjustments_of_many(conn, who)?;
    let recent_by = store::recent_seconds(conn, who, today - Duration::days(28))?;
    // Grouped once: a cohort of 1,000 must not cost 1,000 scans of every row.
    let mut exempted_by: HashMap<i64, HashMap<i64, i32>> = HashMap::new();
    for (trainee, module, minutes) in exemptions {
        exempted_by
            .entry(trainee)
            .or_default()
            .insert(module, minutes);
    }
    let none = HashMap::new();
    Ok(trainees
        .iter()
        .map(|t| {
            let exempted = exempted_by.get(&t.id).unwrap_or(&none);
            let recent = recent_by.get(&t.id).copied().unwrap_or(0);
            let deadline = crate::cohorts::access::deadline_of(t, today);
            assemble(
                t.id,
                &plan,
                exempted,
                totals.get(&t.id).map(Vec::as_slice).unwrap_or(&[]),
                last.get(&t.id).copied(),
                recent,
                (cohort.start_date, cohort.end_date),
                deadline,
                today,
            )
        })
        .collect())
}

/// Hours of one trainee in their current cohort, if they have one.
pub fn for_trainee(
    conn: &mut DbConn,
    trainee: &TraineeLine,
    today: NaiveDate,
) -> AppResult<Option<(CohortRow, TraineeHours)>> {
    let Some(cohort) = trainee
        .cohort_id
        .map(|c| cohorts::cohort(conn, c))
        .transpose()?
        .flatten()
    else {
        return Ok(None);
    };
    let who = Trainees::Ids(std::slice::from_ref(&trainee.id));
    let hours = hours(conn, &cohort, std::slice::from_ref(trainee), who, today)?.pop();
    Ok(hours.map(|h| (cohort, h)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exempted_hours_count_towards_the_plan_but_not_as_done() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let plan = vec![
            (1, "M1".to_string(), "Un".to_string(), 600),
            (2, "M2".into(), "Deux".into(), 300),
        ];
        let exempted = HashMap::from([(2, 300)]);
        let totals = vec![ModuleTotal {
            module_id: 1,
            distance_seconds: 3600,
            presentiel_seconds: 7200,
            correction_seconds: -1800,
        }];
        let h = assemble(
            7,
            &plan,
            &exempted,
            &totals,
            None,
            0,
            (d(1, 1), d(11, 1)),
            d(12, 31),
            d(3, 1),
        );
        assert_eq!(h.modules[0].credited_secs, 9000);
        assert_eq!(h.modules[1].credited_secs, 18000);
        assert_eq!(h.modules[1].percent, 100);
        assert_eq!(h.planned_secs, 54000);
        assert_eq!(h.credited_secs, 27000);
        assert_eq!(h.done_secs, 9000, "exempted is credited, not done");
        assert_eq!(h.percent, 50);
    }
}
