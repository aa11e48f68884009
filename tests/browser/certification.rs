//! Issue #20, done when, in a real browser: a CQP trainee completes her path; her doctor gets
//! the end-of-training attestation "pour information"; the organism registers her for a
//! session and records one bloc not acquired; she is registered again for that bloc alone and
//! acquires it; the organism records the CQP and uploads the certificate; the doctor opens the
//! link of his mail on a 375 px phone, without a password, and marks it sent; no 15-day
//! reminder follows.

use diesel::prelude::*;
use fantoccini::Locator;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::outbox;

use crate::attestations::finish_path;
use crate::common::*;
use crate::driver::{Browser, DESKTOP, PASSWORD, Size};

/// The narrowest phone still common (iPhone SE).
const SMALL_PHONE: Size = Size {
    name: "phone-375",
    width: 375,
    height: 667,
    mobile: true,
};

/// (subject, text) of the latest mail of this kind.
fn last_mail(app: &Db, kind: &str) -> (String, String) {
    outbox::table
        .filter(outbox::kind.eq(kind))
        .order(outbox::id.desc())
        .select((outbox::subject, outbox::body_text))
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap_or_else(|_| panic!("no {kind} mail"))
}

async fn set_value(b: &Browser, id: &str, value: &str) {
    let _: bool = b
        .js(&format!(
            "document.getElementById('{id}').value = '{value}'; return true"
        ))
        .await;
}

/// Creates a session `days_ago` days ago assessing these blocs, registers the trainee, and
/// records her results `(bloc, result)`.
async fn session(b: &Browser, org: i64, trainee: i64, days_ago: i64, results: &[(&str, &str)]) {
    b.goto(&format!("/organismes/{org}/certification")).await;
    b.wait_title("Sessions de certification").await;
    let day = parcours::base::paris::today() - chrono::Duration::days(days_ago);
    set_value(b, "held_on", &day.to_string()).await;
    b.fill("place", "Lyon, CCI").await;
    b.fill("jury", "Jury paritaire de la branche").await;
    // Only the blocs of this session stay ticked.
    let _: bool = b
        .js(&format!(
            "const keep = {:?}; document.querySelectorAll('input[name=blocs]').forEach(c => \
             c.checked = keep.includes(c.value)); return true",
            results.iter().map(|r| r.0).collect::<Vec<_>>()
        ))
        .await;
    b.button("Créer la session").await.click().await.unwrap();
    b.wait_text("h2", "Inscrire").await;
    b.find(Locator::Id("trainee_id"))
        .await
        .select_by_value(&trainee.to_string())
        .await
        .unwrap();
    b.button("Inscrire").await.click().await.unwrap();
    b.wait_text("button", "Enregistrer les résultats").await;
    for (bloc, result) in results {
        b.find(Locator::Id(&format!("r-{trainee}-{bloc}")))
            .await
            .select_by_value(result)
            .await
            .unwrap();
    }
    b.button("Enregistrer les résultats")
        .await
        .click()
        .await
        .unwrap();
    // With results, she can no longer be taken off the session.
    b.wait_until(
        "the results saved",
        "return document.readyState === 'complete' && \
         !document.querySelector('form[action$=\"/retrait\"]')",
        vec![],
    )
    .await;
}

