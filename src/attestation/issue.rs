//! Issuing: completion of a trainee's path from their hours and evaluations, the statement,
//! its signature, its PDF, and the mails to the employer doctor and the trainee — all in
//! one transaction per attestation. Used by the pages, the command line and the benchmark.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::pdf;
use super::rules::{
    self, Kind, ModuleFacts, ModuleLine, PathCompletion, Statement, best_result, display_code,
};
use super::store::{self, AttestationRow, NewAttestation};
use crate::audit::{self, Event};
use crate::cohorts::store::{self as cohorts, CohortRow, TraineeLine};
use crate::curriculum::Curriculum;
use crate::db::{self, DbConn};
use crate::mail::{self, Attachment, Mail, MailContext, Recipient, outbox};
use crate::tracking::progress::{self, TraineeHours};
use crate::web::{AppError, AppResult};

/// What issuing needs from the running application (or the command line).
pub struct Issuer<'a> {
    pub key: [u8; 32],
    pub base_url: &'a str,
    pub mail_templates: &'a tera::Tera,
    pub curriculum: &'a Curriculum,
}

impl Issuer<'_> {
    pub fn verify_url(&self, code: &str) -> String {
        format!("{}/verifier/{code}", self.base_url.trim_end_matches('/'))
    }

    fn mail_context(&self) -> MailContext<'_> {
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
        if a.status == crate::curriculum::store::SUBMITTED {
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
    curriculum: &Curriculum,
    cohort: &CohortRow,
    hours: &TraineeHours,
    results: &HashMap<i64, (i32, bool)>,
) -> PathCompletion {
    let program = curriculum.program(&cohort.program_code);
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
    rules::path_completion(&facts)
}

