//! The CQP certification record (#20): sessions held by the branch, the candidates an
//! organism registers, results per bloc kept for good (with the blocs a VAE decision grants),
//! and the CQP obtained. The FAE has no certification.

pub mod api;
pub mod date_pages;
pub mod deadline_alerts;
pub mod pages;
pub mod record;
pub mod rules;
pub mod store;
