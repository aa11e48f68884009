//! What an outside review found open (issue #21): checks that stay in the suite.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::schema::{audit_events, users};

use crate::common::*;

fn n_users(app: &TestApp) -> i64 {
    users::table.count().get_result(&mut *app.conn()).unwrap()
}

const CSV: &str = "Nom;Prénom;E-mail;Profil;Date d'embauche;Médecin;E-mail du médecin;Financement\r\n\
                   Roux;Léa;lea.roux@cabinet.fr;aucun;03/03/2025;Dr Élise Roy;roy@medecin.fr;ProA\r\n";

#[tokio::test]
async fn a_cookie_call_to_the_api_needs_its_csrf_header_however_the_path_is_spelt() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let cohort = app.create_cohort(org, "CQP-AM");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    let before = n_users(&app);
    for path in [
        format!("/api/v1/cohorts/{cohort}/import"),
        format!("/%61pi/v1/cohorts/{cohort}/import"),
        format!("/api/%761/cohorts/{cohort}/import"),
        format!("/%61%70%69/v1/cohorts/{cohort}/%69mport"),
    ] {
        for content_type in ["text/plain", "text/csv"] {
            let res = chef
                .post(app.url(&path))
                .header("content-type", content_type)
                .body(CSV)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 403, "{path} as {content_type}");
            let body: serde_json::Value = res.json().await.unwrap();
            assert_eq!(body["error"]["code"], "forbidden", "{path}");
        }
    }
    assert_eq!(n_users(&app), before, "nothing was imported");
    // With its header, a form-like body is still refused: only the documented CSV types.
    let token = csrf_from(&chef, &app.url("/")).await;
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let res = chef
            .post(app.url(&format!("/api/v1/cohorts/{cohort}/import")))
            .header("x-csrf-token", &token)
            .header("content-type", content_type)
            .body(CSV)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 415, "{content_type}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("text/csv"),
            "{body}"
        );
    }
    assert_eq!(n_users(&app), before);
    let res = chef
        .post(app.url(&format!("/%61pi/v1/cohorts/{cohort}/import?confirm=true")))
        .header("x-csrf-token", &token)
        .header("content-type", "text/csv; charset=utf-8")
        .body(CSV)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(n_users(&app) > before);
}

#[tokio::test]
async fn an_integration_token_opens_no_page_however_the_path_is_spelt() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let chef = app.create_user(
        Role::OrganismAdmin,
        Some(org),
        "chef@a.fr",
        "mot-de-passe-solide",
    );
    let secret = {
        let mut conn = app.conn();
        let body = parcours::web::random_token(24).unwrap();
        parcours::accounts::api_tokens::create(&mut conn, org, chef, "Logiciel", &body, 30).unwrap()
    };
    let ok = client()
        .get(app.url("/%61pi/v1/me"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let page = client()
        .get(app.url(&format!("/organismes/{org}")))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_ne!(page.status(), 200);
}

async fn me_status(app: &TestApp, c: &reqwest::Client) -> u16 {
    c.get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A second browser that carries a copy of this client's session cookie.
fn copy_of(app: &TestApp, c_cookie: &str) -> reqwest::Client {
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let url: reqwest::Url = app.url("/").parse().unwrap();
    jar.add_cookie_str(c_cookie, &url);
    reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Signs in from a fresh client and returns the session cookie it was given.
async fn session_cookie(app: &TestApp, email: &str, agent: &str) -> (reqwest::Client, String) {
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .user_agent(agent)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = login(app, &c, email, "mot-de-passe-solide").await;
    assert_eq!(res.status(), 303);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("parcours_session="))
        .unwrap();
    let pair = cookie.split(';').next().unwrap().to_string();
    (c, pair)
}

const FIREFOX: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

#[tokio::test]
async fn logging_out_ends_the_session_at_once_even_for_a_copied_cookie() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    app.create_user(
        Role::OrganismAdmin,
        Some(org),
        "chef@a.fr",
        "mot-de-passe-solide",
    );
    let (browser, cookie) = session_cookie(&app, "chef@a.fr", FIREFOX).await;
    let copy = copy_of(&app, &cookie);
    assert_eq!(me_status(&app, &copy).await, 200);
    let res = browser.post_form(&app, "/deconnexion", NO_FIELDS).await;
    assert_eq!(res.status(), 303);
    // The copy no longer works, on the API and on pages, and is not renewed.
    assert_eq!(me_status(&app, &copy).await, 401);
    let page = copy.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 303);
    assert!(
        page.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/connexion"),
    );
    assert!(
        page.headers()
            .get_all("set-cookie")
            .iter()
            .all(|v| !v.to_str().unwrap().starts_with("parcours_session=ey")),
        "a closed session is never renewed"
    );
}

