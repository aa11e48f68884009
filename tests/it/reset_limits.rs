//! Password reset: a few mails per account and hour, counted in the database (so across
//! instances), and one answer whatever the address.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::schema::outbox;
use parcours::{AppConfig, Application};

use crate::common::*;

/// Asks for a reset link from `base`; returns the status and the page without its token.
async fn ask(base: &str, email: &str) -> (u16, String) {
    let c = client();
    let t = csrf_from(&c, &format!("{base}/mot-de-passe-oublie")).await;
    let res = c
        .post(format!("{base}/mot-de-passe-oublie"))
        .form(&[("csrf_token", t.as_str()), ("email", email)])
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap().replace(&t, ""))
}

fn reset_mails_to(app: &TestApp, email: &str) -> usize {
    outbox::table
        .filter(outbox::kind.eq("password_reset"))
        .select(outbox::recipients)
        .load::<String>(&mut *app.conn())
        .unwrap()
        .iter()
        .filter(|r| r.contains(email))
        .count()
}

#[tokio::test]
async fn five_requests_send_three_mails_and_every_answer_is_the_same() {
    let app = spawn_app().await;
    // A second instance on the same database: the count must hold across both.
    let config =
        AppConfig::from_sources(&base_env(app.dir.path(), &app.database_url), None).unwrap();
    let other = Application::build(config).await.unwrap();
    let other_base = format!("http://127.0.0.1:{}", other.port());
    tokio::spawn(other.run_until_stopped());
    let org = app.create_organism("Organisme A");
    app.create_user(Role::Doctor, None, "dr@exemple.fr", "mot-de-passe-solide");
    let off = app.create_user(Role::Trainer, Some(org), "off@a.fr", "mot-de-passe-solide");
    {
        use parcours::db::schema::users;
        diesel::update(users::table.find(off))
            .set(users::disabled.eq(true))
            .execute(&mut *app.conn())
            .unwrap();
    }

    let (status, first) = ask(&app.address, "dr@exemple.fr").await;
    assert_eq!(status, 200);
    assert!(
        first.contains("Si un compte existe pour cette adresse"),
        "{first}"
    );
    // Four more, on both instances and at the same time, the address written differently.
    let more = [
        ask(&other_base, "DR@exemple.fr"),
        ask(&app.address, " dr@exemple.fr "),
        ask(&other_base, "dr@Exemple.fr"),
        ask(&app.address, "dr@exemple.fr"),
    ];
    let answers = futures_util::future::join_all(more).await;
    assert_eq!(reset_mails_to(&app, "dr@exemple.fr"), 3);
    assert_eq!(
        app.audit_actions("dr@exemple.fr")
            .iter()
            .filter(|a| *a == "password_reset_limited")
            .count(),
        2
    );

    // Limit reached, unknown address, disabled account, not an address: the same page.
    let others = [
        ask(&app.address, "personne@exemple.fr").await,
        ask(&app.address, "off@a.fr").await,
        ask(&app.address, "pas une adresse").await,
    ];
    for (status, page) in answers.iter().chain(&others) {
        assert_eq!(*status, 200);
        assert_eq!(page, &first);
    }
    assert_eq!(reset_mails_to(&app, "off@a.fr"), 0);
    assert_eq!(reset_mails_to(&app, "personne@exemple.fr"), 0);
}
