//! When a CQP trainee's doctors and organism are told that her deadline nears: 6 months
//! before it, then 3 months, as long as she has not obtained the CQP.

use chrono::{Duration, Months, NaiveDate};

use crate::cohorts::rules::{Funding, Suspension, suspendable};

/// How long before the deadline an alert goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threshold {
    SixMonths,
    ThreeMonths,
}

impl Threshold {
    pub fn months(self) -> i32 {
        match self {
            Threshold::SixMonths => 6,
            Threshold::ThreeMonths => 3,
        }
    }

    pub fn from_months(months: i32) -> Option<Threshold> {
        match months {
            6 => Some(Threshold::SixMonths),
            3 => Some(Threshold::ThreeMonths),
            _ => None,
        }
    }

    /// The first day of the alert's window.
    fn opens(self, deadline: NaiveDate) -> Option<NaiveDate> {
        deadline.checked_sub_months(Months::new(self.months().unsigned_abs()))
    }
}

/// What the alert rule reads of a trainee.
#[derive(Clone, Copy, Debug)]
pub struct AlertFacts<'a> {
    /// Her current programme's kind ("cqp", "fae").
    pub program_kind: &'a str,
    /// Still in a cohort (not departed).
    pub enrolled: bool,
    pub cqp_obtained: bool,
    /// A ProA suspension runs today: her deadline moves a day each day (`clock_stopped`).
    pub clock_stopped: bool,
    pub deadline: NaiveDate,
    /// The alerts already sent for this very deadline.
    pub sent: &'a [Threshold],
}

/// The alert due today, if any. Within 3 months the 3-month alert goes (also to a trainee
/// first seen there, who then never gets the 6-month one); within 6 months the 6-month one,
/// unless the 3-month one went. None once the deadline has passed: the pages flag it as
/// overdue, and a mail "before the deadline" would be false. None while a ProA suspension
/// runs: her deadline is not fixed until it ends, and its new deadline is alerted then.
pub fn alert_due(f: &AlertFacts<'_>, today: NaiveDate) -> Option<Threshold> {
    if f.program_kind != "cqp" || !f.enrolled || f.cqp_obtained || f.clock_stopped {
        return None;
    }
    if today > f.deadline {
        return None;
    }
    let sent = |t: Threshold| f.sent.contains(&t);
    if Threshold::ThreeMonths.opens(f.deadline)? <= today {
        return (!sent(Threshold::ThreeMonths)).then_some(Threshold::ThreeMonths);
    }
    if Threshold::SixMonths.opens(f.deadline)? <= today
        && !sent(Threshold::SixMonths)
        && !sent(Threshold::ThreeMonths)
    {
        return Some(Threshold::SixMonths);
    }
    None
}

/// Whether a ProA suspension stops the trainee's clock today (a window begun and not ended
/// by today), so her deadline still moves.
pub fn clock_stopped(
    hire: NaiveDate,
    funding: Funding,
    windows: &[Suspension],
    today: NaiveDate,
) -> bool {
    suspendable(hire, funding)
        && windows
            .iter()
            .any(|w| w.from <= today && w.to.is_none_or(|to| to > today))
}

