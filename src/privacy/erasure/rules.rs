//! When a person's data may be erased, and the answer to her request: pure. The job erases a
//! person on the day `due_on` gives; a request is accepted when that day has come (or when the
//! law keeps nothing of hers), refused otherwise with the legal reason and that day.

use chrono::{Months, NaiveDate};

/// The shortest and longest proof periods an organism may choose: funders and auditors may ask
/// for 3 years at least; beyond 30 no rule asks for it.
pub const PROOF_YEARS: std::ops::RangeInclusive<u32> = 3..=30;

pub const LEGAL_OBLIGATION: &str = "Les preuves de votre formation (attestations, feuilles d'émargement, temps de formation à distance) doivent être gardées pour les contrôles des financeurs et des auditeurs (Code du travail, articles L6353-1 et D6313-3-1) : le droit à l'effacement ne s'applique pas à ce qu'une obligation légale impose de garder (RGPD, article 17.3.b).";
pub const VAE_RUNNING: &str = "Votre dossier de VAE est en cours : ses pièces servent à la décision du jury, et la décision doit ensuite rester prouvable (RGPD, article 17.3.b). L'effacement aura lieu à la fin de la durée de conservation qui suivra la décision.";
pub const LEGAL_HOLD: &str = "Vos données sont gelées par votre organisme pour la constatation, l'exercice ou la défense de droits en justice, ou pour un contrôle en cours (RGPD, article 17.3.e). Elles seront effacées à la levée du gel, à la date prévue par la durée de conservation.";
pub const STAFF: &str = "Votre compte de personnel est tenu par votre organisme, responsable de ce traitement : vos actions au journal d'audit prouvent les formations suivies (intérêt légitime, RGPD, article 17.3.b). Adressez votre demande à votre organisme ; un compte sans connexion est désactivé de lui-même.";
pub const EMPLOYER: &str = "Vous êtes le médecin employeur d'une personne en formation : l'organisme a besoin de vous joindre et de vous adresser ses attestations jusqu'à la fin de cette formation (exécution du contrat, RGPD, article 6.1.b). Vous pourrez demander l'effacement ensuite.";

/// One training (an enrolment) of the person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Training {
    /// The day it ended, or will end as planned (the cohort's end).
    pub ends_on: NaiveDate,
    /// The proof period of its organism.
    pub proof_years: u32,
}

/// One VAE request of the person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vae {
    /// The day of its last decision; `None` while it runs.
    pub decided_on: Option<NaiveDate>,
    pub proof_years: u32,
}

/// What the law weighs for one person.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    pub trainings: Vec<Training>,
    pub vae: Vec<Vae>,
    /// A legal hold protects her or one of her cohorts.
    pub held: bool,
    /// A doctor: trainees of his practices whose training has not ended.
    pub employees_in_training: usize,
    /// A member of an organism's staff, or of the platform's.
    pub staff: bool,
}

/// When her proofs have served their time: the latest end of a proof period; `None` while a
/// VAE request runs (its period has not started) or when nothing of hers is a proof.
pub fn due_on(facts: &Facts) -> Option<NaiveDate> {
    if facts.vae.iter().any(|v| v.decided_on.is_none()) {
        return None;
    }
    let trainings = facts
        .trainings
        .iter()
        .map(|t| after_years(t.ends_on, t.proof_years));
    let vae = facts
        .vae
        .iter()
        .filter_map(|v| v.decided_on.map(|d| after_years(d, v.proof_years)));
    trainings.chain(vae).max()
}

fn after_years(day: NaiveDate, years: u32) -> NaiveDate {
    day.checked_add_months(Months::new(years.saturating_mul(12)))
        .unwrap_or(NaiveDate::MAX)
}

/// Whether the daily job erases her on `today`: something of hers is a proof, its time is
/// over, and no hold protects her.
pub fn due(facts: &Facts, today: NaiveDate) -> bool {
    !facts.held && due_on(facts).is_some_and(|d| d <= today)
}

/// The answer to her request to erase her data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Accepted,
    Refused {
        reason: &'static str,
        /// When the job will erase her, if a day is known.
        erase_on: Option<NaiveDate>,
    },
}

