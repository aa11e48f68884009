//! The deadline to obtain the certification: 3 years from a hire before 22/06/2024, 2 years
//! from that date. The windows in which a ProA trainee's funding was held up stop the 2-year
//! clock only; what falls after the deadline (the cohort's end, later the certification) is
//! flagged for staff.

use chrono::{Months, NaiveDate};
use serde::Serialize;

use super::Funding;
use crate::base::field::FieldError;
use crate::base::format;

/// The convention of 22 June 2024 shortened the delay to obtain the certification.
pub const CONVENTION_2024: NaiveDate = match NaiveDate::from_ymd_opt(2024, 6, 22) {
    Some(d) => d,
    None => panic!("valid date"),
};

/// One window of a ProA funding suspension. The clock stops on `from` and runs again on
/// `to` (so 01/03 → 31/03 is 30 days); an open window (`to` empty) runs up to today.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Suspension {
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

/// Whether a trainee's delay can be suspended at all: ProA funding, hired from 22/06/2024
/// (the 3-year delay of earlier hires is never suspended).
pub fn suspendable(hire: NaiveDate, funding: Funding) -> bool {
    funding == Funding::Proa && hire >= CONVENTION_2024
}

/// Days the clock stood still: the windows after the hire and up to today, overlapping
/// windows counted once.
pub fn suspended_days(hire: NaiveDate, windows: &[Suspension], today: NaiveDate) -> i64 {
    let mut spans: Vec<(NaiveDate, NaiveDate)> = windows
        .iter()
        .map(|w| (w.from.max(hire), w.to.unwrap_or(today).min(today)))
        .filter(|(from, to)| from < to)
        .collect();
    spans.sort();
    let mut days = 0;
    let mut covered_to: Option<NaiveDate> = None;
    for (from, to) in spans {
        let from = covered_to.map_or(from, |c| from.max(c));
        if from < to {
            days += (to - from).num_days();
        }
        covered_to = Some(covered_to.map_or(to, |c| c.max(to)));
    }
    days
}

/// The certification deadline of a trainee, moved by her ProA suspensions where they apply
/// (`suspendable`); windows of anyone else, kept from older records, move nothing.
pub fn certification_deadline(
    hire: NaiveDate,
    funding: Funding,
    windows: &[Suspension],
    today: NaiveDate,
) -> NaiveDate {
    let years = if hire < CONVENTION_2024 { 36 } else { 24 };
    let base = hire + Months::new(years);
    if !suspendable(hire, funding) {
        return base;
    }
    base + chrono::Duration::days(suspended_days(hire, windows, today))
}

/// A new suspension window as staff typed it, checked against the trainee's record and her
/// windows so far: `(from, to, reason)`.
pub fn check_suspension(
    hire: NaiveDate,
    funding: Funding,
    existing: &[Suspension],
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    reason: &str,
) -> Result<(NaiveDate, Option<NaiveDate>, String), FieldError> {
    if funding != Funding::Proa {
        return Err(FieldError::new(
            "from",
            format!(
                "Seul un stagiaire financé par ProA peut avoir une suspension du délai : le financement enregistré est « {} ». Corrigez d'abord le financement de son dossier.",
                funding.label()
            ),
        ));
    }
    if hire < CONVENTION_2024 {
        return Err(FieldError::new(
            "from",
            format!(
                "Embauchée le {}, avant le 22/06/2024, cette stagiaire a 3 ans pour obtenir la certification : la suspension ProA ne porte que sur le délai de 2 ans.",
                format::date(hire)
            ),
        ));
    }
    let from = from.ok_or_else(|| {
        FieldError::new(
            "from",
            "Indiquez la date de début de la suspension au format JJ/MM/AAAA.",
        )
    })?;
    if from < hire {
        return Err(FieldError::new(
            "from",
            format!(
                "La suspension ne peut commencer avant l'embauche, le {}.",
                format::date(hire)
            ),
        ));
    }
    if let Some(to) = to {
        check_end(from, to)?;
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(FieldError::new(
            "reason",
            "Indiquez le motif de la suspension (par exemple : prise en charge OPCO EP en attente).",
        ));
    }
    if reason.chars().count() > 500 {
        return Err(FieldError::new(
            "reason",
            "Le motif ne peut dépasser 500 caractères.",
        ));
    }
    if let (None, Some(open)) = (to, existing.iter().find(|w| w.to.is_none())) {
        return Err(FieldError::new(
            "to",
            format!(
                "Une suspension est déjà en cours depuis le {} : indiquez sa fin avant d'en ouvrir une autre.",
                format::date(open.from)
            ),
        ));
    }
    Ok((from, to, reason.to_string()))
}

