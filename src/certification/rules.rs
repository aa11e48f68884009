//! The CQP certification record, pure: which blocs a trainee still needs, whether she may be
//! registered for a session's blocs, whether the CQP may be recorded. A bloc is named by the
//! code of its module (the CQP has one module per bloc); an acquired bloc is kept for good.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::Serialize;

use crate::attestation::completion::{PathCompletion, check_override_reason};
use crate::base::format;

mod alerts;
pub use alerts::*;

/// A candidate's result for one bloc.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Acquired,
    NotAcquired,
    Absent,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Acquired => "acquired",
            Outcome::NotAcquired => "not_acquired",
            Outcome::Absent => "absent",
        }
    }

    pub fn parse(raw: &str) -> Option<Outcome> {
        match raw {
            "acquired" => Some(Outcome::Acquired),
            "not_acquired" => Some(Outcome::NotAcquired),
            "absent" => Some(Outcome::Absent),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Outcome::Acquired => "acquis",
            Outcome::NotAcquired => "non acquis",
            Outcome::Absent => "absent",
        }
    }
}

/// The blocs acquired among the records `(bloc, result)`: one acquisition is enough, whatever
/// came after it.
pub fn acquired<'a>(records: impl IntoIterator<Item = (&'a str, &'a str)>) -> BTreeSet<String> {
    records
        .into_iter()
        .filter(|(_, r)| Outcome::parse(r) == Some(Outcome::Acquired))
        .map(|(b, _)| b.to_string())
        .collect()
}

/// The blocs of the certification still to pass, in the programme's order.
pub fn remaining(all: &[String], acquired: &BTreeSet<String>) -> Vec<String> {
    all.iter()
        .filter(|b| !acquired.contains(*b))
        .cloned()
        .collect()
}

/// Only the CQP leads to a certification: the FAE ends with the organism's attestation.
pub fn check_program(kind: &str) -> Result<(), &'static str> {
    if kind == "cqp" {
        Ok(())
    } else {
        Err(
            "Seuls les stagiaires du CQP passent une certification : la FAE se conclut par l'attestation de l'organisme.",
        )
    }
}

/// A new session: its day, place, jury and blocs (at least one, all of the CQP).
pub struct SessionInput<'a> {
    pub held_on: &'a str,
    pub place: &'a str,
    pub jury: &'a str,
    pub blocs: &'a [String],
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSession {
    pub held_on: NaiveDate,
    pub place: String,
    pub jury: String,
    pub blocs: Vec<String>,
}

/// Checks a new session; every problem as `(field, French message)`.
pub fn check_session(
    input: &SessionInput<'_>,
    known: &[String],
) -> Result<NewSession, Vec<(&'static str, String)>> {
    let mut errors = Vec::new();
    let held_on = format::parse_day(input.held_on);
    if held_on.is_none() {
        let msg = if input.held_on.trim().is_empty() {
            "Indiquez la date de la session.".to_string()
        } else {
            format!(
                "Date de la session : {}",
                format::fr_date_problem(input.held_on)
            )
        };
        errors.push(("held_on", msg));
    }
    let text = |raw: &str, field: &'static str, what: &str, errors: &mut Vec<_>| {
        let t = raw.trim().to_string();
        if t.is_empty() {
            errors.push((field, format!("Indiquez {what}.")));
        } else if t.chars().count() > 300 || t.contains('\0') {
            errors.push((
                field,
                format!("{what} : 300 caractères au plus, sans caractère nul."),
            ));
        }
        t
    };
    let place = text(input.place, "place", "le lieu", &mut errors);
    let jury = text(input.jury, "jury", "le jury", &mut errors);
    let blocs: Vec<String> = known
        .iter()
        .filter(|k| input.blocs.contains(k))
        .cloned()
        .collect();
    if input.blocs.iter().any(|b| !known.contains(b)) {
        errors.push(("blocs", "Bloc inconnu.".to_string()));
    } else if blocs.is_empty() {
        errors.push(("blocs", "Choisissez au moins un bloc évalué.".to_string()));
    }
    match held_on {
        Some(held_on) if errors.is_empty() => Ok(NewSession {
            held_on,
            place,
            jury,
            blocs,
        }),
        _ => Err(errors),
    }
}

/// Why a registration is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Every bloc of the session is already acquired.
    NothingToPass,
    /// The path is not complete for these blocs and no derogation was given.
    Incomplete(Vec<String>),
    /// The derogation's reason is not one.
    Reason(&'static str),
}

impl Refusal {
    pub fn message(&self) -> String {
        match self {
            Refusal::NothingToPass => {
                "Tous les blocs de cette session sont déjà acquis par cette stagiaire.".into()
            }
            Refusal::Incomplete(blocs) => format!(
                "Le parcours n'est pas complet pour {} : inscrivez-la avec une dérogation motivée, ou attendez qu'il le soit.",
                blocs.join(", ")
            ),
            Refusal::Reason(m) => (*m).into(),
        }
    }
}

