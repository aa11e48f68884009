//! Pure rules of the sign-in sheets: the half-days of a session, when each is signed, what a
//! present trainee is credited, and who may close the sheet.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use serde::Serialize;

use crate::base::format;

pub const OPEN: &str = "open";
pub const CLOSED: &str = "closed";

/// Entry statuses.
pub const PENDING: &str = "pending";
pub const PRESENT: &str = "present";
pub const ABSENT: &str = "absent";
pub const EXCUSED: &str = "absent_excuse";

/// How long before a half-day starts its trainees may sign its sheet (they arrive a little
/// early); after its end, a signature would prove nothing: only the trainer may then mark.
pub const SIGNING_MARGIN_MINUTES: i64 = 15;

/// Where a session's morning ends and its afternoon begins.
pub fn midday() -> NaiveTime {
    NaiveTime::from_hms_opt(13, 0, 0).unwrap_or(NaiveTime::MIN)
}

/// A session longer than this is more than one half-day...
pub const HALF_DAY_MAX_MINUTES: i64 = 4 * 60;
/// ...when it also has at least this much on each side of midday.
pub const MIN_PART_MINUTES: i64 = 60;

/// One half-day of a session, signed on its own (columns "Matin" / "Après-midi").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct HalfDay {
    /// 0 for the first (or only) half-day, 1 for the afternoon of a longer session.
    pub index: usize,
    pub starts_at: NaiveTime,
    pub ends_at: NaiveTime,
    pub label: &'static str,
}

/// The half-days of a session: one, or a morning and an afternoon split at midday when the
/// session runs more than 4 h with at least an hour on each side (08:00–18:00, not 09:00–13:30).
pub fn half_days(starts_at: NaiveTime, ends_at: NaiveTime) -> Vec<HalfDay> {
    let noon = midday();
    let long = (ends_at - starts_at).num_minutes() > HALF_DAY_MAX_MINUTES;
    let both_sides = (noon - starts_at).num_minutes() >= MIN_PART_MINUTES
        && (ends_at - noon).num_minutes() >= MIN_PART_MINUTES;
    if long && both_sides {
        vec![
            HalfDay {
                index: 0,
                starts_at,
                ends_at: noon,
                label: "matin",
            },
            HalfDay {
                index: 1,
                starts_at: noon,
                ends_at,
                label: "après-midi",
            },
        ]
    } else {
        vec![HalfDay {
            index: 0,
            starts_at,
            ends_at,
            label: "séance",
        }]
    }
}

/// When a trainee may sign a half-day, in Paris time: from a little before it starts to its end.
pub fn signing_window(day: NaiveDate, h: &HalfDay) -> (NaiveDateTime, NaiveDateTime) {
    let margin = Duration::minutes(SIGNING_MARGIN_MINUTES);
    (day.and_time(h.starts_at) - margin, day.and_time(h.ends_at))
}

/// Which half-day a signature at `now` (Paris time) is for, given those already signed: the
/// first open window not yet signed (windows overlap by the margin at midday), or the first
/// open one when all are signed (signing twice keeps the first signature). If none is open,
/// what to tell.
pub fn half_to_sign(
    now: NaiveDateTime,
    day: NaiveDate,
    halves: &[HalfDay],
    signed: &[bool],
) -> Result<usize, String> {
    let open: Vec<usize> = halves
        .iter()
        .filter(|h| {
            let (from, to) = signing_window(day, h);
            (from..=to).contains(&now)
        })
        .map(|h| h.index)
        .collect();
    if let Some(i) = open
        .iter()
        .find(|i| !signed.get(**i).copied().unwrap_or(false))
    {
        return Ok(*i);
    }
    if let Some(i) = open.first() {
        return Ok(*i);
    }
    let windows: Vec<String> = halves
        .iter()
        .map(|h| {
            let (from, to) = signing_window(day, h);
            let part = if halves.len() > 1 {
                format!(" ({})", h.label)
            } else {
                String::new()
            };
            format!(
                "de {} à {}{part}",
                format::time(from.time()),
                format::time(to.time())
            )
        })
        .collect();
    let when = format!("le {} {}", format::date(day), windows.join(" puis "));
    let first = halves
        .first()
        .map(|h| signing_window(day, h).0)
        .unwrap_or(now);
    Err(if now < first {
        format!("Cette feuille se signe pendant la séance, {when} : revenez à ce moment-là.")
    } else {
        format!(
            "Cette feuille ne se signe plus : elle se signait {when}. Seul le formateur peut encore y noter votre présence."
        )
    })
}

