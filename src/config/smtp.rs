//! The SMTP relay, given as one URL.

use super::{ConfigError, bad};

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
}
