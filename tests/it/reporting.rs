//! Reporting: the funders' export (hours as on the certificate, absences, CSV and XLSX) and
//! the Qualiopi figures of a year; scopes, bad input, and formula injection.

use std::io::Read as _;

use chrono::{Datelike, Duration, NaiveDate, NaiveTime};
use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{
    attestations, daily_activity, enrolments, evaluation_attempts, followup_messages,
    followup_threads, lessons, module_totals, modules, programs, study_clocks, users, vae_requests,
};

use crate::common::*;

/// Module ids of a programme, in order.
fn modules_of(app: &Db, program: &str) -> Vec<i64> {
    modules::table
        .inner_join(programs::table)
        .filter(programs::code.eq(program))
        .filter(modules::retired.eq(false))
        .order(modules::position.asc())
        .select(modules::id)
        .load(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

fn rename(app: &Db, user: i64, name: &str) {
    diesel::update(users::table.find(user))
        .set(users::name.eq(name))
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();
}

fn today() -> NaiveDate {
    parcours::base::paris::today()
}

/// A day's distance time of a module, as the heartbeat writer records it.
fn day_row(c: &mut DbConn, trainee: i64, module: i64, day: NaiveDate, secs: i64) {
    diesel::insert_into(daily_activity::table)
        .values((
            daily_activity::trainee_id.eq(trainee),
            daily_activity::day.eq(day),
            daily_activity::module_id.eq(module),
            daily_activity::distance_seconds.eq(secs),
            daily_activity::first_at.eq(parcours::db::now()),
            daily_activity::last_at.eq(parcours::db::now()),
        ))
        .execute(c)
        .unwrap();
}

/// Distance time on a day, as the heartbeat writer records it (day row and module total).
fn distance_on(app: &Db, trainee: i64, module: i64, day: NaiveDate, secs: i64) {
    let mut conn = app.conn();
    let c = &mut *conn as &mut DbConn;
    day_row(c, trainee, module, day, secs);
    diesel::insert_into(module_totals::table)
        .values((
            module_totals::trainee_id.eq(trainee),
            module_totals::module_id.eq(module),
            module_totals::distance_seconds.eq(secs),
            module_totals::presentiel_seconds.eq(0i64),
            module_totals::correction_seconds.eq(0i64),
        ))
        .execute(c)
        .unwrap();
}

/// The records of a `;`-separated CSV with a byte-order mark.
fn records(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes).unwrap();
    let body = text.strip_prefix('\u{feff}').expect("a BOM for Excel");
    csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .from_reader(body.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

async fn get(c: &reqwest::Client, url: String) -> (u16, Vec<u8>) {
    let res = c.get(url).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.bytes().await.unwrap().to_vec())
}

fn hours(secs: i64) -> String {
    parcours::base::format::decimal_hours(secs)
}

#[tokio::test]
async fn reporting_funders_csv_matches_the_hours_api_and_an_empty_period_has_only_the_header() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme Financeurs");
    let (admin, admin_id) =
        signed_in(&app, Role::OrganismAdmin, Some(org), "direction@fin.fr").await;
    let (_, trainee) = app.trainee_in(org, "CQP-AM", "eleve@fin.fr").await;
    rename(&app, trainee, "Camille Dupont");
    let cohort: i64 = enrolments::table
        .filter(enrolments::trainee_id.eq(trainee))
        .select(enrolments::cohort_id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let mods = modules_of(&app, "CQP-AM");
    // Real distance time through the heartbeat API (credited today) …
    let token = api_token(&app, "eleve@fin.fr").await;
    let lesson: i64 = lessons::table
        .filter(lessons::slug.like("01-role-assistant%"))
        .select(lessons::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let beat = |seq: i64| {
        client()
            .post(app.url("/api/v1/study/heartbeats"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"page": "lesson", "lesson_id": lesson, "view": "v", "seq": seq}))
            .send()
    };
    assert_eq!(beat(1).await.unwrap().status(), 200);
    {
        let mut conn = app.conn();
        diesel::update(study_clocks::table.filter(study_clocks::trainee_id.eq(trainee)))
            .set(study_clocks::last_credit_at.eq(parcours::db::now() - Duration::seconds(40)))
            .execute(&mut *conn as &mut DbConn)
            .unwrap();
    }
    let credited: serde_json::Value = beat(2).await.unwrap().json().await.unwrap();
    assert!(
        credited["credited_seconds"].as_i64().unwrap() >= 40,
        "{credited}"
    );
    // … more on another module, a signed half-day, an excused absence and a late arrival.
    distance_on(&app, trainee, mods[1], today(), 9000);
    let t = |h, m| NaiveTime::from_hms_opt(h, m, 0);
    closed_sheet(
        &app,
        cohort,
        mods[0],
        trainee,
        admin_id,
        today(),
        "present",
        None,
        210,
        None,
    );
    closed_sheet(
        &app,
        cohort,
        mods[2],
        trainee,
        admin_id,
        today(),
        "absent_excuse",
        None,
        0,
        Some("Rendez-vous médical"),
    );
    closed_sheet(
        &app,
        cohort,
        mods[3],
        trainee,
        admin_id,
        today(),
        "present",
        t(9, 45),
        165,
        None,
    );
    {
        use parcours::db::schema::module_totals as mt;
        let mut conn = app.conn();
        // What closing the sheets added to the totals.
        diesel::update(
            mt::table
                .filter(mt::trainee_id.eq(trainee))
                .filter(mt::module_id.eq(mods[0])),
        )
        .set(mt::presentiel_seconds.eq(mt::presentiel_seconds + 210 * 60))
        .execute(&mut *conn as &mut DbConn)
        .unwrap();
        diesel::insert_into(mt::table)
            .values((
                mt::trainee_id.eq(trainee),
                mt::module_id.eq(mods[3]),
                mt::distance_seconds.eq(0i64),
                mt::presentiel_seconds.eq(165 * 60i64),
                mt::correction_seconds.eq(0i64),
            ))
            .execute(&mut *conn as &mut DbConn)
            .unwrap();
        parcours::cohorts::store::set_adjustment(
            &mut conn,
            None,
            org,
            trainee,
            mods[2],
            "equivalence",
            600,
            "Diplôme de secrétaire médicale",
            None,
        )
        .unwrap();
    }
    let staff_token = api_token(&app, "direction@fin.fr").await;
    let api: serde_json::Value = client()
        .get(app.url(&format!("/api/v1/trainees/{trainee}/hours")))
        .bearer_auth(&staff_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    // The current month by default.
    let (status, body) = get(
        &admin,
        app.url(&format!("/organismes/{org}/financeurs.csv")),
    )
    .await;
    assert_eq!(status, 200);
    let rows = records(&body);
    assert_eq!(rows[0][2], "Stagiaire");
    assert_eq!(rows[0][14], "Total réalisé (h)");
    let mine: Vec<&Vec<String>> = rows[1..]
        .iter()
        .filter(|r| r[2] == "Camille Dupont")
        .collect();
    assert_eq!(mine.len(), 4, "one line per module of the programme");
    for (line, m) in mine.iter().zip(api["modules"].as_array().unwrap()) {
        assert_eq!(line[0], "Organisme Financeurs");
        assert_eq!(line[3], "eleve@fin.fr");
        assert!(line[4].starts_with("ProA"), "{line:?}");
        assert_eq!(line[5], "01/09/2026");
        assert_eq!(line[7], m["code"].as_str().unwrap());
        assert_eq!(line[9], hours(m["planned_secs"].as_i64().unwrap()));
        assert_eq!(
            line[10],
            hours(m["distance_secs"].as_i64().unwrap()),
            "{line:?}"
        );
        assert_eq!(
            line[11],
            hours(m["presentiel_secs"].as_i64().unwrap()),
            "{line:?}"
        );
        assert_eq!(
            line[13],
            hours(m["exempted_secs"].as_i64().unwrap()),
            "{line:?}"
        );
    }
    assert_eq!(mine[1][10], "2,50");
    assert_eq!(mine[0][11], "3,50");
    assert_eq!(
        mine[2][13], "10,00",
        "the exemption is shown, not counted as done"
    );
    assert_eq!(mine[2][14], "0,00");
    assert_eq!(mine[3][14], "2,75");

    // One cohort at a time.
    let other = app.create_cohort(org, "CQP-AM");
    for (c, lines) in [(cohort, 5), (other, 1)] {
        let url = app.url(&format!("/organismes/{org}/financeurs.csv?promotion={c}"));
        let (status, body) = get(&admin, url).await;
        assert_eq!((status, records(&body).len()), (200, lines), "cohort {c}");
    }

    // The absences of the same period.
    let (status, body) = get(
        &admin,
        app.url(&format!("/organismes/{org}/financeurs.csv?partie=absences")),
    )
    .await;
    assert_eq!(status, 200);
    let rows = records(&body);
    assert_eq!(rows.len(), 3, "{rows:?}");
    let excused = rows.iter().find(|r| r[9] == "absent (excusé)").unwrap();
    assert_eq!(excused[4], parcours::base::format::date(today()));
    assert_eq!(
        (excused[7].as_str(), excused[8].as_str()),
        ("09 h 00", "12 h 30")
    );
    assert_eq!(excused[10], "Rendez-vous médical");
    assert_eq!(excused[11], "210");
    let late = rows.iter().find(|r| r[9] == "retard").unwrap();
    assert_eq!(late[11], "45");

    // A period without activity: the header and nothing else, not an error.
    for part in ["heures", "absences"] {
        let (status, body) = get(
            &admin,
            app.url(&format!(
                "/organismes/{org}/financeurs.csv?du=01/01/2020&au=31/01/2020&partie={part}"
            )),
        )
        .await;
        assert_eq!(status, 200);
        let rows = records(&body);
        assert_eq!(rows.len(), 1, "{part}: {rows:?}");
        assert_eq!(rows[0][0], "Organisme");
    }
    let (status, body) = get(
        &admin,
        app.url(&format!(
            "/organismes/{org}/financeurs?du=2020-01-01&au=2020-01-31"
        )),
    )
    .await;
    assert_eq!(status, 200);
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains("du 01/01/2020 au 31/01/2020"), "{html}");
    assert!(html.contains("Aucune ligne sur cette période."));
}

#[tokio::test]
async fn reporting_staff_of_another_organism_doctors_and_trainees_are_refused() {
    let app = spawn_app().await;
    let a = app.create_organism("Organisme A");
    let b = app.create_organism("Organisme B");
    let cohort_b = app.create_cohort(b, "CQP-AM");
    let (trainer_a, _) = signed_in(&app, Role::Trainer, Some(a), "formatrice@a.fr").await;
    let (trainer_b, _) = signed_in(&app, Role::Trainer, Some(b), "formateur@b.fr").await;
    let (trainee_a, _) = app.trainee_in(a, "CQP-AM", "eleve@a.fr").await;
    let (doctor, _) = signed_in(&app, Role::Doctor, None, "docteur@cabinet.fr").await;
    let pages = [
        "financeurs",
        "financeurs.csv",
        "financeurs.csv?partie=absences",
        "financeurs.xlsx",
        "qualiopi",
        "qualiopi.csv",
        "qualiopi.xlsx",
    ];
    for page in pages {
        let url = app.url(&format!("/organismes/{a}/{page}"));
        assert_eq!(get(&trainer_a, url.clone()).await.0, 200, "{page}");
        for (who, c) in [
            ("B", &trainer_b),
            ("stagiaire", &trainee_a),
            ("médecin", &doctor),
        ] {
            let (status, body) = get(c, url.clone()).await;
            assert_eq!(status, 403, "{who} on {page}");
            let text = String::from_utf8_lossy(&body);
            assert!(!text.contains("Organisme A"), "{who} on {page}: {text}");
        }
    }
    // Even with bad input, another organism learns nothing but a refusal.
    let url = app.url(&format!("/organismes/{a}/financeurs.csv?du=n'importe"));
    assert_eq!(get(&trainer_b, url).await.0, 403);
    // A cohort of B through A's export is refused, not exported.
    let url = app.url(&format!(
        "/organismes/{a}/financeurs.csv?promotion={cohort_b}"
    ));
    let (status, body) = get(&trainer_a, url).await;
    assert_eq!(status, 422);
    assert!(String::from_utf8_lossy(&body).contains("Promotion inconnue."));
}

#[tokio::test]
async fn reporting_bad_dates_and_years_get_a_french_422() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme Dates");
    let (admin, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "direction@dates.fr").await;
    for (query, message) in [
        (
            "financeurs?du=31/02/2026",
            "Date de début invalide : utilisez jj/mm/aaaa.",
        ),
        (
            "financeurs.csv?au=2026-13-01",
            "Date de fin invalide : utilisez jj/mm/aaaa.",
        ),
        (
            "financeurs.xlsx?du=2026-03-01&au=2026-02-01",
            "La date de fin doit être postérieure ou égale à la date de début.",
        ),
        ("financeurs.csv?promotion=abc", "Promotion inconnue."),
        (
            "financeurs.csv?partie=tout",
            "Partie inconnue : « heures », « absences » ou « activites ».",
        ),
        ("qualiopi?annee=deux-mille", "Année invalide"),
        ("qualiopi.csv?annee=99999", "Année invalide"),
    ] {
        let (status, body) = get(&admin, app.url(&format!("/organismes/{org}/{query}"))).await;
        assert_eq!(status, 422, "{query}");
        let html = String::from_utf8(body).unwrap();
        assert!(html.contains(message), "{query}: {html}");
    }
    // French and ISO dates are both understood.
    for query in ["du=01/03/2026&au=31/03/2026", "du=2026-03-01&au=2026-03-31"] {
        let (status, body) = get(
            &admin,
            app.url(&format!("/organismes/{org}/financeurs?{query}")),
        )
        .await;
        assert_eq!(status, 200, "{query}");
        assert!(
            String::from_utf8(body)
                .unwrap()
                .contains("du 01/03/2026 au 31/03/2026")
        );
    }
}

/// The text of one file of a ZIP archive.
fn zip_text(bytes: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut file = archive.by_name(name).unwrap();
    let mut out = String::new();
    file.read_to_string(&mut out).unwrap();
    out
}

#[tokio::test]
async fn reporting_names_survive_a_csv_round_trip_and_an_xlsx_without_formulas() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme; \"Injection\"");
    let (admin, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "direction@inj.fr").await;
    let cohort = app.create_cohort(org, "CQP-AM");
    let names = [
        "=HYPERLINK(\"http://x\")",
        "+33 6 12 34 56 78",
        "-Dupont\nLigne deux",
        "@SOMME(A1:A9)",
        "Martin; \"Camille\"",
    ];
    for (i, name) in names.iter().enumerate() {
        let id = app.create_user(
            Role::Trainee,
            Some(org),
            &format!("eleve{i}@inj.fr"),
            "mot-de-passe-solide",
        );
        rename(&app, id, name);
        app.enrol(org, cohort, id);
    }
    let (status, body) = get(
        &admin,
        app.url(&format!("/organismes/{org}/financeurs.csv")),
    )
    .await;
    assert_eq!(status, 200);
    let rows = records(&body);
    let mut seen: Vec<String> = rows[1..].iter().map(|r| r[2].clone()).collect();
    seen.dedup();
    let mut expected: Vec<String> = names
        .iter()
        .map(|n| parcours::cohorts::import::spreadsheet_safe(n))
        .collect();
    expected.sort();
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(
        sorted, expected,
        "every name comes back whole, formulas defused"
    );
    assert!(seen.contains(&"'=HYPERLINK(\"http://x\")".to_string()));
    assert!(seen.contains(&"'-Dupont\nLigne deux".to_string()));
    assert!(
        seen.contains(&"Martin; \"Camille\"".to_string()),
        "{seen:?}"
    );
    assert!(
        rows[1..]
            .iter()
            .all(|r| r[0] == "Organisme; \"Injection\"" && r.len() == 17)
    );
    for r in &rows[1..] {
        for cell in r {
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "a live formula: {cell}"
            );
        }
    }

    // The workbook: two sheets, text as shared strings, hours as numbers, no formula.
    let (status, xlsx) = get(
        &admin,
        app.url(&format!("/organismes/{org}/financeurs.xlsx")),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(&xlsx[..2], b"PK");
    let workbook = zip_text(&xlsx, "xl/workbook.xml");
    assert!(
        workbook.contains("name=\"Heures\"") && workbook.contains("name=\"Absences\""),
        "{workbook}"
    );
    let strings = zip_text(&xlsx, "xl/sharedStrings.xml");
    assert!(
        strings.contains("<t>=HYPERLINK(\"http://x\")</t>"),
        "{strings}"
    );
    assert!(strings.contains("@SOMME(A1:A9)"));
    assert!(strings.contains("Total réalisé (h)"));
    let sheet = zip_text(&xlsx, "xl/worksheets/sheet1.xml");
    assert!(!sheet.contains("<f>"), "no formula in the sheet");
    assert!(
        sheet.contains("<pane ySplit=\"1\""),
        "the header stays in view"
    );
    assert!(
        sheet.contains("<v>266</v>") || sheet.contains("<v>77</v>"),
        "planned hours as numbers"
    );
}

