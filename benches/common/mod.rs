//! What the benches share: the filled database, the server process, the load loop, and
//! BENCHMARKS.md's sections. Each bench uses part of it.
#![allow(dead_code)]

pub mod browser;

use std::io::BufRead;
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use parcours::accounts::{Role, password, store as users};
use parcours::db::{self, DbConn};

pub const TRAINEES: usize = 1000;
pub const RUN: Duration = Duration::from_secs(8);
pub const PASSWORD: &str = "mot-de-passe-de-bench";

pub struct Figures {
    pub requests: usize,
    pub per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: usize,
}

pub fn summarise(mut lat: Vec<Duration>, errors: usize, took: Duration) -> Figures {
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

pub fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shipped content, with three optional activities added to M2 so that its page lists 30
/// (a video of 4 MiB among them, for the range requests) and an evaluation that allows as
/// many attempts as a bench makes. Written afresh under `target/bench-content` at each run.
pub fn content_dir() -> std::path::PathBuf {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = root().join("target/bench-content");
        let _ = std::fs::remove_dir_all(&dir);
        copy_dir(&root().join("content"), &dir).expect("copy the content");
        let m2 = dir.join("cqp-assistant-medical/02-accueil-administratif");
        let write = |rel: &str, body: &[u8]| {
            let path = m2.join(rel);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("a folder");
            std::fs::write(path, body).expect("a bench file");
        };
        let mut mp4 = vec![0, 0, 0, 0x18];
        mp4.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2mp41");
        mp4.resize(4 << 20, 0);
        write("files/video-bench.mp4", &mp4);
        write(
            "resources/90-video-bench.toml",
            b"title = \"Vid\xc3\xa9o du bench\"\nminutes = 5\nrequired = false\nfile = \"files/video-bench.mp4\"\n",
        );
        write(
            "quizzes/90-quiz-bench.toml",
            b"title = \"Quiz du bench\"\nminutes = 5\nrequired = false\npass_mark = 50\nmax_attempts = 3\nquestions = [\"q1\", \"q2\", \"q3\"]\n",
        );
        write(
            "lessons/90-lecture-bench.md",
            "+++\ntitle = \"Lecture du bench\"\nminutes = 2\nrequired = false\n+++\n\nUne page courte.\n".as_bytes(),
        );
        let module = m2.join("module.toml");
        let mut text = std::fs::read_to_string(&module).expect("module.toml");
        text.push_str("\n[[sequences]]\ntitle = \"Bench\"\nactivities = [\"lessons/90-lecture-bench.md\", \"quizzes/90-quiz-bench.toml\", \"resources/90-video-bench.toml\"]\n");
        std::fs::write(&module, text).expect("module.toml");
        let eval = m2.join("evaluation.toml");
        let text = std::fs::read_to_string(&eval).expect("evaluation.toml");
        let text = text
            .lines()
            .map(|l| if l.starts_with("max_attempts") { "max_attempts = 1000000" } else { l })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(&eval, text).expect("evaluation.toml");
        dir
    })
    .clone()
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// 1,000 trainees in one cohort that began 11 months ago, with a year of daily activity.
pub fn fill(database_url: &str) -> anyhow::Result<(i64, i64)> {
    let (pool, _) = db::connect(database_url, 2)?;
    let mut conn = pool.get()?;
    db::migrate(&mut conn)?;
    let data = std::env::temp_dir().join(format!("parcours-bench-data-{}", std::process::id()));
    let blobs = parcours::objects::folder(&data.join("blobs"))?;
    let content = parcours::curriculum::load_and_sync(&content_dir(), &data, blobs, &pool)?;
    let cqp = content
        .current(&mut conn, "CQP-AM")?
        .ok_or_else(|| anyhow::anyhow!("CQP-AM missing"))?;
    let org = parcours::organisms::store::create(
        &mut conn,
        None,
        &parcours::organisms::rules::Organism {
            name: "Organisme de bench".into(),
            ..Default::default()
        },
    )?;
    let today = parcours::base::paris::today();
    let start = today - chrono::Months::new(11);
    let cohort = parcours::cohorts::store::create_cohort(
        &mut conn,
        None,
        &parcours::cohorts::store::NewCohort {
            organism_id: org,
            program_id: cqp.program_id,
            content_version_id: cqp.version_id,
            name: "Promotion de bench",
            start_date: start,
            end_date: start + chrono::Months::new(12),
        },
    )?;
    let hash = password::hash(PASSWORD)?;
    let m2_activities: Vec<i64> = cqp
        .ids
        .activities
        .iter()
        .filter(|((m, _), _)| m == "M2")
        .map(|(_, id)| *id)
        .collect();
    let modules: Vec<i64> = ["M1", "M2", "M3", "M4"]
        .iter()
        .map(|m| cqp.ids.modules[*m])
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
            profile_and_enrol(c, org, cohort, id, start)?;
            daily_activity(c, id, i, (start, today), &modules)?;
            if i < 64 {
                // The module page's states: time on every M2 activity, half the lessons done.
                for (n, a) in m2_activities.iter().enumerate() {
                    diesel::sql_query(format!(
                        "INSERT INTO activity_totals (trainee_id, lesson_id, seconds, last_at) VALUES ({id}, {a}, {}, '{today} 09:00:00')",
                        300 + n * 60
                    ))
                    .execute(c)?;
                    if n % 2 == 0 {
                        parcours::curriculum::store::complete_lesson(c, id, *a)?;
                    }
                }
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

/// A year of study days of trainee `i` (user `id`): about three a week, one module at a time.
fn daily_activity(
    c: &mut DbConn,
    id: i64,
    i: usize,
    (start, today): (chrono::NaiveDate, chrono::NaiveDate),
    modules: &[i64],
) -> anyhow::Result<()> {
    let mut values = Vec::new();
    let mut day = start;
    let mut n = 0;
    while day < today {
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
    Ok(())
}

pub struct Server {
    pub child: std::process::Child,
    pub address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A release `parcours serve` on a free port, with `extra` settings on top of the bench's.
pub fn start(
    database_url: &str,
    dir: &std::path::Path,
    extra: &[(&str, &str)],
) -> anyhow::Result<Server> {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_parcours"))
        .arg("serve")
        .envs(extra.iter().copied())
        .env("PARCOURS_BIND", "127.0.0.1:0")
        .env("DATABASE_URL", database_url)
        .env("PARCOURS_DATA_DIR", dir)
        .env(
            "PARCOURS_SECRET",
            "bench-secret-bench-secret-bench-secret-0123",
        )
        .env("PARCOURS_TEMPLATES_DIR", root().join("templates"))
        .env("PARCOURS_CONTENT_DIR", content_dir())
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

pub fn peak_rss_mb(pid: u32) -> f64 {
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

pub async fn token(client: &reqwest::Client, base: &str, email: &str) -> anyhow::Result<String> {
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
pub async fn drive<F>(clients: usize, make: F) -> Figures
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
                    other => {
                        // The first failure of a client says why, so that a line of errors
                        // can be understood without a second run.
                        if errors == 0 {
                            match other {
                                Ok(r) => {
                                    let status = r.status();
                                    let body = r.text().await.unwrap_or_default();
                                    eprintln!(
                                        "client {k}: {status} {}",
                                        body.chars().take(300).collect::<String>()
                                    );
                                }
                                Err(e) => eprintln!("client {k}: {e}"),
                            }
                        }
                        errors += 1
                    }
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

pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// Replaces the section that starts with `heading` (up to the next `## ` heading) in
/// BENCHMARKS.md, or appends it.
pub fn write_section(heading: &str, section: &str) -> anyhow::Result<()> {
    let path = root().join("BENCHMARKS.md");
    let old = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n".into());
    let new = match old.find(&format!("{heading}\n")) {
        Some(start) => {
            let rest = &old[start + 3..];
            let end = rest.find("\n## ").map_or(old.len(), |i| start + 3 + i + 1);
            format!("{}{}{}", &old[..start], section, &old[end..])
        }
        None => format!("{}\n\n{}", old.trim_end_matches('\n'), section),
    };
    std::fs::write(path, new)?;
    Ok(())
}

/// A fresh PostgreSQL database on `PARCOURS_BENCH_PG` (default
/// postgres://postgres@127.0.0.1:5432), dropped with the guard; None when none answers.
pub fn pg_database(prefix: &str) -> anyhow::Result<Option<PgDatabase>> {
    let server = std::env::var("PARCOURS_BENCH_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let Ok(mut admin) = diesel::PgConnection::establish(&format!("{server}/postgres")) else {
        eprintln!("PostgreSQL not reachable at {server}: skipped");
        return Ok(None);
    };
    let name = format!("{prefix}_{}", std::process::id());
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin)?;
    Ok(Some(PgDatabase {
        url: format!("{server}/{name}"),
        name,
        admin,
    }))
}

pub struct PgDatabase {
    pub url: String,
    name: String,
    admin: diesel::PgConnection,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = diesel::sql_query(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut self.admin);
    }
}

/// The id and the page path of the programme's first lesson (M1's first).
pub fn first_lesson(database_url: &str) -> anyhow::Result<(i64, String)> {
    use parcours::db::schema::lessons;
    let (pool, _) = db::connect(database_url, 1)?;
    let id = lessons::table
        .order(lessons::id.asc())
        .select(lessons::id)
        .first(&mut *pool.get()?)?;
    let curriculum =
        parcours::curriculum::loader::load(&content_dir()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let slug = curriculum
        .program("CQP-AM")
        .and_then(|p| p.module("M1"))
        .and_then(|m| m.activities.first())
        .map(|a| a.slug.clone())
        .unwrap_or_default();
    Ok((id, format!("/programmes/CQP-AM/M1/activites/{slug}")))
}

/// An organism and its administrator `email`, in a database migrated first (before the
/// server starts).
pub fn organism_with_admin(database_url: &str, name: &str, email: &str) -> anyhow::Result<i64> {
    let (pool, _) = db::connect(database_url, 1)?;
    let mut pooled = pool.get()?;
    let conn: &mut DbConn = &mut pooled;
    db::migrate(conn)?;
    let org = parcours::organisms::store::create(
        conn,
        None,
        &parcours::organisms::rules::Organism {
            name: name.into(),
            ..Default::default()
        },
    )?;
    let hash = password::hash(PASSWORD)?;
    users::create(
        conn,
        None,
        users::NewUser {
            email,
            name: "Autrice",
            role: Role::OrganismAdmin,
            organism_id: Some(org),
            password_hash: Some(&hash),
        },
    )?;
    Ok(org)
}

/// A trainee `email` in a cohort of her own on the current version of programme `code`
/// (written straight to the database: the pages to do it are not what is measured).
pub fn trainee_on(database_url: &str, org: i64, code: &str, email: &str) -> anyhow::Result<()> {
    use parcours::db::schema::programs;
    let (pool, _) = db::connect(database_url, 1)?;
    let mut pooled = pool.get()?;
    let conn: &mut DbConn = &mut pooled;
    let (program_id, version_id): (i64, i64) = programs::table
        .filter(programs::code.eq(code))
        .select((programs::id, programs::version_id))
        .first(conn)?;
    let start = parcours::base::paris::today();
    let cohort = parcours::cohorts::store::create_cohort(
        conn,
        None,
        &parcours::cohorts::store::NewCohort {
            organism_id: org,
            program_id,
            content_version_id: version_id,
            name: email,
            start_date: start,
            end_date: start + chrono::Months::new(12),
        },
    )?;
    let hash = password::hash(PASSWORD)?;
    let id = users::create(
        conn,
        None,
        users::NewUser {
            email,
            name: "Stagiaire",
            role: Role::Trainee,
            organism_id: Some(org),
            password_hash: Some(&hash),
        },
    )?;
    profile_and_enrol(conn, org, cohort, id, start)?;
    Ok(())
}

/// A trainee's profile (hired on `start`, ProA) and her enrolment in `cohort` from `start`.
fn profile_and_enrol(
    conn: &mut DbConn,
    org: i64,
    cohort: i64,
    id: i64,
    start: chrono::NaiveDate,
) -> anyhow::Result<()> {
    parcours::cohorts::store::create_profile(
        conn,
        &parcours::cohorts::store::NewProfile {
            user_id: id,
            organism_id: org,
            profile: "aucun",
            hire_date: start,
            funding: "proa",
            employer_id: None,
        },
    )?;
    parcours::cohorts::store::enrol(conn, None, org, cohort, id, start)?;
    Ok(())
}

/// `mb` MB of random bytes from `seed` (xorshift: random enough not to compress, cheap
/// enough to make 50 MB), after `head`.
pub fn incompressible(head: &[u8], mb: usize, seed: u64) -> Vec<u8> {
    let mut bytes = head.to_vec();
    bytes.reserve(mb << 20);
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ seed;
    while bytes.len() < (mb << 20) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.push(state as u8);
    }
    bytes
}
