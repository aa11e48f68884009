//! `imsmanifest.xml` of SCORM 1.2 and SCORM 2004 (2nd to 4th editions): the default
//! organization's items, in document order, each with its launch path and mastery data.
//! No sequencing engine: the trainee follows the SCOs in that order.

use roxmltree::{Document, Node, ParsingOptions};
use serde::Serialize;

use super::error::PackageError;
use super::paths;

/// Larger than any real manifest; a bigger file is not worth parsing.
pub const MAX_XML_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Edition {
    /// "CAM 1.3".
    Second,
    Third,
    Fourth,
    /// A 2004 namespace without a `schemaversion` we know.
    Unspecified,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "standard")]
pub enum Standard {
    Scorm12,
    Scorm2004 { edition: Edition },
}

impl Standard {
    pub fn version(self) -> super::datamodel::Version {
        match self {
            Standard::Scorm12 => super::datamodel::Version::Scorm12,
            Standard::Scorm2004 { .. } => super::datamodel::Version::Scorm2004,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoKind {
    /// Talks to the run-time API.
    Sco,
    /// A plain page or file: shown, no API.
    Asset,
}

/// What the manifest says about passing or completing, per version.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Mastery {
    /// 1.2 `adlcp:masteryscore`, 0–100: given to the SCO as `cmi.student_data.mastery_score`.
    Score { mastery_score: f64 },
    /// 2004: `cmi.scaled_passing_score` and `cmi.completion_threshold`.
    Thresholds {
        scaled_passing_score: Option<f64>,
        completion_threshold: Option<f64>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sco {
    pub identifier: String,
    pub title: String,
    pub kind: ScoKind,
    /// Relative to the package's root, parameters joined (URL-encoded as written).
    pub launch: String,
    pub mastery: Option<Mastery>,
    /// `adlcp:datafromlms` / `adlcp:dataFromLMS`: `cmi.launch_data`.
    pub launch_data: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Package {
    pub standard: Standard,
    pub title: String,
    pub scos: Vec<Sco>,
}

/// Parses a file as XML with our limits: UTF-8, no DTD (external entities), bounded size.
pub(crate) fn document<'a>(file: &str, text: &'a str) -> Result<Document<'a>, PackageError> {
    if text.len() > MAX_XML_BYTES {
        return Err(PackageError::TooLarge(file.to_string()));
    }
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: 200_000,
        ..ParsingOptions::default()
    };
    Document::parse_with_options(text, options).map_err(|e| match e {
        roxmltree::Error::DtdDetected => PackageError::Dtd(file.to_string()),
        other => {
            let mut pos = other.pos();
            // A cut file has no position of its own: point at its end.
            if matches!(
                other,
                roxmltree::Error::UnexpectedEndOfStream | roxmltree::Error::UnclosedRootNode
            ) {
                let last = text.rsplit('\n').next().unwrap_or_default();
                pos.row = u32::try_from(text.lines().count().max(1)).unwrap_or(u32::MAX);
                pos.col = u32::try_from(last.chars().count() + 1).unwrap_or(u32::MAX);
            }
            PackageError::Malformed {
                file: file.to_string(),
                row: pos.row,
                col: pos.col,
            }
        }
    })
}

/// The bytes of a file as text (a BOM is dropped).
pub(crate) fn text_of(file: &str, bytes: &[u8]) -> Result<String, PackageError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    String::from_utf8(bytes.to_vec()).map_err(|_| PackageError::NotUtf8(file.to_string()))
}

pub(crate) fn is(node: &Node, local: &str) -> bool {
    node.is_element() && node.tag_name().name().eq_ignore_ascii_case(local)
}

pub(crate) fn child<'a, 'i>(node: &Node<'a, 'i>, local: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|c| is(c, local))
}

