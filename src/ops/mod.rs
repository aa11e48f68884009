//! Running the product: request ids and structured request logs, Prometheus metrics, health
//! and readiness probes, backups.

pub mod backup;
pub mod health;
pub mod metrics;
pub mod observe;
