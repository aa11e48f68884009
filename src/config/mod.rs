//! Configuration, read once from `PARCOURS_*` variables and an optional `parcours.toml`,
//! then passed around: no globals, so a test can start an app with its own settings.

mod files;
mod ip_net;
mod secret;
mod sections;
mod smtp;
mod sources;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub use files::{FileStore, S3Settings, parse_s3_url};
pub use ip_net::IpNet;
pub use smtp::{SmtpSettings, SmtpTls, parse_smtp_url};

/// A setting that could not be used, named so the operator knows what to fix.
#[derive(Debug, thiserror::Error)]
#[error("réglage {setting} invalide : {message}")]
pub struct ConfigError {
    pub setting: &'static str,
    pub message: String,
}

fn bad(setting: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        message: message.into(),
    }
}

#[derive(Clone)]
pub struct AppConfig {
    pub bind: SocketAddr,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub base_url: String,
    /// The separate origin packages are played from (`None`: packages cannot be played).
    pub packages_url: Option<String>,
    pub secret: Vec<u8>,
    pub smtp: Option<SmtpSettings>,
    pub mail_from: String,
    pub templates_dir: PathBuf,
    pub content_dir: PathBuf,
    pub session_minutes: i64,
    pub login_ip_per_minute: u32,
    pub login_account_failures: u32,
    pub pool_size: u32,
    pub log_json: bool,
    pub mail: MailSettings,
    /// Whether this instance runs the outbox worker (every instance may; they never collide).
    pub mail_worker: bool,
    /// A Maildir the scheduled jobs read for bounces (delivery-status notifications).
    pub bounce_maildir: Option<PathBuf>,
    pub study: StudySettings,
    /// Whether this instance runs the scheduled jobs (digests, nudges); safe on every instance.
    pub jobs: bool,
    pub nudge_days: i64,
    /// Hours after a half-day ends at which its sign-in sheet, if still open, closes by itself.
    pub sheet_close_hours: i64,
    /// Public verification page: look-ups allowed per minute from one address.
    pub verify_ip_per_minute: u32,
    /// Client addresses or networks that may read `/metrics` (loopback by default).
    pub metrics_allow: Vec<IpNet>,
    /// A bearer token that opens `/metrics` from anywhere.
    pub metrics_token: Option<String>,
    pub vae: VaeSettings,
    /// How long personal data is kept (see `privacy::rules`).
    pub retention: RetentionSettings,
    pub storage: StorageSettings,
    /// Where every kept file is (see `crate::objects`).
    pub files: FileStore,
    /// Reverse proxies whose `X-Forwarded-For` is believed (the per-address limits would
    /// otherwise see one address: the proxy's).
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// VAE files (see `vae::rules`).
#[derive(Clone, Debug)]
pub struct VaeSettings {
    /// Where uploaded documents are kept, named by their SHA-256 (outside templates/static).
    pub dir: PathBuf,
    pub max_upload_bytes: u64,
    /// Experience below this many hours gives a warning (0: no warning).
    pub min_hours: i64,
    /// Months the candidate has to send the livret 2 after the recevabilité.
    pub livret2_months: u32,
}

/// The configurable lengths of the retention table (`privacy::rules::RULES`).
#[derive(Clone, Copy, Debug)]
pub struct RetentionSettings {
    /// Years the proofs of a training are kept after its end (`PARCOURS_RETENTION_PROOF_YEARS`).
    pub proof_years: u32,
    /// Months without a sign-in after which a staff account is to be disabled.
    pub staff_inactive_months: u32,
}

/// How much uploaded files (VAE documents, follow-up attachments) may take, in bytes.
#[derive(Clone, Copy, Debug)]
pub struct StorageSettings {
    /// Everything kept for one organism: its VAE files (pending ones too) and follow-up.
    pub organism_quota: u64,
    /// A VAE candidate's documents, over all their requests.
    pub candidate_quota: u64,
    /// The attachments of a trainee's follow-up threads.
    pub trainee_quota: u64,
    /// Bytes accepted from anonymous VAE requests per clock hour, all instances together.
    pub anonymous_per_hour: u64,
}

/// Distance-time crediting (see `tracking::rules`).
#[derive(Clone, Copy, Debug)]
pub struct StudySettings {
    /// How often an open, used page sends a heartbeat.
    pub beat_seconds: i64,
    pub beat_cap_secs: i64,
    pub idle_limit_secs: i64,
    pub daily_max_secs: i64,
}

/// How the outbox worker retries.
#[derive(Clone, Debug)]
pub struct MailSettings {
    /// First retry delay; doubles at each attempt, capped at six hours.
    pub retry_base_secs: i64,
    pub max_attempts: i32,
    pub poll_ms: u64,
    /// How long a claimed message stays reserved to an instance that may have died.
    pub lease_secs: i64,
}

impl std::fmt::Debug for AppConfig {
    // The secret and SMTP password never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppConfig")
            .field("bind", &self.bind)
            .field("database_url", &redact_url(&self.database_url))
            .field("data_dir", &self.data_dir)
            .field("base_url", &self.base_url)
            .field("packages_url", &self.packages_url)
            .field("smtp", &self.smtp.as_ref().map(|s| (&s.host, s.port)))
            .finish_non_exhaustive()
    }
}

fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => raw.to_string(),
    }
}

impl AppConfig {
    /// Reads the process environment and `parcours.toml` (or the file named by `PARCOURS_CONFIG`).
    pub fn load() -> Result<Self, ConfigError> {
        let (env, file) = process_sources();
        Self::from_sources(&env, file.as_deref())
    }

    /// The S3 store `url` names, with the other `PARCOURS_STORAGE_*` settings of the process
    /// environment and file: where `parcours storage migrate --to URL` copies the files.
    pub fn load_s3_destination(url: &str) -> Result<S3Settings, ConfigError> {
        let (env, file) = process_sources();
        Self::s3_destination_from(&env, file.as_deref(), url)
    }

    /// `load_s3_destination` from explicit sources.
    pub fn s3_destination_from(
        env: &HashMap<String, String>,
        file: Option<&Path>,
        url: &str,
    ) -> Result<S3Settings, ConfigError> {
        let src = sources::Sources::read(env, file)?;
        files::s3_settings(&src, url, "--to")
    }

    /// Builds the configuration from explicit sources, so tests need not touch the process.
    pub fn from_sources(
        env: &HashMap<String, String>,
        file: Option<&Path>,
    ) -> Result<Self, ConfigError> {
        let src = sources::Sources::read(env, file)?;
        let server = sections::server(&src)?;
        let vae = sections::vae(&src, &server.data_dir)?;
        let files = files::file_store(&src, &server.data_dir, &vae.dir)?;
        if matches!(files, FileStore::S3(_))
            && src.get("PARCOURS_SECRET").is_none()
            && src.file.secret.is_none()
        {
            // Instances that share no disk cannot share a generated secret.
            return Err(bad(
                "PARCOURS_SECRET",
                "obligatoire avec PARCOURS_STORAGE_URL : les instances ne partagent pas de disque, \
                 donnez-leur le même secret (32 caractères au moins)",
            ));
        }
        let secret = sections::secret(&src, &server.data_dir)?;
        let (smtp, mail_from) = sections::smtp(&src)?;
        let (templates_dir, content_dir) = sections::dirs(&src);
        let login = sections::login(&src)?;
        let (pool_size, log_json) = sections::process(&src)?;
        let (mail, mail_worker) = sections::outbox(&src)?;
        let bounce_maildir = sections::bounce_maildir(&src);
        let study = sections::study(&src)?;
        let (jobs, nudge_days, sheet_close_hours) = sections::jobs(&src)?;
        let verify_ip_per_minute = sections::verify_ip_per_minute(&src)?;
        let (metrics_allow, metrics_token) = sections::metrics(&src)?;
        let storage = sections::storage(&src)?;
        let retention = sections::retention(&src)?;
        let trusted_proxies = sections::trusted_proxies(&src)?;
        Ok(AppConfig {
            trusted_proxies,
            vae,
            retention,
            storage,
            files,
            jobs,
            nudge_days,
            sheet_close_hours,
            verify_ip_per_minute,
            metrics_allow,
            metrics_token,
            study,
            mail_worker,
            bounce_maildir,
            mail,
            bind: server.bind,
            database_url: server.database_url,
            data_dir: server.data_dir,
            base_url: server.base_url,
            packages_url: server.packages_url,
            secret,
            smtp,
            mail_from,
            templates_dir,
            content_dir,
            session_minutes: login.session_minutes,
            login_ip_per_minute: login.ip_per_minute,
            login_account_failures: login.account_failures,
            pool_size,
            log_json,
        })
    }
}

/// The process environment and the settings file, if any.
fn process_sources() -> (HashMap<String, String>, Option<PathBuf>) {
    let env: HashMap<String, String> = std::env::vars().collect();
    let file = match env.get("PARCOURS_CONFIG") {
        Some(p) => Some(PathBuf::from(p)),
        None => Some(PathBuf::from("parcours.toml")).filter(|p| p.exists()),
    };
    (env, file)
}

