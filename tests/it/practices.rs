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
        .post(app.url(&format!("/api/v1/cohorts/{cohort_b}/import")))
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
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_parcours"))
        .args(["import", "trainees", "--cohort", &cohort_b.to_string()])
        .arg(&file)
        .env("DATABASE_URL", &app.database_url)
        .env("PARCOURS_DATA_DIR", app.dir.path())
        .output()
        .unwrap();
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
