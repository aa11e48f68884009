//! Evidence for funders and inspectors: a trainee's pack for a period (certificate of
//! realisation, signed sign-in sheets, distance activity, evaluations, assignments handed in
//! and corrected, follow-up exchanges, a manifest that `sha256sum -c` checks), and each half-day's sign-in sheet as a PDF.

pub mod activities;
pub mod assignments;
pub mod cli;
pub mod distance;
pub mod evaluations;
pub mod exchanges;
pub mod export;
pub mod pack;
pub mod pages;
pub mod rules;
pub mod sheet_pdf;
pub mod store;
