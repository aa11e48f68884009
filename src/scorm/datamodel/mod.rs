//! The run-time data models of SCORM 1.2 and SCORM 2004 as data: each element's name pattern
//! (`n` stands for an index), type, access, vocabulary and limits, and each version's error
//! codes. The same tables check a value here and, served as JSON, in the player script, and
//! `Runtime` (the state machine of the API calls) follows them.

mod runtime;
mod scorm12;
mod scorm2004;
mod snapshot;
pub mod types;

use serde::{Deserialize, Serialize};

pub use runtime::{Launch, MAX_ENTRIES, Mode, Runtime, Start};
pub use snapshot::{Completion, Outcome, Snapshot, Success, session_seconds};
pub use types::Kind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Version {
    Scorm12,
    Scorm2004,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    ReadOnly,
    WriteOnly,
    ReadWrite,
}

#[derive(Debug, Clone, Serialize)]
pub struct Element {
    /// `cmi.interactions.n.id`: `n` is an index.
    pub name: &'static str,
    #[serde(rename = "type")]
    pub kind: Kind,
    pub access: Access,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub vocabulary: &'static [&'static str],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_len: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<(f64, f64)>,
    /// The fixed value of a `_children` or `_version` keyword.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<&'static str>,
    /// 2004: what to set first in the same record (`cmi.interactions.N.` + this): 408 otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires: Option<&'static str>,
}

impl Element {
    const fn new(name: &'static str, kind: Kind, access: Access) -> Element {
        Element {
            name,
            kind,
            access,
            vocabulary: &[],
            max_len: None,
            range: None,
            value: None,
            requires: None,
        }
    }
    const fn vocab(mut self, vocabulary: &'static [&'static str]) -> Element {
        self.vocabulary = vocabulary;
        self
    }
    const fn max(mut self, max_len: usize) -> Element {
        self.max_len = Some(max_len);
        self
    }
    const fn range(mut self, low: f64, high: f64) -> Element {
        self.range = Some((low, high));
        self
    }
    const fn requires(mut self, sibling: &'static str) -> Element {
        self.requires = Some(sibling);
        self
    }
    /// A `_children` keyword, read only, with its list.
    const fn children(name: &'static str, list: &'static str) -> Element {
        let mut e = Element::new(name, Kind::Keyword, Access::ReadOnly);
        e.value = Some(list);
        e
    }
    /// A `_count` keyword: the number of entries of its array.
    const fn count(name: &'static str) -> Element {
        Element::new(name, Kind::Keyword, Access::ReadOnly)
    }

    pub fn is_keyword(&self) -> bool {
        self.kind == Kind::Keyword
    }
}

/// One error code and the standard's text for it.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ErrorText {
    pub code: u16,
    pub text: &'static str,
}

/// What the player script needs: the elements and the error texts of one version.
#[derive(Debug, Clone, Serialize)]
pub struct Definitions {
    pub version: Version,
    pub elements: &'static [Element],
    pub errors: &'static [ErrorText],
}

pub fn definitions(version: Version) -> Definitions {
    Definitions {
        version,
        elements: elements(version),
        errors: errors(version),
    }
}

pub fn elements(version: Version) -> &'static [Element] {
    match version {
        Version::Scorm12 => scorm12::ELEMENTS,
        Version::Scorm2004 => scorm2004::ELEMENTS,
    }
}

pub fn errors(version: Version) -> &'static [ErrorText] {
    match version {
        Version::Scorm12 => scorm12::ERRORS,
        Version::Scorm2004 => scorm2004::ERRORS,
    }
}

/// The standard's text for a code, "" for a code it does not define.
pub fn error_string(version: Version, code: u16) -> &'static str {
    errors(version)
        .iter()
        .find(|e| e.code == code)
        .map(|e| e.text)
        .unwrap_or("")
}

/// An index: digits, without a leading zero (`01` is not `1`).
fn index(segment: &str) -> Option<usize> {
    let canonical = segment == "0" || !segment.starts_with('0');
    (canonical
        && !segment.is_empty()
        && segment.len() <= 6
        && segment.bytes().all(|b| b.is_ascii_digit()))
    .then(|| segment.parse().ok())
    .flatten()
}

/// The element a concrete name is an instance of, with the indices it holds.
pub fn find(version: Version, name: &str) -> Option<(&'static Element, Vec<usize>)> {
    let segments: Vec<&str> = name.split('.').collect();
    elements(version).iter().find_map(|element| {
        let pattern: Vec<&str> = element.name.split('.').collect();
        if pattern.len() != segments.len() {
            return None;
        }
        let mut indices = Vec::new();
        for (p, s) in pattern.iter().zip(&segments) {
            if *p == "n" {
                indices.push(index(s)?);
            } else if p != s {
                return None;
            }
        }
        Some((element, indices))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_find_their_pattern() {
        let (e, idx) = find(Version::Scorm2004, "cmi.interactions.12.objectives.3.id").unwrap();
        assert_eq!(e.name, "cmi.interactions.n.objectives.n.id");
        assert_eq!(idx, vec![12, 3]);
        assert!(find(Version::Scorm2004, "cmi.interactions.01.id").is_none());
        assert!(find(Version::Scorm2004, "cmi.interactions.-1.id").is_none());
        assert!(find(Version::Scorm2004, "cmi.core.lesson_status").is_none());
        assert!(find(Version::Scorm12, "cmi.location").is_none());
        assert!(find(Version::Scorm12, "cmi.core.lesson_status").is_some());
    }

    #[test]
    fn tables_are_consistent() {
        for version in [Version::Scorm12, Version::Scorm2004] {
            let table = elements(version);
            for e in table {
                // Every pattern is found as itself with 0 for each index.
                let concrete = e.name.replace(".n.", ".0.").replace(".n.", ".0.");
                let (found, _) = find(version, &concrete).unwrap();
                assert_eq!(found.name, e.name, "{version:?}");
                if e.kind == Kind::Vocabulary {
                    assert!(!e.vocabulary.is_empty(), "{}", e.name);
                }
                if let Some(r) = e.requires {
                    let sibling = format!("{}.n.{r}", e.name.split_once(".n.").unwrap().0);
                    assert!(table.iter().any(|x| x.name == sibling), "{sibling}");
                }
            }
            assert_eq!(error_string(version, 0).to_lowercase(), "no error");
            let json = serde_json::to_value(definitions(version)).unwrap();
            assert!(json["elements"].as_array().unwrap().len() > 40);
        }
    }
}
