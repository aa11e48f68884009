//! Weekly digests to doctors and nudges to inactive trainees: once per period, opt-out.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::schema::{outbox, users};
use parcours::mail::MailContext;
use parcours::tracking::engagement;

use crate::common::*;

fn templates() -> tera::Tera {
    parcours::mail::load_templates(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"),
    )
    .unwrap()
}

fn day(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[tokio::test]
async fn a_doctor_gets_one_digest_a_week_and_can_turn_it_off() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let cohort = app.create_cohort(org, "CQP-AM");
    let doctor = app.create_user(Role::Doctor, None, "dr@med.fr", "mot-de-passe-solide");
    let other_doctor = app.create_user(Role::Doctor, None, "autre@med.fr", "mot-de-passe-solide");
    let (_, trainee) = signed_in(&app, Role::Trainee, Some(org), "alice@a.fr").await;
    app.enrol(org, cohort, trainee);
    app.employ(trainee, doctor, "Dr Roy");
    parcours::cohorts::employers::doctor_employer(&mut app.conn(), org, other_doctor, "Dr Autre")
        .unwrap();
    let tera = templates();
    let mc = MailContext {
        templates: &tera,
        base_url: "https://parcours.exemple.fr",
    };
    let monday = day(2026, 11, 23);
    let mut conn = app.conn();
    assert_eq!(
        engagement::weekly_digest(&mut conn, &mc, "a", monday).unwrap(),
        Some(1)
    );
    assert_eq!(
        engagement::weekly_digest(&mut conn, &mc, "b", monday + chrono::Duration::days(2)).unwrap(),
        None,
        "same week"
    );
    let (subject, body): (String, String) = outbox::table
        .select((outbox::subject, outbox::body_text))
        .first(&mut *conn)
        .unwrap();
    assert_eq!(
        subject,
        "Parcours : la semaine de vos assistants en formation"
    );
    assert!(
        body.contains("Personne alice@a.fr")
            && body.contains("échéance de certification le 15/01/2027"),
        "{body}"
    );
    assert!(!body.contains("autre"), "only the doctor's own assistants");
    drop(conn);
    // The doctor turns it off from their page.
    let c = client();
    assert_eq!(
        login(&app, &c, "dr@med.fr", "mot-de-passe-solide")
            .await
            .status(),
        303
    );
    let page = c.get_text(&app, "/mes-assistants").await;
    assert!(page.contains("Résumé hebdomadaire"));
    let res = c
        .post_form_of(&app, &page, "/mes-assistants/resume", NO_FIELDS)
        .await;
    assert_eq!(res.status(), 303);
    let on: bool = users::table
        .find(doctor)
        .select(users::weekly_digest)
        .first(&mut *app.conn())
        .unwrap();
    assert!(!on);
    let mut conn = app.conn();
    assert_eq!(
        engagement::weekly_digest(&mut conn, &mc, "a", monday + chrono::Duration::days(7)).unwrap(),
        Some(0)
    );
    let n: i64 = outbox::table.count().get_result(&mut *conn).unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn an_inactive_trainee_is_nudged_once() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let cohort = app.create_cohort(org, "CQP-AM");
    let (_, idle) = signed_in(&app, Role::Trainee, Some(org), "idle@a.fr").await;
    app.enrol(org, cohort, idle);
    let (_, busy) = signed_in(&app, Role::Trainee, Some(org), "busy@a.fr").await;
    app.enrol(org, cohort, busy);
    let today = day(2026, 11, 24);
    let m1: i64 = {
        use parcours::db::schema::modules;
        modules::table
            .filter(modules::code.eq("M1"))
            .select(modules::id)
            .first(&mut *app.conn())
            .unwrap()
    };
    parcours::tracking::store::add_to_totals(
        &mut app.conn(),
        busy,
        m1,
        600,
        0,
        0,
        today.and_hms_opt(10, 0, 0).unwrap(),
    )
    .unwrap();
    let tera = templates();
    let mc = MailContext {
        templates: &tera,
        base_url: "https://parcours.exemple.fr",
    };
    let mut conn = app.conn();
    assert_eq!(
        engagement::nudges(&mut conn, &mc, "a", today, 10).unwrap(),
        Some(1)
    );
    assert_eq!(
        engagement::nudges(&mut conn, &mc, "b", today, 10).unwrap(),
        None,
        "same day, other instance"
    );
    assert_eq!(
        engagement::nudges(&mut conn, &mc, "a", today + chrono::Duration::days(1), 10).unwrap(),
        Some(0),
        "not twice in the stretch"
    );
    let to: String = outbox::table
        .select(outbox::recipients)
        .first(&mut *conn)
        .unwrap();
    assert!(to.contains("idle@a.fr") && !to.contains("busy"));
}

#[test]
fn two_instances_run_a_job_once() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(spawn_app());
    let url = app.database_url.clone();
    let handles: Vec<_> = (0..2)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || {
                let (pool, _) = parcours::db::connect(&url, 1).unwrap();
                let tera = templates();
                let mc = MailContext {
                    templates: &tera,
                    base_url: "https://parcours.exemple.fr",
                };
                engagement::weekly_digest(
                    &mut pool.get().unwrap(),
                    &mc,
                    &format!("i{i}"),
                    day(2026, 11, 30),
                )
                .unwrap()
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(
        results.iter().filter(|r| r.is_some()).count(),
        1,
        "{results:?}"
    );
    drop(app);
    drop(rt);
}

