//! The pedagogical follow-up in a browser: a trainee invited by an import accepts her own
//! invitation on her phone and asks a question about module 1; her trainer sees it first in
//! his list, with its waiting time, and answers it; she reads the answer and both see the
//! read receipts.

use parcours::accounts::Role;

use crate::common::*;
use crate::driver::{Browser, DESKTOP, PASSWORD, PHONE};

#[tokio::test]
async fn a_trainee_accepts_her_invitation_asks_a_question_and_her_trainer_answers() {
    let smtp = Smtp::start();
    let smtp_url = smtp.url();
    let port = free_port();
    let app = spawn_app_with(|env| {
        env.insert("PARCOURS_SMTP_URL".into(), smtp_url);
        env.insert("PARCOURS_BIND".into(), format!("127.0.0.1:{port}"));
        env.insert(
            "PARCOURS_BASE_URL".into(),
            format!("http://127.0.0.1:{port}"),
        );
    })
    .await;
    let org = app.create_organism("Institut Santé Plus");
    let cohort = app.create_cohort(org, "CQP-AM");
    app.create_user(Role::OrganismAdmin, Some(org), "chef@isp.fr", PASSWORD);
    app.create_user(Role::Trainer, Some(org), "formateur@isp.fr", PASSWORD);
    let csv = "Nom;Prénom;E-mail;Profil;Date d'embauche;Médecin;E-mail du médecin;Financement\r\n\
               Roux;Léa;lea.roux@cabinet.fr;aucun;03/03/2025;Dr Élise Roy;roy@medecin.fr;Contrat de professionnalisation\r\n";
    let res = client()
        .post(app.url(&format!("/api/v1/cohorts/{cohort}/import?confirm=true")))
        .bearer_auth(api_token(&app, "chef@isp.fr").await)
        .header("Content-Type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let mails = smtp.wait_for(2, 20).await;
    let mine = mails
        .iter()
        .find(|m| m.contains("lea.roux@cabinet.fr"))
        .expect("an invitation to the trainee");
    let link = link_in(&mail_text(mine), &format!("{}/invitation/", app.address));

    let phone = Browser::start(PHONE, &app.address).await;
    phone.c.goto(&link).await.unwrap();
    phone.wait_text("h1", "Bienvenue").await;
    phone.check_page("trainee-invitation").await;
    phone.fill("password", "un-mot-de-passe-neuf").await;
    phone.fill("password_confirm", "un-mot-de-passe-neuf").await;
    phone
        .button("Activer mon compte")
        .await
        .click()
        .await
        .unwrap();
    phone.wait_title("Accueil").await;
    phone.wait_text(".who", "Léa Roux").await;
    phone.check_page("trainee-home").await;

    phone.link("Mon suivi").await.click().await.unwrap();
    phone.wait_title("Mon suivi pédagogique").await;
    phone.check_page("followup-mine").await;
    let m1: String = phone
        .js("return [...document.querySelectorAll('main a')].find(a => a.textContent.startsWith('M1 ')).textContent")
        .await;
    phone.link(&m1).await.click().await.unwrap();
    phone.wait_title("M1 — ").await;
    phone.check_page("followup-new-thread").await;
    phone
        .fill(
            "body",
            "Bonjour, pour l'accueil téléphonique : doit-on noter le motif d'appel dans le dossier ?",
        )
        .await;
    phone.button("Envoyer").await.click().await.unwrap();
    phone
        .wait_text("main", "en attente d'une réponse depuis")
        .await;
    phone.check_page("followup-question-sent").await;
    let thread = phone.path().await;
    assert!(thread.starts_with("/suivi/"), "{thread}");

    let pc = Browser::start(DESKTOP, &app.address).await;
    pc.goto("/connexion").await;
    pc.fill("email", "formateur@isp.fr").await;
    pc.fill("password", PASSWORD).await;
    pc.button("Se connecter").await.click().await.unwrap();
    pc.wait_title("Accueil").await;
    pc.link("Suivi").await.click().await.unwrap();
    pc.wait_title("Suivi des stagiaires").await;
    pc.wait_text("td", "Léa Roux").await;
    pc.wait_text("td", " min").await;
    pc.check_page("followup-staff-list").await;
    pc.find(fantoccini::Locator::Css(&format!("a[href='{thread}']")))
        .await
        .click()
        .await
        .unwrap();
    pc.wait_text("main", "doit-on noter le motif d'appel").await;
    pc.check_page("followup-staff-thread").await;
    pc.fill(
        "body",
        "Oui : le motif, en quelques mots, et jamais de détail médical au téléphone.",
    )
    .await;
    pc.button("Envoyer").await.click().await.unwrap();
    pc.wait_text("main", "jamais de détail médical").await;
    pc.goto(&format!("/organismes/{org}/suivi")).await;
    pc.wait_text("p.notice", "Aucune question en attente").await;

    phone.goto(&thread).await;
    phone.wait_text("main", "jamais de détail médical").await;
    phone
        .wait_text("p.small", "Lu par Personne formateur@isp.fr")
        .await;
    phone.check_page("followup-answer-read").await;
    pc.goto(&thread).await;
    pc.wait_text("p.small", "Lu par Léa Roux").await;
}
