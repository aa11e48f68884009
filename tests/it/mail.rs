//! Mail: outbox, SMTP delivery, outages, several instances, invitations and resets.

use std::collections::HashSet;

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::schema::{outbox, users};

use crate::common::*;

fn outbox_rows(app: &TestApp) -> Vec<(String, i32)> {
    let mut conn = app.conn();
    outbox::table
        .order(outbox::id.asc())
        .select((outbox::status, outbox::attempts))
        .load(&mut *conn)
        .unwrap()
}

async fn invite(
    app: &TestApp,
    c: &reqwest::Client,
    org: i64,
    email: &str,
    name: &str,
    role: &str,
) -> reqwest::Response {
    c.post_form(
        app,
        &format!("/organismes/{org}/invitations"),
        &[("email", email), ("name", name), ("role", role)],
    )
    .await
}

#[tokio::test]
async fn an_invitation_arrives_by_smtp_and_its_link_works_once() {
    let smtp = Smtp::start();
    let url = smtp.url();
    let app = spawn_app_with(|env| {
        env.insert("PARCOURS_SMTP_URL".into(), url);
        env.insert(
            "PARCOURS_BASE_URL".into(),
            "https://parcours.exemple.fr".into(),
        );
    })
    .await;
    let org = app.create_organism("Institut Santé Plus");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@isp.fr").await;
    let res = invite(
        &app,
        &chef,
        org,
        "Lea.Roux@Exemple.fr",
        "Léa Roux",
        "trainer",
    )
    .await;
    assert_eq!(res.status(), 303);
    let page = chef
        .get(app.url(res.headers()["location"].to_str().unwrap()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Invitation envoyée à lea.roux@exemple.fr."));

    let mails = smtp.wait_for(1, 20).await;
    assert_eq!(mails.len(), 1);
    let raw = &mails[0];
    assert!(
        raw.contains("To: =?utf-8?b?") || raw.contains("To: \"L"),
        "{raw}"
    );
    assert!(raw.contains("<lea.roux@exemple.fr>"), "{raw}");
    assert!(raw.contains("Message-ID: <parcours."), "{raw}");
    assert!(raw.contains("@parcours.exemple.fr>"), "{raw}");
    assert!(raw.contains("multipart/alternative"), "both parts");
    let text = mail_text(raw);
    assert!(
        text.contains("Institut Santé Plus vous invite sur Parcours"),
        "{text}"
    );
    assert!(text.contains("Bonjour Léa Roux"), "{text}");
    assert!(text.contains("en tant que : Formateur"), "{text}");
    assert!(
        text.contains("<a href=\"https://parcours.exemple.fr/invitation/"),
        "html part"
    );
    let link = link_in(&text, "https://parcours.exemple.fr/invitation/");
    let path = link.trim_start_matches("https://parcours.exemple.fr");

    // The invited person chooses a password and is signed in.
    let c = client();
    let form = c.get(app.url(path)).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let html = form.text().await.unwrap();
    assert!(html.contains("Bienvenue Léa Roux"));
    let short = c
        .post_form_of(
            &app,
            &html,
            path,
            &[("password", "court"), ("password_confirm", "court")],
        )
        .await;
    assert_eq!(short.status(), 422);
    assert!(
        short
            .text()
            .await
            .unwrap()
            .contains("au moins 10 caractères")
    );
    let ok = c
        .post_form_of(
            &app,
            &html,
            path,
            &[
                ("password", "un-mot-de-passe-neuf"),
                ("password_confirm", "un-mot-de-passe-neuf"),
            ],
        )
        .await;
    assert_eq!(ok.status(), 303);
    let home = c
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("Bonjour Léa Roux"));
    // Twice: a clear page, and nothing changes.
    let again = client().get(app.url(path)).send().await.unwrap();
    assert_eq!(again.status(), 410);
    assert!(again.text().await.unwrap().contains("déjà été utilisé"));
    let c2 = client();
    let res = c2
        .post_form(
            &app,
            path,
            &[
                ("password", "autre-mot-de-passe"),
                ("password_confirm", "autre-mot-de-passe"),
            ],
        )
        .await;
    assert_eq!(res.status(), 410);
    assert_eq!(
        login(
            &app,
            &client(),
            "lea.roux@exemple.fr",
            "un-mot-de-passe-neuf"
        )
        .await
        .status(),
        303
    );
    assert!(
        app.audit_actions("lea.roux@exemple.fr")
            .contains(&"invitation_accepted".to_string())
    );
}

#[tokio::test]
async fn an_expired_invitation_shows_a_clear_page() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    assert_eq!(
        invite(&app, &chef, org, "tard@a.fr", "Tom Tard", "trainer")
            .await
            .status(),
        303
    );
    // No SMTP configured: the message is written as a file under data/mail/.
    let dir = app.dir.path().join("mail");
    let mut eml = None;
    for _ in 0..100 {
        eml = std::fs::read_dir(&dir)
            .ok()
            .and_then(|mut d| d.next())
            .and_then(|e| e.ok())
            .map(|e| std::fs::read_to_string(e.path()).unwrap());
        if eml.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let text = mail_text(&eml.expect(".eml written in data/mail"));
    let link = link_in(&text, &app.url("/invitation/"));
    let path = link.trim_start_matches(app.address.as_str());
    {
        use parcours::db::schema::invitations;
        let mut conn = app.conn();
        diesel::update(invitations::table)
            .set(invitations::expires_at.eq(parcours::db::now() - chrono::Duration::minutes(1)))
            .execute(&mut *conn)
            .unwrap();
    }
    let res = client().get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 410);
    let html = res.text().await.unwrap();
    assert!(html.contains("Ce lien a expiré le"), "{html}");
    assert!(html.contains("vous inviter à nouveau"));
    let res = client()
        .get(app.url("/invitation/inventé"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn bad_invitations_are_refused_and_queue_nothing() {
    let app = spawn_app().await;
    let a = app.create_organism("Organisme A");
    let b = app.create_organism("Organisme B");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(a), "chef@a.fr").await;
    let (trainer, _) = signed_in(&app, Role::Trainer, Some(a), "formateur@a.fr").await;
    let users_before: i64 = users::table.count().get_result(&mut *app.conn()).unwrap();

    let res = invite(&app, &chef, a, "pas-une-adresse", "Jean", "trainer").await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("L&#x27;adresse e-mail doit contenir un @.")
    );
    let res = invite(
        &app,
        &chef,
        a,
        "x@a.fr",
        "x\r\nBcc: espion@exemple.org",
        "trainer",
    )
    .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("caractères non autorisés")
    );
    let res = invite(
        &app,
        &chef,
        a,
        "x@a.fr\r\nBcc: espion@exemple.org",
        "Jean",
        "trainer",
    )
    .await;
    assert_eq!(res.status(), 422);
    // A person already with an account, an admin role, a trainer inviting, another organism.
    let res = invite(&app, &chef, a, "formateur@a.fr", "Doublon", "trainer").await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("Un compte existe déjà"));
    let res = invite(&app, &chef, a, "y@a.fr", "Y", "admin").await;
    assert_eq!(res.status(), 422);
    let res = invite(&app, &trainer, a, "y@a.fr", "Y", "trainee").await;
    assert_eq!(res.status(), 403);
    let res = chef
        .post_form(
            &app,
            &format!("/organismes/{b}/invitations"),
            &[("email", "z@b.fr"), ("name", "Z"), ("role", "trainer")],
        )
        .await;
    assert_eq!(res.status(), 403);

    assert!(outbox_rows(&app).is_empty(), "nothing queued");
    let users_after: i64 = users::table.count().get_result(&mut *app.conn()).unwrap();
    assert_eq!(users_before, users_after, "nobody created");
}

