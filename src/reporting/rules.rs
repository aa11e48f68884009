//! Pure reporting rules: who was enrolled when, drop-outs told apart from transfers, rates,
//! averages, answer times to trainees' questions, and their French formats. No I/O.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};
use serde::Serialize;

/// One enrolment. `ended_on` is the first day out of the cohort: a transfer ends the old
/// enrolment and starts the new one on the same day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrolment {
    pub id: i64,
    pub cohort_id: i64,
    pub trainee_id: i64,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
}

impl Enrolment {
    /// The days of a period (both ends included) this enrolment covers, if any.
    pub fn within(&self, from: NaiveDate, to: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        let start = self.started_on.max(from);
        let end = self
            .ended_on
            .map_or(to, |e| (e - Duration::days(1)).min(to));
        (start <= end).then_some((start, end))
    }

    /// Whether the trainee left by a transfer: another enrolment of theirs starts that day.
    pub fn left_by_transfer(&self, all: &[Enrolment]) -> bool {
        self.ended_on.is_some_and(|end| {
            all.iter()
                .any(|o| o.id != self.id && o.trainee_id == self.trainee_id && o.started_on == end)
        })
    }

    /// Whether this enrolment is a drop-out of the year: it ended in it, not by a transfer,
    /// without a final attestation of its cohort.
    pub fn dropped_out(
        &self,
        all: &[Enrolment],
        finals: &HashSet<(i64, i64)>,
        year: (NaiveDate, NaiveDate),
    ) -> bool {
        let (first, last) = year;
        self.ended_on.is_some_and(|d| (first..=last).contains(&d))
            && !self.left_by_transfer(all)
            && !finals.contains(&(self.trainee_id, self.cohort_id))
    }

    /// Whether the trainee came by a transfer: another enrolment of theirs ended that day.
    pub fn came_by_transfer(&self, all: &[Enrolment]) -> bool {
        all.iter().any(|o| {
            o.id != self.id
                && o.trainee_id == self.trainee_id
                && o.ended_on == Some(self.started_on)
        })
    }
}

/// The first and last day of a calendar year.
pub fn year_bounds(year: i32) -> Option<(NaiveDate, NaiveDate)> {
    Some((
        NaiveDate::from_ymd_opt(year, 1, 1)?,
        NaiveDate::from_ymd_opt(year, 12, 31)?,
    ))
}

/// The first and last day of the month of a date.
pub fn month_of(day: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first = day.with_day(1).unwrap_or(day);
    let last = first
        .checked_add_months(chrono::Months::new(1))
        .map_or(day, |next| next - Duration::days(1));
    (first, last)
}

/// Entries, drop-outs and the drop-out denominator of one cohort in a year.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Flow {
    /// Enrolments started in the year, except arrivals by transfer.
    pub entries: i64,
    /// Enrolments ended in the year, not by transfer, without a final attestation.
    pub dropouts: i64,
    /// Enrolled at some time of the year, except those who left by transfer.
    pub enrolled: i64,
}

impl std::ops::AddAssign for Flow {
    fn add_assign(&mut self, o: Flow) {
        self.entries += o.entries;
        self.dropouts += o.dropouts;
        self.enrolled += o.enrolled;
    }
}

/// The flow of a cohort in a year, from its enrolments, every enrolment of the same trainees
/// (to recognise transfers), and the (trainee, cohort) pairs holding a final attestation.
pub fn flow(
    cohort_id: i64,
    all: &[Enrolment],
    finals: &HashSet<(i64, i64)>,
    year: (NaiveDate, NaiveDate),
) -> Flow {
    let (first, last) = year;
    let mut f = Flow::default();
    for e in all.iter().filter(|e| e.cohort_id == cohort_id) {
        let in_year = e.within(first, last).is_some();
        let transferred_out = e.left_by_transfer(all);
        if in_year && !transferred_out {
            f.enrolled += 1;
        }
        if (first..=last).contains(&e.started_on) && !e.came_by_transfer(all) {
            f.entries += 1;
        }
        if e.dropped_out(all, finals, year) {
            f.dropouts += 1;
        }
    }
    f
}

