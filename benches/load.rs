//! Load benchmark: `cargo bench --bench load` (release build). Fills a database with 1,000
//! trainees and 12 months of activity, starts the real server as its own process, drives it
//! over HTTP from this process on 127.0.0.1, and writes BENCHMARKS.md. Runs on SQLite, then on
//! PostgreSQL when one answers at `PARCOURS_BENCH_PG` (default postgres://postgres@127.0.0.1:5432).
//! Its last line publishes an organism's programme of 4 modules and 200 activities (`publish`).
//! `PARCOURS_BENCH_ONLY=heartbeats,cohort` runs some lines only and `PARCOURS_BENCH_BACKENDS=sqlite`
//! one backend only; such partial runs print their figures and leave BENCHMARKS.md alone.

mod common;
mod publish;

use std::sync::Arc;
use std::time::Instant;

use common::{Figures, RUN, TRAINEES, drive, fill, peak_rss_mb, start, token};
use diesel::prelude::*;
use parcours::db;

const HEARTBEAT_CLIENTS: usize = 64;
const PAGE_CLIENTS: usize = 8;
/// Moodle 5.1 on the same kind of machine, 8 clients logged in: requests/s of its course page
/// and of its activity page.
const MOODLE_COURSE: f64 = 20.0;
const MOODLE_ACTIVITY: f64 = 40.0;

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

/// A backend's lines of the table, and what is said under it.
struct Section {
    lines: Vec<(String, Figures)>,
    notes: Vec<String>,
}

/// The pages' shared state: one HTTP client, the server, the trainees' tokens.
#[derive(Clone)]
struct Site {
    client: reqwest::Client,
    base: String,
    tokens: Arc<Vec<String>>,
}

