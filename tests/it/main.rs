//! Black-box tests: the real application over HTTP, on SQLite or PostgreSQL.

mod api_tokens;
mod attendance;
mod attestation;
mod cohorts;
mod common;
mod curriculum;
mod engagement;
mod evidence;
mod followup;
mod foundation;
mod instances;
mod mail;
mod matrix;
mod ops;
mod practices;
mod reporting;
mod schema;
mod security;
mod tracking;
mod vae;
mod xapi;
