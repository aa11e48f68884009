//! A programme folder as a ZIP and back: how a programme moves between instances or into Git.
//! Unpacking trusts nothing in the archive: names, links and sizes are checked as it reads.

use std::io::{Read, Seek, Write};
use std::path::{Component, Path, PathBuf};

/// What an archive may hold. Sizes are counted on the bytes really decompressed, not on what
/// the archive's headers claim.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_entries: usize,
    pub max_file: u64,
    pub max_total: u64,
}

/// Programmes carry their videos: generous, but bounded.
pub const LIMITS: Limits = Limits {
    max_entries: 10_000,
    max_file: 1 << 30,
    max_total: 4 << 30,
};

#[derive(Debug, PartialEq, Eq)]
pub enum ArchiveError {
    NotAZip,
    UnsafeName(String),
    Link(String),
    TooManyEntries(usize),
    FileTooLarge(String, u64),
    TooLarge(u64),
    Io(String),
}

impl ArchiveError {
    pub fn message(&self) -> String {
        let mib = |n: &u64| n >> 20;
        match self {
            ArchiveError::NotAZip => "le fichier n'est pas une archive ZIP lisible".into(),
            ArchiveError::UnsafeName(n) => format!(
                "« {n} » : chemin refusé (chemin absolu, « .. » ou nom invalide dans l'archive)"
            ),
            ArchiveError::Link(n) => format!("« {n} » : les liens symboliques sont refusés"),
            ArchiveError::TooManyEntries(max) => {
                format!("l'archive contient plus de {max} fichiers")
            }
            ArchiveError::FileTooLarge(n, max) => {
                format!("« {n} » dépasse {} Mo une fois décompressé", mib(max))
            }
            ArchiveError::TooLarge(max) => {
                format!("l'archive dépasse {} Mo une fois décompressée", mib(max))
            }
            ArchiveError::Io(e) => format!("lecture de l'archive impossible : {e}"),
        }
    }
}

/// An entry's name with '/' between its folders. Some Windows tools (PowerShell's
/// `Compress-Archive` before 7, .NET before 4.6.1) write '\\' instead, against the ZIP format:
/// read as a separator, as `unzip` does, the name gets the same checks as any other.
fn slashed(name: &str) -> String {
    name.replace('\\', "/")
}

/// The relative path an entry may be written to, or `None` for anything that could leave the
/// destination (absolute, `..`, a drive letter or a network share, once backslashes are read
/// as separators).
fn safe_path(name: &str) -> Option<PathBuf> {
    let name = slashed(name);
    if name.contains('\0') || name.contains(':') {
        return None;
    }
    let path = Path::new(&name);
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

/// Unpacks `archive` into `dest` (an empty folder the caller removes on error).
pub fn unpack<R: Read + Seek>(archive: R, dest: &Path, limits: Limits) -> Result<(), ArchiveError> {
    let io = |e: std::io::Error| ArchiveError::Io(e.to_string());
    let mut zip = zip::ZipArchive::new(archive).map_err(|_| ArchiveError::NotAZip)?;
    if zip.len() > limits.max_entries {
        return Err(ArchiveError::TooManyEntries(limits.max_entries));
    }
    let mut total = 0u64;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|_| ArchiveError::NotAZip)?;
        let name = entry.name().to_string();
        let rel = safe_path(&name).ok_or_else(|| ArchiveError::UnsafeName(name.clone()))?;
        if entry.is_symlink() {
            return Err(ArchiveError::Link(name));
        }
        let target = dest.join(&rel);
        if entry.is_dir() {
            std::fs::create_dir_all(&target).map_err(io)?;
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let mut out = std::fs::File::create(&target).map_err(io)?;
        // One byte more than allowed tells a file that is too large, whatever its header says.
        let mut limited = (&mut entry).take(limits.max_file + 1);
        let written = std::io::copy(&mut limited, &mut out).map_err(io)?;
        if written > limits.max_file {
            return Err(ArchiveError::FileTooLarge(name, limits.max_file));
        }
        total += written;
        if total > limits.max_total {
            return Err(ArchiveError::TooLarge(limits.max_total));
        }
    }
    Ok(())
}

/// A programme folder as a ZIP whose entries start with the folder's name, as `content/` holds
/// it; files in a stable order so that the same folder gives the same archive.
pub fn pack(program_dir: &Path) -> std::io::Result<Vec<u8>> {
    let base = program_dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "programme".into());
    pack_as(program_dir, &base)
}

