//! A draft seen before it is published, and what an upload may not do: a draft that fails the
//! checks has no preview (the editor says why), a preview's links stay inside the preview, and
//! an upload past the organism's space keeps nothing.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{program_drafts, programs};

use crate::authoring::{copy_of_cqp, revision_in};
use crate::common::*;

const CODE: &str = "CQP-NANTES";
const EDITOR: &str = "/auteur/programmes/CQP-NANTES";

async fn nantes(app: &TestApp) -> reqwest::Client {
    let org = app.create_organism("Organisme de Nantes");
    let (admin, _) = signed_in(app, Role::OrganismAdmin, Some(org), "direction@nantes.fr").await;
    assert_eq!(copy_of_cqp(app, &admin, org, CODE).await.status(), 303);
    admin
}

/// The draft's revision and stored manifest.
fn draft(app: &TestApp) -> (i32, String) {
    program_drafts::table
        .inner_join(programs::table.on(programs::id.eq(program_drafts::program_id)))
        .filter(programs::code.eq(CODE))
        .select((program_drafts::revision, program_drafts::manifest))
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

async fn text(c: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// Every file of a folder under the data folder, recursively.
fn files_under(app: &TestApp, dir: &str) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![app.dir.path().join(dir)];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn a_preview_stays_inside_it_and_a_draft_failing_the_checks_has_none() {
    let app = spawn_app().await;
    let admin = nantes(&app).await;
    let (status, html) = text(&admin, &app, &format!("/auteur/apercu/{CODE}/M1")).await;
    assert_eq!(status, 200);
    let lesson = format!("/auteur/apercu/{CODE}/M1/activites/01-role-assistant-parcours-sante");
    assert!(html.contains(&lesson), "{html}");
    assert!(
        !html.contains(&format!("/programmes/{CODE}/")),
        "a link leaves the preview: {html}"
    );
    let (status, page) = text(&admin, &app, &lesson).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("href=\"/auteur/apercu/{CODE}/M1\"")),
        "{page}"
    );
    assert!(!page.contains(&format!("/programmes/{CODE}")), "{page}");

    // Module 1 made to count more hours than the programme has: no preview, and why.
    let file = format!("{EDITOR}/fichiers/01-suivi-parcours-sante/module.toml");
    let (_, form) = text(&admin, &app, &file).await;
    let toml = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/content/cqp-assistant-medical/01-suivi-parcours-sante/module.toml"
    ))
    .unwrap()
    .replace("planned_hours = 77", "planned_hours = 78");
    let fields = [("revision", revision_in(&form)), ("texte", toml)];
    assert_eq!(admin.post_form(&app, &file, &fields).await.status(), 303);
    let (status, body) = text(&admin, &app, &format!("/auteur/apercu/{CODE}/M1")).await;
    assert_eq!(status, 409);
    assert!(
        body.contains("Le brouillon ne passe pas les vérifications"),
        "{body}"
    );
    let (status, editor) = text(&admin, &app, EDITOR).await;
    assert_eq!(status, 200);
    assert!(editor.contains("module.toml"), "{editor}");
}

fn mp4(size: usize) -> Vec<u8> {
    let mut v = vec![0, 0, 0, 0x18];
    v.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2mp41");
    v.resize(size, 0);
    v
}

#[tokio::test]
async fn an_upload_past_the_organisms_space_keeps_nothing() {
    let app = spawn_app_with(|env| {
        env.insert("PARCOURS_QUOTA_ORGANISM_MB".into(), "2".into());
    })
    .await;
    let admin = nantes(&app).await;
    let before = draft(&app);
    let blobs = app.kept_programme_files();
    let send = |size: usize| {
        let (admin, app, rev) = (&admin, &app, before.0.to_string());
        async move {
            admin
                .post_multipart(
                    app,
                    &format!("{EDITOR}/modules/01-suivi-parcours-sante/fichiers"),
                    move |f| {
                        f.text("revision", rev).part(
                            "file",
                            reqwest::multipart::Part::bytes(mp4(size))
                                .file_name("Accueil du patient.mp4"),
                        )
                    },
                )
                .await
        }
    };
    let res = send(3 << 20).await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("L&#x27;espace des programmes de l&#x27;organisme est plein")
            && body.contains("sur 2 Mo) : rien n&#x27;a été gardé."),
        "{body}"
    );
    assert_eq!(draft(&app), before);
    assert_eq!(app.kept_programme_files(), blobs);
    assert_eq!(
        files_under(&app, "programmes/tmp"),
        Vec::<std::path::PathBuf>::new()
    );
    // A small video fits, and is named from its words.
    let res = send(64 << 10).await;
    assert_eq!(res.status(), 303);
    let (revision, manifest) = draft(&app);
    assert_eq!(revision, before.0 + 1);
    assert!(
        manifest.contains("01-suivi-parcours-sante/files/accueil-du-patient.mp4"),
        "{manifest}"
    );
}
