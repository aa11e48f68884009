//! Pure VAE rules: the workflow of a file as a state machine, who may move it, what a request
//! must contain, the experience threshold and the livret 2 deadline. No I/O.

use chrono::{Datelike, Months, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

mod steps;
pub use steps::{check_decision_time, check_recevable};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Deposee,
    EnExamen,
    Recevable,
    NonRecevable,
    Livret2Depose,
    JuryPlanifie,
    Decision,
    Abandonnee,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Deposee,
        Status::EnExamen,
        Status::Recevable,
        Status::NonRecevable,
        Status::Livret2Depose,
        Status::JuryPlanifie,
        Status::Decision,
        Status::Abandonnee,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Deposee => "deposee",
            Status::EnExamen => "en_examen",
            Status::Recevable => "recevable",
            Status::NonRecevable => "non_recevable",
            Status::Livret2Depose => "livret2_depose",
            Status::JuryPlanifie => "jury_planifie",
            Status::Decision => "decision",
            Status::Abandonnee => "abandonnee",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Deposee => "Déposée",
            Status::EnExamen => "En examen",
            Status::Recevable => "Recevable",
            Status::NonRecevable => "Non recevable",
            Status::Livret2Depose => "Livret 2 déposé",
            Status::JuryPlanifie => "Jury planifié",
            Status::Decision => "Décision rendue",
            Status::Abandonnee => "Abandonnée",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::NonRecevable | Status::Decision | Status::Abandonnee
        )
    }
}

/// What someone asks to do to a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Examine,
    Accept,
    Reject,
    DepositLivret2,
    PlanJury,
    Decide,
    Abandon,
}

impl Action {
    pub const ALL: [Action; 7] = [
        Action::Examine,
        Action::Accept,
        Action::Reject,
        Action::DepositLivret2,
        Action::PlanJury,
        Action::Decide,
        Action::Abandon,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Examine => "examine",
            Action::Accept => "accept",
            Action::Reject => "reject",
            Action::DepositLivret2 => "deposit_livret2",
            Action::PlanJury => "plan_jury",
            Action::Decide => "decide",
            Action::Abandon => "abandon",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Who may take this action: the organism's staff, or the candidate.
    pub fn by(self) -> Actor {
        match self {
            Action::DepositLivret2 | Action::Abandon => Actor::Candidate,
            _ => Actor::Staff,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    Staff,
    Candidate,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not allowed from this state (a skipped or repeated step, or a closed file).
    NotFromState { from: Status, action: Action },
    /// Allowed, but not to this person.
    NotYours,
}

impl Refusal {
    pub fn message(&self) -> String {
        match self {
            Refusal::NotFromState { from, .. } if from.is_final() => format!(
                "Ce dossier est clos (« {} ») : il ne peut plus changer.",
                from.label()
            ),
            Refusal::NotFromState { from, .. } => format!(
                "Cette étape n'est pas possible pour un dossier « {} ».",
                from.label()
            ),
            Refusal::NotYours => "Cette action ne vous revient pas.".into(),
        }
    }
}

/// The state after `action` taken by `actor` on a file in state `from`, or why not.
pub fn next(from: Status, action: Action, actor: Actor) -> Result<Status, Refusal> {
    use Action as A;
    use Status as S;
    let to = match (from, action) {
        (S::Deposee, A::Examine) => S::EnExamen,
        (S::EnExamen, A::Accept) => S::Recevable,
        (S::EnExamen, A::Reject) => S::NonRecevable,
        (S::Recevable, A::DepositLivret2) => S::Livret2Depose,
        (S::Livret2Depose, A::PlanJury) => S::JuryPlanifie,
        (S::JuryPlanifie, A::Decide) => S::Decision,
        (f, A::Abandon) if !f.is_final() => S::Abandonnee,
        _ => return Err(Refusal::NotFromState { from, action }),
    };
    if action.by() != actor {
        return Err(Refusal::NotYours);
    }
    Ok(to)
}

/// The outcome of the jury.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Total,
    Partial,
    None,
}

impl Outcome {
    pub fn parse(s: &str) -> Option<Outcome> {
        match s {
            "total" => Some(Outcome::Total),
            "partial" => Some(Outcome::Partial),
            "none" => Some(Outcome::None),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Total => "total",
            Outcome::Partial => "partial",
            Outcome::None => "none",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Outcome::Total => "Validation totale",
            Outcome::Partial => "Validation partielle",
            Outcome::None => "Aucune validation",
        }
    }
}

/// Checks a decision against the requested modules; returns the modules validated.
pub fn check_decision(
    outcome: Outcome,
    validated: &[String],
    requested: &[String],
) -> Result<Vec<String>, &'static str> {
    if validated.iter().any(|m| !requested.contains(m)) {
        return Err("Un module validé ne fait pas partie de la demande.");
    }
    match outcome {
        Outcome::Total => Ok(requested.to_vec()),
        Outcome::None if validated.is_empty() => Ok(vec![]),
        Outcome::None => Err("Une décision sans validation ne valide aucun module."),
        Outcome::Partial if validated.is_empty() => {
            Err("Cochez au moins un module validé pour une validation partielle.")
        }
        Outcome::Partial if validated.len() == requested.len() => {
            Err("Tous les modules demandés sont validés : choisissez la validation totale.")
        }
        Outcome::Partial => Ok(validated.to_vec()),
    }
}

/// The mission categories of an assistant médical (see the field notes).
pub const MISSIONS: [(&str, &str); 3] = [
    (
        "administratif",
        "Administratif (accueil, dossier patient, facturation)",
    ),
    (
        "consultation",
        "Préparation et déroulement de la consultation",
    ),
    ("coordination", "Organisation et coordination des parcours"),
];

/// The mission categories of a period as people read them, from their stored codes
/// (`administratif,consultation`); a code we do not know is shown as it is.
pub fn mission_labels(codes: &str) -> String {
    codes
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| {
            MISSIONS
                .iter()
                .find(|(code, _)| *code == c)
                .map_or(c, |(_, label)| label)
        })
        .collect::<Vec<_>>()
        .join(" ; ")
}

