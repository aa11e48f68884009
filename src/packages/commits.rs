//! A SCO's commit: checked again on the server (the browser is not trusted), stored, and, when
//! it completes the last SCO of the activity, the activity done for the module, the evidence
//! pack and the exports, as a lesson marked done is.

use serde::Serialize;

use super::play::Opened;
use crate::curriculum::rules::PackageActivity;
use crate::db::DbConn;
use crate::scorm::datamodel::Snapshot;
use crate::scorm::package::Found;
use crate::scorm::progress::{self as rules, ItemState};
use crate::scorm::store::{self, Committed};
use crate::web::{AppError, AppResult, State};

#[derive(Debug, Serialize)]
pub struct Saved {
    pub completion: &'static str,
    pub success: &'static str,
    /// Every SCO or AU of the activity is done.
    pub activity_done: bool,
}

/// Whether every item of the package is done, from the trainee's attempts.
pub fn all_done(
    conn: &mut DbConn,
    package: &PackageActivity,
    trainee: i64,
    lesson: i64,
) -> AppResult<bool> {
    let attempts = store::attempts(conn, trainee, lesson)?;
    let state = |item: &str| {
        attempts.iter().find(|a| a.item == item).map(|a| ItemState {
            completion: rules::completion_of(&a.completion),
            success: rules::success_of(&a.success),
        })
    };
    Ok(package
        .items()
        .iter()
        .all(|(id, _)| state(id).is_some_and(|st| rules::item_done(package.move_on(id), &st))))
}

/// `Ok(Err(why))`: the commit was refused, in French, and nothing changed.
pub async fn save(
    state: &State,
    o: Opened,
    received: Snapshot,
) -> AppResult<Result<Saved, String>> {
    let package = o.package().ok_or(AppError::NotFound)?.clone();
    let Found::Scorm(manifest) = &package.opened.found else {
        return Err(AppError::NotFound);
    };
    let Some(sco) = manifest
        .scos
        .iter()
        .find(|s| s.identifier == o.attempt.item)
    else {
        return Err(AppError::NotFound);
    };
    let snapshot = match Snapshot::validate(manifest.standard.version(), &received) {
        Ok(s) => s,
        Err(why) => return Ok(Err(why)),
    };
    if o.attempt.completed_at.is_some() {
        // Played again for review: the result it reached stays.
        return Ok(Ok(Saved {
            completion: rules::completion_str(rules::completion_of(&o.attempt.completion)),
            success: rules::success_str(rules::success_of(&o.attempt.success)),
            activity_done: true,
        }));
    }
    let outcome = snapshot.outcome(sco.mastery);
    let item = ItemState::from_outcome(&outcome);
    let data = serde_json::to_string(&snapshot).map_err(|e| AppError::Internal(e.into()))?;
    let (completion, success) = (
        rules::completion_str(outcome.completion),
        rules::success_str(outcome.success),
    );
    let package_seconds = o.launch.base_seconds + outcome.session_seconds.unwrap_or(0.0);
    let (attempt, trainee, lesson) = (o.attempt.id, o.attempt.trainee_id, o.attempt.lesson_id);
    let done = state
        .db(move |c| {
            crate::db::transaction(c, |c| {
                store::commit(
                    c,
                    attempt,
                    &Committed {
                        data: &data,
                        completion,
                        success,
                        score_scaled: outcome.scaled,
                        score_raw: outcome.raw,
                        package_seconds,
                        completed: rules::scorm_done(&item),
                    },
                )?;
                let done = all_done(c, &package, trainee, lesson)?;
                if done {
                    crate::curriculum::store::complete_lesson(c, trainee, lesson)?;
                }
                Ok::<_, AppError>(done)
            })
        })
        .await?;
    Ok(Ok(Saved {
        completion,
        success,
        activity_done: done,
    }))
}
