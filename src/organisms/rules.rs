//! Pure rules about establishments: a training organism's identity, the SIRET or FINESS
//! that tells one practice from another, and the days an organism does not train.

use chrono::NaiveDate;

use crate::base::field::{FieldError, fold};
use crate::base::{format, holidays};

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
    // Whole words only: "Cabinetti" is a person.
    STARTS.iter().any(|s| {
        folded
            .strip_prefix(s)
            .is_some_and(|rest| rest.starts_with(' '))
    })
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

/// A closure of the organism, as its staff enter it: one day, or a run of days, and what it
/// is ("Fermeture d'été").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closure {
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub label: String,
}

/// The longest closure taken at once: a year (a longer one is a typing mistake).
const MAX_CLOSURE_DAYS: i64 = 366;

/// A day typed in the closure form, or why it is not one, in French.
fn closure_day(raw: &str) -> Result<NaiveDate, String> {
    let raw = raw.trim();
    if let Some(d) = format::parse_day(raw) {
        return Ok(d);
    }
    // A date input sends `2027-02-31` as typed: say that this day does not exist.
    let iso: Vec<&str> = raw.split('-').collect();
    if let [y, m, d] = iso.as_slice()
        && y.len() == 4
        && [y, m, d]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!("{d}/{m}/{y} n'existe pas"));
    }
    Err(format::fr_date_problem(raw))
}

/// Checks a closure form: the first day, the last one (left empty for a single day) and the
/// label. Every problem is reported at once, by field.
pub fn validate_closure(first: &str, last: &str, label: &str) -> Result<Closure, Vec<FieldError>> {
    let mut errors = Vec::new();
    let first_day = if first.trim().is_empty() {
        errors.push(FieldError::new(
            "closure_from",
            "Indiquez le premier jour de la fermeture.",
        ));
        None
    } else {
        closure_day(first)
            .map_err(|e| {
                errors.push(FieldError::new(
                    "closure_from",
                    format!("Premier jour : {e}."),
                ))
            })
            .ok()
    };
    let last_day = if last.trim().is_empty() {
        first_day
    } else {
        closure_day(last)
            .map_err(|e| {
                errors.push(FieldError::new(
                    "closure_to",
                    format!("Dernier jour : {e}."),
                ))
            })
            .ok()
    };
    if let (Some(f), Some(l)) = (first_day, last_day) {
        if l < f {
            errors.push(FieldError::new(
                "closure_to",
                "La fermeture se termine avant de commencer.",
            ));
        } else if (l - f).num_days() >= MAX_CLOSURE_DAYS {
            errors.push(FieldError::new(
                "closure_to",
                "Une fermeture dure un an au plus : saisissez-en plusieurs.",
            ));
        }
    }
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 200 || label.chars().any(char::is_control) {
        errors.push(FieldError::new(
            "closure_label",
            "Indiquez le libellé de la fermeture (200 caractères au plus).",
        ));
    }
    match (first_day, last_day) {
        (Some(first_day), Some(last_day)) if errors.is_empty() => Ok(Closure {
            first_day,
            last_day,
            label: label.to_string(),
        }),
        _ => Err(errors),
    }
}

/// The days an organism does not train: the public holidays (with Alsace-Moselle's two when
/// it works under that local law) and its own closures.
#[derive(Debug, Clone, Default)]
pub struct ClosedDays {
    pub alsace_moselle: bool,
    pub closures: Vec<Closure>,
}

impl ClosedDays {
    /// Why `day` is closed: the holiday's name, else the first closure's label.
    pub fn why(&self, day: NaiveDate) -> Option<String> {
        if let Some(name) = holidays::holiday_name(day, self.alsace_moselle) {
            return Some(name.to_string());
        }
        self.closures
            .iter()
            .find(|c| c.first_day <= day && day <= c.last_day)
            .map(|c| c.label.clone())
    }

    pub fn is_closed(&self, day: NaiveDate) -> bool {
        self.why(day).is_some()
    }

    /// The public holidays from `from` to `to`, both included, in date order.
    pub fn holidays_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Vec<(NaiveDate, &'static str)> {
        use chrono::Datelike;
        (from.year()..=to.year())
            .flat_map(|y| holidays::public_holidays(y, self.alsace_moselle))
            .filter(|(d, _)| from <= *d && *d <= to)
            .collect()
    }
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

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_closure_is_one_day_or_a_run_of_days_with_a_label() {
        let one = validate_closure("2027-05-07", "", " Pont de l'Ascension ").unwrap();
        assert_eq!(
            (one.first_day, one.last_day),
            (day(2027, 5, 7), day(2027, 5, 7))
        );
        assert_eq!(one.label, "Pont de l'Ascension");
        let summer = validate_closure("02/08/2027", "2027-08-20", "Fermeture d'été").unwrap();
        assert_eq!(summer.last_day, day(2027, 8, 20));
        let fields = |r: Result<Closure, Vec<FieldError>>| {
            r.unwrap_err()
                .into_iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            fields(validate_closure("31/02/2027", "2027-02-30", "")),
            [
                "closure_from: Premier jour : 31/02/2027 n'existe pas.",
                "closure_to: Dernier jour : 30/02/2027 n'existe pas.",
                "closure_label: Indiquez le libellé de la fermeture (200 caractères au plus).",
            ]
        );
        assert_eq!(
            fields(validate_closure("", "", "Fermeture")),
            ["closure_from: Indiquez le premier jour de la fermeture."]
        );
        assert_eq!(
            fields(validate_closure("demain", "", "Fermeture")),
            ["closure_from: Premier jour : « demain » : date attendue au format JJ/MM/AAAA."]
        );
        assert_eq!(
            fields(validate_closure("2027-08-20", "2027-08-02", "Été")),
            ["closure_to: La fermeture se termine avant de commencer."]
        );
        // A year at most, both ends counted: 366 days in a leap year, not 367.
        assert!(validate_closure("2028-01-01", "2028-12-31", "Année sabbatique").is_ok());
        assert_eq!(
            fields(validate_closure("2027-12-31", "2028-12-31", "Été")),
            ["closure_to: Une fermeture dure un an au plus : saisissez-en plusieurs."]
        );
    }

    #[test]
    fn closed_days_are_the_holidays_and_the_closures() {
        let mut closed = ClosedDays {
            alsace_moselle: false,
            closures: vec![
                validate_closure("2027-08-02", "2027-08-20", "Fermeture d'été").unwrap(),
            ],
        };
        assert_eq!(
            closed.why(day(2027, 3, 29)).as_deref(),
            Some("Lundi de Pâques")
        );
        assert_eq!(
            closed.why(day(2027, 7, 14)).as_deref(),
            Some("Fête nationale")
        );
        assert_eq!(
            closed.why(day(2027, 8, 10)).as_deref(),
            Some("Fermeture d'été")
        );
        assert!(!closed.is_closed(day(2027, 4, 5)));
        assert!(!closed.is_closed(day(2027, 3, 26)));
        assert!(!closed.is_closed(day(2027, 8, 21)));
        closed.alsace_moselle = true;
        assert_eq!(
            closed.why(day(2027, 3, 26)).as_deref(),
            Some("Vendredi saint")
        );
        let listed = closed.holidays_between(day(2026, 12, 20), day(2027, 1, 5));
        assert_eq!(
            listed,
            [
                (day(2026, 12, 25), "Noël"),
                (day(2026, 12, 26), "Saint-Étienne"),
                (day(2027, 1, 1), "Jour de l'an"),
            ]
        );
    }
}
