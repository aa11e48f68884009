//! `cargo bench --bench storage`: a programme's video on the two object stores, in one run,
//! each on a release server over SQLite of its own: the instance's folder, then S3 (the
//! s3s-fs server at `PARCOURS_BENCH_S3`, default http://127.0.0.1:9014, bucket
//! `parcours-test`, a fresh prefix removed at the end). For each store: an author uploads a
//! 50 MB video (random bytes behind an MP4 header) into a draft, adds it as a resource and
//! publishes; a trainee then downloads it through a second instance (with S3, a data folder
//! of its own), first cold (the version's files written out from the shelf: fetched from S3
//! there), then warm (from that instance's cache). Three rounds, each a new copy of the CQP, medians. Then the lesson page's latency,
//! idle and while 8 clients download the video over and over through the instance; on S3
//! also while the 8 read it straight from the bucket by a presigned URL, the other way of
//! serving it. Replaces the `## Object storage` section of BENCHMARKS.md.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt};
use object_store::ObjectStore;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as Key;
use object_store::signer::{Method, Signer};
use sha2::{Digest, Sha256};

use common::browser::{add_and_publish, copy_cqp, page, signed_in, upload_file};
use common::{Figures, drive};

const ROUNDS: usize = 3;
/// What `objects::Shelf::prefetch` fetches at once (said in the section's text).
const FETCHES_AT_ONCE: usize = 8;
const VIDEO_MB: usize = 50;
/// Warm downloads per round, after the cold one.
const WARM: usize = 3;
const STREAMS: usize = 8;
const PAGE_CLIENTS: usize = 8;
const MODULE: &str = "01-suivi-parcours-sante";
const LESSON: &str = "M1/activites/01-role-assistant-parcours-sante";
const BUCKET: &str = "parcours-test";
const MB: f64 = (1 << 20) as f64;

/// Where the S3 run keeps its files.
struct S3 {
    endpoint: String,
    prefix: String,
    access_key: String,
    secret_key: String,
}

impl S3 {
    fn from_env() -> S3 {
        let var = |k: &str, default: &str| std::env::var(k).unwrap_or_else(|_| default.into());
        S3 {
            endpoint: var("PARCOURS_BENCH_S3", "http://127.0.0.1:9014"),
            // A prefix of its own: nothing of an earlier run is found already kept.
            prefix: format!(
                "bench-storage-{}-{}",
                chrono::Utc::now().format("%Y%m%d%H%M%S"),
                std::process::id()
            ),
            access_key: var("PARCOURS_BENCH_S3_ACCESS_KEY", "parcours"),
            secret_key: var("PARCOURS_BENCH_S3_SECRET_KEY", "parcours-secret-key"),
        }
    }

    /// The server's settings for this store.
    fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "PARCOURS_STORAGE_URL",
                format!("s3://{BUCKET}/{}", self.prefix),
            ),
            ("PARCOURS_STORAGE_ENDPOINT", self.endpoint.clone()),
            ("PARCOURS_STORAGE_ACCESS_KEY", self.access_key.clone()),
            ("PARCOURS_STORAGE_SECRET_KEY", self.secret_key.clone()),
        ]
    }

    /// The bench's own client of the bucket: to sign URLs and to clear the prefix.
    fn client(&self) -> anyhow::Result<AmazonS3> {
        Ok(AmazonS3Builder::new()
            .with_endpoint(&self.endpoint)
            .with_bucket_name(BUCKET)
            .with_region("us-east-1")
            .with_access_key_id(&self.access_key)
            .with_secret_access_key(&self.secret_key)
            .with_virtual_hosted_style_request(false)
            .with_allow_http(true)
            .build()?)
    }

    /// Removes every object of the run's prefix.
    async fn clear(&self) -> anyhow::Result<usize> {
        let store = self.client()?;
        let prefix = Key::from(self.prefix.as_str());
        let listed = store.list(Some(&prefix)).map_ok(|m| m.location).boxed();
        let gone: Vec<Key> = store.delete_stream(listed).try_collect().await?;
        Ok(gone.len())
    }
}

/// A 50 MB video: an MP4 header (the upload checks the content), then random bytes that no
/// compression shrinks; `seed` makes each round's file new to the shelf.
fn video(seed: u64) -> Vec<u8> {
    let mut head = vec![0, 0, 0, 0x18];
    head.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2mp41");
    common::incompressible(&head, VIDEO_MB, seed)
}

