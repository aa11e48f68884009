//! The floors of the house (ARCHITECTURE.md), checked over the source: every `crate::…` path
//! (and `parcours::…` in `main.rs`) of every file in `src/` is an import of the top-level
//! module it names. The check fails, with the file and line, on
//! - an import from a lower floor into a higher one (the ground floor `base` imports only
//!   std and external crates; `web`, `db`, `config` and `audit` import no domain; no domain
//!   imports `startup`, `demo` or `openapi`),
//! - a web framework, diesel or tera in `base`,
//! - an import circle between top-level modules,
//! - a top-level module that no floor lists (put a new domain in `DOMAINS`),
//! - a page or API file (`pages.rs`, `*_pages.rs`, `api.rs`) imported from another folder:
//!   handlers are no library; only `startup` registers them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The floors, from the ground up. A file imports only from its own floor or below.
const FLOORS: &[(&str, &[&str])] = &[
    // Pure basics: French formats, Paris dates, field errors and checks.
    ("ground floor", &["base"]),
    // Plumbing shared by every domain; imports no domain.
    ("plumbing", &["config", "db", "audit", "objects", "web"]),
    // One folder per domain; a domain may import another, without a circle.
    ("domains", DOMAINS),
    // What puts the house together: routes, the home page, scheduled jobs, OpenAPI document,
    // demo data, CLI.
    (
        "startup",
        &["home", "jobs", "openapi", "demo", "startup", "lib", "main"],
    ),
];

const DOMAINS: &[&str] = &[
    "accounts",
    "packages",
    "cohorts",
    "curriculum",
    "tracking",
    "vae",
    "attestation",
    "certification",
    "evidence",
    "followup",
    "reporting",
    "xapi",
    "mail",
    "ops",
    "storage",
    "organisms",
    "scorm",
    "privacy",
    "funding",
    "catalogue",
];

/// Crates the ground floor must not use: it stays pure.
const NOT_ON_THE_GROUND_FLOOR: &[&str] = &["actix_web::", "actix_", "diesel::", "tera::"];

#[derive(Clone, Debug)]
struct Import {
    file: String,
    line: usize,
    text: String,
    from: String,
    to: String,
}

impl std::fmt::Display for Import {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: {} -> {}: {}",
            self.file,
            self.line,
            self.from,
            self.to,
            self.text.trim()
        )
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module of a file: `src/cohorts/rules.rs` -> `cohorts`, `src/web.rs` -> `web`.
fn top_module(rel: &str) -> String {
    let inner = rel.strip_prefix("src/").unwrap_or(rel);
    let first = inner.split('/').next().unwrap_or(inner);
    first.trim_end_matches(".rs").to_string()
}

/// The code of a line without its `//` comment (doc comments name modules freely).
fn code_of(line: &str) -> &str {
    let mut in_str = false;
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if in_str => i += 1,
            b'"' => in_str = !in_str,
            b'/' if !in_str && b.get(i + 1) == Some(&b'/') => return &line[..i],
            _ => {}
        }
        i += 1;
    }
    line
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The first identifier of each item of a `{a, b::c, d as e}` group, and of nested groups'
/// owners only (`{a::{x, y}}` -> `a`).
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut item = String::new();
    for c in group.chars() {
        match c {
            '{' => {
                depth += 1;
                item.push(c);
            }
            '}' => {
                depth -= 1;
                item.push(c);
            }
            ',' if depth == 0 => {
                heads.push(std::mem::take(&mut item));
            }
            _ => item.push(c),
        }
    }
    heads.push(item);
    heads
        .iter()
        .map(|i| {
            i.trim()
                .chars()
                .take_while(|&c| is_ident(c))
                .collect::<String>()
        })
        .filter(|h| !h.is_empty() && h != "self")
        .collect()
}

