//! Pure rules about establishments: a training organism's identity, and the SIRET or FINESS
//! that tells one practice from another.

use crate::base::field::{FieldError, fold};

/// A SIRET is 14 digits passing the Luhn check (La Poste's establishments excepted).
pub fn valid_siret(siret: &str) -> bool {
    if siret.len() != 14 || !siret.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    if siret.starts_with("356000000") {
        return siret
            .bytes()
            .map(|b| (b - b'0') as u32)
            .sum::<u32>()
            .is_multiple_of(5);
    }
    let sum: u32 = siret
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = (b - b'0') as u32;
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The number that identifies a group practice within an organism: its SIRET, or its FINESS
/// for a health centre. A practice is never looked up across organisms, not even by number:
/// a SIRET is public, so typing one must not attach a doctor to another organism's practice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PracticeNumber {
    Siret(String),
    Finess(String),
}

impl PracticeNumber {
    /// Spaces and dots as people type them are dropped; the number itself must be right.
    pub fn siret(raw: &str) -> Result<PracticeNumber, String> {
        let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '.')).collect();
        if valid_siret(&digits) {
            Ok(PracticeNumber::Siret(digits))
        } else {
            Err(format!("« {raw} » n'est pas un SIRET valide (14 chiffres)"))
        }
    }

    /// Nine characters: digits, with 2A or 2B for Corsica.
    pub fn finess(raw: &str) -> Result<PracticeNumber, String> {
        let n: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '.'))
            .collect::<String>()
            .to_uppercase();
        let corsica = n.starts_with("2A") || n.starts_with("2B");
        let rest = if corsica { &n[2..] } else { &n[..] };
        if n.len() == 9 && rest.bytes().all(|b| b.is_ascii_digit()) {
            Ok(PracticeNumber::Finess(n))
        } else {
            Err(format!(
                "« {raw} » n'est pas un numéro FINESS valide (9 caractères)"
            ))
        }
    }

    /// As stored in `employers.registration`.
    pub fn key(&self) -> String {
        match self {
            PracticeNumber::Siret(n) => format!("siret:{n}"),
            PracticeNumber::Finess(n) => format!("finess:{n}"),
        }
    }
}

/// Whether a name in the doctor's column is a structure (a maison de santé, a cabinet de
/// groupe, a centre de santé…) rather than a person: offices often write the practice there.
pub fn is_structure_name(name: &str) -> bool {
    const STARTS: &[&str] = &[
        "maison de sante",
        "maison medicale",
        "msp",
        "cabinet",
        "centre de sante",
        "centre medical",
        "cds",
        "pole de sante",
        "groupe medical",
        "groupement",
        "scm",
        "selarl",
        "selas",
        "sisa",
        "clinique",
        "polyclinique",
        "societe",
    ];
    let folded = fold_name(&name.replace(['-', '.', '&'], " ")) + " ";
    STARTS.iter().any(|s| folded.starts_with(&format!("{s} ")))
}

/// A group practice as an import line names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticeRef {
    pub name: String,
    pub number: Option<PracticeNumber>,
}

/// A practice already known to the organism: id, name, registration key.
pub type KnownPractice = (i64, String, Option<String>);

/// Which of the organism's practices an import line means: `Ok(Some(id))`, `Ok(None)` for a
/// new one, or an error when a name alone matches several practices that carry numbers.
/// The number decides when given; a practice known by name only takes the number given.
pub fn match_practice(
    wanted: &PracticeRef,
    known: &[KnownPractice],
) -> Result<Option<i64>, String> {
    let name = fold_name(&wanted.name);
    let same_name = || known.iter().filter(|(_, n, _)| fold_name(n) == name);
    if let Some(number) = &wanted.number {
        let key = number.key();
        if let Some((id, _, _)) = known.iter().find(|(_, _, k)| k.as_deref() == Some(&key)) {
            return Ok(Some(*id));
        }
        return Ok(same_name()
            .find(|(_, _, k)| k.is_none())
            .map(|(id, _, _)| *id));
    }
    let found: Vec<i64> = same_name().map(|(id, _, _)| *id).collect();
    match found.as_slice() {
        [] => Ok(None),
        [id] => Ok(Some(*id)),
        _ => Err(format!(
            "plusieurs cabinets « {} » existent dans votre organisme : indiquez leur SIRET ou leur FINESS",
            wanted.name
        )),
    }
}

/// Case, accents and runs of spaces do not make another practice.
fn fold_name(name: &str) -> String {
    fold(name).split_whitespace().collect::<Vec<_>>().join(" ")
}

