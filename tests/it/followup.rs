//! Pedagogical follow-up and technical assistance: threads between a trainee and her
//! organism's staff, read receipts, the daily digest of answers, and who may see what.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{audit_events, followup_messages, followup_threads, outbox, users};
use parcours::mail::MailContext;
use parcours::web::AppResult;
use reqwest::multipart::{Form, Part};

use crate::common::*;

type Fields<'a> = &'a [(&'a str, &'a str)];
type File<'a> = (&'a str, &'a [u8]);

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

pub(crate) async fn post_message(
    c: &reqwest::Client,
    app: &TestApp,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &[u8])>,
) -> reqwest::Response {
    let html = c.get_text(app, page).await;
    assert!(html.contains("csrf_token"), "{page}: {html}");
    c.post_multipart_of(app, &html, action, |mut form| {
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        if let Some((name, bytes)) = file {
            form = form.part(
                "file",
                Part::bytes(bytes.to_vec()).file_name(name.to_string()),
            );
        }
        form
    })
    .await
}

pub(crate) fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_string()
}

/// The id in "/suivi/12#dernier".
pub(crate) fn thread_of(location: &str) -> i64 {
    location
        .trim_start_matches("/suivi/")
        .trim_end_matches("#dernier")
        .parse()
        .unwrap()
}

