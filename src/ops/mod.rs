//! Running the product: request ids and structured request logs, Prometheus metrics, health
//! and readiness probes, backups, moving and checking the kept files.

pub mod backup;
pub mod files;
pub mod health;
pub mod metrics;
pub mod observe;
