//! The state machine behind the run-time APIs (`API` for 1.2, `API_1484_11` for 2004): the
//! calls, their order, and the error codes each standard gives. The player script implements
//! the same rules from the served element table; the server replays a received snapshot
//! through this to check it (`Snapshot::validate`).

use std::collections::{BTreeMap, BTreeSet};

use super::snapshot::{Snapshot, evaluated_completion, evaluated_success, format_total};
use super::types::{self, Refusal};
use super::{Access, Element, Version, error_string, find};
use crate::scorm::manifest::Mastery;

/// More entries than any real SCO writes in one array; past it the set fails (351 / 201).
pub const MAX_ENTRIES: usize = 250;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Browse,
    Review,
}

/// What we give the SCO at launch.
#[derive(Debug, Clone)]
pub struct Launch {
    pub learner_id: String,
    pub learner_name: String,
    pub credit: bool,
    pub mode: Mode,
    pub launch_data: Option<String>,
    pub mastery: Option<Mastery>,
    /// The package's own past session times, added up: shown as `total_time` (never credited).
    pub total_seconds: f64,
}

impl Default for Launch {
    fn default() -> Launch {
        Launch {
            learner_id: "learner".to_string(),
            learner_name: String::new(),
            credit: true,
            mode: Mode::Normal,
            launch_data: None,
            mastery: None,
            total_seconds: 0.0,
        }
    }
}

/// A session's opening state, as the player script receives it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Start {
    pub values: BTreeMap<String, String>,
    pub written: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    NotInitialized,
    Running,
    Terminated,
}

#[derive(Debug, Clone)]
pub struct Runtime {
    version: Version,
    state: State,
    values: BTreeMap<String, String>,
    /// The names the SCO wrote, in this session or a suspended one: what a commit hands over.
    written: BTreeSet<String>,
    error: u16,
    diagnostic: String,
}

/// The codes that differ between the two versions for the same situation.
struct Codes {
    not_running_get: u16,
    after_get: u16,
    not_running_set: u16,
    after_set: u16,
    bad_name_get: u16,
    bad_name_set: u16,
    unknown: u16,
    no_children: u16,
    no_count: u16,
    keyword_set: u16,
    read_only: u16,
    write_only: u16,
    bad_index_get: u16,
    bad_index_set: u16,
    not_set: u16,
    wrong_type: u16,
    out_of_range: u16,
}

const CODES_12: Codes = Codes {
    not_running_get: 301,
    after_get: 301,
    not_running_set: 301,
    after_set: 301,
    bad_name_get: 201,
    bad_name_set: 201,
    unknown: 201,
    no_children: 202,
    no_count: 203,
    keyword_set: 402,
    read_only: 403,
    write_only: 404,
    bad_index_get: 201,
    bad_index_set: 201,
    not_set: 0,
    wrong_type: 405,
    out_of_range: 405,
};

const CODES_2004: Codes = Codes {
    not_running_get: 122,
    after_get: 123,
    not_running_set: 132,
    after_set: 133,
    bad_name_get: 301,
    bad_name_set: 351,
    unknown: 401,
    no_children: 301,
    no_count: 301,
    keyword_set: 404,
    read_only: 404,
    write_only: 405,
    bad_index_get: 301,
    bad_index_set: 351,
    not_set: 403,
    wrong_type: 406,
    out_of_range: 407,
};

