//! Europe/Paris time. Stored times are naive UTC; days, half-days, daily caps, deadlines
//! and "this week" are Paris dates, across daylight-saving changes.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Europe::Paris;

/// A stored (naive UTC) time as read on a Paris clock.
pub fn to_paris(utc: NaiveDateTime) -> chrono::DateTime<chrono_tz::Tz> {
    Paris.from_utc_datetime(&utc)
}

/// The Paris date of a stored (naive UTC) time.
pub fn paris_date(utc: NaiveDateTime) -> NaiveDate {
    to_paris(utc).date_naive()
}

/// Today's date in Paris.
pub fn today() -> NaiveDate {
    paris_date(chrono::Utc::now().naive_utc())
}

/// The UTC instant of a Paris wall-clock time; in the hour skipped or repeated by a DST
/// change, the earliest reading.
pub fn paris_to_utc(local: NaiveDateTime) -> NaiveDateTime {
    Paris
        .from_local_datetime(&local)
        .earliest()
        .map_or(local, |t| t.naive_utc())
}

/// The UTC instant a Paris day starts (periods are local days, stamps are UTC).
pub fn paris_midnight(day: NaiveDate) -> NaiveDateTime {
    paris_to_utc(day.and_time(NaiveTime::MIN))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    #[test]
    fn paris_days_follow_daylight_saving() {
        // Late March: summer time, 22:30 UTC is already the next day in Paris.
        assert_eq!(
            paris_date(at(2026, 3, 29, 22, 30)),
            NaiveDate::from_ymd_opt(2026, 3, 30).unwrap()
        );
        // Late October: winter time again, 22:30 UTC is still the same day.
        assert_eq!(
            paris_date(at(2026, 10, 26, 22, 30)),
            NaiveDate::from_ymd_opt(2026, 10, 26).unwrap()
        );
        assert_eq!(
            paris_midnight(NaiveDate::from_ymd_opt(2026, 7, 1).unwrap()),
            at(2026, 6, 30, 22, 0)
        );
        assert_eq!(
            paris_midnight(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()),
            at(2025, 12, 31, 23, 0)
        );
        // In the hour repeated in autumn, the earliest reading (still summer time).
        assert_eq!(
            paris_to_utc(at(2026, 10, 25, 2, 30)),
            at(2026, 10, 25, 0, 30)
        );
    }
}
