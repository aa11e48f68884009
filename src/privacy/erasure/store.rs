//! The erasure's reads and writes: the facts the rules weigh, and the erasure of one person in
//! one transaction (so a job killed half-way leaves each person either whole or erased; the
//! files it named are queued in that transaction and deleted by the next run).

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::plan::{self, PLAN};
use super::rules::{self, Facts, Training, Vae};
use crate::audit::{self, Event};
use crate::db::schema::{
    attestations, audit_events, bouncing_addresses, cohorts, employer_doctors, enrolments,
    erasure_files, legal_holds, organisms, outbox, outbox_attachments, trainee_profiles, users,
    vae_requests,
};
use crate::db::{self, DbConn};
use crate::privacy::Settings;
use crate::web::{AppError, AppResult};

diesel::define_sql_function! {
    #[sql_name = "REPLACE"]
    fn replace_text(s: diesel::sql_types::Text, from: diesel::sql_types::Text, to: diesel::sql_types::Text) -> diesel::sql_types::Text;
}
diesel::define_sql_function! {
    #[sql_name = "REPLACE"]
    fn replace_nullable(s: diesel::sql_types::Nullable<diesel::sql_types::Text>, from: diesel::sql_types::Text, to: diesel::sql_types::Text) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

/// An enrolment as the rules weigh it: person, cohort, its end or the cohort's, the proof
/// period of the organism.
type TrainingRow = (i64, i64, Option<NaiveDate>, NaiveDate, Option<i32>);

fn years(organism: Option<i32>, s: &Settings) -> u32 {
    organism
        .and_then(|y| u32::try_from(y).ok())
        .unwrap_or(s.proof_years)
}

/// The facts of every person not yet erased who has a training or a VAE request (`only`: of
/// one person).
pub fn facts(
    conn: &mut DbConn,
    s: &Settings,
    only: Option<i64>,
) -> QueryResult<BTreeMap<i64, Facts>> {
    // One person, or everyone: a range, as a boxed query cannot run on either backend.
    let (lo, hi) = only.map_or((i64::MIN, i64::MAX), |p| (p, p));
    let living = || {
        users::table
            .filter(users::erased_at.is_null())
            .filter(users::id.between(lo, hi))
            .select(users::id)
    };
    let trainings: Vec<TrainingRow> = enrolments::table
        .inner_join(cohorts::table)
        .inner_join(organisms::table.on(organisms::id.eq(cohorts::organism_id)))
        .filter(enrolments::trainee_id.eq_any(living()))
        .select((
            enrolments::trainee_id,
            cohorts::id,
            enrolments::ended_on,
            cohorts::end_date,
            organisms::proof_years,
        ))
        .load(conn)?;
    let vae: Vec<(i64, String, NaiveDateTime, Option<i32>)> = vae_requests::table
        .inner_join(organisms::table.on(organisms::id.eq(vae_requests::organism_id)))
        .filter(vae_requests::candidate_id.eq_any(living()))
        .select((
            vae_requests::candidate_id,
            vae_requests::state,
            vae_requests::updated_at,
            organisms::proof_years,
        ))
        .load(conn)?;
    let holds: Vec<(Option<i64>, Option<i64>)> = legal_holds::table
        .filter(legal_holds::lifted_at.is_null())
        .select((legal_holds::trainee_id, legal_holds::cohort_id))
        .load(conn)?;
    let mut out: BTreeMap<i64, Facts> = BTreeMap::new();
    for (person, cohort, ended_on, cohort_end, y) in trainings {
        let f = out.entry(person).or_default();
        f.trainings.push(Training {
            ends_on: ended_on.unwrap_or(cohort_end),
            proof_years: years(y, s),
        });
        f.held |= holds.iter().any(|(_, c)| *c == Some(cohort));
    }
    for (person, state, updated_at, y) in vae {
        let decided = crate::vae::rules::Status::parse(&state).is_some_and(|st| st.is_final());
        out.entry(person).or_default().vae.push(Vae {
            decided_on: decided.then(|| updated_at.date()),
            proof_years: years(y, s),
        });
    }
    for (person, f) in out.iter_mut() {
        f.held |= holds.iter().any(|(t, _)| *t == Some(*person));
    }
    Ok(out)
}

/// The facts of one person, a doctor's employees in training included.
pub fn facts_of(
    conn: &mut DbConn,
    s: &Settings,
    person: i64,
    today: NaiveDate,
) -> QueryResult<Facts> {
    let mut f = facts(conn, s, Some(person))?
        .remove(&person)
        .unwrap_or_default();
    let practices = employer_doctors::table
        .filter(employer_doctors::doctor_id.eq(person))
        .select(employer_doctors::employer_id.nullable());
    let employees = trainee_profiles::table
        .filter(trainee_profiles::employer_id.eq_any(practices))
        .select(trainee_profiles::user_id);
    let running: i64 = enrolments::table
        .inner_join(cohorts::table)
        .filter(enrolments::trainee_id.eq_any(employees))
        .filter(enrolments::ended_on.is_null())
        .filter(cohorts::end_date.ge(today))
        .count()
        .get_result(conn)?;
    f.employees_in_training = usize::try_from(running).unwrap_or(usize::MAX);
    f.held |= legal_holds::table
        .filter(legal_holds::lifted_at.is_null())
        .filter(legal_holds::trainee_id.eq(person))
        .count()
        .get_result::<i64>(conn)?
        > 0;
    Ok(f)
}

/// Why a person is erased.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// Her proofs have served their time (the daily job).
    Retention,
    /// She asked, and the law allowed it.
    Request,
}