/// `pack`, the entries starting with `base` whatever the folder is called (a draft written
/// out under a name of the cache goes out under its programme's code).
pub fn pack_as(program_dir: &Path, base: &str) -> std::io::Result<Vec<u8>> {
    let mut files = Vec::new();
    collect(program_dir, Path::new(base), &mut files)?;
    files.sort();
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, path) in &files {
        w.start_file(name.as_str(), options)?;
        w.write_all(&std::fs::read(path)?)?;
    }
    Ok(w.finish()?.into_inner())
}

fn collect(dir: &Path, prefix: &Path, out: &mut Vec<(String, PathBuf)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = entry.file_type()?;
        let rel = prefix.join(&name);
        if kind.is_dir() {
            collect(&entry.path(), &rel, out)?;
        } else if kind.is_file() {
            out.push((rel.to_string_lossy().replace('\\', "/"), entry.path()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn zip_of(entries: &[(&str, &[u8])], link: Option<&str>) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let o = zip::write::SimpleFileOptions::default();
        for (name, body) in entries {
            w.start_file(*name, o).unwrap();
            w.write_all(body).unwrap();
        }
        if let Some(l) = link {
            w.add_symlink(l, "/etc/passwd", o).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn try_unpack(bytes: Vec<u8>, limits: Limits) -> (tempfile::TempDir, Result<(), ArchiveError>) {
        let dir = tempfile::tempdir().unwrap();
        let r = unpack(Cursor::new(bytes), dir.path(), limits);
        (dir, r)
    }

    #[test]
    fn names_that_leave_the_folder_are_refused() {
        for bad in [
            "../evil.md",
            "a/../../evil.md",
            "/etc/cron.d/x",
            "C:\\x",
            "a\\..\\b",
            "..\\evil.md",
            "\\etc\\cron.d\\x",
            "\\\\serveur\\partage\\evil.md",
        ] {
            let (dir, r) = try_unpack(zip_of(&[(bad, b"x")], None), LIMITS);
            assert!(
                matches!(r, Err(ArchiveError::UnsafeName(_))),
                "{bad}: {r:?}"
            );
            assert!(!dir.path().parent().unwrap().join("evil.md").exists());
        }
        let (_, r) = try_unpack(zip_of(&[("p/a.md", b"x")], Some("p/lien")), LIMITS);
        assert_eq!(r, Err(ArchiveError::Link("p/lien".into())));
        let (_, r) = try_unpack(b"PK\x03\x04 pas un zip".to_vec(), LIMITS);
        assert_eq!(r, Err(ArchiveError::NotAZip));
    }

    #[test]
    fn backslashes_of_windows_tools_separate_folders() {
        let (dir, r) = try_unpack(
            zip_of(
                &[
                    ("prog\\", b""),
                    ("prog\\01-m\\lessons\\01-leçon.md", "é".as_bytes()),
                ],
                None,
            ),
            LIMITS,
        );
        r.unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("prog/01-m/lessons/01-leçon.md")).unwrap(),
            "é"
        );
    }

    #[test]
    fn sizes_are_counted_on_what_is_decompressed() {
        let small = Limits {
            max_entries: 3,
            max_file: 1000,
            max_total: 1500,
        };
        let zeros = vec![0u8; 1001];
        let (_, r) = try_unpack(zip_of(&[("p/big.bin", &zeros)], None), small);
        assert_eq!(r, Err(ArchiveError::FileTooLarge("p/big.bin".into(), 1000)));
        let part = vec![0u8; 800];
        let (_, r) = try_unpack(zip_of(&[("p/a", &part), ("p/b", &part)], None), small);
        assert_eq!(r, Err(ArchiveError::TooLarge(1500)));
        let (_, r) = try_unpack(
            zip_of(&[("a", b"1"), ("b", b"2"), ("c", b"3"), ("d", b"4")], None),
            small,
        );
        assert_eq!(r, Err(ArchiveError::TooManyEntries(3)));
        assert!(
            ArchiveError::TooLarge(4 << 30)
                .message()
                .contains("4096 Mo")
        );
    }

    #[test]
    fn a_packed_folder_unpacks_to_the_same_files() {
        let src = tempfile::tempdir().unwrap();
        let prog = src.path().join("mon-programme");
        std::fs::create_dir_all(prog.join("01-module/lessons")).unwrap();
        std::fs::write(prog.join("program.toml"), "code = \"X\"").unwrap();
        std::fs::write(prog.join("01-module/lessons/01-a.md"), "é").unwrap();
        let bytes = pack(&prog).unwrap();
        assert_eq!(bytes, pack(&prog).unwrap(), "stable");
        let (dir, r) = try_unpack(bytes, LIMITS);
        r.unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("mon-programme/01-module/lessons/01-a.md"))
                .unwrap(),
            "é"
        );
    }
}
