//! What a trainee did on each activity: the distance time credited to it, the attempts at a
//! formative quiz, the latest version of an assignment. The one answer, read from the data, to
//! "what did she do during those distance hours?", shared by the evidence pack, the funders'
//! export, xAPI and her dashboard. Pure; the rows come from `store::activity_lines`.

use chrono::NaiveDateTime;

use crate::base::format;
use crate::curriculum::Editions;
use crate::curriculum::rules::{ActivityKind, SubmissionState};

/// One attempt at a formative quiz.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuizTry {
    pub id: i64,
    pub attempt_no: i32,
    pub started_at: NaiveDateTime,
    pub submitted_at: Option<NaiveDateTime>,
    pub correct: Option<i32>,
    pub questions: i32,
    pub score_pct: Option<i32>,
    pub passed: Option<bool>,
}

/// The latest version of an assignment handed in (in the window asked for).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grade {
    pub submission_id: i64,
    pub version_no: i32,
    pub submitted_at: NaiveDateTime,
    pub status: String,
    pub points: Option<i32>,
    pub max_points: Option<i32>,
    pub graded_at: Option<NaiveDateTime>,
}

impl Grade {
    pub fn state(&self) -> Option<SubmissionState> {
        SubmissionState::parse(&self.status)
    }

    /// `Noté 16 / 20`, `Rendu, en attente de correction`…
    pub fn label(&self) -> String {
        let state = self.state().map_or("Rendu", SubmissionState::label);
        match (self.state(), self.points, self.max_points) {
            (Some(SubmissionState::Graded), Some(p), Some(m)) => format!("{state} {p} / {m}"),
            _ => state.to_string(),
        }
    }
}

/// What an e-learning package recorded, its SCOs or AUs together. Its own time is what the
/// package says: shown next to ours, never credited.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PackageTrace {
    pub parts: usize,
    pub completed: usize,
    pub passed: usize,
    pub failed: usize,
    /// The mean of the scores the parts gave, in percent.
    pub score_pct: Option<i32>,
    pub package_secs: i64,
}

impl PackageTrace {
    /// `Réussi, score 90 % · durée indiquée par le module : 0 h 12`, `En cours (1 partie
    /// terminée sur 2)`…
    pub fn label(&self) -> String {
        let own = if self.package_secs >= 60 {
            format!(
                " · durée indiquée par le module : {}",
                duration(self.package_secs)
            )
        } else {
            String::new()
        };
        format!("{}{own}", self.state())
    }

    fn state(&self) -> String {
        let score = self
            .score_pct
            .map(|s| format!(", score {s} %"))
            .unwrap_or_default();
        if self.failed > 0 {
            format!("Échoué{score}")
        } else if self.passed == self.parts && self.parts > 0 {
            format!("Réussi{score}")
        } else if self.completed == self.parts && self.parts > 0 {
            format!("Terminé{score}")
        } else {
            format!(
                "En cours ({} partie{} terminée{} sur {}){score}",
                self.completed,
                if self.completed > 1 { "s" } else { "" },
                if self.completed > 1 { "s" } else { "" },
                self.parts
            )
        }
    }
}

/// A trainee and one activity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivityLine {
    pub trainee_id: i64,
    pub lesson_id: i64,
    pub program_code: String,
    /// The programme version of her cohort.
    pub version_id: i64,
    pub module_code: String,
    pub module_title: String,
    pub module_position: i32,
    /// Index in the module's sequences.
    pub sequence: i32,
    pub position: i32,
    pub slug: String,
    pub title: String,
    /// As the `lessons.kind` column stores it.
    pub kind: String,
    /// The estimated duration.
    pub minutes: i32,
    pub required: bool,
    /// Every second credited to the activity since she began (`activity_totals`).
    pub total_secs: i64,
    /// Seconds credited during the page views opened in the window, when one was asked for.
    pub period_secs: Option<i64>,
    /// Attempts at the activity's quiz (in the window), oldest first.
    pub attempts: Vec<QuizTry>,
    /// The latest version handed in (in the window).
    pub grade: Option<Grade>,
    /// What an e-learning package recorded (in the window).
    pub package: Option<PackageTrace>,
}

impl ActivityLine {
    pub fn kind(&self) -> Option<ActivityKind> {
        ActivityKind::ALL
            .into_iter()
            .find(|k| k.as_str() == self.kind)
    }