/// What one erasure changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Erased {
    pub rows: usize,
    pub files: usize,
    pub attestations: usize,
    pub mails: usize,
}

/// Erases one person in one transaction; `None` if she was already erased (by another
/// instance, or an earlier run).
pub fn erase_person(
    conn: &mut DbConn,
    key: &[u8; 32],
    person: i64,
    cause: Cause,
    actor: Option<i64>,
) -> AppResult<Option<Erased>> {
    db::transaction(conn, |c| {
        let Some((name, email, organism)) = users::table
            .find(person)
            .filter(users::erased_at.is_null())
            .select((users::name, users::email, users::organism_id))
            .first::<(String, String, Option<i64>)>(c)
            .optional()?
        else {
            return Ok(None);
        };
        let now = db::now();
        // Taken first: a second instance erasing her waits here, then finds nothing to do.
        let taken = diesel::update(users::table.find(person).filter(users::erased_at.is_null()))
            .set(users::erased_at.eq(now))
            .execute(c)?;
        if taken == 0 {
            return Ok(None);
        }
        let mut done = Erased::default();
        let random = crate::web::random_token(24)?;
        let stamp = now.format("%Y-%m-%d %H:%M:%S").to_string();
        for step in PLAN {
            if let Some(q) = plan::queue_files(step, person, &stamp) {
                done.files += diesel::sql_query(q).execute(c)?;
            }
            done.rows += diesel::sql_query(plan::statement(step, person, &random)).execute(c)?;
        }
        done.attestations = pseudonymise_attestations(c, key, person, now)?;
        done.mails = forget_mails(c, &name, &email, person)?;
        redact_audit(c, &name, &email, person)?;
        pseudonymise_user(c, person)?;
        audit::record(
            c,
            Event::new("personal_data.erased", "user", Some(person))
                .by(actor)
                .in_organism(organism)
                .detail(serde_json::json!({ "cause": cause, "counts": done })),
        )?;
        Ok(Some(done))
    })
}

