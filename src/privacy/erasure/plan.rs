//! What erasing one person does to each table, as data: the rows found from her id, and whether
//! they are deleted or have their personal columns blanked. Pure; `store.rs` turns each step
//! into one SQL statement (the same text on SQLite and PostgreSQL: only our own constants and
//! integer ids go in it). A test checks the plan against the register, so a new table of
//! personal data cannot be forgotten here.
//!
//! What stays, under the pseudonym and without anything that names her: the numbers the
//! organism's figures and the rest of the cohort's pages are made of (hours, progress, scores,
//! attendance statuses, the enrolment and its dates). The attestations stay provable
//! (`store::pseudonymise_attestations`); her user row keeps its id under a pseudonym.

/// Which shelf of `objects/` a step's files are on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shelf {
    Uploads,
}

impl Shelf {
    pub fn name(self) -> &'static str {
        match self {
            Shelf::Uploads => "uploads",
        }
    }
}

/// A value a blanked column gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    Null,
    /// An empty text, for a column that may not be null.
    Empty,
    /// "(effacé)", for a free text that may not be null and is shown.
    Erased,
    /// A new random secret (calendar tokens).
    Random,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Delete,
    Blank(&'static [(&'static str, Value)]),
}

/// One statement of the erasure of person `{p}`.
#[derive(Clone, Copy, Debug)]
pub struct Step {
    pub table: &'static str,
    /// The SQL condition choosing her rows; `{p}` stands for her id.
    pub rows: &'static str,
    pub action: Action,
    /// Files named by these rows, queued for deletion before the rows go.
    pub files: Option<(Shelf, &'static str)>,
}

const fn delete(table: &'static str, rows: &'static str) -> Step {
    Step {
        table,
        rows,
        action: Action::Delete,
        files: None,
    }
}

const fn delete_files(table: &'static str, rows: &'static str, column: &'static str) -> Step {
    Step {
        table,
        rows,
        action: Action::Delete,
        files: Some((Shelf::Uploads, column)),
    }
}

const fn blank(
    table: &'static str,
    rows: &'static str,
    columns: &'static [(&'static str, Value)],
) -> Step {
    Step {
        table,
        rows,
        action: Action::Blank(columns),
        files: None,
    }
}

const VAE: &str = "request_id IN (SELECT id FROM vae_requests WHERE candidate_id = {p})";
const THREADS: &str = "thread_id IN (SELECT id FROM followup_threads WHERE trainee_id = {p})";
const MESSAGES: &str = "message_id IN (SELECT id FROM followup_messages WHERE thread_id IN \
                        (SELECT id FROM followup_threads WHERE trainee_id = {p}))";
const SUBMISSIONS: &str =
    "submission_id IN (SELECT id FROM assignment_submissions WHERE trainee_id = {p})";
const FUNDING: &str = "file_id IN (SELECT id FROM funding_files WHERE trainee_id = {p})";
const ATTEMPTS: &str = "attempt_id IN (SELECT id FROM package_attempts WHERE trainee_id = {p})";

