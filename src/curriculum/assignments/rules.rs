//! Pure rules of assignments: what a trainee may hand in and when, and a trainer's grading
//! checked against the activity's rubric. Messages are French: people read them.

use serde::Serialize;

use crate::base::field::FieldError;
use crate::curriculum::rules::{AnswerForm, Criterion, SubmissionState};

/// Characters of a written answer (the form's text field is read up to 64 KiB).
pub const MAX_ANSWER_CHARS: usize = 30_000;
/// Characters of a trainer's feedback.
pub const MAX_FEEDBACK_CHARS: usize = 10_000;
/// Files handed in with one version.
pub const MAX_FILES: usize = 5;

/// Whether a trainee may hand in a new version, given the state of her latest one: she may
/// when she has none yet, or when the trainer asked for a new one.
pub fn may_hand_in(latest: Option<SubmissionState>) -> bool {
    matches!(latest, None | Some(SubmissionState::RevisionRequested))
}

/// Why a trainee may not hand in now (`None` when she may).
pub fn hand_in_refusal(latest: Option<(SubmissionState, i32)>) -> Option<String> {
    match latest {
        Some((SubmissionState::Submitted, n)) => Some(format!(
            "Votre version n° {n} attend la correction de votre formateur : vous pourrez en \
             rendre une nouvelle s'il vous la demande."
        )),
        Some((SubmissionState::Graded, _)) => {
            Some("Ce devoir est noté : il ne peut plus être rendu.".into())
        }
        Some((SubmissionState::RevisionRequested, _)) | None => None,
    }
}

/// The written answer to keep, checked against what the activity asks for; `files` is the
/// number of files sent with it. A text sent to a files-only assignment is not kept.
pub fn check_answer(form: AnswerForm, text: &str, files: usize) -> Result<String, FieldError> {
    let text = text.replace("\r\n", "\n").trim().to_string();
    let refuse = |field: &str, m: &str| Err(FieldError::new(field, m));
    if files > 0 && !form.files() {
        return refuse("file", "Ce devoir se rend par écrit, sans fichier joint.");
    }
    if files > MAX_FILES {
        return Err(FieldError::new(
            "file",
            format!("Joignez au plus {MAX_FILES} fichiers."),
        ));
    }
    if text.chars().count() > MAX_ANSWER_CHARS {
        return Err(FieldError::new(
            "answer",
            format!(
                "Votre réponse dépasse {MAX_ANSWER_CHARS} caractères : raccourcissez-la ou joignez-la en fichier."
            ),
        ));
    }
    match form {
        AnswerForm::Text if text.is_empty() => refuse("answer", "Écrivez votre réponse."),
        AnswerForm::Files if files == 0 => refuse(
            "file",
            "Joignez au moins un fichier (PDF, image, document Word ou OpenDocument).",
        ),
        AnswerForm::TextAndFiles if text.is_empty() && files == 0 => refuse(
            "answer",
            "Écrivez votre réponse ou joignez au moins un fichier.",
        ),
        AnswerForm::Files => Ok(String::new()),
        _ => Ok(text),
    }
}

/// Why a version cannot be graded: only a version waiting for its trainer can.
pub fn grading_refusal(state: SubmissionState) -> Option<&'static str> {
    match state {
        SubmissionState::Submitted => None,
        SubmissionState::Graded => Some(
            "Cette version est déjà notée : sa note et l'appréciation ne peuvent plus être \
             changées.",
        ),
        SubmissionState::RevisionRequested => Some(
            "Une nouvelle version a déjà été demandée : notez la version que le stagiaire \
             rendra.",
        ),
    }
}

/// The name a file is shown and downloaded under: the sender's name, with the extension of
/// what its content is (`extensions`, the usual one first) when its own says otherwise.
pub fn stored_name(display: &str, extensions: &[&str]) -> String {
    let lower = display.to_lowercase();
    let fits = extensions.iter().any(|e| lower.ends_with(&format!(".{e}")));
    match extensions.first() {
        Some(ext) if !fits => format!("{display}.{ext}"),
        _ => display.to_string(),
    }
}

/// What the trainer decides about a version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Graded,
    RevisionRequested,
}

impl Decision {
    /// The value of the form's button.
    pub fn parse(s: &str) -> Option<Decision> {
        match s {
            "noter" => Some(Decision::Graded),
            "reprendre" => Some(Decision::RevisionRequested),
            _ => None,
        }
    }

    pub fn state(self) -> SubmissionState {
        match self {
            Decision::Graded => SubmissionState::Graded,
            Decision::RevisionRequested => SubmissionState::RevisionRequested,
        }
    }
}

/// A grading that passed every check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grading {
    pub decision: Decision,
    /// One score per criterion, in the rubric's order; `None` when a new version is asked
    /// for without scores.
    pub scores: Option<Vec<u32>>,
    pub points: Option<u32>,
    pub max_points: u32,
    pub feedback: String,
}

