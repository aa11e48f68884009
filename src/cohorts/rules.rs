//! Pure rules about cohorts and their trainees: profiles, funding, dates, departures,
//! deadlines and the weekly rhythm.

use chrono::{Datelike, Months, NaiveDate, NaiveTime, Weekday};

use crate::base::field::{FieldError, fold};
use crate::base::format;

mod deadline;
mod entry;
mod reach;
pub use deadline::*;
pub use entry::short_stay_warning;
pub use reach::{Candidate, not_sent_reason};

/// A trainee's care diploma, which decides the training: a diploma leads to the FAE,
/// none to the CQP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    Ide,
    As,
    Ap,
    Aucun,
}

impl Profile {
    pub fn parse(raw: &str) -> Option<Profile> {
        let s = fold(raw).replace('.', "").replace('\'', " ");
        let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
        match s.as_str() {
            "ide"
            | "idel"
            | "ide de"
            | "infirmier"
            | "infirmiere"
            | "infirmier(e)"
            | "infirmier de"
            | "infirmiere de"
            | "infirmier diplome d etat"
            | "infirmiere diplomee d etat" => Some(Profile::Ide),
            "as"
            | "deas"
            | "aide-soignant"
            | "aide-soignante"
            | "aide soignant"
            | "aide soignante"
            | "aide-soignant(e)"
            | "aide-soignante diplomee" => Some(Profile::As),
            // "puéricultrice" is the usual slip for the diploma's name: same profile.
            "ap"
            | "deap"
            | "auxiliaire de puericulture"
            | "auxiliaire puericulture"
            | "auxiliaire de puericultrice"
            | "auxiliaire puericultrice" => Some(Profile::Ap),
            "" | "aucun" | "aucune" | "sans" | "sans diplome" | "non" => Some(Profile::Aucun),
            _ => None,
        }
    }

    /// What a "Profil" cell of a real file says: a care diploma routes to the FAE; any other
    /// text ("Secrétaire médicale", "Aide à domicile"…) is the person's prior experience and
    /// routes to the CQP; it is kept, for the positionnement.
    pub fn read(raw: &str) -> (Profile, Option<String>) {
        match Profile::parse(raw) {
            Some(p) => (p, None),
            None => (Profile::Aucun, Some(raw.trim().to_string())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Ide => "ide",
            Profile::As => "as",
            Profile::Ap => "ap",
            Profile::Aucun => "aucun",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Profile::Ide => "Infirmier (IDE)",
            Profile::As => "Aide-soignant (AS)",
            Profile::Ap => "Auxiliaire de puériculture (AP)",
            Profile::Aucun => "Sans diplôme de soignant",
        }
    }

    pub fn has_care_diploma(self) -> bool {
        self != Profile::Aucun
    }
}

/// A warning when the cohort's programme does not fit the trainee's profile.
pub fn program_fit_warning(profile: Profile, program_kind: &str) -> Option<String> {
    match (profile.has_care_diploma(), program_kind) {
        (true, "cqp") => Some(format!(
            "{} : ce profil relève normalement de la FAE, pas du CQP.",
            profile.label()
        )),
        (false, "fae") => Some(
            "Sans diplôme de soignant, le parcours attendu est le CQP, pas la FAE.".to_string(),
        ),
        _ => None,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Funding {
    ContratPro,
    Proa,
    PlanDeveloppement,
    Autre,
}

impl Funding {
    pub fn parse(raw: &str) -> Option<Funding> {
        let s = fold(raw);
        match s.as_str() {
            "contrat de professionnalisation" | "contrat pro" | "professionnalisation" | "cp" => {
                Some(Funding::ContratPro)
            }
            "proa" | "pro-a" | "pro a" => Some(Funding::Proa),
            "plan de developpement des competences" | "plan de developpement" | "pdc" => {
                Some(Funding::PlanDeveloppement)
            }
            "autre" | "" => Some(Funding::Autre),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Funding::ContratPro => "contrat_pro",
            Funding::Proa => "proa",
            Funding::PlanDeveloppement => "plan_developpement",
            Funding::Autre => "autre",
        }
    }

    pub fn from_db(s: &str) -> Funding {
        match s {
            "contrat_pro" => Funding::ContratPro,
            "proa" => Funding::Proa,
            "plan_developpement" => Funding::PlanDeveloppement,
            _ => Funding::Autre,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Funding::ContratPro => "Contrat de professionnalisation",
            Funding::Proa => "ProA (reconversion ou promotion par alternance)",
            Funding::PlanDeveloppement => "Plan de développement des compétences",
            Funding::Autre => "Autre",
        }
    }
}

/// The cohort's length must fall within the programme's range, in months from its start.
pub fn check_cohort_dates(
    start: NaiveDate,
    end: NaiveDate,
    min_months: u32,
    max_months: u32,
) -> Result<(), String> {
    if end <= start {
        return Err("La date de fin doit être après la date de début.".into());
    }
    let earliest = start + Months::new(min_months);
    let latest = start + Months::new(max_months);
    if end < earliest || end > latest {
        return Err(format!(
            "La durée d'une promotion de ce programme doit être comprise entre {min_months} et {max_months} mois : pour un début le {}, la fin doit tomber entre le {} et le {}.",
            format::date(start),
            format::date(earliest),
            format::date(latest)
        ));
    }
    Ok(())
}

/// Why a trainee left the training before its end (a transfer is not a departure).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    Abandon,
    ContractEnded,
    Health,
    Other,
}

impl EndReason {
    pub const ALL: [EndReason; 4] = [
        EndReason::Abandon,
        EndReason::ContractEnded,
        EndReason::Health,
        EndReason::Other,
    ];

    pub fn from_db(s: &str) -> Option<EndReason> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Abandon => "abandon",
            EndReason::ContractEnded => "fin_contrat",
            EndReason::Health => "sante",
            EndReason::Other => "autre",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            EndReason::Abandon => "Abandon du stagiaire",
            EndReason::ContractEnded => "Fin ou rupture du contrat de travail",
            EndReason::Health => "Raison de santé",
            EndReason::Other => "Autre motif",
        }
    }
}

