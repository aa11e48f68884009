//! Operations: probes, metrics, request ids, and the backup round trip.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;

use crate::common::*;

#[tokio::test]
async fn probes_metrics_and_request_ids() {
    let app = spawn_app().await;
    let res = client().get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["schema"], "current");

    // Our own id on every answer; a proxy's sane id is kept, a forged one replaced.
    let res = client().get(app.url("/connexion")).send().await.unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(id.len() >= 8, "{id}");
    let res = client()
        .get(app.url("/connexion"))
        .header("X-Request-Id", "nginx-4f2a.9")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "nginx-4f2a.9");
    let res = client()
        .get(app.url("/connexion"))
        .header("X-Request-Id", "a\"b} {\"level\":\"ERROR")
        .send()
        .await
        .unwrap();
    assert_ne!(res.headers()["x-request-id"], "a\"b} {\"level\":\"ERROR");

    let org = app.create_organism("Organisme A");
    app.trainee_in(org, "CQP-AM", "alice@a.fr").await;
    let token = api_token(&app, "alice@a.fr").await;
    let lesson: i64 = parcours::db::schema::lessons::table
        .select(parcours::db::schema::lessons::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let res = client()
        .post(app.url("/api/v1/study/heartbeats"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"page": "lesson", "lesson_id": lesson, "view": "v1", "seq": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    client().get(app.url("/nulle-part")).send().await.unwrap();

    let res = client().get(app.url("/metrics")).send().await.unwrap();
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = res.text().await.unwrap();
    let value = |line: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(line))
            .unwrap_or_else(|| panic!("no {line} in\n{text}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(value("parcours_heartbeats_total{outcome=\"started\"}"), 1.0);
    assert!(value("parcours_http_requests_total{class=\"2xx\"}") >= 4.0);
    assert!(value("parcours_http_requests_total{class=\"4xx\"}") >= 1.0);
    assert_eq!(
        value("parcours_http_request_duration_seconds_count{kind=\"heartbeat\"}"),
        1.0
    );
    // The invitation of nobody: the outbox is empty, and says so.
    assert!(value("parcours_outbox_pending") >= 0.0);
    // Labels are a few fixed names: no path, id or user ever becomes one.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        if let Some((_, labels)) = line.split_once('{') {
            for pair in labels.split('}').next().unwrap().split(',') {
                let key = pair.split('=').next().unwrap();
                assert!(["class", "kind", "outcome", "le"].contains(&key), "{line}");
            }
        }
    }
}

fn tables(conn: &mut diesel::SqliteConnection) -> Vec<(String, i64)> {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let names: Vec<Name> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .load(conn)
    .unwrap();
    names
        .into_iter()
        .map(|t| {
            let c: Count = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM \"{}\"", t.name))
                .get_result(conn)
                .unwrap();
            (t.name, c.n)
        })
        .collect()
}

fn parcours(app: &TestApp, database_url: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_parcours"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("PARCOURS_DATA_DIR", app.dir.path())
        .output()
        .unwrap()
}

