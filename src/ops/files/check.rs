//! `parcours storage check`: every file the records use is on the configured storage and
//! hashes to its name; files no record uses are listed (they only take room).

use indicatif::{ProgressBar, ProgressStyle};

use super::references::{self, References};
use super::rules::{self, Damage, ShelfReport};
use crate::config::AppConfig;
use crate::db;
use crate::objects::{Objects, Shelf, Stored};

/// Prints the report of each shelf; true when no file is missing or damaged and every
/// manifest could be read.
pub fn run(config: &AppConfig, quick: bool) -> anyhow::Result<bool> {
    let (pool, _) = db::connect(&config.database_url, 1)?;
    let mut conn = pool.get()?;
    db::migrate(&mut conn)?;
    let refs = references::read(&mut conn)?;
    drop(conn);
    let objects = Objects::open(&config.files, &config.data_dir)?;
    let mut sound = refs.unreadable.is_empty();
    for fault in &refs.unreadable {
        println!("MANIFESTE ILLISIBLE : {fault}");
    }
    for (name, shelf) in objects.shelves() {
        let report = shelf_report(name, shelf, &refs, quick)?;
        sound &= report.is_sound();
        print!("{report}");
    }
    if quick {
        println!(
            "Vérification rapide : les tailles seulement, aucun fichier relu (sans --quick, chacun est relu et comparé à son empreinte)."
        );
    }
    if sound {
        println!("Aucun fichier ne manque ni n'est abîmé.");
    } else {
        println!(
            "Des fichiers manquent ou sont abîmés : remettez-les depuis une sauvegarde (leur nom est leur empreinte SHA-256)."
        );
    }
    Ok(sound)
}

fn shelf_report(
    name: &'static str,
    shelf: &Shelf,
    refs: &References,
    quick: bool,
) -> anyhow::Result<ShelfReport> {
    let used = refs.of(name);
    let listed = shelf
        .list()
        .map_err(|e| anyhow::anyhow!("{} : liste illisible : {e}", shelf.label()))?;
    let damaged = if quick {
        rules::size_mismatches(used, &listed)
    } else {
        verify_all(shelf, &listed, used)?
    };
    let referenced = used
        .iter()
        .map(|r| r.sha256.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    Ok(ShelfReport {
        name,
        label: shelf.label().to_string(),
        comparison: rules::compare(used, &listed),
        referenced,
        damaged,
        listed,
    })
}

/// Reads every file back and keeps those that do not hash to their name.
fn verify_all(
    shelf: &Shelf,
    listed: &[Stored],
    used: &[rules::Reference],
) -> anyhow::Result<Vec<Damage>> {
    let bar = ProgressBar::new(rules::bytes_of(listed));
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} relus ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut damaged = Vec::new();
    for file in listed {
        let why = match shelf.verify(&file.sha256) {
            Ok(true) => None,
            Ok(false) => Some("son contenu ne correspond pas à son empreinte".to_string()),
            Err(e) if crate::objects::is_unavailable(&e) => {
                bar.finish_and_clear();
                anyhow::bail!("{} ne répond pas : {e}", shelf.label());
            }
            Err(e) => Some(format!("illisible : {e}")),
        };
        if let Some(why) = why {
            damaged.push(Damage {
                sha256: file.sha256.clone(),
                why,
                by: rules::holders_of(used, &file.sha256),
            });
        }
        bar.inc(file.size);
    }
    bar.finish_and_clear();
    Ok(damaged)
}
