//! E-learning packages as activities (issue #19): an organism uploads real SCORM packages into
//! its programme, bad ones are refused with their reason and nothing kept; a trainee launches
//! one on the packages' own origin, commits, resumes and completes it.

use std::io::{Cursor, Write};

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{lesson_progress, package_attempts, package_launches};

use crate::authoring::{copy_of_cqp, revision_in};
use crate::common::*;

const MODULE: &str = "01-suivi-parcours-sante";

pub(crate) fn asset(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/assets/scorm")
        .join(name);
    std::fs::read(path).unwrap()
}

pub(crate) fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, body) in files {
        w.start_file(*name, o).unwrap();
        w.write_all(body).unwrap();
    }
    w.finish().unwrap().into_inner()
}

const MANIFEST_12: &str = r#"<?xml version="1.0"?>
<manifest identifier="m" xmlns="http://www.imsglobal.org/xsd/imscp_rootv1p1p2"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="o"><organization identifier="o"><title>Accueil</title>
    <item identifier="i1" identifierref="r1"><title>Accueillir</title></item>
  </organization></organizations>
  <resources><resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="index.html">
    <file href="index.html"/></resource></resources>
</manifest>"#;

pub(crate) async fn editor(app: &TestApp, c: &reqwest::Client) -> String {
    text(c, app.url("/auteur/programmes/CQP-B")).await
}

async fn text(c: &reqwest::Client, url: String) -> String {
    c.get(url).send().await.unwrap().text().await.unwrap()
}

pub(crate) async fn upload(
    app: &TestApp,
    c: &reqwest::Client,
    (name, bytes): (&str, Vec<u8>),
) -> reqwest::Response {
    let rev = revision_in(&editor(app, c).await);
    let name = name.to_string();
    c.post_multipart(
        app,
        &format!("/auteur/programmes/CQP-B/modules/{MODULE}/fichiers"),
        move |f| {
            f.text("revision", rev).part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name),
            )
        },
    )
    .await
}

pub(crate) async fn add_package(
    app: &TestApp,
    c: &reqwest::Client,
    (slug, title, file): (&str, &str, &str),
) -> reqwest::Response {
    let rev = revision_in(&editor(app, c).await);
    let fields = [
        ("revision", rev.as_str()),
        ("module", MODULE),
        ("sequence", "nouvelle"),
        ("sequence_title", "Modules e-learning"),
        ("kind", "package"),
        ("slug", slug),
        ("title", title),
        ("minutes", "20"),
        ("required", "on"),
        ("file", file),
    ];
    c.post_form(app, "/auteur/programmes/CQP-B/activites", &fields)
        .await
}