/// A share, or nothing when there is nothing to divide by.
pub fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// `50 %`, `33,3 %`, or `—` without a denominator.
pub fn percent(r: Option<f64>) -> String {
    match r {
        None => "—".into(),
        Some(r) => {
            let p = (r * 1000.0).round() / 10.0;
            if p.fract() == 0.0 {
                format!("{p:.0} %")
            } else {
                format!("{p:.1} %").replace('.', ",")
            }
        }
    }
}

pub fn mean(values: &[i64]) -> Option<i64> {
    let n = values.len() as i64;
    (n > 0).then(|| values.iter().sum::<i64>() / n)
}

pub fn median(values: &[i64]) -> Option<i64> {
    let mut v = values.to_vec();
    v.sort_unstable();
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2),
    }
}

/// A delay in French: `1 j 4 h`, `3 h 20`, `0 h 05`; `—` for none.
pub fn delay(secs: Option<i64>) -> String {
    let Some(secs) = secs else {
        return "—".into();
    };
    let minutes = secs.max(0) / 60;
    let (days, rest) = (minutes / (24 * 60), minutes % (24 * 60));
    if days == 0 {
        return crate::base::format::minutes(rest);
    }
    match rest / 60 {
        0 => format!("{days} j"),
        h => format!("{days} j {h} h"),
    }
}

/// One follow-up message, with the trainee its thread is about.
#[derive(Clone, Debug)]
pub struct Message {
    pub id: i64,
    pub thread_id: i64,
    pub trainee_id: i64,
    pub author_id: i64,
    pub kind: String,
    pub at: NaiveDateTime,
}

/// What trainees ask or hand in, and what answers them.
const ASKS: [&str; 2] = ["question", "travail"];
const ANSWERS: [&str; 2] = ["reponse", "retour"];

/// Answer times of the trainees' questions and work sent in `[start, end)`: for each, the
/// seconds to the first later answer or feedback in its thread by someone else; the second
/// value counts those still unanswered.
pub fn answer_delays(
    messages: &[Message],
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> (Vec<i64>, i64) {
    let mut by_thread: HashMap<i64, Vec<&Message>> = HashMap::new();
    for m in messages {
        by_thread.entry(m.thread_id).or_default().push(m);
    }
    let (mut delays, mut unanswered) = (Vec::new(), 0);
    for list in by_thread.values_mut() {
        list.sort_by_key(|m| (m.at, m.id));
        for (i, ask) in list.iter().enumerate() {
            let asked = ask.author_id == ask.trainee_id && ASKS.contains(&ask.kind.as_str());
            if !asked || ask.at < start || ask.at >= end {
                continue;
            }
            let answer = list[i + 1..]
                .iter()
                .find(|m| m.author_id != ask.trainee_id && ANSWERS.contains(&m.kind.as_str()));
            match answer {
                Some(a) => delays.push((a.at - ask.at).num_seconds()),
                None => unanswered += 1,
            }
        }
    }
    (delays, unanswered)
}

/// How a closed sign-in line counts for funders, if it is a missed time: an absence, a late
/// arrival or an early departure.
pub fn absence_label(
    status: &str,
    starts: NaiveTime,
    ends: NaiveTime,
    arrived: Option<NaiveTime>,
    left: Option<NaiveTime>,
) -> Option<&'static str> {
    use crate::tracking::rules::{ABSENT, EXCUSED, PRESENT, status_label};
    match status {
        ABSENT | EXCUSED => Some(status_label(status)),
        PRESENT => {
            let late = arrived.is_some_and(|a| a > starts);
            let early = left.is_some_and(|l| l < ends);
            match (late, early) {
                (true, true) => Some("retard et départ anticipé"),
                (true, false) => Some("retard"),
                (false, true) => Some("départ anticipé"),
                (false, false) => None,
            }
        }
        _ => None,
    }
}

