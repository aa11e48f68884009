//! A package as the organism sends it, a ZIP, checked from its central directory before a
//! byte is unpacked: what it is (`package::open`), and nothing that could leave its folder,
//! link elsewhere or blow up on disk. The unpacking itself counts the real bytes again.

use std::io::{Read, Seek};

use super::error::PackageError;
use super::package::{self, Opened};

/// What a package may hold once unpacked.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_entries: usize,
    pub max_total: u64,
    /// Unpacked bytes per byte of ZIP: media barely compress, text ten times; a bomb, thousands.
    pub max_ratio: u64,
}

/// Generous for real packages (Storyline exports with video weigh hundreds of megabytes).
pub const LIMITS: Limits = Limits {
    max_entries: 20_000,
    max_total: 4 << 30,
    max_ratio: 200,
};

impl Limits {
    /// The most bytes a ZIP of `zip_bytes` may unpack to.
    pub fn total_for(&self, zip_bytes: u64) -> u64 {
        self.max_total
            .min(zip_bytes.saturating_mul(self.max_ratio))
            .max(1 << 20)
    }
}

/// What a checked package is: its manifest's content, and its size once unpacked.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub opened: Opened,
    pub files: usize,
    pub unpacked: u64,
}

/// Reads the ZIP's directory and manifest: names, links, counts and declared sizes, then
/// which package it is. `zip_bytes` is the archive's own size (for the ratio).
pub fn inspect<R: Read + Seek>(
    reader: R,
    zip_bytes: u64,
    limits: Limits,
) -> Result<Checked, PackageError> {
    let mut zip = zip::ZipArchive::new(reader).map_err(|_| PackageError::NotAZip)?;
    if zip.len() > limits.max_entries {
        return Err(PackageError::TooManyFiles(limits.max_entries));
    }
    let max_total = limits.total_for(zip_bytes);
    let mut names = Vec::with_capacity(zip.len());
    let mut total = 0u64;
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(|_| PackageError::NotAZip)?;
        let name = entry.name().replace('\\', "/");
        if entry.is_symlink() {
            return Err(PackageError::Link(name));
        }
        if name.contains('\0') || name.contains(':') {
            return Err(PackageError::Escapes(name));
        }
        total = total.saturating_add(entry.size());
        if total > max_total {
            return Err(PackageError::Bomb(max_total >> 20));
        }
        names.push(name);
    }
    let files = names.iter().filter(|n| !n.ends_with('/')).count();
    // `open` reads through a shared reference; the ZIP reads through a mutable one.
    let zip = std::cell::RefCell::new(zip);
    let read = |name: &str| -> Option<Vec<u8>> {
        let mut zip = zip.borrow_mut();
        let entry = zip.by_name(name).ok()?;
        let mut out = Vec::new();
        // A manifest is small: its claimed size is not trusted.
        entry.take(16 << 20).read_to_end(&mut out).ok()?;
        Some(out)
    };
    let opened = package::open(&names, read)?;
    Ok(Checked {
        opened,
        files,
        unpacked: total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    const MANIFEST: &str = r#"<?xml version="1.0"?>
<manifest identifier="m" xmlns="http://www.imsglobal.org/xsd/imscp_rootv1p1p2"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="o"><organization identifier="o"><title>Cours</title>
    <item identifier="i1" identifierref="r1"><title>Un</title></item>
  </organization></organizations>
  <resources><resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="index.html">
    <file href="index.html"/></resource></resources>
</manifest>"#;

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let o = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, body) in entries {
            w.start_file(*name, o).unwrap();
            w.write_all(body).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn check(bytes: Vec<u8>) -> Result<Checked, PackageError> {
        let len = bytes.len() as u64;
        inspect(Cursor::new(bytes), len, LIMITS)
    }

    #[test]
    fn a_small_package_is_read() {
        let c = check(zip_of(&[
            ("imsmanifest.xml", MANIFEST.as_bytes()),
            ("index.html", b"<html></html>"),
        ]))
        .unwrap();
        assert_eq!(c.files, 2);
        assert!(matches!(c.opened.found, package::Found::Scorm(_)));
    }

    #[test]
    fn not_a_zip_and_bombs_are_refused() {
        assert_eq!(check(b"%PDF-1.7".to_vec()), Err(PackageError::NotAZip));
        let zeros = vec![0u8; 64 << 20];
        let r = check(zip_of(&[
            ("imsmanifest.xml", MANIFEST.as_bytes()),
            ("index.html", b"<html></html>"),
            ("zeros.bin", &zeros),
        ]));
        assert!(matches!(r, Err(PackageError::Bomb(_))), "{r:?}");
    }

    #[test]
    fn a_launch_file_outside_the_zip_is_refused() {
        let r = check(zip_of(&[("imsmanifest.xml", MANIFEST.as_bytes())]));
        assert_eq!(r, Err(PackageError::LaunchMissing("index.html".into())));
    }

    #[test]
    fn too_many_files_are_refused() {
        let names: Vec<String> = (0..30).map(|i| format!("f{i}.txt")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
        let bytes = zip_of(&entries);
        let len = bytes.len() as u64;
        let limits = Limits {
            max_entries: 10,
            ..LIMITS
        };
        assert_eq!(
            inspect(Cursor::new(bytes), len, limits),
            Err(PackageError::TooManyFiles(10))
        );
    }
}
