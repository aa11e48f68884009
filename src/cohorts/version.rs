//! A cohort keeps the programme version it started with until its organism's administrator
//! moves it on to the programme's current version, for the page and the API alike. The move
//! changes which version the cohort follows and nothing else: hours, attempts and progress
//! stay as they were recorded.

use serde::Serialize;

use super::store::{self, CohortRow, CohortVersions};
use crate::audit::{self, Event};
use crate::base::format;
use crate::base::paris::paris_date;
use crate::web::{AppError, AppResult, State};

/// The audit action of a move, whose `after` holds the version the cohort follows since.
pub const ACTION: &str = "cohort.version";

/// What the cohort page says of the versions, all of it read from the database.
#[derive(Debug, Serialize)]
pub struct VersionView {
    /// The number of the version the cohort follows; none for a placeholder.
    pub number: Option<i32>,
    /// The programme's newer current version: its number and the day it was published.
    pub newer: Option<NewerView>,
}

#[derive(Debug, Serialize)]
pub struct NewerView {
    pub number: i32,
    pub published_on: String,
}

impl VersionView {
    pub fn of(v: &CohortVersions) -> VersionView {
        VersionView {
            number: Some(v.followed.number).filter(|_| v.followed.is_published()),
            newer: v.newer().map(|n| NewerView {
                number: n.number,
                published_on: format::date(paris_date(n.published_at)),
            }),
        }
    }
}

/// A move done: the version numbers before and after, and its audit event.
#[derive(Debug, Clone, Copy)]
pub struct Moved {
    pub from: i32,
    pub to: i32,
    pub event: i64,
}

/// Why a move is refused, in French, when the programme's current version is not `seen`.
fn refusal(code: &str, v: &CohortVersions, seen: i32) -> Option<String> {
    let (current, followed) = (v.current.number, v.followed.number);
    if !v.current.is_published() {
        return Some(format!(
            "Le programme {code} n'a aucune version publiée : la promotion reste sur sa version."
        ));
    }
    if seen != current {
        return Some(format!(
            "La version {seen} n'est pas la version en cours du programme {code}, qui est la \
             version {current}. La promotion n'a pas changé de version : revenez à sa page \
             pour voir ce qui est proposé."
        ));
    }
    if current <= followed {
        return Some(format!(
            "La promotion suit déjà la version {followed} du programme {code} : rien n'a changé."
        ));
    }
    None
}

/// Moves the cohort to its programme's current version, if that is the version `seen` (the
/// number the administrator was shown), in one transaction with its audit event. The caller
/// has checked that `actor` administers the cohort's organism. A stale or pointless move is a
/// conflict (409) that changes nothing.
pub async fn move_on(state: &State, actor: i64, cohort: &CohortRow, seen: i32) -> AppResult<Moved> {
    let (cid, org, code) = (cohort.id, cohort.organism_id, cohort.program_code.clone());
    state
        .db(move |c| {
            crate::db::transaction(c, |c| {
                let v = store::versions_of(c, cid)?.ok_or(AppError::NotFound)?;
                if let Some(message) = refusal(&code, &v, seen) {
                    return Err(AppError::Conflict(message));
                }
                if !store::set_version(c, cid, v.followed.id, v.current.id)? {
                    return Err(AppError::Conflict(
                        "La promotion vient de changer de version : revenez à sa page pour la voir.".into(),
                    ));
                }
                let (from, to) = (v.followed, v.current);
                audit::record(
                    c,
                    Event::new(ACTION, "cohort", Some(cid))
                        .by(Some(actor))
                        .in_organism(Some(org))
                        .change(
                            serde_json::json!({"version": from.number, "content_version_id": from.id}),
                            serde_json::json!({"version": to.number, "content_version_id": to.id}),
                        ),
                )?;
                let event = audit::latest(c, ACTION, "cohort", cid)?.ok_or(AppError::NotFound)?;
                Ok(Moved {
                    from: from.number,
                    to: to.number,
                    event,
                })
            })
        })
        .await
}

/// The notice of a move shown on the cohort page after its redirect, read from its audit
/// event; none when `event` is no move of this cohort.
pub async fn notice(state: &State, cohort_id: i64, event: i64) -> AppResult<Option<String>> {
    let after = state
        .db(move |c| Ok(audit::after_of(c, event, ACTION, "cohort", cohort_id)?))
        .await?;
    Ok(after.and_then(|a| a["version"].as_i64()).map(|n| {
        format!(
            "La promotion suit désormais la version {n} du programme. Les heures, tentatives \
                 et activités déjà enregistrées de ses stagiaires restent inchangées."
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cohorts::store::VersionStamp;

    fn stamp(id: i64, number: i32) -> VersionStamp {
        VersionStamp {
            id,
            number,
            published_at: chrono::NaiveDate::from_ymd_opt(2026, 12, 5)
                .and_then(|d| d.and_hms_opt(9, 0, 0))
                .unwrap_or_default(),
        }
    }

    fn versions(followed: i32, current: i32) -> CohortVersions {
        CohortVersions {
            followed: stamp(1, followed),
            current: stamp(2, current),
        }
    }

    #[test]
    fn only_the_current_published_newer_version_is_a_move() {
        assert_eq!(refusal("CQP-AM", &versions(3, 4), 4), None);
        // A page shown before version 5 was published.
        assert!(refusal("CQP-AM", &versions(3, 5), 4).is_some());
        // Already there, or a placeholder.
        assert!(refusal("CQP-AM", &versions(4, 4), 4).is_some());
        assert!(refusal("CQP-AM", &versions(3, 0), 0).is_some());
    }

    #[test]
    fn the_page_names_no_placeholder_and_offers_only_newer() {
        let v = VersionView::of(&versions(3, 4));
        assert_eq!(v.number, Some(3));
        let newer = v
            .newer
            .as_ref()
            .map(|n| (n.number, n.published_on.as_str()));
        assert_eq!(newer, Some((4, "05/12/2026")));
        let v = VersionView::of(&versions(0, 0));
        assert_eq!(v.number, None);
        assert!(v.newer.is_none());
        assert!(VersionView::of(&versions(4, 4)).newer.is_none());
    }
}
