//! Black-box tests: the real application over HTTP, on SQLite or PostgreSQL.

mod api_tokens;
mod attendance;
mod attestation;
mod calendar_feeds;
mod cohorts;
mod common;
mod curriculum;
mod engagement;
mod evidence;
mod followup;
mod foundation;
mod instances;
mod login_next;
mod mail;
mod matrix;
mod metrics_access;
mod ops;
mod practices;
mod reporting;
mod reset_limits;
mod schema;
mod scope_hiding;
mod security;
mod tracking;
mod vae;
mod xapi;
