//! The VAE journey in a browser: a candidate asks on the organism's public page with a
//! document and confirms her address from the mail's link, staff move the file to a partial
//! decision, the candidate sees it.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{outbox, users, vae_requests};

use crate::common::*;
use crate::driver::{Browser, DESKTOP, PASSWORD, PHONE, Size};

async fn set_value(b: &Browser, id: &str, value: &str) {
    let _: bool = b
        .js(&format!(
            "document.getElementById('{id}').value = '{value}'; return true"
        ))
        .await;
}

async fn click_id(b: &Browser, id: &str) {
    b.find(fantoccini::Locator::Id(id))
        .await
        .click()
        .await
        .unwrap();
}

async fn a_candidate_gets_a_partial_validation(size: Size) {
    let app = spawn_app().await;
    let org = app.create_organism("Institut Santé Plus");
    let staff = "direction@isp.fr";
    app.create_user(Role::OrganismAdmin, Some(org), staff, PASSWORD);
    let pdf = app.dir.path().join("cerfa-12818.pdf");
    std::fs::write(&pdf, b"%PDF-1.4\n%%EOF\n").unwrap();

    let b = Browser::start(size, &app.address).await;
    b.goto(&format!("/organismes/{org}/vae/demande")).await;
    b.wait_title("Demande de VAE").await;
    b.check_page("vae-request").await;
    b.fill("name", "Camille Durand").await;
    b.fill("email", "camille@exemple.fr").await;
    b.fill("phone", "06 12 34 56 78").await;
    b.fill("address", "3 rue des Lilas, 69003 Lyon").await;
    set_value(&b, "exp1_from", "2023-01-02").await;
    set_value(&b, "exp1_to", "2025-06-30").await;
    b.fill("exp1_employer", "Cabinet du Dr Martin").await;
    b.fill("exp1_role", "Secrétaire médicale").await;
    b.fill("exp1_hours", "2400").await;
    click_id(&b, "exp1_m_administratif").await;
    b.find(fantoccini::Locator::Id("doc_cerfa_12818"))
        .await
        .send_keys(&pdf.display().to_string())
        .await
        .unwrap();
    click_id(&b, "consent").await;
    b.button("Déposer ma demande").await.click().await.unwrap();
    b.wait_title("Confirmez votre adresse").await;
    b.check_page("vae-request-pending").await;
    // The link of the confirmation mail, as the candidate opens it.
    let link: String = {
        let mut conn = app.conn();
        let body: String = outbox::table
            .filter(outbox::kind.eq("vae_confirm"))
            .select(outbox::body_text)
            .first(&mut *conn as &mut DbConn)
            .unwrap();
        let start = body.find("/vae/confirmation/").unwrap();
        body[start..].split_whitespace().next().unwrap().to_string()
    };
    b.goto(&link).await;
    b.wait_title("Confirmer ma demande de VAE").await;
    b.check_page("vae-confirm").await;
    b.button("Confirmer ma demande")
        .await
        .click()
        .await
        .unwrap();
    b.wait_title("Demande enregistrée").await;
    b.check_page("vae-request-done").await;

    let (id, candidate): (i64, i64) = {
        let mut conn = app.conn();
        vae_requests::table
            .inner_join(users::table.on(users::id.eq(vae_requests::candidate_id)))
            .select((vae_requests::id, users::id))
            .first(&mut *conn as &mut DbConn)
            .unwrap()
    };
    {
        let hash = parcours::accounts::password::hash(PASSWORD).unwrap();
        let mut conn = app.conn();
        diesel::update(users::table.find(candidate))
            .set(users::password_hash.eq(Some(hash)))
            .execute(&mut *conn as &mut DbConn)
            .unwrap();
    }

    b.sign_in(staff).await;
    b.check_page("vae-staff-home").await;
    b.goto(&format!("/organismes/{org}/vae")).await;
    b.wait_title("Dossiers de VAE").await;
    b.check_page("vae-staff-list").await;
    b.link(&format!("n° {id}")).await.click().await.unwrap();
    b.wait_title(&format!("Dossier de VAE n° {id}")).await;
    b.wait_text("a", "cerfa-12818.pdf").await;
    b.check_page("vae-staff-file").await;
    b.button("Mettre en examen").await.click().await.unwrap();
    b.wait_text("#vae-state", "En examen").await;
    b.button("Déclarer recevable").await.click().await.unwrap();
    b.wait_text("#vae-state", "Recevable").await;
    b.sign_out().await;

    b.sign_in("camille@exemple.fr").await;
    b.goto(&format!("/ma-vae/{id}")).await;
    b.wait_title("Ma demande de VAE").await;
    b.wait_text("dt", "Livret 2 attendu avant le").await;
    b.check_page("vae-candidate-recevable").await;
    b.find(fantoccini::Locator::Id("file"))
        .await
        .send_keys(&pdf.display().to_string())
        .await
        .unwrap();
    b.button("Envoyer la pièce").await.click().await.unwrap();
    b.wait_text("a", "Livret 2").await;
    b.button("Déposer mon livret 2")
        .await
        .click()
        .await
        .unwrap();
    b.wait_text("#vae-state", "Livret 2 déposé").await;
    b.sign_out().await;

    b.sign_in(staff).await;
    b.goto(&format!("/vae/dossiers/{id}")).await;
    b.wait_title(&format!("Dossier de VAE n° {id}")).await;
    set_value(&b, "jury_date", "2027-03-15").await;
    set_value(&b, "jury_time", "14:30").await;
    b.fill("jury_place", "Lyon, salle 2").await;
    b.button("Planifier le jury").await.click().await.unwrap();
    b.wait_text("#vae-state", "Jury planifié").await;
    b.check_page("vae-staff-decision").await;
    // A decision waits for the jury: move it to a minute ago, as if the day had come.
    {
        let past = chrono::Utc::now().naive_utc() - chrono::Duration::minutes(1);
        let mut conn = app.conn();
        diesel::update(vae_requests::table.find(id))
            .set(vae_requests::jury_at.eq(Some(past)))
            .execute(&mut *conn as &mut DbConn)
            .unwrap();
    }
    click_id(&b, "o-partial").await;
    click_id(&b, "v-M2").await;
    click_id(&b, "v-M3").await;
    b.fill("recommendations", "Compléter M1 et M4 en formation.")
        .await;
    b.button("Enregistrer la décision")
        .await
        .click()
        .await
        .unwrap();
    b.wait_text("#vae-decision", "Validation partielle").await;
    b.sign_out().await;

    b.sign_in("camille@exemple.fr").await;
    b.goto(&format!("/ma-vae/{id}")).await;
    b.wait_text("#vae-decision", "modules validés M2, M3").await;
    b.check_page("vae-candidate-decision").await;
}

#[tokio::test]
async fn a_vae_candidate_gets_a_partial_validation_on_a_phone() {
    a_candidate_gets_a_partial_validation(PHONE).await;
}

#[tokio::test]
async fn a_vae_candidate_gets_a_partial_validation_on_a_desktop() {
    a_candidate_gets_a_partial_validation(DESKTOP).await;
}
