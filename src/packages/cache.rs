//! Packages unpacked for serving: a cache folder per ZIP, named by the ZIP's SHA-256, made on
//! the first launch and shared by every version and cohort that uses the same ZIP. It is only
//! a cache: the ZIP in the programme's version is the truth, and any instance rebuilds it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::curriculum::archive::{self, Limits};
use crate::scorm::zipped;

pub struct Unpacked {
    root: PathBuf,
    /// ZIP path → its SHA-256: a version's files never change, so each is hashed once.
    shas: Mutex<HashMap<PathBuf, String>>,
}

impl Unpacked {
    pub fn new(data_dir: &Path) -> Unpacked {
        Unpacked {
            root: data_dir.join("packages"),
            shas: Mutex::new(HashMap::new()),
        }
    }

    fn sha_of(&self, zip: &Path) -> std::io::Result<String> {
        if let Some(sha) = self.shas.lock().ok().and_then(|m| m.get(zip).cloned()) {
            return Ok(sha);
        }
        let mut file = std::fs::File::open(zip)?;
        let mut hasher = Sha256::new();
        std::io::copy(&mut file, &mut hasher)?;
        let sha = crate::base::digest::hex(&hasher.finalize());
        if let Ok(mut m) = self.shas.lock() {
            m.insert(zip.to_path_buf(), sha.clone());
        }
        Ok(sha)
    }

    /// The folder holding the ZIP's files, unpacked first if needed. Blocking. Two requests
    /// at once both unpack, in folders of their own; the first renamed in place wins.
    pub fn folder(&self, zip: &Path) -> std::io::Result<PathBuf> {
        let sha = self.sha_of(zip)?;
        let dest = self.root.join(&sha);
        if dest.is_dir() {
            return Ok(dest);
        }
        std::fs::create_dir_all(&self.root)?;
        let temp = self.root.join(format!(
            ".{sha}-{}",
            crate::web::random_token(6).unwrap_or_default()
        ));
        std::fs::create_dir_all(&temp)?;
        let len = std::fs::metadata(zip)?.len();
        let limits = Limits {
            max_entries: zipped::LIMITS.max_entries,
            max_file: zipped::LIMITS.max_total,
            max_total: zipped::LIMITS.total_for(len),
        };
        let unpacked = std::fs::File::open(zip).and_then(|f| {
            archive::unpack(std::io::BufReader::new(f), &temp, limits)
                .map_err(|e| std::io::Error::other(e.message()))
        });
        if let Err(e) = unpacked {
            let _ = std::fs::remove_dir_all(&temp);
            return Err(e);
        }
        if std::fs::rename(&temp, &dest).is_err() {
            let _ = std::fs::remove_dir_all(&temp);
        }
        if dest.is_dir() {
            Ok(dest)
        } else {
            Err(std::io::Error::other(
                "package folder missing after unpacking",
            ))
        }
    }
}
