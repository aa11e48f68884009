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
    let path = format!("/organismes/{org}/jetons");
    let res = admin.post_form(app, &path, &[("name", name)]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
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

    // Another organism's admin cannot revoke it, even through their own organism's URL.
    let token_id = revoke_id(&list, org);
    let (admin_b, _) = signed_in(&app, Role::OrganismAdmin, Some(other), "chef@b.fr").await;
    for (target, refused) in [(org, 403), (other, 404)] {
        let path = format!("/organismes/{target}/jetons/{token_id}/revoquer");
        let res = admin_b.post_form(&app, &path, NO_FIELDS).await;
        assert_eq!(res.status(), refused, "revoke through organism {target}");
    }
    let res = get_with(&app, &secret, &format!("/api/v1/organisms/{org}/cohorts")).await;
    assert_eq!(res.status(), 200, "still alive");

    // Revoked by its organism: refused at the very next call.
    let path = format!("/organismes/{org}/jetons/{token_id}/revoquer");
    let res = admin.post_form(&app, &path, NO_FIELDS).await;
    assert_eq!(res.status(), 303);
    let res = get_with(&app, &secret, &format!("/api/v1/organisms/{org}/cohorts")).await;
    assert_eq!(res.status(), 401);
    let err: serde_json::Value = res.json().await.unwrap();
    assert_eq!(err["error"]["code"], "unauthenticated");
    assert_eq!(
        app.audit_actions(&secret[..12]),
        ["api_token.create", "api_token.revoke"]
    );
}

/// The id in the first revoke form of an organism's token page.
fn revoke_id(page: &str, org: i64) -> i64 {
    let marker = format!("/organismes/{org}/jetons/");
    let start = page.find(&marker).expect("a revoke form") + marker.len();
    let end = page[start..].find('/').unwrap() + start;
    page[start..end].parse().unwrap()
}

#[tokio::test]
async fn only_the_organism_admin_manages_tokens_and_a_token_dies_with_its_creator() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let other = app.create_organism("Organisme B");
    let (admin, admin_id) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    let (trainer, _) = signed_in(&app, Role::Trainer, Some(org), "formateur@a.fr").await;
    let (admin_b, _) = signed_in(&app, Role::OrganismAdmin, Some(other), "chef@b.fr").await;
    let jetons = format!("/organismes/{org}/jetons");
    let url = app.url(&jetons);
    assert_eq!(trainer.get(&url).send().await.unwrap().status(), 403);
    assert_eq!(admin_b.get(&url).send().await.unwrap().status(), 403);
    // Not even the platform admin: a token acts in the organism's own name.
    let (platform, _) = signed_in(&app, Role::Admin, None, "admin@exemple.fr").await;
    assert_eq!(platform.get(&url).send().await.unwrap().status(), 403);

    // An empty name is refused, nothing is created.
    let res = admin.post_form(&app, &jetons, &[("name", "   ")]).await;
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

    // Another administrator disables the creator: the token stops at once.
    let (admin2, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "adjoint@a.fr").await;
    let res = admin2
        .post_form(
            &app,
            &format!("/utilisateurs/{admin_id}/statut"),
            &[("disabled", "1")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(get_with(&app, &secret, &path).await.status(), 401);
}

#[tokio::test]
async fn a_token_lives_the_days_chosen_and_is_refused_once_expired() {
    use diesel::prelude::*;
    use parcours::db::DbConn;
    use parcours::db::schema::api_tokens;
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (admin, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    let jetons = format!("/organismes/{org}/jetons");
    let url = app.url(&jetons);
    let count = || -> i64 {
        api_tokens::table
            .count()
            .get_result(&mut *app.conn() as &mut DbConn)
            .unwrap()
    };
    // A lifetime that is not offered: a French 422, no token.
    let res = admin
        .post_form(&app, &jetons, &[("name", "CRM"), ("duree", "1000")])
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("30, 90 ou 365 jours"));
    assert_eq!(count(), 0);

    let res = admin
        .post_form(&app, &jetons, &[("name", "CRM"), ("duree", "30")])
        .await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    let start = page.find("value=\"prc_").unwrap() + 7;
    let secret = page[start..start + page[start..].find('"').unwrap()].to_string();
    let expires: Option<chrono::NaiveDateTime> = api_tokens::table
        .select(api_tokens::expires_at)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let days = (expires.unwrap() - parcours::db::now()).num_hours() as f64 / 24.0;
    assert!((29.9..=30.0).contains(&days), "{days}");
    let expiry = parcours::base::paris::to_paris(expires.unwrap())
        .format("%d/%m/%Y")
        .to_string();
    assert!(page.contains(&format!("Expire le {expiry}")), "{page}");
    let path = format!("/api/v1/organisms/{org}/xapi");
    assert_eq!(get_with(&app, &secret, &path).await.status(), 200);

    // The day after its end it opens nothing, at once, and the list says so.
    diesel::update(api_tokens::table)
        .set(api_tokens::expires_at.eq(parcours::db::now() - chrono::Duration::seconds(1)))
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let res = get_with(&app, &secret, &path).await;
    assert_eq!(res.status(), 401);
    let list = admin.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(list.contains("Expiré le"), "{list}");
}
