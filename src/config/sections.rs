//! One function per settings section. `AppConfig::from_sources` calls them in a fixed order,
//! so the first wrong setting reported stays the same.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use super::ip_net::IpNet;
use super::secret::load_or_create_secret;
use super::smtp::{SmtpSettings, parse_smtp_url};
use super::sources::Sources;
use super::{ConfigError, MailSettings, StorageSettings, StudySettings, VaeSettings, bad};

/// Where the server listens, keeps its data and is reached.
pub(super) struct Server {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub base_url: String,
    pub packages_url: Option<String>,
}

pub(super) fn server(src: &Sources) -> Result<Server, ConfigError> {
    let file = &src.file;
    let bind_raw = src
        .text("PARCOURS_BIND", &file.bind)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let bind: SocketAddr = bind_raw.parse().map_err(|_| {
        bad(
            "PARCOURS_BIND",
            format!("« {bind_raw} » n'est pas une adresse IP:port (ex. 127.0.0.1:8080)"),
        )
    })?;

    let data_dir = PathBuf::from(
        src.text("PARCOURS_DATA_DIR", &file.data_dir)
            .unwrap_or_else(|| "data".into()),
    );

    let database_url = src
        .text("DATABASE_URL", &file.database_url)
        .unwrap_or_else(|| "sqlite://data/parcours.db".into());
    check_database_url(&database_url)?;

    let base_url = src
        .text("PARCOURS_BASE_URL", &file.base_url)
        .unwrap_or_else(|| format!("http://{bind}"));
    let parsed = web_url("PARCOURS_BASE_URL", &base_url)?;
    let base_url = base_url.trim_end_matches('/').to_string();
    let packages_url = packages_url(src, &parsed)?;
    Ok(Server {
        bind,
        data_dir,
        database_url,
        base_url,
        packages_url,
    })
}