/// Downloads `url` whole without keeping it; fails unless it is `size` bytes. Returns how
/// long it took, and how long until the answer's headers (what the server did before
/// sending a byte).
async fn timed_download(
    c: &reqwest::Client,
    url: &str,
    size: usize,
) -> anyhow::Result<(Duration, Duration)> {
    let t = Instant::now();
    let mut res = c.get(url).send().await?;
    let first = t.elapsed();
    anyhow::ensure!(res.status() == 200, "GET {url}: {}", res.status());
    let mut got = 0;
    while let Some(chunk) = res.chunk().await? {
        got += chunk.len();
    }
    anyhow::ensure!(got == size, "GET {url}: {got} bytes, not {size}");
    Ok((t.elapsed(), first))
}

async fn download(c: &reqwest::Client, url: &str, size: usize) -> anyhow::Result<Duration> {
    Ok(timed_download(c, url, size).await?.0)
}

fn mb_per_s(d: Duration) -> f64 {
    VIDEO_MB as f64 / d.as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// One round's figures, MB/s but for the publish (ms).
struct Round {
    upload: f64,
    publish_ms: f64,
    cold: f64,
    cold_ms: f64,
    /// Of the cold download, the time before its first byte (the version written out).
    cold_wait_ms: f64,
    /// The files of the version the cold download wrote out.
    files: usize,
    warm: Vec<f64>,
}

/// What the last round leaves for the streaming part: the trainee, the video's address and
/// its name on the shelf.
struct Served {
    trainee: reqwest::Client,
    url: String,
    lesson: String,
    sha: String,
}

/// The versions this instance has written out into its cache (their folders).
fn written_out(data_dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(data_dir.join("programmes/versions")).map_or(Vec::new(), |d| {
        d.flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with('v'))
            .map(|e| e.path())
            .collect()
    })
}

/// The files under `dir`, at any depth.
fn files_in(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| {
        d.flatten()
            .map(|e| match e.file_type() {
                Ok(t) if t.is_dir() => files_in(&e.path()),
                Ok(_) => 1,
                Err(_) => 0,
            })
            .sum()
    })
}

async fn round(
    (base, (reader, data_dir)): (&str, (&str, &std::path::Path)),
    database_url: &str,
    org: i64,
    (tag, n): (&str, usize),
) -> anyhow::Result<(Round, Served)> {
    let code = format!("CQP-V{tag}{n}");
    let admin = signed_in(base, "auteur@bench.fr").await?;
    copy_cqp(&admin, base, org, &code).await?;
    // A seed per store and round: each video is new to its shelf, so it is really sent.
    let bytes = video(u64::from(tag.as_bytes()[0]) << 8 | n as u64);
    let sha = parcours::base::digest::hex(&Sha256::digest(&bytes));
    let upload = upload_file(&admin, base, (&code, MODULE), bytes, "video-bench.mp4").await?;
    let t = Instant::now();
    let fields = [
        ("module", MODULE),
        ("sequence", "nouvelle"),
        ("sequence_title", "Vidéo"),
        ("kind", "resource"),
        ("slug", "video-bench"),
        ("title", "La vidéo du bench"),
        ("minutes", "10"),
        ("file", "files/video-bench.mp4"),
    ];
    add_and_publish(&admin, base, &code, &fields).await?;
    let publish_ms = t.elapsed().as_secs_f64() * 1000.0;
    let email = format!("v{tag}{n}@bench.fr").to_lowercase();
    let (url, code2, email2) = (database_url.to_string(), code.clone(), email.clone());
    tokio::task::spawn_blocking(move || common::trainee_on(&url, org, &code2, &email2)).await??;
    // The trainee reads from the other instance, which never saw these files: its first
    // download writes the version out from the shelf.
    let trainee = signed_in(reader, &email).await?;
    let url = format!("{reader}/programmes/{code}/M1/fichiers/video-bench.mp4");
    let before = written_out(data_dir);
    let (cold, cold_wait) = timed_download(&trainee, &url, VIDEO_MB << 20).await?;
    let new: Vec<_> = written_out(data_dir)
        .into_iter()
        .filter(|d| !before.contains(d))
        .collect();
    anyhow::ensure!(
        new.len() == 1,
        "the first download did not write the version out: it was not cold"
    );
    let files = files_in(&new[0]);
    let mut warm = Vec::new();
    for _ in 0..WARM {
        warm.push(mb_per_s(download(&trainee, &url, VIDEO_MB << 20).await?));
    }
    let lesson = format!("{reader}/programmes/{code}/{LESSON}");
    page(&trainee, &lesson).await?;
    Ok((
        Round {
            upload: mb_per_s(upload),
            publish_ms,
            cold: mb_per_s(cold),
            cold_ms: cold.as_secs_f64() * 1000.0,
            cold_wait_ms: cold_wait.as_secs_f64() * 1000.0,
            files,
            warm,
        },
        Served {
            trainee,
            url,
            lesson,
            sha,
        },
    ))
}

