//! The funding file's vocabulary and its checks, without I/O: what a form may say, which
//! status changes go backwards (and so need a reason), and how amounts and hours are read
//! and printed the French way.

use chrono::NaiveDate;
use serde::Serialize;

use crate::base::field::FieldError;
use crate::base::format;

/// Days after which a file sent without an answer is flagged on the staff list.
pub const ALERT_AFTER_DAYS: i64 = 30;
const MAX_NUMBER: usize = 60;
const MAX_TEXT: usize = 1000;

macro_rules! choices {
    ($name:ident { $($v:ident = $db:literal, $label:literal;)* }) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name { $($v),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $db),* }
            }

            pub fn label(self) -> &'static str {
                match self { $($name::$v => $label),* }
            }

            pub fn from_db(raw: &str) -> Option<$name> {
                match raw { $($db => Some($name::$v),)* _ => None }
            }

            /// `(value, label)` pairs for a `<select>`.
            pub fn options() -> Vec<(&'static str, &'static str)> {
                Self::ALL.iter().map(|c| (c.as_str(), c.label())).collect()
            }
        }
    };
}

choices!(Funder {
    OpcoEp = "opco_ep", "OPCO EP";
    FranceTravail = "france_travail", "France Travail";
    Employer = "employeur", "Employeur";
    SelfFunded = "autofinancement", "Autofinancement";
    Other = "autre", "Autre";
});

choices!(Scheme {
    ProContract = "contrat_pro", "Contrat de professionnalisation";
    Proa = "proa", "ProA";
    SkillsPlan = "plan", "Plan de développement des compétences";
    Other = "autre", "Autre";
});

choices!(Status {
    ToSend = "a_envoyer", "À envoyer";
    Sent = "envoye", "Envoyé";
    Approved = "accorde", "Accordé";
    Refused = "refuse", "Refusé";
});

impl Status {
    /// How far along the request is; a decision either way is the last step.
    fn step(self) -> u8 {
        match self {
            Status::ToSend => 0,
            Status::Sent => 1,
            Status::Approved | Status::Refused => 2,
        }
    }
}

/// A change of status that undoes a step, or turns one decision into the other: it needs a
/// typed reason, kept in the history.
pub fn goes_back(from: Status, to: Status) -> bool {
    to.step() < from.step() || (from.step() == 2 && to.step() == 2 && from != to)
}

/// The form as typed.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct Form {
    #[serde(default)]
    pub funder: String,
    #[serde(default)]
    pub scheme: String,
    #[serde(default)]
    pub file_number: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub sent_on: String,
    #[serde(default)]
    pub decided_on: String,
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub hours: String,
    #[serde(default)]
    pub refusal_reason: String,
    #[serde(default)]
    pub back_reason: String,
}

/// A checked file, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct File {
    pub funder: String,
    pub scheme: String,
    pub file_number: String,
    pub status: String,
    pub sent_on: Option<NaiveDate>,
    pub decided_on: Option<NaiveDate>,
    pub approved_cents: Option<i64>,
    pub approved_minutes: Option<i32>,
    pub refusal_reason: Option<String>,
}

/// What the form may change, given the file as it stands (`None`: no file yet), the
/// programme's hours (in minutes) and today. Answers the file to store and, when the status
/// goes back, the reason given.
pub fn check(
    form: &Form,
    current: Option<&File>,
    programme_minutes: i64,
    today: NaiveDate,
) -> Result<(File, Option<String>), Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut err = |field: &str, msg: String| errors.push(FieldError::new(field, msg));
    let funder = Funder::from_db(form.funder.trim());
    if funder.is_none() {
        err("funder", "Choisissez le financeur dans la liste.".into());
    }
    let scheme = Scheme::from_db(form.scheme.trim());
    if scheme.is_none() {
        err("scheme", "Choisissez le dispositif dans la liste.".into());
    }
    let status = Status::from_db(form.status.trim());
    if status.is_none() {
        err(
            "status",
            "Choisissez le statut du dossier dans la liste.".into(),
        );
    }
    let file_number = form.file_number.trim().to_string();
    if file_number.chars().count() > MAX_NUMBER {
        err(
            "file_number",
            format!("Le numéro de dossier dépasse {MAX_NUMBER} caractères."),
        );
    }
    let sent_on = day(&mut err, "sent_on", "La date d'envoi", &form.sent_on);
    let decided_on = day(
        &mut err,
        "decided_on",
        "La date de décision",
        &form.decided_on,
    );
    let refusal = text(&form.refusal_reason);
    let back_reason = text(&form.back_reason);
    if [&refusal, &back_reason]
        .iter()
        .any(|t| t.as_ref().is_some_and(|t| t.chars().count() > MAX_TEXT))
    {
        err("reason", format!("Un motif dépasse {MAX_TEXT} caractères."));
    }
    let mut file = File {
        funder: funder.map_or("", |f| f.as_str()).into(),
        scheme: scheme.map_or("", |s| s.as_str()).into(),
        file_number,
        status: status.map_or("", |s| s.as_str()).into(),
        sent_on: None,
        decided_on: None,
        approved_cents: None,
        approved_minutes: None,
        refusal_reason: None,
    };
    if let Some(status) = status {
        step_fields(
            &mut err,
            status,
            &mut file,
            (sent_on, decided_on),
            form,
            refusal,
            programme_minutes,
            today,
        );
        let before = current.and_then(|c| Status::from_db(&c.status));
        if before.is_some_and(|b| goes_back(b, status)) && back_reason.is_none() {
            err(
                "back_reason",
                format!(
                    "Le dossier passe de « {} » à « {} » : indiquez le motif de ce retour en arrière.",
                    before.map_or("", |b| b.label()),
                    status.label()
                ),
            );
        }
    }
    if errors.is_empty() {
        let back = current
            .and_then(|c| Status::from_db(&c.status))
            .zip(Status::from_db(&file.status))
            .filter(|(b, a)| goes_back(*b, *a))
            .and(back_reason);
        Ok((file, back))
    } else {
        Err(errors)
    }
}

