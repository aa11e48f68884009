//! `cargo bench --bench attestations`: PDFs rendered per second for one attestation, and the
//! time to issue the attestations of a cohort of 200 complete trainees (PDFs rendered,
//! signed, stored and their mails queued). Runs on a temporary SQLite file, or on
//! PostgreSQL too when `PARCOURS_BENCH_PG` names a server (`postgres://postgres@127.0.0.1:5432`).
//! Replaces only the `## Attestations` section of BENCHMARKS.md.

mod common;

use std::time::Instant;

use chrono::NaiveDate;
use diesel::prelude::*;
use parcours::accounts::{Role, store as users};
use parcours::attestation::{issue, rules, store as attestations};
use parcours::cohorts::store as cohorts;
use parcours::db::schema::{evaluation_attempts, module_totals, programs};
use parcours::db::{self, DbConn};

const COHORT_SIZE: usize = 200;
const RENDERS: usize = 200;

/// A cohort of `n` trainees who all did every hour and passed every evaluation.
fn seed(conn: &mut DbConn, n: usize) -> anyhow::Result<(cohorts::CohortRow, i64, String)> {
    let org = parcours::organisms::store::create(
        conn,
        None,
        &parcours::organisms::rules::Organism {
            name: "Institut de mesure".into(),
            siret: Some("73282932000074".into()),
            nda: Some("11755555575".into()),
            address: Some("1 place de la Mesure, 69002 Lyon".into()),
            qualiopi_number: Some("Q-BENCH".into()),
            contact_email: None,
            contact_phone: None,
        },
    )?;
    let admin_name = "Claire Mesure".to_string();
    let admin = users::create(
        conn,
        None,
        users::NewUser {
            email: "direction@mesure.fr",
            name: &admin_name,
            role: Role::OrganismAdmin,
            organism_id: Some(org),
            password_hash: None,
        },
    )?;
    let (pid, vid): (i64, i64) = programs::table
        .filter(programs::code.eq("CQP-AM"))
        .select((programs::id, programs::version_id))
        .first(conn)?;
    let start = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap_or_default();
    let cohort_id = cohorts::create_cohort(
        conn,
        None,
        &cohorts::NewCohort {
            organism_id: org,
            program_id: pid,
            content_version_id: vid,
            name: "Promotion de mesure",
            start_date: start,
            end_date: start + chrono::Months::new(11),
        },
    )?;
    let plan = cohorts::program_modules(conn, pid)?;
    db::transaction(conn, |conn| -> anyhow::Result<()> {
        for i in 0..n {
            let doctor = users::create(
                conn,
                None,
                users::NewUser {
                    email: &format!("dr{i}@cabinet.fr"),
                    name: &format!("Dr Médecin {i}"),
                    role: Role::Doctor,
                    organism_id: None,
                    password_hash: None,
                },
            )?;
            let trainee = users::create(
                conn,
                None,
                users::NewUser {
                    email: &format!("assistant{i}@cabinet.fr"),
                    name: &format!("Assistante Numéro {i}"),
                    role: Role::Trainee,
                    organism_id: Some(org),
                    password_hash: None,
                },
            )?;
            let employer = parcours::cohorts::employers::doctor_employer(
                conn,
                org,
                doctor,
                &format!("Dr Médecin {i}"),
            )?;
            cohorts::create_profile(
                conn,
                &cohorts::NewProfile {
                    user_id: trainee,
                    organism_id: org,
                    profile: "aucun",
                    hire_date: start,
                    funding: "contrat_pro",
                    employer_id: Some(employer),
                },
            )?;
            cohorts::enrol(conn, None, org, cohort_id, trainee, start)?;
            for (module, _, _, planned) in &plan {
                let secs = *planned as i64 * 60;
                diesel::insert_into(module_totals::table)
                    .values((
                        module_totals::trainee_id.eq(trainee),
                        module_totals::module_id.eq(module),
                        module_totals::distance_seconds.eq(secs / 2),
                        module_totals::presentiel_seconds.eq(secs - secs / 2),
                        module_totals::correction_seconds.eq(0i64),
                    ))
                    .execute(conn)?;
                diesel::insert_into(evaluation_attempts::table)
                    .values((
                        evaluation_attempts::trainee_id.eq(trainee),
                        evaluation_attempts::module_id.eq(module),
                        evaluation_attempts::evaluation_hash.eq("bench"),
                        evaluation_attempts::attempt_no.eq(1),
                        evaluation_attempts::status.eq("submitted"),
                        evaluation_attempts::started_at.eq(db::now()),
                        evaluation_attempts::submitted_at.eq(db::now()),
                        evaluation_attempts::question_count.eq(10),
                        evaluation_attempts::correct_count.eq(9),
                        evaluation_attempts::score_pct.eq(90),
                        evaluation_attempts::passed.eq(true),
                    ))
                    .execute(conn)?;
            }
        }
        Ok(())
    })?;
    let cohort = cohorts::cohort(conn, cohort_id)?.ok_or_else(|| anyhow::anyhow!("cohort"))?;
    let _ = admin;
    Ok((cohort, admin, admin_name))
}

