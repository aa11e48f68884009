//! Issuing: completion of a trainee's path from their hours and evaluations, the statement,
//! its signature, its PDF, and the mails to the employer doctor and the trainee (`mails.rs`)
//! — all in one transaction per attestation. Used by the pages, the command line and the
//! benchmark.

use std::collections::HashMap;

use anyhow::Context as _;
use chrono::NaiveDate;

use super::completion::{
    ModuleFacts, PathCompletion, best_result, check_override_reason, path_completion,
};
use super::mails;
use super::pdf;
use super::rules::{self, Kind, LineFacts, ModuleLine, OrganismFacts, Statement};
use super::store::{self, NewAttestation};
use crate::audit::{self, Event};
use crate::cohorts::store::{self as cohorts, CohortRow, TraineeLine};
use crate::curriculum::Editions;
use crate::db::{self, DbConn};
use crate::mail::MailContext;
use crate::tracking::progress::{self, TraineeHours};
use crate::web::{AppError, AppResult};

/// What issuing needs from the running application (or the command line).
pub struct Issuer<'a> {
    pub key: [u8; 32],
    pub base_url: &'a str,
    pub mail_templates: &'a tera::Tera,
    pub editions: &'a Editions,
}

impl Issuer<'_> {
    pub fn verify_url(&self, code: &str) -> String {
        format!("{}/verifier/{code}", self.base_url.trim_end_matches('/'))
    }

    pub(super) fn mail_context(&self) -> MailContext<'_> {
        MailContext {
            templates: self.mail_templates,
            base_url: self.base_url,
        }
    }
}

/// Who issues: the signatory printed on the document.
#[derive(Clone, Debug)]
pub struct Signatory {
    pub user_id: Option<i64>,
    pub name: String,
}

/// A trainee's path against the rules, with what is missing.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TraineeState {
    pub cohort: CohortRow,
    /// Her own dates in the cohort: entry, and exit if she left.
    pub entered_on: NaiveDate,
    pub left_on: Option<NaiveDate>,
    pub hours: TraineeHours,
    pub completion: PathCompletion,
    /// Best evaluation result by module id.
    #[serde(skip)]
    pub results: HashMap<i64, (i32, bool)>,
}

/// Best submitted evaluation result of each module of some trainees.
fn results_of(conn: &mut DbConn, trainee_id: i64) -> AppResult<HashMap<i64, (i32, bool)>> {
    let attempts = crate::curriculum::store::all_attempts(conn, trainee_id)?;
    let mut by: HashMap<i64, Vec<(i32, bool)>> = HashMap::new();
    for a in attempts {
        if a.status == crate::curriculum::store::SUBMITTED && a.quiz.is_empty() {
            by.entry(a.module_id)
                .or_default()
                .push((a.score_pct.unwrap_or(0), a.passed.unwrap_or(false)));
        }
    }
    Ok(by
        .into_iter()
        .filter_map(|(m, list)| best_result(list).map(|r| (m, r)))
        .collect())
}

pub fn completion(
    editions: &Editions,
    cohort: &CohortRow,
    hours: &TraineeHours,
    results: &HashMap<i64, (i32, bool)>,
) -> PathCompletion {
    let program = editions.program(cohort.content_version_id);
    let facts: Vec<ModuleFacts> = hours
        .modules
        .iter()
        .map(|m| ModuleFacts {
            code: m.code.clone(),
            title: m.title.clone(),
            planned_secs: m.planned_secs,
            exempted_secs: m.exempted_secs,
            credited_secs: m.credited_secs,
            has_evaluation: program
                .and_then(|p| p.module(&m.code))
                .is_some_and(|cm| cm.evaluation.is_some()),
            best_result: results.get(&m.module_id).copied(),
        })
        .collect();
    path_completion(&facts)
}