/// The blocs a trainee is registered for: those of the session she still needs. Her path
/// must be complete for each (per the path completion), unless a derogation gives a reason;
/// returns the blocs and the derogation's reason kept.
pub fn check_registration(
    session_blocs: &[String],
    remaining: &[String],
    completion: &PathCompletion,
    derogation: Option<&str>,
) -> Result<(Vec<String>, Option<String>), Refusal> {
    let blocs: Vec<String> = session_blocs
        .iter()
        .filter(|b| remaining.contains(b))
        .cloned()
        .collect();
    if blocs.is_empty() {
        return Err(Refusal::NothingToPass);
    }
    let incomplete: Vec<String> = blocs
        .iter()
        .filter(|b| {
            !completion
                .modules
                .iter()
                .any(|m| &&m.code == b && m.complete)
        })
        .cloned()
        .collect();
    match derogation.map(str::trim).filter(|d| !d.is_empty()) {
        Some(reason) => {
            let reason = check_override_reason(reason).map_err(Refusal::Reason)?;
            Ok((blocs, Some(reason)))
        }
        None if incomplete.is_empty() => Ok((blocs, None)),
        None => Err(Refusal::Incomplete(incomplete)),
    }
}

/// The CQP obtained: recorded once every bloc is acquired, on a day not after today, with
/// the certificate's number.
pub fn check_cqp(
    remaining: &[String],
    obtained_on: &str,
    number: &str,
    today: NaiveDate,
) -> Result<(NaiveDate, String), (&'static str, String)> {
    if !remaining.is_empty() {
        return Err((
            "blocs",
            format!(
                "Le CQP ne peut être enregistré que lorsque tous les blocs sont acquis ; il reste : {}.",
                remaining.join(", ")
            ),
        ));
    }
    let Some(on) = format::parse_day(obtained_on) else {
        let msg = if obtained_on.trim().is_empty() {
            "Indiquez la date d'obtention du CQP.".to_string()
        } else {
            format!(
                "Date d'obtention : {}",
                format::fr_date_problem(obtained_on)
            )
        };
        return Err(("obtained_on", msg));
    };
    if on > today {
        return Err((
            "obtained_on",
            "La date d'obtention ne peut pas être dans le futur.".into(),
        ));
    }
    let number = number.trim();
    if number.is_empty() || number.chars().count() > 60 || number.contains('\0') {
        return Err((
            "certificate_number",
            "Indiquez le numéro du certificat (60 caractères au plus).".into(),
        ));
    }
    Ok((on, number.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attestation::completion::ModuleCompletion;

    fn codes(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn path(complete: &[&str], all: &[&str]) -> PathCompletion {
        let modules: Vec<ModuleCompletion> = all
            .iter()
            .map(|c| ModuleCompletion {
                code: c.to_string(),
                title: String::new(),
                complete: complete.contains(c),
                missing: vec![],
                missing_items: vec![],
            })
            .collect();
        PathCompletion {
            complete: modules.iter().all(|m| m.complete),
            modules,
        }
    }

    #[test]
    fn an_acquired_bloc_stays_acquired() {
        let got = acquired([("M1", "acquired"), ("M1", "not_acquired"), ("M2", "absent")]);
        assert_eq!(got, BTreeSet::from(["M1".to_string()]));
        let all = codes(&["M1", "M2", "M3"]);
        assert_eq!(remaining(&all, &got), codes(&["M2", "M3"]));
    }

    #[test]
    fn registration_needs_a_complete_path_or_a_derogation() {
        let all = codes(&["M1", "M2"]);
        let p = path(&["M1"], &["M1", "M2"]);
        assert_eq!(
            check_registration(&all, &all, &p, None),
            Err(Refusal::Incomplete(codes(&["M2"])))
        );
        assert!(matches!(
            check_registration(&all, &all, &p, Some("court")),
            Err(Refusal::Reason(_))
        ));
        let ok = check_registration(&all, &all, &p, Some("Décision du directeur pédagogique"));
        assert_eq!(ok.unwrap().0, all);
        // Only the blocs still needed, and the path complete for them.
        let again = check_registration(&all, &codes(&["M1"]), &p, None).unwrap();
        assert_eq!(again, (codes(&["M1"]), None));
        assert_eq!(
            check_registration(&all, &[], &p, None),
            Err(Refusal::NothingToPass)
        );
    }

    #[test]
    fn the_cqp_needs_every_bloc_a_past_day_and_a_number() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        assert!(check_cqp(&codes(&["M2"]), "01/12/2026", "N-1", today).is_err());
        assert_eq!(
            check_cqp(&[], "31/02/2026", "N-1", today).unwrap_err().0,
            "obtained_on"
        );
        assert!(check_cqp(&[], "06/12/2026", "N-1", today).is_err());
        assert!(check_cqp(&[], "2026-12-01", "  ", today).is_err());
        let ok = check_cqp(&[], "01/12/2026", " CQP-2026-17 ", today).unwrap();
        assert_eq!(ok.1, "CQP-2026-17");
    }

    #[test]
    fn a_session_needs_a_day_a_place_a_jury_and_known_blocs() {
        let known = codes(&["M1", "M2"]);
        let blocs = codes(&["M2"]);
        let input = SessionInput {
            held_on: "15/01/2027",
            place: "Lyon",
            jury: "Jury de branche",
            blocs: &blocs,
        };
        assert_eq!(check_session(&input, &known).unwrap().blocs, blocs);
        let bad = codes(&["M9"]);
        let wrong = SessionInput {
            held_on: "32/01/2027",
            place: " ",
            jury: "Jury",
            blocs: &bad,
        };
        let errors = check_session(&wrong, &known).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.0).collect();
        assert_eq!(fields, vec!["held_on", "place", "blocs"]);
        assert!(check_program("fae").is_err());
        assert!(check_program("cqp").is_ok());
    }
}

/// A jury's results exist only once it sat: none before the session's day.
pub fn check_results_day(held_on: NaiveDate, today: NaiveDate) -> Result<(), String> {
    if held_on > today {
        return Err(format!(
            "La session a lieu le {} : ses résultats ne peuvent être saisis qu'à partir de ce jour.",
            format::date(held_on)
        ));
    }
    Ok(())
}

/// Days after a copy for the CPAM was mailed before its doctor is reminded, and before the
/// organism is told it is still not marked as forwarded.
pub const CPAM_REMINDER_DAYS: i64 = 15;
pub const CPAM_ORGANISM_DAYS: i64 = 30;
/// Copies older than this are never followed up (a first start on old data mails no one).
pub const CPAM_LOOKBACK_DAYS: i64 = 60;

/// What is due on a copy mailed at `sent_at` and not marked as forwarded: the doctor's
/// reminder, the organism's notice, each once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpamFollowUp {
    pub remind_doctor: bool,
    pub tell_organism: bool,
}

