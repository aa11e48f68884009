//! Hours: heartbeats credited by the server, corrections, dashboards and scopes.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::schema::{
    audit_events, daily_activity, lessons, module_totals, study_sessions, users,
};

use crate::common::*;

fn lesson_id(app: &TestApp, slug_prefix: &str) -> i64 {
    lessons::table
        .filter(lessons::slug.like(format!("{slug_prefix}%")))
        .select(lessons::id)
        .first(&mut *app.conn())
        .unwrap()
}

fn distance(app: &TestApp, trainee: i64) -> i64 {
    module_totals::table
        .filter(module_totals::trainee_id.eq(trainee))
        .select(module_totals::distance_seconds)
        .load::<i64>(&mut *app.conn())
        .unwrap()
        .iter()
        .sum()
}

#[tokio::test]
async fn the_server_credits_real_time_once_per_trainee() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (_, trainee) = app.trainee_in(org, "CQP-AM", "eleve@a.fr").await;
    let t = api_token(&app, "eleve@a.fr").await;
    let lesson = lesson_id(&app, "01-role-assistant");
    let first: serde_json::Value = beat(&app, &t, lesson, "vue-a", 1)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["outcome"], "started");
    rewind(&app, trainee, 20);
    let second: serde_json::Value = beat(&app, &t, lesson, "vue-a", 2)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["credited_seconds"], 20, "{second}");
    // The same beat again, an older one: nothing.
    let replay: serde_json::Value = beat(&app, &t, lesson, "vue-a", 2)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(replay["outcome"], "replay");
    let older: serde_json::Value = beat(&app, &t, lesson, "vue-a", 1)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(older["outcome"], "replay");
    // A second tab right away shares the clock: no second count of the same time.
    let other: serde_json::Value = beat(&app, &t, lesson, "vue-b", 1)
        .await
        .json()
        .await
        .unwrap();
    assert!(other["credited_seconds"].as_i64().unwrap() <= 1, "{other}");
    // A long silence is not credited.
    rewind(&app, trainee, 3600);
    let late: serde_json::Value = beat(&app, &t, lesson, "vue-a", 3)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(late["outcome"], "started");
    let total = distance(&app, trainee);
    assert!((20..=21).contains(&total), "{total}");
    let day: i64 = daily_activity::table
        .filter(daily_activity::trainee_id.eq(trainee))
        .select(daily_activity::distance_seconds)
        .first(&mut *app.conn())
        .unwrap();
    assert_eq!(day, total, "the day's activity matches the module total");
    // The dashboard reads it back.
    let (c, _) = (client(), ());
    assert_eq!(
        login(&app, &c, "eleve@a.fr", "mot-de-passe-solide")
            .await
            .status(),
        303
    );
    let html = c
        .get(app.url("/tableau-de-bord"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<svg class=\"chart\""), "{html}");
    assert!(html.contains("Temps à distance en "));
    assert!(html.contains("Rythme"));
    // Her activities: the lesson she read, with its time against the estimate.
    let title: String = lessons::table
        .find(lesson)
        .select(lessons::title)
        .first(&mut *app.conn())
        .unwrap();
    assert!(
        html.contains("<h2 id=\"act-title\">Activités</h2>"),
        "{html}"
    );
    let title = title.replace('\'', "&#x27;");
    assert!(
        html.contains(&format!("<td>{title}</td><td>Leçon</td><td>0 h</td>")),
        "{html}"
    );
}