/// The first module link of the trainee's follow-up page: (module id, page URL).
pub(crate) async fn first_module(c: &reqwest::Client, app: &TestApp) -> String {
    let html = c
        .get(app.url("/mon-suivi"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("M1 — "), "{html}");
    let start = html.find("/mon-suivi/modules/").unwrap();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_string()
}

async fn page(c: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

fn messages_count(app: &TestApp) -> i64 {
    let mut conn = app.conn();
    followup_messages::table
        .count()
        .get_result(&mut *conn as &mut DbConn)
        .unwrap()
}

/// Moves every message back in time, as if written `minutes` ago.
fn age_messages(app: &TestApp, minutes: i64) {
    let mut conn = app.conn();
    let at = parcours::db::now() - chrono::Duration::minutes(minutes);
    diesel::update(followup_messages::table)
        .set(followup_messages::created_at.eq(at))
        .execute(&mut *conn as &mut DbConn)
        .unwrap();
}

type DigestJob = fn(&mut DbConn, &MailContext<'_>, chrono::NaiveDateTime) -> AppResult<usize>;

/// Runs a digest job at `now` with the real mail templates; how many mails it queued.
fn run_digest(app: &TestApp, job: DigestJob, now: chrono::NaiveDateTime) -> usize {
    let tera = parcours::mail::load_templates(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"),
    )
    .unwrap();
    let mc = MailContext {
        templates: &tera,
        base_url: "https://parcours.exemple.fr",
    };
    job(&mut app.conn(), &mc, now).unwrap()
}

fn digest(app: &TestApp, now: chrono::NaiveDateTime) -> usize {
    run_digest(app, parcours::followup::digest::send_due, now)
}

#[tokio::test]
async fn a_question_with_work_is_answered_read_and_digested_once_a_day() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (trainee, trainee_id) = app.trainee_in(org, "CQP-AM", "alice@a.fr").await;
    let (trainer, _) = signed_in(&app, Role::Trainer, Some(org), "formateur@a.fr").await;
    let module_page = first_module(&trainee, &app).await;

    let res = post_message(
        &trainee,
        &app,
        &module_page,
        &module_page,
        &[
            ("kind", "travail"),
            ("body", "Voici ma fiche sur l'accueil.\nMerci de la relire."),
        ],
        Some(("fiche accueil.pdf", PDF)),
    )
    .await;
    assert_eq!(res.status(), 303);
    let thread = thread_of(&location(&res));
    // A second visit of the module goes to the same thread.
    let again = trainee.get(app.url(&module_page)).send().await.unwrap();
    assert_eq!(location(&again), format!("/suivi/{thread}"));

    let list = format!("/organismes/{org}/suivi");
    let (status, html) = page(&trainer, &app, &list).await;
    assert_eq!(status, 200);
    assert!(html.contains("Personne alice@a.fr"), "{html}");
    assert!(html.contains(">M1 — "), "module thread listed: {html}");
    assert!(html.contains(" min</strong>"), "waiting time shown");
    assert!(html.contains("non lu"));

    let (_, html) = page(&trainer, &app, &format!("/suivi/{thread}")).await;
    assert!(html.contains("Merci de la relire."));
    assert!(html.contains("Travail écrit"));
    assert!(html.contains("fiche accueil.pdf"));
    assert!(
        html.contains("en attente d&#x27;une réponse depuis")
            || html.contains("en attente d'une réponse depuis")
    );
    let start = html.find("/suivi/pieces/").unwrap();
    let end = html[start..].find('"').unwrap() + start;
    let file_url = html[start..end].to_string();
    let got = trainer.get(app.url(&file_url)).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().as_ref(), PDF);

    let res = post_message(
        &trainer,
        &app,
        &format!("/suivi/{thread}"),
        &format!("/suivi/{thread}"),
        &[
            ("kind", "retour"),
            ("body", "Très bien : pensez à la confidentialité."),
        ],
        None,
    )
    .await;
    assert_eq!(res.status(), 303);
    let (_, html) = page(&trainer, &app, &list).await;
    assert!(html.contains("Aucune question en attente"), "{html}");
    let (_, html) = page(&trainer, &app, &format!("{list}?filtre=tous")).await;
    assert!(html.contains("répondu"));

    // Not read yet and written 15 minutes ago: today's digest carries it, once.
    age_messages(&app, 15);
    let now = parcours::db::now();
    assert_eq!(digest(&app, now), 1);
    assert_eq!(digest(&app, now), 0, "one digest a day");
    {
        let mut conn = app.conn();
        let (subject, body, to): (String, String, String) = outbox::table
            .filter(outbox::kind.eq("followup_digest"))
            .select((outbox::subject, outbox::body_text, outbox::recipients))
            .first(&mut *conn as &mut DbConn)
            .unwrap();
        assert_eq!(subject, "Votre formateur vous a répondu sur Parcours");
        assert!(to.contains("alice@a.fr"));
        assert!(body.contains("pensez à la confidentialité"), "{body}");
        assert!(body.contains(&format!("/suivi/{thread}")), "{body}");
    }

    // The trainee reads: receipts on both sides, nothing left for tomorrow's digest.
    let (_, html) = page(&trainee, &app, &format!("/suivi/{thread}")).await;
    assert!(html.contains("Retour sur le travail"));
    assert!(html.contains("Lu par Personne formateur@a.fr"), "{html}");
    let (_, html) = page(&trainer, &app, &format!("/suivi/{thread}")).await;
    assert!(html.contains("Lu par Personne alice@a.fr"), "{html}");
    assert!(html.contains("Dernière lecture par Personne alice@a.fr le "));
    let tomorrow = now + chrono::Duration::days(1);
    assert_eq!(digest(&app, tomorrow), 0, "already read");

    // A new answer, unread: tomorrow's digest has it alone.
    post_message(
        &trainer,
        &app,
        &format!("/suivi/{thread}"),
        &format!("/suivi/{thread}"),
        &[("kind", "reponse"), ("body", "Autre précision.")],
        None,
    )
    .await;
    assert_eq!(digest(&app, now), 0, "too recent, and today's went");
    age_messages(&app, 15);
    assert_eq!(digest(&app, tomorrow), 1);

    let mut conn = app.conn();
    let audited: i64 = audit_events::table
        .filter(audit_events::action.eq("followup.message"))
        .filter(audit_events::subject_id.eq(thread))
        .count()
        .get_result(&mut *conn as &mut DbConn)
        .unwrap();
    assert_eq!(audited, 3);
    let owner: i64 = followup_threads::table
        .find(thread)
        .select(followup_threads::trainee_id)
        .first(&mut *conn as &mut DbConn)
        .unwrap();
    assert_eq!(owner, trainee_id);
}

#[tokio::test]
async fn threads_are_seen_by_the_trainee_and_her_organism_only() {
    let app = spawn_app().await;
    let (a, b) = (app.create_organism("A"), app.create_organism("B"));
    let (alice, _) = app.trainee_in(a, "CQP-AM", "alice@a.fr").await;
    let (bob, _) = app.trainee_in(a, "CQP-AM", "bob@a.fr").await;
    let (trainer_b, _) = signed_in(&app, Role::Trainer, Some(b), "formateur@b.fr").await;
    let (doctor, _) = signed_in(&app, Role::Doctor, None, "dr@med.fr").await;
    let (admin, _) = signed_in(&app, Role::Admin, None, "root@plateforme.fr").await;
    let module_page = first_module(&alice, &app).await;
    let res = post_message(
        &alice,
        &app,
        &module_page,
        &module_page,
        &[("kind", "question"), ("body", "Question privée")],
        Some(("scan.pdf", PDF)),
    )
    .await;
    let thread = format!("/suivi/{}", thread_of(&location(&res)));
    let (_, html) = page(&alice, &app, &thread).await;
    let start = html.find("/suivi/pieces/").unwrap();
    let end = html[start..].find('"').unwrap() + start;
    let file = html[start..end].to_string();

    for (who, c, expected) in [
        ("another trainee", &bob, 404),
        ("another organism's trainer", &trainer_b, 404),
        ("a doctor", &doctor, 404),
        ("the platform admin", &admin, 403),
    ] {
        let (status, body) = page(c, &app, &thread).await;
        assert_eq!(status, expected, "{who} reads the thread");
        assert!(!body.contains("Question privée"), "{who}");
        assert_eq!(page(c, &app, &file).await.0, expected, "{who} downloads");
    }
    assert_eq!(
        page(&trainer_b, &app, &format!("/organismes/{a}/suivi"))
            .await
            .0,
        403
    );
    assert_eq!(
        page(&bob, &app, &format!("/organismes/{a}/suivi")).await.0,
        403
    );

    // Bob cannot post in Alice's thread, even with a valid token of his own.
    let before = messages_count(&app);
    let res = post_message(
        &bob,
        &app,
        "/mon-suivi",
        &thread,
        &[("kind", "question"), ("body", "Intrusion")],
        None,
    )
    .await;
    assert_eq!(res.status(), 404);
    assert_eq!(messages_count(&app), before);
}

#[tokio::test]
async fn bad_messages_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (alice, _) = app.trainee_in(org, "CQP-AM", "alice@a.fr").await;
    let module_page = first_module(&alice, &app).await;
    let cases: [(Fields, Option<File>, &str); 4] = [
        (
            &[("kind", "question"), ("body", "   ")],
            None,
            "Le message est vide.",
        ),
        (
            &[("kind", "reponse"), ("body", "Je me réponds")],
            None,
            "Type de message non accepté ici",
        ),
        (
            &[("kind", "travail"), ("body", "Mon travail")],
            Some(("travail.pdf", b"MZ\x90\x00 not a pdf")),
            "ni un PDF",
        ),
        (
            &[("kind", "question"), ("body", "Pièce")],
            Some(("../../etc/passwd", PDF)),
            "nom du fichier",
        ),
    ];
    for (fields, file, message) in cases {
        let res = post_message(&alice, &app, &module_page, &module_page, fields, file).await;
        assert_eq!(res.status(), 422, "{message}");
        let html = res.text().await.unwrap();
        assert!(
            html.contains(message) || html.contains(&message.replace('\'', "&#x27;")),
            "{message}: {html}"
        );
    }
    let too_long = "a".repeat(5001);
    let res = post_message(
        &alice,
        &app,
        &module_page,
        &module_page,
        &[("kind", "question"), ("body", &too_long)],
        None,
    )
    .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("5001 caractères"));

    // Without a CSRF token: refused before anything is read.
    let form = Form::new()
        .text("kind", "question")
        .text("body", "Sans jeton");
    let res = alice
        .post(app.url(&module_page))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // A module that is not in her programme.
    assert_eq!(page(&alice, &app, "/mon-suivi/modules/999999").await.0, 404);

    let mut conn = app.conn();
    let threads: i64 = followup_threads::table
        .count()
        .get_result(&mut *conn as &mut DbConn)
        .unwrap();
    assert_eq!((threads, messages_count(&app)), (0, 0));
}

