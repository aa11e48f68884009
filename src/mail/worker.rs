//! The background sender: claims due outbox rows and delivers them over SMTP (lettre),
//! or, with no SMTP configured, writes each as an `.eml` file under `data/mail/`.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::{Attachment as LettreAttachment, Mailbox, MultiPart, SinglePart, header};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::bounces::{self, Bouncing};
use super::outbox::{self, Failure, Outgoing};
use crate::config::{AppConfig, MailSettings, SmtpTls};
use crate::db::Pool;

pub enum Transport {
    Smtp {
        mailer: AsyncSmtpTransport<Tokio1Executor>,
        label: String,
    },
    Files(PathBuf),
}

impl Transport {
    pub fn from_config(config: &AppConfig) -> anyhow::Result<Transport> {
        let Some(s) = &config.smtp else {
            return Ok(Transport::Files(config.data_dir.join("mail")));
        };
        let builder = match s.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host),
            SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host)?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host)?,
        };
        let mut builder = builder.port(s.port).timeout(Some(Duration::from_secs(20)));
        if let Some(user) = &s.user {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                s.password.clone().unwrap_or_default(),
            ));
        }
        Ok(Transport::Smtp {
            mailer: builder.build(),
            label: format!("SMTP {}:{}", s.host, s.port),
        })
    }

    pub fn describe(&self) -> String {
        match self {
            Transport::Smtp { label, .. } => label.clone(),
            Transport::Files(dir) => format!("fichiers .eml dans {}", dir.display()),
        }
    }

    /// Delivers one message; says where it went.
    async fn deliver(&self, id: i64, message: &Message) -> Result<String, Failure> {
        match self {
            Transport::Smtp { mailer, label } => mailer
                .send(message.clone())
                .await
                .map(|_| label.clone())
                .map_err(|e| Failure {
                    error: format!("{label}: {e}"),
                    permanent: refused_for_good(&e),
                }),
            Transport::Files(dir) => {
                let dir = dir.clone();
                let bytes = message.formatted();
                tokio::task::spawn_blocking(move || write_eml(&dir, id, &bytes))
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|r| r)
                    .map_err(|error| Failure {
                        error,
                        permanent: false,
                    })
            }
        }
    }
}

/// A 5xx about the message or its recipients (55x: unknown mailbox, refused domain…) will be
/// the same at every try. Other 5xx (530/535 authentication, syntax) say our settings are
/// wrong: those messages keep their retries, to leave once the settings are fixed.
fn refused_for_good(e: &lettre::transport::smtp::Error) -> bool {
    use lettre::transport::smtp::response::Category;
    e.is_permanent()
        && e.status()
            .is_some_and(|c| c.category == Category::MailSystem)
}

/// Written under a temporary name and renamed, so a reader never sees half a message;
/// the name comes from the row, so a retry rewrites the same file.
fn write_eml(dir: &std::path::Path, id: i64, bytes: &[u8]) -> Result<String, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(format!("outbox-{id:08}.eml"));
    let tmp = dir.join(format!(".outbox-{id:08}.eml.tmp"));
    std::fs::write(&tmp, bytes).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path.display().to_string())
}

pub fn build_message(from: &Mailbox, m: &Outgoing) -> Result<Message, String> {
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(m.subject.clone())
        .message_id(Some(m.message_id.clone()))
        .date_now();
    for r in &m.to {
        let address = r
            .email
            .parse()
            .map_err(|e| format!("adresse {}: {e}", r.email))?;
        builder = builder.to(Mailbox::new(r.name.clone(), address));
    }
    if let Some(url) = &m.list_unsubscribe {
        // RFC 2369 and RFC 8058: the mail client may unsubscribe with one POST to the URL.
        builder = builder
            .raw_header(header::HeaderValue::new(
                header::HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{url}>"),
            ))
            .raw_header(header::HeaderValue::new(
                header::HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".into(),
            ));
    }
    let body = match &m.html {
        Some(html) => MultiPart::alternative_plain_html(m.text.clone(), html.clone()),
        None => MultiPart::mixed().singlepart(SinglePart::plain(m.text.clone())),
    };
    let body = if m.attachments.is_empty() {
        body
    } else {
        let mut mixed = MultiPart::mixed().multipart(body);
        for a in &m.attachments {
            let ct = header::ContentType::parse(&a.mime_type).map_err(|e| e.to_string())?;
            mixed = mixed
                .singlepart(LettreAttachment::new(a.file_name.clone()).body(a.content.clone(), ct));
        }
        mixed
    };
    builder.multipart(body).map_err(|e| e.to_string())
}

pub struct Worker {
    pool: Pool,
    transport: Transport,
    from: Mailbox,
    settings: MailSettings,
    instance: String,
}

