//! The ground floor: pure basics every other floor may use (French formats, Europe/Paris
//! dates, field errors and checks, PDF drawing). Imports std and external crates only: no
//! domain, no web framework, no database (the layer check in `tests/layers.rs` keeps it so).

pub mod field;
pub mod format;
pub mod paris;
pub mod pdf;
