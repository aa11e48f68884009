//! Configuration, read once from `PARCOURS_*` variables and an optional `parcours.toml`,
//! then passed around: no globals, so a test can start an app with its own settings.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::Deserialize;

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    None,
    StartTls,
    Tls,
}

#[derive(Clone, Debug)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub user: Option<String>,
    pub password: Option<String>,
}

#[derive(Clone)]
pub struct AppConfig {
    pub bind: SocketAddr,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub base_url: String,
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
    pub study: StudySettings,
    /// Whether this instance runs the scheduled jobs (digests, nudges); safe on every instance.
    pub jobs: bool,
    pub nudge_days: i64,
    /// Public verification page: look-ups allowed per minute from one address.
    pub verify_ip_per_minute: u32,
    /// Client addresses or networks that may read `/metrics` (loopback by default).
    pub metrics_allow: Vec<IpNet>,
    /// A bearer token that opens `/metrics` from anywhere.
    pub metrics_token: Option<String>,
    pub vae: VaeSettings,
    pub storage: StorageSettings,
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

/// The file form of the settings; every key is optional and the environment wins.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    bind: Option<String>,
    database_url: Option<String>,
    data_dir: Option<String>,
    base_url: Option<String>,
    secret: Option<String>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    templates_dir: Option<String>,
    content_dir: Option<String>,
    session_minutes: Option<i64>,
    login_ip_per_minute: Option<u32>,
    login_account_failures: Option<u32>,
    pool_size: Option<u32>,
    log_json: Option<bool>,
    mail_retry_base_secs: Option<i64>,
    mail_max_attempts: Option<i32>,
    mail_poll_ms: Option<u64>,
    mail_lease_secs: Option<i64>,
    mail_worker: Option<bool>,
    beat_seconds: Option<i64>,
    beat_cap_secs: Option<i64>,
    idle_limit_secs: Option<i64>,
    daily_max_hours: Option<i64>,
    jobs: Option<bool>,
    nudge_days: Option<i64>,
    verify_ip_per_minute: Option<u32>,
    metrics_allow: Option<String>,
    metrics_token: Option<String>,
    vae_dir: Option<String>,
    vae_max_upload_mb: Option<u64>,
    vae_min_hours: Option<i64>,
    vae_livret2_months: Option<u32>,
    quota_organism_mb: Option<u64>,
    quota_candidate_mb: Option<u64>,
    quota_trainee_mb: Option<u64>,
    vae_anonymous_mb_per_hour: Option<u64>,
    trusted_proxies: Option<String>,
}

