//! A programme's files as a manifest: each file's path inside the programme folder ('/'
//! separators, e.g. `01-suivi-parcours-sante/lessons/intro.md`) to the SHA-256 of its bytes,
//! kept as a blob. A version or a draft is its manifest; `materialize` writes one back as a
//! folder the loader reads, and `changes` says what differs between two.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::objects::{self, Shelf};

/// Relative path ('/' separators) → SHA-256 of the file (lowercase hex).
pub type Manifest = BTreeMap<String, String>;

/// Paths of files a summary names before it only counts the others.
const LISTED: usize = 20;

/// Refuses a path that could leave the programme folder or that no folder would give back:
/// empty, absolute, with a backslash, an empty, `.` or `..` segment, or a segment starting
/// with '.' (hidden files are never read from a folder).
pub fn check_path(path: &str) -> Result<(), String> {
    let fault = if path.is_empty() {
        Some("chemin vide")
    } else if path.starts_with('/') {
        Some("chemin absolu")
    } else if path.contains('\\') {
        Some("barre oblique inverse")
    } else if path.contains('\0') {
        Some("caractère nul")
    } else if path.split('/').any(|s| s.is_empty() || s.starts_with('.')) {
        Some("segment vide, « . », « .. » ou caché")
    } else {
        None
    };
    match fault {
        Some(why) => Err(format!("chemin de fichier refusé ({why}) : {path:?}")),
        None => Ok(()),
    }
}

/// Checks every path and every blob name of a manifest.
pub fn check(m: &Manifest) -> Result<(), String> {
    for (path, sha) in m {
        check_path(path)?;
        if !objects::is_sha(sha) {
            return Err(format!("empreinte SHA-256 invalide pour {path} : {sha:?}"));
        }
    }
    Ok(())
}

/// Keeps every file under `dir` as a blob and lists them. Names starting with '.' are
/// skipped; a symbolic link, or anything neither a file nor a folder, is refused.
pub fn from_dir(blobs: &Shelf, dir: &Path) -> io::Result<Manifest> {
    let mut m = Manifest::new();
    walk(blobs, dir, "", &mut m)?;
    Ok(m)
}

fn walk(blobs: &Shelf, dir: &Path, prefix: &str, m: &mut Manifest) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            return Err(invalid(format!(
                "nom de fichier illisible (UTF-8) : {}",
                entry.path().display()
            )));
        };
        if name.starts_with('.') {
            continue;
        }
        let rel = format!("{prefix}{name}");
        check_path(&rel).map_err(invalid)?;
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            return Err(invalid(format!("lien symbolique refusé : {rel}")));
        } else if kind.is_dir() {
            walk(blobs, &entry.path(), &format!("{rel}/"), m)?;
        } else if kind.is_file() {
            m.insert(rel, blobs.put_file(&entry.path())?.sha256);
        } else {
            return Err(invalid(format!("ni fichier ni dossier : {rel}")));
        }
    }
    Ok(())
}

/// Writes the files of `m` as the folder `dest`. They are written into a hidden sibling
/// folder renamed to `dest` once complete, so nobody sees half a folder. Materialized
/// folders never change: when `dest` exists, nothing is written. Files are hard links to
/// their blobs where the file system allows, copies otherwise: never write into them.
pub fn materialize(blobs: &Shelf, m: &Manifest, dest: &Path) -> io::Result<()> {
    if dest.exists() {
        return Ok(());
    }
    check(m).map_err(invalid)?;
    let (Some(parent), Some(name)) = (dest.parent(), dest.file_name()) else {
        return Err(invalid(format!(
            "dossier de destination invalide : {}",
            dest.display()
        )));
    };
    fs::create_dir_all(parent)?;
    let temp = parent.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        random_suffix()?
    ));
    let written = fill(blobs, m, &temp).and_then(|()| fs::rename(&temp, dest));
    match written {
        Ok(()) => sync_dir(parent),
        Err(e) => {
            let _ = fs::remove_dir_all(&temp);
            // Another process materialized the same folder first: it holds the same files.
            if dest.exists() { Ok(()) } else { Err(e) }
        }
    }
}

fn fill(blobs: &Shelf, m: &Manifest, root: &Path) -> io::Result<()> {
    fs::create_dir(root)?;
    blobs.prefetch(m.values())?;
    for (path, sha) in m {
        let target: PathBuf = path.split('/').fold(root.to_path_buf(), |p, s| p.join(s));
        if let Some(dir) = target.parent() {
            fs::create_dir_all(dir)?;
        }
        if !objects::is_sha(sha) {
            return Err(invalid(format!("empreinte invalide : {sha:?}")));
        }
        // Linked to the file on this disk (on S3, fetched once per instance), not copied.
        let source = blobs.local_copy(sha)?;
        if fs::hard_link(&source, &target).is_err() {
            fs::copy(&source, &target)?;
            fs::File::open(&target)?.sync_all()?;
        }
    }
    Ok(())
}

