//! A new cohort, for the page and the API alike: the form, parsed once into checked values,
//! then one creation.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::rules;
use super::store::{self, NewCohort};
use crate::base::field::FieldError;
use crate::base::format;
use crate::web::{AppResult, State};

/// A programme a cohort may follow, with its database ids and the version new cohorts start
/// on. Read from the programmes' rows, so that cohorts need not import the curriculum, which
/// asks cohorts who may see what.
#[derive(Clone, Debug, Serialize)]
pub struct ProgramChoice {
    pub code: String,
    pub title: String,
    pub total_hours: u32,
    pub min_months: u32,
    pub max_months: u32,
    #[serde(skip)]
    pub program_id: i64,
    #[serde(skip)]
    pub content_version_id: i64,
}

/// The programmes offered to an organism's new cohorts: the references and its own published
/// ones, never another organism's.
#[derive(Clone, Debug, Default)]
pub struct Programs(pub Vec<ProgramChoice>);

impl Programs {
    pub async fn of_organism(state: &State, organism: i64) -> AppResult<Programs> {
        Ok(Programs(
            state
                .db(move |c| Ok(store::program_choices(c, organism)?))
                .await?,
        ))
    }

    fn find(&self, code: &str) -> Option<&ProgramChoice> {
        self.0.iter().find(|p| p.code == code)
    }
}

#[derive(Default, Serialize, Deserialize)]
pub struct CohortForm {
    pub name: String,
    pub program: String,
    pub start_date: String,
    pub end_date: String,
}

/// A cohort whose name, programme and dates have passed every check.
pub struct CheckedCohort {
    name: String,
    program_id: i64,
    content_version_id: i64,
    start_date: NaiveDate,
    end_date: NaiveDate,
}

/// The form's date, as a date field sends it or as a French office types it.
fn parse_date(field: &str, raw: &str, errors: &mut Vec<FieldError>) -> Option<NaiveDate> {
    let d = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .ok()
        .or_else(|| format::parse_fr_date(raw));
    if d.is_none() {
        errors.push(FieldError::new(field, "Date invalide (JJ/MM/AAAA)."));
    }
    d
}

impl CohortForm {
    /// Checks the cohort against its programme; every problem is reported at once, by field.
    pub fn check(&self, programs: &Programs) -> Result<CheckedCohort, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 120 || name.chars().any(char::is_control) {
            errors.push(FieldError::new(
                "name",
                "Le nom de la promotion est obligatoire (120 caractères au plus).",
            ));
        }
        let program = programs.find(&self.program);
        if program.is_none() {
            errors.push(FieldError::new("program", "Choisissez un programme."));
        }
        let start = parse_date("start_date", &self.start_date, &mut errors);
        let end = parse_date("end_date", &self.end_date, &mut errors);
        if let (Some(p), Some(s), Some(e)) = (program, start, end)
            && let Err(m) = rules::check_cohort_dates(s, e, p.min_months, p.max_months)
        {
            errors.push(FieldError::new("end_date", m));
        }
        match (errors.is_empty(), program, start, end) {
            (true, Some(p), Some(start_date), Some(end_date)) => Ok(CheckedCohort {
                name: name.to_string(),
                program_id: p.program_id,
                content_version_id: p.content_version_id,
                start_date,
                end_date,
            }),
            _ => Err(errors),
        }
    }
}

/// Creates the cohort in `organism` (audited by the store) and returns its id.
pub async fn create(
    state: &State,
    actor: i64,
    organism: i64,
    cohort: CheckedCohort,
) -> AppResult<i64> {
    state
        .db(move |c| {
            crate::db::transaction(c, |c| {
                Ok(store::create_cohort(
                    c,
                    Some(actor),
                    &NewCohort {
                        organism_id: organism,
                        program_id: cohort.program_id,
                        content_version_id: cohort.content_version_id,
                        name: &cohort.name,
                        start_date: cohort.start_date,
                        end_date: cohort.end_date,
                    },
                )?)
            })
        })
        .await
}
