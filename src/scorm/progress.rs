//! Where a trainee is in a package, apart from I/O: when a SCO or an AU counts as done, how
//! its state is stored and said in French.

use super::cmi5::MoveOn;
use super::datamodel::{Completion, Outcome, Success};

/// What is stored of one SCO's or AU's attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemState {
    pub completion: Completion,
    pub success: Success,
}

impl ItemState {
    pub fn from_outcome(o: &Outcome) -> ItemState {
        ItemState {
            completion: o.completion,
            success: o.success,
        }
    }
}

/// A SCORM SCO is done when completed and not failed: a failed test is tried again.
pub fn scorm_done(s: &ItemState) -> bool {
    s.completion == Completion::Completed && s.success != Success::Failed
}

/// A SCO (`None`) or an AU (its `moveOn`) is done.
pub fn item_done(move_on: Option<MoveOn>, s: &ItemState) -> bool {
    match move_on {
        Some(m) => cmi5_done(m, s),
        None => scorm_done(s),
    }
}

/// A cmi5 AU is done by its `moveOn` criterion.
pub fn cmi5_done(move_on: MoveOn, s: &ItemState) -> bool {
    let completed = s.completion == Completion::Completed;
    let passed = s.success == Success::Passed;
    match move_on {
        MoveOn::Completed => completed,
        MoveOn::Passed => passed,
        MoveOn::CompletedAndPassed => completed && passed,
        MoveOn::CompletedOrPassed => completed || passed,
        MoveOn::NotApplicable => true,
    }
}

pub fn completion_str(c: Completion) -> &'static str {
    match c {
        Completion::Unknown => "unknown",
        Completion::NotAttempted => "not_attempted",
        Completion::Incomplete => "incomplete",
        Completion::Completed => "completed",
    }
}

pub fn success_str(s: Success) -> &'static str {
    match s {
        Success::Unknown => "unknown",
        Success::Passed => "passed",
        Success::Failed => "failed",
    }
}

pub fn completion_of(s: &str) -> Completion {
    match s {
        "not_attempted" => Completion::NotAttempted,
        "incomplete" => Completion::Incomplete,
        "completed" => Completion::Completed,
        _ => Completion::Unknown,
    }
}

pub fn success_of(s: &str) -> Success {
    match s {
        "passed" => Success::Passed,
        "failed" => Success::Failed,
        _ => Success::Unknown,
    }
}

/// How a page says it, in French.
pub fn label(s: &ItemState) -> &'static str {
    match (s.completion, s.success) {
        (_, Success::Passed) => "réussi",
        (_, Success::Failed) => "échoué",
        (Completion::Completed, _) => "terminé",
        (Completion::Incomplete, _) => "en cours",
        _ => "à faire",
    }
}

/// "1 h 05 min 12 s" is too precise for a page: minutes, or seconds under one.
pub fn package_time(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as i64;
    if s < 60 {
        format!("{s} s")
    } else {
        crate::base::format::minutes(s / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(c: Completion, s: Success) -> ItemState {
        ItemState {
            completion: c,
            success: s,
        }
    }

    #[test]
    fn a_failed_sco_is_not_done() {
        assert!(scorm_done(&st(Completion::Completed, Success::Unknown)));
        assert!(scorm_done(&st(Completion::Completed, Success::Passed)));
        assert!(!scorm_done(&st(Completion::Completed, Success::Failed)));
        assert!(!scorm_done(&st(Completion::Incomplete, Success::Unknown)));
    }

    #[test]
    fn cmi5_move_on() {
        let passed = st(Completion::Unknown, Success::Passed);
        let completed = st(Completion::Completed, Success::Unknown);
        assert!(cmi5_done(MoveOn::Passed, &passed));
        assert!(!cmi5_done(MoveOn::Passed, &completed));
        assert!(cmi5_done(MoveOn::CompletedOrPassed, &completed));
        assert!(!cmi5_done(MoveOn::CompletedAndPassed, &completed));
        assert!(cmi5_done(
            MoveOn::NotApplicable,
            &st(Completion::Unknown, Success::Unknown)
        ));
    }

    #[test]
    fn strings_round_trip() {
        for c in [
            Completion::Unknown,
            Completion::NotAttempted,
            Completion::Incomplete,
            Completion::Completed,
        ] {
            assert_eq!(completion_of(completion_str(c)), c);
        }
        for s in [Success::Unknown, Success::Passed, Success::Failed] {
            assert_eq!(success_of(success_str(s)), s);
        }
    }
}