/// Pseudonymises her attestations: no name, no employer, no PDF; each one that was genuine
/// is sealed again so its code still verifies.
fn pseudonymise_attestations(
    c: &mut DbConn,
    key: &[u8; 32],
    person: i64,
    now: NaiveDateTime,
) -> AppResult<usize> {
    use crate::attestation::rules::{self as ar, Statement};
    let rows: Vec<(i64, String, String, String)> = attestations::table
        .filter(attestations::trainee_id.eq(person))
        .filter(attestations::erased_at.is_null())
        .select((
            attestations::id,
            attestations::payload,
            attestations::signature,
            attestations::code,
        ))
        .load(c)?;
    for (id, payload, signature, code) in &rows {
        let genuine = ar::is_genuine(key, payload, signature, code);
        let parsed = serde_json::from_str::<Statement>(payload).ok();
        let (pseudonymised, seal) = match parsed {
            Some(mut st) if genuine => {
                st.trainee_name = String::new();
                st.employer = None;
                // The funder's file number points at her too.
                st.funding_ref = None;
                let text = serde_json::to_string(&st).unwrap_or_default();
                let seal = ar::erased_seal(key, code, &text);
                (text, Some(seal))
            }
            // A document that no longer matched its signature stays unproven.
            _ => (String::new(), None),
        };
        diesel::update(attestations::table.find(id))
            .set((
                attestations::payload.eq(pseudonymised),
                attestations::pdf.eq(Vec::<u8>::new()),
                attestations::override_reason.eq(None::<String>),
                attestations::doctor_not_sent.eq(None::<String>),
                attestations::erased_at.eq(now),
                attestations::erased_signature.eq(seal),
            ))
            .execute(c)?;
    }
    Ok(rows.len())
}

/// Deletes the mails sent to her and replaces her name in the others (a doctor's digest).
fn forget_mails(c: &mut DbConn, name: &str, email: &str, person: i64) -> QueryResult<usize> {
    let candidates: Vec<(i64, String)> = outbox::table
        .filter(outbox::recipients.like(format!("%{email}%")))
        .select((outbox::id, outbox::recipients))
        .load(c)?;
    let hers: Vec<i64> = candidates
        .into_iter()
        .filter(|(_, to)| {
            serde_json::from_str::<Vec<crate::mail::Recipient>>(to).is_ok_and(|list| {
                list.iter()
                    .any(|r| r.email.trim().eq_ignore_ascii_case(email.trim()))
            })
        })
        .map(|(id, _)| id)
        .collect();
    diesel::delete(bouncing_addresses::table.filter(bouncing_addresses::email.eq(email)))
        .execute(c)?;
    diesel::update(bouncing_addresses::table.filter(bouncing_addresses::outbox_id.eq_any(&hers)))
        .set(bouncing_addresses::outbox_id.eq(None::<i64>))
        .execute(c)?;
    diesel::delete(outbox_attachments::table.filter(outbox_attachments::outbox_id.eq_any(&hers)))
        .execute(c)?;
    let deleted = diesel::delete(outbox::table.filter(outbox::id.eq_any(&hers))).execute(c)?;
    for (from, to) in replacements(name, email, person) {
        // `%` and `_` in it stay wildcards: the filter is only wider; REPLACE is exact.
        let pattern = format!("%{from}%");
        diesel::update(
            outbox::table.filter(
                outbox::body_text
                    .like(&pattern)
                    .or(outbox::subject.like(&pattern))
                    .or(outbox::body_html.like(&pattern)),
            ),
        )
        .set((
            outbox::subject.eq(replace_text(outbox::subject, &from, &to)),
            outbox::body_text.eq(replace_text(outbox::body_text, &from, &to)),
            outbox::body_html.eq(replace_nullable(outbox::body_html, &from, &to)),
        ))
        .execute(c)?;
    }
    Ok(deleted)
}

/// Replaces her name and address in the audit log, and forgets the addresses she came from.
fn redact_audit(c: &mut DbConn, name: &str, email: &str, person: i64) -> QueryResult<()> {
    for (from, to) in replacements(name, email, person) {
        // `%` and `_` in it stay wildcards: the filter is only wider; REPLACE is exact.
        let pattern = format!("%{from}%");
        diesel::update(
            audit_events::table.filter(
                audit_events::before_json
                    .like(&pattern)
                    .or(audit_events::after_json.like(&pattern))
                    .or(audit_events::subject_key.like(&pattern)),
            ),
        )
        .set((
            audit_events::before_json.eq(replace_nullable(audit_events::before_json, &from, &to)),
            audit_events::after_json.eq(replace_nullable(audit_events::after_json, &from, &to)),
            audit_events::subject_key.eq(replace_nullable(audit_events::subject_key, &from, &to)),
        ))
        .execute(c)?;
    }
    diesel::update(audit_events::table.filter(audit_events::actor_user_id.eq(person)))
        .set(audit_events::ip.eq(None::<String>))
        .execute(c)?;
    Ok(())
}