/// The separate origin e-learning packages are played from (`PARCOURS_PACKAGES_URL`): their
/// scripts must not share the site's origin, cookies or API. Without the setting, a local
/// address swaps `127.0.0.1` and `localhost` (two origins, two cookie jars, one server);
/// any other host plays no package until it is set.
fn packages_url(src: &Sources, base: &url::Url) -> Result<Option<String>, ConfigError> {
    let Some(raw) = src.text("PARCOURS_PACKAGES_URL", &src.file.packages_url) else {
        let swapped = match base.host_str() {
            Some("127.0.0.1") => "localhost",
            Some("localhost") => "127.0.0.1",
            _ => return Ok(None),
        };
        let mut url = base.clone();
        url.set_host(Some(swapped)).ok();
        return Ok(Some(url.as_str().trim_end_matches('/').to_string()));
    };
    let parsed = url::Url::parse(&raw).map_err(|e| {
        bad(
            "PARCOURS_PACKAGES_URL",
            format!("« {raw} » n'est pas une URL : {e}"),
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.path() != "/" {
        return Err(bad(
            "PARCOURS_PACKAGES_URL",
            "une origine seule est attendue (ex. https://paquets.exemple.fr), sans chemin",
        ));
    }
    if parsed.host_str() == base.host_str() {
        return Err(bad(
            "PARCOURS_PACKAGES_URL",
            "les paquets doivent avoir un autre nom d'hôte que le site (PARCOURS_BASE_URL) : sinon leurs scripts verraient les cookies des stagiaires",
        ));
    }
    Ok(Some(parsed.as_str().trim_end_matches('/').to_string()))
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

/// An `http(s)://` URL setting, parsed.
pub(super) fn web_url(setting: &'static str, raw: &str) -> Result<url::Url, ConfigError> {
    let parsed = url::Url::parse(raw)
        .map_err(|e| bad(setting, format!("« {raw} » n'est pas une URL : {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad(setting, "l'URL doit commencer par http:// ou https://"));
    }
    Ok(parsed)
}

pub(super) fn secret(src: &Sources, data_dir: &Path) -> Result<Vec<u8>, ConfigError> {
    match src.text("PARCOURS_SECRET", &src.file.secret) {
        Some(s) if s.len() < 32 => Err(bad(
            "PARCOURS_SECRET",
            "au moins 32 caractères sont nécessaires",
        )),
        Some(s) => Ok(s.into_bytes()),
        None => load_or_create_secret(data_dir),
    }
}

/// The relay and the sender address.
pub(super) fn smtp(src: &Sources) -> Result<(Option<SmtpSettings>, String), ConfigError> {
    let file = &src.file;
    let smtp = match src.text("PARCOURS_SMTP_URL", &file.smtp_url) {
        Some(raw) => Some(parse_smtp_url(&raw)?),
        None => None,
    };
    let mail_from = src
        .text("PARCOURS_MAIL_FROM", &file.mail_from)
        .unwrap_or_else(|| "Parcours <no-reply@parcours.local>".into());
    if !mail_from.contains('@') || mail_from.contains(['\r', '\n']) {
        return Err(bad("PARCOURS_MAIL_FROM", "adresse d'expéditeur invalide"));
    }
    Ok((smtp, mail_from))
}

/// The Maildir folder where the mail server drops delivery-status notifications, if any.
pub(super) fn bounce_maildir(src: &Sources) -> Option<PathBuf> {
    src.text("PARCOURS_BOUNCE_MAILDIR", &src.file.bounce_maildir)
        .map(PathBuf::from)
}

/// The templates and the curriculum content.
pub(super) fn dirs(src: &Sources) -> (PathBuf, PathBuf) {
    let file = &src.file;
    let templates_dir = PathBuf::from(
        src.text("PARCOURS_TEMPLATES_DIR", &file.templates_dir)
            .unwrap_or_else(|| "templates".into()),
    );
    let content_dir = PathBuf::from(
        src.text("PARCOURS_CONTENT_DIR", &file.content_dir)
            .unwrap_or_else(|| "content".into()),
    );
    (templates_dir, content_dir)
}

/// Session length and login limits.
pub(super) struct Login {
    pub session_minutes: i64,
    pub ip_per_minute: u32,
    pub account_failures: u32,
}

pub(super) fn login(src: &Sources) -> Result<Login, ConfigError> {
    let file = &src.file;
    let session_minutes = src.number("PARCOURS_SESSION_MINUTES", file.session_minutes, 30)?;
    if !(1..=24 * 60).contains(&session_minutes) {
        return Err(bad("PARCOURS_SESSION_MINUTES", "entre 1 et 1440 minutes"));
    }
    let ip_per_minute = src.number("PARCOURS_LOGIN_IP_PER_MINUTE", file.login_ip_per_minute, 60)?;
    let account_failures = src.number(
        "PARCOURS_LOGIN_ACCOUNT_FAILURES",
        file.login_account_failures,
        10,
    )?;
    if ip_per_minute == 0 || account_failures == 0 {
        return Err(bad(
            "PARCOURS_LOGIN_IP_PER_MINUTE",
            "doit être supérieur à 0",
        ));
    }
    Ok(Login {
        session_minutes,
        ip_per_minute,
        account_failures,
    })
}

/// The database pool size and the log format.
pub(super) fn process(src: &Sources) -> Result<(u32, bool), ConfigError> {
    let pool_size = src.number("PARCOURS_DB_POOL", src.file.pool_size, 8)?;
    if !(1..=200).contains(&pool_size) {
        return Err(bad("PARCOURS_DB_POOL", "entre 1 et 200 connexions"));
    }
    let log_json = src.flag("PARCOURS_LOG_JSON", src.file.log_json, false)?;
    Ok((pool_size, log_json))
}

/// The outbox worker: its retries, and whether this instance runs it.
pub(super) fn outbox(src: &Sources) -> Result<(MailSettings, bool), ConfigError> {
    let file = &src.file;
    let mail = MailSettings {
        retry_base_secs: src.number(
            "PARCOURS_MAIL_RETRY_BASE_SECS",
            file.mail_retry_base_secs,
            60,
        )?,
        max_attempts: src.number("PARCOURS_MAIL_MAX_ATTEMPTS", file.mail_max_attempts, 10)?,
        poll_ms: src.number("PARCOURS_MAIL_POLL_MS", file.mail_poll_ms, 2000)?,
        lease_secs: src.number("PARCOURS_MAIL_LEASE_SECS", file.mail_lease_secs, 300)?,
    };
    if mail.retry_base_secs < 1 || mail.max_attempts < 1 || mail.poll_ms < 10 || mail.lease_secs < 5
    {
        return Err(bad(
            "PARCOURS_MAIL_RETRY_BASE_SECS",
            "les réglages de l'envoi de courriels doivent être positifs",
        ));
    }
    let mail_worker = src.flag("PARCOURS_MAIL_WORKER", file.mail_worker, true)?;
    Ok((mail, mail_worker))
}

pub(super) fn study(src: &Sources) -> Result<StudySettings, ConfigError> {
    let file = &src.file;
    let beat_seconds = src.number("PARCOURS_BEAT_SECONDS", file.beat_seconds, 30)?;
    let study = StudySettings {
        beat_seconds,
        beat_cap_secs: src.number(
            "PARCOURS_BEAT_CAP_SECS",
            file.beat_cap_secs,
            beat_seconds * 3 / 2,
        )?,
        idle_limit_secs: src.number(
            "PARCOURS_IDLE_LIMIT_SECS",
            file.idle_limit_secs,
            beat_seconds * 3,
        )?,
        daily_max_secs: src.number("PARCOURS_DAILY_MAX_HOURS", file.daily_max_hours, 8)? * 3600,
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
    Ok(study)
}

/// Whether this instance runs the scheduled jobs, the nudge delay in days, and the hours
/// after a half-day at which a sheet left open closes by itself.
pub(super) fn jobs(src: &Sources) -> Result<(bool, i64, i64), ConfigError> {
    let jobs = src.flag("PARCOURS_JOBS", src.file.jobs, true)?;
    let nudge_days = src.number("PARCOURS_NUDGE_DAYS", src.file.nudge_days, 10)?;
    if !(1..=90).contains(&nudge_days) {
        return Err(bad("PARCOURS_NUDGE_DAYS", "entre 1 et 90 jours"));
    }
    let close_hours = src.number("PARCOURS_SHEET_CLOSE_HOURS", src.file.sheet_close_hours, 24)?;
    if !(1..=720).contains(&close_hours) {
        return Err(bad("PARCOURS_SHEET_CLOSE_HOURS", "entre 1 et 720 heures"));
    }
    Ok((jobs, nudge_days, close_hours))
}

/// How long personal data is kept: the proofs of a training (3 to 30 years after its end, the
/// range an organism may choose its own in) and
/// the staff accounts left unused (1 to 60 months).
pub(super) fn retention(src: &Sources) -> Result<super::RetentionSettings, ConfigError> {
    let proof_years = src.number(
        "PARCOURS_RETENTION_PROOF_YEARS",
        src.file.retention_proof_years,
        6,
    )?;
    if !(3..=30).contains(&proof_years) {
        return Err(bad("PARCOURS_RETENTION_PROOF_YEARS", "entre 3 et 30 ans"));
    }
    let staff_inactive_months = src.number(
        "PARCOURS_RETENTION_STAFF_INACTIVE_MONTHS",
        src.file.retention_staff_inactive_months,
        12,
    )?;
    if !(1..=60).contains(&staff_inactive_months) {
        return Err(bad(
            "PARCOURS_RETENTION_STAFF_INACTIVE_MONTHS",
            "entre 1 et 60 mois",
        ));
    }
    Ok(super::RetentionSettings {
        proof_years,
        staff_inactive_months,
    })
}

pub(super) fn verify_ip_per_minute(src: &Sources) -> Result<u32, ConfigError> {
    let verify_ip_per_minute = src.number(
        "PARCOURS_VERIFY_IP_PER_MINUTE",
        src.file.verify_ip_per_minute,
        30,
    )?;
    if verify_ip_per_minute == 0 {
        return Err(bad(
            "PARCOURS_VERIFY_IP_PER_MINUTE",
            "doit être supérieur à 0",
        ));
    }
    Ok(verify_ip_per_minute)
}

/// Who may read `/metrics`: the allowed networks and the bearer token.
pub(super) fn metrics(src: &Sources) -> Result<(Vec<IpNet>, Option<String>), ConfigError> {
    let file = &src.file;
    let metrics_allow = parse_metrics_allow(
        src.text("PARCOURS_METRICS_ALLOW", &file.metrics_allow)
            .as_deref()
            .unwrap_or("127.0.0.0/8,::1"),
    )?;
    let metrics_token = src.text("PARCOURS_METRICS_TOKEN", &file.metrics_token);
    if let Some(t) = &metrics_token
        && (t.len() < 16 || !t.bytes().all(|b| b.is_ascii_graphic()))
    {
        return Err(bad(
            "PARCOURS_METRICS_TOKEN",
            "au moins 16 caractères, sans espace ni accent",
        ));
    }
    Ok((metrics_allow, metrics_token))
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

pub(super) fn vae(src: &Sources, data_dir: &Path) -> Result<VaeSettings, ConfigError> {
    let file = &src.file;
    let vae = VaeSettings {
        dir: src
            .text("PARCOURS_VAE_DIR", &file.vae_dir)
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir.join("vae")),
        max_upload_bytes: src
            .number("PARCOURS_VAE_MAX_UPLOAD_MB", file.vae_max_upload_mb, 10)?
            .saturating_mul(1024 * 1024),
        min_hours: src.number("PARCOURS_VAE_MIN_HOURS", file.vae_min_hours, 1607)?,
        livret2_months: src.number("PARCOURS_VAE_LIVRET2_MONTHS", file.vae_livret2_months, 12)?,
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
    Ok(vae)
}

pub(super) fn storage(src: &Sources) -> Result<StorageSettings, ConfigError> {
    let file = &src.file;
    let megabytes = |setting: &'static str, file: Option<u64>, default: u64| {
        let mb = src.number(setting, file, default)?;
        if !(1..=100 * 1024 * 1024).contains(&mb) {
            return Err(bad(setting, "entre 1 Mo et 100 To"));
        }
        Ok(mb * 1024 * 1024)
    };
    Ok(StorageSettings {
        organism_quota: megabytes("PARCOURS_QUOTA_ORGANISM_MB", file.quota_organism_mb, 5120)?,
        candidate_quota: megabytes("PARCOURS_QUOTA_CANDIDATE_MB", file.quota_candidate_mb, 100)?,
        trainee_quota: megabytes("PARCOURS_QUOTA_TRAINEE_MB", file.quota_trainee_mb, 100)?,
        anonymous_per_hour: megabytes(
            "PARCOURS_VAE_ANONYMOUS_MB_PER_HOUR",
            file.vae_anonymous_mb_per_hour,
            200,
        )?,
    })
}

pub(super) fn trusted_proxies(src: &Sources) -> Result<Vec<IpAddr>, ConfigError> {
    src.text("PARCOURS_TRUSTED_PROXIES", &src.file.trusted_proxies)
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
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::super::AppConfig;
    use super::*;

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
