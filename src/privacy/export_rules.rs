//! What a person's data export holds (right of access and portability, GDPR art. 15 and 20),
//! pure: the rows of every table of the register that name her (`SOURCES`), read as JSON by
//! one SQL statement per source (`select_sql`), and the states of a request. The summary
//! readable by a person is `export_summary.rs`. `tests/it/data_export.rs` fails when a table
//! of the register that holds personal data has no source here and no reason to have none.

use std::collections::BTreeMap;

use serde::Serialize;

use super::register;

/// Days a ready archive can be downloaded; then the job erases it.
pub const EXPIRY_DAYS: i64 = 7;
/// Builds tried before a request is given up (an instance that dies holding it counts one).
pub const MAX_ATTEMPTS: i32 = 3;
/// Archives of one person one requester may ask for in a day: each reads all her data.
pub const PER_DAY: i64 = 3;
/// How long an instance holds a request it builds before another may take it over.
pub const LEASE_MINUTES: i64 = 15;

pub const PENDING: &str = "pending";
pub const BUILDING: &str = "building";
pub const READY: &str = "ready";
pub const FAILED: &str = "failed";

/// A state as a person reads it.
pub fn status_label(status: &str) -> &'static str {
    match status {
        PENDING | BUILDING => "en préparation",
        READY => "prête",
        FAILED => "échec : demandez-la à nouveau",
        _ => "inconnu",
    }
}

/// How a source's rows relate to the person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Part {
    /// Rows about her: every column but secrets and binary contents.
    Own,
    /// Rows where she acted on something else (graded, issued, opened a sheet…): only the
    /// columns listed, which name her and what she acted on, never another person's data.
    Acted(&'static [&'static str]),
}

/// The rows of one table that belong in her export. `filter` is SQL over the table's columns,
/// `?1` being her id.
#[derive(Clone, Copy, Debug)]
pub struct Source {
    pub table: &'static str,
    pub part: Part,
    pub filter: &'static str,
}

/// Her e-mail address, in a filter.
macro_rules! email {
    () => {
        "(SELECT u.email FROM users u WHERE u.id = ?1)"
    };
}

/// The mails whose recipients name her address exactly: `%` and `_` of the address are
/// escaped, so no other address can match.
macro_rules! mailed {
    () => {
        concat!(
            r#"recipients LIKE '%"email":"' || replace(replace(replace("#,
            email!(),
            r#", '\', '\\'), '%', '\%'), '_', '\_') || '"%' ESCAPE '\'"#
        )
    };
}

const fn own(table: &'static str, filter: &'static str) -> Source {
    Source {
        table,
        part: Part::Own,
        filter,
    }
}

const fn acted(
    table: &'static str,
    filter: &'static str,
    columns: &'static [&'static str],
) -> Source {
    Source {
        table,
        part: Part::Acted(columns),
        filter,
    }
}