/// A deadline already passed reads as such, flagged, wherever it is shown: never "-92 jours".
#[tokio::test]
async fn a_past_deadline_is_said_and_flagged_to_everyone() {
    use parcours::db::schema::trainee_profiles;
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let cohort = app.create_cohort(org, "CQP-AM");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    let (lea, trainee) = signed_in(&app, Role::Trainee, Some(org), "lea@a.fr").await;
    app.enrol(org, cohort, trainee);
    let (doctor_c, doctor) = signed_in(&app, Role::Doctor, None, "dr@med.fr").await;
    app.employ(trainee, doctor, "Dr Roy");
    // Hired before the 2024 convention: three years, so the deadline was 01/03/2025.
    diesel::update(trainee_profiles::table.filter(trainee_profiles::user_id.eq(trainee)))
        .set(trainee_profiles::hire_date.eq(day(2022, 3, 1)))
        .execute(&mut *app.conn())
        .unwrap();
    let today = parcours::base::paris::today();
    let late = (today - day(2025, 3, 1)).num_days();
    let words = format!("échéance dépassée depuis {late} jours");
    let flagged = format!("<strong class=\"overdue\">{words}</strong>");
    for (who, c, path) in [
        ("trainee", &lea, "/ma-promotion".to_string()),
        ("trainee", &lea, "/tableau-de-bord".to_string()),
        ("staff", &chef, format!("/stagiaires/{trainee}")),
        ("staff", &chef, format!("/promotions/{cohort}")),
        ("doctor", &doctor_c, "/mes-assistants".to_string()),
    ] {
        let page = c
            .get(app.url(&path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains(&flagged), "{who} {path}: {page}");
        assert!(!page.contains(&format!("-{late}")), "{who} {path}");
    }
    // The doctor's weekly digest says it too.
    let tera = templates();
    let mc = MailContext {
        templates: &tera,
        base_url: "https://parcours.exemple.fr",
    };
    let mut conn = app.conn();
    assert_eq!(
        engagement::weekly_digest(&mut conn, &mc, "a", today).unwrap(),
        Some(1)
    );
    let body: String = outbox::table
        .filter(outbox::subject.like("%semaine%"))
        .select(outbox::body_text)
        .first(&mut *conn)
        .unwrap();
    assert!(body.contains(&format!("ATTENTION : {words}")), "{body}");
}

/// The staff's home card lists what the data says needs attention, and changes with it.
#[tokio::test]
async fn the_staff_home_card_follows_the_data() {
    use parcours::db::schema::trainee_profiles;
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    let home = || async {
        chef.get(app.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    assert!(home().await.contains("Aucune alerte : ni stagiaire"));
    // A trainee whose deadline is past.
    let cohort = app.create_cohort(org, "CQP-AM");
    let (lea, trainee) = signed_in(&app, Role::Trainee, Some(org), "lea@a.fr").await;
    app.enrol(org, cohort, trainee);
    diesel::update(trainee_profiles::table.filter(trainee_profiles::user_id.eq(trainee)))
        .set(trainee_profiles::hire_date.eq(day(2022, 3, 1)))
        .execute(&mut *app.conn())
        .unwrap();
    let card = home().await;
    assert!(!card.contains("Aucune alerte"), "{card}");
    assert!(
        card.contains(&format!(
            "<a href=\"/promotions/{cohort}\"><strong>1</strong> stagiaire(s) dont l&#x27;échéance de certification est dépassée</a>"
        )),
        "{card}"
    );
    assert!(!card.contains("courriel(s) non remis"), "{card}");
    // A mail that could not be delivered.
    diesel::insert_into(outbox::table)
        .values((
            outbox::organism_id.eq(Some(org)),
            outbox::kind.eq("test"),
            outbox::cause.eq("test"),
            outbox::recipients.eq("x@exemple.fr"),
            outbox::subject.eq("Essai"),
            outbox::body_text.eq("Essai"),
            outbox::message_id.eq("<essai@parcours>"),
            outbox::status.eq("failed"),
            outbox::attempts.eq(10),
            outbox::created_at.eq(parcours::db::now()),
            outbox::next_attempt_at.eq(parcours::db::now()),
        ))
        .execute(&mut *app.conn())
        .unwrap();
    assert!(
        home()
            .await
            .contains("<strong>1</strong> courriel(s) non remis")
    );
    // The trainee's own card says her deadline is past.
    let mine = lea
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        mine.contains("<strong class=\"overdue\">échéance dépassée depuis"),
        "{mine}"
    );
    // And which lesson comes next, which moves on once it is done.
    let lessons: Vec<(i64, String)> = {
        use parcours::db::schema::{lessons, modules};
        lessons::table
            .inner_join(modules::table)
            .filter(modules::code.eq("M1"))
            .order(lessons::position.asc())
            .select((lessons::id, lessons::title))
            .limit(2)
            .load(&mut *app.conn())
            .unwrap()
    };
    let resume = |title: &str| format!("Reprendre : {}", title.replace('\'', "&#x27;"));
    assert!(mine.contains(&resume(&lessons[0].1)), "{mine}");
    {
        use parcours::db::schema::lesson_progress;
        diesel::insert_into(lesson_progress::table)
            .values((
                lesson_progress::trainee_id.eq(trainee),
                lesson_progress::lesson_id.eq(lessons[0].0),
                lesson_progress::completed_at.eq(parcours::db::now()),
            ))
            .execute(&mut *app.conn())
            .unwrap();
    }
    let mine = lea
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        mine.contains(&resume(&lessons[1].1)) && !mine.contains(&resume(&lessons[0].1)),
        "{mine}"
    );
}