#[tokio::test]
async fn a_flood_of_beats_is_credited_at_most_real_time() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (_, trainee) = app.trainee_in(org, "CQP-AM", "flood@a.fr").await;
    let t = api_token(&app, "flood@a.fr").await;
    let lesson = lesson_id(&app, "01-role-assistant");
    let started = std::time::Instant::now();
    let mut handles = vec![];
    for i in 0..200 {
        let (url, t) = (app.url("/api/v1/study/heartbeats"), t.clone());
        handles.push(tokio::spawn(async move {
            client()
                .post(url)
                .bearer_auth(t)
                .json(&serde_json::json!({"page": "lesson", "lesson_id": lesson, "view": format!("v{}", i % 7), "seq": i}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for h in handles {
        assert_eq!(h.await.unwrap(), 200);
    }
    let elapsed = started.elapsed().as_secs() as i64;
    assert!(
        distance(&app, trainee) <= elapsed + 1,
        "credited at most the real time"
    );
}

#[tokio::test]
async fn beats_outside_the_path_or_from_others_are_refused() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    app.trainee_in(org, "FAE-AM", "fae@a.fr").await;
    app.create_user(Role::Doctor, None, "dr@a.fr", "mot-de-passe-solide");
    let fae = api_token(&app, "fae@a.fr").await;
    let doctor = api_token(&app, "dr@a.fr").await;
    let cqp_lesson = lesson_id(&app, "01-role-assistant");
    let res = beat(&app, &fae, cqp_lesson, "v", 1).await;
    assert_eq!(res.status(), 403, "a lesson outside the trainee's path");
    assert_eq!(beat(&app, &doctor, cqp_lesson, "v", 1).await.status(), 403);
    assert_eq!(beat(&app, &fae, 999_999, "v", 1).await.status(), 422);
    assert_eq!(
        beat(&app, &fae, cqp_lesson, "<script>", 1).await.status(),
        422
    );
    // A page session must send its CSRF header.
    let (page, _) = app.trainee_in(org, "CQP-AM", "page@a.fr").await;
    let res = page
        .post(app.url("/api/v1/study/heartbeats"))
        .json(
            &serde_json::json!({"page": "lesson", "lesson_id": cqp_lesson, "view": "v", "seq": 1}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let n: i64 = module_totals::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_disabled_account_or_an_old_token_credits_nothing() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (_, trainee) = app.trainee_in(org, "CQP-AM", "partie@a.fr").await;
    let (_, other) = app.trainee_in(org, "CQP-AM", "reste@a.fr").await;
    let lesson = lesson_id(&app, "01-role-assistant");
    let t = api_token(&app, "partie@a.fr").await;
    let t_other = api_token(&app, "reste@a.fr").await;
    assert_eq!(beat(&app, &t, lesson, "v1", 1).await.status(), 200);
    assert_eq!(beat(&app, &t_other, lesson, "v2", 1).await.status(), 200);
    rewind(&app, trainee, 30);
    rewind(&app, other, 30);
    // A password change bumps the token generation: the old token no longer credits.
    {
        diesel::update(users::table.find(trainee))
            .set(users::token_version.eq(users::token_version + 1))
            .execute(&mut *app.conn())
            .unwrap();
    }
    assert_eq!(beat(&app, &t, lesson, "v1", 2).await.status(), 401);
    assert_eq!(distance(&app, trainee), 0);
    // Nor does a disabled account's.
    {
        diesel::update(users::table.find(other))
            .set(users::disabled.eq(true))
            .execute(&mut *app.conn())
            .unwrap();
    }
    assert_eq!(beat(&app, &t_other, lesson, "v2", 2).await.status(), 401);
    assert_eq!(distance(&app, other), 0);
    let sessions: Vec<i32> = study_sessions::table
        .filter(study_sessions::trainee_id.eq_any([trainee, other]))
        .select(study_sessions::last_seq)
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(
        sessions,
        [1, 1],
        "refused beats leave the sessions as they were"
    );
}

#[tokio::test]
async fn a_module_not_open_yet_credits_nothing() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (_, trainee) = app.trainee_in(org, "CQP-AM", "tot@a.fr").await;
    // The cohort starts next year.
    {
        use parcours::db::schema::cohorts;
        diesel::update(cohorts::table)
            .set((
                cohorts::start_date.eq(chrono::NaiveDate::from_ymd_opt(2099, 1, 1).unwrap()),
                cohorts::end_date.eq(chrono::NaiveDate::from_ymd_opt(2099, 11, 1).unwrap()),
            ))
            .execute(&mut *app.conn())
            .unwrap();
    }
    let t = api_token(&app, "tot@a.fr").await;
    let lesson = lesson_id(&app, "01-role-assistant");
    let body: serde_json::Value = beat(&app, &t, lesson, "v", 1).await.json().await.unwrap();
    assert_eq!(body["outcome"], "module_not_open");
    assert_eq!(distance(&app, trainee), 0);
}

#[tokio::test]
async fn corrections_need_a_reason_and_are_audited() {
    let app = spawn_app().await;
    let a = app.create_organism("Organisme A");
    let b = app.create_organism("Organisme B");
    let (_, trainee) = app.trainee_in(a, "CQP-AM", "eleve@a.fr").await;
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(a), "chef@a.fr").await;
    let (chef_b, _) = signed_in(&app, Role::OrganismAdmin, Some(b), "chef@b.fr").await;
    let m1: i64 = {
        use parcours::db::schema::modules;
        modules::table
            .filter(modules::code.eq("M1"))
            .select(modules::id)
            .first(&mut *app.conn())
            .unwrap()
    };
    let url = app.url(&format!("/stagiaires/{trainee}/heures"));
    let html = chef.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Corriger les heures"));
    let corrections = format!("/stagiaires/{trainee}/corrections");
    let post = |c: &reqwest::Client, form: Vec<(&'static str, String)>| {
        let (app, c, corrections) = (&app, c.clone(), &corrections);
        async move { c.post_form(app, corrections, &form).await }
    };
    let form = |dir: &str, h: &str, reason: &str| {
        vec![
            ("module_id", m1.to_string()),
            ("direction", dir.to_string()),
            ("hours", h.to_string()),
            ("minutes", "30".to_string()),
            ("reason", reason.to_string()),
        ]
    };
    let res = post(&chef, form("ajout", "2", "")).await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Le motif de la correction est obligatoire.")
    );
    let res = post(&chef, form("retrait", "9", "Erreur de saisie")).await;
    assert_eq!(res.status(), 422, "cannot remove more than recorded");
    let res = post(&chef_b, form("ajout", "2", "Intrus")).await;
    assert_eq!(res.status(), 404);
    assert_eq!(chef_b.get(&url).send().await.unwrap().status(), 404);
    let res = post(&chef, form("ajout", "2", "Séance rattrapée le 20/11")).await;
    assert_eq!(res.status(), 303);
    let correction: i64 = module_totals::table
        .filter(module_totals::trainee_id.eq(trainee))
        .select(module_totals::correction_seconds)
        .first(&mut *app.conn())
        .unwrap();
    assert_eq!(correction, 9000);
    let after: String = audit_events::table
        .filter(audit_events::action.eq("hours_corrected"))
        .select(audit_events::after_json)
        .first::<Option<String>>(&mut *app.conn())
        .unwrap()
        .unwrap();
    assert!(after.contains("\"correction_seconds\":9000") && after.contains("Séance rattrapée"));
    let html = chef.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(
        html.contains("+2 h 30 — Séance rattrapée le 20/11"),
        "{html}"
    );
    // The cohort table shows it, with a CSV export.
    let cohort: i64 = {
        use parcours::db::schema::enrolments;
        enrolments::table
            .filter(enrolments::trainee_id.eq(trainee))
            .select(enrolments::cohort_id)
            .first(&mut *app.conn())
            .unwrap()
    };
    let table = chef
        .get(app.url(&format!("/promotions/{cohort}/suivi")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        table.contains("Personne eleve@a.fr") && table.contains("2 h 30"),
        "{table}"
    );
    // Names are escaped in the hand-written table rows.
    diesel::update(users::table.find(trainee))
        .set(users::name.eq("<b>Zoé</b>"))
        .execute(&mut *app.conn())
        .unwrap();
    let table = chef
        .get(app.url(&format!("/promotions/{cohort}/suivi")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        table.contains("&lt;b&gt;Zoé&lt;/b&gt;") && !table.contains("<b>Zoé"),
        "{table}"
    );
    let csv = chef
        .get(app.url(&format!("/promotions/{cohort}/suivi.csv")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.contains("2,50"), "{csv}");
    assert_eq!(
        chef_b
            .get(app.url(&format!("/promotions/{cohort}/suivi")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn a_killed_server_loses_no_acknowledged_beat_and_counts_none_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (database_url, pg) = match pg_base() {
        Some(server) => {
            let (url, name) = create_pg_database(&server);
            (url, Some((server, name)))
        }
        None => (format!("sqlite://{}/p.db", dir.path().display()), None),
    };
    let mut env = base_env(dir.path(), &database_url);
    env.insert("PARCOURS_BEAT_SECONDS".into(), "1".into());
    let first = Server::start(&env);
    // Set up through the library on the same database.
    let (pool, _) = parcours::db::connect(&database_url, 2).unwrap();
    let setup = Db { pool: pool.clone() };
    let org = setup.create_organism("Organisme K");
    let cohort = setup.create_cohort(org, "CQP-AM");
    let mut trainees = vec![];
    for i in 0..8 {
        let id = setup.create_user(
            Role::Trainee,
            Some(org),
            &format!("k{i}@a.fr"),
            "mot-de-passe-solide",
        );
        setup.enrol(org, cohort, id);
        trainees.push(id);
    }
    let lesson: i64 = lessons::table
        .order(lessons::id.asc())
        .select(lessons::id)
        .first(&mut *pool.get().unwrap())
        .unwrap();
    let mut tokens = vec![];
    for i in 0..8 {
        let body: serde_json::Value = client()
            .post(format!("{}/api/v1/auth/token", first.address))
            .json(&serde_json::json!({"email": format!("k{i}@a.fr"), "password": "mot-de-passe-solide"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        tokens.push(body["token"].as_str().unwrap().to_string());
    }
    let base = first.address.clone();
    let mut tasks = vec![];
    for (k, token) in tokens.iter().cloned().enumerate() {
        let base = base.clone();
        tasks.push(tokio::spawn(async move {
            let (mut acked_seq, mut acked_secs) = (0i64, 0i64);
            let c = client();
            for seq in 1..100_000i64 {
                let res = c
                    .post(format!("{base}/api/v1/study/heartbeats"))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({"page": "lesson", "lesson_id": lesson, "view": format!("kill-{k}"), "seq": seq}))
                    .send()
                    .await;
                let Ok(res) = res else { break };
                if res.status() != 200 {
                    break;
                }
                let Ok(body) = res.json::<serde_json::Value>().await else { break };
                acked_seq = seq;
                acked_secs += body["credited_seconds"].as_i64().unwrap_or(0);
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            (acked_seq, acked_secs)
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    first.kill(); // SIGKILL, in the middle of the load
    let mut acked = vec![];
    for t in tasks {
        acked.push(t.await.unwrap());
    }
    assert!(
        acked.iter().all(|(seq, _)| *seq > 10),
        "the load ran: {acked:?}"
    );
    let second = Server::start(&env);
    let mut conn = pool.get().unwrap();
    for (k, trainee) in trainees.iter().enumerate() {
        use parcours::db::schema::study_sessions;
        let (seq, secs): (i32, i32) = study_sessions::table
            .filter(study_sessions::trainee_id.eq(trainee))
            .select((study_sessions::last_seq, study_sessions::seconds_credited))
            .first(&mut *conn)
            .unwrap();
        let (acked_seq, acked_secs) = acked[k];
        // Every acknowledged beat is there; at most the one in flight was also committed.
        assert!(
            seq as i64 >= acked_seq && seq as i64 <= acked_seq + 1,
            "trainee {k}: {seq} vs {acked_seq}"
        );
        assert!(
            secs as i64 >= acked_secs && secs as i64 <= acked_secs + 1,
            "trainee {k}: {secs} s vs {acked_secs} s"
        );
        let total: i64 = module_totals::table
            .filter(module_totals::trainee_id.eq(trainee))
            .select(module_totals::distance_seconds)
            .first(&mut *conn)
            .unwrap_or(0);
        assert_eq!(total, secs as i64, "totals match the sessions");
        // Replaying the last beat after the restart credits nothing.
        let res: serde_json::Value = client()
            .post(format!("{}/api/v1/study/heartbeats", second.address))
            .bearer_auth(&tokens[k])
            .json(&serde_json::json!({"page": "lesson", "lesson_id": lesson, "view": format!("kill-{k}"), "seq": seq}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(res["outcome"], "replay");
    }
    drop(conn);
    drop(second);
    drop(pool);
    if let Some((server, name)) = pg {
        drop_pg_database(&server, &name);
    }
}

#[tokio::test]
async fn one_batch_mixes_refused_replayed_and_credited_beats_and_writes_each_total_once() {
    use parcours::tracking::rules::{CreditSettings, Outcome};
    use parcours::tracking::store::{Beat, BeatAnswer, apply_beats};
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (_, a) = app.trainee_in(org, "CQP-AM", "a@a.fr").await;
    let (_, b) = app.trainee_in(org, "CQP-AM", "b@a.fr").await;
    let (_, gone) = app.trainee_in(org, "CQP-AM", "parti@a.fr").await;
    let lesson = lesson_id(&app, "01-role-assistant");
    let m1: i64 = {
        use parcours::db::schema::modules;
        modules::table
            .filter(modules::code.eq("M1"))
            .select(modules::id)
            .first(&mut *app.conn())
            .unwrap()
    };
    let mut conn = app.conn();
    let claims = |id: i64, conn: &mut parcours::db::DbConn| {
        let user = parcours::accounts::store::by_id(conn, id).unwrap().unwrap();
        parcours::accounts::session::Claims::for_session(&user, app.open_session(id), 600)
    };
    let (ca, cb, cg) = (
        claims(a, &mut conn),
        claims(b, &mut conn),
        claims(gone, &mut conn),
    );
    diesel::update(users::table.find(gone))
        .set(users::disabled.eq(true))
        .execute(&mut *conn)
        .unwrap();
    let beat =
        |claims: &parcours::accounts::session::Claims, program: &str, view: &str, seq| Beat {
            claims: claims.clone(),
            program_code: program.into(),
            page_view: view.into(),
            module_id: m1,
            lesson_id: Some(lesson),
            seq,
        };
    let s = CreditSettings::default();
    let first = apply_beats(
        &mut conn,
        &[
            beat(&ca, "CQP-AM", "va", 1),
            beat(&cb, "CQP-AM", "vb", 1),
            beat(&ca, "CQP-AM", "va", 1),
            beat(&cg, "CQP-AM", "vg", 1),
            beat(&cb, "FAE-AM", "vb2", 1),
        ],
        &s,
    )
    .unwrap();
    assert_eq!(
        first,
        [
            BeatAnswer::Decided(Outcome::Started, 0),
            BeatAnswer::Decided(Outcome::Started, 0),
            BeatAnswer::Decided(Outcome::Replay, 0),
            BeatAnswer::Unauthenticated,
            BeatAnswer::OutsidePath,
        ]
    );
    drop(conn);
    rewind(&app, a, 30);
    rewind(&app, b, 20);
    let mut conn = app.conn();
    // Two beats of one trainee in one batch share her clock: the second adds nothing.
    let second = apply_beats(
        &mut conn,
        &[
            beat(&ca, "CQP-AM", "va", 2),
            beat(&ca, "CQP-AM", "va2", 1),
            beat(&cb, "CQP-AM", "vb", 2),
        ],
        &s,
    )
    .unwrap();
    assert_eq!(
        second,
        [
            BeatAnswer::Decided(Outcome::Credited(30), 30),
            BeatAnswer::Decided(Outcome::Credited(0), 0),
            BeatAnswer::Decided(Outcome::Credited(20), 20),
        ]
    );
    drop(conn);
    assert_eq!((distance(&app, a), distance(&app, b)), (30, 20));
    let days: Vec<(i64, i64)> = daily_activity::table
        .order(daily_activity::trainee_id.asc())
        .select((daily_activity::trainee_id, daily_activity::distance_seconds))
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(
        days,
        [(a, 30), (b, 20)],
        "one row a trainee, module and day"
    );
    let sessions: Vec<(String, i32, i32)> = study_sessions::table
        .order(study_sessions::page_view.asc())
        .select((
            study_sessions::page_view,
            study_sessions::last_seq,
            study_sessions::seconds_credited,
        ))
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(
        sessions,
        [
            ("va".to_string(), 2, 30),
            ("va2".to_string(), 1, 0),
            ("vb".to_string(), 2, 20)
        ],
        "refused beats leave no session"
    );
}
