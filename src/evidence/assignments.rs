//! The assignments a trainee handed in during a period, with their corrections: the work
//! produced and evaluated that inspectors ask for, as a CSV and a readable text.

use super::rules::Period;
use crate::base::format;
use crate::cohorts::import::spreadsheet_safe;
use crate::curriculum::assignments::store::WorkLine;

pub const CSV_HEADER: [&str; 12] = [
    "Module",
    "Devoir",
    "Version",
    "Rendue le",
    "Réponse écrite (caractères)",
    "Fichiers (nom et SHA-256)",
    "Décision",
    "Corrigée le",
    "Correcteur",
    "Points",
    "Sur",
    "Appréciation",
];

fn files_of(w: &WorkLine) -> String {
    w.version
        .files
        .iter()
        .map(|f| format!("{} ({})", f.file_name, f.sha256))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn csv(list: &[WorkLine]) -> csv::Result<Vec<u8>> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut wr = csv::WriterBuilder::new()
            .delimiter(b';')
            .from_writer(&mut out);
        wr.write_record(CSV_HEADER)?;
        for w in list {
            let r = &w.version.row;
            let number = |n: Option<i32>| n.map(|n| n.to_string()).unwrap_or_default();
            wr.write_record([
                spreadsheet_safe(&w.module_code),
                spreadsheet_safe(&w.activity),
                r.version_no.to_string(),
                format::datetime(r.submitted_at),
                r.answer_text.chars().count().to_string(),
                spreadsheet_safe(&files_of(w)),
                r.state().label().to_string(),
                r.graded_at.map(format::datetime).unwrap_or_default(),
                spreadsheet_safe(w.version.grader.as_deref().unwrap_or_default()),
                number(r.points),
                number(r.max_points),
                spreadsheet_safe(r.feedback.as_deref().unwrap_or_default()),
            ])?;
        }
        wr.flush()?;
    }
    Ok(out)
}

/// Every version to read: the answer, the files, the decision, the note and the feedback.
pub fn text(trainee: &str, p: Period, list: &[WorkLine]) -> String {
    let mut out = format!(
        "DEVOIRS RENDUS ET CORRIGÉS\nStagiaire : {trainee}\nPériode : du {} au {}\n",
        format::date(p.from),
        format::date(p.to)
    );
    if list.is_empty() {
        out.push_str("\nAucun devoir rendu sur la période.\n");
    }
    for w in list {
        let r = &w.version.row;
        out.push_str(&format!(
            "\n{} — {} — version {}\nRendue le {}\n",
            w.module_code,
            w.activity,
            r.version_no,
            format::datetime(r.submitted_at)
        ));
        if !r.answer_text.is_empty() {
            out.push_str(&format!("Réponse écrite :\n{}\n", r.answer_text));
        }
        if !w.version.files.is_empty() {
            out.push_str(&format!("Fichiers : {}\n", files_of(w)));
        }
        out.push_str(&format!("Décision : {}", r.state().label()));
        if let (Some(at), Some(by)) = (r.graded_at, &w.version.grader) {
            out.push_str(&format!(", par {by} le {}", format::datetime(at)));
        }
        out.push('\n');
        if let (Some(points), Some(max)) = (r.points, r.max_points) {
            out.push_str(&format!("Note : {points} / {max}\n"));
        }
        if let Some(f) = &r.feedback {
            out.push_str(&format!("Appréciation :\n{f}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curriculum::assignments::store::{FileRow, SubmissionRow, Version};

    fn line(status: &str, points: Option<i32>) -> WorkLine {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 23)
            .unwrap()
            .and_hms_opt(13, 5, 0)
            .unwrap();
        WorkLine {
            module_code: "M1".into(),
            activity: "Missions et limites".into(),
            version: Version {
                row: SubmissionRow {
                    id: 1,
                    trainee_id: 2,
                    lesson_id: 3,
                    version_no: 2,
                    answer_text: "Ma réponse".into(),
                    submitted_at: at,
                    status: status.into(),
                    graded_by: points.map(|_| 4),
                    graded_at: points.map(|_| at),
                    scores: None,
                    points,
                    max_points: points.map(|_| 20),
                    feedback: points.map(|_| "=Très bien".into()),
                },
                files: vec![FileRow {
                    id: 5,
                    submission_id: 1,
                    file_name: "devoir.pdf".into(),
                    mime_type: "application/pdf".into(),
                    size_bytes: 10,
                    sha256: "ab12".into(),
                }],
                grader: points.map(|_| "Claire Petit".into()),
            },
        }
    }

    #[test]
    fn versions_list_their_decision_note_and_feedback() {
        let list = [line("graded", Some(16)), line("submitted", None)];
        let bytes = csv(&list).unwrap();
        let table = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let lines: Vec<_> = table.lines().collect();
        assert_eq!(
            lines[1],
            "M1;Missions et limites;2;23/11/2026 à 14 h 05;10;devoir.pdf (ab12);Noté;\
             23/11/2026 à 14 h 05;Claire Petit;16;20;'=Très bien"
        );
        assert!(lines[2].contains(";Rendu, en attente de correction;;;;;"));
        let p = Period {
            from: chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
            to: chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
        };
        let t = text("Julie Moreau", p, &list);
        assert!(t.contains("M1 — Missions et limites — version 2"));
        assert!(t.contains("Décision : Noté, par Claire Petit le 23/11/2026 à 14 h 05"));
        assert!(t.contains("Note : 16 / 20\nAppréciation :\n=Très bien"));
        assert!(text("Julie Moreau", p, &[]).contains("Aucun devoir rendu"));
    }
}
