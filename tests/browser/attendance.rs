//! In-person half-days in a browser: the trainer opens the sheet on a PC, a trainee signs on
//! her phone, the trainer records a late arrival and an excused absence and closes the sheet;
//! the employer doctor then sees his own assistant's attendance, and only hers.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{modules, sessions};

use serde_json::Value;

use crate::common::*;
use crate::driver::{Browser, DESKTOP, PASSWORD, PHONE};

/// A session of module M1 for the cohort, going on now (so that it can be signed).
fn session_today(app: &Db, org: i64, cohort: i64) -> (i64, chrono::NaiveTime) {
    let mut conn = app.conn();
    let m1: i64 = modules::table
        .filter(modules::code.eq("M1"))
        .select(modules::id)
        .first(&mut *conn as &mut DbConn)
        .unwrap();
    let (day, starts_at, ends_at) = crate::common::half_day_now();
    parcours::cohorts::store::add_sessions(
        &mut conn,
        1,
        org,
        cohort,
        &[parcours::cohorts::store::NewSession {
            module_id: m1,
            trainer_id: None,
            day,
            starts_at,
            ends_at,
            place: "Salle 2",
        }],
    )
    .unwrap();
    let id = sessions::table
        .order(sessions::id.desc())
        .select(sessions::id)
        .first(&mut *conn as &mut DbConn)
        .unwrap();
    (id, starts_at)
}

#[tokio::test]
async fn a_trainer_takes_attendance_and_the_doctor_sees_his_assistant_only() {
    let app = spawn_app().await;
    let org = app.create_organism("Institut Santé Plus");
    let cohort = app.create_cohort(org, "CQP-AM");
    app.create_user(Role::Trainer, Some(org), "formatrice@isp.fr", PASSWORD);
    let lea = app.create_user(Role::Trainee, Some(org), "lea@cabinet.fr", PASSWORD);
    let marc = app.create_user(Role::Trainee, Some(org), "marc@cabinet.fr", PASSWORD);
    let zoe = app.create_user(Role::Trainee, Some(org), "zoe@cabinet.fr", PASSWORD);
    for t in [lea, marc, zoe] {
        app.enrol(org, cohort, t);
    }
    let doctor = app.create_user(Role::Doctor, None, "dr.roux@cabinet.fr", PASSWORD);
    let other_doctor = app.create_user(Role::Doctor, None, "dr.vidal@cabinet.fr", PASSWORD);
    for (d, name, t) in [(doctor, "Dr Roux", lea), (other_doctor, "Dr Vidal", marc)] {
        app.employ(t, d, name);
    }
    let (session, starts_at) = session_today(&app, org, cohort);
    let late = (starts_at + chrono::Duration::minutes(15))
        .format("%H:%M")
        .to_string();

    let trainer = Browser::start(DESKTOP, &app.address).await;
    trainer.sign_in("formatrice@isp.fr").await;
    trainer
        .goto(&format!("/seances/{session}/emargement"))
        .await;
    trainer.wait_title("Émargement du").await;
    trainer.check_page("sheet-not-open").await;
    trainer
        .button("Ouvrir la feuille")
        .await
        .click()
        .await
        .unwrap();
    trainer.wait_text("dd", "ouverte depuis").await;
    trainer.check_page("sheet-open").await;

    let phone = Browser::start(PHONE, &app.address).await;
    phone.sign_in("lea@cabinet.fr").await;
    phone.goto("/emargement").await;
    phone.wait_title("Émargement").await;
    phone.check_page("sign-on-phone").await;
    phone
        .button("Je signe : je suis présent(e)")
        .await
        .click()
        .await
        .unwrap();
    phone.wait_text("p.good", "Vous avez signé le").await;
    phone.check_page("signed-on-phone").await;

    // Léa arrived 15 minutes late; Zoé is excused; Marc never signed.
    trainer
        .goto(&format!("/seances/{session}/emargement"))
        .await;
    trainer
        .js::<Value>(&format!(
            "document.getElementById('ar-{lea}').value = '{late}'; return null"
        ))
        .await;
    trainer
        .find(fantoccini::Locator::Css(&format!(
            "form[action$='/emargement/{lea}'] button"
        )))
        .await
        .click()
        .await
        .unwrap();
    trainer.wait_text("td", &format!("arrivée {late}")).await;
    trainer
        .js::<Value>(&format!(
            "document.getElementById('st-{zoe}').value = 'absent_excuse'; return null"
        ))
        .await;
    trainer
        .find(fantoccini::Locator::Css(&format!(
            "form[action$='/emargement/{zoe}'] button"
        )))
        .await
        .click()
        .await
        .unwrap();
    trainer.wait_text("td", "absent (excusé)").await;
    trainer
        .button("Clore et signer la feuille")
        .await
        .click()
        .await
        .unwrap();
    trainer.wait_text("dd", "close et signée le").await;
    trainer.wait_text("td", "3 h 15").await;
    trainer.check_page("sheet-closed").await;

    phone.sign_out().await;
    phone.sign_in("dr.roux@cabinet.fr").await;
    phone.goto("/mes-assistants").await;
    phone.wait_title("Mes assistants").await;
    phone
        .wait_text(
            "p",
            "Présentiel : 1 demi-journée de présence (dont 1 avec retard ou départ anticipé)",
        )
        .await;
    phone.check_page("doctor-assistants").await;
    let bar: f64 = phone
        .js("return document.querySelector('progress.bar').position")
        .await;
    assert!(
        bar > 0.0 && bar < 0.05,
        "3 h 15 of 266 h, drawn as such: {bar}"
    );
    let names: Vec<String> = phone
        .js("return [...document.querySelectorAll('main h2 a')].map(a => a.textContent)")
        .await;
    assert_eq!(names.len(), 1, "only the doctor's own assistant: {names:?}");
    let status = phone
        .js::<u16>(&format!(
            "return fetch('/stagiaires/{marc}/heures').then(r => r.status)"
        ))
        .await;
    assert_eq!(status, 404, "another doctor's employee stays hidden");
}