/// The state of a trainee seen from an organism: in her current cohort, or in the one she
/// left early (her certificat de réalisation is owed for the hours done); `None` otherwise.
pub fn state_of(
    conn: &mut DbConn,
    curriculum: &Curriculum,
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
    let completion = completion(curriculum, &cohort, &hours, &results);
    Ok(Some(TraineeState {
        cohort,
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

fn modalities(curriculum: &Curriculum, program_code: &str) -> String {
    use crate::curriculum::rules::Modality;
    let mods: Vec<Modality> = curriculum
        .program(program_code)
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
        let state = state_of(conn, ctx.curriculum, &trainee, today)?.ok_or_else(|| {
            AppError::Conflict("Ce stagiaire n'est inscrit dans aucune promotion.".into())
        })?;
        issue_in(conn, ctx, by, &trainee, &state, request, today)
    })
}

/// Issues inside the caller's transaction, from an already computed state.
pub fn issue_in(
    conn: &mut DbConn,
    ctx: &Issuer<'_>,
    by: &Signatory,
    trainee: &TraineeLine,
    state: &TraineeState,
    request: &Request,
    today: NaiveDate,
) -> AppResult<Outcome> {
    let cohort = &state.cohort;
    let (kind, derogation, from, to) = match request {
        Request::Final { derogation } => {
            if let Some(id) = store::final_of(conn, trainee.id, cohort.id)? {
                return Ok(Outcome::AlreadyIssued(id));
            }
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
                    rules::check_override_reason(reason)
                        .map_err(|m| AppError::invalid("reason", m))?,
                ),
            };
            (
                Kind::final_for(&cohort.program_kind),
                derogation,
                cohort.start_date.min(today),
                today,
            )
        }
        Request::Realisation { from, to, .. } => {
            rules::check_period(*from, *to, cohort.start_date, today)
                .map_err(|m| AppError::invalid("period", m))?;
            (Kind::Realisation, None, *from, *to)
        }
    };
    let (organism, city) =
        store::organism_identity(conn, trainee.organism_id)?.ok_or(AppError::NotFound)?;
    // What the Code du travail expects on the document: no attestation without it.
    let place = place_of(city, organism.address.as_deref());
    if organism.siret.is_none() || organism.nda.is_none() || place.is_none() {
        return Err(AppError::Conflict(
            "Complétez d'abord l'identité de l'organisme (SIRET, numéro de déclaration d'activité, \
             adresse ou ville) : elle figure sur chaque attestation."
                .into(),
        ));
    }
    let place = place.unwrap_or_default();
    let modules: Vec<ModuleLine> = match kind {
        Kind::Realisation => {
            let period = store::hours_in_period(conn, trainee.id, from, to)?;
            state
                .hours
                .modules
                .iter()
                .map(|m| {
                    let (d, p, c) = period.get(&m.module_id).copied().unwrap_or_default();
                    ModuleLine {
                        code: m.code.clone(),
                        title: m.title.clone(),
                        planned_secs: m.planned_secs - m.exempted_secs,
                        exempted_secs: 0,
                        distance_secs: d,
                        presentiel_secs: p,
                        correction_secs: c,
                        evaluation_pct: None,
                        evaluation_passed: None,
                    }
                })
                .collect()
        }
        _ => state
            .hours
            .modules
            .iter()
            .map(|m| {
                let r = state.results.get(&m.module_id);
                ModuleLine {
                    code: m.code.clone(),
                    title: m.title.clone(),
                    planned_secs: m.planned_secs,
                    exempted_secs: m.exempted_secs,
                    distance_secs: m.distance_secs,
                    presentiel_secs: m.presentiel_secs,
                    correction_secs: m.correction_secs,
                    evaluation_pct: r.map(|r| r.0),
                    evaluation_passed: r.map(|r| r.1),
                }
            })
            .collect(),
    };
    let program = ctx.curriculum.program(&cohort.program_code);
    let placeholder = format!("pending-{}", crate::web::random_token(12)?);
    let id = store::insert(
        conn,
        &NewAttestation {
            organism_id: trainee.organism_id,
            trainee_id: trainee.id,
            cohort_id: cohort.id,
            kind: kind.as_str(),
            final_key: kind
                .is_final()
                .then(|| store::final_key(trainee.id, cohort.id)),
            period_from: from,
            period_to: to,
            override_reason: derogation.as_deref(),
            issued_by: by.user_id,
        },
        &placeholder,
    )?;
    let statement = Statement {
        v: 1,
        kind,
        number: rules::document_number(trainee.organism_id, today, id),
        place,
        organism,
        trainee_name: trainee.name.clone(),
        employer: trainee.employer.clone(),
        program_code: cohort.program_code.clone(),
        program_title: cohort.program_title.clone(),
        certification: program
            .map(|p| p.certification.clone())
            .unwrap_or_else(|| cohort.program_title.clone()),
        objectives: program.map(|p| p.summary.clone()).unwrap_or_default(),
        nature: "Action de formation (article L6313-1 du Code du travail)".into(),
        modalities: modalities(ctx.curriculum, &cohort.program_code),
        period_from: from,
        period_to: to,
        modules,
        issued_on: today,
        signatory: by.name.clone(),
        by_derogation: derogation.is_some(),
        nonce: crate::web::random_token(12)?,
    };
    let canonical = statement.canonical();
    let signature = rules::signature(&ctx.key, &canonical);
    let code = rules::code_from_signature(&signature);
    let pdf = pdf::render(&statement, &code, &ctx.verify_url(&code))
        .map_err(|e| AppError::Internal(anyhow::anyhow!("attestation PDF: {e}")))?;
    store::seal(
        conn,
        id,
        &statement.number,
        &code,
        &signature,
        &canonical,
        &pdf,
    )?;
    audit::record(
        conn,
        Event::new("attestation_issued", "attestation", Some(id))
            .by(by.user_id)
            .in_organism(Some(trainee.organism_id))
            .key(statement.number.clone())
            .detail(serde_json::json!({
                "trainee": trainee.id,
                "cohort": cohort.id,
                "kind": kind.as_str(),
                "period": [from, to],
                "complete": state.completion.complete,
                "derogation": derogation,
                "done_secs": statement.done_secs(),
            })),
    )?;
    if derogation.is_some() {
        audit::record(
            conn,
            Event::new("attestation_derogation", "trainee", Some(trainee.id))
                .by(by.user_id)
                .in_organism(Some(trainee.organism_id))
                .key(statement.number.clone())
                .detail(serde_json::json!({
                    "attestation": id,
                    "reason": derogation,
                    "missing": state.completion.modules.iter().filter(|m| !m.complete)
                        .map(|m| (&m.code, &m.missing)).collect::<Vec<_>>(),
                })),
        )?;
    }
    if !matches!(request, Request::Realisation { notify: false, .. }) {
        send_mails(
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

fn mail_error(e: mail::MailError) -> AppError {
    AppError::Internal(anyhow::anyhow!("attestation mail: {e}"))
}

/// Queues the doctor's mail (PDF attached, text to forward to the CPAM) and the trainee's.
fn send_mails(
    conn: &mut DbConn,
    ctx: &Issuer<'_>,
    trainee: &TraineeLine,
    st: &Statement,
    code: &str,
    pdf: &[u8],
    cause: &str,
) -> AppResult<usize> {
    let attachment = Attachment {
        file_name: format!("{}-{}.pdf", st.kind.file_stem(), st.number),
        mime_type: "application/pdf".into(),
        content: pdf.to_vec(),
    };
    let mut c = tera::Context::new();
    c.insert("trainee_name", &st.trainee_name);
    c.insert("title", st.kind.title());
    c.insert("kind", st.kind.as_str());
    c.insert("number", &st.number);
    c.insert("program", &st.program_title);
    c.insert("organism", &st.organism.name);
    c.insert("issued_on", &crate::base::format::date(st.issued_on));
    c.insert("period_from", &crate::base::format::date(st.period_from));
    c.insert("period_to", &crate::base::format::date(st.period_to));
    c.insert("done", &crate::base::format::minutes(st.done_secs() / 60));
    c.insert("code", &display_code(code));
    c.insert("verify_url", &ctx.verify_url(code));
    c.insert("base_url", ctx.base_url);
    let domain = ctx.mail_context().domain();
    let mut sent = 0;
    if let Some(employer) = trainee.employer_id {
        let doctors = store::doctors_of_employer(conn, employer)?;
        if !doctors.is_empty() {
            c.insert(
                "doctors",
                &doctors.iter().map(|d| d.0.clone()).collect::<Vec<_>>(),
            );
            let (subject, text, html) =
                mail::render(ctx.mail_templates, "attestation_doctor", &c).map_err(mail_error)?;
            let to = doctors
                .into_iter()
                .map(|(name, email)| Recipient {
                    name: Some(name),
                    email,
                })
                .collect();
            let m = Mail::new(
                "attestation_doctor",
                to,
                &subject,
                text,
                html,
                vec![attachment.clone()],
            )
            .map_err(mail_error)?;
            outbox::enqueue(conn, Some(trainee.organism_id), cause, &m, &domain)?;
            sent += 1;
        }
    }
    let (subject, text, html) =
        mail::render(ctx.mail_templates, "attestation_trainee", &c).map_err(mail_error)?;
    let m = Mail::new(
        "attestation_trainee",
        vec![Recipient {
            name: Some(trainee.name.clone()),
            email: trainee.email.clone(),
        }],
        &subject,
        text,
        html,
        vec![attachment],
    )
    .map_err(mail_error)?;
    outbox::enqueue(conn, Some(trainee.organism_id), cause, &m, &domain)?;
    Ok(sent + 1)
}

/// Sends an attestation again (same document, same number): never a second attestation.
pub fn resend(
    conn: &mut DbConn,
    ctx: &Issuer<'_>,
    actor: i64,
    row: &AttestationRow,
) -> AppResult<usize> {
    if row.revoked_at.is_some() {
        return Err(AppError::Conflict(
            "Une attestation révoquée ne peut pas être renvoyée.".into(),
        ));
    }
    db::transaction(conn, |conn| {
        let trainee = cohorts::trainee(
            conn,
            cohorts::Scope::Organism(row.organism_id),
            row.trainee_id,
        )?
        .ok_or(AppError::NotFound)?;
        let st: Statement = serde_json::from_str(&row.payload)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("attestation payload: {e}")))?;
        let pdf = store::pdf(conn, row.id)?;
        let n = send_mails(
            conn,
            ctx,
            &trainee,
            &st,
            &row.code,
            &pdf,
            "attestation_resent",
        )?;
        audit::record(
            conn,
            Event::new("attestation_resent", "attestation", Some(row.id))
                .by(Some(actor))
                .in_organism(Some(row.organism_id))
                .key(row.number.clone())
                .detail(serde_json::json!({"messages": n})),
        )?;
        Ok(n)
    })
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
            let completion = completion(ctx.curriculum, cohort, &h, &results);
            if completion.complete {
                let state = TraineeState {
                    cohort: cohort.clone(),
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

/// What the public page shows of a code.
#[derive(Clone, Debug)]
pub enum Verification {
    /// Not a code (typo, wrong length): nothing was looked up.
    Malformed,
    Unknown,
    /// Found, but the stored content no longer matches its signature.
    Tampered,
    Genuine {
        statement: Box<Statement>,
        revoked: Option<(chrono::NaiveDateTime, Option<String>)>,
    },
}

pub fn verify(conn: &mut DbConn, key: &[u8; 32], raw: &str) -> AppResult<Verification> {
    let code = match rules::parse_code(raw) {
        rules::CodeInput::Valid(c) => c,
        rules::CodeInput::Malformed => return Ok(Verification::Malformed),
    };
    let Some(row) = store::by_code(conn, &code)? else {
        return Ok(Verification::Unknown);
    };
    if !rules::is_genuine(key, &row.payload, &row.signature, &row.code) {
        tracing::warn!(
            attestation = row.id,
            "attestation content does not match its signature"
        );
        return Ok(Verification::Tampered);
    }
    let Ok(statement) = serde_json::from_str::<Statement>(&row.payload) else {
        return Ok(Verification::Tampered);
    };
    Ok(Verification::Genuine {
        statement: Box::new(statement),
        revoked: row.revoked_at.map(|at| (at, row.revoked_reason.clone())),
    })
}
