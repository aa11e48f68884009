//! E-learning packages organisms already own (issue #19): SCORM 1.2, SCORM 2004 and cmi5.
//! Reading a package (`zipped`, `package`, `manifest`, `cmi5`), the run-time data model of
//! each SCORM version and its state machine (`datamodel`), where a trainee is in a package
//! (`progress`) and its rows (`store`). The player's pages are the `packages` domain's.

pub mod cmi5;
pub mod cmi5_rules;
pub mod cmi5_store;
pub mod datamodel;
pub mod error;
pub mod manifest;
pub mod package;
pub mod paths;
pub mod progress;
pub mod store;
pub mod zipped;

pub use error::PackageError;
