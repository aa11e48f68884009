//! One shelf of files named by their SHA-256, on whichever store holds it. Every call is
//! blocking (see `runtime`). Writes are whole or nothing: a single PUT, a multipart upload
//! completed only at its end, or a local file renamed into place once synced.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::StreamExt;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use sha2::{Digest, Sha256};

use super::runtime::run;
use super::{Unavailable, is_sha};
use crate::base::digest::hex;

/// Files up to this size go in one request; bigger ones in parts of this size.
const PART: usize = 8 * 1024 * 1024;
/// Bytes read and hashed at a time.
const CHUNK: usize = 64 * 1024;
/// Files fetched at once when a version is written out from S3.
const FETCHES: usize = 8;

/// A file kept: its name and size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub sha256: String,
    pub size: u64,
}

#[derive(Clone)]
pub struct Shelf {
    store: Arc<dyn ObjectStore>,
    /// The folder a local shelf keeps its files in (none for S3).
    local: Option<PathBuf>,
    /// Where uploads wait on this instance's disk before they are kept; for a remote shelf,
    /// its `cache/` holds the files `local_copy` fetched.
    staging: PathBuf,
    /// What `parcours storage` prints: a folder or `s3://bucket/prefix/shelf`.
    label: String,
}

impl std::fmt::Debug for Shelf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label)
    }
}

