//! Where files are kept: the local folder (the default) or S3-compatible object storage,
//! named by `PARCOURS_STORAGE_URL` (`s3://bucket/prefix`) and its settings.

use std::path::{Path, PathBuf};

use super::sources::Sources;
use super::{ConfigError, bad};

/// The backend of `crate::objects`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileStore {
    /// Two folders of the instance's disk, as they always were.
    Local {
        programmes: PathBuf,
        uploads: PathBuf,
    },
    S3(S3Settings),
}

/// An S3-compatible bucket (AWS, MinIO, Garage, Ceph, SeaweedFS, s3s-fs…).
#[derive(Clone, PartialEq, Eq)]
pub struct S3Settings {
    pub bucket: String,
    /// Keys start with this (no leading or trailing '/'; may be empty).
    pub prefix: String,
    /// `http(s)://host:port` of a store other than AWS; none: AWS in `region`.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    /// `https://endpoint/bucket/key` rather than `https://bucket.endpoint/key`: what most
    /// stores outside AWS expect.
    pub path_style: bool,
}

impl std::fmt::Debug for S3Settings {
    // The secret key never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .field("path_style", &self.path_style)
            .finish_non_exhaustive()
    }
}

impl S3Settings {
    /// `s3://bucket/prefix`, as the setting is written.
    pub fn url(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

/// `s3://bucket/prefix` → (bucket, prefix).
pub fn parse_s3_url(raw: &str) -> Result<(String, String), String> {
    let Some(rest) = raw.trim().strip_prefix("s3://") else {
        return Err(format!(
            "« {raw} » doit commencer par s3:// (ex. s3://parcours/production)"
        ));
    };
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let valid_bucket = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if !valid_bucket {
        return Err(format!(
            "« {bucket} » n'est pas un nom de bucket (3 à 63 minuscules, chiffres, « - » ou « . »)"
        ));
    }
    let prefix = prefix.trim_matches('/');
    if prefix.split('/').any(|s| s == ".." || s == ".") || prefix.contains("//") {
        return Err(format!("préfixe « {prefix} » invalide"));
    }
    Ok((bucket.to_string(), prefix.to_string()))
}

pub(super) fn file_store(
    src: &Sources,
    data_dir: &Path,
    uploads: &Path,
) -> Result<FileStore, ConfigError> {
    let file = &src.file;
    let Some(url) = src.text("PARCOURS_STORAGE_URL", &file.storage_url) else {
        return Ok(FileStore::Local {
            programmes: data_dir.join("programmes").join("blobs"),
            uploads: uploads.to_path_buf(),
        });
    };
    Ok(FileStore::S3(s3_settings(
        src,
        &url,
        "PARCOURS_STORAGE_URL",
    )?))
}

/// The bucket and prefix of `url` (the setting named `setting`, for its error) with the
/// other `PARCOURS_STORAGE_*` settings: the server's store, or `storage migrate --to`.
pub(super) fn s3_settings(
    src: &Sources,
    url: &str,
    setting: &'static str,
) -> Result<S3Settings, ConfigError> {
    let file = &src.file;
    let (bucket, prefix) = parse_s3_url(url).map_err(|m| bad(setting, m))?;
    let endpoint = src.text("PARCOURS_STORAGE_ENDPOINT", &file.storage_endpoint);
    if let Some(e) = &endpoint {
        super::sections::web_url("PARCOURS_STORAGE_ENDPOINT", e)?;
    }
    let access_key = src.text("PARCOURS_STORAGE_ACCESS_KEY", &file.storage_access_key);
    let secret_key = src.text("PARCOURS_STORAGE_SECRET_KEY", &file.storage_secret_key);
    if access_key.is_some() != secret_key.is_some() {
        return Err(bad(
            "PARCOURS_STORAGE_SECRET_KEY",
            "la clé d'accès et la clé secrète vont ensemble : donnez les deux, ou aucune \
             (les identifiants viennent alors de l'environnement AWS)",
        ));
    }
    Ok(S3Settings {
        bucket,
        prefix,
        endpoint: endpoint.map(|e| e.trim_end_matches('/').to_string()),
        region: src
            .text("PARCOURS_STORAGE_REGION", &file.storage_region)
            .unwrap_or_else(|| "us-east-1".into()),
        access_key,
        secret_key,
        path_style: src.flag("PARCOURS_STORAGE_PATH_STYLE", file.storage_path_style, true)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_s3_url_names_a_bucket_and_a_prefix() {
        assert_eq!(
            parse_s3_url("s3://parcours/prod/"),
            Ok(("parcours".into(), "prod".into()))
        );
        assert_eq!(
            parse_s3_url("s3://parcours"),
            Ok(("parcours".into(), String::new()))
        );
        for bad in [
            "https://parcours/x",
            "s3://P",
            "s3://Majuscules",
            "s3://ok-bucket/../x",
            "s3://ok-bucket/a//b",
        ] {
            assert!(parse_s3_url(bad).is_err(), "{bad}");
        }
    }
}
