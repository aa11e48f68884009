//! Reading a cohort's trainees from a CSV file as organisms have them: exported from Excel
//! in French settings (`;`, Windows-1252 or UTF-8 with or without BOM, dates `23/11/2026`).
//! Pure: bytes in, rows or every error by line and column out.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::Serialize;

use super::rules::{Funding, Profile};
use crate::organisms::rules::PracticeRef;

mod columns;
use columns::{Columns, Line};

pub const MAX_BYTES: usize = 5 * 1024 * 1024;
pub const MAX_ROWS: usize = 5000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportError {
    pub line: usize,
    pub column: String,
    pub message: String,
}

impl ImportError {
    fn new(line: usize, column: &str, message: impl Into<String>) -> Self {
        ImportError {
            line,
            column: column.to_string(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.column.is_empty() {
            write!(f, "ligne {} : {}", self.line, self.message)
        } else {
            write!(
                f,
                "ligne {}, colonne « {} » : {}",
                self.line, self.column, self.message
            )
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    pub line: usize,
    pub name: String,
    pub email: String,
    pub profile: Profile,
    /// What the "Profil" cell said when it was not a care diploma: the prior job.
    pub prior_experience: Option<String>,
    pub hire_date: NaiveDate,
    pub doctor_name: String,
    pub doctor_email: String,
    pub funding: Funding,
    pub practice: Option<PracticeRef>,
}

/// UTF-8 (with or without BOM) or Windows-1252; a file mixing both is refused.
pub fn decode(bytes: &[u8]) -> Result<String, ImportError> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return String::from_utf8(rest.to_vec()).map_err(|e| {
            let line = rest[..e.utf8_error().valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            ImportError::new(
                line,
                "",
                "le fichier annonce de l'UTF-8 mais contient d'autres caractères (encodages mélangés)",
            )
        });
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_string());
    }
    // Not UTF-8 as a whole: it must be Windows-1252 everywhere, not UTF-8 in places.
    let mut utf8_line = None;
    let mut other_line = None;
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        if line.is_ascii() {
            continue;
        }
        match std::str::from_utf8(line) {
            Ok(_) => utf8_line = utf8_line.or(Some(i + 1)),
            Err(_) => other_line = other_line.or(Some(i + 1)),
        }
    }
    if let (Some(u), Some(o)) = (utf8_line, other_line) {
        return Err(ImportError::new(
            u.max(o),
            "",
            format!(
                "le fichier mélange deux encodages (UTF-8 à la ligne {u}, Windows-1252 à la ligne {o}) : enregistrez-le de nouveau au format « CSV UTF-8 »"
            ),
        ));
    }
    let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
    Ok(text.into_owned())
}

/// Parses and checks every line; the file is accepted only if all of it is right.
pub fn parse(bytes: &[u8], today: NaiveDate) -> Result<Vec<ImportRow>, Vec<ImportError>> {
    if bytes.len() > MAX_BYTES {
        return Err(vec![ImportError::new(
            0,
            "",
            format!(
                "le fichier fait {:.1} Mo ; la limite est de {} Mo",
                bytes.len() as f64 / 1_048_576.0,
                MAX_BYTES / 1_048_576
            ),
        )]);
    }
    let text = decode(bytes).map_err(|e| vec![e])?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return Err(vec![ImportError::new(
                1,
                "",
                format!("en-tête illisible : {e}"),
            )]);
        }
    };
    let columns = Columns::read(headers)?;
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for (n, record) in reader.records().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(n + 2, |p| line_at(&text, p.byte()));
                errors.push(ImportError::new(line, "", format!("ligne illisible : {e}")));
                continue;
            }
        };
        let line = record
            .position()
            .map_or(n + 2, |p| line_at(&text, p.byte()));
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if rows.len() + errors.len() >= MAX_ROWS {
            errors.push(ImportError::new(
                line,
                "",
                format!("plus de {MAX_ROWS} lignes"),
            ));
            break;
        }
        let cells = Line {
            columns: &columns,
            record: &record,
            number: line,
        };
        match cells.row(today, &mut seen) {
            Ok(row) => rows.push(row),
            Err(row_errors) => errors.extend(row_errors),
        }
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(ImportError::new(
            2,
            "",
            "le fichier ne contient aucun stagiaire",
        ));
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// 1-based line of a byte offset (the csv crate's own count is off with CRLF files).
fn line_at(text: &str, byte: u64) -> usize {
    let mut end = (byte as usize).min(text.len());
    // With CRLF the reader stops at '\r': the record it starts next begins after the '\n'.
    while matches!(text.as_bytes().get(end), Some(b'\r' | b'\n')) {
        end += 1;
    }
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// A cell as it goes out to a spreadsheet: text that a spreadsheet would run as a formula
/// gets a leading apostrophe.
pub fn spreadsheet_safe(value: &str) -> String {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    }

    const HEADER: &str =
        "Nom;Prénom;E-mail;Profil;Date d'embauche;Médecin;E-mail du médecin;Financement\n";

    #[test]
    fn a_french_excel_file_in_windows_1252_is_read() {
        let text = format!(
            "{HEADER}Lefèvre;Hélène;helene@ex.fr;aucun;01/03/2025;Dr Élise Roy;roy@ex.fr;ProA\n"
        );
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&text);
        let rows = parse(&bytes, today()).unwrap();
        assert_eq!(rows[0].name, "Hélène Lefèvre");
        assert_eq!(rows[0].doctor_name, "Dr Élise Roy");
        assert_eq!(rows[0].funding, Funding::Proa);
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend(text.as_bytes());
        assert_eq!(parse(&bom, today()).unwrap(), rows);
    }

    #[test]
    fn every_error_is_listed_by_line_and_column() {
        let text = format!(
            "{HEADER}A;B;pas-une-adresse;chirurgien;31/12/2030;Dr X;x@ex.fr;ProA\nC;D;c@ex.fr;IDE;2025-01-01;Dr Y;y@ex.fr;bourse\n"
        );
        let errors = parse(text.as_bytes(), today()).unwrap_err();
        let found: Vec<(usize, &str)> =
            errors.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(
            found,
            [
                (2, "E-mail"),
                (2, "Date d'embauche"),
                (3, "Date d'embauche"),
                (3, "Financement")
            ]
        );
        assert!(errors[1].message.contains("dans le futur"));
    }

    #[test]
    fn unknown_or_missing_columns_are_refused() {
        let text = "Nom;Prénom;E-mail;Profil;Date d'embauche;Médecin traitant;E-mail du médecin;Financement\nA;B;a@ex.fr;AS;01/01/2025;Dr;d@ex.fr;autre\n";
        let errors = parse(text.as_bytes(), today()).unwrap_err();
        assert_eq!(errors[0].column, "Médecin traitant");
        assert!(errors[0].message.contains("colonne inconnue"));
        assert!(
            errors
                .iter()
                .any(|e| e.column == "Médecin" && e.message.contains("absente"))
        );
    }

    #[test]
    fn mixed_encodings_and_huge_files_are_refused() {
        let mut bytes = HEADER.as_bytes().to_vec();
        bytes.extend("Lefèvre;Hélène;h@ex.fr;aucun;01/03/2025;Dr A;a@ex.fr;ProA\n".as_bytes());
        let (latin, _, _) = encoding_rs::WINDOWS_1252
            .encode("Bérard;Zoé;z@ex.fr;aucun;01/03/2025;Dr B;b@ex.fr;ProA\n");
        bytes.extend(latin.iter());
        let errors = parse(&bytes, today()).unwrap_err();
        assert!(
            errors[0].message.contains("mélange deux encodages"),
            "{errors:?}"
        );
        let big = vec![b'a'; MAX_BYTES + 1];
        assert!(
            parse(&big, today()).unwrap_err()[0]
                .message
                .contains("limite")
        );
    }

    #[test]
    fn a_practice_comes_with_its_siret_or_finess() {
        let text = "Nom;Prénom;E-mail;Profil;Date d'embauche;Médecin;E-mail du médecin;Financement;Cabinet;N° SIRET;FINESS\n\
            A;B;a@ex.fr;AS;01/01/2025;Dr A;da@ex.fr;autre;Cabinet des Lilas;732 829 320 00074;\n\
            C;D;c@ex.fr;AS;01/01/2025;Dr C;dc@ex.fr;autre;MSP du Port;;2A0001234\n\
            E;F;e@ex.fr;AS;01/01/2025;Dr E;de@ex.fr;autre;;;\n";
        let rows = parse(text.as_bytes(), today()).unwrap();
        let numbers: Vec<Option<String>> = rows
            .iter()
            .map(|r| {
                r.practice
                    .as_ref()
                    .and_then(|p| p.number.as_ref())
                    .map(|n| n.key())
            })
            .collect();
        assert_eq!(
            numbers,
            [
                Some("siret:73282932000074".into()),
                Some("finess:2A0001234".into()),
                None
            ]
        );
        assert_eq!(rows[2].practice, None);
        let bad = "Nom;Prénom;E-mail;Profil;Date d'embauche;Médecin;E-mail du médecin;Financement;Cabinet;SIRET\n\
            A;B;a@ex.fr;AS;01/01/2025;Dr A;da@ex.fr;autre;Cabinet des Lilas;73282932000075\n\
            C;D;c@ex.fr;AS;01/01/2025;Dr C;dc@ex.fr;autre;;73282932000074\n";
        let errors = parse(bad.as_bytes(), today()).unwrap_err();
        let found: Vec<(usize, &str)> =
            errors.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(found, [(2, "SIRET"), (3, "Cabinet")]);
        assert!(errors[0].message.contains("SIRET valide"), "{errors:?}");
    }

    #[test]
    fn the_sample_file_of_the_readme_imports() {
        let rows = parse(include_bytes!("../../../examples/stagiaires.csv"), today()).unwrap();
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            ["Hélène Lefèvre", "Aïssatou N'Diaye", "João Da Silva"]
        );
        assert_eq!(
            rows[0].prior_experience.as_deref(),
            Some("Secrétaire médicale")
        );
        assert!(
            rows[0]
                .practice
                .as_ref()
                .is_some_and(|p| p.number.is_some())
        );
        assert_eq!(rows[2].practice, None);
    }

    #[test]
    fn duplicates_in_the_file_are_refused() {
        let text = format!(
            "{HEADER}A;B;a@ex.fr;AS;01/01/2025;Dr;d@ex.fr;autre\nC;D;A@EX.FR;AS;01/01/2025;Dr;d@ex.fr;autre\n"
        );
        let errors = parse(text.as_bytes(), today()).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 3);
    }

    #[test]
    fn formulas_are_neutralised_for_spreadsheets() {
        assert_eq!(
            spreadsheet_safe("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(spreadsheet_safe("+33 6"), "'+33 6");
        assert_eq!(spreadsheet_safe("Marie"), "Marie");
    }
}
