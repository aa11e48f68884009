//! An assignment's files: what they may be (checked by content), then counted against the
//! trainee's and her organism's quotas and kept under their digest like follow-up
//! attachments. Blocking: runs inside `State::db`.

use super::rules;
use super::store::NewFile;
use crate::config::StorageSettings;
use crate::db::DbConn;
use crate::storage::{self, quota, quota::Holder};
use crate::vae::documents::{self, FileType, Staged};
use crate::web::{AppError, AppResult};

/// What an assignment takes: a document as the VAE's `check_content` takes it, or a
/// word-processing or spreadsheet file. Those are ZIP archives: `infer` reads the names of their first entries
/// (`word/`, `xl/`, the OpenDocument `mimetype`); nothing is unpacked. Old binary formats
/// (`.doc`, `.xls`) and presentations are refused.
pub fn check_work(head: &[u8]) -> Result<FileType, String> {
    if documents::sniff(head).is_some() {
        return documents::check_content(head);
    }
    use infer::{doc, odf};
    let kind = if doc::is_docx(head) {
        FileType::Docx
    } else if doc::is_xlsx(head) {
        FileType::Xlsx
    } else if odf::is_odt(head) {
        FileType::Odt
    } else if odf::is_ods(head) {
        FileType::Ods
    } else {
        return Err(
            "Le fichier n'est ni un PDF, ni une image JPEG ou PNG, ni un document Word, \
             Excel ou OpenDocument (son contenu a été vérifié, pas seulement son nom)."
                .into(),
        );
    };
    Ok(kind)
}

/// Refuses the files past a quota (nothing is kept), or keeps them all and says what to
/// record. A file kept before a later one fails is removed again.
pub fn keep(
    conn: &mut DbConn,
    dir: &crate::objects::Shelf,
    quotas: &StorageSettings,
    (trainee, organism): (i64, i64),
    staged: Vec<Staged>,
) -> AppResult<Vec<NewFile>> {
    let refuse = |m: String| AppError::invalid("file", m);
    let adding: u64 = staged.iter().map(|s| s.size).sum();
    let used = storage::store::assignment_usage(conn, trainee)?;
    quota::check(Holder::Assignments, used, adding, quotas.trainee_quota).map_err(refuse)?;
    let used = storage::store::organism_usage(conn, organism)?;
    quota::check(Holder::Organism, used, adding, quotas.organism_quota).map_err(refuse)?;
    let mut kept: Vec<NewFile> = Vec::new();
    for s in staged {
        let file = NewFile {
            file_name: rules::stored_name(&s.file_name, s.kind.extensions()),
            mime_type: s.kind.mime().to_string(),
            size_bytes: i64::try_from(s.size).unwrap_or(i64::MAX),
            sha256: s.sha256.clone(),
        };
        if let Err(e) = s.keep(dir) {
            forget(conn, dir, &kept);
            return Err(AppError::io("assignment file", e));
        }
        kept.push(file);
    }
    Ok(kept)
}

/// Removes kept files that no record uses (a version that could not be recorded).
pub fn forget(conn: &mut DbConn, dir: &crate::objects::Shelf, files: &[NewFile]) {
    for f in files {
        storage::remove_unreferenced(conn, dir, &f.sha256);
    }
}

/// The type a download is sent as: the one sniffed when it was handed in.
pub fn download_type(mime: &str) -> &'static str {
    FileType::from_mime(mime).map_or("application/octet-stream", FileType::mime)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ZIP holding these entries, in order, as an office suite writes them.
    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        use std::io::Write;
        let mut out = std::io::Cursor::new(Vec::new());
        let mut z = zip::ZipWriter::new(&mut out);
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, bytes) in entries {
            z.start_file(*name, stored).unwrap();
            z.write_all(bytes).unwrap();
        }
        z.finish().unwrap();
        out.into_inner()
    }

    #[test]
    fn an_assignment_also_takes_office_documents_by_their_content() {
        let docx = zip_of(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("_rels/.rels", b"<Relationships/>"),
            ("word/_rels/document.xml.rels", b"<Relationships/>"),
            ("word/document.xml", b"<w:document/>"),
            ("docProps/core.xml", b"<cp:coreProperties/>"),
        ]);
        assert_eq!(check_work(&docx), Ok(FileType::Docx));
        let odt = zip_of(&[
            ("mimetype", b"application/vnd.oasis.opendocument.text"),
            ("content.xml", b"<office:document-content/>"),
        ]);
        assert_eq!(check_work(&odt), Ok(FileType::Odt));
        assert_eq!(check_work(b"%PDF-1.7\n"), Ok(FileType::Pdf));
        // Any other archive, or text named .docx, is still refused; VAE documents never
        // take office files.
        let other = zip_of(&[("notes.txt", b"bonjour")]);
        assert!(check_work(&other).is_err());
        assert!(check_work(b"Ceci n'est pas un document Word.").is_err());
        assert!(documents::check_content(&docx).is_err());
        assert_eq!(
            FileType::from_mime(FileType::Odt.mime()),
            Some(FileType::Odt)
        );
    }
}