impl AppConfig {
    /// Reads the process environment and `parcours.toml` (or the file named by `PARCOURS_CONFIG`).
    pub fn load() -> Result<Self, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        let file = match env.get("PARCOURS_CONFIG") {
            Some(p) => Some(PathBuf::from(p)),
            None => Some(PathBuf::from("parcours.toml")).filter(|p| p.exists()),
        };
        Self::from_sources(&env, file.as_deref())
    }

    /// Builds the configuration from explicit sources, so tests need not touch the process.
    pub fn from_sources(
        env: &HashMap<String, String>,
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
        let get = |key: &str| env.get(key).filter(|v| !v.trim().is_empty()).cloned();

        let bind_raw = get("PARCOURS_BIND")
            .or(file.bind)
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let bind: SocketAddr = bind_raw.parse().map_err(|_| {
            bad(
                "PARCOURS_BIND",
                format!("« {bind_raw} » n'est pas une adresse IP:port (ex. 127.0.0.1:8080)"),
            )
        })?;

        let data_dir = PathBuf::from(
            get("PARCOURS_DATA_DIR")
                .or(file.data_dir)
                .unwrap_or_else(|| "data".into()),
        );

        let database_url = get("DATABASE_URL")
            .or(file.database_url)
            .unwrap_or_else(|| "sqlite://data/parcours.db".into());
        check_database_url(&database_url)?;

        let base_url = get("PARCOURS_BASE_URL")
            .or(file.base_url)
            .unwrap_or_else(|| format!("http://{bind}"));
        let parsed = url::Url::parse(&base_url).map_err(|e| {
            bad(
                "PARCOURS_BASE_URL",
                format!("« {base_url} » n'est pas une URL : {e}"),
            )
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad(
                "PARCOURS_BASE_URL",
                "l'URL doit commencer par http:// ou https://",
            ));
        }
        let base_url = base_url.trim_end_matches('/').to_string();

        let secret = match get("PARCOURS_SECRET").or(file.secret) {
            Some(s) if s.len() < 32 => {
                return Err(bad(
                    "PARCOURS_SECRET",
                    "au moins 32 caractères sont nécessaires",
                ));
            }
            Some(s) => s.into_bytes(),
            None => load_or_create_secret(&data_dir)?,
        };

        let smtp = match get("PARCOURS_SMTP_URL").or(file.smtp_url) {
            Some(raw) => Some(parse_smtp_url(&raw)?),
            None => None,
        };
        let mail_from = get("PARCOURS_MAIL_FROM")
            .or(file.mail_from)
            .unwrap_or_else(|| "Parcours <no-reply@parcours.local>".into());
        if !mail_from.contains('@') || mail_from.contains(['\r', '\n']) {
            return Err(bad("PARCOURS_MAIL_FROM", "adresse d'expéditeur invalide"));
        }

        let templates_dir = PathBuf::from(
            get("PARCOURS_TEMPLATES_DIR")
                .or(file.templates_dir)
                .unwrap_or_else(|| "templates".into()),
        );
        let content_dir = PathBuf::from(
            get("PARCOURS_CONTENT_DIR")
                .or(file.content_dir)
                .unwrap_or_else(|| "content".into()),
        );

        let session_minutes = number(
            "PARCOURS_SESSION_MINUTES",
            get("PARCOURS_SESSION_MINUTES"),
            file.session_minutes,
            30,
        )?;
        if !(1..=24 * 60).contains(&session_minutes) {
            return Err(bad("PARCOURS_SESSION_MINUTES", "entre 1 et 1440 minutes"));
        }
        let login_ip_per_minute = number(
            "PARCOURS_LOGIN_IP_PER_MINUTE",
            get("PARCOURS_LOGIN_IP_PER_MINUTE"),
            file.login_ip_per_minute,
            60,
        )?;
        let login_account_failures = number(
            "PARCOURS_LOGIN_ACCOUNT_FAILURES",
            get("PARCOURS_LOGIN_ACCOUNT_FAILURES"),
            file.login_account_failures,
            10,
        )?;
        if login_ip_per_minute == 0 || login_account_failures == 0 {
            return Err(bad(
                "PARCOURS_LOGIN_IP_PER_MINUTE",
                "doit être supérieur à 0",
            ));
        }
        let pool_size = number(
            "PARCOURS_DB_POOL",
            get("PARCOURS_DB_POOL"),
            file.pool_size,
            8,
        )?;
        if !(1..=200).contains(&pool_size) {
            return Err(bad("PARCOURS_DB_POOL", "entre 1 et 200 connexions"));
        }
        let log_json = match get("PARCOURS_LOG_JSON") {
            Some(v) => parse_bool("PARCOURS_LOG_JSON", &v)?,
            None => file.log_json.unwrap_or(false),
        };

        let mail = MailSettings {
            retry_base_secs: number(
                "PARCOURS_MAIL_RETRY_BASE_SECS",
                get("PARCOURS_MAIL_RETRY_BASE_SECS"),
                file.mail_retry_base_secs,
                60,
            )?,
            max_attempts: number(
                "PARCOURS_MAIL_MAX_ATTEMPTS",
                get("PARCOURS_MAIL_MAX_ATTEMPTS"),
                file.mail_max_attempts,
                10,
            )?,
            poll_ms: number(
                "PARCOURS_MAIL_POLL_MS",
                get("PARCOURS_MAIL_POLL_MS"),
                file.mail_poll_ms,
                2000,
            )?,
            lease_secs: number(
                "PARCOURS_MAIL_LEASE_SECS",
                get("PARCOURS_MAIL_LEASE_SECS"),
                file.mail_lease_secs,
                300,
            )?,
        };
        if mail.retry_base_secs < 1
            || mail.max_attempts < 1
            || mail.poll_ms < 10
            || mail.lease_secs < 5
        {
            return Err(bad(
                "PARCOURS_MAIL_RETRY_BASE_SECS",
                "les réglages de l'envoi de courriels doivent être positifs",
            ));
        }

        let mail_worker = match get("PARCOURS_MAIL_WORKER") {
            Some(v) => parse_bool("PARCOURS_MAIL_WORKER", &v)?,
            None => file.mail_worker.unwrap_or(true),
        };

        let beat_seconds = number(
            "PARCOURS_BEAT_SECONDS",
            get("PARCOURS_BEAT_SECONDS"),
            file.beat_seconds,
            30,
        )?;
        let study = StudySettings {
            beat_seconds,
            beat_cap_secs: number(
                "PARCOURS_BEAT_CAP_SECS",
                get("PARCOURS_BEAT_CAP_SECS"),
                file.beat_cap_secs,
                beat_seconds * 3 / 2,
            )?,
            idle_limit_secs: number(
                "PARCOURS_IDLE_LIMIT_SECS",
                get("PARCOURS_IDLE_LIMIT_SECS"),
                file.idle_limit_secs,
                beat_seconds * 3,
            )?,
            daily_max_secs: number(
                "PARCOURS_DAILY_MAX_HOURS",
                get("PARCOURS_DAILY_MAX_HOURS"),
                file.daily_max_hours,
                8,
            )? * 3600,
        };
        if !(1..=300).contains(&study.beat_seconds)
            || study.beat_cap_secs < 1
            || study.idle_limit_secs < study.beat_cap_secs
            || !(3600..=24 * 3600).contains(&study.daily_max_secs)
        {
            return Err(bad(
                "PARCOURS_BEAT_SECONDS",
                "réglages du temps à distance incohérents (battement 1 à 300 s, limite d'inactivité au moins égale au plafond, 1 à 24 h par jour)",
            ));
        }

        let jobs = match get("PARCOURS_JOBS") {
            Some(v) => parse_bool("PARCOURS_JOBS", &v)?,
            None => file.jobs.unwrap_or(true),
        };
        let nudge_days = number(
            "PARCOURS_NUDGE_DAYS",
            get("PARCOURS_NUDGE_DAYS"),
            file.nudge_days,
            10,
        )?;
        if !(1..=90).contains(&nudge_days) {
            return Err(bad("PARCOURS_NUDGE_DAYS", "entre 1 et 90 jours"));
        }
        let verify_ip_per_minute = number(
            "PARCOURS_VERIFY_IP_PER_MINUTE",
            get("PARCOURS_VERIFY_IP_PER_MINUTE"),
            file.verify_ip_per_minute,
            30,
        )?;
        if verify_ip_per_minute == 0 {
            return Err(bad(
                "PARCOURS_VERIFY_IP_PER_MINUTE",
                "doit être supérieur à 0",
            ));
        }
        let metrics_allow = parse_metrics_allow(
            get("PARCOURS_METRICS_ALLOW")
                .or(file.metrics_allow)
                .as_deref()
                .unwrap_or("127.0.0.0/8,::1"),
        )?;
        let metrics_token = get("PARCOURS_METRICS_TOKEN").or(file.metrics_token);
        if let Some(t) = &metrics_token
            && (t.len() < 16 || !t.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(bad(
                "PARCOURS_METRICS_TOKEN",
                "au moins 16 caractères, sans espace ni accent",
            ));
        }
        let vae = VaeSettings {
            dir: get("PARCOURS_VAE_DIR")
                .or(file.vae_dir)
                .map(PathBuf::from)
                .unwrap_or_else(|| data_dir.join("vae")),
            max_upload_bytes: number(
                "PARCOURS_VAE_MAX_UPLOAD_MB",
                get("PARCOURS_VAE_MAX_UPLOAD_MB"),
                file.vae_max_upload_mb,
                10,
            )?
            .saturating_mul(1024 * 1024),
            min_hours: number(
                "PARCOURS_VAE_MIN_HOURS",
                get("PARCOURS_VAE_MIN_HOURS"),
                file.vae_min_hours,
                1607,
            )?,
            livret2_months: number(
                "PARCOURS_VAE_LIVRET2_MONTHS",
                get("PARCOURS_VAE_LIVRET2_MONTHS"),
                file.vae_livret2_months,
                12,
            )?,
        };
        if !(1..=100 * 1024 * 1024).contains(&vae.max_upload_bytes) {
            return Err(bad("PARCOURS_VAE_MAX_UPLOAD_MB", "entre 1 et 100 Mo"));
        }
        if vae.min_hours < 0 {
            return Err(bad("PARCOURS_VAE_MIN_HOURS", "ne peut pas être négatif"));
        }
        if !(1..=60).contains(&vae.livret2_months) {
            return Err(bad("PARCOURS_VAE_LIVRET2_MONTHS", "entre 1 et 60 mois"));
        }

        let megabytes = |setting: &'static str, file: Option<u64>, default: u64| {
            let mb = number(setting, get(setting), file, default)?;
            if !(1..=100 * 1024 * 1024).contains(&mb) {
                return Err(bad(setting, "entre 1 Mo et 100 To"));
            }
            Ok(mb * 1024 * 1024)
        };
        let storage = StorageSettings {
            organism_quota: megabytes("PARCOURS_QUOTA_ORGANISM_MB", file.quota_organism_mb, 5120)?,
            candidate_quota: megabytes(
                "PARCOURS_QUOTA_CANDIDATE_MB",
                file.quota_candidate_mb,
                100,
            )?,
            trainee_quota: megabytes("PARCOURS_QUOTA_TRAINEE_MB", file.quota_trainee_mb, 100)?,
            anonymous_per_hour: megabytes(
                "PARCOURS_VAE_ANONYMOUS_MB_PER_HOUR",
                file.vae_anonymous_mb_per_hour,
                200,
            )?,
        };

        let trusted_proxies = get("PARCOURS_TRUSTED_PROXIES")
            .or(file.trusted_proxies)
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse().map_err(|_| {
                    bad(
                        "PARCOURS_TRUSTED_PROXIES",
                        format!("« {s} » n'est pas une adresse IP"),
                    )
                })
            })
            .collect::<Result<Vec<std::net::IpAddr>, _>>()?;

        Ok(AppConfig {
            trusted_proxies,
            vae,
            storage,
            jobs,
            nudge_days,
            verify_ip_per_minute,
            metrics_allow,
            metrics_token,
            study,
            mail_worker,
            mail,
            bind,
            database_url,
            data_dir,
            base_url,
            secret,
            smtp,
            mail_from,
            templates_dir,
            content_dir,
            session_minutes,
            login_ip_per_minute,
            login_account_failures,
            pool_size,
            log_json,
        })
    }
}

