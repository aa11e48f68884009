//! Public holidays and closure days: the weekly rhythm skips them (Easter Monday 2027 is
//! 29 March, not 5 April), the calendar lists them and says what the last rhythm left out,
//! staff admins keep the organism's closures, and Alsace-Moselle is an organism's setting.

use chrono::NaiveDate;
use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::schema::{audit_events, closure_days, modules, sessions};

use crate::common::*;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn session_days(app: &TestApp, cohort: i64) -> Vec<NaiveDate> {
    sessions::table
        .filter(sessions::cohort_id.eq(cohort))
        .order(sessions::day.asc())
        .select(sessions::day)
        .load(&mut *app.conn())
        .unwrap()
}

fn closures(app: &TestApp, org: i64) -> Vec<(i64, String)> {
    closure_days::table
        .filter(closure_days::organism_id.eq(org))
        .order(closure_days::id.asc())
        .select((closure_days::id, closure_days::label))
        .load(&mut *app.conn())
        .unwrap()
}

fn actions(app: &TestApp, org: i64) -> Vec<String> {
    audit_events::table
        .filter(audit_events::organism_id.eq(org))
        .filter(audit_events::action.eq_any([
            "closure_added",
            "closure_removed",
            "rhythm_generated",
            "organism_alsace_moselle_set",
        ]))
        .order(audit_events::id.asc())
        .select(audit_events::action)
        .load(&mut *app.conn())
        .unwrap()
}

/// The rhythm form: these weekdays, mornings only, both modules of the CQP alternating.
fn rhythm(app: &TestApp, from: &str, to: &str, days: &[&str]) -> Vec<(&'static str, String)> {
    let ids: Vec<i64> = modules::table
        .filter(modules::code.eq_any(["M1", "M2"]))
        .order(modules::code.asc())
        .select(modules::id)
        .load(&mut *app.conn())
        .unwrap();
    let mut form = vec![
        ("from", from.to_string()),
        ("to", to.to_string()),
        ("am_start", "09:00".into()),
        ("am_end", "12:30".into()),
        ("pm_start", "".into()),
        ("pm_end", "".into()),
        ("place", "Salle 2".into()),
        ("trainer", "".into()),
    ];
    form.extend(days.iter().map(|d| ("day", d.to_string())));
    form.extend(ids.iter().map(|m| ("module", m.to_string())));
    form
}

