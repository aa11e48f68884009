//! Pure rules about organisms.

use crate::base::field::FieldError;
use crate::base::format;

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
    fn a_departure_lies_between_the_start_and_today_with_a_known_reason() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day);
        let (start, today) = (d(9, 1).unwrap(), d(12, 3).unwrap());
        let check = |on, reason, note| check_departure(start, today, on, reason, note);
        assert_eq!(
            check(d(11, 2), "fin_contrat", "  "),
            Ok((d(11, 2).unwrap(), EndReason::ContractEnded, None))
        );
        // The first day and today are both days a departure can happen.
        assert!(check(d(9, 1), "abandon", "").is_ok());
        assert!(check(d(12, 3), "sante", "").is_ok());
        let field = |r: Result<_, FieldError>| r.map(|_| ()).unwrap_err().field;
        assert_eq!(field(check(None, "abandon", "")), "on");
        assert_eq!(field(check(d(8, 31), "abandon", "")), "on");
        assert_eq!(field(check(d(12, 4), "abandon", "")), "on");
        assert_eq!(field(check(d(11, 2), "transfert", "")), "reason");
        assert_eq!(field(check(d(11, 2), "autre", " ")), "note");
        let long = "é".repeat(501);
        assert_eq!(field(check(d(11, 2), "sante", &long)), "note");
        assert_eq!(
            check(d(11, 2), "autre", " Déménagement "),
            Ok((
                d(11, 2).unwrap(),
                EndReason::Other,
                Some("Déménagement".into())
            ))
        );
        for r in EndReason::ALL {
            assert_eq!(EndReason::from_db(r.as_str()), Some(r));
        }
    }

    #[test]
    fn a_profile_cell_is_a_care_diploma_or_prior_experience() {
        for diploma in ["IDE", "Infirmière D.E.", "infirmier diplômé d'état", "IDEL"] {
            assert_eq!(Profile::read(diploma), (Profile::Ide, None), "{diploma}");
        }
        assert_eq!(Profile::read("Aide-soignante"), (Profile::As, None));
        assert_eq!(Profile::read("DEAP"), (Profile::Ap, None));
        assert_eq!(Profile::read(" aucun "), (Profile::Aucun, None));
        assert_eq!(
            Profile::read(" Secrétaire médicale "),
            (Profile::Aucun, Some("Secrétaire médicale".to_string()))
        );
        assert_eq!(
            Profile::read("Sans emploi"),
            (Profile::Aucun, Some("Sans emploi".to_string()))
        );
    }

    #[test]
    fn a_past_deadline_says_so() {
        assert_eq!(deadline_words(-92), "échéance dépassée depuis 92 jours");
        assert_eq!(deadline_words(-1), "échéance dépassée depuis 1 jour");
        assert_eq!(deadline_words(0), "échéance aujourd'hui");
        assert_eq!(deadline_words(1), "1 jour restant");
        assert_eq!(deadline_words(400), "400 jours restants");
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

use chrono::{Datelike, Months, NaiveDate, NaiveTime, Weekday};

/// A trainee's care diploma, which decides the training: a diploma leads to the FAE,
/// none to the CQP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    Ide,
    As,
    Ap,
    Aucun,
}

impl Profile {
    pub fn parse(raw: &str) -> Option<Profile> {
        let s = fold(raw).replace('.', "").replace('\'', " ");
        let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
        match s.as_str() {
            "ide"
            | "idel"
            | "ide de"
            | "infirmier"
            | "infirmiere"
            | "infirmier(e)"
            | "infirmier de"
            | "infirmiere de"
            | "infirmier diplome d etat"
            | "infirmiere diplomee d etat" => Some(Profile::Ide),
            "as"
            | "deas"
            | "aide-soignant"
            | "aide-soignante"
            | "aide soignant"
            | "aide soignante"
            | "aide-soignant(e)"
            | "aide-soignante diplomee" => Some(Profile::As),
            "ap" | "deap" | "auxiliaire de puericulture" | "auxiliaire puericulture" => {
                Some(Profile::Ap)
            }
            "" | "aucun" | "aucune" | "sans" | "sans diplome" | "non" => Some(Profile::Aucun),
            _ => None,
        }
    }

