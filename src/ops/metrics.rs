//! Per-process metrics in the Prometheus text format. Each instance serves its own; the
//! scraper adds them up.

use std::sync::LazyLock;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    pub requests: IntCounterVec,
    pub latency: HistogramVec,
    pub heartbeats: IntCounterVec,
    pub credited_seconds: IntCounter,
    pub outbox_pending: IntGauge,
}

fn build() -> Result<Metrics, prometheus::Error> {
    let registry = Registry::new_custom(Some("parcours".into()), None)?;
    let requests = IntCounterVec::new(
        Opts::new(
            "http_requests_total",
            "HTTP requests answered, by status class",
        ),
        &["class"],
    )?;
    let latency = HistogramVec::new(
        HistogramOpts::new(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by kind of route",
        )
        .buckets(vec![
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
        ]),
        &["kind"],
    )?;
    let heartbeats = IntCounterVec::new(
        Opts::new("heartbeats_total", "Study heartbeats committed, by outcome"),
        &["outcome"],
    )?;
    let credited_seconds = IntCounter::new(
        "heartbeat_credited_seconds_total",
        "Seconds of distance study credited by heartbeats",
    )?;
    let outbox_pending = IntGauge::new(
        "outbox_pending",
        "Mails waiting in the outbox (pending or being sent), read at scrape time",
    )?;
    registry.register(Box::new(requests.clone()))?;
    registry.register(Box::new(latency.clone()))?;
    registry.register(Box::new(heartbeats.clone()))?;
    registry.register(Box::new(credited_seconds.clone()))?;
    registry.register(Box::new(outbox_pending.clone()))?;
    Ok(Metrics {
        registry,
        requests,
        latency,
        heartbeats,
        credited_seconds,
        outbox_pending,
    })
}

/// The process's metrics; `None` only if the fixed definitions above were invalid.
pub static METRICS: LazyLock<Option<Metrics>> = LazyLock::new(|| match build() {
    Ok(m) => Some(m),
    Err(e) => {
        tracing::error!(error = %e, "metrics disabled");
        None
    }
});

pub fn metrics() -> Option<&'static Metrics> {
    METRICS.as_ref()
}

/// Routes grouped so the label stays small whatever the URL: ids never become labels.
pub fn route_kind(path: &str) -> &'static str {
    if path == "/api/v1/study/heartbeats" {
        "heartbeat"
    } else if path.starts_with("/api/") {
        "api"
    } else if path.starts_with("/static/") {
        "static"
    } else if matches!(path, "/healthz" | "/readyz" | "/metrics") {
        "probe"
    } else {
        "page"
    }
}

pub fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

pub fn record_heartbeat(outcome: &str, credited: i64) {
    if let Some(m) = metrics() {
        m.heartbeats.with_label_values(&[outcome]).inc();
        m.credited_seconds.inc_by(credited.max(0) as u64);
    }
}

/// Who may read the metrics: a client of the allowed networks (`PARCOURS_METRICS_ALLOW`),
/// or whoever presents the bearer token (`PARCOURS_METRICS_TOKEN`).
pub fn may_read(
    config: &crate::AppConfig,
    origin: Option<std::net::IpAddr>,
    authorization: Option<&str>,
) -> bool {
    let by_address = origin.is_some_and(|ip| config.metrics_allow.iter().any(|n| n.contains(ip)));
    let by_token = match (&config.metrics_token, authorization.and_then(bearer)) {
        (Some(expected), Some(given)) => same_secret(expected.as_bytes(), given.as_bytes()),
        _ => false,
    };
    by_address || by_token
}

fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Compares without stopping at the first difference, so timing tells nothing of the token.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The text exposition of every metric, after `outbox_pending` is set by the caller.
pub fn render() -> String {
    let Some(m) = metrics() else {
        return String::new();
    };
    let mut out = Vec::new();
    if let Err(e) = TextEncoder::new().encode(&m.registry.gather(), &mut out) {
        tracing::warn!(error = %e, "metrics not encoded");
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_never_become_labels() {
        assert_eq!(route_kind("/api/v1/study/heartbeats"), "heartbeat");
        assert_eq!(route_kind("/api/v1/cohorts/12/progress"), "api");
        assert_eq!(route_kind("/suivi/12"), "page");
        assert_eq!(route_kind("/readyz"), "probe");
        assert_eq!(status_class(204), "2xx");
        assert_eq!(status_class(503), "5xx");
    }

    #[test]
    fn metrics_open_to_allowed_addresses_or_the_token_only() {
        let env = std::collections::HashMap::from([
            ("PARCOURS_SECRET".to_string(), "x".repeat(40)),
            (
                "PARCOURS_METRICS_ALLOW".to_string(),
                "10.0.0.0/8, ::1".to_string(),
            ),
            (
                "PARCOURS_METRICS_TOKEN".to_string(),
                "jeton-de-supervision".to_string(),
            ),
        ]);
        let config = crate::AppConfig::from_sources(&env, None).unwrap();
        let ip = |s: &str| s.parse().ok();
        assert!(may_read(&config, ip("10.2.3.4"), None));
        assert!(may_read(&config, ip("::1"), None));
        assert!(!may_read(&config, ip("127.0.0.1"), None));
        assert!(!may_read(&config, None, None));
        let ok = Some("Bearer jeton-de-supervision");
        assert!(may_read(&config, ip("203.0.113.7"), ok));
        assert!(may_read(
            &config,
            None,
            Some("bearer  jeton-de-supervision")
        ));
        for wrong in [
            "Bearer jeton-de-supervisioN",
            "Bearer jeton-de-supervision2",
            "Basic jeton-de-supervision",
            "jeton-de-supervision",
            "Bearer ",
        ] {
            assert!(
                !may_read(&config, ip("203.0.113.7"), Some(wrong)),
                "{wrong}"
            );
        }
    }
}
