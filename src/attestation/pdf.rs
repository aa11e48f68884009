//! The PDF of an attestation, drawn in Rust (krilla) from its statement, with the DejaVu
//! fonts shipped in `assets/fonts/` so that accents render, and a QR code of its
//! verification URL.

use krilla::geom::{PathBuilder, Rect};
use krilla::metadata::{DateTime, Metadata};

use super::rules::{Kind, ModuleLine, Statement, display_code};
use crate::base::format;
pub use crate::base::pdf::PdfError;
use crate::base::pdf::{ACCENT, INK, MARGIN, MUTED, PAGE_H, PAGE_W, Pen, paged, wrap};

fn hours(secs: i64) -> String {
    format::minutes(secs / 60)
}

/// Renders the attestation; the same statement always gives the same bytes.
pub fn render(st: &Statement, code: &str, verify_url: &str) -> Result<Vec<u8>, PdfError> {
    let qr = qrcode::QrCode::with_error_correction_level(verify_url, qrcode::EcLevel::M)
        .map_err(|e| PdfError::Qr(e.to_string()))?;
    use chrono::Datelike;
    let d = st.issued_on;
    let metadata = Metadata::new()
        .title(format!("{} n° {}", st.kind.title(), st.number))
        .language("fr".into())
        .creator("Parcours".into())
        .authors(vec![st.organism.name.clone()])
        .creation_date(
            DateTime::new(d.year() as u16)
                .month(d.month() as u8)
                .day(d.day() as u8),
        );
    let (pdf, _) = paged(metadata, |p, _| {
        draw(p, st, code, verify_url, &qr);
        false
    })?;
    Ok(pdf)
}

/// Width of a paragraph between the margins.
const TEXT_W: f32 = PAGE_W - 2.0 * MARGIN;

/// Right edges and labels of the hours table's columns, after the module's name.
const COLS: [(f32, &str); 5] = [
    (285.0, "Prévu"),
    (340.0, "Distance"),
    (400.0, "Présentiel"),
    (450.0, "Dispense"),
    (PAGE_W - MARGIN, "Évaluation"),
];

/// The document, top to bottom.
fn draw(p: &mut Pen<'_, '_>, st: &Statement, code: &str, verify_url: &str, qr: &qrcode::QrCode) {
    let period = format!(
        "du {} au {}",
        format::date(st.period_from),
        format::date(st.period_to)
    );
    organism_header(p, st);
    title(p, st);
    training(p, st, &period);
    hours_table(p, st);
    duration(p, st);
    signature(p, st);
    verification(p, code, verify_url, qr);
}

/// The organism's identity, as the Code du travail asks it on the document.
fn organism_header(p: &mut Pen<'_, '_>, st: &Statement) {
    let o = &st.organism;
    p.color(ACCENT);
    p.line(MARGIN, 14.0, true, &o.name);
    p.color(MUTED);
    if let Some(a) = &o.address {
        p.line(MARGIN, 9.0, false, a);
    }
    let mut ids = Vec::new();
    if let Some(s) = &o.siret {
        ids.push(format!("SIRET {s}"));
    }
    if let Some(q) = &o.qualiopi_number {
        ids.push(format!("Certification Qualiopi n° {q}"));
    }
    if !ids.is_empty() {
        p.line(MARGIN, 9.0, false, &ids.join(" · "));
    }
    if let Some(n) = &o.nda {
        p.para(
            MARGIN,
            TEXT_W,
            8.0,
            false,
            &format!(
                "Déclaration d'activité enregistrée sous le n° {n} auprès du préfet de région \
                 (cet enregistrement ne vaut pas agrément de l'État)."
            ),
        );
    }
    p.y += 8.0;
    p.rule(MARGIN, PAGE_W - MARGIN, p.y, 0.8);
    p.y += 14.0;
}

/// Title and number.
fn title(p: &mut Pen<'_, '_>, st: &Statement) {
    p.color(INK);
    p.centered(17.0, true, &st.kind.title().to_uppercase());
    p.color(MUTED);
    p.centered(9.5, false, &format!("N° {}", st.number));
    p.y += 12.0;
    p.color(INK);
}

