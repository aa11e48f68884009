//! ICS feeds: a trainee's feed dies with her account or her enrolment, and a feed's secret
//! can be renewed (audited), which kills the old address.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::schema::{audit_events, cohorts, enrolments};

use crate::common::*;

/// The path of the trainee's own feed, as her cohort page shows it.
async fn feed_path(app: &TestApp, trainee: &reqwest::Client) -> String {
    let html = trainee
        .get(app.url("/ma-promotion"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = html.find("/calendrier/stagiaire/").expect("feed address");
    let end = html[start..].find(".ics").unwrap() + start + 4;
    html[start..end].to_string()
}

async fn status_of(app: &TestApp, path: &str) -> u16 {
    client()
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn post(app: &TestApp, c: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> u16 {
    c.post_form(app, path, form).await.status().as_u16()
}

fn renewals(app: &TestApp, subject_type: &str, id: i64) -> Vec<Option<i64>> {
    audit_events::table
        .filter(audit_events::action.eq("ics_feed_renewed"))
        .filter(audit_events::subject_type.eq(subject_type))
        .filter(audit_events::subject_id.eq(id))
        .order(audit_events::id.asc())
        .select(audit_events::actor_user_id)
        .load(&mut *app.conn())
        .unwrap()
}

#[tokio::test]
async fn a_trainee_feed_dies_with_her_account_and_with_her_enrolment() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    let (lea, tid) = app.trainee_in(org, "CQP-AM", "lea@a.fr").await;
    let feed = feed_path(&app, &lea).await;
    let res = client().get(app.url(&feed)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().starts_with("BEGIN:VCALENDAR"));

    // Disabled: the feed answers no more; enabled again, it does.
    let status = format!("/utilisateurs/{tid}/statut");
    assert_eq!(post(&app, &chef, &status, &[("disabled", "1")]).await, 303);
    assert_eq!(status_of(&app, &feed).await, 404);
    assert_eq!(post(&app, &chef, &status, &[("disabled", "0")]).await, 303);
    assert_eq!(status_of(&app, &feed).await, 200);

    // She leaves the training: no active enrolment, no feed.
    let today = parcours::base::paris::today();
    diesel::update(enrolments::table.filter(enrolments::trainee_id.eq(tid)))
        .set(enrolments::started_on.eq(today - chrono::Duration::days(30)))
        .execute(&mut *app.conn())
        .unwrap();
    let on = today.format("%d/%m/%Y").to_string();
    let departure = format!("/stagiaires/{tid}/sortie");
    let form = [("on", on.as_str()), ("reason", "abandon"), ("note", "")];
    assert_eq!(post(&app, &chef, &departure, &form).await, 303);
    assert_eq!(status_of(&app, &feed).await, 404);
}

#[tokio::test]
async fn the_trainee_or_her_staff_renew_a_feed_and_the_old_address_dies() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let org_b = app.create_organism("Organisme B");
    let (chef, chef_id) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    let (trainer, trainer_id) = signed_in(&app, Role::Trainer, Some(org), "forma@a.fr").await;
    let (chef_b, _) = signed_in(&app, Role::OrganismAdmin, Some(org_b), "chef@b.fr").await;
    let (lea, tid) = app.trainee_in(org, "CQP-AM", "lea@a.fr").await;
    let (bob, _) = app.trainee_in(org, "CQP-AM", "bob@a.fr").await;

    // The trainee, from her own page.
    let first = feed_path(&app, &lea).await;
    assert_eq!(status_of(&app, &first).await, 200);
    let own = "/ma-promotion/agenda/renouveler";
    let res = lea
        .post(app.url(own))
        .form(&[("x", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "no CSRF token, no renewal");
    assert_eq!(feed_path(&app, &lea).await, first);
    assert_eq!(post(&app, &lea, own, &[]).await, 303);
    let second = feed_path(&app, &lea).await;
    assert_ne!(second, first);
    assert_eq!(status_of(&app, &first).await, 404);
    assert_eq!(status_of(&app, &second).await, 200);

    // Staff of her organism, from her file; nobody else.
    let file = format!("/stagiaires/{tid}/agenda/renouveler");
    let html = trainer
        .get(app.url(&format!("/stagiaires/{tid}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&file), "the file offers the renewal");
    assert_eq!(post(&app, &chef_b, &file, &[]).await, 404);
    assert_eq!(post(&app, &bob, &file, &[]).await, 404);
    assert_eq!(feed_path(&app, &lea).await, second);
    assert_eq!(post(&app, &trainer, &file, &[]).await, 303);
    let third = feed_path(&app, &lea).await;
    assert_eq!(status_of(&app, &second).await, 404);
    assert_eq!(status_of(&app, &third).await, 200);
    assert_eq!(
        renewals(&app, "trainee", tid),
        [Some(tid), Some(trainer_id)]
    );

    // The cohort's feed: its organism's administrator renews it.
    let cohort: i64 = enrolments::table
        .filter(enrolments::trainee_id.eq(tid))
        .select(enrolments::cohort_id)
        .first(&mut *app.conn())
        .unwrap();
    let token = || -> String {
        cohorts::table
            .find(cohort)
            .select(cohorts::ics_token)
            .first(&mut *app.conn())
            .unwrap()
    };
    let old = format!("/calendrier/promotion/{}.ics", token());
    assert_eq!(status_of(&app, &old).await, 200);
    let renew = format!("/promotions/{cohort}/calendrier/renouveler");
    assert_eq!(post(&app, &trainer, &renew, &[]).await, 403);
    assert_eq!(post(&app, &chef_b, &renew, &[]).await, 404);
    assert_eq!(status_of(&app, &old).await, 200);
    assert_eq!(post(&app, &chef, &renew, &[]).await, 303);
    assert_eq!(status_of(&app, &old).await, 404);
    let new = format!("/calendrier/promotion/{}.ics", token());
    assert_eq!(status_of(&app, &new).await, 200);
    assert_eq!(renewals(&app, "cohort", cohort), [Some(chef_id)]);
}
