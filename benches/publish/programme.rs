//! The programme the publish line publishes: the organism's copy of the reference CQP as its
//! draft holds it, with practical sheets (lessons) and practice quizzes on each module's bank
//! added until each of its 4 modules has 50 activities, 200 in all.
//!
//! Durations stay honest: a sheet announces the minutes its words take to read (180 words a
//! minute, content/README.md) and a quiz one minute per question plus two. The new activities
//! are required, so each module gains whole hours of distance work: as many hours move from
//! its classroom hours to its distance hours (its planned hours, and the programme's, do not
//! change), and its required activities add up to its distance hours exactly, as
//! `parcours content check` wants.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use parcours::objects::Shelf;

use super::text;

pub const MODULES: usize = 4;
pub const PER_MODULE: usize = 50;

/// The generated programme: a folder as `parcours content check` reads it (`root`, holding
/// the programme's folder `dir`), and the sheet the rounds of the bench edit.
pub struct Generated {
    pub root: tempfile::TempDir,
    pub dir: PathBuf,
    /// The edited sheet's path in the programme, and its text.
    pub lesson: (String, String),
    /// Per module folder: activities before and after, hours moved to distance.
    pub added: Vec<(String, usize, usize, u32)>,
}

/// Writes the draft's files (`files`: path to blob) as a folder, then adds to each module.
pub fn generate(blobs: &Shelf, files: &BTreeMap<String, String>) -> anyhow::Result<Generated> {
    let root = tempfile::tempdir()?;
    let dir = root.path().join("programme");
    for (path, sha) in files {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        // Written afresh: a blob is never edited in place.
        std::fs::write(target, blobs.read(sha)?)?;
    }
    let folders: Vec<&str> = files
        .keys()
        .filter_map(|p| p.strip_suffix("/module.toml"))
        .collect();
    anyhow::ensure!(
        folders.len() == MODULES,
        "{} modules in the copy",
        folders.len()
    );
    let mut lesson = None;
    let mut added = Vec::new();
    for (m, folder) in folders.iter().enumerate() {
        let extended = extend(&dir.join(folder), m)?;
        lesson.get_or_insert((
            format!("{folder}/{}", extended.first_lesson.0),
            extended.first_lesson.1,
        ));
        added.push((
            folder.to_string(),
            extended.before,
            PER_MODULE,
            extended.hours,
        ));
    }
    Ok(Generated {
        root,
        dir,
        lesson: lesson.ok_or_else(|| anyhow::anyhow!("no module"))?,
        added,
    })
}

struct Extended {
    before: usize,
    hours: u32,
    /// The module's first new sheet: its path in the module and its text.
    first_lesson: (String, String),
}

/// The minutes of the new sheets and quizzes of a module: sheets of 2 to 5 minutes, quizzes
/// of 4 to 12 questions (two minutes more than questions), nudged up within those bounds so
/// that the module gains whole hours.
fn durations(new: usize) -> anyhow::Result<(Vec<u32>, Vec<u32>)> {
    let quizzes = new.div_ceil(7);
    let mut sheets: Vec<u32> = (0..new - quizzes)
        .map(|i| [3, 2, 4, 3, 2, 3][i % 6])
        .collect();
    let mut quiz_minutes: Vec<u32> = (0..quizzes).map(|j| 8 + (j as u32 % 3) * 2).collect();
    let mut total: u32 = sheets.iter().sum::<u32>() + quiz_minutes.iter().sum::<u32>();
    let target = total.div_ceil(60) * 60;
    while total < target {
        let before = total;
        let sheets = sheets.iter_mut().map(|m| (m, 5));
        for (m, most) in sheets.chain(quiz_minutes.iter_mut().map(|m| (m, 14))) {
            if total < target && *m < most {
                *m += 1;
                total += 1;
            }
        }
        anyhow::ensure!(total != before, "{new} activities make no whole hours");
    }
    Ok((sheets, quiz_minutes))
}

/// The question ids of a module's bank, in their order.
fn bank(folder: &Path) -> anyhow::Result<Vec<String>> {
    let table: toml::Table =
        toml::from_str(&std::fs::read_to_string(folder.join("questions.toml"))?)?;
    Ok(table
        .get("questions")
        .and_then(|q| q.as_array())
        .into_iter()
        .flatten()
        .filter_map(|q| q.get("id")?.as_str().map(str::to_string))
        .collect())
}

