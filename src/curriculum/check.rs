//! `parcours content check`: a content folder, or a programme exported as a ZIP (`archive::pack`),
//! checked by the loader and summarised module by module. A ZIP is unpacked with the archive's
//! limits and path checks into a private temporary folder, removed afterwards; its errors name
//! the files as they are in the archive. A draft's import (`authoring::import`) finds the
//! programme of an archive the same way (`program_folders`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::archive::{self, ArchiveError};
use super::loader::{self, ContentErrors};
use super::rules::{ActivityKind, Curriculum};
use crate::base::format::minutes;

/// Why a check failed: an archive that was not unpacked, or content with errors.
#[derive(Debug)]
pub enum CheckError {
    /// The archive could not be read or was refused (its path, the reason).
    Archive(PathBuf, ArchiveError),
    /// The temporary folder could not be made.
    Io(std::io::Error),
    Content(ContentErrors),
}

impl std::fmt::Display for CheckError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckError::Archive(path, e) => write!(f, "{} : {}", path.display(), e.message()),
            CheckError::Io(e) => write!(f, "dossier temporaire impossible à créer : {e}"),
            CheckError::Content(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for CheckError {}

/// Checks `path` (a folder of programmes, or a ZIP file) and returns the summary to print.
pub fn check(path: &Path) -> Result<String, CheckError> {
    let curriculum = if path.is_file() {
        load_zip(path)?
    } else {
        loader::load(path).map_err(CheckError::Content)?
    };
    Ok(summary(&curriculum))
}

/// A folder only for us, removed with all it holds when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Under the system's temporary folder.
    fn new() -> std::io::Result<TempDir> {
        TempDir::new_in(&std::env::temp_dir(), "parcours-check")
    }

    /// A new folder `PREFIX-…` in `parent` (created if needed), readable by us alone.
    pub fn new_in(parent: &Path, prefix: &str) -> std::io::Result<TempDir> {
        std::fs::create_dir_all(parent)?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        let mut last = None;
        for attempt in 0..16u32 {
            let dir = parent.join(format!(
                "{prefix}-{}-{nanos:08x}-{attempt}",
                std::process::id()
            ));
            // `create`, not `create_all`: a folder left by another run is never reused.
            match builder.create(&dir) {
                Ok(()) => return Ok(TempDir(dir)),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("no temporary folder")))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Where the files of the archive are unpacked, under the temporary folder.
const UNPACKED: &str = "archive";

fn load_zip(zip: &Path) -> Result<Curriculum, CheckError> {
    let tmp = TempDir::new().map_err(CheckError::Io)?;
    let unpacked = tmp.0.join(UNPACKED);
    std::fs::create_dir(&unpacked).map_err(CheckError::Io)?;
    let file = std::fs::File::open(zip)
        .map_err(|e| CheckError::Archive(zip.into(), ArchiveError::Io(e.to_string())))?;
    archive::unpack(std::io::BufReader::new(file), &unpacked, archive::LIMITS)
        .map_err(|e| CheckError::Archive(zip.into(), e))?;
    let root = content_root(&unpacked, 4).unwrap_or_else(|| unpacked.clone());
    loader::load(&root).map_err(|mut errors| {
        for e in &mut errors.0 {
            e.file = match e.file.strip_prefix(&unpacked) {
                Ok(rel) => zip.join(rel),
                Err(_) => zip.to_path_buf(),
            };
        }
        CheckError::Content(errors)
    })
}

/// The programme folders (each holding its `program.toml`) of an unpacked archive, whatever
/// its layout (see `content_root`).
pub fn program_folders(unpacked: &Path) -> Vec<PathBuf> {
    let Some(root) = content_root(unpacked, 4) else {
        return vec![];
    };
    let mut found: Vec<PathBuf> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && !ignored(p) && p.join("program.toml").is_file())
        .collect();
    found.sort();
    found
}

/// The folder to hand to the loader (one that holds programme folders) for an unpacked archive:
/// - `pack()`'s archive holds one programme folder: the archive's root;
/// - an archive made inside a programme folder holds `program.toml` itself: the folder above;
/// - an archive of a whole folder (`content/`) holds that one folder: looked into, as deep as
///   `depth` single folders.
fn content_root(dir: &Path, depth: usize) -> Option<PathBuf> {
    if dir.join("program.toml").is_file() {
        return dir.parent().map(Path::to_path_buf);
    }
    let folders: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && !ignored(p))
        .collect();
    if folders.iter().any(|p| p.join("program.toml").is_file()) {
        return Some(dir.to_path_buf());
    }
    match folders.as_slice() {
        [only] if depth > 0 => content_root(only, depth - 1),
        _ => None,
    }
}