/// One period of experience, as declared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Experience {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub employer: String,
    pub role: String,
    pub minutes: i32,
    pub missions: Vec<String>,
}

pub fn check_experience(e: &Experience, today: NaiveDate) -> Result<(), &'static str> {
    if e.to < e.from {
        return Err("La fin d'une période précède son début.");
    }
    if e.to > today {
        return Err("Une période d'expérience ne peut pas finir dans le futur.");
    }
    if e.employer.trim().is_empty() || e.role.trim().is_empty() {
        return Err("Indiquez l'employeur et l'emploi occupé de chaque période.");
    }
    if e.minutes <= 0 {
        return Err("Indiquez les heures effectuées pendant chaque période.");
    }
    // At most 12 h a day over the period: beyond, the figure is a typing error.
    let days = (e.to - e.from).num_days() + 1;
    if i64::from(e.minutes) > days * 12 * 60 {
        return Err("Les heures d'une période dépassent ce que sa durée permet.");
    }
    if e.missions.is_empty() {
        return Err("Cochez au moins une catégorie de missions par période.");
    }
    if e.missions
        .iter()
        .any(|m| !MISSIONS.iter().any(|(k, _)| k == m))
    {
        return Err("Catégorie de missions inconnue.");
    }
    Ok(())
}

/// A warning (never a refusal) when the experience is under the configured threshold.
pub fn threshold_warning(total_minutes: i64, min_hours: i64) -> Option<String> {
    (min_hours > 0 && total_minutes < min_hours * 60).then(|| {
        format!(
            "L'expérience déclarée ({} h) est inférieure aux {} h habituellement attendues : \
             la demande est enregistrée, le jury appréciera.",
            total_minutes / 60,
            min_hours
        )
    })
}

/// The calendar year a request counts for (one request per certification and year): the
/// Paris year of `at` (UTC), so that 31/12 at 23:30 in Paris still counts for that year.
pub fn request_year(at: NaiveDateTime) -> i32 {
    crate::base::paris::to_paris(at).year()
}

/// Hours an anonymous request waits for its address to be confirmed; then it is purged.
pub const CONFIRM_HOURS: i64 = 48;

