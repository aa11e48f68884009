//! Distance activity of a trainee by day and module: first and last activity, time
//! credited, lessons studied and completed; as a CSV and as a readable PDF with totals.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};

use super::rules::{Period, decimal_hours};
use super::store::{DayActivity, LessonEvent};
use crate::base::format;
use crate::base::paris;
use crate::base::pdf::{Column, MARGIN, PdfError, Report, Row};
use crate::cohorts::import::spreadsheet_safe;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DayRow {
    pub day: NaiveDate,
    pub module_code: String,
    pub module_title: String,
    pub first_at: Option<NaiveDateTime>,
    pub last_at: Option<NaiveDateTime>,
    pub seconds: i64,
    pub studied: Vec<String>,
    pub completed: Vec<String>,
}

/// One row per Paris day and module that has credited time or a lesson studied or done,
/// by day then module order.
pub fn day_rows(
    activity: &[DayActivity],
    studied: &[LessonEvent],
    completed: &[LessonEvent],
) -> Vec<DayRow> {
    let mut by: BTreeMap<(NaiveDate, i32, String), DayRow> = BTreeMap::new();
    for a in activity {
        let row = by
            .entry((a.day, a.position, a.module_code.clone()))
            .or_default();
        row.day = a.day;
        row.module_code = a.module_code.clone();
        row.module_title = a.module_title.clone();
        row.seconds += a.distance_seconds;
        row.first_at = Some(row.first_at.map_or(a.first_at, |f| f.min(a.first_at)));
        row.last_at = Some(row.last_at.map_or(a.last_at, |l| l.max(a.last_at)));
    }
    for (list, done) in [(studied, false), (completed, true)] {
        for (at, _, code, title, position, lesson) in list {
            let day = crate::base::paris::paris_date(*at);
            let row = by.entry((day, *position, code.clone())).or_default();
            row.day = day;
            row.module_code = code.clone();
            row.module_title = title.clone();
            let target = if done {
                &mut row.completed
            } else {
                &mut row.studied
            };
            if !target.contains(lesson) {
                target.push(lesson.clone());
            }
        }
    }
    by.into_values().collect()
}

fn time_of(t: Option<NaiveDateTime>) -> String {
    t.map(|t| paris::to_paris(t).format("%H h %M").to_string())
        .unwrap_or_default()
}

pub const CSV_HEADER: [&str; 9] = [
    "Date",
    "Module",
    "Intitulé",
    "Première activité (Paris)",
    "Dernière activité (Paris)",
    "Temps crédité (h)",
    "Temps crédité",
    "Leçons étudiées",
    "Leçons terminées",
];

/// `;`-separated UTF-8 with a BOM, decimal comma.
pub fn csv(rows: &[DayRow]) -> csv::Result<Vec<u8>> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut wr = csv::WriterBuilder::new()
            .delimiter(b';')
            .from_writer(&mut out);
        wr.write_record(CSV_HEADER)?;
        for r in rows {
            wr.write_record([
                format::date(r.day),
                spreadsheet_safe(&r.module_code),
                spreadsheet_safe(&r.module_title),
                time_of(r.first_at),
                time_of(r.last_at),
                decimal_hours(r.seconds),
                format::minutes(r.seconds / 60),
                spreadsheet_safe(&r.studied.join(" | ")),
                spreadsheet_safe(&r.completed.join(" | ")),
            ])?;
        }
        wr.flush()?;
    }
    Ok(out)
}