    pub fn kind_label(&self) -> &'static str {
        self.kind().map_or("Activité", ActivityKind::label)
    }

    /// The time of the window if there is one, else the running total.
    pub fn secs(&self) -> i64 {
        self.period_secs.unwrap_or(self.total_secs)
    }

    /// The best score of the submitted attempts.
    pub fn best_score(&self) -> Option<i32> {
        self.attempts.iter().filter_map(|a| a.score_pct).max()
    }

    /// Whether any submitted attempt passed.
    pub fn passed(&self) -> Option<bool> {
        let decided: Vec<bool> = self.attempts.iter().filter_map(|a| a.passed).collect();
        (!decided.is_empty()).then(|| decided.contains(&true))
    }

    /// Every attempt as `n° 1 : 55 % (non réussie)`, joined by commas (the CSVs use `;`).
    pub fn attempts_text(&self) -> String {
        self.attempts
            .iter()
            .map(|a| match (a.score_pct, a.passed) {
                (Some(s), Some(p)) => format!(
                    "n° {} : {s} % ({})",
                    a.attempt_no,
                    if p { "réussie" } else { "non réussie" }
                ),
                (Some(s), None) => format!("n° {} : {s} %", a.attempt_no),
                _ => format!("n° {} : en cours", a.attempt_no),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The result in a few words: a quiz's best score, an assignment's grade, or nothing.
    pub fn result(&self) -> String {
        if let Some(g) = &self.grade {
            return g.label();
        }
        if let Some(p) = &self.package {
            return p.label();
        }
        let n = self.attempts.len();
        if n == 0 {
            return String::new();
        }
        let tries = if n == 1 {
            "1 tentative".to_string()
        } else {
            format!("{n} tentatives")
        };
        match (self.best_score(), self.passed()) {
            (Some(s), Some(true)) => format!("Réussi, meilleur score {s} % ({tries})"),
            (Some(s), _) => format!("Non réussi, meilleur score {s} % ({tries})"),
            _ => format!("En cours ({tries})"),
        }
    }

    /// `12 min` spent against `20 min` estimated, as people read durations.
    pub fn time_text(&self) -> String {
        duration(self.secs())
    }
}

/// Seconds as `0 h 12` (whole minutes, as the dashboards show them).
pub fn duration(secs: i64) -> String {
    format::minutes(secs / 60)
}

/// The title of the activity's sequence in the version the trainee follows (`Séquence 2`
/// when that version does not have it).
pub fn sequence_title(editions: &Editions, l: &ActivityLine) -> String {
    editions
        .program(l.version_id)
        .and_then(|p| p.module(&l.module_code))
        .and_then(|m| {
            let a = m.activities.iter().find(|a| a.slug == l.slug)?;
            m.sequences.get(a.sequence).cloned()
        })
        .unwrap_or_else(|| format!("Séquence {}", l.sequence + 1))
}

/// Lines in the programme's order: module, sequence, activity.
pub fn sort(lines: &mut [ActivityLine]) {
    lines.sort_by(|a, b| {
        (a.trainee_id, a.module_position, a.sequence, a.position).cmp(&(
            b.trainee_id,
            b.module_position,
            b.sequence,
            b.position,
        ))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 23)
            .and_then(|d| d.and_hms_opt(h, 0, 0))
            .unwrap()
    }

    fn line(kind: &str) -> ActivityLine {
        ActivityLine {
            trainee_id: 1,
            lesson_id: 2,
            program_code: "CQP-AM".into(),
            version_id: 1,
            module_code: "M1".into(),
            module_title: "Suivi".into(),
            module_position: 1,
            sequence: 0,
            position: 1,
            slug: "quiz-1".into(),
            title: "Quiz".into(),
            kind: kind.into(),
            minutes: 20,
            required: true,
            total_secs: 1500,
            period_secs: Some(750),
            attempts: vec![],
            grade: None,
            package: None,
        }
    }

    fn attempt(no: i32, score: Option<i32>, passed: Option<bool>) -> QuizTry {
        QuizTry {
            id: no as i64,
            attempt_no: no,
            started_at: at(9),
            submitted_at: score.map(|_| at(10)),
            correct: score.map(|s| s / 10),
            questions: 10,
            score_pct: score,
            passed,
        }
    }

    #[test]
    fn a_quiz_says_its_best_score_and_whether_it_passed() {
        let mut l = line("quiz");
        assert_eq!(l.result(), "");
        assert_eq!(l.kind_label(), "Quiz");
        l.attempts = vec![attempt(1, Some(50), Some(false)), attempt(2, None, None)];
        assert_eq!(l.result(), "Non réussi, meilleur score 50 % (2 tentatives)");
        assert_eq!(
            l.attempts_text(),
            "n° 1 : 50 % (non réussie), n° 2 : en cours"
        );
        l.attempts.push(attempt(3, Some(80), Some(true)));
        assert_eq!(l.best_score(), Some(80));
        assert_eq!(l.result(), "Réussi, meilleur score 80 % (3 tentatives)");
        l.attempts = vec![attempt(1, None, None)];
        assert_eq!(l.result(), "En cours (1 tentative)");
    }

    #[test]
    fn an_assignment_says_its_grade_and_time_reads_in_hours() {
        let mut l = line("assignment");
        l.grade = Some(Grade {
            submission_id: 1,
            version_no: 2,
            submitted_at: at(9),
            status: "graded".into(),
            points: Some(16),
            max_points: Some(20),
            graded_at: Some(at(10)),
        });
        assert_eq!(l.result(), "Noté 16 / 20");
        assert_eq!(l.kind_label(), "Devoir");
        assert_eq!(l.time_text(), "0 h 12");
        l.period_secs = None;
        assert_eq!(l.time_text(), "0 h 25");
        if let Some(g) = l.grade.as_mut() {
            g.status = "submitted".into();
        }
        assert_eq!(l.result(), "Rendu, en attente de correction");
    }

    #[test]
    fn a_package_says_its_parts_and_score() {
        let mut l = line("package");
        let mut p = PackageTrace {
            parts: 2,
            completed: 1,
            score_pct: None,
            ..Default::default()
        };
        l.package = Some(p.clone());
        assert_eq!(l.result(), "En cours (1 partie terminée sur 2)");
        p.completed = 2;
        p.passed = 2;
        p.score_pct = Some(85);
        l.package = Some(p.clone());
        assert_eq!(l.result(), "Réussi, score 85 %");
        p.failed = 1;
        p.package_secs = 750;
        l.package = Some(p);
        assert_eq!(
            l.result(),
            "Échoué, score 85 % · durée indiquée par le module : 0 h 12"
        );
    }

    #[test]
    fn lines_follow_the_programme_and_sequences_fall_back_to_a_number() {
        let mut a = line("lesson");
        a.module_position = 2;
        let mut b = line("lesson");
        b.sequence = 1;
        let c = line("quiz");
        let mut v = vec![a.clone(), b.clone(), c.clone()];
        sort(&mut v);
        assert_eq!(v, vec![c, b, a]);
        let none = Editions::default();
        assert_eq!(sequence_title(&none, &v[1]), "Séquence 2");
    }
}
