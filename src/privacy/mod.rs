//! Personal data under the GDPR (issue #23): the register of every table's personal data
//! (`register.rs`), the retention table (`rules.rs`), both pure, and the staff page that shows
//! them (`pages.rs`); corrections of a person's name through her organism (`corrections.rs`);
//! erasure by time, request and hold (`erasure/`); a person's data as a ZIP (right of access
//! and portability): what it holds (`export_rules.rs`, `export_summary.rs`), its rows
//! (`export_store.rs`), its building in the background (`export.rs`) and its pages
//! (`export_pages.rs`). The register written for the DPO is `docs/registre-des-traitements.md`.

pub mod correction_pages;
pub mod corrections;
pub mod erasure;
pub mod export;
pub mod export_pages;
pub mod export_rules;
pub mod export_store;
pub mod export_summary;
pub mod pages;
pub mod register;
pub mod rules;

pub use rules::Settings;

impl From<crate::config::RetentionSettings> for Settings {
    fn from(r: crate::config::RetentionSettings) -> Self {
        Settings {
            proof_years: r.proof_years,
            staff_inactive_months: r.staff_inactive_months,
        }
    }
}