/// The steps, in order: children before their parents, files before their rows. The user row
/// itself, the attestations, the mails and the audit log are done in `store.rs` (they need
/// her name and address, or a signature).
pub const PLAN: &[Step] = &[
    // Ways in and contact.
    delete("login_sessions", "user_id = {p}"),
    delete("invitations", "user_id = {p}"),
    delete("unsubscribe_links", "user_id = {p}"),
    delete("email_changes", "user_id = {p}"),
    // Her data as a ZIP: the archive goes with the row.
    delete_files("data_exports", "user_id = {p}", "sha256"),
    // Her name as it was and as she asked it: nothing left to correct.
    delete("identity_corrections", "user_id = {p}"),
    delete("doctor_links", "doctor_id = {p}"),
    // A doctor leaves the practice; the practice and its other doctors stay.
    delete("employer_doctors", "doctor_id = {p}"),
    delete("followup_digests", "user_id = {p}"),
    delete("followup_reads", "user_id = {p}"),
    // VAE files, with their documents.
    delete_files("vae_documents", VAE, "sha256"),
    delete("vae_experiences", VAE),
    blank(
        "certification_blocs",
        "vae_request_id IN (SELECT id FROM vae_requests WHERE candidate_id = {p})",
        &[("vae_request_id", Value::Null)],
    ),
    delete("vae_requests", "candidate_id = {p}"),
    // Follow-up exchanges: free text, whoever wrote it.
    delete_files("followup_attachments", MESSAGES, "sha256"),
    delete("followup_reads", THREADS),
    delete("followup_messages", THREADS),
    delete("followup_threads", "trainee_id = {p}"),
    // Assignments: the files and her text go, the grade stays.
    delete_files("assignment_files", SUBMISSIONS, "sha256"),
    blank(
        "assignment_submissions",
        "trainee_id = {p}",
        &[("answer_text", Value::Empty), ("feedback", Value::Null)],
    ),
    blank(
        "evaluation_attempts",
        "trainee_id = {p}",
        &[("answers", Value::Null)],
    ),
    // E-learning packages: the raw traces go, completion and score stay.
    delete("cmi5_statements", ATTEMPTS),
    delete("cmi5_states", ATTEMPTS),
    delete("package_launches", ATTEMPTS),
    blank(
        "package_attempts",
        "trainee_id = {p}",
        &[("data", Value::Empty)],
    ),
    // Certification: the certificate file goes, the result stays.
    Step {
        table: "certifications",
        rows: "trainee_id = {p}",
        action: Action::Blank(&[
            ("certificate_sha256", Value::Null),
            ("certificate_name", Value::Null),
            ("certificate_number", Value::Empty),
            ("doctor_not_sent", Value::Null),
        ]),
        files: Some((Shelf::Uploads, "certificate_sha256")),
    },
    blank(
        "certification_candidates",
        "trainee_id = {p}",
        &[("derogation", Value::Null)],
    ),
    // Free texts about her written by staff.
    blank(
        "attendance_entries",
        "trainee_id = {p}",
        &[("note", Value::Null)],
    ),
    blank(
        "hour_corrections",
        "trainee_id = {p}",
        &[("reason", Value::Erased)],
    ),
    blank(
        "path_adjustments",
        "trainee_id = {p}",
        &[("reason", Value::Erased), ("document_ref", Value::Null)],
    ),
    // Funding files stay as proof of the training's funding; free texts go.
    blank("funding_events", FUNDING, &[("reason", Value::Null)]),
    blank(
        "funding_files",
        "trainee_id = {p}",
        &[("refusal_reason", Value::Null)],
    ),
    blank(
        "proa_suspensions",
        "trainee_id = {p}",
        &[("reason", Value::Erased)],
    ),
    blank(
        "enrolments",
        "trainee_id = {p}",
        &[("end_note", Value::Null)],
    ),
    blank(
        "trainee_profiles",
        "user_id = {p}",
        &[
            ("prior_experience", Value::Null),
            ("aid_contract_ref", Value::Null),
            ("employer_id", Value::Null),
            ("ics_token", Value::Random),
        ],
    ),
    delete("nudges", "trainee_id = {p}"),
    delete("deadline_alerts", "trainee_id = {p}"),
];

/// Tables of personal data the plan leaves alone, and why (checked against the register).
pub const LEFT: &[(&str, &str)] = &[
    ("users", "pseudonymised by store::pseudonymise_user, last"),
    ("attestations", "pseudonymised and sealed again by store"),
    (
        "outbox",
        "her mails deleted, her name replaced in the others, by store",
    ),
    ("outbox_attachments", "deleted with her mails, by store"),
    (
        "audit_events",
        "her name and address replaced, her addresses removed, by store",
    ),
    ("bouncing_addresses", "her address deleted by store"),
    (
        "erasure_requests",
        "the proof of the answer given to her request",
    ),
    (
        "legal_holds",
        "a hold stops the erasure; it names the organism's reason",
    ),
    ("organisms", "contacts of the organism, not of a trainee"),
    (
        "employers",
        "a practice may employ others: never erased with one person",
    ),
    (
        "cohort_trainers",
        "staff, whose account is pseudonymised in its own right",
    ),
    (
        "content_versions",
        "authors are staff, pseudonymised in their own right",
    ),
    (
        "program_drafts",
        "authors are staff, pseudonymised in their own right",
    ),
    ("sessions", "trainers are staff"),
    ("attendance_sheets", "opened and closed by staff"),
    ("closure_days", "entered by staff"),
    ("api_tokens", "created by staff; the organism's integration"),
    (
        "certification_sessions",
        "the jury and the session: the organism's",
    ),
    (
        "vae_pending_requests",
        "purged 48 hours after sending by vae::pending::purge",
    ),
    ("vae_pending_documents", "purged with their request"),
    ("lesson_progress", "numbers only, under the pseudonym"),
    ("activity_totals", "numbers only, under the pseudonym"),
    ("study_clocks", "numbers only, under the pseudonym"),
    ("study_sessions", "numbers only, under the pseudonym"),
    ("module_totals", "numbers only, under the pseudonym"),
    ("daily_activity", "numbers only, under the pseudonym"),
];