/// The score field of the rubric's criterion `i` (from 0).
pub fn score_field(i: usize) -> String {
    format!("score_{i}")
}

/// Checks a trainer's grading: a decision; one integer score per criterion, from 0 to its
/// points (required to grade; all or none when asking for a new version); a written
/// feedback. Every problem is reported at once, by field.
pub fn check_grading(
    rubric: &[Criterion],
    decision: &str,
    raw_scores: &[&str],
    feedback: &str,
) -> Result<Grading, Vec<FieldError>> {
    let mut errors = Vec::new();
    let decision = Decision::parse(decision);
    if decision.is_none() {
        errors.push(FieldError::new(
            "decision",
            "Choisissez « Noter » ou « Demander une nouvelle version ».",
        ));
    }
    let raw: Vec<&str> = (0..rubric.len())
        .map(|i| raw_scores.get(i).map_or("", |s| s.trim()))
        .collect();
    let none_given = raw.iter().all(|s| s.is_empty());
    let scores_wanted = !(decision == Some(Decision::RevisionRequested) && none_given);
    let mut scores = Vec::new();
    if scores_wanted {
        for (i, (c, s)) in rubric.iter().zip(&raw).enumerate() {
            match score_of(c, s) {
                Ok(v) => scores.push(v),
                Err(m) => errors.push(FieldError::new(
                    &score_field(i),
                    format!("Critère n° {} : {m}", i + 1),
                )),
            }
        }
    }
    let feedback = feedback.replace("\r\n", "\n").trim().to_string();
    if feedback.is_empty() {
        errors.push(FieldError::new(
            "feedback",
            "Écrivez une appréciation : le stagiaire la lira avec sa note.",
        ));
    } else if feedback.chars().count() > MAX_FEEDBACK_CHARS {
        errors.push(FieldError::new(
            "feedback",
            format!("L'appréciation dépasse {MAX_FEEDBACK_CHARS} caractères."),
        ));
    }
    match decision {
        Some(decision) if errors.is_empty() => {
            let scores = scores_wanted.then_some(scores);
            Ok(Grading {
                decision,
                points: scores.as_ref().map(|s| s.iter().sum()),
                scores,
                max_points: rubric.iter().map(|c| c.points).sum(),
                feedback,
            })
        }
        _ => Err(errors),
    }
}

fn score_of(c: &Criterion, raw: &str) -> Result<u32, String> {
    if raw.is_empty() {
        return Err(format!("donnez une note de 0 à {} points.", c.points));
    }
    let Ok(n) = raw.parse::<i64>() else {
        return Err(format!(
            "la note doit être un nombre entier de points, de 0 à {}.",
            c.points
        ));
    };
    match u32::try_from(n) {
        Ok(v) if v <= c.points => Ok(v),
        _ => Err(format!(
            "la note doit être comprise entre 0 et {} points (« {raw} » reçu).",
            c.points
        )),
    }
}

/// One criterion of the rubric with the score a version got, as a page shows it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ScoreLine {
    pub criterion: String,
    pub points: u32,
    pub score: Option<u32>,
}

