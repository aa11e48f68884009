//! Foundation: login, sessions, CSRF, rate limits, role scopes, error pages, start-up errors.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use parcours::accounts::Role;

use crate::common::*;

#[tokio::test]
async fn health_check_reports_the_database() {
    let app = spawn_app().await;
    let res = client().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn login_opens_the_home_page_of_the_role_and_is_audited() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    app.create_user(
        Role::Trainer,
        Some(org),
        "Formatrice@Exemple.fr",
        "mot-de-passe-solide",
    );
    let c = client();
    // Email is case-insensitive.
    let res = login(&app, &c, "FORMATRICE@exemple.FR", "mot-de-passe-solide").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/");
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("parcours_session="))
        .expect("session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let home = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(home.status(), 200);
    let html = home.text().await.unwrap();
    assert!(
        html.contains("Bonjour Personne formatrice@exemple.fr"),
        "{html}"
    );
    assert!(html.contains("Promotions"), "trainer panels shown");
    assert!(html.contains("lang=\"fr\""));
    assert_eq!(
        app.audit_actions("formatrice@exemple.fr"),
        ["user_created", "login"]
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_refusal() {
    let app = spawn_app().await;
    app.create_user(Role::Doctor, None, "dr@exemple.fr", "mot-de-passe-solide");
    let c = client();
    for (email, pw) in [
        ("dr@exemple.fr", "mauvais-mot-de-passe"),
        ("inconnu@exemple.fr", "x"),
    ] {
        let res = login(&app, &c, email, pw).await;
        assert_eq!(res.status(), 401);
        assert!(
            res.headers()
                .get("set-cookie")
                .is_none_or(|v| !v.to_str().unwrap().starts_with("parcours_session"))
        );
        let html = res.text().await.unwrap();
        assert!(html.contains("Adresse e-mail ou mot de passe incorrect."));
    }
    assert_eq!(
        app.audit_actions("dr@exemple.fr"),
        ["user_created", "login_failed"]
    );
    assert_eq!(app.audit_actions("inconnu@exemple.fr"), ["login_failed"]);
    // Still not signed in.
    let res = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/connexion?suite=%2F");
}

#[tokio::test]
async fn a_disabled_account_is_refused() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let admin_id = app.create_user(
        Role::OrganismAdmin,
        Some(org),
        "chef@a.fr",
        "mot-de-passe-solide",
    );
    let id = app.create_user(Role::Trainer, Some(org), "off@a.fr", "mot-de-passe-solide");
    let trainer = client();
    assert_eq!(
        login(&app, &trainer, "off@a.fr", "mot-de-passe-solide")
            .await
            .status(),
        303
    );
    // The organism's admin disables the trainer: the open session ends too.
    let admin = client();
    assert_eq!(
        login(&app, &admin, "chef@a.fr", "mot-de-passe-solide")
            .await
            .status(),
        303
    );
    let res = admin
        .post_form(
            &app,
            &format!("/utilisateurs/{id}/statut"),
            &[("disabled", "1")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        trainer.get(app.url("/")).send().await.unwrap().status(),
        303
    );
    let res = login(&app, &client(), "off@a.fr", "mot-de-passe-solide").await;
    assert_eq!(res.status(), 403);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Ce compte est désactivé")
    );
    assert!(
        app.audit_actions("off@a.fr")
            .contains(&"user_disabled".to_string())
    );
    let _ = admin_id;
}

#[tokio::test]
async fn login_without_or_with_a_wrong_csrf_token_is_refused() {
    let app = spawn_app().await;
    app.create_user(Role::Doctor, None, "dr@exemple.fr", "mot-de-passe-solide");
    let c = client();
    let good = csrf_from(&c, &app.url("/connexion")).await;
    for token in [None, Some("faux"), Some(&good[..good.len() - 1])] {
        let mut form = vec![
            ("email", "dr@exemple.fr"),
            ("password", "mot-de-passe-solide"),
        ];
        if let Some(t) = token {
            form.push(("csrf_token", t));
        }
        let res = c
            .post(app.url("/connexion"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "token {token:?}");
        assert!(res.text().await.unwrap().contains("Le formulaire a expiré"));
    }
    // A token from another browser (another CSRF cookie) does not work either.
    let other = client();
    let res = other
        .post(app.url("/connexion"))
        .form(&[
            ("csrf_token", good.as_str()),
            ("email", "dr@exemple.fr"),
            ("password", "mot-de-passe-solide"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        app.audit_actions("dr@exemple.fr"),
        ["user_created"],
        "no login happened"
    );
}

fn sign(claims: &serde_json::Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .unwrap()
}

#[tokio::test]
async fn tampered_tokens_are_refused() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let id = app.create_user(
        Role::Trainee,
        Some(org),
        "eleve@a.fr",
        "mot-de-passe-solide",
    );
    let now = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({
        "sub": id, "role": "trainee", "org": org, "tv": 0, "sid": app.open_session(id),
        "iat": now, "exp": now + 600, "iss": "parcours"
    });
    let valid = sign(&claims, SECRET.as_bytes());
    let res = client()
        .get(app.url("/api/v1/me"))
        .bearer_auth(&valid)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the control token works");

    let parts: Vec<&str> = valid.split('.').collect();
    let mut admin_claims = claims.clone();
    admin_claims["role"] = "admin".into();
    let admin_payload = URL_SAFE_NO_PAD.encode(admin_claims.to_string());
    let changed_role = format!("{}.{}.{}", parts[0], admin_payload, parts[2]);
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let alg_none = format!("{none_header}.{admin_payload}.");
    let wrong_signature = sign(&admin_claims, b"another-secret-another-secret-another");
    let mut old = claims.clone();
    old["iat"] = (now - 7200).into();
    old["exp"] = (now - 3600).into();
    let expired = sign(&old, SECRET.as_bytes());
    // Signed by us but claiming a role the account does not have.
    let forged_role = sign(&admin_claims, SECRET.as_bytes());
    // Signed by us but naming no open session of this account: none at all (tokens from
    // before sessions had rows), or someone else's.
    let mut sessionless = claims.clone();
    sessionless.as_object_mut().unwrap().remove("sid");
    let sessionless = sign(&sessionless, SECRET.as_bytes());
    let other = app.create_user(
        Role::Trainee,
        Some(org),
        "autre@a.fr",
        "mot-de-passe-solide",
    );
    let mut borrowed = claims.clone();
    borrowed["sid"] = app.open_session(other).into();
    let borrowed = sign(&borrowed, SECRET.as_bytes());

    for (what, token) in [
        ("changed role", changed_role),
        ("alg none", alg_none),
        ("wrong signature", wrong_signature),
        ("expired", expired),
        ("role not the account's", forged_role),
        ("no session", sessionless),
        ("another account's session", borrowed),
    ] {
        let res = client()
            .get(app.url("/api/v1/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{what}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthenticated", "{what}");
        // The same token as a cookie does not open pages either.
        let res = client()
            .get(app.url("/admin/organismes"))
            .header("cookie", format!("parcours_session={token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{what}");
        assert!(
            res.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/connexion")
        );
    }
}

#[tokio::test]
async fn the_eleventh_failed_login_in_a_minute_is_refused_even_with_the_right_password() {
    let app = spawn_app().await;
    app.create_user(Role::Doctor, None, "dr@exemple.fr", "mot-de-passe-solide");
    let c = client();
    for i in 0..10 {
        let res = login(&app, &c, "dr@exemple.fr", "mauvais-mot-de-passe").await;
        assert_eq!(res.status(), 401, "attempt {i}");
    }
    let res = login(&app, &c, "dr@exemple.fr", "mot-de-passe-solide").await;
    assert_eq!(res.status(), 429);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Trop de tentatives échouées pour ce compte. Réessayez à partir de"),
        "{html}"
    );
    assert!(html.contains("secondes"));
    // The API says the same in JSON, with Retry-After.
    let res = client()
        .post(app.url("/api/v1/auth/token"))
        .json(&serde_json::json!({"email": "dr@exemple.fr", "password": "mot-de-passe-solide"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_requests");
    // Another account is not affected.
    app.create_user(
        Role::Doctor,
        None,
        "autre@exemple.fr",
        "mot-de-passe-solide",
    );
    assert_eq!(
        login(&app, &c, "autre@exemple.fr", "mot-de-passe-solide")
            .await
            .status(),
        303
    );
    let actions = app.audit_actions("dr@exemple.fr");
    assert_eq!(actions.iter().filter(|a| *a == "login_failed").count(), 10);
    assert!(!actions.contains(&"login".to_string()));
}

#[tokio::test]
async fn logins_from_one_address_are_rate_limited() {
    let app = spawn_app_with(|env| {
        env.insert("PARCOURS_LOGIN_IP_PER_MINUTE".into(), "3".into());
    })
    .await;
    let c = client();
    for _ in 0..3 {
        assert_eq!(login(&app, &c, "x@exemple.fr", "faux").await.status(), 401);
    }
    let res = login(&app, &c, "y@exemple.fr", "faux").await;
    assert_eq!(res.status(), 429);
    assert!(res.text().await.unwrap().contains("depuis votre adresse"));
}

#[tokio::test]
async fn each_role_sees_only_its_own_organism() {
    let app = spawn_app().await;
    let a = app.create_organism("Organisme A");
    let b = app.create_organism("Organisme B");
    let (staff_a, _) = signed_in(&app, Role::OrganismAdmin, Some(a), "chef@a.fr").await;
    let (trainer_a, _) = signed_in(&app, Role::Trainer, Some(a), "formateur@a.fr").await;
    let (trainee, _) = signed_in(&app, Role::Trainee, Some(a), "eleve@a.fr").await;
    let (doctor, _) = signed_in(&app, Role::Doctor, None, "dr@exemple.fr").await;
    let (admin, _) = signed_in(&app, Role::Admin, None, "admin@exemple.fr").await;

    let own = staff_a
        .get(app.url(&format!("/organismes/{a}")))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
    assert!(own.text().await.unwrap().contains("Organisme A"));
    assert_eq!(
        trainer_a
            .get(app.url(&format!("/organismes/{a}")))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    for (who, c) in [("staff A", &staff_a), ("trainer A", &trainer_a)] {
        let res = c
            .get(app.url(&format!("/organismes/{b}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{who}");
        let html = res.text().await.unwrap();
        assert!(
            html.contains("Accès refusé") && !html.contains("Organisme B"),
            "{who}"
        );
        assert_eq!(
            c.get(app.url("/admin/organismes"))
                .send()
                .await
                .unwrap()
                .status(),
            403,
            "{who}"
        );
    }
    for (who, c) in [("trainee", &trainee), ("doctor", &doctor)] {
        for path in ["/admin/organismes".to_string(), format!("/organismes/{a}")] {
            let res = c.get(app.url(&path)).send().await.unwrap();
            assert_eq!(res.status(), 403, "{who} on {path}");
        }
    }
    let list = admin
        .get(app.url("/admin/organismes"))
        .send()
        .await
        .unwrap();
    let html = list.text().await.unwrap();
    assert!(html.contains("Organisme A") && html.contains("Organisme B"));
}

#[tokio::test]
async fn a_trainer_cannot_change_roles_and_a_role_change_is_audited() {
    let app = spawn_app().await;
    let a = app.create_organism("Organisme A");
    let b = app.create_organism("Organisme B");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(a), "chef@a.fr").await;
    let (trainer, trainer_id) = signed_in(&app, Role::Trainer, Some(a), "formateur@a.fr").await;
    let (chef_b, _) = signed_in(&app, Role::OrganismAdmin, Some(b), "chef@b.fr").await;
    let other_id = app.create_user(Role::Trainer, Some(a), "autre@a.fr", "mot-de-passe-solide");

    // A trainer may not promote anyone.
    let res = trainer
        .post_form(
            &app,
            &format!("/utilisateurs/{other_id}/role"),
            &[("role", "organism_admin")],
        )
        .await;
    assert_eq!(res.status(), 403);
    // Nor may another organism's administrator, who is not told the person exists.
    let res = chef_b
        .post_form(
            &app,
            &format!("/utilisateurs/{other_id}/role"),
            &[("role", "organism_admin")],
        )
        .await;
    assert_eq!(res.status(), 404);
    assert!(
        !app.audit_actions("autre@a.fr")
            .contains(&"role_changed".to_string())
    );

    // The organism's own administrator can, and the old session of that person ends.
    let res = chef
        .post_form(
            &app,
            &format!("/utilisateurs/{trainer_id}/role"),
            &[("role", "organism_admin")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.audit_actions("formateur@a.fr"),
        ["user_created", "login", "role_changed"]
    );
    assert_eq!(
        trainer.get(app.url("/")).send().await.unwrap().status(),
        303
    );
    // Roles outside the staff are refused with a clear message.
    let res = chef
        .post_form(
            &app,
            &format!("/utilisateurs/{other_id}/role"),
            &[("role", "admin")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("Rôle inconnu"));
}

#[tokio::test]
async fn api_tokens_carry_the_same_claims() {
    let app = spawn_app().await;
    app.create_user(Role::Doctor, None, "dr@exemple.fr", "mot-de-passe-solide");
    let c = client();
    let res = c
        .post(app.url("/api/v1/auth/token"))
        .json(&serde_json::json!({"email": "DR@exemple.fr", "password": "mot-de-passe-solide"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    let token = body["token"].as_str().unwrap();
    let me: serde_json::Value = c
        .get(app.url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "dr@exemple.fr");
    assert_eq!(me["role"], "doctor");

    let res = c
        .post(app.url("/api/v1/auth/token"))
        .json(&serde_json::json!({"email": "dr@exemple.fr", "password": "faux"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = c
        .post(app.url("/api/v1/auth/token"))
        .header("content-type", "application/json")
        .body("{pas du json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_input");
    let res = c.get(app.url("/api/v1/nulle-part")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    let (c, _) = signed_in(&app, Role::Doctor, None, "dr@exemple.fr").await;
    let res = c.post_form(&app, "/deconnexion", NO_FIELDS).await;
    assert_eq!(res.status(), 303);
    assert_eq!(c.get(app.url("/")).send().await.unwrap().status(), 303);
    assert_eq!(
        app.audit_actions("dr@exemple.fr"),
        ["user_created", "login", "logout"]
    );
}

#[tokio::test]
async fn an_active_session_is_renewed() {
    let app = spawn_app().await;
    let id = app.create_user(Role::Doctor, None, "dr@exemple.fr", "mot-de-passe-solide");
    let now = chrono::Utc::now().timestamp();
    let old = sign(
        &serde_json::json!({"sub": id, "role": "doctor", "org": null, "tv": 0,
            "sid": app.open_session(id), "iat": now - 600, "exp": now + 600, "iss": "parcours"}),
        SECRET.as_bytes(),
    );
    let res = client()
        .get(app.url("/"))
        .header("cookie", format!("parcours_session={old}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let renewed = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("parcours_session="))
        .map(|v| v.split(';').next().unwrap().to_string())
        .expect("renewed cookie");
    assert_ne!(renewed, old);
    let payload = renewed.split('.').nth(1).unwrap();
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert!(
        claims["exp"].as_i64().unwrap() > now + 600,
        "expiry pushed back"
    );
}

#[tokio::test]
async fn pages_have_security_headers_french_errors_and_cached_assets() {
    let app = spawn_app().await;
    let c = client();
    let res = c.get(app.url("/nulle-part")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"));
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.headers()["referrer-policy"], "no-referrer");
    let html = res.text().await.unwrap();
    assert!(html.contains("Page introuvable"), "{html}");
    let login = c
        .get(app.url("/connexion"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = login.find("/static/parcours.css?v=").unwrap();
    let end = login[start..].find('"').unwrap() + start;
    let css = c.get(app.url(&login[start..end])).send().await.unwrap();
    assert_eq!(css.status(), 200);
    assert!(
        css.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert!(css.text().await.unwrap().contains(":focus-visible"));
}

#[tokio::test]
async fn an_unusable_database_stops_the_start_with_a_clear_message() {
    let bin = env!("CARGO_BIN_EXE_parcours");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("corrupt.db");
    std::fs::write(
        &file,
        b"this is not a database, just text that fills the header ....",
    )
    .unwrap();
    let out = std::process::Command::new(bin)
        .arg("migrate")
        .env("DATABASE_URL", format!("sqlite://{}", file.display()))
        .env("PARCOURS_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a usable SQLite database"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let out = std::process::Command::new(bin)
        .arg("migrate")
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/nothing")
        .env("PARCOURS_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("database unreachable"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let out = std::process::Command::new(bin)
        .env("PARCOURS_BIND", "partout")
        .env("PARCOURS_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("PARCOURS_BIND"));
}

#[tokio::test]
async fn the_first_admin_is_created_on_the_command_line_and_can_sign_in() {
    let bin = env!("CARGO_BIN_EXE_parcours");
    let app = spawn_app().await;
    let out = std::process::Command::new(bin)
        .args([
            "admin",
            "create",
            "--email",
            "Premier@Exemple.fr",
            "--name",
            "Première Admin",
        ])
        .env("DATABASE_URL", &app.database_url)
        .env("PARCOURS_DATA_DIR", app.dir.path())
        .env("PARCOURS_ADMIN_PASSWORD", "un-mot-de-passe-long")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c = client();
    assert_eq!(
        login(&app, &c, "premier@exemple.fr", "un-mot-de-passe-long")
            .await
            .status(),
        303
    );
    let html = c
        .get(app.url("/admin/organismes"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Nouvel organisme"));
    // The admin creates an organism; bad input is refused by field and creates nothing.
    let res = c
        .post_form_of(
            &app,
            &html,
            "/admin/organismes",
            &[("name", "ISF"), ("siret", "123"), ("nda", "1")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Le SIRET doit comporter 14 chiffres valides."));
    assert!(html.contains("11 chiffres"));
    let res = c
        .post_form(
            &app,
            "/admin/organismes",
            &[("name", "Institut <Santé>"), ("siret", "732 829 320 00074")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = c
        .get(app.url(res.headers()["location"].to_str().unwrap()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Institut &lt;Santé&gt;"), "escaped");
    assert!(page.contains("73282932000074"));
    // A second admin with the same address is refused.
    let out = std::process::Command::new(bin)
        .args([
            "admin",
            "create",
            "--email",
            "premier@exemple.fr",
            "--name",
            "Doublon",
        ])
        .env("DATABASE_URL", &app.database_url)
        .env("PARCOURS_DATA_DIR", app.dir.path())
        .env("PARCOURS_ADMIN_PASSWORD", "un-mot-de-passe-long")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("existe déjà"));
}

#[tokio::test]
async fn the_openapi_document_lists_every_api_route() {
    let app = spawn_app().await;
    let doc: serde_json::Value = client()
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.0.3");
    let paths = doc["paths"].as_object().unwrap();
    // Every route that an API module (`src/*/api.rs`) registers is documented, read from
    // their source, so a new module is checked without touching this test.
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut registered = vec!["/openapi.json".to_string()];
    for dir in std::fs::read_dir(&src).unwrap() {
        let Ok(code) = std::fs::read_to_string(dir.unwrap().path().join("api.rs")) else {
            continue;
        };
        for (i, _) in code.match_indices("route(") {
            if let Some(quoted) = code[i + 6..].trim_start().strip_prefix('"') {
                registered.push(quoted[..quoted.find('"').unwrap()].to_string());
            }
        }
    }
    assert!(registered.len() > 20, "routes found: {registered:?}");
    for p in &registered {
        assert!(
            paths.contains_key(p),
            "{p} is registered but not documented"
        );
    }
    // The document is valid OpenAPI 3.0 for an independent validator (PyPI's
    // openapi-spec-validator, installed by .ci/run).
    let file = app.dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec(&doc).unwrap()).unwrap();
    let out = std::process::Command::new("openapi-spec-validator")
        .arg(&file)
        .output()
        .expect("openapi-spec-validator is installed (see .ci/run)");
    assert!(
        out.status.success(),
        "validator: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The readable page shows every operation.
    let page = client()
        .get(app.url("/documentation/api"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for p in &registered {
        assert!(
            page.contains(&format!(" {p}</code>")),
            "{p} on the readable page"
        );
    }
    // Every documented route answers (401 without a token, not 404). The catalogue is
    // public: its cohort must exist and be published.
    let listed = app.listed_cohort(app.create_organism("Organisme du catalogue"));
    for (path, ops) in paths {
        let id = if path.starts_with("/catalogue/") {
            listed.to_string()
        } else {
            "1".to_string()
        };
        for method in ops.as_object().unwrap().keys() {
            let url = app.url(&format!(
                "/api/v1{}",
                path.replace("{id}", &id)
                    .replace("{program}", "CQP-AM")
                    .replace("{module}", "M1")
                    .replace("{slug}", "x")
            ));
            let res = client()
                .request(method.to_uppercase().parse().unwrap(), &url)
                .send()
                .await
                .unwrap();
            assert_ne!(res.status(), 404, "{method} {path}");
            assert_ne!(res.status(), 405, "{method} {path}");
        }
    }
}

/// Hostile input on the whole API: schemathesis (PyPI, installed by .ci/run) generates
/// requests from the OpenAPI document and sends them with an organism's integration token.
/// No answer may be a server error, or differ from what the document says.
#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_undocumented_answer() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let admin = app.create_user(
        Role::OrganismAdmin,
        Some(org),
        "chef@a.fr",
        "mot-de-passe-solide",
    );
    let cohort = app.create_cohort(org, "CQP-AM");
    let trainee = app.create_user(Role::Trainee, Some(org), "t@a.fr", "mot-de-passe-solide");
    app.enrol(org, cohort, trainee);
    let token = {
        let mut conn = app.conn();
        parcours::accounts::api_tokens::create(
            &mut conn,
            org,
            admin,
            "schemathesis",
            "c2NoZW1hdGhlc2lzLWRhbnMtbGEtY2ktZGUtcGFyY291cnM",
            30,
        )
        .unwrap()
    };
    // Off the test's runtime thread: the server under test runs on it.
    let url = app.url("/api/v1/openapi.json");
    let dir = app.dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("schemathesis")
        // Its cache of failures stays with this run, not in the repository.
        .current_dir(&dir)
        .arg("run")
        .arg(&url)
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args([
            "--checks",
            "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance",
            "--max-examples",
            "15",
            "--seed",
            "1",
            "--request-timeout",
            "10",
            // One worker: CPython 3.11's ast module is not thread-safe (cpython#106905), and
            // hypothesis parses lambdas with it; two workers once failed on that, not on us.
            "--workers",
            "1",
        ])
        .env("NO_COLOR", "1")
        .output()
        .expect("schemathesis is installed (see .ci/run)")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" passed"), "{stdout}");
}
