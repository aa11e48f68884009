//! Issue #20 item 4: the doctor and the organism are alerted 6 and 3 months before a CQP
//! trainee's deadline while the CQP is not obtained; once each, even with two instances; again
//! when a ProA suspension moves the deadline; never for the FAE, a CQP obtained, or another
//! organism's trainee.

use chrono::NaiveDate;
use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::certification::deadline_alerts::send_due;
use parcours::db::DbConn;
use parcours::db::schema::{
    audit_events, certifications, deadline_alerts, organisms, outbox, proa_suspensions,
    trainee_profiles,
};
use parcours::mail::MailContext;

use crate::common::*;

pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Sets a trainee's hire date (the enrolment helper gives 15/01/2025).
pub fn hired(app: &Db, trainee: i64, on: NaiveDate) {
    diesel::update(trainee_profiles::table.filter(trainee_profiles::user_id.eq(trainee)))
        .set(trainee_profiles::hire_date.eq(on))
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();
}

/// What the job needs besides a connection: the mail templates and the loaded content.
struct Job {
    tera: tera::Tera,
    content: parcours::curriculum::Content,
    base_url: String,
    _data: tempfile::TempDir,
}

impl Job {
    fn new(app: &TestApp) -> Job {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let data = tempfile::tempdir().unwrap();
        let blobs = parcours::objects::folder(&data.path().join("blobs")).unwrap();
        let content = parcours::curriculum::load_and_sync(
            &root.join("content"),
            data.path(),
            blobs,
            &app.pool,
        )
        .unwrap();
        Job {
            tera: parcours::mail::load_templates(&root.join("templates")).unwrap(),
            content,
            base_url: app.address.clone(),
            _data: data,
        }
    }

    fn run(&self, conn: &mut DbConn, today: NaiveDate) -> usize {
        let mc = MailContext {
            templates: &self.tera,
            base_url: &self.base_url,
        };
        send_due(conn, &mc, &self.content, today).unwrap()
    }
}

fn count(app: &Db, table: &str) -> i64 {
    let mut conn = app.conn();
    let c: &mut DbConn = &mut conn;
    match table {
        "alerts" => deadline_alerts::table.count().get_result(c),
        "outbox" => outbox::table
            .filter(outbox::cause.eq("deadline_alerts"))
            .count()
            .get_result(c),
        _ => audit_events::table
            .filter(audit_events::action.eq("deadline_alert.sent"))
            .count()
            .get_result(c),
    }
    .unwrap()
}

/// A CQP trainee of the organism hired on 15/09/2025 (deadline 15/09/2027), ProA-funded.
fn cqp_trainee(app: &TestApp, org: i64, email: &str) -> i64 {
    let cohort = app.create_cohort(org, "CQP-AM");
    let id = app.create_user(Role::Trainee, Some(org), email, "mot-de-passe-solide");
    app.enrol(org, cohort, id);
    hired(app, id, day(2025, 9, 15));
    id
}

