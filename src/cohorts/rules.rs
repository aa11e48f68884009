//! Pure rules about organisms.

use crate::web::FieldError;

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

#[derive(Debug, Clone, PartialEq)]
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
        Some(e) => match crate::accounts::rules::normalize_email(&e) {
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
