//! Reads `content/` and checks it. Every mistake is reported with its file and line, all at
//! once, so an organism can fix its files in one go.

use crate::base::digest::hex;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::rules::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ContentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file.display(), line, self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// All the errors of a content folder.
#[derive(Debug)]
pub struct ContentErrors(pub Vec<ContentError>);

impl fmt::Display for ContentErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "contenu invalide ({} erreur(s)) :", self.0.len())?;
        for e in &self.0 {
            writeln!(f, "  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ContentErrors {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProgramFile {
    code: String,
    title: String,
    kind: Kind,
    certification: String,
    total_hours: u32,
    min_months: u32,
    max_months: u32,
    #[serde(default)]
    summary: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModuleFile {
    code: String,
    title: String,
    order: u32,
    bloc: String,
    planned_hours: u32,
    modality: Modality,
    distance_hours: u32,
    presentiel_hours: u32,
    missions: Vec<Mission>,
    #[serde(default)]
    objectives: Vec<String>,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    sequences: Vec<SequenceFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SequenceFile {
    title: String,
    #[serde(default)]
    activities: Vec<String>,
}

pub(super) struct Report {
    pub(super) errors: Vec<ContentError>,
}

impl Report {
    pub(super) fn err(&mut self, file: &Path, line: Option<usize>, message: impl Into<String>) {
        self.errors.push(ContentError {
            file: file.to_path_buf(),
            line,
            message: message.into(),
        });
    }
}

pub(super) fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// First line at or after `from` (1-based) that contains `needle`.
pub(super) fn line_of(text: &str, needle: &str, from: usize) -> Option<usize> {
    text.lines()
        .enumerate()
        .skip(from.saturating_sub(1))
        .find(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
}

pub(super) fn parse_toml<T: serde::de::DeserializeOwned>(
    report: &mut Report,
    file: &Path,
    text: &str,
) -> Option<T> {
    match toml::from_str::<T>(text) {
        Ok(v) => Some(v),
        Err(e) => {
            let line = e.span().map(|s| line_at(text, s.start));
            report.err(file, line, in_french(e.message().trim()));
            None
        }
    }
}

/// The TOML reader's message as authors read the others: the usual ones said in French,
/// the rest kept, after a French lead.
fn in_french(message: &str) -> String {
    if let Some(field) = message.strip_prefix("missing field ") {
        return format!("champ {} manquant", guillemets(field));
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let (field, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        let expected = expected.strip_prefix("one of ").unwrap_or(expected);
        return match expected {
            "" => format!("champ {} inconnu", guillemets(field)),
            e => format!(
                "champ {} inconnu (attendus : {})",
                guillemets(field),
                guillemets_all(e)
            ),
        };
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, "?"));
        return format!("type invalide : {found} trouvé, {} attendu", kind(expected));
    }
    if message.starts_with("invalid unquoted key") {
        return "clé invalide : sans guillemets, une clé s'écrit en lettres sans accent, chiffres, « - » et « _ »".into();
    }
    if let Some(key) = message.strip_prefix("duplicate key") {
        return match key.trim_start_matches(':').trim() {
            "" => "clé en double".to_string(),
            k => format!("clé {} en double", guillemets(k)),
        };
    }
    format!("TOML invalide : {message}")
}

/// `` `x` `` as « x ».
fn guillemets(s: &str) -> String {
    format!("« {} »", s.trim().trim_matches('`'))
}

/// Every `` `x` `` of a list (`` `a`, `b` or `c` ``) as « a », « b », « c ».
fn guillemets_all(list: &str) -> String {
    let names: Vec<String> = list.split('`').skip(1).step_by(2).map(guillemets).collect();
    names.join(", ")
}

/// What the reader expected, in words.
fn kind(expected: &str) -> &str {
    match expected {
        "u32" | "u64" | "i32" | "i64" | "u16" | "u8" => "un nombre entier",
        "f32" | "f64" => "un nombre",
        "a string" => "un texte",
        "a boolean" => "true ou false",
        "a sequence" => "une liste",
        other => other,
    }
}

/// A text file of the content, in UTF-8, as Windows editors save it too: the byte order mark
/// they may write first is left out (it would hide a lesson's `+++` or a TOML file's first
/// key), and their CRLF line ends read as LF (a `\r` would end a lesson's header).
pub(super) fn read(report: &mut Report, file: &Path) -> Option<String> {
    match std::fs::read_to_string(file) {
        Ok(t) => {
            let t = t.strip_prefix('\u{feff}').unwrap_or(&t);
            Some(t.replace("\r\n", "\n"))
        }
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            let why = "illisible : le texte n'est pas en UTF-8 (enregistré en « ANSI » ou \
                       Windows-1252 ?) ; enregistrez-le en UTF-8";
            report.err(file, None, why);
            None
        }
        Err(e) => {
            report.err(file, None, format!("illisible : {e}"));
            None
        }
    }
}

fn sorted_entries(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
        })
        .collect();
    entries.sort();
    Ok(entries)
}