#[tokio::test]
async fn deadline_alerts_go_once_at_six_then_three_months_and_again_when_the_deadline_moves() {
    let smtp = Smtp::start();
    let url = smtp.url();
    let app = spawn_app_with(|env| {
        env.insert("PARCOURS_SMTP_URL".into(), url);
    })
    .await;
    let a = app.create_organism("Organisme A");
    let b = app.create_organism("Organisme B");
    let c = app.create_organism("Organisme C");
    app.create_user(
        Role::OrganismAdmin,
        Some(a),
        "chef@a.fr",
        "mot-de-passe-solide",
    );
    app.create_user(
        Role::OrganismAdmin,
        Some(b),
        "chef@b.fr",
        "mot-de-passe-solide",
    );
    // C has no administrator: its contact address hears of its trainees.
    diesel::update(organisms::table.find(c))
        .set(organisms::contact_email.eq("contact@c.fr"))
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let camille = cqp_trainee(&app, a, "camille@a.fr");
    let doctor = app.create_user(Role::Doctor, None, "dr@med.fr", "mot-de-passe-solide");
    app.employ(camille, doctor, "Dr Roy");
    cqp_trainee(&app, c, "chloe@c.fr");
    // Same deadline, but an FAE trainee and B's trainee who has her CQP: no alert.
    let fae_cohort = app.create_cohort(a, "FAE-AM");
    let ide = app.create_user(Role::Trainee, Some(a), "ide@a.fr", "mot-de-passe-solide");
    app.enrol(a, fae_cohort, ide);
    hired(&app, ide, day(2025, 9, 15));
    let done = cqp_trainee(&app, b, "diplomee@b.fr");
    diesel::insert_into(certifications::table)
        .values((
            certifications::trainee_id.eq(done),
            certifications::obtained_on.eq(day(2026, 11, 1)),
            certifications::certificate_number.eq("CQP-1"),
            certifications::recorded_at.eq(parcours::db::now()),
        ))
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();
    // Camille is registered for a session on 01/09/2027.
    let session = parcours::certification::store::insert_session(
        &mut app.conn(),
        doctor,
        a,
        &parcours::certification::rules::NewSession {
            held_on: day(2027, 9, 1),
            place: "Lyon".into(),
            jury: "Jury de branche".into(),
            blocs: vec!["M1".into()],
        },
    )
    .unwrap();
    let by = parcours::certification::store::By {
        actor: doctor,
        organism_id: a,
    };
    parcours::certification::store::register(
        &mut app.conn(),
        by,
        session,
        camille,
        &["M1".into()],
        None,
    )
    .unwrap();

    let job = Job::new(&app);
    let mut conn = app.conn();
    // The day before six months: nothing.
    assert_eq!(job.run(&mut conn, day(2027, 3, 14)), 0);
    // Six months exactly: Camille (doctor and A's administrator) and Chloé (C's contact).
    assert_eq!(job.run(&mut conn, day(2027, 3, 15)), 2);
    let mails = smtp.wait_for(3, 30).await;
    assert_eq!(mails.len(), 3, "the doctor, A's administrator, C's contact");
    let to = |who: &str| {
        let raw = mails
            .iter()
            .find(|m| m.contains(who))
            .unwrap_or_else(|| panic!("no mail to {who}"));
        mail_text(raw)
    };
    let doctor_mail = to("dr@med.fr");
    for phrase in [
        "Personne camille@a.fr",
        "au plus tard le 15/09/2027",
        "(184 jours restants)",
        "session de certification du 01/09/2027",
        "M1 —",
        "/medecin/",
    ] {
        assert!(doctor_mail.contains(phrase), "{phrase}: {doctor_mail}");
    }
    // An essential mail says why it is sent and names the organism responsible (#23).
    assert!(
        doctor_mail.contains("Vous recevez ce message parce que vous êtes le médecin employeur")
            && doctor_mail.contains("Organisme responsable : Organisme A"),
        "{doctor_mail}"
    );
    let staff_mail = to("chef@a.fr");
    assert!(
        staff_mail.contains(
            "Vous recevez ce message parce que vous faites partie de l'équipe de Organisme A"
        ) && staff_mail.contains("Organisme responsable : Organisme A"),
        "{staff_mail}"
    );
    assert!(
        staff_mail.contains(&format!("/stagiaires/{camille}/certification"))
            && staff_mail.contains("alerte (Personne dr@med.fr)")
            && staff_mail.contains("dans 6 mois ou moins"),
        "{staff_mail}"
    );
    let contact_mail = to("contact@c.fr");
    assert!(
        contact_mail.contains("Personne chloe@c.fr")
            && contact_mail.contains("aucune session")
            && contact_mail.contains("Aucun médecin employeur"),
        "{contact_mail}"
    );
    assert!(!mails.iter().any(|m| m.contains("chef@b.fr")));
    // Staff see it on her certification page.
    let chef = client();
    assert_eq!(
        login(&app, &chef, "chef@a.fr", "mot-de-passe-solide")
            .await
            .status(),
        303
    );
    let page = chef
        .get_text(&app, &format!("/stagiaires/{camille}/certification"))
        .await;
    assert!(
        page.contains("6 mois avant l'échéance du 15/09/2027") && page.contains("2 message(s)"),
        "{page}"
    );
    assert!(
        !mails
            .iter()
            .any(|m| m.contains("ide@a.fr") || m.contains("diplomee"))
    );

    // Sent once: the same day again, a day after, a month after.
    for today in [day(2027, 3, 15), day(2027, 3, 16), day(2027, 4, 15)] {
        assert_eq!(job.run(&mut conn, today), 0, "{today}");
    }
    // Three months: the second alert of each.
    assert_eq!(job.run(&mut conn, day(2027, 6, 15)), 2);
    assert_eq!(job.run(&mut conn, day(2027, 6, 16)), 0);
    assert_eq!(count(&app, "alerts"), 4);

    // A ProA suspension of 30 days moves Camille's deadline to 15/10/2027: alerted again.
    diesel::insert_into(proa_suspensions::table)
        .values((
            proa_suspensions::trainee_id.eq(camille),
            proa_suspensions::starts_on.eq(day(2027, 6, 20)),
            proa_suspensions::ends_on.eq(Some(day(2027, 7, 20))),
            proa_suspensions::reason.eq("OPCO EP en attente"),
            proa_suspensions::created_at.eq(parcours::db::now()),
        ))
        .execute(&mut *conn as &mut DbConn)
        .unwrap();
    // While it runs, her deadline moves each day: no alert.
    assert_eq!(job.run(&mut conn, day(2027, 7, 1)), 0);
    assert_eq!(job.run(&mut conn, day(2027, 7, 21)), 1);
    assert_eq!(job.run(&mut conn, day(2027, 7, 22)), 0);
    // Past the deadline: nothing more.
    assert_eq!(job.run(&mut conn, day(2027, 9, 16)), 0);
    drop(conn);
    assert_eq!(count(&app, "alerts"), 5);
    assert_eq!(count(&app, "audit"), 5);
    assert_eq!(count(&app, "outbox"), 8);
    let mails = smtp.wait_for(8, 30).await;
    assert_eq!(mails.len(), 8);
    let moved = mails
        .iter()
        .map(|m| mail_text(m))
        .filter(|m| m.contains("au plus tard le 15/10/2027"))
        .count();
    assert_eq!(
        moved, 2,
        "the doctor and A's administrator, for the new deadline"
    );
}

