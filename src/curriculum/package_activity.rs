//! A package activity as loaded: its ZIP and what its manifest says, with the few questions
//! pages ask of it (its parts, their `moveOn`, its standard, the sites of its foreign AUs).

use crate::scorm::cmi5::{AuUrl, MoveOn};
use crate::scorm::manifest::{Edition, Standard};
use crate::scorm::package::{Found, Opened};

/// An e-learning package (SCORM 1.2, SCORM 2004 or cmi5): its ZIP in `files/`, and what its
/// manifest says, read when the programme was loaded.
#[derive(Clone, Debug)]
pub struct PackageActivity {
    /// Path inside the module folder (`files/….zip`).
    pub file: String,
    pub summary: String,
    pub opened: Opened,
}

impl PackageActivity {
    /// The SCOs or AUs the trainee follows, in manifest order: (identifier, title).
    pub fn items(&self) -> Vec<(&str, &str)> {
        match &self.opened.found {
            Found::Scorm(p) => p
                .scos
                .iter()
                .map(|s| (s.identifier.as_str(), s.title.as_str()))
                .collect(),
            Found::Cmi5(c) => c
                .aus
                .iter()
                .map(|a| (a.id.as_str(), a.title.as_str()))
                .collect(),
        }
    }

    /// How `package_attempts.standard` names it: `scorm12`, `scorm2004` or `cmi5`.
    pub fn standard_key(&self) -> &'static str {
        match &self.opened.found {
            Found::Scorm(p) => match p.standard {
                Standard::Scorm12 => "scorm12",
                Standard::Scorm2004 { .. } => "scorm2004",
            },
            Found::Cmi5(_) => "cmi5",
        }
    }

    /// An AU's `moveOn` (`None` for a SCO).
    pub fn move_on(&self, item: &str) -> Option<MoveOn> {
        match &self.opened.found {
            Found::Cmi5(c) => c.aus.iter().find(|a| a.id == item).map(|a| a.move_on),
            Found::Scorm(_) => None,
        }
    }

    /// The origins of the package's AUs hosted on other sites, each after a space, for the
    /// activity page's `frame-src`.
    pub fn foreign_origins(&self) -> String {
        let Found::Cmi5(course) = &self.opened.found else {
            return String::new();
        };
        let mut origins: Vec<String> = vec![];
        for au in &course.aus {
            if let AuUrl::Absolute(u) = &au.url {
                let origin = url::Url::parse(u)
                    .ok()
                    .map(|u| u.origin().ascii_serialization());
                if let Some(o) = origin.filter(|o| o != "null" && !origins.contains(o)) {
                    origins.push(o);
                }
            }
        }
        origins.iter().map(|o| format!(" {o}")).collect()
    }

    /// "SCORM 1.2", "SCORM 2004 (4e édition)", "cmi5".
    pub fn standard_label(&self) -> String {
        match &self.opened.found {
            Found::Scorm(p) => match p.standard {
                Standard::Scorm12 => "SCORM 1.2".to_string(),
                Standard::Scorm2004 { edition } => match edition {
                    Edition::Second => "SCORM 2004 (2e édition)".to_string(),
                    Edition::Third => "SCORM 2004 (3e édition)".to_string(),
                    Edition::Fourth => "SCORM 2004 (4e édition)".to_string(),
                    Edition::Unspecified => "SCORM 2004".to_string(),
                },
            },
            Found::Cmi5(_) => "cmi5".to_string(),
        }
    }
}