/// Loads and checks every programme folder of `root`.
pub fn load(root: &Path) -> Result<Curriculum, ContentErrors> {
    let mut report = Report { errors: vec![] };
    let mut programs = Vec::new();
    match sorted_entries(root) {
        Ok(entries) => {
            for dir in entries
                .into_iter()
                .filter(|p| p.join("program.toml").is_file())
            {
                if let Some(p) = load_program(&mut report, &dir) {
                    programs.push(p);
                }
            }
        }
        Err(e) => report.err(root, None, format!("dossier illisible : {e}")),
    }
    if programs.is_empty() && report.errors.is_empty() {
        report.err(root, None, "aucun programme (dossier avec program.toml)");
    }
    // Programme codes are unique across the folder; module codes within their programme.
    let mut seen: HashMap<String, String> = HashMap::new();
    for p in &programs {
        if let Some(other) = seen.insert(p.code.clone(), p.title.clone()) {
            report.err(
                &root.join(&p.code),
                None,
                format!(
                    "code de programme « {} » en double (déjà pris par « {other} »)",
                    p.code
                ),
            );
        }
        let mut modules: HashMap<&str, &str> = HashMap::new();
        for m in &p.modules {
            if let Some(other) = modules.insert(&m.code, &m.title) {
                report.err(
                    &p.dir,
                    None,
                    format!(
                        "code de module « {} » en double (déjà pris par « {other} »)",
                        m.code
                    ),
                );
            }
        }
    }
    if report.errors.is_empty() {
        Ok(Curriculum { programs })
    } else {
        Err(ContentErrors(report.errors))
    }
}

fn load_program(report: &mut Report, dir: &Path) -> Option<Program> {
    let before = report.errors.len();
    let file = dir.join("program.toml");
    let text = read(report, &file)?;
    let pf: ProgramFile = parse_toml(report, &file, &text)?;
    if pf.code.trim().is_empty() || pf.title.trim().is_empty() {
        report.err(&file, Some(1), "code et title sont obligatoires");
    }
    if pf.min_months == 0 || pf.min_months > pf.max_months {
        report.err(
            &file,
            line_of(&text, "min_months", 1),
            "min_months doit être au moins 1 et au plus max_months",
        );
    }
    let mut hasher = Sha256::new();
    hasher.update(b"program.toml\0");
    hasher.update(text.as_bytes());
    let mut modules = Vec::new();
    let entries = sorted_entries(dir).unwrap_or_default();
    for mdir in entries.iter().filter(|p| p.is_dir()) {
        if !mdir.join("module.toml").is_file() {
            report.err(mdir, None, "dossier de module sans module.toml");
            continue;
        }
        if let Some(m) = load_module(report, mdir, dir, &mut hasher) {
            modules.push(m);
        }
    }
    modules.sort_by_key(|m| m.order);
    if modules.is_empty() {
        report.err(dir, None, "le programme n'a aucun module");
    }
    let mut orders = BTreeSet::new();
    for m in &modules {
        if !orders.insert(m.order) {
            report.err(dir, None, format!("deux modules ont l'ordre {}", m.order));
        }
    }
    let sum: u32 = modules.iter().map(|m| m.planned_hours).sum();
    // A module with its own errors is left out; its hours would make a second, false error.
    if report.errors.len() == before && sum != pf.total_hours {
        report.err(
            &file,
            line_of(&text, "total_hours", 1),
            format!(
                "les modules totalisent {sum} h mais total_hours vaut {} h",
                pf.total_hours
            ),
        );
    }
    if report.errors.len() > before {
        return None;
    }
    Some(Program {
        code: pf.code,
        title: pf.title,
        kind: pf.kind,
        certification: pf.certification,
        total_hours: pf.total_hours,
        min_months: pf.min_months,
        max_months: pf.max_months,
        summary: pf.summary,
        modules,
        hash: hex(&hasher.finalize()),
        dir: dir.to_path_buf(),
    })
}

pub(super) fn rel<'a>(path: &'a Path, root: &Path) -> &'a Path {
    path.strip_prefix(root).unwrap_or(path)
}

mod activities;
mod module;
mod questions;

use module::load_module;

#[cfg(test)]
mod tests {
    use super::in_french;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Module {
        title: String,
        minutes: u32,
    }

    fn message(text: &str) -> String {
        let e = toml::from_str::<Module>(text).unwrap_err();
        in_french(e.message().trim())
    }

    #[test]
    fn the_toml_readers_usual_messages_are_said_in_french() {
        assert_eq!(message("title = \"Accueil\""), "champ « minutes » manquant");
        assert_eq!(
            message("title = \"Accueil\"\nminutes = 5\nduree = 3"),
            "champ « duree » inconnu (attendus : « title », « minutes »)"
        );
        assert_eq!(
            message("title = \"Accueil\"\nminutes = 5\ndurée = 3"),
            "clé invalide : sans guillemets, une clé s'écrit en lettres sans accent, chiffres, « - » et « _ »"
        );
        assert_eq!(
            message("title = \"Accueil\"\nminutes = \"cinq\""),
            "type invalide : string \"cinq\" trouvé, un nombre entier attendu"
        );
        assert_eq!(
            message("title = \"A\"\ntitle = \"B\"\nminutes = 1"),
            "clé en double"
        );
        assert!(message("title = ").starts_with("TOML invalide : "));
    }
}
