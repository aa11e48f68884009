//! Test harness: the real application on port 0, on a temporary SQLite file or, when
//! `PARCOURS_TEST_PG` is set, on a fresh PostgreSQL database; its files in a temporary folder
//! or, when `PARCOURS_TEST_S3` is set, under a fresh prefix of the S3 test bucket.

use std::collections::HashMap;

use diesel::prelude::*;
use parcours::accounts::{Role, password, store as users};
use parcours::db::{self, DbConn};
use parcours::{AppConfig, Application};
use reqwest::multipart::Form;

pub const SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

pub struct TestApp {
    pub address: String,
    pub database_url: String,
    pub db: Db,
    pub dir: tempfile::TempDir,
    /// The app's own shelves of files, to look at what it kept.
    pub objects: parcours::objects::Objects,
    pg_database: Option<(String, String)>,
}

/// Setup and checks straight on a database, whichever process serves it.
pub struct Db {
    pub pool: db::Pool,
}

impl std::ops::Deref for TestApp {
    type Target = Db;

    fn deref(&self) -> &Db {
        &self.db
    }
}

pub fn pg_base() -> Option<String> {
    std::env::var("PARCOURS_TEST_PG")
        .ok()
        .filter(|v| !v.is_empty())
}

/// The PostgreSQL server used by tests that need one whatever the run's backend.
pub fn pg_server() -> String {
    pg_base().unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432".into())
}

pub fn random_suffix() -> String {
    let mut raw = [0u8; 6];
    getrandom::fill(&mut raw).unwrap();
    raw.iter().map(|b| format!("{b:02x}")).collect()
}

/// A database of the test server. Without TLS: on loopback it protects nothing, and libpq's
/// OpenSSL state torn down at process exit while the in-process server's pool still holds
/// TLS connections crashed test processes after their test had passed (SIGSEGV).
fn pg_url(server: &str, database: &str) -> String {
    format!("{server}/{database}?sslmode=disable")
}

/// A fresh, empty PostgreSQL database; returns its URL and name.
pub fn create_pg_database(server: &str) -> (String, String) {
    let name = format!("parcours_t_{}", random_suffix());
    let mut admin = diesel::PgConnection::establish(&pg_url(server, "postgres"))
        .expect("PostgreSQL must be running for this test (see .ci/run)");
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .unwrap();
    (pg_url(server, &name), name)
}

pub fn drop_pg_database(server: &str, name: &str) {
    if let Ok(mut admin) = diesel::PgConnection::establish(&pg_url(server, "postgres")) {
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin);
    }
}

/// The S3-compatible server `.ci/run` starts (s3s-fs), whatever the run's backend.
pub fn s3_endpoint() -> String {
    std::env::var("PARCOURS_TEST_S3_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:9014".into())
}