/// The fields each status asks for: the sending date from "envoyé" on, the decision's date,
/// the amount and hours of an approval, the reason of a refusal.
#[allow(clippy::too_many_arguments)]
fn step_fields(
    err: &mut impl FnMut(&str, String),
    status: Status,
    file: &mut File,
    (sent_on, decided_on): (Option<NaiveDate>, Option<NaiveDate>),
    form: &Form,
    refusal: Option<String>,
    programme_minutes: i64,
    today: NaiveDate,
) {
    if status == Status::ToSend {
        return;
    }
    if file.file_number.is_empty() {
        err(
            "file_number",
            "Indiquez le numéro du dossier donné par le financeur.".into(),
        );
    }
    match sent_on {
        None => err("sent_on", "Indiquez la date d'envoi du dossier.".into()),
        Some(d) if d > today => err(
            "sent_on",
            format!(
                "La date d'envoi ({}) est dans le futur : un dossier envoyé l'a été au plus tard aujourd'hui.",
                format::date(d)
            ),
        ),
        Some(_) => file.sent_on = sent_on,
    }
    if status == Status::Sent {
        return;
    }
    match decided_on {
        None => err("decided_on", "Indiquez la date de la décision.".into()),
        Some(d) if d > today => err(
            "decided_on",
            format!(
                "La date de décision ({}) est dans le futur.",
                format::date(d)
            ),
        ),
        Some(d) if sent_on.is_some_and(|s| d < s) => err(
            "decided_on",
            "La date de décision précède la date d'envoi.".into(),
        ),
        Some(_) => file.decided_on = decided_on,
    }
    if status == Status::Refused {
        match refusal {
            None => err(
                "refusal_reason",
                "Indiquez le motif du refus donné par le financeur.".into(),
            ),
            Some(r) => file.refusal_reason = Some(r),
        }
        return;
    }
    match parse_euros(&form.amount) {
        Ok(c) => file.approved_cents = Some(c),
        Err(m) => err("amount", m),
    }
    match parse_hours(&form.hours) {
        Ok(m) if i64::from(m) > programme_minutes => err(
            "hours",
            format!(
                "{} accordées dépassent les {} du programme.",
                format::minutes(i64::from(m)),
                format::minutes(programme_minutes)
            ),
        ),
        Ok(m) => file.approved_minutes = Some(m),
        Err(m) => err("hours", m),
    }
}

fn text(raw: &str) -> Option<String> {
    let t = raw.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn day(
    err: &mut impl FnMut(&str, String),
    field: &str,
    what: &str,
    raw: &str,
) -> Option<NaiveDate> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let d = format::parse_day(raw);
    if d.is_none() {
        err(
            field,
            format!("{what} « {raw} » n'est pas une date : écrivez-la au format JJ/MM/AAAA."),
        );
    }
    d
}

/// An amount in euros as typed in France ("1 250,00", "1250.5", "1 250 €") → cents.
pub fn parse_euros(raw: &str) -> Result<i64, String> {
    let cleaned: String = raw
        .trim()
        .trim_end_matches('€')
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{202f}')
        .collect();
    let bad = || {
        format!(
            "Le montant accordé « {} » n'est pas un nombre d'euros (par exemple 1 250,00).",
            raw.trim()
        )
    };
    if cleaned.is_empty() {
        return Err("Indiquez le montant accordé, en euros.".into());
    }
    let (units, cents) = match cleaned.replace('.', ",").split_once(',') {
        Some((u, c)) => (u.to_string(), c.to_string()),
        None => (cleaned.clone(), String::new()),
    };
    if units.is_empty()
        || cents.len() > 2
        || !units.chars().all(|c| c.is_ascii_digit())
        || !cents.chars().all(|c| c.is_ascii_digit())
        || units.len() > 9
    {
        return Err(bad());
    }
    let units: i64 = units.parse().map_err(|_| bad())?;
    let cents: i64 = format!("{cents:0<2}").parse().map_err(|_| bad())?;
    let total = units * 100 + cents;
    if total == 0 {
        return Err("Le montant accordé doit être supérieur à zéro.".into());
    }
    Ok(total)
}

