//! The header of an import file and the reading of one line through it.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use super::{ImportError, ImportRow};
use crate::base::field::{fold, normalize_email, validate_name};
use crate::base::format::{fr_date_problem, parse_fr_date};
use crate::cohorts::rules::{Funding, Profile};
use crate::organisms::rules::{PracticeNumber, PracticeRef, is_structure_name};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Col {
    LastName,
    FirstName,
    FullName,
    Email,
    Profile,
    HireDate,
    DoctorName,
    DoctorEmail,
    Funding,
    Practice,
    Siret,
    Finess,
}

fn column(header: &str) -> Option<Col> {
    let h = fold(header);
    let h = h.trim_matches('"');
    Some(match h {
        "nom" | "nom de famille" => Col::LastName,
        "prenom" => Col::FirstName,
        "nom complet" | "stagiaire" | "nom et prenom" | "prenom et nom" => Col::FullName,
        "email"
        | "e-mail"
        | "courriel"
        | "adresse e-mail"
        | "email du stagiaire"
        | "e-mail du stagiaire" => Col::Email,
        "profil" | "diplome" => Col::Profile,
        "date d'embauche" | "embauche" | "date embauche" => Col::HireDate,
        "medecin" | "nom du medecin" | "medecin employeur" => Col::DoctorName,
        "email du medecin" | "e-mail du medecin" | "courriel du medecin" | "email medecin" => {
            Col::DoctorEmail
        }
        "financement" => Col::Funding,
        "cabinet" | "structure" | "cabinet de groupe" => Col::Practice,
        "siret" | "n° siret" | "no siret" | "numero siret" | "siret du cabinet" => Col::Siret,
        "finess" | "n° finess" | "no finess" | "numero finess" | "finess du cabinet" => {
            Col::Finess
        }
        _ => return None,
    })
}

const EXPECTED: &str = "Nom, Prénom (ou Nom complet), E-mail, Profil, Date d'embauche, Médecin, E-mail du médecin, Financement, et en option Cabinet, SIRET, FINESS";

/// The header line: which column holds what, as the file names it.
pub(super) struct Columns {
    headers: csv::StringRecord,
    at: HashMap<Col, usize>,
}

impl Columns {
    /// Every unknown, doubled or missing column is reported at once.
    pub(super) fn read(headers: csv::StringRecord) -> Result<Columns, Vec<ImportError>> {
        let mut errors = Vec::new();
        let mut at: HashMap<Col, usize> = HashMap::new();
        for (i, h) in headers.iter().enumerate() {
            if h.trim().is_empty() {
                continue;
            }
            match column(h) {
                Some(c) => {
                    if at.insert(c, i).is_some() {
                        errors.push(ImportError::new(1, h, "colonne en double"));
                    }
                }
                None => errors.push(ImportError::new(
                    1,
                    h,
                    format!("colonne inconnue ; colonnes attendues : {EXPECTED}"),
                )),
            }
        }
        let has_name = at.contains_key(&Col::FullName) || at.contains_key(&Col::LastName);
        let required = [
            (Col::Email, "E-mail"),
            (Col::Profile, "Profil"),
            (Col::HireDate, "Date d'embauche"),
            (Col::DoctorName, "Médecin"),
            (Col::DoctorEmail, "E-mail du médecin"),
            (Col::Funding, "Financement"),
        ];
        if !has_name {
            errors.push(ImportError::new(1, "Nom", "colonne obligatoire absente"));
        }
        for (c, name) in required {
            if !at.contains_key(&c) {
                errors.push(ImportError::new(1, name, "colonne obligatoire absente"));
            }
        }
        if errors.is_empty() {
            Ok(Columns { headers, at })
        } else {
            Err(errors)
        }
    }

    /// The column's name as the file writes it, for messages.
    fn header(&self, c: Col) -> String {
        self.at
            .get(&c)
            .and_then(|i| self.headers.get(*i))
            .unwrap_or_default()
            .to_string()
    }
}

/// One line of the file, read through its header.
pub(super) struct Line<'a> {
    pub(super) columns: &'a Columns,
    pub(super) record: &'a csv::StringRecord,
    pub(super) number: usize,
}

