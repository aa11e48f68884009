//! VAE (validation des acquis de l'expérience): requests (held until their address is
//! confirmed when anonymous), documents, workflow, decisions, and the modules a decision
//! validates kept in the candidate's path.

pub mod api;
pub mod documents;
pub mod form;
pub mod pages;
pub mod pending;
pub mod pending_store;
mod request_pages;
pub mod rules;
pub mod store;
pub mod view;
pub mod workflow;