#[tokio::test]
async fn the_mail_test_command_refuses_a_long_subject_and_reports_delivery() {
    let smtp = Smtp::start();
    let app = spawn_app().await;
    let bin = env!("CARGO_BIN_EXE_parcours");
    let run = |subject: &str| {
        std::process::Command::new(bin)
            .args([
                "mail",
                "test",
                "--to",
                "essai@exemple.fr",
                "--subject",
                subject,
            ])
            .env("DATABASE_URL", &app.database_url)
            .env("PARCOURS_DATA_DIR", app.dir.path())
            .env("PARCOURS_SMTP_URL", smtp.url())
            .output()
            .unwrap()
    };
    let out = run(&"Objet ".repeat(40));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("dépasse 150 caractères"));
    assert!(outbox_rows(&app).is_empty());
    let out = run("Essai d'envoi");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("via SMTP 127.0.0.1:{}", smtp.port))
    );
    let mails = smtp.wait_for(1, 5).await;
    assert!(mail_text(&mails[0]).contains("Subject: Essai d'envoi"));
}

#[tokio::test]
async fn mail_queued_during_an_outage_arrives_once_after_it_even_across_a_restart() {
    let mut smtp = Smtp::start();
    smtp.stop();
    let dir = tempfile::tempdir().unwrap();
    let (database_url, pg) = match pg_base() {
        Some(server) => {
            let (url, name) = create_pg_database(&server);
            (url, Some((server, name)))
        }
        None => (format!("sqlite://{}/p.db", dir.path().display()), None),
    };
    let mut env = base_env(dir.path(), &database_url);
    env.insert("PARCOURS_SMTP_URL".into(), smtp.url());
    let first = Server::start(&env);
    let app_pool = parcours::db::connect(&database_url, 2).unwrap().0;
    let setup = Db {
        pool: app_pool.clone(),
    };
    let org = setup.create_organism("Organisme A");
    setup.create_user(
        Role::OrganismAdmin,
        Some(org),
        "chef@a.fr",
        "mot-de-passe-solide",
    );
    let chef = client();
    let res = chef
        .post_form(
            &first,
            "/connexion",
            &[("email", "chef@a.fr"), ("password", "mot-de-passe-solide")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = chef
        .post_form(
            &first,
            &format!("/organismes/{org}/invitations"),
            &[
                ("email", "panne@a.fr"),
                ("name", "Paul Panne"),
                ("role", "trainer"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    // The worker tries, fails, and schedules a retry with the reason.
    let mut row = (String::new(), 0, None::<String>);
    for _ in 0..100 {
        let mut c = app_pool.get().unwrap();
        row = outbox::table
            .select((outbox::status, outbox::attempts, outbox::last_error))
            .first(&mut *c)
            .unwrap();
        if row.1 >= 1 && row.0 == "pending" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(row.0, "pending", "{row:?}");
    assert!(row.1 >= 1);
    assert!(
        row.2.as_deref().unwrap_or_default().contains("SMTP"),
        "{row:?}"
    );
    // The server dies between attempts; SMTP comes back; a new server sends it once.
    first.kill();
    smtp.resume();
    let second = Server::start(&env);
    let mails = smtp.wait_for(1, 30).await;
    assert_eq!(mails.len(), 1);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(smtp.messages().len(), 1, "exactly once");
    assert!(mail_text(&mails[0]).contains("Bonjour Paul Panne"));
    let status: String = outbox::table
        .select(outbox::status)
        .first(&mut *app_pool.get().unwrap())
        .unwrap();
    assert_eq!(status, "sent");
    drop(second);
    drop(app_pool);
    if let Some((server, name)) = pg {
        drop_pg_database(&server, &name);
    }
}

#[tokio::test]
async fn two_instances_deliver_two_hundred_messages_exactly_once() {
    let smtp = Smtp::start();
    let dir = tempfile::tempdir().unwrap();
    let (database_url, pg) = match pg_base() {
        Some(server) => {
            let (url, name) = create_pg_database(&server);
            (url, Some((server, name)))
        }
        None => (format!("sqlite://{}/p.db", dir.path().display()), None),
    };
    let mut env = base_env(dir.path(), &database_url);
    env.insert("PARCOURS_SMTP_URL".into(), smtp.url());
    env.insert("PARCOURS_MAIL_WORKER".into(), "false".into());
    // Migrate and queue 200 messages before the instances start.
    drop(Server::start(&env));
    let pool = parcours::db::connect(&database_url, 2).unwrap().0;
    {
        let mut c = pool.get().unwrap();
        for i in 0..200 {
            let mail = parcours::mail::Mail::new(
                "test",
                vec![parcours::mail::Recipient {
                    name: None,
                    email: format!("p{i}@exemple.fr"),
                }],
                &format!("Message {i}"),
                format!("Corps {i}"),
                Some(format!("<p>Corps {i}</p>")),
                vec![],
            )
            .unwrap();
            parcours::mail::outbox::enqueue(&mut c, None, "test", &mail, "exemple.fr").unwrap();
        }
    }
    env.insert("PARCOURS_MAIL_WORKER".into(), "true".into());
    let started = std::time::Instant::now();
    let a = Server::start(&env);
    let b = Server::start(&env);
    let mails = smtp.wait_for(200, 120).await;
    let took = started.elapsed();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let mails_after = smtp.messages();
    assert_eq!(mails.len(), 200);
    assert_eq!(mails_after.len(), 200, "no message twice");
    let ids: HashSet<String> = mails_after
        .iter()
        .map(|m| {
            m.lines()
                .find(|l| l.starts_with("Message-ID:"))
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids.len(), 200);
    let sent: i64 = outbox::table
        .filter(outbox::status.eq("sent"))
        .count()
        .get_result(&mut *pool.get().unwrap())
        .unwrap();
    assert_eq!(sent, 200);
    println!(
        "two instances delivered 200 messages in {:.2} s ({:.0} messages/s)",
        took.as_secs_f64(),
        200.0 / took.as_secs_f64()
    );
    drop((a, b, pool));
    if let Some((server, name)) = pg {
        drop_pg_database(&server, &name);
    }
}

#[tokio::test]
async fn password_reset_does_not_reveal_accounts_and_works_once() {
    let smtp = Smtp::start();
    let url = smtp.url();
    let app = spawn_app_with(|env| {
        env.insert("PARCOURS_SMTP_URL".into(), url);
    })
    .await;
    app.create_user(Role::Doctor, None, "dr@exemple.fr", "ancien-mot-de-passe");
    let c = client();
    let mut pages = vec![];
    for email in ["dr@exemple.fr", "personne@exemple.fr"] {
        let t = csrf_from(&c, &app.url("/mot-de-passe-oublie")).await;
        let res = c
            .post(app.url("/mot-de-passe-oublie"))
            .form(&[("csrf_token", t.as_str()), ("email", email)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        pages.push(res.text().await.unwrap().replace(&t, ""));
    }
    assert!(pages[0].contains("Si un compte existe pour cette adresse"));
    assert_eq!(
        pages[0], pages[1],
        "same answer whether the account exists or not"
    );
    let mails = smtp.wait_for(1, 20).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(smtp.messages().len(), 1, "only the real account gets mail");
    let text = mail_text(&mails[0]);
    assert!(text.contains("Réinitialiser votre mot de passe Parcours"));
    let link = link_in(&text, &app.url("/mot-de-passe/"));
    let path = link.trim_start_matches(app.address.as_str());
    let res = c
        .post_form_from(
            &app,
            path,
            path,
            &[
                ("password", "nouveau-mot-de-passe"),
                ("password_confirm", "nouveau-mot-de-passe"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        login(&app, &client(), "dr@exemple.fr", "ancien-mot-de-passe")
            .await
            .status(),
        401
    );
    assert_eq!(
        login(&app, &client(), "dr@exemple.fr", "nouveau-mot-de-passe")
            .await
            .status(),
        303
    );
    assert_eq!(
        client().get(app.url(path)).send().await.unwrap().status(),
        410
    );
}

#[tokio::test]
async fn staff_see_their_failed_mail_and_retry_it() {
    let mut smtp = Smtp::start();
    smtp.stop();
    let url = smtp.url();
    let app = spawn_app_with(|env| {
        env.insert("PARCOURS_SMTP_URL".into(), url);
        env.insert("PARCOURS_MAIL_MAX_ATTEMPTS".into(), "1".into());
    })
    .await;
    let a = app.create_organism("Organisme A");
    let b = app.create_organism("Organisme B");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(a), "chef@a.fr").await;
    let (chef_b, _) = signed_in(&app, Role::OrganismAdmin, Some(b), "chef@b.fr").await;
    assert_eq!(
        invite(&app, &chef, a, "echec@a.fr", "Eva Échec", "trainer")
            .await
            .status(),
        303
    );
    for _ in 0..100 {
        if outbox_rows(&app).first().is_some_and(|r| r.0 == "failed") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(outbox_rows(&app), [("failed".to_string(), 1)]);
    let page = chef
        .get(app.url(&format!("/organismes/{a}/courriels")))
        .send()
        .await
        .unwrap();
    let html = page.text().await.unwrap();
    assert!(
        html.contains("echec@a.fr") && html.contains("Échec") && html.contains("Renvoyer"),
        "{html}"
    );
    let id: i64 = outbox::table
        .select(outbox::id)
        .first(&mut *app.conn())
        .unwrap();
    // Another organism sees nothing and cannot retry it.
    assert_eq!(
        chef_b
            .get(app.url(&format!("/organismes/{a}/courriels")))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let res = chef_b
        .post_form(
            &app,
            &format!("/organismes/{b}/courriels/{id}/renvoyer"),
            NO_FIELDS,
        )
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(outbox_rows(&app)[0].0, "failed");
    smtp.resume();
    let res = chef
        .post_form_of(
            &app,
            &html,
            &format!("/organismes/{a}/courriels/{id}/renvoyer"),
            NO_FIELDS,
        )
        .await;
    assert_eq!(res.status(), 303);
    let mails = smtp.wait_for(1, 20).await;
    assert_eq!(mails.len(), 1);
    // The row is marked once the SMTP server has answered: wait for that commit.
    for _ in 0..100 {
        if outbox_rows(&app)[0].0 == "sent" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(outbox_rows(&app)[0].0, "sent");
}