#[tokio::test]
async fn a_person_lists_their_sessions_and_closes_one_or_all() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (_, trainee) = app.trainee_in(org, "CQP-AM", "lea@a.fr").await;
    // The harness's own sign-in is one session; a PC, a phone and an API client add three.
    let (pc, _) = session_cookie(&app, "lea@a.fr", FIREFOX).await;
    let (phone, _) = session_cookie(&app, "lea@a.fr", IPHONE).await;
    let api = api_token(&app, "lea@a.fr").await;
    let page = pc
        .get(app.url("/mon-compte"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Firefox sur Windows (cette session)")
            || page.contains("Firefox sur Windows <strong>(cette session)"),
        "{page}"
    );
    assert!(page.contains("Safari sur iPhone"), "{page}");
    assert!(page.contains("Client de l&#x27;API"), "{page}");
    assert!(
        page.contains("Se déconnecter partout (4 sessions)"),
        "{page}"
    );
    // Another person's session id is nobody's to close.
    let (other, _) = signed_in(&app, Role::Trainee, Some(org), "autre@a.fr").await;
    let phone_sid: i64 = {
        use parcours::db::schema::login_sessions as ls;
        ls::table
            .filter(ls::user_id.eq(trainee))
            .filter(ls::device.eq("Safari sur iPhone"))
            .select(ls::id)
            .first(&mut *app.conn())
            .unwrap()
    };
    let close_phone = format!("/mon-compte/sessions/{phone_sid}/fermer");
    let res = other.post_form(&app, &close_phone, NO_FIELDS).await;
    assert_eq!(res.status(), 404);
    assert_eq!(me_status(&app, &phone).await, 200);
    // Closing the phone from the PC ends the phone's session only.
    let res = pc.post_form(&app, &close_phone, NO_FIELDS).await;
    assert_eq!(res.status(), 303);
    assert_eq!(me_status(&app, &phone).await, 401);
    assert_eq!(me_status(&app, &pc).await, 200);
    // Everywhere: the PC, the API token (its study heartbeats too) and the harness session.
    let lesson: i64 = {
        use parcours::db::schema::lessons;
        lessons::table
            .order(lessons::id.asc())
            .select(lessons::id)
            .first(&mut *app.conn())
            .unwrap()
    };
    let res = pc
        .post(app.url("/mon-compte/deconnexion-partout"))
        .form(&[("csrf_token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "a forged form closes nothing");
    assert_eq!(me_status(&app, &phone).await, 401);
    assert_eq!(me_status(&app, &pc).await, 200);
    let res = pc
        .post_form(&app, "/mon-compte/deconnexion-partout", NO_FIELDS)
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(me_status(&app, &pc).await, 401);
    assert_eq!(beat(&app, &api, lesson, "v1", 1).await.status(), 401);
    let api_me = client()
        .get(app.url("/api/v1/me"))
        .bearer_auth(&api)
        .send()
        .await
        .unwrap();
    assert_eq!(api_me.status(), 401);
    let actions: Vec<String> = audit_events::table
        .filter(audit_events::subject_id.eq(trainee))
        .filter(audit_events::action.like("session%"))
        .select(audit_events::action)
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(actions, ["session_closed", "sessions_closed"]);
}
