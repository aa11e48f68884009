use super::*;

const V12: &str = r#"xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2""#;
const V2004: &str = r#"xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3" xmlns:imsss="http://www.imsglobal.org/xsd/imsss""#;

fn manifest(ns: &str, version: &str, body: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><manifest identifier="m" {ns}><metadata><schema>ADL SCORM</schema><schemaversion>{version}</schemaversion></metadata>{body}</manifest>"#
    )
}

fn one_item(item_extra: &str, resource_attrs: &str) -> String {
    format!(
        r#"<organizations default="o"><organization identifier="o"><title>Cours</title>
        <item identifier="i1" identifierref="r1"><title>Un</title>{item_extra}</item>
        </organization></organizations>
        <resources><resource identifier="r1" type="webcontent" {resource_attrs}/></resources>"#
    )
}

#[test]
fn versions_from_schemaversion_and_namespaces() {
    let body = one_item("", r#"adlcp:scormtype="sco" href="a.html""#);
    let p = parse(manifest(V12, "1.2", &body).as_bytes()).unwrap();
    assert_eq!(p.standard, Standard::Scorm12);
    for (v, e) in [
        ("2004 3rd Edition", Edition::Third),
        ("2004 4th Edition", Edition::Fourth),
        ("CAM 1.3", Edition::Second),
    ] {
        let p = parse(manifest(V2004, v, &body).as_bytes()).unwrap();
        assert_eq!(p.standard, Standard::Scorm2004 { edition: e }, "{v}");
    }
    let p = parse(manifest(V2004, "", &body).as_bytes()).unwrap();
    assert_eq!(
        p.standard,
        Standard::Scorm2004 {
            edition: Edition::Unspecified
        }
    );
    let p = parse(manifest(V12, "", &body).as_bytes()).unwrap();
    assert_eq!(p.standard, Standard::Scorm12);
}

#[test]
fn mastery_12_and_2004() {
    let body = one_item(
        "<adlcp:masteryscore>80</adlcp:masteryscore><adlcp:datafromlms>x=1</adlcp:datafromlms>",
        r#"adlcp:scormtype="sco" href="a.html""#,
    );
    let sco = &parse(manifest(V12, "1.2", &body).as_bytes()).unwrap().scos[0];
    assert_eq!(
        sco.mastery,
        Some(Mastery::Score {
            mastery_score: 80.0
        })
    );
    assert_eq!(sco.launch_data.as_deref(), Some("x=1"));

    let seq = r#"<adlcp:completionThreshold>0.75</adlcp:completionThreshold>
      <imsss:sequencing><imsss:objectives><imsss:primaryObjective objectiveID="p" satisfiedByMeasure="true">
      <imsss:minNormalizedMeasure>0.6</imsss:minNormalizedMeasure></imsss:primaryObjective></imsss:objectives></imsss:sequencing>"#;
    let body = one_item(seq, r#"adlcp:scormType="sco" href="a.html""#);
    let sco = &parse(manifest(V2004, "2004 3rd Edition", &body).as_bytes())
        .unwrap()
        .scos[0];
    assert_eq!(
        sco.mastery,
        Some(Mastery::Thresholds {
            scaled_passing_score: Some(0.6),
            completion_threshold: Some(0.75)
        })
    );
    // 4th edition writes the threshold as an attribute; a measure not used for satisfaction is ignored.
    let seq = r#"<adlcp:completionThreshold completedByMeasure="true" minProgressMeasure="0.5"/>
      <imsss:sequencing><imsss:objectives><imsss:primaryObjective objectiveID="p">
      <imsss:minNormalizedMeasure>0.6</imsss:minNormalizedMeasure></imsss:primaryObjective></imsss:objectives></imsss:sequencing>"#;
    let body = one_item(seq, r#"adlcp:scormType="sco" href="a.html""#);
    let sco = &parse(manifest(V2004, "2004 4th Edition", &body).as_bytes())
        .unwrap()
        .scos[0];
    assert_eq!(
        sco.mastery,
        Some(Mastery::Thresholds {
            scaled_passing_score: None,
            completion_threshold: Some(0.5)
        })
    );
}

#[test]
fn asset_and_sco_kinds() {
    let body = one_item("", r#"adlcp:scormtype="asset" href="a.pdf""#);
    let p = parse(manifest(V12, "1.2", &body).as_bytes()).unwrap();
    assert_eq!(p.scos[0].kind, ScoKind::Asset);
    let body = one_item("", r#"adlcp:scormType="SCO" href="a.html""#);
    let p = parse(manifest(V2004, "2004 4th Edition", &body).as_bytes()).unwrap();
    assert_eq!(p.scos[0].kind, ScoKind::Sco);
}

#[test]
fn default_organization_is_chosen() {
    let body = r#"<organizations default="b">
      <organization identifier="a"><title>A</title><item identifier="ia" identifierref="r1"><title>A1</title></item></organization>
      <organization identifier="b"><title>B</title><item identifier="ib" identifierref="r1"><title>B1</title></item></organization>
      </organizations><resources><resource identifier="r1" href="x.html" adlcp:scormtype="sco"/></resources>"#;
    let p = parse(manifest(V12, "1.2", body).as_bytes()).unwrap();
    assert_eq!(p.title, "B");
    assert_eq!(p.scos[0].identifier, "ib");
}

#[test]
fn refusals_have_their_reason() {
    assert!(matches!(
        parse(b"<manifest><organizations>"),
        Err(PackageError::Malformed { .. })
    ));
    assert!(matches!(
        parse(b"<foo/>"),
        Err(PackageError::NotAManifest(_))
    ));
    let no_org = manifest(V12, "1.2", "<organizations/><resources/>");
    assert_eq!(parse(no_org.as_bytes()), Err(PackageError::NoOrganization));
    let nothing = manifest(
        V12,
        "1.2",
        r#"<organizations default="o"><organization identifier="o"><title>T</title><item identifier="i"><title>x</title></item></organization></organizations><resources/>"#,
    );
    assert_eq!(
        parse(nothing.as_bytes()),
        Err(PackageError::NothingToLaunch)
    );
    let no_href = manifest(V12, "1.2", &one_item("", r#"adlcp:scormtype="sco""#));
    assert_eq!(
        parse(no_href.as_bytes()),
        Err(PackageError::NoHref("r1".into()))
    );
    let url = manifest(
        V12,
        "1.2",
        &one_item("", r#"href="https://evil.example/x.html""#),
    );
    assert!(matches!(
        parse(url.as_bytes()),
        Err(PackageError::Escapes(_))
    ));
    let abs = manifest(V12, "1.2", &one_item("", r#"href="/etc/passwd""#));
    assert!(matches!(
        parse(abs.as_bytes()),
        Err(PackageError::Escapes(_))
    ));
    let base = manifest(V12, "1.2", &one_item("", r#"xml:base="../" href="x.html""#));
    assert!(matches!(
        parse(base.as_bytes()),
        Err(PackageError::Escapes(_))
    ));
}

#[test]
fn doctype_and_external_entities_are_refused() {
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE manifest [<!ENTITY x SYSTEM "file:///etc/passwd">]><manifest>&x;</manifest>"#;
    assert_eq!(
        parse(xxe.as_bytes()),
        Err(PackageError::Dtd("imsmanifest.xml".into()))
    );
    let msg = parse(xxe.as_bytes()).unwrap_err().to_string();
    assert!(msg.contains("DTD"), "{msg}");
}

#[test]
fn bom_and_latin1() {
    let body = one_item("", r#"href="a.html""#);
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(manifest(V12, "1.2", &body).as_bytes());
    assert!(parse(&bytes).is_ok());
    assert_eq!(
        parse(b"<manifest>\xe9</manifest>"),
        Err(PackageError::NotUtf8("imsmanifest.xml".into()))
    );
}
