//! What the trainee did on each activity during the period: time spent against the estimate,
//! formative quiz attempts and their scores, the latest assignment version and its grade. The
//! answer to "what did she do during those distance hours?", from the data.

use crate::base::format;
use crate::cohorts::import::spreadsheet_safe;
use crate::curriculum::Editions;
use crate::tracking::per_activity::{ActivityLine, duration, sequence_title};

pub const PATH: &str = "distanciel/activites.csv";

pub const CSV_HEADER: [&str; 19] = [
    "Module",
    "Intitulé du module",
    "Séquence",
    "Activité",
    "Type",
    "Obligatoire",
    "Durée estimée",
    "Temps passé sur la période",
    "Temps passé depuis le début",
    "Tentatives de quiz",
    "Meilleur score (%)",
    "Détail des tentatives",
    "Devoir : version",
    "Devoir : rendu le",
    "Devoir : décision",
    "Devoir : points",
    "Devoir : sur",
    "Module e-learning : résultat",
    "Module e-learning : durée indiquée par le module",
];

pub fn csv(editions: &Editions, lines: &[ActivityLine]) -> csv::Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut wr = format::excel_csv(&mut out);
        wr.write_record(CSV_HEADER)?;
        for l in lines {
            let number = |n: Option<i32>| n.map(|n| n.to_string()).unwrap_or_default();
            let g = l.grade.as_ref();
            wr.write_record([
                spreadsheet_safe(&l.module_code),
                spreadsheet_safe(&l.module_title),
                spreadsheet_safe(&sequence_title(editions, l)),
                spreadsheet_safe(&l.title),
                l.kind_label().to_string(),
                if l.required { "oui" } else { "non" }.to_string(),
                format::minutes(i64::from(l.minutes)),
                duration(l.secs()),
                duration(l.total_secs),
                if l.attempts.is_empty() {
                    String::new()
                } else {
                    l.attempts.len().to_string()
                },
                number(l.best_score()),
                l.attempts_text(),
                number(g.map(|g| g.version_no)),
                g.map(|g| format::datetime(g.submitted_at))
                    .unwrap_or_default(),
                g.and_then(|g| g.state())
                    .map(|s| s.label().to_string())
                    .unwrap_or_default(),
                number(g.and_then(|g| g.points)),
                number(g.and_then(|g| g.max_points)),
                l.package.as_ref().map(|p| p.label()).unwrap_or_default(),
                l.package
                    .as_ref()
                    .map(|p| duration(p.package_secs))
                    .unwrap_or_default(),
            ])?;
        }
        wr.flush()?;
    }
    Ok(out)
}

/// The LISEZMOI's line on activities.
pub fn summary(lines: &[ActivityLine]) -> String {
    if lines.is_empty() {
        return "Activités : aucune activité travaillée sur la période.\n".into();
    }
    let secs: i64 = lines.iter().map(ActivityLine::secs).sum();
    let tries: usize = lines.iter().map(|l| l.attempts.len()).sum();
    let quizzes = lines.iter().filter(|l| !l.attempts.is_empty()).count();
    let graded = lines
        .iter()
        .filter(|l| {
            l.grade.as_ref().and_then(|g| g.state())
                == Some(crate::curriculum::rules::SubmissionState::Graded)
        })
        .count();
    let handed = lines.iter().filter(|l| l.grade.is_some()).count();
    format!(
        "Activités : {} activité(s) travaillée(s) sur la période, {} de temps à distance passé \
         sur ces activités ; {} tentative(s) sur {} quiz formatif(s) ; {} devoir(s) rendu(s), \
         dont {} noté(s). Le détail par activité est dans {PATH}.\n",
        lines.len(),
        duration(secs),
        tries,
        quizzes,
        handed,
        graded
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracking::per_activity::{Grade, QuizTry};

    fn line(kind: &str) -> ActivityLine {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 23)
            .and_then(|d| d.and_hms_opt(13, 5, 0))
            .unwrap();
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
            slug: "x".into(),
            title: "=Missions".into(),
            kind: kind.into(),
            minutes: 90,
            required: kind != "resource",
            total_secs: 3000,
            period_secs: Some(1500),
            package: None,
            attempts: match kind {
                "quiz" => vec![QuizTry {
                    id: 1,
                    attempt_no: 1,
                    started_at: at,
                    submitted_at: Some(at),
                    correct: Some(7),
                    questions: 10,
                    score_pct: Some(70),
                    passed: Some(true),
                }],
                _ => vec![],
            },
            grade: (kind == "assignment").then(|| Grade {
                submission_id: 3,
                version_no: 2,
                submitted_at: at,
                status: "graded".into(),
                points: Some(16),
                max_points: Some(20),
                graded_at: Some(at),
            }),
        }
    }

    #[test]
    fn each_activity_says_its_time_and_result() {
        let lines = [line("quiz"), line("assignment")];
        let bytes = csv(&Editions::default(), &lines).unwrap();
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let rows: Vec<_> = text.lines().collect();
        assert_eq!(
            rows[1],
            "M1;Suivi;Séquence 1;'=Missions;Quiz;oui;1 h 30;0 h 25;0 h 50;1;70;\
             n° 1 : 70 % (réussie);;;;;;;"
        );
        assert_eq!(
            rows[2],
            "M1;Suivi;Séquence 1;'=Missions;Devoir;oui;1 h 30;0 h 25;0 h 50;;;;2;\
             23/11/2026 à 14 h 05;Noté;16;20;;"
        );
        let mut package = line("package");
        package.attempts.clear();
        package.grade = None;
        package.package = Some(crate::tracking::per_activity::PackageTrace {
            parts: 1,
            completed: 1,
            passed: 1,
            score_pct: Some(90),
            package_secs: 210,
            ..Default::default()
        });
        let bytes = csv(&Editions::default(), &[package]).unwrap();
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        assert!(
            text.lines().nth(1).is_some_and(|l| l.ends_with(
                ";Module e-learning;oui;1 h 30;0 h 25;0 h 50;;;;;;;;;Réussi, score 90 % · durée indiquée par le module : 0 h 03;0 h 03"
            )),
            "{text}"
        );
        let s = summary(&lines);
        assert!(
            s.contains("2 activité(s) travaillée(s) sur la période, 0 h 50"),
            "{s}"
        );
        assert!(s.contains(
            "1 tentative(s) sur 1 quiz formatif(s) ; 1 devoir(s) rendu(s), dont 1 noté(s)"
        ));
        assert!(summary(&[]).contains("aucune activité"));
    }
}
