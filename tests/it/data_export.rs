//! The right of access and portability (issue #23): a person downloads all her data as a ZIP
//! made in the background and announced by mail; an organism's administrator makes the same
//! ZIP for a person who wrote; only whoever asked downloads it, until it expires; then the job
//! erases row and file. Several instances never build one request twice at once.

use std::io::Read;

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{audit_events, data_exports, outbox};
use parcours::privacy::export_store as store;

use crate::common::*;
use crate::followup::{first_module, post_message};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

/// Waits for the request to be built by the instance that took it; its state and file.
async fn ready(app: &TestApp, id: i64) -> (String, Option<String>) {
    for _ in 0..200 {
        let (status, sha): (String, Option<String>) = data_exports::table
            .find(id)
            .select((data_exports::status, data_exports::sha256))
            .first(&mut *app.conn() as &mut DbConn)
            .unwrap();
        if status != "pending" && status != "building" {
            return (status, sha);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("export {id} not built within 20 s");
}

fn exports_for(app: &TestApp, user: i64) -> Vec<i64> {
    data_exports::table
        .filter(data_exports::user_id.eq(user))
        .order(data_exports::id)
        .select(data_exports::id)
        .load(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

/// The (subject, text) of every `data_export_ready` mail to `email`.
fn ready_mails(app: &TestApp, email: &str) -> Vec<(String, String)> {
    let rows: Vec<(String, String, String)> = outbox::table
        .filter(outbox::kind.eq("data_export_ready"))
        .select((outbox::recipients, outbox::subject, outbox::body_text))
        .load(&mut *app.conn() as &mut DbConn)
        .unwrap();
    rows.into_iter()
        .filter(|(to, _, _)| to.contains(&format!("\"email\":\"{email}\"")))
        .map(|(_, s, t)| (s, t))
        .collect()
}

/// The archive's entries, by name.
fn unzip(bytes: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP");
    let mut out = std::collections::BTreeMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut content = Vec::new();
        f.read_to_end(&mut content).unwrap();
        out.insert(f.name().to_string(), content);
    }
    out
}

async fn ask_mine(c: &reqwest::Client, app: &TestApp) -> reqwest::Response {
    c.post_form_from(app, "/mon-compte/donnees", "/mon-compte/donnees", NO_FIELDS)
        .await
}

const NO_FIELDS: &[(&str, &str)] = &[];

/// A ready archive of the person's own request, its file kept: for the access matrix.
pub(crate) fn ready_export(app: &TestApp, person: i64) -> i64 {
    let now = parcours::db::now();
    let new = store::NewRequest {
        user_id: person,
        requested_by: person,
        organism_id: None,
        reference: None,
    };
    let id = store::insert(&mut app.conn(), &new, now).unwrap();
    let sha = app.objects.uploads.put(b"PK\x05\x06 matrix").unwrap();
    diesel::update(data_exports::table.find(id))
        .set((
            data_exports::status.eq("ready"),
            data_exports::sha256.eq(sha),
            data_exports::ready_at.eq(now),
            data_exports::expires_at.eq(now + chrono::Duration::days(7)),
        ))
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();
    id
}

#[tokio::test]
async fn a_trainee_downloads_all_her_data_and_no_one_else_can() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (alice, alice_id) = app.trainee_in(org, "CQP-AM", "alice@a.fr").await;
    let (bob, bob_id) = app.trainee_in(org, "CQP-AM", "bob@a.fr").await;
    let (admin, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "admin@a.fr").await;
    parcours::attestation::store::set_identity(
        &mut app.conn(),
        None,
        org,
        &parcours::attestation::store::Identity {
            siret: Some("73282932000074".into()),
            nda: Some("11755555575".into()),
            qualiopi_number: Some("Q-TEST-1".into()),
            address: Some("3 rue de la Paix, 69002 Lyon".into()),
            city: None,
        },
    )
    .unwrap();
    // Her data: a question with a file, an attestation; Bob's: a question of his own.
    let module = first_module(&alice, &app).await;
    let fields = [
        ("kind", "question"),
        ("body", "Où trouver le protocole d'Alice ?"),
    ];
    let res = post_message(
        &alice,
        &app,
        &module,
        &module,
        &fields,
        Some(("protocole.pdf", PDF)),
    )
    .await;
    assert_eq!(res.status(), 303);
    let module_b = first_module(&bob, &app).await;
    let fields = [("kind", "question"), ("body", "Message secret de Bob")];
    let res = post_message(&bob, &app, &module_b, &module_b, &fields, None).await;
    assert_eq!(res.status(), 303);
    let res = admin
        .post_form(
            &app,
            &format!("/stagiaires/{alice_id}/attestations"),
            &[
                ("kind", "final"),
                ("derogation", "1"),
                ("reason", "Décision du jury"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "attestation issued");

    let page = alice.get_text(&app, "/mon-compte").await;
    assert!(
        page.contains("/mon-compte/donnees"),
        "the account page links to it"
    );
    let res = ask_mine(&alice, &app).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/mon-compte/donnees?avis=demande"
    );
    let id = *exports_for(&app, alice_id).last().unwrap();
    let (status, sha) = ready(&app, id).await;
    assert_eq!(status, "ready");
    let sha = sha.unwrap();
    assert!(
        app.kept_uploads().contains(&sha),
        "the archive is on the uploads shelf"
    );

    // She is told by mail, with the page to download it from.
    let mails = ready_mails(&app, "alice@a.fr");
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].0, "Vos données Parcours sont prêtes");
    assert!(
        mails[0].1.contains(&app.url("/mon-compte/donnees")),
        "{}",
        mails[0].1
    );
    assert!(
        mails[0].1.contains("Vous recevez ce message parce qu"),
        "essential mail says why"
    );
    let page = alice.get_text(&app, "/mon-compte/donnees").await;
    let link = format!("/mon-compte/donnees/{id}/archive.zip");
    assert!(page.contains(&link), "{page}");

    let res = alice.get(app.url(&link)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/zip");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("donnees-personne-alice")
    );
    let bytes = res.bytes().await.unwrap();
    let files = unzip(&bytes);
    for name in ["donnees.html", "donnees.json", "SHA256SUMS"] {
        assert!(files.contains_key(name), "{name} in {:?}", files.keys());
    }
    assert!(
        files
            .keys()
            .any(|k| k.starts_with("fichiers/suivi/") && k.ends_with("-protocole.pdf"))
    );
    let pdfs: Vec<&String> = files
        .keys()
        .filter(|k| k.starts_with("fichiers/attestations/"))
        .collect();
    assert_eq!(pdfs.len(), 1, "{:?}", files.keys());
    assert!(files[pdfs[0]].starts_with(b"%PDF"));
    // The manifest holds every other file's SHA-256.
    let sums = String::from_utf8(files["SHA256SUMS"].clone()).unwrap();
    for (name, content) in &files {
        if name != "SHA256SUMS" {
            let line = format!("{}  {name}", parcours::base::digest::sha256_hex(content));
            assert!(sums.lines().any(|l| l == line), "{name}");
        }
    }
    let json: serde_json::Value = serde_json::from_slice(&files["donnees.json"]).unwrap();
    assert_eq!(json["personne"]["email"], "alice@a.fr");
    assert_eq!(json["donnees"]["users"][0]["email"], "alice@a.fr");
    assert_eq!(json["donnees"]["enrolments"].as_array().unwrap().len(), 1);
    assert_eq!(json["donnees"]["attestations"].as_array().unwrap().len(), 1);
    let messages = json["donnees"]["followup_messages"].as_array().unwrap();
    assert!(
        messages
            .iter()
            .any(|m| m["body"] == "Où trouver le protocole d'Alice ?")
    );
    assert!(
        !json["donnees"]["audit_events"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(
        json["references"]["modules"]
            .as_array()
            .is_some_and(|m| !m.is_empty())
    );
    // Nothing of Bob's, no secret, nothing binary in the JSON.
    let everything: Vec<u8> = files.values().flatten().copied().collect();
    let text = String::from_utf8_lossy(&everything);
    assert!(!text.contains("bob@a.fr") && !text.contains("Message secret de Bob"));
    assert!(!text.contains("password_hash") && !text.contains("argon2"));
    assert!(!text.contains("ics_token"));
    let html = String::from_utf8(files["donnees.html"].clone()).unwrap();
    assert!(html.contains("Données personnelles de Personne alice@a.fr"));
    assert!(
        html.contains("Messages de suivi")
            && html.contains("Où trouver le protocole d&#x27;Alice ?")
    );
    assert!(html.contains("Inscriptions") && html.contains("Attestations"));

    // No one else, not even with the link: the id names nothing for them.
    assert_eq!(bob.get(app.url(&link)).send().await.unwrap().status(), 404);
    assert_eq!(
        admin.get(app.url(&link)).send().await.unwrap().status(),
        404
    );
    let res = client().get(app.url(&link)).send().await.unwrap();
    assert_eq!(res.status(), 303, "sign in first");
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/connexion")
    );
    let downloads: i64 = audit_events::table
        .filter(audit_events::action.eq("data_export_downloaded"))
        .filter(audit_events::subject_id.eq(alice_id))
        .count()
        .get_result(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert_eq!(downloads, 1, "only her download is recorded");
    assert!(exports_for(&app, bob_id).is_empty());
}

#[tokio::test]
async fn an_expired_archive_is_refused_then_erased_with_its_file() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (alice, alice_id) = app.trainee_in(org, "CQP-AM", "alice@a.fr").await;
    let (bob, _) = app.trainee_in(org, "CQP-AM", "bob@a.fr").await;
    assert_eq!(ask_mine(&alice, &app).await.status(), 303);
    let id = exports_for(&app, alice_id)[0];
    let (_, sha) = ready(&app, id).await;
    let sha = sha.unwrap();

    // A second request while one is being prepared is refused and adds nothing.
    diesel::update(data_exports::table.find(id))
        .set(data_exports::status.eq("pending"))
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let res = ask_mine(&alice, &app).await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("déjà en préparation"));
    assert_eq!(exports_for(&app, alice_id), vec![id]);
    let link = format!("/mon-compte/donnees/{id}/archive.zip");
    let res = alice.get(app.url(&link)).send().await.unwrap();
    assert_eq!(res.status(), 409, "not ready yet");

    // Past its date: refused to her with the date, still nothing to anyone else.
    let past = parcours::db::now() - chrono::Duration::minutes(1);
    diesel::update(data_exports::table.find(id))
        .set((
            data_exports::status.eq("ready"),
            data_exports::expires_at.eq(past),
        ))
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let res = alice.get(app.url(&link)).send().await.unwrap();
    assert_eq!(res.status(), 410);
    let page = res.text().await.unwrap();
    assert!(page.contains("n'est plus disponible depuis le"), "{page}");
    assert!(
        !alice
            .get_text(&app, "/mon-compte/donnees")
            .await
            .contains(&link)
    );
    assert_eq!(bob.get(app.url(&link)).send().await.unwrap().status(), 404);

    // The job erases row and file, audits it, and runs again without harm.
    let shelf = app.objects.uploads.clone();
    let now = parcours::db::now();
    let erased = parcours::privacy::export::forget_expired(&mut app.conn(), &shelf, now).unwrap();
    assert_eq!(erased, 1);
    assert!(exports_for(&app, alice_id).is_empty());
    assert!(!app.kept_uploads().contains(&sha), "the file is erased too");
    let again = parcours::privacy::export::forget_expired(&mut app.conn(), &shelf, now).unwrap();
    assert_eq!(again, 0);
    assert_eq!(
        alice.get(app.url(&link)).send().await.unwrap().status(),
        404
    );
    let erased_events: i64 = audit_events::table
        .filter(audit_events::action.eq("data_export_erased"))
        .count()
        .get_result(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert_eq!(erased_events, 1);
}

#[tokio::test]
async fn three_archives_a_day_at_most() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (alice, alice_id) = app.trainee_in(org, "CQP-AM", "alice@a.fr").await;
    for _ in 0..3 {
        assert_eq!(ask_mine(&alice, &app).await.status(), 303);
        let id = *exports_for(&app, alice_id).last().unwrap();
        assert_eq!(ready(&app, id).await.0, "ready");
    }
    let res = ask_mine(&alice, &app).await;
    assert_eq!(res.status(), 429);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("déjà été demandée 3 fois en 24 heures")
    );
    assert_eq!(exports_for(&app, alice_id).len(), 3, "nothing more is made");
}

