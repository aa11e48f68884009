//! The public catalogue (issue #22): an organism's administrator publishes an upcoming cohort,
//! anyone finds it by region, programme, month and distance share, as pages, JSON and Atom.

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::schema::{audit_events, catalogue_entries, cohorts, enrolments};

use crate::common::*;

/// A cohort of the organism starting on `start`, 11 months long.
fn cohort_from(app: &TestApp, org: i64, program: &str, start: NaiveDate) -> i64 {
    let id = app.create_cohort(org, program);
    diesel::update(cohorts::table.find(id))
        .set((
            cohorts::start_date.eq(start),
            cohorts::end_date.eq(start + chrono::Months::new(11)),
        ))
        .execute(&mut *app.conn())
        .unwrap();
    id
}

fn in_months(n: u32) -> NaiveDate {
    let t = parcours::base::paris::today();
    NaiveDate::from_ymd_opt(t.year(), t.month(), 1).unwrap() + chrono::Months::new(n)
}

const GOOD: &[(&str, &str)] = &[
    ("city", "Lyon"),
    ("region", "auvergne-rhone-alpes"),
    ("distance_percent", "60"),
    ("seats", "3"),
    ("price", "2 400,50"),
    ("funding", "opco-ep"),
    ("funding", "france-travail"),
    ("contact_email", "contact@organisme-a.fr"),
    ("contact_phone", "04 72 00 00 00"),
    ("published", "1"),
];