impl Runtime {
    /// A SCO's session, from what we give it and what it left last time. It resumes (`entry`
    /// = resume, location and suspend data back) when its last exit was `suspend`. In 2004 any
    /// other exit ended the attempt, so a new one starts empty; 1.2 has no attempts and keeps
    /// what was written.
    pub fn new(version: Version, launch: &Launch, stored: Option<&Snapshot>) -> Runtime {
        let mut rt = Runtime {
            version,
            state: State::NotInitialized,
            values: BTreeMap::new(),
            written: BTreeSet::new(),
            error: 0,
            diagnostic: String::new(),
        };
        let stored = stored.filter(|s| s.version == version && !s.values.is_empty());
        let suspended = stored.is_some_and(|s| s.exit() == Some("suspend"));
        let keep = suspended || (stored.is_some() && version == Version::Scorm12);
        if let Some(s) = stored.filter(|_| keep) {
            for (name, value) in &s.values {
                // The last session's exit and time are not this session's.
                if name.ends_with(".exit")
                    || name.ends_with("session_time")
                    || name.starts_with("adl.nav")
                {
                    continue;
                }
                if find(version, name).is_some_and(|(e, _)| e.access != Access::ReadOnly) {
                    rt.values.insert(name.clone(), value.clone());
                    rt.written.insert(name.clone());
                }
            }
        }
        let entry = match (suspended, stored.is_some(), version) {
            (true, _, _) => "resume",
            (false, true, Version::Scorm12) => "",
            (false, _, Version::Scorm12) => "ab-initio",
            (false, _, Version::Scorm2004) => "ab_initio",
        };
        rt.given(launch, entry);
        rt
    }

    /// The read-only values the LMS provides, and the defaults of what the SCO has not set.
    fn given(&mut self, launch: &Launch, entry: &str) {
        let credit = if launch.credit { "credit" } else { "no-credit" };
        let mode = match launch.mode {
            Mode::Normal => "normal",
            Mode::Browse => "browse",
            Mode::Review => "review",
        };
        let total = format_total(self.version, launch.total_seconds);
        let mut put = |name: &str, value: &str| {
            self.values
                .entry(name.to_string())
                .or_insert_with(|| value.to_string());
        };
        let launch_data = launch.launch_data.as_deref();
        match self.version {
            Version::Scorm12 => {
                put("cmi.core.student_id", &launch.learner_id);
                put("cmi.core.student_name", &launch.learner_name);
                put("cmi.core.credit", credit);
                put("cmi.core.entry", entry);
                put("cmi.core.lesson_mode", mode);
                put("cmi.core.total_time", &total);
                put("cmi.core.lesson_status", "not attempted");
                if let Some(data) = launch_data {
                    put("cmi.launch_data", data);
                }
                if let Some(Mastery::Score { mastery_score }) = launch.mastery {
                    put("cmi.student_data.mastery_score", &mastery_score.to_string());
                }
            }
            Version::Scorm2004 => {
                put("cmi.learner_id", &launch.learner_id);
                put("cmi.learner_name", &launch.learner_name);
                put("cmi.credit", credit);
                put("cmi.entry", entry);
                put("cmi.mode", mode);
                put("cmi.total_time", &total);
                put("cmi.completion_status", "unknown");
                put("cmi.success_status", "unknown");
                put("cmi.time_limit_action", "continue,no message");
                put("adl.nav.request", "_none_");
                put("adl.nav.request_valid.continue", "unknown");
                put("adl.nav.request_valid.previous", "unknown");
                if let Some(data) = launch_data {
                    put("cmi.launch_data", data);
                }
                if let Some(Mastery::Thresholds {
                    scaled_passing_score,
                    completion_threshold,
                }) = launch.mastery
                {
                    if let Some(v) = scaled_passing_score {
                        put("cmi.scaled_passing_score", &v.to_string());
                    }
                    if let Some(v) = completion_threshold {
                        put("cmi.completion_threshold", &v.to_string());
                    }
                }
            }
        }
    }

