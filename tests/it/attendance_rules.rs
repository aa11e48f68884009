//! The rules of the sign-in sheets at their edges, over HTTP: one signature per half-day of
//! a day-long session, the signing window, and who closes the sheet.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::schema::{
    attendance_entries, attendance_sheets, audit_events, module_totals, modules, sessions, users,
};

use crate::common::*;

fn paris_now() -> NaiveDateTime {
    parcours::base::paris::to_paris(chrono::Utc::now().naive_utc()).naive_local()
}

/// A session of module M1 on `day` from `start` to `end`, with its trainer if any.
fn session_at(
    app: &TestApp,
    org: i64,
    cohort: i64,
    trainer: Option<i64>,
    day: NaiveDate,
    (start, end): (NaiveTime, NaiveTime),
) -> i64 {
    let m1: i64 = modules::table
        .filter(modules::code.eq("M1"))
        .select(modules::id)
        .first(&mut *app.conn())
        .unwrap();
    let mut conn = app.conn();
    parcours::cohorts::store::add_sessions(
        &mut conn,
        1,
        org,
        cohort,
        &[parcours::cohorts::store::NewSession {
            module_id: m1,
            trainer_id: trainer,
            day,
            starts_at: start,
            ends_at: end,
            place: "Salle 2",
        }],
    )
    .unwrap();
    sessions::table
        .order(sessions::id.desc())
        .select(sessions::id)
        .first(&mut *conn)
        .unwrap()
}

fn entry(app: &TestApp, session: i64, trainee: i64) -> (String, Option<String>, i32) {
    attendance_entries::table
        .inner_join(attendance_sheets::table)
        .filter(attendance_sheets::session_id.eq(session))
        .filter(attendance_entries::trainee_id.eq(trainee))
        .select((
            attendance_entries::status,
            attendance_entries::pm_status,
            attendance_entries::minutes_credited,
        ))
        .first(&mut *app.conn())
        .unwrap()
}

fn presentiel(app: &TestApp, trainee: i64) -> i64 {
    module_totals::table
        .filter(module_totals::trainee_id.eq(trainee))
        .select(module_totals::presentiel_seconds)
        .first(&mut *app.conn())
        .unwrap_or(0)
}

fn name_of(app: &TestApp, id: i64) -> String {
    users::table
        .find(id)
        .select(users::name)
        .first(&mut *app.conn())
        .unwrap()
}

async fn open_sheet(app: &TestApp, c: &reqwest::Client, session: i64) {
    let path = format!("/seances/{session}/emargement/ouvrir");
    assert_eq!(c.post_form(app, &path, NO_FIELDS).await.status(), 303);
}

