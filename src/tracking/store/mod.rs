//! Hours queries, one file per job; callers name them `tracking::store::…`.
//! `beats` credits heartbeats in batches (after `admission`), keeping the `totals` up to date
//! in the same transaction; `reads` reads them back; `corrections` changes them by hand.

mod admission;
mod beats;
mod corrections;
mod per_activity;
mod pg_batch;
mod reads;
mod totals;

pub use beats::*;
pub use corrections::*;
pub use per_activity::*;
pub use reads::*;
pub use totals::*;
