//! The page opened after a login (`suite`) never leaves the site.

use parcours::accounts::Role;

use crate::common::*;

/// Logs in with a form body whose `suite` is given already form-encoded, exactly as sent.
async fn login_with_suite(app: &TestApp, encoded_suite: &str) -> reqwest::Response {
    let c = client();
    let token = csrf_from(&c, &app.url("/connexion")).await;
    let body = format!(
        "csrf_token={token}&email=chef%40a.fr&password=mot-de-passe-solide&suite={encoded_suite}"
    );
    c.post(app.url("/connexion"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_hostile_suite_after_login_opens_the_home_page() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    app.create_user(
        Role::OrganismAdmin,
        Some(org),
        "chef@a.fr",
        "mot-de-passe-solide",
    );
    // A page of the site is kept, query included.
    let res = login_with_suite(&app, "%2Fpromotions%2F1%3Favis%3Dx").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/promotions/1?avis=x");

    for encoded in [
        "/%09/evil.com",          // tab: browsers drop it, leaving //evil.com
        "/%0A/evil.com",          // newline: was a 500 after a good login
        "/%0D%0A/evil.com",       // header injection attempt
        "%2F%2Fevil.com",         // scheme-relative
        "/%5Cevil.com",           // /\evil.com
        "%5C%5Cevil.com",         // \\evil.com
        "/%5C/evil.com",          // backslash as a slash
        "/%2509/evil.com",        // the tab, percent-encoded in the path itself
        "/%250A/evil.com",        // the newline, likewise
        "/%252F%252Fevil.com",    // /%2F%2Fevil.com
        "/%255Cevil.com",         // /%5Cevil.com
        "https%3A%2F%2Fevil.com", // absolute URL
        "https%3Aevil.com",       // scheme without slashes
        "/..//evil.com",          // dot segment that leaves //evil.com
        "/%2e%2e//evil.com",      // the same, encoded
        "javascript%3Aalert(1)",  // not a path
    ] {
        let res = login_with_suite(&app, encoded).await;
        assert_eq!(res.status(), 303, "suite={encoded}");
        assert_eq!(res.headers()["location"], "/", "suite={encoded}");
    }

    // The login form does not carry a hostile value either.
    let html = client()
        .get(app.url("/connexion?suite=/%09/evil.com"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("evil.com"), "{html}");
    assert!(
        html.contains(r#"name="suite" value="/""#)
            || html.contains(r#"name="suite" value="&#x2F;""#),
        "{html}"
    );
}