/// Whether this run keeps every file of every test app on S3 (`.ci/run` does on PostgreSQL).
pub fn on_s3() -> bool {
    std::env::var("PARCOURS_TEST_S3").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The settings of a fresh prefix of the test bucket: each app its own, so none sees
/// another's files.
pub fn s3_env() -> HashMap<String, String> {
    HashMap::from([
        (
            "PARCOURS_STORAGE_URL".into(),
            format!("s3://parcours-test/t-{}", random_suffix()),
        ),
        ("PARCOURS_STORAGE_ENDPOINT".into(), s3_endpoint()),
        ("PARCOURS_STORAGE_ACCESS_KEY".into(), "parcours".into()),
        (
            "PARCOURS_STORAGE_SECRET_KEY".into(),
            "parcours-secret-key".into(),
        ),
    ])
}

pub fn base_env(dir: &std::path::Path, database_url: &str) -> HashMap<String, String> {
    let mut env = plain_env(dir, database_url);
    if on_s3() {
        env.extend(s3_env());
    }
    env
}

/// The settings of a test app whatever the run's backend: files on the local folders.
pub fn plain_env(dir: &std::path::Path, database_url: &str) -> HashMap<String, String> {
    let root = env!("CARGO_MANIFEST_DIR");
    HashMap::from([
        ("PARCOURS_BIND".into(), "127.0.0.1:0".into()),
        (
            "PARCOURS_DATA_DIR".into(),
            dir.to_string_lossy().into_owned(),
        ),
        ("DATABASE_URL".into(), database_url.to_string()),
        ("PARCOURS_SECRET".into(), SECRET.into()),
        ("PARCOURS_TEMPLATES_DIR".into(), format!("{root}/templates")),
        ("PARCOURS_CONTENT_DIR".into(), format!("{root}/content")),
        ("PARCOURS_LOGIN_IP_PER_MINUTE".into(), "1000".into()),
        ("PARCOURS_DB_POOL".into(), "4".into()),
        ("PARCOURS_MAIL_POLL_MS".into(), "50".into()),
        ("PARCOURS_JOBS".into(), "false".into()),
        ("PARCOURS_MAIL_RETRY_BASE_SECS".into(), "1".into()),
    ])
}

/// The shelves an app started with `env` keeps its files on.
pub fn objects_of(env: &HashMap<String, String>) -> parcours::objects::Objects {
    let config = AppConfig::from_sources(env, None).unwrap();
    parcours::objects::Objects::open(&config.files, &config.data_dir).unwrap()
}

/// The names of the files on a shelf. The shelf blocks: listed off this test's runtime,
/// which also serves the app.
pub fn names_on(shelf: &parcours::objects::Shelf) -> Vec<String> {
    let shelf = shelf.clone();
    std::thread::spawn(move || shelf.list().unwrap())
        .join()
        .unwrap()
        .into_iter()
        .map(|s| s.sha256)
        .collect()
}

/// A kept file's bytes (checked by hash), read off the async runtime.
pub fn read_kept(shelf: &parcours::objects::Shelf, sha: &str) -> Vec<u8> {
    let (shelf, sha) = (shelf.clone(), sha.to_string());
    std::thread::spawn(move || shelf.read(&sha).unwrap())
        .join()
        .unwrap()
}

/// The run's database for a test: a SQLite file in `dir`, or a fresh PostgreSQL database
/// (its server and name, to drop it) when `PARCOURS_TEST_PG` is set.
pub fn test_database(dir: &std::path::Path) -> (String, Option<(String, String)>) {
    match pg_base() {
        Some(server) => {
            let (url, name) = create_pg_database(&server);
            (url, Some((server, name)))
        }
        None => (format!("sqlite://{}/parcours.db", dir.display()), None),
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(tweak: impl FnOnce(&mut HashMap<String, String>)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let (database_url, pg_database) = test_database(dir.path());
    let mut env = base_env(dir.path(), &database_url);
    tweak(&mut env);
    let config = AppConfig::from_sources(&env, None).unwrap();
    let objects = parcours::objects::Objects::open(&config.files, &config.data_dir).unwrap();
    let app = Application::build(config).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let (pool, _) = db::connect(&database_url, 2).unwrap();
    TestApp {
        address,
        database_url,
        db: Db { pool },
        dir,
        objects,
        pg_database,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some((server, name)) = &self.pg_database {
            drop_pg_database(server, name);
        }
    }
}

impl TestApp {
    /// The names (SHA-256) of the uploads kept, wherever they are kept.
    pub fn kept_uploads(&self) -> Vec<String> {
        names_on(&self.objects.uploads)
    }

    /// The names of the programme files kept.
    pub fn kept_programme_files(&self) -> Vec<String> {
        names_on(&self.objects.programmes)
    }

    /// Uploads waiting in the staging folder (none once a request has answered).
    pub fn staged_uploads(&self) -> usize {
        std::fs::read_dir(self.objects.uploads.staging())
            .map(|d| d.flatten().count())
            .unwrap_or(0)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }
}

impl Db {
    pub fn conn(&self) -> db::PooledConn {
        self.pool.get().unwrap()
    }

    pub fn create_organism(&self, name: &str) -> i64 {
        let mut conn = self.conn();
        parcours::organisms::store::create(
            &mut conn,
            None,
            &parcours::organisms::rules::Organism {
                name: name.into(),
                ..Default::default()
            },
        )
        .unwrap()
    }

    pub fn create_user(&self, role: Role, organism: Option<i64>, email: &str, pw: &str) -> i64 {
        let hash = password::hash(pw).unwrap();
        let email = parcours::base::field::normalize_email(email).unwrap();
        let mut conn = self.conn();
        users::create(
            &mut conn,
            None,
            users::NewUser {
                email: &email,
                name: &format!("Personne {email}"),
                role,
                organism_id: organism,
                password_hash: Some(&hash),
            },
        )
        .unwrap()
    }

    /// Audit actions recorded for a key (an email), oldest first.
    pub fn audit_actions(&self, key: &str) -> Vec<String> {
        use parcours::db::schema::audit_events as a;
        let mut conn = self.conn();
        a::table
            .filter(a::subject_key.eq(key))
            .order(a::id.asc())
            .select(a::action)
            .load(&mut *conn as &mut DbConn)
            .unwrap()
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of the first `name="csrf_token"` field of a page.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("page has a CSRF field") + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_string()
}

pub async fn csrf_from(client: &reqwest::Client, url: &str) -> String {
    let html = client.get(url).send().await.unwrap().text().await.unwrap();
    csrf_of(&html)
}

/// Where a visitor goes: a test app, a `parcours serve` process, or a base address such as
/// `http://127.0.0.1:8080` (another instance, a proxy in front).
pub trait Site {
    fn url(&self, path: &str) -> String;
}

impl Site for TestApp {
    fn url(&self, path: &str) -> String {
        TestApp::url(self, path)
    }
}

impl Site for Server {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }
}

impl Site for str {
    fn url(&self, path: &str) -> String {
        format!("{self}{path}")
    }
}

impl Site for String {
    fn url(&self, path: &str) -> String {
        format!("{self}{path}")
    }
}

/// The page a visitor reads its CSRF token from when the test needs no other. The token
/// belongs to the browser (an HMAC of its CSRF cookie, `src/web/csrf.rs`), not to a page:
/// every form of every page carries the same one. The sign-in page opens for anyone, signed
/// in or not, and reads nothing.
pub const TOKEN_PAGE: &str = "/connexion";

/// The fields of a form that is only a button: it sends its CSRF token and nothing else.
pub const NO_FIELDS: &[(&str, &str)] = &[];

/// What a person does in a browser: read a page, send a form of it. Every form is sent
/// with this browser's CSRF token, read as the page would give it; the token goes first.
/// Tests that send a wrong, missing or stale token build their request by hand.
#[allow(async_fn_in_trait)]
pub trait Visitor {
    /// The text of a page.
    async fn get_text(&self, site: &(impl Site + ?Sized), path: &str) -> String;

    /// Sends a form with a token freshly read from [`TOKEN_PAGE`]. Repeated keys are sent
    /// as given, in order.
    async fn post_form<K: AsRef<str>, V: AsRef<str>>(
        &self,
        site: &(impl Site + ?Sized),
        path: &str,
        fields: &[(K, V)],
    ) -> reqwest::Response;

    /// Sends a form with a token read by opening `page` first, as a person who follows a
    /// link to a form does.
    async fn post_form_from<K: AsRef<str>, V: AsRef<str>>(
        &self,
        site: &(impl Site + ?Sized),
        page: &str,
        path: &str,
        fields: &[(K, V)],
    ) -> reqwest::Response;

    /// Sends a form with the token of a page the test has already read (`html`), without
    /// opening another page.
    async fn post_form_of<K: AsRef<str>, V: AsRef<str>>(
        &self,
        site: &(impl Site + ?Sized),
        html: &str,
        path: &str,
        fields: &[(K, V)],
    ) -> reqwest::Response;

    /// Sends a multipart form whose first part is a token freshly read from
    /// [`TOKEN_PAGE`]; `parts` adds the rest.
    async fn post_multipart(
        &self,
        site: &(impl Site + ?Sized),
        path: &str,
        parts: impl FnOnce(Form) -> Form,
    ) -> reqwest::Response;

    /// A multipart form with a token read by opening `page` first.
    async fn post_multipart_from(
        &self,
        site: &(impl Site + ?Sized),
        page: &str,
        path: &str,
        parts: impl FnOnce(Form) -> Form,
    ) -> reqwest::Response;

    /// A multipart form with the token of a page the test has already read.
    async fn post_multipart_of(
        &self,
        site: &(impl Site + ?Sized),
        html: &str,
        path: &str,
        parts: impl FnOnce(Form) -> Form,
    ) -> reqwest::Response;
}

impl Visitor for reqwest::Client {
    async fn get_text(&self, site: &(impl Site + ?Sized), path: &str) -> String {
        let res = self.get(site.url(path)).send().await.unwrap();
        res.text().await.unwrap()
    }

    async fn post_form<K: AsRef<str>, V: AsRef<str>>(
        &self,
        site: &(impl Site + ?Sized),
        path: &str,
        fields: &[(K, V)],
    ) -> reqwest::Response {
        self.post_form_from(site, TOKEN_PAGE, path, fields).await
    }

    async fn post_form_from<K: AsRef<str>, V: AsRef<str>>(
        &self,
        site: &(impl Site + ?Sized),
        page: &str,
        path: &str,
        fields: &[(K, V)],
    ) -> reqwest::Response {
        let html = self.get_text(site, page).await;
        self.post_form_of(site, &html, path, fields).await
    }

    async fn post_form_of<K: AsRef<str>, V: AsRef<str>>(
        &self,
        site: &(impl Site + ?Sized),
        html: &str,
        path: &str,
        fields: &[(K, V)],
    ) -> reqwest::Response {
        let token = csrf_of(html);
        let mut form = vec![("csrf_token", token.as_str())];
        form.extend(fields.iter().map(|(k, v)| (k.as_ref(), v.as_ref())));
        self.post(site.url(path)).form(&form).send().await.unwrap()
    }

    async fn post_multipart(
        &self,
        site: &(impl Site + ?Sized),
        path: &str,
        parts: impl FnOnce(Form) -> Form,
    ) -> reqwest::Response {
        self.post_multipart_from(site, TOKEN_PAGE, path, parts)
            .await
    }

    async fn post_multipart_from(
        &self,
        site: &(impl Site + ?Sized),
        page: &str,
        path: &str,
        parts: impl FnOnce(Form) -> Form,
    ) -> reqwest::Response {
        let html = self.get_text(site, page).await;
        self.post_multipart_of(site, &html, path, parts).await
    }

    async fn post_multipart_of(
        &self,
        site: &(impl Site + ?Sized),
        html: &str,
        path: &str,
        parts: impl FnOnce(Form) -> Form,
    ) -> reqwest::Response {
        let form = parts(Form::new().text("csrf_token", csrf_of(html)));
        self.post(site.url(path))
            .multipart(form)
            .send()
            .await
            .unwrap()
    }
}

pub async fn login(
    app: &TestApp,
    client: &reqwest::Client,
    email: &str,
    pw: &str,
) -> reqwest::Response {
    client
        .post_form(app, "/connexion", &[("email", email), ("password", pw)])
        .await
}

/// A client already signed in as a new user of this role.
pub async fn signed_in(
    app: &TestApp,
    role: Role,
    organism: Option<i64>,
    email: &str,
) -> (reqwest::Client, i64) {
    let pw = "mot-de-passe-solide";
    let id = app.create_user(role, organism, email, pw);
    let c = client();
    let res = login(app, &c, email, pw).await;
    assert_eq!(res.status(), 303, "login of {email}");
    (c, id)
}

/// A cohort's CSV file sent through its import page, as a person does: an accepted file
/// answers with a redirect to its report (followed here, as a browser does), a refused one with
/// the page and its errors.
pub async fn upload_import(
    app: &TestApp,
    c: &reqwest::Client,
    cohort: i64,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let res = post_import(app, c, cohort, bytes).await;
    if res.status() != 303 {
        return res;
    }
    let to = res.headers()["location"].to_str().unwrap().to_string();
    assert!(
        to.starts_with(&format!("/promotions/{cohort}?import=")),
        "{to}"
    );
    c.get(app.url(&to)).send().await.unwrap()
}

/// The upload itself, without following its answer.
pub async fn post_import(
    app: &TestApp,
    c: &reqwest::Client,
    cohort: i64,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let path = format!("/promotions/{cohort}/import");
    c.post_multipart(app, &path, |form| {
        // Test cohorts began on 01/09/2026: staff confirm late enrolments.
        form.text("confirm", "1").part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name("stagiaires.csv"),
        )
    })
    .await
}

/// A free port on 127.0.0.1 (bound then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16) {
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("nothing listens on port {port}");
}

/// A real SMTP server (Debian's aiosmtpd) writing each message to `DIR/new/`.
pub struct Smtp {
    pub port: u16,
    pub dir: std::path::PathBuf,
    _root: tempfile::TempDir,
    child: Option<std::process::Child>,
    /// An address the server refuses for good (550 at RCPT TO), if any.
    refused: Option<String>,
}

impl Smtp {
    pub fn start() -> Smtp {
        Smtp::start_with(None)
    }

    /// A server that answers `550 5.1.1` for `address` (`tests/assets/refusing_mailbox.py`).
    pub fn refusing(address: &str) -> Smtp {
        Smtp::start_with(Some(address.to_string()))
    }

    fn start_with(refused: Option<String>) -> Smtp {
        let root = tempfile::tempdir().unwrap();
        let mut smtp = Smtp {
            port: free_port(),
            dir: root.path().join("maildir"),
            _root: root,
            child: None,
            refused,
        };
        smtp.resume();
        smtp
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }

    pub fn resume(&mut self) {
        let mut command = std::process::Command::new("aiosmtpd");
        command.args(["-n", "-l", &format!("127.0.0.1:{}", self.port)]);
        match &self.refused {
            None => command
                .args(["-c", "aiosmtpd.handlers.Mailbox"])
                .arg(&self.dir),
            Some(address) => command
                .env(
                    "PYTHONPATH",
                    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/assets"),
                )
                .args(["-c", "refusing_mailbox.RefusingMailbox"])
                .arg(&self.dir)
                .arg(address),
        };
        let child = command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("aiosmtpd (Debian package python3-aiosmtpd) must be installed");
        self.child = Some(child);
        wait_for_port(self.port);
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn messages(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.dir.join("new")) else {
            return vec![];
        };
        let mut files: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        files.sort();
        files
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }

    /// Waits until at least `n` messages arrived, then returns them all.
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let got = self.messages();
            if got.len() >= n || std::time::Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The readable text of a MIME message: headers with encoded words undone, and the
/// quoted-printable and base64 parts decoded (tests only look for phrases in it).
pub fn mail_text(raw: &str) -> String {
    let raw = raw.replace("\r\n", "\n");
    let mut out = decode_words(&decode_qp(&raw));
    let mut rest = raw.as_str();
    while let Some(i) = rest
        .to_ascii_lowercase()
        .find("content-transfer-encoding: base64\n\n")
    {
        let body = &rest[i + 35..];
        let b64: String = body
            .lines()
            .take_while(|l| !l.trim().is_empty() && !l.starts_with("--"))
            .collect();
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) {
            out.push('\n');
            out.push_str(&String::from_utf8_lossy(&bytes));
        }
        rest = body;
    }
    out
}

/// Undoes RFC 2047 encoded words (`=?utf-8?b?…?=`) in headers.
fn decode_words(raw: &str) -> String {
    let mut out = String::new();
    let mut rest = raw;
    while let Some(start) = rest.find("=?utf-8?") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 8..];
        let Some(end) = after[2..].find("?=") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let (kind, data) = (&after[..1], &after[2..2 + end]);
        let decoded = if kind.eq_ignore_ascii_case("b") {
            base64::engine::general_purpose::STANDARD
                .decode(data)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default()
        } else {
            decode_qp(&data.replace('_', " "))
        };
        out.push_str(&decoded);
        rest = &after[2 + end + 2..];
    }
    out.push_str(rest);
    out
}

