//! The register of personal data stays true (issue #23): every table and column of
//! `src/db/schema.rs` is classified in `privacy::register`, the register written for the DPO
//! names every table that holds personal data and every processing activity, the README's
//! retention table is the code's, and the retention page shows the configured lengths to the
//! organism's administrators only (the refusals are in `matrix.rs`).

use parcours::accounts::Role;
use parcours::privacy::register::{self, TABLES};
use parcours::privacy::rules::{self, Activity, Settings};

use crate::common::*;

fn read(path: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every `table (keys) { column -> Type, … }` of the diesel schema, in its order.
fn schema_tables() -> Vec<(String, Vec<String>)> {
    let text = read("src/db/schema.rs");
    let mut out = Vec::new();
    for block in text.split("diesel::table! {").skip(1) {
        let Some(open) = block.find('{') else {
            continue;
        };
        let name = block[..open]
            .split('(')
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        let body = &block[open + 1..block.find('}').unwrap_or(block.len())];
        let columns = body
            .lines()
            .filter_map(|l| l.split_once("->").map(|(c, _)| c.trim().to_string()))
            .filter(|c| !c.is_empty() && !c.starts_with("//") && !c.starts_with('#'))
            .collect();
        out.push((name, columns));
    }
    out
}

/// What the register leaves out of a schema, or names that the schema lacks, one line each.
fn unclassified(schema: &[(String, Vec<String>)]) -> Vec<String> {
    let mut missing = Vec::new();
    for (table, columns) in schema {
        let Some(t) = register::table(table) else {
            missing.push(format!(
                "table `{table}` is not in privacy::register::TABLES: say whether it holds \
                 personal data, which columns, its activity and its retention rule"
            ));
            continue;
        };
        for column in columns {
            if t.column(column).is_none() {
                missing.push(format!(
                    "column `{table}.{column}` is not classified in privacy::register::TABLES \
                     (personal or other)"
                ));
            }
        }
        for column in t.personal.iter().chain(t.other) {
            if !columns.contains(&column.to_string()) {
                missing.push(format!(
                    "privacy::register classifies `{table}.{column}`, which the schema no longer has"
                ));
            }
        }
        if t.personal_data.is_some() == t.personal.is_empty() {
            missing.push(format!(
                "table `{table}`: personal columns and activity disagree"
            ));
        }
    }
    for t in TABLES {
        if !schema.iter().any(|(name, _)| name == t.name) {
            missing.push(format!(
                "privacy::register names `{}`, which the schema no longer has",
                t.name
            ));
        }
    }
    missing
}

#[test]
fn every_column_of_the_schema_is_classified() {
    let schema = schema_tables();
    assert!(
        schema.len() >= 61,
        "the schema reader found {} tables",
        schema.len()
    );
    let missing = unclassified(&schema);
    assert!(missing.is_empty(), "\n{}", missing.join("\n"));
}

#[test]
fn a_new_table_or_column_is_named_when_left_out() {
    let mut schema = schema_tables();
    if let Some((_, columns)) = schema.iter_mut().find(|(t, _)| t == "users") {
        columns.push("birth_date".into());
    }
    schema.push(("consents".into(), vec!["id".into(), "user_id".into()]));
    let missing = unclassified(&schema);
    assert_eq!(missing.len(), 2, "{missing:?}");
    assert!(missing[0].contains("`users.birth_date`"), "{missing:?}");
    assert!(missing[1].contains("table `consents`"), "{missing:?}");
}

#[test]
fn every_personal_table_and_activity_is_in_the_written_register() {
    let doc = read("docs/registre-des-traitements.md");
    let mut missing = Vec::new();
    for t in TABLES.iter().filter(|t| t.personal_data.is_some()) {
        if !doc.contains(&format!("`{}`", t.name)) {
            missing.push(format!(
                "docs/registre-des-traitements.md does not name the table `{}`",
                t.name
            ));
        }
    }
    for a in Activity::ALL {
        if !doc.contains(a.title()) {
            missing.push(format!(
                "docs/registre-des-traitements.md has no section « {} »",
                a.title()
            ));
        }
        if register::tables_of(a).next().is_none() {
            missing.push(format!("the activity « {} » has no table", a.title()));
        }
    }
    for (_, keep) in TABLES.iter().filter_map(|t| t.personal_data) {
        if rules::rule(keep).is_none() {
            missing.push(format!("no retention rule for {keep:?}"));
        }
    }
    assert!(missing.is_empty(), "\n{}", missing.join("\n"));
    assert!(read("README.md").contains("docs/registre-des-traitements.md"));
}

#[test]
fn the_readme_retention_table_is_the_code_s() {
    let readme = read("README.md");
    let table = rules::markdown(&Settings::default());
    assert!(
        readme.contains(&table),
        "the README's retention table differs from privacy::rules::RULES; copy this one:\n{table}"
    );
}

#[tokio::test]
async fn the_retention_page_shows_the_configured_years() {
    let app = spawn_app_with(|env| {
        env.insert("PARCOURS_RETENTION_PROOF_YEARS".into(), "8".into());
    })
    .await;
    let org = app.create_organism("Organisme Conservation");
    let (admin, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "adm@conservation.fr").await;
    let res = admin
        .get(app.url(&format!("/organismes/{org}/conservation")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("Conservation des données personnelles"));
    assert!(html.contains("<dd>8 ans</dd>"), "{html}");
    assert!(!html.contains("<dd>6 ans</dd>"));
    assert!(html.contains("<dd>12 mois</dd>"));
    assert!(html.contains("<dd>48 heures</dd>"));
    assert!(html.contains("vae::pending::purge"));
    assert!(html.contains("pas encore appliquée"));
    assert!(html.contains("<code>attendance_entries</code>"));

    let (platform, _) = signed_in(&app, Role::Admin, None, "plateforme@conservation.fr").await;
    let res = platform
        .get(app.url(&format!("/organismes/{org}/conservation")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = platform
        .get(app.url(&format!("/organismes/{}/conservation", org + 1000)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    // Another organism's administrator is refused (every role: `matrix.rs`).
    let other = app.create_organism("Autre organisme");
    let (stranger, _) = signed_in(&app, Role::OrganismAdmin, Some(other), "adm@autre.fr").await;
    let res = stranger
        .get(app.url(&format!("/organismes/{org}/conservation")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}
