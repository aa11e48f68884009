//! Who may see which cohort and which trainee: the one place every domain asks.
//!
//! Anyone outside the scope gets the answer of an id that does not exist (404), so ids tell
//! other organisms nothing.

use chrono::NaiveDate;

use super::rules::{self, Funding, Profile, certification_deadline};
use super::store::{self, CohortRow, Scope, TraineeLine};
use crate::accounts::{CurrentUser, Role};
use crate::web::{AppError, AppResult, State};

/// How much of a trainee someone may see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Staff,
    Employer,
}

/// A cohort that the signed-in person may manage: platform admin or its organism's staff.
pub async fn cohort_for_staff(state: &State, me: &CurrentUser, id: i64) -> AppResult<CohortRow> {
    let cohort = state
        .db(move |c| Ok(store::cohort(c, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    me.hide_unless_staff_of(cohort.organism_id)?;
    Ok(cohort)
}

/// Staff of the trainee's organism see all; the employer doctor sees the follow-up; nobody
/// else learns even that the trainee exists.
pub async fn trainee_access(
    state: &State,
    me: &CurrentUser,
    trainee_id: i64,
) -> AppResult<(TraineeLine, Access)> {
    let me = me.clone();
    state
        .db(move |c| {
            // The lookup is by id alone; the match below is the check.
            let t = store::trainee(c, Scope::Checked, trainee_id)?.ok_or(AppError::NotFound)?;
            match me.role {
                Role::Doctor if store::employs(c, me.id, trainee_id)? => Ok((t, Access::Employer)),
                Role::Doctor => Err(AppError::NotFound),
                // Herself: she knows she exists, but this is no page of hers.
                Role::Trainee if me.id == trainee_id => Err(AppError::forbidden()),
                _ => {
                    me.hide_unless_staff_of(t.organism_id)?;
                    Ok((t, Access::Staff))
                }
            }
        })
        .await
}

/// A trainee the signed-in person works on as staff of her organism; her employer may look
/// (see `trainee_access`) but not act, and is told so.
pub async fn staff_access(
    state: &State,
    me: &CurrentUser,
    trainee_id: i64,
) -> AppResult<TraineeLine> {
    match trainee_access(state, me, trainee_id).await? {
        (trainee, Access::Staff) => Ok(trainee),
        (_, Access::Employer) => Err(AppError::forbidden()),
    }
}

/// A trainee's certification deadline, her ProA suspensions counted where they apply.
pub fn deadline_of(t: &TraineeLine, today: NaiveDate) -> NaiveDate {
    certification_deadline(
        t.hire_date,
        Funding::from_db(&t.funding),
        &t.suspensions,
        today,
    )
}

/// What falls after a trainee's deadline: her current cohort's end and, for the
/// certification domain to give when it has one, her planned certification date.
pub fn deadline_flags_of(
    t: &TraineeLine,
    today: NaiveDate,
    planned_certification: Option<NaiveDate>,
) -> Vec<rules::DeadlineFlag> {
    rules::deadline_flags(deadline_of(t, today), t.cohort_end, planned_certification)
}

/// A trainee's line as the pages show it: labels, deadline, how it reads, and what falls
/// after it (`rules::deadline_flags`: her cohort's end; no certification date is known here).
pub fn trainee_view(t: &TraineeLine, today: NaiveDate) -> serde_json::Value {
    let deadline = deadline_of(t, today);
    let profile = match t.profile.as_str() {
        "ide" => Profile::Ide,
        "as" => Profile::As,
        "ap" => Profile::Ap,
        _ => Profile::Aucun,
    };
    let mut v = serde_json::to_value(t).unwrap_or_default();
    v["profile_label"] = profile.label().into();
    v["funding_label"] = Funding::from_db(&t.funding).label().into();
    v["deadline"] = serde_json::to_value(deadline).unwrap_or_default();
    let days_left = (deadline - today).num_days();
    v["days_left"] = days_left.into();
    v["deadline_words"] = rules::deadline_words(days_left).into();
    v["overdue"] = (days_left < 0).into();
    v["suspendable"] = rules::suspendable(t.hire_date, Funding::from_db(&t.funding)).into();
    // No certification date is known here yet (see `deadline_flags_of`).
    v["deadline_flags"] =
        serde_json::to_value(deadline_flags_of(t, today, None)).unwrap_or_default();
    v
}

/// A flag with the trainee it is about, as a confirmation step and the audit list them.
#[derive(Clone, Debug, serde::Serialize)]
pub struct NamedFlag {
    pub trainee_id: i64,
    pub name: String,
    #[serde(flatten)]
    pub flag: rules::DeadlineFlag,
}

/// What a new cohort end (`cohort_end`) or certification day (`planned_certification`)
/// makes fall after the deadline of each of these trainees.
pub fn flags_for_change(
    trainees: &[TraineeLine],
    today: NaiveDate,
    cohort_end: Option<NaiveDate>,
    planned_certification: Option<NaiveDate>,
) -> Vec<NamedFlag> {
    trainees
        .iter()
        .flat_map(|t| {
            rules::deadline_flags(deadline_of(t, today), cohort_end, planned_certification)
                .into_iter()
                .map(|flag| NamedFlag {
                    trainee_id: t.id,
                    name: t.name.clone(),
                    flag,
                })
        })
        .collect()
}