/// Evaluation results of a module: submitted attempts, trainees who tried, who passed once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PassRate {
    pub attempts: i64,
    pub trainees: i64,
    pub passed: i64,
}

/// By module code, from submitted attempts (module code, trainee, passed).
pub fn pass_rates(attempts: &[(String, i64, bool)]) -> BTreeMap<String, PassRate> {
    let mut tried: BTreeMap<&str, (i64, HashSet<i64>, HashSet<i64>)> = BTreeMap::new();
    for (module, trainee, passed) in attempts {
        let e = tried.entry(module).or_default();
        e.0 += 1;
        e.1.insert(*trainee);
        if *passed {
            e.2.insert(*trainee);
        }
    }
    tried
        .into_iter()
        .map(|(m, (attempts, who, passed))| {
            (
                m.to_string(),
                PassRate {
                    attempts,
                    trainees: who.len() as i64,
                    passed: passed.len() as i64,
                },
            )
        })
        .collect()
}

/// VAE decisions on one module: validated, not validated, and how many of the validated came
/// from a partial decision.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct VaeModule {
    pub validated: i64,
    pub not_validated: i64,
    pub partial: i64,
}

/// One decision: its outcome (`total`, `partial`, `none`), the modules asked and validated.
pub struct Decision {
    pub outcome: String,
    pub requested: Vec<String>,
    pub validated: Vec<String>,
}

pub fn vae_by_module(decisions: &[Decision]) -> BTreeMap<String, VaeModule> {
    let mut by: BTreeMap<String, VaeModule> = BTreeMap::new();
    for d in decisions {
        for m in &d.requested {
            let e = by.entry(m.clone()).or_default();
            if d.validated.contains(m) {
                e.validated += 1;
                if d.outcome == "partial" {
                    e.partial += 1;
                }
            } else {
                e.not_validated += 1;
            }
        }
    }
    by
}

