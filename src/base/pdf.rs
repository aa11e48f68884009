//! Drawing PDFs with krilla: the DejaVu fonts shipped in `assets/fonts/` (so that accents
//! render) with their real widths, a pen that writes lines and paragraphs top to bottom,
//! documents of several pages, and a plain report (facts, then a table that breaks onto
//! further pages with its header repeated).

use std::sync::OnceLock;

use krilla::color::rgb;
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::tagging::{
    Artifact, ArtifactType, ContentTag, Identifier, SpanTag, Tag, TagGroup, TagTree,
};
use krilla::text::{Font, TextDirection};
use krilla::{Document, SerializeSettings};

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

pub(crate) const PAGE_W: f32 = 595.28;
pub(crate) const PAGE_H: f32 = 841.89;
pub(crate) const MARGIN: f32 = 50.0;

pub(crate) const INK: (u8, u8, u8) = (27, 36, 48);
pub(crate) const MUTED: (u8, u8, u8) = (74, 85, 99);
pub(crate) const ACCENT: (u8, u8, u8) = (11, 92, 171);
pub(crate) const ALERT: (u8, u8, u8) = (176, 32, 32);

/// A font and the advance widths of the characters we print (per unit of font size).
pub(crate) struct Face {
    pub(crate) font: Font,
    widths: Vec<f32>,
    fallback: f32,
}

impl Face {
    fn load(bytes: &'static [u8]) -> Option<Face> {
        use skrifa::MetadataProvider;
        use skrifa::instance::{LocationRef, Size};
        let font = Font::new(bytes.into(), 0)?;
        let f = skrifa::FontRef::new(bytes).ok()?;
        let upem = f
            .metrics(Size::unscaled(), LocationRef::default())
            .units_per_em as f32;
        let charmap = f.charmap();
        let metrics = f.glyph_metrics(Size::unscaled(), LocationRef::default());
        let advance = |c: char| {
            charmap
                .map(c)
                .and_then(|g| metrics.advance_width(g))
                .map(|w| w / upem)
        };
        let fallback = advance('n').unwrap_or(0.6);
        let widths = (0u32..0x2100)
            .map(|u| char::from_u32(u).and_then(advance).unwrap_or(fallback))
            .collect();
        Some(Face {
            font,
            widths,
            fallback,
        })
    }

    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| *self.widths.get(c as usize).unwrap_or(&self.fallback))
            .sum::<f32>()
            * size
    }
}

pub(crate) struct Fonts {
    pub(crate) regular: Face,
    pub(crate) bold: Face,
}

pub(crate) fn fonts() -> Option<&'static Fonts> {
    static FONTS: OnceLock<Option<Fonts>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            Some(Fonts {
                regular: Face::load(REGULAR)?,
                bold: Face::load(BOLD)?,
            })
        })
        .as_ref()
}

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("the embedded fonts could not be read")]
    Fonts,
    #[error("QR code: {0}")]
    Qr(String),
    #[error("PDF: {0}")]
    Pdf(String),
}

/// Draws text on one page, top to bottom.
pub(crate) struct Pen<'a, 'b> {
    pub(crate) s: &'a mut Surface<'b>,
    pub(crate) f: &'static Fonts,
    pub(crate) y: f32,
    /// The text drawn so far, in reading order, for the tag tree read by screen readers.
    marks: Vec<Identifier>,
}

impl Pen<'_, '_> {
    pub(crate) fn color(&mut self, (r, g, b): (u8, u8, u8)) {
        self.s.set_stroke(None);
        self.s.set_fill(Some(Fill {
            paint: rgb::Color::new(r, g, b).into(),
            ..Default::default()
        }));
    }