fn decode_qp(s: &str) -> String {
    let s = s.replace("=\r\n", "").replace("=\n", "");
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The first link of a message that starts with this URL prefix.
pub fn link_in(text: &str, prefix: &str) -> String {
    let start = text.find(prefix).expect("link in mail");
    text[start..]
        .split(|c: char| c.is_whitespace() || c == '"' || c == '<')
        .next()
        .unwrap()
        .to_string()
}

// Shared with the instances bench, which cannot use the rest of this file.
#[path = "nginx.rs"]
mod nginx;
pub use nginx::Nginx;

/// A `parcours serve` process, for tests that kill or run several instances.
pub struct Server {
    pub address: String,
    child: std::process::Child,
}

impl Server {
    pub fn start(env: &HashMap<String, String>) -> Server {
        Self::start_via(&[], env)
    }

    /// Started through a command that runs another, such as `ip netns exec NS`: that
    /// command must exec the server in place, so that `kill` reaches the server itself.
    pub fn start_via(prefix: &[&str], env: &HashMap<String, String>) -> Server {
        use std::io::BufRead;
        let binary = env!("CARGO_BIN_EXE_parcours");
        let mut command = match prefix.split_first() {
            Some((first, rest)) => {
                let mut c = std::process::Command::new(first);
                c.args(rest).arg(binary);
                c
            }
            None => std::process::Command::new(binary),
        };
        let mut child = command
            .arg("serve")
            .envs(env)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        // Kept so that a server that does not start says why.
        let errors = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
            text
        });
        let mut reader = std::io::BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        // Keep draining so the process never writes into a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let Some(address) = line.split_whitespace().find(|w| w.starts_with("http://")) else {
            let _ = child.wait();
            panic!("the server did not start: {}", errors.join().unwrap());
        };
        let address = address.to_string();
        Server { address, child }
    }

    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, as systemd stops a service.
    pub fn terminate(&self) {
        let pid = i32::try_from(self.child.id()).unwrap();
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    }

    /// How the process ended, if it did within `secs`.
    pub fn exit_within(&mut self, secs: u64) -> Option<std::process::ExitStatus> {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        while std::time::Instant::now() < until {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A closed sign-in sheet of 09 h 00 – 12 h 30 with one line.
#[allow(clippy::too_many_arguments)]
pub fn closed_sheet(
    app: &Db,
    cohort: i64,
    module: i64,
    trainee: i64,
    opener: i64,
    day: chrono::NaiveDate,
    status: &str,
    arrived: Option<chrono::NaiveTime>,
    minutes: i32,
    note: Option<&str>,
) {
    use parcours::db::schema::{attendance_entries, attendance_sheets, sessions};
    let mut conn = app.conn();
    let c = &mut *conn as &mut DbConn;
    let t = |h, m| chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap();
    let session: i64 = diesel::insert_into(sessions::table)
        .values((
            sessions::cohort_id.eq(cohort),
            sessions::module_id.eq(module),
            sessions::day.eq(day),
            sessions::starts_at.eq(t(9, 0)),
            sessions::ends_at.eq(t(12, 30)),
            sessions::place.eq("Salle 1"),
            sessions::planned_minutes.eq(210),
            sessions::created_at.eq(parcours::db::now()),
        ))
        .returning(sessions::id)
        .get_result(c)
        .unwrap();
    let sheet: i64 = diesel::insert_into(attendance_sheets::table)
        .values((
            attendance_sheets::session_id.eq(session),
            attendance_sheets::status.eq("closed"),
            attendance_sheets::opened_by.eq(opener),
            attendance_sheets::opened_at.eq(parcours::db::now()),
            attendance_sheets::closed_by.eq(opener),
            attendance_sheets::closed_at.eq(parcours::db::now()),
        ))
        .returning(attendance_sheets::id)
        .get_result(c)
        .unwrap();
    diesel::insert_into(attendance_entries::table)
        .values((
            attendance_entries::sheet_id.eq(sheet),
            attendance_entries::trainee_id.eq(trainee),
            attendance_entries::status.eq(status),
            attendance_entries::arrived_at.eq(arrived),
            attendance_entries::minutes_credited.eq(minutes),
            attendance_entries::note.eq(note),
        ))
        .execute(c)
        .unwrap();
}

/// One study heartbeat of a lesson page, as `study.js` sends it.
pub async fn beat(
    app: &TestApp,
    token: &str,
    lesson: i64,
    view: &str,
    seq: i64,
) -> reqwest::Response {
    client()
        .post(app.url("/api/v1/study/heartbeats"))
        .bearer_auth(token)
        .json(&serde_json::json!({"page": "lesson", "lesson_id": lesson, "view": view, "seq": seq}))
        .send()
        .await
        .unwrap()
}

/// Moves the trainee's study clock back, as if time had passed since the last beat.
pub fn rewind(app: &Db, trainee: i64, secs: i64) {
    let mut conn = app.conn();
    use parcours::db::schema::study_clocks;
    let at: chrono::NaiveDateTime = study_clocks::table
        .filter(study_clocks::trainee_id.eq(trainee))
        .select(study_clocks::last_credit_at)
        .first(&mut *conn as &mut DbConn)
        .unwrap();
    diesel::update(study_clocks::table.filter(study_clocks::trainee_id.eq(trainee)))
        .set(study_clocks::last_credit_at.eq(at - chrono::Duration::seconds(secs)))
        .execute(&mut *conn as &mut DbConn)
        .unwrap();
}

use base64::Engine as _;

impl Db {
    /// A cohort of this organism on the given programme ("CQP-AM" or "FAE-AM").
    pub fn create_cohort(&self, org: i64, program: &str) -> i64 {
        use parcours::db::schema::programs;
        let mut conn = self.conn();
        let (pid, vid): (i64, i64) = programs::table
            .filter(programs::code.eq(program))
            .select((programs::id, programs::version_id))
            .first(&mut *conn)
            .unwrap();
        let start = chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
        parcours::cohorts::store::create_cohort(
            &mut conn,
            None,
            &parcours::cohorts::store::NewCohort {
                organism_id: org,
                program_id: pid,
                content_version_id: vid,
                name: &format!("Promotion {program} {}", random_suffix()),
                start_date: start,
                end_date: start + chrono::Months::new(11),
            },
        )
        .unwrap()
    }

    /// A CQP cohort of this organism starting in 400 days, published in the catalogue.
    pub fn listed_cohort(&self, org: i64) -> i64 {
        use parcours::db::schema::cohorts;
        let id = self.create_cohort(org, "CQP-AM");
        let start = parcours::base::paris::today() + chrono::Days::new(400);
        let mut conn = self.conn();
        diesel::update(cohorts::table.find(id))
            .set((
                cohorts::start_date.eq(start),
                cohorts::end_date.eq(start + chrono::Months::new(11)),
            ))
            .execute(&mut *conn)
            .unwrap();
        let entry = parcours::catalogue::rules::Entry {
            city: "Lyon".into(),
            region: "auvergne-rhone-alpes".into(),
            distance_percent: 50,
            seats: 10,
            price_cents: 240_000,
            funding_routes: vec!["opco-ep".into()],
            contact_email: "contact@organisme.fr".into(),
            contact_phone: "04 72 00 00 00".into(),
            published: true,
        };
        parcours::catalogue::store::save(&mut conn, id, &entry, parcours::db::now()).unwrap();
        id
    }

    /// Enrols a trainee, giving them a profile (hired on 15/01/2025, no care diploma) if
    /// they have none.
    pub fn enrol(&self, org: i64, cohort: i64, trainee: i64) {
        use parcours::cohorts::store as cs;
        let mut conn = self.conn();
        let on = chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
        if cs::trainee(&mut conn, cs::Scope::Checked, trainee)
            .unwrap()
            .is_none()
        {
            cs::create_profile(
                &mut conn,
                &cs::NewProfile {
                    user_id: trainee,
                    organism_id: org,
                    profile: "aucun",
                    hire_date: chrono::NaiveDate::from_ymd_opt(2025, 1, 15).unwrap(),
                    funding: "proa",
                    employer_id: None,
                },
            )
            .unwrap();
        }
        cs::enrol(&mut conn, None, org, cohort, trainee, on).unwrap();
    }

    /// An open session of this user for hand-signed tokens, which must name one.
    pub fn open_session(&self, user: i64) -> i64 {
        use parcours::accounts::sessions;
        let session = sessions::NewSession {
            user_id: user,
            kind: sessions::Kind::Api,
            device: "test",
            ip: None,
            ttl_secs: 600,
        };
        sessions::open(&mut self.conn(), &session).unwrap()
    }

    /// Makes a doctor practising alone the employer of an enrolled trainee, in her organism.
    pub fn employ(&self, trainee: i64, doctor: i64, doctor_name: &str) -> i64 {
        use parcours::db::schema::trainee_profiles;
        let mut conn = self.conn();
        let org: i64 = trainee_profiles::table
            .filter(trainee_profiles::user_id.eq(trainee))
            .select(trainee_profiles::organism_id)
            .first(&mut *conn)
            .unwrap();
        let employer =
            parcours::cohorts::employers::doctor_employer(&mut conn, org, doctor, doctor_name)
                .unwrap();
        diesel::update(trainee_profiles::table.filter(trainee_profiles::user_id.eq(trainee)))
            .set(trainee_profiles::employer_id.eq(employer))
            .execute(&mut *conn as &mut DbConn)
            .unwrap();
        employer
    }
}

impl TestApp {
    /// Runs the `parcours` command line on this app's database and data folder (no mail
    /// worker: the outbox is left for the tests to read).
    pub fn cli<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> std::process::Output {
        let mut env = base_env(self.dir.path(), &self.database_url);
        env.insert("PARCOURS_MAIL_WORKER".into(), "false".into());
        std::process::Command::new(env!("CARGO_BIN_EXE_parcours"))
            .args(args)
            .envs(&env)
            .output()
            .unwrap()
    }

    /// A signed-in trainee enrolled in a new cohort of the programme.
    pub async fn trainee_in(&self, org: i64, program: &str, email: &str) -> (reqwest::Client, i64) {
        let cohort = self.create_cohort(org, program);
        let (c, id) = signed_in(self, Role::Trainee, Some(org), email).await;
        self.enrol(org, cohort, id);
        (c, id)
    }
}

/// A Bearer token for a harness user (password "mot-de-passe-solide").
pub async fn api_token(app: &TestApp, email: &str) -> String {
    let body: serde_json::Value = client()
        .post(app.url("/api/v1/auth/token"))
        .json(&serde_json::json!({"email": email, "password": "mot-de-passe-solide"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["token"].as_str().unwrap().to_string()
}

/// A half-day of 3 h 30 going on now (Paris time), so that its sheet can be signed: its day,
/// start and end. It starts up to 3 h ago and never runs past midnight.
pub fn half_day_now() -> (chrono::NaiveDate, chrono::NaiveTime, chrono::NaiveTime) {
    use chrono::Timelike;
    let now = parcours::base::paris::to_paris(chrono::Utc::now().naive_utc()).naive_local();
    let minutes = (now.hour() * 60 + now.minute()) as i64;
    let start = (minutes - 180).clamp(0, 20 * 60 + 29);
    let at = |m: i64| chrono::NaiveTime::from_hms_opt((m / 60) as u32, (m % 60) as u32, 0).unwrap();
    (now.date(), at(start), at(start + 210))
}

/// The shipped curriculum, loaded as the server loads it.
pub fn curriculum() -> parcours::curriculum::Curriculum {
    parcours::curriculum::loader::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("content"),
    )
    .expect("the shipped content loads")
}

/// A module of the shipped programmes by its code (M1…M4 are the CQP's, F1…F4 the FAE's).
pub fn reference_module(
    c: &parcours::curriculum::Curriculum,
    code: &str,
) -> parcours::curriculum::rules::Module {
    c.programs
        .iter()
        .find_map(|p| p.module(code))
        .cloned()
        .expect("module")
}

/// The names of a module's files (`files/x` → `x`) that its activities use, in order.
pub fn module_files(code: &str) -> Vec<String> {
    let c = curriculum();
    let m = reference_module(&c, code);
    m.activities
        .iter()
        .flat_map(|a| {
            a.resource().map(|r| r.file.clone()).into_iter().chain(
                a.assignment()
                    .into_iter()
                    .flat_map(|s| s.case_files.clone()),
            )
        })
        .map(|f| f.trim_start_matches("files/").to_string())
        .collect()
}

/// The right answer to each question an attempt drew, as the attempt form sends it: choice
/// ids, `i:j` pairs for a matching question (left i with the j-th right-hand item as shown),
/// a number with a French comma.
pub fn right_answers(
    quiz: &parcours::curriculum::quiz::Quiz,
    attempt: i64,
) -> Vec<(String, String)> {
    use parcours::curriculum::quiz::QuestionKind;
    quiz.for_attempt(attempt)
        .iter()
        .flat_map(|q| -> Vec<(String, String)> {
            match q.kind {
                QuestionKind::Matching => {
                    let rights = q.rights();
                    q.pairs
                        .iter()
                        .enumerate()
                        .map(|(i, p)| {
                            let j = rights.iter().position(|r| *r == p.right).unwrap();
                            (q.id.clone(), format!("{i}:{j}"))
                        })
                        .collect()
                }
                QuestionKind::Numeric => {
                    let n = q.numeric.as_ref().unwrap().answer;
                    vec![(q.id.clone(), n.to_string().replace('.', ","))]
                }
                _ => q
                    .correct
                    .iter()
                    .map(|c| (q.id.clone(), c.clone()))
                    .collect(),
            }
        })
        .collect()
}

/// The slug of a module's first assignment that takes text and files.
pub fn text_and_files_assignment(module: &str) -> String {
    let m = reference_module(&curriculum(), module);
    m.activities
        .iter()
        .find(|a| {
            a.assignment()
                .is_some_and(|s| s.answer == parcours::curriculum::rules::AnswerForm::TextAndFiles)
        })
        .map(|a| a.slug.clone())
        .expect("the module has an assignment taking text and files")
}
