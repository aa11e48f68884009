//! Pure rules of the evidence pack: the period asked for, file names, labels, decimal hours.

use chrono::{NaiveDate, NaiveTime};

use crate::base::format::parse_day;

/// A period of Paris days, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// Supporting documents are kept six years: a longer period is surely a typing mistake.
const MAX_DAYS: i64 = 6 * 366;

/// The period of `du` and `au`, or the field at fault and why.
pub fn parse_period(du: &str, au: &str) -> Result<Period, (&'static str, &'static str)> {
    let from = parse_day(du).ok_or(("du", "Date de début invalide (jj/mm/aaaa)."))?;
    let to = parse_day(au).ok_or(("au", "Date de fin invalide (jj/mm/aaaa)."))?;
    if to < from {
        return Err(("au", "La fin de la période précède son début."));
    }
    if (to - from).num_days() > MAX_DAYS {
        return Err(("au", "La période ne peut pas dépasser six ans."));
    }
    Ok(Period { from, to })
}

/// `matin` before 13 h, `apres-midi` after (file names stay ASCII).
pub fn half_day(starts_at: NaiveTime) -> &'static str {
    if starts_at < NaiveTime::from_hms_opt(13, 0, 0).unwrap_or(NaiveTime::MIN) {
        "matin"
    } else {
        "apres-midi"
    }
}

/// Keeps letters, digits and dashes of a code, so that a path never escapes its folder.
fn path_safe(code: &str) -> String {
    let s: String = code
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "module".into() } else { s }
}

/// `emargements/2026-10-05-matin-M1.pdf`.
pub fn sheet_path(day: NaiveDate, starts_at: NaiveTime, module_code: &str) -> String {
    format!(
        "emargements/{}-{}-{}.pdf",
        day.format("%Y-%m-%d"),
        half_day(starts_at),
        path_safe(module_code)
    )
}

/// How a line was signed, from `attendance_entries.signed_via`.
pub fn signed_via_label(via: Option<&str>) -> &'static str {
    match via {
        Some("stagiaire") => "sur son appareil",
        Some(v) if v.starts_with("formateur") => "sur l'appareil du formateur",
        Some(_) => "autre",
        None => "—",
    }
}

/// The author's role as an inspector reads it.
pub fn role_label(role: &str) -> &'static str {
    match role {
        "trainee" => "stagiaire",
        "trainer" => "formateur",
        "organism_admin" => "administrateur de l'organisme",
        "admin" => "administrateur de la plateforme",
        "doctor" => "médecin employeur",
        _ => "autre",
    }
}

/// A follow-up message's kind as the follow-up pages name it.
pub fn message_kind_label(kind: &str) -> &'static str {
    use crate::followup::rules::MessageKind;
    MessageKind::parse(kind).map_or("Message", MessageKind::label)
}

/// Seconds as decimal hours with a comma, for spreadsheets: `12,50`.
pub fn decimal_hours(secs: i64) -> String {
    format!("{:.2}", secs as f64 / 3600.0).replace('.', ",")
}

/// The pack's file name: who and which period, readable in a folder of packs
/// (`preuves-helene-lefevre-12-2026-09-01-2026-11-30.zip`); the id keeps namesakes apart.
pub fn pack_file_name(name: &str, trainee_id: i64, p: Period) -> String {
    let folded = crate::base::field::fold(name);
    let slug = folded
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let who = if slug.is_empty() {
        "stagiaire".to_string()
    } else {
        slug
    };
    format!(
        "preuves-{who}-{trainee_id}-{}-{}.zip",
        p.from.format("%Y-%m-%d"),
        p.to.format("%Y-%m-%d")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pack_is_named_by_its_trainee_and_period() {
        let p = Period {
            from: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
        };
        assert_eq!(
            pack_file_name("Hélène Lefèvre", 12, p),
            "preuves-helene-lefevre-12-2026-09-01-2026-11-30.zip"
        );
        assert_eq!(
            pack_file_name("Aïssatou N'Diaye", 7, p),
            "preuves-aissatou-n-diaye-7-2026-09-01-2026-11-30.zip"
        );
        assert_eq!(
            pack_file_name("João Da Silva", 9, p),
            "preuves-joao-da-silva-9-2026-09-01-2026-11-30.zip"
        );
        assert_eq!(
            pack_file_name("李", 3, p),
            "preuves-stagiaire-3-2026-09-01-2026-11-30.zip"
        );
    }

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    #[test]
    fn periods_read_both_date_styles_and_refuse_nonsense() {
        assert_eq!(
            parse_period("01/09/2026", "2026-11-30"),
            Ok(Period {
                from: d(9, 1),
                to: d(11, 30)
            })
        );
        assert_eq!(
            parse_period("05/10/2026", "05/10/2026").unwrap().to,
            d(10, 5)
        );
        assert_eq!(
            parse_period("31/02/2026", "01/03/2026").unwrap_err().0,
            "du"
        );
        assert_eq!(parse_period("01/09/2026", "demain").unwrap_err().0, "au");
        assert_eq!(
            parse_period("30/11/2026", "01/09/2026").unwrap_err().1,
            "La fin de la période précède son début."
        );
        assert!(parse_period("01/01/2010", "01/01/2026").is_err());
    }

    #[test]
    fn sheet_files_are_named_by_day_half_day_and_module() {
        let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
        assert_eq!(
            sheet_path(d(10, 5), t(9), "M1"),
            "emargements/2026-10-05-matin-M1.pdf"
        );
        assert_eq!(
            sheet_path(d(10, 5), t(14), "../M 2"),
            "emargements/2026-10-05-apres-midi-___M_2.pdf"
        );
    }

    #[test]
    fn labels_and_hours_read_the_french_way() {
        assert_eq!(signed_via_label(Some("stagiaire")), "sur son appareil");
        assert_eq!(
            signed_via_label(Some("formateur:12")),
            "sur l'appareil du formateur"
        );
        assert_eq!(signed_via_label(None), "—");
        assert_eq!(role_label("trainer"), "formateur");
        assert_eq!(message_kind_label("reponse"), "Réponse");
        assert_eq!(message_kind_label("autre"), "Message");
        assert_eq!(decimal_hours(45_000), "12,50");
        assert_eq!(decimal_hours(0), "0,00");
    }
}
