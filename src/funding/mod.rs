//! The funding file of an enrolment (who pays, under which scheme, where the request
//! stands), its history, and the organism's list of files waiting for an answer.

pub mod file;
pub mod pages;
pub mod rules;
pub mod store;
