//! `cargo bench --bench instances`: heartbeats and lesson pages on PostgreSQL with one
//! instance, then two, behind Debian's nginx and the repository's site file
//! (`deploy/nginx-parcours.conf`), against the same filled database as the load bench.
//! Needs PostgreSQL at `PARCOURS_BENCH_PG` (default postgres://postgres@127.0.0.1:5432) and
//! `/usr/sbin/nginx`. Replaces only the `## Several instances` section of BENCHMARKS.md.

mod common;
#[allow(dead_code)]
#[path = "../tests/it/nginx.rs"]
mod nginx;

use std::sync::Arc;
use std::time::Instant;

use common::{Figures, RUN, TRAINEES, drive, fill, start, token};
use nginx::Nginx;

const HEARTBEAT_CLIENTS: usize = 64;
const PAGE_CLIENTS: usize = 8;
const INSTANCE_ENV: &[(&str, &str)] = &[("PARCOURS_TRUSTED_PROXIES", "127.0.0.1")];

struct Line {
    setup: &'static str,
    heartbeats: Figures,
    lesson: Figures,
    /// Requests answered by each instance during the line, from their `/metrics`.
    shares: Vec<f64>,
    /// CPU time each instance spent per request it answered, in microseconds.
    cpu_us: Vec<f64>,
}

/// CPU seconds (user and system) a process has used so far, from `/proc`.
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<f64>().ok())
        .sum();
    // SAFETY: sysconf only reads a constant of the system.
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

