//! Pure rules of mail: what a valid message is, when to retry, stable message ids.

use chrono::{Duration, NaiveDateTime};

use super::{Attachment, Mail, Recipient};
use crate::base::field::{normalize_email, validate_name};

pub const MAX_SUBJECT_CHARS: usize = 150;
pub const MAX_ATTACHMENT_BYTES: usize = 15 * 1024 * 1024;
pub const MAX_BACKOFF_SECS: i64 = 6 * 3600;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MailError {
    #[error("{0}")]
    Invalid(String),
    #[error("template: {0}")]
    Template(String),
}

/// Collapses whitespace so a subject is always one line.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Mail {
    /// Checks every header value at the point of entry: addresses, names, subject, files.
    pub fn new(
        kind: &str,
        to: Vec<Recipient>,
        subject: &str,
        text: String,
        html: Option<String>,
        attachments: Vec<Attachment>,
    ) -> Result<Mail, MailError> {
        if to.is_empty() {
            return Err(MailError::Invalid("Aucun destinataire.".into()));
        }
        let mut checked = Vec::with_capacity(to.len());
        for r in to {
            let email = normalize_email(&r.email).map_err(|m| {
                MailError::Invalid(format!("Destinataire « {} » : {m}", one_line(&r.email)))
            })?;
            let name = match r.name {
                Some(n) => Some(
                    validate_name(&n)
                        .map_err(|m| MailError::Invalid(format!("Nom du destinataire : {m}")))?,
                ),
                None => None,
            };
            checked.push(Recipient { name, email });
        }
        if subject.contains(['\r', '\n']) {
            return Err(MailError::Invalid(
                "L'objet du message ne peut pas contenir de retour à la ligne.".into(),
            ));
        }
        let subject = subject.trim();
        if subject.is_empty() {
            return Err(MailError::Invalid("L'objet du message est vide.".into()));
        }
        if subject.chars().count() > MAX_SUBJECT_CHARS {
            return Err(MailError::Invalid(format!(
                "L'objet du message dépasse {MAX_SUBJECT_CHARS} caractères."
            )));
        }
        for a in &attachments {
            let bad_name = a.file_name.is_empty()
                || a.file_name.chars().count() > 120
                || a.file_name.contains(['/', '\\', '\r', '\n', '"']);
            if bad_name {
                return Err(MailError::Invalid(format!(
                    "Nom de pièce jointe invalide : « {} ».",
                    one_line(&a.file_name)
                )));
            }
            if a.content.len() > MAX_ATTACHMENT_BYTES {
                return Err(MailError::Invalid(format!(
                    "La pièce jointe « {} » est trop volumineuse.",
                    a.file_name
                )));
            }
            if a.mime_type
                .parse::<lettre::message::header::ContentType>()
                .is_err()
            {
                return Err(MailError::Invalid(format!(
                    "Type de pièce jointe invalide : {}.",
                    one_line(&a.mime_type)
                )));
            }
        }
        Ok(Mail {
            kind: kind.to_string(),
            to: checked,
            subject: subject.to_string(),
            text,
            html,
            attachments,
            list_unsubscribe: None,
        })
    }

    /// An optional mail's unsubscribe URL, sent as its `List-Unsubscribe` header with the
    /// one-click POST of RFC 8058. Only an https or http URL without spaces or brackets is
    /// taken: it goes into a header as it is.
    pub fn unsubscribe_at(mut self, url: &str) -> Result<Mail, MailError> {
        let plain = (url.starts_with("https://") || url.starts_with("http://"))
            && url.is_ascii()
            && !url.contains(|c: char| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
        if !plain {
            return Err(MailError::Invalid(format!(
                "Lien de désabonnement invalide : {}.",
                one_line(url)
            )));
        }
        self.list_unsubscribe = Some(url.to_string());
        Ok(self)
    }
}

/// Delay before the next try after `attempts` failed tries: base, 2×base, 4×base… capped.
pub fn backoff(attempts: i32, base_secs: i64) -> Duration {
    let exp = attempts.saturating_sub(1).clamp(0, 30) as u32;
    let secs = base_secs.saturating_mul(1i64 << exp.min(20));
    Duration::seconds(secs.min(MAX_BACKOFF_SECS))
}

/// What to do after a failed try.
#[derive(Debug, PartialEq, Eq)]
pub enum AfterFailure {
    RetryAt(NaiveDateTime),
    GiveUp,
}