/// An attribute by local name, whatever its namespace prefix (`adlcp:scormtype`, `scormType`).
pub(crate) fn attr<'a>(node: &Node<'a, '_>, local: &str) -> Option<&'a str> {
    node.attributes()
        .find(|a| {
            a.name().eq_ignore_ascii_case(local) && a.namespace() != Some(roxmltree::NS_XML_URI)
        })
        .map(|a| a.value())
}

fn xml_base<'a>(node: &Node<'a, '_>) -> &'a str {
    node.attribute((roxmltree::NS_XML_URI, "base"))
        .unwrap_or("")
}

pub(crate) fn text(node: Option<Node>) -> String {
    node.map(|n| {
        n.descendants()
            .filter(|d| d.is_text())
            .filter_map(|d| d.text())
            .collect::<String>()
    })
    .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
    .unwrap_or_default()
}

/// The version from `schemaversion`, else from the namespaces in use.
fn standard_of(root: &Node) -> Standard {
    let version = root
        .descendants()
        .find(|n| is(n, "schemaversion"))
        .map(|n| text(Some(n)).to_ascii_lowercase())
        .unwrap_or_default();
    let edition = if version.contains("4th") {
        Some(Edition::Fourth)
    } else if version.contains("3rd") {
        Some(Edition::Third)
    } else if version.contains("cam 1.3") || version.contains("2nd") {
        Some(Edition::Second)
    } else {
        None
    };
    if let Some(edition) = edition {
        return Standard::Scorm2004 { edition };
    }
    if version.starts_with("1.2") || version.starts_with("1.1") {
        return Standard::Scorm12;
    }
    let v1p3 = root
        .descendants()
        .flat_map(|n| {
            n.namespaces()
                .map(|ns| ns.uri().to_string())
                .collect::<Vec<_>>()
        })
        .chain(
            root.descendants()
                .filter_map(|n| n.tag_name().namespace().map(str::to_string)),
        )
        .any(|uri| uri.contains("adlcp_v1p3") || uri.contains("imsss"));
    if v1p3 {
        Standard::Scorm2004 {
            edition: Edition::Unspecified,
        }
    } else {
        Standard::Scorm12
    }
}