    pub(crate) fn face(&self, bold: bool) -> &'static Face {
        if bold { &self.f.bold } else { &self.f.regular }
    }

    pub(crate) fn at(&mut self, x: f32, y: f32, size: f32, bold: bool, text: &str) {
        let face = self.face(bold);
        let mark = self.s.start_tagged(ContentTag::Span(SpanTag::empty()));
        self.s.draw_text(
            Point::from_xy(x, y),
            face.font.clone(),
            size,
            text,
            false,
            TextDirection::LeftToRight,
        );
        self.s.end_tagged();
        self.marks.push(mark);
    }

    /// One line at the pen's position, then down.
    pub(crate) fn line(&mut self, x: f32, size: f32, bold: bool, text: &str) {
        self.y += size * 1.25;
        self.at(x, self.y, size, bold, text);
        self.y += size * 0.3;
    }

    pub(crate) fn centered(&mut self, size: f32, bold: bool, text: &str) {
        let w = self.face(bold).width(text, size);
        self.y += size * 1.25;
        self.at((PAGE_W - w) / 2.0, self.y, size, bold, text);
        self.y += size * 0.3;
    }

    pub(crate) fn right(&mut self, right_x: f32, y: f32, size: f32, bold: bool, text: &str) {
        let w = self.face(bold).width(text, size);
        self.at(right_x - w, y, size, bold, text);
    }

    /// A paragraph wrapped to `width`.
    pub(crate) fn para(&mut self, x: f32, width: f32, size: f32, bold: bool, text: &str) {
        for l in wrap(self.face(bold), text, size, width) {
            self.line(x, size, bold, &l);
        }
    }

    /// A label in bold followed by its value, wrapped.
    pub(crate) fn fact(&mut self, label: &str, value: &str) {
        let size = 9.5;
        let lw = self.face(true).width(label, size) + 4.0;
        let lines = wrap(self.face(false), value, size, PAGE_W - 2.0 * MARGIN - lw);
        for (i, l) in lines.iter().enumerate() {
            self.y += size * 1.25;
            if i == 0 {
                self.at(MARGIN, self.y, size, true, label);
            }
            self.at(MARGIN + lw, self.y, size, false, l);
            self.y += size * 0.3;
        }
    }

    pub(crate) fn rule(&mut self, x1: f32, x2: f32, y: f32, width: f32) {
        let mut pb = PathBuilder::new();
        pb.move_to(x1, y);
        pb.line_to(x2, y);
        if let Some(path) = pb.finish() {
            self.s.set_fill(None);
            self.s.set_stroke(Some(Stroke {
                paint: rgb::Color::new(150, 160, 172).into(),
                width,
                ..Default::default()
            }));
            // A rule is decoration: screen readers skip it.
            self.s
                .start_tagged(ContentTag::Artifact(Artifact::with_kind(
                    ArtifactType::Other,
                )));
            self.s.draw_path(&path);
            self.s.end_tagged();
        }
        self.color(INK);
    }

    /// Whether `height` more points fit above the bottom margin.
    pub(crate) fn fits(&self, height: f32) -> bool {
        self.y + height <= PAGE_H - MARGIN
    }
}

/// Greedy word wrap with the font's real advance widths.
pub(crate) fn wrap(face: &Face, text: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        let candidate = if cur.is_empty() {
            word.to_string()
        } else {
            format!("{cur} {word}")
        };
        if face.width(&candidate, size) <= width || cur.is_empty() {
            cur = candidate;
        } else {
            lines.push(std::mem::take(&mut cur));
            cur = word.to_string();
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// A document of A4 pages: `draw` fills page `n` (from 1) and says whether another page
/// follows. The same input always gives the same bytes.
pub(crate) fn paged(
    metadata: Metadata,
    mut draw: impl FnMut(&mut Pen<'_, '_>, usize) -> bool,
) -> Result<(Vec<u8>, usize), PdfError> {
    let f = fonts().ok_or(PdfError::Fonts)?;
    let settings =
        PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| PdfError::Pdf("page size".into()))?;
    // PDF/A-2u, for archives kept six years (2b, plus text that can be extracted); krilla
    // refuses to write a file that breaks it.
    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A2_U)
        .finish()
        .map_err(|e| PdfError::Pdf(format!("{e:?}")))?;
    let mut doc = Document::new_with(SerializeSettings {
        configuration,
        enable_tagging: true,
        ..Default::default()
    });
    doc.set_metadata(metadata);
    let mut tree = TagTree::new().with_lang(Some("fr".into()));
    let mut n = 0;
    loop {
        n += 1;
        let mut page = doc.start_page_with(settings.clone());
        let mut surface = page.surface();
        let more = {
            let mut p = Pen {
                s: &mut surface,
                f,
                y: MARGIN - 10.0,
                marks: Vec::new(),
            };
            p.color(INK);
            let more = draw(&mut p, n);
            // Each line of text a paragraph, in the order it was drawn.
            for mark in p.marks {
                tree.push(TagGroup::with_children(Tag::P, vec![mark.into()]));
            }
            more
        };
        surface.finish();
        page.finish();
        // A runaway layout must not fill the disk.
        if !more || n >= 500 {
            break;
        }
    }
    doc.set_tag_tree(tree);
    let bytes = doc.finish().map_err(|e| PdfError::Pdf(format!("{e:?}")))?;
    Ok((bytes, n))
}

/// A column of a report's table: its heading, left edge and width; numbers align right.
#[derive(Clone, Debug)]
pub(crate) struct Column {
    pub(crate) label: &'static str,
    pub(crate) x: f32,
    pub(crate) width: f32,
    pub(crate) right: bool,
}

