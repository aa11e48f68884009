//! VAE queries. Every query that returns a file takes the scope of the person asking.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::rules::{Experience, Status};
use crate::db::schema::{programs, users, vae_documents, vae_experiences, vae_requests};
use crate::db::{self, DbConn};

/// Whose files a query may return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The candidate's own files.
    Candidate(i64),
    /// The files handled by this organism.
    Organism(i64),
    /// A platform administrator.
    Platform,
}

#[derive(Debug, Clone, Queryable, Serialize)]
pub struct Request {
    pub id: i64,
    pub organism_id: i64,
    pub candidate_id: i64,
    pub program_id: i64,
    pub year: i32,
    pub state: String,
    pub phone: String,
    pub address: String,
    pub employer: String,
    pub requested_modules: String,
    pub experience_minutes: i32,
    pub below_threshold: bool,
    pub consent_at: NaiveDateTime,
    pub reasons: Option<String>,
    pub recevable_at: Option<NaiveDateTime>,
    pub jury_at: Option<NaiveDateTime>,
    pub jury_place: Option<String>,
    pub decision: Option<String>,
    pub validated_modules: Option<String>,
    pub recommendations: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Request {
    pub fn status(&self) -> Status {
        Status::parse(&self.state).unwrap_or(Status::Deposee)
    }

    pub fn requested(&self) -> Vec<String> {
        serde_json::from_str(&self.requested_modules).unwrap_or_default()
    }

    pub fn validated(&self) -> Vec<String> {
        self.validated_modules
            .as_deref()
            .and_then(|v| serde_json::from_str(v).ok())
            .unwrap_or_default()
    }
}

macro_rules! request_columns {
    () => {
        (
            vae_requests::id,
            vae_requests::organism_id,
            vae_requests::candidate_id,
            vae_requests::program_id,
            vae_requests::year,
            vae_requests::state,
            vae_requests::phone,
            vae_requests::address,
            vae_requests::employer,
            vae_requests::requested_modules,
            vae_requests::experience_minutes,
            vae_requests::below_threshold,
            vae_requests::consent_at,
            vae_requests::reasons,
            vae_requests::recevable_at,
            vae_requests::jury_at,
            vae_requests::jury_place,
            vae_requests::decision,
            vae_requests::validated_modules,
            vae_requests::recommendations,
            vae_requests::created_at,
            vae_requests::updated_at,
        )
    };
}

/// One file, if the scope may see it.
pub fn get(conn: &mut DbConn, scope: Scope, id: i64) -> QueryResult<Option<Request>> {
    let mut q = vae_requests::table
        .filter(vae_requests::id.eq(id))
        .into_boxed();
    q = match scope {
        Scope::Candidate(c) => q.filter(vae_requests::candidate_id.eq(c)),
        Scope::Organism(o) => q.filter(vae_requests::organism_id.eq(o)),
        Scope::Platform => q,
    };
    q.select(request_columns!()).first(conn).optional()
}

/// The candidate's own files, newest first.
pub fn of_candidate(conn: &mut DbConn, candidate_id: i64) -> QueryResult<Vec<Request>> {
    vae_requests::table
        .filter(vae_requests::candidate_id.eq(candidate_id))
        .order(vae_requests::id.desc())
        .select(request_columns!())
        .load(conn)
}

/// The date of this candidate's request for this certification in this year, if any.
pub fn same_year(
    conn: &mut DbConn,
    candidate_id: i64,
    program_id: i64,
    year: i32,
) -> QueryResult<Option<NaiveDateTime>> {
    vae_requests::table
        .filter(vae_requests::candidate_id.eq(candidate_id))
        .filter(vae_requests::program_id.eq(program_id))
        .filter(vae_requests::year.eq(year))
        .select(vae_requests::created_at)
        .first(conn)
        .optional()
}

#[derive(Debug, Clone, Queryable, Serialize)]
pub struct Line {
    pub id: i64,
    pub state: String,
    pub candidate_name: String,
    pub candidate_email: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub jury_at: Option<NaiveDateTime>,
    pub below_threshold: bool,
}

/// An organism's files, optionally in one state, newest first.
pub fn list(conn: &mut DbConn, organism_id: i64, state: Option<Status>) -> QueryResult<Vec<Line>> {
    let mut q = vae_requests::table
        .inner_join(users::table.on(users::id.eq(vae_requests::candidate_id)))
        .filter(vae_requests::organism_id.eq(organism_id))
        .into_boxed();
    if let Some(s) = state {
        q = q.filter(vae_requests::state.eq(s.as_str()));
    }
    q.order(vae_requests::id.desc())
        .select((
            vae_requests::id,
            vae_requests::state,
            users::name,
            users::email,
            vae_requests::created_at,
            vae_requests::updated_at,
            vae_requests::jury_at,
            vae_requests::below_threshold,
        ))
        .load(conn)
}

/// How many files of the organism are in each state.
pub fn counts(conn: &mut DbConn, organism_id: i64) -> QueryResult<Vec<(String, i64)>> {
    use diesel::dsl::count_star;
    vae_requests::table
        .filter(vae_requests::organism_id.eq(organism_id))
        .group_by(vae_requests::state)
        .select((vae_requests::state, count_star()))
        .load(conn)
}

pub struct NewRequest<'a> {
    pub organism_id: i64,
    pub candidate_id: i64,
    pub program_id: i64,
    pub year: i32,
    pub phone: &'a str,
    pub address: &'a str,
    pub employer: &'a str,
    pub requested: &'a [String],
    pub experiences: &'a [Experience],
    pub below_threshold: bool,
}

