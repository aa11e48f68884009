//! Every file Parcours keeps, on the instance's folder (the default) or on S3-compatible
//! object storage (`PARCOURS_STORAGE_URL`), through the `object_store` crate. Files are named
//! by the SHA-256 of their bytes, written once, and checked when read back. Two shelves:
//! `programmes` (the files of programme versions and drafts: lessons, images, videos,
//! packages) and `uploads` (VAE documents, follow-up attachments, assignment files, CQP
//! certificates). What an instance writes on its own disk besides is a cache (programme
//! versions written out, packages unpacked) or an upload in progress.

mod runtime;
mod shelf;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::prefix::PrefixStore;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, RetryConfig};

pub use shelf::{Shelf, Stored, hash_file};

use crate::config::{FileStore, S3Settings};

/// The two shelves of one deployment.
#[derive(Clone, Debug)]
pub struct Objects {
    pub programmes: Shelf,
    pub uploads: Shelf,
}

/// A remote store that could not be used (unreachable, refusing, timing out).
#[derive(Debug, thiserror::Error)]
#[error("object storage unavailable: {0}")]
pub struct Unavailable(pub String);

/// Whether an error comes from a remote store that cannot be used now.
pub fn is_unavailable(e: &std::io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<Unavailable>())
}

/// Whether `s` can name a file: 64 lowercase hexadecimal digits, nothing else, so a name
/// from a request or a manifest never reaches outside its shelf.
pub fn is_sha(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Objects {
    /// The shelves of `files`; uploads in progress wait under `data_dir/staging` (on S3) or
    /// in the uploads folder's `tmp/` (locally, so a rename keeps them).
    pub fn open(files: &FileStore, data_dir: &Path) -> anyhow::Result<Objects> {
        match files {
            FileStore::Local {
                programmes,
                uploads,
            } => Ok(Objects {
                programmes: local(programmes, &programmes.join("tmp"))?,
                uploads: local(uploads, &uploads.join("tmp"))?,
            }),
            FileStore::S3(s3) => {
                let store: Arc<dyn ObjectStore> = Arc::new(s3_store(s3)?);
                let shelf = |name: &str| {
                    let key = if s3.prefix.is_empty() {
                        name.to_string()
                    } else {
                        format!("{}/{name}", s3.prefix)
                    };
                    Shelf::new(
                        Arc::new(PrefixStore::new(store.clone(), key)),
                        None,
                        data_dir.join("staging").join(name),
                        format!("{}/{name}", s3.url()),
                    )
                };
                Ok(Objects {
                    programmes: shelf("programmes"),
                    uploads: shelf("uploads"),
                })
            }
        }
    }

    pub fn shelves(&self) -> [(&'static str, &Shelf); 2] {
        [("programmes", &self.programmes), ("uploads", &self.uploads)]
    }
}

/// A shelf in the folder `dir` of this machine (tests, the CLI's local side).
pub fn folder(dir: &Path) -> anyhow::Result<Shelf> {
    local(dir, &dir.join("tmp"))
}

fn local(dir: &Path, staging: &Path) -> anyhow::Result<Shelf> {
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("impossible de créer {} : {e}", dir.display()))?;
    let store = LocalFileSystem::new_with_prefix(dir)?.with_fsync(true);
    Ok(Shelf::new(
        Arc::new(store),
        Some(dir.to_path_buf()),
        staging.to_path_buf(),
        dir.display().to_string(),
    ))
}

fn s3_store(s3: &S3Settings) -> anyhow::Result<object_store::aws::AmazonS3> {
    let mut builder = AmazonS3Builder::from_env()
        .with_bucket_name(&s3.bucket)
        .with_region(&s3.region)
        .with_virtual_hosted_style_request(!s3.path_style)
        // A store that does not answer fails the request in seconds, not minutes: the
        // upload is refused with a 503 while the pages without files keep working.
        .with_retry(RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(2),
                base: 2.0,
            },
            max_retries: 3,
            retry_timeout: Duration::from_secs(15),
        })
        .with_client_options(
            ClientOptions::new()
                .with_connect_timeout(Duration::from_secs(3))
                .with_timeout(Duration::from_secs(120))
                .with_allow_http(
                    s3.endpoint
                        .as_deref()
                        .is_some_and(|e| e.starts_with("http://")),
                ),
        );
    if let Some(endpoint) = &s3.endpoint {
        builder = builder.with_endpoint(endpoint);
    }
    if let (Some(key), Some(secret)) = (&s3.access_key, &s3.secret_key) {
        builder = builder
            .with_access_key_id(key)
            .with_secret_access_key(secret);
    }
    Ok(builder.build()?)
}
