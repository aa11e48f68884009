//! The part of a data export a person reads: French sections of her rows (`SECTIONS`), each
//! value written as the pages write it (dates, durations, names for ids). Pure: the rows come
//! from `export_store::rows_of`, the HTML from `templates/privacy/export_summary.html`.

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use serde_json::Value;

use super::export_rules::Rows;
use crate::base::format;

/// How a value is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fmt {
    Text,
    Day,
    /// A stored time (UTC), shown in Paris time.
    At,
    Seconds,
    Minutes,
    Yes,
    Role,
    /// A person's id: her name.
    Person,
    Module,
    Lesson,
    Cohort,
    /// A sign-in sheet's id: the day of its session.
    SheetDay,
}

#[derive(Clone, Copy, Debug)]
pub struct Column {
    pub column: &'static str,
    pub label: &'static str,
    pub fmt: Fmt,
}

#[derive(Clone, Copy, Debug)]
pub struct Section {
    pub title: &'static str,
    pub table: &'static str,
    /// Rows where she acted (`Rows::acted`), not rows about her.
    pub acted: bool,
    pub columns: &'static [Column],
}

const fn c(column: &'static str, label: &'static str, fmt: Fmt) -> Column {
    Column { column, label, fmt }
}

const fn own(title: &'static str, table: &'static str, columns: &'static [Column]) -> Section {
    Section {
        title,
        table,
        acted: false,
        columns,
    }
}

use Fmt::*;

/// The sections, in the order of the summary.
#[rustfmt::skip]
pub const SECTIONS: &[Section] = &[
    own("Compte", "users", &[c("name", "Nom", Text), c("email", "Adresse e-mail", Text),
        c("role", "Rôle", Role), c("created_at", "Créé le", At),
        c("last_login_at", "Dernière connexion", At),
        c("weekly_digest", "Récapitulatif hebdomadaire", Yes), c("rpps", "N° RPPS", Text),
        c("am_number", "N° Assurance maladie", Text)]),
    own("Profil de formation", "trainee_profiles", &[c("profile", "Profil", Text),
        c("hire_date", "Embauche", Day), c("funding", "Financement", Text),
        c("prior_experience", "Expérience antérieure", Text),
        c("aid_contract_ref", "Contrat d'aide", Text)]),
    own("Employeur", "employers", &[c("name", "Nom", Text),
        c("registration", "SIRET ou FINESS", Text)]),
    own("Inscriptions", "enrolments", &[c("cohort_id", "Promotion", Cohort),
        c("started_on", "Entrée", Day), c("ended_on", "Sortie", Day),
        c("end_reason", "Motif de sortie", Text), c("end_note", "Note", Text)]),
    own("Heures à distance, jour par jour", "daily_activity", &[c("day", "Jour", Day),
        c("module_id", "Module", Module), c("distance_seconds", "Temps", Seconds),
        c("first_at", "Première activité", At), c("last_at", "Dernière activité", At)]),
    own("Temps par module", "module_totals", &[c("module_id", "Module", Module),
        c("distance_seconds", "À distance", Seconds),
        c("presentiel_seconds", "En présentiel", Seconds),
        c("correction_seconds", "Corrections", Seconds)]),
    own("Émargements", "attendance_entries", &[c("sheet_id", "Séance du", SheetDay),
        c("status", "Matin ou journée", Text), c("pm_status", "Après-midi", Text),
        c("signed_at", "Signé le", At), c("minutes_credited", "Temps compté", Minutes),
        c("note", "Note", Text)]),
    own("Corrections d'heures", "hour_corrections", &[c("created_at", "Le", At),
        c("module_id", "Module", Module), c("seconds", "Durée", Seconds),
        c("reason", "Motif", Text), c("created_by", "Par", Person)]),
    own("Évaluations", "evaluation_attempts", &[c("module_id", "Module", Module),
        c("attempt_no", "Tentative", Text), c("submitted_at", "Rendue le", At),
        c("score_pct", "Score (%)", Text), c("passed", "Réussie", Yes)]),
    own("Devoirs", "assignment_submissions", &[c("lesson_id", "Devoir", Lesson),
        c("version_no", "Version", Text), c("submitted_at", "Rendu le", At),
        c("status", "État", Text), c("points", "Points", Text),
        c("max_points", "Sur", Text), c("feedback", "Appréciation", Text),
        c("graded_by", "Corrigé par", Person)]),
    own("Modules e-learning", "package_attempts", &[c("lesson_id", "Activité", Lesson),
        c("completion", "Achèvement", Text), c("success", "Réussite", Text),
        c("score_scaled", "Score", Text), c("updated_at", "Dernier envoi", At)]),
    own("Échanges de suivi", "followup_threads", &[c("subject", "Objet", Text),
        c("created_at", "Ouvert le", At), c("closed_at", "Clos le", At)]),
    own("Messages de suivi", "followup_messages", &[c("created_at", "Le", At),
        c("author_id", "Auteur", Person), c("body", "Message", Text)]),
    own("Attestations", "attestations", &[c("kind", "Type", Text),
        c("number", "Numéro", Text), c("period_from", "Du", Day), c("period_to", "Au", Day),
        c("issued_at", "Délivrée le", At), c("revoked_at", "Révoquée le", At),
        c("revoked_reason", "Motif de révocation", Text)]),
    own("Certification", "certifications", &[c("obtained_on", "Obtenue le", Day),
        c("certificate_number", "N° de certificat", Text)]),
    own("Blocs de certification", "certification_blocs", &[c("bloc", "Bloc", Text),
        c("result", "Résultat", Text), c("decided_on", "Décidé le", Day)]),
    own("Dossiers de VAE", "vae_requests", &[c("year", "Année", Text),
        c("state", "État", Text), c("created_at", "Déposé le", At),
        c("decision", "Décision", Text)]),
    own("Journal d'audit : ce qui vous concerne", "audit_events", &[c("at", "Le", At),
        c("action", "Action", Text), c("actor_user_id", "Par", Person),
        c("subject_type", "Sur", Text), c("ip", "Adresse IP", Text)]),
    Section { title: "Journal d'audit : ce que vous avez fait", table: "audit_events",
        acted: true, columns: &[c("at", "Le", At), c("action", "Action", Text),
        c("subject_type", "Sur", Text), c("subject_id", "N°", Text)] },
    own("Courriels qui vous ont été envoyés", "outbox", &[c("created_at", "Le", At),
        c("subject", "Objet", Text), c("status", "État", Text), c("sent_at", "Envoyé le", At)]),
    own("Sessions de connexion", "login_sessions", &[c("device", "Appareil", Text),
        c("ip", "Adresse IP", Text), c("created_at", "Ouverte le", At),
        c("last_seen_at", "Dernière activité", At)]),
];

