//! A trainee's certification record read in one trip (her path's completion, her bloc
//! records, her CQP), and the changes that need it: registering for a session, recording the
//! CQP. Each change is one transaction; pages and API call these.

use chrono::NaiveDate;
use serde::Serialize;

use super::rules::{self, Outcome};
use super::store::{self, By, SessionRow};
use crate::attestation::completion::PathCompletion;
use crate::attestation::issue;
use crate::base::format;
use crate::cohorts::store::{self as cohorts, Scope, TraineeLine};
use crate::curriculum::Content;
use crate::db::{self, DbConn};
use crate::web::{AppError, AppResult};

/// One bloc of the trainee's certification and how it stands.
#[derive(Clone, Debug, Serialize)]
pub struct BlocLine {
    pub code: String,
    pub title: String,
    /// The content's bloc name ("Bloc 1"), when the module has one.
    pub label: String,
    /// How it was acquired ("session du 15/01/2027", "VAE n° 3, décision du …").
    pub acquired: Option<String>,
    /// The last result that was not an acquisition, when she has one.
    pub last_result: Option<String>,
    /// Whether her path is complete for it.
    pub path_complete: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Status {
    /// The programme's kind ("cqp", "fae"), `None` when she was never in a cohort.
    pub program_kind: Option<String>,
    pub program_title: Option<String>,
    pub blocs: Vec<BlocLine>,
    /// Codes of the blocs still to pass.
    pub remaining: Vec<String>,
    /// The CQP obtained: (day, certificate number).
    pub cqp: Option<(NaiveDate, String)>,
    #[serde(skip)]
    pub completion: Option<PathCompletion>,
}

impl Status {
    pub fn codes(&self) -> Vec<String> {
        self.blocs.iter().map(|b| b.code.clone()).collect()
    }