/// The state of a trainee seen from an organism: in her current cohort, or in the one she
/// left early (her certificat de réalisation is owed for the hours done); `None` otherwise.
pub fn state_of(
    conn: &mut DbConn,
    editions: &Editions,
    trainee: &TraineeLine,
    today: NaiveDate,
) -> AppResult<Option<TraineeState>> {
    let left = match trainee.cohort_id {
        Some(_) => None,
        None => cohorts::last_departure(conn, trainee.id)?.map(|d| TraineeLine {
            cohort_id: Some(d.cohort_id),
            ..trainee.clone()
        }),
    };
    let Some((cohort, hours)) =
        progress::for_trainee(conn, left.as_ref().unwrap_or(trainee), today)?
    else {
        return Ok(None);
    };
    let results = results_of(conn, trainee.id)?;
    let completion = completion(editions, &cohort, &hours, &results);
    let (entered_on, left_on) =
        cohorts::enrolment_dates(conn, trainee.id, cohort.id)?.unwrap_or((cohort.start_date, None));
    Ok(Some(TraineeState {
        cohort,
        entered_on,
        left_on,
        hours,
        completion,
        results,
    }))
}

/// What the caller asks for.
#[derive(Clone, Debug)]
pub enum Request {
    /// The end-of-path attestation (CQP or FAE); `derogation` issues an incomplete path,
    /// with its reason.
    Final { derogation: Option<String> },
    /// A certificate of what was done in a period; `notify` mails it to the employer doctor
    /// and the trainee (an evidence pack takes it without mailing anyone).
    Realisation {
        from: NaiveDate,
        to: NaiveDate,
        notify: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Issued(i64),
    /// The end-of-path attestation exists already: never a second one.
    AlreadyIssued(i64),
}

fn modalities(editions: &Editions, version_id: i64) -> String {
    use crate::curriculum::rules::Modality;
    let mods: Vec<Modality> = editions
        .program(version_id)
        .map(|p| p.modules.iter().map(|m| m.modality).collect())
        .unwrap_or_default();
    let distance = mods
        .iter()
        .any(|m| matches!(m, Modality::Distance | Modality::Mixte));
    let presence = mods
        .iter()
        .any(|m| matches!(m, Modality::Presentiel | Modality::Mixte));
    match (distance, presence) {
        (true, true) => "Formation mixte : à distance (FOAD) et en présentiel, en alternance",
        (true, false) => "Formation à distance (FOAD)",
        _ => "Formation en présentiel",
    }
    .to_string()
}

fn place_of(city: Option<String>, address: Option<&str>) -> Option<String> {
    if let Some(c) = city.filter(|c| !c.trim().is_empty()) {
        return Some(c.trim().to_string());
    }
    // "12 rue des Écoles, 75005 Paris" → "Paris".
    address
        .and_then(|a| a.rsplit(',').next())
        .map(|s| {
            s.trim()
                .trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ')
                .to_string()
        })
        .filter(|s| !s.is_empty())
}

/// Issues one attestation of a trainee of `organism_id` (another organism's trainee is not
/// found), in its own transaction.
pub fn issue(
    conn: &mut DbConn,
    ctx: &Issuer<'_>,
    by: &Signatory,
    organism_id: i64,
    trainee_id: i64,
    request: &Request,
    today: NaiveDate,
) -> AppResult<Outcome> {
    db::transaction(conn, |conn| {
        let trainee = cohorts::trainee(conn, cohorts::Scope::Organism(organism_id), trainee_id)?
            .ok_or(AppError::NotFound)?;
        let state = state_of(conn, ctx.editions, &trainee, today)?.ok_or_else(|| {
            AppError::Conflict("Ce stagiaire n'est inscrit dans aucune promotion.".into())
        })?;
        issue_in(conn, ctx, by, &trainee, &state, request, today)
    })
}

/// Issues inside the caller's transaction, from an already computed state: the terms of the
/// request, the lines of the document, then its sealing and audit, then the mails.
pub fn issue_in(
    conn: &mut DbConn,
    ctx: &Issuer<'_>,
    by: &Signatory,
    trainee: &TraineeLine,
    state: &TraineeState,
    request: &Request,
    today: NaiveDate,
) -> AppResult<Outcome> {
    // Never a second end-of-path attestation.
    if matches!(request, Request::Final { .. })
        && let Some(id) = store::final_of(conn, trainee.id, state.cohort.id)?
    {
        return Ok(Outcome::AlreadyIssued(id));
    }
    // An erased person's name is gone: a new document would print her pseudonym.
    use diesel::prelude::*;
    let erased: Option<chrono::NaiveDateTime> = crate::db::schema::users::table
        .find(trainee.id)
        .select(crate::db::schema::users::erased_at)
        .first(conn)?;
    if erased.is_some() {
        return Err(AppError::Conflict(rules::ERASED_HOLDER.into()));
    }
    let terms = terms_of(state, request, today)?;
    let (organism, place) = printed_identity(conn, trainee.organism_id)?;
    let facts = line_facts(conn, trainee.id, state, &terms)?;
    let modules = rules::module_lines(terms.kind, facts);
    let issuing = Issuing {
        ctx,
        by,
        trainee,
        state,
        terms,
        today,
    };
    let id = issuing.insert(conn)?;
    // The funders read the certificate: it names their file.
    let funding_ref = match issuing.terms.kind {
        Kind::Realisation => {
            crate::funding::store::file_for_cohort(conn, trainee.id, state.cohort.id)?
                .and_then(|f| crate::funding::rules::reference(&f.funder, &f.file_number))
        }
        _ => None,
    };
    let statement = issuing.statement(id, organism, place, modules, funding_ref)?;
    let (code, pdf) = issuing.seal(conn, id, &statement)?;
    issuing.audit(conn, id, &statement)?;
    if !matches!(request, Request::Realisation { notify: false, .. }) {
        mails::send(
            conn,
            ctx,
            trainee,
            &statement,
            &code,
            &pdf,
            "attestation_issued",
        )?;
    }
    Ok(Outcome::Issued(id))
}

/// What a request comes to once checked against the path.
struct Terms {
    kind: Kind,
    /// The reason an incomplete path is closed anyway.
    derogation: Option<String>,
    from: NaiveDate,
    to: NaiveDate,
}

/// An end-of-path attestation needs a complete path or a reasoned derogation, and covers the
/// cohort up to today; a certificate needs a sound period.
fn terms_of(state: &TraineeState, request: &Request, today: NaiveDate) -> AppResult<Terms> {
    let cohort = &state.cohort;
    match request {
        Request::Final { derogation } => {
            let derogation = match (state.completion.complete, derogation) {
                (true, _) => None,
                (false, None) => {
                    let missing: Vec<String> = state
                        .completion
                        .modules
                        .iter()
                        .filter(|m| !m.complete)
                        .map(|m| format!("{} : {}", m.code, m.missing.join(", ")))
                        .collect();
                    return Err(AppError::Conflict(format!(
                        "Le parcours n'est pas terminé ({}). Une dérogation motivée est nécessaire.",
                        missing.join(" ; ")
                    )));
                }
                (false, Some(reason)) => Some(
                    check_override_reason(reason).map_err(|m| AppError::invalid("reason", m))?,
                ),
            };
            let (from, to) =
                rules::path_dates(cohort.start_date, state.entered_on, state.left_on, today);
            Ok(Terms {
                kind: Kind::final_for(&cohort.program_kind),
                derogation,
                from,
                to,
            })
        }
        Request::Realisation { from, to, .. } => {
            rules::check_period(*from, *to, cohort.start_date, today)
                .map_err(|m| AppError::invalid("period", m))?;
            Ok(Terms {
                kind: Kind::Realisation,
                derogation: None,
                from: *from,
                to: *to,
            })
        }
    }
}

/// The organism as the document prints it, and the place it is made at. What the Code du
/// travail expects on the document: no attestation without it.
fn printed_identity(conn: &mut DbConn, organism_id: i64) -> AppResult<(OrganismFacts, String)> {
    let (organism, city) =
        store::organism_identity(conn, organism_id)?.ok_or(AppError::NotFound)?;
    let place = place_of(city, organism.address.as_deref());
    match place {
        Some(place) if organism.siret.is_some() && organism.nda.is_some() => Ok((organism, place)),
        _ => Err(AppError::Conflict(
            "Complétez d'abord l'identité de l'organisme (SIRET, numéro de déclaration d'activité, \
             adresse ou ville) : elle figure sur chaque attestation."
                .into(),
        )),
    }
}

/// Each module's facts: its hours over the whole path, or in a certificate's period.
fn line_facts(
    conn: &mut DbConn,
    trainee_id: i64,
    state: &TraineeState,
    terms: &Terms,
) -> AppResult<Vec<LineFacts>> {
    let period = match terms.kind {
        Kind::Realisation => Some(store::hours_in_period(
            conn, trainee_id, terms.from, terms.to,
        )?),
        Kind::FinFormation | Kind::Fae => None,
    };
    Ok(state
        .hours
        .modules
        .iter()
        .map(|m| LineFacts {
            code: m.code.clone(),
            title: m.title.clone(),
            planned_secs: m.planned_secs,
            exempted_secs: m.exempted_secs,
            done: match &period {
                Some(p) => p.get(&m.module_id).copied().unwrap_or_default(),
                None => (m.distance_secs, m.presentiel_secs, m.correction_secs),
            },
            best_result: state.results.get(&m.module_id).copied(),
        })
        .collect())
}

/// One attestation being issued: who signs, for whom, on what terms.
struct Issuing<'a> {
    ctx: &'a Issuer<'a>,
    by: &'a Signatory,
    trainee: &'a TraineeLine,
    state: &'a TraineeState,
    terms: Terms,
    today: NaiveDate,
}

