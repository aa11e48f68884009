//! VAE documents: a multipart upload streamed to a temporary file under a size limit, its
//! content sniffed (PDF, JPEG or PNG, whatever its name says), image dimensions read from the
//! header, then moved into place under its SHA-256. The user's file name never names a file.
//! Follow-up attachments and assignment files go through the same layer; an assignment also
//! takes office documents (`curriculum::assignments::files::check_work`).

use std::path::{Path, PathBuf};

use actix_multipart::Multipart;
use actix_web::HttpResponse;
use actix_web::http::header;
use futures_util::StreamExt;

use crate::objects::{Shelf, Stored};
use crate::storage::spool::Spool;
use crate::web::{AppError, AppResult};

/// Images larger than this (width × height) are refused: a small file that would decode to
/// gigabytes is a decompression bomb.
pub const MAX_PIXELS: u64 = 60_000_000;
pub const MAX_SIDE: u64 = 20_000;
const HEAD_BYTES: usize = 256 * 1024;
const MAX_TEXT_FIELD: usize = 64 * 1024;
const MAX_FIELDS: usize = 300;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    Pdf,
    Jpeg,
    Png,
    /// Office Open XML and OpenDocument text and spreadsheets (assignments only).
    Docx,
    Xlsx,
    Odt,
    Ods,
    /// A programme exported as a ZIP, imported by its authors (`curriculum::import_pages`).
    Zip,
}

impl FileType {
    pub fn mime(self) -> &'static str {
        match self {
            FileType::Pdf => "application/pdf",
            FileType::Jpeg => "image/jpeg",
            FileType::Png => "image/png",
            FileType::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileType::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileType::Odt => "application/vnd.oasis.opendocument.text",
            FileType::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            FileType::Zip => "application/zip",
        }
    }

    /// The extensions a file of this type may have, the usual one first.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            FileType::Pdf => &["pdf"],
            FileType::Jpeg => &["jpg", "jpeg"],
            FileType::Png => &["png"],
            FileType::Docx => &["docx"],
            FileType::Xlsx => &["xlsx"],
            FileType::Odt => &["odt"],
            FileType::Ods => &["ods"],
            FileType::Zip => &["zip"],
        }
    }

    pub fn from_mime(mime: &str) -> Option<FileType> {
        use FileType::*;
        [Pdf, Jpeg, Png, Docx, Xlsx, Odt, Ods, Zip]
            .into_iter()
            .find(|t| t.mime() == mime)
    }
}

/// The type of a file from its first bytes, or `None` for anything else.
pub fn sniff(head: &[u8]) -> Option<FileType> {
    if head.starts_with(b"%PDF-") {
        Some(FileType::Pdf)
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(FileType::Jpeg)
    } else if head.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(FileType::Png)
    } else {
        None
    }
}

/// Width and height declared by an image's header.
pub fn dimensions(kind: FileType, head: &[u8]) -> Option<(u64, u64)> {
    match kind {
        FileType::Pdf
        | FileType::Docx
        | FileType::Xlsx
        | FileType::Odt
        | FileType::Ods
        | FileType::Zip => None,
        FileType::Png => {
            // Signature (8), IHDR length (4), "IHDR" (4), width (4), height (4).
            if head.len() < 24 || &head[12..16] != b"IHDR" {
                return None;
            }
            let w = u32::from_be_bytes([head[16], head[17], head[18], head[19]]);
            let h = u32::from_be_bytes([head[20], head[21], head[22], head[23]]);
            Some((u64::from(w), u64::from(h)))
        }
        FileType::Jpeg => {
            let mut i = 2;
            while i + 9 < head.len() {
                if head[i] != 0xFF {
                    return None;
                }
                let marker = head[i + 1];
                if marker == 0xFF {
                    i += 1;
                    continue;
                }
                let len = usize::from(u16::from_be_bytes([head[i + 2], head[i + 3]]));
                // Start of frame (baseline, progressive…), not DHT (C4), JPG (C8), DAC (CC).
                if (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker) {
                    let h = u16::from_be_bytes([head[i + 5], head[i + 6]]);
                    let w = u16::from_be_bytes([head[i + 7], head[i + 8]]);
                    return Some((u64::from(w), u64::from(h)));
                }
                i += 2 + len;
            }
            None
        }
    }
}

