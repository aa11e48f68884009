//! A table of typed cells, written once and read as CSV (for French Excel) or XLSX.

use chrono::NaiveDate;

use super::rules;
use crate::cohorts::import::spreadsheet_safe;

#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    /// Seconds, shown as decimal hours.
    Hours(i64),
    Count(i64),
    Date(NaiveDate),
    Rate(Option<f64>),
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    pub fn date(d: Option<NaiveDate>) -> Cell {
        d.map_or(Cell::Empty, Cell::Date)
    }

    /// The cell as people read it.
    pub fn display(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Hours(secs) => crate::base::format::decimal_hours(*secs),
            Cell::Count(n) => n.to_string(),
            Cell::Date(d) => crate::base::format::date(*d),
            Cell::Rate(r) => rules::percent(*r),
            Cell::Empty => String::new(),
        }
    }

    /// The cell as a CSV field: text that a spreadsheet would run is defused.
    fn csv(&self) -> String {
        match self {
            Cell::Text(s) => spreadsheet_safe(s),
            other => other.display(),
        }
    }
}

pub struct Sheet {
    /// The worksheet's name (31 characters at most for Excel).
    pub name: &'static str,
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Sheet {
    pub fn new(name: &'static str, header: &[&str]) -> Sheet {
        Sheet {
            name,
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }
}

/// `;`-separated UTF-8 with a byte-order mark, so that Excel in French opens it as is.
pub fn to_csv(sheet: &Sheet) -> Result<Vec<u8>, csv::Error> {
    let mut out = Vec::new();
    {
        let mut wr = crate::base::format::excel_csv(&mut out);
        wr.write_record(&sheet.header)?;
        for row in &sheet.rows {
            wr.write_record(row.iter().map(Cell::csv))?;
        }
        wr.flush()?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_french_and_defused() {
        let mut s = Sheet::new("Essai", &["Nom", "Heures", "Date", "Taux"]);
        s.rows.push(vec![
            Cell::text("=1+1; \"x\""),
            Cell::Hours(5400),
            Cell::Date(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()),
            Cell::Rate(None),
        ]);
        let out = String::from_utf8(to_csv(&s).unwrap()).unwrap();
        assert_eq!(
            out,
            "\u{feff}Nom;Heures;Date;Taux\n\"'=1+1; \"\"x\"\"\";1,50;23/11/2026;—\n"
        );
    }
}
