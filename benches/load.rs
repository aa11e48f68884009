//! Load benchmark: `cargo bench --bench load` (release build). Fills a database with 1,000
//! trainees and 12 months of activity, starts the real server as its own process, drives it
//! over HTTP from this process on 127.0.0.1, and writes BENCHMARKS.md. Runs on SQLite, then on
//! PostgreSQL when one answers at `PARCOURS_BENCH_PG` (default postgres://postgres@127.0.0.1:5432).
//! `PARCOURS_BENCH_ONLY=heartbeats,cohort` runs some lines only and `PARCOURS_BENCH_BACKENDS=sqlite`
//! one backend only; such partial runs print their figures and leave BENCHMARKS.md alone.

use std::io::BufRead;
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use parcours::accounts::{Role, password, store as users};
use parcours::db::{self, DbConn};

const TRAINEES: usize = 1000;
const HEARTBEAT_CLIENTS: usize = 64;
const PAGE_CLIENTS: usize = 8;
const RUN: Duration = Duration::from_secs(8);
const PASSWORD: &str = "mot-de-passe-de-bench";

struct Figures {
    requests: usize,
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: usize,
}

fn summarise(mut lat: Vec<Duration>, errors: usize, took: Duration) -> Figures {
    lat.sort();
    let pick = |q: f64| {
        lat.get(((lat.len() as f64 * q) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Figures {
        requests: lat.len(),
        per_sec: lat.len() as f64 / took.as_secs_f64(),
        p50_ms: pick(0.50),
        p99_ms: pick(0.99),
        errors,
    }
}

/// Whether a line of the table is to be run (all of them unless `PARCOURS_BENCH_ONLY` says).
fn wanted(line: &str) -> bool {
    std::env::var("PARCOURS_BENCH_ONLY")
        .map_or(true, |only| only.split(',').any(|l| l.trim() == line))
}

fn partial() -> bool {
    std::env::var_os("PARCOURS_BENCH_ONLY").is_some()
        || std::env::var_os("PARCOURS_BENCH_BACKENDS").is_some()
}

fn backend_wanted(name: &str) -> bool {
    std::env::var("PARCOURS_BENCH_BACKENDS")
        .map_or(true, |b| b.split(',').any(|x| x.trim() == name))
}

/// The `## ` sections of BENCHMARKS.md written by other benches (this one writes `## SQLite, …`
/// and `## PostgreSQL, …`), kept as they are.
fn sections_of_others(old: &str) -> String {
    let mut out = String::new();
    let mut keep = false;
    for line in old.lines() {
        if line.starts_with("## ") {
            keep = !(line.starts_with("## SQLite, ") || line.starts_with("## PostgreSQL, "));
        } else if line.starts_with("# ") {
            keep = false;
        }
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// 1,000 trainees in one cohort that began 11 months ago, with a year of daily activity.
fn fill(database_url: &str) -> anyhow::Result<(i64, i64)> {
    let (pool, _) = db::connect(database_url, 2)?;
    let mut conn = pool.get()?;
    db::migrate(&mut conn)?;
    let content = parcours::curriculum::load_and_sync(&root().join("content"), &pool)?;
    let org = parcours::cohorts::store::create(
        &mut conn,
        None,
        &parcours::cohorts::rules::Organism {
            name: "Organisme de bench".into(),
            siret: None,
            nda: None,
            address: None,
            qualiopi_number: None,
            contact_email: None,
            contact_phone: None,
        },
    )?;
    let today = parcours::web::format::to_paris(db::now()).date_naive();
    let start = today - chrono::Months::new(11);
    let cohort = parcours::cohorts::store::create_cohort(
        &mut conn,
        None,
        &parcours::cohorts::store::NewCohort {
            organism_id: org,
            program_id: content.ids.programs["CQP-AM"],
            content_version_id: content.ids.versions["CQP-AM"],
            name: "Promotion de bench",
            start_date: start,
            end_date: start + chrono::Months::new(12),
        },
    )?;
    let hash = password::hash(PASSWORD)?;
    let modules: Vec<i64> = ["M1", "M2", "M3", "M4"]
        .iter()
        .map(|m| content.ids.modules[*m])
        .collect();
    db::transaction(&mut conn, |c: &mut DbConn| -> anyhow::Result<()> {
        users::create(
            c,
            None,
            users::NewUser {
                email: "staff@bench.fr",
                name: "Staff",
                role: Role::OrganismAdmin,
                organism_id: Some(org),
                password_hash: Some(&hash),
            },
        )?;
        for i in 0..TRAINEES {
            let email = format!("t{i}@bench.fr");
            let id = users::create(
                c,
                None,
                users::NewUser {
                    email: &email,
                    name: &format!("Stagiaire {i:04}"),
                    role: Role::Trainee,
                    organism_id: Some(org),
                    password_hash: Some(&hash),
                },
            )?;
            parcours::cohorts::store::create_profile(
                c,
                &parcours::cohorts::store::NewProfile {
                    user_id: id,
                    organism_id: org,
                    profile: "aucun",
                    hire_date: start,
                    funding: "proa",
                    employer_id: None,
                },
            )?;
            parcours::cohorts::store::enrol(c, None, org, cohort, id, start)?;
            let mut values = Vec::new();
            let mut day = start;
            let mut n = 0;
            while day < today {
                // About three study days a week, one module at a time.
                if (i + n) % 7 < 3 {
                    let m = modules[(n / 60) % 4];
                    let secs = 1800 + ((i * 37 + n * 11) % 3600);
                    values.push(format!(
                        "({id}, '{day}', {m}, {secs}, '{day} 09:00:00', '{day} 10:00:00')"
                    ));
                }
                day += chrono::Duration::days(1);
                n += 1;
            }
            for chunk in values.chunks(200) {
                diesel::sql_query(format!(
                    "INSERT INTO daily_activity (trainee_id, day, module_id, distance_seconds, first_at, last_at) VALUES {}",
                    chunk.join(",")
                ))
                .execute(c)?;
            }
            for (k, m) in modules.iter().enumerate() {
                parcours::tracking::store::add_to_totals(
                    c,
                    id,
                    *m,
                    3600 * (10 + (i + k) as i64 % 20),
                    3600 * 12,
                    0,
                    db::now(),
                )?;
            }
        }
        Ok(())
    })?;
    Ok((org, cohort))
}

struct Server {
    child: std::process::Child,
    address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(database_url: &str, dir: &std::path::Path) -> anyhow::Result<Server> {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_parcours"))
        .arg("serve")
        .env("PARCOURS_BIND", "127.0.0.1:0")
        .env("DATABASE_URL", database_url)
        .env("PARCOURS_DATA_DIR", dir)
        .env(
            "PARCOURS_SECRET",
            "bench-secret-bench-secret-bench-secret-0123",
        )
        .env("PARCOURS_TEMPLATES_DIR", root().join("templates"))
        .env("PARCOURS_CONTENT_DIR", root().join("content"))
        .env("PARCOURS_LOGIN_IP_PER_MINUTE", "100000")
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let mut reader = std::io::BufReader::new(stdout);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let address = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .ok_or_else(|| anyhow::anyhow!("server did not start: {line}"))?
        .to_string();
    Ok(Server { child, address })
}

fn peak_rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_string)
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn token(client: &reqwest::Client, base: &str, email: &str) -> anyhow::Result<String> {
    let body: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&serde_json::json!({"email": email, "password": PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    body["token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("no token for {email}: {body}"))
}

/// `clients` loops, each sending requests made by `make` for `RUN`.
async fn drive<F>(clients: usize, make: F) -> Figures
where
    F: Fn(usize, u64) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for k in 0..clients {
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0;
            let mut n = 0u64;
            while started.elapsed() < RUN {
                n += 1;
                let t = Instant::now();
                match make(k, n).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        lat.push(t.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    let mut lat = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((l, e)) = t.await {
            lat.extend(l);
            errors += e;
        }
    }
    summarise(lat, errors, started.elapsed())
}

async fn run(backend: &str, database_url: &str) -> anyhow::Result<Vec<(String, Figures)>> {
    let dir = tempfile::tempdir()?;
    let filled = Instant::now();
    let (_, cohort) = fill(database_url)?;
    eprintln!(
        "[{backend}] filled in {:.1} s",
        filled.elapsed().as_secs_f64()
    );
    let server = start(database_url, dir.path())?;
    let base = server.address.clone();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let staff = token(&client, &base, "staff@bench.fr").await?;
    let mut tokens = Vec::new();
    for i in 0..HEARTBEAT_CLIENTS {
        tokens.push(token(&client, &base, &format!("t{i}@bench.fr")).await?);
    }
    let lesson: i64 = {
        let (pool, _) = db::connect(database_url, 1)?;
        use parcours::db::schema::lessons;
        lessons::table
            .order(lessons::id.asc())
            .select(lessons::id)
            .first(&mut *pool.get()?)?
    };
    let tokens = Arc::new(tokens);
    let mut out = Vec::new();
    if wanted("heartbeats") {
        let (c, b, t) = (client.clone(), base.clone(), tokens.clone());
        out.push((
        format!("POST /api/v1/study/heartbeats ({HEARTBEAT_CLIENTS} trainees)"),
        drive(HEARTBEAT_CLIENTS, move |k, n| {
            c.post(format!("{b}/api/v1/study/heartbeats"))
                .bearer_auth(&t[k])
                .json(&serde_json::json!({"page": "lesson", "lesson_id": lesson, "view": format!("bench-{k}"), "seq": n}))
        })
        .await,
    ));
        // Beats come far faster than real time: the server must credit at most the time spent.
        use parcours::db::schema::study_sessions as ss;
        let (pool, _) = db::connect(database_url, 1)?;
        let credited: Vec<i32> = ss::table
            .filter(ss::page_view.like("bench-%"))
            .select(ss::seconds_credited)
            .load(&mut *pool.get()?)?;
        eprintln!(
            "[{backend}] {} page views credited {} s in all, at most {} s each",
            credited.len(),
            credited.iter().map(|s| *s as i64).sum::<i64>(),
            credited.iter().max().unwrap_or(&0)
        );
    }
    if wanted("healthz") {
        let (c, b) = (client.clone(), base.clone());
        out.push((
            format!("GET /healthz ({HEARTBEAT_CLIENTS} clients)"),
            drive(HEARTBEAT_CLIENTS, move |_, _| c.get(format!("{b}/healthz"))).await,
        ));
    }
    if wanted("cohort") {
        // Latency of one person opening the page, then throughput with eight at once.
        for clients in [1, PAGE_CLIENTS] {
            let (c, b, s) = (client.clone(), base.clone(), staff.clone());
            out.push((
                format!(
                    "GET cohort follow-up of {TRAINEES} trainees ({clients} client{})",
                    if clients > 1 { "s" } else { "" }
                ),
                drive(clients, move |_, _| {
                    c.get(format!("{b}/promotions/{cohort}/suivi"))
                        .bearer_auth(&s)
                })
                .await,
            ));
        }
    }
    if wanted("dashboard") {
        let (c, b, t) = (client.clone(), base.clone(), tokens.clone());
        out.push((
            format!("GET trainee dashboard ({PAGE_CLIENTS} clients)"),
            drive(PAGE_CLIENTS, move |k, _| {
                c.get(format!("{b}/tableau-de-bord")).bearer_auth(&t[k])
            })
            .await,
        ));
    }
    if wanted("programme") {
        let (c, b, t) = (client.clone(), base.clone(), tokens.clone());
        out.push((
            format!("GET programme page, Moodle's course page ({PAGE_CLIENTS} clients)"),
            drive(PAGE_CLIENTS, move |k, _| {
                c.get(format!("{b}/programmes/CQP-AM")).bearer_auth(&t[k])
            })
            .await,
        ));
    }
    if wanted("lesson") {
        let (c, b, t) = (client.clone(), base.clone(), tokens.clone());
        let lesson_path = {
            let curriculum = parcours::curriculum::loader::load(&root().join("content"))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let m = curriculum
                .module("M1")
                .map(|x| x.1.lessons[0].slug.clone())
                .unwrap_or_default();
            format!("/programmes/CQP-AM/M1/lecons/{m}")
        };
        out.push((
            format!("GET lesson page, Moodle's activity page ({PAGE_CLIENTS} clients)"),
            drive(PAGE_CLIENTS, move |k, _| {
                c.get(format!("{b}{lesson_path}")).bearer_auth(&t[k])
            })
            .await,
        ));
    }
    let rss = peak_rss_mb(server.child.id());
    out.push((
        "server peak resident memory (MB)".into(),
        Figures {
            requests: 0,
            per_sec: rss,
            p50_ms: 0.0,
            p99_ms: 0.0,
            errors: 0,
        },
    ));
    drop(server);
    Ok(out)
}

fn main() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut sections = Vec::new();
    let dir = tempfile::tempdir()?;
    if backend_wanted("sqlite") {
        let sqlite = format!("sqlite://{}/bench.db", dir.path().display());
        sections.push(("SQLite".to_string(), rt.block_on(run("sqlite", &sqlite))?));
    }
    let pg_server = std::env::var("PARCOURS_BENCH_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    if backend_wanted("postgres") {
        match diesel::PgConnection::establish(&format!("{pg_server}/postgres")) {
            Ok(mut admin) => {
                let name = format!("parcours_bench_{}", std::process::id());
                diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin)?;
                let result = rt.block_on(run("postgres", &format!("{pg_server}/{name}")));
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
                sections.push(("PostgreSQL".to_string(), result?));
            }
            Err(_) => eprintln!("PostgreSQL not reachable at {pg_server}: skipped"),
        }
    }
    let mut md = String::from("# Benchmarks\n\n");
    md.push_str(&format!(
        "Written by `cargo bench --bench load` on {} ({} cores). The server runs as its own release process; the load comes from the bench process over 127.0.0.1, for {} s per line. Figures on a shared, noisy machine: compare ratios, not absolutes. Moodle 5.1 on the same kind of machine: course page about 20 requests/s, activity page about 40 (8 clients, logged in).\n\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        RUN.as_secs()
    ));
    for (backend, figures) in &sections {
        md.push_str(&format!("## {backend}, {TRAINEES} trainees, 12 months of activity\n\n| what | requests/s | p50 (ms) | p99 (ms) | requests | errors |\n|---|---|---|---|---|---|\n"));
        for (what, f) in figures {
            if what.starts_with("server peak") {
                md.push_str(&format!("| {what} | {:.0} MB | | | | |\n", f.per_sec));
            } else {
                md.push_str(&format!(
                    "| {what} | {:.0} | {:.2} | {:.2} | {} | {} |\n",
                    f.per_sec, f.p50_ms, f.p99_ms, f.requests, f.errors
                ));
            }
        }
        md.push('\n');
    }
    if partial() {
        println!("{md}(partial run: BENCHMARKS.md left as it was)");
        return Ok(());
    }
    let path = root().join("BENCHMARKS.md");
    let others = std::fs::read_to_string(&path)
        .map(|old| sections_of_others(&old))
        .unwrap_or_default();
    md.push_str(&others);
    std::fs::write(&path, &md)?;
    println!("{md}");
    Ok(())
}
