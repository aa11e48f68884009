//! Issue #20 item 5: mail that does not arrive. A permanent SMTP refusal fails a message at
//! once; delivery-status notifications read from the bounce Maildir mark an address as
//! bouncing, which staff see on the trainee's file, and later mails to it are not sent.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{audit_events, outbox};
use parcours::mail::MailContext;
use parcours::mail::bounces::{Reading, read_maildir};

use crate::common::*;

const DSN: &str = include_str!("../assets/dsn-postfix-550.eml");
const DSN_MESSAGE_ID: &str = "<parcours.42.1796630400000000@parcours.example>";
const DSN_RECIPIENT: &str = "dr.martin@cabinet-exemple.fr";

fn rows(app: &Db) -> Vec<(i64, String, i32, Option<String>, String)> {
    outbox::table
        .order(outbox::id.asc())
        .select((
            outbox::id,
            outbox::status,
            outbox::attempts,
            outbox::last_error,
            outbox::message_id,
        ))
        .load(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

async fn settled(app: &Db, n: usize) -> Vec<(i64, String, i32, Option<String>, String)> {
    for _ in 0..200 {
        let r = rows(app);
        if r.len() >= n && r.iter().all(|r| r.1 == "sent" || r.1 == "failed") {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("outbox not settled: {:?}", rows(app));
}

#[tokio::test]
async fn bounce_a_permanent_smtp_refusal_fails_at_once_without_retries() {
    let smtp = Smtp::refusing("inconnu@exemple.fr");
    let url = smtp.url();
    // Ten attempts a second apart would be allowed for a temporary failure.
    let app = spawn_app_with(|env| {
        env.insert("PARCOURS_SMTP_URL".into(), url);
        env.insert("PARCOURS_MAIL_MAX_ATTEMPTS".into(), "10".into());
    })
    .await;
    let org = app.create_organism("Organisme A");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    for (email, name) in [
        ("inconnu@exemple.fr", "Ines Connue"),
        ("lea@exemple.fr", "Léa Roux"),
    ] {
        let res = chef
            .post_form(
                &app,
                &format!("/organismes/{org}/invitations"),
                &[("email", email), ("name", name), ("role", "trainer")],
            )
            .await;
        assert_eq!(res.status(), 303);
    }
    let r = settled(&app, 2).await;
    // Past the one-second backoff a retry would have happened: still exactly one attempt.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let r2 = rows(&app);
    assert_eq!(r, r2);
    assert_eq!((r[0].1.as_str(), r[0].2), ("failed", 1), "{r:?}");
    let error = r[0].3.clone().unwrap_or_default();
    assert!(
        error.contains("550") && error.contains("User unknown"),
        "{error}"
    );
    assert_eq!(
        (r[1].1.as_str(), r[1].2),
        ("sent", 1),
        "the other address is served"
    );
    assert_eq!(smtp.messages().len(), 1);
}

/// A Maildir as the mail server keeps it, with `new/` filled with these files.
fn maildir(files: &[(&str, String)]) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir(root.path().join(sub)).unwrap();
    }
    for (name, body) in files {
        std::fs::write(root.path().join("new").join(name), body).unwrap();
    }
    root
}

fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn bounce_report_marks_the_doctors_address_and_staff_see_it_on_the_file() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let cohort = app.create_cohort(org, "CQP-AM");
    let doctor = app.create_user(Role::Doctor, None, DSN_RECIPIENT, "mot-de-passe-solide");
    let (_, trainee) = signed_in(&app, Role::Trainee, Some(org), "alice@a.fr").await;
    app.enrol(org, cohort, trainee);
    app.employ(trainee, doctor, "Dr Martin");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    let tera = parcours::mail::load_templates(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"),
    )
    .unwrap();
    let mc = MailContext {
        templates: &tera,
        base_url: &app.address,
    };
    let monday = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let digest = parcours::tracking::engagement::weekly_digest(&mut app.conn(), &mc, "a", monday);
    assert_eq!(digest.unwrap(), Some(1));
    let sent = settled(&app, 1).await;
    assert_eq!(sent[0].1, "sent");

    // The server's report on that message, as Postfix writes it; an auto-reply; a broken report.
    let report = DSN.replace(DSN_MESSAGE_ID, &sent[0].4);
    let broken = "From: MAILER-DAEMON@mx1.parcours.example\nContent-Type: multipart/report; \
                  report-type=delivery-status; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\n\
                  Undelivered.\n--b--\n";
    let reply =
        "From: secretariat@cabinet.fr\nSubject: Absence\nContent-Type: text/plain\n\nAbsent.\n";
    let dir = maildir(&[
        ("1796631124.V801I2M1.mx1", report),
        ("1796631125.V801I2M2.mx1", broken.to_string()),
        ("1796631126.V801I2M3.mx1", reply.to_string()),
    ]);
    let reading = read_maildir(&mut app.conn(), dir.path()).unwrap();
    assert_eq!(
        reading,
        Reading {
            files: 3,
            bounces: 1,
            other: 1,
            malformed: 1
        }
    );
    // Each file is moved out of `new/` (read once); the broken one is flagged for a person.
    assert!(names_in(&dir.path().join("new")).is_empty());
    assert_eq!(
        names_in(&dir.path().join("cur")),
        [
            "1796631124.V801I2M1.mx1:2,S",
            "1796631125.V801I2M2.mx1:2,FS",
            "1796631126.V801I2M3.mx1:2,S"
        ]
    );
    assert_eq!(
        read_maildir(&mut app.conn(), dir.path()).unwrap(),
        Reading::default()
    );
    let r = rows(&app);
    assert_eq!(r[0].1, "failed", "the message did not arrive after all");
    assert!(
        r[0].3.as_deref().unwrap_or("").contains("User unknown"),
        "{r:?}"
    );
    let audited: i64 = audit_events::table
        .filter(audit_events::action.eq("mail_bounced"))
        .filter(audit_events::subject_key.eq(DSN_RECIPIENT))
        .count()
        .get_result(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert_eq!(audited, 1);

    // Next week's digest is not sent to the dead address, and says why.
    let digest = parcours::tracking::engagement::weekly_digest(
        &mut app.conn(),
        &mc,
        "a",
        monday + chrono::Duration::days(7),
    );
    assert_eq!(digest.unwrap(), Some(1));
    let r = settled(&app, 2).await;
    assert_eq!(r[1].1, "failed");
    assert!(
        r[1].3.as_deref().unwrap_or("").starts_with("Non envoyé"),
        "{r:?}"
    );
    let sent_files = std::fs::read_dir(app.dir.path().join("mail"))
        .unwrap()
        .count();
    assert_eq!(sent_files, 1, "only the first digest was written out");

    // Staff see it on the trainee's file: the address, the date, the reason, the mails.
    let file = chef.get_text(&app, &format!("/stagiaires/{trainee}")).await;
    assert!(
        file.contains(&format!("Adresse en échec : {DSN_RECIPIENT}"))
            && file.contains("Recipient address rejected: User unknown in virtual mailbox table")
            && file.contains("Demandez une nouvelle adresse")
            && file.contains("non envoyé"),
        "{file}"
    );
    // The doctor does not (it is staff's to act on).
    let dr = client();
    login(&app, &dr, DSN_RECIPIENT, "mot-de-passe-solide").await;
    let seen = dr.get_text(&app, &format!("/stagiaires/{trainee}")).await;
    assert!(!seen.contains("Adresse en échec"));
}

#[test]
fn bounce_maildir_files_are_claimed_once_by_concurrent_readers() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(spawn_app());
    let files: Vec<(String, String)> = (0..24)
        .map(|i| {
            let to = format!("medecin{i}@cabinet-exemple.fr");
            (
                format!("17966311{i:02}.V801I2M{i}.mx1"),
                DSN.replace(DSN_RECIPIENT, &to),
            )
        })
        .collect();
    let refs: Vec<(&str, String)> = files.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    let dir = maildir(&refs);
    let readings: Vec<Reading> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|_| s.spawn(|| read_maildir(&mut app.conn(), dir.path()).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let files: usize = readings.iter().map(|r| r.files).sum();
    let bounces: usize = readings.iter().map(|r| r.bounces).sum();
    assert_eq!((files, bounces), (24, 24), "{readings:?}");
    assert_eq!(names_in(&dir.path().join("cur")).len(), 24);
}

#[tokio::test]
async fn bounce_mailbox_named_by_the_setting_is_read_by_the_scheduled_jobs() {
    let dir = maildir(&[("1796631124.V801I2M1.mx1", DSN.to_string())]);
    let path = dir.path().to_string_lossy().into_owned();
    let app = spawn_app_with(|env| {
        env.insert("PARCOURS_JOBS".into(), "true".into());
        env.insert("PARCOURS_BOUNCE_MAILDIR".into(), path);
    })
    .await;
    // The scheduler's first round runs at start.
    for _ in 0..200 {
        let found =
            parcours::mail::bounces::among(&mut app.conn(), &[DSN_RECIPIENT.to_string()]).unwrap();
        if let Some(b) = found.first() {
            assert!(b.reason.starts_with("550 5.1.1"), "{b:?}");
            assert_eq!(names_in(&dir.path().join("new")), Vec::<String>::new());
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the bounce mailbox was not read");
}