/// Trainees hired after this day have more than 6 months left (a deadline is at least 2
/// years after the hire): the job reads no further. A week of margin for months' ends.
pub fn alert_hire_cutoff(today: NaiveDate) -> NaiveDate {
    today
        .checked_sub_months(Months::new(18))
        .map_or(today, |d| d + Duration::days(7))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cohorts::rules::certification_deadline;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    const DEADLINE: (i32, u32, u32) = (2027, 9, 15);

    fn due(today: NaiveDate, sent: &[Threshold]) -> Option<Threshold> {
        let facts = AlertFacts {
            program_kind: "cqp",
            enrolled: true,
            cqp_obtained: false,
            clock_stopped: false,
            deadline: d(DEADLINE.0, DEADLINE.1, DEADLINE.2),
            sent,
        };
        alert_due(&facts, today)
    }

    use Threshold::{SixMonths as Six, ThreeMonths as Three};

    #[test]
    fn six_months_before_exactly_and_not_a_day_earlier() {
        assert_eq!(due(d(2027, 3, 14), &[]), None);
        assert_eq!(due(d(2027, 3, 15), &[]), Some(Six));
        assert_eq!(
            due(d(2027, 3, 16), &[]),
            Some(Six),
            "one day after: still due"
        );
        // Sent once for this deadline.
        assert_eq!(due(d(2027, 3, 16), &[Six]), None);
        assert_eq!(due(d(2027, 6, 14), &[Six]), None);
    }

    #[test]
    fn three_months_before_then_never_the_six_months_one() {
        assert_eq!(due(d(2027, 6, 15), &[Six]), Some(Three));
        assert_eq!(due(d(2027, 6, 16), &[Six]), Some(Three));
        assert_eq!(due(d(2027, 6, 15), &[Six, Three]), None);
        // First seen inside 3 months: the 3-month alert only, then nothing.
        assert_eq!(due(d(2027, 7, 1), &[]), Some(Three));
        assert_eq!(due(d(2027, 7, 2), &[Three]), None);
        // A 3-month alert already gone: the 6-month one never follows it.
        assert_eq!(due(d(2027, 4, 1), &[Three]), None);
    }

    #[test]
    fn the_deadline_day_is_alerted_an_overdue_deadline_is_not() {
        assert_eq!(due(d(2027, 9, 15), &[]), Some(Three));
        assert_eq!(due(d(2027, 9, 16), &[]), None);
        assert_eq!(due(d(2028, 1, 1), &[]), None);
    }

    #[test]
    fn no_alert_with_the_cqp_for_the_fae_after_a_departure_or_a_running_suspension() {
        let base = AlertFacts {
            program_kind: "cqp",
            enrolled: true,
            cqp_obtained: false,
            clock_stopped: false,
            deadline: d(2027, 9, 15),
            sent: &[],
        };
        let today = d(2027, 7, 1);
        assert_eq!(alert_due(&base, today), Some(Three));
        for f in [
            AlertFacts {
                cqp_obtained: true,
                ..base
            },
            AlertFacts {
                program_kind: "fae",
                ..base
            },
            AlertFacts {
                enrolled: false,
                ..base
            },
            AlertFacts {
                clock_stopped: true,
                ..base
            },
        ] {
            assert_eq!(alert_due(&f, today), None, "{f:?}");
        }
    }

    #[test]
    fn a_moved_deadline_is_a_new_deadline() {
        // The 3-month alert went for 15/09/2027; a suspension moves it to 15/12/2027: what was
        // sent was for the old one, so the 6-month alert of the new one is due.
        let facts = AlertFacts {
            program_kind: "cqp",
            enrolled: true,
            cqp_obtained: false,
            clock_stopped: false,
            deadline: d(2027, 12, 15),
            sent: &[],
        };
        assert_eq!(alert_due(&facts, d(2027, 7, 1)), Some(Six));
    }

    #[test]
    fn a_suspension_stops_the_clock_while_it_runs() {
        let hire = d(2025, 9, 15);
        let open = [Suspension {
            from: d(2027, 5, 1),
            to: None,
        }];
        assert!(clock_stopped(hire, Funding::Proa, &open, d(2027, 5, 1)));
        assert!(!clock_stopped(hire, Funding::Proa, &open, d(2027, 4, 30)));
        let ended = [Suspension {
            from: d(2027, 5, 1),
            to: Some(d(2027, 6, 1)),
        }];
        assert!(clock_stopped(hire, Funding::Proa, &ended, d(2027, 5, 31)));
        assert!(!clock_stopped(hire, Funding::Proa, &ended, d(2027, 6, 1)));
        // Another funding: windows move nothing, so they stop nothing.
        assert!(!clock_stopped(
            hire,
            Funding::ContratPro,
            &open,
            d(2027, 5, 10)
        ));
    }

    #[test]
    fn the_hire_cutoff_keeps_everyone_within_six_months() {
        let today = d(2027, 3, 15);
        let cutoff = alert_hire_cutoff(today);
        // Hired on 15/09/2025: deadline 15/09/2027, 6 months from today.
        let hire = d(2025, 9, 15);
        assert!(hire <= cutoff);
        assert_eq!(
            certification_deadline(hire, Funding::ContratPro, &[], today),
            d(2027, 9, 15)
        );
        // Month ends: hired 31/08/2025, deadline 31/08/2027, alert from 28/02/2027.
        let today = d(2027, 2, 28);
        assert!(d(2025, 8, 31) <= alert_hire_cutoff(today));
        // Hired much later: more than 6 months left, not read.
        assert!(d(2025, 11, 1) > alert_hire_cutoff(d(2027, 3, 15)));
    }
}
