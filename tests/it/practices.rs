//! Employers belong to the organism that named them: a practice typed by another organism,
//! even with the same SIRET, never links its doctors to this organism's trainees.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::schema::{employers, users};

use crate::common::*;

const HEADER: &str = "Nom;Prénom;E-mail;Profil;Date d'embauche;Médecin;E-mail du médecin;Financement;Cabinet;N° SIRET\r\n";

fn user_id(app: &TestApp, email: &str) -> i64 {
    users::table
        .filter(users::email.eq(email))
        .select(users::id)
        .first(&mut *app.conn())
        .unwrap()
}

/// Signs in an imported doctor after giving him a password.
async fn doctor(app: &TestApp, email: &str) -> reqwest::Client {
    let hash = parcours::accounts::password::hash("mot-de-passe-solide").unwrap();
    diesel::update(users::table.filter(users::email.eq(email)))
        .set(users::password_hash.eq(hash))
        .execute(&mut *app.conn())
        .unwrap();
    let c = client();
    assert_eq!(
        login(app, &c, email, "mot-de-passe-solide").await.status(),
        303
    );
    c
}

/// The e-mail addresses of the assistants a doctor's API lists.
async fn assistants(app: &TestApp, c: &reqwest::Client) -> Vec<String> {
    let list: serde_json::Value = c
        .get(app.url("/api/v1/me/assistants"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut emails: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["email"].as_str().unwrap().to_string())
        .collect();
    emails.sort();
    emails
}

#[tokio::test]
async fn a_practice_named_by_another_organism_reaches_none_of_its_trainees() {
    let app = spawn_app().await;
    let (org_a, org_b) = (
        app.create_organism("Organisme A"),
        app.create_organism("Organisme B"),
    );
    let (cohort_a, cohort_b) = (
        app.create_cohort(org_a, "CQP-AM"),
        app.create_cohort(org_b, "CQP-AM"),
    );
    let (chef_a, _) = signed_in(&app, Role::OrganismAdmin, Some(org_a), "chef@a.fr").await;
    signed_in(&app, Role::OrganismAdmin, Some(org_b), "chef@b.fr").await;

    // A: two doctors of the Cabinet des Lilas, one line with its SIRET, one without.
    let file_a = format!(
        "{HEADER}Martin;Léa;lea@a.fr;aucun;01/02/2025;Dr Anne Roy;roy@lilas.fr;ProA;Cabinet des Lilas;732 829 320 00074\r\n\
         Petit;Zoé;zoe@a.fr;aucun;01/02/2025;Dr Paul Roux;roux@lilas.fr;ProA;cabinet des  Lilas;\r\n"
    );
    let html = upload_import(&app, &chef_a, cohort_a, file_a.into_bytes())
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("2 stagiaire(s) ajouté(s)"), "{html}");

    // B through the API: its own doctor, the same practice name and the same SIRET, in a
    // Windows-1252 file as Excel writes it.
    let token_b = api_token(&app, "chef@b.fr").await;
    let file_b = format!(
        "{HEADER}Durand;Inès;ines@b.fr;aucun;01/02/2025;Dr Intrus;intrus@b.fr;ProA;Cabinet des Lilas;73282932000074\r\n\
         Blanc;Jade;jade@b.fr;aucun;01/02/2025;Dr Anne Roy;roy@lilas.fr;Autre;;\r\n"
    );
    let res = client()
        .post(app.url(&format!("/api/v1/cohorts/{cohort_b}/import?confirm=true")))
        .bearer_auth(&token_b)
        .header("content-type", "text/csv")
        .body(encoding_rs::WINDOWS_1252.encode(&file_b).0.into_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

    // B through the command line, by name only.
    let file = app.dir.path().join("b.csv");
    std::fs::write(
        &file,
        format!("{HEADER}Faure;Marc;marc@b.fr;aucun;01/02/2025;Dr Intrus Deux;intrus2@b.fr;ProA;Cabinet des Lilas;\r\n"),
    )
    .unwrap();
    // The test cohort has begun: the late entry is confirmed.
    let out = app.cli(&[
        "import".as_ref(),
        "trainees".as_ref(),
        "--cohort".as_ref(),
        cohort_b.to_string().as_ref(),
        "--confirmer".as_ref(),
        file.as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Two practices of that name, one per organism, each with the SIRET.
    let practices: Vec<(Option<i64>, Option<String>)> = employers::table
        .filter(employers::kind.eq("practice"))
        .order(employers::organism_id.asc())
        .select((employers::organism_id, employers::registration))
        .load(&mut *app.conn())
        .unwrap();
    let siret = Some("siret:73282932000074".to_string());
    assert_eq!(
        practices,
        [(Some(org_a), siret.clone()), (Some(org_b), siret)]
    );

    // B's doctors see B's trainees only, on the API and on the pages.
    let intrus = doctor(&app, "intrus@b.fr").await;
    assert_eq!(assistants(&app, &intrus).await, ["ines@b.fr", "marc@b.fr"]);
    let intrus2 = doctor(&app, "intrus2@b.fr").await;
    assert_eq!(assistants(&app, &intrus2).await, ["ines@b.fr", "marc@b.fr"]);
    let lea = user_id(&app, "lea@a.fr");
    for path in [
        format!("/stagiaires/{lea}"),
        format!("/api/v1/trainees/{lea}"),
    ] {
        let res = intrus.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
        assert!(!res.text().await.unwrap().contains("Léa"), "{path}");
    }
    let page = intrus
        .get(app.url("/mes-assistants"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Inès Durand") && !page.contains("Léa"),
        "{page}"
    );

    // A's doctors do not see B's trainees through the shared name.
    let roux = doctor(&app, "roux@lilas.fr").await;
    assert_eq!(assistants(&app, &roux).await, ["lea@a.fr", "zoe@a.fr"]);
    // A doctor whom both organisms named sees exactly what each put under him: the
    // practice's two trainees from A, his own employee from B.
    let roy = doctor(&app, "roy@lilas.fr").await;
    assert_eq!(
        assistants(&app, &roy).await,
        ["jade@b.fr", "lea@a.fr", "zoe@a.fr"]
    );
}

#[tokio::test]
async fn a_name_shared_by_two_numbered_practices_needs_the_number() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let cohort = app.create_cohort(org, "CQP-AM");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    let file = format!(
        "{HEADER}Martin;Léa;lea@a.fr;aucun;01/02/2025;Dr Anne Roy;roy@a.fr;ProA;Cabinet médical;73282932000074\r\n\
         Petit;Zoé;zoe@a.fr;aucun;01/02/2025;Dr Paul Roux;roux@a.fr;ProA;Cabinet médical;44306184100047\r\n"
    );
    let html = upload_import(&app, &chef, cohort, file.into_bytes())
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("2 stagiaire(s) ajouté(s)"), "{html}");
    let users_before: i64 = users::table.count().get_result(&mut *app.conn()).unwrap();
    let ambiguous = format!(
        "{HEADER}Durand;Inès;ines@a.fr;aucun;01/02/2025;Dr Anne Roy;roy@a.fr;ProA;Cabinet Médical;\r\n"
    );
    let res = upload_import(&app, &chef, cohort, ambiguous.into_bytes()).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("plusieurs cabinets") && html.contains("SIRET"),
        "{html}"
    );
    let users_after: i64 = users::table.count().get_result(&mut *app.conn()).unwrap();
    assert_eq!(users_before, users_after, "a refused file creates nobody");
}

/// A database as the leak left it: one practice shared by two organisms' trainees, with a
/// doctor of each, and an employer nobody points at. The migration gives each organism its
/// own copy and drops the orphan.
#[test]
fn the_migration_splits_a_practice_that_two_organisms_shared() {
    use diesel_migrations::MigrationHarness;
    use parcours::db::schema::{employer_doctors, trainee_profiles};
    use parcours::db::{self, DbConn};
    let dir = tempfile::tempdir().unwrap();
    let (url, pg) = match pg_base() {
        Some(server) => {
            let (url, name) = create_pg_database(&server);
            (url, Some((server, name)))
        }
        None => (
            format!("sqlite://{}", dir.path().join("m.db").display()),
            None,
        ),
    };
    let (pool, _) = db::connect(&url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    db::migrate(&mut conn).unwrap();
    // Back to the schema before employers had an organism.
    loop {
        let version = match &mut *conn {
            DbConn::Sqlite(c) => c.revert_last_migration(db::SQLITE_MIGRATIONS),
            DbConn::Pg(c) => c.revert_last_migration(db::PG_MIGRATIONS),
        }
        .unwrap()
        .to_string();
        if version.starts_with("20261204000016") {
            break;
        }
    }
    let c: &mut DbConn = &mut conn;
    let org = |c: &mut DbConn, name: &str| {
        parcours::organisms::store::create(
            c,
            None,
            &parcours::organisms::rules::Organism {
                name: name.into(),
                ..Default::default()
            },
        )
        .unwrap()
    };
    let (a, b) = (org(c, "Organisme A"), org(c, "Organisme B"));
    let user = |c: &mut DbConn, email: &str, role: Role, organism: Option<i64>| {
        parcours::accounts::store::create(
            c,
            None,
            parcours::accounts::store::NewUser {
                email,
                name: email,
                role,
                organism_id: organism,
                password_hash: None,
            },
        )
        .unwrap()
    };
    let (doctor_a, doctor_b) = (
        user(c, "roy@lilas.fr", Role::Doctor, None),
        user(c, "intrus@b.fr", Role::Doctor, None),
    );
    let (lea, ines) = (
        user(c, "lea@a.fr", Role::Trainee, Some(a)),
        user(c, "ines@b.fr", Role::Trainee, Some(b)),
    );
    let employer = |c: &mut DbConn, name: &str| -> i64 {
        diesel::insert_into(employers::table)
            .values((
                employers::name.eq(name),
                employers::kind.eq("practice"),
                employers::created_at.eq(db::now()),
            ))
            .returning(employers::id)
            .get_result(c)
            .unwrap()
    };
    let (lilas, orphan) = (
        employer(c, "Cabinet des Lilas"),
        employer(c, "Cabinet fermé"),
    );
    for (e, d) in [(lilas, doctor_a), (lilas, doctor_b), (orphan, doctor_a)] {
        diesel::insert_into(employer_doctors::table)
            .values((
                employer_doctors::employer_id.eq(e),
                employer_doctors::doctor_id.eq(d),
            ))
            .execute(c)
            .unwrap();
    }
    for (t, o) in [(lea, a), (ines, b)] {
        parcours::cohorts::store::create_profile(
            c,
            &parcours::cohorts::store::NewProfile {
                user_id: t,
                organism_id: o,
                profile: "aucun",
                hire_date: chrono::NaiveDate::from_ymd_opt(2025, 2, 1).unwrap(),
                funding: "proa",
                employer_id: Some(lilas),
            },
        )
        .unwrap();
    }

    db::migrate(c).unwrap();
    let rows: Vec<(i64, String, Option<i64>)> = employers::table
        .order(employers::id.asc())
        .select((employers::id, employers::name, employers::organism_id))
        .load(c)
        .unwrap();
    assert_eq!(rows.len(), 2, "one copy per organism, no orphan: {rows:?}");
    assert_eq!(rows[0], (lilas, "Cabinet des Lilas".into(), Some(a)));
    let copy = rows[1].0;
    assert_eq!(rows[1].2, Some(b));
    let of = |c: &mut DbConn, t: i64| -> Option<i64> {
        trainee_profiles::table
            .filter(trainee_profiles::user_id.eq(t))
            .select(trainee_profiles::employer_id)
            .first(c)
            .unwrap()
    };
    assert_eq!((of(c, lea), of(c, ines)), (Some(lilas), Some(copy)));
    let links: i64 = employer_doctors::table
        .filter(employer_doctors::employer_id.eq(copy))
        .count()
        .get_result(c)
        .unwrap();
    assert_eq!(links, 2, "the copy keeps the doctors it had");
    drop(conn);
    drop(pool);
    if let Some((server, name)) = pg {
        drop_pg_database(&server, &name);
    }
}

/// Offices often write the practice where the doctor's name goes. The practice becomes the
/// employer with its doctors attached; no doctor account is named after it, and no mail greets
/// "Maison de santé…" as a doctor.
#[tokio::test]
async fn a_practice_in_the_doctors_column_becomes_the_employer() {
    use parcours::db::schema::{employer_doctors, outbox};
    let app = spawn_app().await;
    let org = app.create_organism("Institut des Alpes");
    let cohort = app.create_cohort(org, "CQP-AM");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@alpes.fr").await;
    let text = "Nom;Prénom;E-mail;Profil;Date d'embauche;Médecin;E-mail du médecin;Financement\r\n\
        Lefèvre;Hélène;helene@orange.fr;Secrétaire médicale;02/09/2024;Maison de santé des Écrins;e.roy@msp-ecrins.fr;ProA\r\n\
        Bérard;Zoé;zoe@laposte.net;aucun;03/03/2025;MAISON DE SANTÉ DES ÉCRINS;b.gael@msp-ecrins.fr;Autre\r\n\
        Faure;Noé;noe@free.fr;aucun;03/03/2025;Dr Noémie Faure;n.faure@wanadoo.fr;Autre\r\n";
    let bytes = encoding_rs::WINDOWS_1252.encode(text).0.into_owned();
    let res = upload_import(&app, &chef, cohort, bytes).await;
    let html = res.text().await.unwrap();
    assert!(html.contains("3 stagiaire(s) ajouté(s)"), "{html}");
    let practices: Vec<(i64, String)> = employers::table
        .filter(employers::organism_id.eq(org))
        .filter(employers::kind.eq("practice"))
        .select((employers::id, employers::name))
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(practices.len(), 1, "{practices:?}");
    assert_eq!(practices[0].1, "Maison de santé des Écrins");
    let mut doctors: Vec<i64> = employer_doctors::table
        .filter(employer_doctors::employer_id.eq(practices[0].0))
        .select(employer_doctors::doctor_id)
        .load(&mut *app.conn())
        .unwrap();
    doctors.sort();
    let mut expected = vec![
        user_id(&app, "e.roy@msp-ecrins.fr"),
        user_id(&app, "b.gael@msp-ecrins.fr"),
    ];
    expected.sort();
    assert_eq!(doctors, expected);
    let names: Vec<String> = users::table
        .select(users::name)
        .load(&mut *app.conn())
        .unwrap();
    assert!(
        names
            .iter()
            .all(|n| !n.to_lowercase().contains("maison de sant")),
        "{names:?}"
    );
    let bodies: Vec<String> = outbox::table
        .select(outbox::body_text)
        .load(&mut *app.conn())
        .unwrap();
    assert!(
        bodies.iter().all(|b| !b.contains("Bonjour Maison")),
        "{bodies:?}"
    );
    // A doctor named as a person still gets his own employer under his name.
    assert!(
        bodies.iter().any(|b| b.contains("Bonjour Dr Noémie Faure")),
        "{bodies:?}"
    );
    // The practice's doctor is greeted without a name, not by his address.
    let mails: Vec<(String, String)> = outbox::table
        .select((outbox::recipients, outbox::body_text))
        .load(&mut *app.conn())
        .unwrap();
    let roy = mails
        .iter()
        .find(|(r, _)| r.contains("e.roy@msp-ecrins.fr"))
        .map(|(_, b)| b.clone())
        .unwrap();
    assert!(roy.contains("Bonjour,"), "{roy}");
}

/// After an upload the page redirects to the import's report (POST, redirect, GET): reloading
/// it shows the same report and imports nothing twice. The report is the cohort's only:
/// another organism's admin, or another cohort's address, gets 404.
#[tokio::test]
async fn an_upload_redirects_to_its_report_which_a_reload_shows_again() {
    use parcours::db::schema::audit_events;
    let app = spawn_app().await;
    let org = app.create_organism("Institut des Alpes");
    let cohort = app.create_cohort(org, "CQP-AM");
    let other_cohort = app.create_cohort(org, "CQP-AM");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@alpes.fr").await;
    let other = app.create_organism("Autre organisme");
    let (stranger, _) = signed_in(&app, Role::OrganismAdmin, Some(other), "chef@autre.fr").await;
    let text = format!(
        "{HEADER}Lefèvre;Hélène;helene@orange.fr;Secrétaire médicale;02/09/2024;Dr Élise Roy;e.roy@msp.fr;ProA;;\r\n"
    );
    let res = post_import(&app, &chef, cohort, text.clone().into_bytes()).await;
    assert_eq!(res.status(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_string();
    let report: i64 = to
        .rsplit('=')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{to}"));
    let page = |c: &reqwest::Client, path: String| {
        let c = c.clone();
        let url = app.url(&path);
        async move { c.get(url).send().await.unwrap() }
    };
    for _ in 0..2 {
        let res = page(&chef, to.clone()).await;
        assert_eq!(res.status(), 200);
        let html = res.text().await.unwrap();
        assert!(html.contains("1 stagiaire(s) ajouté(s)"), "{html}");
        assert!(html.contains("« Secrétaire médicale » est gardé"), "{html}");
    }
    let imports: i64 = audit_events::table
        .filter(audit_events::action.eq("trainees_imported"))
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(imports, 1, "a reload sends nothing");
    let res = page(&stranger, to.clone()).await;
    assert_eq!(res.status(), 404);
    let res = page(&chef, format!("/promotions/{other_cohort}?import={report}")).await;
    assert_eq!(res.status(), 404);
    let res = page(&chef, format!("/promotions/{cohort}?import=abc")).await;
    assert_eq!(res.status(), 422);
    // A refused file changes nothing and says why on the page itself.
    let res = post_import(&app, &chef, cohort, b"Nom;Courriel\r\n".to_vec()).await;
    assert_eq!(res.status(), 422);
}