/// Hidden folders and what macOS adds to the archives it makes.
fn ignored(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_none_or(|n| n.starts_with('.') || n == "__MACOSX")
}

/// The report of a valid curriculum: each programme, each module, its hours and its warnings.
pub fn summary(curriculum: &Curriculum) -> String {
    let mut out = String::new();
    let mut warnings = 0;
    for p in &curriculum.programs {
        let _ = writeln!(
            out,
            "{} — {} : {} h en {} modules, {} activités, {} questions (version {})",
            p.code,
            p.title,
            p.total_hours,
            p.modules.len(),
            p.activity_count(),
            p.question_count(),
            p.hash.get(..12).unwrap_or(&p.hash)
        );
        for m in &p.modules {
            let count = |k: ActivityKind| m.activities.iter().filter(|a| a.kind == k).count();
            let _ = writeln!(
                out,
                "  {} {} : {} h ({} h à distance, {} h en présentiel) ; {} séquences, {} leçons, {} quiz, {} devoirs, {} ressources",
                m.code,
                m.title,
                m.planned_hours,
                m.distance_hours,
                m.presentiel_hours,
                m.sequences.len(),
                count(ActivityKind::Lesson),
                count(ActivityKind::Quiz),
                count(ActivityKind::Assignment),
                count(ActivityKind::Resource),
            );
            let warning = m.duration_warning();
            let _ = writeln!(
                out,
                "    à distance : {} prévues, activités obligatoires {} (évaluation comprise) {}",
                minutes(i64::from(m.distance_hours) * 60),
                minutes(m.required_minutes().into()),
                if warning.is_none() { "✓" } else { "✗" }
            );
            if let Some(w) = warning {
                warnings += 1;
                let _ = writeln!(out, "    avertissement : {w}");
            }
        }
    }
    if warnings == 0 {
        out.push_str("Contenu valide.\n");
    } else {
        let _ = writeln!(out, "Contenu valide, {warnings} avertissement(s).");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_of_an_unpacked_archive_is_found_whatever_its_layout() {
        let tmp = TempDir::new().unwrap();
        let a = tmp.0.join("a");
        std::fs::create_dir_all(a.join("prog/01-m")).unwrap();
        std::fs::write(a.join("prog/program.toml"), "").unwrap();
        assert_eq!(content_root(&a, 4), Some(a.clone()), "pack()'s layout");
        assert_eq!(
            content_root(&a.join("prog"), 4),
            Some(a.clone()),
            "no folder"
        );
        let b = tmp.0.join("b");
        std::fs::create_dir_all(b.join("content/prog")).unwrap();
        std::fs::create_dir_all(b.join("__MACOSX/content")).unwrap();
        std::fs::write(b.join("content/prog/program.toml"), "").unwrap();
        std::fs::write(b.join("content/README.md"), "").unwrap();
        assert_eq!(content_root(&b, 4), Some(b.join("content")), "content/");
        let c = tmp.0.join("c");
        std::fs::create_dir_all(c.join("x")).unwrap();
        std::fs::create_dir_all(c.join("y")).unwrap();
        assert_eq!(content_root(&c, 4), None);
        let path = tmp.0.clone();
        drop(tmp);
        assert!(!path.exists(), "removed when dropped");
    }
}