#[tokio::test]
async fn a_help_request_reaches_the_organism_staff() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (alice, _) = app.trainee_in(org, "FAE-AM", "alice@a.fr").await;
    let (admin, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "admin@a.fr").await;
    let res = post_message(
        &alice,
        &app,
        "/aide",
        "/aide",
        &[("subject", "  "), ("body", "La vidéo ne se lance pas")],
        None,
    )
    .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Indiquez l&#x27;objet") || html.contains("Indiquez l'objet"));
    assert!(
        html.contains("La vidéo ne se lance pas"),
        "the draft is kept"
    );
    assert_eq!(messages_count(&app), 0);

    let res = post_message(
        &alice,
        &app,
        "/aide",
        "/aide",
        &[
            ("subject", "Lecture de la leçon"),
            ("body", "La page reste blanche sur mon téléphone."),
        ],
        None,
    )
    .await;
    assert_eq!(res.status(), 303);
    let thread = thread_of(&location(&res));
    let (_, html) = page(&admin, &app, &format!("/organismes/{org}/suivi")).await;
    assert!(html.contains("Assistance — Lecture de la leçon"), "{html}");
    let res = post_message(
        &admin,
        &app,
        &format!("/suivi/{thread}"),
        &format!("/suivi/{thread}"),
        &[
            ("kind", "reponse"),
            ("body", "Videz le cache du navigateur, puis rechargez."),
        ],
        None,
    )
    .await;
    assert_eq!(res.status(), 303);
    let (_, html) = page(&alice, &app, "/mon-suivi").await;
    assert!(html.contains("Lecture de la leçon"));
    assert!(html.contains("nouveau message"));
    let (_, html) = page(&alice, &app, &format!("/suivi/{thread}")).await;
    assert!(html.contains("Videz le cache du navigateur"));
    assert!(html.contains("Assistance technique"));
}

