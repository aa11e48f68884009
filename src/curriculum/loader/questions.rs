//! The module's question bank (`questions.toml`), its quizzes and its evaluation.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{Report, line_of, parse_toml, read, rel};
use crate::base::digest::hex;
use crate::curriculum::quiz::{Choice, Numeric, Pair, Question, QuestionKind, Quiz};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BankFile {
    #[serde(default)]
    questions: Vec<QuestionFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionFile {
    id: String,
    kind: QuestionKind,
    text: String,
    #[serde(default)]
    correct: Vec<String>,
    #[serde(default)]
    explanation: String,
    #[serde(default)]
    choices: Vec<ChoiceFile>,
    #[serde(default)]
    pairs: Vec<PairFile>,
    answer: Option<f64>,
    #[serde(default)]
    tolerance: f64,
    #[serde(default)]
    unit: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChoiceFile {
    id: String,
    text: String,
    #[serde(default)]
    feedback: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PairFile {
    left: String,
    right: String,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuizFile {
    title: String,
    pass_mark: u32,
    max_attempts: u32,
    #[serde(default)]
    minutes: u32,
    required: Option<bool>,
    #[serde(default = "yes")]
    shuffle: bool,
    draw: Option<u32>,
    questions: Vec<String>,
}

/// A bank question with the hash of its source, so a quiz's hash follows its questions.
pub(super) struct Banked {
    question: Question,
    source: String,
}

#[derive(Default)]
pub(super) struct Bank {
    questions: BTreeMap<String, Banked>,
    /// Questions with errors of their own: a quiz naming them adds no second error.
    broken: BTreeSet<String>,
}

/// Reads `questions.toml` (a module may have none); a faulty question is reported and left out.
pub(super) fn load_bank(
    report: &mut Report,
    dir: &Path,
    program_dir: &Path,
    hasher: &mut Sha256,
) -> Bank {
    let file = dir.join("questions.toml");
    let mut bank = Bank::default();
    if !file.is_file() {
        return bank;
    }
    let Some(text) = read(report, &file) else {
        return bank;
    };
    hasher.update(rel(&file, program_dir).to_string_lossy().as_bytes());
    hasher.update(b"\0");
    hasher.update(text.as_bytes());
    let Some(bf) = parse_toml::<BankFile>(report, &file, &text) else {
        return bank;
    };
    for q in bf.questions {
        let line = line_of(&text, &format!("\"{}\"", q.id), 1).unwrap_or(1);
        if bank.questions.contains_key(&q.id) {
            report.err(
                &file,
                Some(line),
                format!("question « {} » en double", q.id),
            );
            continue;
        }
        let source = toml::to_string(&SourceOf(&q)).unwrap_or_default();
        // A wrong answer id is shown on its `correct` line, the rest on the question's.
        let correct_line = line_of(&text, "correct", line).unwrap_or(line);
        let id = q.id.clone();
        match check_question(report, &file, (line, correct_line), q) {
            Some(question) => {
                bank.questions
                    .insert(question.id.clone(), Banked { question, source });
            }
            None => {
                bank.broken.insert(id);
            }
        }
    }
    bank
}

/// The fields that make a question, for the hash.
struct SourceOf<'a>(&'a QuestionFile);

impl serde::Serialize for SourceOf<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let q = self.0;
        let choices: Vec<(&str, &str, &str)> = q
            .choices
            .iter()
            .map(|c| (c.id.as_str(), c.text.as_str(), c.feedback.as_str()))
            .collect();
        let pairs: Vec<(&str, &str)> = q
            .pairs
            .iter()
            .map(|p| (p.left.as_str(), p.right.as_str()))
            .collect();
        (
            &q.id,
            q.kind,
            &q.text,
            &q.correct,
            &q.explanation,
            choices,
            pairs,
            q.answer,
            q.tolerance,
            &q.unit,
        )
            .serialize(s)
    }
}

fn choices_of(q: &mut QuestionFile) -> Vec<Choice> {
    if q.kind == QuestionKind::TrueFalse && q.choices.is_empty() {
        return [("vrai", "Vrai"), ("faux", "Faux")]
            .iter()
            .map(|(id, text)| Choice {
                id: id.to_string(),
                text: text.to_string(),
                feedback: String::new(),
            })
            .collect();
    }
    std::mem::take(&mut q.choices)
        .into_iter()
        .map(|c| Choice {
            id: c.id,
            text: c.text,
            feedback: c.feedback,
        })
        .collect()
}

fn check_question(
    report: &mut Report,
    file: &Path,
    (line, correct_line): (usize, usize),
    mut q: QuestionFile,
) -> Option<Question> {
    let before = report.errors.len();
    let choices = choices_of(&mut q);
    let qid = q.id.clone();
    let fail = |report: &mut Report, m: String| {
        report.err(file, Some(line), format!("question « {qid} » : {m}"))
    };
    if q.text.trim().is_empty() {
        fail(report, "texte manquant".into());
    }
    let ids: BTreeSet<&str> = choices.iter().map(|c| c.id.as_str()).collect();
    match q.kind {
        QuestionKind::Single | QuestionKind::Multiple | QuestionKind::TrueFalse => {
            if ids.len() != choices.len() {
                fail(report, "deux réponses ont le même identifiant".into());
            }
            if choices.len() < 2 {
                fail(report, "au moins deux réponses".into());
            }
            if q.kind == QuestionKind::TrueFalse && ids != BTreeSet::from(["vrai", "faux"]) {
                fail(
                    report,
                    "les réponses d'un vrai/faux sont « vrai » et « faux »".into(),
                );
            }
            for c in &q.correct {
                if !ids.contains(c.as_str()) {
                    report.err(
                        file,
                        Some(correct_line),
                        format!(
                            "question « {} » : la bonne réponse « {c} » n'existe pas parmi les choix",
                            q.id
                        ),
                    );
                }
            }
            match (q.kind, q.correct.len()) {
                (_, 0) => fail(report, "aucune bonne réponse".into()),
                (QuestionKind::Single | QuestionKind::TrueFalse, n) if n > 1 => {
                    fail(report, "une seule bonne réponse attendue".into())
                }
                _ => {}
            }
        }
        QuestionKind::Matching => {
            let rights: BTreeSet<&str> = q.pairs.iter().map(|p| p.right.as_str()).collect();
            if q.pairs.len() < 2 || rights.len() != q.pairs.len() {
                fail(
                    report,
                    "au moins deux paires, aux éléments de droite tous différents".into(),
                );
            }
        }
        QuestionKind::Numeric => {
            if !q.answer.is_some_and(f64::is_finite) || q.tolerance < 0.0 {
                fail(
                    report,
                    "answer (un nombre) et une tolérance positive ou nulle".into(),
                );
            }
        }
    }
    (report.errors.len() == before).then(|| Question {
        numeric: q.answer.map(|answer| Numeric {
            answer,
            tolerance: q.tolerance,
            unit: q.unit,
        }),
        id: q.id,
        kind: q.kind,
        text: q.text,
        correct: q.correct,
        explanation: q.explanation,
        choices,
        pairs: q
            .pairs
            .into_iter()
            .map(|p| Pair {
                left: p.left,
                right: p.right,
            })
            .collect(),
    })
}

/// A quiz or the evaluation, its questions taken from the bank. Returns it with `required`.
pub(super) fn load_quiz(
    report: &mut Report,
    file: &Path,
    text: &str,
    bank: &Bank,
    evaluation: bool,
) -> Option<(Quiz, bool)> {
    let qf: QuizFile = parse_toml(report, file, text)?;
    let before = report.errors.len();
    if !(1..=100).contains(&qf.pass_mark) {
        report.err(
            file,
            line_of(text, "pass_mark", 1),
            "pass_mark entre 1 et 100",
        );
    }
    if qf.max_attempts == 0 {
        report.err(
            file,
            line_of(text, "max_attempts", 1),
            "max_attempts au moins 1",
        );
    }
    if evaluation && qf.required.is_some() {
        report.err(
            file,
            line_of(text, "required", 1),
            "l'évaluation est toujours obligatoire : retirez required",
        );
    }
    if !evaluation && (qf.title.trim().is_empty() || qf.minutes == 0) {
        report.err(
            file,
            Some(1),
            "un quiz a un titre et une durée (minutes) supérieure à 0",
        );
    }
    if qf.questions.is_empty() {
        report.err(file, None, "aucune question");
    }
    if qf
        .draw
        .is_some_and(|d| d == 0 || d as usize > qf.questions.len())
    {
        report.err(
            file,
            line_of(text, "draw", 1),
            "draw entre 1 et le nombre de questions",
        );
    }
    let mut hasher = Sha256::new();
    hasher.update(text.as_bytes());
    let mut questions = Vec::new();
    let mut seen = BTreeSet::new();
    for id in &qf.questions {
        let line = line_of(text, &format!("\"{id}\""), 1);
        if !seen.insert(id) {
            report.err(file, line, format!("question « {id} » en double"));
        } else if let Some(b) = bank.questions.get(id) {
            hasher.update(b.source.as_bytes());
            questions.push(b.question.clone());
        } else if !bank.broken.contains(id) {
            report.err(
                file,
                line,
                format!("la question « {id} » n'est pas dans la banque (questions.toml)"),
            );
        }
    }
    (report.errors.len() == before).then(|| {
        (
            Quiz {
                title: qf.title,
                pass_mark: qf.pass_mark,
                max_attempts: qf.max_attempts,
                minutes: qf.minutes,
                shuffle: qf.shuffle,
                draw: qf.draw,
                questions,
                hash: hex(&hasher.finalize()),
            },
            qf.required.unwrap_or(true),
        )
    })
}