impl Issuing<'_> {
    /// The row, first with a placeholder code: its id gives the document its number.
    fn insert(&self, conn: &mut DbConn) -> AppResult<i64> {
        let (t, kind) = (self.trainee, self.terms.kind);
        let placeholder = format!("pending-{}", crate::web::random_token(12)?);
        Ok(store::insert(
            conn,
            &NewAttestation {
                organism_id: t.organism_id,
                trainee_id: t.id,
                cohort_id: self.state.cohort.id,
                kind: kind.as_str(),
                final_key: kind
                    .is_final()
                    .then(|| store::final_key(t.id, self.state.cohort.id)),
                period_from: self.terms.from,
                period_to: self.terms.to,
                override_reason: self.terms.derogation.as_deref(),
                issued_by: self.by.user_id,
            },
            &placeholder,
        )?)
    }

    /// Everything the document states, as it is signed.
    fn statement(
        &self,
        id: i64,
        organism: OrganismFacts,
        place: String,
        modules: Vec<ModuleLine>,
        funding_ref: Option<String>,
    ) -> AppResult<Statement> {
        let (t, cohort) = (self.trainee, &self.state.cohort);
        let program = self.ctx.editions.program(cohort.content_version_id);
        Ok(Statement {
            v: 1,
            kind: self.terms.kind,
            number: rules::document_number(t.organism_id, self.today, id),
            place,
            organism,
            trainee_name: t.name.clone(),
            employer: t.employer.clone(),
            program_code: cohort.program_code.clone(),
            program_title: cohort.program_title.clone(),
            certification: program
                .map(|p| p.certification.clone())
                .unwrap_or_else(|| cohort.program_title.clone()),
            objectives: program.map(|p| p.summary.clone()).unwrap_or_default(),
            nature: "Action de formation (article L6313-1 du Code du travail)".into(),
            modalities: modalities(self.ctx.editions, cohort.content_version_id),
            period_from: self.terms.from,
            period_to: self.terms.to,
            modules,
            issued_on: self.today,
            signatory: self.by.name.clone(),
            by_derogation: self.terms.derogation.is_some(),
            nonce: crate::web::random_token(12)?,
            funding_ref,
        })
    }

    /// Signs the statement, draws its PDF and stores both: returns the code and the PDF.
    fn seal(
        &self,
        conn: &mut DbConn,
        id: i64,
        statement: &Statement,
    ) -> AppResult<(String, Vec<u8>)> {
        let canonical = statement.canonical();
        let signature = rules::signature(&self.ctx.key, &canonical);
        let code = rules::code_from_signature(&signature);
        let pdf = pdf::render(statement, &code, &self.ctx.verify_url(&code))
            .context("attestation PDF")?;
        store::seal(
            conn,
            id,
            &statement.number,
            &code,
            &signature,
            &canonical,
            &pdf,
        )?;
        Ok((code, pdf))
    }

    /// The issue in the audit log, and a derogation with its reason and what was missing.
    fn audit(&self, conn: &mut DbConn, id: i64, statement: &Statement) -> AppResult<()> {
        let (t, terms, completion) = (self.trainee, &self.terms, &self.state.completion);
        audit::record(
            conn,
            Event::new("attestation_issued", "attestation", Some(id))
                .by(self.by.user_id)
                .in_organism(Some(t.organism_id))
                .key(statement.number.clone())
                .detail(serde_json::json!({
                    "trainee": t.id,
                    "cohort": self.state.cohort.id,
                    "kind": terms.kind.as_str(),
                    "period": [terms.from, terms.to],
                    "complete": completion.complete,
                    "derogation": terms.derogation,
                    "done_secs": statement.done_secs(),
                })),
        )?;
        if terms.derogation.is_some() {
            audit::record(
                conn,
                Event::new("attestation_derogation", "trainee", Some(t.id))
                    .by(self.by.user_id)
                    .in_organism(Some(t.organism_id))
                    .key(statement.number.clone())
                    .detail(serde_json::json!({
                        "attestation": id,
                        "reason": terms.derogation,
                        "missing": completion.modules.iter().filter(|m| !m.complete)
                            .map(|m| (&m.code, &m.missing)).collect::<Vec<_>>(),
                    })),
            )?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct BatchSummary {
    pub issued: usize,
    pub already: usize,
    pub incomplete: usize,
}

/// Issues the end-of-path attestation of every complete trainee of a cohort, one
/// transaction each; issuing again issues nothing new.
pub fn issue_cohort(
    conn: &mut DbConn,
    ctx: &Issuer<'_>,
    by: &Signatory,
    cohort: &CohortRow,
    today: NaiveDate,
    mut progress_cb: impl FnMut(usize, usize),
) -> AppResult<BatchSummary> {
    let trainees = cohorts::trainees_of_cohort(conn, cohort.organism_id, cohort.id)?;
    let hours = progress::for_cohort(conn, cohort, &trainees, today)?;
    let existing = store::finals_of_cohort(conn, cohort.id)?;
    let mut summary = BatchSummary::default();
    let total = trainees.len();
    for (i, (t, h)) in trainees.iter().zip(hours).enumerate() {
        if existing.contains_key(&t.id) {
            summary.already += 1;
        } else {
            let results = results_of(conn, t.id)?;
            let completion = completion(ctx.editions, cohort, &h, &results);
            if completion.complete {
                let (entered_on, left_on) = cohorts::enrolment_dates(conn, t.id, cohort.id)?
                    .unwrap_or((cohort.start_date, None));
                let state = TraineeState {
                    cohort: cohort.clone(),
                    entered_on,
                    left_on,
                    hours: h,
                    completion,
                    results,
                };
                let outcome = db::transaction(conn, |c| {
                    issue_in(
                        c,
                        ctx,
                        by,
                        t,
                        &state,
                        &Request::Final { derogation: None },
                        today,
                    )
                })?;
                match outcome {
                    Outcome::Issued(_) => summary.issued += 1,
                    Outcome::AlreadyIssued(_) => summary.already += 1,
                }
            } else {
                summary.incomplete += 1;
            }
        }
        progress_cb(i + 1, total);
    }
    Ok(summary)
}
