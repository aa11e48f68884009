//! The kept files as a whole (`parcours storage`): moving both shelves to S3, and checking
//! that every file a record uses is there and whole. Here rather than in `storage`, which
//! `curriculum` imports: the programmes' manifests are read through `curriculum`.

pub mod check;
pub mod migrate;
pub mod references;
pub mod rules;
