//! Tables as an XLSX workbook: numbers as numbers, dates as dates, a bold frozen header.
//! Text is always written as a string, never as a formula, so nothing in it runs.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::table::{Cell, Sheet};

pub fn workbook(sheets: &[Sheet]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let hours = Format::new().set_num_format("0.00");
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let rate = Format::new().set_num_format("0.0 %");
    for sheet in sheets {
        let ws = book.add_worksheet();
        ws.set_name(sheet.name)?;
        for (c, h) in sheet.header.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, h, &bold)?;
            ws.set_column_width(c as u16, (h.chars().count() + 2).clamp(10, 40) as f64)?;
        }
        ws.set_freeze_panes(1, 0)?;
        for (r, row) in sheet.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(s) => ws.write_string(r, c, s)?,
                    Cell::Hours(secs) => {
                        ws.write_number_with_format(r, c, *secs as f64 / 3600.0, &hours)?
                    }
                    Cell::Count(n) => ws.write_number(r, c, *n as f64)?,
                    Cell::Date(d) => ws.write_datetime_with_format(r, c, *d, &date)?,
                    Cell::Rate(Some(x)) => ws.write_number_with_format(r, c, *x, &rate)?,
                    Cell::Rate(None) => ws.write_string(r, c, "—")?,
                    Cell::Empty => ws,
                };
            }
        }
    }
    book.save_to_buffer()
}
