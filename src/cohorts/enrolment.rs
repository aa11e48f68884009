//! Enrolling trainees from checked import rows: accounts, profiles, employers, invitations.
//! One transaction for the whole file: any refused line and nothing is written.

use diesel::prelude::*;
use serde::Serialize;

use super::import::{ImportError, ImportRow};
use super::store::{self, CohortRow, NewProfile};
use crate::accounts::invite;
use crate::accounts::rules::Role;
use crate::accounts::store::{self as users, NewUser};
use crate::audit::{self, Event};
use crate::db::schema::trainee_profiles;
use crate::db::{self, DbConn};
use crate::mail::MailContext;
use crate::web::AppError;

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub doctors_invited: usize,
    pub warnings: Vec<String>,
    /// Lines whose "Profil" was a former job, kept as prior experience (not an error).
    pub information: Vec<String>,
    /// The audit event that keeps this report, for the page shown after the upload.
    #[serde(skip)]
    pub report_id: Option<i64>,
    /// Trainees enrolled in a cohort under way with less than the programme's minimum
    /// length left (`rules::short_stay_warning`), and that warning: staff confirm it.
    #[serde(skip)]
    pub late_entries: usize,
    #[serde(skip)]
    pub late_warning: Option<String>,
    /// Trainees enrolled whose certification deadline falls before the cohort's end
    /// (`rules::deadline_flags`), a line each: staff confirm them as they do late entries.
    #[serde(skip)]
    pub deadline_flags: Vec<String>,
}

impl ImportSummary {
    /// What staff must confirm before the import is kept, if anything: the late entries and
    /// the deadlines falling before the cohort's end.
    pub fn to_confirm(&self) -> Option<String> {
        let mut parts: Vec<String> = self.late_warning.iter().cloned().collect();
        if !self.deadline_flags.is_empty() {
            parts.push(format!(
                "Échéance de certification avant la fin de la promotion : {}.",
                self.deadline_flags.join(" ; ")
            ));
        }
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

pub enum ImportFailure {
    Refused(Vec<ImportError>),
    Internal(AppError),
}

impl From<diesel::result::Error> for ImportFailure {
    fn from(e: diesel::result::Error) -> Self {
        ImportFailure::Internal(e.into())
    }
}

impl From<AppError> for ImportFailure {
    fn from(e: AppError) -> Self {
        ImportFailure::Internal(e)
    }
}

/// What every line of one import shares.
struct Run<'a> {
    mc: &'a MailContext<'a>,
    actor: Option<i64>,
    cohort: &'a CohortRow,
    organism: (i64, &'a str),
    today: chrono::NaiveDate,
    /// The warning a new enrolment in this cohort today carries, if any.
    late: Option<String>,
}

/// A line is refused (with its reason) or the run stops on an internal error.
type LineResult<T> = Result<Result<T, ImportError>, ImportFailure>;

/// What an import came to once applied.
pub enum Applied {
    Done(ImportSummary),
    /// Late entries or deadlines before the cohort's end (`ImportSummary::to_confirm`) that
    /// staff did not confirm: everything was rolled back.
    NeedsConfirmation(String),
}

/// Why the import's transaction stops: the lines, or what staff must confirm.
enum Stop {
    Failure(ImportFailure),
    Unconfirmed(String),
}

impl From<diesel::result::Error> for Stop {
    fn from(e: diesel::result::Error) -> Self {
        Stop::Failure(e.into())
    }
}

/// `apply` in one transaction, rolled back when it needs a confirmation that `confirm` does
/// not give: the page and the command line import the same way.
#[allow(clippy::too_many_arguments)]
pub fn apply_confirmed(
    conn: &mut DbConn,
    mc: &MailContext<'_>,
    actor: Option<i64>,
    cohort: &CohortRow,
    organism_name: &str,
    rows: &[ImportRow],
    confirm: bool,
    progress: impl FnMut(usize),
) -> Result<Applied, ImportFailure> {
    let done = crate::db::transaction(conn, |c| {
        let s =
            apply(c, mc, actor, cohort, organism_name, rows, progress).map_err(Stop::Failure)?;
        match (s.to_confirm(), confirm) {
            (Some(w), false) => Err(Stop::Unconfirmed(w)),
            _ => Ok(s),
        }
    });
    match done {
        Ok(s) => Ok(Applied::Done(s)),
        Err(Stop::Unconfirmed(w)) => Ok(Applied::NeedsConfirmation(w)),
        Err(Stop::Failure(f)) => Err(f),
    }
}

/// Applies an import to a cohort. Running the same file again changes nothing.
pub fn apply(
    conn: &mut DbConn,
    mc: &MailContext<'_>,
    actor: Option<i64>,
    cohort: &CohortRow,
    organism_name: &str,
    rows: &[ImportRow],
    mut progress: impl FnMut(usize),
) -> Result<ImportSummary, ImportFailure> {
    let today = crate::base::paris::today();
    let min = u32::try_from(store::min_months(conn, cohort.program_id)?).unwrap_or(0);
    let run = Run {
        mc,
        actor,
        cohort,
        organism: (cohort.organism_id, organism_name),
        today,
        late: super::rules::short_stay_warning(today, cohort.start_date, cohort.end_date, min),
    };
    db::transaction(conn, |conn| {
        let mut summary = ImportSummary::default();
        let mut refused = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            progress(i);
            if let Err(e) = run.line(conn, row, &mut summary)? {
                refused.push(e);
            }
        }
        if !refused.is_empty() {
            return Err(ImportFailure::Refused(refused));
        }
        if summary.late_entries > 0 {
            summary.late_warning = run.late.clone();
            summary.warnings.push(format!(
                "{} stagiaire(s) inscrit(s) en cours de promotion : {}",
                summary.late_entries,
                run.late.as_deref().unwrap_or_default()
            ));
        }
        summary
            .warnings
            .extend(summary.deadline_flags.iter().cloned());
        summary.information = rows
            .iter()
            .filter_map(|r| {
                let prior = r.prior_experience.as_deref()?;
                Some(format!(
                    "ligne {} ({}) : « {prior} » est gardé comme expérience antérieure, sans diplôme de soignant (parcours CQP)",
                    r.line, r.name
                ))
            })
            .collect();
        audit::record(
            conn,
            Event::new("trainees_imported", "cohort", Some(cohort.id))
                .by(actor)
                .in_organism(Some(cohort.organism_id))
                .detail(&summary),
        )?;
        summary.report_id = audit::latest(conn, "trainees_imported", "cohort", cohort.id)?;
        Ok(summary)
    })
}

impl Run<'_> {
    /// One line: its doctor, its employer, then the trainee.
    fn line(
        &self,
        conn: &mut DbConn,
        row: &ImportRow,
        summary: &mut ImportSummary,
    ) -> LineResult<()> {
        let doctor = match self.doctor(conn, row, summary)? {
            Ok(d) => d,
            Err(e) => return Ok(Err(e)),
        };
        let org = self.organism.0;
        let employer = match &row.practice {
            None => super::employers::doctor_employer(conn, org, doctor.id, &row.doctor_name)?,
            Some(practice) => {
                match super::employers::practice_employer(conn, org, doctor.id, practice)? {
                    Ok(id) => id,
                    Err(message) => return Ok(Err(line_error(row, "Cabinet", message))),
                }
            }
        };
        self.trainee(conn, row, employer, summary)
    }

