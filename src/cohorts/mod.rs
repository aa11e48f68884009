//! Training organisms, and later their cohorts, calendars and trainees.

pub mod pages;
pub mod rules;
pub mod store;