/// A permanent refusal (an SMTP 5xx) is given up at once: trying again gets the same answer.
pub fn after_failure(
    attempts: i32,
    max_attempts: i32,
    now: NaiveDateTime,
    base_secs: i64,
    permanent: bool,
) -> AfterFailure {
    if permanent || attempts >= max_attempts {
        AfterFailure::GiveUp
    } else {
        AfterFailure::RetryAt(now + backoff(attempts, base_secs))
    }
}

/// A Message-ID derived from the row, the same at every retry, so a receiver can spot a
/// duplicate after an outcome we could not know.
pub fn message_id(outbox_id: i64, created_at: NaiveDateTime, domain: &str) -> String {
    format!(
        "<parcours.{outbox_id}.{}@{domain}>",
        created_at.and_utc().timestamp_micros()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to(email: &str, name: Option<&str>) -> Vec<Recipient> {
        vec![Recipient {
            email: email.into(),
            name: name.map(str::to_string),
        }]
    }

    #[test]
    fn header_injection_and_bad_addresses_are_refused() {
        let ok = Mail::new(
            "t",
            to("A@B.fr", Some("Anne")),
            "Objet",
            "x".into(),
            None,
            vec![],
        );
        assert_eq!(ok.unwrap().to[0].email, "a@b.fr");
        for (email, name, subject) in [
            ("pas-une-adresse", None, "Objet"),
            ("a@b.fr", Some("x\r\nBcc: evil@example.org"), "Objet"),
            ("a@b.fr\r\nBcc: evil@example.org", None, "Objet"),
            ("a@b.fr", None, "Objet\r\nBcc: evil@example.org"),
            ("a@b.fr", None, &"o".repeat(151)),
            ("a@b.fr", None, "  "),
        ] {
            let r = Mail::new("t", to(email, name), subject, "x".into(), None, vec![]);
            assert!(
                matches!(r, Err(MailError::Invalid(_))),
                "{email:?} {name:?} {subject:?}"
            );
        }
        let bad_file = Attachment {
            file_name: "../etc/passwd".into(),
            mime_type: "application/pdf".into(),
            content: vec![1],
        };
        assert!(
            Mail::new(
                "t",
                to("a@b.fr", None),
                "o",
                "x".into(),
                None,
                vec![bad_file]
            )
            .is_err()
        );
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1, 60), Duration::seconds(60));
        assert_eq!(backoff(2, 60), Duration::seconds(120));
        assert_eq!(backoff(4, 60), Duration::seconds(480));
        assert_eq!(backoff(30, 60), Duration::seconds(MAX_BACKOFF_SECS));
        let now = chrono::NaiveDate::from_ymd_opt(2026, 11, 24)
            .unwrap()
            .and_hms_opt(8, 0, 0)
            .unwrap();
        assert_eq!(after_failure(10, 10, now, 60, false), AfterFailure::GiveUp);
        assert_eq!(after_failure(1, 10, now, 60, true), AfterFailure::GiveUp);
        assert_eq!(
            after_failure(1, 10, now, 60, false),
            AfterFailure::RetryAt(now + Duration::seconds(60))
        );
    }

    #[test]
    fn message_ids_are_stable() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 11, 24)
            .unwrap()
            .and_hms_micro_opt(8, 0, 0, 42)
            .unwrap();
        assert_eq!(message_id(7, t, "ex.fr"), message_id(7, t, "ex.fr"));
        assert_ne!(message_id(7, t, "ex.fr"), message_id(8, t, "ex.fr"));
    }

    /// The unsubscribe URL goes into a header as it is: nothing that could end or fold it.
    #[test]
    fn an_unsubscribe_url_is_a_plain_web_address() {
        let mail = || {
            Mail::new(
                "nudge",
                to("a@b.fr", None),
                "Objet",
                "x".into(),
                None,
                vec![],
            )
            .unwrap()
        };
        let ok = mail()
            .unsubscribe_at("https://p.fr/desabonnement/abc_-1")
            .unwrap();
        assert_eq!(
            ok.list_unsubscribe.as_deref(),
            Some("https://p.fr/desabonnement/abc_-1")
        );
        for bad in [
            "mailto:x@p.fr",
            "https://p.fr/a b",
            "https://p.fr/a>\r\nBcc: x@y.fr",
            "https://p.fr/é",
        ] {
            assert!(mail().unsubscribe_at(bad).is_err(), "{bad}");
        }
    }
}
