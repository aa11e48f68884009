//! The routes of the application, read from its sources: the `.route("/path",
//! web::method()…)` calls of `src/startup.rs` and of every `routes` function it configures,
//! followed through further `.configure(…)` calls and `web::scope("…")` prefixes. A route
//! registered any other way stops the test, so that no route escapes the authorization matrix
//! (`matrix.rs`) or the visit of every page (`tests/browser/every_page.rs`, which includes this
//! file).

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The index of the bracket closing the one at `open`, skipping string literals.
fn closing(text: &str, open: usize) -> usize {
    let bytes = text.as_bytes();
    let (up, down) = match bytes[open] {
        b'(' => (b'(', b')'),
        b'{' => (b'{', b'}'),
        other => panic!("not a bracket: {}", other as char),
    };
    let (mut depth, mut i, mut in_str) = (0usize, open, false);
    while i < bytes.len() {
        let b = bytes[i];
        if in_str {
            if b == b'\\' {
                i += 1;
            } else if b == b'"' {
                in_str = false;
            }
        } else if b == b'"' {
            in_str = true;
        } else if b == up {
            depth += 1;
        } else if b == down {
            depth -= 1;
            if depth == 0 {
                return i;
            }
        }
        i += 1;
    }
    panic!("unbalanced bracket at {open}")
}

fn line_of(text: &str, at: usize) -> usize {
    text[..at].lines().count()
}

/// The file of a module path (`accounts::pages`, from `src/`).
fn module_file(segments: &[&str]) -> PathBuf {
    let base = src().join(segments.join("/"));
    let file = base.with_extension("rs");
    if file.exists() {
        file
    } else {
        base.join("mod.rs")
    }
}

/// The module path of a file of `src/` (`src/accounts/pages.rs` → `accounts::pages`).
fn module_of(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src()).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts
        .last()
        .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
    {
        parts.pop();
    }
    parts
}

struct Reader {
    found: BTreeSet<(String, String)>,
    /// Each `.route(` read, as (file, offset).
    read: BTreeSet<(PathBuf, usize)>,
}

impl Reader {
    /// Reads the routes and configured functions in `body` of `file`, under `prefix`.
    fn read(&mut self, file: &Path, text: &str, body: Range<usize>, prefix: &str) {
        // Scopes inside this body: `.service(web::scope("/x")…)`.
        let mut scopes: Vec<(Range<usize>, String)> = vec![];
        for (at, _) in text[body.clone()].match_indices(".service(") {
            let open = body.start + at + ".service".len();
            let range = open..closing(text, open);
            let inner = text[open + 1..range.end].trim_start();
            let Some(rest) = inner.strip_prefix("web::scope(\"") else {
                panic!(
                    "{}:{}: a .service( this test cannot read (only web::scope(\"…\"))",
                    file.display(),
                    line_of(text, open)
                );
            };
            let scope = rest[..rest.find('"').unwrap()].to_string();
            scopes.push((range, scope));
        }
        let prefix_at = |at: usize| -> String {
            let inner = scopes
                .iter()
                .filter(|(r, _)| r.contains(&at))
                .map(|(_, s)| s.as_str())
                .collect::<String>();
            format!("{prefix}{inner}")
        };
        for (at, _) in text[body.clone()].match_indices(".route(") {
            let at = body.start + at;
            let (method, path) = route_at(text, at, file);
            self.read.insert((file.to_path_buf(), at));
            self.found
                .insert((method, format!("{}{path}", prefix_at(at))));
        }
        for (at, _) in text[body.clone()].match_indices(".configure(") {
            let at = body.start + at;
            let open = at + ".configure".len();
            let arg = text[open + 1..closing(text, open)].trim();
            let mut segments: Vec<String> = module_of(file);
            let mut parts: Vec<&str> = arg.split("::").map(str::trim).collect();
            let function = parts.pop().unwrap();
            match parts.first().copied() {
                Some("crate") => {
                    segments.clear();
                    parts.remove(0);
                }
                Some("self") => {
                    parts.remove(0);
                }
                Some("super") => {
                    while parts.first() == Some(&"super") {
                        segments.pop();
                        parts.remove(0);
                    }
                }
                // A child module, or one the file imports from the crate's root
                // (`accounts::pages::routes` in src/startup.rs, which uses `crate::accounts`).
                Some(_) => {
                    let child: Vec<&str> = segments
                        .iter()
                        .map(String::as_str)
                        .chain(parts.iter().copied())
                        .collect();
                    if !module_file(&child).exists() {
                        segments.clear();
                    }
                }
                None => {}
            }
            segments.extend(parts.iter().map(|s| s.to_string()));
            let target = if parts.is_empty() && !arg.contains("::") {
                file.to_path_buf()
            } else {
                let s: Vec<&str> = segments.iter().map(String::as_str).collect();
                module_file(&s)
            };
            let target_text = std::fs::read_to_string(&target).unwrap_or_else(|e| {
                panic!(
                    "{}:{}: {} (configured as {arg}): {e}",
                    file.display(),
                    line_of(text, at),
                    target.display()
                )
            });
            let head = format!("fn {function}(");
            let start = target_text
                .find(&head)
                .unwrap_or_else(|| panic!("{head} in {}", target.display()));
            let open = start + target_text[start..].find('{').unwrap();
            let range = open..closing(&target_text, open);
            self.read(&target, &target_text, range, &prefix_at(at));
        }
    }
}