/// The end given to an open window.
pub fn check_suspension_end(
    window: Suspension,
    to: Option<NaiveDate>,
) -> Result<NaiveDate, FieldError> {
    if window.to.is_some() {
        return Err(FieldError::new("to", "Cette suspension est déjà terminée."));
    }
    let to = to.ok_or_else(|| {
        FieldError::new(
            "to",
            "Indiquez la date de fin de la suspension au format JJ/MM/AAAA.",
        )
    })?;
    check_end(window.from, to)?;
    Ok(to)
}

fn check_end(from: NaiveDate, to: NaiveDate) -> Result<(), FieldError> {
    if to <= from {
        return Err(FieldError::new(
            "to",
            format!(
                "La fin de la suspension doit être après son début, le {}.",
                format::date(from)
            ),
        ));
    }
    Ok(())
}

/// Something planned after the trainee's deadline, shown on her file and her cohort's
/// follow-up, and confirmed by staff when it comes from an enrolment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeadlineFlag {
    /// `cohort_end` (the cohort ends after the deadline) or `certification` (the planned
    /// certification falls after it).
    pub kind: &'static str,
    pub on: NaiveDate,
    pub deadline: NaiveDate,
    pub message: String,
}

/// What falls after the deadline: the cohort's end and, once the certification domain
/// gives one, the planned certification date. Each is flagged with both dates.
pub fn deadline_flags(
    deadline: NaiveDate,
    cohort_end: Option<NaiveDate>,
    planned_certification: Option<NaiveDate>,
) -> Vec<DeadlineFlag> {
    let mut flags = Vec::new();
    if let Some(end) = cohort_end.filter(|e| *e > deadline) {
        flags.push(DeadlineFlag {
            kind: "cohort_end",
            on: end,
            deadline,
            message: format!(
                "Échéance dépassée avant la fin de la promotion : la promotion se termine le {}, après l'échéance du {} pour obtenir la certification.",
                format::date(end),
                format::date(deadline)
            ),
        });
    }
    if let Some(planned) = planned_certification.filter(|p| *p > deadline) {
        flags.push(DeadlineFlag {
            kind: "certification",
            on: planned,
            deadline,
            message: format!(
                "Certification prévue le {}, après l'échéance du {} pour l'obtenir.",
                format::date(planned),
                format::date(deadline)
            ),
        });
    }
    flags
}