/// Why content is refused, in French.
pub fn check_content(head: &[u8]) -> Result<FileType, String> {
    let kind = sniff(head).ok_or_else(|| {
        "Le fichier n'est ni un PDF, ni une image JPEG ou PNG (son contenu a été vérifié, \
         pas seulement son nom)."
            .to_string()
    })?;
    if kind != FileType::Pdf {
        let Some((w, h)) = dimensions(kind, head) else {
            return Err("L'image est illisible : son en-tête est incomplet.".into());
        };
        if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE || w * h > MAX_PIXELS {
            return Err(format!(
                "L'image annonce {w} × {h} pixels : c'est trop pour un document scanné."
            ));
        }
    }
    Ok(kind)
}

/// A file received and checked, still in the temporary folder; removed on drop unless kept.
#[derive(Debug)]
pub struct Staged {
    temp: Option<PathBuf>,
    pub sha256: String,
    pub size: u64,
    pub kind: FileType,
    pub file_name: String,
    /// The thread that wrote it (see `storage::spool`).
    pub writer: std::thread::ThreadId,
}

impl Staged {
    /// Removes the temporary file on the blocking pool.
    pub async fn discard(self) {
        let _ = actix_web::web::block(move || drop(self)).await;
    }

    /// Where the file waits, until it is kept or dropped: to be read, never written.
    pub fn path(&self) -> Option<&Path> {
        self.temp.as_deref()
    }

    /// Keeps the file on the uploads shelf under its SHA-256 (whole or not at all), then
    /// removes the waiting copy. The same content uploaded twice is kept once. Blocking.
    pub fn keep(mut self, shelf: &Shelf) -> std::io::Result<()> {
        if let Some(temp) = self.temp.take() {
            let stored = Stored {
                sha256: self.sha256.clone(),
                size: self.size,
            };
            let kept = shelf.put_file_as(&temp, &stored);
            let _ = std::fs::remove_file(&temp);
            kept?;
        }
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(t) = self.temp.take() {
            let _ = std::fs::remove_file(t);
        }
    }
}

/// The bytes of a kept file, checked against its name (a hex digest: nothing else is ever
/// read). Blocking.
pub fn read_kept(shelf: &Shelf, sha256: &str) -> AppResult<Vec<u8>> {
    if !crate::objects::is_sha(sha256) {
        return Err(AppError::NotFound);
    }
    shelf.read(sha256).map_err(|e| AppError::io("kept file", e))
}

/// A kept file as a download, under an ASCII version of the name its sender gave it.
pub fn attachment_response(file_name: &str, mime: &str, bytes: Vec<u8>) -> HttpResponse {
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    HttpResponse::Ok()
        .content_type(mime)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{ascii}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(bytes)
}

/// Removes uploads left half-written in the staging folder by a process that stopped
/// mid-upload (older than an hour, so another instance's upload in progress is left alone).
pub fn clean_tmp(shelf: &Shelf) -> usize {
    remove_older(shelf.staging(), std::time::Duration::from_secs(3600))
}

/// Removes what `dir` holds (files, and folders with all they hold) last changed more than
/// `age` ago; returns how many.
pub fn remove_older(dir: &Path, age: std::time::Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            e.metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|old| old > age)
        })
        .filter(|e| match e.file_type() {
            Ok(t) if t.is_dir() => std::fs::remove_dir_all(e.path()).is_ok(),
            _ => std::fs::remove_file(e.path()).is_ok(),
        })
        .count()
}

/// A multipart form: its text fields in order, and its files (by field name).
#[derive(Debug, Default)]
pub struct Upload {
    pub fields: Vec<(String, String)>,
    pub files: Vec<(String, Staged)>,
}

impl Upload {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Bytes of the files received.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|(_, f)| f.size).sum()
    }

    /// Removes the files received, on the blocking pool.
    pub async fn discard(self) {
        let _ = actix_web::web::block(move || drop(self)).await;
    }
}

fn too_big(limit: u64) -> AppError {
    AppError::invalid(
        "file",
        format!(
            "Le fichier dépasse la taille autorisée de {} Mo.",
            limit / 1_048_576
        ),
    )
}