/// `none`, or addresses and networks separated by commas.
fn parse_metrics_allow(raw: &str) -> Result<Vec<IpNet>, ConfigError> {
    if raw.trim().eq_ignore_ascii_case("none") {
        return Ok(vec![]);
    }
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            IpNet::parse(s).ok_or_else(|| {
                bad(
                    "PARCOURS_METRICS_ALLOW",
                    format!("« {s} » n'est ni une adresse IP ni un réseau (ex. 10.0.0.0/8)"),
                )
            })
        })
        .collect()
}

/// An address or a network in CIDR notation (`10.0.0.0/8`, `::1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u32,
}

impl IpNet {
    pub fn parse(raw: &str) -> Option<IpNet> {
        let (addr, prefix) = match raw.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (raw, None),
        };
        let addr: IpAddr = addr.trim().parse().ok()?;
        let width = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.trim().parse().ok().filter(|p| *p <= width)?,
            None => width,
        };
        Some(IpNet { addr, prefix })
    }

    /// IPv4 clients seen through an IPv6 socket (`::ffff:a.b.c.d`) count as IPv4.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (net, ip, width) = match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(n), IpAddr::V4(a)) => (u32::from(n) as u128, u32::from(a) as u128, 32),
            (IpAddr::V6(n), IpAddr::V6(a)) => (u128::from(n), u128::from(a), 128),
            _ => return false,
        };
        let shift = width - self.prefix;
        net.checked_shr(shift).unwrap_or(0) == ip.checked_shr(shift).unwrap_or(0)
    }
}

