//! `parcours content check` on a programme exported as a ZIP (`archive::pack`): the same
//! checks and report as for a folder, an unsafe archive refused with its reason, the errors of
//! a broken programme named by their file in the archive and their line.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use parcours::curriculum::archive;

fn content_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("content")
}

/// `parcours content check PATH`: (success, stdout, stderr).
fn check(path: &Path) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_parcours"))
        .args(["content", "check"])
        .arg(path)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).unwrap();
        }
    }
}

/// The same archive with the first folder of every name taken off: made inside the folder.
fn without_top_folder(bytes: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let name = entry.name().split_once('/').unwrap().1.to_string();
        let mut body = Vec::new();
        entry.read_to_end(&mut body).unwrap();
        w.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(&body).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn a_packed_programme_is_checked_as_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("CQP-AM.zip");
    let bytes = archive::pack(&content_dir().join("cqp-assistant-medical")).unwrap();
    std::fs::write(&zip, &bytes).unwrap();
    let (ok, stdout, stderr) = check(&zip);
    assert!(ok, "{stdout}{stderr}");
    assert!(
        stdout.contains("CQP-AM — CQP Assistant médical : 266 h en 4 modules"),
        "{stdout}"
    );
    assert!(!stdout.contains("FAE-AM"), "one programme only: {stdout}");
    assert_eq!(
        stdout.matches("(évaluation comprise) ✓").count(),
        4,
        "{stdout}"
    );
    assert!(stdout.ends_with("Contenu valide.\n"), "{stdout}");
    // The same report as for the folder, version included.
    let folder = dir.path().join("dossier");
    copy_dir(
        &content_dir().join("cqp-assistant-medical"),
        &folder.join("cqp-assistant-medical"),
    );
    let (ok, from_folder, _) = check(&folder);
    assert!(ok);
    assert_eq!(stdout, from_folder);

    // Zipped from inside the programme's folder: program.toml at the archive's root.
    let flat = dir.path().join("a-plat.zip");
    std::fs::write(&flat, without_top_folder(&bytes)).unwrap();
    let (ok, flat_out, stderr) = check(&flat);
    assert!(ok, "{flat_out}{stderr}");
    assert_eq!(flat_out, stdout);

    // The whole content folder zipped: both programmes.
    let all = dir.path().join("contenu.zip");
    std::fs::write(&all, archive::pack(&content_dir()).unwrap()).unwrap();
    let (ok, all_out, stderr) = check(&all);
    assert!(ok, "{all_out}{stderr}");
    assert!(
        all_out.contains("CQP-AM — ") && all_out.contains("FAE-AM — "),
        "{all_out}"
    );
}

#[test]
fn an_unsafe_or_unreadable_archive_is_refused_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default();
    w.start_file("prog/program.toml", o).unwrap();
    w.write_all(b"code = \"X\"").unwrap();
    w.start_file("../evil", o).unwrap();
    w.write_all(b"x").unwrap();
    let evil = dir.path().join("evil.zip");
    std::fs::write(&evil, w.finish().unwrap().into_inner()).unwrap();
    let (ok, stdout, stderr) = check(&evil);
    assert!(!ok, "{stdout}");
    assert!(
        stderr.contains("evil.zip : « ../evil » : chemin refusé (chemin absolu, « .. » ou nom invalide dans l'archive)"),
        "{stderr}"
    );
    assert!(!dir.path().parent().unwrap().join("evil").exists());

    let text = dir.path().join("pas-un-zip.zip");
    std::fs::write(&text, "code = \"X\"\n").unwrap();
    let (ok, _, stderr) = check(&text);
    assert!(!ok);
    assert!(
        stderr.contains("le fichier n'est pas une archive ZIP lisible"),
        "{stderr}"
    );
}

#[test]
fn the_errors_of_a_zipped_programme_name_its_files_and_lines() {
    let dir = tempfile::tempdir().unwrap();
    let prog = dir.path().join("cqp-assistant-medical");
    copy_dir(&content_dir().join("cqp-assistant-medical"), &prog);
    let module = prog.join("01-suivi-parcours-sante/module.toml");
    let text = std::fs::read_to_string(&module).unwrap();
    std::fs::write(&module, text.replace("order = 1", "order = = 1")).unwrap();
    let lesson = std::fs::read_dir(prog.join("02-accueil-administratif/lessons"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .min()
        .unwrap();
    let text = std::fs::read_to_string(&lesson).unwrap();
    std::fs::write(&lesson, format!("{text}\n<div>brut</div>\n")).unwrap();
    let zip = dir.path().join("CQP-AM.zip");
    std::fs::write(&zip, archive::pack(&prog).unwrap()).unwrap();
    let (ok, stdout, stderr) = check(&zip);
    assert!(!ok, "{stdout}");
    assert!(
        stderr.contains("contenu invalide (2 erreur(s))"),
        "{stderr}"
    );
    let in_zip = zip.join("cqp-assistant-medical");
    let expected = format!(
        "{}:3: ",
        in_zip.join("01-suivi-parcours-sante/module.toml").display()
    );
    assert!(stderr.contains(&expected), "{expected} in {stderr}");
    let line = text.lines().count() + 2;
    let expected = format!(
        "{}:{line}: HTML brut interdit",
        in_zip
            .join("02-accueil-administratif/lessons")
            .join(lesson.file_name().unwrap())
            .display()
    );
    assert!(stderr.contains(&expected), "{expected} in {stderr}");
    assert!(
        !stderr.contains("parcours-check-"),
        "no temporary path: {stderr}"
    );
}
