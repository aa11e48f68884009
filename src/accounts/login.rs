//! Checking a login, shared by the login page and the API token endpoint: rate limits per
//! address and per account, argon2 check, audit of every success and failure.

use chrono::Duration;

use super::password;
use super::rules::{self, LOCKOUT_WINDOW_SECS};
use super::store::{self, User};
use crate::audit::{self, Event};
use crate::base::paris;
use crate::db;
use crate::web::{AppError, State};

#[derive(Debug)]
pub enum LoginError {
    TooManyFromAddress {
        retry_after: u64,
    },
    AccountLocked {
        retry_at: chrono::NaiveDateTime,
        retry_after: u64,
    },
    BadCredentials,
    Disabled,
}

impl LoginError {
    pub fn message(&self) -> String {
        match self {
            LoginError::TooManyFromAddress { retry_after } => format!(
                "Trop de tentatives de connexion depuis votre adresse. Réessayez dans {retry_after} secondes."
            ),
            LoginError::AccountLocked {
                retry_at,
                retry_after,
            } => format!(
                "Trop de tentatives échouées pour ce compte. Réessayez à partir de {} (dans {} secondes).",
                paris::to_paris(*retry_at).format("%H h %M min %S s"),
                retry_after
            ),
            LoginError::BadCredentials => "Adresse e-mail ou mot de passe incorrect.".into(),
            LoginError::Disabled => {
                "Ce compte est désactivé. Contactez votre organisme de formation.".into()
            }
        }
    }
}

impl From<LoginError> for AppError {
    fn from(e: LoginError) -> AppError {
        match &e {
            LoginError::TooManyFromAddress { retry_after }
            | LoginError::AccountLocked { retry_after, .. } => AppError::TooManyRequests {
                message: e.message(),
                retry_after: *retry_after,
            },
            LoginError::BadCredentials => AppError::Unauthenticated,
            LoginError::Disabled => AppError::Forbidden(e.message()),
        }
    }
}

pub async fn authenticate(
    state: &State,
    raw_email: &str,
    password: String,
    ip: std::net::IpAddr,
) -> Result<Result<User, LoginError>, AppError> {
    if let Err(retry_after) = state.check_ip(ip) {
        return Ok(Err(LoginError::TooManyFromAddress { retry_after }));
    }
    let email = crate::base::field::normalize_email(raw_email)
        .unwrap_or_else(|_| raw_email.trim().to_lowercase());
    let max = state.config.login_account_failures;
    state
        .db(move |conn| {
            let now = db::now();
            let failures =
                store::failures_since(conn, &email, now - Duration::seconds(LOCKOUT_WINDOW_SECS))?;
            if let Some(retry_at) = rules::lockout_until(&failures, now, max) {
                audit::record(
                    conn,
                    Event::new("login_blocked", "account", None)
                        .key(email.clone())
                        .from_ip(ip),
                )?;
                let retry_after = (retry_at - now).num_seconds().max(1) as u64;
                return Ok(Err(LoginError::AccountLocked {
                    retry_at,
                    retry_after,
                }));
            }
            let user = store::by_email(conn, &email)?;
            let ok = match user.as_ref().and_then(|u| u.password_hash.as_deref()) {
                Some(hash) => password::verify(&password, hash),
                None => {
                    password::burn_time(&password);
                    false
                }
            };
            match user {
                Some(user) if ok && !user.disabled => {
                    db::transaction(conn, |conn| store::mark_login(conn, &user, &ip.to_string()))?;
                    Ok(Ok(user))
                }
                Some(user) if ok => {
                    audit::record(
                        conn,
                        Event::new("login_refused_disabled", "user", Some(user.id))
                            .key(email.clone())
                            .from_ip(ip),
                    )?;
                    Ok(Err(LoginError::Disabled))
                }
                user => {
                    audit::record(
                        conn,
                        Event::new("login_failed", "account", user.as_ref().map(|u| u.id))
                            .in_organism(user.as_ref().and_then(|u| u.organism_id))
                            .key(email.clone())
                            .from_ip(ip),
                    )?;
                    Ok(Err(LoginError::BadCredentials))
                }
            }
        })
        .await
}