/// Refuses a body announced as larger than `files` files at the limit before reading any of it.
pub fn check_length(req: &actix_web::HttpRequest, limit: u64, files: u64) -> AppResult<()> {
    let announced = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match announced {
        // Room for the other fields of the form.
        Some(n) if n > limit * files + 256 * 1024 => Err(too_big(limit)),
        _ => Ok(()),
    }
}

/// Reads a multipart form: text fields in memory (small), each file streamed to
/// `dir/tmp/` while counted, refused past `limit` bytes or if its content is not an accepted
/// document. The disk work (writes, hash, sync) runs on the blocking pool, never on this
/// async worker. On any error, nothing is left behind.
pub async fn read(
    payload: Multipart,
    shelf: &Shelf,
    limit: u64,
    max_files: usize,
) -> AppResult<Upload> {
    read_with(payload, shelf, limit, max_files, check_content).await
}

/// `read`, with the content check of the caller (`check_content`, or an assignment's).
pub async fn read_with(
    mut payload: Multipart,
    shelf: &Shelf,
    limit: u64,
    max_files: usize,
    accept: fn(&[u8]) -> Result<FileType, String>,
) -> AppResult<Upload> {
    let tmp_dir = shelf.staging().to_path_buf();
    let mut upload = Upload::default();
    while let Some(field) = payload.next().await {
        let mut field =
            field.map_err(|e| AppError::invalid("file", format!("Envoi illisible : {e}")))?;
        if upload.fields.len() + upload.files.len() > MAX_FIELDS {
            return Err(AppError::invalid("form", "Formulaire trop long."));
        }
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_string);
        let Some(file_name) = file_name else {
            let mut bytes = Vec::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk
                    .map_err(|e| AppError::invalid("form", format!("Envoi interrompu : {e}")))?;
                if bytes.len() + chunk.len() > MAX_TEXT_FIELD {
                    return Err(AppError::invalid(
                        "form",
                        "Un champ du formulaire est trop long.",
                    ));
                }
                bytes.extend_from_slice(&chunk);
            }
            if bytes.contains(&0) {
                return Err(crate::web::csrf::nul_refused());
            }
            upload
                .fields
                .push((name, String::from_utf8_lossy(&bytes).into_owned()));
            continue;
        };
        if upload.files.len() >= max_files {
            return Err(AppError::invalid(
                "file",
                "Trop de fichiers dans un seul envoi.",
            ));
        }
        let display =
            super::rules::display_name(&file_name).map_err(|m| AppError::invalid("file", m))?;
        let temp = tmp_dir.join(format!("{}.part", crate::web::random_token(12)?));
        let mut spool = Spool::create(temp.clone());
        let mut size = 0u64;
        let mut head = Vec::new();
        let mut refusal = None;
        while let Some(chunk) = field.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    refusal = Some(AppError::invalid("file", format!("Envoi interrompu : {e}")));
                    break;
                }
            };
            size += chunk.len() as u64;
            if size > limit {
                refusal = Some(too_big(limit));
                break;
            }
            if head.len() < HEAD_BYTES {
                let take = (HEAD_BYTES - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            if spool.write(chunk).await.is_err() {
                // The writer stopped (a full disk…): `finish` says why.
                break;
            }
        }
        if let Some(e) = refusal {
            spool.abort().await;
            return Err(e);
        }
        let written = spool
            .finish()
            .await
            .map_err(|e| AppError::io("upload temp file", e))?;
        let mut staged = Staged {
            temp: Some(temp),
            sha256: written.sha256,
            size: written.size,
            kind: FileType::Pdf,
            file_name: display,
            writer: written.writer,
        };
        if staged.size == 0 && file_name.is_empty() {
            // A file input left empty.
            staged.discard().await;
            continue;
        }
        if staged.size == 0 {
            staged.discard().await;
            return Err(AppError::invalid("file", "Le fichier envoyé est vide."));
        }
        match accept(&head) {
            Ok(kind) => {
                staged.kind = kind;
                upload.files.push((name, staged));
            }
            Err(m) => {
                staged.discard().await;
                return Err(AppError::invalid("file", m));
            }
        }
    }
    Ok(upload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut v = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
        v.extend_from_slice(b"IHDR");
        v.extend_from_slice(&w.to_be_bytes());
        v.extend_from_slice(&h.to_be_bytes());
        v.extend_from_slice(&[8, 6, 0, 0, 0]);
        v
    }

    #[test]
    fn content_decides_not_the_name() {
        assert_eq!(check_content(b"%PDF-1.7\n"), Ok(FileType::Pdf));
        assert!(check_content(b"MZ\x90\x00 executable").is_err());
        assert!(check_content(b"\x7fELF\x02\x01").is_err());
        assert!(check_content(b"PK\x03\x04 zip").is_err());
        assert_eq!(check_content(&png(2480, 3508)), Ok(FileType::Png));
    }

    #[test]
    fn absurd_images_are_refused() {
        assert!(check_content(&png(100_000, 100_000)).is_err());
        assert!(check_content(&png(0, 10)).is_err());
        assert!(check_content(&png(10_000, 10_000)).is_err());
    }

    /// A multipart body as a browser sends it, in small chunks like the network gives them.
    fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> Multipart {
        let boundary = "XBOUNDARYX";
        let mut body = Vec::new();
        for (name, file, content) in parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            let disposition = match file {
                Some(f) => format!("form-data; name=\"{name}\"; filename=\"{f}\""),
                None => format!("form-data; name=\"{name}\""),
            };
            body.extend_from_slice(
                format!("Content-Disposition: {disposition}\r\n\r\n").as_bytes(),
            );
            body.extend_from_slice(content);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let chunks: Vec<Result<actix_web::web::Bytes, actix_web::error::PayloadError>> = body
            .chunks(4096)
            .map(|c| Ok(actix_web::web::Bytes::copy_from_slice(c)))
            .collect();
        let mut headers = actix_web::http::header::HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_str(&format!("multipart/form-data; boundary={boundary}"))
                .unwrap(),
        );
        Multipart::new(&headers, futures_util::stream::iter(chunks))
    }

    #[test]
    fn an_upload_is_written_off_the_async_worker() {
        // Before, the file was created, written and synced on the worker reading the request,
        // so every other request of that worker waited for the disk.
        let dir = tempfile::tempdir().unwrap();
        let mut pdf = b"%PDF-1.4\n".to_vec();
        pdf.extend(std::iter::repeat_n(b'x', 300_000));
        let worker = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let up = worker
            .block_on(async {
                let form = multipart(&[
                    ("csrf_token", None, b"t"),
                    ("doc_cerfa", Some("cerfa.pdf"), &pdf),
                ]);
                read(
                    form,
                    &crate::objects::folder(dir.path()).unwrap(),
                    1 << 20,
                    1,
                )
                .await
            })
            .unwrap();
        assert_eq!(up.get("csrf_token"), Some("t"));
        let (_, staged) = &up.files[0];
        assert_eq!(staged.size, pdf.len() as u64);
        assert_eq!(staged.kind, FileType::Pdf);
        assert_ne!(staged.writer, std::thread::current().id());
    }

    #[test]
    fn a_refused_upload_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let worker = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let exe = b"MZ\x90\x00".repeat(1000);
        for (content, limit) in [(&exe, 1 << 20), (&vec![b'%'; 5000], 1000)] {
            let result = worker.block_on(async {
                read(
                    multipart(&[("f", Some("a.pdf"), content)]),
                    &crate::objects::folder(dir.path()).unwrap(),
                    limit,
                    1,
                )
                .await
            });
            assert!(result.is_err());
            let left: Vec<_> = std::fs::read_dir(dir.path().join("tmp"))
                .map(|d| d.flatten().collect())
                .unwrap_or_default();
            assert!(left.is_empty(), "{left:?}");
        }
    }

    #[test]
    fn jpeg_dimensions_from_the_frame_header() {
        let mut j = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00];
        j.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08, 0x0B, 0xB8, 0x07, 0xD0, 0x03]);
        j.extend_from_slice(&[0; 16]);
        assert_eq!(dimensions(FileType::Jpeg, &j), Some((2000, 3000)));
        assert_eq!(check_content(&j), Ok(FileType::Jpeg));
        j[13] = 0xFF;
        j[14] = 0xFF;
        j[15] = 0xFF;
        j[16] = 0xFF;
        assert!(check_content(&j).is_err());
    }
}
