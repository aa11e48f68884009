//! The funding file of an enrolment: its status steps and their checks, the history, the
//! audit, the list of files waiting for an answer, and who may see it.

use chrono::Duration;
use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::base::format;
use parcours::base::paris::today;
use parcours::db::schema::{audit_events, funding_events, funding_files};

use crate::common::*;

type Kept = (String, String, Option<i64>, Option<i32>);

fn kept(app: &TestApp, trainee: i64) -> Option<Kept> {
    funding_files::table
        .filter(funding_files::trainee_id.eq(trainee))
        .select((
            funding_files::status,
            funding_files::file_number,
            funding_files::approved_cents,
            funding_files::approved_minutes,
        ))
        .first(&mut *app.conn())
        .optional()
        .unwrap()
}

fn audited(app: &TestApp, trainee: i64) -> Vec<String> {
    audit_events::table
        .filter(audit_events::subject_id.eq(trainee))
        .filter(audit_events::action.like("funding%"))
        .order(audit_events::id.asc())
        .select(audit_events::action)
        .load(&mut *app.conn())
        .unwrap()
}

/// The form's fields, with these changes.
fn fields(changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = [
        ("funder", "opco_ep"),
        ("scheme", "contrat_pro"),
        ("file_number", "EP-2026-0042"),
        ("status", "a_envoyer"),
        ("sent_on", ""),
        ("decided_on", ""),
        ("amount", ""),
        ("hours", ""),
        ("refusal_reason", ""),
        ("back_reason", ""),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in changes {
        if let Some(slot) = f.iter_mut().find(|(n, _)| n == k) {
            slot.1 = v.to_string();
        }
    }
    f
}

#[tokio::test]
async fn a_funding_file_goes_from_sent_to_approved_with_checks_history_and_audit() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let cohort = app.create_cohort(org, "CQP-AM");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    let trainee = app.create_user(
        Role::Trainee,
        Some(org),
        "alice@a.fr",
        "mot-de-passe-solide",
    );
    app.enrol(org, cohort, trainee);
    let page = format!("/stagiaires/{trainee}/financement");
    let post = |changes: Vec<(&'static str, String)>| {
        let (app, chef, page) = (&app, &chef, page.clone());
        async move {
            let changes: Vec<(&str, &str)> =
                changes.iter().map(|(k, v)| (*k, v.as_str())).collect();
            chef.post_form_from(app, &page, &page, &fields(&changes))
                .await
        }
    };
    let text = chef.get_text(&app, &page).await;
    assert!(text.contains("Aucun dossier de financement"), "{text}");

    assert_eq!(post(vec![]).await.status(), 303);
    assert_eq!(kept(&app, trainee).unwrap().0, "a_envoyer");

    // Sent in the future: refused, nothing changed.
    let tomorrow = (today() + Duration::days(1)).to_string();
    let res = post(vec![("status", "envoye".into()), ("sent_on", tomorrow)]).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("est dans le futur"));
    assert_eq!(kept(&app, trainee).unwrap().0, "a_envoyer");

    let sent_on = today() - Duration::days(45);
    let sent = || ("sent_on", sent_on.to_string());
    assert_eq!(
        post(vec![("status", "envoye".into()), sent()])
            .await
            .status(),
        303
    );
    let list = chef
        .get_text(&app, &format!("/organismes/{org}/financements"))
        .await;
    assert!(list.contains("sans réponse depuis 45 jours"), "{list}");
    assert!(list.contains("EP-2026-0042") && list.contains(&format::date(sent_on)));

    // Approved: the amount must be euros, the hours within the programme's.
    let decided = ("decided_on", today().to_string());
    let res = post(vec![
        ("status", "accorde".into()),
        sent(),
        decided.clone(),
        ("amount", "douze".into()),
        ("hours", "100000".into()),
    ])
    .await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("n&#x27;est pas un nombre d&#x27;euros"),
        "{body}"
    );
    assert!(body.contains("dépassent les"), "{body}");
    assert_eq!(kept(&app, trainee).unwrap().0, "envoye");
    let res = post(vec![
        ("status", "accorde".into()),
        sent(),
        decided.clone(),
        ("amount", "1 250,00".into()),
        ("hours", "120".into()),
    ])
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        kept(&app, trainee).unwrap(),
        (
            "accorde".into(),
            "EP-2026-0042".into(),
            Some(125_000),
            Some(7200)
        )
    );
    let text = chef.get_text(&app, &page).await;
    assert!(
        text.contains("1\u{a0}250,00\u{a0}€") && text.contains("120 h"),
        "{text}"
    );
    let list = chef
        .get_text(&app, &format!("/organismes/{org}/financements"))
        .await;
    assert!(list.contains("Aucun dossier n'attend"), "{list}");

    // Back to "sent": only with a reason, which the history keeps.
    let res = post(vec![("status", "envoye".into()), sent()]).await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("motif de ce retour en arrière")
    );
    assert_eq!(kept(&app, trainee).unwrap().0, "accorde");
    let res = post(vec![
        ("status", "envoye".into()),
        sent(),
        (
            "back_reason",
            "Accord saisi sur la mauvaise stagiaire".into(),
        ),
    ])
    .await;
    assert_eq!(res.status(), 303);
    let text = chef.get_text(&app, &page).await;
    assert!(
        text.contains("Accord saisi sur la mauvaise stagiaire"),
        "{text}"
    );

    // Refused: only with the funder's reason.
    let res = post(vec![("status", "refuse".into()), sent(), decided.clone()]).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("motif du refus"));

    let events: i64 = funding_events::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(events, 4, "à envoyer, envoyé, accordé, envoyé");
    assert_eq!(
        audited(&app, trainee),
        [
            "funding_file_opened",
            "funding_file_changed",
            "funding_file_changed",
            "funding_file_changed"
        ]
    );
}

