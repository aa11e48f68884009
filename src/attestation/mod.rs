//! Attestations: completion of a path, the documents (attestation de fin de formation, FAE,
//! certificat de réalisation) as signed PDFs anyone can verify, and their sending.

pub mod completion;
pub mod issue;
pub mod mails;
pub mod pages;
pub mod pdf;
pub mod rules;
pub mod store;
pub mod verify_pages;

/// The issuing context of a process outside the web server (command line, benchmark).
pub fn key_of(config: &crate::config::AppConfig) -> [u8; 32] {
    rules::derive_key(&config.secret)
}
