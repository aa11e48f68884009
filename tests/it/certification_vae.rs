//! The blocs a VAE decision grants go to the certification record, and the path's VAE
//! exemption comes from that decision, never from a hand-typed line.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{certification_blocs, programs, vae_requests};

use crate::common::*;
use crate::vae::{form_path, request_form};

/// The id of a module of the CQP.
fn module_id(app: &TestApp, code: &str) -> i64 {
    use parcours::db::schema::modules;
    let mut conn = app.conn();
    modules::table
        .inner_join(programs::table)
        .filter(programs::code.eq("CQP-AM"))
        .filter(modules::code.eq(code))
        .select(modules::id)
        .first(&mut *conn as &mut DbConn)
        .unwrap()
}

fn blocs_of(app: &TestApp, trainee: i64) -> Vec<(String, String)> {
    let mut conn = app.conn();
    certification_blocs::table
        .filter(certification_blocs::trainee_id.eq(trainee))
        .order(certification_blocs::id.asc())
        .select((certification_blocs::bloc, certification_blocs::result))
        .load(&mut *conn as &mut DbConn)
        .unwrap()
}

#[tokio::test]
async fn certification_a_partial_vae_decision_grants_its_blocs() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (staff, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "dir@a.fr").await;
    let (cand, trainee) = app.trainee_in(org, "CQP-AM", "camille@a.fr").await;
    let r = cand
        .post_multipart(&app, &form_path(org), |form| {
            request_form(form, None, "2000")
        })
        .await;
    assert_eq!(r.status(), 303);
    let mut conn = app.conn();
    let id: i64 = vae_requests::table
        .filter(vae_requests::candidate_id.eq(trainee))
        .select(vae_requests::id)
        .first(&mut *conn as &mut DbConn)
        .unwrap();
    // Straight to a jury that has met (the steps before are `vae.rs`'s).
    diesel::update(vae_requests::table.find(id))
        .set((
            vae_requests::state.eq("jury_planifie"),
            vae_requests::jury_at.eq(chrono::Utc::now().naive_utc() - chrono::Duration::hours(1)),
            vae_requests::jury_place.eq("Lyon"),
            vae_requests::requested_modules.eq(r#"["M1","M2","M3","M4"]"#),
        ))
        .execute(&mut *conn as &mut DbConn)
        .unwrap();
    drop(conn);
    let r = staff
        .post_form(
            &app,
            &format!("/vae/dossiers/{id}/etape"),
            &[
                ("action", "decide"),
                ("outcome", "partial"),
                ("validated", "M2"),
                ("validated", "M3"),
                ("recommendations", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        blocs_of(&app, trainee),
        vec![
            ("M2".to_string(), "acquired".to_string()),
            ("M3".to_string(), "acquired".to_string())
        ]
    );
    let page = staff
        .get_text(&app, &format!("/stagiaires/{trainee}/certification"))
        .await;
    assert!(
        page.contains(&format!("VAE n° {id}, décision du")),
        "{page}"
    );
    assert!(page.contains("Blocs à passer : M1, M4."), "{page}");
    // The path's VAE exemption comes from the decision; none is typed by hand.
    let r = staff
        .post_form(
            &app,
            &format!("/stagiaires/{trainee}/parcours"),
            &[
                ("module_id", module_id(&app, "M1").to_string().as_str()),
                ("kind", "vae"),
                ("exempted_hours", "7"),
                ("reason", "VAE"),
                ("document_ref", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("ne se saisit pas ici"));
    let file = staff
        .get_text(&app, &format!("/stagiaires/{trainee}"))
        .await;
    assert!(file.contains(&format!("VAE n° {id}")), "{file}");
    assert!(!file.contains(r#"<option value="vae">"#));
}
