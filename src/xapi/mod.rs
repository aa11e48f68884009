//! xAPI export: an organism's distance activity, lessons completed, evaluation results and
//! completed paths as xAPI 1.0.3 statements, so that any LRS can load them.

pub mod api;
pub mod statements;
pub mod store;
