//! The follow-up exchanges of a trainee in a period (threads, messages and attachments of
//! the follow-up tables), and their CSV and readable text for the pack.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::rules::{self, Period};
use super::store::utc_window;
use crate::base::format;
use crate::cohorts::import::spreadsheet_safe;
use crate::db::DbConn;
use crate::db::schema::{
    followup_attachments, followup_messages, followup_threads, modules, users,
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentLine {
    pub file_name: String,
    pub sha256: String,
}

/// One dated message between the trainee and the organism.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    pub at: NaiveDateTime,
    pub thread_id: i64,
    pub subject: String,
    /// `None` for technical assistance.
    pub module_code: Option<String>,
    pub author: String,
    pub author_role: String,
    pub kind: String,
    pub body: String,
    pub attachments: Vec<AttachmentLine>,
}

type MessageRow = (
    i64,
    NaiveDateTime,
    i64,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
);

/// Messages of the trainee's threads written in the period (Paris days), oldest first.
pub fn exchanges_of(
    conn: &mut DbConn,
    trainee_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<Exchange>> {
    let (start, end) = utc_window(Period { from, to });
    let rows: Vec<MessageRow> = followup_messages::table
        .inner_join(followup_threads::table)
        .inner_join(users::table.on(users::id.eq(followup_messages::author_id)))
        .left_join(modules::table.on(modules::id.nullable().eq(followup_threads::module_id)))
        .filter(followup_threads::trainee_id.eq(trainee_id))
        .filter(followup_messages::created_at.ge(start))
        .filter(followup_messages::created_at.lt(end))
        .order((
            followup_messages::created_at.asc(),
            followup_messages::id.asc(),
        ))
        .select((
            followup_messages::id,
            followup_messages::created_at,
            followup_threads::id,
            followup_threads::subject,
            modules::code.nullable(),
            users::name,
            users::role,
            followup_messages::kind,
            followup_messages::body,
        ))
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let mut files: HashMap<i64, Vec<AttachmentLine>> = HashMap::new();
    // Bounded chunks: one bound value per message.
    for chunk in ids.chunks(500) {
        let found: Vec<(i64, String, String)> = followup_attachments::table
            .filter(followup_attachments::message_id.eq_any(chunk))
            .order(followup_attachments::id.asc())
            .select((
                followup_attachments::message_id,
                followup_attachments::file_name,
                followup_attachments::sha256,
            ))
            .load(conn)?;
        for (m, file_name, sha256) in found {
            files
                .entry(m)
                .or_default()
                .push(AttachmentLine { file_name, sha256 });
        }
    }
    Ok(rows
        .into_iter()
        .map(
            |(id, at, thread_id, subject, module_code, author, role, kind, body)| Exchange {
                at,
                thread_id,
                subject,
                module_code,
                author,
                author_role: role,
                kind,
                body,
                attachments: files.remove(&id).unwrap_or_default(),
            },
        )
        .collect())
}

fn module_label(e: &Exchange) -> &str {
    e.module_code.as_deref().unwrap_or("Assistance technique")
}

fn attachments_text(e: &Exchange) -> String {
    e.attachments
        .iter()
        .map(|a| format!("{} (SHA-256 {})", a.file_name, a.sha256))
        .collect::<Vec<_>>()
        .join(" | ")
}

pub const CSV_HEADER: [&str; 8] = [
    "Date et heure (Paris)",
    "Sujet",
    "Module",
    "Auteur",
    "Rôle",
    "Nature",
    "Message",
    "Pièces jointes (SHA-256)",
];

/// `;`-separated UTF-8 with a BOM, cells made safe for spreadsheets.
pub fn csv(list: &[Exchange]) -> csv::Result<Vec<u8>> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut wr = csv::WriterBuilder::new()
            .delimiter(b';')
            .from_writer(&mut out);
        wr.write_record(CSV_HEADER)?;
        for e in list {
            wr.write_record([
                format::datetime(e.at),
                spreadsheet_safe(&e.subject),
                spreadsheet_safe(module_label(e)),
                spreadsheet_safe(&e.author),
                rules::role_label(&e.author_role).to_string(),
                rules::message_kind_label(&e.kind).to_string(),
                spreadsheet_safe(&e.body),
                spreadsheet_safe(&attachments_text(e)),
            ])?;
        }
        wr.flush()?;
    }
    Ok(out)
}

