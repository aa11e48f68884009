//! An organism's programme begun from nothing: created by its administrator with a skeleton
//! `program.toml`, filled module by module and activity by activity, published as version 1
//! once the hours add up; an activity taken out of the draft keeps its row and its hours.
//! Bad input changes nothing; nobody of another organism reaches any of it.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{
    audit_events, content_versions, lessons, modules, program_drafts, programs,
};

use crate::authoring::revision_in;
use crate::common::*;
use crate::followup::location;

const EDITOR: &str = "/auteur/programmes/FAE-LYON";

async fn create(
    app: &TestApp,
    c: &reqwest::Client,
    org: i64,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    c.post_form(
        app,
        &format!("/organismes/{org}/programmes/nouveau"),
        fields,
    )
    .await
}

async fn page(app: &TestApp, c: &reqwest::Client, path: &str) -> String {
    c.get(app.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The draft's revision and manifest, as stored.
fn draft(app: &TestApp) -> (i32, String) {
    program_drafts::table
        .inner_join(programs::table.on(programs::id.eq(program_drafts::program_id)))
        .filter(programs::code.eq("FAE-LYON"))
        .select((program_drafts::revision, program_drafts::manifest))
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

fn program_count(app: &TestApp) -> i64 {
    programs::table
        .count()
        .get_result(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

/// The module form's fields, with these changed.
fn module<'a>(rev: &'a str, changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("revision", rev),
        ("code", "M1"),
        ("title", "Accueil et dossier du patient"),
        ("order", "1"),
        ("distance_hours", "6"),
        ("presentiel_hours", "4"),
        ("missions", "administratif"),
        ("missions", "coordination"),
    ];
    for (k, v) in changes {
        fields.retain(|(f, _)| f != k);
        fields.push((k, v));
    }
    fields
}

async fn add_lesson(
    app: &TestApp,
    c: &reqwest::Client,
    dir: &str,
    (slug, minutes, required): (&str, &str, bool),
) -> reqwest::Response {
    let rev = revision_in(&page(app, c, EDITOR).await);
    let mut fields = vec![
        ("revision", rev.as_str()),
        ("module", dir),
        ("sequence", "nouvelle"),
        ("sequence_title", "Découvrir"),
        ("kind", "lesson"),
        ("slug", slug),
        ("title", "Une leçon"),
        ("minutes", minutes),
    ];
    if required {
        fields.push(("required", "on"));
    }
    c.post_form(app, &format!("{EDITOR}/activites"), &fields)
        .await
}

async fn publish(app: &TestApp, c: &reqwest::Client) -> reqwest::Response {
    let rev = revision_in(&page(app, c, EDITOR).await);
    c.post_form(
        app,
        &format!("{EDITOR}/publier"),
        &[("revision", rev.as_str())],
    )
    .await
}

#[tokio::test]
async fn a_programme_from_scratch_gets_modules_and_lessons_and_is_published_as_version_1() {
    let app = spawn_app().await;
    let (a, b) = (
        app.create_organism("Organisme A"),
        app.create_organism("Organisme B"),
    );
    let (admin, _) = signed_in(&app, Role::OrganismAdmin, Some(a), "admin@a.fr").await;
    let (trainer, _) = signed_in(&app, Role::Trainer, Some(a), "formatrice@a.fr").await;
    let (other, _) = signed_in(&app, Role::OrganismAdmin, Some(b), "admin@b.fr").await;
    let good = [
        ("code", "fae-lyon"),
        ("title", "FAE de Lyon"),
        ("kind", "fae"),
        ("total_hours", "20"),
    ];

    // Bad input, or someone else than A's administrator: nothing is made.
    let before = program_count(&app);
    for (field, value) in [
        ("code", "CQP-AM"),
        ("code", "à b"),
        ("title", " "),
        ("kind", "bts"),
        ("total_hours", "vingt"),
        ("total_hours", "0"),
    ] {
        let mut fields = good.to_vec();
        fields.retain(|(f, _)| *f != field);
        fields.push((field, value));
        let res = create(&app, &admin, a, &fields).await;
        assert_eq!(res.status(), 422, "{field}={value}");
    }
    assert_eq!(create(&app, &trainer, a, &good).await.status(), 403);
    assert_eq!(create(&app, &other, a, &good).await.status(), 403);
    assert_eq!(program_count(&app), before, "nothing created");

    // Created: A's own, on the placeholder, audited; a draft with its program.toml only.
    let res = create(&app, &admin, a, &good).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    assert_eq!(location(&res), format!("{EDITOR}?avis=cree"));
    let mut conn = app.conn();
    let (org, version, kind): (Option<i64>, i64, String) = programs::table
        .filter(programs::code.eq("FAE-LYON"))
        .select((programs::organism_id, programs::version_id, programs::kind))
        .first(&mut *conn as &mut DbConn)
        .unwrap();
    assert_eq!((org, kind.as_str()), (Some(a), "fae"));
    let number: i32 = content_versions::table
        .find(version)
        .select(content_versions::number)
        .first(&mut *conn as &mut DbConn)
        .unwrap();
    assert_eq!(number, 0, "unpublished");
    let after: String = audit_events::table
        .filter(audit_events::action.eq("program.create"))
        .filter(audit_events::subject_key.eq("FAE-LYON"))
        .select(audit_events::after_json.assume_not_null())
        .first(&mut *conn as &mut DbConn)
        .unwrap();
    assert!(after.contains("\"vierge\":true"), "{after}");
    drop(conn);
    let (_, files) = draft(&app);
    assert!(files.contains("program.toml") && !files.contains("module.toml"));
    assert_eq!(create(&app, &admin, a, &good).await.status(), 422, "taken");
    assert_eq!(program_count(&app), before + 1);

    // Listed as not yet published; no cohort may start on it.
    let list = page(&app, &admin, &format!("/organismes/{a}/programmes")).await;
    assert!(
        list.contains("FAE de Lyon") && list.contains("pas encore publiée"),
        "{list}"
    );
    let cohort = [
        ("name", "FAE Lyon 1"),
        ("program", "FAE-LYON"),
        ("start_date", "2026-09-01"),
        ("end_date", "2027-07-01"),
    ];
    let cohorts = format!("/organismes/{a}/promotions");
    assert_eq!(admin.post_form(&app, &cohorts, &cohort).await.status(), 422);
    // Its staff's list of programmes leaves it out; it has no published pages yet.
    let mine = page(&app, &admin, "/parcours").await;
    assert!(
        mine.contains("CQP-AM") && !mine.contains("FAE-LYON"),
        "{mine}"
    );
    for path in ["/programmes/FAE-LYON", "/programmes/FAE-LYON/archive.zip"] {
        let status = admin.get(app.url(path)).send().await.unwrap().status();
        assert_eq!(status, 404, "{path}");
    }
    // The editor shows what the checks find.
    let html = page(&app, &admin, EDITOR).await;
    assert!(
        html.contains("Pas encore de version publiée") && html.contains("aucun module"),
        "{html}"
    );

    // Modules: bad ones change nothing, and neither does a stale revision.
    let rev = revision_in(&html);
    for (changes, message) in [
        (vec![("title", "")], "Donnez un titre"),
        (vec![("distance_hours", "six")], "heures entier attendu"),
        (vec![("code", "M 1")], "Code de module invalide"),
        (vec![("missions", "")], "au moins une mission"),
    ] {
        let mut fields = module(&rev, &changes);
        if changes[0].0 == "missions" {
            fields.retain(|(f, _)| *f != "missions");
        }
        let res = admin
            .post_form(&app, &format!("{EDITOR}/modules"), &fields)
            .await;
        assert_eq!(res.status(), 422, "{changes:?}");
        let body = res.text().await.unwrap();
        assert!(
            body.contains("Modification refusée") && body.contains(message),
            "{body}"
        );
    }
    assert_eq!(draft(&app).0.to_string(), rev, "nothing saved");
    let res = admin
        .post_form(&app, &format!("{EDITOR}/modules"), &module(&rev, &[]))
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    assert_eq!(location(&res), format!("{EDITOR}?avis=module"));
    let (rev2, files) = draft(&app);
    assert!(files.contains("01-accueil-et-dossier-du-patient/module.toml"));
    // The same code, or the revision it was added over: refused.
    let next = rev2.to_string();
    let fields = module(
        &next,
        &[("order", "2"), ("title", "Autre"), ("folder", "autre")],
    );
    let res = admin
        .post_form(&app, &format!("{EDITOR}/modules"), &fields)
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("déjà pris"));
    let stale = module(&rev, &[("code", "M2"), ("order", "2"), ("title", "Autre")]);
    let res = admin
        .post_form(&app, &format!("{EDITOR}/modules"), &stale)
        .await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("a changé entre-temps"));
    assert_eq!(draft(&app), (rev2, files), "nothing lost, nothing added");

    // Nobody outside: another organism's admin does not see it; a trainer who is no author
    // may not.
    let m2 = module(
        &next,
        &[
            ("code", "M2"),
            ("order", "2"),
            ("title", "Coordination du parcours"),
            ("distance_hours", "3"),
            ("presentiel_hours", "7"),
        ],
    );
    for (who, status) in [(&other, 404), (&trainer, 403)] {
        let res = who.post_form(&app, &format!("{EDITOR}/modules"), &m2).await;
        assert_eq!(res.status(), status);
        assert_eq!(
            who.get(app.url(EDITOR)).send().await.unwrap().status(),
            status
        );
    }
    let res = admin
        .post_form(&app, &format!("{EDITOR}/modules"), &m2)
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());

    // A lesson per module covering its distance hours; the modules make the 20 h.
    let m1 = "01-accueil-et-dossier-du-patient";
    let m2 = "02-coordination-du-parcours";
    assert_eq!(
        add_lesson(&app, &admin, m1, ("accueil", "360", true))
            .await
            .status(),
        303
    );
    assert_eq!(
        add_lesson(&app, &admin, m2, ("parcours", "180", true))
            .await
            .status(),
        303
    );
    // And one more, optional, that will be taken out.
    assert_eq!(
        add_lesson(&app, &admin, m1, ("en-plus", "20", false))
            .await
            .status(),
        303
    );
    let html = page(&app, &admin, EDITOR).await;
    assert!(!html.contains("problème(s) à corriger"), "{html}");
    // Each activity has its button in its module's removal form.
    let form = format!("action=\"{EDITOR}/modules/{m1}/retrait\"");
    let button = "name=\"activite\" value=\"lessons/en-plus.md\"";
    assert!(html.contains(&form) && html.contains(button), "{html}");
    let res = publish(&app, &admin).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    assert_eq!(location(&res), format!("{EDITOR}?avis=publie-1"));

    // A cohort may now start on it, and its trainee reads the lessons.
    let res = admin.post_form(&app, &cohorts, &cohort).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let (trainee, _) = app.trainee_in(a, "FAE-LYON", "stagiaire@a.fr").await;
    let lesson = "/programmes/FAE-LYON/M1/activites/en-plus";
    assert_eq!(
        trainee.get(app.url(lesson)).send().await.unwrap().status(),
        200
    );
    let en_plus: i64 = lessons::table
        .inner_join(modules::table.inner_join(programs::table))
        .filter(programs::code.eq("FAE-LYON"))
        .filter(lessons::slug.eq("en-plus"))
        .select(lessons::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();

    // Taking the optional lesson out: refused for an entry no sequence lists, for a stale
    // revision, for other people; then done, its file gone from the draft.
    let remove = format!("{EDITOR}/modules/{m1}/retrait");
    let (rev, files) = draft(&app);
    let rev = rev.to_string();
    let entry = "lessons/en-plus.md";
    for (who, fields, status) in [
        (
            &admin,
            [("revision", rev.as_str()), ("activite", "lessons/rien.md")],
            422,
        ),
        (&admin, [("revision", "1"), ("activite", entry)], 409),
        (
            &other,
            [("revision", rev.as_str()), ("activite", entry)],
            404,
        ),
        (
            &trainer,
            [("revision", rev.as_str()), ("activite", entry)],
            403,
        ),
    ] {
        let res = who.post_form(&app, &remove, &fields).await;
        assert_eq!(res.status(), status, "{fields:?}");
    }
    assert_eq!(draft(&app).1, files, "nothing changed");
    let res = admin
        .post_form(
            &app,
            &remove,
            &[("revision", rev.as_str()), ("activite", entry)],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    assert_eq!(location(&res), format!("{EDITOR}?avis=retrait"));
    let (_, files) = draft(&app);
    assert!(!files.contains("en-plus") && files.contains("lessons/accueil.md"));
    let module_toml = page(&app, &admin, &format!("{EDITOR}/fichiers/{m1}/module.toml")).await;
    assert!(!module_toml.contains("en-plus") && module_toml.contains("accueil.md"));

    // Version 2 has it no more; its row stays, retired, with the same id.
    let res = publish(&app, &admin).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    assert_eq!(location(&res), format!("{EDITOR}?avis=publie-2"));
    let retired: bool = lessons::table
        .find(en_plus)
        .select(lessons::retired)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert!(retired);
    let other_page = other
        .get(app.url("/programmes/FAE-LYON"))
        .send()
        .await
        .unwrap();
    assert_eq!(other_page.status(), 404);
}