/// Credited seconds by module code, in the rows' order of first appearance.
pub fn totals(rows: &[DayRow]) -> Vec<(String, String, i64)> {
    let mut out: Vec<(String, String, i64)> = Vec::new();
    for r in rows {
        match out.iter_mut().find(|t| t.0 == r.module_code) {
            Some(t) => t.2 += r.seconds,
            None => out.push((r.module_code.clone(), r.module_title.clone(), r.seconds)),
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

pub fn pdf(organism: &str, trainee: &str, p: Period, rows: &[DayRow]) -> Result<Vec<u8>, PdfError> {
    let lessons = |r: &DayRow| {
        let mut parts = Vec::new();
        if !r.studied.is_empty() {
            parts.push(format!("Étudiées : {}", r.studied.join(", ")));
        }
        if !r.completed.is_empty() {
            parts.push(format!("Terminées : {}", r.completed.join(", ")));
        }
        parts.join("\n")
    };
    let mut lines: Vec<Row> = rows
        .iter()
        .map(|r| Row {
            cells: vec![
                format::date(r.day),
                r.module_code.clone(),
                time_of(r.first_at),
                time_of(r.last_at),
                format::minutes(r.seconds / 60),
                lessons(r),
            ],
            bold: false,
        })
        .collect();
    let totals = totals(rows);
    for (code, title, secs) in &totals {
        lines.push(Row {
            cells: vec![
                "Total".into(),
                code.clone(),
                String::new(),
                String::new(),
                format::minutes(secs / 60),
                title.clone(),
            ],
            bold: true,
        });
    }
    let all: i64 = totals.iter().map(|t| t.2).sum();
    Report {
        title: "Activité de formation à distance".into(),
        author: organism.into(),
        heading: vec![
            "Temps crédité par le serveur à partir de l'activité réelle sur les leçons \
             (pas de simples connexions), par jour (heure de Paris) et par module."
                .into(),
        ],
        facts: vec![
            ("Stagiaire :".into(), trainee.into()),
            (
                "Période :".into(),
                format!("du {} au {}", format::date(p.from), format::date(p.to)),
            ),
            ("Total à distance :".into(), format::minutes(all / 60)),
        ],
        columns: vec![
            Column::left("Date", MARGIN, 55.0),
            Column::left("Module", MARGIN + 58.0, 40.0),
            Column::left("Début", MARGIN + 100.0, 42.0),
            Column::left("Fin", MARGIN + 144.0, 42.0),
            Column::right("Temps", MARGIN + 186.0, 44.0),
            Column::left("Leçons", MARGIN + 240.0, 255.0),
        ],
        rows: lines,
        empty: "Aucune activité à distance sur la période.".into(),
        dated: p.to,
        ..Default::default()
    }
    .render()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(d: u32, h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 10, d)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    fn act(d: u32, code: &str, pos: i32, secs: i64) -> DayActivity {
        DayActivity {
            day: NaiveDate::from_ymd_opt(2026, 10, d).unwrap(),
            module_id: pos as i64,
            module_code: code.into(),
            module_title: format!("Module {code}"),
            position: pos,
            distance_seconds: secs,
            first_at: utc(d, 7, 0),
            last_at: utc(d, 9, 15),
        }
    }

    fn lesson(at: NaiveDateTime, code: &str, pos: i32, title: &str) -> LessonEvent {
        (
            at,
            pos as i64,
            code.into(),
            format!("Module {code}"),
            pos,
            title.into(),
        )
    }

    #[test]
    fn rows_by_paris_day_and_module_with_their_lessons() {
        let rows = day_rows(
            &[
                act(6, "M2", 2, 1800),
                act(5, "M1", 1, 5400),
                act(6, "M1", 1, 600),
            ],
            &[
                lesson(utc(5, 7, 0), "M1", 1, "Le rôle"),
                lesson(utc(5, 8, 0), "M1", 1, "Le rôle"),
                // 23 h 30 UTC on the 6th is already the 7th in Paris.
                lesson(utc(6, 23, 30), "M3", 3, "Hygiène"),
            ],
            &[lesson(utc(5, 9, 0), "M1", 1, "Le rôle")],
        );
        let keys: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.day.format("%d").to_string(),
                    r.module_code.as_str(),
                    r.seconds,
                )
            })
            .collect();
        assert_eq!(
            keys,
            [
                ("05".to_string(), "M1", 5400),
                ("06".into(), "M1", 600),
                ("06".into(), "M2", 1800),
                ("07".into(), "M3", 0),
            ]
        );
        assert_eq!(rows[0].studied, ["Le rôle"]);
        assert_eq!(rows[0].completed, ["Le rôle"]);
        assert_eq!(rows[3].first_at, None);
        let t = totals(&rows);
        assert_eq!(t[0], ("M1".into(), "Module M1".into(), 6000));
        assert_eq!(t.iter().map(|t| t.2).sum::<i64>(), 7800);
    }

    #[test]
    fn the_csv_has_paris_times_and_decimal_commas() {
        let rows = day_rows(&[act(5, "M1", 1, 5400)], &[], &[]);
        let bytes = csv(&rows).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        assert_eq!(
            text.lines().nth(1).unwrap(),
            "05/10/2026;M1;Module M1;09 h 00;11 h 15;1,50;1 h 30;;"
        );
        let empty = String::from_utf8(csv(&[]).unwrap()[3..].to_vec()).unwrap();
        assert_eq!(empty.lines().count(), 1, "headers only");
    }

    #[test]
    fn the_summary_renders_even_when_empty() {
        let p = Period {
            from: NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 10, 31).unwrap(),
        };
        let rows = day_rows(&[act(5, "M1", 1, 5400)], &[], &[]);
        assert!(pdf("OF", "Julie", p, &rows).unwrap().starts_with(b"%PDF-"));
        assert!(pdf("OF", "Julie", p, &[]).unwrap().starts_with(b"%PDF-"));
    }
}
