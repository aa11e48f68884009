//! What a step of a VAE file needs besides the state machine: the livret 1 before the
//! recevabilité, the jury before its decision; and the Paris year of a request.

use chrono::NaiveDateTime;

use super::DocKind;
use crate::base::format;

/// A file is declared recevable only once its livret 1 (the CERFA 12818 form) is attached;
/// the other pieces may follow, the form itself may not.
pub fn check_recevable(kinds: &[DocKind]) -> Result<(), &'static str> {
    if kinds.contains(&DocKind::Cerfa12818) {
        Ok(())
    } else {
        Err(
            "Le livret 1 (formulaire CERFA 12818) n'est pas joint au dossier : \
             il ne peut pas être déclaré recevable sans lui.",
        )
    }
}

/// A decision is recorded once the jury has met: from its planned time (UTC) on, never
/// before. `now` and `jury_at` are both UTC; the message speaks Paris time.
pub fn check_decision_time(
    now: NaiveDateTime,
    jury_at: Option<NaiveDateTime>,
) -> Result<(), String> {
    match jury_at {
        None => {
            Err("Aucun jury n'est planifié : planifiez-le avant d'enregistrer sa décision.".into())
        }
        Some(at) if now < at => Err(format!(
            "Le jury est prévu le {} : sa décision ne peut pas être enregistrée avant.",
            format::datetime(at)
        )),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::request_year;
    use super::*;
    use chrono::NaiveDate;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    #[test]
    fn the_year_of_a_request_is_the_paris_calendar_year() {
        // Paris is UTC+1 in winter: 31/12 23:30 Paris is 22:30 UTC, 01/01 00:30 Paris is
        // 23:30 UTC the day before.
        assert_eq!(request_year(utc(2026, 12, 31, 22, 30)), 2026);
        assert_eq!(request_year(utc(2026, 12, 31, 22, 59)), 2026);
        assert_eq!(request_year(utc(2026, 12, 31, 23, 0)), 2027);
        assert_eq!(request_year(utc(2026, 12, 31, 23, 30)), 2027);
        assert_eq!(request_year(utc(2027, 1, 1, 0, 30)), 2027);
        assert_eq!(request_year(utc(2026, 1, 1, 0, 0)), 2026);
    }

    #[test]
    fn recevable_only_with_the_livret_1_form() {
        assert!(check_recevable(&[DocKind::Cerfa12818]).is_ok());
        assert!(check_recevable(&[DocKind::Bulletin, DocKind::Cerfa12818]).is_ok());
        let no = check_recevable(&[
            DocKind::Declaration,
            DocKind::AttestationEmployeur,
            DocKind::Bulletin,
            DocKind::Livret2,
        ])
        .unwrap_err();
        assert!(no.contains("CERFA 12818"), "{no}");
        assert!(check_recevable(&[]).is_err());
    }

    #[test]
    fn a_decision_waits_for_the_jury() {
        // 15/03/2027 at 14 h 30 in Paris is 13:30 UTC.
        let jury = utc(2027, 3, 15, 13, 30);
        assert!(check_decision_time(jury, Some(jury)).is_ok());
        assert!(check_decision_time(utc(2027, 3, 15, 13, 31), Some(jury)).is_ok());
        let early = check_decision_time(utc(2027, 3, 15, 13, 29), Some(jury)).unwrap_err();
        assert!(early.contains("15/03/2027 à 14 h 30"), "{early}");
        assert!(check_decision_time(utc(2027, 3, 14, 13, 30), Some(jury)).is_err());
        assert!(check_decision_time(jury, None).is_err());
    }
}