/// Inserts a request and its periods (the caller holds the transaction and audits).
pub fn insert(conn: &mut DbConn, r: &NewRequest<'_>) -> QueryResult<i64> {
    let now = db::now();
    let total: i64 = r.experiences.iter().map(|e| i64::from(e.minutes)).sum();
    let id: i64 = diesel::insert_into(vae_requests::table)
        .values((
            vae_requests::organism_id.eq(r.organism_id),
            vae_requests::candidate_id.eq(r.candidate_id),
            vae_requests::program_id.eq(r.program_id),
            vae_requests::year.eq(r.year),
            vae_requests::state.eq(Status::Deposee.as_str()),
            vae_requests::phone.eq(r.phone),
            vae_requests::address.eq(r.address),
            vae_requests::employer.eq(r.employer),
            vae_requests::requested_modules
                .eq(serde_json::to_string(r.requested).unwrap_or_else(|_| "[]".into())),
            vae_requests::experience_minutes.eq(i32::try_from(total).unwrap_or(i32::MAX)),
            vae_requests::below_threshold.eq(r.below_threshold),
            vae_requests::consent_at.eq(now),
            vae_requests::created_at.eq(now),
            vae_requests::updated_at.eq(now),
        ))
        .returning(vae_requests::id)
        .get_result(conn)?;
    for e in r.experiences {
        diesel::insert_into(vae_experiences::table)
            .values((
                vae_experiences::request_id.eq(id),
                vae_experiences::from_date.eq(e.from),
                vae_experiences::to_date.eq(e.to),
                vae_experiences::employer.eq(&e.employer),
                vae_experiences::job_role.eq(&e.role),
                vae_experiences::minutes.eq(e.minutes),
                vae_experiences::missions.eq(e.missions.join(",")),
            ))
            .execute(conn)?;
    }
    Ok(id)
}

#[derive(Debug, Clone, Queryable, Serialize)]
pub struct ExperienceRow {
    pub from_date: chrono::NaiveDate,
    pub to_date: chrono::NaiveDate,
    pub employer: String,
    pub job_role: String,
    pub minutes: i32,
    pub missions: String,
}

pub fn experiences(conn: &mut DbConn, request_id: i64) -> QueryResult<Vec<ExperienceRow>> {
    vae_experiences::table
        .filter(vae_experiences::request_id.eq(request_id))
        .order(vae_experiences::from_date.asc())
        .select((
            vae_experiences::from_date,
            vae_experiences::to_date,
            vae_experiences::employer,
            vae_experiences::job_role,
            vae_experiences::minutes,
            vae_experiences::missions,
        ))
        .load(conn)
}

#[derive(Debug, Clone, Queryable, Serialize)]
pub struct Document {
    pub id: i64,
    pub request_id: i64,
    pub kind: String,
    pub file_name: String,
    pub mime_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_at: NaiveDateTime,
}

macro_rules! document_columns {
    () => {
        (
            vae_documents::id,
            vae_documents::request_id,
            vae_documents::kind,
            vae_documents::file_name,
            vae_documents::mime_type,
            vae_documents::size_bytes,
            vae_documents::sha256,
            vae_documents::uploaded_at,
        )
    };
}

pub fn documents(conn: &mut DbConn, request_id: i64) -> QueryResult<Vec<Document>> {
    vae_documents::table
        .filter(vae_documents::request_id.eq(request_id))
        .order(vae_documents::id.asc())
        .select(document_columns!())
        .load(conn)
}

/// One document, if the scope may see its file.
pub fn document(conn: &mut DbConn, scope: Scope, id: i64) -> QueryResult<Option<Document>> {
    let Some(doc): Option<Document> = vae_documents::table
        .filter(vae_documents::id.eq(id))
        .select(document_columns!())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    Ok(get(conn, scope, doc.request_id)?.map(|_| doc))
}