    fn codes(&self) -> &'static Codes {
        match self.version {
            Version::Scorm12 => &CODES_12,
            Version::Scorm2004 => &CODES_2004,
        }
    }

    fn fail(&mut self, code: u16, diagnostic: impl Into<String>) {
        self.error = code;
        self.diagnostic = diagnostic.into();
    }

    fn succeed(&mut self) {
        self.error = 0;
        self.diagnostic.clear();
    }

    /// `LMSInitialize("")` / `Initialize("")`.
    pub fn initialize(&mut self, arg: &str) -> bool {
        if !arg.is_empty() {
            self.fail(201, "L'argument doit être une chaîne vide.");
            return false;
        }
        let code = match (self.state, self.version) {
            (State::NotInitialized, _) => 0,
            (_, Version::Scorm12) => 101,
            (State::Running, Version::Scorm2004) => 103,
            (State::Terminated, Version::Scorm2004) => 104,
        };
        if code != 0 {
            self.fail(code, "Session déjà initialisée ou terminée.");
            return false;
        }
        self.state = State::Running;
        self.succeed();
        true
    }

    /// The check shared by commit and terminate: argument and state.
    fn may_close(&mut self, arg: &str, before: u16, after: u16) -> bool {
        if !arg.is_empty() {
            self.fail(201, "L'argument doit être une chaîne vide.");
            return false;
        }
        let code = match (self.state, self.version) {
            (State::Running, _) => 0,
            (_, Version::Scorm12) => 301,
            (State::NotInitialized, Version::Scorm2004) => before,
            (State::Terminated, Version::Scorm2004) => after,
        };
        if code != 0 {
            self.fail(code, "La session n'est pas en cours.");
            return false;
        }
        true
    }

    /// `LMSCommit("")` / `Commit("")`: what to send to the server.
    pub fn commit(&mut self, arg: &str) -> Option<Snapshot> {
        if !self.may_close(arg, 142, 143) {
            return None;
        }
        self.succeed();
        Some(self.snapshot())
    }

    /// `LMSFinish("")` / `Terminate("")`: the last commit.
    pub fn terminate(&mut self, arg: &str) -> Option<Snapshot> {
        if !self.may_close(arg, 112, 113) {
            return None;
        }
        self.state = State::Terminated;
        self.succeed();
        Some(self.snapshot())
    }

    /// 1.2's name for `terminate`.
    pub fn finish(&mut self, arg: &str) -> Option<Snapshot> {
        self.terminate(arg)
    }

    /// The values the SCO wrote (and those it resumed with).
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            version: self.version,
            values: self
                .values
                .iter()
                .filter(|(k, _)| self.written.contains(*k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    /// What the player script starts from: every value the SCO may read, and the names a
    /// commit hands over (those it resumed with).
    pub fn start(&self) -> Start {
        Start {
            values: self.values.clone(),
            written: self.written.iter().cloned().collect(),
        }
    }

    pub fn last_error(&self) -> u16 {
        self.error
    }

    pub fn error_string(&self, code: u16) -> &'static str {
        error_string(self.version, code)
    }

    pub fn diagnostic(&self, _code: u16) -> String {
        self.diagnostic.clone()
    }

    /// The number of entries of an array (`cmi.interactions`, `cmi.interactions.0.objectives`).
    fn count(&self, array: &str) -> usize {
        let prefix = format!("{array}.");
        self.values
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter_map(|(k, _)| k[prefix.len()..].split('.').next()?.parse::<usize>().ok())
            .max()
            .map_or(0, |n| n + 1)
    }

    /// For each index of a concrete name, its array and the index.
    fn arrays(element: &Element, name: &str) -> Vec<(String, usize)> {
        let pattern: Vec<&str> = element.name.split('.').collect();
        let segments: Vec<&str> = name.split('.').collect();
        pattern
            .iter()
            .enumerate()
            .filter(|(_, p)| **p == "n")
            .filter_map(|(i, _)| Some((segments[..i].join("."), segments[i].parse().ok()?)))
            .collect()
    }

    /// What an unknown name ending in a keyword is: a misuse (202, 203, 301) or unknown.
    fn unknown_code(&self, name: &str) -> u16 {
        let codes = self.codes();
        let known = |parent: &str| {
            find(self.version, parent).is_some()
                || find(self.version, &format!("{parent}._count")).is_some()
                || find(self.version, &format!("{parent}._children")).is_some()
        };
        if let Some(parent) = name.strip_suffix("._children")
            && known(parent)
        {
            return codes.no_children;
        }
        if let Some(parent) = name.strip_suffix("._count")
            && known(parent)
        {
            return codes.no_count;
        }
        codes.unknown
    }

    /// `LMSGetValue` / `GetValue`.
    pub fn get_value(&mut self, name: &str) -> String {
        let codes = self.codes();
        match self.state {
            State::NotInitialized => return self.refuse(codes.not_running_get, name),
            State::Terminated => return self.refuse(codes.after_get, name),
            State::Running => {}
        }
        if name.is_empty() {
            return self.refuse(codes.bad_name_get, name);
        }
        let Some((element, _)) = find(self.version, name) else {
            let code = self.unknown_code(name);
            return self.refuse(code, name);
        };
        if element.access == Access::WriteOnly {
            return self.refuse(codes.write_only, name);
        }
        for (array, index) in Self::arrays(element, name) {
            if index >= self.count(&array) {
                return self.refuse(codes.bad_index_get, name);
            }
        }
        if element.is_keyword() {
            self.succeed();
            return match element.value {
                Some(v) => v.to_string(),
                None => self.count(name.trim_end_matches("._count")).to_string(),
            };
        }
        let value = match name {
            "cmi.completion_status" => evaluated_completion(&self.values),
            "cmi.success_status" => evaluated_success(&self.values),
            _ => self.values.get(name).cloned(),
        };
        match value {
            Some(v) => {
                self.succeed();
                v
            }
            None if codes.not_set == 0 => {
                self.succeed();
                String::new()
            }
            None => self.refuse(codes.not_set, name),
        }
    }

    fn refuse(&mut self, code: u16, name: &str) -> String {
        self.fail(code, format!("{} : {name}", self.error_string(code)));
        String::new()
    }

    /// `LMSSetValue` / `SetValue`.
    pub fn set_value(&mut self, name: &str, value: &str) -> bool {
        match self.check_set(name, value) {
            Ok(()) => {
                self.values.insert(name.to_string(), value.to_string());
                self.written.insert(name.to_string());
                self.succeed();
                true
            }
            Err(code) => {
                self.fail(
                    code,
                    format!("{} : {name} = « {value} »", self.error_string(code)),
                );
                false
            }
        }
    }

    fn check_set(&self, name: &str, value: &str) -> Result<(), u16> {
        let codes = self.codes();
        match self.state {
            State::NotInitialized => return Err(codes.not_running_set),
            State::Terminated => return Err(codes.after_set),
            State::Running => {}
        }
        if name.is_empty() {
            return Err(codes.bad_name_set);
        }
        let Some((element, _)) = find(self.version, name) else {
            let keyword = ["._children", "._count", "._version"]
                .iter()
                .any(|k| name.ends_with(k));
            if keyword && self.unknown_code(name) != codes.unknown {
                return Err(codes.keyword_set);
            }
            return Err(codes.unknown);
        };
        if element.is_keyword() {
            return Err(codes.keyword_set);
        }
        if element.access == Access::ReadOnly {
            return Err(codes.read_only);
        }
        for (array, index) in Self::arrays(element, name) {
            if index > self.count(&array) || index >= MAX_ENTRIES {
                return Err(codes.bad_index_set);
            }
        }
        if self.version == Version::Scorm2004 {
            self.check_dependencies(element, name, value)?;
        }
        types::check(
            element.kind,
            value,
            element.vocabulary,
            element.max_len,
            element.range,
        )
        .map_err(|r| match r {
            Refusal::Type => codes.wrong_type,
            Refusal::Range => codes.out_of_range,
        })?;
        if name == "cmi.core.lesson_status" && value == "not attempted" {
            return Err(codes.wrong_type);
        }
        Ok(())
    }

    /// 2004: a record's `id` (then an interaction's `type`) comes first; objective ids are
    /// unique in their array.
    fn check_dependencies(&self, element: &Element, name: &str, value: &str) -> Result<(), u16> {
        if let Some(required) = element.requires {
            let record = Self::arrays(element, name)
                .first()
                .map(|(array, index)| format!("{array}.{index}.{required}"));
            if record.is_some_and(|r| !self.values.contains_key(&r)) {
                return Err(408);
            }
        }
        if matches!(
            element.name,
            "cmi.objectives.n.id" | "cmi.interactions.n.objectives.n.id"
        ) && let Some((array, _)) = name.rsplit_once('.').and_then(|(r, _)| r.rsplit_once('.'))
        {
            let prefix = format!("{array}.");
            let duplicate = self
                .values
                .range(prefix.clone()..)
                .take_while(|(k, _)| k.starts_with(&prefix))
                .any(|(k, v)| {
                    k.ends_with(".id")
                        && k.as_str() != name
                        && v == value
                        && k.matches('.').count() == name.matches('.').count()
                });
            if duplicate {
                return Err(351);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
