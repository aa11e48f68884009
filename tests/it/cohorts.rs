//! Cohorts and trainees: creation rules, CSV import, scopes, individual path, calendar.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::schema::{audit_events, enrolments, outbox, users};

use crate::common::*;

const HEADER: &str =
    "Nom;Prénom;E-mail;Profil;Date d'embauche;Médecin;E-mail du médecin;Financement\r\n";

/// An Excel-like file: Windows-1252, `;`, CRLF, French dates; 30 trainees and 10 doctors.
fn excel_file(n: usize, prefix: &str) -> Vec<u8> {
    let mut text = HEADER.to_string();
    for i in 0..n {
        text.push_str(&format!(
            "Lefèvre{i};Hélène;{prefix}{i}@cabinet.fr;aucun;0{}/03/2025;Dr Élise Roy{};roy{}@medecin.fr;Contrat de professionnalisation\r\n",
            1 + i % 9,
            i % 10,
            i % 10
        ));
    }
    encoding_rs::WINDOWS_1252.encode(&text).0.into_owned()
}

fn n_users(app: &TestApp) -> i64 {
    users::table.count().get_result(&mut *app.conn()).unwrap()
}

fn n_outbox(app: &TestApp) -> i64 {
    outbox::table.count().get_result(&mut *app.conn()).unwrap()
}

#[tokio::test]
async fn cohort_dates_must_fit_the_programme() {
    let app = spawn_app().await;
    let a = app.create_organism("Organisme A");
    let b = app.create_organism("Organisme B");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(a), "chef@a.fr").await;
    let (chef_b, _) = signed_in(&app, Role::OrganismAdmin, Some(b), "chef@b.fr").await;
    let cohorts = format!("/organismes/{a}/promotions");
    let url = app.url(&cohorts);
    for (end, message) in [
        (
            "2026-08-01",
            "La date de fin doit être après la date de début.",
        ),
        ("2027-10-01", "entre 10 et 12 mois"),
    ] {
        let res = chef
            .post_form(
                &app,
                &cohorts,
                &[
                    ("name", "P1"),
                    ("program", "CQP-AM"),
                    ("start_date", "2026-09-01"),
                    ("end_date", end),
                ],
            )
            .await;
        assert_eq!(res.status(), 422, "{end}");
        let html = res.text().await.unwrap();
        assert!(html.contains(message), "{html}");
    }
    let res = chef_b
        .post_form(
            &app,
            &cohorts,
            &[
                ("name", "Intrus"),
                ("program", "CQP-AM"),
                ("start_date", "2026-09-01"),
                ("end_date", "2027-07-01"),
            ],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(chef_b.get(&url).send().await.unwrap().status(), 403);
    let res = chef
        .post_form(
            &app,
            &cohorts,
            &[
                ("name", "Promo 2026"),
                ("program", "CQP-AM"),
                ("start_date", "2026-09-01"),
                ("end_date", "2027-07-01"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = chef.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Promo 2026") && !page.contains("Intrus"));
}

#[tokio::test]
async fn an_excel_csv_enrols_thirty_trainees_and_invites_their_doctors_once() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let cohort = app.create_cohort(org, "CQP-AM");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    let res = upload_import(&app, &chef, cohort, excel_file(30, "stagiaire")).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("30 stagiaire(s) ajouté(s)"), "{html}");
    assert!(html.contains("10 médecin(s) invité(s)"));
    assert!(html.contains("Hélène Lefèvre7"));
    assert_eq!(n_outbox(&app), 40, "30 trainees and 10 doctors invited");
    let users_after = n_users(&app);
    // The same file again changes nothing.
    let res = upload_import(&app, &chef, cohort, excel_file(30, "stagiaire")).await;
    let html = res.text().await.unwrap();
    assert!(
        html.contains("0 stagiaire(s) ajouté(s), 0 mis à jour, 30 inchangé(s)"),
        "{html}"
    );
    assert_eq!(n_outbox(&app), 40);
    assert_eq!(n_users(&app), users_after);
    let active: i64 = enrolments::table
        .filter(enrolments::cohort_id.eq(cohort))
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(active, 30);
    // The doctors' and trainees' invitations arrive as mail files (no SMTP configured).
    for _ in 0..100 {
        let n = std::fs::read_dir(app.dir.path().join("mail"))
            .map(|d| d.count())
            .unwrap_or(0);
        if n >= 40 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        std::fs::read_dir(app.dir.path().join("mail"))
            .unwrap()
            .count(),
        40
    );
}

#[tokio::test]
async fn a_bad_file_is_refused_whole_with_every_error() {
    let app = spawn_app().await;
    let a = app.create_organism("Organisme A");
    let b = app.create_organism("Organisme B");
    let cohort = app.create_cohort(a, "CQP-AM");
    let cohort_b = app.create_cohort(b, "CQP-AM");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(a), "chef@a.fr").await;
    let (chef_b, _) = signed_in(&app, Role::OrganismAdmin, Some(b), "chef@b.fr").await;
    // A trainee of organism B already uses an address.
    let upload_b = upload_import(&app, &chef_b, cohort_b, excel_file(1, "deja")).await;
    assert_eq!(upload_b.status(), 200);
    let users_before = n_users(&app);
    let outbox_before = n_outbox(&app);
    let text = format!(
        "{HEADER}Bon;Jean;jean@a.fr;aucun;01/02/2025;Dr A;a@med.fr;ProA\r\n\
         Futur;Léa;lea@a.fr;aucun;01/02/2099;Dr A;a@med.fr;ProA\r\n\
         Autre;Org;deja0@cabinet.fr;aucun;01/02/2025;Dr A;a@med.fr;ProA\r\n\
         =HYPERLINK(\"http://x\");Zoé;pas-une-adresse;aucun;01/02/2025;Dr A;a@med.fr;ProA\r\n"
    );
    let res = upload_import(&app, &chef, cohort, text.into_bytes()).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("aucune ligne n'a été importée"), "{html}");
    assert!(
        html.contains("Ligne 3, colonne « Date d&#x27;embauche » : 01/02/2099 est dans le futur"),
        "{html}"
    );
    assert!(html.contains("Ligne 5, colonne « E-mail »"), "{html}");
    // The other organism's address is only found when applying: the file is refused too.
    let text =
        format!("{HEADER}Autre;Org;deja0@cabinet.fr;aucun;01/02/2025;Dr A;a@med.fr;ProA\r\n");
    let html = upload_import(&app, &chef, cohort, text.into_bytes())
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("déjà utilisée par un stagiaire d&#x27;un autre organisme"),
        "{html}"
    );
    // An unknown doctor column, mixed encodings, a 20 MB file.
    let text = "Nom;Prénom;E-mail;Profil;Date d'embauche;Médecin traitant;E-mail du médecin;Financement\r\nA;B;c@a.fr;aucun;01/02/2025;Dr;d@a.fr;ProA\r\n";
    let html = upload_import(&app, &chef, cohort, text.as_bytes().to_vec())
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("colonne « Médecin traitant » : colonne inconnue"),
        "{html}"
    );
    let mut mixed =
        format!("{HEADER}Lefèvre;Hélène;h@a.fr;aucun;01/03/2025;Dr A;a@med.fr;ProA\r\n")
            .into_bytes();
    mixed.extend(
        encoding_rs::WINDOWS_1252
            .encode("Bérard;Zoé;z@a.fr;aucun;01/03/2025;Dr B;b@med.fr;ProA\r\n")
            .0
            .iter(),
    );
    let html = upload_import(&app, &chef, cohort, mixed)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("mélange deux encodages"), "{html}");
    let res = upload_import(&app, &chef, cohort, vec![b'a'; 20 * 1024 * 1024]).await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("dépasse la limite de 5 Mo")
    );
    // Organism B cannot import into organism A's cohort, nor learn that it exists.
    let res = upload_import(&app, &chef_b, cohort, excel_file(2, "intrus")).await;
    assert_eq!(res.status(), 404);
    assert_eq!(n_users(&app), users_before, "nothing created");
    assert_eq!(n_outbox(&app), outbox_before, "nothing queued");
}

