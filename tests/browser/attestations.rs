//! The attestation journey in a browser: an organism admin validates a finished FAE path,
//! the doctor records the CPAM copy, a stranger checks the code on the public page. (The
//! CQP's journey, to the certificate, is `certification.rs`.)

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{evaluation_attempts, module_totals, modules, programs};

use crate::common::*;
use crate::driver::{Browser, DESKTOP, PASSWORD, PHONE, Size};

/// Every planned hour of the programme credited and every evaluation passed.
pub(crate) fn finish_path(app: &Db, trainee: i64, program: &str) {
    let mut conn = app.conn();
    let plan: Vec<(i64, i32)> = modules::table
        .inner_join(programs::table)
        .filter(programs::code.eq(program))
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
    let cohort = app.create_cohort(org, "FAE-AM");
    let admin = "direction@isp.fr";
    app.create_user(Role::OrganismAdmin, Some(org), admin, PASSWORD);
    let trainee = app.create_user(Role::Trainee, Some(org), "lea@cabinet.fr", PASSWORD);
    app.enrol(org, cohort, trainee);
    let doctor_email = "dr.roux@cabinet.fr";
    let doctor = app.create_user(Role::Doctor, None, doctor_email, PASSWORD);
    app.employ(trainee, doctor, "Dr Roux");
    finish_path(&app, trainee, "FAE-AM");

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
