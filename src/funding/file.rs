//! Saving a funding file as the page does it: the enrolment, the file as it stands and the
//! programme's hours read, the rules checked and the rows written in one transaction, so a
//! refusal changes nothing.

use super::rules::{self, Form};
use super::store::{self, EnrolmentRef, FileRow, Saving};
use crate::base::paris::today;
use crate::cohorts::store::{TraineeLine, program_modules};
use crate::db::{self, DbConn};
use crate::web::AppError;

/// The trainee's current enrolment, its file if opened, and its programme's hours.
pub fn load(
    conn: &mut DbConn,
    trainee_id: i64,
) -> Result<Option<(EnrolmentRef, Option<FileRow>, i64)>, AppError> {
    let Some(enrolment) = store::current_enrolment(conn, trainee_id)? else {
        return Ok(None);
    };
    let file = store::file_of(conn, enrolment.id)?;
    let minutes = program_modules(conn, enrolment.program_id)?
        .iter()
        .map(|m| i64::from(m.3))
        .sum();
    Ok(Some((enrolment, file, minutes)))
}

/// Checks and records the form for the trainee's current enrolment; `AppError::Invalid`
/// with the French reasons when refused.
pub fn save(
    conn: &mut DbConn,
    actor: i64,
    trainee: &TraineeLine,
    form: &Form,
) -> Result<i64, AppError> {
    db::transaction(conn, |c| {
        let (enrolment, before, minutes) = load(c, trainee.id)?.ok_or_else(|| {
            AppError::invalid(
                "status",
                "Cette stagiaire n'est inscrite dans aucune promotion : le dossier de financement suit une inscription.",
            )
        })?;
        let (file, back) = rules::check(form, before.as_ref().map(|b| &b.file), minutes, today())
            .map_err(AppError::Invalid)?;
        if before.as_ref().is_some_and(|b| b.file == file) {
            // Nothing changed: no history line, no audit row.
            return Ok(before.map_or(0, |b| b.id));
        }
        Ok(store::save(
            c,
            &Saving {
                actor,
                organism_id: trainee.organism_id,
                trainee_id: trainee.id,
                enrolment_id: enrolment.id,
                before: before.as_ref(),
                back_reason: back.as_deref(),
            },
            &file,
        )?)
    })
}