#[tokio::test]
async fn help_and_lists_refuse_what_is_not_the_readers() {
    let app = spawn_app().await;
    let (a, b) = (app.create_organism("A"), app.create_organism("B"));
    let other_cohort = app.create_cohort(b, "CQP-AM");
    let (trainer, _) = signed_in(&app, Role::Trainer, Some(a), "formateur@a.fr").await;
    // A trainee in no cohort is told so, and nothing is created.
    let (alone, _) = signed_in(&app, Role::Trainee, Some(a), "seule@a.fr").await;
    let (_, html) = page(&alone, &app, "/aide").await;
    assert!(html.contains("aucune promotion"), "{html}");
    let res = post_message(
        &alone,
        &app,
        "/connexion",
        "/aide",
        &[("subject", "Connexion"), ("body", "Je ne vois rien")],
        None,
    )
    .await;
    assert_eq!(res.status(), 422);
    assert_eq!(messages_count(&app), 0);
    // Another organism's cohort in the staff list's filter, or a filter that is not a number.
    let list = format!("/organismes/{a}/suivi?promotion={other_cohort}");
    assert_eq!(page(&trainer, &app, &list).await.0, 404);
    let bad = format!("/organismes/{a}/suivi?promotion=abc");
    assert_eq!(page(&trainer, &app, &bad).await.0, 422);
}

/// Every waiting thread as if its question came `minutes` ago.
fn age_waits(app: &TestApp, minutes: i64) {
    let at = parcours::db::now() - chrono::Duration::minutes(minutes);
    diesel::update(followup_threads::table.filter(followup_threads::waiting_since.is_not_null()))
        .set(followup_threads::waiting_since.eq(at))
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();
}