impl Shelf {
    pub(super) fn new(
        store: Arc<dyn ObjectStore>,
        local: Option<PathBuf>,
        staging: PathBuf,
        label: String,
    ) -> Shelf {
        Shelf {
            store,
            local,
            staging,
            label,
        }
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    /// Whether the files are on a remote store (their reads and writes can fail with
    /// `Unavailable`).
    pub fn is_remote(&self) -> bool {
        self.local.is_none()
    }

    /// A folder of this instance's disk for uploads in progress: never shared, never kept.
    pub fn staging(&self) -> &Path {
        &self.staging
    }

    /// The file itself, for a local shelf (to link rather than copy it); none on S3.
    pub fn local_path(&self, sha: &str) -> Option<PathBuf> {
        let dir = self.local.as_ref()?;
        is_sha(sha).then(|| dir.join(sha))
    }

    /// A file on this instance's disk, never to be written: the file itself on a local shelf;
    /// on S3 a copy fetched once (checked) into the staging folder's cache, so that writing
    /// out a draft's next revision or another version that holds the same video fetches
    /// nothing again. Blocking.
    pub fn local_copy(&self, sha: &str) -> io::Result<PathBuf> {
        if let Some(path) = self.local_path(sha) {
            return Ok(path);
        }
        Self::key(sha)?;
        let path = self.staging.join("cache").join(sha);
        if !path.is_file() {
            self.fetch_to(sha, &path)?;
        }
        Ok(path)
    }

    fn key(sha: &str) -> io::Result<Key> {
        if !is_sha(sha) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("not a file name: {sha:?}"),
            ));
        }
        Ok(Key::from(sha))
    }

    /// Keeps `bytes` and returns their SHA-256; kept once, whoever sends them again.
    pub fn put(&self, bytes: &[u8]) -> io::Result<String> {
        let sha = hex(&Sha256::digest(bytes));
        if self.size(&sha).ok() == Some(bytes.len() as u64) {
            return Ok(sha);
        }
        let (store, key, remote) = (self.store.clone(), Self::key(&sha)?, self.is_remote());
        let payload = PutPayload::from(bytes.to_vec());
        run(async move {
            store
                .put(&key, payload)
                .await
                .map(|_| ())
                .map_err(|e| error(remote, e))
        })?;
        Ok(sha)
    }

    /// Keeps the file at `path` (hashed first, streamed, never read whole in memory).
    pub fn put_file(&self, path: &Path) -> io::Result<Stored> {
        let stored = hash_file(path)?;
        self.put_file_as(path, &stored)?;
        Ok(stored)
    }

    /// Keeps the file at `path` whose hash and size are already known. A file of that name
    /// and size already kept is not sent again: two instances storing the same file at once
    /// write the same object.
    pub fn put_file_as(&self, path: &Path, stored: &Stored) -> io::Result<()> {
        if self.size(&stored.sha256).ok() == Some(stored.size) {
            return Ok(());
        }
        let (store, key, remote) = (
            self.store.clone(),
            Self::key(&stored.sha256)?,
            self.is_remote(),
        );
        let path = path.to_path_buf();
        let size = stored.size;
        run(async move {
            upload(store, key, &path, size)
                .await
                .map_err(|e| e.into_io(remote))
        })
    }

    /// The bytes of a file, checked to hash to its name.
    pub fn read(&self, sha: &str) -> io::Result<Vec<u8>> {
        let (store, key, remote) = (self.store.clone(), Self::key(sha)?, self.is_remote());
        let bytes = run(async move {
            let got = store.get(&key).await.map_err(|e| error(remote, e))?;
            got.bytes().await.map_err(|e| error(remote, e))
        })?;
        check(sha, &Sha256::digest(&bytes))?;
        Ok(bytes.to_vec())
    }

    /// Writes a file to `dest` (through a temporary file renamed once whole and checked).
    pub fn fetch_to(&self, sha: &str, dest: &Path) -> io::Result<()> {
        let fetch = fetch_into(
            self.store.clone(),
            self.is_remote(),
            sha.to_string(),
            dest.to_path_buf(),
        );
        run(fetch)
    }

    /// Makes `local_copy` of every file named ready, fetching those not yet on this disk
    /// `FETCHES` at a time: writing out a version of a hundred files from S3 waits for the
    /// slowest few, not for each in turn. Nothing to do on a local shelf.
    pub fn prefetch<'a>(&self, shas: impl IntoIterator<Item = &'a String>) -> io::Result<()> {
        if self.local.is_some() {
            return Ok(());
        }
        let cache = self.staging.join("cache");
        let mut wanted: Vec<String> = shas
            .into_iter()
            .filter(|sha| is_sha(sha) && !cache.join(sha).is_file())
            .cloned()
            .collect();
        wanted.sort();
        wanted.dedup();
        let (store, remote) = (self.store.clone(), self.is_remote());
        run(async move {
            let mut fetches = futures_util::stream::iter(wanted.into_iter().map(|sha| {
                let dest = cache.join(&sha);
                fetch_into(store.clone(), remote, sha, dest)
            }))
            .buffer_unordered(FETCHES);
            while let Some(fetched) = fetches.next().await {
                fetched?;
            }
            Ok(())
        })
    }

    /// Reads a whole file back and says whether its bytes hash to its name.
    pub fn verify(&self, sha: &str) -> io::Result<bool> {
        let (store, key, remote) = (self.store.clone(), Self::key(sha)?, self.is_remote());
        let sha = sha.to_string();
        run(async move {
            let got = store.get(&key).await.map_err(|e| error(remote, e))?;
            let mut stream = got.into_stream();
            let mut hasher = Sha256::new();
            while let Some(chunk) = stream.next().await {
                hasher.update(&chunk.map_err(|e| error(remote, e))?);
            }
            Ok(hex(&hasher.finalize()) == sha)
        })
    }

    /// The size of a kept file; `NotFound` when it is not kept.
    pub fn size(&self, sha: &str) -> io::Result<u64> {
        let (store, key, remote) = (self.store.clone(), Self::key(sha)?, self.is_remote());
        run(async move {
            store
                .head(&key)
                .await
                .map(|m| m.size)
                .map_err(|e| error(remote, e))
        })
    }

    /// Removes a file; one already gone is no error.
    pub fn delete(&self, sha: &str) -> io::Result<()> {
        let (store, key, remote) = (self.store.clone(), Self::key(sha)?, self.is_remote());
        run(async move {
            match store.delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(error(remote, e)),
            }
        })
    }

    /// Every kept file with its size, by name. Other names (temporary files, the staging
    /// folder of a local shelf) are not files of the shelf.
    pub fn list(&self) -> io::Result<Vec<Stored>> {
        let (store, remote) = (self.store.clone(), self.is_remote());
        let mut all = run(async move {
            let mut listed = store.list(None);
            let mut all = Vec::new();
            while let Some(meta) = listed.next().await {
                let meta = meta.map_err(|e| error(remote, e))?;
                let name = meta.location.as_ref();
                if is_sha(name) {
                    all.push(Stored {
                        sha256: name.to_string(),
                        size: meta.size,
                    });
                }
            }
            Ok(all)
        })?;
        all.sort_by(|a, b| a.sha256.cmp(&b.sha256));
        Ok(all)
    }

    /// Copies a file to another shelf, streamed, unless it is already there with its size.
    /// The copy is read back and checked by hash.
    pub fn copy_to(&self, sha: &str, to: &Shelf) -> io::Result<()> {
        let size = self.size(sha)?;
        let stored = Stored {
            sha256: sha.to_string(),
            size,
        };
        // Already there with its size: an earlier run got this far.
        let there = to.size(sha).ok() == Some(size);
        match self.local_path(sha) {
            _ if there => {}
            Some(local) => to.put_file_as(&local, &stored)?,
            None => {
                let temp = temp_beside(&to.staging.join(sha))?;
                let copied = self
                    .fetch_to(sha, &temp)
                    .and_then(|()| to.put_file_as(&temp, &stored));
                let _ = std::fs::remove_file(&temp);
                copied?;
            }
        }
        if to.verify(sha)? {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{sha}: the copy does not hash to its name"),
            ))
        }
    }
}