/// What the signatory certifies, then the trainee and the training.
fn training(p: &mut Pen<'_, '_>, st: &Statement, period: &str) {
    let o = &st.organism;
    let intro = match st.kind {
        Kind::Realisation => format!(
            "Je soussigné(e), {}, représentant l'organisme de formation {}, certifie que {} a \
             réalisé, {period}, l'action de formation désignée ci-dessous, pour la durée \
             indiquée.",
            st.signatory, o.name, st.trainee_name
        ),
        _ => format!(
            "Je soussigné(e), {}, représentant l'organisme de formation {}, atteste que {} a \
             suivi la formation désignée ci-dessous {period} et en a terminé le parcours.",
            st.signatory, o.name, st.trainee_name
        ),
    };
    p.para(MARGIN, TEXT_W, 10.5, false, &intro);
    p.y += 8.0;

    p.fact("Bénéficiaire :", &st.trainee_name);
    if let Some(e) = &st.employer {
        p.fact("Employeur :", e);
    }
    p.fact(
        "Formation :",
        &format!("{} ({})", st.program_title, st.program_code),
    );
    if st.kind != Kind::Realisation {
        p.fact("Certification visée :", &st.certification);
        p.fact("Objectifs :", &st.objectives);
    }
    p.fact("Nature de l'action :", &st.nature);
    p.fact("Modalités :", &st.modalities);
    p.fact("Dates :", period);
    if let Some(f) = &st.funding_ref {
        p.fact("Dossier de financement :", f);
    }
    p.y += 10.0;
}

/// Hours by module, and their totals.
fn hours_table(p: &mut Pen<'_, '_>, st: &Statement) {
    let size = 8.5;
    p.y += size * 1.3;
    p.at(MARGIN, p.y, size, true, "Module");
    for (x, label) in COLS {
        p.right(x, p.y, size, true, label);
    }
    p.y += 4.0;
    p.rule(MARGIN, PAGE_W - MARGIN, p.y, 0.5);
    for m in &st.modules {
        module_row(p, m, size);
    }
    p.y += size * 1.5;
    p.at(MARGIN, p.y, size, true, "Total");
    let totals = [
        hours(st.planned_secs()),
        hours(st.distance_secs()),
        hours(st.presentiel_secs()),
        hours(st.exempted_secs()),
    ];
    for ((x, _), v) in COLS.iter().zip(totals.iter()) {
        p.right(*x, p.y, size, true, v);
    }
    p.y += 10.0;
}

/// One module: its name, wrapped, and its figures on the first line.
fn module_row(p: &mut Pen<'_, '_>, m: &ModuleLine, size: f32) {
    let title = format!("{} — {}", m.code, m.title);
    let lines = wrap(p.face(false), &title, size, 190.0);
    let first_y = p.y + size * 1.4;
    for (i, l) in lines.iter().enumerate() {
        p.y += size * 1.4;
        p.at(MARGIN, p.y, size, false, l);
        if i == 0 {
            let eval = match (m.evaluation_pct, m.evaluation_passed) {
                (Some(pct), Some(true)) => format!("réussie ({pct} %)"),
                (Some(pct), _) => format!("non réussie ({pct} %)"),
                _ => "—".to_string(),
            };
            let values = [
                hours(m.planned_secs),
                hours(m.distance_secs),
                hours(m.presentiel_secs),
                if m.exempted_secs > 0 {
                    hours(m.exempted_secs)
                } else {
                    "—".into()
                },
                eval,
            ];
            for ((x, _), v) in COLS.iter().zip(values.iter()) {
                p.right(*x, first_y, size, false, v);
            }
        }
    }
    p.y += 4.0;
    p.rule(MARGIN, PAGE_W - MARGIN, p.y, 0.3);
}

/// The duration done in words, a derogation's mention and a certificate's commitment.
fn duration(p: &mut Pen<'_, '_>, st: &Statement) {
    let mut summary = format!(
        "Durée réalisée : {} ({} à distance, {} en présentiel",
        hours(st.done_secs()),
        hours(st.distance_secs()),
        hours(st.presentiel_secs()),
    );
    if st.correction_secs() != 0 {
        summary.push_str(&format!(
            ", dont {} de régularisations",
            hours(st.correction_secs())
        ));
    }
    summary.push(')');
    if st.exempted_secs() > 0 && st.kind != Kind::Realisation {
        summary.push_str(&format!(
            ", et {} dispensées après positionnement.",
            hours(st.exempted_secs())
        ));
    } else {
        summary.push('.');
    }
    p.para(MARGIN, TEXT_W, 10.0, true, &summary);
    if st.by_derogation {
        p.color(MUTED);
        p.para(
            MARGIN,
            TEXT_W,
            8.5,
            false,
            "Parcours validé par décision de l'organisme de formation.",
        );
        p.color(INK);
    }
    if st.kind == Kind::Realisation {
        p.color(MUTED);
        p.para(
            MARGIN,
            TEXT_W,
            8.5,
            false,
            "Sans préjudice des délais imposés par les règles fiscales, comptables ou \
             commerciales, je m'engage à conserver l'ensemble des pièces justificatives qui ont \
             permis d'établir le présent certificat pendant une durée de 3 ans à compter de la \
             fin de l'année du dernier paiement.",
        );
        p.color(INK);
    }
}