#[tokio::test]
async fn the_rhythm_skips_public_holidays_and_the_organisms_closures() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let other = app.create_organism("Organisme B");
    // From 01/09/2026 to 01/08/2027.
    let cohort = app.create_cohort(org, "CQP-AM");
    let cohort_b = app.create_cohort(other, "CQP-AM");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    let (trainer, _) = signed_in(&app, Role::Trainer, Some(org), "formateur@a.fr").await;
    let (chef_b, _) = signed_in(&app, Role::OrganismAdmin, Some(other), "chef@b.fr").await;
    let cal = format!("/promotions/{cohort}/calendrier");
    let add = format!("{cal}/fermetures");

    // The holidays within the cohort's dates, computed: Easter Monday is 29/03/2027.
    let html = chef.get_text(&app, &cal).await;
    assert!(html.contains("29/03/2027 : Lundi de Pâques"), "{html}");
    assert!(html.contains("14/07/2027 : Fête nationale"));
    assert!(html.contains("11/11/2026 : Armistice 1918"));
    assert!(!html.contains("05/04/2027"));
    assert!(!html.contains("Vendredi saint"));
    assert!(!html.contains("Dernier rythme généré"));

    // A closure day, then a bad one: French errors, 422, nothing stored.
    let res = chef
        .post_form(
            &app,
            &add,
            &[
                ("from", "2027-05-07"),
                ("to", ""),
                ("label", "Pont du 7 mai"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    for (from, to, label, says) in [
        (
            "2027-02-31",
            "",
            "Fermeture",
            "31/02/2027 n&#x27;existe pas",
        ),
        (
            "31/02/2027",
            "",
            "Fermeture",
            "31/02/2027 n&#x27;existe pas",
        ),
        (
            "2027-08-20",
            "2027-08-02",
            "Été",
            "se termine avant de commencer",
        ),
        ("2027-08-02", "", " ", "Indiquez le libellé"),
    ] {
        let res = chef
            .post_form(&app, &add, &[("from", from), ("to", to), ("label", label)])
            .await;
        assert_eq!(res.status(), 422, "{from} {to} {label}");
        let text = res.text().await.unwrap();
        assert!(text.contains(says), "{says}: {text}");
    }
    let stored = closures(&app, org);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].1, "Pont du 7 mai");
    // A trainer sees the calendar but keeps no closures.
    let res = trainer
        .post_form(
            &app,
            &add,
            &[("from", "2027-06-04"), ("label", "Fermeture")],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(closures(&app, org).len(), 1);

    // Mondays, Wednesdays and Fridays from 22/03/2027 to 16/07/2027: 51 days, of which four
    // are closed (Easter Monday, the closure, Whit Monday and 14 July).
    let form = rhythm(
        &app,
        "2027-03-22",
        "2027-07-16",
        &["lundi", "mercredi", "vendredi"],
    );
    let res = chef.post_form(&app, &format!("{cal}/rythme"), &form).await;
    assert_eq!(res.status(), 303);
    let days = session_days(&app, cohort);
    assert_eq!(days.len(), 47);
    for closed in [
        day(2027, 3, 29),
        day(2027, 5, 7),
        day(2027, 5, 17),
        day(2027, 7, 14),
    ] {
        assert!(!days.contains(&closed), "a session on {closed}");
    }
    // 5 April 2027 is an ordinary Monday.
    assert!(days.contains(&day(2027, 4, 5)));
    assert!(days.contains(&day(2027, 3, 31)));
    let html = chef.get_text(&app, &cal).await;
    assert!(
        html.contains(
            "Dernier rythme généré, du 22/03/2027 au 16/07/2027 : 47 séance(s) créée(s), \
             4 non créée(s) car l'organisme était fermé : 29/03/2027 (Lundi de Pâques), \
             07/05/2027 (Pont du 7 mai), 17/05/2027 (Lundi de Pentecôte), \
             14/07/2027 (Fête nationale)."
        ),
        "{html}"
    );
    assert!(html.contains("07/05/2027 : Pont du 7 mai"));
    assert!(!html.contains("Séances prévues un jour fermé"));

    // Another organism sees nothing of these closures and cannot touch them, even through
    // its own cohort.
    let (closure, _) = closures(&app, org)[0].clone();
    assert_eq!(
        chef_b.get(app.url(&cal)).send().await.unwrap().status(),
        404
    );
    let res = chef_b
        .post_form(&app, &add, &[("from", "2027-06-04"), ("label", "Intrus")])
        .await;
    assert_eq!(res.status(), 404);
    for path in [
        format!("{cal}/fermetures/{closure}/supprimer"),
        format!("/promotions/{cohort_b}/calendrier/fermetures/{closure}/supprimer"),
    ] {
        let res = chef_b.post_form(&app, &path, &[("x", "")]).await;
        assert_eq!(res.status(), 404, "{path}");
    }
    let html_b = chef_b
        .get_text(&app, &format!("/promotions/{cohort_b}/calendrier"))
        .await;
    assert!(!html_b.contains("Pont du 7 mai"));
    assert!(html_b.contains("29/03/2027 : Lundi de Pâques"));
    assert_eq!(closures(&app, org).len(), 1);
    assert!(closures(&app, other).is_empty());

    // A closure added after the sessions: the page says which sessions now fall on it.
    let res = chef
        .post_form(
            &app,
            &add,
            &[
                ("from", "02/04/2027"),
                ("to", "05/04/2027"),
                ("label", "Inventaire"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let html = chef.get_text(&app, &cal).await;
    assert!(
        html.contains("du 02/04/2027 au 05/04/2027 : Inventaire"),
        "{html}"
    );
    assert!(
        html.contains(
            "Séances prévues un jour fermé : 02/04/2027 (Inventaire, 1 séance(s)), \
             05/04/2027 (Inventaire, 1 séance(s))."
        ),
        "{html}"
    );
    // Removing it: its own organism's admin only.
    let (inventory, _) = closures(&app, org)[1].clone();
    let res = chef
        .post_form(
            &app,
            &format!("{cal}/fermetures/{inventory}/supprimer"),
            &[("x", "")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(closures(&app, org).len(), 1);
    assert!(!chef.get_text(&app, &cal).await.contains("Inventaire"));
    assert_eq!(
        actions(&app, org),
        [
            "closure_added",
            "rhythm_generated",
            "closure_added",
            "closure_removed"
        ]
    );
}

#[tokio::test]
async fn alsace_moselle_is_an_organism_setting() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme de Metz");
    let other = app.create_organism("Organisme B");
    let cohort = app.create_cohort(org, "CQP-AM");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@metz.fr").await;
    let (trainer, _) = signed_in(&app, Role::Trainer, Some(org), "formateur@metz.fr").await;
    let (chef_b, _) = signed_in(&app, Role::OrganismAdmin, Some(other), "chef@b.fr").await;
    let setting = format!("/organismes/{org}/alsace-moselle");
    let page = format!("/organismes/{org}");
    let html = chef.get_text(&app, &page).await;
    assert!(html.contains("Jours fériés nationaux."), "{html}");
    assert!(!html.contains("checked"));

    // Only the organism's own admin sets it.
    for c in [&trainer, &chef_b] {
        let res = c
            .post_form(&app, &setting, &[("alsace_moselle", "1")])
            .await;
        assert_eq!(res.status(), 403);
    }
    let res = chef
        .post_form(&app, &setting, &[("alsace_moselle", "1")])
        .await;
    assert_eq!(res.status(), 303);
    let html = chef.get_text(&app, &page).await;
    assert!(html.contains("Jours fériés nationaux et d'Alsace-Moselle"));
    assert!(html.contains("checked"));

    // Good Friday and 26 December are listed and skipped.
    let cal = format!("/promotions/{cohort}/calendrier");
    let html = chef.get_text(&app, &cal).await;
    assert!(html.contains("26/03/2027 : Vendredi saint"), "{html}");
    assert!(html.contains("26/12/2026 : Saint-Étienne"));
    let form = rhythm(&app, "2027-03-19", "2027-04-02", &["vendredi"]);
    let res = chef.post_form(&app, &format!("{cal}/rythme"), &form).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        session_days(&app, cohort),
        [day(2027, 3, 19), day(2027, 4, 2)]
    );
    assert!(
        chef.get_text(&app, &cal)
            .await
            .contains("1 non créée(s) car l'organisme était fermé : 26/03/2027 (Vendredi saint).")
    );

    // An unticked box turns it off again.
    let res = chef.post_form(&app, &setting, &[("x", "")]).await;
    assert_eq!(res.status(), 303);
    assert!(
        !chef
            .get_text(&app, &cal)
            .await
            .contains("26/03/2027 : Vendredi saint")
    );
    assert_eq!(
        actions(&app, org),
        [
            "organism_alsace_moselle_set",
            "rhythm_generated",
            "organism_alsace_moselle_set"
        ]
    );
}
