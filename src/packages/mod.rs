//! Playing e-learning packages as activities (issue #19): the launch from the trainee's
//! activity page (`launch_pages`), the packages' own origin with the host page, the files and
//! the commits (`frame_pages`, `commits`), a cmi5 AU's xAPI calls (`cmi5_pages`,
//! `cmi5_statements`, `cmi5_cors`), the unpacked cache (`cache`), and the player's
//! rules (`rules`). Manifests, the run-time data model and the attempts' rows are `scorm`'s.

pub mod cache;
pub mod cmi5_cors;
pub mod cmi5_pages;
pub mod cmi5_statements;
pub mod commits;
pub mod frame_pages;
pub mod launch_pages;
pub mod play;
pub mod rules;

use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// What the player's handlers share: the unpacked packages and the commits' rate.
pub struct Player {
    pub unpacked: cache::Unpacked,
    pub commits: DefaultKeyedRateLimiter<i64>,
}

impl Player {
    pub fn new(data_dir: &std::path::Path) -> Player {
        let per_minute = NonZeroU32::new(rules::COMMITS_PER_MINUTE).unwrap_or(NonZeroU32::MIN);
        Player {
            unpacked: cache::Unpacked::new(data_dir),
            commits: RateLimiter::keyed(Quota::per_minute(per_minute)),
        }
    }
}