#[tokio::test]
async fn bad_packages_are_refused_with_their_reason_and_nothing_is_kept() {
    let app = spawn_app_with(|env| {
        env.insert("PARCOURS_QUOTA_ORGANISM_MB".into(), "3".into());
    })
    .await;
    let a = app.create_organism("Organisme A");
    let (admin, _) = signed_in(&app, Role::OrganismAdmin, Some(a), "admin@a.fr").await;
    assert_eq!(copy_of_cqp(&app, &admin, a, "CQP-B").await.status(), 303);
    let rev = revision_in(&editor(&app, &admin).await);
    let html: &[u8] = b"<html><body>Accueil</body></html>";
    let zeros = vec![0u8; 64 << 20];
    let xxe = MANIFEST_12.replace(
        "<?xml version=\"1.0\"?>",
        "<?xml version=\"1.0\"?>\n<!DOCTYPE manifest [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>",
    );
    let mut not_a_zip = b"PK\x03\x04".to_vec();
    not_a_zip.extend_from_slice(&[0x14, 0, 0, 0, 8, 0]);
    not_a_zip.extend_from_slice(&[7u8; 200]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "sans-manifeste.zip",
            zip_of(&[("index.html", html)]),
            "ni imsmanifest.xml ni cmi5.xml",
        ),
        (
            "manifeste-casse.zip",
            zip_of(&[
                ("imsmanifest.xml", b"<manifest><organizations>"),
                ("index.html", html),
            ]),
            "pas un XML bien formé",
        ),
        (
            "sans-lancement.zip",
            zip_of(&[("imsmanifest.xml", MANIFEST_12.as_bytes())]),
            "Le fichier de lancement « index.html »",
        ),
        (
            "evasion.zip",
            zip_of(&[
                ("imsmanifest.xml", MANIFEST_12.as_bytes()),
                ("index.html", html),
                ("../../etc/cron.d/evil", html),
            ]),
            "sort du paquet",
        ),
        (
            "absolu.zip",
            zip_of(&[
                ("imsmanifest.xml", MANIFEST_12.as_bytes()),
                ("index.html", html),
                ("/etc/passwd", html),
            ]),
            "sort du paquet",
        ),
        (
            "xxe.zip",
            zip_of(&[("imsmanifest.xml", xxe.as_bytes()), ("index.html", html)]),
            "déclare une DTD",
        ),
        (
            "bombe.zip",
            zip_of(&[
                ("imsmanifest.xml", MANIFEST_12.as_bytes()),
                ("index.html", html),
                ("video.bin", &zeros),
            ]),
            "une fois décompressé",
        ),
        ("abime.zip", not_a_zip, "archive ZIP lisible"),
        (
            "trop-lourd.zip",
            asset("cmi5_catapult_single_au_basic_responsive.zip"),
            "espace des programmes",
        ),
    ];
    for (name, bytes, expected) in cases {
        let res = upload(&app, &admin, (name, bytes)).await;
        assert_eq!(res.status(), 422, "{name}");
        let body = res.text().await.unwrap();
        assert!(
            body.contains(expected),
            "{name}: {expected} not in the page"
        );
    }
    // A symbolic link in the ZIP.
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default();
    w.start_file("imsmanifest.xml", o).unwrap();
    w.write_all(MANIFEST_12.as_bytes()).unwrap();
    w.start_file("index.html", o).unwrap();
    w.write_all(html).unwrap();
    w.add_symlink("secret", "/etc/passwd", o).unwrap();
    let link = w.finish().unwrap().into_inner();
    let res = upload(&app, &admin, ("lien.zip", link)).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("lien symbolique"));
    // Nothing was kept: the draft is at the same revision, with no ZIP in it.
    let page = editor(&app, &admin).await;
    assert_eq!(revision_in(&page), rev);
    let zips = page
        .split("files/")
        .filter_map(|s| s.split(['"', '<']).next())
        .filter(|s| s.ends_with(".zip"))
        .count();
    assert_eq!(zips, 0, "no package file in the draft");
}

/// The path and query of a redirect to the packages' origin, and that origin.
fn split_origin(location: &str) -> (String, String) {
    let url = url::Url::parse(location).unwrap();
    let origin = format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap(),
        url.port().unwrap()
    );
    (origin, url.path().to_string())
}

