//! The value types of both data models, checked the same way as the player script will
//! (the element table says which type each element has).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// `_children`, `_count`, `_version`: read by the SCO, never set.
    Keyword,
    /// Any text up to `max_len` characters.
    Text,
    /// 2004 `localized_string_type`: an optional `{lang=fr}` before the text.
    LocalizedText,
    /// A language tag (`fr-FR`) or nothing.
    Language,
    /// 1.2 `CMIIdentifier`, 2004 `long_identifier_type`: no spaces, not empty.
    Identifier,
    /// 1.2 `CMIDecimal`, 2004 `real(10,7)`, within `range` if any.
    Decimal,
    /// 1.2 scores: a decimal or the empty string.
    DecimalOrBlank,
    /// 1.2 `CMISInteger`, within `range`.
    Integer,
    /// One of `vocabulary`.
    Vocabulary,
    /// One of `vocabulary`, or a decimal (an interaction's result).
    VocabularyOrDecimal,
    /// 1.2 `CMITimespan`: `HHHH:MM:SS.SS`.
    Timespan,
    /// 1.2 `CMITime`: `HH:MM:SS.SS`.
    ClockTime,
    /// 2004 `timeinterval`: an ISO 8601 duration (`PT1H2M3.5S`).
    Duration,
    /// 2004 `time(second,10,0)`: an ISO 8601 date and time, as precise as wanted.
    Timestamp,
    /// 2004 `adl.nav.request`: its vocabulary, or `{target=ID}choice` / `{target=ID}jump`.
    NavRequest,
}

/// Why a value is refused; each version has its own code for these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Type,
    Range,
}

pub fn decimal(value: &str) -> Option<f64> {
    let digits = value.strip_prefix('-').unwrap_or(value);
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let ok = all_digits(whole)
        && fraction.is_none_or(|f| !f.is_empty() && all_digits(f))
        && (!whole.is_empty() || fraction.is_some());
    if !ok {
        return None;
    }
    value.parse::<f64>().ok().filter(|v| v.is_finite())
}