/// The value of a blanked column as SQL.
pub fn literal(value: Value, random: &str) -> String {
    match value {
        Value::Null => "NULL".into(),
        Value::Empty => "''".into(),
        Value::Erased => "'(effacé)'".into(),
        Value::Random => format!("'{}'", random.replace('\'', "")),
    }
}

/// The statement of one step for person `person`.
pub fn statement(step: &Step, person: i64, random: &str) -> String {
    let rows = step.rows.replace("{p}", &person.to_string());
    match step.action {
        Action::Delete => format!("DELETE FROM {} WHERE {rows}", step.table),
        Action::Blank(columns) => {
            let set: Vec<String> = columns
                .iter()
                .map(|(c, v)| format!("{c} = {}", literal(*v, random)))
                .collect();
            format!("UPDATE {} SET {} WHERE {rows}", step.table, set.join(", "))
        }
    }
}

/// The statement that queues a step's files for deletion, if it names files.
pub fn queue_files(step: &Step, person: i64, queued_at: &str) -> Option<String> {
    let (shelf, column) = step.files?;
    let rows = step.rows.replace("{p}", &person.to_string());
    Some(format!(
        "INSERT INTO erasure_files (shelf, sha256, queued_at) SELECT '{}', {column}, '{queued_at}' \
         FROM {} WHERE {rows} AND {column} IS NOT NULL",
        shelf.name(),
        step.table
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::privacy::register::{self, TABLES};

    #[test]
    fn every_table_of_personal_data_is_planned_or_left_with_a_reason() {
        for t in TABLES.iter().filter(|t| t.personal_data.is_some()) {
            let planned = PLAN.iter().any(|s| s.table == t.name);
            let left = LEFT.iter().any(|(n, _)| *n == t.name);
            assert!(
                planned != left,
                "{}: in the plan or left alone, once (planned {planned}, left {left})",
                t.name
            );
        }
    }

    #[test]
    fn the_plan_names_only_columns_the_register_knows() {
        for s in PLAN {
            let t = register::table(s.table).unwrap_or_else(|| panic!("{}", s.table));
            if let Action::Blank(cols) = s.action {
                for (c, _) in cols {
                    assert!(t.column(c).is_some(), "{}.{c}", s.table);
                }
            }
            if let Some((_, c)) = s.files {
                assert!(t.column(c).is_some(), "{}.{c}", s.table);
            }
        }
    }

    #[test]
    fn statements_read_as_sql() {
        let s = statement(&PLAN[0], 42, "x");
        assert_eq!(s, "DELETE FROM login_sessions WHERE user_id = 42");
        let profile = PLAN
            .iter()
            .find(|s| s.table == "trainee_profiles")
            .map(|s| statement(s, 7, "abc'"));
        assert_eq!(
            profile.as_deref(),
            Some(
                "UPDATE trainee_profiles SET prior_experience = NULL, aid_contract_ref = NULL, \
                 employer_id = NULL, ics_token = 'abc' WHERE user_id = 7"
            )
        );
        let files = PLAN
            .iter()
            .find(|s| s.table == "vae_documents")
            .and_then(|s| queue_files(s, 3, "2026-01-01 00:00:00"));
        assert!(files.is_some_and(
            |f| f.contains("SELECT 'uploads', sha256") && f.contains("candidate_id = 3")
        ));
    }
}