#[tokio::test]
async fn a_cqp_trainee_goes_from_her_path_to_the_cqp_her_doctor_forwards_from_his_phone() {
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
    app.create_user(Role::OrganismAdmin, Some(org), "direction@isp.fr", PASSWORD);
    let trainee = app.create_user(Role::Trainee, Some(org), "lea@cabinet.fr", PASSWORD);
    app.enrol(org, cohort, trainee);
    let doctor = app.create_user(Role::Doctor, None, "dr.roux@cabinet.fr", PASSWORD);
    app.employ(trainee, doctor, "Dr Roux");
    // 1. She completes her path.
    finish_path(&app, trainee, "CQP-AM");

    let b = Browser::start(DESKTOP, &app.address).await;
    b.sign_in("direction@isp.fr").await;
    b.goto(&format!("/stagiaires/{trainee}/attestations")).await;
    b.wait_text("p.good", "Parcours terminé").await;
    b.button("Valider et délivrer").await.click().await.unwrap();
    b.wait_text("p", "Parcours validé").await;
    // 2. Her doctor gets the attestation for information.
    let (subject, text) = last_mail(&app, "attestation_doctor");
    assert!(
        subject.contains("pour information (ce n'est pas le CQP)"),
        "{subject}"
    );
    assert!(text.contains("ne l'envoyez pas à votre CPAM"), "{text}");

    // 3. A session: every bloc, the first one not acquired.
    let blocs: Vec<String> = parcours::certification::store::cqp_blocs(&mut app.conn())
        .unwrap()
        .into_iter()
        .map(|b| b.0)
        .collect();
    let first: Vec<(&str, &str)> = blocs
        .iter()
        .enumerate()
        .map(|(i, b)| (b.as_str(), if i == 0 { "not_acquired" } else { "acquired" }))
        .collect();
    session(&b, org, trainee, 20, &first).await;
    b.goto(&format!("/stagiaires/{trainee}/certification"))
        .await;
    b.wait_text("p", &format!("Blocs à passer : {}.", blocs[0]))
        .await;
    b.check_page("certification-one-bloc-left").await;
    // 4. Registered again for that bloc alone, she acquires it.
    session(&b, org, trainee, 5, &[(blocs[0].as_str(), "acquired")]).await;
    b.goto(&format!("/stagiaires/{trainee}/certification"))
        .await;
    b.wait_text("p.good", "Tous les blocs sont acquis").await;

    // 5. The CQP recorded and its certificate uploaded.
    set_value(
        &b,
        "obtained_on",
        &parcours::base::paris::today().to_string(),
    )
    .await;
    b.fill("certificate_number", "CQP-AM-2026-0042").await;
    b.button("Enregistrer le CQP").await.click().await.unwrap();
    b.wait_text("p.good", "CQP obtenu").await;
    let file = app.dir.path().join("certificat-cqp.pdf");
    let pdf: Vec<u8> = {
        use parcours::db::schema::attestations;
        attestations::table
            .select(attestations::pdf)
            .first(&mut *app.conn() as &mut DbConn)
            .unwrap()
    };
    std::fs::write(&file, &pdf).unwrap();
    b.find(Locator::Id("certificate"))
        .await
        .send_keys(&file.display().to_string())
        .await
        .unwrap();
    b.button("Déposer et envoyer").await.click().await.unwrap();
    b.wait_text("p.notice", "Certificat déposé").await;
    b.wait_text("p", "pas encore marqué comme transmis").await;
    b.check_page("certification-cqp-sent").await;

    // 6. The doctor's mail to forward; its link, on his phone, without a password.
    let (subject, text) = last_mail(&app, "cqp_doctor");
    assert!(subject.contains("à transmettre à votre CPAM"), "{subject}");
    assert!(text.contains("CQP-AM-2026-0042") && text.contains("Madame, Monsieur"));
    let start = text.find("/medecin/").unwrap();
    let link = text[start..].split_whitespace().next().unwrap().to_string();
    let phone = Browser::start(SMALL_PHONE, &app.address).await;
    phone.goto(&link).await;
    phone.wait_title("Vos assistants").await;
    phone
        .wait_text("p", "Pour information : pas à transmettre")
        .await;
    phone.check_page("doctor-link").await;
    phone.assert_no_horizontal_overflow("doctor-link").await;
    // The one button is whole on the screen, and big enough for a thumb.
    let (count, left, right, height): (u32, f64, f64, f64) = phone
        .js(
            "const all = document.querySelectorAll('#attestations button'); \
             const r = all[0].getBoundingClientRect(); \
             return [all.length, r.left, r.right, r.height]",
        )
        .await;
    assert_eq!(count, 1, "only the CQP is to forward");
    assert!(
        left >= 0.0 && right <= 375.0 && height >= 44.0,
        "{left} {right} {height}"
    );
    phone
        .button("Marquer « transmis à la CPAM » aujourd'hui")
        .await
        .click()
        .await
        .unwrap();
    phone
        .wait_text("p.notice", "transmis à la CPAM aujourd'hui")
        .await;
    phone.wait_text("p.good", "Transmis à la CPAM le").await;
    phone.check_page("doctor-link-marked").await;
    b.goto(&format!("/stagiaires/{trainee}/certification"))
        .await;
    b.wait_text("p.good", "Transmis à la CPAM par le médecin le")
        .await;

    // 7. No reminder at 15 days: it was sent.
    let tera = parcours::mail::load_templates(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"),
    )
    .unwrap();
    let mc = parcours::mail::MailContext {
        templates: &tera,
        base_url: &app.address,
    };
    let later = parcours::db::now() + chrono::Duration::days(16);
    let sent =
        parcours::certification::cpam_reminders::send_due(&mut app.conn(), &mc, later).unwrap();
    assert_eq!(sent, 0);
    let reminders: i64 = outbox::table
        .filter(outbox::kind.eq("cpam_reminder"))
        .count()
        .get_result(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert_eq!(reminders, 0);
}
