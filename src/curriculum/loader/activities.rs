//! Lessons, assignments and resources: a file each, with its front matter, and the module's
//! `files/` they point to.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{Report, line_at, line_of, parse_toml, rel};
use crate::base::media::{self, Media};
use crate::curriculum::markdown;
use crate::curriculum::rules::*;

/// What a file gave, before it becomes an [`Activity`] of its module.
pub(super) struct Loaded {
    pub title: String,
    pub minutes: u32,
    pub required: bool,
    pub body: Body,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LessonFront {
    title: String,
    minutes: u32,
    #[serde(default = "yes")]
    required: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignmentFront {
    title: String,
    minutes: u32,
    #[serde(default = "yes")]
    required: bool,
    answer: AnswerForm,
    #[serde(default)]
    case_files: Vec<String>,
    #[serde(default)]
    rubric: Vec<CriterionFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CriterionFile {
    criterion: String,
    points: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceFile {
    title: String,
    minutes: u32,
    #[serde(default = "yes")]
    required: bool,
    file: String,
    #[serde(default)]
    summary: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PackageFile {
    title: String,
    minutes: u32,
    #[serde(default = "yes")]
    required: bool,
    file: String,
    #[serde(default)]
    summary: String,
}

/// The module's `files/` folder: what activities point to, checked once each.
pub(super) struct Files {
    dir: PathBuf,
    program_dir: PathBuf,
    /// Each file an activity uses, with its type as read (`None`: a text case file).
    used: std::cell::RefCell<BTreeMap<String, Option<Media>>>,
}

/// Case files are read as they are: text a trainee opens anywhere, or a PDF or an image.
const CASE_TEXT: [&str; 3] = ["md", "csv", "txt"];

impl Files {
    pub(super) fn new(module_dir: &Path, program_dir: &Path) -> Files {
        Files {
            dir: module_dir.to_path_buf(),
            program_dir: program_dir.to_path_buf(),
            used: Default::default(),
        }
    }

    /// Checks that `name` is a file of `files/` and, by its content, one of `allowed`
    /// (or text for a case file when `text_ok`).
    fn check(
        &self,
        report: &mut Report,
        from: &Path,
        line: Option<usize>,
        name: &str,
        allowed: &[Media],
        text_ok: bool,
    ) -> Option<Media> {
        let inside = name.strip_prefix("files/").is_some_and(|rest| {
            !rest.is_empty()
                && !rest.contains('/')
                && !rest.contains('\\')
                && !rest.starts_with('.')
        });
        if !inside {
            report.err(
                from,
                line,
                format!("« {name} » : un fichier du dossier files/ du module est attendu"),
            );
            return None;
        }
        let path = self.dir.join(name);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(_) => {
                report.err(from, line, format!("« {name} » n'existe pas"));
                return None;
            }
        };
        let ext = Path::new(name)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("");
        let sniffed = media::sniff(&bytes[..bytes.len().min(8192)]);
        let ok = match sniffed {
            Some(m) => allowed.contains(&m),
            None => text_ok && CASE_TEXT.contains(&ext) && std::str::from_utf8(&bytes).is_ok(),
        };
        if !ok {
            report.err(
                from,
                line,
                format!(
                    "« {name} » : contenu refusé ({})",
                    if text_ok {
                        "texte UTF-8 .md, .csv ou .txt, PDF, PNG ou JPEG".to_string()
                    } else {
                        allowed
                            .iter()
                            .map(|m| m.ext().to_uppercase())
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ),
            );
        }
        let media = sniffed.filter(|_| ok);
        self.used.borrow_mut().insert(name.to_string(), media);
        media
    }

    /// The files activities use, with their types, for the module to serve them.
    pub(super) fn into_used(self) -> BTreeMap<String, Option<Media>> {
        self.used.into_inner()
    }

    /// Adds the files activities use to the programme's hash (a changed video is a new version).
    pub(super) fn hash_into(&self, report: &mut Report, hasher: &mut Sha256) {
        for name in self.used.borrow().keys() {
            let path = self.dir.join(name);
            match std::fs::read(&path) {
                Ok(bytes) => {
                    hasher.update(rel(&path, &self.program_dir).to_string_lossy().as_bytes());
                    hasher.update(b"\0");
                    hasher.update(Sha256::digest(&bytes));
                }
                Err(e) => report.err(&path, None, format!("illisible : {e}")),
            }
        }
    }
}

/// Splits `+++` front matter from the Markdown body: (front, body, body's first line).
fn split_front<'a>(
    report: &mut Report,
    path: &Path,
    text: &'a str,
) -> Option<(&'a str, &'a str, usize)> {
    let Some(rest) = text
        .strip_prefix("+++\n")
        .or_else(|| text.strip_prefix("+++\r\n"))
    else {
        report.err(
            path,
            Some(1),
            "en-tête manquant : le fichier doit commencer par +++",
        );
        return None;
    };
    let Some(end) = rest.find("\n+++") else {
        report.err(path, Some(1), "en-tête non fermé (+++ manquant)");
        return None;
    };
    let body = rest[end + 4..].trim_start_matches(['\r', '\n']);
    Some((&rest[..end], body, line_at(text, text.len() - body.len())))
}

fn parse_front<T: serde::de::DeserializeOwned>(
    report: &mut Report,
    path: &Path,
    front: &str,
) -> Option<T> {
    match toml::from_str::<T>(front) {
        Ok(f) => Some(f),
        Err(e) => {
            let line = e.span().map(|s| line_at(front, s.start) + 1);
            let message = if e.message().contains("missing field `title`") {
                "activité sans titre (title manquant dans l'en-tête)".to_string()
            } else {
                e.message().trim().to_string()
            };
            report.err(path, line.or(Some(1)), message);
            None
        }
    }
}

/// Markdown of a lesson or of an assignment's instructions: no raw HTML; its images are
/// files of the module's `files/`, PNG or JPEG by their content.
fn markdown_body(
    report: &mut Report,
    path: &Path,
    (body, first_line): (&str, usize),
    files: &Files,
) -> Option<String> {
    let before = report.errors.len();
    for (name, line) in markdown::images(body) {
        let line = Some(first_line + line - 1);
        files.check(report, path, line, &name, &[Media::Png, Media::Jpeg], false);
    }
    let lines = markdown::raw_html_lines(body);
    for line in &lines {
        report.err(
            path,
            Some(first_line + line - 1),
            "HTML brut interdit (écrivez en Markdown)",
        );
    }
    (lines.is_empty() && report.errors.len() == before).then(|| markdown::to_html(body))
}

fn check_common(report: &mut Report, path: &Path, text: &str, title: &str, minutes: u32) -> bool {
    let mut ok = true;
    if title.trim().is_empty() {
        report.err(path, line_of(text, "title", 1), "activité sans titre");
        ok = false;
    }
    if minutes == 0 {
        report.err(
            path,
            line_of(text, "minutes", 1),
            "minutes doit être supérieur à 0",
        );
        ok = false;
    }
    ok
}

pub(super) fn load(
    report: &mut Report,
    kind: ActivityKind,
    path: &Path,
    text: &str,
    files: &Files,
) -> Option<Loaded> {
    match kind {
        ActivityKind::Lesson => lesson(report, path, text, files),
        ActivityKind::Assignment => assignment(report, path, text, files),
        ActivityKind::Resource => resource(report, path, text, files),
        ActivityKind::Package => package(report, path, text, files),
        ActivityKind::Quiz => None,
    }
}

fn lesson(report: &mut Report, path: &Path, text: &str, files: &Files) -> Option<Loaded> {
    let (front, body, first) = split_front(report, path, text)?;
    let f: LessonFront = parse_front(report, path, front)?;
    let ok = check_common(report, path, text, &f.title, f.minutes);
    let html = markdown_body(report, path, (body, first), files)?;
    ok.then(|| Loaded {
        title: f.title.trim().to_string(),
        minutes: f.minutes,
        required: f.required,
        body: Body::Lesson { html },
    })
}

fn assignment(report: &mut Report, path: &Path, text: &str, files: &Files) -> Option<Loaded> {
    let (front, body, first) = split_front(report, path, text)?;
    let f: AssignmentFront = parse_front(report, path, front)?;
    let before = report.errors.len();
    check_common(report, path, text, &f.title, f.minutes);
    if f.rubric.is_empty() {
        report.err(
            path,
            Some(1),
            "devoir sans barème ([[rubric]] avec criterion et points)",
        );
    }
    for c in &f.rubric {
        if c.criterion.trim().is_empty() || c.points == 0 {
            report.err(
                path,
                line_of(text, "criterion", 1),
                "chaque critère du barème a un intitulé et au moins 1 point",
            );
        }
    }
    for name in &f.case_files {
        files.check(
            report,
            path,
            line_of(text, name, 1),
            name,
            &[Media::Pdf, Media::Png, Media::Jpeg],
            true,
        );
    }
    if body.trim().is_empty() {
        report.err(path, Some(first), "devoir sans consigne");
    }
    let html = markdown_body(report, path, (body, first), files)?;
    (report.errors.len() == before).then(|| Loaded {
        title: f.title.trim().to_string(),
        minutes: f.minutes,
        required: f.required,
        body: Body::Assignment {
            html,
            spec: Assignment {
                answer: f.answer,
                case_files: f.case_files,
                rubric: f
                    .rubric
                    .into_iter()
                    .map(|c| Criterion {
                        criterion: c.criterion,
                        points: c.points,
                    })
                    .collect(),
            },
        },
    })
}

fn resource(report: &mut Report, path: &Path, text: &str, files: &Files) -> Option<Loaded> {
    let f: ResourceFile = parse_toml(report, path, text)?;
    let before = report.errors.len();
    check_common(report, path, text, &f.title, f.minutes);
    let media = files.check(
        report,
        path,
        line_of(text, "file", 1),
        &f.file,
        &[
            Media::Pdf,
            Media::Mp3,
            Media::Ogg,
            Media::M4a,
            Media::Mp4,
            Media::Webm,
        ],
        false,
    );
    let media = media.filter(|_| report.errors.len() == before)?;
    Some(Loaded {
        title: f.title.trim().to_string(),
        minutes: f.minutes,
        required: f.required,
        body: Body::Resource(Resource {
            file: f.file,
            summary: f.summary,
            media,
        }),
    })
}

/// An e-learning package: a ZIP of `files/` whose manifest says what it launches.
fn package(report: &mut Report, path: &Path, text: &str, files: &Files) -> Option<Loaded> {
    let f: PackageFile = parse_toml(report, path, text)?;
    let before = report.errors.len();
    check_common(report, path, text, &f.title, f.minutes);
    let line = line_of(text, "file", 1);
    files.check(report, path, line, &f.file, &[Media::Zip], false)?;
    let checked = match crate::curriculum::package_view::check_zip(&files.dir.join(&f.file)) {
        Ok(c) => c,
        Err(why) => {
            report.err(path, line, format!("« {} » : {why}", f.file));
            return None;
        }
    };
    (report.errors.len() == before).then(|| Loaded {
        title: f.title.trim().to_string(),
        minutes: f.minutes,
        required: f.required,
        body: Body::Package(PackageActivity {
            file: f.file,
            summary: f.summary,
            opened: checked.opened,
        }),
    })
}
