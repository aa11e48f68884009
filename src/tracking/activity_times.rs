//! How long trainees really spend on each activity, against its estimate: what an author
//! needs to correct an estimate with evidence. Pure, apart from the rows given.

use std::collections::HashMap;

use serde::Serialize;

/// The time trainees spent on one activity: how many spent any, and the median.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Spent {
    pub trainees: usize,
    pub median_secs: i64,
}

/// Groups (activity, seconds) rows by activity and takes each median (the lower middle for
/// an even count: a time someone really spent).
pub fn by_activity(rows: &[(i64, i64)]) -> HashMap<i64, Spent> {
    let mut grouped: HashMap<i64, Vec<i64>> = HashMap::new();
    for (activity, secs) in rows {
        grouped.entry(*activity).or_default().push(*secs);
    }
    grouped
        .into_iter()
        .map(|(id, mut v)| {
            v.sort_unstable();
            let median_secs = v[(v.len() - 1) / 2];
            (
                id,
                Spent {
                    trainees: v.len(),
                    median_secs,
                },
            )
        })
        .collect()
}

/// The median against the estimate, as `× 1,3`; `None` without an estimate.
pub fn ratio(median_secs: i64, estimate_minutes: u32) -> Option<String> {
    (estimate_minutes > 0).then(|| {
        let r = median_secs as f64 / (f64::from(estimate_minutes) * 60.0);
        format!("× {:.1}", r).replace('.', ",")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_per_activity_and_their_ratio() {
        let rows = [(1, 600), (1, 1200), (1, 300), (2, 90), (1, 900)];
        let by = by_activity(&rows);
        assert_eq!(
            by[&1],
            Spent {
                trainees: 4,
                median_secs: 600
            }
        );
        assert_eq!(by[&2].median_secs, 90);
        assert_eq!(ratio(600, 5).as_deref(), Some("× 2,0"));
        assert_eq!(ratio(270, 10).as_deref(), Some("× 0,5"));
        assert_eq!(ratio(600, 0), None);
    }
}
