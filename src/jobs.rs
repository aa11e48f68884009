//! Scheduled jobs, started by `startup` when `PARCOURS_JOBS` is on: expired sessions,
//! engagement nudges and digests, sign-in sheets left open, follow-up digests, the copies for
//! the CPAM not forwarded, the staff accounts left unused, the purge of unconfirmed VAE
//! requests, the daily erasure of personal data past its period, the bounce mailbox, the alerts
//! before a CQP deadline, the data exports asked for (built, then erased once expired). A
//! top-level module, as it calls into several domains.

use actix_web::web;

use crate::curriculum::Content;
use crate::mail::MailContext;
use crate::web::AppState;

/// Checks every minute whether a scheduled job is due; several instances may all run this.
pub async fn run_scheduler(state: web::Data<AppState>, content: web::Data<Content>) {
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
                let mc = MailContext {
                    templates: &st.mail_templates,
                    base_url: &st.config.base_url,
                };
                crate::accounts::sessions::purge_expired(c)?;
                crate::scorm::store::forget_expired(c)?;
                crate::accounts::email_change::purge(c, crate::db::now())?;
                crate::tracking::engagement::run_due(c, &mc, &inst, st.config.nudge_days)?;
                let now = crate::db::now();
                let closed = crate::tracking::attendance::close_overdue(
                    c,
                    now,
                    st.config.sheet_close_hours,
                )?;
                if closed > 0 {
                    tracing::info!(closed, "sign-in sheets left open closed by themselves");
                }
                crate::followup::digest::send_due(c, &mc, now)?;
                crate::certification::cpam_reminders::send_due(c, &mc, now)?;
                crate::followup::staff_digest::send_due(c, &mc, now)?;
                let months = st.config.retention.staff_inactive_months;
                let off = crate::accounts::store::disable_inactive_staff(c, now, months)?;
                if off > 0 {
                    tracing::info!(off, months, "staff accounts without a sign-in disabled");
                }
                Ok(())
            })
            .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "scheduled jobs");
        }
        deadline_alerts(&state, &content, &instance).await;
        erasure(&state, &instance).await;
        crate::privacy::export::run(state.clone()).await;
        if let Some(dir) = state.config.bounce_maildir.clone() {
            read_bounces(&state, dir).await;
        }
        let dir = state.objects.uploads.clone();
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

/// The alerts before CQP deadlines, apart: a failure there holds up no other job.
async fn deadline_alerts(
    state: &web::Data<AppState>,
    content: &web::Data<Content>,
    instance: &str,
) {
    let (st, content, inst) = (state.clone(), content.clone(), instance.to_string());
    let result = state
        .db(move |c| {
            let mc = MailContext {
                templates: &st.mail_templates,
                base_url: &st.config.base_url,
            };
            crate::certification::deadline_alerts::run_due(
                c,
                &mc,
                &content,
                &inst,
                crate::db::now(),
            )
        })
        .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "deadline alerts");
    }
}

/// The daily erasure of what has served its time, apart like the alerts.
async fn erasure(state: &web::Data<AppState>, instance: &str) {
    let (st, inst) = (state.clone(), instance.to_string());
    let result = state
        .db(move |c| {
            let key = crate::attestation::rules::derive_key(&st.config.secret);
            let settings = crate::privacy::Settings::from(st.config.retention);
            let uploads = &st.objects.uploads;
            crate::privacy::erasure::job::run_due(
                c,
                uploads,
                &key,
                &settings,
                &inst,
                crate::db::now(),
            )
        })
        .await;
    match result {
        Ok(Some(run)) => tracing::info!(?run, "daily erasure"),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "daily erasure"),
    }
}

/// Reads the bounce mailbox (`PARCOURS_BOUNCE_MAILDIR`); a bad file is counted, never fatal.
async fn read_bounces(state: &web::Data<AppState>, dir: std::path::PathBuf) {
    let read = state
        .db(move |c| {
            crate::mail::bounces::read_maildir(c, &dir).map_err(|e| {
                crate::web::AppError::Internal(anyhow::anyhow!("{}: {e}", dir.display()))
            })
        })
        .await;
    match read {
        Ok(r) if r.files > 0 => tracing::info!(
            files = r.files,
            bounces = r.bounces,
            other = r.other,
            malformed = r.malformed,
            "bounce mailbox read"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "bounce mailbox"),
    }
}