/// `u` with `port` in place of a port 0.
fn with_port(u: &str, port: u16) -> String {
    match url::Url::parse(u) {
        Ok(mut parsed) if parsed.port() == Some(0) => {
            let _ = parsed.set_port(Some(port));
            parsed.as_str().trim_end_matches('/').to_string()
        }
        _ => u.to_string(),
    }
}

impl AppConfig {
    /// Listening on port 0 (tests), the addresses derived from the bind address get the port
    /// really bound.
    pub fn with_bound_port(&mut self, port: u16) {
        if self.bind.port() != 0 {
            return;
        }
        self.base_url = with_port(&self.base_url, port);
        self.packages_url = self.packages_url.as_deref().map(|u| with_port(u, port));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let mut m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        m.entry("PARCOURS_SECRET".into())
            .or_insert_with(|| "x".repeat(40));
        m
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = AppConfig::from_sources(&env(&[]), None).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url, "sqlite://data/parcours.db");
        assert_eq!(c.base_url, "http://127.0.0.1:8080");
        assert!(c.smtp.is_none());
        assert_eq!(c.storage.organism_quota, 5120 * 1024 * 1024);
        assert_eq!(c.storage.candidate_quota, 100 * 1024 * 1024);
        assert_eq!(c.storage.trainee_quota, 100 * 1024 * 1024);
        assert_eq!(c.storage.anonymous_per_hour, 200 * 1024 * 1024);
        assert_eq!(c.sheet_close_hours, 24);
        assert_eq!(c.retention.proof_years, 6);
        assert_eq!(c.retention.staff_inactive_months, 12);
        assert_eq!(c.bounce_maildir, None);
        let c = AppConfig::from_sources(&env(&[("PARCOURS_BOUNCE_MAILDIR", "/srv/rebonds")]), None)
            .unwrap();
        assert_eq!(c.bounce_maildir, Some(PathBuf::from("/srv/rebonds")));
    }

    #[test]
    fn a_wrong_value_names_its_setting() {
        for (key, value) in [
            ("PARCOURS_BIND", "nowhere"),
            ("DATABASE_URL", "mysql://x"),
            ("DATABASE_URL", "sqlite://:memory:"),
            ("PARCOURS_BASE_URL", "ftp://x"),
            ("PARCOURS_SECRET", "short"),
            ("PARCOURS_SMTP_URL", "http://x"),
            ("PARCOURS_SESSION_MINUTES", "abc"),
            ("PARCOURS_QUOTA_ORGANISM_MB", "0"),
            ("PARCOURS_QUOTA_TRAINEE_MB", "beaucoup"),
            ("PARCOURS_VAE_ANONYMOUS_MB_PER_HOUR", "0"),
            ("PARCOURS_SHEET_CLOSE_HOURS", "0"),
            ("PARCOURS_SHEET_CLOSE_HOURS", "demain"),
            ("PARCOURS_RETENTION_PROOF_YEARS", "0"),
            ("PARCOURS_RETENTION_PROOF_YEARS", "six"),
            ("PARCOURS_RETENTION_STAFF_INACTIVE_MONTHS", "61"),
        ] {
            let err = AppConfig::from_sources(&env(&[(key, value)]), None).unwrap_err();
            assert_eq!(err.setting, key, "{key}={value}: {err}");
        }
    }

    #[test]
    fn file_values_apply_and_environment_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("parcours.toml");
        std::fs::write(&path, "bind = \"127.0.0.1:9000\"\npool_size = 3\n").unwrap();
        let c = AppConfig::from_sources(&env(&[]), Some(&path)).unwrap();
        assert_eq!(c.bind.port(), 9000);
        assert_eq!(c.pool_size, 3);
        let c = AppConfig::from_sources(&env(&[("PARCOURS_BIND", "127.0.0.1:9100")]), Some(&path))
            .unwrap();
        assert_eq!(c.bind.port(), 9100);
        std::fs::write(&path, "unknown_key = 1\n").unwrap();
        let err = AppConfig::from_sources(&env(&[]), Some(&path)).unwrap_err();
        assert_eq!(err.setting, "PARCOURS_CONFIG");
    }

    #[test]
    fn generated_secret_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut e = HashMap::new();
        e.insert(
            "PARCOURS_DATA_DIR".to_string(),
            dir.path().to_string_lossy().to_string(),
        );
        let a = AppConfig::from_sources(&e, None).unwrap();
        let b = AppConfig::from_sources(&e, None).unwrap();
        assert_eq!(a.secret, b.secret);
        assert!(a.secret.len() >= 32);
    }
}
