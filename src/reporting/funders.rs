//! The funders' export: hours per trainee and module over a period, and the time missed.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use super::rules;
use super::store;
use super::table::{Cell, Sheet};
use crate::base::paris::paris_midnight;
use crate::cohorts::rules::{EndReason, Funding};
use crate::cohorts::store::{self as cohorts, Trainees};
use crate::curriculum::Editions;
use crate::db::DbConn;
use crate::tracking::per_activity::{ActivityLine, sequence_title};
use crate::tracking::store::{self as tracking, Whose};
use crate::web::AppResult;

pub const HOURS_HEADER: [&str; 17] = [
    "Organisme",
    "Promotion",
    "Stagiaire",
    "E-mail",
    "Financement",
    "Entrée",
    "Fin d'inscription",
    "Code module",
    "Module",
    "Prévu (h)",
    "À distance (h)",
    "En présentiel (h)",
    "Corrections (h)",
    "Validé sans suivi : VAE, équivalences (h)",
    "Total réalisé (h)",
    "Motif de sortie",
    "Dossier de financement",
];

pub const ABSENCES_HEADER: [&str; 12] = [
    "Organisme",
    "Promotion",
    "Stagiaire",
    "E-mail",
    "Date",
    "Code module",
    "Module",
    "Début",
    "Fin",
    "Statut",
    "Motif",
    "Minutes manquées",
];

pub const ACTIVITIES_HEADER: [&str; 18] = [
    "Organisme",
    "Promotion",
    "Stagiaire",
    "E-mail",
    "Code module",
    "Module",
    "Séquence",
    "Activité",
    "Type",
    "Obligatoire",
    "Durée estimée (h)",
    "Temps passé sur la période (h)",
    "Temps passé depuis le début (h)",
    "Tentatives de quiz",
    "Meilleur score (%)",
    "Points du devoir",
    "Sur",
    "Résultat",
];

pub struct Export {
    pub hours: Sheet,
    pub absences: Sheet,
    /// Per trainee and activity: time spent against the estimate, and the result.
    pub activities: Sheet,
}

fn time(t: chrono::NaiveTime) -> String {
    t.format("%H h %M").to_string()
}