/// The rubric with a version's scores (stored as a JSON list in the rubric's order). Scores
/// that no longer match the rubric (its criteria changed since) are not shown against it.
pub fn score_lines(rubric: &[Criterion], scores_json: Option<&str>) -> Vec<ScoreLine> {
    let scores: Option<Vec<u32>> = scores_json
        .and_then(|s| serde_json::from_str(s).ok())
        .filter(|v: &Vec<u32>| v.len() == rubric.len());
    rubric
        .iter()
        .enumerate()
        .map(|(i, c)| ScoreLine {
            criterion: c.criterion.clone(),
            points: c.points,
            score: scores.as_ref().and_then(|s| s.get(i).copied()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rubric() -> Vec<Criterion> {
        [("Situations", 6), ("Limites", 4)]
            .into_iter()
            .map(|(c, p)| Criterion {
                criterion: c.into(),
                points: p,
            })
            .collect()
    }

    fn fields(e: &[FieldError]) -> Vec<&str> {
        e.iter().map(|f| f.field.as_str()).collect()
    }

    #[test]
    fn a_grading_has_one_integer_score_per_criterion_within_its_points() {
        let g =
            check_grading(&rubric(), "noter", &["5", " 4 "], " Bien.\r\nÀ revoir : … ").unwrap();
        assert_eq!(g.decision, Decision::Graded);
        assert_eq!(g.scores, Some(vec![5, 4]));
        assert_eq!((g.points, g.max_points), (Some(9), 10));
        assert_eq!(g.feedback, "Bien.\nÀ revoir : …");
        let e = check_grading(&rubric(), "noter", &["7", "2"], "Bien").unwrap_err();
        assert_eq!(fields(&e), ["score_0"]);
        assert!(
            e[0].message
                .contains("Critère n° 1 : la note doit être comprise entre 0 et 6 points"),
            "{}",
            e[0].message
        );
        for bad in ["-1", "2,5", "2.0", "deux", ""] {
            let e = check_grading(&rubric(), "noter", &["1", bad], "Bien").unwrap_err();
            assert_eq!(fields(&e), ["score_1"], "{bad}");
        }
        // A missing field is a missing score.
        assert!(check_grading(&rubric(), "noter", &["1"], "Bien").is_err());
    }

    #[test]
    fn feedback_and_decision_are_required_and_all_problems_come_at_once() {
        let e = check_grading(&rubric(), "", &["9", ""], "  ").unwrap_err();
        assert_eq!(fields(&e), ["decision", "score_0", "score_1", "feedback"]);
        let long = "x".repeat(MAX_FEEDBACK_CHARS + 1);
        let e = check_grading(&rubric(), "noter", &["1", "1"], &long).unwrap_err();
        assert_eq!(fields(&e), ["feedback"]);
    }

    #[test]
    fn a_new_version_may_be_asked_for_with_all_scores_or_none() {
        let g = check_grading(&rubric(), "reprendre", &["", ""], "Reprenez la partie 2.").unwrap();
        assert_eq!(g.decision.state(), SubmissionState::RevisionRequested);
        assert_eq!((g.scores, g.points, g.max_points), (None, None, 10));
        let g = check_grading(&rubric(), "reprendre", &["3", "1"], "Reprenez.").unwrap();
        assert_eq!(g.points, Some(4));
        let e = check_grading(&rubric(), "reprendre", &["3", ""], "Reprenez.").unwrap_err();
        assert_eq!(fields(&e), ["score_1"]);
    }

    #[test]
    fn a_trainee_hands_in_first_or_again_when_asked() {
        assert!(may_hand_in(None));
        assert!(may_hand_in(Some(SubmissionState::RevisionRequested)));
        assert!(!may_hand_in(Some(SubmissionState::Submitted)));
        assert!(!may_hand_in(Some(SubmissionState::Graded)));
        assert!(hand_in_refusal(None).is_none());
        assert!(grading_refusal(SubmissionState::Submitted).is_none());
        assert!(
            grading_refusal(SubmissionState::Graded)
                .unwrap()
                .contains("déjà notée")
        );
        let m = hand_in_refusal(Some((SubmissionState::Submitted, 2))).unwrap();
        assert!(m.contains("version n° 2 attend la correction"), "{m}");
        assert!(
            hand_in_refusal(Some((SubmissionState::Graded, 1)))
                .unwrap()
                .contains("noté")
        );
    }

    #[test]
    fn the_answer_matches_what_the_assignment_asks_for() {
        use AnswerForm::*;
        assert_eq!(
            check_answer(Text, " Ma réponse\r\n", 0).unwrap(),
            "Ma réponse"
        );
        assert_eq!(check_answer(Text, "  ", 0).unwrap_err().field, "answer");
        assert_eq!(check_answer(Text, "Réponse", 1).unwrap_err().field, "file");
        assert_eq!(check_answer(Files, "", 0).unwrap_err().field, "file");
        assert_eq!(check_answer(Files, "ignorée", 2).unwrap(), "");
        assert!(check_answer(TextAndFiles, "", 1).is_ok());
        assert!(check_answer(TextAndFiles, "Réponse", 0).is_ok());
        let e = check_answer(TextAndFiles, " ", 0).unwrap_err();
        assert!(e.message.contains("ou joignez"), "{}", e.message);
        assert!(check_answer(Files, "", MAX_FILES + 1).is_err());
        let long = "é".repeat(MAX_ANSWER_CHARS + 1);
        assert_eq!(check_answer(Text, &long, 0).unwrap_err().field, "answer");
    }

    #[test]
    fn a_file_keeps_its_name_with_the_extension_of_its_content() {
        assert_eq!(stored_name("devoir.PDF", &["pdf"]), "devoir.PDF");
        assert_eq!(stored_name("photo.jpeg", &["jpg", "jpeg"]), "photo.jpeg");
        assert_eq!(stored_name("rapport.pdf", &["docx"]), "rapport.pdf.docx");
        assert_eq!(stored_name("scan", &["png"]), "scan.png");
    }

    #[test]
    fn scores_are_shown_against_the_rubric_they_were_given_with() {
        let lines = score_lines(&rubric(), Some("[5,3]"));
        assert_eq!(lines[0].score, Some(5));
        assert_eq!(lines[1].points, 4);
        // The rubric changed since: no score is shown against the wrong criterion.
        assert!(
            score_lines(&rubric(), Some("[5]"))
                .iter()
                .all(|l| l.score.is_none())
        );
        assert!(
            score_lines(&rubric(), None)
                .iter()
                .all(|l| l.score.is_none())
        );
    }
}
