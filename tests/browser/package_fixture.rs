//! The shipped SCORM packages as activities of an organism's copy of the CQP, published
//! through the authoring routes as an author would: for `packages.rs` and `every_page.rs`.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::cohorts;

use crate::common::*;
use crate::driver::PASSWORD;

const MODULE_DIR: &str = "01-suivi-parcours-sante";

/// A shipped package, as an activity of M1.
pub struct Package {
    pub zip: &'static str,
    pub slug: &'static str,
    pub title: &'static str,
}

pub const GOLF: Package = Package {
    zip: "scorm2004_3rd_golf_runtimebasiccalls.zip",
    slug: "30-golf",
    title: "Le golf, en e-learning",
};

pub const ADAPT: Package = Package {
    zip: "scorm12_adapt_etce_circular_economy.zip",
    slug: "31-economie-circulaire",
    title: "L'économie circulaire",
};

fn revision_in(html: &str) -> String {
    let at = html
        .find("name=\"revision\" value=\"")
        .expect("revision field")
        + 23;
    html[at..].split('"').next().unwrap().to_string()
}

async fn editor(app: &TestApp, admin: &reqwest::Client, code: &str) -> String {
    admin
        .get_text(app, &format!("/auteur/programmes/{code}"))
        .await
}

/// Copies the reference CQP into `org` as `code`, adds `package` to M1 and publishes it.
pub async fn publish_package(
    app: &TestApp,
    admin: &reqwest::Client,
    (org, code): (i64, &str),
    package: &Package,
) {
    let fields = [
        ("source", "CQP-AM"),
        ("code", code),
        ("title", "CQP avec e-learning"),
    ];
    let res = admin
        .post_form(app, &format!("/organismes/{org}/programmes"), &fields)
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/assets/scorm")
            .join(package.zip),
    )
    .unwrap();
    let rev = revision_in(&editor(app, admin, code).await);
    let name = package.zip.to_string();
    let res = admin
        .post_multipart(
            app,
            &format!("/auteur/programmes/{code}/modules/{MODULE_DIR}/fichiers"),
            move |f| {
                f.text("revision", rev).part(
                    "file",
                    reqwest::multipart::Part::bytes(bytes).file_name(name),
                )
            },
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let rev = revision_in(&editor(app, admin, code).await);
    // The name as the upload kept it.
    let file = editor(app, admin, code)
        .await
        .split("files/")
        .filter_map(|s| s.split(['"', '<']).next())
        .find(|s| s.ends_with(".zip"))
        .map(|s| format!("files/{s}"))
        .expect("the ZIP in the draft");
    let fields = [
        ("revision", rev.as_str()),
        ("module", MODULE_DIR),
        ("sequence", "nouvelle"),
        ("sequence_title", "Modules e-learning"),
        ("kind", "package"),
        ("slug", package.slug),
        ("title", package.title),
        ("minutes", "20"),
        ("required", "on"),
        ("file", file.as_str()),
    ];
    let res = admin
        .post_form(
            app,
            &format!("/auteur/programmes/{code}/activites"),
            &fields,
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let rev = revision_in(&editor(app, admin, code).await);
    let res = admin
        .post_form(
            app,
            &format!("/auteur/programmes/{code}/publier"),
            &[("revision", rev.as_str())],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
}

/// For `every_page.rs`: the organism's copy `code` of the CQP with Golf in M1, and a trainee
/// of it, whose e-mail and password are returned.
pub async fn package_trainee(
    app: &TestApp,
    admin: &reqwest::Client,
    org: i64,
    code: &str,
) -> (String, String) {
    publish_package(app, admin, (org, code), &GOLF).await;
    let email = "paquet@isf-demo.fr";
    let trainee = app.create_user(Role::Trainee, Some(org), email, PASSWORD);
    let promotion = app.create_cohort(org, code);
    // A short name: the harness's long one would widen the promotions' menus on a phone.
    diesel::update(cohorts::table.find(promotion))
        .set(cohorts::name.eq("E-learning"))
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();
    app.enrol(org, promotion, trainee);
    (email.into(), PASSWORD.into())
}

/// The address of the package's activity page.
pub fn activity_path(code: &str, package: &Package) -> String {
    format!("/programmes/{code}/M1/activites/{}", package.slug)
}
