//! Parcours: training of French assistants médicaux (CQP, FAE), hours, VAE and attestations.

pub mod accounts;
pub mod attestation;
pub mod audit;
pub mod base;
pub mod catalogue;
pub mod certification;
pub mod cohorts;
pub mod config;
pub mod curriculum;
pub mod db;
pub mod demo;
pub mod evidence;
pub mod followup;
pub mod funding;
pub mod home;
pub mod jobs;
pub mod mail;
pub mod objects;
pub mod openapi;
pub mod ops;
pub mod organisms;
pub mod packages;
pub mod privacy;
pub mod reporting;
pub mod scorm;
pub mod startup;
pub mod storage;
pub mod tracking;
pub mod vae;
pub mod web;
pub mod xapi;

pub use config::AppConfig;
pub use startup::Application;
