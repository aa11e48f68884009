//! Pure rules of hours: what a heartbeat credits, and where a trainee stands against plan.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde::Serialize;

/// How distance time is credited (configuration, not constants: funders' rules vary).
#[derive(Clone, Copy, Debug)]
pub struct CreditSettings {
    /// Most a single beat can credit (beats come every 30 s).
    pub beat_cap_secs: i64,
    /// A longer silence ends the study session: the gap is not credited.
    pub idle_limit_secs: i64,
    /// Most distance time credited in one (Paris) day.
    pub daily_max_secs: i64,
}

impl Default for CreditSettings {
    fn default() -> Self {
        CreditSettings {
            beat_cap_secs: 45,
            idle_limit_secs: 90,
            daily_max_secs: 8 * 3600,
        }
    }
}

/// The trainee's single study clock: every tab and device shares it, so time never counts
/// twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    pub last_credit_at: NaiveDateTime,
    pub day: NaiveDate,
    pub day_seconds: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Seconds credited to the module of the page.
    Credited(i64),
    /// First beat, or first after a silence: the clock starts, nothing credited.
    Started,
    /// A sequence number already seen for this page view: nothing changes.
    Replay,
    /// The day's maximum is reached.
    DailyMax,
}

impl Outcome {
    /// Its name as in the API's answers and the metrics' labels.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Credited(_) => "credited",
            Outcome::Started => "started",
            Outcome::Replay => "replay",
            Outcome::DailyMax => "daily_max",
        }
    }
}

/// Decides one beat. `last_seq` is the last sequence number seen for this page view.
/// The server's own clock is the only time used: a client cannot claim time.
pub fn credit(
    now: NaiveDateTime,
    today: NaiveDate,
    clock: Option<Clock>,
    last_seq: Option<i64>,
    seq: i64,
    s: &CreditSettings,
) -> (Outcome, Option<Clock>) {
    if last_seq.is_some_and(|last| seq <= last) {
        return (Outcome::Replay, clock);
    }
    let day_seconds = |c: &Clock| if c.day == today { c.day_seconds } else { 0 };
    let fresh = |day_secs| Clock {
        last_credit_at: now,
        day: today,
        day_seconds: day_secs,
    };
    let Some(c) = clock else {
        return (Outcome::Started, Some(fresh(0)));
    };
    let elapsed = (now - c.last_credit_at).num_seconds();
    if elapsed < 0 {
        // Clocks of several servers may differ slightly: never credit, never go back.
        return (Outcome::Credited(0), Some(c));
    }
    if elapsed > s.idle_limit_secs {
        return (Outcome::Started, Some(fresh(day_seconds(&c))));
    }
    let already = day_seconds(&c);
    let room = (s.daily_max_secs - already).max(0);
    let credited = elapsed.min(s.beat_cap_secs).min(room);
    let outcome = if room == 0 {
        Outcome::DailyMax
    } else {
        Outcome::Credited(credited)
    };
    // Within the cap the clock moves by whole credited seconds, so fractions carry over to
    // the next beat instead of being lost; past it (or at the day's end) it jumps to now.
    let next = if credited == elapsed && c.day == today {
        Clock {
            last_credit_at: c.last_credit_at + Duration::seconds(credited),
            day: today,
            day_seconds: already + credited,
        }
    } else {
        fresh(already + credited)
    };
    (outcome, Some(next))
}

/// Is a module open for study today: the cohort runs, and when distance periods are planned
/// for the module, today falls in one of them.
pub fn module_open(
    (start, end): (NaiveDate, NaiveDate),
    periods: &[(NaiveDate, NaiveDate)],
    today: NaiveDate,
) -> bool {
    today >= start
        && today <= end
        && (periods.is_empty() || periods.iter().any(|p| p.0 <= today && today <= p.1))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    AJour,
    EnRetard,
    ARisque,
    Inactif,
}

