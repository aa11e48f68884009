//! `cmi5.xml`, the course structure of a cmi5 package: its AUs in document order (blocks are
//! walked through, not kept: the trainee follows the AUs in that order).

use roxmltree::Node;
use serde::Serialize;

use super::error::PackageError;
use super::manifest::{attr, child, document, is, text, text_of};
use super::paths;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum MoveOn {
    Passed,
    Completed,
    CompletedAndPassed,
    CompletedOrPassed,
    NotApplicable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LaunchMethod {
    AnyWindow,
    OwnWindow,
}

/// An AU's `url`: a file of the package, or a page elsewhere (cmi5 allows both).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "url")]
pub enum AuUrl {
    Relative(String),
    Absolute(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Au {
    pub id: String,
    pub title: String,
    pub url: AuUrl,
    pub launch_method: LaunchMethod,
    pub move_on: MoveOn,
    /// 0–1, given to the AU in its launch data.
    pub mastery_score: Option<f64>,
    pub launch_parameters: Option<String>,
    pub activity_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Course {
    pub id: String,
    pub title: String,
    pub aus: Vec<Au>,
}

fn missing(element: &str, field: &str) -> PackageError {
    PackageError::Cmi5Missing {
        element: element.to_string(),
        field: field.to_string(),
    }
}

fn bad(field: &str, value: &str) -> PackageError {
    PackageError::Cmi5Value {
        field: field.to_string(),
        value: value.to_string(),
    }
}

/// A `<title>` of `<langstring>`s: French if there is one, else the first.
fn title_of(node: &Node) -> String {
    let Some(title) = child(node, "title") else {
        return String::new();
    };
    let strings: Vec<Node> = title.children().filter(|c| is(c, "langstring")).collect();
    let french = strings.iter().find(|s| {
        attr(s, "lang")
            .or_else(|| s.attribute((roxmltree::NS_XML_URI, "lang")))
            .is_some_and(|l| l.to_ascii_lowercase().starts_with("fr"))
    });
    match french.or(strings.first()) {
        Some(s) => text(Some(*s)),
        None => text(Some(title)),
    }
}

fn url_of(raw: &str) -> Result<AuUrl, PackageError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(missing("au", "url"));
    }
    if paths::has_scheme(raw) {
        let lower = raw.to_ascii_lowercase();
        // Another site may host the AU; nothing but the web is launched.
        if (lower.starts_with("https://") || lower.starts_with("http://")) && raw.len() > 8 {
            return Ok(AuUrl::Absolute(raw.to_string()));
        }
        return Err(PackageError::Escapes(raw.to_string()));
    }
    paths::check_relative(raw).map_err(PackageError::Escapes)?;
    Ok(AuUrl::Relative(raw.trim_start_matches("./").to_string()))
}

fn au_of(node: &Node) -> Result<Au, PackageError> {
    let id = attr(node, "id")
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| missing("au", "id"))?;
    let title = title_of(node);
    if title.is_empty() {
        return Err(missing(&format!("au {id}"), "title"));
    }
    let url = url_of(&text(child(node, "url"))).map_err(|e| match e {
        PackageError::Cmi5Missing { .. } => missing(&format!("au {id}"), "url"),
        other => other,
    })?;
    let move_on = match attr(node, "moveOn").map(str::trim) {
        None | Some("NotApplicable") => MoveOn::NotApplicable,
        Some("Passed") => MoveOn::Passed,
        Some("Completed") => MoveOn::Completed,
        Some("CompletedAndPassed") => MoveOn::CompletedAndPassed,
        Some("CompletedOrPassed") => MoveOn::CompletedOrPassed,
        Some(other) => return Err(bad("moveOn", other)),
    };
    let launch_method = match attr(node, "launchMethod").map(str::trim) {
        None | Some("AnyWindow") => LaunchMethod::AnyWindow,
        Some("OwnWindow") => LaunchMethod::OwnWindow,
        Some(other) => return Err(bad("launchMethod", other)),
    };
    let mastery_score = match attr(node, "masteryScore") {
        None => None,
        Some(raw) => match raw.trim().parse::<f64>() {
            Ok(v) if (0.0..=1.0).contains(&v) => Some(v),
            _ => return Err(bad("masteryScore", raw)),
        },
    };
    let optional = |name: &str| {
        child(node, name)
            .and_then(|n| n.text())
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
    };
    Ok(Au {
        id: id.to_string(),
        title,
        url,
        launch_method,
        move_on,
        mastery_score,
        launch_parameters: optional("launchParameters"),
        activity_type: attr(node, "activityType")
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty()),
    })
}