/// The creation time before which an unconfirmed request is expired at `now`.
pub fn pending_cutoff(now: NaiveDateTime) -> NaiveDateTime {
    now - chrono::Duration::hours(CONFIRM_HOURS)
}

/// When the livret 2 is expected, counted from the recevabilité.
pub fn livret2_due(recevable_at: NaiveDateTime, months: u32) -> NaiveDate {
    let day = recevable_at.date();
    day.checked_add_months(Months::new(months)).unwrap_or(day)
}

/// Document kinds a candidate uploads, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    Cerfa12818,
    Declaration,
    AttestationEmployeur,
    Bulletin,
    Livret2,
}

impl DocKind {
    pub const ALL: [DocKind; 5] = [
        DocKind::Cerfa12818,
        DocKind::Declaration,
        DocKind::AttestationEmployeur,
        DocKind::Bulletin,
        DocKind::Livret2,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Cerfa12818 => "cerfa_12818",
            DocKind::Declaration => "declaration",
            DocKind::AttestationEmployeur => "attestation_employeur",
            DocKind::Bulletin => "bulletin",
            DocKind::Livret2 => "livret2",
        }
    }

    pub fn parse(s: &str) -> Option<DocKind> {
        DocKind::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            DocKind::Cerfa12818 => "Livret 1 : formulaire CERFA 12818",
            DocKind::Declaration => "Livret 1 : déclaration sur l'honneur",
            DocKind::AttestationEmployeur => "Livret 1 : attestation d'employeur",
            DocKind::Bulletin => "Livret 1 : dernier bulletin de salaire",
            DocKind::Livret2 => "Livret 2 : dossier de validation",
        }
    }

    /// Whether a piece of this kind may be added to a file in this state.
    pub fn accepted_in(self, status: Status) -> bool {
        match self {
            DocKind::Livret2 => status == Status::Recevable,
            _ => matches!(status, Status::Deposee | Status::EnExamen),
        }
    }
}

/// The name shown for an uploaded file, at most 100 printable characters. A name that tries
/// to climb or name a folder (`../`, `/`, `\\`) is refused. Never used to name anything on disk.
pub fn display_name(raw: &str) -> Result<String, &'static str> {
    if raw.contains(['/', '\\']) || raw.contains("..") || raw.chars().any(char::is_control) {
        return Err("Le nom du fichier n'est pas acceptable (chemin ou caractères interdits).");
    }
    let clean: String = raw.trim().chars().take(100).collect();
    Ok(if clean.is_empty() {
        "document".into()
    } else {
        clean
    })
}