/// The time left to a deadline in words: never "-92 jours".
pub fn deadline_words(days_left: i64) -> String {
    match days_left {
        d if d < -1 => format!("échéance dépassée depuis {} jours", -d),
        -1 => "échéance dépassée depuis 1 jour".into(),
        0 => "échéance aujourd'hui".into(),
        1 => "1 jour restant".into(),
        d => format!("{d} jours restants"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn w(from: NaiveDate, to: Option<NaiveDate>) -> Suspension {
        Suspension { from, to }
    }

    const TODAY: (i32, u32, u32) = (2026, 11, 24);

    fn deadline(hire: NaiveDate, funding: Funding, windows: &[Suspension]) -> NaiveDate {
        certification_deadline(hire, funding, windows, d(TODAY.0, TODAY.1, TODAY.2))
    }

    #[test]
    fn a_past_deadline_says_so() {
        assert_eq!(deadline_words(-92), "échéance dépassée depuis 92 jours");
        assert_eq!(deadline_words(-1), "échéance dépassée depuis 1 jour");
        assert_eq!(deadline_words(0), "échéance aujourd'hui");
        assert_eq!(deadline_words(1), "1 jour restant");
        assert_eq!(deadline_words(400), "400 jours restants");
    }

    #[test]
    fn deadline_changes_on_22_june_2024() {
        let proa = Funding::Proa;
        assert_eq!(deadline(d(2024, 6, 21), proa, &[]), d(2027, 6, 21));
        assert_eq!(deadline(d(2024, 6, 22), proa, &[]), d(2026, 6, 22));
        assert_eq!(deadline(d(2025, 1, 15), proa, &[]), d(2027, 1, 15));
    }

    #[test]
    fn a_suspension_stops_only_the_two_year_delay_of_a_proa_trainee() {
        let march = [w(d(2024, 7, 1), Some(d(2024, 7, 31)))];
        // Hired the day before the convention: 3 years, never suspended.
        assert_eq!(
            deadline(d(2024, 6, 21), Funding::Proa, &march),
            d(2027, 6, 21)
        );
        // Hired on the day: 2 years, moved by the 30 days.
        assert_eq!(
            deadline(d(2024, 6, 22), Funding::Proa, &march),
            d(2026, 7, 22)
        );
        // Another funding: windows kept from old records move nothing.
        for f in [
            Funding::ContratPro,
            Funding::PlanDeveloppement,
            Funding::Autre,
        ] {
            assert_eq!(deadline(d(2024, 6, 22), f, &march), d(2026, 6, 22));
        }
        assert!(suspendable(d(2024, 6, 22), Funding::Proa));
        assert!(!suspendable(d(2024, 6, 21), Funding::Proa));
        assert!(!suspendable(d(2025, 1, 1), Funding::ContratPro));
    }

    #[test]
    fn windows_add_up_and_overlaps_count_once() {
        let hire = d(2025, 1, 15);
        let today = d(TODAY.0, TODAY.1, TODAY.2);
        let march = w(d(2025, 3, 1), Some(d(2025, 3, 31)));
        let june = w(d(2025, 6, 1), Some(d(2025, 6, 11)));
        assert_eq!(suspended_days(hire, &[march], today), 30);
        // Two windows: both kept, both counted.
        assert_eq!(suspended_days(hire, &[june, march], today), 40);
        assert_eq!(
            deadline(hire, Funding::Proa, &[march, june]),
            d(2027, 2, 24)
        );
        // Overlapping (15/03 → 10/04 over 01/03 → 31/03): 01/03 → 10/04 once, 40 days.
        let over = w(d(2025, 3, 15), Some(d(2025, 4, 10)));
        assert_eq!(suspended_days(hire, &[march, over], today), 40);
        // One inside another counts nothing more; the same window twice counts once.
        let inside = w(d(2025, 3, 5), Some(d(2025, 3, 6)));
        assert_eq!(suspended_days(hire, &[inside, march, march], today), 30);
        // Touching windows join without a gap or a double day.
        let next = w(d(2025, 3, 31), Some(d(2025, 4, 2)));
        assert_eq!(suspended_days(hire, &[march, next], today), 32);
    }

    #[test]
    fn windows_are_clipped_at_the_hire_and_at_today() {
        let hire = d(2025, 1, 15);
        let today = d(TODAY.0, TODAY.1, TODAY.2);
        // Entirely before the hire: nothing; across it: from the hire only.
        assert_eq!(
            suspended_days(hire, &[w(d(2024, 12, 1), Some(d(2025, 1, 1)))], today),
            0
        );
        assert_eq!(
            suspended_days(hire, &[w(d(2025, 1, 1), Some(d(2025, 1, 25)))], today),
            10
        );
        // Open: counts up to today, so it keeps moving.
        assert_eq!(
            deadline(hire, Funding::Proa, &[w(d(2026, 11, 14), None)]),
            d(2027, 1, 25)
        );
        // Starting in the future: nothing yet; ending in the future: up to today.
        assert_eq!(suspended_days(hire, &[w(d(2026, 12, 1), None)], today), 0);
        assert_eq!(
            suspended_days(hire, &[w(d(2026, 11, 20), Some(d(2026, 12, 20)))], today),
            4
        );
        // An open window over a closed one counts the shared days once.
        let both = [
            w(d(2026, 11, 1), Some(d(2026, 11, 10))),
            w(d(2026, 11, 5), None),
        ];
        assert_eq!(suspended_days(hire, &both, today), 23);
    }

    #[test]
    fn a_new_window_is_refused_with_its_reason() {
        let hire = d(2025, 1, 15);
        let ok = |from, to| check_suspension(hire, Funding::Proa, &[], from, to, " OPCO ");
        assert_eq!(
            ok(Some(d(2025, 3, 1)), None),
            Ok((d(2025, 3, 1), None, "OPCO".to_string()))
        );
        // On the hire day: just inside.
        assert!(ok(Some(hire), Some(d(2025, 1, 16))).is_ok());
        let err = |r: Result<_, FieldError>| r.map(|_| ()).unwrap_err();
        let e = err(check_suspension(
            hire,
            Funding::ContratPro,
            &[],
            Some(d(2025, 3, 1)),
            None,
            "x",
        ));
        assert!(
            e.message.contains("financé par ProA")
                && e.message.contains("Contrat de professionnalisation"),
            "{}",
            e.message
        );
        let e = err(check_suspension(
            d(2024, 6, 21),
            Funding::Proa,
            &[],
            Some(d(2025, 3, 1)),
            None,
            "x",
        ));
        assert!(
            e.message.contains("21/06/2024") && e.message.contains("3 ans"),
            "{}",
            e.message
        );
        assert!(
            check_suspension(
                d(2024, 6, 22),
                Funding::Proa,
                &[],
                Some(d(2025, 3, 1)),
                None,
                "x"
            )
            .is_ok()
        );
        assert_eq!(err(ok(None, None)).field, "from");
        let e = err(ok(Some(d(2025, 1, 14)), None));
        assert!(
            e.message.contains("avant l'embauche, le 15/01/2025"),
            "{}",
            e.message
        );
        assert_eq!(
            err(ok(Some(d(2025, 3, 1)), Some(d(2025, 3, 1)))).field,
            "to"
        );
        assert_eq!(
            err(ok(Some(d(2025, 3, 1)), Some(d(2025, 2, 1)))).field,
            "to"
        );
        let e = err(check_suspension(
            hire,
            Funding::Proa,
            &[],
            Some(d(2025, 3, 1)),
            None,
            "  ",
        ));
        assert_eq!(e.field, "reason");
        let long = "é".repeat(501);
        assert_eq!(
            err(check_suspension(
                hire,
                Funding::Proa,
                &[],
                Some(d(2025, 3, 1)),
                None,
                &long
            ))
            .field,
            "reason"
        );
        // A second open window while one runs: refused; a closed one beside it is kept.
        let open = [w(d(2025, 2, 1), None)];
        let e = err(check_suspension(
            hire,
            Funding::Proa,
            &open,
            Some(d(2025, 3, 1)),
            None,
            "x",
        ));
        assert!(
            e.message.contains("déjà en cours depuis le 01/02/2025"),
            "{}",
            e.message
        );
        assert!(
            check_suspension(
                hire,
                Funding::Proa,
                &open,
                Some(d(2025, 1, 20)),
                Some(d(2025, 1, 30)),
                "x"
            )
            .is_ok()
        );
    }

    #[test]
    fn only_an_open_window_is_ended_after_its_start() {
        let open = w(d(2025, 3, 1), None);
        assert_eq!(
            check_suspension_end(open, Some(d(2025, 3, 2))),
            Ok(d(2025, 3, 2))
        );
        assert_eq!(
            check_suspension_end(open, Some(d(2025, 3, 1)))
                .unwrap_err()
                .field,
            "to"
        );
        assert_eq!(check_suspension_end(open, None).unwrap_err().field, "to");
        let closed = w(d(2025, 3, 1), Some(d(2025, 3, 31)));
        assert!(
            check_suspension_end(closed, Some(d(2025, 4, 2)))
                .unwrap_err()
                .message
                .contains("déjà terminée")
        );
    }

    #[test]
    fn what_falls_after_the_deadline_is_flagged_with_both_dates() {
        let deadline = d(2027, 1, 15);
        // On the deadline: not flagged; a day later: flagged.
        assert!(deadline_flags(deadline, Some(deadline), None).is_empty());
        let flags = deadline_flags(deadline, Some(d(2027, 1, 16)), None);
        assert_eq!(flags.len(), 1);
        assert_eq!(flags[0].kind, "cohort_end");
        let m = &flags[0].message;
        assert!(
            m.starts_with("Échéance dépassée avant la fin de la promotion"),
            "{m}"
        );
        assert!(m.contains("16/01/2027") && m.contains("15/01/2027"), "{m}");
        assert!(deadline_flags(deadline, None, None).is_empty());
        // The certification domain's hook: a planned certification after the deadline.
        let flags = deadline_flags(deadline, Some(d(2026, 12, 1)), Some(d(2027, 3, 1)));
        assert_eq!(flags.len(), 1);
        assert_eq!(flags[0].kind, "certification");
        assert!(flags[0].message.contains("01/03/2027"));
        assert!(deadline_flags(deadline, None, Some(deadline)).is_empty());
    }
}
