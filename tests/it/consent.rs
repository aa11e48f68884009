//! Issue #23, mails and consent: a non-essential mail carries a link that turns it off
//! without signing in; the sender then skips the person; the account page turns it back on.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{audit_events, followup_messages, followup_threads, outbox, users};
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

/// (text, html, List-Unsubscribe URL) of the latest `kind` mail to `email`.
fn optional_mail(app: &TestApp, kind: &str, email: &str) -> (String, String, String) {
    let rows: Vec<(String, String, Option<String>, Option<String>)> = outbox::table
        .filter(outbox::kind.eq(kind))
        .order(outbox::id.desc())
        .select((
            outbox::recipients,
            outbox::body_text,
            outbox::body_html,
            outbox::list_unsubscribe,
        ))
        .load(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let (_, text, html, header) = rows
        .into_iter()
        .find(|r| r.0.contains(email))
        .unwrap_or_else(|| panic!("no {kind} mail to {email}"));
    let header = header.expect("an optional mail carries its List-Unsubscribe URL");
    (text, html.unwrap_or_default(), header)
}

fn choice(app: &TestApp, user: i64, kind: &str) -> Option<bool> {
    parcours::accounts::mail_choices::wanted(&mut app.conn(), user, kind).unwrap()
}

fn audited(app: &TestApp, action: &str, kind: &str) -> usize {
    let details: Vec<Option<String>> = audit_events::table
        .filter(audit_events::action.eq(action))
        .select(audit_events::after_json)
        .load(&mut *app.conn() as &mut DbConn)
        .unwrap();
    details
        .iter()
        .filter(|d| d.as_deref().unwrap_or("").contains(&format!("\"{kind}\"")))
        .count()
}

#[tokio::test]
async fn a_nudge_carries_its_link_and_list_unsubscribe_header_and_one_click_turns_it_off() {
    let smtp = Smtp::start();
    let url = smtp.url();
    let app = spawn_app_with(|env| {
        env.insert("PARCOURS_SMTP_URL".into(), url);
    })
    .await;
    let org = app.create_organism("Cabinet Formation Sud");
    let cohort = app.create_cohort(org, "CQP-AM");
    let (_, alice) = signed_in(&app, Role::Trainee, Some(org), "alice@a.fr").await;
    let (_, bob) = signed_in(&app, Role::Trainee, Some(org), "bob@a.fr").await;
    app.enrol(org, cohort, alice);
    app.enrol(org, cohort, bob);
    let tera = templates();
    let mc = MailContext {
        templates: &tera,
        base_url: &app.address,
    };
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    let sent = engagement::nudges(&mut app.conn(), &mc, "a", today, 10).unwrap();
    assert_eq!(sent, Some(2));
    let (text, html, link) = optional_mail(&app, "nudge", "alice@a.fr");
    assert!(
        link.starts_with(&format!("{}/desabonnement/", app.address)),
        "{link}"
    );
    assert_ne!(link, optional_mail(&app, "nudge", "bob@a.fr").2);
    for body in [&text, &html] {
        assert!(
            body.contains(&link)
                && body.contains("Vous recevez ce rappel parce que")
                && body.contains("Organisme responsable : Cabinet Formation Sud"),
            "{body}"
        );
    }

    // The SMTP server receives the header of RFC 2369 and the one-click one of RFC 8058.
    let got = smtp.wait_for(2, 30).await;
    let to_alice = got
        .iter()
        .map(|m| m.replace("\r\n", "\n").replace("\n ", " "))
        .find(|m| m.contains("alice@a.fr"))
        .expect("the nudge to alice arrived");
    assert!(
        to_alice.contains(&format!("List-Unsubscribe: <{link}>")),
        "{to_alice}"
    );
    assert!(
        to_alice.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{to_alice}"
    );

    // A mail client's one-click POST: no session, no CSRF token, the token is the proof.
    let res = reqwest::Client::new()
        .post(&link)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(choice(&app, alice, "nudge"), Some(false));
    assert_eq!(choice(&app, bob, "nudge"), Some(true));
    assert_eq!(audited(&app, "unsubscribed", "nudge"), 1);
    // A tampered one changes nothing.
    let res = reqwest::Client::new()
        .post(format!("{link}x"))
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    // Eleven days later both would be nudged again: only Bob is.
    let later = today + chrono::Duration::days(11);
    let sent = engagement::nudges(&mut app.conn(), &mc, "a", later, 10).unwrap();
    assert_eq!(sent, Some(1));
    let to: Vec<String> = outbox::table
        .filter(outbox::kind.eq("nudge"))
        .select(outbox::recipients)
        .load(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert_eq!(to.iter().filter(|t| t.contains("alice@a.fr")).count(), 1);
    assert_eq!(to.iter().filter(|t| t.contains("bob@a.fr")).count(), 2);
}

fn run_followup(
    app: &TestApp,
    job: fn(
        &mut DbConn,
        &MailContext<'_>,
        chrono::NaiveDateTime,
    ) -> parcours::web::AppResult<usize>,
) -> usize {
    let tera = templates();
    let mc = MailContext {
        templates: &tera,
        base_url: &app.address,
    };
    // Every message and wait is older than the digests' grace.
    let past = parcours::db::now() - chrono::Duration::hours(1);
    diesel::update(followup_messages::table)
        .set(followup_messages::created_at.eq(past))
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();
    diesel::update(followup_threads::table.filter(followup_threads::waiting_since.is_not_null()))
        .set(followup_threads::waiting_since.eq(past))
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();
    job(&mut app.conn(), &mc, parcours::db::now()).unwrap()
}

/// Turns one optional mail on or off from `/mon-compte`, as the page's button does.
async fn toggle(app: &TestApp, c: &reqwest::Client, kind: &str, wanted: &str) -> reqwest::Response {
    let page = c.get_text(app, "/mon-compte").await;
    c.post_form_of(
        app,
        &page,
        "/mon-compte/courriels",
        &[("kind", kind), ("wanted", wanted)],
    )
    .await
}

#[tokio::test]
async fn the_follow_up_digests_carry_their_link_and_the_account_page_turns_them_off_and_on() {
    use parcours::followup::{digest, staff_digest};
    let app = spawn_app().await;
    let org = app.create_organism("Organisme Ouest");
    let (alice, alice_id) = app.trainee_in(org, "CQP-AM", "alice@a.fr").await;
    let (trainer, trainer_id) = signed_in(&app, Role::Trainer, Some(org), "formatrice@a.fr").await;
    let cohort = parcours::cohorts::store::active_cohort(&mut app.conn(), alice_id)
        .unwrap()
        .unwrap();
    parcours::cohorts::store::set_trainers(&mut app.conn(), cohort, &[trainer_id]).unwrap();

    // Each sees the optional mails of her role only, each on.
    let page = alice.get_text(&app, "/mon-compte").await;
    assert!(
        page.contains("des réponses de l&#x27;équipe pédagogique")
            || page.contains("des réponses de l'équipe pédagogique"),
        "{page}"
    );
    assert!(page.contains("depuis plusieurs jours"));
    assert!(
        !page.contains("progression de mes assistants")
            && !page.contains("questions des stagiaires")
    );
    assert!(!page.contains("non reçu"));
    let page = trainer.get_text(&app, "/mon-compte").await;
    assert!(page.contains("questions des stagiaires") && !page.contains("depuis plusieurs jours"));

    // Bad choices are refused in French and change nothing.
    for (kind, wanted, message) in [
        ("weekly_digest", "0", "ne vous est pas envoyé"),
        ("invitation", "0", "ne vous est pas envoyé"),
        (
            "followup_digest",
            "peut-être",
            "Choisissez de recevoir ou non",
        ),
    ] {
        let res = toggle(&app, &alice, kind, wanted).await;
        assert_eq!(res.status(), 422, "{kind}");
        assert!(res.text().await.unwrap().contains(message), "{kind}");
    }
    assert_eq!(choice(&app, alice_id, "followup_digest"), Some(true));
    assert_eq!(audited(&app, "mail_choice_set", "followup_digest"), 0);

    // A question waits: the trainer turned her digest off, so none goes; back on, it goes.
    let module_page = crate::followup::first_module(&alice, &app).await;
    let res = crate::followup::post_message(
        &alice,
        &app,
        &module_page,
        &module_page,
        &[
            ("kind", "question"),
            ("body", "Comment coder une consultation ?"),
        ],
        None,
    )
    .await;
    assert_eq!(res.status(), 303);
    let thread = crate::followup::thread_of(&crate::followup::location(&res));
    assert_eq!(
        toggle(&app, &trainer, "followup_staff_digest", "0")
            .await
            .status(),
        303
    );
    assert_eq!(
        choice(&app, trainer_id, "followup_staff_digest"),
        Some(false)
    );
    let page = trainer.get_text(&app, "/mon-compte").await;
    assert!(
        page.contains("non reçu") && page.contains("Recevoir de nouveau"),
        "{page}"
    );
    assert_eq!(run_followup(&app, staff_digest::send_due), 0);
    assert_eq!(
        toggle(&app, &trainer, "followup_staff_digest", "1")
            .await
            .status(),
        303
    );
    assert_eq!(run_followup(&app, staff_digest::send_due), 1);
    assert_eq!(audited(&app, "mail_choice_set", "followup_staff_digest"), 2);
    let (text, html, link) = optional_mail(&app, "followup_staff_digest", "formatrice@a.fr");
    for body in [&text, &html] {
        assert!(
            body.contains(&link) && body.contains("Organisme responsable : Organisme Ouest"),
            "{body}"
        );
    }

    // The answer: Alice turned her digest off, so none goes; back on, it goes, with its link.
    let res = crate::followup::post_message(
        &trainer,
        &app,
        &format!("/suivi/{thread}"),
        &format!("/suivi/{thread}"),
        &[("kind", "reponse"), ("body", "Avec le code de l'acte.")],
        None,
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        toggle(&app, &alice, "followup_digest", "0").await.status(),
        303
    );
    assert_eq!(run_followup(&app, digest::send_due), 0);
    assert_eq!(
        toggle(&app, &alice, "followup_digest", "1").await.status(),
        303
    );
    assert_eq!(run_followup(&app, digest::send_due), 1);
    let (text, _, link) = optional_mail(&app, "followup_digest", "alice@a.fr");
    assert!(
        text.contains(&link)
            && text.contains("Vous recevez ce récapitulatif parce que")
            && text.contains("Organisme responsable : Organisme Ouest"),
        "{text}"
    );
    // Its link is hers: it turns her digest off, not the trainer's.
    let path = link.trim_start_matches(&app.address).to_string();
    let stranger = client();
    let page = stranger.get_text(&app, &path).await;
    assert!(
        page.contains("Ne plus recevoir le récapitulatif des réponses"),
        "{page}"
    );
    let res = stranger.post_form_of(&app, &page, &path, NO_FIELDS).await;
    assert_eq!(res.status(), 200);
    assert_eq!(choice(&app, alice_id, "followup_digest"), Some(false));
    assert_eq!(
        choice(&app, trainer_id, "followup_staff_digest"),
        Some(true)
    );
}