#[tokio::test]
async fn reporting_qualiopi_figures_of_a_small_cohort_on_the_page_and_in_the_csv() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme Qualiopi");
    let (admin, admin_id) = signed_in(&app, Role::OrganismAdmin, Some(org), "direction@q.fr").await;
    let year = today().year();
    let on = |m, d| NaiveDate::from_ymd_opt(year, m, d).unwrap();
    let cohort_a = app.create_cohort(org, "CQP-AM");
    let cohort_b = app.create_cohort(org, "CQP-AM");
    let trainee = |email: &str| {
        let id = app.create_user(Role::Trainee, Some(org), email, "mot-de-passe-solide");
        app.enrol(org, cohort_a, id);
        id
    };
    let (done, gone, moved) = (
        trainee("fini@q.fr"),
        trainee("parti@q.fr"),
        trainee("mute@q.fr"),
    );
    let mods = modules_of(&app, "CQP-AM");
    {
        let mut conn = app.conn();
        let c = &mut *conn as &mut DbConn;
        let set_start = |c: &mut DbConn, t: i64, d: NaiveDate| {
            diesel::update(enrolments::table.filter(enrolments::trainee_id.eq(t)))
                .set(enrolments::started_on.eq(d))
                .execute(c)
                .unwrap();
        };
        set_start(c, done, on(1, 15));
        set_start(c, gone, on(1, 15));
        // Entered last year, moved to cohort B in April: neither a drop-out nor an entry.
        set_start(c, moved, on(1, 1) - Duration::days(31));
        diesel::update(enrolments::table.filter(enrolments::trainee_id.eq(gone)))
            .set(enrolments::ended_on.eq(on(3, 1)))
            .execute(c)
            .unwrap();
        let line = parcours::cohorts::store::trainee(
            c,
            parcours::cohorts::store::Scope::Organism(org),
            moved,
        )
        .unwrap()
        .unwrap();
        parcours::cohorts::store::transfer(c, admin_id, &line, cohort_b, on(4, 1)).unwrap();
        // One hour done by the one who finished.
        diesel::insert_into(module_totals::table)
            .values((
                module_totals::trainee_id.eq(done),
                module_totals::module_id.eq(mods[0]),
                module_totals::distance_seconds.eq(3600i64),
                module_totals::presentiel_seconds.eq(0i64),
                module_totals::correction_seconds.eq(0i64),
            ))
            .execute(c)
            .unwrap();
        // Her final attestation, and a revoked certificate.
        for (kind, key, revoked) in [
            ("fin_formation", Some(format!("{done}:{cohort_a}")), None),
            ("realisation", None, Some(parcours::db::now())),
        ] {
            diesel::insert_into(attestations::table)
                .values((
                    attestations::organism_id.eq(org),
                    attestations::trainee_id.eq(done),
                    attestations::cohort_id.eq(cohort_a),
                    attestations::kind.eq(kind),
                    attestations::number.eq(format!("N-{kind}")),
                    attestations::code.eq(format!("C-{kind}")),
                    attestations::signature.eq(""),
                    attestations::payload.eq(""),
                    attestations::pdf.eq(Vec::<u8>::new()),
                    attestations::final_key.eq(key),
                    attestations::period_from.eq(on(1, 15)),
                    attestations::period_to.eq(on(1, 15)),
                    attestations::issued_at.eq(parcours::db::now()),
                    attestations::revoked_at.eq(revoked),
                ))
                .execute(c)
                .unwrap();
        }
        // M1: one passed (after a failure), one failed.
        for (t, no, passed) in [(done, 1, false), (done, 2, true), (gone, 1, false)] {
            diesel::insert_into(evaluation_attempts::table)
                .values((
                    evaluation_attempts::trainee_id.eq(t),
                    evaluation_attempts::module_id.eq(mods[0]),
                    evaluation_attempts::evaluation_hash.eq("test"),
                    evaluation_attempts::attempt_no.eq(no),
                    evaluation_attempts::status.eq("submitted"),
                    evaluation_attempts::started_at.eq(parcours::db::now()),
                    evaluation_attempts::submitted_at.eq(parcours::db::now()),
                    evaluation_attempts::question_count.eq(10),
                    evaluation_attempts::correct_count.eq(5),
                    evaluation_attempts::score_pct.eq(50),
                    evaluation_attempts::passed.eq(passed),
                ))
                .execute(c)
                .unwrap();
        }
        // A partial VAE decision: M2 validated, M1 not.
        let program: i64 = programs::table
            .filter(programs::code.eq("CQP-AM"))
            .select(programs::id)
            .first(c)
            .unwrap();
        let candidate =
            app.create_user(Role::Trainee, Some(org), "vae@q.fr", "mot-de-passe-solide");
        diesel::insert_into(vae_requests::table)
            .values((
                vae_requests::organism_id.eq(org),
                vae_requests::candidate_id.eq(candidate),
                vae_requests::program_id.eq(program),
                vae_requests::year.eq(year),
                vae_requests::state.eq("decision"),
                vae_requests::phone.eq("0600000000"),
                vae_requests::address.eq("Lyon"),
                vae_requests::employer.eq("Cabinet"),
                vae_requests::requested_modules.eq("[\"M1\",\"M2\"]"),
                vae_requests::experience_minutes.eq(96420),
                vae_requests::below_threshold.eq(false),
                vae_requests::consent_at.eq(parcours::db::now()),
                vae_requests::decision.eq("partial"),
                vae_requests::validated_modules.eq("[\"M2\"]"),
                vae_requests::created_at.eq(parcours::db::now()),
                vae_requests::updated_at.eq(parcours::db::now()),
            ))
            .execute(c)
            .unwrap();
        // A question answered in 3 hours, a piece of work not answered yet.
        let asked = parcours::db::now() - Duration::hours(5);
        let thread: i64 = diesel::insert_into(followup_threads::table)
            .values((
                followup_threads::organism_id.eq(org),
                followup_threads::cohort_id.eq(cohort_a),
                followup_threads::trainee_id.eq(done),
                followup_threads::module_id.eq(mods[0]),
                followup_threads::kind.eq("pedagogique"),
                followup_threads::subject.eq("Vaccins"),
                followup_threads::created_at.eq(asked),
                followup_threads::last_message_at.eq(asked),
            ))
            .returning(followup_threads::id)
            .get_result(c)
            .unwrap();
        for (author, kind, at) in [
            (done, "question", asked),
            (admin_id, "reponse", asked + Duration::hours(3)),
            (done, "travail", asked + Duration::hours(4)),
        ] {
            diesel::insert_into(followup_messages::table)
                .values((
                    followup_messages::thread_id.eq(thread),
                    followup_messages::author_id.eq(author),
                    followup_messages::kind.eq(kind),
                    followup_messages::body.eq("…"),
                    followup_messages::created_at.eq(at),
                ))
                .execute(c)
                .unwrap();
        }
    }
    let name_of = |id: i64| -> String {
        parcours::db::schema::cohorts::table
            .find(id)
            .select(parcours::db::schema::cohorts::name)
            .first(&mut *app.conn() as &mut DbConn)
            .unwrap()
    };
    let (a, b) = (name_of(cohort_a), name_of(cohort_b));

    let (status, body) = get(
        &admin,
        app.url(&format!("/organismes/{org}/qualiopi?annee={year}")),
    )
    .await;
    assert_eq!(status, 200);
    let html = String::from_utf8(body).unwrap();
    // Entries, completed, drop-outs, rate, average hours done and planned.
    assert!(
        html.contains(&format!(
            "<th scope=\"row\">{a}</th><td>2</td><td>1</td><td>1</td><td>50 %</td><td>0,50</td><td>266,00</td>"
        )),
        "{html}"
    );
    assert!(html.contains(&format!(
        "<th scope=\"row\">{b}</th><td>0</td><td>0</td><td>0</td><td>0 %</td>"
    )));
    assert!(html.contains("<th scope=\"row\">Total de l&#x27;organisme</th><td>2</td><td>1</td><td>1</td><td>33,3 %</td>"), "{html}");
    assert!(
        html.contains("<td>1</td><td>3 h</td><td>3 h</td><td>1</td>"),
        "answer times: {html}"
    );
    assert!(html.contains("<th scope=\"row\">M1</th><td>3</td><td>2</td><td>1</td><td>50 %</td>"));
    assert!(
        html.contains("<th scope=\"row\">M2</th><td>1</td><td>0</td><td>1</td>"),
        "VAE: {html}"
    );
    assert!(html.contains("<th scope=\"row\">Certificat de réalisation</th><td>0</td><td>1</td>"));
    assert!(
        html.contains("Abandons ÷ stagiaires inscrits"),
        "the note of the rate"
    );

    let (status, body) = get(
        &admin,
        app.url(&format!("/organismes/{org}/qualiopi.csv?annee={year}")),
    )
    .await;
    assert_eq!(status, 200);
    let rows = records(&body);
    assert_eq!(
        rows[0],
        ["Tableau", "Ligne", "Indicateur", "Valeur", "Mode de calcul"]
    );
    let value = |line: &str, figure: &str| -> String {
        rows.iter()
            .find(|r| r[1] == line && r[2] == figure)
            .unwrap_or_else(|| panic!("{line} / {figure} in {rows:?}"))[3]
            .clone()
    };
    assert_eq!(value(&a, "Entrées"), "2");
    assert_eq!(value(&a, "Abandons"), "1");
    assert_eq!(value(&a, "Terminés"), "1");
    assert_eq!(value(&a, "Taux d'abandon"), "50 %");
    // Her enrolment ended without a reason given; nobody left for one.
    assert_eq!(value("Non renseigné", "Abandons"), "1");
    assert_eq!(value("Abandon du stagiaire", "Abandons"), "0");
    assert_eq!(value(&b, "Entrées"), "0", "a transfer is no entry");
    assert_eq!(value("Total de l'organisme", "Taux d'abandon"), "33,3 %");
    assert_eq!(value("M1", "Taux de réussite"), "50 %");
    assert_eq!(value("M1", "Non validé"), "1");
    assert_eq!(value("Attestation de fin de formation", "Délivrés"), "1");
    assert!(
        rows.iter()
            .all(|r| r.len() == 5 && (r[0] == "Tableau" || !r[4].is_empty()))
    );

    // An empty year: dashes, not NaN nor 0 %.
    let (status, body) = get(
        &admin,
        app.url(&format!("/organismes/{org}/qualiopi?annee=2019")),
    )
    .await;
    assert_eq!(status, 200);
    let html = String::from_utf8(body).unwrap();
    // In a cell: the page's random CSRF token may itself spell "NaN".
    assert!(!html.contains(">NaN") && !html.contains("NaN %"), "{html}");
    assert!(
        html.contains("<th scope=\"row\">Total de l&#x27;organisme</th><td>0</td><td>0</td><td>0</td><td>—</td><td>—</td><td>—</td><td>—</td><td>0</td><td>—</td><td>—</td><td>0</td>"),
        "{html}"
    );
}

