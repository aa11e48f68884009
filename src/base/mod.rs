//! The ground floor: pure basics every other floor may use (French formats, Europe/Paris
//! dates, public holidays, field errors and checks, PDF drawing). Imports std and external
//! crates only: no domain, no web framework, no database (`tests/layers.rs` keeps it so).

pub mod digest;
pub mod field;
pub mod format;
pub mod holidays;
pub mod media;
pub mod paris;
pub mod pdf;