pub fn cpam_follow_up(
    sent_at: chrono::NaiveDateTime,
    now: chrono::NaiveDateTime,
    reminded: bool,
    told: bool,
) -> CpamFollowUp {
    let age = now - sent_at;
    let within = age <= chrono::Duration::days(CPAM_LOOKBACK_DAYS);
    CpamFollowUp {
        remind_doctor: within && !reminded && age >= chrono::Duration::days(CPAM_REMINDER_DAYS),
        tell_organism: within && !told && age >= chrono::Duration::days(CPAM_ORGANISM_DAYS),
    }
}

#[cfg(test)]
mod cpam_tests {
    use super::*;

    fn at(day: u32, hour: u32) -> chrono::NaiveDateTime {
        NaiveDate::from_ymd_opt(2027, 3, day)
            .and_then(|d| d.and_hms_opt(hour, 0, 0))
            .unwrap_or_default()
    }

    #[test]
    fn the_doctor_is_reminded_at_15_days_and_the_organism_told_at_30() {
        let sent = at(1, 10);
        let none = CpamFollowUp {
            remind_doctor: false,
            tell_organism: false,
        };
        assert_eq!(cpam_follow_up(sent, at(16, 9), false, false), none);
        let day15 = cpam_follow_up(sent, at(16, 10), false, false);
        assert!(day15.remind_doctor && !day15.tell_organism);
        assert_eq!(cpam_follow_up(sent, at(16, 10), true, false), none);
        let day30 = cpam_follow_up(sent, at(31, 10), true, false);
        assert!(!day30.remind_doctor && day30.tell_organism);
        // Both at once when the job first sees it late, and nothing twice.
        let late = cpam_follow_up(sent, at(31, 11), false, false);
        assert!(late.remind_doctor && late.tell_organism);
        assert_eq!(cpam_follow_up(sent, at(31, 11), true, true), none);
    }

    #[test]
    fn results_wait_for_the_session_day() {
        let day = NaiveDate::from_ymd_opt(2027, 3, 10).unwrap_or_default();
        assert!(check_results_day(day, day).is_ok());
        assert!(check_results_day(day, day.succ_opt().unwrap_or_default()).is_ok());
        let early = check_results_day(day, day.pred_opt().unwrap_or_default());
        assert!(early.unwrap_err().contains("10/03/2027"));
    }

    #[test]
    fn copies_past_the_lookback_are_left_alone() {
        let sent = at(1, 10);
        let old = sent + chrono::Duration::days(CPAM_LOOKBACK_DAYS + 1);
        assert!(!cpam_follow_up(sent, old, false, false).tell_organism);
    }
}
