//! The rules of playing a package that are the player's own: how long a launch lasts and how
//! often a trainee's package may commit.

/// A launch's secret opens the package's files and commits for this long: a long session, not
/// a day.
pub const LAUNCH_HOURS: i64 = 12;

/// Commits one trainee may send per minute: a SCO commits on each page, a flood is a bug or
/// an attack.
pub const COMMITS_PER_MINUTE: u32 = 60;