/// The same exchanges to read, grouped by thread in order of their first message.
pub fn text(trainee: &str, p: Period, list: &[Exchange]) -> String {
    let mut out = format!(
        "Échanges de suivi pédagogique et d'assistance technique\nStagiaire : {trainee}\nPériode : du {} au {}\n",
        format::date(p.from),
        format::date(p.to)
    );
    if list.is_empty() {
        out.push_str("\nAucun échange sur la période.\n");
        return out;
    }
    let mut order: Vec<i64> = Vec::new();
    for e in list {
        if !order.contains(&e.thread_id) {
            order.push(e.thread_id);
        }
    }
    for t in order {
        let mut first = true;
        for e in list.iter().filter(|e| e.thread_id == t) {
            if first {
                out.push_str(&format!("\n=== {} — {} ===\n", module_label(e), e.subject));
                first = false;
            }
            out.push_str(&format!(
                "\n[{}] {} ({}) — {}\n",
                format::datetime(e.at),
                e.author,
                rules::role_label(&e.author_role),
                rules::message_kind_label(&e.kind)
            ));
            for line in e.body.lines() {
                out.push_str(&format!("    {line}\n"));
            }
            for a in &e.attachments {
                out.push_str(&format!(
                    "    Pièce jointe : {} (SHA-256 {})\n",
                    a.file_name, a.sha256
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Exchange> {
        let at = NaiveDate::from_ymd_opt(2026, 10, 5)
            .unwrap()
            .and_hms_opt(8, 30, 0)
            .unwrap();
        vec![
            Exchange {
                at,
                thread_id: 1,
                subject: "=Tension artérielle".into(),
                module_code: Some("M4".into()),
                author: "Julie Moreau".into(),
                author_role: "trainee".into(),
                kind: "travail".into(),
                body: "Voici mon relevé.\nDeuxième ligne".into(),
                attachments: vec![AttachmentLine {
                    file_name: "releve.pdf".into(),
                    sha256: "ab".repeat(32),
                }],
            },
            Exchange {
                at: at + chrono::Duration::hours(3),
                thread_id: 2,
                subject: "Connexion".into(),
                module_code: None,
                author: "Nadia Benali".into(),
                author_role: "trainer".into(),
                kind: "reponse".into(),
                body: "C'est réglé.".into(),
                attachments: vec![],
            },
        ]
    }

    #[test]
    fn the_csv_is_safe_and_readable_in_a_french_spreadsheet() {
        let bytes = csv(&sample()).unwrap();
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        assert!(text.starts_with("Date et heure (Paris);Sujet;Module;"));
        assert!(text.contains(
            "05/10/2026 à 10 h 30;'=Tension artérielle;M4;Julie Moreau;stagiaire;Travail écrit;"
        ));
        assert!(text.contains(&format!("releve.pdf (SHA-256 {})", "ab".repeat(32))));
        assert!(text.contains("Assistance technique;Nadia Benali;formateur;Réponse;C'est réglé."));
    }

    #[test]
    fn the_text_groups_messages_by_thread() {
        let p = Period {
            from: NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 10, 31).unwrap(),
        };
        let t = text("Julie Moreau", p, &sample());
        assert!(t.contains("Période : du 01/10/2026 au 31/10/2026"));
        assert!(t.contains("=== M4 — =Tension artérielle ==="));
        assert!(t.contains("[05/10/2026 à 13 h 30] Nadia Benali (formateur) — Réponse"));
        assert!(t.contains("    Deuxième ligne\n"));
        assert!(text("X", p, &[]).contains("Aucun échange sur la période."));
    }
}
