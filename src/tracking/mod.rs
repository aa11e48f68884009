//! Hours: distance time from heartbeats, corrections, totals, pace and dashboards.

pub mod activity_pages;
pub mod activity_times;
pub mod api;
pub mod attendance;
pub mod attendance_pages;
pub mod chart;
pub mod engagement;
pub mod pages;
pub mod per_activity;
pub mod progress;
pub mod rules;
pub mod store;
pub mod writer;

pub fn credit_settings(config: &crate::config::AppConfig) -> rules::CreditSettings {
    rules::CreditSettings {
        beat_cap_secs: config.study.beat_cap_secs,
        idle_limit_secs: config.study.idle_limit_secs,
        daily_max_secs: config.study.daily_max_secs,
    }
}