async fn run(backend: &str, database_url: &str) -> anyhow::Result<Section> {
    let dir = tempfile::tempdir()?;
    let filled = Instant::now();
    let (org, cohort) = fill(database_url)?;
    eprintln!(
        "[{backend}] filled in {:.1} s",
        filled.elapsed().as_secs_f64()
    );
    let server = start(database_url, dir.path(), &[])?;
    let base = server.address.clone();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let staff = token(&client, &base, "staff@bench.fr").await?;
    let mut tokens = Vec::new();
    for i in 0..HEARTBEAT_CLIENTS {
        tokens.push(token(&client, &base, &format!("t{i}@bench.fr")).await?);
    }
    let (lesson, lesson_path) = common::first_lesson(database_url)?;
    let site = Site {
        client,
        base,
        tokens: Arc::new(tokens),
    };
    let mut out = Vec::new();
    if wanted("heartbeats") {
        out.push(heartbeats(&site, lesson).await);
        credited(backend, database_url)?;
    }
    if wanted("healthz") {
        let (c, b) = (site.client.clone(), site.base.clone());
        out.push((
            format!("GET /healthz ({HEARTBEAT_CLIENTS} clients)"),
            drive(HEARTBEAT_CLIENTS, move |_, _| c.get(format!("{b}/healthz"))).await,
        ));
    }
    out.extend(staff_pages(&site, &staff, org, cohort).await);
    out.extend(trainee_pages(&site, lesson_path).await);
    if wanted("quiz") {
        out.push((
            format!("POST quiz attempt submitted and scored ({PAGE_CLIENTS} clients)"),
            submit_attempts(&site.client, &site.base, &site.tokens).await,
        ));
    }
    let mut notes = moodle(&out);
    if wanted("publish") {
        // Last, so that the pages above are measured as before; the peak memory below
        // includes it.
        let before = peak_rss_mb(server.child.id());
        let p = publish::measure(database_url, dir.path(), &site.base, org).await?;
        eprintln!(
            "[{backend}] server peak memory {before:.0} MB before publishing, {:.0} MB after",
            peak_rss_mb(server.child.id())
        );
        notes.push(p.note());
        out.push((publish::line(), p.figures));
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
    Ok(Section { lines: out, notes })
}

/// The course and activity pages against Moodle's on the same kind of machine.
fn moodle(lines: &[(String, Figures)]) -> Vec<String> {
    let ratio = |prefix: &str, moodle: f64| {
        lines
            .iter()
            .find(|(what, _)| what.starts_with(prefix))
            .map(|(_, f)| f.per_sec / moodle)
    };
    match (
        ratio("GET programme page", MOODLE_COURSE),
        ratio("GET lesson page", MOODLE_ACTIVITY),
    ) {
        (Some(course), Some(activity)) => vec![format!(
            "Against Moodle: programme page ×{course:.0} its course page, lesson page ×{activity:.0} its activity page (requests/s)."
        )],
        _ => vec![],
    }
}

async fn heartbeats(site: &Site, lesson: i64) -> (String, Figures) {
    let (c, b, t) = (site.client.clone(), site.base.clone(), site.tokens.clone());
    (
        format!("POST /api/v1/study/heartbeats ({HEARTBEAT_CLIENTS} trainees)"),
        drive(HEARTBEAT_CLIENTS, move |k, n| {
            c.post(format!("{b}/api/v1/study/heartbeats"))
                .bearer_auth(&t[k])
                .json(&serde_json::json!({"page": "activity", "lesson_id": lesson, "view": format!("bench-{k}"), "seq": n}))
        })
        .await,
    )
}

/// Beats come far faster than real time: the server must credit at most the time spent.
fn credited(backend: &str, database_url: &str) -> anyhow::Result<()> {
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
    Ok(())
}

/// The cohort follow-up and the funders' CSV, as the organism's staff open them.
async fn staff_pages(site: &Site, staff: &str, org: i64, cohort: i64) -> Vec<(String, Figures)> {
    let mut out = Vec::new();
    if wanted("cohort") {
        // Latency of one person opening the page, then throughput with eight at once.
        for clients in [1, PAGE_CLIENTS] {
            let (c, b, s) = (site.client.clone(), site.base.clone(), staff.to_string());
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
    if wanted("funders") {
        // The whole year of every trainee, as an organism sends it to its funders.
        let (c, b, s) = (site.client.clone(), site.base.clone(), staff.to_string());
        let today = parcours::base::paris::today();
        let from = today - chrono::Months::new(12);
        out.push((
            format!("GET funders' CSV of {TRAINEES} trainees over 12 months (1 client)"),
            drive(1, move |_, _| {
                c.get(format!(
                    "{b}/organismes/{org}/financeurs.csv?du={from}&au={today}&partie=heures"
                ))
                .bearer_auth(&s)
            })
            .await,
        ));
    }
    out
}

/// The trainee's pages, eight trainees at once.
async fn trainee_pages(site: &Site, lesson_path: String) -> Vec<(String, Figures)> {
    let mut out = Vec::new();
    if wanted("dashboard") {
        let (c, b, t) = (site.client.clone(), site.base.clone(), site.tokens.clone());
        out.push((
            format!("GET trainee dashboard ({PAGE_CLIENTS} clients)"),
            drive(PAGE_CLIENTS, move |k, _| {
                c.get(format!("{b}/tableau-de-bord")).bearer_auth(&t[k])
            })
            .await,
        ));
    }
    if wanted("programme") {
        let (c, b, t) = (site.client.clone(), site.base.clone(), site.tokens.clone());
        out.push((
            format!("GET programme page, Moodle's course page ({PAGE_CLIENTS} clients)"),
            drive(PAGE_CLIENTS, move |k, _| {
                c.get(format!("{b}/programmes/CQP-AM")).bearer_auth(&t[k])
            })
            .await,
        ));
    }
    if wanted("lesson") {
        let (c, b, t) = (site.client.clone(), site.base.clone(), site.tokens.clone());
        out.push((
            format!("GET lesson page, Moodle's activity page ({PAGE_CLIENTS} clients)"),
            drive(PAGE_CLIENTS, move |k, _| {
                c.get(format!("{b}{lesson_path}")).bearer_auth(&t[k])
            })
            .await,
        ));
    }
    if wanted("module") {
        let (c, b, t) = (site.client.clone(), site.base.clone(), site.tokens.clone());
        out.push((
            format!(
                "GET module page, 30 activities with the trainee's states ({PAGE_CLIENTS} clients)"
            ),
            drive(PAGE_CLIENTS, move |k, _| {
                c.get(format!("{b}/programmes/CQP-AM/M2"))
                    .bearer_auth(&t[k])
            })
            .await,
        ));
    }
    if wanted("video") {
        // Each request one 256 KiB range of a 4 MiB video, as a player seeking asks.
        let (c, b, t) = (site.client.clone(), site.base.clone(), site.tokens.clone());
        out.push((
            format!("GET video by 256 KiB ranges ({PAGE_CLIENTS} clients)"),
            drive(PAGE_CLIENTS, move |k, n| {
                let start = ((k as u64 * 7 + n) % 16) * 262_144;
                c.get(format!("{b}/programmes/CQP-AM/M2/fichiers/video-bench.mp4"))
                    .bearer_auth(&t[k])
                    .header("Range", format!("bytes={start}-{}", start + 262_143))
            })
            .await,
        ));
    }
    out
}

/// Each client starts an attempt at M2's evaluation (not timed), then submits its answers
/// (timed), over and over: the cost of scoring and recording one attempt.
async fn submit_attempts(
    client: &reqwest::Client,
    base: &str,
    tokens: &Arc<Vec<String>>,
) -> Figures {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for k in 0..PAGE_CLIENTS {
        let (c, b, t) = (client.clone(), base.to_string(), tokens.clone());
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut errors) = (Vec::new(), 0);
            while started.elapsed() < common::RUN {
                let Ok(res) = c
                    .post(format!(
                        "{b}/api/v1/programs/CQP-AM/modules/M2/evaluation/attempts"
                    ))
                    .bearer_auth(&t[k])
                    .send()
                    .await
                else {
                    errors += 1;
                    continue;
                };
                let Ok(body) = res.json::<serde_json::Value>().await else {
                    errors += 1;
                    continue;
                };
                let id = body["attempt"]["id"].as_i64().unwrap_or(0);
                // The first choice of every question: a real, mostly wrong, answer sheet.
                let answers: serde_json::Map<String, serde_json::Value> =
                    body["evaluation"]["questions"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|q| {
                            let first = q["choices"].get(0).and_then(|c| c.get(0))?.clone();
                            Some((q["id"].as_str()?.to_string(), serde_json::json!([first])))
                        })
                        .collect();
                let t0 = Instant::now();
                match c
                    .post(format!("{b}/api/v1/attempts/{id}/submit"))
                    .bearer_auth(&t[k])
                    .json(&serde_json::json!({ "answers": answers }))
                    .send()
                    .await
                {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        lat.push(t0.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    let (mut lat, mut errors) = (Vec::new(), 0);
    for t in tasks {
        if let Ok((l, e)) = t.await {
            lat.extend(l);
            errors += e;
        }
    }
    common::summarise(lat, errors, started.elapsed())
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
    if backend_wanted("postgres")
        && let Some(pg) = common::pg_database("parcours_bench")?
    {
        let result = rt.block_on(run("postgres", &pg.url));
        drop(pg);
        sections.push(("PostgreSQL".to_string(), result?));
    }
    let mut md = String::from("# Benchmarks\n\n");
    md.push_str(&format!(
        "Written by `cargo bench --bench load` on {} ({} cores). The server runs as its own release process; the load comes from the bench process over 127.0.0.1, for {} s per line. Figures on a shared, noisy machine: compare ratios, not absolutes. Moodle 5.1 on the same kind of machine: course page about {MOODLE_COURSE} requests/s, activity page about {MOODLE_ACTIVITY} (8 clients, logged in).\n\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        RUN.as_secs()
    ));
    for (backend, section) in &sections {
        md.push_str(&format!("## {backend}, {TRAINEES} trainees, 12 months of activity\n\n| what | requests/s | p50 (ms) | p99 (ms) | requests | errors |\n|---|---|---|---|---|---|\n"));
        for (what, f) in &section.lines {
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
        for note in &section.notes {
            md.push_str(note);
            md.push_str("\n\n");
        }
    }
    if partial() {
        println!("{md}(partial run: BENCHMARKS.md left as it was)");
        return Ok(());
    }
    let path = common::root().join("BENCHMARKS.md");
    let others = std::fs::read_to_string(&path)
        .map(|old| sections_of_others(&old))
        .unwrap_or_default();
    md.push_str(&others);
    std::fs::write(&path, &md)?;
    println!("{md}");
    Ok(())
}