/// A departure as typed by staff: the day out (hours count until its eve), a reason, and a
/// note that "autre" needs. The day lies between the enrolment's start and today.
pub fn check_departure(
    started_on: NaiveDate,
    today: NaiveDate,
    on: Option<NaiveDate>,
    reason: &str,
    note: &str,
) -> Result<(NaiveDate, EndReason, Option<String>), FieldError> {
    let on = on
        .ok_or_else(|| FieldError::new("on", "Indiquez la date de sortie au format JJ/MM/AAAA."))?;
    if on < started_on {
        return Err(FieldError::new(
            "on",
            format!(
                "La date de sortie ne peut précéder l'entrée en formation, le {}.",
                format::date(started_on)
            ),
        ));
    }
    if on > today {
        return Err(FieldError::new(
            "on",
            "La date de sortie ne peut être dans le futur : enregistrez la sortie le jour venu.",
        ));
    }
    let reason = EndReason::from_db(reason.trim())
        .ok_or_else(|| FieldError::new("reason", "Choisissez le motif de la sortie."))?;
    let note = note.trim();
    if note.chars().count() > 500 {
        return Err(FieldError::new(
            "note",
            "La précision ne peut dépasser 500 caractères.",
        ));
    }
    if reason == EndReason::Other && note.is_empty() {
        return Err(FieldError::new(
            "note",
            "Précisez le motif lorsque vous choisissez « Autre motif ».",
        ));
    }
    Ok((on, reason, Some(note.to_string()).filter(|n| !n.is_empty())))
}

/// One planned in-person session of a generated rhythm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedSession {
    pub day: NaiveDate,
    pub starts_at: NaiveTime,
    pub ends_at: NaiveTime,
    /// Index in the modules given, alternating day after day.
    pub module: usize,
}

/// A generated rhythm: its sessions, and the chosen weekdays it left out because the
/// organism was closed (a public holiday or one of its closures).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rhythm {
    pub sessions: Vec<PlannedSession>,
    pub skipped: Vec<NaiveDate>,
}

