//! A cmi5 package as an activity (issue #19): the ADL CATAPULT example AU launched with the
//! cmi5 launch parameters, then the calls its cmi5.js makes to our small xAPI endpoint on the
//! packages' origin (fetch, `LMS.LaunchData`, preferences, statements), bad ones refused with
//! nothing kept, and the activity done when the AU's `moveOn` is met.

use diesel::prelude::*;
use parcours::db::DbConn;
use parcours::db::schema::{cmi5_statements, lesson_progress, package_attempts};
use serde_json::{Value, json};

use crate::common::*;
use crate::packages::{asset, zip_of};

const AU: &str =
    "https://w3id.org/xapi/cmi5/catapult/lts/course/geology-intro-single-au-basic-responsive/1";
const CATEGORY: &str = "https://w3id.org/xapi/cmi5/context/categories/cmi5";

async fn published_with_catapult(app: &TestApp, org: i64) {
    let zip = asset("cmi5_catapult_single_au_basic_responsive.zip");
    published_with(app, org, zip).await;
}

/// An organism's copy of the CQP with this cmi5 package as activity `40-geologie`, published.
async fn published_with(app: &TestApp, org: i64, zip: Vec<u8>) {
    crate::packages::published_with(
        app,
        org,
        ("geologie.zip", zip),
        ("40-geologie", "La géologie, en cmi5"),
    )
    .await;
}

/// What the launch gives the AU: its address's query parameters.
struct Launched {
    location: url::Url,
    params: std::collections::HashMap<String, String>,
}

