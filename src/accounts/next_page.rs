//! Where a login may send the browser next (`suite`): a path of this site only, so that a
//! link to our login page never becomes a redirect elsewhere.

/// The longest `suite` kept; anything longer is not a page of ours.
const MAX_LEN: usize = 2048;
/// A stand-in origin to resolve against: the result must stay on it.
const ORIGIN: &str = "http://parcours.invalid/";

/// The page to open after a login: `next` when it is a safe local path, `/` otherwise.
pub fn after_login(next: Option<&str>) -> String {
    match next {
        Some(n) if is_local_path(n) => n.to_string(),
        _ => "/".to_string(),
    }
}

/// A path (and query) of this site, written in plain URL characters. Browsers forgive tabs,
/// newlines and backslashes (`/\t/evil.com` is `//evil.com` to them), so none are allowed,
/// even percent-encoded; and the path must resolve to itself on our origin.
pub fn is_local_path(raw: &str) -> bool {
    raw.len() <= MAX_LEN
        && raw.starts_with('/')
        && raw.bytes().all(safe_byte)
        && percent_decoded(raw).is_some_and(|d| {
            !d.starts_with("//") && !d.contains('\\') && !d.chars().any(char::is_control)
        })
        && resolves_to_itself(raw)
}

/// RFC 3986 unreserved and sub-delimiters, `:@/?` and `%`; no `#`, space, quote or `\`.
fn safe_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b)
}

/// `None` when a `%` is not followed by two hex digits or the result is not UTF-8.
fn percent_decoded(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = raw.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Same origin after resolution, and unchanged by it: no dot segments, nothing re-encoded.
fn resolves_to_itself(raw: &str) -> bool {
    let Ok(origin) = url::Url::parse(ORIGIN) else {
        return false;
    };
    let Ok(resolved) = origin.join(raw) else {
        return false;
    };
    resolved.origin() == origin.origin()
        && resolved.username().is_empty()
        && resolved.password().is_none()
        && &resolved[url::Position::BeforePath..] == raw
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_of_the_site_are_kept() {
        for ok in [
            "/",
            "/promotions/12",
            "/stagiaires/3/heures?du=2026-01-01&au=2026-02-01",
            "/programmes/CQP-AM/M1/activites/accueil-du-patient",
            "/programmes/CQP-AM/M1?x=%C3%A9t%C3%A9",
            "/mes-attestations?avis=delivree",
        ] {
            assert_eq!(after_login(Some(ok)), ok, "{ok}");
        }
    }

    #[test]
    fn anything_that_may_leave_the_site_becomes_the_home_page() {
        for hostile in [
            "",
            "//evil.com",
            "///evil.com",
            "/\\evil.com",
            "\\\\evil.com",
            "/\t/evil.com",
            "/\n/evil.com",
            "/\r\n/evil.com",
            "/%09/evil.com",
            "/%0A/evil.com",
            "/%0d%0aSet-Cookie:%20x=1",
            "/%2F%2Fevil.com",
            "/%2f/evil.com",
            "/%5Cevil.com",
            "/%5C%5Cevil.com",
            "https://evil.com",
            "http:/evil.com",
            "https:evil.com",
            "javascript:alert(1)",
            "evil.com",
            " /promotions/1",
            "/promotions 1",
            "/..//evil.com",
            "/%2e%2e//evil.com",
            "/./promotions/1",
            "/promotions/1#x",
            "/%zz",
            "/%",
            "/été",
            "/\u{0}",
        ] {
            assert_eq!(after_login(Some(hostile)), "/", "{hostile:?}");
        }
        assert_eq!(after_login(None), "/");
        assert_eq!(after_login(Some(&format!("/{}", "a".repeat(3000)))), "/");
    }
}