#[tokio::test]
async fn an_administrator_prepares_the_archive_of_a_person_who_wrote() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let other = app.create_organism("Organisme B");
    let (alice, alice_id) = app.trainee_in(org, "CQP-AM", "alice@a.fr").await;
    let (_, stranger) = app.trainee_in(other, "CQP-AM", "zoe@b.fr").await;
    let (admin, admin_id) = signed_in(&app, Role::OrganismAdmin, Some(org), "admin@a.fr").await;
    let page = format!("/organismes/{org}/donnees-personnelles");
    let send = |email: &'static str, reference: &'static str| {
        let (admin, page) = (admin.clone(), page.clone());
        let app = &app;
        async move {
            admin
                .post_form_from(
                    app,
                    &page,
                    &page,
                    &[("email", email), ("reference", reference)],
                )
                .await
        }
    };

    // Another organism's trainee, an unknown address, no reference: refused, nothing made.
    let res = send("zoe@b.fr", "Lettre du 02/12/2026").await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Aucune personne de l&#x27;organisme n&#x27;a l&#x27;adresse zoe@b.fr")
    );
    let res = send("personne@nulle.part", "Lettre du 02/12/2026").await;
    assert_eq!(res.status(), 422);
    let res = send("alice@a.fr", "  ").await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("Indiquez la référence"));
    assert!(exports_for(&app, stranger).is_empty() && exports_for(&app, alice_id).is_empty());

    let res = send("alice@a.fr", "Lettre du 02/12/2026").await;
    assert_eq!(res.status(), 303);
    let id = exports_for(&app, alice_id)[0];
    assert_eq!(ready(&app, id).await.0, "ready");
    let (by, organism, reference): (i64, Option<i64>, Option<String>) = data_exports::table
        .find(id)
        .select((
            data_exports::requested_by,
            data_exports::organism_id,
            data_exports::reference,
        ))
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert_eq!(
        (by, organism, reference.as_deref()),
        (admin_id, Some(org), Some("Lettre du 02/12/2026"))
    );
    let actors: Vec<Option<i64>> = audit_events::table
        .filter(audit_events::action.eq("data_export_requested"))
        .select(audit_events::actor_user_id)
        .load(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert_eq!(actors, vec![Some(admin_id)]);
    // The administrator is told, not the person; he downloads it, she cannot.
    let mails = ready_mails(&app, "admin@a.fr");
    assert_eq!(mails.len(), 1);
    assert_eq!(
        mails[0].0,
        "Archive des données de Personne alice@a.fr prête"
    );
    assert!(mails[0].1.contains("Lettre du 02/12/2026"));
    assert!(ready_mails(&app, "alice@a.fr").is_empty());
    let listed = admin.get_text(&app, &page).await;
    let link = format!("/mon-compte/donnees/{id}/archive.zip");
    assert!(
        listed.contains(&link) && listed.contains("Lettre du 02/12/2026"),
        "{listed}"
    );
    let res = admin.get(app.url(&link)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let files = unzip(&res.bytes().await.unwrap());
    let json: serde_json::Value = serde_json::from_slice(&files["donnees.json"]).unwrap();
    assert_eq!(json["personne"]["email"], "alice@a.fr");
    assert_eq!(json["demande"]["reference"], "Lettre du 02/12/2026");
    assert_eq!(
        alice.get(app.url(&link)).send().await.unwrap().status(),
        404
    );
    // Her own page lists only her own requests.
    assert!(
        !alice
            .get_text(&app, "/mon-compte/donnees")
            .await
            .contains(&link)
    );

    // A doctor belongs to no organism: the platform's administrator asks for his.
    let doctor = app.create_user(Role::Doctor, None, "dr@cabinet.fr", "mot-de-passe-solide");
    assert_eq!(
        send("dr@cabinet.fr", "Lettre du 03/12/2026").await.status(),
        422
    );
    let (platform, _) = signed_in(&app, Role::Admin, None, "plateforme@parcours.fr").await;
    let res = platform
        .post_form_from(
            &app,
            &page,
            &page,
            &[
                ("email", "dr@cabinet.fr"),
                ("reference", "Lettre du 03/12/2026"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let id = exports_for(&app, doctor)[0];
    assert_eq!(ready(&app, id).await.0, "ready");
    assert_eq!(ready_mails(&app, "plateforme@parcours.fr").len(), 1);
}

/// Two instances looking for work at once: one builds, the other finds nothing; when the
/// first dies holding it, the other takes it over after the lease, and the first's late result
/// is refused.
#[tokio::test]
async fn one_request_is_built_by_one_instance_at_a_time() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let alice = app.create_user(
        Role::Trainee,
        Some(org),
        "alice@a.fr",
        "mot-de-passe-solide",
    );
    let now = parcours::db::now();
    let new = store::NewRequest {
        user_id: alice,
        requested_by: alice,
        organism_id: None,
        reference: None,
    };
    let id = store::insert(&mut app.conn(), &new, now).unwrap();
    let lease = chrono::Duration::minutes(15);
    let first = store::claim(&mut app.conn(), "a", now, lease).unwrap();
    assert_eq!(first.map(|r| r.id), Some(id));
    assert!(
        store::claim(&mut app.conn(), "b", now, lease)
            .unwrap()
            .is_none()
    );
    let later = now + chrono::Duration::minutes(16);
    let taken = store::claim(&mut app.conn(), "b", later, lease).unwrap();
    assert_eq!(taken.map(|r| (r.id, r.attempts)), Some((id, 2)));
    let file = parcours::objects::Stored {
        sha256: "a".repeat(64),
        size: 1,
    };
    assert!(!store::set_ready(&mut app.conn(), id, "a", &file, later).unwrap());
    assert!(store::set_ready(&mut app.conn(), id, "b", &file, later).unwrap());
    // A request whose builders keep dying is given up after three tries.
    let id = store::insert(&mut app.conn(), &new, now).unwrap();
    for (i, instance) in ["c", "d", "e"].into_iter().enumerate() {
        let at = now + chrono::Duration::minutes(16 * i as i64);
        assert!(
            store::claim(&mut app.conn(), instance, at, lease)
                .unwrap()
                .is_some()
        );
    }
    let at = now + chrono::Duration::minutes(16 * 3);
    assert!(
        store::claim(&mut app.conn(), "f", at, lease)
            .unwrap()
            .is_none()
    );
    let status: String = data_exports::table
        .find(id)
        .select(data_exports::status)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert_eq!(status, "failed");
}

/// Every table of the register that holds personal data is read by the export, or says why not.
#[test]
fn every_table_of_personal_data_is_in_the_export() {
    use parcours::privacy::export_rules::{NOT_EXPORTED, SOURCES};
    for t in parcours::privacy::register::TABLES {
        if t.personal_data.is_none() {
            continue;
        }
        assert!(
            SOURCES.iter().any(|s| s.table == t.name)
                || NOT_EXPORTED.iter().any(|(name, _)| *name == t.name),
            "table `{}` holds personal data but is in no data export: add a source to \
             privacy::export_rules::SOURCES (the rows that name the person), or a reason to \
             NOT_EXPORTED",
            t.name
        );
    }
}
