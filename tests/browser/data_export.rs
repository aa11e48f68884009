//! The right of access in a browser (issue #23): a trainee asks for her data from her account
//! on her phone, is told by mail, follows the mail's link, downloads the ZIP with her session
//! and opens the summary it holds, whose links reach the documents beside it.

use base64::Engine;
use parcours::accounts::Role;

use crate::common::*;
use crate::driver::{Browser, PASSWORD, PHONE};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

#[tokio::test]
async fn a_trainee_downloads_her_data_and_opens_it() {
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
    let lea = app.create_user(Role::Trainee, Some(org), "lea.roux@cabinet.fr", PASSWORD);
    app.enrol(org, cohort, lea);
    // A question with a file, asked before: it must come back in the archive.
    let c = client();
    assert_eq!(
        login(&app, &c, "lea.roux@cabinet.fr", PASSWORD)
            .await
            .status(),
        303
    );
    let follow = c.get_text(&app, "/mon-suivi").await;
    let start = follow.find("/mon-suivi/modules/").expect("a module link");
    let module = follow[start..start + follow[start..].find('"').unwrap()].to_string();
    let html = c.get_text(&app, &module).await;
    let res = c
        .post_multipart_of(&app, &html, &module, |form| {
            form.text("kind", "question")
                .text("body", "Où trouver le protocole d'accueil ?")
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(PDF).file_name("protocole.pdf"),
                )
        })
        .await;
    assert_eq!(res.status(), 303, "question asked");

    let phone = Browser::start(PHONE, &app.address).await;
    phone.sign_in("lea.roux@cabinet.fr").await;
    phone.goto("/mon-compte").await;
    phone
        .link("Télécharger toutes mes données")
        .await
        .click()
        .await
        .unwrap();
    phone.wait_title("Mes données personnelles").await;
    phone.check_page("my-data-empty").await;
    phone
        .button("Demander mes données")
        .await
        .click()
        .await
        .unwrap();
    phone.wait_text(".notice", "Demande enregistrée").await;
    phone.check_page("my-data-asked").await;

    // The mail says it is ready; its link opens the page with the archive.
    let mails = smtp.wait_for(1, 30).await;
    let mail = mails
        .iter()
        .find(|m| m.contains("lea.roux@cabinet.fr"))
        .expect("a mail to the trainee");
    let text = mail_text(mail);
    assert!(text.contains("est prête"), "{text}");
    let link = link_in(&text, &format!("{}/mon-compte/donnees", app.address));
    phone.c.goto(&link).await.unwrap();
    phone.wait_title("Mes données personnelles").await;
    let archive = phone.link("Télécharger l'archive du").await;
    let href = archive.attr("href").await.unwrap().expect("a link");
    phone.check_page("my-data-ready").await;

    // Downloaded by the browser, with her session.
    let zip_b64: String = phone
        .js(&format!(
            "return fetch('{href}')\
               .then(r => r.ok ? r.arrayBuffer() : r.text().then(t => {{ throw new Error(r.status + ' ' + t); }}))\
               .then(b => {{\
               const a = new Uint8Array(b); let s = '';\
               for (let i = 0; i < a.length; i += 0x8000) s += String.fromCharCode.apply(null, a.subarray(i, i + 0x8000));\
               return btoa(s); }})"
        ))
        .await;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(zip_b64)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .expect("a ZIP")
        .extract(dir.path())
        .unwrap();

    // Opened as she would open it from her disk: the summary, then a document it links to.
    let summary = dir.path().join("donnees.html");
    phone
        .c
        .goto(&format!("file://{}", summary.display()))
        .await
        .unwrap();
    phone
        .wait_title("Données personnelles de Personne lea.roux@cabinet.fr")
        .await;
    phone.wait_text("h2", "Compte").await;
    let body: String = phone.js("return document.body.innerText").await;
    for expected in [
        "Inscriptions",
        "Messages de suivi",
        "Où trouver le protocole d'accueil ?",
        "Journal d'audit : ce qui vous concerne",
        "Toutes les tables",
    ] {
        assert!(body.contains(expected), "{expected} in:\n{body}");
    }
    phone.check_page("export-summary").await;
    let document = phone.link("-protocole.pdf").await;
    let target = document.attr("href").await.unwrap().expect("a link");
    assert!(target.starts_with("fichiers/suivi/"), "{target}");
    let kept = std::fs::read(dir.path().join(&target)).unwrap();
    assert_eq!(
        kept, PDF,
        "the document the summary links to is the one she sent"
    );
}
