//! Evaluation attempts of a trainee in a period, as a CSV.

use super::store::AttemptLine;
use crate::base::format;
use crate::cohorts::import::spreadsheet_safe;

pub const CSV_HEADER: [&str; 8] = [
    "Module",
    "Intitulé",
    "Tentative",
    "Commencée le",
    "Soumise le",
    "Score (%)",
    "Résultat",
    "Statut",
];

pub fn csv(list: &[AttemptLine]) -> csv::Result<Vec<u8>> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut wr = csv::WriterBuilder::new()
            .delimiter(b';')
            .from_writer(&mut out);
        wr.write_record(CSV_HEADER)?;
        for a in list {
            let submitted = a.status == crate::curriculum::store::SUBMITTED;
            wr.write_record([
                spreadsheet_safe(&a.module_code),
                spreadsheet_safe(&a.module_title),
                a.attempt_no.to_string(),
                format::datetime(a.started_at),
                a.submitted_at.map(format::datetime).unwrap_or_default(),
                a.score_pct.map(|s| s.to_string()).unwrap_or_default(),
                match a.passed {
                    Some(true) => "réussie",
                    Some(false) => "non réussie",
                    None => "",
                }
                .to_string(),
                if submitted { "soumise" } else { "en cours" }.to_string(),
            ])?;
        }
        wr.flush()?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_list_scores_and_results() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 23)
            .unwrap()
            .and_hms_opt(13, 5, 0)
            .unwrap();
        let line = |no, status: &str, score, passed| AttemptLine {
            module_code: "M1".into(),
            module_title: "Suivi".into(),
            attempt_no: no,
            status: status.into(),
            started_at: at,
            submitted_at: (status == "submitted").then_some(at),
            score_pct: score,
            passed,
        };
        let bytes = csv(&[
            line(1, "submitted", Some(55), Some(false)),
            line(2, "open", None, None),
        ])
        .unwrap();
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(
            lines[1],
            "M1;Suivi;1;23/11/2026 à 14 h 05;23/11/2026 à 14 h 05;55;non réussie;soumise"
        );
        assert_eq!(lines[2], "M1;Suivi;2;23/11/2026 à 14 h 05;;;;en cours");
    }
}