impl Status {
    /// As in the API and in the follow-up's filter (`?statut=a_risque`).
    pub fn code(self) -> &'static str {
        match self {
            Status::AJour => "a_jour",
            Status::EnRetard => "en_retard",
            Status::ARisque => "a_risque",
            Status::Inactif => "inactif",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::AJour => "à jour",
            Status::EnRetard => "en retard",
            Status::ARisque => "à risque",
            Status::Inactif => "inactif",
        }
    }

    /// Alerts first when sorting a cohort.
    pub fn rank(self) -> u8 {
        match self {
            Status::ARisque => 0,
            Status::Inactif => 1,
            Status::EnRetard => 2,
            Status::AJour => 3,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Pace {
    pub expected_secs: i64,
    pub done_secs: i64,
    pub planned_secs: i64,
    /// Projected completion at the recent pace; `None` when there is no recent activity.
    pub projected_end: Option<NaiveDate>,
    pub status: Status,
}

/// Hours expected by `today` if the plan is spread evenly over the cohort's dates.
pub fn expected_by(start: NaiveDate, end: NaiveDate, today: NaiveDate, planned_secs: i64) -> i64 {
    if today <= start {
        return 0;
    }
    if today >= end {
        return planned_secs;
    }
    let total = (end - start).num_days().max(1);
    let gone = (today - start).num_days();
    planned_secs * gone / total
}

/// Where a trainee stands: behind plan, at risk (projected past the cohort end or the
/// certification deadline), or inactive (nothing for 14 days).
#[allow(clippy::too_many_arguments)]
pub fn pace(
    start: NaiveDate,
    end: NaiveDate,
    deadline: NaiveDate,
    today: NaiveDate,
    planned_secs: i64,
    done_secs: i64,
    recent_secs_28d: i64,
    last_activity: Option<NaiveDate>,
) -> Pace {
    let expected = expected_by(start, end, today, planned_secs);
    let remaining = (planned_secs - done_secs).max(0);
    let per_day = recent_secs_28d as f64 / 28.0;
    let projected_end = if remaining == 0 {
        Some(today)
    } else if per_day > 0.0 {
        Some(today + Duration::days((remaining as f64 / per_day).ceil() as i64))
    } else {
        None
    };
    let started = today > start;
    let inactive = started
        && remaining > 0
        && last_activity.is_none_or(|d| (today - d).num_days() >= 14)
        && (today - start).num_days() >= 14;
    let at_risk = remaining > 0 && started && projected_end.is_none_or(|p| p > end.min(deadline));
    let status = if inactive {
        Status::Inactif
    } else if at_risk && done_secs < expected {
        Status::ARisque
    } else if done_secs < expected * 9 / 10 {
        Status::EnRetard
    } else {
        Status::AJour
    };
    Pace {
        expected_secs: expected,
        done_secs,
        planned_secs,
        projected_end,
        status,
    }
}

// Attendance on the sign-in sheets of in-person sessions.
mod sheet;
pub use sheet::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_are_those_of_the_api() {
        for s in [
            Status::AJour,
            Status::EnRetard,
            Status::ARisque,
            Status::Inactif,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.code());
        }
    }

    fn t(s: i64) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 24)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap()
            + Duration::seconds(s)
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    }

    fn run(beats: &[(i64, i64)], s: &CreditSettings) -> i64 {
        // (time, seq) for one page view
        let mut clock = None;
        let mut last = None;
        let mut total = 0;
        for (time, seq) in beats {
            let (o, c) = credit(t(*time), today(), clock, last, *seq, s);
            if o != Outcome::Replay {
                last = Some(*seq);
            }
            clock = c;
            if let Outcome::Credited(n) = o {
                total += n;
            }
        }
        total
    }

    #[test]
    fn a_steady_reader_is_credited_real_time() {
        let beats: Vec<_> = (0..21).map(|i| (i * 30, i)).collect(); // 10 minutes
        assert_eq!(run(&beats, &CreditSettings::default()), 600);
    }

    #[test]
    fn a_long_silence_is_not_credited_and_restarts_the_clock() {
        let s = CreditSettings::default();
        let beats = [(0, 1), (30, 2), (600, 3), (630, 4)];
        assert_eq!(run(&beats, &s), 60);
        // A gap under the idle limit but over the cap is credited up to the cap only.
        assert_eq!(run(&[(0, 1), (80, 2)], &s), 45);
    }

    #[test]
    fn replayed_or_out_of_order_beats_credit_nothing() {
        let s = CreditSettings::default();
        assert_eq!(run(&[(0, 1), (30, 2), (31, 2), (32, 1), (60, 3)], &s), 60);
    }

    #[test]
    fn two_tabs_share_one_clock() {
        let s = CreditSettings::default();
        let mut clock = None;
        let mut total = 0;
        // Tab A at 0, 30, 60…; tab B at 15, 45, 75…, for 5 minutes.
        for i in 0..20 {
            let (o, c) = credit(t(i * 15), today(), clock, None, i, &s);
            clock = c;
            if let Outcome::Credited(n) = o {
                total += n;
            }
        }
        assert_eq!(total, 285, "never more than the real time");
    }

    #[test]
    fn fractions_of_seconds_carry_over() {
        let s = CreditSettings::default();
        let mut clock = None;
        let mut total = 0;
        for i in 0..=10 {
            let now = t(0) + Duration::milliseconds(i * 300);
            let (o, c) = credit(now, today(), clock, None, i, &s);
            clock = c;
            if let Outcome::Credited(n) = o {
                total += n;
            }
        }
        assert_eq!(total, 3, "3 s over ten beats 0.3 s apart");
    }

    #[test]
    fn a_flood_of_beats_credits_at_most_real_time() {
        let s = CreditSettings::default();
        let mut clock = None;
        let mut total = 0;
        for seq in 0..10_000 {
            let (o, c) = credit(t(0), today(), clock, Some(seq - 1), seq, &s);
            clock = c;
            if let Outcome::Credited(n) = o {
                total += n;
            }
        }
        assert_eq!(total, 0);
    }

    #[test]
    fn the_daily_maximum_holds_and_resets_the_next_day() {
        let s = CreditSettings {
            daily_max_secs: 100,
            ..Default::default()
        };
        let beats: Vec<_> = (0..10).map(|i| (i * 30, i)).collect();
        assert_eq!(run(&beats, &s), 100);
        let clock = Clock {
            last_credit_at: t(0),
            day: today() - Duration::days(1),
            day_seconds: 100,
        };
        let (o, c) = credit(t(30), today(), Some(clock), None, 1, &s);
        assert_eq!(o, Outcome::Credited(30));
        assert_eq!(c.unwrap().day_seconds, 30);
    }

    #[test]
    fn pace_flags_late_risky_and_inactive_trainees() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let (start, end, deadline) = (d(1, 5), d(11, 30), d(12, 31));
        let planned = 266 * 3600;
        let today = d(6, 1);
        let expected = expected_by(start, end, today, planned);
        assert!(expected > 100 * 3600 && expected < 140 * 3600);
        // On plan, with a steady pace.
        let p = pace(
            start,
            end,
            deadline,
            today,
            planned,
            expected,
            28 * 3600,
            Some(d(5, 31)),
        );
        assert_eq!(p.status, Status::AJour);
        // Behind, but the pace would still finish in time.
        let p = pace(
            start,
            end,
            deadline,
            today,
            planned,
            expected * 8 / 10,
            40 * 3600,
            Some(d(5, 31)),
        );
        assert_eq!(p.status, Status::EnRetard);
        // Behind and too slow to finish before the end.
        let p = pace(
            start,
            end,
            deadline,
            today,
            planned,
            expected / 2,
            3600,
            Some(d(5, 31)),
        );
        assert_eq!(p.status, Status::ARisque);
        assert!(p.projected_end.unwrap() > end);
        // Nothing for 14 days.
        let p = pace(
            start,
            end,
            deadline,
            today,
            planned,
            expected,
            0,
            Some(d(5, 10)),
        );
        assert_eq!(p.status, Status::Inactif);
    }
}