    /// The CQP only: anything else is refused with its reason.
    pub fn check_cqp_trainee(&self) -> AppResult<()> {
        let kind = self.program_kind.as_deref().ok_or_else(|| {
            AppError::invalid(
                "trainee",
                "Cette stagiaire n'a suivi aucune promotion : pas de certification.",
            )
        })?;
        rules::check_program(kind).map_err(|m| AppError::invalid("trainee", m))
    }
}

fn how(b: &store::BlocRow, sessions: &[(i64, NaiveDate)]) -> String {
    match (b.session_id, b.vae_request_id) {
        (Some(s), _) => {
            let day = sessions
                .iter()
                .find(|x| x.0 == s)
                .map_or(b.decided_on, |x| x.1);
            format!("session de certification du {}", format::date(day))
        }
        (None, Some(v)) => format!("VAE n° {v}, décision du {}", format::date(b.decided_on)),
        (None, None) => format!("le {}", format::date(b.decided_on)),
    }
}

/// The trainee's certification record as of `today`.
pub fn status(
    conn: &mut DbConn,
    content: &Content,
    trainee: &TraineeLine,
    today: NaiveDate,
) -> AppResult<Status> {
    let editions = content.cohort_editions(conn, trainee.organism_id)?;
    let state = issue::state_of(conn, &editions, trainee, today)?;
    let records = store::blocs_of(conn, trainee.id)?;
    let cqp = store::cqp_of(conn, trainee.id)?;
    let mut sessions: Vec<(i64, NaiveDate)> = Vec::new();
    for id in records.iter().filter_map(|r| r.session_id) {
        if let Some(s) = store::session(conn, id)? {
            sessions.push((s.id, s.held_on));
        }
    }
    let Some(state) = state else {
        return Ok(Status {
            program_kind: None,
            program_title: None,
            blocs: vec![],
            remaining: vec![],
            cqp,
            completion: None,
        });
    };
    let program = editions.program(state.cohort.content_version_id);
    let blocs: Vec<BlocLine> = state
        .completion
        .modules
        .iter()
        .map(|m| {
            let mine: Vec<&store::BlocRow> = records.iter().filter(|r| r.bloc == m.code).collect();
            let acquired = mine
                .iter()
                .find(|r| r.result == Outcome::Acquired.as_str())
                .map(|r| how(r, &sessions));
            let last_result = mine
                .last()
                .and_then(|r| Outcome::parse(&r.result))
                .filter(|o| *o != Outcome::Acquired)
                .map(|o| o.label().to_string());
            BlocLine {
                code: m.code.clone(),
                title: m.title.clone(),
                label: program
                    .and_then(|p| p.module(&m.code))
                    .map(|pm| pm.bloc.clone())
                    .unwrap_or_default(),
                acquired,
                last_result,
                path_complete: m.complete,
            }
        })
        .collect();
    let all: Vec<String> = blocs.iter().map(|b| b.code.clone()).collect();
    let got = rules::acquired(records.iter().map(|r| (r.bloc.as_str(), r.result.as_str())));
    Ok(Status {
        program_kind: Some(state.cohort.program_kind.clone()),
        program_title: Some(state.cohort.program_title.clone()),
        remaining: rules::remaining(&all, &got),
        blocs,
        cqp,
        completion: Some(state.completion),
    })
}

/// Registers a trainee of the session's organism for the blocs of the session she still
/// needs: refused, with nothing changed, for another organism's or an FAE trainee, twice, or
/// on an incomplete path without a derogation's reason.
pub fn register(
    conn: &mut DbConn,
    content: &Content,
    actor: i64,
    session: &SessionRow,
    trainee_id: i64,
    derogation: Option<&str>,
) -> AppResult<()> {
    let today = crate::base::paris::today();
    db::transaction(conn, |conn| {
        let trainee = cohorts::trainee(conn, Scope::Organism(session.organism_id), trainee_id)?
            .ok_or_else(|| {
                AppError::invalid("trainee_id", "Choisissez une stagiaire de l'organisme.")
            })?;
        let st = status(conn, content, &trainee, today)?;
        st.check_cqp_trainee()?;
        let already = store::registrations_of(conn, trainee_id)?
            .iter()
            .any(|(s, _)| *s == session.id);
        if already {
            return Err(AppError::Conflict(
                "Cette stagiaire est déjà inscrite à cette session.".into(),
            ));
        }
        let completion = st.completion.clone().unwrap_or(PathCompletion {
            modules: vec![],
            complete: false,
        });
        let (blocs, reason) =
            rules::check_registration(&session.blocs(), &st.remaining, &completion, derogation)
                .map_err(|r| AppError::invalid("derogation", r.message()))?;
        let by = By {
            actor,
            organism_id: session.organism_id,
        };
        store::register(conn, by, session.id, trainee_id, &blocs, reason.as_deref())?;
        Ok(())
    })
}

/// Records a candidate's results, bloc by bloc (`(code, result)`), for the blocs she was
/// registered for, once the session is held; all or nothing.
pub fn record_results(
    conn: &mut DbConn,
    actor: i64,
    session: &SessionRow,
    trainee_id: i64,
    results: &[(String, String)],
) -> AppResult<()> {
    rules::check_results_day(session.held_on, crate::base::paris::today())
        .map_err(|m| AppError::invalid("results", m))?;
    db::transaction(conn, |conn| {
        let Some(candidate) = store::candidates_of(conn, session.id)?
            .into_iter()
            .find(|c| c.trainee_id == trainee_id)
        else {
            return Err(AppError::Conflict(
                "Cette stagiaire n'est pas inscrite à la session.".into(),
            ));
        };
        let registered = candidate.blocs();
        let mut parsed = Vec::new();
        for (code, raw) in results {
            if raw.is_empty() {
                continue;
            }
            if !registered.contains(code) {
                return Err(AppError::invalid(
                    "results",
                    format!("La stagiaire n'est pas inscrite pour le bloc {code}."),
                ));
            }
            let outcome = Outcome::parse(raw)
                .ok_or_else(|| AppError::invalid("results", "Résultat inconnu."))?;
            parsed.push((code.clone(), outcome));
        }
        if parsed.is_empty() {
            return Err(AppError::invalid(
                "results",
                "Choisissez le résultat d'au moins un bloc.",
            ));
        }
        let by = By {
            actor,
            organism_id: session.organism_id,
        };
        for (code, outcome) in parsed {
            store::set_result(conn, by, session, trainee_id, &code, outcome)?;
        }
        Ok(())
    })
}

/// Records the CQP obtained, once every bloc is acquired.
pub fn record_cqp(
    conn: &mut DbConn,
    content: &Content,
    actor: i64,
    trainee: &TraineeLine,
    obtained_on: &str,
    number: &str,
) -> AppResult<()> {
    let today = crate::base::paris::today();
    db::transaction(conn, |conn| {
        let st = status(conn, content, trainee, today)?;
        st.check_cqp_trainee()?;
        let (on, number) = rules::check_cqp(&st.remaining, obtained_on, number, today)
            .map_err(|(f, m)| AppError::invalid(f, m))?;
        let by = By {
            actor,
            organism_id: trainee.organism_id,
        };
        store::record_cqp(conn, by, trainee.id, on, &number)
    })
}
