//! Legal holds (an ongoing dispute or audit) and the organism's proof period: set by its
//! administrators, audited, read by the erasure.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::audit::{self, Event};
use crate::db::schema::{cohorts, legal_holds, organisms, trainee_profiles, users};
use crate::db::{self, DbConn};
use crate::web::{AppError, AppResult};

/// A hold as the retention page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Hold {
    pub id: i64,
    /// "Promotion X" or the trainee's name.
    pub on: String,
    pub reason: String,
    pub set_at: NaiveDateTime,
    pub set_by: Option<String>,
    pub lifted_at: Option<NaiveDateTime>,
    pub lifted_reason: Option<String>,
}

/// What a hold protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Cohort(i64),
    Trainee(i64),
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = legal_holds)]
struct HoldRow {
    id: i64,
    cohort_id: Option<i64>,
    trainee_id: Option<i64>,
    reason: String,
    set_at: NaiveDateTime,
    set_by: Option<i64>,
    lifted_at: Option<NaiveDateTime>,
    lifted_reason: Option<String>,
}

/// The organism's holds, the active ones first, newest first.
pub fn of_organism(conn: &mut DbConn, organism: i64) -> QueryResult<Vec<Hold>> {
    let rows: Vec<HoldRow> = legal_holds::table
        .filter(legal_holds::organism_id.eq(organism))
        .order((legal_holds::lifted_at.is_not_null(), legal_holds::id.desc()))
        .select(HoldRow::as_select())
        .load(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let on = match (r.cohort_id, r.trainee_id) {
            (Some(c), _) => cohorts::table
                .find(c)
                .select(cohorts::name)
                .first::<String>(conn)
                .map(|n| format!("Promotion {n}"))?,
            (None, Some(t)) => name_of(conn, t)?.unwrap_or_default(),
            (None, None) => String::new(),
        };
        let set_by = match r.set_by {
            Some(u) => name_of(conn, u)?,
            None => None,
        };
        out.push(Hold {
            id: r.id,
            on,
            reason: r.reason,
            set_at: r.set_at,
            set_by,
            lifted_at: r.lifted_at,
            lifted_reason: r.lifted_reason,
        });
    }
    Ok(out)
}

fn name_of(conn: &mut DbConn, user: i64) -> QueryResult<Option<String>> {
    users::table
        .find(user)
        .select(users::name)
        .first(conn)
        .optional()
}

/// A reason typed by staff: required, and kept short enough to read.
pub fn check_reason(raw: &str) -> Result<String, String> {
    let reason = raw.trim();
    if reason.chars().count() < 5 {
        return Err("Indiquez le motif (un litige, un contrôle : au moins 5 caractères).".into());
    }
    if reason.chars().count() > 500 {
        return Err("Le motif ne doit pas dépasser 500 caractères.".into());
    }
    Ok(reason.to_string())
}

/// Sets a hold on one of the organism's cohorts or trainees; audited.
pub fn set(
    conn: &mut DbConn,
    organism: i64,
    target: Target,
    reason: &str,
    by: i64,
) -> AppResult<i64> {
    let reason = check_reason(reason).map_err(|m| AppError::invalid("reason", m))?;
    db::transaction(conn, |c| {
        let ours = match target {
            Target::Cohort(id) => cohorts::table
                .find(id)
                .filter(cohorts::organism_id.eq(organism))
                .count()
                .get_result::<i64>(c)?,
            Target::Trainee(id) => trainee_profiles::table
                .filter(trainee_profiles::user_id.eq(id))
                .filter(trainee_profiles::organism_id.eq(organism))
                .count()
                .get_result::<i64>(c)?,
        };
        if ours == 0 {
            return Err(AppError::invalid(
                "target",
                "Cette promotion ou ce stagiaire n'appartient pas à votre organisme.",
            ));
        }
        let (cohort, trainee) = match target {
            Target::Cohort(id) => (Some(id), None),
            Target::Trainee(id) => (None, Some(id)),
        };
        let id: i64 = diesel::insert_into(legal_holds::table)
            .values((
                legal_holds::organism_id.eq(organism),
                legal_holds::cohort_id.eq(cohort),
                legal_holds::trainee_id.eq(trainee),
                legal_holds::reason.eq(&reason),
                legal_holds::set_by.eq(by),
                legal_holds::set_at.eq(db::now()),
            ))
            .returning(legal_holds::id)
            .get_result(c)?;
        audit::record(
            c,
            Event::new("legal_hold.set", "legal_hold", Some(id))
                .by(Some(by))
                .in_organism(Some(organism))
                .detail(
                    serde_json::json!({ "cohort": cohort, "trainee": trainee, "reason": reason }),
                ),
        )?;
        Ok(id)
    })
}

