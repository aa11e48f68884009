//! Questions, quizzes and their scoring: pure rules, no I/O.
//!
//! The module's evaluation and its formative quizzes are the same thing, a [`Quiz`]: questions
//! taken from the module's bank, a pass mark and a number of attempts.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuestionKind {
    Single,
    Multiple,
    TrueFalse,
    Matching,
    Numeric,
}

#[derive(Clone, Debug, Serialize)]
pub struct Choice {
    pub id: String,
    pub text: String,
    pub feedback: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Pair {
    pub left: String,
    pub right: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Numeric {
    pub answer: f64,
    pub tolerance: f64,
    pub unit: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Question {
    pub id: String,
    pub kind: QuestionKind,
    pub text: String,
    /// Choice ids (single, multiple, true/false).
    pub correct: Vec<String>,
    pub explanation: String,
    pub choices: Vec<Choice>,
    pub pairs: Vec<Pair>,
    pub numeric: Option<Numeric>,
}

impl Question {
    /// The right-hand sides of a matching question, in a fixed order that is not the answer's.
    pub fn rights(&self) -> Vec<&str> {
        let mut r: Vec<&str> = self.pairs.iter().map(|p| p.right.as_str()).collect();
        r.sort_unstable();
        r
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Quiz {
    pub title: String,
    pub pass_mark: u32,
    pub max_attempts: u32,
    pub minutes: u32,
    pub shuffle: bool,
    /// Questions drawn at each attempt; `None` means all of them.
    pub draw: Option<u32>,
    pub questions: Vec<Question>,
    /// Hash of the quiz and of its questions: attempts keep the version they answered.
    pub hash: String,
}

impl Quiz {
    /// How many questions an attempt has.
    pub fn attempt_size(&self) -> usize {
        self.draw.map_or(self.questions.len(), |d| {
            (d as usize).min(self.questions.len())
        })
    }

    /// The questions of one attempt, in the order shown: drawn and shuffled from the attempt's
    /// seed, so that reloading the page or scoring it later gives the same questions.
    pub fn for_attempt(&self, seed: i64) -> Vec<&Question> {
        let mut qs: Vec<&Question> = self.questions.iter().collect();
        if self.shuffle || self.draw.is_some() {
            qs.sort_by_cached_key(|q| {
                Sha256::new()
                    .chain_update(self.hash.as_bytes())
                    .chain_update(seed.to_le_bytes())
                    .chain_update(q.id.as_bytes())
                    .finalize()
            });
        }
        qs.truncate(self.attempt_size());
        if !self.shuffle {
            // Drawn but not shuffled: the bank's order.
            qs.sort_by_key(|q| self.questions.iter().position(|o| o.id == q.id));
        }
        qs
    }
}

/// Answers by question id: chosen choice ids; for matching, `"i:j"` (left i with the j-th of
/// [`Question::rights`]); for a numeric question, the number as typed.
pub type Answers = BTreeMap<String, Vec<String>>;

#[derive(Debug, PartialEq, Eq)]
pub enum AnswerError {
    UnknownQuestion(String),
    UnknownChoice { question: String, choice: String },
    SeveralForSingle(String),
    NotANumber { question: String, value: String },
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
            AnswerError::NotANumber { question, value } => {
                format!("La réponse « {value} » à la question « {question} » n'est pas un nombre.")
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

/// A number as a French trainee types it: "22,5", "22.5", " 1 200 ".
pub fn parse_number(s: &str) -> Option<f64> {
    let cleaned: String = s
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{202f}')
        .map(|c| if c == ',' { '.' } else { c })
        .collect();
    cleaned.parse::<f64>().ok().filter(|n| n.is_finite())
}

fn matching_pair(q: &Question, value: &str) -> Option<(usize, usize)> {
    let (l, r) = value.split_once(':')?;
    let (l, r) = (l.parse::<usize>().ok()?, r.parse::<usize>().ok()?);
    (l < q.pairs.len() && r < q.pairs.len()).then_some((l, r))
}

/// Refuses what no form of ours could have sent, rather than ignoring it.
fn check_answer(q: &Question, chosen: &[String]) -> Result<(), AnswerError> {
    let bad = |choice: &String| AnswerError::UnknownChoice {
        question: q.id.clone(),
        choice: choice.clone(),
    };
    match q.kind {
        QuestionKind::Single | QuestionKind::Multiple | QuestionKind::TrueFalse => {
            if let Some(c) = chosen
                .iter()
                .find(|c| !q.choices.iter().any(|ch| &ch.id == *c))
            {
                return Err(bad(c));
            }
            if q.kind != QuestionKind::Multiple && chosen.len() > 1 {
                return Err(AnswerError::SeveralForSingle(q.id.clone()));
            }
        }
        QuestionKind::Matching => {
            if let Some(c) = chosen.iter().find(|c| matching_pair(q, c).is_none()) {
                return Err(bad(c));
            }
        }
        QuestionKind::Numeric => {
            if chosen.len() > 1 {
                return Err(AnswerError::SeveralForSingle(q.id.clone()));
            }
            if let Some(v) = chosen
                .iter()
                .find(|v| !v.trim().is_empty() && parse_number(v).is_none())
            {
                return Err(AnswerError::NotANumber {
                    question: q.id.clone(),
                    value: v.clone(),
                });
            }
        }
    }
    Ok(())
}

/// Whether a (checked) answer is exactly right. An empty answer is wrong.
pub fn is_right(q: &Question, chosen: &[String]) -> bool {
    match q.kind {
        QuestionKind::Single | QuestionKind::Multiple | QuestionKind::TrueFalse => {
            let chosen: BTreeSet<&String> = chosen.iter().collect();
            !chosen.is_empty() && chosen == q.correct.iter().collect()
        }
        QuestionKind::Matching => {
            let rights = q.rights();
            let given: BTreeMap<usize, usize> =
                chosen.iter().filter_map(|c| matching_pair(q, c)).collect();
            given.len() == q.pairs.len()
                && q.pairs
                    .iter()
                    .enumerate()
                    .all(|(i, p)| given.get(&i).map(|&j| rights[j]) == Some(p.right.as_str()))
        }
        QuestionKind::Numeric => match (&q.numeric, chosen.first().and_then(|v| parse_number(v))) {
            (Some(n), Some(v)) => (v - n.answer).abs() <= n.tolerance + 1e-9,
            _ => false,
        },
    }
}

/// Scores an attempt on the questions it was given: a question counts when its answer is
/// exactly right; an unanswered question counts as wrong. Unknown ids are refused.
pub fn score(quiz: &Quiz, asked: &[&Question], answers: &Answers) -> Result<Score, AnswerError> {
    for (qid, chosen) in answers {
        let q = asked
            .iter()
            .find(|q| &q.id == qid)
            .ok_or_else(|| AnswerError::UnknownQuestion(qid.clone()))?;
        check_answer(q, chosen)?;
    }
    let right: Vec<String> = asked
        .iter()
        .filter(|q| is_right(q, answers.get(&q.id).map_or(&[][..], |v| v.as_slice())))
        .map(|q| q.id.clone())
        .collect();
    let total = asked.len() as u32;
    let correct = right.len() as u32;
    let pct = (correct * 100 + total / 2)
        .checked_div(total)
        .unwrap_or(100);
    Ok(Score {
        correct,
        total,
        pct,
        passed: pct >= quiz.pass_mark,
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
            pairs: vec![],
            numeric: None,
        }
    }

    fn quiz(questions: Vec<Question>) -> Quiz {
        Quiz {
            title: "E".into(),
            pass_mark: 70,
            max_attempts: 3,
            minutes: 10,
            shuffle: false,
            draw: None,
            questions,
            hash: "h".into(),
        }
    }

    fn eval() -> Quiz {
        quiz(vec![
            q("q1", QuestionKind::Single, &["b"]),
            q("q2", QuestionKind::Multiple, &["a", "c"]),
            q("q3", QuestionKind::Single, &["a"]),
        ])
    }

    fn answers(pairs: &[(&str, &[&str])]) -> Answers {
        pairs
            .iter()
            .map(|(q, c)| (q.to_string(), c.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    fn score_all(quiz: &Quiz, a: &Answers) -> Result<Score, AnswerError> {
        score(quiz, &quiz.for_attempt(1), a)
    }

    #[test]
    fn exact_sets_score_and_the_pass_mark_decides() {
        let e = eval();
        let s = score_all(
            &e,
            &answers(&[("q1", &["b"]), ("q2", &["c", "a"]), ("q3", &["a"])]),
        )
        .unwrap();
        assert_eq!((s.correct, s.pct, s.passed), (3, 100, true));
        // A partial multiple choice is wrong; 2/3 = 67 % is below 70 %.
        let s = score_all(
            &e,
            &answers(&[("q1", &["b"]), ("q2", &["a"]), ("q3", &["a"])]),
        )
        .unwrap();
        assert_eq!((s.correct, s.pct, s.passed), (2, 67, false));
        assert_eq!(s.right, ["q1", "q3"]);
        let s = score_all(&e, &Answers::new()).unwrap();
        assert_eq!((s.correct, s.passed), (0, false));
    }

    #[test]
    fn unknown_ids_are_refused() {
        let e = eval();
        assert_eq!(
            score_all(&e, &answers(&[("q9", &["a"])])),
            Err(AnswerError::UnknownQuestion("q9".into()))
        );
        assert!(matches!(
            score_all(&e, &answers(&[("q1", &["z"])])),
            Err(AnswerError::UnknownChoice { .. })
        ));
        assert_eq!(
            score_all(&e, &answers(&[("q1", &["a", "b"])])),
            Err(AnswerError::SeveralForSingle("q1".into()))
        );
    }

    #[test]
    fn matching_needs_every_pair_right() {
        let mut m = q("m", QuestionKind::Matching, &[]);
        m.choices.clear();
        m.pairs = [
            ("ALD", "Affection de longue durée"),
            ("C2S", "Complémentaire santé solidaire"),
        ]
        .iter()
        .map(|(l, r)| Pair {
            left: l.to_string(),
            right: r.to_string(),
        })
        .collect();
        let rights = m.rights();
        let j = |r: &str| rights.iter().position(|x| *x == r).unwrap();
        let good = vec![
            format!("0:{}", j("Affection de longue durée")),
            format!("1:{}", j("Complémentaire santé solidaire")),
        ];
        assert!(is_right(&m, &good));
        let swapped = vec![
            format!("0:{}", j("Complémentaire santé solidaire")),
            format!("1:{}", j("Affection de longue durée")),
        ];
        assert!(!is_right(&m, &swapped));
        assert!(!is_right(&m, &good[..1]));
        let e = quiz(vec![m]);
        assert!(matches!(
            score_all(&e, &answers(&[("m", &["0:7"])])),
            Err(AnswerError::UnknownChoice { .. })
        ));
    }

    #[test]
    fn numbers_accept_the_french_comma_and_a_tolerance() {
        let mut n = q("n", QuestionKind::Numeric, &[]);
        n.numeric = Some(Numeric {
            answer: 22.5,
            tolerance: 0.1,
            unit: "kg/m²".into(),
        });
        assert!(is_right(&n, &["22,5".into()]));
        assert!(is_right(&n, &[" 22.6 ".into()]));
        assert!(!is_right(&n, &["22,7".into()]));
        assert!(!is_right(&n, &["".into()]));
        assert_eq!(parse_number("1 200,5"), Some(1200.5));
        let e = quiz(vec![n]);
        assert_eq!(
            score_all(&e, &answers(&[("n", &["vingt"])])),
            Err(AnswerError::NotANumber {
                question: "n".into(),
                value: "vingt".into()
            })
        );
    }

    #[test]
    fn an_attempt_draws_the_same_questions_every_time() {
        let mut e = quiz(
            (0..10)
                .map(|i| q(&format!("q{i}"), QuestionKind::Single, &["a"]))
                .collect(),
        );
        e.shuffle = true;
        e.draw = Some(4);
        let ids =
            |seed| -> Vec<String> { e.for_attempt(seed).iter().map(|q| q.id.clone()).collect() };
        assert_eq!(ids(7), ids(7));
        assert_eq!(ids(7).len(), 4);
        // Across attempts the draw changes (10 seeds cannot all give the same four).
        assert!((1..=10).any(|s| ids(s) != ids(7)));
        // Questions outside the draw are refused, not silently scored.
        let outside = e
            .questions
            .iter()
            .find(|q| !ids(7).contains(&q.id))
            .unwrap();
        assert!(matches!(
            score(
                &e,
                &e.for_attempt(7),
                &answers(&[(outside.id.as_str(), &["a"])])
            ),
            Err(AnswerError::UnknownQuestion(_))
        ));
    }
}