/// One section as the template shows it.
#[derive(Debug, Serialize)]
pub struct SectionView {
    pub title: &'static str,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// The sections that have rows, their values written out.
pub fn sections(rows: &Rows) -> Vec<SectionView> {
    SECTIONS
        .iter()
        .filter_map(|s| {
            let from = if s.acted { &rows.acted } else { &rows.own };
            let table = from.get(s.table).filter(|t| !t.is_empty())?;
            Some(SectionView {
                title: s.title,
                headers: s.columns.iter().map(|c| c.label).collect(),
                rows: table
                    .iter()
                    .map(|row| {
                        s.columns
                            .iter()
                            .map(|c| write(rows, c.fmt, row.get(c.column).unwrap_or(&Value::Null)))
                            .collect()
                    })
                    .collect(),
            })
        })
        .collect()
}

/// The number of rows of each table, as the summary lists them: (table, about her, acted).
pub fn counts(rows: &Rows) -> Vec<(&'static str, usize, usize)> {
    let mut tables: Vec<&'static str> = rows.own.keys().chain(rows.acted.keys()).copied().collect();
    tables.sort_unstable();
    tables.dedup();
    tables
        .into_iter()
        .map(|t| {
            let n = |m: &std::collections::BTreeMap<&str, Vec<Value>>| m.get(t).map_or(0, Vec::len);
            (t, n(&rows.own), n(&rows.acted))
        })
        .filter(|(_, own, acted)| own + acted > 0)
        .collect()
}

/// A stored time as either backend gives it in JSON (`2026-12-05 10:00:00.123` or with a `T`).
pub fn parse_at(raw: &str) -> Option<NaiveDateTime> {
    let raw = raw.replacen('T', " ", 1);
    NaiveDateTime::parse_from_str(&raw, "%Y-%m-%d %H:%M:%S%.f").ok()
}

/// The reference row of `table` with this id.
fn reference<'a>(rows: &'a Rows, table: &str, id: &Value) -> Option<&'a Value> {
    let id = id.as_i64()?;
    rows.references
        .get(table)?
        .iter()
        .find(|r| r.get("id").and_then(Value::as_i64) == Some(id))
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::String(s) if s.is_empty() => "—".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn field(v: Option<&Value>, name: &str) -> String {
    v.and_then(|r| r.get(name)).map(text).unwrap_or_default()
}