async fn launch(app: &TestApp, c: &reqwest::Client, slug: &str) -> (String, String) {
    let res = c
        .get(app.url(&format!("/programmes/CQP-B/M1/paquets/{slug}/0")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    split_origin(res.headers()["location"].to_str().unwrap())
}

async fn commit(origin: &str, host: &str, values: serde_json::Value) -> reqwest::Response {
    client()
        .post(format!("{origin}{host}commit"))
        .json(&serde_json::json!({ "version": "scorm2004", "values": values }))
        .send()
        .await
        .unwrap()
}

/// An organism's copy of the CQP, CQP-B, with `zip` uploaded as `name` and added as the
/// package activity `slug` of a new sequence, published; its administrator's client.
pub(crate) async fn published_with(
    app: &TestApp,
    org: i64,
    (name, zip): (&str, Vec<u8>),
    (slug, title): (&str, &str),
) -> reqwest::Client {
    let (admin, _) = signed_in(app, Role::OrganismAdmin, Some(org), "admin@a.fr").await;
    assert_eq!(copy_of_cqp(app, &admin, org, "CQP-B").await.status(), 303);
    let res = upload(app, &admin, (name, zip)).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let page = editor(app, &admin).await;
    let file = page
        .split("files/")
        .filter_map(|s| s.split(['"', '<']).next())
        .find(|s| s.ends_with(".zip"))
        .map(|s| format!("files/{s}"))
        .expect("the ZIP in the draft");
    let res = add_package(app, &admin, (slug, title, &file)).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let rev = revision_in(&editor(app, &admin).await);
    let res = admin
        .post_form(
            app,
            "/auteur/programmes/CQP-B/publier",
            &[("revision", rev.as_str())],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    admin
}

async fn published_with_golf(app: &TestApp, org: i64) -> reqwest::Client {
    let golf = asset("scorm2004_3rd_golf_runtimebasiccalls.zip");
    published_with(
        app,
        org,
        ("Golf — règles.zip", golf),
        ("30-golf", "Le golf, en e-learning"),
    )
    .await
}

#[tokio::test]
async fn a_trainee_plays_a_package_on_its_own_origin_resumes_and_completes_it() {
    let app = spawn_app().await;
    let a = app.create_organism("Organisme A");
    published_with_golf(&app, a).await;
    let (trainee, id) = app.trainee_in(a, "CQP-B", "stagiaire@a.fr").await;
    let page = trainee
        .get(app.url("/programmes/CQP-B/M1/activites/30-golf"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let html = page.text().await.unwrap();
    assert!(
        html.contains("/programmes/CQP-B/M1/paquets/30-golf/0"),
        "{html}"
    );
    assert!(html.contains("SCORM 2004 (3e édition)"));
    let (origin, host) = launch(&app, &trainee, "30-golf").await;
    assert!(csp.contains(&format!("frame-src {origin}")), "{csp}");
    assert_ne!(origin, app.address, "packages play on another origin");
    // The host page, without any cookie: the secret in the path opens it.
    let res = client()
        .get(format!("{origin}{host}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let frame_csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(frame_csp.contains("'unsafe-eval'") && frame_csp.contains(&app.address));
    assert!(res.headers().get("x-frame-options").is_none());
    let boot = res.text().await.unwrap();
    assert!(boot.contains(&format!("\"cmi.learner_id\":\"parcours-{id}\"")));
    assert!(boot.contains("\"cmi.entry\":\"ab_initio\""));
    assert!(
        boot.contains("API_1484_11"),
        "the run-time script is in the page"
    );
    // Its files, there and nowhere else; the site's pages are not served on that origin.
    let file = |base: &str, rel: &str| {
        let url = format!("{base}{host}f/{rel}");
        async move { client().get(url).send().await.unwrap() }
    };
    let launchpage = file(&origin, "shared/launchpage.html").await;
    assert_eq!(launchpage.status(), 200);
    assert!(
        launchpage
            .text()
            .await
            .unwrap()
            .contains("scormfunctions.js")
    );
    assert_eq!(file(&origin, "..%2F..%2Fparcours.db").await.status(), 404);
    assert_eq!(
        file(&app.address, "shared/launchpage.html").await.status(),
        404
    );
    let login = client()
        .get(format!("{origin}/connexion"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        login.status(),
        404,
        "no sign-in page on the packages' origin"
    );
    // A value the standard refuses changes nothing.
    let res = commit(
        &origin,
        &host,
        serde_json::json!({ "cmi.completion_status": "fini" }),
    )
    .await;
    assert_eq!(res.status(), 422);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("cmi.completion_status")
    );
    // Nor does a body that is not a snapshot at all.
    let res = client()
        .post(format!("{origin}{host}commit"))
        .header("content-type", "application/json")
        .body("{\"version\": \"scorm2004\", \"values\": [1, 2")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("illisibles"),
        "{body}"
    );
    // Half-way: suspended, then resumed from a new launch.
    let res = commit(
        &origin,
        &host,
        serde_json::json!({
            "cmi.completion_status": "incomplete",
            "cmi.location": "5",
            "cmi.suspend_data": "page=5;réponses=a,b",
            "cmi.exit": "suspend",
            "cmi.session_time": "PT2M30S"
        }),
    )
    .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let (_, again) = launch(&app, &trainee, "30-golf").await;
    assert_ne!(again, host, "a new secret for each launch");
    let boot = text(&client(), format!("{origin}{again}")).await;
    assert!(boot.contains("\"cmi.entry\":\"resume\""), "{boot}");
    assert!(boot.contains("\"cmi.location\":\"5\""));
    assert!(boot.contains("page=5;réponses=a,b"));
    // Completed and passed: the activity is done.
    let res = commit(
        &origin,
        &again,
        serde_json::json!({
            "cmi.completion_status": "completed",
            "cmi.success_status": "passed",
            "cmi.score.scaled": "0.9",
            "cmi.exit": "normal",
            "cmi.session_time": "PT1M"
        }),
    )
    .await;
    let saved: serde_json::Value = res.json().await.unwrap();
    assert_eq!(saved["activity_done"], true, "{saved}");
    let conn = &mut *app.conn() as &mut DbConn;
    let (seconds, success): (f64, String) = package_attempts::table
        .filter(package_attempts::trainee_id.eq(id))
        .select((package_attempts::package_seconds, package_attempts::success))
        .first(conn)
        .unwrap();
    assert_eq!((seconds, success.as_str()), (210.0, "passed"));
    let done: i64 = lesson_progress::table
        .filter(lesson_progress::trainee_id.eq(id))
        .count()
        .get_result(conn)
        .unwrap();
    assert_eq!(done, 1);
    let html = text(&trainee, app.url("/programmes/CQP-B/M1/activites/30-golf")).await;
    assert!(html.contains("Activité terminée"), "{html}");
    assert!(
        html.contains("score 90 %") && html.contains("0 h 03"),
        "{html}"
    );
    // Played again, a part already done opens for review and its result stays.
    let (_, review) = launch(&app, &trainee, "30-golf").await;
    let boot = text(&client(), format!("{origin}{review}")).await;
    assert!(boot.contains("\"cmi.mode\":\"review\""), "{boot}");
    let res = commit(
        &origin,
        &review,
        serde_json::json!({ "cmi.completion_status": "incomplete" }),
    )
    .await;
    assert_eq!(res.status(), 200);
    let module = text(&trainee, app.url("/programmes/CQP-B/M1")).await;
    assert!(
        module.contains(
            r#"<li class="activity done"><a href="/programmes/CQP-B/M1/activites/30-golf">"#
        ),
        "the module counts the package done"
    );
    traces_show_the_result(&app, a, id, &trainee).await;
    // An expired secret opens nothing.
    diesel::update(package_launches::table)
        .set(package_launches::expires_at.eq(parcours::db::now() - chrono::Duration::minutes(1)))
        .execute(conn)
        .unwrap();
    let gone = client()
        .get(format!("{origin}{again}"))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
}

/// Her dashboard, her evidence pack and the organism's xAPI export show the package's result
/// and its own time next to ours.
async fn traces_show_the_result(app: &TestApp, org: i64, trainee: i64, c: &reqwest::Client) {
    let said = "Réussi, score 90 % · durée indiquée par le module : 0 h 03";
    let dashboard = text(c, app.url("/tableau-de-bord")).await;
    assert!(dashboard.contains(said), "{dashboard}");
    let (admin, _) = signed_in(app, Role::OrganismAdmin, Some(org), "admin2@a.fr").await;
    let today = parcours::base::paris::today()
        .format("%d/%m/%Y")
        .to_string();
    let pack = admin
        .get(app.url(&format!(
            "/stagiaires/{trainee}/preuves.zip?du=01/01/2026&au={today}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(pack.status(), 200);
    let bytes = pack.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).unwrap();
    let mut csv = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("distanciel/activites.csv").unwrap(),
        &mut csv,
    )
    .unwrap();
    let line = csv
        .lines()
        .find(|l| l.contains("Le golf, en e-learning"))
        .expect("the package's line in the pack");
    assert!(
        line.contains("Module e-learning") && line.contains("Réussi, score 90 %"),
        "{line}"
    );
    let token = api_token(app, "admin2@a.fr").await;
    let res = client()
        .get(app.url(&format!("/api/v1/organisms/{org}/xapi")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = res.json().await.unwrap();
    let passed = body["statements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["verb"]["id"] == "http://adlnet.gov/expapi/verbs/passed"
                && s["object"]["id"]
                    .as_str()
                    .unwrap_or("")
                    .contains("30-golf#")
        })
        .expect("a passed statement for the package");
    assert_eq!(passed["result"]["score"]["scaled"], 0.9);
    let own = &passed["result"]["extensions"]
        [format!("{}/xapi/duree-declaree-par-le-module", app.address)];
    assert_eq!(own, "PT3M30S");
}

#[tokio::test]
async fn only_the_trainee_launches_and_a_flood_of_commits_is_refused() {
    let app = spawn_app().await;
    let a = app.create_organism("Organisme A");
    let b = app.create_organism("Organisme B");
    let admin = published_with_golf(&app, a).await;
    let (trainee, _) = app.trainee_in(a, "CQP-B", "stagiaire@a.fr").await;
    let (other, _) = app.trainee_in(b, "CQP-AM", "stagiaire@b.fr").await;
    let path = "/programmes/CQP-B/M1/paquets/30-golf/0";
    for c in [&other] {
        let res = c.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "another organism's trainee");
    }
    // Staff preview the page, but do not launch: nothing of theirs would be recorded.
    let res = admin.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let preview = text(&admin, app.url("/programmes/CQP-B/M1/activites/30-golf")).await;
    assert!(preview.contains("Aperçu : le module e-learning se joue"));
    assert!(!preview.contains("<iframe"));
    let (origin, host) = launch(&app, &trainee, "30-golf").await;
    let mut refused = 0;
    for i in 0..70 {
        let res = commit(
            &origin,
            &host,
            serde_json::json!({ "cmi.location": i.to_string() }),
        )
        .await;
        if res.status() == 429 {
            refused += 1;
            let body: serde_json::Value = res.json().await.unwrap();
            assert!(body["error"].as_str().unwrap().contains("réessayez"));
        }
    }
    assert!(refused >= 5, "{refused} commits refused out of 70");
}
