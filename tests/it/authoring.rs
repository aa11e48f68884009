//! An organism's own programme: copied from the reference CQP, edited as a draft by an author
//! the admin named, published as a new version after the checks; cohorts on it, and nobody
//! of another organism sees it.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{audit_events, cohorts, content_versions, programs, users};

use crate::common::*;
use crate::followup::location;

const LESSON: &str = "01-suivi-parcours-sante/lessons/01-role-assistant-parcours-sante.md";

async fn copy_of_cqp(
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

fn revision_in(html: &str) -> String {
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

    // B's admin knows nothing of it: not in its lists, not its pages.
    for path in [editor, "/programmes/CQP-LYON", "/programmes/CQP-LYON/M1"] {
        assert_eq!(
            other.get(app.url(path)).send().await.unwrap().status(),
            404,
            "{path}"
        );
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