/// Hours as typed ("450", "12,5", "12 h 30") → minutes.
pub fn parse_hours(raw: &str) -> Result<i32, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Err("Indiquez le nombre d'heures accordées.".into());
    }
    let bad = || {
        format!(
            "Les heures accordées « {t} » ne sont pas un nombre d'heures (par exemple 450 ou 12 h 30)."
        )
    };
    let compact: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    let minutes = if let Some((h, m)) = compact.split_once('h') {
        let h: i64 = h.parse().map_err(|_| bad())?;
        let m: i64 = if m.is_empty() {
            0
        } else {
            m.parse().map_err(|_| bad())?
        };
        if m >= 60 {
            return Err(bad());
        }
        h.checked_mul(60).and_then(|h| h.checked_add(m))
    } else {
        let v: f64 = compact.replace(',', ".").parse().map_err(|_| bad())?;
        (v.is_finite() && (0.0..1e6).contains(&v)).then(|| (v * 60.0).round() as i64)
    };
    match minutes.and_then(|m| i32::try_from(m).ok()) {
        Some(0) => Err("Les heures accordées doivent être supérieures à zéro.".into()),
        Some(m) => Ok(m),
        None => Err(bad()),
    }
}

/// Cents printed the French way: "1 250,00 €".
pub fn euros(cents: i64) -> String {
    let units = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push('\u{a0}');
        }
        grouped.push(c);
    }
    format!("{grouped},{:02}\u{a0}€", cents % 100)
}

/// The days a sent file has waited for an answer, and whether it is to be flagged.
pub fn waiting(sent_on: NaiveDate, today: NaiveDate) -> (i64, bool) {
    let days = (today - sent_on).num_days().max(0);
    (days, days > ALERT_AFTER_DAYS)
}

/// The reference printed on a certificate and in the funders' export: "OPCO EP n° 123".
pub fn reference(funder: &str, file_number: &str) -> Option<String> {
    let funder = Funder::from_db(funder)?.label();
    let number = file_number.trim();
    Some(if number.is_empty() {
        funder.to_string()
    } else {
        format!("{funder} n° {number}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn form(status: &str) -> Form {
        Form {
            funder: "opco_ep".into(),
            scheme: "contrat_pro".into(),
            file_number: "EP-1".into(),
            status: status.into(),
            sent_on: "02/11/2026".into(),
            decided_on: "20/11/2026".into(),
            amount: "1 250,50".into(),
            hours: "400".into(),
            ..Form::default()
        }
    }

    #[test]
    fn amounts_and_hours_read_the_french_way() {
        assert_eq!(parse_euros("1 250,00 €"), Ok(125_000));
        assert_eq!(parse_euros("1250.5"), Ok(125_050));
        assert!(parse_euros("douze").is_err());
        assert!(parse_euros("1,234").is_err());
        assert_eq!(parse_hours("12 h 30"), Ok(750));
        assert_eq!(parse_hours("12,5"), Ok(750));
        assert!(parse_hours("-3").is_err());
        assert_eq!(euros(125_050), "1\u{a0}250,50\u{a0}€");
        assert_eq!(euros(5), "0,05\u{a0}€");
    }

    #[test]
    fn an_approval_is_checked_against_the_programme() {
        let today = d("2026-12-05");
        let (file, back) = check(&form("accorde"), None, 500 * 60, today).unwrap();
        assert_eq!(file.approved_cents, Some(125_050));
        assert_eq!(file.approved_minutes, Some(400 * 60));
        assert_eq!(back, None);
        let errs = check(&form("accorde"), None, 300 * 60, today).unwrap_err();
        assert_eq!(errs[0].field, "hours");
    }

    #[test]
    fn sent_in_the_future_or_refused_without_reason_is_refused() {
        let mut f = form("envoye");
        f.sent_on = "06/12/2026".into();
        let errs = check(&f, None, 0, d("2026-12-05")).unwrap_err();
        assert_eq!(errs[0].field, "sent_on");
        let errs = check(&form("refuse"), None, 0, d("2026-12-05")).unwrap_err();
        assert_eq!(errs[0].field, "refusal_reason");
    }

    #[test]
    fn going_back_needs_a_reason() {
        let today = d("2026-12-05");
        let (approved, _) = check(&form("accorde"), None, 500 * 60, today).unwrap();
        let errs = check(&form("envoye"), Some(&approved), 500 * 60, today).unwrap_err();
        assert_eq!(errs[0].field, "back_reason");
        let mut f = form("envoye");
        f.back_reason = "Accord saisi par erreur".into();
        let (_, back) = check(&f, Some(&approved), 500 * 60, today).unwrap();
        assert_eq!(back.as_deref(), Some("Accord saisi par erreur"));
        assert!(goes_back(Status::Approved, Status::Refused));
        assert!(!goes_back(Status::Sent, Status::Approved));
    }

    #[test]
    fn the_wait_is_counted_from_the_sending() {
        assert_eq!(waiting(d("2026-10-21"), d("2026-12-05")), (45, true));
        assert_eq!(waiting(d("2026-11-20"), d("2026-12-05")), (15, false));
        assert_eq!(
            reference("opco_ep", "EP-1").as_deref(),
            Some("OPCO EP n° EP-1")
        );
    }
}
