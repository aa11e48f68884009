//! An organism's programme draft exported as a ZIP in the folder format of `content/` and
//! imported back in its place (issue #18): the author changes a lesson on her computer, the
//! draft takes it at the next revision with its audit event, and publishing shows it to
//! trainees. An archive that is unsafe, not a ZIP, of another programme, breaking the rules or
//! sent from a revision the draft has left changes nothing: same revision, same files, no
//! event, no temporary file left.

use std::io::{Read, Write};
use std::path::PathBuf;

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{audit_events, program_drafts, programs};
use reqwest::multipart::Part;

use crate::authoring::{LESSON, copy_of_cqp, revision_in};
use crate::common::*;
use crate::followup::location;

const CODE: &str = "CQP-LYON";
const EDITOR: &str = "/auteur/programmes/CQP-LYON";
const MODULE: &str = "01-suivi-parcours-sante/module.toml";
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
/// What the author writes into the lesson, in the French of a training office.
const REWRITTEN: &str = "Accueil, écoute et secret médical : la leçon réécrite à Lyon.";

type Entries = Vec<(String, Vec<u8>)>;

/// Organism A's copy of the CQP, `CQP-LYON`, and A's administrator.
async fn lyon() -> (TestApp, reqwest::Client, i64) {
    lyon_in(spawn_app().await).await
}

async fn lyon_in(app: TestApp) -> (TestApp, reqwest::Client, i64) {
    let org = app.create_organism("Organisme de Lyon");
    let (admin, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "direction@lyon.fr").await;
    assert_eq!(copy_of_cqp(&app, &admin, org, CODE).await.status(), 303);
    (app, admin, org)
}

/// The draft's revision and stored manifest, and the imports audited.
fn draft_state(app: &TestApp) -> (i32, String, Vec<String>) {
    let mut conn = app.conn();
    let c: &mut DbConn = &mut conn;
    let id: i64 = programs::table
        .filter(programs::code.eq(CODE))
        .select(programs::id)
        .first(c)
        .unwrap();
    let (revision, manifest) = program_drafts::table
        .find(id)
        .select((program_drafts::revision, program_drafts::manifest))
        .first(c)
        .unwrap();
    let events = audit_events::table
        .filter(audit_events::action.eq("program.import"))
        .filter(audit_events::subject_key.eq(CODE))
        .order(audit_events::id)
        .select(audit_events::after_json.assume_not_null())
        .load(c)
        .unwrap();
    (revision, manifest, events)
}

/// What imports and uploads left in the data folder: nothing, once they answered.
fn leftovers(app: &TestApp) -> Vec<PathBuf> {
    ["programmes/imports", "vae/tmp"]
        .iter()
        .flat_map(|d| {
            std::fs::read_dir(app.dir.path().join(d))
                .into_iter()
                .flatten()
        })
        .map(|e| e.unwrap().path())
        .collect()
}

async fn export(app: &TestApp, c: &reqwest::Client) -> Vec<u8> {
    let res = c
        .get(app.url(&format!("{EDITOR}/brouillon.zip")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/zip");
    let disposition = res.headers()["content-disposition"].to_str().unwrap();
    assert!(
        disposition.contains("CQP-LYON-brouillon-r"),
        "{disposition}"
    );
    res.bytes().await.unwrap().to_vec()
}

fn entries(bytes: &[u8]) -> Entries {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut entry = zip.by_index(i).unwrap();
            let mut body = Vec::new();
            entry.read_to_end(&mut body).unwrap();
            (entry.name().to_string(), body)
        })
        .collect()
}

