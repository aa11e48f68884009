//! E-learning packages organisms already own (issue #19): SCORM 1.2, SCORM 2004 and cmi5.
//! This folder holds the pure part only: reading a package's manifest (`manifest`, `cmi5`,
//! `package`), the run-time data model of each SCORM version and its state machine
//! (`datamodel`). Storage, pages and the player come next.

pub mod cmi5;
pub mod datamodel;
pub mod error;
pub mod manifest;
pub mod package;
pub mod paths;

pub use error::PackageError;
