//! Reads `content/` and checks it. Every mistake is reported with its file and line, all at
//! once, so an organism can fix its files in one go.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::markdown;
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
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LessonFront {
    title: String,
    minutes: u32,
    order: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EvaluationFile {
    title: String,
    pass_mark: u32,
    max_attempts: u32,
    #[serde(default)]
    minutes: u32,
    questions: Vec<QuestionFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionFile {
    id: String,
    kind: QuestionKind,
    text: String,
    correct: Vec<String>,
    #[serde(default)]
    explanation: String,
    choices: Vec<ChoiceFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChoiceFile {
    id: String,
    text: String,
    #[serde(default)]
    feedback: String,
}

struct Report {
    errors: Vec<ContentError>,
}

impl Report {
    fn err(&mut self, file: &Path, line: Option<usize>, message: impl Into<String>) {
        self.errors.push(ContentError {
            file: file.to_path_buf(),
            line,
            message: message.into(),
        });
    }
}

fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// First line at or after `from` (1-based) that contains `needle`.
fn line_of(text: &str, needle: &str, from: usize) -> Option<usize> {
    text.lines()
        .enumerate()
        .skip(from.saturating_sub(1))
        .find(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
}

fn parse_toml<T: serde::de::DeserializeOwned>(
    report: &mut Report,
    file: &Path,
    text: &str,
) -> Option<T> {
    match toml::from_str::<T>(text) {
        Ok(v) => Some(v),
        Err(e) => {
            let line = e.span().map(|s| line_at(text, s.start));
            report.err(file, line, e.message().trim().to_string());
            None
        }
    }
}

fn read(report: &mut Report, file: &Path) -> Option<String> {
    match std::fs::read_to_string(file) {
        Ok(t) => Some(t),
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
    // Codes are unique across the whole curriculum.
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
        for m in &p.modules {
            if let Some(other) = seen.insert(m.code.clone(), m.title.clone()) {
                report.err(
                    root,
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
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn rel<'a>(path: &'a Path, root: &Path) -> &'a Path {
    path.strip_prefix(root).unwrap_or(path)
}

fn load_module(
    report: &mut Report,
    dir: &Path,
    program_dir: &Path,
    hasher: &mut Sha256,
) -> Option<Module> {
    let file = dir.join("module.toml");
    let text = read(report, &file)?;
    hasher.update(rel(&file, program_dir).to_string_lossy().as_bytes());
    hasher.update(b"\0");
    hasher.update(text.as_bytes());
    let mf: ModuleFile = parse_toml(report, &file, &text)?;
    let before = report.errors.len();
    if mf.code.trim().is_empty() || mf.title.trim().is_empty() {
        report.err(&file, Some(1), "code et title sont obligatoires");
    }
    if mf.distance_hours + mf.presentiel_hours != mf.planned_hours {
        report.err(
            &file,
            line_of(&text, "planned_hours", 1),
            format!(
                "distance_hours ({}) + presentiel_hours ({}) doit faire planned_hours ({})",
                mf.distance_hours, mf.presentiel_hours, mf.planned_hours
            ),
        );
    }
    let modality_ok = match mf.modality {
        Modality::Distance => mf.presentiel_hours == 0,
        Modality::Presentiel => mf.distance_hours == 0,
        Modality::Mixte => mf.distance_hours > 0 && mf.presentiel_hours > 0,
    };
    if !modality_ok {
        report.err(
            &file,
            line_of(&text, "modality", 1),
            "la répartition des heures ne correspond pas à la modalité",
        );
    }
    if mf.missions.is_empty() {
        report.err(&file, line_of(&text, "missions", 1), "au moins une mission");
    }

    let mut lessons = Vec::new();
    let lessons_dir = dir.join("lessons");
    for path in sorted_entries(&lessons_dir).unwrap_or_default() {
        if path.extension().and_then(|e| e.to_str()) != Some("md") {
            continue;
        }
        let Some(text) = read(report, &path) else {
            continue;
        };
        hasher.update(rel(&path, program_dir).to_string_lossy().as_bytes());
        hasher.update(b"\0");
        hasher.update(text.as_bytes());
        if let Some(l) = load_lesson(report, &path, &text) {
            lessons.push(l);
        }
    }
    if lessons.is_empty() {
        report.err(&lessons_dir, None, "le module n'a aucune leçon");
    }
    lessons.sort_by_key(|l| l.order);
    let mut orders = BTreeSet::new();
    for l in &lessons {
        if !orders.insert(l.order) {
            report.err(
                &lessons_dir,
                None,
                format!("deux leçons ont l'ordre {}", l.order),
            );
        }
    }

    let eval_file = dir.join("evaluation.toml");
    let evaluation = if eval_file.is_file() {
        let text = read(report, &eval_file)?;
        hasher.update(b"evaluation.toml\0");
        hasher.update(text.as_bytes());
        load_evaluation(report, &eval_file, &text)
    } else {
        None
    };
    if report.errors.len() > before {
        return None;
    }
    Some(Module {
        code: mf.code,
        title: mf.title,
        order: mf.order,
        bloc: mf.bloc,
        planned_hours: mf.planned_hours,
        modality: mf.modality,
        distance_hours: mf.distance_hours,
        presentiel_hours: mf.presentiel_hours,
        missions: mf.missions,
        objectives: mf.objectives,
        summary: mf.summary,
        lessons,
        evaluation,
    })
}

fn load_lesson(report: &mut Report, path: &Path, text: &str) -> Option<Lesson> {
    let slug = path.file_stem()?.to_string_lossy().to_string();
    let Some(rest) = text
        .strip_prefix("+++\n")
        .or_else(|| text.strip_prefix("+++\r\n"))
    else {
        report.err(
            path,
            Some(1),
            "en-tête manquant : la leçon doit commencer par +++",
        );
        return None;
    };
    let Some(end) = rest.find("\n+++") else {
        report.err(path, Some(1), "en-tête non fermé (+++ manquant)");
        return None;
    };
    let front_text = &rest[..end];
    let body = rest[end + 4..].trim_start_matches(['\r', '\n']);
    let body_first_line = line_at(text, text.len() - body.len());
    let front = match toml::from_str::<LessonFront>(front_text) {
        Ok(f) => f,
        Err(e) => {
            let line = e.span().map(|s| line_at(front_text, s.start) + 1);
            let message = if e.message().contains("missing field `title`") {
                "leçon sans titre (title manquant dans l'en-tête)".to_string()
            } else {
                e.message().trim().to_string()
            };
            report.err(path, line.or(Some(1)), message);
            return None;
        }
    };
    let mut ok = true;
    if front.title.trim().is_empty() {
        report.err(path, line_of(text, "title", 1), "leçon sans titre");
        ok = false;
    }
    if front.minutes == 0 {
        report.err(
            path,
            line_of(text, "minutes", 1),
            "minutes doit être supérieur à 0",
        );
        ok = false;
    }
    for line in markdown::raw_html_lines(body) {
        report.err(
            path,
            Some(body_first_line + line - 1),
            "HTML brut interdit dans une leçon (écrivez en Markdown)",
        );
        ok = false;
    }
    ok.then(|| Lesson {
        slug,
        title: front.title.trim().to_string(),
        minutes: front.minutes,
        order: front.order,
        html: markdown::to_html(body),
    })
}

fn load_evaluation(report: &mut Report, file: &Path, text: &str) -> Option<Evaluation> {
    let ef: EvaluationFile = parse_toml(report, file, text)?;
    let before = report.errors.len();
    if !(1..=100).contains(&ef.pass_mark) {
        report.err(
            file,
            line_of(text, "pass_mark", 1),
            "pass_mark entre 1 et 100",
        );
    }
    if ef.max_attempts == 0 {
        report.err(
            file,
            line_of(text, "max_attempts", 1),
            "max_attempts au moins 1",
        );
    }
    if ef.questions.is_empty() {
        report.err(file, None, "l'évaluation n'a aucune question");
    }
    let mut ids = BTreeSet::new();
    for q in &ef.questions {
        let qline = line_of(text, &format!("\"{}\"", q.id), 1).unwrap_or(1);
        if !ids.insert(q.id.clone()) {
            report.err(
                file,
                Some(qline),
                format!("question « {} » en double", q.id),
            );
        }
        let mut choice_ids = BTreeSet::new();
        for c in &q.choices {
            if !choice_ids.insert(c.id.as_str()) {
                report.err(
                    file,
                    Some(qline),
                    format!("question « {} » : réponse « {} » en double", q.id, c.id),
                );
            }
        }
        if q.choices.len() < 2 {
            report.err(
                file,
                Some(qline),
                format!("question « {} » : au moins deux réponses", q.id),
            );
        }
        for c in &q.correct {
            if !choice_ids.contains(c.as_str()) {
                report.err(
                    file,
                    line_of(text, "correct", qline).or(Some(qline)),
                    format!(
                        "question « {} » : la bonne réponse « {c} » n'existe pas parmi les choix",
                        q.id
                    ),
                );
            }
        }
        match (q.kind, q.correct.len()) {
            (_, 0) => report.err(
                file,
                Some(qline),
                format!("question « {} » : aucune bonne réponse", q.id),
            ),
            (QuestionKind::Single, n) if n > 1 => report.err(
                file,
                Some(qline),
                format!(
                    "question « {} » : « single » attend une seule bonne réponse",
                    q.id
                ),
            ),
            _ => {}
        }
    }
    if report.errors.len() > before {
        return None;
    }
    Some(Evaluation {
        title: ef.title,
        pass_mark: ef.pass_mark,
        max_attempts: ef.max_attempts,
        minutes: ef.minutes,
        questions: ef
            .questions
            .into_iter()
            .map(|q| Question {
                id: q.id,
                kind: q.kind,
                text: q.text,
                correct: q.correct,
                explanation: q.explanation,
                choices: q
                    .choices
                    .into_iter()
                    .map(|c| Choice {
                        id: c.id,
                        text: c.text,
                        feedback: c.feedback,
                    })
                    .collect(),
            })
            .collect(),
        hash: hex(&Sha256::digest(text.as_bytes())),
    })
}