    /// The doctor: an existing doctor account, or a new one invited now.
    fn doctor(
        &self,
        conn: &mut DbConn,
        row: &ImportRow,
        summary: &mut ImportSummary,
    ) -> LineResult<users::User> {
        match users::by_email(conn, &row.doctor_email)? {
            Some(u) if u.role() == Some(Role::Doctor) => Ok(Ok(u)),
            Some(_) => Ok(Err(line_error(
                row,
                "E-mail du médecin",
                format!(
                    "{} est déjà le compte d'une personne qui n'est pas médecin",
                    row.doctor_email
                ),
            ))),
            None => {
                let id = users::create(
                    conn,
                    self.actor,
                    NewUser {
                        email: &row.doctor_email,
                        // A practice written in his place: his address, until he gives his name.
                        name: if row.doctor_name.is_empty() {
                            &row.doctor_email
                        } else {
                            &row.doctor_name
                        },
                        role: Role::Doctor,
                        organism_id: None,
                        password_hash: None,
                    },
                )?;
                let user = users::by_id(conn, id)?.ok_or(AppError::NotFound)?;
                invite::send_invitation(conn, self.mc, &user, self.organism, self.actor)?;
                summary.doctors_invited += 1;
                Ok(Ok(user))
            }
        }
    }

    /// The trainee: created and invited, or brought in line with the file if she is this
    /// organism's and in no other cohort.
    fn trainee(
        &self,
        conn: &mut DbConn,
        row: &ImportRow,
        employer: i64,
        summary: &mut ImportSummary,
    ) -> LineResult<()> {
        let (org, cohort) = (self.organism.0, self.cohort);
        let refuse = |message: String| Ok(Err(line_error(row, "E-mail", message)));
        match users::by_email(conn, &row.email)? {
            None => self.create_trainee(conn, row, employer, summary).map(Ok),
            Some(u) if u.role() != Some(Role::Trainee) => refuse(format!(
                "{} est déjà le compte d'une personne qui n'est pas stagiaire",
                row.email
            )),
            Some(u) if u.organism_id != Some(org) => refuse(format!(
                "{} est déjà utilisée par un stagiaire d'un autre organisme",
                row.email
            )),
            Some(u) => match store::active_cohort(conn, u.id)? {
                Some(c) if c != cohort.id => refuse(format!(
                    "{} est inscrit dans une autre promotion : utilisez le transfert",
                    row.email
                )),
                _ => {
                    if update_profile(conn, self.actor, org, u.id, row, employer)? {
                        summary.updated += 1;
                    } else {
                        summary.unchanged += 1;
                    }
                    if store::active_cohort(conn, u.id)?.is_none() {
                        store::enrol(conn, self.actor, org, cohort.id, u.id, self.today)?;
                        summary.late_entries += usize::from(self.late.is_some());
                        self.flag_deadline(conn, row, u.id, summary)?;
                    }
                    Ok(Ok(()))
                }
            },
        }
    }

