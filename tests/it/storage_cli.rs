//! `parcours storage migrate` and `parcours storage check` (issue #27), run as the real
//! binary: the demo's files moved from the local folder to the S3 test server, then the local
//! folder damaged on purpose.

use std::collections::HashMap;

use diesel::prelude::*;
use parcours::db;
use parcours::db::schema::{content_versions, followup_attachments, followup_messages};

use crate::common::*;

/// A data folder and database of its own, with its files on the local folder; the S3
/// server's address and keys are set, as `migrate --to` reads them.
struct Instance {
    _dir: tempfile::TempDir,
    env: HashMap<String, String>,
    database_url: String,
    pg: Option<(String, String)>,
}

impl Instance {
    fn new() -> Instance {
        let dir = tempfile::tempdir().unwrap();
        let (database_url, pg) = test_database(dir.path());
        let mut env = base_env(dir.path(), &database_url);
        env.extend(s3_env());
        env.remove("PARCOURS_STORAGE_URL");
        env.insert("RUST_LOG".into(), "warn".into());
        Instance {
            _dir: dir,
            env,
            database_url,
            pg,
        }
    }

    /// The same instance with its files on `url`.
    fn on(&self, url: &str) -> HashMap<String, String> {
        let mut env = self.env.clone();
        env.insert("PARCOURS_STORAGE_URL".into(), url.into());
        env
    }

    fn conn(&self) -> db::PooledConn {
        let (pool, _) = db::connect(&self.database_url, 1).unwrap();
        pool.get().unwrap()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some((server, name)) = &self.pg {
            drop_pg_database(server, name);
        }
    }
}

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

