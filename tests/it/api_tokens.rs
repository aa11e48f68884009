//! Integration tokens of an organism: shown once, scoped, API only, revoked at once.

use parcours::accounts::Role;

use crate::common::*;

/// Creates a token through the admin's page; returns (secret, page shown after creation).
async fn create_token(
    app: &TestApp,
    admin: &reqwest::Client,
    org: i64,
    name: &str,
) -> (String, String) {
    let url = app.url(&format!("/organismes/{org}/jetons"));
    let csrf = csrf_from(admin, &url).await;
    let res = admin
        .post(&url)
        .form(&[("csrf_token", csrf.as_str()), ("name", name)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    let page = res.text().await.unwrap();
    let start = page.find("value=\"prc_").expect("secret shown once") + 7;
    let end = page[start..].find('"').unwrap() + start;
    (page[start..end].to_string(), page)
}

async fn get_with(app: &TestApp, secret: &str, path: &str) -> reqwest::Response {
    client()
        .get(app.url(path))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_token_opens_its_organism_api_only_and_dies_when_revoked() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let other = app.create_organism("Organisme B");
    let cohort = app.create_cohort(org, "CQP-AM");
    app.create_cohort(other, "CQP-AM");
    let (admin, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;

    let (secret, _) = create_token(&app, &admin, org, "Logiciel de paie").await;
    assert!(secret.len() > 40, "{secret}");

    // The list shows the start of the token, never the secret, and no use yet.
    let list = admin
        .get(app.url(&format!("/organismes/{org}/jetons")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains("Logiciel de paie"));
    assert!(list.contains(&format!("{}…", &secret[..12])));
    assert!(!list.contains(&secret));
    assert!(list.contains("<td>jamais</td>"));

    // Its organism's cohorts, and nothing of another organism.
    let res = get_with(&app, &secret, &format!("/api/v1/organisms/{org}/cohorts")).await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    let ids: Vec<i64> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["cohort"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![cohort]);
    let res = get_with(&app, &secret, &format!("/api/v1/organisms/{other}/cohorts")).await;
    assert_eq!(res.status(), 403);
    let me: serde_json::Value = get_with(&app, &secret, "/api/v1/me")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["organism_id"], org);
    assert_eq!(me["name"], "Jeton « Logiciel de paie »");

    // A staff page does not take it.
    let res = client()
        .get(app.url(&format!("/organismes/{org}")))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_ne!(res.status(), 200);
    assert!(!res.text().await.unwrap().contains("Organisme A</h1>"));

    // The use is listed.
    let list = admin
        .get(app.url(&format!("/organismes/{org}/jetons")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!list.contains("<td>jamais</td>"), "last use is shown");

    // Revoked: refused at the very next call.
    let token_id = parcours_token_id(&app, &secret[..12]);
    let csrf = csrf_from(&admin, &app.url(&format!("/organismes/{org}/jetons"))).await;
    let res = admin
        .post(app.url(&format!("/organismes/{org}/jetons/{token_id}/revoquer")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let res = get_with(&app, &secret, &format!("/api/v1/organisms/{org}/cohorts")).await;
    assert_eq!(res.status(), 401);
    let err: serde_json::Value = res.json().await.unwrap();
    assert_eq!(err["error"]["code"], "unauthenticated");

    let actions: Vec<String> = {
        use diesel::prelude::*;
        use parcours::db::schema::audit_events as a;
        let mut conn = app.conn();
        a::table
            .filter(a::subject_type.eq("api_token"))
            .order(a::id.asc())
            .select(a::action)
            .load(&mut *conn as &mut parcours::db::DbConn)
            .unwrap()
    };
    assert_eq!(actions, ["api_token.create", "api_token.revoke"]);
}

fn parcours_token_id(app: &TestApp, prefix: &str) -> i64 {
    use diesel::prelude::*;
    use parcours::db::schema::api_tokens as t;
    let mut conn = app.conn();
    t::table
        .filter(t::prefix.eq(prefix))
        .select(t::id)
        .first(&mut *conn as &mut parcours::db::DbConn)
        .unwrap()
}

#[tokio::test]
async fn only_the_organism_admin_manages_tokens_and_a_token_dies_with_its_creator() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let other = app.create_organism("Organisme B");
    let (admin, admin_id) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    let (trainer, _) = signed_in(&app, Role::Trainer, Some(org), "formateur@a.fr").await;
    let (admin_b, _) = signed_in(&app, Role::OrganismAdmin, Some(other), "chef@b.fr").await;
    let url = app.url(&format!("/organismes/{org}/jetons"));
    assert_eq!(trainer.get(&url).send().await.unwrap().status(), 403);
    assert_eq!(admin_b.get(&url).send().await.unwrap().status(), 403);

    // An empty name is refused, nothing is created.
    let csrf = csrf_from(&admin, &url).await;
    let res = admin
        .post(&url)
        .form(&[("csrf_token", csrf.as_str()), ("name", "   ")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("Donnez un nom au jeton"));
    assert!(!page.contains("value=\"prc_"));
    // No CSRF token: refused.
    let res = admin
        .post(&url)
        .form(&[("name", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(
        !admin
            .get(&url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .contains("<code>prc_")
    );

    let (secret, _) = create_token(&app, &admin, org, "CRM").await;
    let path = format!("/api/v1/organisms/{org}/cohorts");
    assert_eq!(get_with(&app, &secret, &path).await.status(), 200);
    // A forged token of the right shape is refused.
    let forged = format!("{}x", &secret[..secret.len() - 1]);
    assert_eq!(get_with(&app, &forged, &path).await.status(), 401);

    // The creator is disabled: the token stops at once.
    {
        use diesel::prelude::*;
        use parcours::db::schema::users;
        let mut conn = app.conn();
        diesel::update(users::table.find(admin_id))
            .set(users::disabled.eq(true))
            .execute(&mut *conn as &mut parcours::db::DbConn)
            .unwrap();
    }
    assert_eq!(get_with(&app, &secret, &path).await.status(), 401);
}