/// "Every Tuesday and Thursday, alternating modules": one session per slot on each chosen
/// weekday between the two dates that is not `closed`; the module changes from one training
/// day to the next, so a closed day is no training day and does not use up a module's turn.
pub fn weekly_rhythm(
    from: NaiveDate,
    to: NaiveDate,
    weekdays: &[Weekday],
    slots: &[(NaiveTime, NaiveTime)],
    module_count: usize,
    closed: impl Fn(NaiveDate) -> bool,
) -> Rhythm {
    let mut out = Rhythm::default();
    if module_count == 0 {
        return out;
    }
    let mut day_index = 0;
    let mut day = from;
    while day <= to {
        if weekdays.contains(&day.weekday()) {
            if closed(day) {
                out.skipped.push(day);
            } else {
                for (start, end) in slots {
                    out.sessions.push(PlannedSession {
                        day,
                        starts_at: *start,
                        ends_at: *end,
                        module: day_index % module_count,
                    });
                }
                day_index += 1;
            }
        }
        day += chrono::Duration::days(1);
    }
    out
}

#[cfg(test)]
mod cohort_tests {
    use super::*;

    #[test]
    fn a_departure_lies_between_the_start_and_today_with_a_known_reason() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day);
        let (start, today) = (d(9, 1).unwrap(), d(12, 3).unwrap());
        let check = |on, reason, note| check_departure(start, today, on, reason, note);
        assert_eq!(
            check(d(11, 2), "fin_contrat", "  "),
            Ok((d(11, 2).unwrap(), EndReason::ContractEnded, None))
        );
        // The first day and today are both days a departure can happen.
        assert!(check(d(9, 1), "abandon", "").is_ok());
        assert!(check(d(12, 3), "sante", "").is_ok());
        let field = |r: Result<_, FieldError>| r.map(|_| ()).unwrap_err().field;
        assert_eq!(field(check(None, "abandon", "")), "on");
        assert_eq!(field(check(d(8, 31), "abandon", "")), "on");
        assert_eq!(field(check(d(12, 4), "abandon", "")), "on");
        assert_eq!(field(check(d(11, 2), "transfert", "")), "reason");
        assert_eq!(field(check(d(11, 2), "autre", " ")), "note");
        let long = "é".repeat(501);
        assert_eq!(field(check(d(11, 2), "sante", &long)), "note");
        assert_eq!(
            check(d(11, 2), "autre", " Déménagement "),
            Ok((
                d(11, 2).unwrap(),
                EndReason::Other,
                Some("Déménagement".into())
            ))
        );
        for r in EndReason::ALL {
            assert_eq!(EndReason::from_db(r.as_str()), Some(r));
        }
    }

    #[test]
    fn a_profile_cell_is_a_care_diploma_or_prior_experience() {
        for diploma in ["IDE", "Infirmière D.E.", "infirmier diplômé d'état", "IDEL"] {
            assert_eq!(Profile::read(diploma), (Profile::Ide, None), "{diploma}");
        }
        assert_eq!(Profile::read("Aide-soignante"), (Profile::As, None));
        assert_eq!(Profile::read("DEAP"), (Profile::Ap, None));
        for ap in [
            "auxiliaire de puériculture",
            "Auxiliaire de Puéricultrice",
            "AUXILIAIRE DE PUERICULTRICE",
            "auxiliaire de puericulture",
            "Auxiliaire puéricultrice",
        ] {
            assert_eq!(Profile::read(ap), (Profile::Ap, None), "{ap}");
            assert!(program_fit_warning(Profile::Ap, "fae").is_none());
        }
        // Just outside: another word is prior experience, not the diploma.
        assert_eq!(Profile::read("puéricultrice").0, Profile::Aucun);
        assert_eq!(Profile::read(" aucun "), (Profile::Aucun, None));
        assert_eq!(
            Profile::read(" Secrétaire médicale "),
            (Profile::Aucun, Some("Secrétaire médicale".to_string()))
        );
        assert_eq!(
            Profile::read("Sans emploi"),
            (Profile::Aucun, Some("Sans emploi".to_string()))
        );
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn cohort_length_must_fit_the_programme() {
        let start = d(2026, 9, 1);
        assert!(check_cohort_dates(start, d(2027, 7, 1), 10, 12).is_ok());
        assert!(check_cohort_dates(start, d(2027, 9, 1), 10, 12).is_ok());
        let err = check_cohort_dates(start, d(2027, 10, 1), 10, 12).unwrap_err();
        assert!(err.contains("entre 10 et 12 mois"), "{err}");
        assert!(
            err.contains("01/07/2027") && err.contains("01/09/2027"),
            "{err}"
        );
        assert!(check_cohort_dates(start, d(2027, 6, 30), 10, 12).is_err());
        assert!(
            check_cohort_dates(start, d(2026, 8, 1), 10, 12)
                .unwrap_err()
                .contains("après")
        );
    }

    #[test]
    fn profiles_route_to_the_right_training() {
        assert_eq!(Profile::parse("Infirmière"), Some(Profile::Ide));
        assert_eq!(Profile::parse(" AS "), Some(Profile::As));
        assert_eq!(Profile::parse(""), Some(Profile::Aucun));
        assert_eq!(Profile::parse("chirurgien"), None);
        assert!(program_fit_warning(Profile::Ide, "cqp").is_some());
        assert!(program_fit_warning(Profile::Aucun, "fae").is_some());
        assert!(program_fit_warning(Profile::Ap, "fae").is_none());
        assert_eq!(
            Funding::parse("Plan de développement des compétences"),
            Some(Funding::PlanDeveloppement)
        );
    }

    #[test]
    fn weekly_rhythm_alternates_modules_by_training_day() {
        let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
        let s = weekly_rhythm(
            d(2026, 11, 23),
            d(2026, 12, 4),
            &[Weekday::Tue, Weekday::Thu],
            &[(t(9), t(12)), (t(13), t(17))],
            2,
            |_| false,
        );
        assert!(s.skipped.is_empty());
        let s = s.sessions;
        assert_eq!(s.len(), 8);
        assert_eq!(s[0].day, d(2026, 11, 24));
        assert_eq!((s[0].module, s[1].module, s[2].module), (0, 0, 1));
        assert_eq!(s[7].day, d(2026, 12, 3));
    }

    #[test]
    fn weekly_rhythm_skips_closed_days_and_keeps_the_alternation() {
        let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
        // Easter Monday 2027 is 29 March (Easter is 28 March); 14 July is a Wednesday.
        let closed: std::collections::BTreeSet<NaiveDate> = [d(2027, 3, 29), d(2027, 7, 14)].into();
        let monday_and_wednesday = [Weekday::Mon, Weekday::Wed];
        let slots = [(t(9), t(12)), (t(13), t(17))];
        let march = weekly_rhythm(
            d(2027, 3, 22),
            d(2027, 4, 7),
            &monday_and_wednesday,
            &slots,
            2,
            |day| closed.contains(&day),
        );
        assert_eq!(march.skipped, [d(2027, 3, 29)]);
        let days: Vec<(NaiveDate, usize)> = march
            .sessions
            .iter()
            .step_by(2)
            .map(|s| (s.day, s.module))
            .collect();
        // The day after the holiday takes the module the holiday would have had; 5 April,
        // an ordinary Monday, is a training day.
        assert_eq!(
            days,
            [
                (d(2027, 3, 22), 0),
                (d(2027, 3, 24), 1),
                (d(2027, 3, 31), 0),
                (d(2027, 4, 5), 1),
                (d(2027, 4, 7), 0),
            ]
        );
        assert_eq!(march.sessions.len(), 10);
        let july = weekly_rhythm(
            d(2027, 7, 12),
            d(2027, 7, 16),
            &monday_and_wednesday,
            &slots,
            3,
            |day| closed.contains(&day),
        );
        assert_eq!(july.skipped, [d(2027, 7, 14)]);
        assert!(july.sessions.iter().all(|s| s.day == d(2027, 7, 12)));
        // Every chosen day closed: nothing planned, every day told.
        let none = weekly_rhythm(
            d(2027, 7, 14),
            d(2027, 7, 14),
            &[Weekday::Wed],
            &slots,
            1,
            |day| closed.contains(&day),
        );
        assert!(none.sessions.is_empty());
        assert_eq!(none.skipped, [d(2027, 7, 14)]);
    }
}
