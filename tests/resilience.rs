//! The resilience suite: faults while under load, against real processes. An instance is
//! killed and restarted behind nginx; PostgreSQL is stopped and started under a running
//! instance; the SQLite disk fills up. Each test prints its figures (requests, what was
//! acknowledged, what was lost: nothing) for the stop's note.

#[allow(dead_code)]
#[path = "it/common.rs"]
mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{
    attendance_entries, attendance_sheets, audit_events, followup_attachments, lessons,
    module_totals, modules,
};

use common::*;

const PW: &str = "mot-de-passe-solide";

async fn token_at(base: &str, email: &str) -> String {
    let body: serde_json::Value = client()
        .post(format!("{base}/api/v1/auth/token"))
        .json(&serde_json::json!({"email": email, "password": PW}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["token"].as_str().unwrap().to_string()
}

async fn signed_in_at(base: &str, email: &str) -> reqwest::Client {
    let c = client();
    let token = csrf_from(&c, &format!("{base}/connexion")).await;
    let res = c
        .post(format!("{base}/connexion"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", email),
            ("password", PW),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    c
}

/// The page holding the follow-up form of a module: the module's page until its thread
/// exists, then the thread. `None` when no answer came.
async fn form_page(c: &reqwest::Client, base: &str, page: &mut String) -> Option<String> {
    let res = c.get(format!("{base}{page}")).send().await.ok()?;
    if res.status() == 303 {
        *page = res.headers()["location"].to_str().ok()?.to_string();
        return Box::pin(form_page(c, base, page)).await;
    }
    res.text().await.ok()
}

#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    acknowledged: AtomicU64,
    refused: AtomicU64,
    /// Sent, but no answer came back (the instance died with it): committed or not.
    unanswered: AtomicU64,
}

impl Tally {
    /// Sends until `expected` comes back (20 tries, 100 ms apart), counting every try; a
    /// fault must be a clear 5xx. The answer, if one came, and how many tries failed.
    async fn send(
        &self,
        make: impl Fn() -> reqwest::RequestBuilder,
        expected: u16,
    ) -> (Option<reqwest::Response>, i64) {
        let mut failed = 0;
        for _ in 0..20 {
            self.requests.fetch_add(1, Ordering::Relaxed);
            match make().timeout(Duration::from_secs(10)).send().await {
                Ok(res) if res.status() == expected => {
                    self.acknowledged.fetch_add(1, Ordering::Relaxed);
                    return (Some(res), failed);
                }
                Ok(res) => {
                    assert!(
                        [502, 503, 504].contains(&res.status().as_u16()),
                        "a fault is a clear 5xx: {}",
                        res.status()
                    );
                    self.refused.fetch_add(1, Ordering::Relaxed);
                }
                Err(_) => {
                    self.unanswered.fetch_add(1, Ordering::Relaxed);
                }
            }
            failed += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        (None, failed)
    }

    fn line(&self, what: &str) -> String {
        format!(
            "{what}: {} requests, {} acknowledged, {} refused with an error status, {} without an answer",
            self.requests.load(Ordering::Relaxed),
            self.acknowledged.load(Ordering::Relaxed),
            self.refused.load(Ordering::Relaxed),
            self.unanswered.load(Ordering::Relaxed)
        )
    }
}

fn db_setup(dir: &std::path::Path) -> (String, Option<(String, String)>) {
    match pg_base() {
        Some(server) => {
            let (url, name) = create_pg_database(&server);
            (url, Some((server, name)))
        }
        None => (format!("sqlite://{}/p.db", dir.display()), None),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_instance_killed_and_restarted_under_load_loses_nothing_and_counts_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (database_url, pg) = db_setup(dir.path());
    let mut env: HashMap<String, String> = base_env(dir.path(), &database_url);
    env.insert("PARCOURS_TRUSTED_PROXIES".into(), "127.0.0.1".into());
    // The mail server is down for the whole run.
    let mut smtp = Smtp::start();
    env.insert("PARCOURS_SMTP_URL".into(), smtp.url());
    smtp.stop();
    let (pa, pb) = (free_port(), free_port());
    let env_a = {
        let mut e = env.clone();
        e.insert("PARCOURS_BIND".into(), format!("127.0.0.1:{pa}"));
        e
    };
    let env_b = {
        let mut e = env.clone();
        e.insert("PARCOURS_BIND".into(), format!("127.0.0.1:{pb}"));
        e
    };
    let a = Server::start(&env_a);
    let b = Server::start(&env_b);
    let nginx = Nginx::start(
        dir.path(),
        [&format!("127.0.0.1:{pa}"), &format!("127.0.0.1:{pb}")],
    );
    let base = nginx.address.clone();
    let db = Db {
        pool: parcours::db::connect(&database_url, 2).unwrap().0,
    };
    let org = db.create_organism("Organisme A");
    let cohort = db.create_cohort(org, "CQP-AM");
    // A lesson of the cohort's programme (rows come in no set order on PostgreSQL).
    let lesson: i64 = lessons::table
        .inner_join(modules::table.inner_join(parcours::db::schema::programs::table))
        .filter(parcours::db::schema::programs::code.eq("CQP-AM"))
        .order(lessons::id.asc())
        .select(lessons::id)
        .first(&mut *db.conn() as &mut DbConn)
        .unwrap();
    let mut trainees = vec![];
    for i in 0..8 {
        let email = format!("t{i}@a.fr");
        let id = db.create_user(Role::Trainee, Some(org), &email, PW);
        db.enrol(org, cohort, id);
        trainees.push((id, token_at(&base, &email).await));
    }
    let uploader = signed_in_at(&base, "t0@a.fr").await;
    let html = uploader
        .get(format!("{base}/mon-suivi"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = html.find("/mon-suivi/modules/").unwrap();
    let module_page = html[start..start + html[start..].find('"').unwrap()].to_string();
    let sessions = open_half_days(&db, org, cohort, HALF_DAYS);
    // Four trainees sign every open sheet from their phones while the instance dies.
    let mut signers = vec![];
    for (i, (id, _)) in trainees.iter().enumerate().skip(1).take(4) {
        let c = signed_in_at(&base, &format!("t{i}@a.fr")).await;
        let csrf = csrf_from(&c, &format!("{base}/emargement")).await;
        signers.push((*id, c, csrf));
    }

    let beats = Arc::new(Tally::default());
    let uploads = Arc::new(Tally::default());
    let signatures = Arc::new(Tally::default());
    let until = Instant::now() + Duration::from_secs(8);
    let mut signing = vec![];
    for (id, c, csrf) in signers {
        let (tally, base, sessions) = (signatures.clone(), base.clone(), sessions.clone());
        signing.push(tokio::spawn(async move {
            let mut signed = vec![];
            for session in sessions {
                if Instant::now() >= until {
                    break;
                }
                // Signing again is harmless: an unanswered signature is simply sent again.
                let sign = || {
                    c.post(format!("{base}/seances/{session}/signer"))
                        .form(&[("csrf_token", csrf.as_str())])
                };
                if tally.send(sign, 303).await.0.is_some() {
                    signed.push(session);
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            (id, signed)
        }));
    }
    let mut tasks = vec![];
    for (id, token) in trainees.clone() {
        let (beats, base) = (beats.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let c = client();
            let (mut acked, mut unanswered) = (0i64, 0i64);
            let mut seq = 0;
            while Instant::now() < until {
                seq += 1;
                // A beat without an answer is sent again with the same sequence number: the
                // server must not count it twice.
                let beat = || {
                    c.post(format!("{base}/api/v1/study/heartbeats"))
                        .bearer_auth(&token)
                        .json(&serde_json::json!({"page": "lesson", "lesson_id": lesson, "view": format!("v{id}"), "seq": seq}))
                };
                let (answer, failed) = beats.send(beat, 200).await;
                unanswered += failed;
                if let Some(res) = answer {
                    let body: serde_json::Value = res.json().await.unwrap();
                    acked += body["credited_seconds"].as_i64().unwrap();
                }
                tokio::time::sleep(Duration::from_millis(400)).await;
            }
            (id, acked, unanswered)
        }));
    }
    let upload_task = {
        let (uploads, base, mut page) = (uploads.clone(), base.clone(), module_page.clone());
        tokio::spawn(async move {
            let mut kept = vec![];
            let mut n = 0;
            while Instant::now() < until {
                n += 1;
                let pdf = format!("%PDF-1.4\n% travail {n}\n%%EOF\n").into_bytes();
                uploads.requests.fetch_add(1, Ordering::Relaxed);
                let Some(html) = form_page(&uploader, &base, &mut page).await else {
                    uploads.unanswered.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                if !html.contains("csrf_token") {
                    uploads.refused.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                let form = reqwest::multipart::Form::new()
                    .text("csrf_token", csrf_of(&html))
                    .text("kind", "travail")
                    .text("body", format!("Travail {n}"))
                    .part(
                        "file",
                        reqwest::multipart::Part::bytes(pdf.clone()).file_name("t.pdf"),
                    );
                match uploader
                    .post(format!("{base}{page}"))
                    .multipart(form)
                    .send()
                    .await
                {
                    Ok(res) if res.status() == 303 => {
                        uploads.acknowledged.fetch_add(1, Ordering::Relaxed);
                        kept.push(pdf);
                    }
                    Ok(_) => {
                        uploads.refused.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => {
                        uploads.unanswered.fetch_add(1, Ordering::Relaxed);
                    }
                }
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
            kept
        })
    };
    // Password resets asked meanwhile: each queues one mail the dead server cannot take.
    let resets = {
        let base = base.clone();
        tokio::spawn(async move {
            let c = client();
            // Acknowledged, and sent with no answer back (the instance died with it: the
            // reset may have been committed, and then its mail is owed too).
            let (mut asked, mut unanswered) = (0, 0);
            // Any other answer, kept to say what happened if the count is off.
            let mut others: Vec<(usize, u16)> = vec![];
            for i in 0..8 {
                let page = format!("{base}/mot-de-passe-oublie");
                let Ok(res) = c.get(&page).send().await else {
                    continue;
                };
                let html = res.text().await.unwrap_or_default();
                if !html.contains("csrf_token") {
                    continue;
                }
                let email = format!("t{i}@a.fr");
                let form = [("csrf_token", csrf_of(&html)), ("email", email)];
                match c.post(&page).form(&form).send().await {
                    Ok(r) if r.status() == 200 => asked += 1,
                    Err(_) => unanswered += 1,
                    Ok(r) => others.push((i, r.status().as_u16())),
                }
                tokio::time::sleep(Duration::from_millis(700)).await;
            }
            (asked, unanswered, others)
        })
    };
    tokio::time::sleep(Duration::from_millis(2500)).await;
    a.kill();
    eprintln!("instance A killed (SIGKILL) under load");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let a = Server::start(&env_a);
    eprintln!("instance A restarted");
    let mut per_trainee = vec![];
    for t in tasks {
        per_trainee.push(t.await.unwrap());
    }
    let kept = upload_task.await.unwrap();
    let mut signed = vec![];
    for t in signing {
        signed.push(t.await.unwrap());
    }
    let (asked, unanswered, others) = resets.await.unwrap();
    assert!(asked >= 4, "resets acknowledged: {asked}");
    assert!(smtp.messages().is_empty());
    // The mail server comes back: every acknowledged reset is delivered, once.
    smtp.resume();
    let mails = smtp.wait_for(asked, 60).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let delivered = smtp.messages();
    let per_address: Vec<usize> = (0..8)
        .map(|i| {
            let to = format!("t{i}@a.fr");
            delivered.iter().filter(|m| m.contains(&to)).count()
        })
        .collect();
    // A request whose instance died after its commit gets a 502 from nginx: its mail may
    // go, as for a request with no answer at all; never one more than that, never twice.
    let lost = others.iter().filter(|(_, status)| *status == 502).count();
    assert!(
        (asked..=asked + unanswered + lost).contains(&delivered.len()),
        "every acknowledged reset delivered: {} mails for {asked} acknowledged, {unanswered} unanswered ({} seen first); mails per address t0..t7 {per_address:?}; other answers (request, status) {others:?}",
        delivered.len(),
        mails.len()
    );
    for i in 0..8 {
        let to = format!("t{i}@a.fr");
        let n = delivered.iter().filter(|m| m.contains(&to)).count();
        assert!(n <= 1, "{to} got {n} mails: each mail once");
    }
    eprintln!(
        "mail server down for the whole run: {asked} resets acknowledged, {} mails delivered once it came back",
        delivered.len()
    );

    let mut conn = db.conn();
    for (id, acked, unanswered) in &per_trainee {
        let stored: i64 = module_totals::table
            .filter(module_totals::trainee_id.eq(id))
            .select(module_totals::distance_seconds)
            .load::<i64>(&mut *conn as &mut DbConn)
            .unwrap()
            .iter()
            .sum();
        assert!(
            stored >= *acked,
            "trainee {id}: {stored} s stored, {acked} s acknowledged"
        );
        // A beat committed whose answer was lost credited at most its own interval.
        assert!(
            stored <= acked + unanswered * 12,
            "trainee {id}: {stored} s stored for {acked} s acknowledged and {unanswered} unanswered"
        );
        assert!(*acked > 0, "trainee {id} studied");
    }
    let shelf = objects_of(&env).uploads;
    for pdf in &kept {
        let sha: String = {
            use sha2::Digest;
            sha2::Sha256::digest(pdf)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        };
        let rows: i64 = followup_attachments::table
            .filter(followup_attachments::sha256.eq(&sha))
            .count()
            .get_result(&mut *conn as &mut DbConn)
            .unwrap();
        assert_eq!(rows, 1, "an acknowledged upload is recorded once");
        assert_eq!(&read_kept(&shelf, &sha), pdf);
    }
    for (trainee, sessions) in &signed {
        assert!(!sessions.is_empty(), "trainee {trainee} signed");
        for session in sessions {
            let status: String = attendance_entries::table
                .inner_join(attendance_sheets::table)
                .filter(attendance_sheets::session_id.eq(session))
                .filter(attendance_entries::trainee_id.eq(trainee))
                .filter(attendance_entries::signed_at.is_not_null())
                .select(attendance_entries::status)
                .first(&mut *conn as &mut DbConn)
                .unwrap();
            assert_eq!(status, "present", "session {session}, trainee {trainee}");
        }
        // Each signature is one audited change, however often it was sent.
        let audited: Vec<Option<i64>> = audit_events::table
            .filter(audit_events::action.eq("attendance_signed"))
            .filter(audit_events::actor_user_id.eq(trainee))
            .select(audit_events::subject_id)
            .load(&mut *conn as &mut DbConn)
            .unwrap();
        let mut audited: Vec<i64> = audited.into_iter().flatten().collect();
        audited.sort();
        let mut acknowledged = sessions.clone();
        acknowledged.sort();
        // A signature committed whose answer was lost is sent again and acknowledged then.
        assert_eq!(audited, acknowledged, "trainee {trainee}");
    }
    eprintln!("{}", beats.line("heartbeats"));
    eprintln!("{}", uploads.line("uploads"));
    eprintln!(
        "{} (each signed once on its sheet, one audit row each)",
        signatures.line("signatures")
    );
    eprintln!(
        "acknowledged seconds {} = stored seconds {} (lost: 0)",
        per_trainee.iter().map(|t| t.1).sum::<i64>(),
        per_trainee
            .iter()
            .map(|(id, _, _)| module_totals::table
                .filter(module_totals::trainee_id.eq(id))
                .select(module_totals::distance_seconds)
                .load::<i64>(&mut *conn as &mut DbConn)
                .unwrap()
                .iter()
                .sum::<i64>())
            .sum::<i64>()
    );
    assert!(uploads.acknowledged.load(Ordering::Relaxed) >= 5);
    drop(conn);
    drop((nginx, a, b, db));
    if let Some((server, name)) = pg {
        drop_pg_database(&server, &name);
    }
}

const HALF_DAYS: usize = 40;

/// `n` in-person half-days of the cohort with their sheets open, as a trainer opens them.
fn open_half_days(db: &Db, org: i64, cohort: i64, n: usize) -> Vec<i64> {
    use parcours::cohorts::store as cohorts;
    let mut conn = db.conn();
    let c = &mut *conn as &mut DbConn;
    let trainer = db.create_user(Role::Trainer, Some(org), "formatrice@a.fr", PW);
    let module: i64 = modules::table.select(modules::id).first(c).unwrap();
    // Half-days going on now, so that they can be signed (a sheet is signed during its
    // half-day only).
    let (day, starts_at, ends_at) = common::half_day_now();
    let list: Vec<cohorts::NewSession> = (0..n)
        .map(|_| cohorts::NewSession {
            module_id: module,
            trainer_id: Some(trainer),
            day,
            starts_at,
            ends_at,
            place: "Salle 1",
        })
        .collect();
    cohorts::add_sessions(c, trainer, org, cohort, &list).unwrap();
    let mut ids = vec![];
    for s in cohorts::sessions_of(c, cohort).unwrap() {
        parcours::tracking::attendance::open(c, trainer, org, &s).unwrap();
        ids.push(s.id);
    }
    assert_eq!(ids.len(), n);
    ids
}

/// A private PostgreSQL cluster on its own port, so that stopping it troubles no other test.
struct PrivatePg {
    bin: std::path::PathBuf,
    data: std::path::PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl PrivatePg {
    fn as_postgres(&self, tool: &str, args: &[&str]) -> std::process::Output {
        std::process::Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join(tool))
            .args(args)
            .output()
            .unwrap()
    }

    fn start() -> PrivatePg {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .unwrap()
            .flatten()
            .map(|e| e.path().join("bin"))
            .find(|p| p.join("initdb").exists())
            .expect("PostgreSQL server binaries");
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        for p in [dir.path(), data.as_path()] {
            std::process::Command::new("chown")
                .args(["postgres:postgres"])
                .arg(p)
                .status()
                .unwrap();
        }
        let pg = PrivatePg {
            bin,
            data,
            port: free_port(),
            _dir: dir,
        };
        let data = pg.data.to_string_lossy().to_string();
        let out = pg.as_postgres("initdb", &["-D", &data, "-A", "trust", "-U", "postgres"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        pg.ctl("start");
        pg
    }

    fn ctl(&self, action: &str) {
        let data = self.data.to_string_lossy().to_string();
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port, data
        );
        let log = format!("{data}/../pg.log");
        let out = match action {
            "start" => self.as_postgres(
                "pg_ctl",
                &["-D", &data, "-o", &opts, "-l", &log, "-w", "start"],
            ),
            _ => self.as_postgres("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"]),
        };
        assert!(
            out.status.success(),
            "pg_ctl {action}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let data = self.data.to_string_lossy().to_string();
        let _ = self.as_postgres("pg_ctl", &["-D", &data, "-m", "immediate", "stop"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgresql_restarted_under_load_gives_clear_503s_then_the_instance_recovers_alone() {
    if pg_base().is_none() {
        eprintln!("PostgreSQL only: skipped on SQLite");
        return;
    }
    let pg = PrivatePg::start();
    let dir = tempfile::tempdir().unwrap();
    let env = base_env(dir.path(), &pg.url());
    let server = Server::start(&env);
    let base = server.address.clone();
    let db = Db {
        pool: parcours::db::connect(&pg.url(), 1).unwrap().0,
    };
    let org = db.create_organism("Organisme A");
    let cohort = db.create_cohort(org, "CQP-AM");
    let id = db.create_user(Role::Trainee, Some(org), "t@a.fr", PW);
    db.enrol(org, cohort, id);
    drop(db);
    let token = token_at(&base, "t@a.fr").await;
    let c = client();
    let hours = || {
        c.get(format!("{base}/api/v1/me/hours"))
            .bearer_auth(&token)
            .timeout(Duration::from_secs(15))
            .send()
    };
    assert_eq!(hours().await.unwrap().status(), 200);

    pg.ctl("stop");
    eprintln!("PostgreSQL stopped under a running instance");
    let (mut unavailable, mut slowest) = (0, Duration::ZERO);
    for _ in 0..5 {
        let started = Instant::now();
        let res = hours().await.expect("an answer, not a hang");
        slowest = slowest.max(started.elapsed());
        assert_eq!(res.status(), 503, "a clear 503 while the database is down");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unavailable");
        unavailable += 1;
    }
    assert!(
        slowest < Duration::from_secs(8),
        "answered within the pool's wait: {slowest:?}"
    );
    let ready = client().get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);

    pg.ctl("start");
    eprintln!("PostgreSQL started again");
    let back = Instant::now();
    let mut ok = false;
    while back.elapsed() < Duration::from_secs(20) {
        if hours().await.is_ok_and(|r| r.status() == 200) {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(ok, "the instance recovers without being restarted");
    eprintln!(
        "database down: {unavailable} requests answered 503 (slowest {:.1} s); back to 200 {:.1} s after PostgreSQL restarted",
        slowest.as_secs_f64(),
        back.elapsed().as_secs_f64()
    );
    // And it writes again.
    let lesson: i64 = {
        let db = Db {
            pool: parcours::db::connect(&pg.url(), 1).unwrap().0,
        };
        lessons::table
            .order(lessons::id.asc())
            .select(lessons::id)
            .first(&mut *db.conn() as &mut DbConn)
            .unwrap()
    };
    let res = client()
        .post(format!("{base}/api/v1/study/heartbeats"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"page": "lesson", "lesson_id": lesson, "view": "v", "seq": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    drop(server);
}

/// A small tmpfs, unmounted on drop.
struct SmallDisk {
    path: std::path::PathBuf,
}

impl SmallDisk {
    fn mount(path: std::path::PathBuf, size: &str) -> Option<SmallDisk> {
        std::fs::create_dir_all(&path).unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(SmallDisk { path })
    }

    fn free_bytes(&self) -> u64 {
        let out = std::process::Command::new("df")
            .args(["--output=avail", "-B1"])
            .arg(&self.path)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .and_then(|l| l.trim().parse().ok())
            .unwrap()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.path)
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_disk_gives_clear_errors_and_loses_nothing_acknowledged() {
    if pg_base().is_some() {
        eprintln!("SQLite only (PostgreSQL's disk is its own server's): skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = SmallDisk::mount(dir.path().join("disque"), "24m") else {
        panic!("mounting a tmpfs needs root, as .ci/run has");
    };
    let database_url = format!("sqlite://{}/p.db", disk.path.display());
    let env = base_env(&disk.path, &database_url);
    let server = Server::start(&env);
    let base = server.address.clone();
    let db = Db {
        pool: parcours::db::connect(&database_url, 1).unwrap().0,
    };
    let org = db.create_organism("Organisme A");
    let cohort = db.create_cohort(org, "CQP-AM");
    let id = db.create_user(Role::Trainee, Some(org), "t@a.fr", PW);
    db.enrol(org, cohort, id);
    let lesson: i64 = lessons::table
        .order(lessons::id.asc())
        .select(lessons::id)
        .first(&mut *db.conn() as &mut DbConn)
        .unwrap();
    drop(db);
    let c = signed_in_at(&base, "t@a.fr").await;
    let html = c
        .get(format!("{base}/mon-suivi"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = html.find("/mon-suivi/modules/").unwrap();
    let mut page = html[start..start + html[start..].find('"').unwrap()].to_string();
    let token = token_at(&base, "t@a.fr").await;

    // Leave about 1 MB free, then keep writing.
    let filler = disk.path.join("remplissage");
    let free = disk.free_bytes();
    std::fs::write(&filler, vec![0u8; (free - 1_000_000) as usize]).unwrap();
    let (mut kept, mut refused, mut beats_ok, mut beats_refused) = (vec![], 0, 0, 0);
    for n in 0..40 {
        let mut pdf = format!("%PDF-1.4\n% piece {n}\n").into_bytes();
        pdf.extend(std::iter::repeat_n(b'x', 100_000));
        let html = form_page(&c, &base, &mut page).await.unwrap();
        assert!(html.contains("csrf_token"), "{page}: {html}");
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", csrf_of(&html))
            .text("kind", "travail")
            .text("body", format!("Travail {n}"))
            .part(
                "file",
                reqwest::multipart::Part::bytes(pdf.clone()).file_name("t.pdf"),
            );
        let res = c
            .post(format!("{base}{page}"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        match res.status().as_u16() {
            303 => kept.push(pdf),
            503 => {
                let body = res.text().await.unwrap();
                assert!(
                    body.contains("espace disque du serveur est plein"),
                    "{body}"
                );
                refused += 1;
            }
            other => panic!(
                "a full disk must give a clear 503, got {other}: {}",
                res.text().await.unwrap()
            ),
        }
        let res = client()
            .post(format!("{base}/api/v1/study/heartbeats"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"page": "lesson", "lesson_id": lesson, "view": "v", "seq": n + 1}))
            .send()
            .await
            .unwrap();
        match res.status().as_u16() {
            200 => beats_ok += 1,
            503 => beats_refused += 1,
            other => panic!("heartbeat on a full disk: {other}"),
        }
    }
    assert!(refused > 0, "the disk did fill up");
    eprintln!(
        "full disk: {} uploads kept, {refused} refused with a 503; {beats_ok} heartbeats credited, {beats_refused} refused",
        kept.len()
    );

    // Room again: the same instance works, and everything acknowledged is there.
    std::fs::remove_file(&filler).unwrap();
    let html = form_page(&c, &base, &mut page).await.unwrap();
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", csrf_of(&html))
        .text("kind", "question")
        .text("body", "De retour");
    assert_eq!(
        c.post(format!("{base}{page}"))
            .multipart(form)
            .send()
            .await
            .unwrap()
            .status(),
        303
    );
    let db = Db {
        pool: parcours::db::connect(&database_url, 1).unwrap().0,
    };
    let mut conn = db.conn();
    for pdf in &kept {
        use sha2::Digest;
        let sha: String = sha2::Sha256::digest(pdf)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let rows: i64 = followup_attachments::table
            .filter(followup_attachments::sha256.eq(&sha))
            .count()
            .get_result(&mut *conn as &mut DbConn)
            .unwrap();
        assert_eq!(rows, 1);
        assert_eq!(
            &std::fs::read(disk.path.join("vae").join(&sha)).unwrap(),
            pdf
        );
    }
    drop(conn);
    drop(db);
    drop(server);
}