struct Figures {
    backend: &'static str,
    pdf_per_sec: f64,
    pdf_ms: f64,
    pdf_bytes: usize,
    cohort_secs: f64,
    issued: usize,
    mails: i64,
    again_secs: f64,
    again_issued: usize,
}

fn run(backend: &'static str, url: &str) -> anyhow::Result<Figures> {
    let root = common::root();
    let (pool, _) = db::connect(url, 2)?;
    let mut conn = pool.get()?;
    db::migrate(&mut conn)?;
    let data = std::env::temp_dir().join(format!("parcours-bench-att-{}", std::process::id()));
    let blobs = parcours::objects::folder(&data.join("blobs"))?;
    let content = parcours::curriculum::load_and_sync(&root.join("content"), &data, blobs, &pool)?;
    let templates = parcours::mail::load_templates(&root.join("templates"))?;
    let (cohort, admin, admin_name) = seed(&mut conn, COHORT_SIZE)?;
    let editions = content.cohort_editions(&mut conn, cohort.organism_id)?;
    let ctx = issue::Issuer {
        key: rules::derive_key(b"bench secret bench secret bench secret"),
        base_url: "https://parcours.example.fr",
        mail_templates: &templates,
        editions: &editions,
    };
    let by = issue::Signatory {
        user_id: Some(admin),
        name: admin_name,
    };
    let today = parcours::base::paris::today();

    let started = Instant::now();
    let summary = issue::issue_cohort(&mut conn, &ctx, &by, &cohort, today, |_, _| {})
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let cohort_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let again = issue::issue_cohort(&mut conn, &ctx, &by, &cohort, today, |_, _| {})
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let again_secs = started.elapsed().as_secs_f64();
    let mails = parcours::mail::outbox::queue_length(&mut conn)?;

    // One attestation's PDF, rendered again and again from its stored statement.
    let finals = attestations::finals_of_cohort(&mut conn, cohort.id)?;
    let id = *finals
        .values()
        .next()
        .ok_or_else(|| anyhow::anyhow!("nothing issued"))?;
    let row = attestations::get(&mut conn, id)?.ok_or_else(|| anyhow::anyhow!("row"))?;
    let st: rules::Statement = serde_json::from_str(&row.payload)?;
    let url = ctx.verify_url(&row.code);
    let mut bytes = 0;
    let started = Instant::now();
    for _ in 0..RENDERS {
        bytes = parcours::attestation::pdf::render(&st, &row.code, &url)?.len();
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok(Figures {
        backend,
        pdf_per_sec: RENDERS as f64 / elapsed,
        pdf_ms: elapsed * 1000.0 / RENDERS as f64,
        pdf_bytes: bytes,
        cohort_secs,
        issued: summary.issued,
        mails,
        again_secs,
        again_issued: again.issued,
    })
}

fn section(figures: &[Figures], load: &str) -> String {
    let mut md = format!(
        "## Attestations\n\nWritten by `cargo bench --bench attestations` on {} ({} cores). \
         Issuing renders the PDF (krilla, DejaVu fonts subset, QR code), signs the statement, \
         stores both and queues two mails with the PDF attached (doctor, trainee), one \
         transaction per trainee. Floor: a cohort of 200 in under 10 s on 2 cores. Load average when the run started: {} \
         (the machine is shared: compare ratios, not absolutes).\n\n\
         | backend | PDFs/s (one attestation) | ms per PDF | PDF size | issue a cohort of 200 | attestations | mails queued | issue the same cohort again |\n\
         |---|---|---|---|---|---|---|---|\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load,
    );
    for f in figures {
        md.push_str(&format!(
            "| {} | {:.0} | {:.1} | {} KB | {:.2} s | {} | {} | {:.2} s ({} new) |\n",
            f.backend,
            f.pdf_per_sec,
            f.pdf_ms,
            f.pdf_bytes / 1024,
            f.cohort_secs,
            f.issued,
            f.mails,
            f.again_secs,
            f.again_issued
        ));
    }
    md
}

fn main() -> anyhow::Result<()> {
    let load = common::load_average();
    let dir = tempfile::tempdir()?;
    let mut figures = vec![run(
        "SQLite",
        &format!("sqlite://{}/bench.db", dir.path().display()),
    )?];
    if let Ok(server) = std::env::var("PARCOURS_BENCH_PG")
        && !server.is_empty()
    {
        let name = format!("parcours_bench_att_{}", std::process::id());
        let mut admin = diesel::PgConnection::establish(&format!("{server}/postgres"))?;
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin)?;
        let result = run("PostgreSQL", &format!("{server}/{name}"));
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin);
        figures.push(result?);
    }
    let md = section(&figures, &load);
    print!("{md}");
    common::write_section("## Attestations", &md)?;
    Ok(())
}
