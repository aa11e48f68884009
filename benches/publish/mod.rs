//! The publish line of the load bench. The organism's administrator signs in and copies the
//! reference CQP through the real route; its draft is rebuilt as a programme of 4 modules and
//! 200 activities (`programme`), checked as `parcours content check` checks a folder, its
//! files kept as blobs in the server's data folder and the draft's manifest replaced (the
//! browser cannot add files yet). Then, round after round, she does what an author does: opens
//! a sheet, saves it changed (a new draft revision) and publishes. Only the publish requests
//! are timed.

mod programme;
mod text;

use std::path::Path;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use parcours::curriculum::authoring::drafts::{self, Saved};
use parcours::curriculum::authoring::manifest;
use parcours::db::schema::{content_versions, lessons, modules, programs, users};
use parcours::db::{self, DbConn};

use crate::common::browser::{field, form, page, redirected, signed_in, words_of};
use crate::common::{self, Figures};

pub const ROUNDS: usize = 20;
const CODE: &str = "CQP-BENCH";
const ADMIN: &str = "staff@bench.fr";

/// What the publish line measured.
pub struct Published {
    pub figures: Figures,
    pub p95_ms: f64,
    /// Files in the published draft.
    pub files: usize,
    /// The first publish of the rebuilt draft, which adds its new activities' rows.
    pub first_ms: f64,
    pub added: usize,
    /// The editor page after a save (median), which writes the revision out and checks it.
    pub editor_ms: f64,
}

pub fn line() -> String {
    format!(
        "POST publish of a programme of {} modules and {} activities (1 author, {ROUNDS} rounds)",
        programme::MODULES,
        programme::MODULES * programme::PER_MODULE
    )
}

impl Published {
    /// What the figures are and what one publish does, for BENCHMARKS.md.
    pub fn note(&self) -> String {
        format!(
            "Publishing, {ROUNDS} rounds of one author who opens a lesson, saves it changed, lands on the editor page and publishes from it (only the publish is timed): median {:.0} ms, p95 {:.0} ms. The editor page the author came from ran every check of `parcours content check` on the draft's {} files (written out of their blobs, then read and parsed by the loader: median {:.0} ms for that page); the publish finds that check kept for the revision, records the version (manifest, snapshot of modules and activities, audit event with what changed) and writes, in one transaction, the rows of the programme's {} modules and {} activities that changed: here the one lesson. The rebuilt draft's first publish, which adds {} activities to the copy of the CQP, took {:.0} ms and is not counted.",
            self.figures.p50_ms,
            self.p95_ms,
            self.files,
            self.editor_ms,
            programme::MODULES,
            programme::MODULES * programme::PER_MODULE,
            self.added,
            self.first_ms,
        )
    }
}

/// The copy's draft rebuilt as the generated programme, after the checks. Blocking. The
/// edited sheet's path and text, the draft's file count and the activities added.
fn rebuild_draft(
    database_url: &str,
    data_dir: &Path,
) -> anyhow::Result<((String, String), usize, usize)> {
    let (pool, _) = db::connect(database_url, 1)?;
    let mut pooled = pool.get()?;
    let conn: &mut DbConn = &mut pooled;
    let program_id: i64 = programs::table
        .filter(programs::code.eq(CODE))
        .select(programs::id)
        .first(conn)?;
    let author: i64 = users::table
        .filter(users::email.eq(ADMIN))
        .select(users::id)
        .first(conn)?;
    let blobs = parcours::objects::folder(&data_dir.join("programmes").join("blobs"))?;
    let draft = drafts::get(conn, program_id)?.ok_or_else(|| anyhow::anyhow!("no draft"))?;
    let generated = programme::generate(&blobs, &draft.manifest)?;
    // What `parcours content check` prints for the folder, and what it must say.
    let summary = parcours::curriculum::check::check(generated.root.path())
        .map_err(|e| anyhow::anyhow!("generated programme refused: {e}"))?;
    eprint!("{summary}");
    anyhow::ensure!(
        summary.ends_with("Contenu valide.\n"),
        "warnings in the generated programme"
    );
    let curriculum = parcours::curriculum::loader::load(generated.root.path())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let p = curriculum
        .programs
        .first()
        .ok_or_else(|| anyhow::anyhow!("no programme"))?;
    anyhow::ensure!(p.code == CODE, "programme {}", p.code);
    for m in &p.modules {
        anyhow::ensure!(
            m.activities.len() == programme::PER_MODULE
                && m.required_minutes() == m.distance_hours * 60,
            "{}: {} activities, {} required minutes for {} h",
            m.code,
            m.activities.len(),
            m.required_minutes(),
            m.distance_hours
        );
    }
    for (folder, before, after, hours) in &generated.added {
        eprintln!("{folder}: {before} activities -> {after}, {hours} h moved to distance");
    }
    let added = generated.added.iter().map(|(_, b, a, _)| a - b).sum();
    let files = manifest::from_dir(&blobs, &generated.dir)?;
    match drafts::replace(conn, program_id, draft.revision, &files, author)? {
        Saved::Saved(_) => Ok((generated.lesson, files.len(), added)),
        Saved::Changed(_) => anyhow::bail!("the draft moved meanwhile"),
    }
}