    fn create_trainee(
        &self,
        conn: &mut DbConn,
        row: &ImportRow,
        employer: i64,
        summary: &mut ImportSummary,
    ) -> Result<(), ImportFailure> {
        let (org, cohort) = (self.organism.0, self.cohort);
        let id = users::create(
            conn,
            self.actor,
            NewUser {
                email: &row.email,
                name: &row.name,
                role: Role::Trainee,
                organism_id: Some(org),
                password_hash: None,
            },
        )?;
        store::create_profile(
            conn,
            &NewProfile {
                user_id: id,
                organism_id: org,
                profile: row.profile.as_str(),
                hire_date: row.hire_date,
                funding: row.funding.as_str(),
                employer_id: Some(employer),
            },
        )?;
        store::set_prior_experience(conn, id, row.prior_experience.as_deref())?;
        store::enrol(conn, self.actor, org, cohort.id, id, self.today)?;
        summary.late_entries += usize::from(self.late.is_some());
        self.flag_deadline(conn, row, id, summary)?;
        let user = users::by_id(conn, id)?.ok_or(AppError::NotFound)?;
        invite::send_invitation(conn, self.mc, &user, self.organism, self.actor)?;
        if let Some(w) = super::rules::program_fit_warning(row.profile, &cohort.program_kind) {
            summary
                .warnings
                .push(format!("ligne {} ({}) : {w}", row.line, row.name));
        }
        summary.created += 1;
        Ok(())
    }
}

impl Run<'_> {
    /// A trainee just enrolled whose deadline falls before the cohort's end: a line for staff
    /// to confirm, and a row in her history (kept only if they do: else all is rolled back).
    fn flag_deadline(
        &self,
        conn: &mut DbConn,
        row: &ImportRow,
        trainee_id: i64,
        summary: &mut ImportSummary,
    ) -> Result<(), ImportFailure> {
        let windows = store::suspensions_of(conn, &[trainee_id])?
            .remove(&trainee_id)
            .unwrap_or_default();
        let deadline =
            super::rules::certification_deadline(row.hire_date, row.funding, &windows, self.today);
        let flags = super::rules::deadline_flags(deadline, Some(self.cohort.end_date), None);
        for f in flags {
            confirm_flag(
                conn,
                self.actor,
                self.organism.0,
                trainee_id,
                self.cohort.id,
                &f,
            )?;
            summary
                .deadline_flags
                .push(format!("ligne {} ({}) : {}", row.line, row.name, f.message));
        }
        Ok(())
    }
}

/// The audit row of a deadline flag staff confirmed at an enrolment.
fn confirm_flag(
    conn: &mut DbConn,
    actor: Option<i64>,
    organism: i64,
    trainee_id: i64,
    cohort: i64,
    flag: &super::rules::DeadlineFlag,
) -> QueryResult<()> {
    audit::record(
        conn,
        Event::new("deadline_flag_confirmed", "trainee", Some(trainee_id))
            .by(actor)
            .in_organism(Some(organism))
            .detail(serde_json::json!({
                "cohort": cohort, "kind": flag.kind, "on": flag.on,
                "deadline": flag.deadline, "warning": flag.message,
            })),
    )
}

fn line_error(row: &ImportRow, column: &str, message: String) -> ImportError {
    ImportError {
        line: row.line,
        column: column.to_string(),
        message,
    }
}

