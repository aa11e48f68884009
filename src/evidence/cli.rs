//! `parcours export evidence --cohort ID --from DD/MM/YYYY --to DD/MM/YYYY [--out DIR]`:
//! one pack per trainee of the cohort over the period, including those who left in it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::export::{self, Ask};
use super::{rules, store};
use crate::attestation::issue::{Issuer, Signatory};
use crate::config::AppConfig;
use crate::db;

/// Bad input (nothing written, exit code 2) or a failure on the way.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl CliError {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_) => ExitCode::from(2),
            CliError::Failed(_) => ExitCode::FAILURE,
        }
    }
}

fn failed(e: impl std::fmt::Debug) -> CliError {
    CliError::Failed(anyhow::anyhow!("{e:?}"))
}

/// Writes the packs into `out` and returns their paths.
pub fn export_cohort(
    config: &AppConfig,
    cohort_id: i64,
    from: &str,
    to: &str,
    out: &Path,
) -> Result<Vec<PathBuf>, CliError> {
    let period = rules::parse_period(from, to).map_err(|(field, msg)| {
        let opt = if field == "du" { "--from" } else { "--to" };
        CliError::Usage(format!("{opt} : {msg}"))
    })?;
    // Two connections: recording the programmes takes one while `conn` is held.
    let (pool, _) = db::connect(&config.database_url, 2)?;
    let mut conn = pool.get().map_err(anyhow::Error::from)?;
    db::migrate(&mut conn)?;
    let cohort = crate::cohorts::store::cohort(&mut conn, cohort_id)
        .map_err(failed)?
        .ok_or_else(|| CliError::Usage(format!("promotion n° {cohort_id} introuvable")))?;
    let templates = crate::mail::load_templates(&config.templates_dir)?;
    let objects = crate::objects::Objects::open(&config.files, &config.data_dir)?;
    let content = crate::curriculum::load_and_sync(
        &config.content_dir,
        &config.data_dir,
        objects.programmes,
        &pool,
    )?;
    let editions = content
        .cohort_editions(&mut conn, cohort.organism_id)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let issuer = Issuer {
        key: crate::attestation::key_of(config),
        base_url: &config.base_url,
        mail_templates: &templates,
        editions: &editions,
    };
    // Missing certificates are issued in the name of the organism's first administrator.
    let signatory = crate::attestation::store::first_org_admin(&mut conn, cohort.organism_id)
        .map_err(failed)?
        .map(|(id, name)| Signatory {
            user_id: Some(id),
            name,
        });
    let ids = store::trainees_over(&mut conn, cohort.id, period).map_err(failed)?;
    std::fs::create_dir_all(out).map_err(|e| anyhow::anyhow!("{}: {e}", out.display()))?;
    let bar = indicatif::ProgressBar::new(ids.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} stagiaires ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let today = crate::base::paris::today();
    let mut written = Vec::new();
    for id in ids {
        let trainee = crate::cohorts::store::trainee(
            &mut conn,
            crate::cohorts::store::Scope::Organism(cohort.organism_id),
            id,
        )
        .map_err(failed)?;
        if let Some(trainee) = trainee {
            let pack = export::build(
                &mut conn,
                &Ask {
                    trainee: &trainee,
                    cohort: Some(&cohort),
                    period,
                    actor: None,
                    signatory: signatory.clone(),
                    issuer: &issuer,
                    today,
                    now: db::now(),
                },
            )
            .map_err(failed)?;
            let path = out.join(&pack.file_name);
            std::fs::write(&path, &pack.bytes)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            written.push(path);
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(written)
}

/// The command's entry: prints the files written, or the error, and the exit code.
pub fn run(config: &AppConfig, cohort: i64, from: &str, to: &str, out: &Path) -> ExitCode {
    let started = std::time::Instant::now();
    match export_cohort(config, cohort, from, to, out) {
        Ok(paths) => {
            for p in &paths {
                println!("{}", p.display());
            }
            println!(
                "{} dossier(s) de preuves écrit(s) dans {} en {:.1} s.",
                paths.len(),
                out.display(),
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("Erreur : {e:#}");
            e.exit_code()
        }
    }
}