#[tokio::test]
async fn reporting_funders_export_keeps_those_who_left_and_splits_a_transfer_at_its_day() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme Départs");
    let (admin, admin_id) =
        signed_in(&app, Role::OrganismAdmin, Some(org), "direction@dep.fr").await;
    let (cohort_a, cohort_b) = (
        app.create_cohort(org, "CQP-AM"),
        app.create_cohort(org, "CQP-AM"),
    );
    let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
    let m1 = modules_of(&app, "CQP-AM")[0];
    let mut ids = Vec::new();
    for (email, name) in [
        ("mute@dep.fr", "Alice Mutée"),
        ("partie@dep.fr", "Bob Parti"),
    ] {
        let id = app.create_user(Role::Trainee, Some(org), email, "mot-de-passe-solide");
        rename(&app, id, name);
        app.enrol(org, cohort_a, id);
        ids.push(id);
    }
    let (moved, gone) = (ids[0], ids[1]);
    {
        let mut conn = app.conn();
        let c = &mut *conn as &mut DbConn;
        diesel::update(enrolments::table)
            .set(enrolments::started_on.eq(d(1, 15)))
            .execute(c)
            .unwrap();
        diesel::update(enrolments::table.filter(enrolments::trainee_id.eq(gone)))
            .set(enrolments::ended_on.eq(d(3, 5)))
            .execute(c)
            .unwrap();
        let line = parcours::cohorts::store::trainee(
            c,
            parcours::cohorts::store::Scope::Organism(org),
            moved,
        )
        .unwrap()
        .unwrap();
        parcours::cohorts::store::transfer(c, admin_id, &line, cohort_b, d(3, 15)).unwrap();
    }
    let day_of = |trainee, day, secs| {
        diesel::insert_into(daily_activity::table)
            .values((
                daily_activity::trainee_id.eq(trainee),
                daily_activity::day.eq(day),
                daily_activity::module_id.eq(m1),
                daily_activity::distance_seconds.eq(secs),
                daily_activity::first_at.eq(parcours::db::now()),
                daily_activity::last_at.eq(parcours::db::now()),
            ))
            .execute(&mut *app.conn() as &mut DbConn)
            .unwrap();
    };
    day_of(moved, d(3, 10), 5400);
    day_of(moved, d(3, 15), 3600);
    day_of(gone, d(3, 2), 1800);
    day_of(gone, d(3, 6), 900);
    let url = app.url(&format!(
        "/organismes/{org}/financeurs.csv?du=01/03/2026&au=31/03/2026"
    ));
    let (status, body) = get(&admin, url).await;
    assert_eq!(status, 200);
    let rows = records(&body);
    let m1_of = |name: &str, cohort: i64| -> Vec<String> {
        let cohort_name: String = parcours::db::schema::cohorts::table
            .find(cohort)
            .select(parcours::db::schema::cohorts::name)
            .first(&mut *app.conn() as &mut DbConn)
            .unwrap();
        rows.iter()
            .find(|r| r[2] == name && r[1] == cohort_name && r[7] == "M1")
            .unwrap_or_else(|| panic!("{name} in {cohort_name}: {rows:?}"))
            .clone()
    };
    let before = m1_of("Alice Mutée", cohort_a);
    assert_eq!(
        (before[6].as_str(), before[10].as_str()),
        ("15/03/2026", "1,50")
    );
    let after = m1_of("Alice Mutée", cohort_b);
    assert_eq!(
        (after[5].as_str(), after[10].as_str()),
        ("15/03/2026", "1,00"),
        "the transfer day counts once"
    );
    let left = m1_of("Bob Parti", cohort_a);
    assert_eq!(
        (left[6].as_str(), left[10].as_str()),
        ("05/03/2026", "0,50"),
        "only while enrolled"
    );
    assert_eq!(rows.len(), 1 + 3 * 4, "three enrolments, four modules each");

    // Per activity, too, time counts in the cohort she was in when she studied.
    let lesson: i64 = lessons::table
        .filter(lessons::module_id.eq(m1))
        .filter(lessons::slug.eq("01-role-assistant-parcours-sante"))
        .select(lessons::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    for (view, day, secs) in [("a", 10, 600), ("b", 16, 300)] {
        let at = d(3, day).and_hms_opt(9, 0, 0).unwrap();
        use parcours::db::schema::study_sessions;
        diesel::insert_into(study_sessions::table)
            .values((
                study_sessions::trainee_id.eq(moved),
                study_sessions::page_view.eq(view),
                study_sessions::module_id.eq(m1),
                study_sessions::lesson_id.eq(Some(lesson)),
                study_sessions::started_at.eq(at),
                study_sessions::last_beat_at.eq(at),
                study_sessions::last_seq.eq(3),
                study_sessions::seconds_credited.eq(secs),
            ))
            .execute(&mut *app.conn() as &mut DbConn)
            .unwrap();
    }
    let url = app.url(&format!(
        "/organismes/{org}/financeurs.csv?du=01/03/2026&au=31/03/2026&partie=activites"
    ));
    let (_, body) = get(&admin, url).await;
    let rows = records(&body);
    let times: Vec<(&str, &str)> = rows[1..]
        .iter()
        .map(|r| (r[1].as_str(), r[11].as_str()))
        .collect();
    assert_eq!(times.len(), 2, "{rows:?}");
    let mut spent: Vec<&str> = times.iter().map(|t| t.1).collect();
    spent.sort();
    assert_eq!(spent, ["0,08", "0,17"], "{rows:?}");
    assert_ne!(times[0].0, times[1].0, "one line per cohort: {rows:?}");
}

