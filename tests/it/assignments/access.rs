//! Who sees an assignment's versions: the trainee herself and her organism's staff; nobody
//! else, not even the trainee's employer doctor for the grading.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::curriculum::rules::AnswerForm;
use parcours::db::DbConn;
use parcours::db::schema::assignment_files;

use super::{assignment, get, grade, hand_in, page_of, rows, small_pdf, versions};
use crate::common::*;

#[tokio::test]
async fn only_the_trainee_and_her_organism_staff_see_a_version() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let other_org = app.create_organism("Organisme B");
    let cohort = app.create_cohort(org, "CQP-AM");
    let (alice, alice_id) = signed_in(&app, Role::Trainee, Some(org), "alice@a.fr").await;
    app.enrol(org, cohort, alice_id);
    let (bob, bob_id) = signed_in(&app, Role::Trainee, Some(org), "bob@a.fr").await;
    app.enrol(org, cohort, bob_id);
    let (fae, _) = app.trainee_in(org, "FAE-AM", "fae@a.fr").await;
    let (doctor, doctor_id) = signed_in(&app, Role::Doctor, None, "dr@cabinet.fr").await;
    app.employ(alice_id, doctor_id, "Dr Martin");
    let (trainer, _) = signed_in(&app, Role::Trainer, Some(org), "form@a.fr").await;
    let (stranger, _) = signed_in(&app, Role::Trainer, Some(other_org), "form@b.fr").await;
    let (module, slug, points) = assignment(AnswerForm::TextAndFiles);
    let page = page_of(&module, &slug);
    let res = hand_in(
        &alice,
        &app,
        &page,
        "Réponse d'Alice",
        &[("a.pdf", small_pdf())],
    )
    .await;
    assert_eq!(res.status(), 303);
    let id = versions(&app, alice_id)[0].0;
    let file: i64 = assignment_files::table
        .select(assignment_files::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let scores: Vec<String> = points.iter().map(|p| p.to_string()).collect();
    let grading = format!("/devoirs/{id}");
    let download = format!("/devoirs/fichiers/{file}");

    // Alice downloads her own file; her grading page is staff's (403).
    assert_eq!(get(&alice, &app, &download).await.0, 200);
    assert_eq!(get(&alice, &app, &grading).await.0, 403);
    // Another trainee, a trainer of another organism: as if it did not exist.
    for who in [&bob, &stranger] {
        assert_eq!(get(who, &app, &grading).await.0, 404);
        assert_eq!(get(who, &app, &download).await.0, 404);
        assert_eq!(
            grade(who, &app, id, "noter", &scores, "Bien")
                .await
                .status(),
            404
        );
    }
    assert_eq!(
        get(&stranger, &app, &format!("/promotions/{cohort}/devoirs"))
            .await
            .0,
        404
    );
    // Bob's page of the same assignment shows nothing of Alice's.
    let (status, html) = get(&bob, &app, &page).await;
    assert_eq!(status, 200);
    assert!(!html.contains("Réponse d'Alice") && html.contains("Rendre ma version 1"));
    // The employer doctor may not grade, nor open the files; no curriculum page either.
    assert_eq!(
        grade(&doctor, &app, id, "noter", &scores, "Bien")
            .await
            .status(),
        403
    );
    assert_eq!(get(&doctor, &app, &grading).await.0, 403);
    assert_eq!(get(&doctor, &app, &download).await.0, 404);
    assert_eq!(get(&doctor, &app, &page).await.0, 403);
    // A trainee of another programme: forbidden, as the curriculum's pages.
    assert_eq!(get(&fae, &app, &page).await.0, 403);
    // Staff preview the page without its form, and cannot hand in.
    let (status, html) = get(&trainer, &app, &page).await;
    assert_eq!(status, 200);
    assert!(html.contains("Aperçu") && !html.contains("multipart/form-data"));
    assert!(!html.contains("Réponse d'Alice"));
    assert_eq!(hand_in(&trainer, &app, &page, "x", &[]).await.status(), 403);
    assert_eq!(versions(&app, alice_id)[0].1, "submitted");
    assert_eq!(rows(&app), (1, 1));
    // A lesson has no assignment page; an assignment's activity link leads to its page.
    let lesson = curriculum()
        .program("CQP-AM")
        .and_then(|p| p.module(&module))
        .and_then(|m| m.activities.iter().find(|a| a.assignment().is_none()))
        .map(|a| a.slug.clone())
        .unwrap();
    assert_eq!(get(&alice, &app, &page_of(&module, &lesson)).await.0, 404);
    let res = alice
        .get(app.url(&format!("/programmes/CQP-AM/{module}/activites/{slug}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], page.as_str());
}