/// Sixteen random hex digits, for temporary names.
fn random_suffix() -> io::Result<String> {
    let mut raw = [0u8; 8];
    getrandom::fill(&mut raw).map_err(|e| io::Error::other(format!("random: {e}")))?;
    Ok(crate::base::digest::hex(&raw))
}

/// Makes a rename inside `dir` durable (Unix; elsewhere a no-op).
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// The manifest as stored: a JSON object, paths in order.
pub fn to_json(m: &Manifest) -> String {
    // A map of strings to strings always serializes.
    serde_json::to_string(m).unwrap_or_else(|_| "{}".into())
}

/// A stored manifest, checked. The empty text of versions recorded before manifests existed
/// reads as an empty manifest.
pub fn from_json(text: &str) -> Result<Manifest, String> {
    if text.trim().is_empty() {
        return Ok(Manifest::new());
    }
    let m: Manifest =
        serde_json::from_str(text).map_err(|e| format!("manifeste illisible : {e}"))?;
    check(&m)?;
    Ok(m)
}

/// What differs between two manifests, each list in path order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

/// The files added, changed (same path, other content) and removed from `old` to `new`.
pub fn changes(old: &Manifest, new: &Manifest) -> Changes {
    let mut c = Changes::default();
    for (path, sha) in new {
        match old.get(path) {
            None => c.added.push(path.clone()),
            Some(before) if before != sha => c.changed.push(path.clone()),
            Some(_) => {}
        }
    }
    c.removed = old
        .keys()
        .filter(|p| !new.contains_key(*p))
        .cloned()
        .collect();
    c
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }

    /// For the audit log and the version history: the counts, then up to 20 paths in order
    /// with what happened to each.
    pub fn summary(&self) -> String {
        if self.is_empty() {
            return "Aucun fichier modifié".into();
        }
        let mut paths: Vec<(&str, &str)> = (self.added.iter().map(|p| (p.as_str(), "ajouté")))
            .chain(self.changed.iter().map(|p| (p.as_str(), "modifié")))
            .chain(self.removed.iter().map(|p| (p.as_str(), "supprimé")))
            .collect();
        paths.sort();
        let listed: Vec<String> = paths
            .iter()
            .take(LISTED)
            .map(|(p, what)| format!("{p} ({what})"))
            .collect();
        let mut text = format!(
            "{} fichier(s) ajouté(s), {} modifié(s), {} supprimé(s) : {}",
            self.added.len(),
            self.changed.len(),
            self.removed.len(),
            listed.join(", ")
        );
        if paths.len() > LISTED {
            text.push_str(&format!(" et {} autres", paths.len() - LISTED));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(root: &Path) {
        let module = root.join("01-suivi-parcours-sante");
        fs::create_dir_all(module.join("lessons")).unwrap();
        fs::create_dir_all(module.join("files")).unwrap();
        fs::write(root.join("program.toml"), "code = \"CQP-AM\"\n").unwrap();
        fs::write(module.join("lessons/intro.md"), "# Écoute\n").unwrap();
        fs::write(module.join("files/fiche.pdf"), b"%PDF-1.4\n").unwrap();
        fs::write(module.join(".brouillon.md.swp"), "x").unwrap();
        fs::create_dir_all(root.join(".git")).unwrap();
        fs::write(root.join(".git/HEAD"), "ref").unwrap();
    }

    fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
        let scratch = tempfile::tempdir().unwrap();
        let blobs = objects::folder(scratch.path()).unwrap();
        from_dir(&blobs, root)
            .unwrap()
            .into_iter()
            .map(|(p, sha)| (p, blobs.read(&sha).unwrap()))
            .collect()
    }

    #[test]
    fn a_folder_is_listed_and_written_back_file_for_file() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("source");
        sample(&source);
        let blobs = objects::folder(&dir.path().join("blobs")).unwrap();
        let m = from_dir(&blobs, &source).unwrap();
        let paths: Vec<&str> = m.keys().map(String::as_str).collect();
        assert_eq!(
            paths,
            [
                "01-suivi-parcours-sante/files/fiche.pdf",
                "01-suivi-parcours-sante/lessons/intro.md",
                "program.toml",
            ]
        );
        assert_eq!(
            blobs.read(&m["program.toml"]).unwrap(),
            b"code = \"CQP-AM\"\n"
        );
        assert_eq!(from_json(&to_json(&m)).unwrap(), m);

        let dest = dir.path().join("versions").join("3");
        materialize(&blobs, &m, &dest).unwrap();
        assert_eq!(
            fs::read_to_string(dest.join("01-suivi-parcours-sante/lessons/intro.md")).unwrap(),
            "# Écoute\n"
        );
        // No temporary folder is left beside it.
        let siblings: Vec<_> = fs::read_dir(dest.parent().unwrap()).unwrap().collect();
        assert_eq!(siblings.len(), 1);
        assert_eq!(read_tree(&dest), read_tree(&source));
    }

    #[test]
    fn a_materialized_folder_is_never_written_again() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = objects::folder(&dir.path().join("blobs")).unwrap();
        let first = Manifest::from([("program.toml".into(), blobs.put(b"v1").unwrap())]);
        let dest = dir.path().join("v1");
        materialize(&blobs, &first, &dest).unwrap();
        let other = Manifest::from([("program.toml".into(), blobs.put(b"v2").unwrap())]);
        materialize(&blobs, &other, &dest).unwrap();
        assert_eq!(fs::read(dest.join("program.toml")).unwrap(), b"v1");
    }

    #[test]
    fn a_failed_materialization_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = objects::folder(&dir.path().join("blobs")).unwrap();
        let m = Manifest::from([
            ("a.md".into(), blobs.put(b"a").unwrap()),
            // Never kept: the folder cannot be completed.
            ("b.md".into(), "0".repeat(64)),
        ]);
        let out = dir.path().join("out");
        fs::create_dir(&out).unwrap();
        let e = materialize(&blobs, &m, &out.join("v1")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound, "{e}");
        assert_eq!(fs::read_dir(&out).unwrap().count(), 0);
    }

    #[test]
    fn a_path_leaving_the_folder_is_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = objects::folder(&dir.path().join("blobs")).unwrap();
        let sha = blobs.put(b"x").unwrap();
        for bad in [
            "../x",
            "a/../../x",
            "/etc/x",
            "a\\..\\x",
            "a//b",
            "./a",
            "a/",
            "",
            "m/.cache",
        ] {
            let m = Manifest::from([("ok.md".into(), sha.clone()), (bad.into(), sha.clone())]);
            let out = dir.path().join("out");
            let e = materialize(&blobs, &m, &out.join("v")).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{bad}");
            assert!(!out.exists(), "{bad}");
            assert!(from_json(&to_json(&m)).is_err(), "{bad}");
        }
        let m = Manifest::from([("a.md".into(), "../../etc/passwd".into())]);
        assert!(materialize(&blobs, &m, &dir.path().join("v")).is_err());
        assert!(from_json(&to_json(&m)).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_in_a_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("source");
        sample(&source);
        std::os::unix::fs::symlink("/etc/passwd", source.join("passwd")).unwrap();
        let e = from_dir(
            &objects::folder(&dir.path().join("blobs")).unwrap(),
            &source,
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("lien symbolique refusé : passwd"),
            "{e}"
        );
    }

    #[test]
    fn stored_manifests_read_back_and_old_empty_ones_are_empty() {
        assert_eq!(from_json("").unwrap(), Manifest::new());
        assert!(
            from_json("[1]")
                .unwrap_err()
                .starts_with("manifeste illisible")
        );
        let m = Manifest::from([("program.toml".into(), "a".repeat(64))]);
        assert_eq!(
            to_json(&m),
            format!("{{\"program.toml\":\"{}\"}}", "a".repeat(64))
        );
    }

    fn manifest(entries: &[(&str, char)]) -> Manifest {
        entries
            .iter()
            .map(|(p, c)| (p.to_string(), c.to_string().repeat(64)))
            .collect()
    }

    #[test]
    fn changes_name_what_was_added_changed_and_removed_in_french() {
        let old = manifest(&[
            ("program.toml", 'a'),
            ("m/lessons/é.md", 'b'),
            ("m/x.md", 'c'),
        ]);
        let new = manifest(&[
            ("program.toml", 'a'),
            ("m/lessons/é.md", 'd'),
            ("m/y.md", 'e'),
        ]);
        let c = changes(&old, &new);
        assert_eq!(c.added, ["m/y.md"]);
        assert_eq!(c.changed, ["m/lessons/é.md"]);
        assert_eq!(c.removed, ["m/x.md"]);
        assert_eq!(
            c.summary(),
            "1 fichier(s) ajouté(s), 1 modifié(s), 1 supprimé(s) : m/lessons/é.md (modifié), \
             m/x.md (supprimé), m/y.md (ajouté)"
        );
        assert!(changes(&new, &new).is_empty());
        assert_eq!(changes(&new, &new).summary(), "Aucun fichier modifié");
    }

    #[test]
    fn a_long_summary_lists_twenty_paths_then_counts_the_others() {
        let new: Manifest = (0..23)
            .map(|i| (format!("m/lessons/leçon-{i:02}.md"), "a".repeat(64)))
            .collect();
        let s = changes(&Manifest::new(), &new).summary();
        assert!(
            s.starts_with("23 fichier(s) ajouté(s), 0 modifié(s), 0 supprimé(s) : "),
            "{s}"
        );
        assert!(
            s.contains("m/lessons/leçon-19.md (ajouté) et 3 autres"),
            "{s}"
        );
        assert!(!s.contains("leçon-20"), "{s}");
    }
}
