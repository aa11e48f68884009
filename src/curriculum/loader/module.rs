//! One module folder: `module.toml`, its sequences and the activity files they list.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::{ModuleFile, Report, activities, line_of, parse_toml, questions, read, rel};
use crate::curriculum::rules::*;

/// The module's files as the hash sees them: path, then content, so a renamed file is a change.
fn hash_file(hasher: &mut Sha256, program_dir: &Path, file: &Path, bytes: &[u8]) {
    hasher.update(rel(file, program_dir).to_string_lossy().as_bytes());
    hasher.update(b"\0");
    hasher.update(bytes);
}

fn check_hours(report: &mut Report, file: &Path, text: &str, mf: &ModuleFile) {
    if mf.code.trim().is_empty() || mf.title.trim().is_empty() {
        report.err(file, Some(1), "code et title sont obligatoires");
    }
    if mf.distance_hours + mf.presentiel_hours != mf.planned_hours {
        report.err(
            file,
            line_of(text, "planned_hours", 1),
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
            file,
            line_of(text, "modality", 1),
            "la répartition des heures ne correspond pas à la modalité",
        );
    }
    if mf.missions.is_empty() {
        report.err(file, line_of(text, "missions", 1), "au moins une mission");
    }
}

/// The kind of an entry of a sequence, from its folder and extension; `None` for anything
/// else (another folder, `..`, an absolute path).
fn kind_of(entry: &str) -> Option<(ActivityKind, &str)> {
    let (folder, name) = entry.split_once('/')?;
    let kind = ActivityKind::ALL
        .into_iter()
        .find(|k| k.folder() == folder)?;
    let ext = match kind {
        ActivityKind::Lesson | ActivityKind::Assignment => ".md",
        ActivityKind::Quiz | ActivityKind::Resource | ActivityKind::Package => ".toml",
    };
    let slug = name.strip_suffix(ext)?;
    let valid = !slug.is_empty()
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    valid.then_some((kind, slug))
}

/// The files present in the activity folders, as `folder/name`.
fn files_on_disk(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for kind in ActivityKind::ALL {
        for path in super::sorted_entries(&dir.join(kind.folder())).unwrap_or_default() {
            if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
                out.insert(format!("{}/{name}", kind.folder()));
            }
        }
    }
    out
}

pub(super) fn load_module(
    report: &mut Report,
    dir: &Path,
    program_dir: &Path,
    hasher: &mut Sha256,
) -> Option<Module> {
    let file = dir.join("module.toml");
    let text = read(report, &file)?;
    hash_file(hasher, program_dir, &file, text.as_bytes());
    let mf: ModuleFile = parse_toml(report, &file, &text)?;
    let before = report.errors.len();
    check_hours(report, &file, &text, &mf);

    let bank = questions::load_bank(report, dir, program_dir, hasher);
    let files = activities::Files::new(dir, program_dir);
    let acts = {
        let mut walk = Walk {
            report: &mut *report,
            module: (dir, &file, &text),
            program_dir,
            hasher: &mut *hasher,
            bank: &bank,
            files: &files,
        };
        walk.sequences(&mf)
    };
    files.hash_into(report, hasher);

    let eval_file = dir.join("evaluation.toml");
    let evaluation = if eval_file.is_file() {
        let text = read(report, &eval_file)?;
        hash_file(hasher, program_dir, &eval_file, text.as_bytes());
        questions::load_quiz(report, &eval_file, &text, &bank, true).map(|(q, _)| q)
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
        sequences: mf.sequences.into_iter().map(|s| s.title).collect(),
        dir: dir.to_path_buf(),
        files: files.into_used(),
        activities: acts,
        evaluation,
    })
}

/// The walk through a module's sequences: what the activity files need while they are read.
struct Walk<'a> {
    report: &'a mut Report,
    /// The module's folder, its `module.toml` and that file's text.
    module: (&'a Path, &'a Path, &'a str),
    program_dir: &'a Path,
    hasher: &'a mut Sha256,
    bank: &'a questions::Bank,
    files: &'a activities::Files,
}

