//! The attestation journey in a browser: an organism admin validates a finished path, the
//! doctor records the CPAM copy, a stranger checks the code on the public page.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{evaluation_attempts, module_totals, modules, programs};

use crate::common::*;
use crate::driver::{Browser, DESKTOP, PASSWORD, PHONE, Size};

/// Every planned hour credited and every evaluation passed.
fn finish_path(app: &Db, trainee: i64) {
    let mut conn = app.conn();
    let plan: Vec<(i64, i32)> = modules::table
        .inner_join(programs::table)
        .filter(programs::code.eq("CQP-AM"))
        .select((modules::id, modules::planned_minutes))
        .load(&mut *conn as &mut DbConn)
        .unwrap();
    for (module, planned) in plan {
        diesel::insert_into(module_totals::table)
            .values((
                module_totals::trainee_id.eq(trainee),
                module_totals::module_id.eq(module),
                module_totals::distance_seconds.eq(planned as i64 * 30),
                module_totals::presentiel_seconds.eq(planned as i64 * 30),
                module_totals::correction_seconds.eq(0i64),
            ))
            .execute(&mut *conn as &mut DbConn)
            .unwrap();
        diesel::insert_into(evaluation_attempts::table)
            .values((
                evaluation_attempts::trainee_id.eq(trainee),
                evaluation_attempts::module_id.eq(module),
                evaluation_attempts::evaluation_hash.eq("browser"),
                evaluation_attempts::attempt_no.eq(1),
                evaluation_attempts::status.eq("submitted"),
                evaluation_attempts::started_at.eq(parcours::db::now()),
                evaluation_attempts::submitted_at.eq(parcours::db::now()),
                evaluation_attempts::question_count.eq(10),
                evaluation_attempts::correct_count.eq(9),
                evaluation_attempts::score_pct.eq(90),
                evaluation_attempts::passed.eq(true),
            ))
            .execute(&mut *conn as &mut DbConn)
            .unwrap();
    }
}

async fn an_admin_validates_a_path_and_anyone_verifies_it(size: Size) {
    let app = spawn_app().await;
    let org = app.create_organism("Institut Santé Plus");
    {
        let mut conn = app.conn();
        parcours::attestation::store::set_identity(
            &mut conn,
            None,
            org,
            &parcours::attestation::store::Identity {
                siret: Some("73282932000074".into()),
                nda: Some("11755555575".into()),
                qualiopi_number: Some("Q-ISP-2026".into()),
                address: Some("8 quai Perrache, 69002 Lyon".into()),
                city: Some("Lyon".into()),
            },
        )
        .unwrap();
    }
    let cohort = app.create_cohort(org, "CQP-AM");
    let admin = "direction@isp.fr";
    app.create_user(Role::OrganismAdmin, Some(org), admin, PASSWORD);
    let trainee = app.create_user(Role::Trainee, Some(org), "lea@cabinet.fr", PASSWORD);
    app.enrol(org, cohort, trainee);
    let doctor_email = "dr.roux@cabinet.fr";
    let doctor = app.create_user(Role::Doctor, None, doctor_email, PASSWORD);
    app.employ(trainee, doctor, "Dr Roux");
    finish_path(&app, trainee);

    let b = Browser::start(size, &app.address).await;
    b.sign_in(admin).await;
    b.goto(&format!("/stagiaires/{trainee}/attestations")).await;
    b.wait_title("Attestations de").await;
    b.wait_text("p.good", "Parcours terminé").await;
    b.check_page("attestation-trainee").await;
    b.button("Valider et délivrer").await.click().await.unwrap();
    b.wait_text("td", "Valide").await;
    b.wait_text("p", "Parcours validé").await;
    b.check_page("attestation-issued").await;
    b.goto(&format!("/promotions/{cohort}/attestations")).await;
    b.wait_text("td", "Délivrée").await;
    b.check_page("attestation-cohort").await;
    b.sign_out().await;

    b.sign_in(doctor_email).await;
    b.link("Attestations").await.click().await.unwrap();
    b.wait_title("Attestations").await;
    b.check_page("attestation-doctor").await;
    b.find(fantoccini::Locator::Css("input[name=forwarded]"))
        .await
        .click()
        .await
        .unwrap();
    b.button("Enregistrer").await.click().await.unwrap();
    b.wait_text("label", "Transmise à la CPAM le").await;
    b.sign_out().await;

    let code = {
        use parcours::db::schema::attestations;
        let mut conn = app.conn();
        let code: String = attestations::table
            .select(attestations::code)
            .first(&mut *conn as &mut DbConn)
            .unwrap();
        parcours::attestation::rules::display_code(&code)
    };
    b.goto("/verifier").await;
    b.wait_title("Vérifier une attestation").await;
    b.check_page("verify-form").await;
    b.fill("code", &code.to_lowercase()).await;
    b.button("Vérifier").await.click().await.unwrap();
    b.wait_text("p.notice", "Document authentique et valide")
        .await;
    b.check_page("verify-valid").await;
    b.fill("code", "0000-0000-0000-0001").await;
    b.button("Vérifier").await.click().await.unwrap();
    b.wait_text("div.alert", "mal formé").await;
    b.check_page("verify-malformed").await;
}