pub fn answer(facts: &Facts, today: NaiveDate) -> Answer {
    let erase_on = due_on(facts);
    if facts.held {
        return Answer::Refused {
            reason: LEGAL_HOLD,
            erase_on: None,
        };
    }
    if facts.vae.iter().any(|v| v.decided_on.is_none()) {
        return Answer::Refused {
            reason: VAE_RUNNING,
            erase_on: None,
        };
    }
    if let Some(day) = erase_on.filter(|d| *d > today) {
        return Answer::Refused {
            reason: LEGAL_OBLIGATION,
            erase_on: Some(day),
        };
    }
    if facts.staff {
        return Answer::Refused {
            reason: STAFF,
            erase_on: None,
        };
    }
    if facts.employees_in_training > 0 {
        return Answer::Refused {
            reason: EMPLOYER,
            erase_on: None,
        };
    }
    Answer::Accepted
}

/// The name an erased person's row keeps.
pub fn pseudonym(id: i64) -> String {
    format!("Personne effacée n° {id}")
}

/// The address an erased person's row keeps: unique, and no mail can reach it (`.invalid`).
pub fn pseudonymous_email(id: i64) -> String {
    format!("effacee-{id}@effacement.invalid")
}

/// Checks a proof period an organism types.
pub fn check_proof_years(raw: &str) -> Result<u32, String> {
    let years: u32 = raw
        .trim()
        .parse()
        .map_err(|_| format!("« {} » n'est pas un nombre d'années.", raw.trim()))?;
    if PROOF_YEARS.contains(&years) {
        Ok(years)
    } else {
        Err(format!(
            "La durée de conservation des preuves doit être comprise entre {} et {} ans.",
            PROOF_YEARS.start(),
            PROOF_YEARS.end()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    fn trainee(end: NaiveDate, years: u32) -> Facts {
        Facts {
            trainings: vec![Training {
                ends_on: end,
                proof_years: years,
            }],
            ..Facts::default()
        }
    }

    #[test]
    fn a_training_is_kept_its_organism_s_years_after_its_end() {
        let f = trainee(d(2019, 6, 30), 6);
        assert_eq!(due_on(&f), Some(d(2025, 6, 30)));
        assert!(!due(&f, d(2025, 6, 29)));
        assert!(due(&f, d(2025, 6, 30)));
        let mut two = trainee(d(2019, 6, 30), 6);
        two.trainings.push(Training {
            ends_on: d(2020, 1, 31),
            proof_years: 10,
        });
        assert_eq!(due_on(&two), Some(d(2030, 1, 31)));
    }

    #[test]
    fn a_hold_or_a_running_vae_stops_everything() {
        let mut f = trainee(d(2010, 1, 1), 6);
        f.held = true;
        assert!(!due(&f, d(2026, 1, 1)));
        assert!(matches!(
            answer(&f, d(2026, 1, 1)),
            Answer::Refused {
                reason: LEGAL_HOLD,
                erase_on: None
            }
        ));
        let mut v = trainee(d(2010, 1, 1), 6);
        v.vae.push(Vae {
            decided_on: None,
            proof_years: 6,
        });
        assert_eq!(due_on(&v), None);
        assert!(matches!(
            answer(&v, d(2026, 1, 1)),
            Answer::Refused {
                reason: VAE_RUNNING,
                ..
            }
        ));
    }

    #[test]
    fn a_request_is_refused_with_the_day_of_erasure_until_it_comes() {
        let f = trainee(d(2026, 6, 30), 6);
        assert_eq!(
            answer(&f, d(2026, 12, 5)),
            Answer::Refused {
                reason: LEGAL_OBLIGATION,
                erase_on: Some(d(2032, 6, 30))
            }
        );
        assert_eq!(answer(&f, d(2032, 6, 30)), Answer::Accepted);
        assert_eq!(answer(&Facts::default(), d(2026, 1, 1)), Answer::Accepted);
        assert!(
            !due(&Facts::default(), d(2026, 1, 1)),
            "nothing to erase by time"
        );
        let staff = Facts {
            staff: true,
            ..Facts::default()
        };
        assert!(matches!(
            answer(&staff, d(2026, 1, 1)),
            Answer::Refused { reason: STAFF, .. }
        ));
        let doctor = Facts {
            employees_in_training: 1,
            ..Facts::default()
        };
        assert!(matches!(
            answer(&doctor, d(2026, 1, 1)),
            Answer::Refused {
                reason: EMPLOYER,
                ..
            }
        ));
    }

    #[test]
    fn proof_years_are_checked() {
        assert_eq!(check_proof_years(" 10 "), Ok(10));
        assert!(check_proof_years("2").is_err_and(|e| e.contains("entre 3 et 30")));
        assert!(check_proof_years("six").is_err_and(|e| e.contains("« six »")));
    }
}
