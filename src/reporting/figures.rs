//! Qualiopi figures of an organism for a calendar year, by cohort with a total, as tables
//! that the page, the CSV and the XLSX all show the same way.

use std::collections::{HashMap, HashSet};

use chrono::{Duration, NaiveDate, NaiveDateTime};

use super::rules::{self, Flow, NOTES};
use super::store;
use super::table::{Cell, Sheet};
use crate::attestation::rules::Kind;
use crate::cohorts::rules::EndReason;
use crate::cohorts::store::{self as cohorts, CohortRow, Trainees};
use crate::db::DbConn;
use crate::tracking::progress;
use crate::web::AppResult;

/// A table with, for each column, the index in `NOTES` of how it is computed (the first
/// column names the row).
pub struct Table {
    pub title: &'static str,
    pub sheet: Sheet,
    pub notes: Vec<Option<usize>>,
}

/// What one cohort (or the whole organism) adds up to.
#[derive(Default)]
struct Tally {
    flow: Flow,
    completions: i64,
    trainees: i64,
    done_secs: i64,
    planned_secs: i64,
    delays: Vec<i64>,
    unanswered: i64,
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        self.flow += o.flow;
        self.completions += o.completions;
        self.trainees += o.trainees;
        self.done_secs += o.done_secs;
        self.planned_secs += o.planned_secs;
        self.delays.extend_from_slice(&o.delays);
        self.unanswered += o.unanswered;
    }

    fn cells(&self, name: &str) -> Vec<Cell> {
        let avg = |secs: i64| match self.trainees {
            0 => Cell::text("—"),
            n => Cell::Hours(secs / n),
        };
        vec![
            Cell::text(name),
            Cell::Count(self.flow.entries),
            Cell::Count(self.completions),
            Cell::Count(self.flow.dropouts),
            Cell::Rate(rules::rate(self.flow.dropouts, self.flow.enrolled)),
            avg(self.done_secs),
            avg(self.planned_secs),
            Cell::Rate(rules::rate(self.done_secs, self.planned_secs)),
            Cell::Count(self.delays.len() as i64),
            Cell::text(rules::delay(rules::mean(&self.delays))),
            Cell::text(rules::delay(rules::median(&self.delays))),
            Cell::Count(self.unanswered),
        ]
    }
}

const COHORT_HEADER: [&str; 12] = [
    "Promotion",
    "Entrées",
    "Terminés",
    "Abandons",
    "Taux d'abandon",
    "Heures réalisées (moyenne, h)",
    "Heures prévues (moyenne, h)",
    "Réalisé / prévu",
    "Questions répondues",
    "Délai moyen de réponse",
    "Délai médian de réponse",
    "Sans réponse",
];

/// Every table of the year: cohorts and total, evaluations, VAE, attestations.
pub fn of_year(
    conn: &mut DbConn,
    organism_id: i64,
    year: i32,
    today: NaiveDate,
) -> AppResult<Vec<Table>> {
    let Some(year) = Year::of(year) else {
        return Ok(Vec::new());
    };
    let facts = facts(conn, organism_id, &year)?;
    let cohort_table = cohort_table(conn, organism_id, &year, &facts, today)?;
    let evaluations = evaluations(conn, organism_id, &year)?;
    let vae = vae(conn, organism_id, &year)?;
    let documents = documents(&facts.issued, &year);
    let departures = departures(&facts, &year);
    let notes = |n: usize, per: &[usize]| -> Vec<Option<usize>> {
        std::iter::once(None)
            .chain(per.iter().map(|i| Some(*i)))
            .take(n)
            .collect()
    };
    Ok(vec![
        Table {
            title: "Entrées, sorties, heures et réponses par promotion",
            notes: notes(12, &[0, 1, 2, 3, 4, 4, 4, 8, 8, 8, 8]),
            sheet: cohort_table,
        },
        Table {
            title: "Abandons par motif de sortie",
            notes: notes(2, &[9]),
            sheet: departures,
        },
        Table {
            title: "Réussite aux évaluations par module",
            notes: notes(5, &[5, 5, 5, 5]),
            sheet: evaluations,
        },
        Table {
            title: "Décisions de VAE par module",
            notes: notes(4, &[6, 6, 6]),
            sheet: vae,
        },
        Table {
            title: "Attestations délivrées",
            notes: notes(3, &[7, 7]),
            sheet: documents,
        },
    ])
}

