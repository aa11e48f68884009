//! Training organisms, and later their cohorts, calendars and trainees.

pub mod access;
pub mod api;
pub mod calendar;
mod closure_pages;
pub mod cohort_pages;
pub mod doctors;
pub mod employers;
pub mod end_pages;
pub mod enrolment;
pub mod feeds;
pub mod import;
pub mod new_cohort;
pub mod pages;
pub mod rules;
pub mod store;
pub mod suspension;
pub mod trainee_pages;
pub mod version;