/// What to replace by what: her address, then her name as written and as HTML escapes it. A
/// name too short to be hers alone is left (it would rewrite other people's records).
fn replacements(name: &str, email: &str, person: i64) -> Vec<(String, String)> {
    let pseudonym = rules::pseudonym(person);
    let mut out = vec![(email.to_string(), rules::pseudonymous_email(person))];
    let name = name.trim();
    if name.chars().count() >= 5 {
        out.push((name.to_string(), pseudonym.clone()));
        let escaped = name.replace('&', "&amp;").replace('\'', "&#x27;");
        if escaped != name {
            out.push((escaped, pseudonym));
        }
    }
    out
}

fn pseudonymise_user(c: &mut DbConn, person: i64) -> QueryResult<()> {
    diesel::update(users::table.find(person))
        .set((
            users::name.eq(rules::pseudonym(person)),
            users::email.eq(rules::pseudonymous_email(person)),
            users::password_hash.eq(None::<String>),
            users::rpps.eq(None::<String>),
            users::am_number.eq(None::<String>),
            users::last_login_at.eq(None::<NaiveDateTime>),
            users::disabled.eq(true),
            users::weekly_digest.eq(false),
            users::token_version.eq(users::token_version + 1),
            users::updated_at.eq(db::now()),
        ))
        .execute(c)?;
    Ok(())
}

/// The files queued by erasures: deletes each one no record uses any more, and forgets it.
/// Each is taken in a transaction of its own, so two instances never both delete one, and one
/// the store could not delete stays queued for the next run. Returns how many went.
pub fn delete_queued_files(
    conn: &mut DbConn,
    uploads: &crate::objects::Shelf,
) -> QueryResult<usize> {
    let queued: Vec<(i64, String, String)> = erasure_files::table
        .order(erasure_files::id.asc())
        .select((
            erasure_files::id,
            erasure_files::shelf,
            erasure_files::sha256,
        ))
        .load(conn)?;
    let mut deleted = 0;
    for (id, shelf, sha) in queued {
        let done = db::transaction(conn, |c| {
            if diesel::delete(erasure_files::table.find(id)).execute(c)? == 0 {
                return Ok(false);
            }
            let ours = shelf == plan::Shelf::Uploads.name() && crate::objects::is_sha(&sha);
            if !ours || crate::storage::store::is_referenced(c, &sha)? {
                return Ok(false);
            }
            uploads
                .delete(&sha)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("{sha}: {e}")))?;
            Ok::<bool, AppError>(true)
        });
        match done {
            Ok(went) => deleted += usize::from(went),
            Err(e) => tracing::warn!(error = %e, "an erased file could not be deleted yet"),
        }
    }
    Ok(deleted)
}

/// Doctors whose account has served its time: no trainee of theirs is left unerased, and
/// they have not signed in (or, never signed in, were created) for the proof period.
pub fn idle_doctors(conn: &mut DbConn, s: &Settings, now: NaiveDateTime) -> QueryResult<Vec<i64>> {
    let Some(before) = now.checked_sub_months(chrono::Months::new(s.proof_years * 12)) else {
        return Ok(Vec::new());
    };
    let doctors: Vec<(i64, Option<NaiveDateTime>, NaiveDateTime)> = users::table
        .filter(users::role.eq(crate::accounts::Role::Doctor.as_str()))
        .filter(users::erased_at.is_null())
        .filter(users::created_at.lt(before))
        .select((users::id, users::last_login_at, users::created_at))
        .load(conn)?;
    let mut out = Vec::new();
    for (id, last_login, created) in doctors {
        if last_login.unwrap_or(created) >= before {
            continue;
        }
        let practices = employer_doctors::table
            .filter(employer_doctors::doctor_id.eq(id))
            .select(employer_doctors::employer_id.nullable());
        let trainees = trainee_profiles::table
            .filter(trainee_profiles::employer_id.eq_any(practices))
            .select(trainee_profiles::user_id);
        let living: i64 = users::table
            .filter(users::id.eq_any(trainees))
            .filter(users::erased_at.is_null())
            .count()
            .get_result(conn)?;
        if living == 0 {
            out.push(id);
        }
    }
    Ok(out)
}
