//! Assembling a pack, pure over files in memory: a ZIP (deflate) of the files and a
//! `SHA256SUMS` manifest in exactly the format `sha256sum -c` checks.

use crate::base::digest::sha256_hex;
use std::io::Write;

pub const MANIFEST: &str = "SHA256SUMS";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    pub path: String,
    pub bytes: Vec<u8>,
}

impl File {
    pub fn new(path: impl Into<String>, bytes: impl Into<Vec<u8>>) -> File {
        File {
            path: path.into(),
            bytes: bytes.into(),
        }
    }
}

/// `<64 hex>  <path>` per file, in the order given.
pub fn manifest(files: &[File]) -> String {
    files
        .iter()
        .map(|f| format!("{}  {}\n", sha256_hex(&f.bytes), f.path))
        .collect()
}

/// Makes every path unique (`…-2.pdf`), keeping the order: two sessions of one module in
/// one half-day must not overwrite each other.
pub fn unique_paths(files: &mut [File]) {
    let mut seen = std::collections::HashSet::new();
    for f in files.iter_mut() {
        if seen.insert(f.path.clone()) {
            continue;
        }
        let (stem, ext) = match f.path.rsplit_once('.') {
            Some((s, e)) if !s.is_empty() && !e.contains('/') => (s.to_string(), format!(".{e}")),
            _ => (f.path.clone(), String::new()),
        };
        let mut n = 2;
        while !seen.insert(format!("{stem}-{n}{ext}")) {
            n += 1;
        }
        f.path = format!("{stem}-{n}{ext}");
    }
}

/// The ZIP of the files followed by their manifest, every entry dated `at` (Paris time).
pub fn zip(mut files: Vec<File>, at: chrono::NaiveDateTime) -> zip::result::ZipResult<Vec<u8>> {
    use chrono::{Datelike, Timelike};
    unique_paths(&mut files);
    let sums = manifest(&files);
    files.push(File::new(MANIFEST, sums));
    let stamp = zip::DateTime::from_date_and_time(
        at.year().clamp(1980, 2107) as u16,
        at.month() as u8,
        at.day() as u8,
        at.hour() as u8,
        at.minute() as u8,
        at.second() as u8,
    )
    .unwrap_or_default();
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(stamp)
        .unix_permissions(0o644);
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for f in &files {
        w.start_file(f.path.as_str(), options)?;
        w.write_all(&f.bytes)?;
    }
    Ok(w.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn at() -> chrono::NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 2)
            .unwrap()
            .and_hms_opt(16, 5, 0)
            .unwrap()
    }

    #[test]
    fn the_manifest_has_the_sha256sum_format() {
        let m = manifest(&[File::new("a.txt", "abc"), File::new("d/b.csv", "")]);
        assert_eq!(
            m,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  a.txt\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  d/b.csv\n"
        );
    }

    #[test]
    fn duplicate_paths_get_a_number() {
        let mut files = vec![
            File::new("e/x.pdf", "1"),
            File::new("e/x.pdf", "2"),
            File::new("e/x.pdf", "3"),
            File::new("LISEZMOI", "4"),
            File::new("LISEZMOI", "5"),
        ];
        unique_paths(&mut files);
        let paths: Vec<_> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "e/x.pdf",
                "e/x-2.pdf",
                "e/x-3.pdf",
                "LISEZMOI",
                "LISEZMOI-2"
            ]
        );
    }

    #[test]
    fn the_zip_holds_every_file_compressed_and_its_manifest_last() {
        let big = "ligne de texte répétée\n".repeat(500);
        let files = vec![
            File::new("LISEZMOI.txt", big.clone()),
            File::new("distanciel/activite.csv", "a;b\n"),
        ];
        let bytes = zip(files.clone(), at()).unwrap();
        assert_eq!(bytes, zip(files.clone(), at()).unwrap(), "deterministic");
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), 3);
        let names: Vec<String> = (0..3)
            .map(|i| archive.by_index(i).unwrap().name().to_string())
            .collect();
        assert_eq!(names, ["LISEZMOI.txt", "distanciel/activite.csv", MANIFEST]);
        let mut readme = archive.by_index(0).unwrap();
        assert_eq!(readme.compression(), zip::CompressionMethod::Deflated);
        assert!(readme.compressed_size() < readme.size() / 10);
        let mut text = String::new();
        readme.read_to_string(&mut text).unwrap();
        assert_eq!(text, big);
        drop(readme);
        let mut sums = String::new();
        archive
            .by_name(MANIFEST)
            .unwrap()
            .read_to_string(&mut sums)
            .unwrap();
        assert_eq!(sums, manifest(&files));
    }
}