#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct OrganismInput {
    pub name: String,
    #[serde(default)]
    pub siret: String,
    #[serde(default)]
    pub nda: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub qualiopi_number: String,
    #[serde(default)]
    pub contact_email: String,
    #[serde(default)]
    pub contact_phone: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Organism {
    pub name: String,
    pub siret: Option<String>,
    pub nda: Option<String>,
    pub address: Option<String>,
    pub qualiopi_number: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Checks an organism's identity; every problem is reported at once, by field.
pub fn validate_organism(input: &OrganismInput) -> Result<Organism, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        errors.push(FieldError::new(
            "name",
            "Le nom est obligatoire (200 caractères au plus).",
        ));
    }
    let siret: String = input.siret.chars().filter(|c| !c.is_whitespace()).collect();
    if !siret.is_empty() && !valid_siret(&siret) {
        errors.push(FieldError::new(
            "siret",
            "Le SIRET doit comporter 14 chiffres valides.",
        ));
    }
    let nda: String = input.nda.chars().filter(|c| !c.is_whitespace()).collect();
    if !nda.is_empty() && (nda.len() != 11 || !nda.bytes().all(|b| b.is_ascii_digit())) {
        errors.push(FieldError::new(
            "nda",
            "Le numéro de déclaration d'activité comporte 11 chiffres.",
        ));
    }
    let contact_email = opt(&input.contact_email);
    let contact_email = match contact_email {
        Some(e) => match crate::base::field::normalize_email(&e) {
            Ok(e) => Some(e),
            Err(m) => {
                errors.push(FieldError::new("contact_email", m));
                None
            }
        },
        None => None,
    };
    for (field, value) in [
        ("address", &input.address),
        ("qualiopi_number", &input.qualiopi_number),
        ("contact_phone", &input.contact_phone),
    ] {
        if value.chars().count() > 300 {
            errors.push(FieldError::new(field, "300 caractères au plus."));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Organism {
        name: name.to_string(),
        siret: opt(&siret),
        nda: opt(&nda),
        address: opt(&input.address),
        qualiopi_number: opt(&input.qualiopi_number),
        contact_email,
        contact_phone: opt(&input.contact_phone),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_practice_is_found_by_its_number_then_by_its_name() {
        let known = vec![
            (1, "Cabinet des Lilas".to_string(), None),
            (
                2,
                "Maison de santé du Port".to_string(),
                Some("siret:73282932000074".to_string()),
            ),
            (
                3,
                "Maison de santé du Port".to_string(),
                Some("finess:2A0001234".to_string()),
            ),
        ];
        let named = |name: &str, number: Option<PracticeNumber>| PracticeRef {
            name: name.into(),
            number,
        };
        // Case, accents and spaces as typed in a spreadsheet.
        assert_eq!(
            match_practice(&named("cabinet  des lilas", None), &known),
            Ok(Some(1))
        );
        // The number decides, whatever the name says.
        let siret = PracticeNumber::siret("732 829 320 00074").unwrap();
        assert_eq!(
            match_practice(&named("MSP du Port", Some(siret)), &known),
            Ok(Some(2))
        );
        // A practice known by name only takes the number given for it.
        let other = PracticeNumber::siret("44306184100047").unwrap();
        assert_eq!(
            match_practice(&named("Cabinet des Lilas", Some(other.clone())), &known),
            Ok(Some(1))
        );
        // An unknown number with a name that only numbered practices have is a new practice.
        assert_eq!(
            match_practice(&named("Maison de santé du Port", Some(other)), &known),
            Ok(None)
        );
        let err = match_practice(&named("Maison de sante du port", None), &known).unwrap_err();
        assert!(err.contains("SIRET ou leur FINESS"), "{err}");
        assert_eq!(
            match_practice(&named("Cabinet du Parc", None), &known),
            Ok(None)
        );
    }

    #[test]
    fn practice_numbers_are_checked() {
        assert_eq!(
            PracticeNumber::siret("732.829.320.00074").map(|n| n.key()),
            Ok("siret:73282932000074".to_string())
        );
        assert!(PracticeNumber::siret("73282932000075").is_err());
        assert!(PracticeNumber::siret("7328293200007").is_err());
        assert_eq!(
            PracticeNumber::finess("2a 000 1234").map(|n| n.key()),
            Ok("finess:2A0001234".to_string())
        );
        assert_eq!(
            PracticeNumber::finess("750000123").map(|n| n.key()),
            Ok("finess:750000123".to_string())
        );
        assert!(PracticeNumber::finess("75000012").is_err());
        assert!(PracticeNumber::finess("7500X0123").is_err());
    }

    #[test]
    fn a_structure_in_the_doctors_column_is_told_from_a_doctor() {
        for s in [
            "Maison de santé des Écrins",
            "MSP du Val",
            "Cabinet médical des Lilas",
            "CENTRE DE SANTÉ municipal",
            "SELARL Dr Martin & associés",
            "Pôle de santé du Trièves",
            "SCM des Tilleuls",
        ] {
            assert!(is_structure_name(s), "{s}");
        }
        for d in ["Dr Paul Martin", "Marie Cabinetti", "Maisonneuve Jean"] {
            assert!(!is_structure_name(d), "{d}");
        }
    }

    #[test]
    fn siret_luhn() {
        assert!(valid_siret("73282932000074"));
        assert!(!valid_siret("73282932000075"));
        assert!(!valid_siret("7328293200007"));
        assert!(!valid_siret("7328293200007a"));
    }

    #[test]
    fn organism_errors_are_listed_by_field() {
        let input = OrganismInput {
            name: " ".into(),
            siret: "123".into(),
            nda: "12".into(),
            contact_email: "nope".into(),
            ..Default::default()
        };
        let errors = validate_organism(&input).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "siret", "nda", "contact_email"]);
        let ok = validate_organism(&OrganismInput {
            name: "Institut Santé".into(),
            siret: "732 829 320 00074".into(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(ok.siret.as_deref(), Some("73282932000074"));
        assert_eq!(ok.nda, None);
    }
}
