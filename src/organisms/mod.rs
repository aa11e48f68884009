//! Training organisms and the identity numbers of establishments (SIRET, FINESS).
//!
//! Below `accounts` and `cohorts`, which both name an organism: this module imports no domain.

pub mod rules;
pub mod store;
