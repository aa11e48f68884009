//! The curriculum as loaded and checked, and the pure rules on it: lookups and scoring.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Cqp,
    Fae,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    Distance,
    Presentiel,
    Mixte,
}

impl Modality {
    pub fn label(self) -> &'static str {
        match self {
            Modality::Distance => "À distance",
            Modality::Presentiel => "En présentiel",
            Modality::Mixte => "Mixte (à distance et en présentiel)",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mission {
    Administratif,
    Consultation,
    Coordination,
}

impl Mission {
    pub fn label(self) -> &'static str {
        match self {
            Mission::Administratif => "Missions administratives",
            Mission::Consultation => "Préparation et déroulement de la consultation",
            Mission::Coordination => "Organisation et coordination",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuestionKind {
    Single,
    Multiple,
}

#[derive(Clone, Debug, Serialize)]
pub struct Choice {
    pub id: String,
    pub text: String,
    pub feedback: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Question {
    pub id: String,
    pub kind: QuestionKind,
    pub text: String,
    pub correct: Vec<String>,
    pub explanation: String,
    pub choices: Vec<Choice>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Evaluation {
    pub title: String,
    pub pass_mark: u32,
    pub max_attempts: u32,
    pub minutes: u32,
    pub questions: Vec<Question>,
    /// Hash of the evaluation file: attempts keep the version they answered.
    pub hash: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Lesson {
    pub slug: String,
    pub title: String,
    pub minutes: u32,
    pub order: u32,
    #[serde(skip)]
    pub html: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Module {
    pub code: String,
    pub title: String,
    pub order: u32,
    pub bloc: String,
    pub planned_hours: u32,
    pub modality: Modality,
    pub distance_hours: u32,
    pub presentiel_hours: u32,
    pub missions: Vec<Mission>,
    pub objectives: Vec<String>,
    pub summary: String,
    pub lessons: Vec<Lesson>,
    #[serde(skip)]
    pub evaluation: Option<Evaluation>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Program {
    pub code: String,
    pub title: String,
    pub kind: Kind,
    pub certification: String,
    pub total_hours: u32,
    pub min_months: u32,
    pub max_months: u32,
    pub summary: String,
    pub modules: Vec<Module>,
    /// Hash of every file of the programme: a change makes a new content version.
    pub hash: String,
}

impl Program {
    pub fn lesson_count(&self) -> usize {
        self.modules.iter().map(|m| m.lessons.len()).sum()
    }

    pub fn question_count(&self) -> usize {
        self.modules
            .iter()
            .filter_map(|m| m.evaluation.as_ref())
            .map(|e| e.questions.len())
            .sum()
    }

    pub fn module(&self, code: &str) -> Option<&Module> {
        self.modules.iter().find(|m| m.code == code)
    }
}

impl Module {
    pub fn lesson(&self, slug: &str) -> Option<(usize, &Lesson)> {
        self.lessons
            .iter()
            .enumerate()
            .find(|(_, l)| l.slug == slug)
    }
}

/// Every programme, checked; shared read-only by the whole app.
#[derive(Clone, Debug, Default)]
pub struct Curriculum {
    pub programs: Vec<Program>,
}

impl Curriculum {
    pub fn program(&self, code: &str) -> Option<&Program> {
        self.programs.iter().find(|p| p.code == code)
    }

    /// A module and its programme, by the module's code (codes are unique across programmes).
    pub fn module(&self, code: &str) -> Option<(&Program, &Module)> {
        self.programs
            .iter()
            .find_map(|p| p.module(code).map(|m| (p, m)))
    }
}

/// Chosen answers by question id.
pub type Answers = BTreeMap<String, Vec<String>>;

#[derive(Debug, PartialEq, Eq)]
pub enum AnswerError {
    UnknownQuestion(String),
    UnknownChoice { question: String, choice: String },
    SeveralForSingle(String),
}

impl AnswerError {
    pub fn message(&self) -> String {
        match self {
            AnswerError::UnknownQuestion(q) => format!("La question « {q} » n'existe pas."),
            AnswerError::UnknownChoice { question, choice } => {
                format!("La réponse « {choice} » n'existe pas pour la question « {question} ».")
            }
            AnswerError::SeveralForSingle(q) => {
                format!("La question « {q} » n'attend qu'une seule réponse.")
            }
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Score {
    pub correct: u32,
    pub total: u32,
    pub pct: u32,
    pub passed: bool,
    /// Ids of the questions answered right.
    pub right: Vec<String>,
}

/// Scores answers: a question counts when the chosen set is exactly the correct set;
/// an unanswered question counts as wrong. Unknown ids are refused, never ignored.
pub fn score(evaluation: &Evaluation, answers: &Answers) -> Result<Score, AnswerError> {
    for (qid, chosen) in answers {
        let q = evaluation
            .questions
            .iter()
            .find(|q| &q.id == qid)
            .ok_or_else(|| AnswerError::UnknownQuestion(qid.clone()))?;
        if let Some(bad) = chosen
            .iter()
            .find(|c| !q.choices.iter().any(|ch| &ch.id == *c))
        {
            return Err(AnswerError::UnknownChoice {
                question: qid.clone(),
                choice: bad.clone(),
            });
        }
        if q.kind == QuestionKind::Single && chosen.len() > 1 {
            return Err(AnswerError::SeveralForSingle(qid.clone()));
        }
    }
    let right: Vec<String> = evaluation
        .questions
        .iter()
        .filter(|q| {
            let chosen: BTreeSet<&String> = answers.get(&q.id).into_iter().flatten().collect();
            let correct: BTreeSet<&String> = q.correct.iter().collect();
            !chosen.is_empty() && chosen == correct
        })
        .map(|q| q.id.clone())
        .collect();
    let total = evaluation.questions.len() as u32;
    let correct = right.len() as u32;
    let pct = (correct * 100 + total / 2)
        .checked_div(total)
        .unwrap_or(100);
    Ok(Score {
        correct,
        total,
        pct,
        passed: pct >= evaluation.pass_mark,
        right,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(id: &str, kind: QuestionKind, correct: &[&str]) -> Question {
        Question {
            id: id.into(),
            kind,
            text: "?".into(),
            correct: correct.iter().map(|s| s.to_string()).collect(),
            explanation: String::new(),
            choices: ["a", "b", "c"]
                .iter()
                .map(|c| Choice {
                    id: c.to_string(),
                    text: c.to_string(),
                    feedback: String::new(),
                })
                .collect(),
        }
    }

    fn eval() -> Evaluation {
        Evaluation {
            title: "E".into(),
            pass_mark: 70,
            max_attempts: 3,
            minutes: 10,
            questions: vec![
                q("q1", QuestionKind::Single, &["b"]),
                q("q2", QuestionKind::Multiple, &["a", "c"]),
                q("q3", QuestionKind::Single, &["a"]),
            ],
            hash: "h".into(),
        }
    }

    fn answers(pairs: &[(&str, &[&str])]) -> Answers {
        pairs
            .iter()
            .map(|(q, c)| (q.to_string(), c.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn exact_sets_score_and_the_pass_mark_decides() {
        let s = score(
            &eval(),
            &answers(&[("q1", &["b"]), ("q2", &["c", "a"]), ("q3", &["a"])]),
        )
        .unwrap();
        assert_eq!((s.correct, s.pct, s.passed), (3, 100, true));
        // A partial multiple choice is wrong; 2/3 = 67 % is below 70 %.
        let s = score(
            &eval(),
            &answers(&[("q1", &["b"]), ("q2", &["a"]), ("q3", &["a"])]),
        )
        .unwrap();
        assert_eq!((s.correct, s.pct, s.passed), (2, 67, false));
        assert_eq!(s.right, ["q1", "q3"]);
        // Nothing answered: zero, not an error.
        let s = score(&eval(), &Answers::new()).unwrap();
        assert_eq!((s.correct, s.passed), (0, false));
    }

    #[test]
    fn unknown_ids_are_refused() {
        assert_eq!(
            score(&eval(), &answers(&[("q9", &["a"])])),
            Err(AnswerError::UnknownQuestion("q9".into()))
        );
        assert!(matches!(
            score(&eval(), &answers(&[("q1", &["z"])])),
            Err(AnswerError::UnknownChoice { .. })
        ));
        assert_eq!(
            score(&eval(), &answers(&[("q1", &["a", "b"])])),
            Err(AnswerError::SeveralForSingle("q1".into()))
        );
    }
}