fn walk(node: &Node, out: &mut Vec<Au>) -> Result<(), PackageError> {
    for c in node.children() {
        if is(&c, "au") {
            out.push(au_of(&c)?);
        } else if is(&c, "block") {
            walk(&c, out)?;
        }
    }
    Ok(())
}

/// Reads `cmi5.xml`.
pub fn parse(bytes: &[u8]) -> Result<Course, PackageError> {
    const FILE: &str = "cmi5.xml";
    let source = text_of(FILE, bytes)?;
    let doc = document(FILE, &source)?;
    let root = doc.root_element();
    if !is(&root, "courseStructure") {
        return Err(PackageError::NotACourse(root.tag_name().name().to_string()));
    }
    let course = child(&root, "course").ok_or_else(|| missing("courseStructure", "course"))?;
    let id = attr(&course, "id")
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| missing("course", "id"))?;
    let mut aus = Vec::new();
    walk(&root, &mut aus)?;
    if aus.is_empty() {
        return Err(PackageError::NothingToLaunch);
    }
    let mut title = title_of(&course);
    if title.is_empty() {
        title = aus[0].title.clone();
    }
    Ok(Course {
        id: id.to_string(),
        title,
        aus,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn course(aus: &str) -> String {
        format!(
            r#"<courseStructure xmlns="https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd">
            <course id="https://example.org/c"><title><langstring lang="en-US">Course</langstring><langstring lang="fr-FR">Cours</langstring></title></course>
            {aus}</courseStructure>"#
        )
    }

    #[test]
    fn blocks_and_defaults() {
        let xml = course(
            r#"<block id="b"><title><langstring>B</langstring></title>
              <au id="a1" moveOn="Passed" masteryScore="0.8" launchMethod="OwnWindow" activityType="http://x/y">
                <title><langstring>Un</langstring></title><url>./au1/index.html?x=1</url>
                <launchParameters>{"a":1}</launchParameters></au></block>
              <au id="a2"><title><langstring>Deux</langstring></title><url>https://cdn.example/au2</url></au>"#,
        );
        let c = parse(xml.as_bytes()).unwrap();
        assert_eq!(c.title, "Cours");
        assert_eq!(c.aus.len(), 2);
        let a = &c.aus[0];
        assert_eq!(a.url, AuUrl::Relative("au1/index.html?x=1".into()));
        assert_eq!(a.move_on, MoveOn::Passed);
        assert_eq!(a.mastery_score, Some(0.8));
        assert_eq!(a.launch_method, LaunchMethod::OwnWindow);
        assert_eq!(a.launch_parameters.as_deref(), Some(r#"{"a":1}"#));
        assert_eq!(a.activity_type.as_deref(), Some("http://x/y"));
        let b = &c.aus[1];
        assert_eq!(b.url, AuUrl::Absolute("https://cdn.example/au2".into()));
        assert_eq!(b.move_on, MoveOn::NotApplicable);
        assert_eq!(b.launch_method, LaunchMethod::AnyWindow);
    }

    #[test]
    fn required_fields_and_bad_values() {
        let no_id =
            course(r#"<au><title><langstring>x</langstring></title><url>a.html</url></au>"#);
        assert!(matches!(
            parse(no_id.as_bytes()),
            Err(PackageError::Cmi5Missing { .. })
        ));
        let no_url = course(r#"<au id="a"><title><langstring>x</langstring></title></au>"#);
        let err = parse(no_url.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("url"), "{err}");
        let mv = course(
            r#"<au id="a" moveOn="Sometimes"><title><langstring>x</langstring></title><url>a.html</url></au>"#,
        );
        assert!(matches!(
            parse(mv.as_bytes()),
            Err(PackageError::Cmi5Value { .. })
        ));
        let ms = course(
            r#"<au id="a" masteryScore="80"><title><langstring>x</langstring></title><url>a.html</url></au>"#,
        );
        assert!(matches!(
            parse(ms.as_bytes()),
            Err(PackageError::Cmi5Value { .. })
        ));
        for url in [
            "../a.html",
            "/a.html",
            "javascript:alert(1)",
            "file:///etc/passwd",
        ] {
            let x = course(&format!(
                r#"<au id="a"><title><langstring>x</langstring></title><url>{url}</url></au>"#
            ));
            assert!(
                matches!(parse(x.as_bytes()), Err(PackageError::Escapes(_))),
                "{url}"
            );
        }
        assert_eq!(
            parse(course("").as_bytes()),
            Err(PackageError::NothingToLaunch)
        );
        assert!(matches!(
            parse(b"<manifest/>"),
            Err(PackageError::NotACourse(_))
        ));
    }
}