#[tokio::test]
async fn exported_names_cannot_run_as_spreadsheet_formulas() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let cohort = app.create_cohort(org, "CQP-AM");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    // A formula is no name: the import refuses it, naming the line and the column.
    let text = "Nom complet;E-mail;Profil;Date d'embauche;Médecin;E-mail du médecin;Financement\r\n\"=HYPERLINK(\"\"http://evil\"\")\";z@a.fr;aucun;01/02/2025;Dr A;a@med.fr;ProA\r\nZoé Roux;y@a.fr;aucun;01/02/2025;@SOMME(A1);a@med.fr;ProA\r\n".to_string();
    let before = n_users(&app);
    let res = upload_import(&app, &chef, cohort, text.into_bytes()).await;
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Ligne 2, colonne « Nom complet »") && html.contains("formule de tableur"),
        "{html}"
    );
    assert!(html.contains("Ligne 3, colonne « Médecin »"), "{html}");
    assert_eq!(n_users(&app), before);
    // Names written before that rule are still neutralised on the way out.
    for (name, email) in [
        ("=HYPERLINK(\"http://evil\")", "z@a.fr"),
        ("@SOMME(A1)", "y@a.fr"),
    ] {
        let id = app.create_user(Role::Trainee, Some(org), email, "mot-de-passe-solide");
        diesel::update(users::table.find(id))
            .set(users::name.eq(name))
            .execute(&mut *app.conn())
            .unwrap();
        app.enrol(org, cohort, id);
    }
    let res = chef
        .get(app.url(&format!("/promotions/{cohort}/stagiaires.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let body = res.bytes().await.unwrap();
    assert!(body.starts_with(b"\xEF\xBB\xBF"), "BOM for Excel");
    let text = String::from_utf8(body[3..].to_vec()).unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(text.as_bytes());
    let mut names: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[0].to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["'=HYPERLINK(\"http://evil\")", "'@SOMME(A1)"]);
}

#[tokio::test]
async fn a_doctor_sees_only_the_assistants_they_employ() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let cohort = app.create_cohort(org, "CQP-AM");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    let text = String::from(
        "Nom;Prénom;E-mail;Profil;Date d'embauche;Médecin;E-mail du médecin;Financement;Cabinet\r\n\
         Un;Alice;alice@a.fr;aucun;01/02/2025;Dr Un;un@med.fr;ProA;\r\n\
         Deux;Bruno;bruno@a.fr;aucun;01/02/2025;Dr Deux;deux@med.fr;ProA;\r\n\
         Trois;Chloé;chloe@a.fr;IDE;21/06/2024;Dr Trois;trois@med.fr;Autre;Maison de santé des Tilleuls\r\n\
         Quatre;Denis;denis@a.fr;aucun;22/06/2024;Dr Quatre;quatre@med.fr;Autre;Maison de santé des Tilleuls\r\n",
    );
    let res = upload_import(&app, &chef, cohort, text.into_bytes()).await;
    let html = res.text().await.unwrap();
    assert!(html.contains("4 stagiaire(s) ajouté(s)"), "{html}");
    assert!(
        html.contains("relève normalement de la FAE"),
        "IDE in a CQP cohort is flagged"
    );
    let id = |email: &str| -> i64 {
        users::table
            .filter(users::email.eq(email))
            .select(users::id)
            .first(&mut *app.conn())
            .unwrap()
    };
    // Give the doctors passwords and sign in.
    let doctor = |email: &'static str| {
        let hash = parcours::accounts::password::hash("mot-de-passe-solide").unwrap();
        diesel::update(users::table.filter(users::email.eq(email)))
            .set(users::password_hash.eq(hash))
            .execute(&mut *app.conn())
            .unwrap();
        email
    };
    let un = client();
    assert_eq!(
        login(&app, &un, doctor("un@med.fr"), "mot-de-passe-solide")
            .await
            .status(),
        303
    );
    let trois = client();
    assert_eq!(
        login(&app, &trois, doctor("trois@med.fr"), "mot-de-passe-solide")
            .await
            .status(),
        303
    );
    let list = un
        .get(app.url("/mes-assistants"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("Alice Un") && !list.contains("Bruno"),
        "{list}"
    );
    let own = un
        .get(app.url(&format!("/stagiaires/{}", id("alice@a.fr"))))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
    let own = own.text().await.unwrap();
    assert!(
        !own.contains("Financement") && !own.contains("Historique"),
        "employer view is limited"
    );
    let other = un
        .get(app.url(&format!("/stagiaires/{}", id("bruno@a.fr"))))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    assert!(!other.text().await.unwrap().contains("Bruno"));
    // Through the group practice, both of its doctors see both assistants.
    let list = trois
        .get(app.url("/mes-assistants"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("Chloé Trois") && list.contains("Denis Quatre") && !list.contains("Alice")
    );
    // Deadlines on each side of 22 June 2024: 3 years, then 2 years.
    assert!(list.contains("21/06/2027"), "{list}");
    assert!(list.contains("22/06/2026"), "{list}");
    // The API answers the same.
    let token = api_token(&app, "un@med.fr").await;
    let res = client()
        .get(app.url(&format!("/api/v1/trainees/{}", id("bruno@a.fr"))))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let list: serde_json::Value = client()
        .get(app.url("/api/v1/me/assistants"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_individual_path_proa_and_transfer_are_audited() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let cohort = app.create_cohort(org, "CQP-AM");
    let other = app.create_cohort(org, "CQP-AM");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    let text = format!("{HEADER}Martin;Inès;ines@a.fr;aucun;15/01/2025;Dr A;a@med.fr;ProA\r\n");
    upload_import(&app, &chef, cohort, text.into_bytes()).await;
    let tid: i64 = users::table
        .filter(users::email.eq("ines@a.fr"))
        .select(users::id)
        .first(&mut *app.conn())
        .unwrap();
    let page_url = app.url(&format!("/stagiaires/{tid}"));
    let html = chef
        .get(&page_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<strong>266 h</strong>"), "full path first");
    assert!(html.contains("15/01/2027"), "2-year deadline");
    let m2: i64 = {
        use parcours::db::schema::modules;
        modules::table
            .filter(modules::code.eq("M2"))
            .select(modules::id)
            .first(&mut *app.conn())
            .unwrap()
    };
    let post = |path: &str, form: Vec<(&'static str, String)>| {
        let (app, chef, html, path) = (&app, &chef, &html, path.to_string());
        async move { chef.post_form_of(app, html, &path, &form).await }
    };
    // Without a reason: refused, nothing changed.
    let res = post(
        &format!("/stagiaires/{tid}/parcours"),
        vec![
            ("module_id", m2.to_string()),
            ("kind", "equivalence".into()),
            ("exempted_hours", "20".into()),
            ("reason", "".into()),
            ("document_ref", "".into()),
        ],
    )
    .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Le motif de l&#x27;allègement est obligatoire.")
    );
    let res = post(
        &format!("/stagiaires/{tid}/parcours"),
        vec![
            ("module_id", m2.to_string()),
            ("kind", "equivalence".into()),
            ("exempted_hours", "20,5".into()),
            ("reason", "Diplôme de secrétaire médicale".into()),
            ("document_ref", "DIP-2019-44".into()),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let html = chef
        .get(&page_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<strong>245 h 30</strong>"), "{html}");
    assert!(html.contains("DIP-2019-44"));
    // A ProA suspension of 30 days moves the deadline.
    let res = post(
        &format!("/stagiaires/{tid}/proa"),
        vec![
            ("from", "2025-03-01".into()),
            ("to", "2025-03-31".into()),
            ("reason", "Prise en charge OPCO EP en attente".into()),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let html = chef
        .get(&page_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("14/02/2027"), "deadline moved by 30 days");
    // Transfer: progress stays, an audit row says so.
    let lesson_ids = {
        use parcours::db::schema::lessons;
        lessons::table
            .select(lessons::id)
            .limit(2)
            .load::<i64>(&mut *app.conn())
            .unwrap()
    };
    for l in &lesson_ids {
        parcours::curriculum::store::complete_lesson(&mut app.conn(), tid, *l).unwrap();
    }
    // The other cohort started on 01/09/2026 and leaves less than 10 months: staff confirm.
    let res = post(
        &format!("/stagiaires/{tid}/transfert"),
        vec![("cohort_id", other.to_string())],
    )
    .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("durée minimale du programme (10 mois")
    );
    let res = post(
        &format!("/stagiaires/{tid}/transfert"),
        vec![("cohort_id", other.to_string()), ("confirm", "1".into())],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        parcours::curriculum::store::completed_lessons(&mut app.conn(), tid)
            .unwrap()
            .len(),
        2
    );
    let actions: Vec<String> = audit_events::table
        .filter(audit_events::subject_type.eq("trainee"))
        .filter(audit_events::subject_id.eq(tid))
        .order(audit_events::id.asc())
        .select(audit_events::action)
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(
        actions,
        [
            // Hired on 15/01/2025, her deadline falls before the cohort's end (01/08/2027).
            "deadline_flag_confirmed",
            "path_adjusted",
            "proa_suspension_added",
            "trainee_transferred",
            "short_stay_confirmed",
            "deadline_flag_confirmed"
        ]
    );
    let active: Vec<i64> = enrolments::table
        .filter(enrolments::trainee_id.eq(tid))
        .filter(enrolments::ended_on.is_null())
        .select(enrolments::cohort_id)
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(active, [other]);
}

#[tokio::test]
async fn a_weekly_rhythm_fills_the_calendar_and_the_ics_feeds() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let b = app.create_organism("Organisme B");
    let cohort = app.create_cohort(org, "CQP-AM");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    let (chef_b, _) = signed_in(&app, Role::OrganismAdmin, Some(b), "chef@b.fr").await;
    let cal = app.url(&format!("/promotions/{cohort}/calendrier"));
    let page = chef.get(&cal).send().await.unwrap().text().await.unwrap();
    let modules: Vec<i64> = {
        use parcours::db::schema::modules;
        modules::table
            .filter(modules::code.eq_any(["M1", "M2"]))
            .order(modules::code.asc())
            .select(modules::id)
            .load(&mut *app.conn())
            .unwrap()
    };
    let mut form = vec![
        ("from", "2026-10-26".to_string()),
        ("to", "2026-11-06".into()),
        ("day", "mardi".into()),
        ("day", "jeudi".into()),
        ("am_start", "09:00".into()),
        ("am_end", "12:30".into()),
        ("pm_start", "".into()),
        ("pm_end", "".into()),
        ("place", "Salle 2, 12 rue des Écoles".into()),
        ("trainer", "".into()),
    ];
    for m in &modules {
        form.push(("module", m.to_string()));
    }
    let rhythm = format!("/promotions/{cohort}/calendrier/rythme");
    let res = chef.post_form_of(&app, &page, &rhythm, &form).await;
    assert_eq!(res.status(), 303);
    let html = chef.get(&cal).send().await.unwrap().text().await.unwrap();
    assert!(
        html.contains("4 séance(s) en présentiel, 14 h prévues"),
        "{html}"
    );
    // Bad input: no weekday, end before start.
    let bad: Vec<_> = form.iter().filter(|(k, _)| *k != "day").cloned().collect();
    let res = chef.post_form_of(&app, &page, &rhythm, &bad).await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Choisissez au moins un jour")
    );
    // The cohort feed: UTC times across the end of summer time (27/10 is winter time).
    let token: String = {
        use parcours::db::schema::cohorts;
        cohorts::table
            .find(cohort)
            .select(cohorts::ics_token)
            .first(&mut *app.conn())
            .unwrap()
    };
    let res = client()
        .get(app.url(&format!("/calendrier/promotion/{token}.ics")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let ics = res.text().await.unwrap();
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), 4);
    assert!(ics.contains("DTSTART:20261027T080000Z"), "{ics}");
    assert!(ics.contains("M1 · Suivi du parcours de santé du patient"));
    assert_eq!(
        client()
            .get(app.url("/calendrier/promotion/inventeinventeinvente1234.ics"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // Another organism sees nothing of it, not even that it exists.
    assert_eq!(chef_b.get(&cal).send().await.unwrap().status(), 404);
}

#[test]
fn the_command_line_imports_a_thousand_trainees() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(spawn_app());
    let org = app.create_organism("Organisme A");
    let cohort = app.create_cohort(org, "CQP-AM");
    let file = app.dir.path().join("mille.csv");
    std::fs::write(&file, excel_file(1000, "mille")).unwrap();
    let started = std::time::Instant::now();
    // The cohort began in September: today's entries are late ones, confirmed.
    let out = app.cli(&[
        "import".as_ref(),
        "trainees".as_ref(),
        "--cohort".as_ref(),
        cohort.to_string().as_ref(),
        "--confirmer".as_ref(),
        file.as_os_str(),
    ]);
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("1000 stagiaire(s) ajouté(s)"), "{stdout}");
    println!("imported 1000 trainees in {:.2} s", took.as_secs_f64());
    let bad = app.dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        format!("{HEADER}A;B;pas-une-adresse;aucun;01/02/2025;Dr;d@a.fr;ProA\r\n"),
    )
    .unwrap();
    let out = app.cli(&[
        "import".as_ref(),
        "trainees".as_ref(),
        "--cohort".as_ref(),
        cohort.to_string().as_ref(),
        bad.as_os_str(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ligne 2, colonne « E-mail »"));
    drop(rt);
}

#[tokio::test]
async fn an_early_departure_ends_the_enrolment_once_and_counts_as_a_drop_out() {
    use chrono::Datelike;
    use parcours::db::schema::cohorts;
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let org_b = app.create_organism("Organisme B");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    let (trainer, _) = signed_in(&app, Role::Trainer, Some(org), "formateur@a.fr").await;
    let (chef_b, _) = signed_in(&app, Role::OrganismAdmin, Some(org_b), "chef@b.fr").await;
    let (lea, tid) = app.trainee_in(org, "CQP-AM", "lea@a.fr").await;
    let today = parcours::base::paris::today();
    let started = today - chrono::Duration::days(30);
    diesel::update(enrolments::table.filter(enrolments::trainee_id.eq(tid)))
        .set(enrolments::started_on.eq(started))
        .execute(&mut *app.conn())
        .unwrap();
    let page = app.url(&format!("/stagiaires/{tid}"));
    let html = chef.get(&page).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Sortie anticipée de la formation"), "{html}");
    let departure = format!("/stagiaires/{tid}/sortie");
    let send = |c: &reqwest::Client, on: String, reason: &str, note: &str| {
        let fields = [
            ("on", on),
            ("reason", reason.to_string()),
            ("note", note.to_string()),
        ];
        let (app, c, departure) = (&app, c.clone(), &departure);
        async move { c.post_form(app, departure, &fields).await }
    };
    let ended = || -> (Option<chrono::NaiveDate>, Option<String>) {
        enrolments::table
            .filter(enrolments::trainee_id.eq(tid))
            .select((enrolments::ended_on, enrolments::end_reason))
            .first(&mut *app.conn())
            .unwrap()
    };
    let fr = |d: chrono::NaiveDate| d.format("%d/%m/%Y").to_string();
    // Bad input: a French 422 naming the problem, and the enrolment goes on.
    for (on, reason, note, message) in [
        (
            fr(today + chrono::Duration::days(1)),
            "abandon",
            "",
            "ne peut être dans le futur",
        ),
        (
            fr(started - chrono::Duration::days(1)),
            "abandon",
            "",
            "ne peut précéder l&#x27;entrée en formation",
        ),
        ("31/02/2026".into(), "abandon", "", "au format JJ/MM/AAAA"),
        (fr(today), "transfert", "", "Choisissez le motif"),
        (fr(today), "autre", "  ", "Précisez le motif"),
    ] {
        let res = send(&chef, on.clone(), reason, note).await;
        assert_eq!(res.status(), 422, "{on} {reason}");
        let body = res.text().await.unwrap();
        assert!(body.contains(message), "{message}: {body}");
        assert_eq!(ended(), (None, None));
    }
    // Others cannot: a trainer, another organism's admin, a form without its token.
    let on = today - chrono::Duration::days(2);
    // The trainer sees the trainee but may not do this; organism B does not see her.
    for (c, refused) in [(&trainer, 403), (&chef_b, 404)] {
        let res = send(c, fr(on), "abandon", "").await;
        assert_eq!(res.status(), refused);
    }
    let res = chef
        .post(app.url(&departure))
        .form(&[
            ("csrf_token", ""),
            ("on", &fr(on)),
            ("reason", "abandon"),
            ("note", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(ended(), (None, None));

    let res = send(&chef, fr(on), "fin_contrat", " Rupture conventionnelle ").await;
    assert_eq!(res.status(), 303);
    assert_eq!(ended(), (Some(on), Some("fin_contrat".into())));
    let after: Vec<Option<String>> = audit_events::table
        .filter(audit_events::action.eq("trainee_left"))
        .filter(audit_events::subject_id.eq(tid))
        .select(audit_events::after_json)
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(after.len(), 1);
    let after: serde_json::Value = serde_json::from_str(after[0].as_deref().unwrap()).unwrap();
    assert_eq!(after["reason"], "fin_contrat");
    assert_eq!(after["note"], "Rupture conventionnelle");
    assert_eq!(after["ended_on"], on.to_string());
    let html = chef.get(&page).send().await.unwrap().text().await.unwrap();
    assert!(
        html.contains(&format!(
            "le {} : Fin ou rupture du contrat de travail — Rupture conventionnelle",
            fr(on)
        )),
        "{html}"
    );
    assert!(
        !html.contains("Enregistrer la sortie"),
        "no second departure"
    );
    // Once out, nothing more to end; the trainee's programme is closed to her.
    let res = send(&chef, fr(on), "abandon", "").await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("aucune promotion"));
    assert_eq!(ended(), (Some(on), Some("fin_contrat".into())));
    let res = lea.get(app.url("/programmes/CQP-AM")).send().await.unwrap();
    assert_eq!(res.status(), 403);
    // Funders see when and why she left, beside her hours.
    let csv = chef
        .get(app.url(&format!(
            "/organismes/{org}/financeurs.csv?du={started}&au={today}&partie=heures"
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mine: Vec<&str> = csv.lines().filter(|l| l.contains("lea@a.fr")).collect();
    assert!(!mine.is_empty(), "{csv}");
    assert!(
        mine.iter()
            .all(|l| l.contains(&fr(on)) && l.contains(";Fin ou rupture du contrat de travail;")),
        "{csv}"
    );
    // Qualiopi counts her as a drop-out of her cohort.
    let name: String = cohorts::table
        .inner_join(enrolments::table)
        .filter(enrolments::trainee_id.eq(tid))
        .select(cohorts::name)
        .first(&mut *app.conn())
        .unwrap();
    let csv = chef
        .get(app.url(&format!(
            "/organismes/{org}/qualiopi.csv?annee={}",
            on.year()
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = csv
        .lines()
        .find(|l| l.contains(&name) && l.contains(";Abandons;"))
        .unwrap_or_else(|| panic!("{csv}"));
    assert!(line.contains(";Abandons;1;"), "{line}");
    assert!(
        csv.lines()
            .any(|l| l.contains(";Fin ou rupture du contrat de travail;Abandons;1;")),
        "{csv}"
    );
    assert!(!csv.contains(";Non renseigné;Abandons;"), "{csv}");

    // Recorded by mistake: a trainer or another organism's admin cannot take it back, hers
    // can, once.
    let undo_path = format!("/stagiaires/{tid}/sortie/annuler");
    let undo = |c: &reqwest::Client| {
        let (app, c, undo_path) = (&app, c.clone(), &undo_path);
        async move { c.post_form(app, undo_path, NO_FIELDS).await }
    };
    for (c, refused) in [(&trainer, 403), (&chef_b, 404)] {
        let res = undo(c).await;
        assert_eq!(res.status(), refused);
    }
    assert_eq!(ended(), (Some(on), Some("fin_contrat".into())));
    assert_eq!(undo(&chef).await.status(), 303);
    assert_eq!(ended(), (None, None));
    assert_eq!(
        lea.get(app.url("/programmes/CQP-AM"))
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "back in her programme"
    );
    let res = undo(&chef).await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Aucune sortie anticipée à annuler")
    );
    let actions: Vec<String> = audit_events::table
        .filter(audit_events::subject_id.eq(tid))
        .filter(audit_events::action.like("trainee_%"))
        .order(audit_events::id.asc())
        .select(audit_events::action)
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(actions, ["trainee_left", "trainee_departure_undone"]);
}

/// A file as a French organism really makes it: Windows-1252, former jobs in the "Profil"
/// column, a health centre with its doctors, accents everywhere.
#[tokio::test]
async fn a_real_french_file_with_former_jobs_and_a_health_centre_imports() {
    let app = spawn_app().await;
    let org = app.create_organism("Institut Santé Plus");
    let cohort = app.create_cohort(org, "CQP-AM");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@isp.fr").await;
    let text = "Nom;Prénom;Courriel;Profil;Date d'embauche;Médecin employeur;E-mail du médecin;Financement;Cabinet de groupe;SIRET\r\n\
        Lefèvre;Hélène;helene.lefevre@orange.fr;Secrétaire médicale;02/09/2024;Dr Élise Roy;e.roy@msp-ecrins.fr;Contrat de professionnalisation;Maison de santé des Écrins;73282932000074\r\n\
        N'Diaye;Aïssatou;aissatou.ndiaye@free.fr;Aide à domicile;15/10/2024;Dr Benoît Gaël;b.gael@msp-ecrins.fr;ProA;Maison de santé des Écrins;\r\n\
        Da Silva;João;joao.dasilva@gmail.com;Sans emploi;06/01/2025;Dr Noémie Faure;n.faure@wanadoo.fr;Plan de développement des compétences;;\r\n\
        Bérard;Zoé;zoe.berard@laposte.net;Infirmière D.E.;03/03/2025;Dr Élise Roy;e.roy@msp-ecrins.fr;Autre;Maison de santé des Écrins;\r\n";
    let bytes = encoding_rs::WINDOWS_1252.encode(text).0.into_owned();
    let html = upload_import(&app, &chef, cohort, bytes)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("4 stagiaire(s) ajouté(s)"), "{html}");
    assert!(html.contains("3 médecin(s) invité(s)"), "{html}");
    // Former jobs are information, not errors; the nurse is flagged for the FAE.
    for job in ["Secrétaire médicale", "Aide à domicile", "Sans emploi"] {
        assert!(
            html.contains(&format!("« {job} » est gardé comme expérience antérieure")),
            "{job}: {html}"
        );
    }
    assert!(html.contains("relève normalement de la FAE"), "{html}");
    // One health centre, its two doctors, three assistants.
    let centre: Vec<(String, Option<String>)> = {
        use parcours::db::schema::employers;
        employers::table
            .filter(employers::kind.eq("practice"))
            .select((employers::name, employers::registration))
            .load(&mut *app.conn())
            .unwrap()
    };
    assert_eq!(
        centre,
        [(
            "Maison de santé des Écrins".to_string(),
            Some("siret:73282932000074".to_string())
        )]
    );
    let helene: i64 = users::table
        .filter(users::email.eq("helene.lefevre@orange.fr"))
        .select(users::id)
        .first(&mut *app.conn())
        .unwrap();
    let file = chef
        .get(app.url(&format!("/stagiaires/{helene}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        file.contains("Expérience antérieure") && file.contains("Secrétaire médicale"),
        "{file}"
    );
    assert!(file.contains("Hélène Lefèvre"), "{file}");
    // Invitations greet people by their names, the doctor as a doctor.
    let bodies: Vec<(String, String)> = outbox::table
        .select((outbox::recipients, outbox::body_text))
        .load(&mut *app.conn())
        .unwrap();
    let to = |who: &str| {
        bodies
            .iter()
            .find(|(r, _)| r.contains(who))
            .map(|(_, b)| b.clone())
            .unwrap()
    };
    assert!(to("aissatou.ndiaye@free.fr").contains("Bonjour Aïssatou N'Diaye"));
    assert!(to("b.gael@msp-ecrins.fr").contains("Bonjour Dr Benoît Gaël"));
    // The same file again changes nothing.
    let bytes = encoding_rs::WINDOWS_1252.encode(text).0.into_owned();
    let html = upload_import(&app, &chef, cohort, bytes)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("4 inchangé(s)"), "{html}");
}

/// The newcomer's path on the command line: the demo says which cohort to import into and
/// how, `list` gives the numbers, and every command's help speaks French and describes each
/// argument.
#[tokio::test]
async fn the_command_line_guides_a_newcomer_in_french() {
    let app = spawn_app().await;
    let text = |out: &std::process::Output| String::from_utf8_lossy(&out.stdout).to_string();
    let demo = app.cli(&["demo"]);
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let cohort: i64 = {
        use parcours::db::schema::cohorts;
        cohorts::table
            .filter(cohorts::name.eq(parcours::demo::DEMO_COHORT))
            .select(cohorts::id)
            .first(&mut *app.conn())
            .unwrap()
    };
    let command = format!(
        "cargo run --release -- import trainees --cohort {cohort} --confirmer examples/stagiaires.csv"
    );
    assert!(
        text(&demo).contains(&format!("porte le n° {cohort}")),
        "{}",
        text(&demo)
    );
    assert!(text(&demo).contains(&command), "{}", text(&demo));
    // The command it prints works, with the sample file the repository ships.
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/stagiaires.csv");
    let cohort_arg = cohort.to_string();
    let import = app.cli(&[
        "import".as_ref(),
        "trainees".as_ref(),
        "--cohort".as_ref(),
        cohort_arg.as_ref(),
        "--confirmer".as_ref(),
        sample.as_os_str(),
    ]);
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    assert!(
        text(&import).contains("3 stagiaire(s) ajouté(s)"),
        "{}",
        text(&import)
    );
    let list = text(&app.cli(&["list"]));
    assert!(
        list.contains(parcours::demo::DEMO_ORGANISM)
            && list.contains(&format!(
                "promotion n° {cohort} : {}",
                parcours::demo::DEMO_COHORT
            ))
            && list.contains("4 stagiaire(s)"),
        "{list}"
    );
    for args in [
        vec!["--help"],
        vec!["import", "trainees", "--help"],
        vec!["export", "evidence", "--help"],
        vec!["attestations", "issue", "--help"],
        vec!["admin", "create", "--help"],
        vec!["mail", "test", "--help"],
        vec!["backup", "--help"],
    ] {
        let help = text(&app.cli(&args));
        assert!(help.contains("Utilisation : parcours"), "{args:?}: {help}");
        assert!(help.contains("Affiche cette aide"), "{args:?}: {help}");
        for english in ["Usage:", "Print help", "Print version"] {
            assert!(!help.contains(english), "{args:?}: {help}");
        }
        // Every argument and option line has its description after the name.
        for line in help.lines().filter(|l| {
            let t = l.trim_start();
            t.starts_with('<') || t.starts_with('-')
        }) {
            let described = line
                .trim()
                .split_once("  ")
                .is_some_and(|(_, d)| !d.trim().is_empty());
            assert!(described, "{args:?}: undescribed {line:?}");
        }
    }
}

#[tokio::test]
async fn a_cp1252_file_reads_both_spellings_of_auxiliaire_de_puericulture_as_one_profile() {
    use parcours::db::schema::trainee_profiles;
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let cohort = app.create_cohort(org, "FAE-AM");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    let text = format!(
        "{HEADER}Un;Anaïs;anais@a.fr;Auxiliaire de puériculture;01/02/2025;Dr Un;un@med.fr;ProA\r\n\
         Deux;Bérénice;berenice@a.fr;AUXILIAIRE DE PUERICULTRICE;01/02/2025;Dr Un;un@med.fr;ProA\r\n\
         Trois;Célia;celia@a.fr;auxiliaire de puéricultrice;01/02/2025;Dr Un;un@med.fr;ProA\r\n\
         Quatre;Dora;dora@a.fr;Puéricultrice;01/02/2025;Dr Un;un@med.fr;ProA\r\n"
    );
    let bytes = encoding_rs::WINDOWS_1252.encode(&text).0.into_owned();
    assert!(std::str::from_utf8(&bytes).is_err(), "a real cp1252 file");
    let res = upload_import(&app, &chef, cohort, bytes).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("4 stagiaire(s) ajouté(s)"), "{html}");
    let mut profiles: Vec<(String, String)> = trainee_profiles::table
        .inner_join(users::table.on(users::id.eq(trainee_profiles::user_id)))
        .order(users::email.asc())
        .select((users::email, trainee_profiles::profile))
        .load(&mut *app.conn())
        .unwrap();
    profiles.retain(|(e, _)| e.ends_with("@a.fr") && e != "chef@a.fr");
    assert_eq!(
        profiles,
        [
            ("anais@a.fr".to_string(), "ap".to_string()),
            ("berenice@a.fr".into(), "ap".into()),
            ("celia@a.fr".into(), "ap".into()),
            // Just outside: a job without "auxiliaire" is prior experience, routed to the CQP.
            ("dora@a.fr".into(), "aucun".into()),
        ]
    );
    // The three AP are FAE-eligible: only Dora is flagged in this FAE cohort.
    assert_eq!(
        html.matches("le parcours attendu est le CQP").count(),
        1,
        "{html}"
    );
}

/// A CQP cohort of `org` from `start` to `end`.
pub(crate) fn cohort_between(
    app: &TestApp,
    org: i64,
    start: chrono::NaiveDate,
    end: chrono::NaiveDate,
) -> i64 {
    use parcours::db::schema::programs;
    let mut conn = app.conn();
    let (pid, vid): (i64, i64) = programs::table
        .filter(programs::code.eq("CQP-AM"))
        .select((programs::id, programs::version_id))
        .first(&mut *conn)
        .unwrap();
    parcours::cohorts::store::create_cohort(
        &mut conn,
        None,
        &parcours::cohorts::store::NewCohort {
            organism_id: org,
            program_id: pid,
            content_version_id: vid,
            name: &format!("Promotion du {end}"),
            start_date: start,
            end_date: end,
        },
    )
    .unwrap()
}

fn active_cohort_of(app: &TestApp, trainee: i64) -> i64 {
    enrolments::table
        .filter(enrolments::trainee_id.eq(trainee))
        .filter(enrolments::ended_on.is_null())
        .select(enrolments::cohort_id)
        .first(&mut *app.conn())
        .unwrap()
}

#[tokio::test]
async fn a_transfer_leaving_less_than_the_programme_minimum_waits_for_staff_to_confirm() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let first = app.create_cohort(org, "CQP-AM");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    let (_, tid) = signed_in(&app, Role::Trainee, Some(org), "ines@a.fr").await;
    app.enrol(org, first, tid);
    let today = parcours::base::paris::today();
    // Hired a month ago: her deadline falls after every cohort here, so only the length
    // is warned (the deadline flag has its own tests, in deadlines.rs).
    {
        use parcours::db::schema::trainee_profiles;
        diesel::update(trainee_profiles::table.filter(trainee_profiles::user_id.eq(tid)))
            .set(trainee_profiles::hire_date.eq(today - chrono::Months::new(1)))
            .execute(&mut *app.conn())
            .unwrap();
    }
    let started = today - chrono::Months::new(1);
    let ten_months = today + chrono::Months::new(10);
    // Just inside: exactly the 10 months of the CQP are left.
    let inside = cohort_between(&app, org, started, ten_months);
    // Just outside: a day less.
    let outside = cohort_between(&app, org, started, ten_months - chrono::Duration::days(1));
    let page = format!("/stagiaires/{tid}");
    let transfer = format!("/stagiaires/{tid}/transfert");
    let res = chef
        .post_form_from(
            &app,
            &page,
            &transfer,
            &[("cohort_id", outside.to_string().as_str())],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Cochez « Je confirme »") && html.contains("10 mois"),
        "{html}"
    );
    assert_eq!(active_cohort_of(&app, tid), first, "nothing changed");
    let res = chef
        .post_form_from(
            &app,
            &page,
            &transfer,
            &[("cohort_id", inside.to_string().as_str())],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(active_cohort_of(&app, tid), inside);

    // The API: a 409 explaining it, then the same request with `confirm`.
    let bearer = api_token(&app, "chef@a.fr").await;
    let send = |confirm: Option<bool>| {
        let mut body = serde_json::json!({"cohort_id": outside});
        if let Some(c) = confirm {
            body["confirm"] = c.into();
        }
        client()
            .post(app.url(&format!("/api/v1/trainees/{tid}/transfer")))
            .bearer_auth(&bearer)
            .json(&body)
            .send()
    };
    for confirm in [None, Some(false)] {
        let res = send(confirm).await.unwrap();
        assert_eq!(res.status(), 409);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "confirmation_required", "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("durée minimale"),
            "{body}"
        );
    }
    assert_eq!(active_cohort_of(&app, tid), inside);
    let confirmed_before: i64 = audit_events::table
        .filter(audit_events::action.eq("short_stay_confirmed"))
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(
        confirmed_before, 0,
        "the inside transfer needed no confirmation"
    );
    let res = send(Some(true)).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(active_cohort_of(&app, tid), outside);
    let confirmed: Vec<Option<String>> = audit_events::table
        .filter(audit_events::action.eq("short_stay_confirmed"))
        .filter(audit_events::subject_id.eq(tid))
        .select(audit_events::after_json)
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(confirmed.len(), 1);
    assert!(
        confirmed[0]
            .as_deref()
            .unwrap_or_default()
            .contains("10 mois")
    );
}

#[tokio::test]
async fn a_late_enrolment_by_import_waits_for_staff_to_confirm_on_the_page_and_the_api() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    let today = parcours::base::paris::today();
    let started = today - chrono::Months::new(1);
    let ten_months = today + chrono::Months::new(10);
    let inside = cohort_between(&app, org, started, ten_months);
    let outside = cohort_between(&app, org, started, ten_months - chrono::Duration::days(1));
    // Hired a month ago: her deadline falls after the cohorts' end, only the length is warned.
    let hired = parcours::base::format::date(today - chrono::Months::new(1));
    let file = |email: &str| {
        let text = format!("{HEADER}Martin;Inès;{email};aucun;{hired};Dr A;a@med.fr;ProA\r\n");
        encoding_rs::WINDOWS_1252.encode(&text).0.into_owned()
    };
    let enrolled = |cohort: i64| -> i64 {
        enrolments::table
            .filter(enrolments::cohort_id.eq(cohort))
            .count()
            .get_result(&mut *app.conn())
            .unwrap()
    };
    let send = |cohort: i64, bytes: Vec<u8>, confirm: bool| {
        let chef = chef.clone();
        let app = &app;
        async move {
            chef.post_multipart(app, &format!("/promotions/{cohort}/import"), |form| {
                let form = form.part(
                    "file",
                    reqwest::multipart::Part::bytes(bytes).file_name("stagiaires.csv"),
                );
                if confirm {
                    form.text("confirm", "1")
                } else {
                    form
                }
            })
            .await
        }
    };
    let (users_before, mails_before) = (n_users(&app), n_outbox(&app));
    // Just outside, unconfirmed: refused with the reason, nothing written, no mail.
    let res = send(outside, file("ines@a.fr"), false).await;
    assert_eq!(res.status(), 409);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("durée minimale du programme (10 mois") && html.contains("Je confirme"),
        "{html}"
    );
    assert_eq!(
        (n_users(&app), n_outbox(&app)),
        (users_before, mails_before)
    );
    assert_eq!(enrolled(outside), 0);
    // Just inside: no confirmation needed.
    let res = send(inside, file("jade@a.fr"), false).await;
    assert_eq!(res.status(), 303);
    assert_eq!(enrolled(inside), 1);
    // Confirmed: imported, and the report says so.
    let res = send(outside, file("ines@a.fr"), true).await;
    assert_eq!(res.status(), 303);
    assert_eq!(enrolled(outside), 1);

    // The API: 409 with its code, then `?confirm=true`.
    let bearer = api_token(&app, "chef@a.fr").await;
    let post = |confirm: &str| {
        client()
            .post(app.url(&format!("/api/v1/cohorts/{outside}/import{confirm}")))
            .bearer_auth(&bearer)
            .header("content-type", "text/csv")
            .body(file("leo@a.fr"))
            .send()
    };
    let res = post("").await.unwrap();
    assert_eq!(res.status(), 409);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "confirmation_required", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("?confirm=true"),
        "{body}"
    );
    assert_eq!(enrolled(outside), 1);
    let res = post("?confirm=true").await.unwrap();
    assert_eq!(res.status(), 200);
    let summary: serde_json::Value = res.json().await.unwrap();
    assert_eq!(summary["created"], 1);
    assert!(
        summary["warnings"][0]
            .as_str()
            .unwrap()
            .contains("en cours de promotion"),
        "{summary}"
    );
    assert_eq!(enrolled(outside), 2);
}

#[test]
fn the_command_line_imports_a_late_entry_only_when_confirmed() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(spawn_app());
    let org = app.create_organism("Organisme A");
    let today = parcours::base::paris::today();
    let started = today - chrono::Months::new(1);
    let short = today + chrono::Months::new(10) - chrono::Duration::days(1);
    let cohort = cohort_between(&app, org, started, short);
    let hired = parcours::base::format::date(today - chrono::Months::new(1));
    let file = app.dir.path().join("tardive.csv");
    let text = format!("{HEADER}Martin;Inès;ines@a.fr;aucun;{hired};Dr A;a@med.fr;ProA\r\n");
    std::fs::write(&file, encoding_rs::WINDOWS_1252.encode(&text).0).unwrap();
    let enrolled = || -> i64 {
        enrolments::table
            .filter(enrolments::cohort_id.eq(cohort))
            .count()
            .get_result(&mut *app.conn())
            .unwrap()
    };
    let run = |extra: &[&str]| {
        let id = cohort.to_string();
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "import".as_ref(),
            "trainees".as_ref(),
            "--cohort".as_ref(),
            id.as_ref(),
            file.as_os_str(),
        ];
        args.extend(extra.iter().map(|a| std::ffi::OsStr::new(*a)));
        app.cli(&args)
    };
    let out = run(&[]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("durée minimale du programme") && stderr.contains("--confirmer"),
        "{stderr}"
    );
    assert_eq!(enrolled(), 0, "nothing imported until confirmed");
    let out = run(&["--confirmer"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(enrolled(), 1);
    drop(rt);
}