/// A ZIP of these entries, then a symbolic link if one is named.
fn zip_of(entries: &Entries, link: Option<&str>) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default();
    for (name, body) in entries {
        w.start_file(name.as_str(), o).unwrap();
        w.write_all(body).unwrap();
    }
    if let Some(name) = link {
        w.add_symlink(name, "/etc/passwd", o).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// The archive with the file at `path` (inside the programme folder) changed by `f`.
fn with_file(bytes: &[u8], path: &str, f: impl Fn(&str) -> String) -> Vec<u8> {
    with_bytes(bytes, path, |t| f(t).into_bytes())
}

/// `with_file`, `f` giving the file's bytes.
fn with_bytes(bytes: &[u8], path: &str, f: impl Fn(&str) -> Vec<u8>) -> Vec<u8> {
    let mut all = entries(bytes);
    let name = format!("{CODE}/{path}");
    let entry = all.iter_mut().find(|(n, _)| *n == name).expect(path);
    let changed = f(std::str::from_utf8(&entry.1).unwrap());
    assert_ne!(changed, entry.1, "{path} changed");
    entry.1 = changed;
    zip_of(&all, None)
}

/// A text as Windows' Notepad saves it: a byte order mark first, CRLF line ends.
fn notepad_utf8(text: &str) -> Vec<u8> {
    format!("\u{feff}{}", text.replace('\n', "\r\n")).into_bytes()
}

/// A text in Windows-1252 (« ANSI »), as older Windows editors save it: é is one byte.
fn windows_1252(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

fn with_entry(bytes: &[u8], name: &str, body: &[u8]) -> Vec<u8> {
    let mut all = entries(bytes);
    all.push((name.to_string(), body.to_vec()));
    zip_of(&all, None)
}

/// The lesson with a paragraph of the author's own.
fn rewrite(text: &str, words: &str) -> String {
    text.replacen(
        "## Pourquoi ce métier",
        &format!("## Écouter le patient à Lyon\n\n{words}\n\n## Pourquoi ce métier"),
        1,
    )
}

async fn send(
    app: &TestApp,
    c: &reqwest::Client,
    revision: i32,
    zip: Vec<u8>,
) -> reqwest::Response {
    c.post_multipart(app, &format!("{EDITOR}/import"), |form| {
        form.text("revision", revision.to_string()).part(
            "archive",
            Part::bytes(zip)
                .file_name("CQP-LYON.zip")
                .mime_str("application/zip")
                .unwrap(),
        )
    })
    .await
}

#[tokio::test]
async fn a_draft_exported_changed_on_a_computer_and_imported_is_the_next_revision() {
    let (app, admin, org) = lyon().await;
    let html = admin.get_text(&app, EDITOR).await;
    let rev: i32 = revision_in(&html).parse().unwrap();
    let zip = export(&app, &admin).await;
    let names: Vec<String> = entries(&zip).into_iter().map(|(n, _)| n).collect();
    assert!(
        names.iter().all(|n| n.starts_with("CQP-LYON/")),
        "{names:?}"
    );
    assert!(names.contains(&format!("{CODE}/{LESSON}")), "{names:?}");
    assert_eq!(
        export(&app, &admin).await,
        zip,
        "the same draft, the same archive"
    );

    // The lesson rewritten on the author's computer, with accents.
    let changed = with_file(&zip, LESSON, |t| rewrite(t, REWRITTEN));
    let res = send(&app, &admin, rev, changed.clone()).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    assert_eq!(location(&res), "/auteur/programmes/CQP-LYON?avis=importe");
    let (now, manifest, events) = draft_state(&app);
    assert_eq!(now, rev + 1);
    assert_eq!(events.len(), 1);
    assert!(
        events[0].contains(&format!("{LESSON} (modifié)")) && events[0].contains("1 modifié(s)"),
        "{}",
        events[0]
    );
    let file = admin
        .get_text(&app, &format!("{EDITOR}/fichiers/{LESSON}"))
        .await;
    assert!(file.contains(REWRITTEN), "{file}");
    assert!(leftovers(&app).is_empty(), "{:?}", leftovers(&app));

    // The same archive again changes nothing: no revision, no event.
    let res = send(&app, &admin, now, changed).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        location(&res),
        "/auteur/programmes/CQP-LYON?avis=importe-identique"
    );
    assert_eq!(draft_state(&app), (now, manifest, events));

    // Saved by Notepad and zipped on Windows by a tool that separates folders with backslashes.
    let windows: Entries = entries(&with_bytes(&export(&app, &admin).await, LESSON, |t| {
        notepad_utf8(&rewrite(t, "Relue sur un poste Windows."))
    }))
    .into_iter()
    .map(|(n, body)| (n.replace('/', "\\"), body))
    .collect();
    let res = send(&app, &admin, now, zip_of(&windows, None)).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let (now, _, events) = draft_state(&app);
    assert_eq!((now, events.len()), (rev + 2, 2));

    // Published as it stands, the trainee reads it; the export gives it back.
    let res = admin
        .post_form(
            &app,
            &format!("{EDITOR}/publier"),
            &[("revision", now.to_string())],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let (trainee, _) = app.trainee_in(org, CODE, "stagiaire@lyon.fr").await;
    let lesson = trainee
        .get_text(
            &app,
            "/programmes/CQP-LYON/M1/activites/01-role-assistant-parcours-sante",
        )
        .await;
    assert!(
        lesson.contains("Écouter le patient à Lyon")
            && lesson.contains("Relue sur un poste Windows"),
        "{lesson}"
    );
    let back = entries(&export(&app, &admin).await);
    let lesson = back
        .iter()
        .find(|(n, _)| *n == format!("{CODE}/{LESSON}"))
        .unwrap();
    assert!(String::from_utf8_lossy(&lesson.1).contains("Relue sur un poste Windows"));
}

#[tokio::test]
async fn an_unsafe_broken_or_foreign_archive_changes_nothing_and_says_why() {
    let (app, admin, _) = lyon().await;
    let zip = export(&app, &admin).await;
    let before = draft_state(&app);
    let mut other = entries(&zip);
    other.extend(
        entries(&zip)
            .into_iter()
            .map(|(n, body)| (n.replacen(CODE, "AUTRE", 1), body)),
    );
    let link = zip_of(&entries(&zip), Some("CQP-LYON/lien"));
    let not_utf8 = format!("{LESSON} : illisible : le texte n&#x27;est pas en UTF-8");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "../",
            with_entry(&zip, "../evil", b"x"),
            "« ../evil » : chemin refusé (chemin absolu, « .. » ou nom invalide dans l&#x27;archive)",
        ),
        (
            "absolute",
            with_entry(&zip, "/etc/evil", b"x"),
            "« /etc/evil » : chemin refusé",
        ),
        (
            "..\\ of Windows",
            with_entry(&zip, "..\\evil", b"x"),
            "« ..\\evil » : chemin refusé",
        ),
        (
            "link",
            link,
            "« CQP-LYON/lien » : les liens symboliques sont refusés",
        ),
        (
            "Windows-1252",
            with_bytes(&zip, LESSON, |t| windows_1252(&rewrite(t, REWRITTEN))),
            &not_utf8,
        ),
        ("PDF", PDF.to_vec(), "pas une archive ZIP"),
        (
            "damaged ZIP",
            b"PK\x03\x04 tronque en route".to_vec(),
            "Archive refusée : le fichier n&#x27;est pas une archive ZIP lisible",
        ),
        ("empty ZIP", zip_of(&Vec::new(), None), "aucun programme"),
        (
            "two programmes",
            zip_of(&other, None),
            "plusieurs programmes",
        ),
        (
            "hours",
            with_file(&zip, MODULE, |t| {
                t.replace("planned_hours = 77", "planned_hours = 70")
            }),
            MODULE,
        ),
        (
            "another code",
            with_file(&zip, "program.toml", |t| {
                t.replace("code = \"CQP-LYON\"", "code = \"CQP-NICE\"")
            }),
            "Cette archive est le programme CQP-NICE ; ce brouillon est celui de CQP-LYON.",
        ),
    ];
    for (case, bytes, why) in cases {
        let res = send(&app, &admin, before.0, bytes).await;
        let status = res.status();
        let body = res.text().await.unwrap();
        assert_eq!(status, 422, "{case}: {body}");
        assert!(
            body.contains("Import refusé") && body.contains(why),
            "{case}: {body}"
        );
        assert!(body.contains("Rien n'a été importé"), "{case}");
        assert_eq!(draft_state(&app), before, "{case}");
        assert!(leftovers(&app).is_empty(), "{case}: {:?}", leftovers(&app));
    }

    // Refused after reading it, the archive's form is offered again, at the same revision.
    let broken = with_file(&zip, MODULE, |t| {
        t.replace("planned_hours = 77", "planned_hours = 70")
    });
    let body = send(&app, &admin, before.0, broken)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("action=\"/auteur/programmes/CQP-LYON/import\"")
            && body.contains(&format!("name=\"revision\" value=\"{}\"", before.0)),
        "{body}"
    );

    // No file at all.
    let res = admin
        .post_multipart(&app, &format!("{EDITOR}/import"), |f| {
            f.text("revision", before.0.to_string())
        })
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("Choisissez l"));
    assert_eq!(draft_state(&app), before);
}

