//! The CQP certification record (#20): sessions held by the branch, the candidates an
//! organism registers, results per bloc kept for good (with the blocs a VAE decision grants),
//! and the CQP obtained. The FAE has no certification.

pub mod api;
pub mod copies;
pub mod cpam_reminders;
pub mod cqp;
pub mod cqp_pages;
pub mod date_pages;
pub mod deadline_alerts;
pub mod doctor_link_pages;
pub mod mine;
pub mod my_pages;
pub mod pages;
pub mod recipients;
pub mod record;
pub mod rules;
pub mod store;
