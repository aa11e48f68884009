//! Cohort queries, one file per job; callers name them `cohorts::store::…`.

// `trainees` first: its query macros serve the files after it.
#[macro_use]
mod trainees;
#[macro_use]
mod cohorts;
mod paths;
mod sessions;
mod suspensions;
mod versions;

pub use cohorts::*;
pub use paths::*;
pub use sessions::*;
pub use suspensions::*;
pub use trainees::*;
pub use versions::*;