/// When a sheet left open closes by itself: `delay_hours` after its session ends (Paris time).
pub fn self_closing_time(day: NaiveDate, ends_at: NaiveTime, delay_hours: i64) -> NaiveDateTime {
    day.and_time(ends_at) + Duration::hours(delay_hours)
}

/// Minutes of a span a present trainee is credited, after a late arrival or an early
/// departure.
pub fn minutes_present(
    start: NaiveTime,
    end: NaiveTime,
    arrived: Option<NaiveTime>,
    left: Option<NaiveTime>,
) -> i64 {
    let from = arrived.map_or(start, |a| a.max(start));
    let to = left.map_or(end, |l| l.min(end));
    (to - from).num_minutes().max(0)
}

/// Minutes credited for a session: each half-day's own time, where the trainee was present
/// that half-day (`present[i]`), less a late arrival or an early departure.
pub fn credited_minutes(
    halves: &[HalfDay],
    present: &[bool],
    arrived: Option<NaiveTime>,
    left: Option<NaiveTime>,
) -> i64 {
    halves
        .iter()
        .filter(|h| present.get(h.index).copied().unwrap_or(false))
        .map(|h| minutes_present(h.starts_at, h.ends_at, arrived, left))
        .sum()
}

/// In which capacity a sheet is closed and signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClosedAs {
    /// The trainer designated for the session.
    Trainer,
    /// No trainer designated: a named member of the organism's staff.
    Staff,
}

impl ClosedAs {
    pub fn as_str(self) -> &'static str {
        match self {
            ClosedAs::Trainer => "formateur",
            ClosedAs::Staff => "equipe",
        }
    }
}

/// Who may close a session's sheet: its designated trainer only; if none is designated, any
/// member of the staff (who is named as such). `None` when another person tries.
pub fn closer(designated: Option<i64>, actor: i64) -> Option<ClosedAs> {
    match designated {
        Some(t) if t == actor => Some(ClosedAs::Trainer),
        Some(_) => None,
        None => Some(ClosedAs::Staff),
    }
}

pub fn status_label(status: &str) -> &'static str {
    match status {
        PRESENT => "présent",
        ABSENT => "absent (non excusé)",
        EXCUSED => "absent (excusé)",
        _ => "non signé",
    }
}

/// A trainee's record on closed sheets, as the employer doctor sees it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Attendance {
    pub present: i64,
    /// Present, but arrived late or left early.
    pub partial: i64,
    pub excused: i64,
    pub unexcused: i64,
}

