//! The signing secret kept beside the data when none is configured.

use std::path::Path;

use super::{ConfigError, bad};

/// The signing secret is generated once and kept beside the data, so sessions survive restarts.
pub(super) fn load_or_create_secret(data_dir: &Path) -> Result<Vec<u8>, ConfigError> {
    let path = data_dir.join("secret.key");
    if let Ok(text) = std::fs::read_to_string(&path) {
        return checked_secret(&path, &text);
    }
    std::fs::create_dir_all(data_dir).map_err(|e| {
        bad(
            "PARCOURS_DATA_DIR",
            format!("impossible de créer {} : {e}", data_dir.display()),
        )
    })?;
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw)
        .map_err(|e| bad("PARCOURS_SECRET", format!("aléa indisponible : {e}")))?;
    let hex = crate::base::digest::hex(&raw);
    // Written whole beside, then linked into place: an instance starting at the same moment
    // sees either no file or a complete one, never an empty one. The first link wins.
    let tmp = data_dir.join(format!("secret.key.{}.tmp", &hex[..16]));
    let written = write_private(&tmp, &hex).and_then(|()| std::fs::hard_link(&tmp, &path));
    let _ = std::fs::remove_file(&tmp);
    match written {
        Ok(()) => Ok(hex.into_bytes()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| bad("PARCOURS_SECRET", format!("{} : {e}", path.display())))?;
            checked_secret(&path, &text)
        }
        Err(e) => Err(bad(
            "PARCOURS_DATA_DIR",
            format!("impossible d'écrire {} : {e}", path.display()),
        )),
    }
}

fn checked_secret(path: &Path, text: &str) -> Result<Vec<u8>, ConfigError> {
    let text = text.trim();
    if text.len() < 32 {
        return Err(bad(
            "PARCOURS_SECRET",
            format!("{} est trop court (32 caractères minimum)", path.display()),
        ));
    }
    Ok(text.as_bytes().to_vec())
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_starting_together_agree_on_one_complete_secret() {
        // Before the secret was linked into place whole, a reader could find the file empty.
        for _ in 0..50 {
            let dir = tempfile::tempdir().unwrap();
            let secrets: Vec<Vec<u8>> = (0..4)
                .map(|_| {
                    let dir = dir.path().to_path_buf();
                    std::thread::spawn(move || load_or_create_secret(&dir).unwrap())
                })
                .collect::<Vec<_>>()
                .into_iter()
                .map(|t| t.join().unwrap())
                .collect();
            assert_eq!(secrets[0].len(), 64);
            assert!(secrets.iter().all(|s| s == &secrets[0]));
            let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
            assert_eq!(left.len(), 1, "only secret.key is left");
        }
    }
}
