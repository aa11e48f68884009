//! The Markdown preview of the authoring pages (`POST /auteur/apercu`): what trainees would
//! see, for staff only, with the CSRF token of the page's script.

use parcours::accounts::Role;

use crate::common::*;

const PREVIEW: &str = "/auteur/apercu";

/// Sends `text` as the editor's script does: URL-encoded, the token in `X-CSRF-Token`.
async fn preview(
    app: &TestApp,
    c: &reqwest::Client,
    token: Option<&str>,
    text: &str,
) -> reqwest::Response {
    let mut req = c
        .post(app.url(PREVIEW))
        .header(
            "content-type",
            "application/x-www-form-urlencoded;charset=UTF-8",
        )
        .body(
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("text", text)
                .finish(),
        );
    if let Some(t) = token {
        req = req.header("x-csrf-token", t);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn staff_see_the_markdown_as_trainees_will_and_scripts_stay_text() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    for (role, email) in [
        (Role::Trainer, "formatrice@a.fr"),
        (Role::OrganismAdmin, "direction@a.fr"),
        (Role::Admin, "plateforme@exemple.fr"),
    ] {
        let organism = (role != Role::Admin).then_some(org);
        let (c, _) = signed_in(&app, role, organism, email).await;
        let token = csrf_from(&c, &app.url(TOKEN_PAGE)).await;
        let text = "## Le dossier médical\n\n- accueil\n- **dossier**\n\nAvant <script>alert(1)</script> après\n";
        let res = preview(&app, &c, Some(&token), text).await;
        assert_eq!(res.status(), 200, "{role:?}");
        assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
        let html = res.text().await.unwrap();
        assert!(html.contains("<h2>Le dossier médical</h2>"), "{html}");
        assert!(
            html.contains("<ul>\n<li>accueil</li>\n<li><strong>dossier</strong></li>\n</ul>"),
            "{html}"
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(
            html.contains("HTML brut interdit"),
            "the author is told: {html}"
        );
        assert!(
            html.ends_with(&parcours::curriculum::markdown::to_html(text)),
            "{html}"
        );
        // A lesson file's front matter is not part of what trainees read.
        let res = preview(
            &app,
            &c,
            Some(&token),
            "+++\ntitle = \"Leçon\"\nminutes = 5\n+++\n\nTexte.\n",
        )
        .await;
        assert_eq!(res.text().await.unwrap(), "<p>Texte.</p>\n");
        // The token may come as a form field too.
        let res = c
            .post(app.url(PREVIEW))
            .form(&[("csrf_token", token.as_str()), ("text", "*a*")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.text().await.unwrap(), "<p><em>a</em></p>\n");
    }
}

#[tokio::test]
async fn the_preview_is_refused_to_others_without_a_token_or_over_its_size() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (trainee, _) = app.trainee_in(org, "CQP-AM", "t@a.fr").await;
    let token = csrf_from(&trainee, &app.url(TOKEN_PAGE)).await;
    let res = preview(&app, &trainee, Some(&token), "# Titre").await;
    assert_eq!(res.status(), 403);
    let (doctor, _) = signed_in(&app, Role::Doctor, None, "dr@exemple.fr").await;
    let token = csrf_from(&doctor, &app.url(TOKEN_PAGE)).await;
    assert_eq!(
        preview(&app, &doctor, Some(&token), "# Titre")
            .await
            .status(),
        403
    );

    let anonymous = client();
    let token = csrf_from(&anonymous, &app.url(TOKEN_PAGE)).await;
    let res = preview(&app, &anonymous, Some(&token), "# Titre").await;
    assert_eq!(res.status(), 303);
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/connexion")
    );

    let (trainer, _) = signed_in(&app, Role::Trainer, Some(org), "formatrice@a.fr").await;
    let res = preview(&app, &trainer, None, "# Titre").await;
    assert_eq!(res.status(), 403, "no token");
    assert!(res.text().await.unwrap().contains("Le formulaire a expiré"));
    let res = preview(&app, &trainer, Some("faux"), "# Titre").await;
    assert_eq!(res.status(), 403, "a wrong token");
    let token = csrf_from(&trainer, &app.url(TOKEN_PAGE)).await;
    let other = client();
    let other_token = csrf_from(&other, &app.url(TOKEN_PAGE)).await;
    assert_ne!(token, other_token);
    let res = preview(&app, &trainer, Some(&other_token), "# Titre").await;
    assert_eq!(res.status(), 403, "another browser's token");

    // Over 512 Kio: a short French answer the editor shows as it is.
    let long = "a".repeat(600 * 1024);
    let res = preview(&app, &trainer, Some(&token), &long).await;
    assert_eq!(res.status(), 413);
    assert_eq!(res.headers()["content-type"], "text/plain; charset=utf-8");
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("le texte dépasse 512 Ko")
    );
    let res = preview(&app, &trainer, Some(&token), &"a".repeat(400 * 1024)).await;
    assert_eq!(res.status(), 200);
}