async fn publish(
    app: &TestApp,
    c: &reqwest::Client,
    cohort: i64,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let page = app.url(&format!("/promotions/{cohort}/catalogue"));
    let token = csrf_from(c, &page).await;
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    form.push(("csrf_token", &token));
    let res = c.post(&page).form(&form).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

async fn get(app: &TestApp, path: &str) -> (u16, String) {
    let res = client().get(app.url(path)).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

fn with(
    fields: &[(&'static str, &'static str)],
    key: &str,
    value: &'static str,
) -> Vec<(&'static str, &'static str)> {
    fields
        .iter()
        .map(|(k, v)| if *k == key { (*k, value) } else { (*k, *v) })
        .collect()
}

#[tokio::test]
async fn a_published_cohort_is_found_filtered_and_shown() {
    let app = spawn_app().await;
    let a = app.create_organism("Organisme A");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(a), "chef@a.fr").await;
    let start = in_months(2);
    let cqp = cohort_from(&app, a, "CQP-AM", start);
    let (status, _) = publish(&app, &chef, cqp, GOOD).await;
    assert_eq!(status, 303);
    let actions: Vec<String> = audit_events::table
        .filter(audit_events::subject_id.eq(cqp))
        .select(audit_events::action)
        .load(&mut *app.conn())
        .unwrap();
    assert!(
        actions.contains(&"catalogue_published".to_string()),
        "{actions:?}"
    );
    // One of the three seats is taken.
    let t = app.create_user(
        Role::Trainee,
        Some(a),
        "stagiaire@a.fr",
        "mot-de-passe-solide",
    );
    app.enrol(a, cqp, t);

    let (status, html) = get(&app, "/catalogue").await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("/catalogue/{cqp}")), "{html}");
    assert!(html.contains("2 sur 3"), "seats left: {html}");
    assert!(html.contains("2\u{a0}400,50\u{a0}€"));
    let month = start.format("%Y-%m").to_string();
    for (query, found) in [
        ("region=auvergne-rhone-alpes".to_string(), true),
        ("region=bretagne".to_string(), false),
        ("programme=cqp".to_string(), true),
        ("programme=fae".to_string(), false),
        (format!("mois={month}"), true),
        (format!("mois={}", in_months(5).format("%Y-%m")), false),
        ("distance=50".to_string(), true),
        ("distance=75".to_string(), false),
    ] {
        let (status, html) = get(&app, &format!("/catalogue?{query}")).await;
        assert_eq!(status, 200, "{query}");
        assert_eq!(
            html.contains(&format!("/catalogue/{cqp}\"")),
            found,
            "{query}"
        );
    }

    let (status, html) = get(&app, &format!("/catalogue/{cqp}")).await;
    assert_eq!(status, 200);
    for fact in [
        "Lyon",
        "Auvergne-Rhône-Alpes",
        "60 % des heures",
        "2 places restantes sur 3",
        "OPCO EP, France Travail",
        "contact@organisme-a.fr",
        "04 72 00 00 00",
        &parcours::base::format::date(start),
        "pas encore de promotion terminée",
    ] {
        assert!(html.contains(fact), "{fact} missing");
    }

    let json: serde_json::Value = client()
        .get(app.url("/api/v1/catalogue?programme=cqp&region=auvergne-rhone-alpes"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list = json["cohorts"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], cqp);
    assert_eq!(list[0]["seats_left"], 2);
    assert_eq!(list[0]["price_cents"], 240_050);
    let one: serde_json::Value = client()
        .get(app.url(&format!("/api/v1/catalogue/{cqp}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["cohort"]["city"], "Lyon");
    assert!(one["qualiopi"]["year"].is_null());
    assert_eq!(
        one["qualiopi"]["success"],
        "pas encore de promotion terminée"
    );

    let (status, xml) = get(&app, "/catalogue.atom").await;
    assert_eq!(status, 200);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let entries: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("entry"))
        .collect();
    assert_eq!(entries.len(), 1);
}

#[tokio::test]
async fn bad_input_is_refused_in_french_and_changes_nothing() {
    let app = spawn_app().await;
    let a = app.create_organism("Organisme A");
    let b = app.create_organism("Organisme B");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(a), "chef@a.fr").await;
    let (chef_b, _) = signed_in(&app, Role::OrganismAdmin, Some(b), "chef@b.fr").await;
    let cohort = cohort_from(&app, a, "CQP-AM", in_months(1));
    let stored = || -> i64 {
        catalogue_entries::table
            .count()
            .get_result(&mut *app.conn())
            .unwrap()
    };
    for (key, value, message) in [
        (
            "price",
            "-10",
            "Le prix est un montant en euros positif ou nul",
        ),
        (
            "seats",
            "0",
            "Le nombre de places est un nombre entier d&#x27;au moins 1",
        ),
        ("region", "Lyonnais", "Choisissez une région de la liste."),
        (
            "distance_percent",
            "150",
            "La part à distance est un nombre entier de 0 à 100.",
        ),
        ("funding", "loto", "Ce financement n&#x27;existe pas."),
        ("contact_email", "pas-une-adresse", "L&#x27;adresse e-mail"),
    ] {
        let (status, html) = publish(&app, &chef, cohort, &with(GOOD, key, value)).await;
        assert_eq!(status, 422, "{key}");
        assert!(html.contains(message), "{key}: {message}");
        assert_eq!(stored(), 0, "{key}");
    }
    // Another organism's administrator learns nothing of A's cohort and changes nothing.
    let res = chef_b
        .get(app.url(&format!("/promotions/{cohort}/catalogue")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let token = csrf_from(&chef_b, &app.url(&format!("/organismes/{b}/promotions"))).await;
    let mut form = GOOD.to_vec();
    form.push(("csrf_token", &token));
    let res = chef_b
        .post(app.url(&format!("/promotions/{cohort}/catalogue")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(stored(), 0);

    // A cohort already under way is not offered.
    let started = cohort_from(&app, a, "CQP-AM", in_months(0) - chrono::Days::new(1));
    let (status, html) = publish(&app, &chef, started, GOOD).await;
    assert_eq!(status, 422);
    assert!(html.contains("déjà commencé"));

    // Published, then withdrawn: the public page is gone, the entry is kept.
    assert_eq!(publish(&app, &chef, cohort, GOOD).await.0, 303);
    assert_eq!(get(&app, &format!("/catalogue/{cohort}")).await.0, 200);
    let token = csrf_from(&chef, &app.url(&format!("/promotions/{cohort}/catalogue"))).await;
    let res = chef
        .post(app.url(&format!("/promotions/{cohort}/catalogue/retirer")))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(get(&app, &format!("/catalogue/{cohort}")).await.0, 404);
    assert_eq!(
        get(&app, &format!("/api/v1/catalogue/{cohort}")).await.0,
        404
    );
    assert_eq!(stored(), 1);
    assert_eq!(get(&app, "/catalogue/999999").await.0, 404);

    // Bad filters: a French message, not an error page.
    let (status, html) = get(&app, "/catalogue?mois=janvier&programme=bts&distance=x").await;
    assert_eq!(status, 400);
    assert!(
        html.contains("Le mois de début s&#x27;écrit AAAA-MM"),
        "{html}"
    );
    assert!(html.contains("Le programme est « cqp » ou « fae »."));
    let res = client()
        .get(app.url("/api/v1/catalogue?region=atlantide"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(
        body.to_string().contains("Cette région n'existe pas."),
        "{body}"
    );
}

#[tokio::test]
async fn what_an_organism_types_is_escaped_everywhere() {
    let app = spawn_app().await;
    let a = app.create_organism("Formations <b>A</b> & fils");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(a), "chef@a.fr").await;
    let cohort = cohort_from(&app, a, "FAE-AM", in_months(3));
    let fields = with(GOOD, "city", "<script>alert('x')</script> & Cie");
    assert_eq!(publish(&app, &chef, cohort, &fields).await.0, 303);
    for path in ["/catalogue".to_string(), format!("/catalogue/{cohort}")] {
        let (status, html) = get(&app, &path).await;
        assert_eq!(status, 200);
        assert!(!html.contains("<script>alert"), "{path}");
        assert!(!html.contains("<b>A</b>"), "{path}");
        assert!(html.contains("&lt;script&gt;"), "{path}");
    }
    let (_, xml) = get(&app, "/catalogue.atom?programme=fae").await;
    let doc = roxmltree::Document::parse(&xml).expect("well-formed Atom");
    let title = doc
        .descendants()
        .find(|n| n.has_tag_name("entry"))
        .and_then(|e| e.children().find(|n| n.has_tag_name("title")))
        .and_then(|t| t.text())
        .unwrap()
        .to_string();
    assert!(title.contains("Formations <b>A</b> & fils"), "{title}");
    assert!(
        title.contains("<script>alert('x')</script> & Cie"),
        "{title}"
    );
}

#[tokio::test]
async fn the_organism_figures_are_the_qualiopi_ones() {
    let app = spawn_app().await;
    let a = app.create_organism("Organisme A");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(a), "chef@a.fr").await;
    let cohort = cohort_from(&app, a, "CQP-AM", in_months(2));
    assert_eq!(publish(&app, &chef, cohort, GOOD).await.0, 303);
    // An earlier cohort of A: two trainees, one of whom dropped out this year.
    let earlier = app.create_cohort(a, "CQP-AM");
    let t1 = app.create_user(Role::Trainee, Some(a), "t1@a.fr", "mot-de-passe-solide");
    let t2 = app.create_user(Role::Trainee, Some(a), "t2@a.fr", "mot-de-passe-solide");
    app.enrol(a, earlier, t1);
    app.enrol(a, earlier, t2);
    let today = parcours::base::paris::today();
    diesel::update(enrolments::table.filter(enrolments::trainee_id.eq(t1)))
        .set((
            enrolments::ended_on.eq(Some(today)),
            enrolments::end_reason.eq(Some("abandon")),
        ))
        .execute(&mut *app.conn())
        .unwrap();
    let one: serde_json::Value = client()
        .get(app.url(&format!("/api/v1/catalogue/{cohort}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let q = &one["qualiopi"];
    assert_eq!(q["year"], today.year());
    assert_eq!(q["dropouts"], 1);
    assert_eq!(q["completions"], 0);
    // As the Qualiopi page: 1 drop-out out of 2 enrolled.
    assert_eq!(q["dropout"], "50 %");
    assert_eq!(q["success"], "0 %");
    let (_, html) = get(&app, &format!("/catalogue/{cohort}")).await;
    assert!(html.contains("50 %"));
    assert!(!html.contains("pas encore de promotion terminée"));
}
