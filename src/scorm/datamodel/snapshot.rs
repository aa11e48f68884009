//! What a commit hands to the server, how the server re-checks it (the browser is not
//! trusted), and what it means: completion, success, score and the package's own time.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::runtime::{Launch, Runtime};
use super::types::{decimal, duration, timespan12};
use super::{Version, error_string};
use crate::scorm::manifest::Mastery;

/// Far more than a SCO writes (250 interactions of a dozen fields); past it we refuse.
pub const MAX_VALUES: usize = 5_000;
pub const MAX_BYTES: usize = 512 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub version: Version,
    /// Element name → value, as the SCO set them.
    pub values: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Completion {
    Unknown,
    NotAttempted,
    Incomplete,
    Completed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Success {
    Unknown,
    Passed,
    Failed,
}

/// What the last commit says about the attempt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub completion: Completion,
    pub success: Success,
    /// −1..1 (2004 `score.scaled`, or a 1.2 raw score over its range).
    pub scaled: Option<f64>,
    pub raw: Option<f64>,
    /// The package's own `session_time`, in seconds: shown, never credited.
    pub session_seconds: Option<f64>,
    pub suspended: bool,
}

/// The package's `session_time` in seconds. For display next to our own clock only: hours are
/// credited by our heartbeat, never from what a package says.
pub fn session_seconds(version: Version, value: &str) -> Option<f64> {
    match version {
        Version::Scorm12 => timespan12(value),
        Version::Scorm2004 => duration(value),
    }
}

/// `total_time` as each version writes it.
pub(super) fn format_total(version: Version, seconds: f64) -> String {
    let seconds = if seconds.is_finite() {
        seconds.max(0.0)
    } else {
        0.0
    };
    let whole = seconds.floor() as u64;
    let hundredths = ((seconds - seconds.floor()) * 100.0).round().min(99.0) as u64;
    match version {
        Version::Scorm12 => format!(
            "{:04}:{:02}:{:02}.{:02}",
            (whole / 3600).min(9999),
            whole / 60 % 60,
            whole % 60,
            hundredths
        ),
        Version::Scorm2004 => format!(
            "PT{}H{}M{}.{:02}S",
            whole / 3600,
            whole / 60 % 60,
            whole % 60,
            hundredths
        ),
    }
}

fn number(values: &BTreeMap<String, String>, name: &str) -> Option<f64> {
    values.get(name).and_then(|v| decimal(v))
}

/// 2004: with a completion threshold and a progress measure, the status follows the measure.
pub(super) fn evaluated_completion(values: &BTreeMap<String, String>) -> Option<String> {
    if let (Some(threshold), Some(progress)) = (
        number(values, "cmi.completion_threshold"),
        number(values, "cmi.progress_measure"),
    ) {
        let status = if progress >= threshold {
            "completed"
        } else {
            "incomplete"
        };
        return Some(status.to_string());
    }
    values.get("cmi.completion_status").cloned()
}

/// 2004: with a passing score and a scaled score, the status follows the score.
pub(super) fn evaluated_success(values: &BTreeMap<String, String>) -> Option<String> {
    if let (Some(passing), Some(scaled)) = (
        number(values, "cmi.scaled_passing_score"),
        number(values, "cmi.score.scaled"),
    ) {
        let status = if scaled >= passing {
            "passed"
        } else {
            "failed"
        };
        return Some(status.to_string());
    }
    values.get("cmi.success_status").cloned()
}

/// Names in replay order: indices as numbers, and in a record `id` then `type` first, so
/// that the 2004 dependencies hold.
fn replay_key(name: &str) -> Vec<(u8, u64, &str)> {
    name.split('.')
        .map(|s| match s.parse::<u64>() {
            Ok(n) => (0, n, ""),
            Err(_) if s == "id" => (1, 0, ""),
            Err(_) if s == "type" => (2, 0, ""),
            Err(_) => (3, 0, s),
        })
        .collect()
}

impl Snapshot {
    pub fn exit(&self) -> Option<&str> {
        let name = match self.version {
            Version::Scorm12 => "cmi.core.exit",
            Version::Scorm2004 => "cmi.exit",
        };
        self.values.get(name).map(String::as_str)
    }

    /// A snapshot received from the browser, checked by replaying it through a `Runtime`: every
    /// name writable, every value of its type, indices in order. The message is in French.
    pub fn validate(version: Version, received: &Snapshot) -> Result<Snapshot, String> {
        if received.version != version {
            return Err("Les données ne sont pas de la version SCORM de ce paquet.".to_string());
        }
        let bytes: usize = received.values.iter().map(|(k, v)| k.len() + v.len()).sum();
        if received.values.len() > MAX_VALUES || bytes > MAX_BYTES {
            return Err("Les données envoyées par le paquet sont trop volumineuses.".to_string());
        }
        let mut runtime = Runtime::new(version, &Launch::default(), None);
        runtime.initialize("");
        let mut names: Vec<&String> = received.values.keys().collect();
        names.sort_by_key(|n| replay_key(n));
        for name in names {
            let value = &received.values[name];
            if !runtime.set_value(name, value) {
                let code = runtime.last_error();
                return Err(format!(
                    "Valeur refusée pour {name} : erreur {code} ({}).",
                    error_string(version, code)
                ));
            }
        }
        Ok(runtime.snapshot())
    }

