//! Storage quotas and the anonymous hourly cap: pure rules and their French messages.

use chrono::{NaiveDateTime, Timelike};

/// Whose space a file is counted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holder {
    Organism,
    Candidate,
    Trainee,
    /// The files of a trainee's assignments.
    Assignments,
}

/// "12,3 Mo".
pub fn megabytes(bytes: u64) -> String {
    format!("{:.1} Mo", bytes as f64 / 1_048_576.0).replace('.', ",")
}

/// Refuses `adding` bytes on top of `used` when they would pass `limit`.
pub fn check(holder: Holder, used: u64, adding: u64, limit: u64) -> Result<(), String> {
    if used.checked_add(adding).is_some_and(|total| total <= limit) {
        return Ok(());
    }
    let (whose, then) = match holder {
        Holder::Organism => (
            "L'espace de stockage de l'organisme de formation est plein",
            "Prévenez l'organisme : il peut demander plus d'espace à l'administrateur de la plateforme.",
        ),
        Holder::Candidate => (
            "Votre espace de stockage pour la VAE est plein",
            "Regroupez vos pièces dans des fichiers plus légers, ou contactez votre organisme.",
        ),
        Holder::Trainee => (
            "L'espace de stockage des pièces jointes de ce suivi est plein",
            "Envoyez un fichier plus léger, ou contactez votre organisme.",
        ),
        Holder::Assignments => (
            "Votre espace de stockage pour les devoirs est plein",
            "Envoyez des fichiers plus légers (un PDF plutôt que des photos), ou contactez votre \
             organisme.",
        ),
    };
    Err(format!(
        "{whose} ({} utilisés sur {}) : le fichier de {} n'a pas été enregistré. {then}",
        megabytes(used),
        megabytes(limit),
        megabytes(adding),
    ))
}

/// The clock hour an anonymous upload is counted in.
pub fn hour_of(at: NaiveDateTime) -> NaiveDateTime {
    at.date().and_hms_opt(at.hour(), 0, 0).unwrap_or(at)
}

/// Seconds until the next clock hour, when the anonymous cap opens again.
pub fn seconds_to_next_hour(at: NaiveDateTime) -> u64 {
    let next = hour_of(at) + chrono::Duration::hours(1);
    u64::try_from((next - at).num_seconds()).unwrap_or(0).max(1)
}

/// The refusal once the anonymous cap of the hour is reached.
pub fn anonymous_cap_message(wait_secs: u64) -> String {
    format!(
        "Le service reçoit trop de demandes en ce moment : rien n'a été enregistré. \
         Réessayez dans {} min.",
        wait_secs.div_ceil(60)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quota_is_reached_past_its_limit_not_at_it() {
        assert!(check(Holder::Candidate, 60, 40, 100).is_ok());
        let m = check(Holder::Candidate, 60 << 20, (41 << 20) + 1, 100 << 20).unwrap_err();
        assert!(m.contains("60,0 Mo utilisés sur 100,0 Mo"), "{m}");
        assert!(m.contains("n'a pas été enregistré"), "{m}");
        assert!(check(Holder::Organism, u64::MAX, 1, u64::MAX).is_err());
    }

    #[test]
    fn the_anonymous_cap_opens_again_at_the_next_hour() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 12, 10)
            .unwrap()
            .and_hms_opt(14, 59, 30)
            .unwrap();
        assert_eq!(hour_of(at).to_string(), "2026-12-10 14:00:00");
        assert_eq!(seconds_to_next_hour(at), 30);
        assert!(anonymous_cap_message(30).contains("1 min"));
    }
}