/// Lifts an active hold of the organism, with the reason; audited.
pub fn lift(conn: &mut DbConn, organism: i64, hold: i64, reason: &str, by: i64) -> AppResult<()> {
    let reason = check_reason(reason).map_err(|m| AppError::invalid("reason", m))?;
    db::transaction(conn, |c| {
        let lifted = diesel::update(
            legal_holds::table
                .find(hold)
                .filter(legal_holds::organism_id.eq(organism))
                .filter(legal_holds::lifted_at.is_null()),
        )
        .set((
            legal_holds::lifted_at.eq(db::now()),
            legal_holds::lifted_by.eq(by),
            legal_holds::lifted_reason.eq(&reason),
        ))
        .execute(c)?;
        if lifted == 0 {
            return Err(AppError::NotFound);
        }
        audit::record(
            c,
            Event::new("legal_hold.lifted", "legal_hold", Some(hold))
                .by(Some(by))
                .in_organism(Some(organism))
                .detail(serde_json::json!({ "reason": reason })),
        )?;
        Ok(())
    })
}

/// The organism's own proof period (`None`: the installation's); audited.
pub fn set_proof_years(
    conn: &mut DbConn,
    organism: i64,
    years: Option<u32>,
    by: i64,
) -> AppResult<()> {
    let years = years.map(|y| i32::try_from(y).unwrap_or(i32::MAX));
    db::transaction(conn, |c| {
        let before: Option<i32> = organisms::table
            .find(organism)
            .select(organisms::proof_years)
            .first(c)?;
        diesel::update(organisms::table.find(organism))
            .set(organisms::proof_years.eq(years))
            .execute(c)?;
        audit::record(
            c,
            Event::new("retention.proof_years", "organism", Some(organism))
                .by(Some(by))
                .in_organism(Some(organism))
                .change(before, years),
        )?;
        Ok(())
    })
}

/// What the retention page offers to hold: the organism's cohorts and its trainees not yet
/// erased, as `(value, label)` for one select.
pub fn targets(conn: &mut DbConn, organism: i64) -> QueryResult<Vec<(String, String)>> {
    let cohorts: Vec<(i64, String)> = cohorts::table
        .filter(cohorts::organism_id.eq(organism))
        .order(cohorts::start_date.desc())
        .select((cohorts::id, cohorts::name))
        .load(conn)?;
    let trainees: Vec<(i64, String)> = trainee_profiles::table
        .inner_join(users::table.on(users::id.eq(trainee_profiles::user_id)))
        .filter(trainee_profiles::organism_id.eq(organism))
        .filter(users::erased_at.is_null())
        .order(users::name.asc())
        .select((users::id, users::name))
        .load(conn)?;
    Ok(cohorts
        .into_iter()
        .map(|(id, n)| (format!("cohorte-{id}"), format!("Promotion {n}")))
        .chain(
            trainees
                .into_iter()
                .map(|(id, n)| (format!("stagiaire-{id}"), format!("Stagiaire : {n}"))),
        )
        .collect())
}

/// The organism's own proof period, if it set one.
pub fn proof_years(conn: &mut DbConn, organism: i64) -> QueryResult<Option<i32>> {
    organisms::table
        .find(organism)
        .select(organisms::proof_years)
        .first(conn)
}

/// When the daily erasure last ran (its audit row).
pub fn last_run(conn: &mut DbConn) -> QueryResult<Option<NaiveDateTime>> {
    use crate::db::schema::audit_events;
    audit_events::table
        .filter(audit_events::action.eq("personal_data.erasure_run"))
        .order(audit_events::id.desc())
        .select(audit_events::at)
        .first(conn)
        .optional()
}