/// The organism's end-of-path results of a year, as the cohorts table counts them: those
/// who completed (final attestation issued in the year) and those who dropped out, out of
/// those enrolled. The public catalogue shows them.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Outcomes {
    pub year: i32,
    pub enrolled: i64,
    pub completions: i64,
    pub dropouts: i64,
}

impl Outcomes {
    /// Completions among those who left the path (completed or dropped out).
    pub fn success_rate(&self) -> Option<f64> {
        rules::rate(self.completions, self.completions + self.dropouts)
    }

    /// As the Qualiopi table's "Taux d'abandon".
    pub fn dropout_rate(&self) -> Option<f64> {
        rules::rate(self.dropouts, self.enrolled)
    }
}

/// The year's outcomes of every cohort of the organism, without the hours the full table
/// also computes.
pub fn outcomes(conn: &mut DbConn, organism_id: i64, year: i32) -> AppResult<Option<Outcomes>> {
    let Some(y) = Year::of(year) else {
        return Ok(None);
    };
    let facts = facts(conn, organism_id, &y)?;
    let mut out = Outcomes {
        year,
        ..Outcomes::default()
    };
    for (cohort, _) in cohorts::cohorts_of(conn, organism_id)? {
        let flow = rules::flow(cohort.id, &facts.all, &facts.finals, y.days());
        out.enrolled += flow.enrolled;
        out.dropouts += flow.dropouts;
        out.completions += facts
            .completed
            .get(&cohort.id)
            .map_or(0, |s| s.len() as i64);
    }
    Ok(Some(out))
}

/// A calendar year: its first and last days, and its bounds as stored times (Paris
/// midnights), end excluded.
struct Year {
    first: NaiveDate,
    last: NaiveDate,
    start: NaiveDateTime,
    end: NaiveDateTime,
}

impl Year {
    fn of(year: i32) -> Option<Year> {
        let (first, last) = rules::year_bounds(year)?;
        Some(Year {
            first,
            last,
            start: crate::base::paris::paris_midnight(first),
            end: crate::base::paris::paris_midnight(last + Duration::days(1)),
        })
    }

    fn days(&self) -> (NaiveDate, NaiveDate) {
        (self.first, self.last)
    }

    fn holds(&self, t: NaiveDateTime) -> bool {
        t >= self.start && t < self.end
    }
}

/// What several tables are computed from, read once.
struct Facts {
    enrolled: Vec<store::Enrolled>,
    /// The same enrolments, as the flow rules take them.
    all: Vec<rules::Enrolment>,
    issued: Vec<store::Issued>,
    /// (trainee, cohort) of every end-of-path attestation, of any year.
    finals: HashSet<(i64, i64)>,
    /// By cohort, the trainees whose end-of-path attestation was issued in the year and
    /// stands.
    completed: HashMap<i64, HashSet<i64>>,
    /// Follow-up messages by cohort.
    messages: HashMap<i64, Vec<rules::Message>>,
}

fn facts(conn: &mut DbConn, organism_id: i64, year: &Year) -> AppResult<Facts> {
    let enrolled = store::enrolled(conn, organism_id, None, None)?;
    let all: Vec<rules::Enrolment> = enrolled.iter().map(|e| e.enrolment.clone()).collect();
    let issued = store::attestations_of(conn, organism_id)?;
    let finals: HashSet<(i64, i64)> = issued
        .iter()
        .filter(|a| a.final_key.is_some())
        .map(|a| (a.trainee_id, a.cohort_id))
        .collect();
    let mut completed: HashMap<i64, HashSet<i64>> = HashMap::new();
    for a in &issued {
        let is_final = Kind::parse(&a.kind).is_some_and(Kind::is_final);
        if is_final && a.revoked_at.is_none() && year.holds(a.issued_at) {
            completed
                .entry(a.cohort_id)
                .or_default()
                .insert(a.trainee_id);
        }
    }
    let mut messages: HashMap<i64, Vec<rules::Message>> = HashMap::new();
    for (cohort, m) in store::messages_since(conn, organism_id, year.start)? {
        messages.entry(cohort).or_default().push(m);
    }
    Ok(Facts {
        enrolled,
        all,
        issued,
        finals,
        completed,
        messages,
    })
}

