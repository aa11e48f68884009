//! Hours: distance time from heartbeats, corrections, totals, pace and dashboards.

pub mod api;
pub mod attendance;
pub mod attendance_pages;
pub mod chart;
pub mod engagement;
pub mod pages;
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

/// Checks every minute whether a scheduled job is due; several instances may all run this.
pub async fn run_scheduler(state: actix_web::web::Data<crate::web::AppState>) {
    let instance = format!(
        "{}-{}",
        std::process::id(),
        crate::web::random_token(4).unwrap_or_default()
    );
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        let (st, inst) = (state.clone(), instance.clone());
        let result = state
            .db(move |c| {
                let mc = crate::mail::MailContext {
                    templates: &st.mail_templates,
                    base_url: &st.config.base_url,
                };
                crate::accounts::sessions::purge_expired(c)?;
                engagement::run_due(c, &mc, &inst, st.config.nudge_days)?;
                let now = crate::db::now();
                crate::followup::digest::send_due(c, &mc, now)?;
                crate::followup::staff_digest::send_due(c, &mc, now).map(|_| ())
            })
            .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "scheduled jobs");
        }
        let dir = state.config.vae.dir.clone();
        let purged = state
            .db(move |c| crate::vae::pending::purge(c, &dir, crate::db::now()))
            .await;
        match purged {
            Ok(p) if p.requests > 0 => tracing::info!(?p, "unconfirmed VAE requests purged"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "VAE purge"),
        }
    }
}
