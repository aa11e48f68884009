//! Test harness: the real application on port 0, on a temporary SQLite file or, when
//! `PARCOURS_TEST_PG` is set, on a fresh PostgreSQL database.

use std::collections::HashMap;

use diesel::prelude::*;
use parcours::accounts::{Role, password, store as users};
use parcours::db::{self, DbConn};
use parcours::{AppConfig, Application};

pub const SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

pub struct TestApp {
    pub address: String,
    pub database_url: String,
    pub pool: db::Pool,
    pub dir: tempfile::TempDir,
    pg_database: Option<(String, String)>,
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

fn random_suffix() -> String {
    let mut raw = [0u8; 6];
    getrandom::fill(&mut raw).unwrap();
    raw.iter().map(|b| format!("{b:02x}")).collect()
}

/// A fresh, empty PostgreSQL database; returns its URL and name.
pub fn create_pg_database(server: &str) -> (String, String) {
    let name = format!("parcours_t_{}", random_suffix());
    let mut admin = diesel::PgConnection::establish(&format!("{server}/postgres"))
        .expect("PostgreSQL must be running for this test (see .ci/run)");
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .unwrap();
    (format!("{server}/{name}"), name)
}

pub fn drop_pg_database(server: &str, name: &str) {
    if let Ok(mut admin) = diesel::PgConnection::establish(&format!("{server}/postgres")) {
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin);
    }
}

pub fn base_env(dir: &std::path::Path, database_url: &str) -> HashMap<String, String> {
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
    ])
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(tweak: impl FnOnce(&mut HashMap<String, String>)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let (database_url, pg_database) = match pg_base() {
        Some(server) => {
            let (url, name) = create_pg_database(&server);
            (url, Some((server, name)))
        }
        None => (
            format!("sqlite://{}/parcours.db", dir.path().display()),
            None,
        ),
    };
    let mut env = base_env(dir.path(), &database_url);
    tweak(&mut env);
    let config = AppConfig::from_sources(&env, None).unwrap();
    let app = Application::build(config).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let (pool, _) = db::connect(&database_url, 2).unwrap();
    TestApp {
        address,
        database_url,
        pool,
        dir,
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
    pub fn conn(&self) -> db::PooledConn {
        self.pool.get().unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn create_organism(&self, name: &str) -> i64 {
        let mut conn = self.conn();
        parcours::cohorts::store::create(
            &mut conn,
            None,
            &parcours::cohorts::rules::Organism {
                name: name.into(),
                siret: None,
                nda: None,
                address: None,
                qualiopi_number: None,
                contact_email: None,
                contact_phone: None,
            },
        )
        .unwrap()
    }

    pub fn create_user(&self, role: Role, organism: Option<i64>, email: &str, pw: &str) -> i64 {
        let hash = password::hash(pw).unwrap();
        let email = parcours::accounts::rules::normalize_email(email).unwrap();
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

pub async fn login(
    app: &TestApp,
    client: &reqwest::Client,
    email: &str,
    pw: &str,
) -> reqwest::Response {
    let token = csrf_from(client, &app.url("/connexion")).await;
    client
        .post(app.url("/connexion"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", email),
            ("password", pw),
        ])
        .send()
        .await
        .unwrap()
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