async fn answered(client: &reqwest::Client, instance: &str) -> f64 {
    let Ok(response) = client.get(format!("{instance}/metrics")).send().await else {
        return 0.0;
    };
    response
        .text()
        .await
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("parcours_http_requests_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

struct Load {
    client: reqwest::Client,
    tokens: Arc<Vec<String>>,
    lesson: i64,
    lesson_path: Arc<String>,
}

impl Load {
    async fn line(&self, setup: &'static str, base: &str, instances: &[&common::Server]) -> Line {
        let pids: Vec<u32> = instances.iter().map(|s| s.child.id()).collect();
        let instances: Vec<&str> = instances.iter().map(|s| s.address.as_str()).collect();
        let tag = setup.split_whitespace().next().unwrap_or("x").to_string()
            + if base == instances[0] {
                "-direct"
            } else {
                "-proxy"
            };
        let mut before = Vec::new();
        for i in &instances {
            before.push(answered(&self.client, i).await);
        }
        let cpu_before: Vec<f64> = pids.iter().map(|&p| cpu_seconds(p)).collect();
        let (c, b, t, lesson, tag) = (
            self.client.clone(),
            base.to_string(),
            self.tokens.clone(),
            self.lesson,
            tag,
        );
        // Each line uses its own page views, so that every line's beats are credited afresh.
        let heartbeats = drive(HEARTBEAT_CLIENTS, move |k, n| {
            c.post(format!("{b}/api/v1/study/heartbeats"))
                .bearer_auth(&t[k])
                .json(&serde_json::json!({
                    "page": "lesson", "lesson_id": lesson,
                    "view": format!("inst-{tag}-{k}"), "seq": n
                }))
        })
        .await;
        let (c, b, t, p) = (
            self.client.clone(),
            base.to_string(),
            self.tokens.clone(),
            self.lesson_path.clone(),
        );
        let lesson = drive(PAGE_CLIENTS, move |k, _| {
            c.get(format!("{b}{p}")).bearer_auth(&t[k])
        })
        .await;
        let cpu_us: Vec<f64> = pids.iter().map(|&p| cpu_seconds(p)).collect();
        let mut shares = Vec::new();
        for (i, b) in instances.iter().zip(before) {
            shares.push(answered(&self.client, i).await - b);
        }
        let cpu_us: Vec<f64> = cpu_us
            .iter()
            .zip(&cpu_before)
            .zip(&shares)
            .map(|((after, before), n)| (after - before) * 1e6 / n.max(1.0))
            .collect();
        eprintln!(
            "[{setup}] heartbeats {:.0}/s p99 {:.1} ms, lesson {:.0}/s p99 {:.1} ms, shares {shares:?}, CPU µs per request {cpu_us:?}",
            heartbeats.per_sec, heartbeats.p99_ms, lesson.per_sec, lesson.p99_ms
        );
        Line {
            setup,
            heartbeats,
            lesson,
            shares,
            cpu_us,
        }
    }
}

fn section(lines: &[Line], load: &str) -> String {
    let mut md = format!(
        "## Several instances\n\nWritten by `cargo bench --bench instances` on {} ({} cores). \
         PostgreSQL, {TRAINEES} trainees and 12 months of activity (the load bench's data). \
         nginx runs the repository's `deploy/nginx-parcours.conf` with 2 workers; the \
         instances are release `parcours serve` processes on the same database; the load comes \
         from the bench process over 127.0.0.1, {} s per figure: heartbeats from \
         {HEARTBEAT_CLIENTS} trainees, the lesson page (Moodle's activity page) from \
         {PAGE_CLIENTS}. Everything shares the same 2 cores, so a second instance adds no CPU: \
         what this shows is that requests spread over the instances and what the proxy costs, \
         not the gain of a second machine. Load average when the run started: {load}.\n\n\
         | setup | heartbeats/s | p50 (ms) | p99 (ms) | errors | lesson pages/s | p50 (ms) | p99 (ms) | errors | requests per instance | CPU per request (µs) |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        RUN.as_secs()
    );
    for l in lines {
        let shares: Vec<String> = l.shares.iter().map(|s| format!("{s:.0}")).collect();
        let cpu: Vec<String> = l.cpu_us.iter().map(|c| format!("{c:.0}")).collect();
        md.push_str(&format!(
            "| {} | {:.0} | {:.2} | {:.2} | {} | {:.0} | {:.2} | {:.2} | {} | {} | {} |\n",
            l.setup,
            l.heartbeats.per_sec,
            l.heartbeats.p50_ms,
            l.heartbeats.p99_ms,
            l.heartbeats.errors,
            l.lesson.per_sec,
            l.lesson.p50_ms,
            l.lesson.p99_ms,
            l.lesson.errors,
            shares.join(" / "),
            cpu.join(" / ")
        ));
    }
    if let [.., one, two] = lines {
        md.push_str(&format!(
            "\nFrom one instance to two behind nginx: heartbeats ×{:.2}, p99 ×{:.2}; lesson pages ×{:.2}, p99 ×{:.2}.\n",
            two.heartbeats.per_sec / one.heartbeats.per_sec,
            two.heartbeats.p99_ms / one.heartbeats.p99_ms,
            two.lesson.per_sec / one.lesson.per_sec,
            two.lesson.p99_ms / one.lesson.p99_ms,
        ));
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        let (alone, shared) = (mean(&one.cpu_us), mean(&two.cpu_us));
        let ratio = shared / alone.max(1e-9);
        // Said only when measured: a request's own work, not the shared CPU, decides how
        // instances on machines of their own would add up.
        let reading = if ratio < 1.15 {
            "The work of a request does not grow with the number of instances, so on machines \
             of their own (PostgreSQL on its own) their throughput would add up"
        } else {
            "A request costs more CPU with two instances; part of that is two processes \
             competing for the same 2 cores (caches, scheduling), which machines of their own \
             would not share"
        };
        md.push_str(&format!(
            "Each instance spends {shared:.0} µs of CPU per request with two instances against \
             {alone:.0} µs alone (×{ratio:.2}). {reading}.\n"
        ));
    }
    md
}

fn main() -> anyhow::Result<()> {
    let load = common::load_average();
    anyhow::ensure!(
        std::path::Path::new("/usr/sbin/nginx").exists(),
        "nginx is needed (Debian package nginx)"
    );
    let Some(pg) = common::pg_database("parcours_bench_inst")? else {
        anyhow::bail!("this bench needs PostgreSQL");
    };
    let filled = Instant::now();
    fill(&pg.url)?;
    eprintln!("filled in {:.1} s", filled.elapsed().as_secs_f64());
    let (lesson, lesson_path) = common::first_lesson(&pg.url)?;
    let dir = tempfile::tempdir()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let lines = rt.block_on(async {
        let a = start(&pg.url, dir.path(), INSTANCE_ENV)?;
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()?;
        let mut tokens = Vec::new();
        for i in 0..HEARTBEAT_CLIENTS {
            tokens.push(token(&client, &a.address, &format!("t{i}@bench.fr")).await?);
        }
        let load = Load {
            client,
            tokens: Arc::new(tokens),
            lesson,
            lesson_path: Arc::new(lesson_path),
        };
        let upstream = |s: &common::Server| s.address.trim_start_matches("http://").to_string();
        let mut lines = vec![load.line("one instance, direct", &a.address, &[&a]).await];
        {
            let proxy_dir = tempfile::tempdir()?;
            let ua = upstream(&a);
            let proxy = Nginx::with_workers(proxy_dir.path(), [&ua, &ua], 2);
            lines.push(
                load.line("one instance behind nginx", &proxy.address, &[&a])
                    .await,
            );
        }
        let b = start(&pg.url, dir.path(), INSTANCE_ENV)?;
        let proxy_dir = tempfile::tempdir()?;
        let (ua, ub) = (upstream(&a), upstream(&b));
        let proxy = Nginx::with_workers(proxy_dir.path(), [&ua, &ub], 2);
        lines.push(
            load.line("two instances behind nginx", &proxy.address, &[&a, &b])
                .await,
        );
        anyhow::Ok(lines)
    })?;
    drop(pg);
    let md = section(&lines, &load);
    println!("{md}");
    common::write_section("## Several instances", &md)?;
    Ok(())
}
