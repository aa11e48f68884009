//! The PDF of one half-day's sign-in sheet: who was there, from when to when, what each
//! trainee was credited, how and when each signed, and the trainer's closing signature.

use chrono::NaiveTime;

use super::rules::signed_via_label;
use super::store::SheetDoc;
use crate::base::format;
use crate::base::pdf::{Column, MARGIN, PdfError, Report, Row};
use crate::tracking::attendance::Entry;
use crate::tracking::rules::{CLOSED, half_days, status_label};

pub const PROVISIONAL: &str = "FEUILLE NON CLOSE — document provisoire";

fn hm(t: NaiveTime) -> String {
    t.format("%H h %M").to_string()
}

fn signature(at: Option<chrono::NaiveDateTime>, via: Option<&str>) -> String {
    match at {
        Some(at) => format!("{}\n{}", format::datetime(at), signed_via_label(via)),
        None => "non signé".into(),
    }
}

/// A trainee's line: one status and signature, or the morning's and the afternoon's.
fn line(e: &Entry, two: bool, closed: bool) -> Row {
    let mut cells = vec![e.name.clone()];
    if two {
        cells.push(format!(
            "matin : {}\naprès-midi : {}",
            status_label(&e.status),
            status_label(e.pm_status.as_deref().unwrap_or_default())
        ));
    } else {
        cells.push(status_label(&e.status).to_string());
    }
    cells.push(e.arrived_at.map(hm).unwrap_or_else(|| "—".into()));
    cells.push(e.left_at.map(hm).unwrap_or_else(|| "—".into()));
    cells.push(if closed {
        format::minutes(e.minutes_credited as i64)
    } else {
        "—".into()
    });
    cells.push(signature(e.signed_at, e.signed_via.as_deref()));
    if two {
        cells.push(signature(e.pm_signed_at, e.pm_signed_via.as_deref()));
    }
    Row { cells, bold: false }
}

/// The signature columns: one, or the morning's and the afternoon's side by side.
fn signature_columns(two: bool) -> Vec<Column> {
    if two {
        vec![
            Column::left("Signature matin", MARGIN + 328.0, 82.0),
            Column::left("Signature après-midi", MARGIN + 413.0, 82.0),
        ]
    } else {
        vec![Column::left("Signature", MARGIN + 328.0, 167.0)]
    }
}

/// Who closed and signed the sheet, and in which capacity.
fn closer_words(doc: &SheetDoc) -> String {
    let name = doc.closed_by.clone().unwrap_or_else(|| "—".into());
    match doc.sheet.as_ref().and_then(|sh| sh.closed_as.as_deref()) {
        Some("equipe") => format!(
            "par {name}, membre de l'équipe de l'organisme (aucun formateur n'était désigné)"
        ),
        _ => format!("par le formateur {name}"),
    }
}

