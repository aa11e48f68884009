//! What the quiz pages and the JSON API share: finding an attempt's quiz, showing a quiz
//! without its answers, and recording answers.

use serde::Serialize;

use std::sync::Arc;

use super::quiz::{self, Answers, Question, QuestionKind, Quiz};
use super::rules::{Module, Program};
use super::store::{self, Attempt, QuizAt};
use super::{Content, Edition};
use crate::accounts::CurrentUser;
use crate::web::{AppError, AppResult, State};

/// A quiz of a module: its evaluation (`slug` empty) or one of its quiz activities.
pub struct QuizRef<'a> {
    pub program: &'a Program,
    /// The edition's `base`: where its pages are.
    pub base: &'a str,
    pub module: &'a Module,
    pub slug: &'a str,
    pub quiz: &'a Quiz,
    pub module_id: i64,
}

impl<'a> QuizRef<'a> {
    pub fn find(ed: &'a Edition, module: &str, slug: &'a str) -> AppResult<QuizRef<'a>> {
        let (program, module) = (&ed.program, ed.module(module).ok_or(AppError::NotFound)?);
        let quiz = if slug.is_empty() {
            module.evaluation.as_ref()
        } else {
            module.activity(slug).and_then(|(_, a)| a.quiz())
        }
        .ok_or(AppError::NotFound)?;
        let module_id = ed.module_id(&module.code).ok_or(AppError::NotFound)?;
        Ok(QuizRef {
            program,
            base: &ed.base,
            module,
            slug,
            quiz,
            module_id,
        })
    }

    /// The quiz an attempt was made at.
    pub fn of_attempt(ed: &'a Edition, a: &'a Attempt) -> AppResult<QuizRef<'a>> {
        let code = ed.module_code(a.module_id).ok_or(AppError::NotFound)?;
        QuizRef::find(ed, code, &a.quiz)
    }

    pub fn at(&self) -> QuizAt {
        QuizAt {
            module_id: self.module_id,
            quiz: self.slug.to_string(),
            hash: self.quiz.hash.clone(),
        }
    }

    /// The page of this quiz (where attempts start and are listed).
    pub fn url(&self) -> String {
        if self.slug.is_empty() {
            format!("{}/{}/evaluation", self.base, self.module.code)
        } else {
            format!("{}/{}/activites/{}", self.base, self.module.code, self.slug)
        }
    }

    pub fn is_evaluation(&self) -> bool {
        self.slug.is_empty()
    }
}

/// A question as a trainee sees it before answering: no correct answer, no feedback.
#[derive(Serialize)]
pub struct PublicQuestion<'a> {
    pub id: &'a str,
    pub kind: QuestionKind,
    pub text: &'a str,
    pub choices: Vec<(&'a str, &'a str)>,
    /// Matching: the left-hand items, then the right-hand ones to pick from.
    pub lefts: Vec<&'a str>,
    pub rights: Vec<&'a str>,
    pub unit: &'a str,
}

pub fn public_question(q: &Question) -> PublicQuestion<'_> {
    PublicQuestion {
        id: &q.id,
        kind: q.kind,
        text: &q.text,
        choices: q
            .choices
            .iter()
            .map(|c| (c.id.as_str(), c.text.as_str()))
            .collect(),
        lefts: q.pairs.iter().map(|p| p.left.as_str()).collect(),
        rights: q.rights(),
        unit: q.numeric.as_ref().map_or("", |n| n.unit.as_str()),
    }
}

/// An attempt of the signed-in trainee, with the version of the programme she follows;
/// anyone else's is answered like an unknown one.
pub async fn own_attempt(
    state: &State,
    content: &actix_web::web::Data<Content>,
    me: &CurrentUser,
    id: i64,
) -> AppResult<(Attempt, Arc<Edition>)> {
    let (content, me) = (content.clone(), me.clone());
    state
        .db(move |c| {
            let attempt = store::attempt(c, id)?.ok_or(AppError::NotFound)?;
            if attempt.trainee_id != me.id {
                return Err(AppError::NotFound);
            }
            let code = super::versions::program_code_of_module(c, attempt.module_id)?
                .ok_or(AppError::NotFound)?;
            let (_, ed) = super::viewer::edition_for(c, &content, &me, &code)?;
            Ok((attempt, ed))
        })
        .await
}

/// Scores and records an open attempt of the current trainee, on the questions it drew.
pub async fn submit(
    state: &State,
    content: &actix_web::web::Data<Content>,
    me: &CurrentUser,
    id: i64,
    answers: Answers,
) -> AppResult<Attempt> {
    let (attempt, ed) = own_attempt(state, content, me, id).await?;
    if attempt.status != store::OPEN {
        return Ok(attempt);
    }
    let qr = QuizRef::of_attempt(&ed, &attempt)?;
    let score = quiz::score(qr.quiz, &qr.quiz.for_attempt(attempt.id), &answers)
        .map_err(|e| AppError::invalid("answers", e.message()))?;
    let json = serde_json::to_string(&answers).unwrap_or_default();
    state
        .db(move |c| {
            Ok(store::submit_attempt(
                c,
                id,
                &json,
                score.correct as i32,
                score.pct as i32,
                score.passed,
            )?)
        })
        .await
}

/// Starts (or reopens) an attempt of the trainee at this quiz.
pub async fn start(state: &State, trainee: i64, qr: &QuizRef<'_>) -> AppResult<Attempt> {
    let (at, count, max) = (qr.at(), qr.quiz.attempt_size() as i32, qr.quiz.max_attempts);
    let what = if qr.is_evaluation() {
        "cette évaluation"
    } else {
        "ce quiz"
    };
    match state
        .db(move |c| Ok(store::start_attempt(c, trainee, &at, count, max)?))
        .await?
    {
        store::Start::Started(a) => Ok(a),
        store::Start::LimitReached(n) => Err(AppError::invalid(
            "attempt",
            format!("Vous avez utilisé vos {n} tentatives pour {what}."),
        )),
    }
}