/// Adds sheets and quizzes to the module in `folder` until it has `PER_MODULE` activities,
/// in sequences of a few sheets closed by a quiz, and moves the hours they take to distance.
fn extend(folder: &Path, module: usize) -> anyhow::Result<Extended> {
    let path = folder.join("module.toml");
    let text = std::fs::read_to_string(&path)?;
    let table: toml::Table = toml::from_str(&text)?;
    let before: usize = table
        .get("sequences")
        .and_then(|s| s.as_array())
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("activities")?.as_array().map(Vec::len))
        .sum();
    anyhow::ensure!(before < PER_MODULE, "{before} activities already");
    let (sheets, quizzes) = durations(PER_MODULE - before)?;
    let hours = (sheets.iter().sum::<u32>() + quizzes.iter().sum::<u32>()) / 60;
    let bank = bank(folder)?;
    std::fs::create_dir_all(folder.join("lessons"))?;
    std::fs::create_dir_all(folder.join("quizzes"))?;
    let mut first_lesson = None;
    let mut sequences = String::new();
    let per_quiz = sheets.len().div_ceil(quizzes.len());
    for (j, (chunk, minutes)) in sheets.chunks(per_quiz).zip(&quizzes).enumerate() {
        let mut entries = Vec::new();
        for (k, m) in chunk.iter().enumerate() {
            let n = j * per_quiz + k;
            let (title, body) = text::lesson(module, n, *m);
            anyhow::ensure!(
                text::reading_minutes(&body) == *m as usize,
                "sheet {n} of module {module}: {} words for {m} min",
                text::words(&body)
            );
            let name = format!("lessons/60-fiche-{:02}.md", n + 1);
            let file = format!("+++\ntitle = \"{title}\"\nminutes = {m}\n+++\n\n{body}");
            std::fs::write(folder.join(&name), &file)?;
            first_lesson.get_or_insert((name.clone(), file));
            entries.push(name);
        }
        let count = (*minutes - 2) as usize;
        anyhow::ensure!(count <= bank.len(), "a bank of {} questions", bank.len());
        let ids: Vec<String> = (0..count)
            .map(|i| format!("\"{}\"", bank[(j * 7 + i) % bank.len()]))
            .collect();
        let name = format!("quizzes/60-entrainement-{:02}.toml", j + 1);
        std::fs::write(
            folder.join(&name),
            format!(
                "title = \"Entraînement — fiches pratiques {} à {}\"\nminutes = {minutes}\npass_mark = 70\nmax_attempts = 3\nquestions = [{}]\n",
                j * per_quiz + 1,
                j * per_quiz + chunk.len(),
                ids.join(", ")
            ),
        )?;
        entries.push(name);
        sequences.push_str(&format!(
            "\n[[sequences]]\ntitle = \"Fiches pratiques, série {}\"\nactivities = [\n{}]\n",
            j + 1,
            entries
                .iter()
                .map(|e| format!("  \"{e}\",\n"))
                .collect::<String>()
        ));
    }
    std::fs::write(&path, moved(&text, hours)? + &sequences)?;
    Ok(Extended {
        before,
        hours,
        first_lesson: first_lesson.ok_or_else(|| anyhow::anyhow!("no sheet"))?,
    })
}

/// `module.toml` with `hours` moved from its classroom hours to its distance hours.
fn moved(text: &str, hours: u32) -> anyhow::Result<String> {
    let mut out = String::new();
    let mut seen = 0;
    for line in text.lines() {
        let shifted = [("distance_hours", true), ("presentiel_hours", false)]
            .into_iter()
            .find_map(|(key, up)| {
                let value: u32 = line
                    .strip_prefix(key)?
                    .trim()
                    .strip_prefix('=')?
                    .trim()
                    .parse()
                    .ok()?;
                let value = if up {
                    value + hours
                } else {
                    value.checked_sub(hours)?
                };
                Some(format!("{key} = {value}"))
            });
        match shifted {
            Some(l) => {
                seen += 1;
                out.push_str(&l);
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    anyhow::ensure!(
        seen == 2,
        "module.toml: distance and classroom hours not moved"
    );
    Ok(out)
}
