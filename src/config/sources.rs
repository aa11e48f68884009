//! Where each setting is read: the environment first (a blank value counts as unset), then
//! the file, then the default.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::{ConfigError, bad};

/// The file form of the settings; every key is optional and the environment wins.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileConfig {
    pub(super) bind: Option<String>,
    pub(super) database_url: Option<String>,
    pub(super) data_dir: Option<String>,
    pub(super) base_url: Option<String>,
    pub(super) packages_url: Option<String>,
    pub(super) secret: Option<String>,
    pub(super) smtp_url: Option<String>,
    pub(super) mail_from: Option<String>,
    pub(super) templates_dir: Option<String>,
    pub(super) content_dir: Option<String>,
    pub(super) session_minutes: Option<i64>,
    pub(super) login_ip_per_minute: Option<u32>,
    pub(super) login_account_failures: Option<u32>,
    pub(super) pool_size: Option<u32>,
    pub(super) log_json: Option<bool>,
    pub(super) mail_retry_base_secs: Option<i64>,
    pub(super) mail_max_attempts: Option<i32>,
    pub(super) mail_poll_ms: Option<u64>,
    pub(super) mail_lease_secs: Option<i64>,
    pub(super) mail_worker: Option<bool>,
    pub(super) bounce_maildir: Option<String>,
    pub(super) beat_seconds: Option<i64>,
    pub(super) beat_cap_secs: Option<i64>,
    pub(super) idle_limit_secs: Option<i64>,
    pub(super) daily_max_hours: Option<i64>,
    pub(super) jobs: Option<bool>,
    pub(super) nudge_days: Option<i64>,
    pub(super) sheet_close_hours: Option<i64>,
    pub(super) verify_ip_per_minute: Option<u32>,
    pub(super) metrics_allow: Option<String>,
    pub(super) metrics_token: Option<String>,
    pub(super) vae_dir: Option<String>,
    pub(super) vae_max_upload_mb: Option<u64>,
    pub(super) vae_min_hours: Option<i64>,
    pub(super) vae_livret2_months: Option<u32>,
    pub(super) retention_proof_years: Option<u32>,
    pub(super) retention_staff_inactive_months: Option<u32>,
    pub(super) quota_organism_mb: Option<u64>,
    pub(super) quota_candidate_mb: Option<u64>,
    pub(super) quota_trainee_mb: Option<u64>,
    pub(super) vae_anonymous_mb_per_hour: Option<u64>,
    pub(super) trusted_proxies: Option<String>,
    pub(super) storage_url: Option<String>,
    pub(super) storage_endpoint: Option<String>,
    pub(super) storage_region: Option<String>,
    pub(super) storage_access_key: Option<String>,
    pub(super) storage_secret_key: Option<String>,
    pub(super) storage_path_style: Option<bool>,
}

/// The environment and the file, read once.
pub(super) struct Sources<'a> {
    env: &'a HashMap<String, String>,
    pub(super) file: FileConfig,
}

impl<'a> Sources<'a> {
    pub(super) fn read(
        env: &'a HashMap<String, String>,
        file: Option<&Path>,
    ) -> Result<Self, ConfigError> {
        let file: FileConfig = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    bad(
                        "PARCOURS_CONFIG",
                        format!("{} illisible : {e}", path.display()),
                    )
                })?;
                toml::from_str(&text)
                    .map_err(|e| bad("PARCOURS_CONFIG", format!("{} : {e}", path.display())))?
            }
            None => FileConfig::default(),
        };
        Ok(Sources { env, file })
    }

    /// The environment's value, unless blank.
    pub(super) fn get(&self, key: &str) -> Option<String> {
        self.env.get(key).filter(|v| !v.trim().is_empty()).cloned()
    }

    /// The environment's value, else the file's.
    pub(super) fn text(&self, key: &str, file: &Option<String>) -> Option<String> {
        self.get(key).or_else(|| file.clone())
    }

    /// A number named by its environment variable, else the file's, else the default.
    pub(super) fn number<T: std::str::FromStr>(
        &self,
        key: &'static str,
        file: Option<T>,
        default: T,
    ) -> Result<T, ConfigError> {
        number(key, self.get(key), file, default)
    }

    /// A yes/no setting, read the same way.
    pub(super) fn flag(
        &self,
        key: &'static str,
        file: Option<bool>,
        default: bool,
    ) -> Result<bool, ConfigError> {
        match self.get(key) {
            Some(v) => parse_bool(key, &v),
            None => Ok(file.unwrap_or(default)),
        }
    }
}

fn number<T: std::str::FromStr>(
    setting: &'static str,
    env: Option<String>,
    file: Option<T>,
    default: T,
) -> Result<T, ConfigError> {
    match env {
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| bad(setting, format!("« {v} » n'est pas un nombre valide"))),
        None => Ok(file.unwrap_or(default)),
    }
}

fn parse_bool(setting: &'static str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "oui" => Ok(true),
        "0" | "false" | "no" | "non" => Ok(false),
        _ => Err(bad(setting, format!("« {v} » : attendu true ou false"))),
    }
}