#[tokio::test]
async fn an_archive_sent_from_a_revision_the_draft_has_left_is_refused_with_who_changed_it() {
    let (app, admin, _) = lyon().await;
    let (rev, _, _) = draft_state(&app);
    let zip = with_file(&export(&app, &admin).await, LESSON, |t| {
        rewrite(t, REWRITTEN)
    });
    // Another author saves a file meanwhile.
    let file = format!("{EDITOR}/fichiers/{MODULE}");
    let text = String::from_utf8(
        entries(&export(&app, &admin).await)
            .into_iter()
            .find(|(n, _)| *n == format!("{CODE}/{MODULE}"))
            .unwrap()
            .1,
    )
    .unwrap()
    .replace("title = \"", "title = \"(relu) ");
    let res = admin
        .post_form(
            &app,
            &file,
            &[("revision", rev.to_string()), ("texte", text)],
        )
        .await;
    assert_eq!(res.status(), 303);
    let before = draft_state(&app);
    assert_eq!(before.0, rev + 1);

    let res = send(&app, &admin, rev, zip).await;
    assert_eq!(res.status(), 409);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("Le brouillon a changé depuis que vous l")
            && body.contains("Personne direction@lyon.fr")
            && body.contains("rien n&#x27;a été importé"),
        "{body}"
    );
    assert_eq!(draft_state(&app), before);
    assert!(leftovers(&app).is_empty());
}

