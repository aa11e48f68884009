//! The certification record's queries: sessions, candidates, results per bloc (a VAE
//! decision writes its own, see `vae::workflow`), and the CQP obtained. Every change audited.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

use super::rules::{NewSession, Outcome};
use crate::audit::{self, Event};
use crate::db::schema::{
    certification_blocs as blocs, certification_candidates as candidates,
    certification_sessions as sessions, certifications, cohorts, deadline_alerts, enrolments,
    modules, programs, users,
};
use crate::db::{self, DbConn};
use crate::web::{AppError, AppResult};

#[derive(Clone, Debug, Queryable, Serialize)]
pub struct SessionRow {
    pub id: i64,
    pub organism_id: i64,
    pub held_on: NaiveDate,
    pub place: String,
    pub jury: String,
    #[serde(skip)]
    pub blocs_json: String,
}

impl SessionRow {
    pub fn blocs(&self) -> Vec<String> {
        parse_list(&self.blocs_json)
    }
}

pub(super) fn parse_list(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

fn to_json(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

macro_rules! session_select {
    () => {
        (
            sessions::id,
            sessions::organism_id,
            sessions::held_on,
            sessions::place,
            sessions::jury,
            sessions::blocs,
        )
    };
}

/// An organism's sessions, the latest first.
pub fn sessions_of(conn: &mut DbConn, organism_id: i64) -> QueryResult<Vec<SessionRow>> {
    sessions::table
        .filter(sessions::organism_id.eq(organism_id))
        .order((sessions::held_on.desc(), sessions::id.desc()))
        .select(session_select!())
        .load(conn)
}

/// A session by id alone: the caller checks the organism.
pub fn session(conn: &mut DbConn, id: i64) -> QueryResult<Option<SessionRow>> {
    sessions::table
        .find(id)
        .select(session_select!())
        .first(conn)
        .optional()
}

pub fn insert_session(
    conn: &mut DbConn,
    actor: i64,
    organism_id: i64,
    s: &NewSession,
) -> QueryResult<i64> {
    let id: i64 = diesel::insert_into(sessions::table)
        .values((
            sessions::organism_id.eq(organism_id),
            sessions::held_on.eq(s.held_on),
            sessions::place.eq(&s.place),
            sessions::jury.eq(&s.jury),
            sessions::blocs.eq(to_json(&s.blocs)),
            sessions::created_by.eq(actor),
            sessions::created_at.eq(db::now()),
        ))
        .returning(sessions::id)
        .get_result(conn)?;
    audit::record(
        conn,
        Event::new("certification_session_created", "certification_session", Some(id))
            .by(Some(actor))
            .in_organism(Some(organism_id))
            .detail(serde_json::json!({"held_on": s.held_on, "place": s.place, "jury": s.jury, "blocs": s.blocs})),
    )?;
    Ok(id)
}

/// A trainee registered for a session.
#[derive(Clone, Debug, Queryable, Serialize)]
pub struct CandidateRow {
    pub trainee_id: i64,
    pub name: String,
    #[serde(skip)]
    pub blocs_json: String,
    pub derogation: Option<String>,
}

impl CandidateRow {
    pub fn blocs(&self) -> Vec<String> {
        parse_list(&self.blocs_json)
    }
}

pub fn candidates_of(conn: &mut DbConn, session_id: i64) -> QueryResult<Vec<CandidateRow>> {
    candidates::table
        .inner_join(users::table)
        .filter(candidates::session_id.eq(session_id))
        .order((users::name.asc(), users::id.asc()))
        .select((
            candidates::trainee_id,
            users::name,
            candidates::blocs,
            candidates::derogation,
        ))
        .load(conn)
}

/// The trainee's registrations: (session, blocs assessed).
pub fn registrations_of(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Vec<(i64, String)>> {
    candidates::table
        .filter(candidates::trainee_id.eq(trainee_id))
        .order(candidates::id.asc())
        .select((candidates::session_id, candidates::blocs))
        .load(conn)
}

/// Who asks, for the audit: the actor and the organism.
#[derive(Clone, Copy, Debug)]
pub struct By {
    pub actor: i64,
    pub organism_id: i64,
}

pub fn register(
    conn: &mut DbConn,
    by: By,
    session_id: i64,
    trainee_id: i64,
    blocs: &[String],
    derogation: Option<&str>,
) -> QueryResult<()> {
    diesel::insert_into(candidates::table)
        .values((
            candidates::session_id.eq(session_id),
            candidates::trainee_id.eq(trainee_id),
            candidates::blocs.eq(to_json(blocs)),
            candidates::derogation.eq(derogation),
            candidates::registered_by.eq(by.actor),
            candidates::registered_at.eq(db::now()),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        Event::new("certification_registered", "trainee", Some(trainee_id))
            .by(Some(by.actor))
            .in_organism(Some(by.organism_id))
            .detail(serde_json::json!({"session": session_id, "blocs": blocs, "derogation": derogation})),
    )
}

/// Takes a candidate off a session, as long as no result of hers is recorded there.
pub fn unregister(conn: &mut DbConn, by: By, session_id: i64, trainee_id: i64) -> AppResult<()> {
    let results: i64 = blocs::table
        .filter(blocs::session_id.eq(session_id))
        .filter(blocs::trainee_id.eq(trainee_id))
        .count()
        .get_result(conn)?;
    if results > 0 {
        return Err(AppError::Conflict(
            "Des résultats sont enregistrés pour cette candidate : elle ne peut plus être désinscrite.".into(),
        ));
    }
    let gone = diesel::delete(
        candidates::table
            .filter(candidates::session_id.eq(session_id))
            .filter(candidates::trainee_id.eq(trainee_id)),
    )
    .execute(conn)?;
    if gone == 0 {
        return Err(AppError::Conflict(
            "Cette stagiaire n'est pas inscrite à la session.".into(),
        ));
    }
    audit::record(
        conn,
        Event::new("certification_unregistered", "trainee", Some(trainee_id))
            .by(Some(by.actor))
            .in_organism(Some(by.organism_id))
            .detail(serde_json::json!({"session": session_id})),
    )?;
    Ok(())
}

/// One bloc record of a trainee, with the session's day when it came from one.
#[derive(Clone, Debug, Queryable, Serialize)]
pub struct BlocRow {
    pub bloc: String,
    pub result: String,
    pub session_id: Option<i64>,
    pub vae_request_id: Option<i64>,
    pub decided_on: NaiveDate,
}

pub fn blocs_of(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Vec<BlocRow>> {
    blocs::table
        .filter(blocs::trainee_id.eq(trainee_id))
        .order((blocs::decided_on.asc(), blocs::id.asc()))
        .select((
            blocs::bloc,
            blocs::result,
            blocs::session_id,
            blocs::vae_request_id,
            blocs::decided_on,
        ))
        .load(conn)
}

/// The results recorded at a session: (trainee, bloc, result).
pub fn results_of(conn: &mut DbConn, session_id: i64) -> QueryResult<Vec<(i64, String, String)>> {
    blocs::table
        .filter(blocs::session_id.eq(session_id))
        .order((blocs::trainee_id.asc(), blocs::bloc.asc()))
        .select((blocs::trainee_id, blocs::bloc, blocs::result))
        .load(conn)
}

/// Records (or corrects) a candidate's result for one bloc of a session. An acquired bloc is
/// kept for good: its result is never changed.
pub fn set_result(
    conn: &mut DbConn,
    by: By,
    session: &SessionRow,
    trainee_id: i64,
    bloc: &str,
    outcome: Outcome,
) -> AppResult<()> {
    let before: Option<(i64, String)> = blocs::table
        .filter(blocs::session_id.eq(session.id))
        .filter(blocs::trainee_id.eq(trainee_id))
        .filter(blocs::bloc.eq(bloc))
        .select((blocs::id, blocs::result))
        .first(conn)
        .optional()?;
    match &before {
        Some((_, r)) if r == outcome.as_str() => return Ok(()),
        Some((_, r)) if r == Outcome::Acquired.as_str() => {
            return Err(AppError::Conflict(format!(
                "Le bloc {bloc} est acquis : il le reste définitivement."
            )));
        }
        Some((id, _)) => {
            diesel::update(blocs::table.find(*id))
                .set((
                    blocs::result.eq(outcome.as_str()),
                    blocs::recorded_by.eq(by.actor),
                    blocs::recorded_at.eq(db::now()),
                ))
                .execute(conn)?;
        }
        None => {
            diesel::insert_into(blocs::table)
                .values((
                    blocs::trainee_id.eq(trainee_id),
                    blocs::bloc.eq(bloc),
                    blocs::result.eq(outcome.as_str()),
                    blocs::session_id.eq(session.id),
                    blocs::decided_on.eq(session.held_on),
                    blocs::recorded_by.eq(by.actor),
                    blocs::recorded_at.eq(db::now()),
                ))
                .execute(conn)?;
        }
    }
    audit::record(
        conn,
        Event::new("certification_result", "trainee", Some(trainee_id))
            .by(Some(by.actor))
            .in_organism(Some(by.organism_id))
            .change(
                before.map(|b| serde_json::json!({"session": session.id, "bloc": bloc, "result": b.1})),
                serde_json::json!({"session": session.id, "bloc": bloc, "result": outcome.as_str()}),
            ),
    )?;
    Ok(())
}

/// The CQP obtained: (day, certificate number).
pub fn cqp_of(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Option<(NaiveDate, String)>> {
    certifications::table
        .filter(certifications::trainee_id.eq(trainee_id))
        .select((
            certifications::obtained_on,
            certifications::certificate_number,
        ))
        .first(conn)
        .optional()
}

pub fn record_cqp(
    conn: &mut DbConn,
    by: By,
    trainee_id: i64,
    on: NaiveDate,
    number: &str,
) -> AppResult<()> {
    if cqp_of(conn, trainee_id)?.is_some() {
        return Err(AppError::Conflict(
            "Le CQP de cette stagiaire est déjà enregistré.".into(),
        ));
    }
    diesel::insert_into(certifications::table)
        .values((
            certifications::trainee_id.eq(trainee_id),
            certifications::organism_id.eq(by.organism_id),
            certifications::obtained_on.eq(on),
            certifications::certificate_number.eq(number),
            certifications::recorded_by.eq(by.actor),
            certifications::recorded_at.eq(db::now()),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        Event::new("cqp_obtained", "trainee", Some(trainee_id))
            .by(Some(by.actor))
            .in_organism(Some(by.organism_id))
            .detail(serde_json::json!({"obtained_on": on, "certificate_number": number})),
    )?;
    Ok(())
}

/// The blocs a session may assess: the module codes of the reference CQP, in order.
pub fn cqp_blocs(conn: &mut DbConn) -> QueryResult<Vec<(String, String)>> {
    let rows: Vec<(String, String)> = modules::table
        .inner_join(programs::table)
        .filter(programs::kind.eq("cqp"))
        .filter(programs::organism_id.is_null())
        .filter(modules::retired.eq(false))
        .order((
            programs::id.asc(),
            modules::position.asc(),
            modules::id.asc(),
        ))
        .select((modules::code, modules::title))
        .load(conn)?;
    let mut out: Vec<(String, String)> = Vec::new();
    for r in rows {
        if !out.iter().any(|o| o.0 == r.0) {
            out.push(r);
        }
    }
    Ok(out)
}

/// The organism's trainees in a CQP cohort now, who may be registered: (id, name).
pub fn cqp_trainees(conn: &mut DbConn, organism_id: i64) -> QueryResult<Vec<(i64, String)>> {
    enrolments::table
        .inner_join(cohorts::table.inner_join(programs::table))
        .inner_join(users::table.on(users::id.eq(enrolments::trainee_id)))
        .filter(cohorts::organism_id.eq(organism_id))
        .filter(programs::kind.eq("cqp"))
        .filter(enrolments::ended_on.is_null())
        .order((users::name.asc(), users::id.asc()))
        .select((users::id, users::name))
        .load(conn)
}

/// The next session each of these trainees is registered for, held on `from` or later:
/// the certification date her deadline is weighed against.
pub fn next_sessions_of(
    conn: &mut DbConn,
    trainee_ids: &[i64],
    from: NaiveDate,
) -> QueryResult<std::collections::HashMap<i64, NaiveDate>> {
    let rows: Vec<(i64, NaiveDate)> = candidates::table
        .inner_join(sessions::table)
        .filter(candidates::trainee_id.eq_any(trainee_ids))
        .filter(sessions::held_on.ge(from))
        .order((candidates::trainee_id.asc(), sessions::held_on.asc()))
        .select((candidates::trainee_id, sessions::held_on))
        .load(conn)?;
    let mut next = std::collections::HashMap::new();
    for (trainee, day) in rows {
        next.entry(trainee).or_insert(day);
    }
    Ok(next)
}

/// Moves a session to another day, with what it makes fall after candidates' deadlines (as
/// staff confirmed them) in the audit. Refused once a result is recorded: they are dated by it.
pub fn set_session_date(
    conn: &mut DbConn,
    by: By,
    session: &SessionRow,
    held_on: NaiveDate,
    flags: &serde_json::Value,
) -> AppResult<()> {
    let results: i64 = blocs::table
        .filter(blocs::session_id.eq(session.id))
        .count()
        .get_result(conn)?;
    if results > 0 {
        return Err(AppError::Conflict(
            "Des résultats sont enregistrés pour cette session : sa date ne peut plus être changée.".into(),
        ));
    }
    diesel::update(sessions::table.find(session.id))
        .set(sessions::held_on.eq(held_on))
        .execute(conn)?;
    audit::record(
        conn,
        Event::new(
            "certification_session.date_changed",
            "certification_session",
            Some(session.id),
        )
        .by(Some(by.actor))
        .in_organism(Some(by.organism_id))
        .change(
            serde_json::json!({"held_on": session.held_on}),
            serde_json::json!({"held_on": held_on, "flags": flags}),
        ),
    )?;
    Ok(())
}

/// The deadline alerts sent about a trainee, the latest first: (months before, deadline,
/// when, mails queued).
pub fn alerts_of(
    conn: &mut DbConn,
    trainee_id: i64,
) -> QueryResult<Vec<(i32, NaiveDate, chrono::NaiveDateTime, i32)>> {
    deadline_alerts::table
        .filter(deadline_alerts::trainee_id.eq(trainee_id))
        .order(deadline_alerts::id.desc())
        .select((
            deadline_alerts::threshold_months,
            deadline_alerts::deadline,
            deadline_alerts::sent_at,
            deadline_alerts::messages,
        ))
        .load(conn)
}

/// The sessions a trainee is registered for, with the blocs of her registration (her own,
/// not the session's), the earliest first.
pub fn sessions_of_trainee(
    conn: &mut DbConn,
    trainee_id: i64,
) -> QueryResult<Vec<(SessionRow, String)>> {
    candidates::table
        .inner_join(sessions::table)
        .filter(candidates::trainee_id.eq(trainee_id))
        .order((sessions::held_on.asc(), sessions::id.asc()))
        .select((session_select!(), candidates::blocs))
        .load(conn)
}

/// The kind of the programme of the trainee's latest cohort, current or left ("cqp", "fae").
pub fn program_kind_of(conn: &mut DbConn, trainee_id: i64) -> QueryResult<Option<String>> {
    enrolments::table
        .inner_join(cohorts::table.inner_join(programs::table))
        .filter(enrolments::trainee_id.eq(trainee_id))
        .order(enrolments::id.desc())
        .select(programs::kind)
        .first(conn)
        .optional()
}
