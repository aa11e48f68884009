//! Staff accounts left without a sign-in are disabled by the scheduled job (issue #23): after
//! `PARCOURS_RETENTION_STAFF_INACTIVE_MONTHS` (12 by default), never trainees or doctors, never
//! the last active administrator, once however many instances run it.

use chrono::{Months, NaiveDateTime};
use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::accounts::store::disable_inactive_staff;
use parcours::db::schema::{audit_events, users};
use parcours::db::{self, DbConn};

use crate::common::*;

const PW: &str = "mot-de-passe-solide";

fn months_ago(months: u32) -> NaiveDateTime {
    db::now().checked_sub_months(Months::new(months)).unwrap()
}

impl Db {
    /// Pretends the account last signed in `months` ago (`None`: never, created then).
    fn last_seen(&self, id: i64, months: u32, signed_in: bool) {
        let at = months_ago(months);
        let mut conn = self.conn();
        diesel::update(users::table.find(id))
            .set((
                users::created_at.eq(at),
                users::last_login_at.eq(signed_in.then_some(at)),
            ))
            .execute(&mut *conn as &mut DbConn)
            .unwrap();
    }

    fn disabled(&self, id: i64) -> bool {
        let mut conn = self.conn();
        users::table
            .find(id)
            .select(users::disabled)
            .first(&mut *conn as &mut DbConn)
            .unwrap()
    }

    fn run_job(&self, months: u32) -> usize {
        let mut conn = self.conn();
        disable_inactive_staff(&mut conn, db::now(), months).unwrap()
    }

    fn disabled_events(&self, id: i64) -> Vec<(Option<i64>, Option<String>)> {
        let mut conn = self.conn();
        audit_events::table
            .filter(audit_events::action.eq("user_disabled"))
            .filter(audit_events::subject_id.eq(id))
            .select((audit_events::actor_user_id, audit_events::after_json))
            .load(&mut *conn as &mut DbConn)
            .unwrap()
    }
}

/// The settings an installation reads from its environment.
fn configured_months(app: &TestApp, value: Option<&str>) -> u32 {
    let mut env = base_env(app.dir.path(), &app.database_url);
    if let Some(v) = value {
        env.insert(
            "PARCOURS_RETENTION_STAFF_INACTIVE_MONTHS".into(),
            v.to_string(),
        );
    }
    parcours::AppConfig::from_sources(&env, None)
        .unwrap()
        .retention
        .staff_inactive_months
}

#[tokio::test]
async fn a_trainer_unused_for_13_months_is_disabled_once_and_can_no_longer_sign_in() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    app.create_user(Role::OrganismAdmin, Some(org), "admin@a.fr", PW);
    let (session, old) = signed_in(&app, Role::Trainer, Some(org), "vieux@a.fr").await;
    let recent = app.create_user(Role::Trainer, Some(org), "recent@a.fr", PW);
    app.last_seen(old, 13, true);
    app.last_seen(recent, 11, true);
    let months = configured_months(&app, None);
    assert_eq!(months, 12);

    assert_eq!(app.run_job(months), 1);
    assert!(app.disabled(old));
    assert!(!app.disabled(recent));
    // Its open session ended with it.
    let home = session.get(app.url("/")).send().await.unwrap();
    assert_eq!(home.status(), 303);
    let res = login(&app, &client(), "vieux@a.fr", PW).await;
    assert_eq!(res.status(), 403);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Ce compte est désactivé")
    );
    let res = login(&app, &client(), "recent@a.fr", PW).await;
    assert_eq!(res.status(), 303);

    // A second run, as by another instance, changes and audits nothing more.
    assert_eq!(app.run_job(months), 0);
    let events = app.disabled_events(old);
    assert_eq!(events.len(), 1, "{events:?}");
    let (actor, after) = &events[0];
    assert_eq!(*actor, None);
    let after: serde_json::Value = serde_json::from_str(after.as_deref().unwrap()).unwrap();
    assert_eq!(after["reason"], "staff_inactive");
    assert_eq!(after["months"], 12);
}

#[tokio::test]
async fn trainees_doctors_and_the_last_admins_stay() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let trainee = app.create_user(Role::Trainee, Some(org), "stagiaire@a.fr", PW);
    let doctor = app.create_user(Role::Doctor, None, "dr@a.fr", PW);
    let admin = app.create_user(Role::OrganismAdmin, Some(org), "admin@a.fr", PW);
    let older_admin = app.create_user(Role::OrganismAdmin, Some(org), "admin2@a.fr", PW);
    let never = app.create_user(Role::Trainer, Some(org), "jamais@a.fr", PW);
    let platform = app.create_user(Role::Admin, None, "plateforme@a.fr", PW);
    for id in [trainee, doctor, platform] {
        app.last_seen(id, 60, true);
    }
    app.last_seen(admin, 20, true);
    app.last_seen(older_admin, 30, true);
    // Never signed in since its creation 13 months ago.
    app.last_seen(never, 13, false);

    assert_eq!(app.run_job(12), 2);
    assert!(!app.disabled(trainee));
    assert!(!app.disabled(doctor));
    assert!(!app.disabled(platform), "the last platform admin");
    assert!(!app.disabled(admin), "the organism's last admin, seen last");
    assert!(app.disabled(older_admin));
    assert!(app.disabled(never));
    assert_eq!(app.run_job(12), 0);
    assert!(!app.disabled(admin));
}

#[tokio::test]
async fn the_configured_months_change_the_threshold() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    app.create_user(Role::OrganismAdmin, Some(org), "admin@a.fr", PW);
    let four = app.create_user(Role::Trainer, Some(org), "quatre@a.fr", PW);
    let two = app.create_user(Role::Trainer, Some(org), "deux@a.fr", PW);
    app.last_seen(four, 4, true);
    app.last_seen(two, 2, true);

    assert_eq!(app.run_job(configured_months(&app, None)), 0);
    let months = configured_months(&app, Some("3"));
    assert_eq!(months, 3);
    assert_eq!(app.run_job(months), 1);
    assert!(app.disabled(four));
    assert!(!app.disabled(two));
    assert!(
        app.disabled_events(four)[0]
            .1
            .as_deref()
            .unwrap()
            .contains("\"months\":3")
    );
}