#[cfg(test)]
mod ip_net_tests {
    use super::*;

    #[test]
    fn networks_contain_their_addresses_only() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let net = |s: &str| IpNet::parse(s).unwrap();
        assert!(net("127.0.0.0/8").contains(ip("127.8.9.1")));
        assert!(net("127.0.0.0/8").contains(ip("::ffff:127.0.0.1")));
        assert!(!net("127.0.0.0/8").contains(ip("128.0.0.1")));
        assert!(!net("127.0.0.0/8").contains(ip("::1")));
        assert!(net("::1").contains(ip("::1")));
        assert!(!net("::1").contains(ip("::2")));
        assert!(net("10.1.2.3").contains(ip("10.1.2.3")));
        assert!(!net("10.1.2.3").contains(ip("10.1.2.4")));
        assert!(net("0.0.0.0/0").contains(ip("203.0.113.7")));
        assert!(net("2001:db8::/32").contains(ip("2001:db8:1::5")));
        assert!(!net("2001:db8::/32").contains(ip("2001:db9::5")));
        for wrong in [
            "",
            "10.0.0.0/33",
            "::/129",
            "10.0.0/8",
            "10.0.0.0/",
            "exemple.fr",
        ] {
            assert_eq!(IpNet::parse(wrong), None, "{wrong}");
        }
    }

    #[test]
    fn metrics_settings_are_checked() {
        let mut env = HashMap::from([("PARCOURS_SECRET".to_string(), "x".repeat(40))]);
        let c = AppConfig::from_sources(&env, None).unwrap();
        assert!(
            c.metrics_allow
                .iter()
                .any(|n| n.contains(IpAddr::from([127, 0, 0, 1])))
        );
        assert!(
            !c.metrics_allow
                .iter()
                .any(|n| n.contains(IpAddr::from([10, 0, 0, 1])))
        );
        assert_eq!(c.metrics_token, None);
        env.insert("PARCOURS_METRICS_ALLOW".into(), "none".into());
        assert!(
            AppConfig::from_sources(&env, None)
                .unwrap()
                .metrics_allow
                .is_empty()
        );
        for (key, value) in [
            ("PARCOURS_METRICS_ALLOW", "10.0.0.0/40"),
            ("PARCOURS_METRICS_ALLOW", "127.0.0.1, localhost"),
            ("PARCOURS_METRICS_TOKEN", "court"),
            ("PARCOURS_METRICS_TOKEN", "un jeton avec des espaces"),
        ] {
            let mut e = env.clone();
            e.insert(key.into(), value.into());
            let err = AppConfig::from_sources(&e, None).unwrap_err();
            assert_eq!(err.setting, key, "{key}={value}: {err}");
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

fn check_database_url(url: &str) -> Result<(), ConfigError> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        if path.is_empty() || path.contains(":memory:") {
            return Err(bad(
                "DATABASE_URL",
                "un fichier SQLite est nécessaire (ex. sqlite://data/parcours.db)",
            ));
        }
        Ok(())
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        url::Url::parse(url)
            .map(|_| ())
            .map_err(|e| bad("DATABASE_URL", format!("URL PostgreSQL illisible : {e}")))
    } else {
        Err(bad(
            "DATABASE_URL",
            "doit commencer par sqlite:// ou postgres://",
        ))
    }
}