/// One value, as a page writes it; what cannot be read as asked is written as stored.
pub fn write(rows: &Rows, fmt: Fmt, v: &Value) -> String {
    if v.is_null() {
        return "—".into();
    }
    let written = match fmt {
        Text => None,
        Day => v
            .as_str()
            .and_then(|s| NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok())
            .map(format::date),
        At => v.as_str().and_then(parse_at).map(format::datetime),
        Seconds => v.as_i64().map(|s| format::minutes(s / 60)),
        Minutes => v.as_i64().map(format::minutes),
        Yes => match v {
            Value::Bool(b) => Some(*b),
            Value::Number(n) => n.as_i64().map(|n| n != 0),
            _ => None,
        }
        .map(|b| if b { "oui" } else { "non" }.to_string()),
        Role => v
            .as_str()
            .and_then(crate::accounts::Role::parse)
            .map(|r| r.label().to_string()),
        Person => v.as_i64().and_then(|id| rows.people.get(&id)).cloned(),
        Module => reference(rows, "modules", v)
            .map(|m| format!("{} — {}", field(Some(m), "code"), field(Some(m), "title"))),
        Lesson => reference(rows, "lessons", v).map(|l| field(Some(l), "title")),
        Cohort => reference(rows, "cohorts", v).map(|c| field(Some(c), "name")),
        SheetDay => reference(rows, "attendance_sheets", v)
            .and_then(|s| reference(rows, "sessions", s.get("session_id")?))
            .and_then(|s| s.get("day"))
            .map(|d| write(rows, Day, d)),
    };
    written.unwrap_or_else(|| text(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Rows {
        let mut rows = Rows::default();
        rows.own.insert(
            "daily_activity",
            vec![
                json!({"day": "2026-03-02", "module_id": 7, "distance_seconds": 3900,
                "first_at": "2026-03-02T08:05:00.5", "last_at": "2026-03-02 09:10:00"}),
            ],
        );
        rows.own.insert(
            "attendance_entries",
            vec![json!({"sheet_id": 3, "status": "present", "minutes_credited": 210})],
        );
        rows.own.insert("nudges", vec![]);
        rows.references.insert(
            "modules",
            vec![json!({"id": 7, "code": "M1", "title": "Accueil"})],
        );
        rows.references
            .insert("attendance_sheets", vec![json!({"id": 3, "session_id": 9})]);
        rows.references
            .insert("sessions", vec![json!({"id": 9, "day": "2026-03-05"})]);
        rows
    }

    #[test]
    fn values_are_written_as_the_pages_write_them() {
        let rows = sample();
        let s = sections(&rows);
        assert_eq!(s.len(), 2, "empty tables have no section");
        assert_eq!(s[0].title, "Heures à distance, jour par jour");
        // Paris is UTC+1 in March: stored times are UTC.
        assert_eq!(
            s[0].rows[0],
            vec![
                "02/03/2026",
                "M1 — Accueil",
                "1 h 05",
                "02/03/2026 à 09 h 05",
                "02/03/2026 à 10 h 10"
            ]
        );
        assert_eq!(s[1].rows[0][0], "05/03/2026", "the sheet's session's day");
        assert_eq!(s[1].rows[0][4], "3 h 30");
        assert_eq!(s[1].rows[0][1], "present");
        assert_eq!(s[1].rows[0][5], "—");
    }

    #[test]
    fn unknown_values_are_shown_as_stored() {
        let rows = sample();
        assert_eq!(write(&rows, Module, &json!(99)), "99");
        assert_eq!(write(&rows, Day, &json!("pas une date")), "pas une date");
        assert_eq!(write(&rows, Yes, &json!(1)), "oui");
        assert_eq!(write(&rows, Yes, &json!(false)), "non");
        assert_eq!(write(&rows, Role, &json!("doctor")), "Médecin employeur");
        assert_eq!(
            counts(&rows),
            vec![("attendance_entries", 1, 0), ("daily_activity", 1, 0)]
        );
    }
}