/// The lesson page's latency while `streams` clients download `url` whole, over and over,
/// as fast as they can; and the MB/s those downloads got meanwhile.
async fn lesson_while_streaming(
    served: &Served,
    streams: usize,
    url: &str,
    stream_client: &reqwest::Client,
) -> (Figures, f64) {
    let stop = Arc::new(AtomicBool::new(false));
    let bytes = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..streams {
        let (c, u, stop, bytes) = (
            stream_client.clone(),
            url.to_string(),
            stop.clone(),
            bytes.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let Ok(mut res) = c.get(&u).send().await else {
                    continue;
                };
                // Stopped between chunks, so that the lesson page's run ends on time.
                while let Ok(Some(chunk)) = res.chunk().await {
                    bytes.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                }
            }
        }));
    }
    let (c, lesson) = (served.trainee.clone(), served.lesson.clone());
    let figures = drive(PAGE_CLIENTS, move |_, _| c.get(&lesson)).await;
    stop.store(true, Ordering::Relaxed);
    let took = started.elapsed();
    for t in tasks {
        let _ = t.await;
    }
    (
        figures,
        bytes.load(Ordering::Relaxed) as f64 / MB / took.as_secs_f64(),
    )
}

/// A store's figures, medians of the rounds.
struct Column {
    upload: f64,
    publish_ms: f64,
    cold: f64,
    cold_ms: f64,
    cold_wait_ms: f64,
    files: usize,
    warm: f64,
    idle: Figures,
    streamed: (Figures, f64),
    /// On S3: downloads straight from the bucket by a presigned URL, one at a time (MB/s),
    /// and the lesson page while 8 such downloads run.
    presigned: Option<(f64, Figures, f64)>,
}

async fn run(tag: &str, s3: Option<&S3>) -> anyhow::Result<Column> {
    let dir = tempfile::tempdir()?;
    let database_url = format!("sqlite://{}/parcours.db", dir.path().display());
    let url = database_url.clone();
    let org = tokio::task::spawn_blocking(move || {
        common::organism_with_admin(&url, "Organisme vidéo", "auteur@bench.fr")
    })
    .await??;
    let mut settings = vec![("PARCOURS_QUOTA_ORGANISM_MB", "2048".to_string())];
    settings.extend(s3.map(S3::settings).unwrap_or_default());
    let env: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = common::start(&database_url, dir.path(), &env)?;
    // A second instance on the same database and store: with S3 a data folder of its own,
    // as an instance on another machine has; the local folder is shared by definition.
    let reader_dir = tempfile::tempdir()?;
    let reader_data = if s3.is_some() {
        reader_dir.path()
    } else {
        dir.path()
    };
    let reader = common::start(&database_url, reader_data, &env)?;
    let mut rounds = Vec::new();
    let mut served = None;
    for n in 0..ROUNDS {
        let instances = (
            server.address.as_str(),
            (reader.address.as_str(), reader_data),
        );
        let (r, s) = round(instances, &database_url, org, (tag, n)).await?;
        eprintln!(
            "[{tag}] round {n}: upload {:.0} MB/s, add + publish {:.0} ms, cold download {:.0} MB/s ({:.0} ms, {:.0} ms before the first byte), warm {}",
            r.upload,
            r.publish_ms,
            r.cold,
            r.cold_ms,
            r.cold_wait_ms,
            r.warm
                .iter()
                .map(|w| format!("{w:.0}"))
                .collect::<Vec<_>>()
                .join(", ")
                + " MB/s"
        );
        rounds.push(r);
        served = Some(s);
    }
    let served = served.ok_or_else(|| anyhow::anyhow!("no round"))?;
    let m = |f: fn(&Round) -> f64| median(rounds.iter().map(f).collect());
    let (c, lesson) = (served.trainee.clone(), served.lesson.clone());
    let idle = drive(PAGE_CLIENTS, move |_, _| c.get(&lesson)).await;
    eprintln!(
        "[{tag}] lesson page idle: p50 {:.2} ms, p99 {:.2} ms",
        idle.p50_ms, idle.p99_ms
    );
    let streamed = lesson_while_streaming(&served, STREAMS, &served.url, &served.trainee).await;
    eprintln!(
        "[{tag}] lesson page with {STREAMS} streams: p50 {:.2} ms, p99 {:.2} ms, video {:.0} MB/s",
        streamed.0.p50_ms, streamed.0.p99_ms, streamed.1
    );
    // A store that refuses presigned URLs loses that line only, not the run's figures.
    let presigned = match s3 {
        Some(s3) => presigned(s3, &served)
            .await
            .inspect_err(|e| eprintln!("[{tag}] presigned URL: {e}"))
            .ok(),
        None => None,
    };
    drop(server);
    drop(reader);
    Ok(Column {
        upload: m(|r| r.upload),
        publish_ms: m(|r| r.publish_ms),
        cold: m(|r| r.cold),
        cold_ms: m(|r| r.cold_ms),
        cold_wait_ms: m(|r| r.cold_wait_ms),
        files: rounds.iter().map(|r| r.files).max().unwrap_or(0),
        warm: median(rounds.iter().flat_map(|r| r.warm.clone()).collect()),
        idle,
        streamed,
        presigned,
    })
}

