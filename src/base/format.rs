//! French formats for dates, durations and spreadsheets, and the French date a form types.
//! Shown times are Europe/Paris (see `paris`).

use chrono::{Datelike, NaiveDate, NaiveDateTime};

use super::paris::to_paris;

pub fn date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// A day typed in a form: `23/11/2026`, or a date input's `2026-11-23`.
pub fn parse_day(raw: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .ok()
        .or_else(|| parse_fr_date(raw))
}

/// `23/11/2026` (also `23/11/26` is refused: four-digit years only).
pub fn parse_fr_date(raw: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(raw.trim(), "%d/%m/%Y")
        .ok()
        .filter(|d| d.year() >= 1900)
}

/// Why `parse_fr_date` refused a value, in words: a date written right that the calendar
/// does not have (31/02/2026) is not a format error.
pub fn fr_date_problem(raw: &str) -> String {
    let raw = raw.trim();
    let parts: Vec<&str> = raw.split('/').collect();
    let numeric = |p: &str, max: usize| {
        !p.is_empty() && p.len() <= max && p.bytes().all(|b| b.is_ascii_digit())
    };
    match parts.as_slice() {
        [d, m, y] if numeric(d, 2) && numeric(m, 2) && y.len() == 4 && numeric(y, 4) => {
            if y.parse::<i32>().is_ok_and(|y| y < 1900) {
                format!("{raw} : l'année doit être 1900 ou après")
            } else {
                format!("{raw} n'existe pas")
            }
        }
        _ => format!("« {raw} » : date attendue au format JJ/MM/AAAA"),
    }
}

/// `23/11/2026 à 14 h 05`, in Paris time.
pub fn datetime(utc: NaiveDateTime) -> String {
    to_paris(utc).format("%d/%m/%Y à %H h %M").to_string()
}

/// A time of day as `8 h 30` or `14 h 05`.
pub fn time(t: chrono::NaiveTime) -> String {
    use chrono::Timelike;
    format!("{} h {:02}", t.hour(), t.minute())
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

/// Hours with a decimal comma, as French spreadsheets read them: `12,50`.
pub fn decimal_hours(secs: i64) -> String {
    format!("{:.2}", secs as f64 / 3600.0).replace('.', ",")
}

/// A CSV writer as Excel in French opens files without asking: UTF-8 with a byte-order mark,
/// `;` between fields.
pub fn excel_csv(out: &mut Vec<u8>) -> csv::Writer<&mut Vec<u8>> {
    out.extend_from_slice(b"\xEF\xBB\xBF");
    csv::WriterBuilder::new().delimiter(b';').from_writer(out)
}

/// A name as plain lowercase words joined by dashes, at most `max` characters, accents folded
/// as people would type them (`Éducation thérapeutique – œdème` → `education-therapeutique-oedeme`):
/// folder and file names made from what authors write.
pub fn slug(text: &str, max: usize) -> String {
    let folded = deunicode::deunicode(text).to_ascii_lowercase();
    let words: Vec<&str> = folded
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let cut: String = words.join("-").chars().take(max).collect();
    cut.trim_end_matches('-').to_string()
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
        assert_eq!(decimal_hours(45_000), "12,50");
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

    #[test]
    fn a_date_that_does_not_exist_is_told_apart_from_a_bad_format() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day);
        assert_eq!(parse_fr_date("23/11/2026"), d(2026, 11, 23));
        assert_eq!(parse_fr_date("2026-11-23"), None);
        assert_eq!(parse_fr_date("31/02/2026"), None);
        assert_eq!(parse_day("2026-11-23"), d(2026, 11, 23));
        assert_eq!(parse_day(" 23/11/2026 "), d(2026, 11, 23));
        assert_eq!(fr_date_problem("31/02/2026"), "31/02/2026 n'existe pas");
        assert_eq!(fr_date_problem(" 29/02/2027 "), "29/02/2027 n'existe pas");
        assert!(parse_fr_date("29/02/2028").is_some());
        assert_eq!(
            fr_date_problem("2026-02-03"),
            "« 2026-02-03 » : date attendue au format JJ/MM/AAAA"
        );
        assert!(fr_date_problem("3/2/26").contains("format JJ/MM/AAAA"));
        assert!(fr_date_problem("01/01/1850").contains("1900"));
    }
}
