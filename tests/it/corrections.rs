//! Issue #23, the right of correction: a person changes her own e-mail address through a link
//! mailed to the new one; her name, printed on documents, is corrected by her organism on her
//! request, and issued attestations are never rewritten.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{
    attestations, audit_events, email_changes, identity_corrections, outbox, users,
};

use crate::attestation::{complete_path, post_issue, setup};
use crate::common::*;

const PASSWORD: &str = "mot-de-passe-solide";

/// (recipients, text) of the mails of a kind, oldest first.
fn mails(app: &TestApp, kind: &str) -> Vec<(String, String)> {
    outbox::table
        .filter(outbox::kind.eq(kind))
        .order(outbox::id.asc())
        .select((outbox::recipients, outbox::body_text))
        .load(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

fn email_of(app: &TestApp, user: i64) -> String {
    users::table
        .find(user)
        .select(users::email)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

fn name_of(app: &TestApp, user: i64) -> String {
    users::table
        .find(user)
        .select(users::name)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

fn count(app: &TestApp, action: &str) -> i64 {
    audit_events::table
        .filter(audit_events::action.eq(action))
        .count()
        .get_result(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

fn pending_changes(app: &TestApp) -> i64 {
    email_changes::table
        .count()
        .get_result(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

async fn ask_address(app: &TestApp, c: &reqwest::Client, email: &str) -> reqwest::Response {
    let page = c.get_text(app, "/mon-compte").await;
    c.post_form_of(app, &page, "/mon-compte/adresse", &[("email", email)])
        .await
}

/// The confirmation path in the latest mail to `email`.
fn confirmation_link(app: &TestApp, email: &str) -> String {
    let (_, text) = mails(app, "email_change_confirm")
        .into_iter()
        .rev()
        .find(|(to, _)| to.contains(email))
        .unwrap_or_else(|| panic!("no confirmation mail to {email}"));
    link_in(&text, &format!("{}/adresse/confirmation/", app.address))
        .trim_start_matches(&app.address)
        .to_string()
}

#[tokio::test]
async fn a_person_changes_her_address_through_a_link_to_the_new_one_and_the_old_one_is_told() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme Nord");
    let (alice, id) = signed_in(&app, Role::Trainee, Some(org), "alice@a.fr").await;
    app.create_user(Role::Trainee, Some(org), "pris@a.fr", PASSWORD);

    // Refused in French, nothing recorded, nothing sent.
    for (email, message) in [
        ("pas-une-adresse", "doit contenir un @"),
        (
            "ALICE@a.fr",
            "C&#x27;est déjà l&#x27;adresse de votre compte",
        ),
        ("Pris@A.fr", "déjà celle d&#x27;un autre compte"),
    ] {
        let res = ask_address(&app, &alice, email).await;
        assert_eq!(res.status(), 422, "{email}");
        let body = res.text().await.unwrap();
        assert!(
            body.contains(message) || body.contains(&message.replace("&#x27;", "'")),
            "{email}: {body}"
        );
    }
    assert_eq!(pending_changes(&app), 0);
    assert!(mails(&app, "email_change_confirm").is_empty());

    // Asked: the address has not changed yet; the link goes to the new one.
    let res = ask_address(&app, &alice, "Alice.Neuve@B.fr").await;
    assert_eq!(res.status(), 303);
    let page = alice.get_text(&app, "/mon-compte").await;
    assert!(
        page.contains("En attente de confirmation : <strong>alice.neuve@b.fr"),
        "{page}"
    );
    assert_eq!(email_of(&app, id), "alice@a.fr");
    assert_eq!(count(&app, "email_change_requested"), 1);
    let (to, text) = mails(&app, "email_change_confirm").remove(0);
    assert!(
        to.contains("\"email\":\"alice.neuve@b.fr\"") && !to.contains("\"email\":\"alice@a.fr\""),
        "{to}"
    );
    assert!(
        text.contains("Vous recevez ce message parce que cette adresse")
            && text.contains("Organisme responsable : Organisme Nord"),
        "{text}"
    );
    let link = confirmation_link(&app, "alice.neuve@b.fr");

    // A tampered link changes nothing.
    let stranger = client();
    let res = stranger
        .get(app.url(&format!("{link}x")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(email_of(&app, id), "alice@a.fr");

    // Opened from the new mailbox, without a session.
    let page = stranger.get_text(&app, &link).await;
    assert!(page.contains("Faire de alice.neuve@b.fr"), "{page}");
    let res = stranger.post_form_of(&app, &page, &link, NO_FIELDS).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("est désormais alice.neuve@b.fr")
    );
    assert_eq!(email_of(&app, id), "alice.neuve@b.fr");
    assert_eq!(count(&app, "email_changed"), 1);
    let (to, text) = mails(&app, "email_change_notice").remove(0);
    assert!(
        to.contains("alice@a.fr") && text.contains("est devenue alice.neuve@b.fr"),
        "{text}"
    );
    // Used once.
    let res = stranger.post_form_of(&app, &page, &link, NO_FIELDS).await;
    assert_eq!(res.status(), 404);
    assert_eq!(count(&app, "email_changed"), 1);
    // She signs in with the new address only.
    assert_eq!(
        login(&app, &client(), "alice.neuve@b.fr", PASSWORD)
            .await
            .status(),
        303
    );
    assert_ne!(
        login(&app, &client(), "alice@a.fr", PASSWORD)
            .await
            .status(),
        303
    );

    // An address taken by another account meanwhile is refused at the link, and nothing moves.
    assert_eq!(
        ask_address(&app, &alice, "plus-tard@b.fr").await.status(),
        303
    );
    let link = confirmation_link(&app, "plus-tard@b.fr");
    app.create_user(Role::Trainee, Some(org), "plus-tard@b.fr", PASSWORD);
    let page = stranger.get_text(&app, &link).await;
    let res = stranger.post_form_of(&app, &page, &link, NO_FIELDS).await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("entre-temps"));
    assert_eq!(email_of(&app, id), "alice.neuve@b.fr");

    // An expired link opens nothing, and the job forgets it.
    assert_eq!(ask_address(&app, &alice, "encore@b.fr").await.status(), 303);
    let link = confirmation_link(&app, "encore@b.fr");
    let past = parcours::db::now() - chrono::Duration::minutes(1);
    diesel::update(email_changes::table)
        .set(email_changes::expires_at.eq(past))
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert_eq!(
        stranger.get(app.url(&link)).send().await.unwrap().status(),
        404
    );
    let purged =
        parcours::accounts::email_change::purge(&mut app.conn(), parcours::db::now()).unwrap();
    assert_eq!((purged, pending_changes(&app)), (1, 0));
    assert_eq!(email_of(&app, id), "alice.neuve@b.fr");
}

fn correction_state(app: &TestApp, id: i64) -> String {
    identity_corrections::table
        .find(id)
        .select(identity_corrections::state)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

async fn ask_name(app: &TestApp, c: &reqwest::Client, name: &str, note: &str) -> reqwest::Response {
    let page = c.get_text(app, "/mon-compte/identite").await;
    c.post_form_of(
        app,
        &page,
        "/mon-compte/identite",
        &[("name", name), ("note", note)],
    )
    .await
}

async fn decide(
    app: &TestApp,
    c: &reqwest::Client,
    org: i64,
    id: i64,
    decision: &str,
    reason: &str,
) -> reqwest::Response {
    let page = c
        .get_text(app, &format!("/organismes/{org}/corrections"))
        .await;
    // Someone refused the list takes the token of a page of his own.
    let page = if page.contains("csrf_token") {
        page
    } else {
        c.get_text(app, "/mon-compte").await
    };
    c.post_form_of(
        app,
        &page,
        &format!("/corrections/{id}"),
        &[("decision", decision), ("reason", reason)],
    )
    .await
}

#[tokio::test]
async fn a_name_correction_goes_through_the_organism_and_never_rewrites_issued_attestations() {
    let app = spawn_app().await;
    let s = setup(&app, "nom").await;
    complete_path(&app, s.trainee, "CQP-AM", 0);
    assert_eq!(
        post_issue(&app, &s.admin, s.trainee, &[("kind", "final")])
            .await
            .status(),
        303
    );
    let (first, number, payload): (i64, String, String) = attestations::table
        .filter(attestations::trainee_id.eq(s.trainee))
        .select((
            attestations::id,
            attestations::number,
            attestations::payload,
        ))
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let camille = client();
    assert_eq!(
        login(&app, &camille, "assistante-nom@cabinet.fr", PASSWORD)
            .await
            .status(),
        303
    );
    let (trainer, _) = signed_in(&app, Role::Trainer, Some(s.org), "formateur-nom@of.fr").await;
    let other = app.create_organism("Organisme voisin");
    let (stranger, _) = signed_in(&app, Role::OrganismAdmin, Some(other), "dir@voisin.fr").await;

    // Bad requests are refused in French and record nothing.
    for (name, message) in [
        ("", "Le nom est obligatoire."),
        ("Camille Dupont", "déjà le nom enregistré"),
        ("=HYPERLINK(1)", "formule de tableur"),
    ] {
        let res = ask_name(&app, &camille, name, "").await;
        assert_eq!(res.status(), 422, "{name}");
        assert!(res.text().await.unwrap().contains(message), "{name}");
    }
    let res = ask_name(&app, &camille, "Camille Martin", &"x".repeat(1001)).await;
    assert_eq!(res.status(), 422);
    assert!(
        identity_corrections::table
            .count()
            .get_result::<i64>(&mut *app.conn() as &mut DbConn)
            .map(|n| n == 0)
            .unwrap()
    );

    // Asked: her organism's administrator is told, no one else; one request at a time.
    let res = ask_name(
        &app,
        &camille,
        "Camille Dupont-Martin",
        "Nom de naissance : Martin",
    )
    .await;
    assert_eq!(res.status(), 303);
    let page = camille.get_text(&app, "/mon-compte/identite").await;
    assert!(
        page.contains("en attente") && page.contains("Camille Dupont-Martin"),
        "{page}"
    );
    let res = ask_name(&app, &camille, "Camille Martin", "").await;
    assert_eq!(res.status(), 409);
    let told = mails(&app, "identity_correction_request");
    assert_eq!(told.len(), 1, "{told:?}");
    let (to, text) = &told[0];
    assert!(to.contains("direction-nom@of.fr"), "{to}");
    assert!(
        text.contains("Camille Dupont demande que son nom soit corrigé en : Camille Dupont-Martin")
            && text.contains("Nom de naissance : Martin")
            && text.contains("Vous recevez ce message parce que vous administrez Organisme nom")
            && text.contains("Organisme responsable : Organisme nom"),
        "{text}"
    );
    let id: i64 = identity_corrections::table
        .select(identity_corrections::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();

    // The staff page names the attestation that will keep the old name.
    let list = format!("/organismes/{}/corrections", s.org);
    let page = s.admin.get_text(&app, &list).await;
    assert!(
        page.contains("garderont") && page.contains(&number),
        "{page}"
    );

    // Nobody else sees or decides it: another organism's admin, a trainer, the person herself.
    assert_eq!(
        stranger.get(app.url(&list)).send().await.unwrap().status(),
        403
    );
    for c in [&stranger, &trainer, &camille] {
        let res = decide(&app, c, s.org, id, "appliquer", "").await;
        assert_eq!(res.status(), 404);
    }
    assert_eq!(correction_state(&app, id), "pending");
    assert_eq!(name_of(&app, s.trainee), "Camille Dupont");

    // A refusal needs its reason; applying changes her name, audited, not the attestation.
    let res = decide(&app, &s.admin, s.org, id, "refuser", " ").await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Donnez le motif du refus")
    );
    assert_eq!(
        decide(&app, &s.admin, s.org, id, "appliquer", "")
            .await
            .status(),
        303
    );
    assert_eq!(correction_state(&app, id), "applied");
    assert_eq!(name_of(&app, s.trainee), "Camille Dupont-Martin");
    assert_eq!(count(&app, "user_renamed"), 1);
    let (after, revoked): (String, Option<chrono::NaiveDateTime>) = attestations::table
        .find(first)
        .select((attestations::payload, attestations::revoked_at))
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert_eq!(
        (after, revoked),
        (payload, None),
        "issued documents are never rewritten"
    );
    let (to, text) = mails(&app, "identity_correction_decided").remove(0);
    assert!(
        to.contains("assistante-nom@cabinet.fr") && text.contains("a corrigé votre nom"),
        "{text}"
    );
    let page = s.admin.get_text(&app, &list).await;
    assert!(
        page.contains("portent encore l")
            && page.contains(&number)
            && page.contains("Camille Dupont »"),
        "{page}"
    );
    // Decided once.
    assert_eq!(
        decide(&app, &s.admin, s.org, id, "refuser", "Trop tard")
            .await
            .status(),
        409
    );

    // The old one revoked with its reason and issued again: nothing carries the old name.
    let res = s
        .admin
        .post_form(
            &app,
            &format!("/attestations/{first}/revocation"),
            &[("reason", "Nom corrigé")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        post_issue(&app, &s.admin, s.trainee, &[("kind", "final")])
            .await
            .status(),
        303
    );
    let page = s.admin.get_text(&app, &list).await;
    assert!(!page.contains("portent encore l"), "{page}");

    // A refusal keeps the name and tells her why.
    assert_eq!(
        ask_name(&app, &camille, "Camille Martin", "")
            .await
            .status(),
        303
    );
    let second: i64 = identity_corrections::table
        .filter(identity_corrections::state.eq("pending"))
        .select(identity_corrections::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let res = decide(
        &app,
        &s.admin,
        s.org,
        second,
        "refuser",
        "Pièce d'identité manquante",
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(name_of(&app, s.trainee), "Camille Dupont-Martin");
    let (_, text) = mails(&app, "identity_correction_decided").remove(1);
    assert!(
        text.contains("Motif : Pièce d'identité manquante"),
        "{text}"
    );
    let page = camille.get_text(&app, "/mon-compte/identite").await;
    assert!(page.contains("refusée"), "{page}");
}