const BATCH: i64 = 50;
const SEND_CONCURRENCY: usize = 8;

impl Worker {
    pub fn new(config: &AppConfig, pool: Pool) -> anyhow::Result<Worker> {
        let from: Mailbox = config
            .mail_from
            .parse()
            .map_err(|e| anyhow::anyhow!("PARCOURS_MAIL_FROM: {e}"))?;
        let mut raw = [0u8; 4];
        getrandom::fill(&mut raw).map_err(|e| anyhow::anyhow!("randomness: {e}"))?;
        let instance = format!(
            "{}-{}-{:02x}{:02x}{:02x}{:02x}",
            hostname(),
            std::process::id(),
            raw[0],
            raw[1],
            raw[2],
            raw[3]
        );
        Ok(Worker {
            pool,
            transport: Transport::from_config(config)?,
            from,
            settings: config.mail.clone(),
            instance,
        })
    }

    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut crate::db::DbConn) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await?
    }

    /// Claims and sends one batch; returns how many messages were tried.
    pub async fn run_once(&self) -> anyhow::Result<usize> {
        let instance = self.instance.clone();
        let lease = chrono::Duration::seconds(self.settings.lease_secs);
        let batch = self
            .db(move |c| {
                let ids = outbox::claim(c, &instance, BATCH, lease)?;
                if ids.is_empty() {
                    return Ok(vec![]);
                }
                let batch = outbox::load(c, &ids)?;
                let emails: Vec<String> = batch
                    .iter()
                    .flat_map(|m| m.to.iter().map(|r| r.email.clone()))
                    .collect();
                let bouncing = bounces::among(c, &emails)?;
                Ok(batch
                    .into_iter()
                    .map(|m| without_bouncing(m, &bouncing))
                    .collect())
            })
            .await?;
        let n = batch.len();
        // A few deliveries in flight at once; the pooled SMTP transport reuses connections.
        for chunk in batch.chunks(SEND_CONCURRENCY) {
            let outcomes =
                futures_util::future::join_all(chunk.iter().map(|(msg, blocked)| async move {
                    if let Some(reason) = blocked {
                        return Err(Failure {
                            error: bounces::not_sent(reason),
                            permanent: true,
                        });
                    }
                    match build_message(&self.from, msg) {
                        Ok(message) => self.transport.deliver(msg.id, &message).await,
                        Err(e) => Err(Failure {
                            error: format!("message invalide : {e}"),
                            permanent: false,
                        }),
                    }
                }))
                .await;
            for ((msg, _), outcome) in chunk.iter().zip(&outcomes) {
                match outcome {
                    Ok(place) => tracing::info!(outbox = msg.id, to = %place, "mail sent"),
                    Err(f) => {
                        tracing::warn!(outbox = msg.id, attempt = msg.attempts, error = %f.error, permanent = f.permanent, "mail not sent")
                    }
                }
            }
            let settled: Vec<(Outgoing, Result<String, Failure>)> =
                chunk.iter().map(|(m, _)| m.clone()).zip(outcomes).collect();
            let instance = self.instance.clone();
            let settings = self.settings.clone();
            self.db(move |c| {
                crate::db::transaction(c, |c| {
                    for (msg, outcome) in &settled {
                        match outcome {
                            Ok(_) => outbox::mark_sent(c, msg.id, &instance)?,
                            Err(error) => outbox::mark_failure(
                                c,
                                msg,
                                &instance,
                                error,
                                settings.max_attempts,
                                settings.retry_base_secs,
                            )?,
                        }
                    }
                    Ok(())
                })
            })
            .await?;
        }
        Ok(n)
    }

    /// Runs until the task is dropped; sleeps only when the queue is empty.
    pub async fn run(self) {
        tracing::info!(transport = %self.transport.describe(), "mail worker started");
        loop {
            match self.run_once().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "mail worker"),
            }
            tokio::time::sleep(Duration::from_millis(self.settings.poll_ms)).await;
        }
    }
}

/// A message without its addresses known to bounce; with the reason when none is left, so
/// that it is settled as not sent rather than sent to a dead mailbox again.
fn without_bouncing(mut msg: Outgoing, bouncing: &[Bouncing]) -> (Outgoing, Option<String>) {
    let dead = |email: &str| bouncing.iter().find(|b| b.email == email);
    let first = msg.to.iter().find_map(|r| dead(&r.email)).cloned();
    msg.to.retain(|r| dead(&r.email).is_none());
    let blocked = match first {
        Some(b) if msg.to.is_empty() => Some(format!(
            "{}, le {}",
            b.reason,
            crate::base::format::datetime(b.bounced_at)
        )),
        _ => None,
    };
    (msg, blocked)
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "parcours".into())
}