/// The `(METHOD, path)` of the `.route("path", web::method()…)` at `at`.
fn route_at(text: &str, at: usize, file: &Path) -> (String, String) {
    let unreadable = || -> ! {
        panic!(
            "{}:{}: a route this test cannot read; write it as \
             .route(\"/path\", web::get().to(handler)) or teach tests/browser/routes.rs",
            file.display(),
            line_of(text, at)
        )
    };
    let rest = text[at + ".route(".len()..].trim_start();
    let Some(rest) = rest.strip_prefix('"') else {
        unreadable()
    };
    let Some(end) = rest.find('"') else {
        unreadable()
    };
    let path = rest[..end].to_string();
    let Some(rest) = rest[end + 1..].trim_start().strip_prefix(',') else {
        unreadable()
    };
    let Some(rest) = rest.trim_start().strip_prefix("web::") else {
        unreadable()
    };
    let method = rest.split('(').next().unwrap().to_uppercase();
    if !matches!(method.as_str(), "GET" | "POST" | "PUT" | "PATCH" | "DELETE") {
        unreadable();
    }
    (method, path)
}

/// Every `(METHOD, path)` the application registers.
pub fn registered() -> BTreeSet<(String, String)> {
    let startup = src().join("startup.rs");
    let text = std::fs::read_to_string(&startup).unwrap();
    let mut reader = Reader {
        found: BTreeSet::new(),
        read: BTreeSet::new(),
    };
    reader.read(&startup, &text, 0..text.len(), "");
    // A route written anywhere the reading did not reach, or registered another way, would
    // be a page nobody visits: refuse it.
    let mut files = vec![];
    rust_files(&src(), &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (at, _) in text.match_indices(".route(") {
            assert!(
                reader.read.contains(&(file.clone(), at)),
                "{}:{}: a route that src/startup.rs does not reach through .configure(…)",
                file.display(),
                line_of(&text, at)
            );
        }
        for other in [
            "web::resource(",
            "#[get(",
            "#[post(",
            "#[route(",
            ".to_async(",
        ] {
            assert!(
                !text.contains(other),
                "{}: {other} is not read by tests/it/routes.rs",
                file.display()
            );
        }
    }
    assert!(reader.found.len() > 100, "routes found: {:?}", reader.found);
    reader.found
}

/// The reading finds the routes of `src/startup.rs`, of the functions it configures, and of
/// the API's scope under its prefix.
#[test]
fn the_routes_are_read_from_the_sources() {
    let routes = registered();
    for (method, path) in [
        ("GET", "/static/{name}"),
        ("GET", "/connexion"),
        ("POST", "/connexion"),
        ("GET", "/promotions/{id}"),
        ("GET", "/api/v1/openapi.json"),
        ("GET", "/api/v1/me"),
    ] {
        assert!(
            routes.contains(&(method.to_string(), path.to_string())),
            "{method} {path} in {routes:?}"
        );
    }
    assert!(
        !routes
            .iter()
            .any(|(_, p)| p == "/openapi.json" || p == "/me")
    );
}