impl Line<'_> {
    fn get(&self, c: Col) -> String {
        self.columns
            .at
            .get(&c)
            .and_then(|i| self.record.get(*i))
            .unwrap_or_default()
            .trim()
            .to_string()
    }

    fn error(&self, c: Col, message: impl Into<String>) -> ImportError {
        ImportError::new(self.number, &self.columns.header(c), message)
    }

    /// The trainee of this line, or every problem of it; `seen` holds the addresses of the
    /// lines before.
    pub(super) fn row(
        &self,
        today: NaiveDate,
        seen: &mut HashSet<String>,
    ) -> Result<ImportRow, Vec<ImportError>> {
        let mut errors = Vec::new();
        let name_col = if self.columns.at.contains_key(&Col::FullName) {
            Col::FullName
        } else {
            Col::LastName
        };
        let name = match name_col {
            Col::FullName => self.get(Col::FullName),
            _ => format!("{} {}", self.get(Col::FirstName), self.get(Col::LastName))
                .trim()
                .to_string(),
        };
        let name = validate_name(&name)
            .map_err(|m| errors.push(self.error(name_col, m)))
            .unwrap_or_default();
        let email = normalize_email(&self.get(Col::Email))
            .map_err(|m| errors.push(self.error(Col::Email, m)))
            .unwrap_or_default();
        if !email.is_empty() && !seen.insert(email.clone()) {
            errors.push(self.error(
                Col::Email,
                format!("{email} apparaît deux fois dans le fichier"),
            ));
        }
        let (profile, prior_experience) = Profile::read(&self.get(Col::Profile));
        // Prior experience is kept as text: the same limits as a name (length, no control
        // character, no spreadsheet formula).
        if let Some(prior) = &prior_experience
            && validate_name(prior).is_err()
        {
            errors.push(self.error(
                Col::Profile,
                format!("« {prior} » : attendu un diplôme (IDE, AS, AP), « aucun » ou le métier exercé avant (120 caractères au plus, sans formule)"),
            ));
        }
        let hire_date = self.hire_date(today, &mut errors);
        let doctor_cell = validate_name(&self.get(Col::DoctorName))
            .map_err(|m| errors.push(self.error(Col::DoctorName, m)))
            .unwrap_or_default();
        // A practice written where the doctor's name goes is the employer; the doctor is then
        // known by his address until he signs in.
        let (doctor_name, practice_cell) = match self.get(Col::Practice) {
            cell if cell.is_empty() && is_structure_name(&doctor_cell) => {
                (String::new(), doctor_cell)
            }
            cell => (doctor_cell, cell),
        };
        let doctor_email = normalize_email(&self.get(Col::DoctorEmail))
            .map_err(|m| errors.push(self.error(Col::DoctorEmail, m)))
            .unwrap_or_default();
        if !doctor_email.is_empty() && doctor_email == email {
            errors.push(self.error(
                Col::DoctorEmail,
                "le médecin et le stagiaire ont la même adresse",
            ));
        }
        let funding = Funding::parse(&self.get(Col::Funding)).unwrap_or_else(|| {
            errors.push(self.error(
                Col::Funding,
                format!(
                    "« {} » : attendu contrat de professionnalisation, ProA, plan de développement des compétences ou autre",
                    self.get(Col::Funding)
                ),
            ));
            Funding::Autre
        });
        let practice = practice_of(
            practice_cell,
            (&self.get(Col::Siret), &self.get(Col::Finess)),
        )
        .unwrap_or_else(|(col, message)| {
            let header = self.columns.header(col);
            let header = if header.is_empty() {
                "Cabinet".to_string()
            } else {
                header
            };
            errors.push(ImportError::new(self.number, &header, message));
            None
        });
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ImportRow {
            line: self.number,
            name,
            email,
            profile,
            prior_experience,
            hire_date,
            doctor_name,
            doctor_email,
            funding,
            practice,
        })
    }

    /// The hire date: a real French date, not in the future.
    fn hire_date(&self, today: NaiveDate, errors: &mut Vec<ImportError>) -> NaiveDate {
        let raw = self.get(Col::HireDate);
        match parse_fr_date(&raw) {
            Some(d) if d > today => {
                errors.push(self.error(Col::HireDate, format!("{raw} est dans le futur")));
                d
            }
            Some(d) => d,
            None => {
                errors.push(self.error(Col::HireDate, fr_date_problem(&raw)));
                today
            }
        }
    }
}

/// The group practice of a line: its name, identified by its SIRET or else its FINESS.
fn practice_of(
    name: String,
    (siret, finess): (&str, &str),
) -> Result<Option<PracticeRef>, (Col, String)> {
    let number = match (siret.is_empty(), finess.is_empty()) {
        (false, _) => Some(PracticeNumber::siret(siret).map_err(|m| (Col::Siret, m))?),
        (true, false) => Some(PracticeNumber::finess(finess).map_err(|m| (Col::Finess, m))?),
        (true, true) => None,
    };
    match (name.is_empty(), number) {
        (true, None) => Ok(None),
        (true, Some(_)) => Err((
            Col::Practice,
            "un SIRET ou un FINESS désigne un cabinet : indiquez aussi son nom".into(),
        )),
        (false, number) => Ok(Some(PracticeRef { name, number })),
    }
}