impl Column {
    pub(crate) fn left(label: &'static str, x: f32, width: f32) -> Column {
        Column {
            label,
            x,
            width,
            right: false,
        }
    }

    pub(crate) fn right(label: &'static str, x: f32, width: f32) -> Column {
        Column {
            label,
            x,
            width,
            right: true,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Row {
    pub(crate) cells: Vec<String>,
    pub(crate) bold: bool,
}

/// A plain document: a heading, facts, an optional warning, a table and closing notes.
#[derive(Clone, Debug, Default)]
pub(crate) struct Report {
    pub(crate) title: String,
    pub(crate) author: String,
    /// Muted lines under the organism's name (e.g. the document's purpose).
    pub(crate) heading: Vec<String>,
    pub(crate) facts: Vec<(String, String)>,
    /// Printed large and red under the facts (a provisional document says so).
    pub(crate) warning: Option<String>,
    pub(crate) columns: Vec<Column>,
    pub(crate) rows: Vec<Row>,
    /// Printed when there is no row.
    pub(crate) empty: String,
    pub(crate) notes: Vec<String>,
    /// The day the document speaks of, written as its PDF date (PDF/A asks for one).
    pub(crate) dated: chrono::NaiveDate,
}

/// A day as a PDF date.
pub(crate) fn pdf_date(d: chrono::NaiveDate) -> krilla::metadata::DateTime {
    use chrono::Datelike;
    krilla::metadata::DateTime::new(d.year().clamp(0, 9999) as u16)
        .month(d.month() as u8)
        .day(d.day() as u8)
}

const CELL: f32 = 8.0;
const LINE: f32 = CELL * 1.35;

fn cell_lines(face: &Face, col: &Column, text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for part in text.split('\n') {
        let wrapped = wrap(face, part, CELL, col.width);
        if wrapped.is_empty() {
            lines.push(String::new());
        }
        lines.extend(wrapped);
    }
    lines
}

impl Report {
    pub(crate) fn render(&self) -> Result<Vec<u8>, PdfError> {
        self.render_counted().map(|(bytes, _)| bytes)
    }

    /// The PDF and its number of pages.
    pub(crate) fn render_counted(&self) -> Result<(Vec<u8>, usize), PdfError> {
        let text_w = PAGE_W - 2.0 * MARGIN;
        let mut next_row = 0;
        let mut notes_done = false;
        let metadata = Metadata::new()
            .title(self.title.clone())
            .language("fr".into())
            .creator("Parcours".into())
            .authors(vec![self.author.clone()])
            .creation_date(pdf_date(self.dated));
        paged(metadata, |p, n| {
            p.color(ACCENT);
            p.line(MARGIN, 12.0, true, &self.author);
            p.color(INK);
            p.line(MARGIN, 14.0, true, &self.title);
            p.color(MUTED);
            for h in &self.heading {
                p.para(MARGIN, text_w, 8.5, false, h);
            }
            p.color(MUTED);
            p.right(
                PAGE_W - MARGIN,
                MARGIN + 2.0,
                8.0,
                false,
                &format!("page {n}"),
            );
            p.color(INK);
            if n == 1 {
                p.y += 6.0;
                for (label, value) in &self.facts {
                    p.fact(label, value);
                }
                if let Some(w) = &self.warning {
                    p.y += 6.0;
                    p.color(ALERT);
                    p.para(MARGIN, text_w, 13.0, true, w);
                    p.color(INK);
                }
            }
            p.y += 10.0;
            if next_row < self.rows.len() || (n == 1 && !self.columns.is_empty()) {
                self.header(p);
            }
            if self.rows.is_empty() && n == 1 {
                p.color(MUTED);
                p.para(MARGIN, text_w, 9.0, false, &self.empty);
                p.color(INK);
            }
            while let Some(row) = self.rows.get(next_row) {
                let face = p.face(row.bold);
                let cells: Vec<Vec<String>> = self
                    .columns
                    .iter()
                    .zip(&row.cells)
                    .map(|(c, t)| cell_lines(face, c, t))
                    .collect();
                let height = cells.iter().map(Vec::len).max().unwrap_or(1) as f32 * LINE + 4.0;
                // A row taller than a page is cut rather than looping for ever.
                if !p.fits(height) && p.y > MARGIN + 120.0 {
                    return true;
                }
                let top = p.y;
                for (col, lines) in self.columns.iter().zip(&cells) {
                    let mut y = top;
                    for l in lines {
                        y += LINE;
                        if col.right {
                            p.right(col.x + col.width, y, CELL, row.bold, l);
                        } else {
                            p.at(col.x, y, CELL, row.bold, l);
                        }
                    }
                }
                p.y = top + height - 2.0;
                p.rule(MARGIN, PAGE_W - MARGIN, p.y, 0.3);
                next_row += 1;
            }
            if !notes_done {
                let needed: f32 = self.notes.len() as f32 * 30.0 + 10.0;
                if !p.fits(needed) && !self.notes.is_empty() && p.y > MARGIN + 120.0 {
                    return true;
                }
                p.y += 8.0;
                for note in &self.notes {
                    p.para(MARGIN, text_w, 9.0, false, note);
                    p.y += 3.0;
                }
                notes_done = true;
            }
            false
        })
    }

    fn header(&self, p: &mut Pen<'_, '_>) {
        p.y += LINE;
        for c in &self.columns {
            if c.right {
                p.right(c.x + c.width, p.y, CELL, true, c.label);
            } else {
                p.at(c.x, p.y, CELL, true, c.label);
            }
        }
        p.y += 4.0;
        p.rule(MARGIN, PAGE_W - MARGIN, p.y, 0.6);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_uses_real_widths() {
        let f = fonts().unwrap();
        let lines = wrap(&f.regular, &"mot ".repeat(60), 10.0, 200.0);
        assert!(lines.len() > 3);
        assert!(lines.iter().all(|l| f.regular.width(l, 10.0) <= 200.0));
        assert!(f.bold.width("Évaluation", 10.0) > f.regular.width("é", 10.0));
    }

    fn report(rows: usize) -> Report {
        Report {
            title: "Feuille d'émargement".into(),
            author: "Institut Santé Formation".into(),
            facts: vec![("Module :".into(), "M1 — Suivi".into())],
            warning: Some("FEUILLE NON CLOSE — document provisoire".into()),
            columns: vec![
                Column::left("Stagiaire", MARGIN, 200.0),
                Column::right("Minutes", 300.0, 60.0),
            ],
            rows: (0..rows)
                .map(|i| Row {
                    cells: vec![format!("Stagiaire n° {i}"), format!("{i}")],
                    bold: false,
                })
                .collect(),
            empty: "Aucune ligne.".into(),
            notes: vec!["Feuille close le 05/10/2026.".into()],
            ..Default::default()
        }
    }

    #[test]
    fn a_long_table_breaks_onto_further_pages_and_renders_the_same_twice() {
        let (short, n) = report(3).render_counted().unwrap();
        assert!(short.starts_with(b"%PDF-"));
        assert_eq!(n, 1);
        // 200 rows of about 15 points cannot fit on one A4 page.
        let (long, n) = report(200).render_counted().unwrap();
        assert!((4..=6).contains(&n), "{n} pages");
        assert_eq!(long, report(200).render().unwrap());
        let (empty, n) = report(0).render_counted().unwrap();
        assert!(empty.starts_with(b"%PDF-"));
        assert_eq!(n, 1);
    }

    /// PDF/A-2u for archives, tagged for screen readers, as poppler (an independent reader)
    /// sees it. veraPDF has no Debian package; krilla's own validator refuses a file that
    /// breaks the standard.
    #[test]
    fn documents_are_pdf_a_2u_and_tagged() {
        let pdf = report(5).render().unwrap();
        let dir = std::env::temp_dir().join(format!("parcours-pdfa-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("report.pdf");
        std::fs::write(&path, &pdf).unwrap();
        let run = |args: &[&str]| {
            let out = std::process::Command::new("pdfinfo")
                .args(args)
                .arg(&path)
                .output()
                .expect("pdfinfo (poppler-utils) is installed by .ci/run");
            assert!(out.status.success(), "{out:?}");
            String::from_utf8_lossy(&out.stdout).to_string()
        };
        let info = run(&[]);
        assert!(
            info.lines()
                .any(|l| l.starts_with("Tagged:") && l.ends_with("yes")),
            "{info}"
        );
        let meta = run(&["-meta"]);
        let compact: String = meta.split_whitespace().collect();
        assert!(
            compact.contains("<pdfaid:part>2</pdfaid:part>")
                || compact.contains("pdfaid:part=\"2\""),
            "{meta}"
        );
        assert!(
            compact.contains("<pdfaid:conformance>U</pdfaid:conformance>")
                || compact.contains("pdfaid:conformance=\"U\""),
            "{meta}"
        );
        let text = std::process::Command::new("pdftotext")
            .arg(&path)
            .arg("-")
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&text.stdout).contains("Stagiaire n° 4"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