fn number(value: &str) -> Option<f64> {
    value.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

fn mastery_of(item: &Node, standard: Standard) -> Option<Mastery> {
    if standard == Standard::Scorm12 {
        let score = child(item, "masteryscore").and_then(|n| number(&text(Some(n))))?;
        return Some(Mastery::Score {
            mastery_score: score.clamp(0.0, 100.0),
        });
    }
    // The primary objective's measure counts only when it says it is satisfied by it.
    let passing = child(item, "sequencing")
        .and_then(|s| child(&s, "objectives"))
        .and_then(|o| child(&o, "primaryObjective"))
        .filter(|p| attr(p, "satisfiedByMeasure").is_some_and(|v| v.trim() == "true"))
        .and_then(|p| child(&p, "minNormalizedMeasure"))
        .and_then(|m| number(&text(Some(m))))
        .map(|v| v.clamp(-1.0, 1.0));
    // 3rd edition: the element's text; 4th: its `minProgressMeasure` attribute.
    let threshold = child(item, "completionThreshold")
        .and_then(|c| {
            attr(&c, "minProgressMeasure")
                .and_then(number)
                .or_else(|| number(&text(Some(c))))
        })
        .map(|v| v.clamp(0.0, 1.0));
    (passing.is_some() || threshold.is_some()).then_some(Mastery::Thresholds {
        scaled_passing_score: passing,
        completion_threshold: threshold,
    })
}

struct Resources<'a, 'i> {
    nodes: Vec<Node<'a, 'i>>,
    /// `xml:base` of `<manifest>` and `<resources>`.
    bases: Vec<&'a str>,
}

fn launch_of(
    resources: &Resources,
    item: &Node,
    item_id: &str,
    reference: &str,
) -> Result<(String, ScoKind), PackageError> {
    let resource = resources
        .nodes
        .iter()
        .find(|r| attr(r, "identifier") == Some(reference))
        .ok_or_else(|| PackageError::MissingResource {
            item: item_id.to_string(),
            resource: reference.to_string(),
        })?;
    let href = attr(resource, "href")
        .filter(|h| !h.trim().is_empty())
        .ok_or_else(|| PackageError::NoHref(reference.to_string()))?;
    let mut bases = resources.bases.clone();
    bases.push(xml_base(resource));
    for base in &bases {
        if !base.is_empty() {
            paths::check_relative(base).map_err(PackageError::Escapes)?;
        }
    }
    paths::check_relative(href).map_err(PackageError::Escapes)?;
    let path = paths::with_bases(&bases, href);
    let launch = paths::join_parameters(&path, attr(item, "parameters").unwrap_or(""));
    paths::check_relative(&launch).map_err(PackageError::Escapes)?;
    let kind = match attr(resource, "scormtype").map(|t| t.trim().to_ascii_lowercase()) {
        Some(t) if t == "asset" => ScoKind::Asset,
        _ => ScoKind::Sco,
    };
    Ok((launch, kind))
}

fn walk(
    node: &Node,
    standard: Standard,
    resources: &Resources,
    out: &mut Vec<Sco>,
) -> Result<(), PackageError> {
    for item in node.children().filter(|c| is(c, "item")) {
        // A hidden item is left out with what it holds.
        if attr(&item, "isvisible").is_some_and(|v| v.trim() == "false") {
            continue;
        }
        let identifier = attr(&item, "identifier").unwrap_or("").to_string();
        if let Some(reference) = attr(&item, "identifierref").filter(|r| !r.trim().is_empty()) {
            let (launch, kind) = launch_of(resources, &item, &identifier, reference.trim())?;
            out.push(Sco {
                title: text(child(&item, "title")),
                identifier,
                kind,
                launch,
                mastery: mastery_of(&item, standard),
                launch_data: child(&item, "datafromlms")
                    .or_else(|| child(&item, "dataFromLMS"))
                    .map(|n| text(Some(n)))
                    .filter(|t| !t.is_empty()),
            });
        }
        walk(&item, standard, resources, out)?;
    }
    Ok(())
}

/// Reads `imsmanifest.xml`.
pub fn parse(bytes: &[u8]) -> Result<Package, PackageError> {
    const FILE: &str = "imsmanifest.xml";
    let source = text_of(FILE, bytes)?;
    let doc = document(FILE, &source)?;
    let root = doc.root_element();
    if !is(&root, "manifest") {
        return Err(PackageError::NotAManifest(
            root.tag_name().name().to_string(),
        ));
    }
    let standard = standard_of(&root);
    let organizations = child(&root, "organizations").ok_or(PackageError::NoOrganization)?;
    let all: Vec<Node> = organizations
        .children()
        .filter(|c| is(c, "organization"))
        .collect();
    let default = attr(&organizations, "default").map(str::trim);
    let organization = all
        .iter()
        .find(|o| default.is_some() && attr(o, "identifier").map(str::trim) == default)
        .or_else(|| all.first())
        .ok_or(PackageError::NoOrganization)?;
    let resources_node = child(&root, "resources");
    let resources = Resources {
        nodes: resources_node
            .map(|r| r.children().filter(|c| is(c, "resource")).collect())
            .unwrap_or_default(),
        bases: vec![
            xml_base(&root),
            resources_node.map(|r| xml_base(&r)).unwrap_or(""),
        ],
    };
    let mut scos = Vec::new();
    walk(organization, standard, &resources, &mut scos)?;
    if scos.is_empty() {
        return Err(PackageError::NothingToLaunch);
    }
    let mut title = text(child(organization, "title"));
    if title.is_empty() {
        title = scos.first().map(|s| s.title.clone()).unwrap_or_default();
    }
    Ok(Package {
        standard,
        title,
        scos,
    })
}

#[cfg(test)]
mod tests;