/// The signing secret is generated once and kept beside the data, so sessions survive restarts.
fn load_or_create_secret(data_dir: &Path) -> Result<Vec<u8>, ConfigError> {
    let path = data_dir.join("secret.key");
    if let Ok(text) = std::fs::read_to_string(&path) {
        return checked_secret(&path, &text);
    }
    std::fs::create_dir_all(data_dir).map_err(|e| {
        bad(
            "PARCOURS_DATA_DIR",
            format!("impossible de créer {} : {e}", data_dir.display()),
        )
    })?;
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw)
        .map_err(|e| bad("PARCOURS_SECRET", format!("aléa indisponible : {e}")))?;
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    // Written whole beside, then linked into place: an instance starting at the same moment
    // sees either no file or a complete one, never an empty one. The first link wins.
    let tmp = data_dir.join(format!("secret.key.{}.tmp", &hex[..16]));
    let written = write_private(&tmp, &hex).and_then(|()| std::fs::hard_link(&tmp, &path));
    let _ = std::fs::remove_file(&tmp);
    match written {
        Ok(()) => Ok(hex.into_bytes()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| bad("PARCOURS_SECRET", format!("{} : {e}", path.display())))?;
            checked_secret(&path, &text)
        }
        Err(e) => Err(bad(
            "PARCOURS_DATA_DIR",
            format!("impossible d'écrire {} : {e}", path.display()),
        )),
    }
}