/// The programme's last version number and its activities in use, from the database.
fn published(database_url: &str) -> anyhow::Result<(i32, i64)> {
    let (pool, _) = db::connect(database_url, 1)?;
    let mut pooled = pool.get()?;
    let conn: &mut DbConn = &mut pooled;
    let number: Option<i32> = content_versions::table
        .filter(content_versions::program_code.eq(CODE))
        .select(diesel::dsl::max(content_versions::number))
        .first(conn)?;
    let activities: i64 = lessons::table
        .inner_join(modules::table.inner_join(programs::table))
        .filter(programs::code.eq(CODE))
        .filter(lessons::retired.eq(false))
        .count()
        .get_result(conn)?;
    Ok((number.unwrap_or(0), activities))
}

/// Copies the CQP as the organism's programme, rebuilds its draft, then times `ROUNDS`
/// publishes of a one-lesson change.
pub async fn measure(
    database_url: &str,
    data_dir: &Path,
    base: &str,
    org: i64,
) -> anyhow::Result<Published> {
    let admin = signed_in(base, ADMIN).await?;
    let list_url = format!("{base}/organismes/{org}/programmes");
    let list = page(&admin, &list_url).await?;
    let fields = [
        ("source", "CQP-AM"),
        ("code", CODE),
        ("title", "CQP de l'organisme de bench"),
    ];
    let res = form(&admin, &list_url, &list, &fields)?.send().await?;
    redirected(res, "copy of CQP-AM").await?;
    let ((lesson, text), files, added) = rebuild_draft(database_url, data_dir)?;
    let editor = format!("{base}/auteur/programmes/{CODE}");
    let publish_url = format!("{editor}/publier");
    let html = page(&admin, &editor).await?;
    let revision = field(&html, "revision")?.to_string();
    let request = form(&admin, &publish_url, &html, &[("revision", &revision)])?;
    let t = Instant::now();
    let res = request.send().await?;
    let first = t.elapsed();
    redirected(res, "first publish").await?;

    let file_url = format!("{editor}/fichiers/{lesson}");
    let (mut lat, mut pages, mut errors) = (Vec::new(), Vec::new(), 0);
    for n in 1..=ROUNDS {
        let (page_took, published) =
            round(&admin, (base, &file_url, &publish_url), &text, n).await?;
        pages.push(page_took);
        match published {
            Ok(took) => lat.push(took),
            Err(why) => {
                if errors == 0 {
                    eprintln!("publish {n}: {why}");
                }
                errors += 1;
            }
        }
    }
    let (number, activities) = published(database_url)?;
    eprintln!(
        "{CODE}: version {number}, {activities} activities in use; first publish {:.0} ms",
        first.as_secs_f64() * 1000.0
    );
    anyhow::ensure!(
        number as usize == 2 + lat.len()
            && activities as usize == programme::MODULES * programme::PER_MODULE,
        "expected version {} and {} activities",
        2 + lat.len(),
        programme::MODULES * programme::PER_MODULE
    );
    pages.sort();
    let mut published = summarised(lat, errors, files, first, added);
    published.editor_ms = pages[pages.len() / 2].as_secs_f64() * 1000.0;
    Ok(published)
}

/// One round of the author: she opens the sheet, saves it changed, lands on the editor page
/// (which writes the new revision's files out and checks them) and publishes from it. How
/// long the editor page took, and the publish or why it failed.
async fn round(
    admin: &reqwest::Client,
    (base, file_url, publish_url): (&str, &str, &str),
    text: &str,
    n: usize,
) -> anyhow::Result<(Duration, Result<Duration, String>)> {
    let html = page(admin, file_url).await?;
    let revision = field(&html, "revision")?.to_string();
    let changed = format!("{text}\nRelue à la séance de relecture n° {n}.\n");
    let fields = [("revision", revision.as_str()), ("texte", changed.as_str())];
    let res = form(admin, file_url, &html, &fields)?.send().await?;
    let to = redirected(res, "save").await?;
    let t = Instant::now();
    let html = page(admin, &format!("{base}{to}")).await?;
    let page_took = t.elapsed();
    let note = format!("Relecture {n}");
    let fields = [
        ("revision", field(&html, "revision")?),
        ("note", note.as_str()),
    ];
    let request = form(admin, publish_url, &html, &fields)?;
    let t = Instant::now();
    let res = request.send().await?;
    let status = res.status();
    let body = res.text().await.unwrap_or_default();
    let took = t.elapsed();
    match status.as_u16() {
        303 => Ok((page_took, Ok(took))),
        _ => Ok((page_took, Err(format!("{status} {}", words_of(&body))))),
    }
}

fn summarised(
    lat: Vec<Duration>,
    errors: usize,
    files: usize,
    first: Duration,
    added: usize,
) -> Published {
    let mut sorted = lat.clone();
    sorted.sort();
    // The nearest rank: the smallest latency that at least 95 % of the publishes did not pass.
    let rank = (sorted.len() * 95).div_ceil(100).max(1);
    let p95_ms = sorted
        .get(rank - 1)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    // Requests per second of one author publishing back to back: publishes over their time.
    let busy: Duration = lat.iter().sum();
    Published {
        figures: common::summarise(lat, errors, busy),
        p95_ms,
        files,
        first_ms: first.as_secs_f64() * 1000.0,
        added,
        editor_ms: 0.0,
    }
}
