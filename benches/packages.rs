//! `cargo bench --bench packages`: how long a 50 MB SCORM package takes from the organism's
//! upload to the trainee's first launch, on a release server over SQLite. The package is the
//! real Golf example (SCORM 2004) with 50 MB of incompressible media added, as a Storyline
//! export with its videos is. Three packages, each a first launch (its files unpacked then);
//! the steps are timed apart. Replaces the `## E-learning packages` section of BENCHMARKS.md.

mod common;

use std::io::{Cursor, Read, Write};
use std::time::{Duration, Instant};

use common::browser::{add_and_publish, copy_cqp, redirected, signed_in, upload_file};
use common::root;

const ROUNDS: usize = 3;
const MEDIA_MB: usize = 50;
const MODULE: &str = "01-suivi-parcours-sante";

/// The Golf package with `MEDIA_MB` of random bytes (seeded by `round`) in a media folder.
fn package(round: usize) -> anyhow::Result<Vec<u8>> {
    let golf =
        std::fs::read(root().join("tests/assets/scorm/scorm2004_3rd_golf_runtimebasiccalls.zip"))?;
    let mut source = zip::ZipArchive::new(Cursor::new(golf))?;
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..source.len() {
        let mut entry = source.by_index(i)?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes)?;
        w.start_file(name, deflated)?;
        w.write_all(&bytes)?;
    }
    // Video does not compress: stored, as authoring tools store it.
    let stored = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(false);
    let media = common::incompressible(&[], MEDIA_MB, round as u64);
    for (part, chunk) in media.chunks(media.len() / 5).enumerate() {
        w.start_file(format!("media/video-{part}.mp4"), stored)?;
        w.write_all(chunk)?;
    }
    Ok(w.finish()?.into_inner())
}

/// The steps of one round, timed apart.
struct Round {
    upload: Duration,
    publish: Duration,
    launch: Duration,
    first_file: Duration,
    again: Duration,
}

async fn round(base: &str, database_url: &str, org: i64, n: usize) -> anyhow::Result<Round> {
    let code = format!("CQP-EL{n}");
    let admin = signed_in(base, "auteur@bench.fr").await?;
    copy_cqp(&admin, base, org, &code).await?;
    let bytes = package(n)?;
    let upload = upload_file(&admin, base, (&code, MODULE), bytes, "golf-video.zip").await?;
    let t = Instant::now();
    let fields = [
        ("module", MODULE),
        ("sequence", "nouvelle"),
        ("sequence_title", "E-learning"),
        ("kind", "package"),
        ("slug", "golf"),
        ("title", "Le golf en vidéo"),
        ("minutes", "30"),
        ("required", "on"),
        ("file", "files/golf-video.zip"),
    ];
    add_and_publish(&admin, base, &code, &fields).await?;
    let publish = t.elapsed();
    let email = format!("el{n}@bench.fr");
    let url = database_url.to_string();
    let (code2, email2) = (code.clone(), email.clone());
    tokio::task::spawn_blocking(move || common::trainee_on(&url, org, &code2, &email2)).await??;
    let trainee = signed_in(base, &email).await?;
    let launch_url = format!("{base}/programmes/{code}/M1/paquets/golf/0");
    let t = Instant::now();
    let host = redirected(trainee.get(&launch_url).send().await?, "launch").await?;
    let res = reqwest::get(&host).await?;
    anyhow::ensure!(res.status() == 200, "host page: {}", res.status());
    let launch = t.elapsed();
    let t = Instant::now();
    let sco = reqwest::get(format!("{host}f/shared/launchpage.html")).await?;
    anyhow::ensure!(sco.status() == 200, "launch file: {}", sco.status());
    let first_file = t.elapsed();
    let t = Instant::now();
    let host = redirected(trainee.get(&launch_url).send().await?, "launch").await?;
    anyhow::ensure!(reqwest::get(&host).await?.status() == 200);
    let again = t.elapsed();
    Ok(Round {
        upload,
        publish,
        launch,
        first_file,
        again,
    })
}

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let database_url = format!("sqlite://{}/parcours.db", dir.path().display());
    let org =
        common::organism_with_admin(&database_url, "Organisme e-learning", "auteur@bench.fr")?;
    let server = common::start(
        &database_url,
        dir.path(),
        &[("PARCOURS_QUOTA_ORGANISM_MB", "2048")],
    )?;
    let mut rounds = Vec::new();
    for n in 0..ROUNDS {
        let r = round(&server.address, &database_url, org, n).await?;
        eprintln!(
            "round {n}: upload {:.0} ms, activity + publish {:.0} ms, first launch {:.0} ms, launch file {:.0} ms, next launch {:.0} ms",
            r.upload.as_secs_f64() * 1000.0,
            r.publish.as_secs_f64() * 1000.0,
            r.launch.as_secs_f64() * 1000.0,
            r.first_file.as_secs_f64() * 1000.0,
            r.again.as_secs_f64() * 1000.0
        );
        rounds.push(r);
    }
    let m = |f: fn(&Round) -> Duration| median(rounds.iter().map(f).collect());
    let (up, publ, first, file, again) = (
        m(|r| r.upload),
        m(|r| r.publish),
        m(|r| r.launch),
        m(|r| r.first_file),
        m(|r| r.again),
    );
    let section = format!(
        "## E-learning packages\n\n`cargo bench --bench packages`, {}, release server on SQLite, load average {}. A {MEDIA_MB} MB SCORM 2004 package (Rustici's Golf example with {MEDIA_MB} MB of stored, incompressible media), medians of {ROUNDS} packages, each new:\n\n| step | median |\n|---|---|\n| upload into the draft (streamed to disk, ZIP directory and manifest checked, kept as a blob) | {up:.0} ms |\n| add the activity and publish (the draft checked, the ZIP checked again) | {publ:.0} ms |\n| first launch (the trainee's launch, then the host page: the package unpacked on the server) | {first:.0} ms |\n| the SCO's launch file | {file:.0} ms |\n| a later launch (already unpacked) | {again:.0} ms |\n| **from upload to first launch** | **{:.0} ms** |\n",
        parcours::base::paris::today().format("%d/%m/%Y"),
        common::load_average(),
        up + publ + first + file
    );
    print!("{section}");
    common::write_section("## E-learning packages", &section)?;
    drop(server);
    Ok(())
}