/// Tallies half-days of closed sheets: (status, arrived late or left early).
pub fn tally<'a>(entries: impl IntoIterator<Item = (&'a str, bool)>) -> Attendance {
    let mut a = Attendance::default();
    for (status, partial) in entries {
        match status {
            PRESENT => {
                a.present += 1;
                a.partial += i64::from(partial);
            }
            EXCUSED => a.excused += 1,
            ABSENT => a.unexcused += 1,
            _ => {}
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    #[test]
    fn a_session_longer_than_a_half_day_has_a_morning_and_an_afternoon() {
        let day_long = half_days(t(8, 0), t(18, 0));
        assert_eq!(day_long.len(), 2);
        assert_eq!(
            (day_long[0].starts_at, day_long[0].ends_at),
            (t(8, 0), t(13, 0))
        );
        assert_eq!(
            (day_long[1].starts_at, day_long[1].ends_at),
            (t(13, 0), t(18, 0))
        );
        // Just inside: 4 h 01 with an hour on each side of 13 h.
        assert_eq!(half_days(t(10, 0), t(14, 1)).len(), 2);
        assert_eq!(half_days(t(9, 0), t(14, 0)).len(), 2);
        // Just outside: 4 h exactly, or less than an hour after 13 h.
        assert_eq!(half_days(t(10, 0), t(14, 0)).len(), 1);
        assert_eq!(half_days(t(8, 0), t(13, 59)).len(), 1);
        assert_eq!(half_days(t(12, 1), t(18, 0)).len(), 1);
        assert_eq!(half_days(t(12, 0), t(18, 0)).len(), 2);
        assert_eq!(half_days(t(9, 0), t(12, 30)).len(), 1);
        assert_eq!(half_days(t(14, 0), t(17, 30)).len(), 1);
    }

    #[test]
    fn a_sheet_is_signed_from_15_minutes_before_its_start_to_its_end() {
        let d = day();
        let one = half_days(t(9, 0), t(12, 30));
        assert_eq!(half_to_sign(d.and_time(t(8, 45)), d, &one, &[false]), Ok(0));
        assert_eq!(
            half_to_sign(d.and_time(t(12, 30)), d, &one, &[false]),
            Ok(0)
        );
        let early = half_to_sign(d.and_time(t(8, 44)), d, &one, &[false]).unwrap_err();
        assert!(
            early.contains("le 23/11/2026 de 8 h 45 à 12 h 30"),
            "{early}"
        );
        assert!(early.contains("revenez"), "{early}");
        let late = half_to_sign(d.and_time(t(12, 31)), d, &one, &[false]).unwrap_err();
        assert!(late.contains("ne se signe plus"), "{late}");
        let weeks_later = (d + Duration::days(20)).and_time(t(10, 0));
        assert!(half_to_sign(weeks_later, d, &one, &[false]).is_err());
        let day_before = (d - Duration::days(1)).and_time(t(10, 0));
        assert!(half_to_sign(day_before, d, &one, &[false]).is_err());
        assert_eq!(
            self_closing_time(d, t(12, 30), 24),
            NaiveDate::from_ymd_opt(2026, 11, 24)
                .unwrap()
                .and_time(t(12, 30))
        );
    }

    #[test]
    fn each_half_day_of_a_long_session_is_signed_in_its_own_window() {
        let d = day();
        let two = half_days(t(8, 0), t(18, 0));
        let at = |h, m| d.and_time(t(h, m));
        assert_eq!(half_to_sign(at(7, 45), d, &two, &[false, false]), Ok(0));
        assert_eq!(half_to_sign(at(12, 44), d, &two, &[true, false]), Ok(0));
        // At 12 h 45 the afternoon opens: a trainee who signed the morning signs it.
        assert_eq!(half_to_sign(at(12, 45), d, &two, &[true, false]), Ok(1));
        assert_eq!(half_to_sign(at(12, 50), d, &two, &[false, false]), Ok(0));
        assert_eq!(half_to_sign(at(13, 1), d, &two, &[false, false]), Ok(1));
        assert_eq!(half_to_sign(at(18, 0), d, &two, &[true, true]), Ok(1));
        let early = half_to_sign(at(7, 44), d, &two, &[false, false]).unwrap_err();
        assert!(
            early.contains("de 7 h 45 à 13 h 00 (matin) puis de 12 h 45 à 18 h 00 (après-midi)"),
            "{early}"
        );
        assert!(half_to_sign(at(18, 1), d, &two, &[true, false]).is_err());
    }

    #[test]
    fn each_half_day_counts_its_own_hours() {
        let two = half_days(t(8, 0), t(18, 0));
        assert_eq!(credited_minutes(&two, &[true, true], None, None), 600);
        assert_eq!(credited_minutes(&two, &[true, false], None, None), 300);
        assert_eq!(credited_minutes(&two, &[false, true], None, None), 300);
        assert_eq!(
            credited_minutes(&two, &[true, true], Some(t(8, 20)), Some(t(17, 0))),
            520
        );
        assert_eq!(credited_minutes(&two, &[false, false], None, None), 0);
        let one = half_days(t(9, 0), t(12, 30));
        assert_eq!(credited_minutes(&one, &[true], None, None), 210);
    }

    #[test]
    fn only_the_designated_trainer_closes_or_any_staff_when_none_is() {
        assert_eq!(closer(Some(7), 7), Some(ClosedAs::Trainer));
        assert_eq!(closer(Some(7), 8), None);
        assert_eq!(closer(None, 8), Some(ClosedAs::Staff));
        assert_eq!(ClosedAs::Staff.as_str(), "equipe");
    }

    #[test]
    fn late_arrivals_and_early_departures_reduce_the_credit() {
        assert_eq!(minutes_present(t(9, 0), t(12, 30), None, None), 210);
        assert_eq!(
            minutes_present(t(9, 0), t(12, 30), Some(t(9, 20)), None),
            190
        );
        assert_eq!(
            minutes_present(t(9, 0), t(12, 30), Some(t(8, 45)), Some(t(12, 0))),
            180
        );
        assert_eq!(minutes_present(t(9, 0), t(12, 30), Some(t(13, 0)), None), 0);
    }

    #[test]
    fn attendance_counts_each_kind_of_entry() {
        let a = tally([
            (PRESENT, false),
            (PRESENT, true),
            (EXCUSED, false),
            (ABSENT, false),
            (ABSENT, false),
            (PENDING, false),
        ]);
        assert_eq!(
            a,
            Attendance {
                present: 2,
                partial: 1,
                excused: 1,
                unexcused: 2
            }
        );
    }
}
