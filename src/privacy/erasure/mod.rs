//! Erasure of personal data (issue #23): the rules of when (`rules.rs`, pure), what it does to
//! each table (`plan.rs`, pure, checked against the register), the erasure of one person in one
//! transaction (`store.rs`), the mails past their period (`expired.rs`), the daily job
//! (`job.rs`), and the pages: a person's request, the organism's legal holds and proof period
//! (`pages.rs`).

pub mod expired;
pub mod holds;
pub mod job;
pub mod pages;
pub mod plan;
pub mod request;
pub mod rules;
pub mod store;