    /// The attempt's result, with the manifest's thresholds (the LMS's part of the rules).
    pub fn outcome(&self, mastery: Option<Mastery>) -> Outcome {
        let v = &self.values;
        match self.version {
            Version::Scorm12 => {
                let raw = number(v, "cmi.core.score.raw");
                let (min, max) = (
                    number(v, "cmi.core.score.min").unwrap_or(0.0),
                    number(v, "cmi.core.score.max").unwrap_or(100.0),
                );
                let scaled = raw
                    .filter(|_| max > min)
                    .map(|r| ((r - min) / (max - min)).clamp(-1.0, 1.0));
                let status = v
                    .get("cmi.core.lesson_status")
                    .map(String::as_str)
                    .unwrap_or("");
                let (completion, mut success) = match status {
                    "passed" => (Completion::Completed, Success::Passed),
                    "failed" => (Completion::Completed, Success::Failed),
                    "completed" => (Completion::Completed, Success::Unknown),
                    "incomplete" | "browsed" => (Completion::Incomplete, Success::Unknown),
                    _ => (Completion::NotAttempted, Success::Unknown),
                };
                // 1.2: with a mastery score, the LMS judges a completed SCO's raw score.
                if let (Some(Mastery::Score { mastery_score }), Some(r), Completion::Completed) =
                    (mastery, raw, completion)
                {
                    success = if r >= mastery_score {
                        Success::Passed
                    } else {
                        Success::Failed
                    };
                }
                Outcome {
                    completion,
                    success,
                    scaled,
                    raw,
                    session_seconds: v.get("cmi.core.session_time").and_then(|t| timespan12(t)),
                    suspended: self.exit() == Some("suspend"),
                }
            }
            Version::Scorm2004 => {
                let mut values = v.clone();
                if let Some(Mastery::Thresholds {
                    scaled_passing_score,
                    completion_threshold,
                }) = mastery
                {
                    for (name, given) in [
                        ("cmi.scaled_passing_score", scaled_passing_score),
                        ("cmi.completion_threshold", completion_threshold),
                    ] {
                        if let Some(g) = given {
                            values.insert(name.to_string(), g.to_string());
                        }
                    }
                }
                let completion = match evaluated_completion(&values).as_deref() {
                    Some("completed") => Completion::Completed,
                    Some("incomplete") => Completion::Incomplete,
                    Some("not attempted") => Completion::NotAttempted,
                    _ => Completion::Unknown,
                };
                let success = match evaluated_success(&values).as_deref() {
                    Some("passed") => Success::Passed,
                    Some("failed") => Success::Failed,
                    _ => Success::Unknown,
                };
                Outcome {
                    completion,
                    success,
                    scaled: number(v, "cmi.score.scaled"),
                    raw: number(v, "cmi.score.raw"),
                    session_seconds: v.get("cmi.session_time").and_then(|t| duration(t)),
                    suspended: self.exit() == Some("suspend"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_in_each_format() {
        assert_eq!(format_total(Version::Scorm12, 3723.5), "0001:02:03.50");
        assert_eq!(format_total(Version::Scorm2004, 3723.5), "PT1H2M3.50S");
        assert_eq!(format_total(Version::Scorm2004, f64::NAN), "PT0H0M0.00S");
        assert!(timespan12(&format_total(Version::Scorm12, 99.99)).is_some());
        assert!(duration(&format_total(Version::Scorm2004, 0.0)).is_some());
    }

    #[test]
    fn session_time_is_read_for_display() {
        assert_eq!(
            session_seconds(Version::Scorm12, "0000:10:00.00"),
            Some(600.0)
        );
        assert_eq!(session_seconds(Version::Scorm2004, "PT10M"), Some(600.0));
        assert_eq!(session_seconds(Version::Scorm2004, "10:00"), None);
    }

    #[test]
    fn replay_order_puts_ids_first() {
        let mut names = vec![
            "cmi.interactions.10.result",
            "cmi.interactions.2.learner_response",
            "cmi.interactions.2.type",
            "cmi.interactions.2.id",
            "cmi.interactions.10.id",
        ];
        names.sort_by_key(|n| replay_key(n));
        assert_eq!(
            names,
            vec![
                "cmi.interactions.2.id",
                "cmi.interactions.2.type",
                "cmi.interactions.2.learner_response",
                "cmi.interactions.10.id",
                "cmi.interactions.10.result",
            ]
        );
    }
}
