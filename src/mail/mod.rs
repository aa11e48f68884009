//! Mail that is never lost: messages are rendered and written to the `outbox` table in the
//! transaction of the event that causes them, then sent by a background worker.

pub mod bounces;
pub mod dsn;
pub mod outbox;
pub mod rules;
pub mod worker;

use serde::{Deserialize, Serialize};

pub use rules::MailError;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub name: Option<String>,
    pub email: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub file_name: String,
    pub mime_type: String,
    pub content: Vec<u8>,
}

/// A message ready for the outbox, already checked (see `Mail::new`).
#[derive(Clone, Debug)]
pub struct Mail {
    pub kind: String,
    pub to: Vec<Recipient>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub attachments: Vec<Attachment>,
    /// The unsubscribe URL of an optional mail (`List-Unsubscribe`).
    pub list_unsubscribe: Option<String>,
}

/// What a mail needs from the running app: its templates, and the address of the app for
/// links and for the domain of message ids.
pub struct MailContext<'a> {
    pub templates: &'a tera::Tera,
    pub base_url: &'a str,
}

impl MailContext<'_> {
    /// The host of `base_url`, for message ids (`parcours.local` when it has none).
    pub fn domain(&self) -> String {
        url::Url::parse(self.base_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| "parcours.local".into())
    }
}

/// Renders `templates/mail/<name>/{subject.txt,body.txt,body.html}`; the bodies extend
/// `templates/mail/base.{txt,html}`.
pub fn render(
    templates: &tera::Tera,
    name: &str,
    ctx: &tera::Context,
) -> Result<(String, String, Option<String>), MailError> {
    let get = |file: &str| templates.render(&format!("mail/{name}/{file}"), ctx);
    let subject = get("subject.txt").map_err(|e| MailError::Template(format!("{name}: {e:?}")))?;
    let text = get("body.txt").map_err(|e| MailError::Template(format!("{name}: {e:?}")))?;
    let html = if templates
        .get_template_names()
        .any(|t| t == format!("mail/{name}/body.html"))
    {
        Some(get("body.html").map_err(|e| MailError::Template(format!("{name}: {e:?}")))?)
    } else {
        None
    };
    Ok((rules::one_line(&subject), text, html))
}

/// Loads `templates/mail/**` under names that start with `mail/`, the names the page loader
/// gives the HTML ones too: `{% extends "mail/base.html" %}` means the same file in both.
pub fn load_templates(dir: &std::path::Path) -> anyhow::Result<tera::Tera> {
    let root = dir.join("mail");
    let mut files = Vec::new();
    template_files(&root, &mut files)
        .map_err(|e| anyhow::anyhow!("mail templates: {}: {e}", root.display()))?;
    let named: Vec<(std::path::PathBuf, Option<String>)> = files
        .into_iter()
        .map(|path| {
            let relative = path.strip_prefix(&root).unwrap_or(&path);
            let name = format!("mail/{}", relative.to_string_lossy().replace('\\', "/"));
            (path, Some(name))
        })
        .collect();
    let mut tera = tera::Tera::default();
    tera.add_template_files(named)
        .map_err(|e| anyhow::anyhow!("mail templates: {e:?}"))?;
    tera.autoescape_on(vec![".html"]);
    tera.set_escape_fn(crate::web::escape_html);
    crate::web::filters::register(&mut tera);
    Ok(tera)
}

/// Every file under `dir`; a missing folder holds none (as the glob it replaces found none).
fn template_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            template_files(&path, out)?;
        } else if path.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// `parcours mail test`: queues one message and sends it at once through the configured
/// transport; says what happened.
pub async fn send_test(
    config: &crate::config::AppConfig,
    to: &str,
    subject: Option<&str>,
) -> anyhow::Result<String> {
    let templates = load_templates(&config.templates_dir)?;
    let mut ctx = tera::Context::new();
    ctx.insert("base_url", &config.base_url);
    ctx.insert("subject", subject.unwrap_or("Parcours : message de test"));
    let (subject, text, html) = render(&templates, "test", &ctx)?;
    let mail = Mail::new(
        "test",
        vec![Recipient {
            name: None,
            email: to.to_string(),
        }],
        &subject,
        text,
        html,
        vec![],
    )?;
    let (pool, _) = crate::db::connect(&config.database_url, 2)?;
    let domain = url::Url::parse(&config.base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "parcours.local".into());
    let id = {
        let mut conn = pool.get()?;
        crate::db::migrate(&mut conn)?;
        crate::db::transaction(&mut conn, |c| {
            outbox::enqueue(c, None, "mail_test", &mail, &domain)
        })?
    };
    let worker = worker::Worker::new(config, pool.clone())?;
    let place = worker.transport().describe();
    for _ in 0..20 {
        worker.run_once().await?;
        let (status, attempts, error) = outbox::status_of(&mut *pool.get()?, id)?;
        match status.as_str() {
            outbox::SENT => return Ok(format!("Message n° {id} envoyé à {to} via {place}.")),
            outbox::FAILED => anyhow::bail!(
                "échec de l'envoi via {place} : {}",
                error.unwrap_or_default()
            ),
            outbox::PENDING if attempts > 0 => anyhow::bail!(
                "échec de l'envoi via {place} : {} (le serveur réessaiera)",
                error.unwrap_or_default()
            ),
            _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    anyhow::bail!("le message n° {id} n'a pas pu être traité")
}

#[cfg(test)]
mod tests {
    /// A new message keeps the common frame: every body extends the base layout.
    #[test]
    fn every_mail_body_extends_the_base_layout() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/mail");
        let mut bodies = 0;
        for entry in std::fs::read_dir(&root).unwrap() {
            let dir = entry.unwrap().path();
            for (file, base) in [
                ("body.html", "mail/base.html"),
                ("body.txt", "mail/base.txt"),
            ] {
                let Ok(text) = std::fs::read_to_string(dir.join(file)) else {
                    continue;
                };
                let extends = format!("{{% extends \"{base}\" %}}");
                assert!(text.starts_with(&extends), "{}/{file}", dir.display());
                bodies += 1;
            }
        }
        assert!(bodies >= 20, "only {bodies} mail bodies found");
    }
}