    /// What a "Profil" cell of a real file says: a care diploma routes to the FAE; any other
    /// text ("Secrétaire médicale", "Aide à domicile"…) is the person's prior experience and
    /// routes to the CQP; it is kept, for the positionnement.
    pub fn read(raw: &str) -> (Profile, Option<String>) {
        match Profile::parse(raw) {
            Some(p) => (p, None),
            None => (Profile::Aucun, Some(raw.trim().to_string())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Ide => "ide",
            Profile::As => "as",
            Profile::Ap => "ap",
            Profile::Aucun => "aucun",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Profile::Ide => "Infirmier (IDE)",
            Profile::As => "Aide-soignant (AS)",
            Profile::Ap => "Auxiliaire de puériculture (AP)",
            Profile::Aucun => "Sans diplôme de soignant",
        }
    }

    pub fn has_care_diploma(self) -> bool {
        self != Profile::Aucun
    }
}

/// A warning when the cohort's programme does not fit the trainee's profile.
pub fn program_fit_warning(profile: Profile, program_kind: &str) -> Option<String> {
    match (profile.has_care_diploma(), program_kind) {
        (true, "cqp") => Some(format!(
            "{} : ce profil relève normalement de la FAE, pas du CQP.",
            profile.label()
        )),
        (false, "fae") => Some(
            "Sans diplôme de soignant, le parcours attendu est le CQP, pas la FAE.".to_string(),
        ),
        _ => None,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Funding {
    ContratPro,
    Proa,
    PlanDeveloppement,
    Autre,
}

impl Funding {
    pub fn parse(raw: &str) -> Option<Funding> {
        let s = fold(raw);
        match s.as_str() {
            "contrat de professionnalisation" | "contrat pro" | "professionnalisation" | "cp" => {
                Some(Funding::ContratPro)
            }
            "proa" | "pro-a" | "pro a" => Some(Funding::Proa),
            "plan de developpement des competences" | "plan de developpement" | "pdc" => {
                Some(Funding::PlanDeveloppement)
            }
            "autre" | "" => Some(Funding::Autre),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Funding::ContratPro => "contrat_pro",
            Funding::Proa => "proa",
            Funding::PlanDeveloppement => "plan_developpement",
            Funding::Autre => "autre",
        }
    }

    pub fn from_db(s: &str) -> Funding {
        match s {
            "contrat_pro" => Funding::ContratPro,
            "proa" => Funding::Proa,
            "plan_developpement" => Funding::PlanDeveloppement,
            _ => Funding::Autre,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Funding::ContratPro => "Contrat de professionnalisation",
            Funding::Proa => "ProA (reconversion ou promotion par alternance)",
            Funding::PlanDeveloppement => "Plan de développement des compétences",
            Funding::Autre => "Autre",
        }
    }
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

/// The cohort's length must fall within the programme's range, in months from its start.
pub fn check_cohort_dates(
    start: NaiveDate,
    end: NaiveDate,
    min_months: u32,
    max_months: u32,
) -> Result<(), String> {
    if end <= start {
        return Err("La date de fin doit être après la date de début.".into());
    }
    let earliest = start + Months::new(min_months);
    let latest = start + Months::new(max_months);
    if end < earliest || end > latest {
        return Err(format!(
            "La durée d'une promotion de ce programme doit être comprise entre {min_months} et {max_months} mois : pour un début le {}, la fin doit tomber entre le {} et le {}.",
            format::date(start),
            format::date(earliest),
            format::date(latest)
        ));
    }
    Ok(())
}

/// Why a trainee left the training before its end (a transfer is not a departure).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    Abandon,
    ContractEnded,
    Health,
    Other,
}

impl EndReason {
    pub const ALL: [EndReason; 4] = [
        EndReason::Abandon,
        EndReason::ContractEnded,
        EndReason::Health,
        EndReason::Other,
    ];

    pub fn from_db(s: &str) -> Option<EndReason> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Abandon => "abandon",
            EndReason::ContractEnded => "fin_contrat",
            EndReason::Health => "sante",
            EndReason::Other => "autre",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            EndReason::Abandon => "Abandon du stagiaire",
            EndReason::ContractEnded => "Fin ou rupture du contrat de travail",
            EndReason::Health => "Raison de santé",
            EndReason::Other => "Autre motif",
        }
    }
}

/// A departure as typed by staff: the day out (hours count until its eve), a reason, and a
/// note that "autre" needs. The day lies between the enrolment's start and today.
pub fn check_departure(
    started_on: NaiveDate,
    today: NaiveDate,
    on: Option<NaiveDate>,
    reason: &str,
    note: &str,
) -> Result<(NaiveDate, EndReason, Option<String>), FieldError> {
    let on = on
        .ok_or_else(|| FieldError::new("on", "Indiquez la date de sortie au format JJ/MM/AAAA."))?;
    if on < started_on {
        return Err(FieldError::new(
            "on",
            format!(
                "La date de sortie ne peut précéder l'entrée en formation, le {}.",
                format::date(started_on)
            ),
        ));
    }
    if on > today {
        return Err(FieldError::new(
            "on",
            "La date de sortie ne peut être dans le futur : enregistrez la sortie le jour venu.",
        ));
    }
    let reason = EndReason::from_db(reason.trim())
        .ok_or_else(|| FieldError::new("reason", "Choisissez le motif de la sortie."))?;
    let note = note.trim();
    if note.chars().count() > 500 {
        return Err(FieldError::new(
            "note",
            "La précision ne peut dépasser 500 caractères.",
        ));
    }
    if reason == EndReason::Other && note.is_empty() {
        return Err(FieldError::new(
            "note",
            "Précisez le motif lorsque vous choisissez « Autre motif ».",
        ));
    }
    Ok((on, reason, Some(note.to_string()).filter(|n| !n.is_empty())))
}

/// The convention of 22 June 2024 shortened the delay to obtain the certification.
pub const CONVENTION_2024: NaiveDate = match NaiveDate::from_ymd_opt(2024, 6, 22) {
    Some(d) => d,
    None => panic!("valid date"),
};

/// Certification deadline: 3 years after a hire before 22/06/2024, 2 years from that date,
/// moved by the days of a ProA funding suspension (an open one counts up to `today`).
pub fn certification_deadline(
    hire: NaiveDate,
    suspension: Option<(NaiveDate, Option<NaiveDate>)>,
    today: NaiveDate,
) -> NaiveDate {
    let years = if hire < CONVENTION_2024 { 36 } else { 24 };
    let base = hire + Months::new(years);
    let suspended = suspension
        .map(|(from, to)| {
            let to = to.unwrap_or(today).min(today.max(from));
            (to - from.max(hire)).num_days().max(0)
        })
        .unwrap_or(0);
    base + chrono::Duration::days(suspended)
}

/// The time left to a deadline in words: never "-92 jours".
pub fn deadline_words(days_left: i64) -> String {
    match days_left {
        d if d < -1 => format!("échéance dépassée depuis {} jours", -d),
        -1 => "échéance dépassée depuis 1 jour".into(),
        0 => "échéance aujourd'hui".into(),
        1 => "1 jour restant".into(),
        d => format!("{d} jours restants"),
    }
}

/// One planned in-person session of a generated rhythm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedSession {
    pub day: NaiveDate,
    pub starts_at: NaiveTime,
    pub ends_at: NaiveTime,
    /// Index in the modules given, alternating day after day.
    pub module: usize,
}