pub struct NewDocument<'a> {
    pub request_id: i64,
    pub kind: &'a str,
    pub file_name: &'a str,
    pub mime_type: &'a str,
    pub size_bytes: i64,
    pub sha256: &'a str,
    pub uploaded_by: i64,
}

pub fn insert_document(conn: &mut DbConn, d: &NewDocument<'_>) -> QueryResult<i64> {
    diesel::insert_into(vae_documents::table)
        .values((
            vae_documents::request_id.eq(d.request_id),
            vae_documents::kind.eq(d.kind),
            vae_documents::file_name.eq(d.file_name),
            vae_documents::mime_type.eq(d.mime_type),
            vae_documents::size_bytes.eq(d.size_bytes),
            vae_documents::sha256.eq(d.sha256),
            vae_documents::uploaded_by.eq(d.uploaded_by),
            vae_documents::uploaded_at.eq(db::now()),
        ))
        .returning(vae_documents::id)
        .get_result(conn)
}

/// What a transition writes besides the state.
#[derive(Debug, Default, Clone)]
pub struct Change {
    pub reasons: Option<String>,
    pub recevable_at: Option<NaiveDateTime>,
    pub jury_at: Option<NaiveDateTime>,
    pub jury_place: Option<String>,
    pub decision: Option<String>,
    pub validated_modules: Option<String>,
    pub recommendations: Option<String>,
}

/// Moves a file from `from` to `to`; false if it was no longer in `from` (a concurrent
/// change), so the caller refuses.
pub fn set_state(
    conn: &mut DbConn,
    id: i64,
    from: Status,
    to: Status,
    c: &Change,
) -> QueryResult<bool> {
    let target = vae_requests::table
        .filter(vae_requests::id.eq(id))
        .filter(vae_requests::state.eq(from.as_str()));
    let n = diesel::update(target)
        .set((
            vae_requests::state.eq(to.as_str()),
            vae_requests::updated_at.eq(db::now()),
        ))
        .execute(conn)?;
    if n != 1 {
        return Ok(false);
    }
    let row = vae_requests::table.filter(vae_requests::id.eq(id));
    if let Some(r) = &c.reasons {
        diesel::update(row)
            .set(vae_requests::reasons.eq(r))
            .execute(conn)?;
    }
    if let Some(t) = c.recevable_at {
        diesel::update(row)
            .set(vae_requests::recevable_at.eq(t))
            .execute(conn)?;
    }
    if let Some(t) = c.jury_at {
        diesel::update(row)
            .set(vae_requests::jury_at.eq(t))
            .execute(conn)?;
    }
    if let Some(p) = &c.jury_place {
        diesel::update(row)
            .set(vae_requests::jury_place.eq(p))
            .execute(conn)?;
    }
    if let Some(d) = &c.decision {
        diesel::update(row)
            .set(vae_requests::decision.eq(d))
            .execute(conn)?;
    }
    if let Some(v) = &c.validated_modules {
        diesel::update(row)
            .set(vae_requests::validated_modules.eq(v))
            .execute(conn)?;
    }
    if let Some(r) = &c.recommendations {
        diesel::update(row)
            .set(vae_requests::recommendations.eq(r))
            .execute(conn)?;
    }
    Ok(true)
}

/// The programme a VAE asks for (the CQP): its id and title.
pub fn program_by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<(i64, String)>> {
    programs::table
        .filter(programs::code.eq(code))
        .select((programs::id, programs::title))
        .first(conn)
        .optional()
}

/// Writes the blocs (module codes) a VAE decision validates into the candidate's
/// certification record (`certification_blocs`, read by the certification domain, which
/// cannot be imported from here without a circle), as acquired on the day of the decision.
/// A bloc already acquired is left as it is. Returns the blocs written.
pub fn grant_blocs(
    conn: &mut DbConn,
    actor: i64,
    req: &Request,
    codes: &[String],
    on: chrono::NaiveDate,
) -> QueryResult<Vec<String>> {
    use crate::db::schema::certification_blocs as blocs;
    let mut written = Vec::new();
    for code in codes {
        let held: bool = diesel::select(diesel::dsl::exists(
            blocs::table
                .filter(blocs::trainee_id.eq(req.candidate_id))
                .filter(blocs::bloc.eq(code))
                .filter(blocs::result.eq("acquired")),
        ))
        .get_result(conn)?;
        if held {
            continue;
        }
        diesel::insert_into(blocs::table)
            .values((
                blocs::trainee_id.eq(req.candidate_id),
                blocs::bloc.eq(code),
                blocs::result.eq("acquired"),
                blocs::vae_request_id.eq(req.id),
                blocs::decided_on.eq(on),
                blocs::recorded_by.eq(actor),
                blocs::recorded_at.eq(db::now()),
            ))
            .execute(conn)?;
        written.push(code.clone());
    }
    Ok(written)
}
