//! The entry point for an uploaded ZIP: from its file list and a way to read one file, which
//! kind of package it is and what it launches. The ZIP itself is read by the caller.

use serde::Serialize;

use super::cmi5::{self, AuUrl, Course};
use super::error::PackageError;
use super::manifest::{self, Package};
use super::paths;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Found {
    Scorm(Package),
    Cmi5(Course),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Opened {
    /// The folder holding the manifest: "" at the root, or the one folder a re-zipped export
    /// put everything in (`course/`).
    pub root: String,
    pub found: Found,
}

/// Files that archivers of macOS and Windows add and nobody means.
pub fn is_junk(path: &str) -> bool {
    path.split('/').any(|segment| {
        segment == "__MACOSX"
            || segment == ".DS_Store"
            || segment.starts_with("._")
            || segment.eq_ignore_ascii_case("Thumbs.db")
            || segment.eq_ignore_ascii_case("desktop.ini")
    })
}

/// Where the manifest is: the root, or a single top folder that holds all the rest.
fn root_of(files: &[&str], name: &str) -> Option<String> {
    if files.iter().any(|f| f.eq_ignore_ascii_case(name)) {
        return Some(String::new());
    }
    let first = files.first()?;
    let (top, _) = first.split_once('/')?;
    let prefix = format!("{top}/");
    let all_under = files.iter().all(|f| f.starts_with(&prefix));
    let manifest = format!("{prefix}{name}");
    (all_under && files.iter().any(|f| f.eq_ignore_ascii_case(&manifest))).then_some(prefix)
}

fn read_named<R>(files: &[&str], path: &str, read: &R) -> Result<Vec<u8>, PackageError>
where
    R: Fn(&str) -> Option<Vec<u8>>,
{
    // Names are matched without case: `IMSManifest.xml` exists in the wild.
    let actual = files
        .iter()
        .find(|f| f.eq_ignore_ascii_case(path))
        .copied()
        .unwrap_or(path);
    read(actual).ok_or(PackageError::NoManifest)
}

fn check_launch(files: &[&str], root: &str, launch: &str) -> Result<(), PackageError> {
    let decoded = format!("{root}{}", paths::file_of(launch)).replace("/./", "/");
    // A name that really holds `%20` is found as written.
    let raw = format!(
        "{root}{}",
        launch.split(['?', '#']).next().unwrap_or_default()
    );
    if files.iter().any(|f| *f == decoded || *f == raw) {
        Ok(())
    } else {
        Err(PackageError::LaunchMissing(launch.to_string()))
    }
}

/// Opens a package from the names of its entries (ZIP order; folders may end with `/`) and a
/// reader of one entry by name.
pub fn open<R>(entries: &[String], read: R) -> Result<Opened, PackageError>
where
    R: Fn(&str) -> Option<Vec<u8>>,
{
    let files: Vec<&str> = entries
        .iter()
        .map(String::as_str)
        .filter(|f| !f.ends_with('/') && !is_junk(f))
        .collect();
    // An entry named `../x` or `/etc/x` would be written outside the package's folder.
    if let Some(bad) = entries.iter().find(|e| paths::check_relative(e).is_err()) {
        return Err(PackageError::Escapes(bad.clone()));
    }
    if let Some(root) = root_of(&files, "imsmanifest.xml") {
        let bytes = read_named(&files, &format!("{root}imsmanifest.xml"), &read)?;
        let package = manifest::parse(&bytes)?;
        for sco in &package.scos {
            check_launch(&files, &root, &sco.launch)?;
        }
        return Ok(Opened {
            root,
            found: Found::Scorm(package),
        });
    }
    if let Some(root) = root_of(&files, "cmi5.xml") {
        let bytes = read_named(&files, &format!("{root}cmi5.xml"), &read)?;
        let course = cmi5::parse(&bytes)?;
        for au in &course.aus {
            if let AuUrl::Relative(url) = &au.url {
                check_launch(&files, &root, url)?;
            }
        }
        return Ok(Opened {
            root,
            found: Found::Cmi5(course),
        });
    }
    Err(PackageError::NoManifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junk_is_recognised() {
        assert!(is_junk("__MACOSX/._imsmanifest.xml"));
        assert!(is_junk("course/.DS_Store"));
        assert!(is_junk("Thumbs.db"));
        assert!(!is_junk("course/index.html"));
    }

    #[test]
    fn root_or_one_folder() {
        assert_eq!(
            root_of(&["imsmanifest.xml", "a.html"], "imsmanifest.xml"),
            Some(String::new())
        );
        assert_eq!(
            root_of(&["c/imsmanifest.xml", "c/a.html"], "imsmanifest.xml"),
            Some("c/".into())
        );
        assert_eq!(
            root_of(&["c/imsmanifest.xml", "d/a.html"], "imsmanifest.xml"),
            None
        );
        assert_eq!(
            root_of(&["c/d/imsmanifest.xml", "c/a.html"], "imsmanifest.xml"),
            None
        );
        assert_eq!(root_of(&[], "imsmanifest.xml"), None);
    }

    #[test]
    fn entries_leaving_the_package_are_refused() {
        for bad in ["../evil.html", "/etc/cron.d/x", "a/../../x", "C:/x"] {
            let entries = vec!["imsmanifest.xml".to_string(), bad.to_string()];
            assert_eq!(
                open(&entries, |_| None),
                Err(PackageError::Escapes(bad.to_string()))
            );
        }
    }

    #[test]
    fn nothing_to_read_is_no_manifest() {
        let entries = vec![
            "index.html".to_string(),
            "__MACOSX/imsmanifest.xml".to_string(),
        ];
        assert_eq!(open(&entries, |_| None), Err(PackageError::NoManifest));
    }
}