#[test]
fn deadline_alerts_two_concurrent_runs_send_each_alert_once() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(spawn_app());
    let org = app.create_organism("Organisme A");
    app.create_user(
        Role::OrganismAdmin,
        Some(org),
        "chef@a.fr",
        "mot-de-passe-solide",
    );
    let doctor = app.create_user(Role::Doctor, None, "dr@med.fr", "mot-de-passe-solide");
    for i in 0..3 {
        let t = cqp_trainee(&app, org, &format!("t{i}@a.fr"));
        app.employ(t, doctor, "Dr Roy");
    }
    let job = Job::new(&app);
    let url = app.database_url.clone();
    let sent: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (url, job) = (url.clone(), &job);
                s.spawn(move || {
                    let (pool, _) = parcours::db::connect(&url, 1).unwrap();
                    job.run(&mut pool.get().unwrap(), day(2027, 3, 20))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(sent, 3, "each trainee's alert once, whichever run sent it");
    assert_eq!(count(&app, "alerts"), 3);
    // Each: her doctor and the administrator.
    assert_eq!(count(&app, "outbox"), 6);
    drop(job);
    drop(app);
    drop(rt);
}

#[tokio::test]
async fn deadline_alerts_job_runs_once_a_day_from_eight_paris_time() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    app.create_user(
        Role::OrganismAdmin,
        Some(org),
        "chef@a.fr",
        "mot-de-passe-solide",
    );
    cqp_trainee(&app, org, "camille@a.fr");
    let job = Job::new(&app);
    let mc = MailContext {
        templates: &job.tera,
        base_url: &job.base_url,
    };
    let run = |utc: chrono::NaiveDateTime| {
        parcours::certification::deadline_alerts::run_due(
            &mut app.conn(),
            &mc,
            &job.content,
            "i1",
            utc,
        )
        .unwrap();
    };
    let at = |d: NaiveDate, h: u32, m: u32| d.and_hms_opt(h, m, 0).unwrap();
    // 07:30 in Paris (winter time, UTC+1): not yet.
    run(at(day(2027, 3, 15), 6, 30));
    assert_eq!(count(&app, "alerts"), 0);
    run(at(day(2027, 3, 15), 7, 30));
    assert_eq!(count(&app, "alerts"), 1);
    // The day is done: even with the alert's row gone, nothing runs again that day.
    diesel::delete(deadline_alerts::table)
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();
    run(at(day(2027, 3, 15), 15, 0));
    assert_eq!(count(&app, "alerts"), 0);
    // The next day runs.
    run(at(day(2027, 3, 16), 9, 0));
    assert_eq!(count(&app, "alerts"), 1);
}