async fn pdf_text(c: &reqwest::Client, app: &TestApp, session: i64) -> String {
    let pdf = c
        .get(app.url(&format!("/seances/{session}/emargement.pdf")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feuille.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
async fn attendance_a_day_long_session_is_signed_morning_and_afternoon_each_counting_its_hours() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (trainer, trainer_id) = signed_in(&app, Role::Trainer, Some(org), "formateur@a.fr").await;
    let cohort = app.create_cohort(org, "CQP-AM");
    let (alice, alice_id) = signed_in(&app, Role::Trainee, Some(org), "alice@a.fr").await;
    let (_, bruno_id) = signed_in(&app, Role::Trainee, Some(org), "bruno@a.fr").await;
    app.enrol(org, cohort, alice_id);
    app.enrol(org, cohort, bruno_id);
    let now = paris_now();
    let t = |h, m, s| NaiveTime::from_hms_opt(h, m, s).unwrap();
    // A day with a morning and an afternoon, one of which is open now; the other half-day
    // is signed at its own time through the same function the route calls.
    let morning_now = now.time() < t(13, 0, 0);
    let times = if morning_now {
        (t(0, 0, 0), t(18, 0, 0))
    } else {
        (t(8, 0, 0), t(23, 59, 59))
    };
    let session = session_at(&app, org, cohort, Some(trainer_id), now.date(), times);
    open_sheet(&app, &trainer, session).await;
    let (_, pm, _) = entry(&app, session, alice_id);
    assert_eq!(
        pm.as_deref(),
        Some("pending"),
        "the afternoon has its own line"
    );
    let other_half = if morning_now {
        t(14, 0, 0)
    } else {
        t(10, 0, 0)
    };
    let at = parcours::base::paris::paris_to_utc(now.date().and_time(other_half));
    if !morning_now {
        sign_at(&app, org, session, alice_id, at);
    }
    let res = alice
        .post_form(&app, &format!("/seances/{session}/signer"), NO_FIELDS)
        .await;
    assert_eq!(res.status(), 303);
    if morning_now {
        sign_at(&app, org, session, alice_id, at);
    }
    // Bruno signs the half-day open now only.
    sign_at(&app, org, session, bruno_id, chrono::Utc::now().naive_utc());
    let (am, pm, _) = entry(&app, session, alice_id);
    assert_eq!((am.as_str(), pm.as_deref()), ("present", Some("present")));
    let mine = alice.get_text(&app, "/emargement").await;
    assert!(
        mine.contains("Vous avez signé les deux demi-journées"),
        "{mine}"
    );
    let html = trainer
        .get_text(&app, &format!("/seances/{session}/emargement"))
        .await;
    assert!(
        html.contains(
            r#"<th scope="col">Matin</th><th scope="col" class="nowrap">Après-midi</th>"#
        ),
        "{html}"
    );
    assert!(html.matches("signé le").count() >= 3, "{html}");
    let text = pdf_text(&trainer, &app, session).await;
    assert!(
        text.contains("Signature matin") && text.contains("Signature après-midi"),
        "{text}"
    );
    let res = trainer
        .post_form(
            &app,
            &format!("/seances/{session}/emargement/clore"),
            NO_FIELDS,
        )
        .await;
    assert_eq!(res.status(), 303);
    let noon = t(13, 0, 0);
    let (morning, afternoon) = (
        (noon - times.0).num_minutes() as i32,
        (times.1 - noon).num_minutes() as i32,
    );
    let (_, _, minutes) = entry(&app, session, alice_id);
    assert_eq!(minutes, morning + afternoon);
    assert_eq!(
        presentiel(&app, alice_id),
        i64::from(morning + afternoon) * 60
    );
    let (am, pm, minutes) = entry(&app, session, bruno_id);
    let signed = if morning_now { morning } else { afternoon };
    assert_eq!(minutes, signed, "{am} {pm:?}");
    assert_eq!(presentiel(&app, bruno_id), i64::from(signed) * 60);
    assert!(am == "absent" || pm.as_deref() == Some("absent"));
}

fn sign_at(app: &TestApp, org: i64, session: i64, trainee: i64, at: NaiveDateTime) {
    let r = parcours::tracking::attendance::sign(
        &mut app.conn(),
        trainee,
        org,
        session,
        trainee,
        "stagiaire",
        at,
    )
    .unwrap();
    assert_eq!(r, Ok(()));
}

/// A session on the Paris day of `start`, ending at `end` or at midnight.
fn session_from(
    app: &TestApp,
    org: i64,
    cohort: i64,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> i64 {
    let day = start.date();
    let end = if end.date() == day {
        end.time()
    } else {
        NaiveTime::from_hms_opt(23, 59, 59).unwrap()
    };
    session_at(app, org, cohort, None, day, (start.time(), end))
}

#[tokio::test]
async fn attendance_a_trainee_signs_from_15_minutes_before_the_start_to_the_end_only() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (trainer, _) = signed_in(&app, Role::Trainer, Some(org), "formateur@a.fr").await;
    let cohort = app.create_cohort(org, "CQP-AM");
    let (alice, alice_id) = signed_in(&app, Role::Trainee, Some(org), "alice@a.fr").await;
    app.enrol(org, cohort, alice_id);
    let now = paris_now().with_nanosecond(0).unwrap();
    let m = Duration::minutes;
    // (start, end, accepted): starts in 16 min (window opens in 1 min), in 14 min; ended a
    // minute ago; ends in a minute.
    let cases = [
        (now + m(16), now + m(76), false),
        (now + m(14), now + m(74), true),
        (now - m(61), now - m(1), false),
        (now - m(59), now + m(1), true),
    ];
    for (start, end, accepted) in cases {
        // Sessions across midnight do not exist: such a case is skipped near midnight.
        if start.date() != end.date() {
            continue;
        }
        let session = session_from(&app, org, cohort, start, end);
        open_sheet(&app, &trainer, session).await;
        let res = alice
            .post_form(&app, &format!("/seances/{session}/signer"), NO_FIELDS)
            .await;
        let (status, _, _) = entry(&app, session, alice_id);
        let signed: i64 = audit_events::table
            .filter(audit_events::subject_id.eq(session))
            .filter(audit_events::action.eq("attendance_signed"))
            .count()
            .get_result(&mut *app.conn())
            .unwrap();
        if accepted {
            assert_eq!(res.status(), 303, "{start} – {end}");
            assert_eq!((status.as_str(), signed), ("present", 1));
        } else {
            assert_eq!(res.status(), 409, "{start} – {end}");
            let body = res.text().await.unwrap();
            assert!(
                body.contains("revenez à ce moment-là") || body.contains("ne se signe plus"),
                "{body}"
            );
            assert_eq!(
                (status.as_str(), signed),
                ("pending", 0),
                "nothing recorded"
            );
        }
    }
}

#[tokio::test]
async fn attendance_only_the_designated_trainer_closes_else_a_named_staff_member() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (nadia, nadia_id) = signed_in(&app, Role::Trainer, Some(org), "nadia@a.fr").await;
    let (other, _) = signed_in(&app, Role::Trainer, Some(org), "autre@a.fr").await;
    let (chef, chef_id) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    let cohort = app.create_cohort(org, "CQP-AM");
    let (_, alice_id) = signed_in(&app, Role::Trainee, Some(org), "alice@a.fr").await;
    app.enrol(org, cohort, alice_id);
    let (day, start, end) = half_day_now();
    let designated = session_at(&app, org, cohort, Some(nadia_id), day, (start, end));
    open_sheet(&app, &nadia, designated).await;
    let close = |s: i64| format!("/seances/{s}/emargement/clore");
    // Another trainer, or the organism's administrator, cannot close Nadia's sheet.
    for c in [&other, &chef] {
        let res = c.post_form(&app, &close(designated), NO_FIELDS).await;
        assert_eq!(res.status(), 403);
        let body = res.text().await.unwrap();
        let nadia_name = name_of(&app, nadia_id);
        assert!(
            body.contains(&format!(
                "Seul le formateur désigné pour cette séance, {nadia_name}"
            )),
            "{body}"
        );
    }
    let still: String = attendance_sheets::table
        .filter(attendance_sheets::session_id.eq(designated))
        .select(attendance_sheets::status)
        .first(&mut *app.conn())
        .unwrap();
    assert_eq!(still, "open");
    let res = nadia.post_form(&app, &close(designated), NO_FIELDS).await;
    assert_eq!(res.status(), 303);
    // With no trainer designated, a member of the staff closes it, named as such.
    let undesignated = session_at(&app, org, cohort, None, day, (start, end));
    open_sheet(&app, &chef, undesignated).await;
    let res = chef.post_form(&app, &close(undesignated), NO_FIELDS).await;
    assert_eq!(res.status(), 303);
    let closed: Vec<(i64, Option<i64>, Option<String>)> = attendance_sheets::table
        .filter(attendance_sheets::session_id.eq_any([designated, undesignated]))
        .order(attendance_sheets::session_id.asc())
        .select((
            attendance_sheets::session_id,
            attendance_sheets::closed_by,
            attendance_sheets::closed_as,
        ))
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(
        closed,
        [
            (designated, Some(nadia_id), Some("formateur".to_string())),
            (undesignated, Some(chef_id), Some("equipe".to_string())),
        ]
    );
    let page = chef
        .get_text(&app, &format!("/seances/{undesignated}/emargement"))
        .await;
    let chef_name = name_of(&app, chef_id);
    assert!(
        page.contains(&format!("par {chef_name} (membre de l'équipe")),
        "{page}"
    );
    let page = chef
        .get_text(&app, &format!("/seances/{designated}/emargement"))
        .await;
    assert!(page.contains("(formateur désigné)"), "{page}");
    let text = pdf_text(&chef, &app, undesignated).await;
    assert!(text.contains("membre de l'équipe"), "{text}");
    let audit: Vec<String> = audit_events::table
        .filter(audit_events::subject_id.eq(undesignated))
        .filter(audit_events::action.eq("sheet_closed"))
        .select(audit_events::after_json)
        .load::<Option<String>>(&mut *app.conn())
        .unwrap()
        .into_iter()
        .flatten()
        .collect();
    assert!(audit.iter().any(|a| a.contains("\"equipe\"")), "{audit:?}");
}