#[tokio::test]
async fn reporting_hours_of_many_periods_read_at_once_are_each_period_read_alone() {
    use parcours::attestation::store::{hours_in_period, hours_in_periods};
    use parcours::db::schema::hour_corrections;
    let app = spawn_app().await;
    let org = app.create_organism("Organisme Périodes");
    let (_, admin) = signed_in(&app, Role::OrganismAdmin, Some(org), "direction@per.fr").await;
    let (_, ana) = app.trainee_in(org, "CQP-AM", "ana@per.fr").await;
    let (_, ben) = app.trainee_in(org, "CQP-AM", "ben@per.fr").await;
    let cohort: i64 = enrolments::table
        .filter(enrolments::trainee_id.eq(ana))
        .select(enrolments::cohort_id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let mods = modules_of(&app, "CQP-AM");
    let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
    let mut conn = app.conn();
    let c = &mut *conn as &mut DbConn;
    for (trainee, module, day, secs) in [
        (ana, mods[0], d(10, 1), 600i64),
        (ana, mods[0], d(10, 15), 1200),
        (ana, mods[1], d(11, 2), 300),
        (ben, mods[0], d(10, 15), 7200),
    ] {
        day_row(c, trainee, module, day, secs);
    }
    // Paris is UTC+1 after 25/10/2026: 23:30 UTC on 31/10 is 00:30 on 01/11 in Paris.
    for (utc, secs) in [("2026-10-31 23:30:00", 900i64), ("2026-10-31 22:30:00", 60)] {
        diesel::insert_into(hour_corrections::table)
            .values((
                hour_corrections::trainee_id.eq(ana),
                hour_corrections::module_id.eq(mods[0]),
                hour_corrections::seconds.eq(secs),
                hour_corrections::reason.eq("Feuille papier"),
                hour_corrections::created_by.eq(admin),
                hour_corrections::created_at.eq(chrono::NaiveDateTime::parse_from_str(
                    utc,
                    "%Y-%m-%d %H:%M:%S",
                )
                .unwrap()),
            ))
            .execute(c)
            .unwrap();
    }
    drop(conn);
    closed_sheet(
        &app,
        cohort,
        mods[2],
        ana,
        admin,
        d(10, 20),
        "present",
        None,
        210,
        None,
    );
    let periods = [
        (ana, d(10, 1), d(10, 31)),
        (ben, d(10, 1), d(10, 31)),
        (ana, d(11, 1), d(11, 30)),
        (ben, d(11, 1), d(11, 30)),
    ];
    let mut conn = app.conn();
    let c = &mut *conn as &mut DbConn;
    let many = hours_in_periods(c, &periods).unwrap();
    // (module, (distance, in person, corrections)) of each period.
    type Lines = Vec<(i64, (i64, i64, i64))>;
    let expected: [Lines; 4] = [
        vec![(mods[0], (1800, 0, 60)), (mods[2], (0, 210 * 60, 0))],
        vec![(mods[0], (7200, 0, 0))],
        vec![(mods[0], (0, 0, 900)), (mods[1], (300, 0, 0))],
        vec![],
    ];
    assert_eq!(many.len(), 4);
    for ((period, got), want) in periods.iter().zip(&many).zip(expected) {
        assert_eq!(got, &want.into_iter().collect(), "{period:?}");
        let alone = hours_in_period(c, period.0, period.1, period.2).unwrap();
        assert_eq!(got, &alone, "{period:?} read alone");
    }
    assert!(hours_in_periods(c, &[]).unwrap().is_empty());
}

#[tokio::test]
async fn reporting_funders_activities_part_gives_time_and_result_per_trainee_and_activity() {
    use parcours::db::schema::{activity_totals, assignment_submissions, study_sessions};
    let app = spawn_app().await;
    let org = app.create_organism("Organisme Activités");
    let (admin, admin_id) =
        signed_in(&app, Role::OrganismAdmin, Some(org), "direction@act.fr").await;
    let (_, trainee) = app.trainee_in(org, "CQP-AM", "eleve@act.fr").await;
    rename(&app, trainee, "Camille Dupont");
    let m1 = modules_of(&app, "CQP-AM")[0];
    let activity = |slug: &str| -> i64 {
        lessons::table
            .filter(lessons::module_id.eq(m1))
            .filter(lessons::slug.eq(slug))
            .select(lessons::id)
            .first(&mut *app.conn() as &mut DbConn)
            .unwrap()
    };
    let (lesson, work) = (
        activity("01-role-assistant-parcours-sante"),
        activity("01-missions-et-limites"),
    );
    let now = parcours::db::now();
    let october = NaiveDate::from_ymd_opt(2026, 10, 12)
        .unwrap()
        .and_hms_opt(9, 0, 0)
        .unwrap();
    {
        let mut conn = app.conn();
        let c = &mut *conn as &mut DbConn;
        // 15 min on the lesson now, 10 min in October (before the period).
        for (view, at, secs) in [("oct", october, 600), ("now", now, 900)] {
            diesel::insert_into(study_sessions::table)
                .values((
                    study_sessions::trainee_id.eq(trainee),
                    study_sessions::page_view.eq(view),
                    study_sessions::module_id.eq(m1),
                    study_sessions::lesson_id.eq(Some(lesson)),
                    study_sessions::started_at.eq(at),
                    study_sessions::last_beat_at.eq(at),
                    study_sessions::last_seq.eq(9),
                    study_sessions::seconds_credited.eq(secs),
                ))
                .execute(c)
                .unwrap();
        }
        diesel::insert_into(activity_totals::table)
            .values((
                activity_totals::trainee_id.eq(trainee),
                activity_totals::lesson_id.eq(lesson),
                activity_totals::seconds.eq(1500i64),
                activity_totals::last_at.eq(now),
            ))
            .execute(c)
            .unwrap();
        for (no, score) in [(1, 60), (2, 85)] {
            diesel::insert_into(evaluation_attempts::table)
                .values((
                    evaluation_attempts::trainee_id.eq(trainee),
                    evaluation_attempts::module_id.eq(m1),
                    evaluation_attempts::evaluation_hash.eq("test"),
                    evaluation_attempts::attempt_no.eq(no),
                    evaluation_attempts::status.eq("submitted"),
                    evaluation_attempts::started_at.eq(now),
                    evaluation_attempts::submitted_at.eq(now),
                    evaluation_attempts::question_count.eq(20),
                    evaluation_attempts::correct_count.eq(score / 5),
                    evaluation_attempts::score_pct.eq(score),
                    evaluation_attempts::passed.eq(score >= 70),
                    evaluation_attempts::quiz.eq("01-role-et-limites"),
                ))
                .execute(c)
                .unwrap();
        }
        diesel::insert_into(assignment_submissions::table)
            .values((
                assignment_submissions::trainee_id.eq(trainee),
                assignment_submissions::lesson_id.eq(work),
                assignment_submissions::version_no.eq(1),
                assignment_submissions::answer_text.eq("Réponse"),
                assignment_submissions::submitted_at.eq(now),
                assignment_submissions::status.eq("graded"),
                assignment_submissions::graded_by.eq(Some(admin_id)),
                assignment_submissions::graded_at.eq(Some(now)),
                assignment_submissions::points.eq(Some(12)),
                assignment_submissions::max_points.eq(Some(20)),
            ))
            .execute(c)
            .unwrap();
    }
    let query = format!("du=01/11/2026&au={}", parcours::base::format::date(today()));
    let (status, body) = get(
        &admin,
        app.url(&format!(
            "/organismes/{org}/financeurs.csv?{query}&partie=activites"
        )),
    )
    .await;
    assert_eq!(status, 200);
    let rows = records(&body);
    assert_eq!(rows[0][7], "Activité");
    assert_eq!(rows[0][11], "Temps passé sur la période (h)");
    assert_eq!(rows.len(), 4, "lesson, quiz, assignment: {rows:?}");
    let of = |title_kind: &str| -> &Vec<String> {
        rows.iter()
            .find(|r| r[8] == title_kind)
            .unwrap_or_else(|| panic!("{title_kind}: {rows:?}"))
    };
    let l = of("Leçon");
    assert_eq!(&l[2], "Camille Dupont");
    assert_eq!(&l[4], "M1");
    assert_eq!(
        &l[6],
        "Le rôle de l'assistant médical dans le parcours de santé"
    );
    assert_eq!((l[11].as_str(), l[12].as_str()), ("0,25", "0,42"));
    let q = of("Quiz");
    assert_eq!(
        &q[13..],
        [
            "2",
            "85",
            "",
            "",
            "Réussi, meilleur score 85 % (2 tentatives)"
        ]
    );
    let w = of("Devoir");
    assert_eq!(&w[15..], ["12", "20", "Noté 12 / 20"]);
    assert!(!w[10].is_empty(), "the estimated duration: {w:?}");

    // A period before any of it has only the header.
    let (_, body) = get(
        &admin,
        app.url(&format!(
            "/organismes/{org}/financeurs.csv?du=01/01/2026&au=31/01/2026&partie=activites"
        )),
    )
    .await;
    assert_eq!(records(&body).len(), 1);
    // The workbook has the third sheet; the page shows the part.
    let (status, xlsx) = get(
        &admin,
        app.url(&format!("/organismes/{org}/financeurs.xlsx?{query}")),
    )
    .await;
    assert_eq!(status, 200);
    assert!(zip_text(&xlsx, "xl/workbook.xml").contains("Activités"));
    let sheet3 = zip_text(&xlsx, "xl/worksheets/sheet3.xml");
    assert!(!sheet3.contains("<f>"), "no formula");
    let (_, page) = get(
        &admin,
        app.url(&format!("/organismes/{org}/financeurs?{query}")),
    )
    .await;
    let html = String::from_utf8(page).unwrap();
    assert!(html.contains("Activités : temps passé et résultats"));
    assert!(html.contains("Noté 12 / 20"));
}
