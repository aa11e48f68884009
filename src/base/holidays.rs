//! French public holidays (jours fériés), computed for any year: the eleven national days,
//! Easter's moving ones included, and the two days added in Alsace-Moselle.

use chrono::{Datelike, Duration, NaiveDate};

/// Easter Sunday of the Gregorian calendar (the anonymous Gregorian algorithm).
pub fn easter(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    // The algorithm only yields 22 March to 25 April, which always exist.
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).unwrap_or_default()
}

/// The public holidays of `year`, in date order, with their French names.
pub fn public_holidays(year: i32, alsace_moselle: bool) -> Vec<(NaiveDate, &'static str)> {
    let fixed = |m, d| NaiveDate::from_ymd_opt(year, m, d).unwrap_or_default();
    let easter = easter(year);
    let mut days = vec![
        (fixed(1, 1), "Jour de l'an"),
        (easter + Duration::days(1), "Lundi de Pâques"),
        (fixed(5, 1), "Fête du Travail"),
        (fixed(5, 8), "Victoire 1945"),
        (easter + Duration::days(39), "Ascension"),
        (easter + Duration::days(50), "Lundi de Pentecôte"),
        (fixed(7, 14), "Fête nationale"),
        (fixed(8, 15), "Assomption"),
        (fixed(11, 1), "Toussaint"),
        (fixed(11, 11), "Armistice 1918"),
        (fixed(12, 25), "Noël"),
    ];
    if alsace_moselle {
        days.push((easter - Duration::days(2), "Vendredi saint"));
        days.push((fixed(12, 26), "Saint-Étienne"));
    }
    days.sort();
    days
}

/// The holiday's name when `day` is one.
pub fn holiday_name(day: NaiveDate, alsace_moselle: bool) -> Option<&'static str> {
    public_holidays(day.year(), alsace_moselle)
        .into_iter()
        .find(|(d, _)| *d == day)
        .map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn easter_falls_where_the_almanacs_say() {
        assert_eq!(easter(2024), d(2024, 3, 31));
        assert_eq!(easter(2025), d(2025, 4, 20));
        assert_eq!(easter(2026), d(2026, 4, 5));
        assert_eq!(easter(2027), d(2027, 3, 28));
        assert_eq!(easter(2038), d(2038, 4, 25));
    }

    #[test]
    fn the_moving_days_of_2027() {
        assert_eq!(holiday_name(d(2027, 3, 29), false), Some("Lundi de Pâques"));
        assert_eq!(holiday_name(d(2027, 5, 6), false), Some("Ascension"));
        assert_eq!(
            holiday_name(d(2027, 5, 17), false),
            Some("Lundi de Pentecôte")
        );
        assert_eq!(holiday_name(d(2027, 7, 14), false), Some("Fête nationale"));
        assert_eq!(holiday_name(d(2027, 7, 15), false), None);
        assert_eq!(public_holidays(2027, false).len(), 11);
    }

    #[test]
    fn alsace_moselle_adds_good_friday_and_saint_stephen() {
        assert_eq!(holiday_name(d(2027, 3, 26), false), None);
        assert_eq!(holiday_name(d(2027, 3, 26), true), Some("Vendredi saint"));
        assert_eq!(holiday_name(d(2026, 12, 26), true), Some("Saint-Étienne"));
        assert_eq!(public_holidays(2027, true).len(), 13);
    }
}