/// One line per cohort that had something to do with the year, and the organism's total.
fn cohort_table(
    conn: &mut DbConn,
    organism_id: i64,
    year: &Year,
    facts: &Facts,
    today: NaiveDate,
) -> AppResult<Sheet> {
    let mut sheet = Sheet::new("Promotions", &COHORT_HEADER);
    let mut total = Tally::default();
    for (cohort, _) in cohorts::cohorts_of(conn, organism_id)? {
        if let Some(t) = cohort_tally(conn, &cohort, year, facts, today)? {
            sheet.rows.push(t.cells(&cohort.name));
            total.add(&t);
        }
    }
    sheet.rows.push(total.cells("Total de l'organisme"));
    Ok(sheet)
}

/// What a cohort adds up to in the year; `None` when it had nothing to do with it.
fn cohort_tally(
    conn: &mut DbConn,
    cohort: &CohortRow,
    year: &Year,
    facts: &Facts,
    today: NaiveDate,
) -> AppResult<Option<Tally>> {
    let mut t = Tally {
        flow: rules::flow(cohort.id, &facts.all, &facts.finals, year.days()),
        completions: facts
            .completed
            .get(&cohort.id)
            .map_or(0, |s| s.len() as i64),
        ..Tally::default()
    };
    let (delays, unanswered) = rules::answer_delays(
        facts.messages.get(&cohort.id).map_or(&[], Vec::as_slice),
        year.start,
        year.end,
    );
    (t.delays, t.unanswered) = (delays, unanswered);
    let members: Vec<&store::Enrolled> = facts
        .enrolled
        .iter()
        .filter(|e| e.enrolment.cohort_id == cohort.id)
        .filter(|e| e.enrolment.within(year.first, year.last).is_some())
        .filter(|e| !e.enrolment.left_by_transfer(&facts.all))
        .collect();
    let outside = cohort.end_date < year.first || cohort.start_date > year.last;
    let nothing = t.flow == Flow::default() && t.completions == 0 && t.delays.is_empty();
    if members.is_empty() && nothing && t.unanswered == 0 && outside {
        return Ok(None);
    }
    add_hours(conn, cohort, &members, today, &mut t)?;
    Ok(Some(t))
}

/// Hours of those enrolled in the year, as the dashboard counts them.
fn add_hours(
    conn: &mut DbConn,
    cohort: &CohortRow,
    members: &[&store::Enrolled],
    today: NaiveDate,
    t: &mut Tally,
) -> AppResult<()> {
    let ids: Vec<i64> = members.iter().map(|e| e.enrolment.trainee_id).collect();
    let plan = cohorts::program_modules(conn, cohort.program_id)?;
    let totals = crate::tracking::store::totals(conn, Trainees::Ids(&ids))?;
    let mut exempted: HashMap<i64, HashMap<i64, i32>> = HashMap::new();
    for (trainee, module, minutes) in cohorts::adjustments_of_many(conn, Trainees::Ids(&ids))? {
        exempted.entry(trainee).or_default().insert(module, minutes);
    }
    let suspensions = cohorts::suspensions_of(conn, &ids)?;
    for e in members {
        let id = e.enrolment.trainee_id;
        let deadline = crate::cohorts::rules::certification_deadline(
            e.hire_date,
            crate::cohorts::rules::Funding::from_db(&e.funding),
            suspensions.get(&id).map(Vec::as_slice).unwrap_or(&[]),
            today,
        );
        // The pace inputs (last activity, recent time) do not matter here.
        let h = progress::assemble(
            id,
            &plan,
            exempted.get(&id).unwrap_or(&HashMap::new()),
            totals.get(&id).map(Vec::as_slice).unwrap_or(&[]),
            None,
            0,
            (cohort.start_date, cohort.end_date),
            deadline,
            today,
        );
        let exempt: i64 = h.modules.iter().map(|m| m.exempted_secs).sum();
        t.trainees += 1;
        t.done_secs += h.done_secs;
        t.planned_secs += h.planned_secs - exempt;
    }
    Ok(())
}