fn staff_digest(app: &TestApp, now: chrono::NaiveDateTime) -> usize {
    run_digest(app, parcours::followup::staff_digest::send_due, now)
}

/// (recipients, text) of the staff digests queued so far, oldest first.
fn staff_mails(app: &TestApp) -> Vec<(String, String)> {
    outbox::table
        .filter(outbox::kind.eq("followup_staff_digest"))
        .order(outbox::id.asc())
        .select((outbox::recipients, outbox::body_text))
        .load(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

#[tokio::test]
async fn the_cohort_trainers_hear_of_a_waiting_question_once_and_admins_of_help_requests() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let other = app.create_organism("Organisme B");
    let (alice, alice_id) = app.trainee_in(org, "CQP-AM", "alice@a.fr").await;
    let own = app.create_user(
        Role::Trainer,
        Some(org),
        "formatrice@a.fr",
        "mot-de-passe-solide",
    );
    app.create_user(
        Role::Trainer,
        Some(org),
        "autre@a.fr",
        "mot-de-passe-solide",
    );
    app.create_user(
        Role::OrganismAdmin,
        Some(org),
        "admin@a.fr",
        "mot-de-passe-solide",
    );
    app.create_user(
        Role::OrganismAdmin,
        Some(other),
        "admin@b.fr",
        "mot-de-passe-solide",
    );
    let cohort = parcours::cohorts::store::active_cohort(&mut app.conn(), alice_id)
        .unwrap()
        .unwrap();
    parcours::cohorts::store::set_trainers(&mut app.conn(), cohort, &[own]).unwrap();
    let module_page = first_module(&alice, &app).await;
    let res = post_message(
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
    let thread = thread_of(&location(&res));
    let now = parcours::db::now();
    assert_eq!(
        staff_digest(&app, now),
        0,
        "a question of a minute ago can still be answered"
    );
    age_waits(&app, 45);
    let now = parcours::db::now();
    assert_eq!(staff_digest(&app, now), 1);
    assert_eq!(staff_digest(&app, now), 0, "one a day");
    let mails = staff_mails(&app);
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].0.contains("formatrice@a.fr"),
        "the cohort's trainer only: {mails:?}"
    );
    assert!(
        mails[0].1.contains("Question de Personne alice@a.fr"),
        "{}",
        mails[0].1
    );
    assert!(
        mails[0].1.contains("en attente depuis 45 min"),
        "{}",
        mails[0].1
    );
    assert!(mails[0].1.contains(&format!("/suivi/{thread}")));
    assert!(mails[0].1.contains(&format!("/organismes/{org}/suivi")));
    // Still waiting tomorrow, but already named: no second mail for it.
    let tomorrow = now + chrono::Duration::days(1);
    assert_eq!(staff_digest(&app, tomorrow), 0);

    // A help request goes to the organism's admins, not to trainers nor to organism B.
    let res = post_message(
        &alice,
        &app,
        "/aide",
        "/aide",
        &[("subject", "Vidéo"), ("body", "La vidéo ne se lance pas")],
        None,
    )
    .await;
    assert_eq!(res.status(), 303);
    age_waits(&app, 40);
    assert_eq!(staff_digest(&app, tomorrow), 1);
    let mails = staff_mails(&app);
    assert_eq!(mails.len(), 2);
    assert!(mails[1].0.contains("admin@a.fr"), "{mails:?}");
    assert!(!mails[1].0.contains("admin@b.fr") && !mails[1].0.contains("formatrice"));
    assert!(
        mails[1]
            .1
            .contains("Demande d'aide de Personne alice@a.fr (Vidéo)"),
        "{}",
        mails[1].1
    );
    assert!(
        !mails[1].1.contains("Comment coder"),
        "the module question went to its trainer"
    );

    // Answered, a thread is no longer waiting: nothing to say about it.
    let trainer = client();
    let res = login(&app, &trainer, "formatrice@a.fr", "mot-de-passe-solide").await;
    assert_eq!(res.status(), 303);
    let res = post_message(
        &trainer,
        &app,
        &format!("/suivi/{thread}"),
        &format!("/suivi/{thread}"),
        &[("kind", "reponse"), ("body", "Avec la nomenclature.")],
        None,
    )
    .await;
    assert_eq!(res.status(), 303);
    let waiting: Option<chrono::NaiveDateTime> = followup_threads::table
        .find(thread)
        .select(followup_threads::waiting_since)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert_eq!(waiting, None);
    assert_eq!(staff_digest(&app, tomorrow + chrono::Duration::days(1)), 0);

    // Her trainer's account is disabled: the next question goes to the admins.
    diesel::update(users::table.filter(users::email.eq("formatrice@a.fr")))
        .set(users::disabled.eq(true))
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let res = post_message(
        &alice,
        &app,
        &format!("/suivi/{thread}"),
        &format!("/suivi/{thread}"),
        &[("kind", "question"), ("body", "Et pour un enfant ?")],
        None,
    )
    .await;
    assert_eq!(res.status(), 303);
    age_waits(&app, 40);
    assert_eq!(staff_digest(&app, tomorrow + chrono::Duration::days(2)), 1);
    let mails = staff_mails(&app);
    assert_eq!(mails.len(), 3);
    assert!(mails[2].0.contains("admin@a.fr"), "{mails:?}");
    assert!(mails[2].1.contains("Question de Personne alice@a.fr"));
    assert!(
        !mails[2].1.contains("Vidéo"),
        "the help request was named already"
    );
}

