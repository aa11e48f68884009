//! What uploaded files take, per organism, candidate and trainee, and the bytes anonymous
//! people sent this hour. Sizes are those recorded with each file.

use chrono::NaiveDateTime;
use diesel::dsl::{exists, sql};
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::db::schema::{
    anonymous_upload_hours as hours, assignment_files, assignment_submissions, certifications,
    data_exports, followup_attachments, followup_messages, followup_threads, trainee_profiles,
    vae_documents, vae_pending_documents, vae_requests,
};
use crate::db::{self, DbConn};

// SUM of a BIGINT is NUMERIC on PostgreSQL: cast so both backends answer the same type.
macro_rules! total {
    ($col:literal) => {
        sql::<BigInt>(concat!("CAST(COALESCE(SUM(", $col, "), 0) AS BIGINT)"))
    };
}

fn bytes(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A candidate's VAE documents, over all their requests.
pub fn candidate_usage(conn: &mut DbConn, candidate_id: i64) -> QueryResult<u64> {
    vae_documents::table
        .inner_join(vae_requests::table.on(vae_requests::id.eq(vae_documents::request_id)))
        .filter(vae_requests::candidate_id.eq(candidate_id))
        .select(total!("vae_documents.size_bytes"))
        .first(conn)
        .map(bytes)
}

/// The attachments of a trainee's follow-up threads, whoever sent them.
pub fn trainee_usage(conn: &mut DbConn, trainee_id: i64) -> QueryResult<u64> {
    followup_attachments::table
        .inner_join(followup_messages::table.inner_join(followup_threads::table))
        .filter(followup_threads::trainee_id.eq(trainee_id))
        .select(total!("followup_attachments.size_bytes"))
        .first(conn)
        .map(bytes)
}

/// The files of a trainee's assignments, over all their versions.
pub fn assignment_usage(conn: &mut DbConn, trainee_id: i64) -> QueryResult<u64> {
    assignment_files::table
        .inner_join(assignment_submissions::table)
        .filter(assignment_submissions::trainee_id.eq(trainee_id))
        .select(total!("assignment_files.size_bytes"))
        .first(conn)
        .map(bytes)
}

/// Everything kept for an organism: its VAE documents, follow-up attachments and the files
/// of its trainees' assignments. Files of
/// unconfirmed requests are not counted: strangers could otherwise fill an organism's space;
/// the hourly anonymous cap bounds them instead, and they count once confirmed.
pub fn organism_usage(conn: &mut DbConn, organism_id: i64) -> QueryResult<u64> {
    let vae: i64 = vae_documents::table
        .inner_join(vae_requests::table.on(vae_requests::id.eq(vae_documents::request_id)))
        .filter(vae_requests::organism_id.eq(organism_id))
        .select(total!("vae_documents.size_bytes"))
        .first(conn)?;
    let followup: i64 = followup_attachments::table
        .inner_join(followup_messages::table.inner_join(followup_threads::table))
        .filter(followup_threads::organism_id.eq(organism_id))
        .select(total!("followup_attachments.size_bytes"))
        .first(conn)?;
    let assignments: i64 = assignment_files::table
        .inner_join(assignment_submissions::table)
        .inner_join(
            trainee_profiles::table
                .on(trainee_profiles::user_id.eq(assignment_submissions::trainee_id)),
        )
        .filter(trainee_profiles::organism_id.eq(organism_id))
        .select(total!("assignment_files.size_bytes"))
        .first(conn)?;
    Ok(bytes(vae) + bytes(followup) + bytes(assignments))
}

/// Whether any record (VAE document, pending or not, follow-up attachment, assignment file,
/// CQP certificate) uses a file. `upload_references` reads the same tables.
pub fn is_referenced(conn: &mut DbConn, sha256: &str) -> QueryResult<bool> {
    let documents = diesel::select(exists(
        vae_documents::table.filter(vae_documents::sha256.eq(sha256)),
    ))
    .get_result(conn)?;
    let pending = diesel::select(exists(
        vae_pending_documents::table.filter(vae_pending_documents::sha256.eq(sha256)),
    ))
    .get_result(conn)?;
    let attachments = diesel::select(exists(
        followup_attachments::table.filter(followup_attachments::sha256.eq(sha256)),
    ))
    .get_result(conn)?;
    let assignments = diesel::select(exists(
        assignment_files::table.filter(assignment_files::sha256.eq(sha256)),
    ))
    .get_result(conn)?;
    let certificates = diesel::select(exists(
        certifications::table.filter(certifications::certificate_sha256.eq(sha256)),
    ))
    .get_result(conn)?;
    let exports = diesel::select(exists(
        data_exports::table.filter(data_exports::sha256.eq(sha256)),
    ))
    .get_result(conn)?;
    Ok(documents || pending || attachments || assignments || certificates || exports)
}

/// A record that uses an uploaded file: its table and id, and the size it recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadReference {
    pub table: &'static str,
    pub id: i64,
    pub sha256: String,
    pub size: Option<u64>,
}

