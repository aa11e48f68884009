//! The `parcours` command: a thin CLI over the library.

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use parcours::{AppConfig, Application, db, demo};

#[derive(Parser)]
#[command(
    name = "parcours",
    version,
    about = "Parcours — formation des assistants médicaux"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Sert l'application web (la commande par défaut).
    Serve,
    /// Applique les migrations de la base de données en attente, puis s'arrête.
    Migrate,
    /// Gère les administrateurs de la plateforme.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Crée ou rafraîchit l'organisme de démonstration et ses comptes, et affiche leurs mots de passe.
    Demo,
    /// Les fichiers du programme de formation (content/).
    Content {
        #[command(subcommand)]
        command: ContentCommand,
    },
    /// Importe des données depuis des fichiers.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Attestations (fin de formation, FAE, certificats de réalisation).
    Attestations {
        #[command(subcommand)]
        command: AttestationsCommand,
    },
    /// Exporte des fichiers.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// Courriels sortants.
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// Les fichiers conservés (programmes et dépôts) : copie vers S3, vérification.
    Storage {
        #[command(subcommand)]
        command: StorageCommand,
    },
    /// Liste les organismes et leurs promotions, avec leurs numéros.
    List,
    /// Copie la base SQLite dans un fichier pendant que le serveur tourne.
    Backup {
        /// Fichier de sauvegarde à écrire.
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Remplace la base SQLite par une sauvegarde (arrêtez d'abord toutes les instances).
    Restore {
        /// Sauvegarde à remettre en place.
        #[arg(long)]
        from: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum StorageCommand {
    /// Copie tous les fichiers vers un stockage S3 (reprend là où une copie interrompue s'est
    /// arrêtée ; chaque copie est vérifiée par son empreinte).
    Migrate {
        /// Destination, s3://bucket/préfixe (point d'accès, région et clés : PARCOURS_STORAGE_*).
        #[arg(long, value_name = "URL")]
        to: String,
    },
    /// Cherche les fichiers manquants, abîmés ou orphelins du stockage configuré.
    Check {
        /// Compare les tailles sans relire les fichiers.
        #[arg(long)]
        quick: bool,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Importe les stagiaires d'une promotion depuis un fichier CSV (tout ou rien).
    Trainees {
        /// Numéro de la promotion (voir `parcours list`).
        #[arg(long, value_name = "NUMÉRO")]
        cohort: i64,
        /// Fichier CSV au format d'Excel en français (voir examples/stagiaires.csv).
        #[arg(value_name = "FICHIER")]
        file: std::path::PathBuf,
        /// Confirme les inscriptions signalées (entrée tardive, échéance avant la fin de la
        /// promotion) ; sans cette option, rien n'est importé tant qu'il y en a.
        #[arg(long)]
        confirmer: bool,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// Un dossier de preuves (ZIP) par stagiaire d'une promotion sur une période.
    Evidence {
        /// Numéro de la promotion (voir `parcours list`).
        #[arg(long, value_name = "NUMÉRO")]
        cohort: i64,
        /// Premier jour, JJ/MM/AAAA.
        #[arg(long)]
        from: String,
        /// Dernier jour, JJ/MM/AAAA.
        #[arg(long)]
        to: String,
        /// Dossier où écrire les fichiers ZIP.
        #[arg(long, default_value = "exports")]
        out: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum AttestationsCommand {
    /// Délivre l'attestation de fin de parcours de chaque stagiaire qui a terminé (jamais deux fois).
    Issue {
        /// Numéro de la promotion (voir `parcours list`).
        #[arg(long, value_name = "NUMÉRO")]
        cohort: i64,
    },
}

#[derive(Subcommand)]
enum ContentCommand {
    /// Vérifie un dossier de contenu (par défaut celui de la configuration), ou un programme
    /// exporté en archive ZIP, et le résume.
    Check {
        /// Dossier ou archive ZIP à vérifier.
        dir: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum MailCommand {
    /// Envoie un message d'essai par le transport configuré.
    Test {
        /// Adresse du destinataire.
        #[arg(long)]
        to: String,
        /// Objet du message.
        #[arg(long)]
        subject: Option<String>,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Crée un administrateur de la plateforme (mot de passe lu dans PARCOURS_ADMIN_PASSWORD, ou demandé).
    Create {
        /// Son adresse e-mail.
        #[arg(long)]
        email: String,
        /// Son nom, tel qu'il apparaîtra.
        #[arg(long)]
        name: String,
    },
}

/// glibc gives each thread that allocates its own arena and keeps what it freed there, and
/// after a large buffer is freed it serves the next ones from those arenas too: with many
/// threads rendering large pages between heartbeats, the resident memory only grows. Eight
/// arenas, and large buffers always mapped (and returned when freed), keep it flat; two made
/// the threads wait on each other's arena locks (a fifth of the lesson page's time, perf).
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 8);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}

/// clap's own words in French: headings, and the help and version flags, on every command.
fn in_french(cmd: clap::Command, top: bool) -> clap::Command {
    use clap::{Arg, ArgAction};
    const TEMPLATE: &str = "{before-help}{about-with-newline}\n\
        Utilisation : {usage}\n\n{all-args}{after-help}";
    let mut cmd = cmd
        .help_template(TEMPLATE)
        .subcommand_help_heading("Commandes")
        .subcommand_value_name("COMMANDE")
        .disable_help_subcommand(true)
        .disable_help_flag(true)
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::Help)
                .help("Affiche cette aide"),
        );
    if top {
        cmd = cmd.disable_version_flag(true).arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help("Affiche la version"),
        );
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    names.iter().fold(cmd, |cmd, name| {
        cmd.mut_subcommand(name, |c| in_french(c, false))
    })
}

fn main() -> ExitCode {
    limit_malloc_arenas();
    let cli = match Cli::from_arg_matches(&in_french(Cli::command(), true).get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let config = match AppConfig::load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Erreur de configuration : {e}");
            return ExitCode::from(2);
        }
    };
    init_tracing(config.log_json);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Mail {
            command: MailCommand::Test { to, subject },
        } => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|rt| rt.block_on(parcours::mail::send_test(&config, &to, subject.as_deref())))
            .map(|msg| println!("{msg}")),
        Command::Export {
            command:
                ExportCommand::Evidence {
                    cohort,
                    from,
                    to,
                    out,
                },
        } => return parcours::evidence::cli::run(&config, cohort, &from, &to, &out),
        Command::Storage {
            command: StorageCommand::Migrate { to },
        } => parcours::ops::files::migrate::run(&config, &to),
        Command::Storage {
            command: StorageCommand::Check { quick },
        } => match parcours::ops::files::check::run(&config, quick) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::FAILURE,
            Err(e) => Err(e),
        },
        Command::Serve => serve(config),
        Command::Migrate => with_db(&config, |conn| {
            let applied = db::migrate(conn)?;
            println!("{} migration(s) appliquée(s).", applied.len());
            Ok(())
        }),
        Command::Admin {
            command: AdminCommand::Create { email, name },
        } => admin_create(&config, &email, &name),
        Command::Import {
            command:
                ImportCommand::Trainees {
                    cohort,
                    file,
                    confirmer,
                },
        } => import_trainees(&config, cohort, &file, confirmer),
        Command::Attestations {
            command: AttestationsCommand::Issue { cohort },
        } => issue_attestations(&config, cohort),
        Command::Content {
            command: ContentCommand::Check { dir },
        } => parcours::curriculum::check::check(dir.as_deref().unwrap_or(&config.content_dir))
            .map(|report| print!("{report}"))
            .map_err(anyhow::Error::from),
        Command::Backup { to } => {
            parcours::ops::backup::backup(&config.database_url, &to).map(|bytes| {
                println!("Sauvegarde écrite : {} ({bytes} octets)", to.display());
            })
        }
        Command::Restore { from } => parcours::ops::backup::restore(&config.database_url, &from)
            .map(|()| {
                println!("Base restaurée depuis {}", from.display());
            }),
        Command::List => with_db(&config, |conn| {
            db::migrate(conn)?;
            list_organisms(conn)
        }),
        Command::Demo => with_db(&config, |conn| {
            db::migrate(conn)?;
            let (pool, _) = db::connect(&config.database_url, 1)?;
            let objects = parcours::objects::Objects::open(&config.files, &config.data_dir)?;
            parcours::curriculum::load_and_sync(
                &config.content_dir,
                &config.data_dir,
                objects.programmes,
                &pool,
            )?;
            let logins = demo::seed(conn)?;
            println!(
                "Données de démonstration prêtes. Comptes (mots de passe renouvelés à chaque exécution) :"
            );
            for l in logins {
                println!("  {:<32} {:<30} {}", l.role.label(), l.email, l.password);
            }
            let org = parcours::organisms::store::by_name(conn, demo::DEMO_ORGANISM)?
                .ok_or_else(|| anyhow::anyhow!("organisme de démonstration introuvable"))?;
            let cohort = parcours::cohorts::store::cohort_by_name(conn, org.id, demo::DEMO_COHORT)?
                .ok_or_else(|| anyhow::anyhow!("promotion de démonstration introuvable"))?;
            println!(
                "Lancez le serveur : cargo run --release, puis ouvrez {}",
                config.base_url
            );
            println!(
                "La promotion de démonstration porte le n° {cohort}. Elle a commencé : --confirmer confirme les entrées tardives. Pour y importer des stagiaires :\n  cargo run --release -- import trainees --cohort {cohort} --confirmer examples/stagiaires.csv"
            );
            Ok(())
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Erreur : {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Every organism with its cohorts and their numbers, for the commands that take one.
fn list_organisms(conn: &mut db::DbConn) -> anyhow::Result<()> {
    use parcours::cohorts::store;
    let organisms = parcours::organisms::store::list_organisms(conn)?;
    if organisms.is_empty() {
        println!(
            "Aucun organisme. Créez-en un depuis /admin/organismes, ou lancez `parcours demo`."
        );
    }
    for o in organisms {
        println!("Organisme n° {} : {}", o.id, o.name);
        let cohorts = store::cohorts_of(conn, o.id)?;
        if cohorts.is_empty() {
            println!("  aucune promotion");
        }
        for (c, trainees) in cohorts {
            println!(
                "  promotion n° {} : {} ({}, du {} au {}), {} stagiaire(s)",
                c.id,
                c.name,
                c.program_code,
                parcours::base::format::date(c.start_date),
                parcours::base::format::date(c.end_date),
                trainees
            );
        }
    }
    Ok(())
}

fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn with_db(
    config: &AppConfig,
    f: impl FnOnce(&mut db::DbConn) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let (pool, _) = db::connect(&config.database_url, 1)?;
    let mut conn = pool.get()?;
    f(&mut conn)
}

fn serve(config: AppConfig) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let base = config.base_url.clone();
        let ip = config.bind.ip();
        let app = Application::build(config).await?;
        println!(
            "Parcours écoute sur http://{ip}:{} (adresse publique : {base})",
            app.port()
        );
        app.run_until_stopped().await?;
        Ok(())
    })
}

fn import_trainees(
    config: &AppConfig,
    cohort_id: i64,
    file: &std::path::Path,
    confirm: bool,
) -> anyhow::Result<()> {
    use parcours::cohorts::{enrolment, import, store};
    let bytes = std::fs::read(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let today = parcours::base::paris::today();
    let rows = match import::parse(&bytes, today) {
        Ok(rows) => rows,
        Err(errors) => {
            for e in &errors {
                eprintln!("  {e}");
            }
            anyhow::bail!(
                "fichier refusé ({} erreur(s)) : aucune ligne importée",
                errors.len()
            );
        }
    };
    let templates = parcours::mail::load_templates(&config.templates_dir)?;
    with_db(config, |conn| {
        db::migrate(conn)?;
        let cohort = store::cohort(conn, cohort_id)?
            .ok_or_else(|| anyhow::anyhow!("promotion n° {cohort_id} introuvable"))?;
        let organism = parcours::organisms::store::get(conn, cohort.organism_id)?
            .ok_or_else(|| anyhow::anyhow!("organisme introuvable"))?;
        let mc = parcours::mail::MailContext {
            templates: &templates,
            base_url: &config.base_url,
        };
        let bar = indicatif::ProgressBar::new(rows.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} stagiaires ({elapsed})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let started = std::time::Instant::now();
        let result = enrolment::apply_confirmed(
            conn,
            &mc,
            None,
            &cohort,
            &organism.name,
            &rows,
            confirm,
            |i| bar.set_position(i as u64 + 1),
        );
        bar.finish_and_clear();
        match result {
            Ok(enrolment::Applied::NeedsConfirmation(w)) => {
                eprintln!("  {w}");
                anyhow::bail!(
                    "rien n'est importé : relancez avec --confirmer pour confirmer ces inscriptions"
                )
            }
            Ok(enrolment::Applied::Done(s)) => {
                println!(
                    "{} stagiaire(s) ajouté(s), {} mis à jour, {} inchangé(s), {} médecin(s) invité(s) en {:.1} s.",
                    s.created,
                    s.updated,
                    s.unchanged,
                    s.doctors_invited,
                    started.elapsed().as_secs_f64()
                );
                for w in s.warnings {
                    println!("  attention : {w}");
                }
                for i in s.information {
                    println!("  pour information : {i}");
                }
                Ok(())
            }
            Err(enrolment::ImportFailure::Refused(errors)) => {
                for e in &errors {
                    eprintln!("  {e}");
                }
                anyhow::bail!(
                    "fichier refusé ({} erreur(s)) : aucune ligne importée",
                    errors.len()
                )
            }
            Err(enrolment::ImportFailure::Internal(e)) => Err(anyhow::anyhow!("{e:?}")),
        }
    })
}

fn issue_attestations(config: &AppConfig, cohort_id: i64) -> anyhow::Result<()> {
    use parcours::attestation::{issue, store as attestations};
    let templates = parcours::mail::load_templates(&config.templates_dir)?;
    let today = parcours::base::paris::today();
    with_db(config, |conn| {
        db::migrate(conn)?;
        let (pool, _) = db::connect(&config.database_url, 1)?;
        let objects = parcours::objects::Objects::open(&config.files, &config.data_dir)?;
        let content = parcours::curriculum::load_and_sync(
            &config.content_dir,
            &config.data_dir,
            objects.programmes,
            &pool,
        )?;
        let cohort = parcours::cohorts::store::cohort(conn, cohort_id)?
            .ok_or_else(|| anyhow::anyhow!("promotion n° {cohort_id} introuvable"))?;
        let editions = content.cohort_editions(conn, cohort.organism_id)?;
        let (user_id, name) =
            attestations::first_org_admin(conn, cohort.organism_id)?.ok_or_else(|| {
                anyhow::anyhow!("l'organisme n'a aucun administrateur pour signer les attestations")
            })?;
        let ctx = issue::Issuer {
            key: parcours::attestation::key_of(config),
            base_url: &config.base_url,
            mail_templates: &templates,
            editions: &editions,
        };
        let by = issue::Signatory {
            user_id: Some(user_id),
            name,
        };
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} stagiaires ({elapsed})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let started = std::time::Instant::now();
        let result = issue::issue_cohort(conn, &ctx, &by, &cohort, today, |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        });
        bar.finish_and_clear();
        let s = result.map_err(|e| anyhow::anyhow!("{e:?}"))?;
        println!(
            "{} attestation(s) délivrée(s) et envoyée(s), {} déjà délivrée(s), {} parcours incomplet(s), en {:.1} s.",
            s.issued,
            s.already,
            s.incomplete,
            started.elapsed().as_secs_f64()
        );
        Ok(())
    })
}

fn admin_create(config: &AppConfig, email: &str, name: &str) -> anyhow::Result<()> {
    let password = match std::env::var("PARCOURS_ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            let first = rpassword::prompt_password("Mot de passe : ")?;
            let again = rpassword::prompt_password("Confirmez le mot de passe : ")?;
            anyhow::ensure!(first == again, "les deux mots de passe diffèrent");
            first
        }
    };
    with_db(config, |conn| {
        db::migrate(conn)?;
        let id = demo::create_admin(conn, email, name, &password)?;
        println!("Administrateur créé (n° {id}) : {email}");
        Ok(())
    })
}