#[tokio::test]
async fn only_the_trainees_organism_sees_or_changes_her_funding_file() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let other = app.create_organism("Organisme B");
    let (trainee_client, trainee) = app.trainee_in(org, "CQP-AM", "alice@a.fr").await;
    let (stranger, _) = signed_in(&app, Role::OrganismAdmin, Some(other), "chef@b.fr").await;
    let (admin, _) = signed_in(&app, Role::Admin, None, "admin@plateforme.fr").await;
    let page = format!("/stagiaires/{trainee}/financement");
    let res = stranger.get(app.url(&page)).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let res = stranger
        .post_form_from(&app, "/mon-compte", &page, &fields(&[]))
        .await;
    assert_eq!(res.status(), 404);
    let res = stranger
        .get(app.url(&format!("/organismes/{org}/financements")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = trainee_client.get(app.url(&page)).send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert!(kept(&app, trainee).is_none());
    // The platform admin may.
    let res = admin.post_form_from(&app, &page, &page, &fields(&[])).await;
    assert_eq!(res.status(), 303);
    assert!(kept(&app, trainee).is_some());
    let res = admin
        .get(app.url(&format!("/organismes/{org}/financements")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn the_certificate_names_the_funding_file_and_old_certificates_still_verify() {
    use parcours::attestation::rules::Statement;
    use parcours::db::schema::attestations;
    let app = spawn_app().await;
    let s = crate::attestation::setup(&app, "financement").await;
    // A first certificate before any file: no reference, as before.
    let form = [
        ("kind", "realisation"),
        ("from", "01/09/2026"),
        ("to", "30/09/2026"),
    ];
    let res = crate::attestation::post_issue(&app, &s.admin, s.trainee, &form).await;
    assert_eq!(res.status(), 303);
    let page = format!("/stagiaires/{}/financement", s.trainee);
    let res = s
        .admin
        .post_form_from(&app, &page, &page, &fields(&[]))
        .await;
    assert_eq!(res.status(), 303);
    let form = [
        ("kind", "realisation"),
        ("from", "01/10/2026"),
        ("to", "31/10/2026"),
    ];
    let res = crate::attestation::post_issue(&app, &s.admin, s.trainee, &form).await;
    assert_eq!(res.status(), 303);
    let rows: Vec<(String, String)> = attestations::table
        .filter(attestations::trainee_id.eq(s.trainee))
        .order(attestations::id.asc())
        .select((attestations::code, attestations::payload))
        .load(&mut *app.conn())
        .unwrap();
    let [(old_code, old), (new_code, new)] = &rows[..] else {
        panic!("two certificates: {rows:?}");
    };
    assert!(!old.contains("funding_ref"), "{old}");
    let old_st: Statement = serde_json::from_str(old).unwrap();
    assert_eq!(
        &old_st.canonical(),
        old,
        "an old statement re-serialises as signed"
    );
    let new_st: Statement = serde_json::from_str(new).unwrap();
    assert_eq!(
        new_st.funding_ref.as_deref(),
        Some("OPCO EP n° EP-2026-0042")
    );
    // The funders' export names the file too, on every line of the trainee.
    let query = "du=2026-09-01&au=2026-10-31";
    let csv = s
        .admin
        .get(app.url(&format!("/organismes/{}/financeurs.csv?{query}", s.org)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].ends_with("Dossier de financement"), "{csv}");
    assert!(
        lines.len() > 1
            && lines[1..]
                .iter()
                .all(|l| l.ends_with("OPCO EP n° EP-2026-0042")),
        "{csv}"
    );
    let html = s
        .admin
        .get(app.url(&format!("/organismes/{}/financeurs?{query}", s.org)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("OPCO EP n° EP-2026-0042"), "{html}");
    for code in [old_code, new_code] {
        let res = client()
            .get(app.url(&format!("/verifier/{code}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body = res.text().await.unwrap();
        assert!(!body.contains("ne peut pas être authentifié"), "{body}");
        let named = body.contains("OPCO EP n° EP-2026-0042");
        assert_eq!(named, code == new_code, "only the new one names the file");
    }
}
