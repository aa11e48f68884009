//! Adding and ending a ProA suspension window, as the page and the API both do it: the
//! trainee's record and windows read, the rules checked and the row written in one
//! transaction, so a refusal changes nothing.

use chrono::NaiveDate;

use super::rules::{self, Funding, Suspension};
use super::store::{self, TraineeLine};
use crate::base::format;
use crate::db::{self, DbConn};
use crate::web::AppError;

/// A date field as typed: empty is `None`; anything else must be a date (ISO or JJ/MM/AAAA).
pub fn parse_date(field: &str, raw: &str) -> Result<Option<NaiveDate>, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    format::parse_day(raw).map(Some).ok_or_else(|| {
        AppError::invalid(
            field,
            format!("« {raw} » n'est pas une date : écrivez-la au format JJ/MM/AAAA."),
        )
    })
}

/// Records a new window for the trainee; `AppError::Invalid` with the French reason when
/// the rules refuse it (`rules::check_suspension`). Answers the window's id.
pub fn add(
    conn: &mut DbConn,
    actor: i64,
    trainee: &TraineeLine,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    reason: &str,
) -> Result<i64, AppError> {
    db::transaction(conn, |c| {
        let existing: Vec<Suspension> = store::suspensions(c, trainee.id)?
            .iter()
            .map(store::SuspensionRow::window)
            .collect();
        let funding = Funding::from_db(&trainee.funding);
        let (from, to, reason) =
            rules::check_suspension(trainee.hire_date, funding, &existing, from, to, reason)
                .map_err(|e| AppError::Invalid(vec![e]))?;
        Ok(store::add_suspension(
            c,
            actor,
            trainee,
            Suspension { from, to },
            &reason,
        )?)
    })
}

/// Ends one of the trainee's open windows on `to`; unknown to her: 404.
pub fn end(
    conn: &mut DbConn,
    actor: i64,
    trainee: &TraineeLine,
    window_id: i64,
    to: Option<NaiveDate>,
) -> Result<(), AppError> {
    db::transaction(conn, |c| {
        let window = store::suspensions(c, trainee.id)?
            .into_iter()
            .find(|w| w.id == window_id)
            .ok_or(AppError::NotFound)?;
        let to = rules::check_suspension_end(window.window(), to)
            .map_err(|e| AppError::Invalid(vec![e]))?;
        Ok(store::end_suspension(c, actor, trainee, &window, to)?)
    })
}