/// Every source, in the order of the export.
#[rustfmt::skip]
pub const SOURCES: &[Source] = &[
    own("users", "id = ?1"),
    own("trainee_profiles", "user_id = ?1"),
    own("employers", "id IN (SELECT e.employer_id FROM employer_doctors e WHERE e.doctor_id = ?1) \
        OR id IN (SELECT p.employer_id FROM trainee_profiles p WHERE p.user_id = ?1)"),
    own("employer_doctors", "doctor_id = ?1"),
    own("organisms", concat!("contact_email = ", email!())),
    own("enrolments", "trainee_id = ?1"),
    own("proa_suspensions", "trainee_id = ?1"),
    own("funding_files", "trainee_id = ?1"),
    own("funding_events", "file_id IN (SELECT f.id FROM funding_files f WHERE f.trainee_id = ?1)"),
    own("path_adjustments", "trainee_id = ?1"),
    own("daily_activity", "trainee_id = ?1"),
    own("module_totals", "trainee_id = ?1"),
    own("activity_totals", "trainee_id = ?1"),
    own("study_sessions", "trainee_id = ?1"),
    own("study_clocks", "trainee_id = ?1"),
    own("hour_corrections", "trainee_id = ?1"),
    own("attendance_entries", "trainee_id = ?1"),
    own("lesson_progress", "trainee_id = ?1"),
    own("evaluation_attempts", "trainee_id = ?1"),
    own("assignment_submissions", "trainee_id = ?1"),
    own("assignment_files", "submission_id IN \
        (SELECT s.id FROM assignment_submissions s WHERE s.trainee_id = ?1)"),
    own("package_attempts", "trainee_id = ?1"),
    own("package_launches", "attempt_id IN (SELECT a.id FROM package_attempts a WHERE a.trainee_id = ?1)"),
    own("cmi5_statements", "attempt_id IN (SELECT a.id FROM package_attempts a WHERE a.trainee_id = ?1)"),
    own("cmi5_states", "attempt_id IN (SELECT a.id FROM package_attempts a WHERE a.trainee_id = ?1)"),
    own("nudges", "trainee_id = ?1"),
    own("deadline_alerts", "trainee_id = ?1"),
    own("followup_threads", "trainee_id = ?1"),
    own("followup_messages", "thread_id IN (SELECT f.id FROM followup_threads f WHERE f.trainee_id = ?1)"),
    own("followup_attachments", "message_id IN (SELECT m.id FROM followup_messages m WHERE m.thread_id IN \
        (SELECT f.id FROM followup_threads f WHERE f.trainee_id = ?1))"),
    own("followup_reads", "user_id = ?1"),
    own("followup_digests", "user_id = ?1"),
    own("attestations", "trainee_id = ?1"),
    own("certification_candidates", "trainee_id = ?1"),
    own("certification_blocs", "trainee_id = ?1"),
    own("certifications", "trainee_id = ?1"),
    own("vae_requests", "candidate_id = ?1"),
    own("vae_experiences", "request_id IN (SELECT r.id FROM vae_requests r WHERE r.candidate_id = ?1)"),
    own("vae_documents", "request_id IN (SELECT r.id FROM vae_requests r WHERE r.candidate_id = ?1)"),
    own("vae_pending_requests", concat!("email = ", email!())),
    own("vae_pending_documents", concat!("pending_id IN (SELECT v.id FROM vae_pending_requests v WHERE v.email = ",
        email!(), ")")),
    own("cohort_trainers", "trainer_id = ?1"),
    own("sessions", "trainer_id = ?1"),
    own("login_sessions", "user_id = ?1"),
    own("invitations", "user_id = ?1"),
    own("doctor_links", "doctor_id = ?1"),
    own("unsubscribe_links", "user_id = ?1"),
    own("audit_events", concat!("(subject_type IN ('user', 'trainee', 'account') AND subject_id = ?1) \
        OR subject_key = ", email!())),
    own("outbox", mailed!()),
    own("outbox_attachments", concat!("outbox_id IN (SELECT o.id FROM outbox o WHERE ", mailed!(), ")")),
    own("bouncing_addresses", concat!("email = ", email!())),
    own("data_exports", "user_id = ?1"),
    own("legal_holds", "trainee_id = ?1"),
    own("erasure_requests", "user_id = ?1"),
    own("email_changes", "user_id = ?1"),
    own("identity_corrections", "user_id = ?1"),
    // What she did to others' data: that she did it, when and to what, and nothing of theirs.
    acted("audit_events", concat!("actor_user_id = ?1 AND NOT (subject_type IN ('user', 'trainee', 'account') \
        AND subject_id = ?1) AND (subject_key IS NULL OR subject_key <> ", email!(), ")"),
        &["id", "at", "actor_user_id", "organism_id", "action", "subject_type", "subject_id"]),
    acted("followup_messages", concat!("author_id = ?1 AND thread_id NOT IN ", "(SELECT f.id FROM followup_threads f WHERE f.trainee_id = ?1)"),
        &["id", "thread_id", "author_id", "kind", "created_at"]),
    acted("hour_corrections", "created_by = ?1 AND trainee_id <> ?1",
        &["id", "module_id", "created_by", "created_at"]),
    acted("attendance_sheets", "opened_by = ?1 OR closed_by = ?1",
        &["id", "session_id", "status", "opened_by", "opened_at", "closed_by", "closed_at"]),
    acted("assignment_submissions", "graded_by = ?1 AND trainee_id <> ?1",
        &["id", "lesson_id", "version_no", "status", "graded_by", "graded_at"]),
    acted("attestations", "(issued_by = ?1 OR revoked_by = ?1 OR cpam_marked_by = ?1) AND trainee_id <> ?1",
        &["id", "organism_id", "kind", "number", "issued_by", "issued_at", "revoked_by", "revoked_at",
          "cpam_marked_by"]),
    acted("certifications", "(recorded_by = ?1 OR cpam_marked_by = ?1) AND trainee_id <> ?1",
        &["id", "organism_id", "recorded_by", "recorded_at", "cpam_marked_by"]),
    acted("certification_sessions", "created_by = ?1",
        &["id", "organism_id", "held_on", "place", "created_by", "created_at"]),
    acted("certification_candidates", "registered_by = ?1 AND trainee_id <> ?1",
        &["id", "session_id", "registered_by", "registered_at"]),
    acted("certification_blocs", "recorded_by = ?1 AND trainee_id <> ?1",
        &["id", "bloc", "session_id", "recorded_by", "recorded_at"]),
    acted("proa_suspensions", "(created_by = ?1 OR ended_by = ?1) AND trainee_id <> ?1",
        &["id", "created_by", "created_at", "ended_by", "ended_at"]),
    acted("funding_files", "updated_by = ?1 AND trainee_id <> ?1",
        &["id", "updated_by", "updated_at"]),
    acted("funding_events", "by_user = ?1 AND file_id NOT IN \
        (SELECT f.id FROM funding_files f WHERE f.trainee_id = ?1)",
        &["id", "by_user", "at"]),
    acted("path_adjustments", "updated_by = ?1 AND trainee_id <> ?1",
        &["id", "module_id", "kind", "updated_by", "updated_at"]),
    acted("vae_documents", "uploaded_by = ?1 AND request_id NOT IN \
        (SELECT r.id FROM vae_requests r WHERE r.candidate_id = ?1)",
        &["id", "request_id", "kind", "uploaded_by", "uploaded_at"]),
    acted("invitations", "created_by = ?1 AND user_id <> ?1",
        &["id", "purpose", "organism_id", "created_by", "created_at"]),
    acted("doctor_links", "revoked_by = ?1 AND doctor_id <> ?1",
        &["id", "revoked_by", "revoked_at"]),
    acted("content_versions", "published_by = ?1",
        &["id", "program_id", "number", "published_by", "loaded_at"]),
    acted("program_drafts", "updated_by = ?1",
        &["program_id", "revision", "updated_by", "updated_at"]),
    acted("api_tokens", "created_by = ?1",
        &["id", "organism_id", "name", "prefix", "created_by", "created_at", "revoked_at"]),
    acted("closure_days", "created_by = ?1",
        &["id", "organism_id", "first_day", "last_day", "label", "created_by", "created_at"]),
    acted("data_exports", "requested_by = ?1 AND user_id <> ?1",
        &["id", "requested_by", "organism_id", "status", "created_at"]),
];