#[tokio::test]
async fn an_admin_validates_a_path_and_anyone_verifies_it_on_a_phone() {
    an_admin_validates_a_path_and_anyone_verifies_it(PHONE).await;
}

#[tokio::test]
async fn an_admin_validates_a_path_and_anyone_verifies_it_on_a_desktop() {
    an_admin_validates_a_path_and_anyone_verifies_it(DESKTOP).await;
}

/// The narrowest phone still common (iPhone SE, 375 px): the doctor opens the link of his
/// mail, without a password, and marks the attestation sent to the CPAM in one tap.
const SMALL_PHONE: Size = Size {
    name: "phone-375",
    width: 375,
    height: 667,
    mobile: true,
};

#[tokio::test]
async fn a_doctor_marks_the_cpam_copy_from_his_mail_link_on_a_375px_phone() {
    let app = spawn_app().await;
    let org = app.create_organism("Institut Santé Plus");
    parcours::attestation::store::set_identity(
        &mut app.conn(),
        None,
        org,
        &parcours::attestation::store::Identity {
            siret: Some("73282932000074".into()),
            nda: Some("11755555575".into()),
            qualiopi_number: Some("Q-ISP-2026".into()),
            address: Some("8 quai Perrache, 69002 Lyon".into()),
            city: Some("Lyon".into()),
        },
    )
    .unwrap();
    let cohort = app.create_cohort(org, "CQP-AM");
    let (admin, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "direction@isp.fr").await;
    let trainee = app.create_user(Role::Trainee, Some(org), "lea@cabinet.fr", PASSWORD);
    app.enrol(org, cohort, trainee);
    let doctor = app.create_user(Role::Doctor, None, "dr.roux@cabinet.fr", PASSWORD);
    app.employ(trainee, doctor, "Dr Roux");
    finish_path(&app, trainee);
    let res = admin
        .post_form(
            &app,
            &format!("/stagiaires/{trainee}/attestations"),
            &[("kind", "final")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let body: String = {
        use parcours::db::schema::outbox;
        outbox::table
            .filter(outbox::kind.eq("attestation_doctor"))
            .select(outbox::body_text)
            .first(&mut *app.conn() as &mut DbConn)
            .unwrap()
    };
    let start = body.find("/medecin/").unwrap();
    let link = body[start..].split_whitespace().next().unwrap().to_string();

    let b = Browser::start(SMALL_PHONE, &app.address).await;
    b.goto(&link).await;
    b.wait_title("Vos assistants").await;
    b.check_page("doctor-link").await;
    b.assert_no_horizontal_overflow("doctor-link").await;
    // The button is whole on the screen, and big enough for a thumb.
    let (left, right, height): (f64, f64, f64) = b
        .js(
            "const r = document.querySelector('#attestations button').getBoundingClientRect(); \
             return [r.left, r.right, r.height]",
        )
        .await;
    assert!(
        left >= 0.0 && right <= 375.0 && height >= 44.0,
        "{left} {right} {height}"
    );
    b.button("Marquer « transmise à la CPAM » aujourd'hui")
        .await
        .click()
        .await
        .unwrap();
    b.wait_text("p.notice", "transmise à la CPAM aujourd'hui")
        .await;
    b.wait_text("p.good", "Transmise à la CPAM le").await;
    b.check_page("doctor-link-marked").await;
    b.assert_no_horizontal_overflow("doctor-link-marked").await;
}
