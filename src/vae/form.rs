//! Reading VAE forms, shared by the pages and the API: settings, fields, the multipart
//! upload with its CSRF token, the workflow step a staff form asks for.

use actix_multipart::Multipart;
use actix_web::HttpRequest;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use super::documents::{self, Upload};
use super::rules::Outcome;
use super::workflow::{Settings, Step};
use crate::web::csrf;
use crate::web::{AppResult, State};

/// What the workflow needs of the VAE configuration.
pub fn settings(state: &State) -> Settings {
    Settings {
        min_hours: state.config.vae.min_hours,
        livret2_months: state.config.vae.livret2_months,
    }
}

/// The first value of a form field, empty when absent.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// Every value of a repeated form field (checked boxes).
pub fn all<'a>(fields: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    fields
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// Reads a multipart form with the VAE limit (per file; `files` of them at most) and checks
/// its CSRF token.
pub async fn read_form(
    req: &HttpRequest,
    state: &State,
    payload: Multipart,
    files: u64,
) -> AppResult<Upload> {
    let limit = state.config.vae.max_upload_bytes;
    documents::check_length(req, limit, files)?;
    let up = documents::read(payload, &state.objects.uploads, limit, files as usize).await?;
    csrf::verify(req, up.get(csrf::FIELD))?;
    Ok(up)
}

/// A jury date typed as Paris local time, stored as naive UTC.
pub fn paris_to_utc(date: &str, time: &str) -> Option<NaiveDateTime> {
    let d = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").ok()?;
    let t = NaiveTime::parse_from_str(time.trim(), "%H:%M").ok()?;
    Some(crate::base::paris::paris_to_utc(d.and_time(t)))
}

/// The workflow step a staff form asks for.
pub fn step_of(fields: &[(String, String)]) -> Step {
    Step {
        note: field(fields, "note").to_string(),
        reasons: field(fields, "reasons").to_string(),
        jury_at: paris_to_utc(field(fields, "jury_date"), field(fields, "jury_time")),
        jury_place: field(fields, "jury_place").to_string(),
        outcome: Outcome::parse(field(fields, "outcome")),
        validated: all(fields, "validated")
            .into_iter()
            .map(str::to_string)
            .collect(),
        recommendations: field(fields, "recommendations").to_string(),
    }
}
