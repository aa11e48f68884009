//! Issue #20 item 5: a doctor "sous l'eau" follows the link of his mail, without a password,
//! to his assistants' page; one click says the attestation went to the CPAM, and the link
//! opens nothing else. He or staff can switch his links off; every step is audited.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{attestations, audit_events, doctor_links, outbox, users};
use parcours::mail::MailContext;

use crate::attestation::{complete_path, post_issue, setup_on};
use crate::common::*;

/// The `/medecin/…` link of the latest mail of this kind to this address.
fn link_in_mail(app: &Db, kind: &str, email: &str) -> String {
    let bodies: Vec<(String, String)> = outbox::table
        .filter(outbox::kind.eq(kind))
        .order(outbox::id.desc())
        .select((outbox::recipients, outbox::body_text))
        .load(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let (_, body) = bodies
        .iter()
        .find(|(to, _)| to.contains(email))
        .unwrap_or_else(|| panic!("no {kind} mail to {email}"));
    let start = body.find("/medecin/").expect("the mail carries the link");
    let end = body[start..]
        .find(char::is_whitespace)
        .map_or(body.len(), |e| start + e);
    body[start..end].to_string()
}

fn actions(app: &Db, action: &str) -> i64 {
    audit_events::table
        .filter(audit_events::action.eq(action))
        .count()
        .get_result(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

/// An issued final attestation of the setup's trainee; returns its id.
/// An FAE trainee's: the attestation the doctor forwards to the CPAM.
async fn issued(app: &TestApp, tag: &str) -> (crate::attestation::Setup, i64) {
    let s = setup_on(app, tag, "FAE-AM").await;
    complete_path(app, s.trainee, "FAE-AM", 0);
    let res = post_issue(app, &s.admin, s.trainee, &[("kind", "final")]).await;
    assert_eq!(res.status(), 303);
    let id = attestations::table
        .filter(attestations::trainee_id.eq(s.trainee))
        .select(attestations::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    (s, id)
}

fn forwarded(app: &Db, id: i64) -> Option<chrono::NaiveDate> {
    attestations::table
        .find(id)
        .select(attestations::cpam_forwarded_on)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

#[tokio::test]
async fn doctor_link_opens_his_page_marks_the_cpam_in_one_click_and_nothing_else() {
    let app = spawn_app().await;
    let (s, id) = issued(&app, "lien").await;
    let (_, other) = issued(&app, "autre").await;
    let link = link_in_mail(&app, "attestation_doctor", "dr-lien@cabinet.fr");
    let token = link.trim_start_matches("/medecin/").to_string();
    // Only a hash is kept.
    let hashes: Vec<String> = doctor_links::table
        .select(doctor_links::token_hash)
        .load(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert!(!hashes.is_empty() && hashes.iter().all(|h| h != &token && h.len() == 64));

    // No password: a fresh browser opens the page.
    let doctor = client();
    let res = doctor.get(app.url(&link)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("Camille Dupont") && page.contains("À transmettre à votre CPAM"),
        "{page}"
    );
    assert!(
        !page.contains("/stagiaires/"),
        "no link to pages that need an account"
    );
    assert!(page.contains("width=device-width"), "the phone layout");

    // One click, and it is done, dated today.
    let res = doctor
        .post_form_of(
            &app,
            &page,
            &format!("{link}/attestations/{id}/cpam"),
            NO_FIELDS,
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .contains("avis=transmise")
    );
    assert_eq!(forwarded(&app, id), Some(parcours::base::paris::today()));
    let page = doctor.get_text(&app, &link).await;
    assert!(page.contains("Transmis à la CPAM le"), "{page}");

    // Another doctor's assistant: as if the attestation did not exist.
    let res = doctor
        .post_form_of(
            &app,
            &page,
            &format!("{link}/attestations/{other}/cpam"),
            NO_FIELDS,
        )
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(forwarded(&app, other), None);

    // Any other write, or an account page, asks to sign in: the link is no session.
    let digest_before: bool = users::table
        .filter(users::email.eq("dr-lien@cabinet.fr"))
        .select(users::weekly_digest)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    for (path, fields) in [
        ("/mes-assistants/resume".to_string(), vec![]),
        (
            format!("/attestations/{id}/cpam"),
            vec![("forwarded_on", "")],
        ),
        ("/mes-assistants/liens/desactiver".to_string(), vec![]),
    ] {
        let res = doctor.post_form_of(&app, &page, &path, &fields).await;
        assert_eq!(res.status(), 303, "{path}");
        let to = res.headers()["location"].to_str().unwrap();
        assert!(to.starts_with("/connexion"), "{path} → {to}");
    }
    for path in ["/mon-compte", "/mes-assistants", "/mes-attestations"] {
        let res = doctor.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 303, "{path}");
    }
    assert_eq!(forwarded(&app, id), Some(parcours::base::paris::today()));
    let digest_after: bool = users::table
        .filter(users::email.eq("dr-lien@cabinet.fr"))
        .select(users::weekly_digest)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert_eq!(digest_before, digest_after);
    assert!(actions(&app, "doctor_link_issued") >= 2);
    assert!(actions(&app, "doctor_link_used") >= 3);
    assert_eq!(actions(&app, "attestation_cpam_forwarded"), 1);

    // He switches his links off from the page: the link is dead (410), and audited.
    let res = doctor
        .post_form_of(&app, &page, &format!("{link}/desactiver"), NO_FIELDS)
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        doctor.get(app.url(&link)).send().await.unwrap().status(),
        410
    );
    assert_eq!(actions(&app, "doctor_link_revoked"), 1);

    // Staff send the attestation again: a new link, which staff switch off from her file.
    let res = s
        .admin
        .post_form(&app, &format!("/attestations/{id}/renvoi"), NO_FIELDS)
        .await;
    assert_eq!(res.status(), 303);
    let fresh = link_in_mail(&app, "attestation_doctor", "dr-lien@cabinet.fr");
    assert_ne!(fresh, link);
    assert_eq!(
        client().get(app.url(&fresh)).send().await.unwrap().status(),
        200
    );
    let file = s
        .admin
        .get_text(&app, &format!("/stagiaires/{}", s.trainee))
        .await;
    assert!(
        file.contains("Liens d'accès des médecins") && file.contains("1 lien actif"),
        "{file}"
    );
    let res = s
        .admin
        .post_form_of(
            &app,
            &file,
            &format!("/stagiaires/{}/liens-medecin/desactiver", s.trainee),
            NO_FIELDS,
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        client().get(app.url(&fresh)).send().await.unwrap().status(),
        410
    );
    assert_eq!(actions(&app, "doctor_link_revoked"), 2);
    // An unknown token tells nothing.
    let res = client()
        .get(app.url("/medecin/inconnu"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn doctor_link_expires_after_fourteen_days() {
    let app = spawn_app().await;
    let (_, _) = issued(&app, "expire").await;
    let link = link_in_mail(&app, "attestation_doctor", "dr-expire@cabinet.fr");
    let (created, expires): (chrono::NaiveDateTime, chrono::NaiveDateTime) = doctor_links::table
        .select((doctor_links::created_at, doctor_links::expires_at))
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert_eq!(expires - created, chrono::Duration::days(14));
    diesel::update(doctor_links::table)
        .set(doctor_links::expires_at.eq(parcours::db::now() - chrono::Duration::seconds(1)))
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let res = client().get(app.url(&link)).send().await.unwrap();
    assert_eq!(res.status(), 410);
    assert!(res.text().await.unwrap().contains("Lien expiré"));
}

#[tokio::test]
async fn the_weekly_digest_and_a_doctors_invitation_carry_his_link() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let cohort = app.create_cohort(org, "CQP-AM");
    let doctor = app.create_user(Role::Doctor, None, "dr@med.fr", "mot-de-passe-solide");
    let (_, trainee) = signed_in(&app, Role::Trainee, Some(org), "alice@a.fr").await;
    app.enrol(org, cohort, trainee);
    app.employ(trainee, doctor, "Dr Roy");
    let tera = parcours::mail::load_templates(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"),
    )
    .unwrap();
    let mc = MailContext {
        templates: &tera,
        base_url: &app.address,
    };
    let monday = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let sent = parcours::tracking::engagement::weekly_digest(&mut app.conn(), &mc, "a", monday);
    assert_eq!(sent.unwrap(), Some(1));
    let link = link_in_mail(&app, "weekly_digest", "dr@med.fr");
    let page = client().get_text(&app, &link).await;
    assert!(
        page.contains("Vos assistants en formation") && page.contains("alice@a.fr"),
        "{page}"
    );

    // A doctor invited by the organism may follow his assistants before choosing a password.
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    let res = chef
        .post_form(
            &app,
            &format!("/organismes/{org}/invitations"),
            &[
                ("email", "dr.neuf@med.fr"),
                ("name", "Dr Neuf"),
                ("role", "doctor"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let link = link_in_mail(&app, "invitation", "dr.neuf@med.fr");
    assert_eq!(
        client().get(app.url(&link)).send().await.unwrap().status(),
        200
    );
    // Nobody else's invitation has one.
    let res = chef
        .post_form(
            &app,
            &format!("/organismes/{org}/invitations"),
            &[
                ("email", "form@a.fr"),
                ("name", "Fanny Form"),
                ("role", "trainer"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let body: String = outbox::table
        .filter(outbox::recipients.like("%form@a.fr%"))
        .select(outbox::body_text)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert!(!body.contains("/medecin/"));
}