impl Walk<'_> {
    /// Every activity the sequences list, in order; each file listed once and every activity
    /// file listed.
    fn sequences(&mut self, mf: &ModuleFile) -> Vec<Activity> {
        let (dir, file, text) = self.module;
        let mut listed: BTreeMap<String, usize> = BTreeMap::new();
        let mut slugs = HashSet::new();
        let mut acts = Vec::new();
        if mf.sequences.is_empty() {
            self.report
                .err(file, None, "le module n'a aucune séquence ([[sequences]])");
        }
        for (index, seq) in mf.sequences.iter().enumerate() {
            let seq_line = line_of(text, &seq.title, 1);
            if seq.title.trim().is_empty() {
                self.report.err(file, seq_line, "séquence sans titre");
            }
            if seq.activities.is_empty() {
                self.report.err(
                    file,
                    seq_line,
                    format!("la séquence « {} » n'a aucune activité", seq.title),
                );
            }
            for entry in &seq.activities {
                *listed.entry(entry.clone()).or_default() += 1;
                if let Some(a) = self.activity(entry, index, &mut slugs) {
                    acts.push(a);
                }
            }
        }
        for (entry, n) in &listed {
            if *n > 1 {
                self.report.err(
                    file,
                    line_of(text, &format!("\"{entry}\""), 1),
                    format!("« {entry} » figure dans {n} séquences (une seule attendue)"),
                );
            }
        }
        for entry in files_on_disk(dir) {
            if !listed.contains_key(&entry) {
                self.report.err(
                    &dir.join(&entry),
                    None,
                    "fichier d'activité qui ne figure dans aucune séquence de module.toml",
                );
            }
        }
        acts
    }

    /// One entry of a sequence, read and checked.
    fn activity(
        &mut self,
        entry: &str,
        sequence: usize,
        slugs: &mut HashSet<String>,
    ) -> Option<Activity> {
        let (dir, file, text) = self.module;
        let line = line_of(text, &format!("\"{entry}\""), 1);
        let Some((kind, slug)) = kind_of(entry) else {
            self.report.err(
                file,
                line,
                format!(
                    "« {entry} » n'est pas une activité : lessons/*.md, quizzes/*.toml, \
                     assignments/*.md ou resources/*.toml, nom en minuscules sans espace"
                ),
            );
            return None;
        };
        if !slugs.insert(slug.to_string()) {
            self.report.err(
                file,
                line,
                format!("deux activités du module s'appellent « {slug} »"),
            );
            return None;
        }
        let path = dir.join(entry);
        if !path.is_file() {
            self.report
                .err(file, line, format!("« {entry} » n'existe pas"));
            return None;
        }
        let body = read(self.report, &path)?;
        hash_file(self.hasher, self.program_dir, &path, body.as_bytes());
        let loaded = match kind {
            ActivityKind::Quiz => questions::load_quiz(self.report, &path, &body, self.bank, false)
                .map(|(quiz, required)| activities::Loaded {
                    title: quiz.title.clone(),
                    minutes: quiz.minutes,
                    required,
                    body: Body::Quiz(quiz),
                }),
            _ => activities::load(self.report, kind, &path, &body, self.files),
        }?;
        Some(Activity {
            slug: slug.to_string(),
            title: loaded.title,
            kind,
            minutes: loaded.minutes,
            required: loaded.required,
            sequence,
            body: loaded.body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_activity_folders_and_plain_names_are_activities() {
        assert_eq!(
            kind_of("lessons/01-role.md"),
            Some((ActivityKind::Lesson, "01-role"))
        );
        assert_eq!(
            kind_of("quizzes/q_1.toml"),
            Some((ActivityKind::Quiz, "q_1"))
        );
        for bad in [
            "lessons/../../etc/passwd.md",
            "/lessons/a.md",
            "lessons/a.toml",
            "files/a.md",
            "lessons/Rôle.md",
            "lessons/.md",
            "a.md",
        ] {
            assert_eq!(kind_of(bad), None, "{bad}");
        }
    }
}
