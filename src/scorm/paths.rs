//! Paths inside a package: an `href` that stays in the package, `xml:base` prefixes and launch
//! parameters joined the way the SCORM CAM says.

/// Why a path was refused (the caller puts it in its own message).
pub fn check_relative(href: &str) -> Result<(), String> {
    let decoded = percent_decode(href);
    let path = decoded.split(['?', '#']).next().unwrap_or_default();
    if path.trim().is_empty() {
        return Err(href.to_string());
    }
    if has_scheme(&decoded) || path.starts_with('/') || path.starts_with('\\') {
        return Err(href.to_string());
    }
    // A Windows drive (`C:`) is caught by `has_scheme`; `..` in either separator escapes.
    if path.split(['/', '\\']).any(|segment| segment == "..") {
        return Err(href.to_string());
    }
    Ok(())
}

/// `http:`, `file:`, `javascript:`, `C:`: anything before a first `:` that looks like a scheme.
pub fn has_scheme(href: &str) -> bool {
    let Some((head, _)) = href.split_once(':') else {
        return false;
    };
    let mut chars = head.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !head.contains('/')
}

/// `%20` → space; a broken escape is kept as it is (the path check still sees it).
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Prefixes `xml:base` values (outermost first) to `href`. A base without a final `/` is taken
/// as a folder: packages write `xml:base="content"` meaning the folder.
pub fn with_bases(bases: &[&str], href: &str) -> String {
    let mut out = String::new();
    for base in bases.iter().map(|b| b.trim()).filter(|b| !b.is_empty()) {
        out.push_str(base.trim_start_matches("./"));
        if !out.ends_with('/') {
            out.push('/');
        }
    }
    out.push_str(href.trim().trim_start_matches("./"));
    out
}

/// The CAM's rule for an item's `parameters`: leading `?` and `&` dropped; a `#fragment` added
/// only when the href has none; otherwise joined with `&` or `?`.
pub fn join_parameters(href: &str, parameters: &str) -> String {
    let params = parameters.trim().trim_start_matches(['?', '&']);
    if params.is_empty() {
        return href.to_string();
    }
    if params.starts_with('#') {
        return if href.contains('#') {
            href.to_string()
        } else {
            format!("{href}{params}")
        };
    }
    // A query goes before any fragment of the href.
    let (base, fragment) = match href.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (href, None),
    };
    let joiner = if base.contains('?') { '&' } else { '?' };
    let mut out = format!("{base}{joiner}{params}");
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// The file part of a launch string, decoded, as it appears in the ZIP.
pub fn file_of(launch: &str) -> String {
    let path = launch.split(['?', '#']).next().unwrap_or_default();
    percent_decode(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_stay_inside() {
        assert!(check_relative("index.html").is_ok());
        assert!(check_relative("a/b/index.html?x=1#p").is_ok());
        assert!(check_relative("a/..b/c.html").is_ok());
        for bad in [
            "../index.html",
            "a/../../x.html",
            "a\\..\\x.html",
            "/etc/passwd",
            "\\\\server\\x",
            "http://evil.example/x.html",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "C:/x.html",
            "%2e%2e/x.html",
            "",
            "?x=1",
        ] {
            assert!(check_relative(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bases_are_folders() {
        assert_eq!(
            with_bases(&["course/", "sco1"], "index.html"),
            "course/sco1/index.html"
        );
        assert_eq!(with_bases(&["", " "], "./a.html"), "a.html");
    }

    #[test]
    fn parameters_join_as_the_cam_says() {
        assert_eq!(join_parameters("a.html", "?x=1"), "a.html?x=1");
        assert_eq!(join_parameters("a.html", "&x=1"), "a.html?x=1");
        assert_eq!(join_parameters("a.html?y=2", "?x=1"), "a.html?y=2&x=1");
        assert_eq!(join_parameters("a.html", "#p3"), "a.html#p3");
        assert_eq!(join_parameters("a.html#p1", "#p3"), "a.html#p1");
        assert_eq!(join_parameters("a.html#p1", "x=1"), "a.html?x=1#p1");
        assert_eq!(join_parameters("a.html", "  "), "a.html");
        assert_eq!(join_parameters("a.html", "?&x=1"), "a.html?x=1");
    }

    #[test]
    fn file_of_drops_query_and_decodes() {
        assert_eq!(file_of("my%20folder/a.html?x=1#p"), "my folder/a.html");
    }
}
