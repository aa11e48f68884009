//! An organism's own programme: copied from the reference CQP, edited as a draft by an author
//! the admin named, published as a new version after the checks; cohorts on it, and nobody
//! of another organism sees it.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{audit_events, cohorts, content_versions, programs, users};

use crate::common::*;
use crate::followup::location;

pub(crate) const LESSON: &str =
    "01-suivi-parcours-sante/lessons/01-role-assistant-parcours-sante.md";

pub(crate) async fn copy_of_cqp(
    app: &TestApp,
    admin: &reqwest::Client,
    org: i64,
    code: &str,
) -> reqwest::Response {
    admin
        .post_form(
            app,
            &format!("/organismes/{org}/programmes"),
            &[
                ("source", "CQP-AM"),
                ("code", code),
                ("title", "CQP de Lyon"),
            ],
        )
        .await
}

pub(crate) fn revision_in(html: &str) -> String {
    let at = html
        .find("name=\"revision\" value=\"")
        .expect("revision field")
        + 23;
    html[at..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn an_author_edits_and_publishes_a_copy_and_another_organism_sees_none_of_it() {
    let app = spawn_app().await;
    let (a, b) = (
        app.create_organism("Organisme A"),
        app.create_organism("Organisme B"),
    );
    let (admin, _) = signed_in(&app, Role::OrganismAdmin, Some(a), "admin@a.fr").await;
    let (trainer, trainer_id) = signed_in(&app, Role::Trainer, Some(a), "formatrice@a.fr").await;
    let (other, _) = signed_in(&app, Role::OrganismAdmin, Some(b), "admin@b.fr").await;

    // A bad code is refused and nothing is made.
    let res = copy_of_cqp(&app, &admin, a, "à b").await;
    assert_eq!(res.status(), 422);
    let res = copy_of_cqp(&app, &admin, a, "cqp-lyon").await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    assert_eq!(location(&res), "/auteur/programmes/CQP-LYON");
    // The copy is version 1 of a programme of A's own; its code is taken.
    let mut conn = app.conn();
    let (org, version): (Option<i64>, i64) = programs::table
        .filter(programs::code.eq("CQP-LYON"))
        .select((programs::organism_id, programs::version_id))
        .first(&mut *conn as &mut DbConn)
        .unwrap();
    assert_eq!(org, Some(a));
    let number: i32 = content_versions::table
        .find(version)
        .select(content_versions::number)
        .first(&mut *conn as &mut DbConn)
        .unwrap();
    assert_eq!(number, 1);
    drop(conn);
    assert_eq!(copy_of_cqp(&app, &admin, a, "CQP-LYON").await.status(), 422);

    // A trainer is no author until the admin names her.
    let editor = "/auteur/programmes/CQP-LYON";
    assert_eq!(
        trainer.get(app.url(editor)).send().await.unwrap().status(),
        403
    );
    let res = admin
        .post_form(
            &app,
            &format!("/organismes/{a}/auteurs"),
            &[("author", trainer_id.to_string())],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = trainer.get(app.url(editor)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Révision 1"), "{html}");

    // B's admin and trainee know nothing of it: not in their lists, not its pages.
    let (b_trainee, _) = app.trainee_in(b, "CQP-AM", "stagiaire@b.fr").await;
    for path in [editor, "/programmes/CQP-LYON", "/programmes/CQP-LYON/M1"] {
        let status = other.get(app.url(path)).send().await.unwrap().status();
        assert_eq!(status, 404, "{path}");
        let lesson = format!("{path}/activites/01-role-assistant-parcours-sante");
        let path = if path.ends_with("M1") {
            lesson.as_str()
        } else {
            path
        };
        let status = b_trainee.get(app.url(path)).send().await.unwrap().status();
        assert_eq!(status, 404, "{path}");
    }
    let list = other
        .get(app.url("/parcours"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!list.contains("CQP-LYON"));
    let choices = other
        .get(app.url(&format!("/organismes/{b}/promotions")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!choices.contains("CQP-LYON"));

    // The author rewrites a lesson; a second author on the old revision is told, loses nothing.
    let file = format!("{editor}/fichiers/{LESSON}");
    let form = trainer
        .get(app.url(&file))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rev = revision_in(&form);
    let text = "+++\ntitle = \"Le rôle de l'assistant, réécrit à Lyon\"\nminutes = 10\n+++\n\nUn texte propre à l'organisme.\n";
    let res = trainer
        .post_form(&app, &file, &[("revision", rev.as_str()), ("texte", text)])
        .await;
    assert_eq!(res.status(), 303);
    let res = admin
        .post_form(
            &app,
            &file,
            &[("revision", rev.as_str()), ("texte", "autre texte")],
        )
        .await;
    assert_eq!(res.status(), 409);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("a changé") && body.contains("autre texte"),
        "{body}"
    );

    // Published as version 2 after the checks, audited with what changed.
    let html = trainer
        .get(app.url(editor))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rev = revision_in(&html);
    let res = trainer
        .post_form(
            &app,
            &format!("{editor}/publier"),
            &[("revision", rev.as_str()), ("note", "Relecture")],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let mut conn = app.conn();
    let after: String = audit_events::table
        .filter(audit_events::action.eq("program.publish"))
        .order(audit_events::id.desc())
        .select(audit_events::after_json.assume_not_null())
        .first(&mut *conn as &mut DbConn)
        .unwrap();
    assert!(
        after.contains("\"version\":2") && after.contains(LESSON),
        "{after}"
    );
    let author: bool = users::table
        .find(trainer_id)
        .select(users::can_author)
        .first(&mut *conn as &mut DbConn)
        .unwrap();
    assert!(author);
    drop(conn);
    // Publishing again with nothing changed is refused.
    let html = trainer
        .get(app.url(editor))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rev = revision_in(&html);
    let res = trainer
        .post_form(
            &app,
            &format!("{editor}/publier"),
            &[("revision", rev.as_str())],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("changé depuis la version 2 : il n")
    );

    // A cohort of A on its programme: its trainee reads the new text; staff preview it too.
    let (trainee, _) = app.trainee_in(a, "CQP-LYON", "stagiaire@a.fr").await;
    let lesson = "/programmes/CQP-LYON/M1/activites/01-role-assistant-parcours-sante";
    let page = trainee.get(app.url(lesson)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("réécrit à Lyon"));
    // The reference is unchanged.
    let reference = admin
        .get(app.url("/programmes/CQP-AM/M1/activites/01-role-assistant-parcours-sante"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!reference.contains("réécrit à Lyon"));
    let cohort_program: i64 = cohorts::table
        .inner_join(programs::table)
        .filter(programs::code.eq("CQP-LYON"))
        .select(cohorts::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert!(cohort_program > 0);
}

#[tokio::test]
async fn a_draft_that_breaks_the_programme_rules_is_not_published_and_says_where() {
    let app = spawn_app().await;
    let a = app.create_organism("Organisme A");
    let (admin, _) = signed_in(&app, Role::OrganismAdmin, Some(a), "admin@a.fr").await;
    assert_eq!(copy_of_cqp(&app, &admin, a, "CQP-A").await.status(), 303);
    let editor = "/auteur/programmes/CQP-A";
    let file = format!("{editor}/fichiers/01-suivi-parcours-sante/module.toml");
    let form = admin
        .get(app.url(&file))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rev = revision_in(&form);
    let module = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("content/cqp-assistant-medical/01-suivi-parcours-sante/module.toml"),
    )
    .unwrap();
    let broken = module.replace("planned_hours = 77", "planned_hours = 70");
    assert_ne!(broken, module, "the module plans 77 h");
    let res = admin
        .post_form(
            &app,
            &file,
            &[("revision", rev.as_str()), ("texte", broken.as_str())],
        )
        .await;
    assert_eq!(res.status(), 303);
    let html = admin
        .get(app.url(editor))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("problème(s) à corriger"), "{html}");
    let rev = revision_in(&html);
    let res = admin
        .post_form(
            &app,
            &format!("{editor}/publier"),
            &[("revision", rev.as_str())],
        )
        .await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("Publication refusée") && body.contains("module.toml"),
        "{body}"
    );
    let versions: i64 = content_versions::table
        .filter(content_versions::program_code.eq("CQP-A"))
        .filter(content_versions::number.gt(0))
        .count()
        .get_result(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert_eq!(versions, 1, "nothing published");
}

fn mp4() -> Vec<u8> {
    let mut v = vec![0, 0, 0, 0x18];
    v.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2mp41");
    v.extend_from_slice(&[0u8; 2048]);
    v
}

async fn upload(
    app: &TestApp,
    c: &reqwest::Client,
    rev: &str,
    (name, bytes): (&str, Vec<u8>),
) -> reqwest::Response {
    let (rev, name) = (rev.to_string(), name.to_string());
    c.post_multipart(
        app,
        "/auteur/programmes/CQP-B/modules/01-suivi-parcours-sante/fichiers",
        move |f| {
            f.text("revision", rev).part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name),
            )
        },
    )
    .await
}

async fn add(app: &TestApp, c: &reqwest::Client, fields: &[(&str, &str)]) -> reqwest::Response {
    let html = c
        .get(app.url("/auteur/programmes/CQP-B"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rev = revision_in(&html);
    let mut all = vec![
        ("revision", rev.as_str()),
        ("module", "01-suivi-parcours-sante"),
    ];
    all.extend_from_slice(fields);
    c.post_form(app, "/auteur/programmes/CQP-B/activites", &all)
        .await
}

#[tokio::test]
async fn an_author_adds_a_sequence_with_a_video_a_quiz_and_an_assignment_previews_and_publishes_it()
{
    let app = spawn_app().await;
    let (a, b) = (
        app.create_organism("Organisme A"),
        app.create_organism("Organisme B"),
    );
    let (admin, _) = signed_in(&app, Role::OrganismAdmin, Some(a), "admin@a.fr").await;
    let (other, _) = signed_in(&app, Role::OrganismAdmin, Some(b), "admin@b.fr").await;
    assert_eq!(copy_of_cqp(&app, &admin, a, "CQP-B").await.status(), 303);
    let editor = || async {
        admin
            .get(app.url("/auteur/programmes/CQP-B"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let rev = revision_in(&editor().await);
    // A file that is no video, whatever its name, is refused and nothing changes.
    let res = upload(
        &app,
        &admin,
        &rev,
        ("accueil.mp4", b"ceci n'est pas une video".to_vec()),
    )
    .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("son contenu a été vérifié")
    );
    assert_eq!(revision_in(&editor().await), rev, "nothing saved");
    // A real MP4 under a name with accents and spaces.
    let res = upload(&app, &admin, &rev, ("Accueil du patient é.MP4", mp4())).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    assert!(
        editor()
            .await
            .contains("01-suivi-parcours-sante/files/accueil-du-patient-e.mp4")
    );
    // A new sequence: the video, then a quiz on the module's bank, then an assignment.
    let video = [
        ("sequence", "nouvelle"),
        ("sequence_title", "Accueillir en vidéo"),
        ("kind", "resource"),
        ("slug", "20-video-accueil"),
        ("title", "L'accueil filmé"),
        ("minutes", "6"),
        ("required", "on"),
        ("file", "files/accueil-du-patient-e.mp4"),
    ];
    assert_eq!(add(&app, &admin, &video).await.status(), 303);
    // The same slug again is refused.
    assert_eq!(add(&app, &admin, &video).await.status(), 422);
    let html = editor().await;
    let seq = html
        .split("value=\"01-suivi-parcours-sante|")
        .filter_map(|s| s.split('"').next())
        .last()
        .unwrap()
        .to_string();
    let last = format!("01-suivi-parcours-sante|{seq}");
    for (kind, slug, title) in [
        ("quiz", "21-quiz-accueil", "Quiz — l'accueil"),
        ("assignment", "22-devoir-accueil", "Devoir — votre accueil"),
    ] {
        let fields = [
            ("sequence", last.as_str()),
            ("kind", kind),
            ("slug", slug),
            ("title", title),
            ("minutes", "10"),
            ("required", "on"),
        ];
        let res = add(&app, &admin, &fields).await;
        assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    }
    // The preview shows the draft as a trainee will see it; nobody else reaches it.
    let module = admin
        .get(app.url("/auteur/apercu/CQP-B/M1"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        module.contains("Accueillir en vidéo")
            && module.contains("/auteur/apercu/CQP-B/M1/activites/20-video-accueil"),
        "{module}"
    );
    let page = admin
        .get(app.url("/auteur/apercu/CQP-B/M1/activites/20-video-accueil"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("/auteur/apercu/CQP-B/M1/fichiers/accueil-du-patient-e.mp4"),
        "{page}"
    );
    let video = admin
        .get(app.url("/auteur/apercu/CQP-B/M1/fichiers/accueil-du-patient-e.mp4"))
        .header("range", "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(video.status(), 206);
    assert_eq!(video.headers()["content-type"], "video/mp4");
    assert_eq!(
        admin
            .get(app.url("/auteur/apercu/CQP-B/M1/devoirs/22-devoir-accueil"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        other
            .get(app.url("/auteur/apercu/CQP-B/M1"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // Unpublished, the trainee of a cohort on the programme does not see it.
    let (trainee, _) = app.trainee_in(a, "CQP-B", "stagiaire@a.fr").await;
    let before = trainee
        .get(app.url("/programmes/CQP-B/M1"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!before.contains("Accueillir en vidéo"));
    assert_eq!(
        trainee
            .get(app.url("/programmes/CQP-B/M1/activites/20-video-accueil"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        trainee
            .get(app.url("/auteur/apercu/CQP-B/M1"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // Published (the durations no longer match the distance hours: a warning, not a refusal).
    let rev = revision_in(&editor().await);
    let res = admin
        .post_form(
            &app,
            "/auteur/programmes/CQP-B/publier",
            &[("revision", rev.as_str())],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    // The cohort started on version 1 keeps it until staff move it on.
    let kept = trainee
        .get(app.url("/programmes/CQP-B/M1"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!kept.contains("Accueillir en vidéo"));
    let (late, _) = app.trainee_in(a, "CQP-B", "stagiaire2@a.fr").await;
    let new = late
        .get(app.url("/programmes/CQP-B/M1"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        new.contains("Accueillir en vidéo"),
        "a cohort started on version 2 sees it"
    );
}

#[tokio::test]
async fn an_image_uploaded_into_a_module_shows_in_its_lesson_and_a_missing_one_is_a_problem_of_its_line()
 {
    let app = spawn_app().await;
    let a = app.create_organism("Organisme A");
    let (admin, _) = signed_in(&app, Role::OrganismAdmin, Some(a), "admin@a.fr").await;
    assert_eq!(copy_of_cqp(&app, &admin, a, "CQP-B").await.status(), 303);
    let editor = || async {
        admin
            .get(app.url("/auteur/programmes/CQP-B"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(&[0u8; 64]);
    let rev = revision_in(&editor().await);
    let res = upload(&app, &admin, &rev, ("Schéma circuit.png", png)).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    // A lesson shows it; an image named in a lesson but absent is a problem of that line.
    let file = format!("/auteur/programmes/CQP-B/fichiers/{LESSON}");
    let save = |text: String| {
        let (admin, app, file) = (&admin, &app, file.clone());
        async move {
            let form = admin
                .get(app.url(&file))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let rev = revision_in(&form);
            admin
                .post_form(
                    app,
                    &file,
                    &[("revision", rev.as_str()), ("texte", text.as_str())],
                )
                .await
        }
    };
    let head = "+++\ntitle = \"Le circuit\"\nminutes = 7\n+++\n\n";
    let res = save(format!(
        "{head}Voici le schéma :\n\n![Le circuit](files/absent.png)\n"
    ))
    .await;
    assert_eq!(res.status(), 303);
    let html = editor().await;
    assert!(
        html.contains("01-role-assistant-parcours-sante.md:8") && html.contains("absent.png"),
        "{html}"
    );
    let res = save(format!(
        "{head}Voici le schéma :\n\n![Le circuit](files/schema-circuit.png)\n"
    ))
    .await;
    assert_eq!(res.status(), 303);
    let rev = revision_in(&editor().await);
    let res = admin
        .post_form(
            &app,
            "/auteur/programmes/CQP-B/publier",
            &[("revision", rev.as_str())],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let (trainee, _) = app.trainee_in(a, "CQP-B", "stagiaire@a.fr").await;
    let page = trainee
        .get(app.url("/programmes/CQP-B/M1/activites/01-role-assistant-parcours-sante"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"<img src="../fichiers/schema-circuit.png" alt="Le circuit""#),
        "{page}"
    );
    let img = trainee
        .get(app.url("/programmes/CQP-B/M1/fichiers/schema-circuit.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(img.status(), 200);
    assert_eq!(img.headers()["content-type"], "image/png");
}