pub fn render(doc: &SheetDoc) -> Result<Vec<u8>, PdfError> {
    let s = &doc.session;
    let closed = doc.sheet.as_ref().filter(|sh| sh.status == CLOSED);
    let halves = half_days(s.starts_at, s.ends_at);
    let two = halves.len() > 1;
    let rows: Vec<Row> = doc
        .entries
        .iter()
        .map(|e| line(e, two, closed.is_some()))
        .collect();
    let mut facts = vec![
        ("Organisme :".to_string(), doc.organism.clone()),
        ("Promotion :".into(), doc.cohort.clone()),
        (
            "Module :".into(),
            format!("{} — {}", s.module_code, s.module_title),
        ),
        ("Date :".into(), format::date(s.day)),
        (
            "Horaires :".into(),
            if two {
                format!(
                    "de {} à {} : matin jusqu'à {}, après-midi ensuite, chacun signé",
                    hm(s.starts_at),
                    hm(s.ends_at),
                    hm(halves[1].starts_at)
                )
            } else {
                format!("de {} à {}", hm(s.starts_at), hm(s.ends_at))
            },
        ),
        ("Lieu :".into(), s.place.clone()),
        (
            "Formateur :".into(),
            doc.trainer.clone().unwrap_or_else(|| "non désigné".into()),
        ),
    ];
    if let Some(sh) = &doc.sheet {
        facts.push((
            "Feuille ouverte le :".into(),
            format::datetime(sh.opened_at),
        ));
    }
    let total: i64 = doc.entries.iter().map(|e| e.minutes_credited as i64).sum();
    let by_itself = closed.is_some_and(|sh| sh.closed_at.is_some() && sh.closed_by.is_none());
    let notes = match closed.and_then(|sh| sh.closed_at) {
        Some(at) if by_itself => vec![format!(
            "Feuille close automatiquement le {}, faute d'avoir été close par le formateur : \
             SIGNATURE DU FORMATEUR MANQUANTE. Les lignes non signées sont des absences ; elle \
             ne peut plus être modifiée. Temps crédité à l'ensemble des stagiaires : {}.",
            format::datetime(at),
            format::minutes(total)
        )],
        Some(at) => vec![format!(
            "Feuille close le {} et signée {} ; elle ne peut plus être \
             modifiée. Temps crédité à l'ensemble des stagiaires : {}.",
            format::datetime(at),
            closer_words(doc),
            format::minutes(total)
        )],
        None => vec![
            "Feuille non close : les présences ne sont pas encore comptées dans les heures \
             et peuvent encore changer."
                .into(),
        ],
    };
    Report {
        title: "Feuille d'émargement".into(),
        author: doc.organism.clone(),
        heading: vec![
            "Demi-journée de formation en présentiel. Signature électronique de chaque \
             stagiaire, sur son appareil ou sur celui du formateur."
                .into(),
        ],
        facts,
        warning: closed.is_none().then(|| PROVISIONAL.to_string()),
        columns: [
            vec![
                Column::left("Stagiaire", MARGIN, 110.0),
                Column::left("Statut", MARGIN + 113.0, 92.0),
                Column::left("Arrivée", MARGIN + 207.0, 36.0),
                Column::left("Départ", MARGIN + 245.0, 36.0),
                Column::right("Crédité", MARGIN + 281.0, 38.0),
            ],
            signature_columns(two),
        ]
        .concat(),
        rows,
        empty: "Aucun stagiaire sur cette feuille.".into(),
        notes,
        dated: doc.session.day,
    }
    .render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cohorts::store::SessionRow;
    use crate::tracking::attendance::{Entry, Sheet};

    fn doc(closed: bool, trainees: usize) -> SheetDoc {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 10, 5).unwrap();
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        let at = day.and_hms_opt(7, 2, 0).unwrap();
        SheetDoc {
            organism: "Institut Santé Formation".into(),
            cohort: "Promotion 2026".into(),
            session: SessionRow {
                id: 1,
                cohort_id: 1,
                module_id: 1,
                module_code: "M1".into(),
                module_title: "Suivi du parcours de santé du patient".into(),
                trainer_id: Some(2),
                day,
                starts_at: t(9, 0),
                ends_at: t(12, 30),
                place: "Salle 2".into(),
                planned_minutes: 210,
            },
            trainer: Some("Nadia Benali".into()),
            sheet: Some(Sheet {
                id: 1,
                session_id: 1,
                status: if closed { "closed" } else { "open" }.into(),
                opened_by: 2,
                opened_at: at,
                closed_by: closed.then_some(2),
                closed_at: closed.then_some(at + chrono::Duration::hours(4)),
                closed_as: closed.then(|| "formateur".into()),
            }),
            closed_by: closed.then(|| "Nadia Benali".into()),
            entries: (0..trainees)
                .map(|i| Entry {
                    trainee_id: i as i64,
                    name: format!("Stagiaire {i:03}"),
                    status: "present".into(),
                    signed_at: Some(at),
                    signed_via: Some(
                        if i % 2 == 0 {
                            "stagiaire"
                        } else {
                            "formateur:2"
                        }
                        .into(),
                    ),
                    arrived_at: (i == 1).then(|| t(9, 20)),
                    left_at: None,
                    minutes_credited: if closed { 210 } else { 0 },
                    pm_status: None,
                    pm_signed_at: None,
                    pm_signed_via: None,
                })
                .collect(),
        }
    }

    #[test]
    fn closed_and_open_sheets_render_and_long_lists_take_more_pages() {
        let closed = render(&doc(true, 12)).unwrap();
        assert!(closed.starts_with(b"%PDF-"));
        assert_eq!(closed, render(&doc(true, 12)).unwrap());
        assert_ne!(render(&doc(false, 12)).unwrap(), closed);
        assert!(render(&doc(true, 120)).unwrap().len() > closed.len());
    }

    #[test]
    fn a_day_long_sheet_prints_a_signature_for_each_half_day() {
        let mut d = doc(true, 3);
        d.session.starts_at = NaiveTime::from_hms_opt(8, 0, 0).unwrap();
        d.session.ends_at = NaiveTime::from_hms_opt(18, 0, 0).unwrap();
        for e in &mut d.entries {
            e.pm_status = Some("present".into());
            e.pm_signed_at = e.signed_at;
            e.pm_signed_via = Some("stagiaire".into());
        }
        let row = line(&d.entries[0], true, true);
        assert_eq!(row.cells.len(), 7);
        assert!(row.cells[1].contains("après-midi : présent"));
        assert_eq!(signature_columns(true).len(), 2);
        assert!(render(&d).unwrap().starts_with(b"%PDF-"));
        if let Some(sh) = d.sheet.as_mut() {
            sh.closed_as = Some("equipe".into());
        }
        assert!(closer_words(&d).contains("membre de l'équipe"));
    }
}
