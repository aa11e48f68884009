//! A CQP module is a bloc of the certification: the trainee's path shows, on each module,
//! whether its bloc is acquired (kept for good) or to pass again after a result that was not an
//! acquisition. Pure: the results are read by `store::bloc_results`.

use chrono::NaiveDate;
use serde::Serialize;

/// One result of the trainee's certification record, as the path needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlocResult {
    /// The bloc: the CQP module's code.
    pub bloc: String,
    /// `acquired`, `not_acquired` or `absent`.
    pub result: String,
    /// The day of the session it came from; `None` for a VAE decision.
    pub session_on: Option<NaiveDate>,
    /// The day it was decided on (a VAE decision's day).
    pub decided_on: NaiveDate,
    /// Whether a VAE decision granted it.
    pub by_vae: bool,
}

/// What the path shows of a module's bloc.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum BlocState {
    /// Acquired at a session (`how`: "session"), by a VAE decision ("vae") or otherwise
    /// recorded ("record"), on that day.
    Acquired { how: &'static str, on: NaiveDate },
    /// To pass again: her last result ("non acquis", "absence") and its session's day.
    Retake { result: &'static str, on: NaiveDate },
}

/// The state of bloc `code` among `results` (oldest first): acquired once is acquired for
/// good; otherwise her last result, when it is one; `None` when she has none.
pub fn state_of(code: &str, results: &[BlocResult]) -> Option<BlocState> {
    let mine = || results.iter().filter(|r| r.bloc == code);
    if let Some(r) = mine().find(|r| r.result == "acquired") {
        let how = match (r.session_on, r.by_vae) {
            (Some(_), _) => "session",
            (None, true) => "vae",
            (None, false) => "record",
        };
        return Some(BlocState::Acquired {
            how,
            on: r.session_on.unwrap_or(r.decided_on),
        });
    }
    let last = mine().next_back()?;
    let result = match last.result.as_str() {
        "not_acquired" => "non acquis",
        "absent" => "absence",
        _ => return None,
    };
    Some(BlocState::Retake {
        result,
        on: last.session_on.unwrap_or(last.decided_on),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap_or_default()
    }

    fn result(bloc: &str, result: &str, session: Option<u32>, decided: u32) -> BlocResult {
        BlocResult {
            bloc: bloc.into(),
            result: result.into(),
            session_on: session.map(day),
            decided_on: day(decided),
            by_vae: session.is_none(),
        }
    }

    #[test]
    fn a_bloc_acquired_stays_acquired_whatever_came_after() {
        let results = [
            result("M4", "not_acquired", Some(2), 2),
            result("M4", "acquired", Some(9), 9),
            result("M4", "absent", Some(20), 20),
        ];
        assert_eq!(
            state_of("M4", &results),
            Some(BlocState::Acquired {
                how: "session",
                on: day(9)
            })
        );
    }

    #[test]
    fn a_failed_bloc_is_to_pass_again_with_its_last_result() {
        let results = [
            result("M1", "acquired", None, 1),
            result("M4", "not_acquired", Some(2), 2),
            result("M4", "absent", Some(9), 9),
        ];
        assert_eq!(
            state_of("M4", &results),
            Some(BlocState::Retake {
                result: "absence",
                on: day(9)
            })
        );
        assert_eq!(
            state_of("M1", &results),
            Some(BlocState::Acquired {
                how: "vae",
                on: day(1)
            })
        );
        assert_eq!(state_of("M2", &results), None);
    }

    #[test]
    fn an_unknown_result_says_nothing() {
        assert_eq!(state_of("M1", &[result("M1", "?", Some(2), 2)]), None);
    }
}