/// Brings an existing trainee's profile in line with the file; says whether anything changed.
fn update_profile(
    conn: &mut DbConn,
    actor: Option<i64>,
    org: i64,
    user_id: i64,
    row: &ImportRow,
    employer: i64,
) -> Result<bool, ImportFailure> {
    type Fields = (
        String,
        chrono::NaiveDate,
        String,
        Option<i64>,
        Option<String>,
    );
    let current: Option<Fields> = trainee_profiles::table
        .filter(trainee_profiles::user_id.eq(user_id))
        .select((
            trainee_profiles::profile,
            trainee_profiles::hire_date,
            trainee_profiles::funding,
            trainee_profiles::employer_id,
            trainee_profiles::prior_experience,
        ))
        .first(conn)
        .optional()?;
    let wanted = (
        row.profile.as_str().to_string(),
        row.hire_date,
        row.funding.as_str().to_string(),
        Some(employer),
        row.prior_experience.clone(),
    );
    match current {
        Some(c) if c == wanted => Ok(false),
        Some(c) => {
            diesel::update(trainee_profiles::table.filter(trainee_profiles::user_id.eq(user_id)))
                .set((
                    trainee_profiles::profile.eq(&wanted.0),
                    trainee_profiles::hire_date.eq(wanted.1),
                    trainee_profiles::funding.eq(&wanted.2),
                    trainee_profiles::employer_id.eq(wanted.3),
                    trainee_profiles::prior_experience.eq(&wanted.4),
                    trainee_profiles::updated_at.eq(db::now()),
                ))
                .execute(conn)?;
            audit::record(
                conn,
                Event::new("trainee_updated", "trainee", Some(user_id))
                    .by(actor)
                    .in_organism(Some(org))
                    .change(
                        serde_json::json!({"profile": c.0, "hire_date": c.1, "funding": c.2, "employer": c.3, "prior_experience": c.4}),
                        serde_json::json!({"profile": wanted.0, "hire_date": wanted.1, "funding": wanted.2, "employer": wanted.3, "prior_experience": wanted.4}),
                    ),
            )?;
            Ok(true)
        }
        None => {
            store::create_profile(
                conn,
                &NewProfile {
                    user_id,
                    organism_id: org,
                    profile: row.profile.as_str(),
                    hire_date: row.hire_date,
                    funding: row.funding.as_str(),
                    employer_id: Some(employer),
                },
            )?;
            store::set_prior_experience(conn, user_id, row.prior_experience.as_deref())?;
            Ok(true)
        }
    }
}

/// What a transfer did, or the warning staff must confirm first.
#[derive(Debug, PartialEq, Eq)]
pub enum Transfer {
    /// The new enrolment's id.
    Done(i64),
    NeedsConfirmation(String),
}

/// Transfers a trainee to another cohort of their organism on `on`. Into a cohort under way
/// with less than the programme's minimum length left (`rules::short_stay_warning`), or
/// ending after the trainee's certification deadline (`rules::deadline_flags`), it waits for
/// staff to confirm; the confirmed warnings are audited with the transfer.
pub fn transfer_checked(
    conn: &mut DbConn,
    actor: i64,
    trainee: &store::TraineeLine,
    target: i64,
    on: chrono::NaiveDate,
    confirm: bool,
) -> Result<Transfer, AppError> {
    db::transaction(conn, |conn| {
        let to = store::cohort(conn, target)?
            .filter(|c| c.organism_id == trainee.organism_id && Some(c.id) != trainee.cohort_id);
        let Some(to) = to else {
            return Err(AppError::invalid(
                "cohort_id",
                "Choisissez une autre promotion de l'organisme.",
            ));
        };
        let min = u32::try_from(store::min_months(conn, to.program_id)?).unwrap_or(0);
        let warning = super::rules::short_stay_warning(on, to.start_date, to.end_date, min);
        let deadline = super::access::deadline_of(trainee, on);
        let flags = super::rules::deadline_flags(deadline, Some(to.end_date), None);
        if !confirm && (warning.is_some() || !flags.is_empty()) {
            let mut parts: Vec<&str> = warning.iter().map(String::as_str).collect();
            parts.extend(flags.iter().map(|f| f.message.as_str()));
            return Ok(Transfer::NeedsConfirmation(parts.join(" ")));
        }
        let id = store::transfer(conn, actor, trainee, target, on)?;
        if let Some(w) = warning {
            audit::record(
                conn,
                Event::new("short_stay_confirmed", "trainee", Some(trainee.id))
                    .by(Some(actor))
                    .in_organism(Some(trainee.organism_id))
                    .detail(serde_json::json!({"cohort": target, "entry": on, "warning": w})),
            )?;
        }
        for f in &flags {
            let org = trainee.organism_id;
            confirm_flag(conn, Some(actor), org, trainee.id, target, f)?;
        }
        Ok(Transfer::Done(id))
    })
}
