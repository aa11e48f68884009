//! French formats for dates and durations, and the tera filters that use them.
//! Stored times are naive UTC; people read Europe/Paris.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Europe::Paris;
use tera::Value;

pub fn date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

pub fn to_paris(utc: NaiveDateTime) -> chrono::DateTime<chrono_tz::Tz> {
    Paris.from_utc_datetime(&utc)
}

/// The UTC instant of a Paris wall-clock time; in the hour skipped or repeated by a DST
/// change, the earliest reading.
pub fn paris_to_utc(local: NaiveDateTime) -> NaiveDateTime {
    Paris
        .from_local_datetime(&local)
        .earliest()
        .map_or(local, |t| t.naive_utc())
}

/// A day typed in a form: `23/11/2026`, or a date input's `2026-11-23`.
pub fn parse_day(raw: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .ok()
        .or_else(|| crate::cohorts::rules::parse_fr_date(raw))
}

/// `23/11/2026 à 14 h 05`, in Paris time.
pub fn datetime(utc: NaiveDateTime) -> String {
    to_paris(utc).format("%d/%m/%Y à %H h %M").to_string()
}

/// Minutes as `12 h 30`, `0 h 05` or `266 h`.
pub fn minutes(total: i64) -> String {
    let sign = if total < 0 { "-" } else { "" };
    let total = total.abs();
    let (h, m) = (total / 60, total % 60);
    if m == 0 {
        format!("{sign}{h} h")
    } else {
        format!("{sign}{h} h {m:02}")
    }
}

fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()
}

pub fn register(tera: &mut tera::Tera) {
    tera.register_filter(
        "fr_secs",
        |v: &Value, _: &HashMap<String, Value>| -> tera::Result<Value> {
            v.as_i64()
                .or_else(|| v.as_f64().map(|f| f as i64))
                .map(|s| Value::String(minutes(s / 60)))
                .ok_or_else(|| tera::Error::msg("fr_secs: not a number"))
        },
    );
    tera.register_filter(
        "fr_date",
        |v: &Value, _: &HashMap<String, Value>| -> tera::Result<Value> {
            let s = v.as_str().unwrap_or_default();
            if let Some(dt) = parse_datetime(s) {
                return Ok(Value::String(date(to_paris(dt).date_naive())));
            }
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(|d| Value::String(date(d)))
                .map_err(|_| tera::Error::msg(format!("fr_date: not a date: {s}")))
        },
    );
    tera.register_filter(
        "fr_datetime",
        |v: &Value, _: &HashMap<String, Value>| -> tera::Result<Value> {
            let s = v.as_str().unwrap_or_default();
            parse_datetime(s)
                .map(|dt| Value::String(datetime(dt)))
                .ok_or_else(|| tera::Error::msg(format!("fr_datetime: not a date-time: {s}")))
        },
    );
    tera.register_filter(
        "fr_minutes",
        |v: &Value, _: &HashMap<String, Value>| -> tera::Result<Value> {
            v.as_i64()
                .or_else(|| v.as_f64().map(|f| f.round() as i64))
                .map(|m| Value::String(minutes(m)))
                .ok_or_else(|| tera::Error::msg("fr_minutes: not a number"))
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_the_french_way() {
        assert_eq!(minutes(750), "12 h 30");
        assert_eq!(minutes(5), "0 h 05");
        assert_eq!(minutes(266 * 60), "266 h");
        assert_eq!(minutes(-90), "-1 h 30");
    }

    #[test]
    fn dates_are_shown_in_paris_time_across_dst() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert_eq!(date(d), "23/11/2026");
        // Winter: UTC+1.
        let w = d.and_hms_opt(13, 5, 0).unwrap();
        assert_eq!(datetime(w), "23/11/2026 à 14 h 05");
        // Summer: UTC+2, and the late-night UTC time is already the next day in Paris.
        let s = NaiveDate::from_ymd_opt(2026, 3, 29)
            .unwrap()
            .and_hms_opt(22, 30, 0)
            .unwrap();
        assert_eq!(datetime(s), "30/03/2026 à 00 h 30");
        let o = NaiveDate::from_ymd_opt(2026, 10, 25)
            .unwrap()
            .and_hms_opt(1, 30, 0)
            .unwrap();
        assert_eq!(datetime(o), "25/10/2026 à 02 h 30");
    }
}
