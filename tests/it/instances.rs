//! Two `parcours serve` processes on one database behind Debian's nginx, configured from
//! `deploy/nginx-parcours.conf`, without sticky sessions: sessions, CSRF, the login limit,
//! uploads and heartbeats work whichever instance a request reaches.

use std::collections::HashMap;

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{lessons, module_totals, study_clocks};

use crate::common::*;

fn answered(metrics: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with("parcours_http_requests_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn two_instances_behind_nginx_share_sessions_limits_files_and_hours() {
    let dir = tempfile::tempdir().unwrap();
    let (database_url, pg) = match pg_base() {
        Some(server) => {
            let (url, name) = create_pg_database(&server);
            (url, Some((server, name)))
        }
        None => (format!("sqlite://{}/p.db", dir.path().display()), None),
    };
    let mut env: HashMap<String, String> = base_env(dir.path(), &database_url);
    // No shared secret given: both instances must agree on the one the first creates.
    if !on_s3() {
        env.remove("PARCOURS_SECRET");
    }
    env.insert("PARCOURS_TRUSTED_PROXIES".into(), "127.0.0.1".into());
    // Both start at once on an empty database: the migrations run once.
    let (e1, e2) = (env.clone(), env.clone());
    let (a, b) = (
        std::thread::spawn(move || Server::start(&e1)),
        std::thread::spawn(move || Server::start(&e2)),
    );
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    let upstreams = [
        a.address.trim_start_matches("http://").to_string(),
        b.address.trim_start_matches("http://").to_string(),
    ];
    let nginx = Nginx::start(dir.path(), [&upstreams[0], &upstreams[1]]);
    let url = |p: &str| format!("{}{p}", nginx.address);

    let db = Db {
        pool: parcours::db::connect(&database_url, 2).unwrap().0,
    };
    let org = db.create_organism("Organisme A");
    let cohort = db.create_cohort(org, "CQP-AM");
    let pw = "mot-de-passe-solide";
    let alice = db.create_user(Role::Trainee, Some(org), "alice@a.fr", pw);
    db.enrol(org, cohort, alice);
    db.create_user(Role::Trainer, Some(org), "formateur@a.fr", pw);
    db.create_user(Role::Trainer, Some(org), "cible@a.fr", pw);

    // A session and its CSRF token made on one instance are honoured by the other.
    let c = client();
    for _ in 0..3 {
        let res = c
            .post_form(
                &nginx.address,
                "/connexion",
                &[("email", "alice@a.fr"), ("password", pw)],
            )
            .await;
        assert_eq!(res.status(), 303);
        for _ in 0..4 {
            let res = c.get(url("/tableau-de-bord")).send().await.unwrap();
            assert_eq!(res.status(), 200, "signed in on both instances");
            let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
            assert_eq!(
                id.len(),
                32,
                "nginx's $request_id reaches the instance: {id}"
            );
        }
    }

    // An attachment uploaded through one instance is read back through both.
    let pdf = b"%PDF-1.4\n% piece jointe partagee\n%%EOF\n".to_vec();
    let page = "/mon-suivi/modules/".to_string();
    let html = c
        .get(url("/mon-suivi"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = html.find(&page).unwrap();
    let end = html[start..].find('"').unwrap() + start;
    let module_page = html[start..end].to_string();
    let res = c
        .post_multipart(&nginx.address, &module_page, |form| {
            form.text("kind", "travail").text("body", "Ma fiche").part(
                "file",
                reqwest::multipart::Part::bytes(pdf.clone()).file_name("fiche.pdf"),
            )
        })
        .await;
    assert_eq!(res.status(), 303);
    let thread = res.headers()["location"]
        .to_str()
        .unwrap()
        .replace("#dernier", "");
    let html = c
        .get(url(&thread))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = html.find("/suivi/pieces/").unwrap();
    let end = html[start..].find('"').unwrap() + start;
    for _ in 0..4 {
        let got = c.get(url(&html[start..end])).send().await.unwrap();
        assert_eq!(got.bytes().await.unwrap().to_vec(), pdf);
    }

    // Heartbeats alternate between instances and are each credited once.
    let bearer = api_token_at(&nginx.address, "alice@a.fr").await;
    let lesson: i64 = lessons::table
        .order(lessons::id.asc())
        .select(lessons::id)
        .first(&mut *db.conn() as &mut DbConn)
        .unwrap();
    let mut credited = 0;
    for seq in 1..=12 {
        let res = client()
            .post(url("/api/v1/study/heartbeats"))
            .bearer_auth(&bearer)
            .json(&serde_json::json!({"page": "lesson", "lesson_id": lesson, "view": "v", "seq": seq}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.unwrap();
        credited += body["credited_seconds"].as_i64().unwrap();
        let mut conn = db.conn();
        diesel::update(study_clocks::table.filter(study_clocks::trainee_id.eq(alice)))
            .set(
                study_clocks::last_credit_at
                    .eq(parcours::db::now() - chrono::Duration::seconds(10)),
            )
            .execute(&mut *conn as &mut DbConn)
            .unwrap();
    }
    let total: i64 = module_totals::table
        .filter(module_totals::trainee_id.eq(alice))
        .select(module_totals::distance_seconds)
        .load::<i64>(&mut *db.conn() as &mut DbConn)
        .unwrap()
        .iter()
        .sum();
    assert_eq!(total, credited, "what was answered is what was stored");
    assert!((105..=115).contains(&total), "11 beats of 10 s: {total}");

    // The per-account login limit is counted across instances.
    let other = client();
    for _ in 0..10 {
        assert_eq!(
            login_at(&other, &nginx.address, "cible@a.fr", "faux").await,
            401
        );
    }
    assert_eq!(
        login_at(&other, &nginx.address, "cible@a.fr", pw).await,
        429
    );

    // Both instances took their share.
    for s in [&a, &b] {
        let text = client()
            .get(format!("{}/metrics", s.address))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            answered(&text) >= 15.0,
            "{}: {}",
            s.address,
            answered(&text)
        );
    }
    // A link's secret does not reach nginx's access log (the instances': `logged_path`).
    let c = reqwest::Client::new();
    let r = c
        .get(url("/medecin/secret-du-lien-de-test"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let log = std::fs::read_to_string(dir.path().join("nginx-access.log")).unwrap();
    assert!(log.contains("GET /medecin/[secret] "), "{log}");
    assert!(!log.contains("secret-du-lien-de-test"), "{log}");
    drop(nginx);
    drop((a, b));
    drop(db);
    if let Some((server, name)) = pg {
        drop_pg_database(&server, &name);
    }
}

async fn login_at(c: &reqwest::Client, base: &str, email: &str, pw: &str) -> u16 {
    c.post_form(base, "/connexion", &[("email", email), ("password", pw)])
        .await
        .status()
        .as_u16()
}

async fn api_token_at(base: &str, email: &str) -> String {
    let body: serde_json::Value = client()
        .post(format!("{base}/api/v1/auth/token"))
        .json(&serde_json::json!({"email": email, "password": "mot-de-passe-solide"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["token"].as_str().unwrap().to_string()
}
