//! `parcours storage migrate --to s3://bucket/prefix`: copies every file of both shelves from
//! the configured storage to an S3 store. Run again after an interruption, it copies only
//! what is not there yet.

use indicatif::{ProgressBar, ProgressStyle};

use super::rules::{self, Plan};
use crate::config::{AppConfig, FileStore, S3Settings};
use crate::objects::{Objects, Shelf, Stored, is_unavailable};

/// What was done on one shelf.
struct Done {
    name: &'static str,
    plan: Plan,
    /// Files that could not be copied (the others go on), with why.
    failed: Vec<(Stored, String)>,
}

/// Copies the files to the S3 store `to` names, with the other `PARCOURS_STORAGE_*`
/// settings of the process.
pub fn run(config: &AppConfig, to: &str) -> anyhow::Result<()> {
    let dest = AppConfig::load_s3_destination(to)
        .map_err(|e| anyhow::anyhow!("destination refusée : {}", e.message))?;
    migrate(config, &dest)
}

pub fn migrate(config: &AppConfig, dest: &S3Settings) -> anyhow::Result<()> {
    let url = dest.url();
    if rules::same_store(&config.files, dest) {
        anyhow::bail!(
            "destination refusée : {url} est déjà le stockage de cette instance, rien à copier"
        );
    }
    let source = Objects::open(&config.files, &config.data_dir)?;
    let target = Objects::open(&FileStore::S3(dest.clone()), &config.data_dir)?;
    let mut plans = Vec::new();
    for ((name, from), (_, to)) in source.shelves().into_iter().zip(target.shelves()) {
        let listed = from
            .list()
            .map_err(|e| anyhow::anyhow!("{} : liste illisible : {e}", from.label()))?;
        let there = to
            .list()
            .map_err(|e| anyhow::anyhow!("{} ne répond pas : {e}", to.label()))?;
        plans.push((name, from, to, rules::plan(&listed, &there)));
    }
    let total: u64 = plans
        .iter()
        .map(|(_, _, _, p)| rules::bytes_of(&p.copy))
        .sum();
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} copiés ({bytes_per_sec}, reste {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut done = Vec::new();
    for (name, from, to, plan) in plans {
        match copy_shelf(from, to, &plan, &bar) {
            Ok(failed) => done.push(Done { name, plan, failed }),
            Err(e) => {
                bar.finish_and_clear();
                anyhow::bail!(
                    "{e}\nRelancez la même commande : les fichiers déjà copiés ne le seront pas une seconde fois."
                );
            }
        }
    }
    bar.finish_and_clear();
    report(&url, &done)
}

/// Copies the plan's files, each checked by hash once there. A file that fails is noted and
/// the others go on; a destination that stops answering ends the run.
fn copy_shelf(
    from: &Shelf,
    to: &Shelf,
    plan: &Plan,
    bar: &ProgressBar,
) -> anyhow::Result<Vec<(Stored, String)>> {
    let mut failed = Vec::new();
    for file in &plan.copy {
        match from.copy_to(&file.sha256, to) {
            Ok(()) => {}
            Err(e) if is_unavailable(&e) => {
                anyhow::bail!("{} ne répond pas : {e}", to.label())
            }
            Err(e) => failed.push((file.clone(), e.to_string())),
        }
        bar.inc(file.size);
    }
    Ok(failed)
}

fn report(url: &str, done: &[Done]) -> anyhow::Result<()> {
    println!("Copie vers {url} :");
    for d in done {
        let failed: Vec<Stored> = d.failed.iter().map(|(s, _)| s.clone()).collect();
        println!(
            "  {} : {} fichier(s) copié(s) ({}), {} déjà présent(s) ({})",
            rules::shelf_title(d.name),
            d.plan.copy.len() - failed.len(),
            rules::megabytes(rules::bytes_of(&d.plan.copy) - rules::bytes_of(&failed)),
            d.plan.skip.len(),
            rules::megabytes(rules::bytes_of(&d.plan.skip)),
        );
        for (file, why) in &d.failed {
            println!("    NON COPIÉ {} : {why}", file.sha256);
        }
    }
    let failed: usize = done.iter().map(|d| d.failed.len()).sum();
    if failed > 0 {
        anyhow::bail!(
            "{failed} fichier(s) non copié(s) : `parcours storage check` dit lesquels manquent ou sont abîmés ici ; relancez ensuite cette commande"
        );
    }
    println!(
        "Tous les fichiers sont sur {url} ; chaque copie a été relue et vérifiée par son empreinte."
    );
    println!(
        "Étape suivante : arrêtez les instances et relancez cette commande (seuls les fichiers \
         ajoutés entre-temps seront copiés), puis réglez PARCOURS_STORAGE_URL={url} sur chaque \
         instance (avec les mêmes PARCOURS_STORAGE_ENDPOINT, PARCOURS_STORAGE_REGION, clés et \
         PARCOURS_SECRET) et redémarrez-les."
    );
    Ok(())
}
