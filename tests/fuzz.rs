//! Hostile input for a bounded time: the trainees' CSV importer and the curriculum loader get
//! random and mutated input. Neither may panic, and every refusal must say where and why.
//! `PROPTEST_CASES` raises the number of cases for a longer run.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use parcours::cohorts::import;
use parcours::curriculum::loader;

const HEADER: &str =
    "Nom;Prénom;E-mail;Profil;Date d'embauche;Médecin;E-mail du médecin;Financement";

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()
}

fn check_import(bytes: &[u8]) {
    match import::parse(bytes, today()) {
        Ok(rows) => {
            for r in rows {
                assert!(r.line >= 2, "data starts on line 2");
                assert!(r.email.contains('@'));
                assert!(!r.email.contains(['\r', '\n', ';']), "{:?}", r.email);
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            for e in errors {
                assert!(!e.message.trim().is_empty(), "a refusal says why");
            }
        }
    }
}

/// A cell as a person or an attacker might type it.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-zÀ-ÿ' -]{0,20}",
        "[=+@-][A-Za-z0-9(\"; ]{0,20}",
        "\"[^\"]{0,10}\"\"[^\"]{0,10}\"",
        "[a-z]{1,8}@[a-z]{1,8}\\.fr",
        "[0-3][0-9]/[01][0-9]/(19|20)[0-9]{2}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000)
    ))]

    #[test]
    fn the_importer_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        check_import(&bytes);
        let mut with_header = HEADER.as_bytes().to_vec();
        with_header.extend_from_slice(b"\r\n");
        with_header.extend_from_slice(&bytes);
        check_import(&with_header);
    }

    #[test]
    fn the_importer_judges_any_rows(rows in proptest::collection::vec(proptest::collection::vec(cell(), 0..10), 0..8), crlf in any::<bool>(), latin1 in any::<bool>()) {
        let eol = if crlf { "\r\n" } else { "\n" };
        let mut text = format!("{HEADER}{eol}");
        for r in rows {
            text.push_str(&r.join(";"));
            text.push_str(eol);
        }
        let bytes = if latin1 {
            encoding_rs::WINDOWS_1252.encode(&text).0.into_owned()
        } else {
            text.into_bytes()
        };
        check_import(&bytes);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let dest = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            files(&e.path(), out);
        } else {
            out.push(e.path());
        }
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Insert(usize, String),
    DropLine(usize),
    Replace(usize, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<String>()).prop_map(|(i, s)| Mutation::Insert(i, s)),
        (
            any::<usize>(),
            "(<script>|=|\"|\\[|\\]|hours = -1|minutes = 99999|id = \"a\"|\\{\\{|\u{0}|é){1,4}"
        )
            .prop_map(|(i, s)| Mutation::Insert(i, s)),
        any::<usize>().prop_map(Mutation::DropLine),
        (any::<usize>(), any::<String>()).prop_map(|(i, s)| Mutation::Replace(i, s)),
    ]
}

fn apply(text: &str, m: &Mutation) -> String {
    let at = |i: usize| {
        let mut i = i % (text.len() + 1);
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    match m {
        Mutation::Truncate(i) => text[..at(*i)].to_string(),
        Mutation::Insert(i, s) => format!("{}{s}{}", &text[..at(*i)], &text[at(*i)..]),
        Mutation::DropLine(i) | Mutation::Replace(i, _) => {
            let mut lines: Vec<&str> = text.lines().collect();
            if lines.is_empty() {
                return String::new();
            }
            let n = i % lines.len();
            match m {
                Mutation::Replace(_, s) => lines[n] = s.as_str(),
                _ => {
                    lines.remove(n);
                }
            }
            lines.join("\n")
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300)
    ))]

    #[test]
    fn the_content_loader_never_panics_and_names_the_file(pick in any::<usize>(), m in mutation()) {
        let dir = tempfile::tempdir().unwrap();
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("content/cqp-assistant-medical");
        let root = dir.path().join("cqp-assistant-medical");
        copy_dir(&source, &root);
        let mut all = vec![];
        files(&root, &mut all);
        all.sort();
        let target = &all[pick % all.len()];
        let text = std::fs::read_to_string(target).unwrap();
        std::fs::write(target, apply(&text, &m)).unwrap();
        match loader::load(dir.path()) {
            Ok(c) => {
                // A mutation may rename the programme (a valid new code): whatever was
                // accepted is one programme whose hours add up.
                prop_assert_eq!(c.programs.len(), 1);
                let p = &c.programs[0];
                let sum: u32 = p.modules.iter().map(|m| m.planned_hours).sum();
                prop_assert_eq!(sum, p.total_hours, "accepted content adds up");
            }
            Err(errors) => {
                prop_assert!(!errors.0.is_empty());
                for e in &errors.0 {
                    prop_assert!(e.file.starts_with(dir.path()), "{} outside the folder", e.file.display());
                    prop_assert!(!e.message.trim().is_empty());
                }
            }
        }
    }
}