/// Date, place and the signature line, low on the page.
fn signature(p: &mut Pen<'_, '_>, st: &Statement) {
    let sig_top = PAGE_H - MARGIN - 170.0;
    p.y = p.y.max(sig_top - 30.0) + 6.0;
    p.line(
        MARGIN,
        10.0,
        false,
        &format!("Fait à {}, le {}", st.place, format::date(st.issued_on)),
    );
    p.y += 8.0;
    p.line(
        330.0,
        9.5,
        true,
        &format!("Pour l'organisme, {}", st.signatory),
    );
    p.color(MUTED);
    p.line(330.0, 8.5, false, "Signature et cachet de l'organisme");
    p.color(INK);
    p.y += 38.0;
    p.rule(330.0, PAGE_W - MARGIN, p.y, 0.6);
}

/// The QR code and the verification code at the bottom of the page.
fn verification(p: &mut Pen<'_, '_>, code: &str, verify_url: &str, qr: &qrcode::QrCode) {
    let qr_size = 86.0;
    let qr_top = PAGE_H - MARGIN - qr_size;
    draw_qr(p, qr, MARGIN, qr_top, qr_size);
    let tx = MARGIN + qr_size + 14.0;
    p.y = qr_top + 4.0;
    p.line(tx, 9.0, true, "Vérifier l'authenticité de ce document");
    p.line(
        tx,
        9.0,
        false,
        &format!("Code de vérification : {}", display_code(code)),
    );
    p.color(ACCENT);
    p.line(tx, 8.0, false, verify_url);
    p.color(MUTED);
    p.para(
        tx,
        PAGE_W - MARGIN - tx,
        7.5,
        false,
        "Scannez le code QR ou saisissez le code sur la page de vérification : elle indique \
         ce que ce document atteste et s'il est toujours valide. Un document modifié ne \
         correspond plus à son code.",
    );
    p.color(INK);
}

fn draw_qr(p: &mut Pen<'_, '_>, qr: &qrcode::QrCode, x: f32, y: f32, size: f32) {
    let width = qr.width();
    let quiet = 2.0;
    let cell = size / (width as f32 + 2.0 * quiet);
    let colors = qr.to_colors();
    let mut pb = PathBuilder::new();
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (cx, cy) = ((i % width) as f32, (i / width) as f32);
            if let Some(r) = Rect::from_xywh(
                x + (cx + quiet) * cell,
                y + (cy + quiet) * cell,
                cell + 0.02,
                cell + 0.02,
            ) {
                pb.push_rect(r);
            }
        }
    }
    if let Some(path) = pb.finish() {
        p.color((0, 0, 0));
        p.s.draw_path(&path);
    }
    p.color(INK);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attestation::rules::OrganismFacts;

    pub fn sample(kind: Kind) -> Statement {
        let d = |m, day| chrono::NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        Statement {
            v: 1,
            kind,
            number: "AT-1-2026-000001".into(),
            organism: OrganismFacts {
                name: "Institut Santé Formation".into(),
                siret: Some("73282932000074".into()),
                nda: Some("11755555575".into()),
                qualiopi_number: Some("Q-2026-001".into()),
                address: Some("12 rue des Écoles, 75005 Paris".into()),
            },
            trainee_name: "Julie Moreau".into(),
            employer: Some("Dr Paul Martin".into()),
            program_code: "CQP-AM".into(),
            program_title: "CQP Assistant médical".into(),
            certification: "CQP Assistant médical — RNCP 40913, niveau 4".into(),
            objectives: "Seconder le médecin libéral dans ses missions.".into(),
            nature: "Action de formation (art. L6313-1 du Code du travail)".into(),
            modalities: "Formation mixte : à distance et en présentiel".into(),
            period_from: d(1, 5),
            period_to: d(11, 30),
            modules: vec![ModuleLine {
                code: "M1".into(),
                title: "Suivi du parcours de santé du patient".into(),
                planned_secs: 77 * 3600,
                exempted_secs: 0,
                distance_secs: 35 * 3600,
                presentiel_secs: 42 * 3600,
                correction_secs: 0,
                evaluation_pct: Some(85),
                evaluation_passed: Some(true),
            }],
            issued_on: d(12, 2),
            place: "Paris".into(),
            signatory: "Nadia Benali".into(),
            by_derogation: false,
            nonce: "n".into(),
            funding_ref: None,
        }
    }

    #[test]
    fn renders_a_pdf_with_the_fonts_embedded() {
        let st = sample(Kind::FinFormation);
        let pdf = render(&st, "0123456789ABCDE", "http://x/verifier/0123").unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.len() > 5_000);
        if let Ok(keep) = std::env::var("PARCOURS_KEEP_PDF") {
            let mut r = sample(Kind::Realisation);
            r.modules[0].correction_secs = 1800;
            let other = render(&r, "0123456789ABCDE", "http://x/verifier/0123").unwrap();
            std::fs::write(format!("{keep}-realisation.pdf"), other).unwrap();
        }
        // Same statement, same bytes: a re-sent attachment is the same document.
        assert_eq!(
            pdf,
            render(&st, "0123456789ABCDE", "http://x/verifier/0123").unwrap()
        );
    }
}