fn evaluations(conn: &mut DbConn, organism_id: i64, year: &Year) -> AppResult<Sheet> {
    let mut sheet = Sheet::new(
        "Évaluations",
        &[
            "Module",
            "Tentatives",
            "Stagiaires évalués",
            "Réussis",
            "Taux de réussite",
        ],
    );
    let attempts = store::attempts(conn, organism_id, year.start, year.end)?;
    for (module, r) in rules::pass_rates(&attempts) {
        sheet.rows.push(vec![
            Cell::text(module),
            Cell::Count(r.attempts),
            Cell::Count(r.trainees),
            Cell::Count(r.passed),
            Cell::Rate(rules::rate(r.passed, r.trainees)),
        ]);
    }
    Ok(sheet)
}

fn vae(conn: &mut DbConn, organism_id: i64, year: &Year) -> AppResult<Sheet> {
    let mut sheet = Sheet::new(
        "VAE",
        &[
            "Module",
            "Validé",
            "Non validé",
            "Dont validations partielles",
        ],
    );
    let decisions = store::vae_decisions(conn, organism_id, year.start, year.end)?;
    for (module, v) in rules::vae_by_module(&decisions) {
        sheet.rows.push(vec![
            Cell::text(module),
            Cell::Count(v.validated),
            Cell::Count(v.not_validated),
            Cell::Count(v.partial),
        ]);
    }
    Ok(sheet)
}

/// Documents issued in the year by kind, and how many of them were revoked since.
fn documents(issued: &[store::Issued], year: &Year) -> Sheet {
    let mut sheet = Sheet::new("Attestations", &["Document", "Délivrés", "Révoqués"]);
    for kind in [Kind::FinFormation, Kind::Fae, Kind::Realisation] {
        let of_kind = issued
            .iter()
            .filter(|a| a.kind == kind.as_str() && year.holds(a.issued_at));
        let (valid, revoked): (Vec<_>, Vec<_>) = of_kind.partition(|a| a.revoked_at.is_none());
        sheet.rows.push(vec![
            Cell::text(kind.title()),
            Cell::Count(valid.len() as i64),
            Cell::Count(revoked.len() as i64),
        ]);
    }
    sheet
}

/// Drop-outs by the reason staff gave; a last line for ends recorded without one.
fn departures(facts: &Facts, year: &Year) -> Sheet {
    let mut reasons: HashMap<Option<EndReason>, i64> = HashMap::new();
    for e in &facts.enrolled {
        if e.enrolment
            .dropped_out(&facts.all, &facts.finals, year.days())
        {
            let reason = e.end_reason.as_deref().and_then(EndReason::from_db);
            *reasons.entry(reason).or_default() += 1;
        }
    }
    let mut sheet = Sheet::new("Motifs de sortie", &["Motif", "Abandons"]);
    for r in EndReason::ALL {
        let n = reasons.get(&Some(r)).copied().unwrap_or(0);
        sheet.rows.push(vec![Cell::text(r.label()), Cell::Count(n)]);
    }
    if let Some(n) = reasons.get(&None) {
        sheet
            .rows
            .push(vec![Cell::text("Non renseigné"), Cell::Count(*n)]);
    }
    sheet
}

/// All tables in one long sheet, one figure a line with how it is computed.
pub fn long_sheet(tables: &[Table]) -> Sheet {
    let mut out = Sheet::new(
        "Indicateurs",
        &["Tableau", "Ligne", "Indicateur", "Valeur", "Mode de calcul"],
    );
    for t in tables {
        for row in &t.sheet.rows {
            let Some(name) = row.first().map(Cell::display) else {
                continue;
            };
            for (i, cell) in row.iter().enumerate().skip(1) {
                let note = t.notes.get(i).copied().flatten().map_or("", |n| NOTES[n].1);
                out.rows.push(vec![
                    Cell::text(t.title),
                    Cell::text(&name),
                    Cell::text(t.sheet.header.get(i).cloned().unwrap_or_default()),
                    cell.clone(),
                    Cell::text(note),
                ]);
            }
        }
    }
    out
}
