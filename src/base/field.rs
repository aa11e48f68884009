//! A message about one field of a form or a file, shown next to it, and the small checks
//! of fields that several domains share: e-mail addresses, people's names, and the folding
//! (case, accents) that matches what offices type.

use serde::Serialize;

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

/// Lower-cases and checks an address; the stored form is the lower-cased one, so uniqueness
/// is case-insensitive.
pub fn normalize_email(raw: &str) -> Result<String, &'static str> {
    let email = raw.trim().to_lowercase();
    if email.is_empty() {
        return Err("L'adresse e-mail est obligatoire.");
    }
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("L'adresse e-mail est invalide.");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err("L'adresse e-mail doit contenir un @.");
    };
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.contains(['"', ',', ';', '<', '>', '(', ')', '[', ']', '\\', ':']);
    if local_ok && domain_ok {
        Ok(email)
    } else {
        Err("L'adresse e-mail est invalide.")
    }
}

pub fn validate_name(raw: &str) -> Result<String, &'static str> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("Le nom est obligatoire.");
    }
    if name.chars().count() > 120 {
        return Err("Le nom ne doit pas dépasser 120 caractères.");
    }
    if name.chars().any(char::is_control) {
        return Err("Le nom contient des caractères non autorisés.");
    }
    // What a spreadsheet would run as a formula (`=HYPERLINK(…)`, `@SOMME(…)`) is no name.
    if name.starts_with(['=', '+', '-', '@']) {
        return Err("Le nom ne peut pas commencer par =, +, - ou @ (formule de tableur).");
    }
    Ok(name.to_string())
}

/// Lower case without accents, for matching what people type in spreadsheets.
pub fn fold(raw: &str) -> String {
    raw.trim()
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' | 'í' => 'i',
            'ô' | 'ö' | 'ó' | 'õ' => 'o',
            'ù' | 'û' | 'ü' | 'ú' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            'ÿ' | 'ý' => 'y',
            '’' => '\'',
            c => c,
        })
        .collect()
}

/// Digits only, spaces and dots ignored, of exactly `len` digits; empty is `None`.
fn digits(raw: &str, len: usize, what: &str) -> Result<Option<String>, String> {
    let v: String = raw.chars().filter(|c| !matches!(c, ' ' | '.')).collect();
    if v.is_empty() {
        return Ok(None);
    }
    if v.len() != len || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "Le {what} compte {len} chiffres (reçu : « {} »).",
            raw.trim()
        ));
    }
    Ok(Some(v))
}

/// A doctor's RPPS number: 11 digits.
pub fn check_rpps(raw: &str) -> Result<Option<String>, String> {
    digits(raw, 11, "numéro RPPS")
}

/// A doctor's Assurance Maladie (facturation) number: 9 digits.
pub fn check_am_number(raw: &str) -> Result<Option<String>, String> {
    digits(raw, 9, "numéro Assurance Maladie")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalize_email("  Marie.Dupont@Exemple.FR ").unwrap(),
            "marie.dupont@exemple.fr"
        );
        for bad in [
            "",
            "pas-une-adresse",
            "a@b",
            "a@.fr",
            "a b@c.fr",
            "x\r\nBcc: y@z.fr",
            "<a>@b.fr",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn names_refuse_control_characters() {
        assert!(validate_name("x\r\nBcc: evil@example.org").is_err());
        assert!(validate_name("   ").is_err());
        assert_eq!(validate_name(" Élodie Martin ").unwrap(), "Élodie Martin");
        for formula in [
            "=HYPERLINK(\"http://evil\")",
            "@SOMME(A1)",
            "+33 6 12",
            "-2+3",
        ] {
            assert!(
                validate_name(formula).unwrap_err().contains("formule"),
                "{formula}"
            );
        }
        assert!(validate_name("Marie-Hélène D'Arc").is_ok());
    }

    #[test]
    fn identifiers_are_checked_by_their_length() {
        assert_eq!(
            check_rpps(" 1010 0123 456 ").unwrap().as_deref(),
            Some("10100123456")
        );
        assert_eq!(check_rpps("").unwrap(), None);
        assert!(check_rpps("1234").unwrap_err().contains("11 chiffres"));
        assert!(check_rpps("1010012345A").is_err());
        assert_eq!(
            check_am_number("75 1 23456 7").unwrap().as_deref(),
            Some("751234567")
        );
        assert!(
            check_am_number("7512345678")
                .unwrap_err()
                .contains("9 chiffres")
        );
    }
}