/// The video read straight from the bucket by a presigned URL, as a browser would once the
/// instance handed it one: alone (MB/s, median of `WARM`), then by 8 clients over and over
/// while the lesson page is measured.
async fn presigned(s3: &S3, served: &Served) -> anyhow::Result<(f64, Figures, f64)> {
    let store = s3.client()?;
    let key = Key::from(format!("{}/programmes/{}", s3.prefix, served.sha));
    let url = store
        .signed_url(Method::GET, &key, Duration::from_secs(3600))
        .await?
        .to_string();
    let plain = reqwest::Client::new();
    let mut alone = Vec::new();
    for _ in 0..WARM {
        alone.push(mb_per_s(download(&plain, &url, VIDEO_MB << 20).await?));
    }
    let (figures, rate) = lesson_while_streaming(served, STREAMS, &url, &plain).await;
    eprintln!(
        "[s3] presigned: alone {:.0} MB/s; lesson page with {STREAMS} presigned streams: p50 {:.2} ms, p99 {:.2} ms, video {rate:.0} MB/s",
        median(alone.clone()),
        figures.p50_ms,
        figures.p99_ms
    );
    Ok((median(alone), figures, rate))
}

/// Whether something answers at the S3 endpoint, so that a missing server is said plainly.
fn reachable(endpoint: &str) -> bool {
    let Ok(url) = url::Url::parse(endpoint) else {
        return false;
    };
    let Some(addr) = url
        .socket_addrs(|| Some(80))
        .ok()
        .and_then(|a| a.into_iter().next())
    else {
        return false;
    };
    std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok()
}