/// Everything the database holds about one person, as JSON rows.
#[derive(Debug, Default, Serialize)]
pub struct Rows {
    /// Rows about her, by table.
    pub own: BTreeMap<&'static str, Vec<serde_json::Value>>,
    /// Rows where she acted on something else, by table.
    pub acted: BTreeMap<&'static str, Vec<serde_json::Value>>,
    /// The rows that hers refer to (modules, cohorts…), by table.
    pub references: BTreeMap<&'static str, Vec<serde_json::Value>>,
    /// The name of each person her rows name by id.
    pub people: BTreeMap<i64, String>,
}

/// Tables that hold personal data yet are in no export, and why.
pub const NOT_EXPORTED: &[(&str, &str)] = &[];

/// Columns never exported: secrets that open something (a password's hash, a link's token).
pub const SECRETS: &[&str] = &[
    "password_hash",
    "token_hash",
    "token_sha256",
    "secret_sha256",
    "ics_token",
    "signature",
];

/// Columns whose bytes are files: exported as files of the archive, not in the JSON.
pub const BINARY: &[(&str, &str)] = &[("attestations", "pdf"), ("outbox_attachments", "content")];

/// The columns a source exports, in the register's order.
pub fn columns(source: &Source) -> Vec<&'static str> {
    match source.part {
        Part::Acted(columns) => columns.to_vec(),
        Part::Own => register::table(source.table)
            .map(|t| {
                t.other
                    .iter()
                    .chain(t.personal)
                    .copied()
                    .filter(|c| !SECRETS.contains(c))
                    .filter(|c| !BINARY.contains(&(source.table, *c)))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// One statement giving each row of `table` that `filter` keeps as a JSON object of
/// `columns` (a column `j`); `?1` is the person's id. Names come from the code, never from a
/// request.
pub fn select_sql(table: &str, columns: &[&str], filter: &str, pg: bool) -> String {
    let pairs: Vec<String> = columns
        .iter()
        .map(|c| format!("'{c}', t.\"{c}\""))
        .collect();
    let object = if pg {
        format!("json_build_object({})::text", pairs.join(", "))
    } else {
        format!("json_object({})", pairs.join(", "))
    };
    let order = if columns.contains(&"id") {
        " ORDER BY t.id"
    } else {
        ""
    };
    let filter = if pg {
        filter.replace("?1", "$1")
    } else {
        filter.to_string()
    };
    format!("SELECT {object} AS j FROM {table} t WHERE {filter}{order}")
}

/// A table that rows refer to by a column, shown with the export so that its ids mean
/// something: the programme, module, lesson, cohort, organism, sheet, session. `from`: the
/// tables whose column means this one (none: any table).
#[derive(Clone, Copy, Debug)]
pub struct Reference {
    pub column: &'static str,
    pub from: &'static [&'static str],
    pub table: &'static str,
    pub columns: &'static [&'static str],
}

const CERTIFICATION: &[&str] = &["certification_candidates", "certification_blocs"];

#[rustfmt::skip]
pub const REFERENCES: &[Reference] = &[
    Reference { column: "organism_id", from: &[], table: "organisms", columns: &["id", "name", "siret", "nda", "city"] },
    Reference { column: "program_id", from: &[], table: "programs", columns: &["id", "code", "kind", "title"] },
    Reference { column: "cohort_id", from: &[], table: "cohorts", columns: &["id", "organism_id", "program_id", "name", "start_date", "end_date"] },
    Reference { column: "module_id", from: &[], table: "modules", columns: &["id", "program_id", "code", "title"] },
    Reference { column: "lesson_id", from: &[], table: "lessons", columns: &["id", "module_id", "slug", "title", "kind"] },
    Reference { column: "sheet_id", from: &[], table: "attendance_sheets", columns: &["id", "session_id", "status", "opened_at", "closed_at"] },
    Reference { column: "session_id", from: &["attendance_sheets"], table: "sessions", columns: &["id", "cohort_id", "module_id", "day", "starts_at", "ends_at", "place"] },
    Reference { column: "session_id", from: CERTIFICATION, table: "certification_sessions", columns: &["id", "organism_id", "held_on", "place", "blocs"] },
    Reference { column: "thread_id", from: &[], table: "followup_threads", columns: &["id", "organism_id", "cohort_id", "module_id", "kind", "created_at"] },
];

/// Columns naming a person by her id: the export gives each such person's name (never more).
pub fn names_a_person(column: &str) -> bool {
    column.ends_with("_by")
        || matches!(
            column,
            "user_id"
                | "trainee_id"
                | "candidate_id"
                | "doctor_id"
                | "trainer_id"
                | "author_id"
                | "actor_user_id"
        )
}

/// The ids that rows give in `column` (numbers only: cmi5's session ids are text).
pub fn ids_in<'a>(rows: impl IntoIterator<Item = &'a serde_json::Value>, column: &str) -> Vec<i64> {
    let mut ids: Vec<i64> = rows
        .into_iter()
        .filter_map(|r| r.get(column).and_then(serde_json::Value::as_i64))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// `id IN (…)` over numbers only, for the references.
pub fn ids_filter(ids: &[i64]) -> String {
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!("t.id IN ({})", list.join(", "))
}

/// The archive's file name, as the browser saves it.
pub fn file_name(name: &str, at: chrono::NaiveDateTime) -> String {
    format!(
        "donnees-{}-{}.zip",
        crate::base::format::slug(name, 40),
        crate::base::paris::paris_date(at).format("%Y-%m-%d")
    )
}

/// A kept file's name as the archive holds it: letters, digits, dots, dashes and underscores,
/// never a folder nor a hidden file.
pub fn safe_name(name: &str) -> String {
    let folded: String = deunicode::deunicode(name)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let name: String = folded.trim_start_matches('.').chars().take(100).collect();
    if name.is_empty() {
        "fichier".into()
    } else {
        name
    }
}

/// What a reference of the letter asking for her data may be: a short line, said in the audit.
pub fn check_reference(raw: &str) -> Result<String, &'static str> {
    let r = raw.trim();
    if r.is_empty() {
        return Err("Indiquez la référence ou la date du courrier de la personne.");
    }
    if r.chars().count() > 200 || r.contains(['\r', '\n']) {
        return Err("La référence tient en une ligne de 200 caractères au plus.");
    }
    Ok(r.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_binds_the_person_on_either_backend() {
        let s = &SOURCES[0];
        let cols = columns(s);
        assert!(cols.contains(&"email") && !cols.contains(&"password_hash"));
        let lite = select_sql(s.table, &cols, s.filter, false);
        assert!(
            lite.starts_with("SELECT json_object('id', t.\"id\""),
            "{lite}"
        );
        assert!(
            lite.ends_with("FROM users t WHERE id = ?1 ORDER BY t.id"),
            "{lite}"
        );
        let pg = select_sql(s.table, &cols, s.filter, true);
        assert!(pg.contains("json_build_object(") && pg.contains("::text AS j"));
        assert!(pg.contains("WHERE id = $1") && !pg.contains("?1"), "{pg}");
    }

    #[test]
    fn binary_and_secret_columns_stay_out_of_the_json() {
        let attestations = SOURCES.iter().find(|s| s.table == "attestations");
        let cols = attestations.map(columns).unwrap_or_default();
        assert!(cols.contains(&"number") && cols.contains(&"trainee_id"));
        assert!(!cols.contains(&"pdf") && !cols.contains(&"signature"));
        let schema = include_str!("../db/schema.rs");
        let mut table = "";
        for line in schema.lines().map(str::trim) {
            if let Some((name, _)) = line.strip_suffix(") {").and_then(|l| l.split_once(" (")) {
                table = name;
            }
            if let Some(col) = line.strip_suffix(" -> Binary,") {
                assert!(BINARY.contains(&(table, col)), "{table}.{col} is binary");
            }
        }
    }

    #[test]
    fn acted_sources_name_only_columns_of_the_register() {
        for s in SOURCES {
            let t = register::table(s.table).unwrap_or_else(|| panic!("{}", s.table));
            for c in columns(s) {
                assert!(t.column(c).is_some(), "{}.{c}", s.table);
            }
            assert!(s.filter.contains("?1"), "{}", s.table);
            // PostgreSQL's json_build_object takes 100 arguments at most.
            assert!(columns(s).len() <= 50, "{}", s.table);
        }
    }

    #[test]
    fn ids_are_numbers_only() {
        let rows = [
            serde_json::json!({"session_id": 4}),
            serde_json::json!({"session_id": "abc"}),
            serde_json::json!({"session_id": 4}),
            serde_json::json!({"session_id": 2}),
        ];
        assert_eq!(ids_in(&rows, "session_id"), vec![2, 4]);
        assert_eq!(ids_filter(&[2, 4]), "t.id IN (2, 4)");
        assert!(names_a_person("graded_by") && !names_a_person("module_id"));
        assert_eq!(safe_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_name("Fiche d'été.pdf"), "Fiche_d_ete.pdf");
        assert_eq!(safe_name(".."), "fichier");
        assert!(check_reference(" ").is_err());
        assert!(check_reference("a\nb").is_err());
        assert_eq!(
            check_reference(" Lettre du 02/12 ").as_deref(),
            Ok("Lettre du 02/12")
        );
    }
}