/// What each Qualiopi figure means, as the page and the export explain it.
pub const NOTES: [(&str, &str); 10] = [
    (
        "Entrées",
        "Inscriptions commencées dans l'année (un transfert d'une promotion à une autre n'est pas une entrée).",
    ),
    (
        "Terminés",
        "Stagiaires dont l'attestation de fin de formation (ou d'adaptation à l'emploi) non révoquée a été délivrée dans l'année.",
    ),
    (
        "Abandons",
        "Inscriptions terminées dans l'année sans attestation de fin de formation, hors départs par transfert.",
    ),
    (
        "Taux d'abandon",
        "Abandons ÷ stagiaires inscrits dans la promotion à un moment de l'année (hors départs par transfert) ; « — » sans inscrit.",
    ),
    (
        "Heures réalisées / prévues",
        "Moyenne, sur les stagiaires inscrits dans l'année, des heures faites à ce jour (distance, présentiel, corrections, sans les dispenses) rapportée à leur parcours individuel (heures du programme moins les dispenses).",
    ),
    (
        "Réussite aux évaluations",
        "Par module : stagiaires ayant réussi au moins une fois ÷ stagiaires ayant soumis au moins une tentative dans l'année.",
    ),
    (
        "VAE",
        "Par module demandé : décisions rendues dans l'année (date de la dernière mise à jour du dossier) qui le valident ou non ; « dont partielles » compte les validations venues d'une décision partielle.",
    ),
    (
        "Attestations",
        "Documents délivrés dans l'année par type ; les révoqués sont comptés à part.",
    ),
    (
        "Délai de réponse",
        "Pour chaque question ou travail envoyé par un stagiaire dans l'année : temps jusqu'à la première réponse ou au premier retour d'une autre personne dans le même fil ; moyenne et médiane, les messages sans réponse comptés à part.",
    ),
    (
        "Motifs de sortie",
        "Abandons de l'année (comme ci-dessus) par motif saisi à la sortie anticipée ; « Non renseigné » pour une inscription terminée sans motif.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    fn e(id: i64, cohort: i64, trainee: i64, from: NaiveDate, to: Option<NaiveDate>) -> Enrolment {
        Enrolment {
            id,
            cohort_id: cohort,
            trainee_id: trainee,
            started_on: from,
            ended_on: to,
        }
    }

    #[test]
    fn an_enrolment_covers_the_days_until_the_eve_of_its_end() {
        let x = e(1, 1, 1, d(3, 10), Some(d(5, 1)));
        assert_eq!(x.within(d(1, 1), d(12, 31)), Some((d(3, 10), d(4, 30))));
        assert_eq!(x.within(d(4, 1), d(4, 15)), Some((d(4, 1), d(4, 15))));
        assert_eq!(x.within(d(5, 1), d(5, 31)), None, "gone from its end day");
        assert_eq!(x.within(d(1, 1), d(3, 9)), None);
        let open = e(2, 1, 1, d(3, 10), None);
        assert_eq!(open.within(d(6, 1), d(6, 30)), Some((d(6, 1), d(6, 30))));
    }

    #[test]
    fn a_transfer_is_neither_a_dropout_nor_an_entry() {
        let year = year_bounds(2026).unwrap();
        let all = vec![
            e(1, 10, 100, d(1, 5), None),
            e(2, 10, 101, d(2, 1), Some(d(6, 1))),
            // Trainee 102 moves from cohort 10 to cohort 20 on 01/09.
            e(3, 10, 102, d(2, 1), Some(d(9, 1))),
            e(4, 20, 102, d(9, 1), None),
            // Trainee 103 finished with an attestation, then the enrolment was closed.
            e(5, 10, 103, d(1, 2), Some(d(11, 30))),
            // Last year's drop-out is not this year's.
            e(
                6,
                10,
                104,
                NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
                Some(NaiveDate::from_ymd_opt(2025, 12, 1).unwrap()),
            ),
        ];
        let finals = HashSet::from([(103, 10)]);
        let f = flow(10, &all, &finals, year);
        assert_eq!(
            f,
            Flow {
                entries: 4,
                dropouts: 1,
                enrolled: 3
            }
        );
        let g = flow(20, &all, &finals, year);
        assert_eq!(
            g,
            Flow {
                entries: 0,
                dropouts: 0,
                enrolled: 1
            }
        );
        assert_eq!(percent(rate(f.dropouts, f.enrolled)), "33,3 %");
    }

    #[test]
    fn rates_and_averages_of_nothing_are_a_dash() {
        assert_eq!(percent(rate(0, 0)), "—");
        assert_eq!(percent(rate(1, 2)), "50 %");
        assert_eq!(percent(rate(0, 3)), "0 %");
        assert_eq!(mean(&[]), None);
        assert_eq!(median(&[]), None);
        assert_eq!(delay(None), "—");
        assert_eq!(mean(&[10, 20, 60]), Some(30));
        assert_eq!(median(&[60, 10, 20]), Some(20));
        assert_eq!(median(&[40, 10, 20, 30]), Some(25));
    }

    #[test]
    fn delays_read_in_days_and_hours() {
        assert_eq!(delay(Some(28 * 3600 + 59)), "1 j 4 h");
        assert_eq!(delay(Some(2 * 86400)), "2 j");
        assert_eq!(delay(Some(3 * 3600 + 20 * 60)), "3 h 20");
        assert_eq!(delay(Some(5 * 60)), "0 h 05");
    }

    #[test]
    fn months_end_on_their_last_day() {
        assert_eq!(month_of(d(2, 14)), (d(2, 1), d(2, 28)));
        assert_eq!(month_of(d(12, 31)), (d(12, 1), d(12, 31)));
    }

    #[test]
    fn a_question_is_answered_by_the_first_later_reply_of_someone_else() {
        let at = |day: u32, h: u32| d(3, day).and_hms_opt(h, 0, 0).unwrap();
        let m = |id, thread, author, kind: &str, t| Message {
            id,
            thread_id: thread,
            trainee_id: 7,
            author_id: author,
            kind: kind.into(),
            at: t,
        };
        let msgs = vec![
            m(1, 1, 7, "question", at(2, 9)),
            // The trainee's own follow-up is no answer.
            m(2, 1, 7, "reponse", at(2, 10)),
            m(3, 1, 8, "reponse", at(3, 13)),
            m(4, 2, 7, "travail", at(4, 8)),
            m(5, 2, 8, "retour", at(4, 11)),
            // Unanswered work.
            m(6, 2, 7, "travail", at(5, 8)),
            // A note of the trainer is not a question of the trainee.
            m(7, 3, 8, "question", at(5, 9)),
            // Outside the year.
            m(
                8,
                3,
                7,
                "question",
                NaiveDate::from_ymd_opt(2025, 12, 31)
                    .unwrap()
                    .and_hms_opt(9, 0, 0)
                    .unwrap(),
            ),
        ];
        let start = d(1, 1).and_hms_opt(0, 0, 0).unwrap();
        let end = NaiveDate::from_ymd_opt(2027, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        let (mut delays, unanswered) = answer_delays(&msgs, start, end);
        delays.sort_unstable();
        assert_eq!(delays, vec![3 * 3600, 28 * 3600]);
        assert_eq!(
            unanswered, 1,
            "only the last work: the trainer's note and last year's question are not counted"
        );
    }

    #[test]
    fn missed_times_are_labelled_for_funders() {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        let (s, e) = (t(9, 0), t(12, 30));
        assert_eq!(
            absence_label("absent", s, e, None, None),
            Some("absent (non excusé)")
        );
        assert_eq!(
            absence_label("absent_excuse", s, e, None, None),
            Some("absent (excusé)")
        );
        assert_eq!(
            absence_label("present", s, e, Some(t(9, 20)), None),
            Some("retard")
        );
        assert_eq!(
            absence_label("present", s, e, None, Some(t(12, 0))),
            Some("départ anticipé")
        );
        assert_eq!(
            absence_label("present", s, e, Some(t(9, 0)), Some(t(12, 30))),
            None
        );
    }

    #[test]
    fn pass_rates_count_trainees_not_attempts() {
        let r = pass_rates(&[
            ("M1".into(), 1, false),
            ("M1".into(), 1, true),
            ("M1".into(), 2, false),
            ("M2".into(), 2, true),
        ]);
        assert_eq!(
            r["M1"],
            PassRate {
                attempts: 3,
                trainees: 2,
                passed: 1
            }
        );
        assert_eq!(percent(rate(r["M1"].passed, r["M1"].trainees)), "50 %");
        assert_eq!(r["M2"].passed, 1);
    }

    #[test]
    fn vae_decisions_count_by_module() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let by = vae_by_module(&[
            Decision {
                outcome: "total".into(),
                requested: s(&["M1", "M2"]),
                validated: s(&["M1", "M2"]),
            },
            Decision {
                outcome: "partial".into(),
                requested: s(&["M1", "M3"]),
                validated: s(&["M3"]),
            },
            Decision {
                outcome: "none".into(),
                requested: s(&["M2"]),
                validated: vec![],
            },
        ]);
        assert_eq!(
            by["M1"],
            VaeModule {
                validated: 1,
                not_validated: 1,
                partial: 0
            }
        );
        assert_eq!(
            by["M2"],
            VaeModule {
                validated: 1,
                not_validated: 1,
                partial: 0
            }
        );
        assert_eq!(
            by["M3"],
            VaeModule {
                validated: 1,
                not_validated: 0,
                partial: 1
            }
        );
    }
}
