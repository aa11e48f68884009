//! A signed-in browser for the benches: cookies kept, forms sent with their CSRF token,
//! redirects seen rather than followed.

use super::PASSWORD;

/// A browser of its own: cookies kept, redirects seen rather than followed.
pub fn browser() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

/// The value of the first `name="…"` field of a page.
pub fn field<'a>(html: &'a str, name: &str) -> anyhow::Result<&'a str> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .ok_or_else(|| anyhow::anyhow!("no {name} field"))?
        + marker.len();
    let end = html[start..]
        .find('"')
        .ok_or_else(|| anyhow::anyhow!("{name} field unclosed"))?;
    Ok(&html[start..start + end])
}

pub async fn page(c: &reqwest::Client, url: &str) -> anyhow::Result<String> {
    let res = c.get(url).send().await?;
    anyhow::ensure!(res.status() == 200, "GET {url}: {}", res.status());
    Ok(res.text().await?)
}

/// A form sent from `html`, the page that holds it (its CSRF token).
pub fn form(
    c: &reqwest::Client,
    url: &str,
    html: &str,
    fields: &[(&str, &str)],
) -> anyhow::Result<reqwest::RequestBuilder> {
    let mut all = vec![("csrf_token", field(html, "csrf_token")?)];
    all.extend_from_slice(fields);
    Ok(c.post(url).form(&all))
}

/// Where a redirect (303) leads; fails with what the page said for any other answer.
pub async fn redirected(res: reqwest::Response, what: &str) -> anyhow::Result<String> {
    if res.status() == 303 {
        let to = res.headers().get("location").and_then(|l| l.to_str().ok());
        return Ok(to.unwrap_or_default().to_string());
    }
    let status = res.status();
    let html = res.text().await.unwrap_or_default();
    anyhow::bail!("{what}: {status} {}", words_of(&html))
}

/// A page's words without its tags, enough to see why a form was refused.
pub fn words_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let words: Vec<&str> = out.split_whitespace().collect();
    words.join(" ").chars().take(1500).collect()
}

pub async fn signed_in(base: &str, email: &str) -> anyhow::Result<reqwest::Client> {
    let c = browser()?;
    let html = page(&c, &format!("{base}/connexion")).await?;
    let fields = [("email", email), ("password", PASSWORD)];
    let res = form(&c, &format!("{base}/connexion"), &html, &fields)?
        .send()
        .await?;
    redirected(res, "sign-in").await?;
    Ok(c)
}

/// The organism's administrator copies the reference CQP as programme `code`, through the
/// organism's list of programmes.
pub async fn copy_cqp(
    admin: &reqwest::Client,
    base: &str,
    org: i64,
    code: &str,
) -> anyhow::Result<()> {
    let list_url = format!("{base}/organismes/{org}/programmes");
    let list = page(admin, &list_url).await?;
    let fields = [("source", "CQP-AM"), ("code", code), ("title", "CQP copié")];
    redirected(
        form(admin, &list_url, &list, &fields)?.send().await?,
        "copy",
    )
    .await?;
    Ok(())
}

/// Sends `bytes` as the file `name` into `module` (its folder) of programme `code`'s draft,
/// through the editor's upload form. Returns how long the upload took, from its sending to
/// the server's answer that it kept the file (the editor page before it is not counted).
pub async fn upload_file(
    admin: &reqwest::Client,
    base: &str,
    (code, module): (&str, &str),
    bytes: Vec<u8>,
    name: &str,
) -> anyhow::Result<std::time::Duration> {
    let editor = format!("{base}/auteur/programmes/{code}");
    let html = page(admin, &editor).await?;
    let parts = reqwest::multipart::Form::new()
        .text("csrf_token", field(&html, "csrf_token")?.to_string())
        .text("revision", field(&html, "revision")?.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
        );
    let t = std::time::Instant::now();
    let res = admin
        .post(format!("{editor}/modules/{module}/fichiers"))
        .multipart(parts)
        .send()
        .await?;
    redirected(res, "upload").await?;
    Ok(t.elapsed())
}

/// Adds an activity (the editor's form: `fields` besides the revision) to programme `code`'s
/// draft, then publishes the draft.
pub async fn add_and_publish(
    admin: &reqwest::Client,
    base: &str,
    code: &str,
    fields: &[(&str, &str)],
) -> anyhow::Result<()> {
    let editor = format!("{base}/auteur/programmes/{code}");
    let html = page(admin, &editor).await?;
    let mut all = vec![("revision", field(&html, "revision")?)];
    all.extend_from_slice(fields);
    let add = form(admin, &format!("{editor}/activites"), &html, &all)?;
    redirected(add.send().await?, "add the activity").await?;
    let html = page(admin, &editor).await?;
    let publish = form(
        admin,
        &format!("{editor}/publier"),
        &html,
        &[("revision", field(&html, "revision")?)],
    )?;
    redirected(publish.send().await?, "publish").await?;
    Ok(())
}
