//! A trainee who enters a cohort after its start (a late enrolment or a transfer) may have
//! less time left in it than the programme's minimum length: staff must confirm it.

use chrono::{Months, NaiveDate};

use crate::base::format;

/// A warning when a trainee entering on `entry` has less than the programme's `min_months`
/// before the cohort's end (CQP: 10 months). Entering on or before the cohort's start is
/// never warned: the cohort's own length was checked when it was created.
pub fn short_stay_warning(
    entry: NaiveDate,
    cohort_start: NaiveDate,
    cohort_end: NaiveDate,
    min_months: u32,
) -> Option<String> {
    if entry <= cohort_start {
        return None;
    }
    let needed = entry.checked_add_months(Months::new(min_months))?;
    if needed <= cohort_end {
        return None;
    }
    Some(format!(
        "Entrée le {} dans une promotion qui se termine le {} : il reste moins que la durée \
         minimale du programme ({min_months} mois, soit jusqu'au {}). Le parcours devra être \
         adapté (positionnement, allègement).",
        format::date(entry),
        format::date(cohort_end),
        format::date(needed)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_late_entry_with_less_than_the_minimum_left_is_warned() {
        let (start, end) = (d(2026, 9, 1), d(2027, 8, 31));
        // Just inside: entering on 31/10/2026 leaves exactly 10 months.
        assert_eq!(short_stay_warning(d(2026, 10, 31), start, end, 10), None);
        // Just outside: a day later.
        let w = short_stay_warning(d(2026, 11, 1), start, end, 10).unwrap();
        assert!(w.contains("01/11/2026") && w.contains("31/08/2027"), "{w}");
        assert!(w.contains("10 mois") && w.contains("01/09/2027"), "{w}");
        // On time (or earlier) is never warned, even in a short cohort.
        assert_eq!(short_stay_warning(start, start, d(2027, 1, 1), 10), None);
        assert_eq!(short_stay_warning(d(2026, 8, 1), start, end, 10), None);
        // A programme without a minimum.
        assert_eq!(short_stay_warning(d(2027, 8, 1), start, end, 0), None);
    }
}
