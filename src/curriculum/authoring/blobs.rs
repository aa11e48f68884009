//! Programme files kept once, each named by the SHA-256 of its bytes (lowercase hex) in one
//! folder: every version and draft that holds the same file shares it. A blob is written to a
//! temporary file of the same folder, synced, then renamed, so a crash never leaves half a
//! blob under its final name; temporary names start with '.', never 64 hex digits.

use crate::base::digest::hex;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Bytes read and hashed at a time when a file is streamed in.
const CHUNK: usize = 64 * 1024;

/// The folder of blobs.
#[derive(Debug, Clone)]
pub struct Blobs {
    dir: PathBuf,
}

/// Whether `s` can name a blob: 64 lowercase hexadecimal digits, nothing else.
pub fn is_sha(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Blobs {
    /// Blobs kept in `dir`, created with the first blob written.
    pub fn new(dir: impl Into<PathBuf>) -> Blobs {
        Blobs { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Keeps `bytes` and returns their SHA-256. A blob already kept is not written again.
    pub fn put(&self, bytes: &[u8]) -> io::Result<String> {
        let sha = hex(&Sha256::digest(bytes));
        if self.is_kept(&sha, bytes.len() as u64) {
            return Ok(sha);
        }
        let mut temp = self.temp()?;
        temp.file.write_all(bytes)?;
        temp.persist(&self.dir.join(&sha))?;
        Ok(sha)
    }

    /// Keeps the file at `path` and returns its SHA-256. The file is streamed: hashed while
    /// it is copied into a temporary blob, never read whole in memory.
    pub fn put_file(&self, path: &Path) -> io::Result<String> {
        let mut source = File::open(path)?;
        let mut temp = self.temp()?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = match source.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            hasher.update(&buf[..n]);
            temp.file.write_all(&buf[..n])?;
            size += n as u64;
        }
        let sha = hex(&hasher.finalize());
        if !self.is_kept(&sha, size) {
            temp.persist(&self.dir.join(&sha))?;
        }
        Ok(sha)
    }

    /// Where the blob `sha` is kept; `None` unless `sha` is 64 lowercase hex digits, so a
    /// name from a request or a manifest never reaches outside the folder.
    pub fn path(&self, sha: &str) -> Option<PathBuf> {
        is_sha(sha).then(|| self.dir.join(sha))
    }

    /// The bytes of a blob, checked to hash to its name.
    pub fn read(&self, sha: &str) -> io::Result<Vec<u8>> {
        let bytes = fs::read(self.checked_path(sha)?)?;
        if hex(&Sha256::digest(&bytes)) != sha {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "blob {sha} is damaged: its bytes do not hash to its name (checked when read back)"
                ),
            ));
        }
        Ok(bytes)
    }

    /// The size of a blob in bytes.
    pub fn size(&self, sha: &str) -> io::Result<u64> {
        Ok(fs::metadata(self.checked_path(sha)?)?.len())
    }

    fn checked_path(&self, sha: &str) -> io::Result<PathBuf> {
        self.path(sha).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("not a blob name: {sha:?}"),
            )
        })
    }

    /// A blob of this name and size is already kept. One of another size is damaged (a
    /// truncated copy of the folder): it is written again.
    fn is_kept(&self, sha: &str, size: u64) -> bool {
        fs::metadata(self.dir.join(sha)).is_ok_and(|m| m.is_file() && m.len() == size)
    }

    fn temp(&self) -> io::Result<Temp> {
        fs::create_dir_all(&self.dir)?;
        let path = self.dir.join(format!(".tmp-{}", random_suffix()?));
        let file = File::options().write(true).create_new(true).open(&path)?;
        Ok(Temp {
            path,
            file,
            done: false,
        })
    }
}

/// Sixteen random hex digits, for temporary names.
pub(super) fn random_suffix() -> io::Result<String> {
    let mut raw = [0u8; 8];
    getrandom::fill(&mut raw).map_err(|e| io::Error::other(format!("random: {e}")))?;
    Ok(hex(&raw))
}

/// Makes a rename inside `dir` durable (Unix; elsewhere a no-op).
pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// A temporary blob, removed when dropped unless it was renamed to its name.
struct Temp {
    path: PathBuf,
    file: File,
    done: bool,
}

impl Temp {
    fn persist(&mut self, dest: &Path) -> io::Result<()> {
        self.file.sync_all()?;
        fs::rename(&self.path, dest)?;
        self.done = true;
        match dest.parent() {
            Some(dir) => sync_dir(dir),
            None => Ok(()),
        }
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_blob_is_named_by_its_sha256_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::new(dir.path().join("blobs"));
        let sha = blobs.put(b"hello").unwrap();
        assert_eq!(sha, HELLO);
        assert_eq!(blobs.read(&sha).unwrap(), b"hello");
        assert_eq!(blobs.size(&sha).unwrap(), 5);
        // Kept once, and no temporary file is left behind.
        assert_eq!(blobs.put(b"hello").unwrap(), sha);
        assert_eq!(names(blobs.dir()), vec![HELLO.to_string()]);
    }

    #[test]
    fn a_file_is_streamed_into_the_same_blob_as_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::new(dir.path().join("blobs"));
        // Several chunks, the last one partial.
        let big: Vec<u8> = (0..CHUNK * 3 + 17).map(|i| (i % 251) as u8).collect();
        let file = dir.path().join("video.mp4");
        fs::write(&file, &big).unwrap();
        let sha = blobs.put_file(&file).unwrap();
        assert_eq!(sha, hex(&Sha256::digest(&big)));
        assert_eq!(blobs.put(&big).unwrap(), sha);
        assert_eq!(blobs.read(&sha).unwrap(), big);
        assert_eq!(blobs.put_file(&file).unwrap(), sha);
        assert_eq!(names(blobs.dir()), vec![sha]);
        assert!(blobs.put_file(&dir.path().join("absent")).is_err());
    }

    #[test]
    fn a_damaged_blob_is_refused_when_read_and_written_again_when_put() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::new(dir.path());
        let sha = blobs.put(b"hello").unwrap();
        let path = blobs.path(&sha).unwrap();
        fs::write(&path, b"jello").unwrap();
        let e = blobs.read(&sha).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("checked when read back"), "{e}");
        // A truncated blob is not taken for the kept one.
        fs::write(&path, b"hel").unwrap();
        blobs.put(b"hello").unwrap();
        assert_eq!(blobs.read(&sha).unwrap(), b"hello");
    }

    #[test]
    fn only_64_lowercase_hex_digits_name_a_blob() {
        let blobs = Blobs::new("/srv/blobs");
        assert_eq!(
            blobs.path(HELLO),
            Some(PathBuf::from("/srv/blobs").join(HELLO))
        );
        for bad in [
            "../x",
            "",
            "/etc/passwd",
            &HELLO.to_uppercase(),
            &HELLO[..63],
            &format!("{HELLO}0"),
            &format!("../{}", &HELLO[3..]),
            &format!("{}g", &HELLO[..63]),
        ] {
            assert_eq!(blobs.path(bad), None, "{bad}");
            assert!(blobs.read(bad).is_err(), "{bad}");
            assert!(blobs.size(bad).is_err(), "{bad}");
        }
    }
}