/// "Every Tuesday and Thursday, alternating modules": one session per slot on each chosen
/// weekday between the two dates; the module changes from one training day to the next.
pub fn weekly_rhythm(
    from: NaiveDate,
    to: NaiveDate,
    weekdays: &[Weekday],
    slots: &[(NaiveTime, NaiveTime)],
    module_count: usize,
) -> Vec<PlannedSession> {
    let mut out = Vec::new();
    if module_count == 0 {
        return out;
    }
    let mut day_index = 0;
    let mut day = from;
    while day <= to {
        if weekdays.contains(&day.weekday()) {
            for (start, end) in slots {
                out.push(PlannedSession {
                    day,
                    starts_at: *start,
                    ends_at: *end,
                    module: day_index % module_count,
                });
            }
            day_index += 1;
        }
        day += chrono::Duration::days(1);
    }
    out
}

#[cfg(test)]
mod cohort_tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn deadline_changes_on_22_june_2024() {
        let today = d(2026, 11, 24);
        assert_eq!(
            certification_deadline(d(2024, 6, 21), None, today),
            d(2027, 6, 21)
        );
        assert_eq!(
            certification_deadline(d(2024, 6, 22), None, today),
            d(2026, 6, 22)
        );
        assert_eq!(
            certification_deadline(d(2025, 1, 15), None, today),
            d(2027, 1, 15)
        );
    }

    #[test]
    fn a_proa_suspension_moves_the_deadline_by_its_days() {
        let today = d(2026, 11, 24);
        let hire = d(2025, 1, 15);
        // Closed: 30 days.
        assert_eq!(
            certification_deadline(hire, Some((d(2025, 3, 1), Some(d(2025, 3, 31)))), today),
            d(2027, 2, 14)
        );
        // Open: counts up to today, so it keeps moving.
        assert_eq!(
            certification_deadline(hire, Some((d(2026, 11, 14), None)), today),
            d(2027, 1, 25)
        );
        // Starting in the future: nothing yet.
        assert_eq!(
            certification_deadline(hire, Some((d(2026, 12, 1), None)), today),
            d(2027, 1, 15)
        );
        // Across the 2024 change, the suspension still adds.
        assert_eq!(
            certification_deadline(
                d(2024, 6, 21),
                Some((d(2024, 7, 1), Some(d(2024, 7, 11)))),
                today
            ),
            d(2027, 7, 1)
        );
    }

    #[test]
    fn cohort_length_must_fit_the_programme() {
        let start = d(2026, 9, 1);
        assert!(check_cohort_dates(start, d(2027, 7, 1), 10, 12).is_ok());
        assert!(check_cohort_dates(start, d(2027, 9, 1), 10, 12).is_ok());
        let err = check_cohort_dates(start, d(2027, 10, 1), 10, 12).unwrap_err();
        assert!(err.contains("entre 10 et 12 mois"), "{err}");
        assert!(
            err.contains("01/07/2027") && err.contains("01/09/2027"),
            "{err}"
        );
        assert!(check_cohort_dates(start, d(2027, 6, 30), 10, 12).is_err());
        assert!(
            check_cohort_dates(start, d(2026, 8, 1), 10, 12)
                .unwrap_err()
                .contains("après")
        );
    }

    #[test]
    fn profiles_route_to_the_right_training() {
        assert_eq!(Profile::parse("Infirmière"), Some(Profile::Ide));
        assert_eq!(Profile::parse(" AS "), Some(Profile::As));
        assert_eq!(Profile::parse(""), Some(Profile::Aucun));
        assert_eq!(Profile::parse("chirurgien"), None);
        assert!(program_fit_warning(Profile::Ide, "cqp").is_some());
        assert!(program_fit_warning(Profile::Aucun, "fae").is_some());
        assert!(program_fit_warning(Profile::Ap, "fae").is_none());
        assert_eq!(
            Funding::parse("Plan de développement des compétences"),
            Some(Funding::PlanDeveloppement)
        );
    }

    #[test]
    fn weekly_rhythm_alternates_modules_by_training_day() {
        let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
        let s = weekly_rhythm(
            d(2026, 11, 23),
            d(2026, 12, 4),
            &[Weekday::Tue, Weekday::Thu],
            &[(t(9), t(12)), (t(13), t(17))],
            2,
        );
        assert_eq!(s.len(), 8);
        assert_eq!(s[0].day, d(2026, 11, 24));
        assert_eq!((s[0].module, s[1].module, s[2].module), (0, 0, 1));
        assert_eq!(s[7].day, d(2026, 12, 3));
    }
}