#[tokio::test]
async fn only_the_organisms_authors_export_or_import_its_draft() {
    let (app, admin, org) = lyon().await;
    let other_org = app.create_organism("Organisme de Nice");
    let (other, _) = signed_in(
        &app,
        Role::OrganismAdmin,
        Some(other_org),
        "direction@nice.fr",
    )
    .await;
    let (trainer, trainer_id) =
        signed_in(&app, Role::Trainer, Some(org), "formatrice@lyon.fr").await;
    let zip = export(&app, &admin).await;
    let before = draft_state(&app);
    for (who, c, status) in [("Nice", &other, 404), ("no author", &trainer, 403)] {
        let res = c
            .get(app.url(&format!("{EDITOR}/brouillon.zip")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{who}");
        let res = send(&app, c, before.0, zip.clone()).await;
        assert_eq!(res.status(), status, "{who}");
    }
    assert_eq!(draft_state(&app), before);
    // Named an author, the trainer exports it.
    let res = admin
        .post_form(
            &app,
            &format!("/organismes/{org}/auteurs"),
            &[("author", trainer_id.to_string())],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(export(&app, &trainer).await, zip);
}

#[tokio::test]
async fn an_archive_that_would_overfill_the_organisms_programmes_space_changes_nothing() {
    let app = spawn_app_with(|env| {
        env.insert("PARCOURS_QUOTA_ORGANISM_MB".into(), "2".into());
    })
    .await;
    let (app, admin, _) = lyon_in(app).await;
    let zip = export(&app, &admin).await;
    let before = draft_state(&app);
    let table = "nom;prénom;âge\n".repeat(100_000);
    let big = with_entry(
        &zip,
        "CQP-LYON/01-suivi-parcours-sante/files/registre.csv",
        table.as_bytes(),
    );
    let res = send(&app, &admin, before.0, big).await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("au-delà de leur espace de 2 Mo : rien n&#x27;a été importé"),
        "{body}"
    );
    assert_eq!(draft_state(&app), before);
    // Within the space, the same programme imports.
    let changed = with_file(&zip, LESSON, |t| rewrite(t, REWRITTEN));
    assert_eq!(send(&app, &admin, before.0, changed).await.status(), 303);
}