/// Writes a file to `dest` through a temporary file beside it, renamed once whole, synced and
/// checked by hash.
async fn fetch_into(
    store: Arc<dyn ObjectStore>,
    remote: bool,
    sha: String,
    dest: PathBuf,
) -> io::Result<()> {
    let key = Shelf::key(&sha)?;
    let temp = temp_beside(&dest)?;
    let written = async {
        let got = store.get(&key).await.map_err(|e| error(remote, e))?;
        let mut stream = got.into_stream();
        let mut file = std::fs::File::create(&temp)?;
        let mut hasher = Sha256::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| error(remote, e))?;
            hasher.update(&chunk);
            file.write_all(&chunk)?;
        }
        file.sync_all()?;
        check(&sha, &hasher.finalize())
    }
    .await
    .and_then(|()| std::fs::rename(&temp, &dest));
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// The SHA-256 and size of a file, streamed.
pub fn hash_file(path: &Path) -> io::Result<Stored> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut size = 0u64;
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                hasher.update(&buf[..n]);
                size += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Stored {
        sha256: hex(&hasher.finalize()),
        size,
    })
}

fn check(sha: &str, digest: &[u8]) -> io::Result<()> {
    if hex(digest) == sha {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "file {sha} is damaged: its bytes do not hash to its name (checked when read back)"
        ),
    ))
}

fn temp_beside(dest: &Path) -> io::Result<PathBuf> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut raw = [0u8; 8];
    getrandom::fill(&mut raw).map_err(|e| io::Error::other(format!("random: {e}")))?;
    Ok(dir.join(format!(".fetch-{}", hex(&raw))))
}

/// An upload's failure: the store's, or reading the local file.
enum UploadError {
    Store(object_store::Error),
    Local(io::Error),
}

impl UploadError {
    fn into_io(self, remote: bool) -> io::Error {
        match self {
            UploadError::Store(e) => error(remote, e),
            UploadError::Local(e) => e,
        }
    }
}

async fn upload(
    store: Arc<dyn ObjectStore>,
    key: Key,
    path: &Path,
    size: u64,
) -> Result<(), UploadError> {
    let mut file = std::fs::File::open(path).map_err(UploadError::Local)?;
    if size <= PART as u64 {
        let mut bytes = Vec::with_capacity(size as usize);
        file.read_to_end(&mut bytes).map_err(UploadError::Local)?;
        store
            .put(&key, PutPayload::from(bytes))
            .await
            .map_err(UploadError::Store)?;
        return Ok(());
    }
    let parts = store
        .put_multipart(&key)
        .await
        .map_err(UploadError::Store)?;
    let mut writer = WriteMultipart::new_with_chunk_size(parts, PART);
    let mut buf = vec![0u8; PART];
    loop {
        let n = match read_full(&mut file, &mut buf) {
            Ok(n) => n,
            Err(e) => {
                // Never completed: no object appears under the name.
                let _ = writer.abort().await;
                return Err(UploadError::Local(e));
            }
        };
        if n == 0 {
            break;
        }
        if let Err(e) = writer.wait_for_capacity(2).await {
            let _ = writer.abort().await;
            return Err(UploadError::Store(e));
        }
        writer.write(&buf[..n]);
    }
    writer.finish().await.map_err(UploadError::Store)?;
    Ok(())
}

fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The store's error as an `io::Error`: a missing file is `NotFound`; any other failure of a
/// remote store means it cannot be used now (`Unavailable`, a 503 on pages).
pub(super) fn error(remote: bool, e: object_store::Error) -> io::Error {
    match e {
        object_store::Error::NotFound { .. } => io::Error::new(io::ErrorKind::NotFound, e),
        e if remote => io::Error::other(Unavailable(e.to_string())),
        // A local folder's error keeps its kind (a full disk is a 503, not a 500).
        e => io::Error::new(io_kind(&e).unwrap_or(io::ErrorKind::Other), e),
    }
}

/// The kind of the first `io::Error` among an error's sources.
fn io_kind(e: &(dyn std::error::Error + 'static)) -> Option<io::ErrorKind> {
    let mut cause = Some(e);
    while let Some(err) = cause {
        if let Some(io) = err.downcast_ref::<io::Error>() {
            return Some(io.kind());
        }
        cause = err.source();
    }
    None
}
