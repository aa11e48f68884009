//! The signed-in trainee's own certification record (#20): her blocs as `record::status`
//! reads them, each with the session or VAE decision behind the result shown and the session
//! she is registered for next, her sessions (her blocs only, with her results there) and her
//! CQP. The page `/ma-certification` and `GET /api/v1/me/certification` show the same.

use chrono::NaiveDate;
use serde::Serialize;

use super::record::{self, BlocLine};
use super::rules::Outcome;
use super::store::{self, BlocRow, SessionRow};
use crate::cohorts::store::{self as cohorts, Scope};
use crate::curriculum::Content;
use crate::db::DbConn;
use crate::web::AppResult;

/// One bloc of her CQP and how it stands.
#[derive(Clone, Debug, Serialize)]
pub struct MyBloc {
    pub code: String,
    pub title: String,
    /// The content's bloc name ("Bloc 1"), when the module has one.
    pub label: String,
    /// `acquired`, her last result (`not_acquired`, `absent`), or `to_pass` without any.
    pub state: &'static str,
    /// Where that result comes from: `session`, `vae` or `record` (neither); none for
    /// `to_pass`.
    pub source: Option<&'static str>,
    /// The day of that result: the session's, or the decision's.
    pub on: Option<NaiveDate>,
    /// The VAE request whose decision granted it.
    pub vae_request_id: Option<i64>,
    /// The earliest session she is registered for with this bloc and no result for it yet.
    pub registered_on: Option<NaiveDate>,
    /// Whether her path is complete for it.
    pub path_complete: bool,
}

/// A bloc she is registered for at a session.
#[derive(Clone, Debug, Serialize)]
pub struct MySessionBloc {
    pub code: String,
    pub title: String,
    /// Her result there (`acquired`, `not_acquired`, `absent`); none recorded yet.
    pub result: Option<String>,
}

/// A session she is registered for: her blocs only.
#[derive(Clone, Debug, Serialize)]
pub struct MySession {
    pub held_on: NaiveDate,
    pub place: String,
    /// Whether the session's day is today or later.
    pub upcoming: bool,
    pub blocs: Vec<MySessionBloc>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Cqp {
    pub obtained_on: NaiveDate,
    pub certificate_number: String,
    /// Whether the organism uploaded the branch's certificate (she downloads it).
    pub certificate: bool,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct MyRecord {
    /// The programme's kind ("cqp", "fae"); `None` when she was never in a cohort.
    pub program_kind: Option<String>,
    pub program_title: Option<String>,
    /// Her CQP's blocs (none for another programme).
    pub blocs: Vec<MyBloc>,
    /// Codes of the blocs still to pass.
    pub remaining: Vec<String>,
    pub sessions: Vec<MySession>,
    pub cqp: Option<Cqp>,
}

/// The record of trainee `trainee_id` (the caller herself) as of `today`; empty when she has
/// no trainee file.
pub fn read(
    conn: &mut DbConn,
    content: &Content,
    trainee_id: i64,
    today: NaiveDate,
) -> AppResult<MyRecord> {
    let Some(trainee) = cohorts::trainee(conn, Scope::Checked, trainee_id)? else {
        return Ok(MyRecord::default());
    };
    let st = record::status(conn, content, &trainee, today)?;
    let records = store::blocs_of(conn, trainee.id)?;
    let registered = store::sessions_of_trainee(conn, trainee.id)?;
    let cqp = st.program_kind.as_deref() == Some("cqp");
    let blocs: Vec<MyBloc> = if cqp {
        st.blocs
            .iter()
            .map(|b| my_bloc(b, &records, &registered))
            .collect()
    } else {
        Vec::new()
    };
    let sessions = registered
        .iter()
        .map(|(s, json)| my_session(s, json, &st.blocs, &records, today))
        .collect();
    Ok(MyRecord {
        program_kind: st.program_kind,
        program_title: st.program_title,
        blocs,
        remaining: if cqp { st.remaining } else { Vec::new() },
        sessions,
        cqp: match st.cqp {
            Some((obtained_on, certificate_number)) => Some(Cqp {
                obtained_on,
                certificate_number,
                certificate: super::cqp::of_trainee(conn, trainee_id)?
                    .is_some_and(|c| c.certificate_at.is_some()),
            }),
            None => None,
        },
    })
}

/// Where a result comes from, and its day (a session's own day when it came from one).
fn source_of(r: &BlocRow, registered: &[(SessionRow, String)]) -> (&'static str, NaiveDate) {
    match (r.session_id, r.vae_request_id) {
        (Some(id), _) => {
            let day = registered
                .iter()
                .find(|(s, _)| s.id == id)
                .map_or(r.decided_on, |(s, _)| s.held_on);
            ("session", day)
        }
        (None, Some(_)) => ("vae", r.decided_on),
        (None, None) => ("record", r.decided_on),
    }
}

/// A bloc: acquired once is acquired for good (as `rules::acquired`); otherwise her last
/// result, and the session she is registered for to pass it.
fn my_bloc(b: &BlocLine, records: &[BlocRow], registered: &[(SessionRow, String)]) -> MyBloc {
    let known: Vec<(&BlocRow, Outcome)> = records
        .iter()
        .filter(|r| r.bloc == b.code)
        .filter_map(|r| Outcome::parse(&r.result).map(|o| (r, o)))
        .collect();
    let shown = known
        .iter()
        .find(|(_, o)| *o == Outcome::Acquired)
        .or(known.last());
    let acquired = shown.is_some_and(|(_, o)| *o == Outcome::Acquired);
    let registered_on = registered
        .iter()
        .filter(|_| !acquired)
        .filter(|(_, json)| store::parse_list(json).contains(&b.code))
        .find(|(s, _)| {
            !records
                .iter()
                .any(|r| r.session_id == Some(s.id) && r.bloc == b.code)
        })
        .map(|(s, _)| s.held_on);
    let source = shown.map(|(r, _)| source_of(r, registered));
    MyBloc {
        code: b.code.clone(),
        title: b.title.clone(),
        label: b.label.clone(),
        state: shown.map_or("to_pass", |(_, o)| o.as_str()),
        source: source.map(|s| s.0),
        on: source.map(|s| s.1),
        vae_request_id: shown.and_then(|(r, _)| r.vae_request_id),
        registered_on,
        path_complete: b.path_complete,
    }
}

/// A session she is registered for, with her blocs there and her results.
fn my_session(
    s: &SessionRow,
    json: &str,
    lines: &[BlocLine],
    records: &[BlocRow],
    today: NaiveDate,
) -> MySession {
    let blocs = store::parse_list(json)
        .into_iter()
        .map(|code| MySessionBloc {
            title: lines
                .iter()
                .find(|l| l.code == code)
                .map_or(String::new(), |l| l.title.clone()),
            result: records
                .iter()
                .find(|r| r.session_id == Some(s.id) && r.bloc == code)
                .map(|r| r.result.clone()),
            code,
        })
        .collect();
    MySession {
        held_on: s.held_on,
        place: s.place.clone(),
        upcoming: s.held_on >= today,
        blocs,
    }
}