/// Both tables for an organism (or one of its cohorts) over a period, both ends included.
/// Hours are those of the certificat de réalisation, counted only while each trainee was
/// enrolled in the cohort, so that a transfer does not count a day twice.
pub fn export(
    conn: &mut DbConn,
    editions: &Editions,
    organism: &str,
    organism_id: i64,
    cohort: Option<i64>,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Export> {
    let mut hours = Sheet::new("Heures", &HOURS_HEADER);
    let mut plans: HashMap<i64, Vec<(i64, String, String, i32)>> = HashMap::new();
    let enrolled = store::enrolled(conn, organism_id, cohort, Some((from, to)))?;
    let ids: Vec<i64> = enrolled.iter().map(|e| e.enrolment.trainee_id).collect();
    let mut exempted: HashMap<(i64, i64), i32> = HashMap::new();
    for (trainee, module, minutes) in cohorts::adjustments_of_many(conn, Trainees::Ids(&ids))? {
        exempted.insert((trainee, module), minutes);
    }
    let within: Vec<_> = enrolled
        .iter()
        .filter_map(|e| Some((e, e.enrolment.within(from, to)?)))
        .collect();
    let periods: Vec<_> = within
        .iter()
        .map(|(e, (start, end))| (e.enrolment.trainee_id, *start, *end))
        .collect();
    let done_in = crate::attestation::store::hours_in_periods(conn, &periods)?;
    let enrolment_ids: Vec<i64> = within.iter().map(|(e, _)| e.enrolment.id).collect();
    let references = crate::funding::store::references(conn, &enrolment_ids)?;
    let activities = activities(conn, editions, organism, &within)?;
    for ((e, _), done) in within.into_iter().zip(done_in) {
        let trainee = e.enrolment.trainee_id;
        let departure = e
            .end_reason
            .as_deref()
            .and_then(EndReason::from_db)
            .map_or("", |r| r.label());
        let reference = references.get(&e.enrolment.id).map_or("", String::as_str);
        let plan = match plans.entry(e.program_id) {
            Entry::Occupied(p) => p.into_mut(),
            Entry::Vacant(v) => v.insert(cohorts::program_modules(conn, e.program_id)?),
        };
        for (module, code, title, planned) in plan.iter() {
            let (d, p, c) = done.get(module).copied().unwrap_or_default();
            let exempt = *exempted.get(&(trainee, *module)).unwrap_or(&0) as i64 * 60;
            hours.rows.push(vec![
                Cell::text(organism),
                Cell::text(&e.cohort_name),
                Cell::text(&e.name),
                Cell::text(&e.email),
                Cell::text(Funding::from_db(&e.funding).label()),
                Cell::Date(e.enrolment.started_on),
                Cell::date(e.enrolment.ended_on),
                Cell::text(code),
                Cell::text(title),
                Cell::Hours(*planned as i64 * 60),
                Cell::Hours(d),
                Cell::Hours(p),
                Cell::Hours(c),
                Cell::Hours(exempt),
                Cell::Hours(d + p + c),
                Cell::text(departure),
                Cell::text(reference),
            ]);
        }
    }
    let mut absences = Sheet::new("Absences", &ABSENCES_HEADER);
    for m in store::missed(conn, organism_id, cohort, from, to)? {
        let Some(label) =
            rules::absence_label(&m.status, m.starts_at, m.ends_at, m.arrived_at, m.left_at)
        else {
            continue;
        };
        absences.rows.push(vec![
            Cell::text(organism),
            Cell::text(&m.cohort_name),
            Cell::text(&m.name),
            Cell::text(&m.email),
            Cell::Date(m.day),
            Cell::text(&m.module_code),
            Cell::text(&m.module_title),
            Cell::text(time(m.starts_at)),
            Cell::text(time(m.ends_at)),
            Cell::text(label),
            Cell::text(m.note.unwrap_or_default()),
            Cell::Count((m.planned_minutes - m.minutes_credited).max(0) as i64),
        ]);
    }
    Ok(Export {
        hours,
        absences,
        activities,
    })
}

/// The activities each trainee worked on while enrolled in the cohort during the period.
/// A trainee transferred in the period has two enrolments, hence two windows: they are read
/// in rounds where each trainee appears once.
fn activities(
    conn: &mut DbConn,
    editions: &Editions,
    organism: &str,
    within: &[(&store::Enrolled, (NaiveDate, NaiveDate))],
) -> AppResult<Sheet> {
    let mut sheet = Sheet::new("Activités", &ACTIVITIES_HEADER);
    let mut left: Vec<&(&store::Enrolled, (NaiveDate, NaiveDate))> = within.iter().collect();
    while !left.is_empty() {
        let mut seen = HashSet::new();
        let (round, rest): (Vec<_>, Vec<_>) = left
            .into_iter()
            .partition(|(e, _)| seen.insert(e.enrolment.trainee_id));
        left = rest;
        let whose: Vec<Whose> = round
            .iter()
            .map(|(e, (start, end))| Whose {
                trainee_id: e.enrolment.trainee_id,
                window: Some((
                    paris_midnight(*start),
                    paris_midnight(*end + chrono::Duration::days(1)),
                )),
            })
            .collect();
        let mut by_trainee: HashMap<i64, Vec<ActivityLine>> = HashMap::new();
        for l in tracking::activity_lines(conn, &whose)? {
            by_trainee.entry(l.trainee_id).or_default().push(l);
        }
        for (e, _) in round {
            for l in by_trainee
                .remove(&e.enrolment.trainee_id)
                .unwrap_or_default()
            {
                let g = l.grade.as_ref();
                let count = |n: Option<i32>| n.map_or(Cell::Empty, |n| Cell::Count(n.into()));
                sheet.rows.push(vec![
                    Cell::text(organism),
                    Cell::text(&e.cohort_name),
                    Cell::text(&e.name),
                    Cell::text(&e.email),
                    Cell::text(&l.module_code),
                    Cell::text(&l.module_title),
                    Cell::text(sequence_title(editions, &l)),
                    Cell::text(&l.title),
                    Cell::text(l.kind_label()),
                    Cell::text(if l.required { "oui" } else { "non" }),
                    Cell::Hours(i64::from(l.minutes) * 60),
                    Cell::Hours(l.secs()),
                    Cell::Hours(l.total_secs),
                    match l.attempts.len() {
                        0 => Cell::Empty,
                        n => Cell::Count(n as i64),
                    },
                    count(l.best_score()),
                    count(g.and_then(|g| g.points)),
                    count(g.and_then(|g| g.max_points)),
                    Cell::text(l.result()),
                ]);
            }
        }
    }
    Ok(sheet)
}
