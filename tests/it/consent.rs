//! Issue #23, mails and consent: a non-essential mail carries a link that turns it off
//! without signing in; the sender then skips the person; the account page turns it back on.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{audit_events, outbox, users};
use parcours::mail::MailContext;
use parcours::tracking::engagement;

use crate::common::*;

fn templates() -> tera::Tera {
    parcours::mail::load_templates(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"),
    )
    .unwrap()
}

/// The path of the unsubscribe link in the latest `kind` mail to `email`.
fn unsubscribe_link(app: &TestApp, kind: &str, email: &str) -> String {
    let bodies: Vec<(String, String)> = outbox::table
        .filter(outbox::kind.eq(kind))
        .order(outbox::id.desc())
        .select((outbox::recipients, outbox::body_text))
        .load(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let (_, body) = bodies
        .iter()
        .find(|(to, _)| to.contains(email))
        .unwrap_or_else(|| panic!("no {kind} mail to {email}"));
    assert!(body.contains("Vous recevez ce résumé parce que"), "{body}");
    let start = body
        .find("/desabonnement/")
        .expect("the mail carries the link");
    let end = body[start..]
        .find(char::is_whitespace)
        .map_or(body.len(), |e| start + e);
    body[start..end].to_string()
}

fn digest_on(app: &TestApp, user: i64) -> bool {
    users::table
        .find(user)
        .select(users::weekly_digest)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

fn unsubscribed(app: &TestApp) -> i64 {
    audit_events::table
        .filter(audit_events::action.eq("unsubscribed"))
        .count()
        .get_result(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

fn digests(app: &TestApp, email: &str) -> usize {
    let to: Vec<String> = outbox::table
        .filter(outbox::kind.eq("weekly_digest"))
        .select(outbox::recipients)
        .load(&mut *app.conn() as &mut DbConn)
        .unwrap();
    to.iter().filter(|t| t.contains(email)).count()
}

#[tokio::test]
async fn the_digests_link_turns_it_off_without_a_session_and_the_account_page_back_on() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let cohort = app.create_cohort(org, "CQP-AM");
    let roy = app.create_user(Role::Doctor, None, "dr@med.fr", "mot-de-passe-solide");
    let lea = app.create_user(Role::Doctor, None, "lea@med.fr", "mot-de-passe-solide");
    let (_, alice) = signed_in(&app, Role::Trainee, Some(org), "alice@a.fr").await;
    let (_, bob) = signed_in(&app, Role::Trainee, Some(org), "bob@a.fr").await;
    app.enrol(org, cohort, alice);
    app.enrol(org, cohort, bob);
    app.employ(alice, roy, "Dr Roy");
    app.employ(bob, lea, "Dr Léa");
    let tera = templates();
    let mc = MailContext {
        templates: &tera,
        base_url: &app.address,
    };
    let monday = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let week = chrono::Duration::days(7);
    let sent = engagement::weekly_digest(&mut app.conn(), &mc, "a", monday).unwrap();
    assert_eq!(sent, Some(2));
    let link = unsubscribe_link(&app, "weekly_digest", "dr@med.fr");
    let lea_link = unsubscribe_link(&app, "weekly_digest", "lea@med.fr");
    assert_ne!(link, lea_link, "a link per person");

    // A tampered link opens nothing and changes nothing.
    let stranger = client();
    let mut tampered = link.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    for path in [format!("{link}A"), tampered, "/desabonnement/court".into()] {
        let res = stranger.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
        assert!(res.text().await.unwrap().contains("Lien invalide"));
        let res = stranger.post_form(&app, &path, NO_FIELDS).await;
        assert_eq!(res.status(), 404, "{path}");
    }
    assert!(digest_on(&app, roy) && digest_on(&app, lea));

    // Without a session: the page asks, the button turns it off, for Dr Roy only.
    let page = stranger.get_text(&app, &link).await;
    assert!(
        page.contains("Ne plus recevoir le résumé hebdomadaire"),
        "{page}"
    );
    let res = stranger.post_form_of(&app, &page, &link, NO_FIELDS).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("C'est fait"));
    assert!(!digest_on(&app, roy) && digest_on(&app, lea));
    assert_eq!(unsubscribed(&app), 1);
    // Twice is once.
    let res = stranger.post_form_of(&app, &page, &link, NO_FIELDS).await;
    assert_eq!(res.status(), 200);
    assert_eq!(unsubscribed(&app), 1);
    assert!(
        stranger
            .get_text(&app, &link)
            .await
            .contains("Vous ne recevez déjà plus")
    );

    // The next digest skips him, not her.
    let sent = engagement::weekly_digest(&mut app.conn(), &mc, "a", monday + week).unwrap();
    assert_eq!(sent, Some(1));
    assert_eq!(
        (digests(&app, "dr@med.fr"), digests(&app, "lea@med.fr")),
        (1, 2)
    );

    // Signed in, he turns it back on from his page; the digest comes again.
    let c = client();
    assert_eq!(
        login(&app, &c, "dr@med.fr", "mot-de-passe-solide")
            .await
            .status(),
        303
    );
    let page = c.get_text(&app, "/mes-assistants").await;
    let res = c
        .post_form_of(
            &app,
            &page,
            "/mes-assistants/resume",
            &[("weekly_digest", "1")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(digest_on(&app, roy));
    let sent = engagement::weekly_digest(&mut app.conn(), &mc, "a", monday + week * 2).unwrap();
    assert_eq!(sent, Some(2));
    assert_eq!(digests(&app, "dr@med.fr"), 2);
}

#[tokio::test]
async fn an_invitation_says_why_it_is_sent_and_names_the_organism_responsible() {
    let app = spawn_app().await;
    let org = app.create_organism("Cabinet Formation Sud");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    let res = chef
        .post_form(
            &app,
            &format!("/organismes/{org}/invitations"),
            &[
                ("email", "neuf@a.fr"),
                ("name", "Jeanne Neuf"),
                ("role", "trainer"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (text, html): (String, Option<String>) = outbox::table
        .filter(outbox::kind.eq("invitation"))
        .order(outbox::id.desc())
        .select((outbox::body_text, outbox::body_html))
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    for body in [text, html.unwrap_or_default()] {
        assert!(
            body.contains(
                "Vous recevez ce message parce que Cabinet Formation Sud a créé un accès"
            ) && body.contains("Organisme responsable : Cabinet Formation Sud"),
            "{body}"
        );
    }
    // A mail about no organism names none.
    let res = client()
        .post_form(&app, "/mot-de-passe-oublie", &[("email", "chef@a.fr")])
        .await;
    assert_eq!(res.status(), 200);
    let text: String = outbox::table
        .filter(outbox::kind.eq("password_reset"))
        .select(outbox::body_text)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert!(
        text.contains("Vous recevez ce message parce qu'un nouveau mot de passe a été demandé")
            && !text.contains("Organisme responsable"),
        "{text}"
    );
}