/// Every top-level module a file names through `prefix::` (`crate` or `parcours`).
fn imports_of(rel: &str, text: &str, prefix: &str) -> Vec<Import> {
    let from = top_module(rel);
    let lines: Vec<&str> = text.lines().collect();
    // The code of the file, comments removed, with the line each byte came from.
    let mut code = String::new();
    let mut line_of = Vec::new();
    for (n, l) in lines.iter().enumerate() {
        let c = code_of(l);
        code.push_str(c);
        code.push('\n');
        line_of.extend(std::iter::repeat_n(n, c.len() + 1));
    }
    let needle = format!("{prefix}::");
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(found) = code[at..].find(&needle) {
        let start = at + found;
        at = start + needle.len();
        if code[..start].chars().next_back().is_some_and(is_ident) {
            continue;
        }
        let rest = &code[at..];
        let names = if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let end = group
                .char_indices()
                .find(|&(_, c)| {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map_or(group.len(), |(i, _)| i);
            group_heads(&group[..end])
        } else {
            vec![rest.chars().take_while(|&c| is_ident(c)).collect()]
        };
        let line = line_of[start];
        for to in names {
            if to != from && !to.is_empty() {
                out.push(Import {
                    file: rel.to_string(),
                    line: line + 1,
                    text: lines[line].to_string(),
                    from: from.clone(),
                    to,
                });
            }
        }
    }
    out
}

fn floor_of(module: &str) -> Option<usize> {
    FLOORS.iter().position(|(_, mods)| mods.contains(&module))
}

struct Source {
    modules: BTreeSet<String>,
    imports: Vec<Import>,
    ground_floor_crates: Vec<String>,
}

fn read_source() -> Source {
    let root = root();
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut modules = BTreeSet::new();
    let mut imports = Vec::new();
    let mut ground_floor_crates = Vec::new();
    for path in files {
        let rel = path
            .strip_prefix(&root)
            .expect("under the crate")
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
        modules.insert(top_module(&rel));
        let prefix = if rel == "src/main.rs" {
            "parcours"
        } else {
            "crate"
        };
        imports.extend(imports_of(&rel, &text, prefix));
        if top_module(&rel) == "base" {
            for (n, line) in text.lines().enumerate() {
                let code = code_of(line);
                if NOT_ON_THE_GROUND_FLOOR.iter().any(|c| code.contains(c)) {
                    ground_floor_crates.push(format!("{rel}:{}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    // `parcours::AppConfig` and the like are re-exports of lib.rs, not modules.
    imports.retain(|i| modules.contains(&i.to));
    Source {
        modules,
        imports,
        ground_floor_crates,
    }
}

/// A circle of the graph, as the modules met along it (the first one repeated at the end).
fn find_circle(graph: &BTreeMap<&str, BTreeSet<&str>>) -> Option<Vec<String>> {
    fn visit<'a>(
        m: &'a str,
        graph: &BTreeMap<&'a str, BTreeSet<&'a str>>,
        done: &mut BTreeSet<&'a str>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(pos) = path.iter().position(|&p| p == m) {
            let mut circle: Vec<String> = path[pos..].iter().map(|s| s.to_string()).collect();
            circle.push(m.to_string());
            return Some(circle);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m);
        for next in graph.get(m).into_iter().flatten() {
            if let Some(c) = visit(next, graph, done, path) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m);
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|m| visit(m, graph, &mut done, &mut Vec::new()))
}

#[test]
fn every_top_level_module_has_a_floor() {
    let source = read_source();
    let homeless: Vec<_> = source
        .modules
        .iter()
        .filter(|m| floor_of(m).is_none())
        .collect();
    assert!(
        homeless.is_empty(),
        "top-level modules on no floor (add them to FLOORS or DOMAINS in tests/layers.rs): {homeless:?}"
    );
}

#[test]
fn a_file_imports_only_from_its_own_floor_or_below() {
    let source = read_source();
    let upward: Vec<String> = source
        .imports
        .iter()
        .filter(|i| match (floor_of(&i.from), floor_of(&i.to)) {
            (Some(from), Some(to)) => to > from,
            _ => false,
        })
        .map(|i| {
            let floor = |m: &str| floor_of(m).map_or("?", |f| FLOORS[f].0);
            format!("{i}   ({} imports from {})", floor(&i.from), floor(&i.to))
        })
        .collect();
    assert!(
        upward.is_empty(),
        "imports from a higher floor:\n{}",
        upward.join("\n")
    );
}

#[test]
fn the_ground_floor_uses_no_web_framework_database_or_templates() {
    let source = read_source();
    assert!(
        source.ground_floor_crates.is_empty(),
        "src/base must stay pure:\n{}",
        source.ground_floor_crates.join("\n")
    );
}

#[test]
fn no_new_import_circle_between_modules() {
    let source = read_source();
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for i in source.imports.iter() {
        graph.entry(&i.from).or_default().insert(&i.to);
    }
    if let Some(circle) = find_circle(&graph) {
        let sites: Vec<String> = circle
            .windows(2)
            .flat_map(|w| {
                source
                    .imports
                    .iter()
                    .filter(|i| i.from == w[0] && i.to == w[1])
                    .take(3)
                    .map(|i| i.to_string())
            })
            .collect();
        panic!(
            "import circle {}:\n{}",
            circle.join(" -> "),
            sites.join("\n")
        );
    }
}

#[test]
fn the_reader_sees_grouped_and_qualified_imports() {
    let text = "use crate::{accounts, web::{self as w, AppError}};\n\
                // crate::vae in a comment is no import\n\
                let x = crate::db::now(); let s = \"// \"; crate::mail::send();\n\
                use crate::{\n    cohorts,\n    tracking::rules,\n};\n";
    let found: Vec<(usize, String)> = imports_of("src/xapi/api.rs", text, "crate")
        .into_iter()
        .map(|i| (i.line, i.to))
        .collect();
    let expected = [
        (1, "accounts"),
        (1, "web"),
        (3, "db"),
        (3, "mail"),
        (4, "cohorts"),
        (4, "tracking"),
    ];
    assert_eq!(found, expected.map(|(l, m)| (l, m.to_string())).to_vec());
}

/// Handler files: what they hold is reached by a route, never by another domain.
fn is_handler_file(name: &str) -> bool {
    name == "pages" || name.ends_with("_pages") || name == "api"
}

/// `crate::<module>::<file>` paths of `text`, grouped ones included (`crate::a::{b, c::d}`).
fn second_level_paths(text: &str) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = code_of(line);
        let mut at = 0;
        while let Some(found) = code[at..].find("crate::") {
            let start = at + found + "crate::".len();
            at = start;
            let module: String = code[start..].chars().take_while(|&c| is_ident(c)).collect();
            let Some(rest) = code[start + module.len()..].strip_prefix("::") else {
                continue;
            };
            let files = match rest.strip_prefix('{') {
                Some(group) => group_heads(group.split('}').next().unwrap_or_default()),
                None => vec![rest.chars().take_while(|&c| is_ident(c)).collect()],
            };
            for file in files {
                out.push((n + 1, module.clone(), file));
            }
        }
    }
    out
}

#[test]
fn no_page_file_is_imported_outside_its_folder() {
    let root = root();
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut found = Vec::new();
    for path in files {
        let rel = path
            .strip_prefix(&root)
            .expect("under the crate")
            .to_string_lossy()
            .replace('\\', "/");
        let from = top_module(&rel);
        if floor_of(&from).is_some_and(|f| FLOORS[f].0 == "startup") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
        for (line, module, file) in second_level_paths(&text) {
            if module != from && is_handler_file(&file) {
                found.push(format!("{rel}:{line}: crate::{module}::{file}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "page files imported outside their folder (move what they share to a rules, store or \
         named module):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_page_check_reads_grouped_paths() {
    let paths = second_level_paths(
        "use crate::cohorts::{access, cohort_pages::x};\nlet v = crate::vae::pages::f();",
    );
    assert!(paths.contains(&(1, "cohorts".into(), "cohort_pages".into())));
    assert!(paths.contains(&(2, "vae".into(), "pages".into())));
    assert!(is_handler_file("trainee_pages") && !is_handler_file("access"));
}
