//! `cargo bench --bench packages`: how long a 50 MB SCORM package takes from the organism's
//! upload to the trainee's first launch, on a release server over SQLite. The package is the
//! real Golf example (SCORM 2004) with 50 MB of incompressible media added, as a Storyline
//! export with its videos is. Three packages, each a first launch (its files unpacked then);
//! the steps are timed apart. Replaces the `## E-learning packages` section of BENCHMARKS.md.

mod common;

use std::io::{Cursor, Read, Write};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use parcours::accounts::{Role, password, store as users};
use parcours::db::schema::programs;
use parcours::db::{self, DbConn};

use common::browser::{field, form, page, redirected, signed_in};
use common::{PASSWORD, root};

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
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ round as u64;
    for part in 0..5 {
        w.start_file(format!("media/video-{part}.mp4"), stored)?;
        let mut chunk = vec![0u8; (MEDIA_MB << 20) / 5];
        for b in chunk.iter_mut() {
            // xorshift: random enough not to compress, cheap enough to make 50 MB.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *b = state as u8;
        }
        w.write_all(&chunk)?;
    }
    Ok(w.finish()?.into_inner())
}

/// The organism and its administrator, before the server starts.
fn seed(database_url: &str) -> anyhow::Result<i64> {
    let (pool, _) = db::connect(database_url, 1)?;
    let mut pooled = pool.get()?;
    let conn: &mut DbConn = &mut pooled;
    db::migrate(conn)?;
    let org = parcours::organisms::store::create(
        conn,
        None,
        &parcours::organisms::rules::Organism {
            name: "Organisme e-learning".into(),
            ..Default::default()
        },
    )?;
    let hash = password::hash(PASSWORD)?;
    users::create(
        conn,
        None,
        users::NewUser {
            email: "auteur@bench.fr",
            name: "Autrice",
            role: Role::OrganismAdmin,
            organism_id: Some(org),
            password_hash: Some(&hash),
        },
    )?;
    Ok(org)
}

/// A trainee in a cohort on the published copy, once it is published.
fn trainee_on(database_url: &str, org: i64, code: &str, email: &str) -> anyhow::Result<()> {
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
            name: "Stagiaire e-learning",
            role: Role::Trainee,
            organism_id: Some(org),
            password_hash: Some(&hash),
        },
    )?;
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
    let list_url = format!("{base}/organismes/{org}/programmes");
    let list = page(&admin, &list_url).await?;
    let fields = [
        ("source", "CQP-AM"),
        ("code", code.as_str()),
        ("title", "CQP e-learning"),
    ];
    redirected(
        form(&admin, &list_url, &list, &fields)?.send().await?,
        "copy",
    )
    .await?;
    let editor = format!("{base}/auteur/programmes/{code}");
    let bytes = package(n)?;
    let html = page(&admin, &editor).await?;
    let (rev, csrf) = (
        field(&html, "revision")?.to_string(),
        field(&html, "csrf_token")?.to_string(),
    );
    let t = Instant::now();
    let parts = reqwest::multipart::Form::new()
        .text("csrf_token", csrf)
        .text("revision", rev)
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name("golf-video.zip"),
        );
    let res = admin
        .post(format!("{editor}/modules/{MODULE}/fichiers"))
        .multipart(parts)
        .send()
        .await?;
    redirected(res, "upload").await?;
    let upload = t.elapsed();
    let t = Instant::now();
    let html = page(&admin, &editor).await?;
    let fields = [
        ("revision", field(&html, "revision")?),
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
    let add = form(
        &admin,
        &format!("{base}/auteur/programmes/{code}/activites"),
        &html,
        &fields,
    )?;
    redirected(add.send().await?, "package activity").await?;
    let html = page(&admin, &editor).await?;
    let publish = form(
        &admin,
        &format!("{editor}/publier"),
        &html,
        &[("revision", field(&html, "revision")?)],
    )?;
    redirected(publish.send().await?, "publish").await?;
    let publish = t.elapsed();
    let email = format!("el{n}@bench.fr");
    let url = database_url.to_string();
    let (code2, email2) = (code.clone(), email.clone());
    tokio::task::spawn_blocking(move || trainee_on(&url, org, &code2, &email2)).await??;
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
    let org = seed(&database_url)?;
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
