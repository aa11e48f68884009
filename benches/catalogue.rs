//! Catalogue benchmark: `cargo bench --bench catalogue` (release build). 50 organisms publish
//! 500 upcoming cohorts (with enrolled trainees taking seats); the real server, as its own
//! process on SQLite, serves the filtered public catalogue to 8 clients, next to `/healthz` in
//! the same run. Rewrites the `## Catalogue` section of BENCHMARKS.md.

mod common;

use std::time::Instant;

use common::{Figures, content_dir, drive, load_average, start, write_section};
use parcours::catalogue::rules::{Entry, FUNDING_ROUTES, REGIONS};
use parcours::db::{self, DbConn};

const ORGANISMS: usize = 50;
const COHORTS_PER_ORGANISM: usize = 10;
const CLIENTS: usize = 8;

/// 50 organisms with 10 published cohorts each, starting over the next 18 months, in every
/// region, half CQP and half FAE, each with two enrolled trainees.
fn fill(database_url: &str) -> anyhow::Result<()> {
    use parcours::cohorts::store as cohorts;
    let (pool, _) = db::connect(database_url, 2)?;
    let mut pooled = pool.get()?;
    db::migrate(&mut pooled)?;
    let data = std::env::temp_dir().join(format!("parcours-bench-cat-{}", std::process::id()));
    let blobs = parcours::objects::folder(&data.join("blobs"))?;
    let content = parcours::curriculum::load_and_sync(&content_dir(), &data, blobs, &pool)?;
    let conn: &mut DbConn = &mut pooled;
    let cqp = content
        .current(conn, "CQP-AM")?
        .ok_or_else(|| anyhow::anyhow!("CQP-AM missing"))?;
    let fae = content
        .current(conn, "FAE-AM")?
        .ok_or_else(|| anyhow::anyhow!("FAE-AM missing"))?;
    let today = parcours::base::paris::today();
    db::transaction(conn, |conn| -> anyhow::Result<()> {
        for o in 0..ORGANISMS {
            let org = parcours::organisms::store::create(
                conn,
                None,
                &parcours::organisms::rules::Organism {
                    name: format!("Organisme de formation n° {o}"),
                    ..Default::default()
                },
            )?;
            for k in 0..COHORTS_PER_ORGANISM {
                let n = o * COHORTS_PER_ORGANISM + k;
                let (program_id, version_id) = if n.is_multiple_of(2) {
                    (cqp.program_id, cqp.version_id)
                } else {
                    (fae.program_id, fae.version_id)
                };
                let start = today + chrono::Days::new(7 + (n as u64 * 13) % 540);
                let cohort = cohorts::create_cohort(
                    conn,
                    None,
                    &cohorts::NewCohort {
                        organism_id: org,
                        program_id,
                        content_version_id: version_id,
                        name: &format!("Promotion {n}"),
                        start_date: start,
                        end_date: start + chrono::Months::new(11),
                    },
                )?;
                let entry = Entry {
                    city: format!("Ville {n}"),
                    region: REGIONS[n % REGIONS.len()].0.to_string(),
                    distance_percent: (n as i32 * 7) % 101,
                    seats: 12,
                    price_cents: 240_000 + (n as i64 % 10) * 10_000,
                    funding_routes: FUNDING_ROUTES
                        .iter()
                        .take(1 + n % FUNDING_ROUTES.len())
                        .map(|(c, _)| c.to_string())
                        .collect(),
                    contact_email: format!("contact{o}@organisme.fr"),
                    contact_phone: "01 23 45 67 89".into(),
                    published: true,
                };
                parcours::catalogue::store::save(conn, cohort, &entry, db::now())?;
                for t in 0..2 {
                    enrol(conn, org, cohort, &format!("s{n}-{t}@bench.fr"), start)?;
                }
            }
        }
        Ok(())
    })?;
    Ok(())
}

