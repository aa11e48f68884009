//! Authoring organisms' own programmes: a programme's files kept once as blobs named by
//! their SHA-256 (`blobs`), a version or a draft listed as a manifest of relative paths to
//! those names (`manifest`), and the draft authors save with a revision, so a second author
//! saving the same draft is told it changed instead of overwriting it (`drafts`). Who may
//! edit is `access`; a draft grows by `additions`, is published by `publish` and replaced by a
//! ZIP by `import`; a programme begun from nothing and its modules are `scratch`, a
//! module's sequences read and an activity taken out are `sequences`.

pub mod access;
pub mod additions;
pub mod drafts;
pub mod import;
pub mod manifest;
pub mod publish;
pub mod scratch;
pub mod sequences;