impl Launched {
    fn param(&self, name: &str) -> &str {
        self.params
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// An xAPI resource under the endpoint, as cmi5.js writes it (`endpoint + "/statements"`).
    fn xapi(&self, resource: &str) -> String {
        format!("{}/{resource}", self.param("endpoint"))
    }
}

async fn launch(app: &TestApp, c: &reqwest::Client) -> Launched {
    let res = c
        .get(app.url("/programmes/CQP-B/M1/paquets/40-geologie/0"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let mut location = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    // A file of the package plays in the host page, in a frame: its address is there.
    if location.path().ends_with('/') {
        let host = client().get(location.as_str()).send().await.unwrap();
        assert_eq!(host.status(), 200);
        let html = host.text().await.unwrap();
        let src = html
            .split("src=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let src = src.replace("&amp;", "&").replace("&#x2F;", "/");
        location = url::Url::parse(&src).unwrap();
    }
    let params = location.query_pairs().into_owned().collect();
    Launched { location, params }
}

#[derive(Clone)]
struct Au {
    auth: String,
    actor: Value,
    registration: String,
    context: Value,
}

impl Au {
    fn statement(&self, verb: &str, result: Value) -> Value {
        let mut context = self.context.clone();
        context["registration"] = json!(self.registration);
        context["contextActivities"]["category"] = json!([{ "id": CATEGORY }]);
        json!({
            "id": uuid_like(),
            "actor": self.actor,
            "verb": { "id": format!("http://adlnet.gov/expapi/verbs/{verb}") },
            "object": { "objectType": "Activity", "id": AU },
            "result": result,
            "context": context,
            "timestamp": "2026-12-05T10:00:00.000Z",
        })
    }
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("cmi5-test-{n}").as_bytes(),
    )
    .to_string()
}

fn statements_kept(app: &TestApp) -> i64 {
    let conn = &mut *app.conn() as &mut DbConn;
    cmi5_statements::table.count().get_result(conn).unwrap()
}

/// One statement, as cmi5.js sends it: PUT with its id.
async fn put(l: &Launched, stmt: &Value, au: Option<&Au>) -> reqwest::Response {
    let req = client()
        .put(l.xapi("statements"))
        .query(&[("statementId", stmt["id"].as_str().unwrap())])
        .json(stmt);
    send(req, au).await
}

async fn send(req: reqwest::RequestBuilder, au: Option<&Au>) -> reqwest::Response {
    let req = req.header("X-Experience-API-Version", "1.0.3");
    let req = match au {
        Some(au) => req.header("Authorization", format!("Basic {}", au.auth)),
        None => req,
    };
    req.send().await.unwrap()
}

/// The launch, then cmi5.js's start: fetch, `LMS.LaunchData` (in this launch mode),
/// preferences.
async fn start(l: &Launched, mode: &str) -> Au {
    let fetch = client().post(l.param("fetch")).send().await.unwrap();
    assert_eq!(fetch.status(), 200);
    let token: Value = fetch.json().await.unwrap();
    let again = client().post(l.param("fetch")).send().await.unwrap();
    assert_eq!(again.status(), 409, "the fetch URL answers once");
    let error: Value = again.json().await.unwrap();
    assert_eq!(error["error-code"], "1", "{error}");
    let actor: Value = serde_json::from_str(l.param("actor")).unwrap();
    let mut au = Au {
        auth: token["auth-token"].as_str().unwrap().to_string(),
        actor,
        registration: l.param("registration").to_string(),
        context: Value::Null,
    };
    let query = |state: &str| {
        let q: Vec<(&str, String)> = vec![
            ("stateId", state.to_string()),
            ("activityId", AU.to_string()),
            ("agent", au.actor.to_string()),
            ("registration", au.registration.clone()),
        ];
        q
    };
    let url = l.xapi("activities/state");
    let res = send(client().get(&url).query(&query("LMS.LaunchData")), None).await;
    assert_eq!(res.status(), 401, "no credentials, no answer");
    let res = send(
        client().get(&url).query(&query("LMS.LaunchData")),
        Some(&au),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-experience-api-version"], "1.0.3");
    let data: Value = res.json().await.unwrap();
    assert_eq!(data["launchMode"], mode, "{data}");
    assert_eq!(data["moveOn"], "CompletedOrPassed");
    let session = &data["contextTemplate"]["extensions"]["https://w3id.org/xapi/cmi5/context/extensions/sessionid"];
    assert!(session.as_str().is_some_and(|s| !s.is_empty()), "{data}");
    au.context = data["contextTemplate"].clone();
    // Where the AU goes when it exits: a page that has the activity page show the new state.
    let back = data["returnURL"].as_str().unwrap().to_string();
    assert!(back.starts_with(&l.param("fetch").replace("xapi/fetch", "fin")));
    let end = client().get(&back).send().await.unwrap();
    assert_eq!(end.status(), 200);
    assert!(
        end.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'self'")
    );
    assert!(end.text().await.unwrap().contains("Module terminé"));
    let prefs = send(
        client().get(l.xapi("agents/profile")).query(&[
            ("profileId", "cmi5LearnerPreferences"),
            ("agent", &au.actor.to_string()),
        ]),
        Some(&au),
    )
    .await;
    assert_eq!(prefs.status(), 200);
    assert_eq!(
        prefs.json::<Value>().await.unwrap()["languagePreference"],
        "fr-FR"
    );
    // A bookmark, written then merged.
    let res = send(
        client()
            .put(&url)
            .query(&query("suspendData"))
            .json(&json!({"bookmark": "page2"})),
        Some(&au),
    )
    .await;
    assert_eq!(res.status(), 204);
    let res = send(
        client()
            .post(&url)
            .query(&query("suspendData"))
            .json(&json!({"seen": 3})),
        Some(&au),
    )
    .await;
    assert_eq!(res.status(), 204);
    let back: Value = send(client().get(&url).query(&query("suspendData")), Some(&au))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(back, json!({"bookmark": "page2", "seen": 3}));
    let res = send(
        client()
            .put(&url)
            .query(&query("LMS.LaunchData"))
            .json(&json!({})),
        Some(&au),
    )
    .await;
    assert_eq!(res.status(), 403, "the LMS's document is not the AU's");
    au
}

/// The launch parameters of cmi5 §8.1, and what the AU finds there.
async fn launch_parameters(app: &TestApp, l: &Launched, id: i64) {
    let path = l.location.path().to_string();
    assert!(
        path.starts_with("/paquets/") && path.ends_with("/f/index.html"),
        "{path}"
    );
    let origin = l.location.origin().ascii_serialization();
    assert_ne!(origin, app.address, "the AU plays on the packages' origin");
    let base = path.trim_end_matches("f/index.html");
    assert_eq!(l.param("endpoint"), format!("{origin}{base}xapi/"));
    assert_eq!(l.param("fetch"), format!("{origin}{base}xapi/fetch"));
    assert_eq!(l.param("activityId"), AU);
    let actor: Value = serde_json::from_str(l.param("actor")).unwrap();
    assert_eq!(actor["account"]["homePage"], app.address.as_str());
    assert_eq!(actor["account"]["name"], format!("parcours-{id}"));
    assert_eq!(l.param("registration").len(), 36);
    let index = client().get(l.location.as_str()).send().await.unwrap();
    assert_eq!(index.status(), 200);
    assert!(index.text().await.unwrap().contains("cmi5.min.js"));
    let about = client().get(l.xapi("about")).send().await.unwrap();
    assert_eq!(about.json::<Value>().await.unwrap()["version"][0], "1.0.3");
}

/// Refused, each with its reason, and nothing kept.
async fn refusals(app: &TestApp, l: &Launched, au: &Au, completed: &Value) {
    let mut other = completed.clone();
    other["actor"]["account"]["name"] = json!("parcours-999");
    let mut elsewhere = au.statement("completed", json!({"completion": true}));
    elsewhere["context"]["registration"] = json!("00000000-0000-4000-8000-000000000000");
    let unfinished = au.statement("completed", json!({}));
    let launched = au.statement("launched", json!({}));
    for (stmt, status, why) in [
        (&other, 400, "acteur"),
        (&elsewhere, 400, "registration"),
        (&unfinished, 400, "result.completion"),
        (&launched, 400, "réservé"),
    ] {
        let res = put(l, stmt, Some(au)).await;
        assert_eq!(res.status().as_u16(), status, "{stmt}");
        let body: Value = res.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains(why), "{body}");
    }
    let mut anonymous = completed.clone();
    anonymous.as_object_mut().unwrap().remove("id");
    let res = send(
        client()
            .post(l.xapi("statements"))
            .json(&json!([anonymous])),
        Some(au),
    )
    .await;
    assert_eq!(res.status(), 400, "cmi5 wants an id on every statement");
    assert_eq!(put(l, completed, None).await.status(), 401);
    let forged = Au {
        auth: "cGFyY291cnM6Zm9yZ2Vk".into(),
        ..au.clone()
    };
    assert_eq!(put(l, completed, Some(&forged)).await.status(), 401);
    assert_eq!(statements_kept(app), 1, "nothing kept of the refused ones");
}

/// A second launch, a new session: the AU done opens for review, passed once per registration,
/// and what it sends then changes no result.
async fn second_session(
    app: &TestApp,
    trainee: &reqwest::Client,
    (l, au): (&Launched, &Au),
    id: i64,
) {
    let l2 = launch(app, trainee).await;
    assert_eq!(
        l2.param("registration"),
        l.param("registration"),
        "one registration per attempt"
    );
    assert_ne!(l2.param("fetch"), l.param("fetch"));
    let au2 = start(&l2, "Review").await;
    assert_ne!(au2.context, au.context, "a new session id");
    let init = au2.statement("initialized", json!({}));
    assert_eq!(put(&l2, &init, Some(&au2)).await.status(), 204);
    let again = au2.statement("passed", json!({"success": true}));
    let res = put(&l2, &again, Some(&au2)).await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("déjà"));
    assert_eq!(
        put(&l2, &init, Some(au)).await.status(),
        401,
        "the first launch's credentials open the first launch only"
    );
    let end = au2.statement("terminated", json!({"duration": "PT1M"}));
    assert_eq!(put(&l2, &end, Some(&au2)).await.status(), 204);
    let seconds: f64 = package_attempts::table
        .filter(package_attempts::trainee_id.eq(id))
        .select(package_attempts::package_seconds)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert_eq!(seconds, 330.0, "the result reached stays");
}

#[tokio::test]
async fn a_trainee_plays_a_cmi5_au_and_its_statements_complete_the_activity() {
    let app = spawn_app().await;
    let a = app.create_organism("Organisme A");
    published_with_catapult(&app, a).await;
    let (trainee, id) = app.trainee_in(a, "CQP-B", "stagiaire@a.fr").await;
    let page = trainee
        .get(app.url("/programmes/CQP-B/M1/activites/40-geologie"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("/paquets/40-geologie/0")
    );
    let l = launch(&app, &trainee).await;
    launch_parameters(&app, &l, id).await;
    let au = start(&l, "Normal").await;
    // Nothing before `initialized`.
    let early = au.statement("completed", json!({"completion": true}));
    let res = put(&l, &early, Some(&au)).await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("initialized"));
    // initialized, as cmi5.js sends it: PUT with its id, under `xapi//statements`.
    let init = au.statement("initialized", json!({}));
    assert_eq!(put(&l, &init, Some(&au)).await.status(), 204);
    assert_eq!(
        put(&l, &init, Some(&au)).await.status(),
        204,
        "sent again: no change"
    );
    assert_eq!(statements_kept(&app), 1);
    let completed = au.statement("completed", json!({"completion": true, "duration": "PT4M"}));
    refusals(&app, &l, &au, &completed).await;
    let conn = &mut *app.conn() as &mut DbConn;
    let (completion, done_at): (String, Option<chrono::NaiveDateTime>) = package_attempts::table
        .filter(package_attempts::trainee_id.eq(id))
        .select((package_attempts::completion, package_attempts::completed_at))
        .first(conn)
        .unwrap();
    assert_eq!((completion.as_str(), done_at), ("incomplete", None));
    // completed and passed in one POST, then terminated with the session's duration.
    let passed = au.statement(
        "passed",
        json!({"success": true, "score": {"scaled": 0.85}}),
    );
    let res = send(
        client()
            .post(l.xapi("statements"))
            .json(&json!([completed, passed])),
        Some(&au),
    )
    .await;
    assert_eq!(res.status(), 200);
    let ids: Value = res.json().await.unwrap();
    assert_eq!(ids, json!([completed["id"], passed["id"]]));
    let terminated = au.statement("terminated", json!({"duration": "PT5M30S"}));
    assert_eq!(put(&l, &terminated, Some(&au)).await.status(), 204);
    assert_eq!(statements_kept(&app), 4);
    let (completion, success, scaled, seconds, done_at): (
        String,
        String,
        Option<f64>,
        f64,
        Option<chrono::NaiveDateTime>,
    ) = package_attempts::table
        .filter(package_attempts::trainee_id.eq(id))
        .select((
            package_attempts::completion,
            package_attempts::success,
            package_attempts::score_scaled,
            package_attempts::package_seconds,
            package_attempts::completed_at,
        ))
        .first(conn)
        .unwrap();
    assert_eq!(
        (completion.as_str(), success.as_str(), scaled, seconds),
        ("completed", "passed", Some(0.85), 330.0)
    );
    assert!(done_at.is_some());
    let done: i64 = lesson_progress::table
        .filter(lesson_progress::trainee_id.eq(id))
        .count()
        .get_result(conn)
        .unwrap();
    assert_eq!(done, 1, "the activity is done");
    let html = trainee
        .get(app.url("/programmes/CQP-B/M1/activites/40-geologie"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Activité terminée"), "{html}");
    assert!(html.contains("score 85 %"), "{html}");
    // The session is over.
    let late = au.statement("experienced", json!({}));
    let res = put(&l, &late, Some(&au)).await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("terminée"));
    second_session(&app, &trainee, (&l, &au), id).await;
    let unknown = l.param("fetch").replace("/paquets/", "/paquets/x");
    let res = client().post(unknown).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let on_site = client()
        .post(app.url(url::Url::parse(l.param("fetch")).unwrap().path()))
        .send()
        .await
        .unwrap();
    assert_eq!(on_site.status(), 404, "not on the site's origin");
}

const FOREIGN: &str = r#"<courseStructure xmlns="https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd">
  <course id="https://au.exemple.fr/cours"><title><langstring lang="fr-FR">Cours</langstring></title></course>
  <au id="https://au.exemple.fr/cours/1" moveOn="Completed">
    <title><langstring lang="fr-FR">Géologie</langstring></title>
    <url>https://au.exemple.fr/cours/index.html?langue=fr</url>
  </au>
</courseStructure>"#;

#[tokio::test]
async fn an_au_on_another_site_is_framed_and_answered_for_its_origin_only() {
    let app = spawn_app().await;
    let a = app.create_organism("Organisme A");
    let zip = zip_of(&[("cmi5.xml", FOREIGN.as_bytes())]);
    published_with(&app, a, zip).await;
    let (trainee, _) = app.trainee_in(a, "CQP-B", "stagiaire@a.fr").await;
    let page = trainee
        .get(app.url("/programmes/CQP-B/M1/activites/40-geologie"))
        .send()
        .await
        .unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains(" https://au.exemple.fr "), "{csp}");
    let l = launch(&app, &trainee).await;
    assert_eq!(
        l.location.as_str().split('&').next().unwrap(),
        "https://au.exemple.fr/cours/index.html?langue=fr",
        "its own query first, then the launch parameters"
    );
    assert_eq!(l.param("activityId"), "https://au.exemple.fr/cours/1");
    let preflight = |origin: &'static str| {
        client()
            .request(reqwest::Method::OPTIONS, l.xapi("statements"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "PUT")
            .send()
    };
    let res = preflight("https://au.exemple.fr").await.unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://au.exemple.fr"
    );
    assert!(
        res.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("Authorization")
    );
    let other = preflight("https://ailleurs.exemple").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let fetch = client()
        .post(l.param("fetch"))
        .header("Origin", "https://au.exemple.fr")
        .send()
        .await
        .unwrap();
    assert_eq!(fetch.status(), 200);
    assert_eq!(
        fetch.headers()["access-control-allow-origin"],
        "https://au.exemple.fr"
    );
}