fn enrol(
    conn: &mut DbConn,
    org: i64,
    cohort: i64,
    email: &str,
    on: chrono::NaiveDate,
) -> anyhow::Result<()> {
    use parcours::accounts::{Role, store as users};
    use parcours::cohorts::store as cohorts;
    let trainee = users::create(
        conn,
        None,
        users::NewUser {
            email,
            name: "Stagiaire de bench",
            role: Role::Trainee,
            organism_id: Some(org),
            password_hash: None,
        },
    )?;
    cohorts::create_profile(
        conn,
        &cohorts::NewProfile {
            user_id: trainee,
            organism_id: org,
            profile: "aucun",
            hire_date: on,
            funding: "contrat_pro",
            employer_id: None,
        },
    )?;
    cohorts::enrol(conn, None, org, cohort, trainee, on)?;
    Ok(())
}

fn line(name: &str, f: &Figures) -> String {
    format!(
        "| {name} | {} | {:.0} | {:.1} | {:.1} | {} |\n",
        f.requests, f.per_sec, f.p50_ms, f.p99_ms, f.errors
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let database_url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let filled = Instant::now();
    fill(&database_url)?;
    eprintln!("filled in {:.1} s", filled.elapsed().as_secs_f64());
    let server = start(&database_url, dir.path(), &[])?;
    let base = server.address.clone();
    let client = reqwest::Client::builder().build()?;
    // The filters a doctor uses: a region and a programme, or a month, or a distance share.
    let queries: Vec<String> = (0..REGIONS.len())
        .map(|r| format!("region={}&programme=cqp", REGIONS[r].0))
        .chain([
            "distance=50".to_string(),
            "programme=fae".to_string(),
            String::new(),
        ])
        .collect();
    let sample = client
        .get(format!("{base}/catalogue?{}", queries[0]))
        .send()
        .await?
        .text()
        .await?;
    let shown = sample.matches("href=\"/catalogue/").count();
    let all = client
        .get(format!("{base}/api/v1/catalogue"))
        .send()
        .await?
        .json::<serde_json::Value>()
        .await?;
    let listed = all["cohorts"].as_array().map_or(0, Vec::len);
    eprintln!("{listed} cohorts listed, {shown} in one region's CQP page");
    let (c, b, q) = (client.clone(), base.clone(), queries.clone());
    let filtered = drive(CLIENTS, move |k, n| {
        c.get(format!("{b}/catalogue?{}", q[(k + n as usize) % q.len()]))
    })
    .await;
    let (c, b) = (client.clone(), base.clone());
    let whole = drive(CLIENTS, move |_, _| c.get(format!("{b}/catalogue"))).await;
    let (c, b) = (client.clone(), base.clone());
    let healthz = drive(CLIENTS, move |_, _| c.get(format!("{b}/healthz"))).await;
    drop(server);
    let mut section = String::from("## Catalogue\n\n");
    section.push_str(&format!(
        "`cargo bench --bench catalogue`: {ORGANISMS} organisms, {listed} published upcoming cohorts (2 trainees enrolled in each), SQLite, release server on 127.0.0.1, {CLIENTS} clients for {} s per line, load average {} at the end.\n\n",
        common::RUN.as_secs(),
        load_average()
    ));
    section.push_str("| Request | Requests | Requests/s | p50 (ms) | p99 (ms) | Errors |\n|---|---|---|---|---|---|\n");
    section.push_str(&line(
        "`GET /catalogue?…` filtered (a region's CQP, ≥ 50 % à distance, FAE, all; in turn)",
        &filtered,
    ));
    section.push_str(&line(
        &format!("`GET /catalogue`, all {listed} cohorts on one page"),
        &whole,
    ));
    section.push_str(&line("`GET /healthz`", &healthz));
    section.push_str(&format!(
        "\nThe list is read in two queries whatever its length (the entries with their cohort, programme and organism; then the enrolled counts of those cohorts). A region's CQP page shows {shown} cohorts.\n"
    ));
    print!("{section}");
    write_section("## Catalogue", &section)?;
    Ok(())
}