/// Every record that uses an uploaded file: the tables of `is_referenced`, read whole (for
/// `parcours storage check`).
pub fn upload_references(conn: &mut DbConn) -> QueryResult<Vec<UploadReference>> {
    let sized = |table: &'static str, rows: Vec<(i64, String, i64)>| {
        rows.into_iter()
            .map(move |(id, sha256, size)| UploadReference {
                table,
                id,
                sha256,
                size: Some(bytes(size)),
            })
    };
    let mut all: Vec<UploadReference> = Vec::new();
    let rows = vae_documents::table
        .select((
            vae_documents::id,
            vae_documents::sha256,
            vae_documents::size_bytes,
        ))
        .load(conn)?;
    all.extend(sized("vae_documents", rows));
    let rows = vae_pending_documents::table
        .select((
            vae_pending_documents::id,
            vae_pending_documents::sha256,
            vae_pending_documents::size_bytes,
        ))
        .load(conn)?;
    all.extend(sized("vae_pending_documents", rows));
    let rows = followup_attachments::table
        .select((
            followup_attachments::id,
            followup_attachments::sha256,
            followup_attachments::size_bytes,
        ))
        .load(conn)?;
    all.extend(sized("followup_attachments", rows));
    let rows = assignment_files::table
        .select((
            assignment_files::id,
            assignment_files::sha256,
            assignment_files::size_bytes,
        ))
        .load(conn)?;
    all.extend(sized("assignment_files", rows));
    let certificates: Vec<(i64, Option<String>)> = certifications::table
        .filter(certifications::certificate_sha256.is_not_null())
        .select((certifications::id, certifications::certificate_sha256))
        .load(conn)?;
    all.extend(certificates.into_iter().filter_map(|(id, sha)| {
        Some(UploadReference {
            table: "certifications",
            id,
            sha256: sha?,
            size: None,
        })
    }));
    let exports: Vec<(i64, Option<String>, Option<i64>)> = data_exports::table
        .filter(data_exports::sha256.is_not_null())
        .select((
            data_exports::id,
            data_exports::sha256,
            data_exports::size_bytes,
        ))
        .load(conn)?;
    all.extend(exports.into_iter().filter_map(|(id, sha, size)| {
        Some(UploadReference {
            table: "data_exports",
            id,
            sha256: sha?,
            size: size.map(bytes),
        })
    }));
    Ok(all)
}

/// Bytes anonymous people sent in the clock hour starting at `hour`.
pub fn anonymous_bytes(conn: &mut DbConn, hour: NaiveDateTime) -> QueryResult<u64> {
    hours::table
        .find(hour)
        .select(hours::bytes)
        .first::<i64>(conn)
        .optional()
        .map(|n| bytes(n.unwrap_or(0)))
}

/// Counts `adding` bytes in the hour if that keeps it within `cap`; false otherwise. One
/// conditional update, so instances sharing the database never pass the cap together.
pub fn reserve_anonymous(
    conn: &mut DbConn,
    hour: NaiveDateTime,
    adding: u64,
    cap: u64,
) -> QueryResult<bool> {
    let (Ok(adding), Ok(cap)) = (i64::try_from(adding), i64::try_from(cap)) else {
        return Ok(false);
    };
    if adding > cap {
        return Ok(false);
    }
    let row = (hours::hour_start.eq(hour), hours::bytes.eq(0i64));
    db::db_run!(conn, |c| diesel::insert_into(hours::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    let n = diesel::update(
        hours::table
            .filter(hours::hour_start.eq(hour))
            .filter(hours::bytes.le(cap - adding)),
    )
    .set(hours::bytes.eq(hours::bytes + adding))
    .execute(conn)?;
    Ok(n == 1)
}

/// Forgets the hours before `before` (they no longer limit anything).
pub fn forget_hours_before(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(hours::table.filter(hours::hour_start.lt(before))).execute(conn)
}