fn integer(value: &str) -> Option<i64> {
    let digits = value.strip_prefix('-').unwrap_or(value);
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

fn two_digits(s: &str) -> Option<u32> {
    (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// `SS` or `SS.S` / `SS.SS` of 1.2 times, below 60.
fn seconds12(s: &str) -> Option<f64> {
    let (whole, fraction) = match s.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (s, None),
    };
    let w = two_digits(whole)?;
    if let Some(f) = fraction
        && (f.is_empty() || f.len() > 2 || !f.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    (w < 60).then(|| s.parse().ok()).flatten()
}

/// 1.2 `CMITimespan` in seconds.
pub fn timespan12(value: &str) -> Option<f64> {
    let mut parts = value.split(':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || !(2..=4).contains(&h.len())
        || !h.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let minutes = two_digits(m).filter(|m| *m < 60)?;
    let seconds = seconds12(s)?;
    let hours: f64 = h.parse().ok()?;
    Some(hours * 3600.0 + f64::from(minutes) * 60.0 + seconds)
}

fn clock12(value: &str) -> bool {
    let mut parts = value.split(':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(m), Some(s), None) => {
            two_digits(h).is_some_and(|h| h < 24)
                && two_digits(m).is_some_and(|m| m < 60)
                && seconds12(s).is_some()
        }
        _ => false,
    }
}

/// 2004 `timeinterval` (ISO 8601 duration) in seconds; months count 30 days and years 365
/// (for display only).
pub fn duration(value: &str) -> Option<f64> {
    let rest = value.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return None,
        None => (rest, None),
    };
    if date.is_empty() && time.is_none() {
        return None;
    }
    let mut total = 0.0;
    let mut parse = |part: &str, units: &[(char, f64)], fraction_last: bool| -> Option<()> {
        let mut number = String::new();
        let mut next_unit = 0;
        for c in part.chars() {
            if c.is_ascii_digit() || (c == '.' && fraction_last) {
                number.push(c);
                continue;
            }
            let position = units[next_unit..].iter().position(|(u, _)| *u == c)? + next_unit;
            if number.is_empty() || (number.contains('.') && units[position].0 != 'S') {
                return None;
            }
            total += decimal(&number)? * units[position].1;
            number.clear();
            next_unit = position + 1;
        }
        number.is_empty().then_some(())
    };
    parse(
        date,
        &[('Y', 31_536_000.0), ('M', 2_592_000.0), ('D', 86_400.0)],
        false,
    )?;
    if let Some(t) = time {
        parse(t, &[('H', 3600.0), ('M', 60.0), ('S', 1.0)], true)?;
    }
    Some(total)
}

fn digits_in(s: &str, range: std::ops::RangeInclusive<u32>) -> bool {
    two_digits(s).is_some_and(|v| range.contains(&v))
}

/// 2004 `time(second,10,0)`: `YYYY[-MM[-DD[Thh[:mm[:ss[.s[TZD]]]]]]]`.
pub fn timestamp(value: &str) -> bool {
    let (date, time) = match value.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (value, None),
    };
    let fields: Vec<&str> = date.split('-').collect();
    let date_ok = match fields.as_slice() {
        [y] => y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()),
        [y, m] => timestamp(y) && digits_in(m, 1..=12),
        [y, m, d] => timestamp(y) && digits_in(m, 1..=12) && digits_in(d, 1..=31),
        _ => false,
    };
    let Some(time) = time else {
        return date_ok;
    };
    if fields.len() != 3 || !date_ok {
        return false;
    }
    // The zone is allowed only after seconds.
    let (clock, zone) = match time.find(['Z', '+', '-']) {
        Some(i) => (&time[..i], Some(&time[i..])),
        None => (time, None),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    let clock_ok = match parts.as_slice() {
        [h] => digits_in(h, 0..=23),
        [h, m] => digits_in(h, 0..=23) && digits_in(m, 0..=59),
        [h, m, s] => {
            let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
            digits_in(h, 0..=23)
                && digits_in(m, 0..=59)
                && digits_in(whole, 0..=59)
                && (!s.contains('.')
                    || (!fraction.is_empty()
                        && fraction.len() <= 2
                        && fraction.bytes().all(|b| b.is_ascii_digit())))
        }
        _ => false,
    };
    let zone_ok = match zone {
        None => true,
        Some(z) => {
            parts.len() == 3
                && (z == "Z"
                    || (!z.starts_with('Z') && {
                        // `Z01:00` is neither `Z` nor an offset.
                        let (h, m) = z[1..].split_once(':').unwrap_or((&z[1..], "00"));
                        digits_in(h, 0..=23) && digits_in(m, 0..=59)
                    }))
        }
    };
    clock_ok && zone_ok
}

fn identifier(value: &str) -> bool {
    !value.is_empty() && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn language(value: &str) -> bool {
    value.is_empty()
        || value.split('-').enumerate().all(|(i, part)| {
            (1..=8).contains(&part.len())
                && part.chars().all(|c| c.is_ascii_alphanumeric())
                && (i > 0 || part.chars().all(|c| c.is_ascii_alphabetic()))
        })
}

/// `{lang=fr}texte` → `texte`, if the tag is well formed.
fn without_language(value: &str) -> Option<&str> {
    let Some(rest) = value.strip_prefix("{lang=") else {
        return Some(value);
    };
    let (tag, text) = rest.split_once('}')?;
    language(tag).then_some(text)
}

fn nav_request(value: &str, vocabulary: &[&str]) -> bool {
    if vocabulary.contains(&value) {
        return true;
    }
    let Some(rest) = value.strip_prefix("{target=") else {
        return false;
    };
    match rest.split_once('}') {
        Some((target, action)) => identifier(target) && matches!(action, "choice" | "jump"),
        None => false,
    }
}

fn within(v: f64, range: Option<(f64, f64)>) -> Result<(), Refusal> {
    match range {
        Some((low, high)) if v < low || v > high => Err(Refusal::Range),
        _ => Ok(()),
    }
}

fn length(text: &str, max_len: Option<usize>) -> Result<(), Refusal> {
    match max_len {
        Some(max) if text.chars().count() > max => Err(Refusal::Range),
        _ => Ok(()),
    }
}

/// Checks a value against an element's type, vocabulary, length and range.
pub fn check(
    kind: Kind,
    value: &str,
    vocabulary: &[&str],
    max_len: Option<usize>,
    range: Option<(f64, f64)>,
) -> Result<(), Refusal> {
    let ok = |b: bool| if b { Ok(()) } else { Err(Refusal::Type) };
    match kind {
        Kind::Keyword => Err(Refusal::Type),
        Kind::Text => length(value, max_len),
        Kind::LocalizedText => length(without_language(value).ok_or(Refusal::Type)?, max_len),
        Kind::Language => {
            ok(language(value))?;
            length(value, max_len)
        }
        Kind::Identifier => {
            ok(identifier(value))?;
            length(value, max_len)
        }
        Kind::Decimal => within(decimal(value).ok_or(Refusal::Type)?, range),
        Kind::DecimalOrBlank if value.is_empty() => Ok(()),
        Kind::DecimalOrBlank => within(decimal(value).ok_or(Refusal::Type)?, range),
        Kind::Integer => within(integer(value).ok_or(Refusal::Type)? as f64, range),
        Kind::Vocabulary => ok(vocabulary.contains(&value)),
        Kind::VocabularyOrDecimal => ok(vocabulary.contains(&value) || decimal(value).is_some()),
        Kind::Timespan => ok(timespan12(value).is_some()),
        Kind::ClockTime => ok(clock12(value)),
        Kind::Duration => ok(duration(value).is_some()),
        Kind::Timestamp => ok(timestamp(value)),
        Kind::NavRequest => ok(nav_request(value, vocabulary)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        for good in ["0", "100", "-1", "0.5", "-0.25", ".5", "85.333"] {
            assert!(decimal(good).is_some(), "{good}");
        }
        for bad in ["", "-", "1.", "1e3", "+1", "abc", "1,5", " 1", "NaN", "."] {
            assert!(decimal(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn timespans_12() {
        assert_eq!(timespan12("00:00:00"), Some(0.0));
        assert_eq!(timespan12("0001:02:03.5"), Some(3723.5));
        assert_eq!(timespan12("12:00:00.25"), Some(43200.25));
        for bad in [
            "1:00:00",
            "00:60:00",
            "00:00:60",
            "00:00:00.123",
            "00:00",
            "PT1S",
            "00000:00:00",
        ] {
            assert_eq!(timespan12(bad), None, "{bad}");
        }
        assert!(clock12("23:59:59.99"));
        assert!(!clock12("24:00:00"));
    }

    #[test]
    fn durations_2004() {
        assert_eq!(duration("PT0S"), Some(0.0));
        assert_eq!(duration("PT1H2M3.5S"), Some(3723.5));
        assert_eq!(duration("P1DT1S"), Some(86401.0));
        assert_eq!(duration("PT90M"), Some(5400.0));
        for bad in [
            "P", "PT", "T1S", "PT1.5M", "PT1S1M", "P1H", "pt1s", "PT-1S", "PTS",
        ] {
            assert_eq!(duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn timestamps_2004() {
        for good in [
            "2026",
            "2026-12",
            "2026-12-05",
            "2026-12-05T10",
            "2026-12-05T10:30",
            "2026-12-05T10:30:15",
            "2026-12-05T10:30:15.5",
            "2026-12-05T10:30:15.25Z",
            "2026-12-05T10:30:15+01:00",
            "2026-12-05T10:30:15-05",
        ] {
            assert!(timestamp(good), "{good}");
        }
        for bad in [
            "26",
            "2026-13",
            "2026-12T10",
            "2026-12-05T25",
            "2026-12-05T10Z",
            "2026-12-05T10:30:15Z01:00",
            "2026-12-05T10:30:15Z+01:00",
            "2026-12-05 10:30",
        ] {
            assert!(!timestamp(bad), "{bad}");
        }
    }

    #[test]
    fn strings_and_words() {
        assert_eq!(
            check(Kind::Text, "abcd", &[], Some(3), None),
            Err(Refusal::Range)
        );
        assert_eq!(
            check(Kind::LocalizedText, "{lang=fr}abc", &[], Some(3), None),
            Ok(())
        );
        assert_eq!(
            check(Kind::LocalizedText, "{lang=fr abc", &[], Some(3), None),
            Err(Refusal::Type)
        );
        assert_eq!(
            check(Kind::Identifier, "a b", &[], Some(255), None),
            Err(Refusal::Type)
        );
        assert_eq!(
            check(Kind::Identifier, "", &[], Some(255), None),
            Err(Refusal::Type)
        );
        assert_eq!(check(Kind::Language, "fr-FR", &[], Some(250), None), Ok(()));
        assert_eq!(
            check(Kind::Language, "fr_FR", &[], Some(250), None),
            Err(Refusal::Type)
        );
        assert_eq!(
            check(Kind::Decimal, "1.5", &[], None, Some((-1.0, 1.0))),
            Err(Refusal::Range)
        );
        assert_eq!(
            check(Kind::Integer, "-2", &[], None, Some((-1.0, 1.0))),
            Err(Refusal::Range)
        );
        assert_eq!(
            check(Kind::DecimalOrBlank, "", &[], None, Some((0.0, 100.0))),
            Ok(())
        );
        assert_eq!(
            check(Kind::VocabularyOrDecimal, "0.5", &["correct"], None, None),
            Ok(())
        );
        assert_eq!(
            check(
                Kind::NavRequest,
                "{target=sco2}choice",
                &["continue"],
                None,
                None
            ),
            Ok(())
        );
        assert_eq!(
            check(Kind::NavRequest, "{target=}jump", &["continue"], None, None),
            Err(Refusal::Type)
        );
        assert_eq!(
            check(Kind::Keyword, "x", &[], None, None),
            Err(Refusal::Type)
        );
    }
}