#[tokio::test]
async fn a_backup_taken_while_serving_restores_every_row() {
    let app = spawn_app().await;
    let file = app.dir.path().join("sauvegarde.db");
    let file_arg = file.to_string_lossy().to_string();
    if app.database_url.starts_with("postgres") {
        let out = parcours(&app, &app.database_url, &["backup", "--to", &file_arg]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
        assert!(!file.exists());
        return;
    }
    let org = app.create_organism("Organisme A");
    let (alice, _) = app.trainee_in(org, "CQP-AM", "alice@a.fr").await;
    app.create_user(
        Role::Trainer,
        Some(org),
        "formateur@a.fr",
        "mot-de-passe-solide",
    );
    // Pages keep being served while the copy is made.
    let busy = tokio::spawn({
        let url = app.url("/tableau-de-bord");
        async move {
            for _ in 0..50 {
                assert_eq!(alice.get(&url).send().await.unwrap().status(), 200);
            }
        }
    });
    let out = parcours(&app, &app.database_url, &["backup", "--to", &file_arg]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Sauvegarde écrite"));
    busy.await.unwrap();
    // A second backup never overwrites the first.
    let again = parcours(&app, &app.database_url, &["backup", "--to", &file_arg]);
    assert!(!again.status.success());

    let live_path = app.database_url.trim_start_matches("sqlite://").to_string();
    let live = tables(&mut diesel::SqliteConnection::establish(&live_path).unwrap());
    assert!(
        live.iter().any(|(t, n)| t == "users" && *n == 2),
        "{live:?}"
    );
    let restored_url = format!("sqlite://{}/restauree.db", app.dir.path().display());
    let out = parcours(&app, &restored_url, &["restore", "--from", &file_arg]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let restored = tables(
        &mut diesel::SqliteConnection::establish(restored_url.trim_start_matches("sqlite://"))
            .unwrap(),
    );
    assert_eq!(restored, live, "every table, every row");

    // A file that is not a backup changes nothing.
    let junk = app.dir.path().join("pas-une-base.db");
    std::fs::write(&junk, b"bonjour").unwrap();
    let out = parcours(
        &app,
        &restored_url,
        &["restore", "--from", &junk.to_string_lossy()],
    );
    assert!(!out.status.success());
    let after = tables(
        &mut diesel::SqliteConnection::establish(restored_url.trim_start_matches("sqlite://"))
            .unwrap(),
    );
    assert_eq!(after, live);
}

#[tokio::test]
async fn a_stopping_instance_finishes_the_request_in_flight_then_exits_cleanly() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let (database_url, pg) = match pg_base() {
        Some(server) => {
            let (url, name) = create_pg_database(&server);
            (url, Some((server, name)))
        }
        None => (format!("sqlite://{}/p.db", dir.path().display()), None),
    };
    let env = base_env(dir.path(), &database_url);
    let mut server = Server::start(&env);
    let db = Db {
        pool: parcours::db::connect(&database_url, 1).unwrap().0,
    };
    let org = db.create_organism("Organisme A");
    let cohort = db.create_cohort(org, "CQP-AM");
    db.create_user(
        Role::OrganismAdmin,
        Some(org),
        "chef@a.fr",
        "mot-de-passe-solide",
    );
    let token: serde_json::Value = client()
        .post(format!("{}/api/v1/auth/token", server.address))
        .json(&serde_json::json!({"email": "chef@a.fr", "password": "mot-de-passe-solide"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csv = "Nom;Prénom;E-mail;Profil;Date d'embauche;Médecin;E-mail du médecin;Financement\r\n\
               Roux;Léa;lea.roux@cabinet.fr;aucun;03/03/2025;Dr Élise Roy;roy@medecin.fr;Contrat de professionnalisation\r\n";
    let host = server.address.trim_start_matches("http://").to_string();
    let mut tcp = tokio::net::TcpStream::connect(&host).await.unwrap();
    let head = format!(
        "POST /api/v1/cohorts/{cohort}/import?confirm=true HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: text/csv\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        token["token"].as_str().unwrap(),
        csv.len()
    );
    let (first, rest) = csv.as_bytes().split_at(40);
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(first).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    // Stopped while the upload is half sent: no new request is taken, this one completes.
    server.terminate();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        client()
            .get(format!("{}/healthz", server.address))
            .timeout(std::time::Duration::from_secs(2))
            .send()
            .await
            .is_err(),
        "a stopping instance accepts nothing new"
    );
    tcp.write_all(rest).await.unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("\"created\":1") || answer.contains("\"created\": 1"),
        "{answer}"
    );
    let status = server.exit_within(15).expect("the instance exits");
    assert!(status.success(), "{status:?}");
    let imported: i64 = parcours::db::schema::users::table
        .filter(parcours::db::schema::users::email.eq("lea.roux@cabinet.fr"))
        .count()
        .get_result(&mut *db.conn() as &mut DbConn)
        .unwrap();
    assert_eq!(imported, 1);
    drop(db);
    if let Some((server, name)) = pg {
        drop_pg_database(&server, &name);
    }
}