fn section(local: &Column, s3: &Column, load: &str) -> String {
    let pair = |f: &Figures| format!("{:.2} / {:.2}", f.p50_ms, f.p99_ms);
    let (pre_alone, pre_lesson, pre_rate) = match &s3.presigned {
        Some((alone, f, rate)) => (format!("{alone:.0}"), pair(f), format!("{rate:.0}")),
        None => ("—".into(), "—".into(), "—".into()),
    };
    let errors = local.idle.errors
        + local.streamed.0.errors
        + s3.idle.errors
        + s3.streamed.0.errors
        + s3.presigned.as_ref().map_or(0, |p| p.1.errors);
    let streamed_p99 = |c: &Column| c.streamed.0.p99_ms / c.idle.p99_ms.max(0.001);
    // What the cold wait on S3 is made of: the video alone, read from the bucket, against
    // the whole version fetched and loaded.
    let why_cold = match &s3.presigned {
        Some((alone, ..)) => format!(
            " On S3 the cold download waits while the version's {} files are fetched into the instance's cache ({FETCHES_AT_ONCE} at a time, each checked against its hash) and the version is loaded; reading the video alone from the bucket takes about {:.0} ms.",
            s3.files,
            VIDEO_MB as f64 / alone * 1000.0
        ),
        None => format!(
            " On S3 the cold download waits while the version's {} files are fetched into the instance's cache ({FETCHES_AT_ONCE} at a time, each checked against its hash) and the version is loaded.",
            s3.files
        ),
    };
    format!(
        "## Object storage\n\n\
`cargo bench --bench storage`, {} ({} cores), release servers on SQLite, load average {} when the run started; each store has a database and two release servers of its own (the author's and the trainee's), in the same run. S3 is s3s-fs on the same machine (127.0.0.1), a fresh prefix per run. A {VIDEO_MB} MB video (random bytes behind an MP4 header), {ROUNDS} rounds, each a new copy of the CQP: the author's upload into the draft (timed from sending to the answer: streamed to the instance's disk, its content checked, kept on the `programmes` shelf), adding it as a resource and publishing, then a trainee's downloads through `/programmes/…/fichiers/…` from a second instance on the same database and store (with S3, a data folder of its own). The first is cold: that instance had never opened the version, so the download waits for every file of the version (the CQP's and the video) to be written out from the shelf (hard links from the local folder, GETs from S3) and for the version to be loaded; {WARM} warm downloads per round follow. Medians; 1 MB = 2^20 bytes. The lesson page: {PAGE_CLIENTS} clients for {} s, idle, then while {STREAMS} clients download the video whole over and over, as fast as loopback lets them (a worst case: a player reads at the video's bitrate). Everything, S3 included, shares the same 2 cores: compare ratios, not absolutes.\n\n\
| | local folder | S3 |\n|---|---|---|\n\
| upload into the draft (MB/s) | {:.0} | {:.0} |\n\
| add the resource and publish (ms) | {:.0} | {:.0} |\n\
| first download, cold (MB/s; whole, and before the first byte) | {:.0}; {:.0} ms, {:.0} ms | {:.0}; {:.0} ms, {:.0} ms |\n\
| later downloads, warm from the instance's cache (MB/s) | {:.0} | {:.0} |\n\
| download straight from the bucket by a presigned URL (MB/s) | — | {pre_alone} |\n\
| lesson page idle, p50 / p99 (ms) | {} | {} |\n\
| lesson page, {STREAMS} streams through the instance, p50 / p99 (ms) | {} | {} |\n\
| video served meanwhile by the instance (MB/s, all streams) | {:.0} | {:.0} |\n\
| lesson page, {STREAMS} streams by presigned URLs from the bucket, p50 / p99 (ms) | — | {pre_lesson} |\n\
| video served meanwhile by the bucket (MB/s, all streams) | — | {pre_rate} |\n\n\
S3 against the local folder: upload ×{:.2}, cold download ×{:.2}, warm download ×{:.2}. {STREAMS} streams through the instance multiply the lesson page's p99 by {:.1} (local folder) and {:.1} (S3). Lesson page errors: {errors}.{why_cold} Adding and publishing on S3 also writes each new revision of the draft out (the editor checks it), from files the author's instance fetched once into its cache.\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load,
        common::RUN.as_secs(),
        local.upload,
        s3.upload,
        local.publish_ms,
        s3.publish_ms,
        local.cold,
        local.cold_ms,
        local.cold_wait_ms,
        s3.cold,
        s3.cold_ms,
        s3.cold_wait_ms,
        local.warm,
        s3.warm,
        pair(&local.idle),
        pair(&s3.idle),
        pair(&local.streamed.0),
        pair(&s3.streamed.0),
        local.streamed.1,
        s3.streamed.1,
        s3.upload / local.upload,
        s3.cold / local.cold,
        s3.warm / local.warm,
        streamed_p99(local),
        streamed_p99(s3),
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let s3 = S3::from_env();
    anyhow::ensure!(
        reachable(&s3.endpoint),
        "no S3 server at {} (PARCOURS_BENCH_S3): start s3s-fs with bucket {BUCKET}, keys parcours / parcours-secret-key",
        s3.endpoint
    );
    // Taken before the run, which loads the machine itself.
    let load = common::load_average();
    eprintln!("load average {load}; S3 prefix {}", s3.prefix);
    let local = run("L", None).await?;
    let on_s3 = run("S", Some(&s3)).await;
    // The prefix goes whether the S3 run went through or not.
    match s3.clear().await {
        Ok(n) => eprintln!("{n} objects removed from {BUCKET}/{}", s3.prefix),
        Err(e) => eprintln!("could not clear {BUCKET}/{}: {e}", s3.prefix),
    }
    let text = section(&local, &on_s3?, &load);
    print!("{text}");
    common::write_section("## Object storage", &text)?;
    Ok(())
}
