//! The organism's xAPI export: statements of study time, lessons, evaluations and completed
//! paths, scoped to the organism, stable across exports.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{evaluation_attempts, lesson_progress, lessons, modules};

use crate::common::*;

async fn export(app: &TestApp, token: &str, org: i64, query: &str) -> (u16, serde_json::Value) {
    let res = client()
        .get(app.url(&format!("/api/v1/organisms/{org}/xapi{query}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// 30 seconds of reading credited through the real heartbeat API.
async fn study_30_seconds(app: &TestApp, trainee: i64, token: &str, lesson: i64) {
    assert_eq!(beat(app, token, lesson, "vue-x", 1).await.status(), 200);
    rewind(app, trainee, 30);
    assert_eq!(beat(app, token, lesson, "vue-x", 2).await.status(), 200);
}

#[tokio::test]
async fn an_organism_exports_its_trainees_activity_as_xapi_statements() {
    let app = spawn_app().await;
    let (a, b) = (
        app.create_organism("Organisme A"),
        app.create_organism("Organisme B"),
    );
    let (_, alice) = app.trainee_in(a, "CQP-AM", "alice@a.fr").await;
    let (_, bob) = app.trainee_in(b, "CQP-AM", "bob@b.fr").await;
    app.create_user(
        Role::OrganismAdmin,
        Some(a),
        "admin@a.fr",
        "mot-de-passe-solide",
    );
    app.create_user(
        Role::Trainer,
        Some(b),
        "formateur@b.fr",
        "mot-de-passe-solide",
    );
    let (lesson, module): (i64, i64) = lessons::table
        .filter(lessons::slug.like("01-role-assistant%"))
        .select((lessons::id, lessons::module_id))
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    study_30_seconds(&app, alice, &api_token(&app, "alice@a.fr").await, lesson).await;
    study_30_seconds(&app, bob, &api_token(&app, "bob@b.fr").await, lesson).await;
    {
        let mut conn = app.conn();
        let now = parcours::db::now();
        diesel::insert_into(lesson_progress::table)
            .values((
                lesson_progress::trainee_id.eq(alice),
                lesson_progress::lesson_id.eq(lesson),
                lesson_progress::completed_at.eq(now),
            ))
            .execute(&mut *conn as &mut DbConn)
            .unwrap();
        diesel::insert_into(evaluation_attempts::table)
            .values((
                evaluation_attempts::trainee_id.eq(alice),
                evaluation_attempts::module_id.eq(module),
                evaluation_attempts::evaluation_hash.eq("h"),
                evaluation_attempts::attempt_no.eq(1),
                evaluation_attempts::status.eq("submitted"),
                evaluation_attempts::started_at.eq(now - chrono::Duration::minutes(12)),
                evaluation_attempts::submitted_at.eq(Some(now)),
                evaluation_attempts::correct_count.eq(Some(9)),
                evaluation_attempts::question_count.eq(15),
                evaluation_attempts::score_pct.eq(Some(60)),
                evaluation_attempts::passed.eq(Some(false)),
            ))
            .execute(&mut *conn as &mut DbConn)
            .unwrap();
    }
    let code: String = modules::table
        .find(module)
        .select(modules::code)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();

    let admin = api_token(&app, "admin@a.fr").await;
    let (status, body) = export(&app, &admin, a, "").await;
    assert_eq!(status, 200, "{body}");
    let statements = body["statements"].as_array().unwrap();
    assert_eq!(body["count"], 3, "{body:#}");
    let by_verb = |verb: &str| {
        statements
            .iter()
            .find(|s| s["verb"]["id"].as_str().unwrap().ends_with(verb))
            .unwrap_or_else(|| panic!("no {verb} in {body:#}"))
    };
    let studied = by_verb("/experienced");
    assert_eq!(studied["result"]["duration"], "PT30S");
    assert_eq!(studied["actor"]["account"]["name"], alice.to_string());
    assert!(
        studied["object"]["id"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/programmes/CQP-AM/{code}"))
    );
    let lesson_done = by_verb("/completed");
    assert!(
        lesson_done["object"]["id"]
            .as_str()
            .unwrap()
            .contains("/activites/01-role-assistant")
    );
    let failed = by_verb("/failed");
    assert_eq!(failed["result"]["score"]["scaled"], 0.6);
    assert_eq!(failed["result"]["success"], false);
    assert_eq!(failed["result"]["duration"], "PT12M");
    for s in statements {
        assert!(s["timestamp"].as_str().unwrap().ends_with('Z'));
        assert_eq!(s["id"].as_str().unwrap().len(), 36);
        assert_eq!(
            s["actor"]["account"]["name"],
            alice.to_string(),
            "only organism A's"
        );
        assert!(s["actor"].get("mbox").is_none(), "no e-mail address leaves");
    }
    // Exported again: the same ids, so an LRS keeps one copy.
    let (_, again) = export(&app, &admin, a, "").await;
    let ids = |v: &serde_json::Value| {
        let mut ids: Vec<String> = v["statements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&body), ids(&again));

    // A period without activity is an honest empty export.
    let (status, empty) = export(&app, &admin, a, "?from=2020-01-01&to=2020-01-31").await;
    assert_eq!((status, empty["count"].as_i64()), (200, Some(0)));
    assert_eq!(empty["statements"], serde_json::json!([]));

    // Another organism's staff, a trainee: refused; bad periods: a JSON error naming the field.
    let other = api_token(&app, "formateur@b.fr").await;
    let (status, body) = export(&app, &other, a, "").await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "forbidden");
    let (status, _) = export(&app, &api_token(&app, "alice@a.fr").await, a, "").await;
    assert_eq!(status, 403);
    let (status, body) = export(&app, &admin, a, "?from=31/02/2026").await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["fields"][0]["field"], "from");
    let (status, body) = export(&app, &admin, a, "?from=2025-01-01&to=2026-06-30").await;
    assert_eq!(status, 422);
    assert!(
        body["error"]["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("366 jours")
    );
    let (status, _) = export(&app, &admin, a, "?from=2026-06-30&to=2026-06-01").await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn formative_quizzes_and_graded_assignments_are_statements_on_their_activity() {
    use parcours::db::schema::assignment_submissions;
    let app = spawn_app().await;
    let (a, b) = (
        app.create_organism("Organisme A"),
        app.create_organism("Organisme B"),
    );
    let (_, alice) = app.trainee_in(a, "CQP-AM", "alice@a.fr").await;
    let (_, bob) = app.trainee_in(b, "CQP-AM", "bob@b.fr").await;
    let grader = app.create_user(
        Role::OrganismAdmin,
        Some(a),
        "admin@a.fr",
        "mot-de-passe-solide",
    );
    let activity = |slug: &str| -> (i64, i64) {
        lessons::table
            .inner_join(modules::table)
            .filter(modules::code.eq("M1"))
            .filter(lessons::slug.eq(slug))
            .select((lessons::id, lessons::module_id))
            .first(&mut *app.conn() as &mut DbConn)
            .unwrap()
    };
    let (_, m1) = activity("01-role-et-limites");
    let (work, _) = activity("01-missions-et-limites");
    let now = parcours::db::now();
    {
        let mut conn = app.conn();
        let c = &mut *conn as &mut DbConn;
        for (who, no, correct, passed, submitted) in [
            (alice, 1, 4, false, Some(now)),
            (alice, 2, 9, true, Some(now)),
            (alice, 3, 0, false, None),
            (bob, 1, 9, true, Some(now)),
        ] {
            diesel::insert_into(evaluation_attempts::table)
                .values((
                    evaluation_attempts::trainee_id.eq(who),
                    evaluation_attempts::module_id.eq(m1),
                    evaluation_attempts::evaluation_hash.eq("h"),
                    evaluation_attempts::attempt_no.eq(no),
                    evaluation_attempts::status.eq(if submitted.is_some() {
                        "submitted"
                    } else {
                        "open"
                    }),
                    evaluation_attempts::started_at.eq(now - chrono::Duration::minutes(5)),
                    evaluation_attempts::submitted_at.eq(submitted),
                    evaluation_attempts::correct_count.eq(submitted.map(|_| correct)),
                    evaluation_attempts::question_count.eq(10),
                    evaluation_attempts::score_pct.eq(submitted.map(|_| correct * 10)),
                    evaluation_attempts::passed.eq(submitted.map(|_| passed)),
                    evaluation_attempts::quiz.eq("01-role-et-limites"),
                ))
                .execute(c)
                .unwrap();
        }
        for (no, status, points) in [
            (1, "revision_requested", None),
            (2, "graded", Some(14)),
            (3, "submitted", None),
        ] {
            diesel::insert_into(assignment_submissions::table)
                .values((
                    assignment_submissions::trainee_id.eq(alice),
                    assignment_submissions::lesson_id.eq(work),
                    assignment_submissions::version_no.eq(no),
                    assignment_submissions::answer_text.eq("Réponse"),
                    assignment_submissions::submitted_at.eq(now),
                    assignment_submissions::status.eq(status),
                    assignment_submissions::graded_by.eq((no < 3).then_some(grader)),
                    assignment_submissions::graded_at.eq((no < 3).then_some(now)),
                    assignment_submissions::points.eq(points),
                    assignment_submissions::max_points.eq(points.map(|_| 20)),
                ))
                .execute(c)
                .unwrap();
        }
    }
    let admin = api_token(&app, "admin@a.fr").await;
    let (status, body) = export(&app, &admin, a, "").await;
    assert_eq!(status, 200, "{body}");
    let statements = body["statements"].as_array().unwrap();
    assert_eq!(
        body["count"], 3,
        "two quiz attempts, one graded version: {body:#}"
    );
    let on = |iri: &str| -> Vec<&serde_json::Value> {
        statements
            .iter()
            .filter(|s| s["object"]["id"].as_str().unwrap().ends_with(iri))
            .collect()
    };
    let quiz = on("/programmes/CQP-AM/M1/activites/01-role-et-limites");
    assert_eq!(quiz.len(), 2, "{body:#}");
    let verbs: Vec<&str> = quiz
        .iter()
        .map(|s| s["verb"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        verbs,
        [
            "http://adlnet.gov/expapi/verbs/failed",
            "http://adlnet.gov/expapi/verbs/passed"
        ]
    );
    assert_eq!(quiz[1]["result"]["score"]["scaled"], 0.9);
    assert_eq!(quiz[1]["result"]["duration"], "PT5M");
    let graded = on("/programmes/CQP-AM/M1/devoirs/01-missions-et-limites");
    assert_eq!(graded.len(), 1, "only the graded version: {body:#}");
    let g = graded[0];
    assert_eq!(g["verb"]["id"], "http://adlnet.gov/expapi/verbs/scored");
    assert_eq!(g["result"]["score"]["raw"], 14);
    assert_eq!(g["result"]["score"]["max"], 20);
    assert_eq!(g["result"]["score"]["scaled"], 0.7);
    assert_eq!(g["actor"]["account"]["name"], alice.to_string());
    // Stable ids across exports.
    let (_, again) = export(&app, &admin, a, "").await;
    assert_eq!(body["statements"], again["statements"]);
}