fn checked_secret(path: &Path, text: &str) -> Result<Vec<u8>, ConfigError> {
    let text = text.trim();
    if text.len() < 32 {
        return Err(bad(
            "PARCOURS_SECRET",
            format!("{} est trop court (32 caractères minimum)", path.display()),
        ));
    }
    Ok(text.as_bytes().to_vec())
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// `smtp://user:pass@host:587?tls=starttls`; `smtps://` means implicit TLS.
pub fn parse_smtp_url(raw: &str) -> Result<SmtpSettings, ConfigError> {
    const S: &str = "PARCOURS_SMTP_URL";
    let url = url::Url::parse(raw).map_err(|e| bad(S, format!("URL illisible : {e}")))?;
    let default_tls = match url.scheme() {
        "smtp" => SmtpTls::StartTls,
        "smtps" => SmtpTls::Tls,
        other => {
            return Err(bad(
                S,
                format!("schéma « {other} » : attendu smtp:// ou smtps://"),
            ));
        }
    };
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| bad(S, "hôte manquant"))?
        .to_string();
    let mut tls = default_tls;
    for (k, v) in url.query_pairs() {
        match (k.as_ref(), v.as_ref()) {
            ("tls", "none") => tls = SmtpTls::None,
            ("tls", "starttls") => tls = SmtpTls::StartTls,
            ("tls", "tls") => tls = SmtpTls::Tls,
            ("tls", other) => {
                return Err(bad(
                    S,
                    format!("tls={other} : attendu none, starttls ou tls"),
                ));
            }
            (other, _) => return Err(bad(S, format!("paramètre inconnu « {other} »"))),
        }
    }
    let port = url.port().unwrap_or(match tls {
        SmtpTls::Tls => 465,
        SmtpTls::StartTls => 587,
        SmtpTls::None => 25,
    });
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let user = Some(url.username()).filter(|u| !u.is_empty()).map(decode);
    let password = url.password().map(decode);
    Ok(SmtpSettings {
        host,
        port,
        tls,
        user,
        password,
    })
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
        ] {
            let err = AppConfig::from_sources(&env(&[(key, value)]), None).unwrap_err();
            assert_eq!(err.setting, key, "{key}={value}: {err}");
        }
    }

    #[test]
    fn smtp_url_is_parsed() {
        let s = parse_smtp_url("smtp://bob:p%40ss@mail.example.org:2525?tls=none").unwrap();
        assert_eq!(s.host, "mail.example.org");
        assert_eq!(s.port, 2525);
        assert_eq!(s.tls, SmtpTls::None);
        assert_eq!(s.user.as_deref(), Some("bob"));
        assert_eq!(s.password.as_deref(), Some("p@ss"));
        assert_eq!(parse_smtp_url("smtps://h").unwrap().port, 465);
        assert_eq!(parse_smtp_url("smtp://h").unwrap().tls, SmtpTls::StartTls);
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

    #[test]
    fn instances_starting_together_agree_on_one_complete_secret() {
        // Before the secret was linked into place whole, a reader could find the file empty.
        for _ in 0..50 {
            let dir = tempfile::tempdir().unwrap();
            let secrets: Vec<Vec<u8>> = (0..4)
                .map(|_| {
                    let dir = dir.path().to_path_buf();
                    std::thread::spawn(move || load_or_create_secret(&dir).unwrap())
                })
                .collect::<Vec<_>>()
                .into_iter()
                .map(|t| t.join().unwrap())
                .collect();
            assert_eq!(secrets[0].len(), 64);
            assert!(secrets.iter().all(|s| s == &secrets[0]));
            let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
            assert_eq!(left.len(), 1, "only secret.key is left");
        }
    }
}