fn parcours(env: &HashMap<String, String>, args: &[&str]) -> Run {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_parcours"))
        .args(args)
        .envs(env)
        .output()
        .unwrap();
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn fresh_prefix() -> String {
    let mut raw = [0u8; 6];
    getrandom::fill(&mut raw).unwrap();
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    format!("s3://parcours-test/cli-{hex}")
}

fn listed(shelf: &parcours::objects::Shelf) -> Vec<parcours::objects::Stored> {
    shelf.list().unwrap()
}

/// The demo's data and programme files, and one follow-up attachment on the uploads shelf;
/// returns the attachment's file and row id.
fn demo_with_an_upload(inst: &Instance) -> (String, i64) {
    let demo = parcours(&inst.env, &["demo"]);
    assert!(demo.ok, "{}", demo.stderr);
    let bytes = b"%PDF-1.4\n% une piece jointe\n%%EOF\n";
    let sha = objects_of(&inst.env).uploads.put(bytes).unwrap();
    let mut conn = inst.conn();
    let message: i64 = followup_messages::table
        .select(followup_messages::id)
        .first(&mut *conn)
        .unwrap();
    let id: i64 = diesel::insert_into(followup_attachments::table)
        .values((
            followup_attachments::message_id.eq(message),
            followup_attachments::file_name.eq("piece.pdf"),
            followup_attachments::mime_type.eq("application/pdf"),
            followup_attachments::size_bytes.eq(bytes.len() as i64),
            followup_attachments::sha256.eq(&sha),
        ))
        .returning(followup_attachments::id)
        .get_result(&mut *conn)
        .unwrap();
    (sha, id)
}

#[test]
fn migrate_copies_every_file_to_s3_once_and_the_copy_checks_whole() {
    let inst = Instance::new();
    demo_with_an_upload(&inst);
    let local = objects_of(&inst.env);
    let (programmes, uploads) = (listed(&local.programmes), listed(&local.uploads));
    assert!(programmes.len() > 10, "{}", programmes.len());
    assert_eq!(uploads.len(), 1);
    let url = fresh_prefix();

    let first = parcours(&inst.env, &["storage", "migrate", "--to", &url]);
    assert!(first.ok, "{}\n{}", first.stdout, first.stderr);
    let s3 = objects_of(&inst.on(&url));
    assert_eq!(listed(&s3.programmes), programmes);
    assert_eq!(listed(&s3.uploads), uploads);
    assert!(
        first
            .stdout
            .contains(&format!("{} fichier(s) copié(s)", programmes.len())),
        "{}",
        first.stdout
    );
    assert!(first.stdout.contains("1 fichier(s) copié(s)"));
    assert!(
        first.stdout.contains(&format!(
            "réglez PARCOURS_STORAGE_URL={url} sur chaque instance"
        )),
        "{}",
        first.stdout
    );

    // Run again (as after an interruption): everything is already there.
    let again = parcours(&inst.env, &["storage", "migrate", "--to", &url]);
    assert!(again.ok, "{}", again.stderr);
    assert_eq!(again.stdout.matches("0 fichier(s) copié(s)").count(), 2);
    assert!(
        again
            .stdout
            .contains(&format!("{} déjà présent(s)", programmes.len())),
        "{}",
        again.stdout
    );

    // The instance switched to S3 finds every file it uses, whole.
    let check = parcours(&inst.on(&url), &["storage", "check"]);
    assert!(check.ok, "{}\n{}", check.stdout, check.stderr);
    assert_eq!(
        check
            .stdout
            .matches("0 manquant(s), 0 abîmé(s), 0 orphelin(s)")
            .count(),
        2,
        "{}",
        check.stdout
    );
    assert!(check.stdout.contains(&url), "{}", check.stdout);

    // Copying onto the storage the instance already uses is refused.
    let same = parcours(&inst.on(&url), &["storage", "migrate", "--to", &url]);
    assert!(!same.ok);
    assert!(
        same.stderr
            .contains("est déjà le stockage de cette instance"),
        "{}",
        same.stderr
    );
}

#[test]
fn check_names_the_record_of_a_missing_file_and_finds_damaged_and_orphaned_ones() {
    let inst = Instance::new();
    let (attachment, row) = demo_with_an_upload(&inst);
    let local = objects_of(&inst.env);
    let sound = parcours(&inst.env, &["storage", "check"]);
    assert!(sound.ok, "{}\n{}", sound.stdout, sound.stderr);
    assert!(
        sound
            .stdout
            .contains("Aucun fichier ne manque ni n'est abîmé.")
    );

    // A programme file removed, the attachment overwritten, a file nobody uses added.
    let (version, number, json): (i64, i32, String) = content_versions::table
        .filter(content_versions::manifest.ne(""))
        .select((
            content_versions::id,
            content_versions::number,
            content_versions::manifest,
        ))
        .first(&mut *inst.conn())
        .unwrap();
    let manifest: std::collections::BTreeMap<String, String> = serde_json::from_str(&json).unwrap();
    let (path, gone) = manifest.iter().next().unwrap();
    let gone_bytes = local.programmes.read(gone).unwrap();
    std::fs::remove_file(local.programmes.local_path(gone).unwrap()).unwrap();
    std::fs::write(
        local.uploads.local_path(&attachment).unwrap(),
        b"autre chose, plus long que la piece jointe",
    )
    .unwrap();
    let orphan = local.uploads.put(b"un fichier que rien n'utilise").unwrap();

    let check = parcours(&inst.env, &["storage", "check"]);
    assert!(!check.ok, "missing and damaged files fail the check");
    let out = &check.stdout;
    assert!(
        out.contains(&format!(
            "MANQUANT {gone} : utilisé par version {number} du programme"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("(content_versions n° {version}), fichier {path}")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "ABÎMÉ {attachment} (son contenu ne correspond pas à son empreinte) : utilisé par followup_attachments n° {row}"
        )),
        "{out}"
    );
    assert!(out.contains(&format!("orphelin {orphan}")), "{out}");
    assert!(
        out.contains("1 manquant(s), 0 abîmé(s), 0 orphelin(s)"),
        "{out}"
    );
    assert!(
        out.contains("0 manquant(s), 1 abîmé(s), 1 orphelin(s)"),
        "{out}"
    );

    // Without reading the files: the size the row noted tells the damage.
    let quick = parcours(&inst.env, &["storage", "check", "--quick"]);
    assert!(!quick.ok);
    assert!(
        quick.stdout.contains(&format!("ABÎMÉ {attachment} (")),
        "{}",
        quick.stdout
    );
    assert!(
        quick.stdout.contains("octets au lieu des"),
        "{}",
        quick.stdout
    );

    // Orphans alone only take room: the check passes.
    std::fs::remove_file(local.uploads.local_path(&attachment).unwrap()).unwrap();
    let mut conn = inst.conn();
    diesel::delete(followup_attachments::table.find(row))
        .execute(&mut *conn)
        .unwrap();
    local.programmes.put(&gone_bytes).unwrap();
    let orphans_only = parcours(&inst.env, &["storage", "check"]);
    assert!(orphans_only.ok, "{}", orphans_only.stdout);
    assert!(orphans_only.stdout.contains(&format!("orphelin {orphan}")));
}

#[test]
fn a_bad_destination_is_refused_in_french_and_nothing_is_copied() {
    let inst = Instance::new();
    let source = objects_of(&inst.env);
    source.uploads.put(b"un fichier").unwrap();
    for bad in [
        "https://parcours-test/x",
        "s3://Majuscules/x",
        "s3://parcours-test/../x",
    ] {
        let run = parcours(&inst.env, &["storage", "migrate", "--to", bad]);
        assert!(!run.ok, "{bad}");
        assert!(
            run.stderr.contains("destination refusée"),
            "{bad}: {}",
            run.stderr
        );
        assert!(!run.stdout.contains("copié"), "{}", run.stdout);
    }
    let run = parcours(
        &inst.env,
        &["storage", "migrate", "--to", "ftp://parcours-test"],
    );
    assert!(
        run.stderr.contains("doit commencer par s3://"),
        "{}",
        run.stderr
    );
}