/// Every state with its label and count, in workflow order.
pub fn state_counts(counts: &[(String, i64)]) -> Vec<serde_json::Value> {
    Status::ALL
        .into_iter()
        .map(|s| {
            let n = counts
                .iter()
                .find(|(k, _)| k == s.as_str())
                .map_or(0, |c| c.1);
            serde_json::json!({"state": s.as_str(), "label": s.label(), "count": n})
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missions_read_as_labels() {
        assert_eq!(
            mission_labels("administratif,consultation"),
            "Administratif (accueil, dossier patient, facturation) ; Préparation et déroulement de la consultation"
        );
        assert_eq!(
            mission_labels("coordination, autre"),
            "Organisation et coordination des parcours ; autre"
        );
        assert_eq!(mission_labels(""), "");
    }

    fn allowed() -> Vec<(Status, Action, Status)> {
        use Action as A;
        use Status as S;
        let mut v = vec![
            (S::Deposee, A::Examine, S::EnExamen),
            (S::EnExamen, A::Accept, S::Recevable),
            (S::EnExamen, A::Reject, S::NonRecevable),
            (S::Recevable, A::DepositLivret2, S::Livret2Depose),
            (S::Livret2Depose, A::PlanJury, S::JuryPlanifie),
            (S::JuryPlanifie, A::Decide, S::Decision),
        ];
        for s in S::ALL.into_iter().filter(|s| !s.is_final()) {
            v.push((s, A::Abandon, S::Abandonnee));
        }
        v
    }

    #[test]
    fn every_allowed_transition_by_the_right_actor() {
        for (from, action, to) in allowed() {
            assert_eq!(
                next(from, action, action.by()),
                Ok(to),
                "{from:?} {action:?}"
            );
        }
    }

    #[test]
    fn every_other_transition_is_refused() {
        let allowed = allowed();
        for from in Status::ALL {
            for action in Action::ALL {
                if allowed.iter().any(|(f, a, _)| *f == from && *a == action) {
                    continue;
                }
                for actor in [Actor::Staff, Actor::Candidate] {
                    assert_eq!(
                        next(from, action, actor),
                        Err(Refusal::NotFromState { from, action }),
                        "{from:?} {action:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn allowed_transitions_by_the_wrong_actor_are_refused() {
        for (from, action, _) in allowed() {
            let wrong = match action.by() {
                Actor::Staff => Actor::Candidate,
                Actor::Candidate => Actor::Staff,
            };
            assert_eq!(next(from, action, wrong), Err(Refusal::NotYours));
        }
    }

    #[test]
    fn skipping_a_step_is_refused() {
        assert!(next(Status::Deposee, Action::Accept, Actor::Staff).is_err());
        assert!(next(Status::Recevable, Action::Decide, Actor::Staff).is_err());
        assert!(next(Status::EnExamen, Action::PlanJury, Actor::Staff).is_err());
    }

    #[test]
    fn states_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
        for k in DocKind::ALL {
            assert_eq!(DocKind::parse(k.as_str()), Some(k));
        }
    }

    #[test]
    fn decisions() {
        let req: Vec<String> = ["M1", "M2", "M3"].map(String::from).to_vec();
        let m2 = vec!["M2".to_string()];
        assert_eq!(check_decision(Outcome::Total, &[], &req), Ok(req.clone()));
        assert_eq!(check_decision(Outcome::Partial, &m2, &req), Ok(m2.clone()));
        assert!(check_decision(Outcome::Partial, &[], &req).is_err());
        assert!(check_decision(Outcome::Partial, &req, &req).is_err());
        assert!(check_decision(Outcome::None, &m2, &req).is_err());
        assert_eq!(check_decision(Outcome::None, &[], &req), Ok(vec![]));
        assert!(check_decision(Outcome::Partial, &["M4".to_string()], &req).is_err());
    }

    #[test]
    fn threshold_warns_but_zero_disables() {
        assert!(threshold_warning(1000 * 60, 1607).is_some());
        assert!(threshold_warning(1607 * 60, 1607).is_none());
        assert!(threshold_warning(10, 0).is_none());
    }

    #[test]
    fn livret2_deadline_in_months() {
        let at = NaiveDate::from_ymd_opt(2026, 1, 31)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap();
        assert_eq!(
            livret2_due(at, 12),
            NaiveDate::from_ymd_opt(2027, 1, 31).unwrap()
        );
        assert_eq!(
            livret2_due(at, 1),
            NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()
        );
    }

    #[test]
    fn experience_checks() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let mut e = Experience {
            from: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
            employer: "Cabinet".into(),
            role: "Secrétaire médicale".into(),
            minutes: 1607 * 60,
            missions: vec!["administratif".into()],
        };
        assert_eq!(check_experience(&e, today), Ok(()));
        e.missions = vec!["piratage".into()];
        assert!(check_experience(&e, today).is_err());
        e.missions = vec!["administratif".into()];
        e.minutes = 100_000 * 60;
        assert!(check_experience(&e, today).is_err());
        e.minutes = 60;
        e.to = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        assert!(check_experience(&e, today).is_err());
    }

    #[test]
    fn an_unconfirmed_request_expires_after_48_hours() {
        let now = NaiveDate::from_ymd_opt(2026, 12, 10)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        assert_eq!(pending_cutoff(now).to_string(), "2026-12-08 09:00:00");
    }

    #[test]
    fn path_like_names_are_refused() {
        assert!(display_name("../../etc/passwd").is_err());
        assert!(display_name("C:\\x\\cerfa.pdf").is_err());
        assert!(display_name("a\u{0}b.pdf").is_err());
        assert_eq!(
            display_name("CERFA 12818.pdf"),
            Ok("CERFA 12818.pdf".into())
        );
        assert_eq!(display_name(""), Ok("document".into()));
    }
}