#[tokio::test]
async fn attachments_past_the_trainee_quota_are_refused_and_nothing_is_kept() {
    let app = spawn_app_with(|env| {
        env.insert("PARCOURS_QUOTA_TRAINEE_MB".into(), "1".into());
    })
    .await;
    let org = app.create_organism("Organisme A");
    let (alice, _) = app.trainee_in(org, "CQP-AM", "alice@a.fr").await;
    let (staff, _) = signed_in(&app, Role::Trainer, Some(org), "formateur@a.fr").await;
    let pdf = |tag: u8| {
        let mut v = PDF.to_vec();
        v.extend(std::iter::repeat_n(tag, 700 * 1024));
        v
    };
    let kept = || app.kept_uploads().len();
    let module_page = first_module(&alice, &app).await;
    let work = [("kind", "travail"), ("body", "Mon travail")];
    let first = pdf(b'a');
    let res = post_message(
        &alice,
        &app,
        &module_page,
        &module_page,
        &work,
        Some(("t1.pdf", &first)),
    )
    .await;
    assert_eq!(res.status(), 303);
    let thread = location(&res).trim_end_matches("#dernier").to_string();
    assert_eq!(kept(), 1);

    // 700 KB more would pass her 1 MB: refused with the draft typed back, nothing kept.
    let second = pdf(b'b');
    let again = [("kind", "travail"), ("body", "Mon second travail")];
    let res = post_message(
        &alice,
        &app,
        &thread,
        &thread,
        &again,
        Some(("t2.pdf", &second)),
    )
    .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("suivi est plein"), "{html}");
    assert!(html.contains("Mon second travail"), "{html}");
    // Her help requests and her trainer's answers on her threads use the same space.
    let help = [("subject", "Souci"), ("body", "Voici une capture")];
    let res = post_message(
        &alice,
        &app,
        "/aide",
        "/aide",
        &help,
        Some(("c.pdf", &second)),
    )
    .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("suivi est plein"));
    let answer = [("kind", "reponse"), ("body", "Corrigé joint")];
    let res = post_message(
        &staff,
        &app,
        &thread,
        &thread,
        &answer,
        Some(("corrige.pdf", &second)),
    )
    .await;
    assert_eq!(res.status(), 422);
    assert_eq!(messages_count(&app), 1);
    assert_eq!(kept(), 1);
    // Without the file, the message goes.
    let res = post_message(&staff, &app, &thread, &thread, &answer, None).await;
    assert_eq!(res.status(), 303);
    assert_eq!(messages_count(&app), 2);
}
