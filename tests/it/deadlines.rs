//! The certification deadline: ProA suspension windows (page and API) and the flag raised
//! when a trainee's cohort ends after her deadline (import, transfer, file, follow-up).

use chrono::{Duration, Months, NaiveDate};
use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::base::format;
use parcours::db::schema::{audit_events, enrolments, proa_suspensions, users};

use crate::cohorts::cohort_between;
use crate::common::*;

const HEADER: &str =
    "Nom;Prénom;E-mail;Profil;Date d'embauche;Médecin;E-mail du médecin;Financement\r\n";

fn id_of(app: &TestApp, email: &str) -> i64 {
    users::table
        .filter(users::email.eq(email))
        .select(users::id)
        .first(&mut *app.conn())
        .unwrap()
}

fn actions(app: &TestApp, trainee: i64, like: &str) -> Vec<String> {
    audit_events::table
        .filter(audit_events::subject_type.eq("trainee"))
        .filter(audit_events::subject_id.eq(trainee))
        .filter(audit_events::action.like(like))
        .order(audit_events::id.asc())
        .select(audit_events::action)
        .load(&mut *app.conn())
        .unwrap()
}

fn windows(app: &TestApp, trainee: i64) -> Vec<(NaiveDate, Option<NaiveDate>, String)> {
    proa_suspensions::table
        .filter(proa_suspensions::trainee_id.eq(trainee))
        .order((
            proa_suspensions::starts_on.asc(),
            proa_suspensions::id.asc(),
        ))
        .select((
            proa_suspensions::starts_on,
            proa_suspensions::ends_on,
            proa_suspensions::reason,
        ))
        .load(&mut *app.conn())
        .unwrap()
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

#[tokio::test]
async fn proa_suspension_windows_are_kept_refused_outside_proa_and_audited() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let cohort = app.create_cohort(org, "CQP-AM");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    let text = format!(
        "{HEADER}Alice;Anne;alice@a.fr;aucun;01/02/2025;Dr A;a@med.fr;ProA\r\n\
         Bruno;Paul;bruno@a.fr;aucun;01/02/2025;Dr A;a@med.fr;Contrat de professionnalisation\r\n\
         Chloé;Zoé;chloe@a.fr;aucun;21/06/2024;Dr A;a@med.fr;ProA\r\n"
    );
    let res = upload_import(&app, &chef, cohort, text.into_bytes()).await;
    assert_eq!(res.status(), 200);
    let (alice, bruno, chloe) = (
        id_of(&app, "alice@a.fr"),
        id_of(&app, "bruno@a.fr"),
        id_of(&app, "chloe@a.fr"),
    );
    let add = |who: i64, from: &str, to: &str, reason: &str| {
        let (app, chef) = (&app, &chef);
        let (from, to, reason) = (from.to_string(), to.to_string(), reason.to_string());
        async move {
            chef.post_form_from(
                app,
                &format!("/stagiaires/{who}"),
                &format!("/stagiaires/{who}/proa"),
                &[("from", from), ("to", to), ("reason", reason)],
            )
            .await
        }
    };
    // Refused, with the reason, and nothing recorded.
    for (who, from, to, reason, says) in [
        (
            bruno,
            "2025-03-01",
            "",
            "OPCO",
            "Seul un stagiaire financé par ProA",
        ),
        (chloe, "2025-03-01", "", "OPCO", "3 ans"),
        (
            alice,
            "2025-01-31",
            "",
            "OPCO",
            "avant l&#x27;embauche, le 01/02/2025",
        ),
        (alice, "2025-03-01", "", " ", "Indiquez le motif"),
        (
            alice,
            "2025-03-01",
            "2025-03-01",
            "OPCO",
            "doit être après son début",
        ),
        (alice, "jamais", "", "OPCO", "n&#x27;est pas une date"),
    ] {
        let res = add(who, from, to, reason).await;
        assert_eq!(res.status(), 422, "{says}");
        let html = res.text().await.unwrap();
        assert!(html.contains(says), "{says}: {html}");
        assert!(windows(&app, who).is_empty());
    }
    let page = chef.get_text(&app, &format!("/stagiaires/{bruno}")).await;
    assert!(page.contains("ne peut pas être suspendu"), "{page}");
    assert!(actions(&app, bruno, "proa%").is_empty());

    // Two overlapping windows are both kept and counted once: 01/03 → 10/04, 40 days.
    let res = add(
        alice,
        "2025-03-01",
        "2025-03-31",
        "Prise en charge en attente",
    )
    .await;
    assert_eq!(res.status(), 303);
    let res = add(alice, "15/03/2025", "10/04/2025", "Relance de l'OPCO").await;
    assert_eq!(res.status(), 303);
    let page = chef.get_text(&app, &format!("/stagiaires/{alice}")).await;
    assert!(page.contains("13/03/2027"), "01/02/2027 + 40 days: {page}");
    assert!(page.contains("Relance de l&#x27;OPCO") && page.contains("Prise en charge en attente"));
    // An open window; a second open one is refused until the first ends.
    assert_eq!(add(alice, "2025-06-01", "", "OPCO").await.status(), 303);
    let res = add(alice, "2025-07-01", "", "OPCO").await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("déjà en cours depuis le 01/06/2025")
    );
    let open: i64 = proa_suspensions::table
        .filter(proa_suspensions::trainee_id.eq(alice))
        .filter(proa_suspensions::ends_on.is_null())
        .select(proa_suspensions::id)
        .first(&mut *app.conn())
        .unwrap();
    let end = |to: &str| {
        let (app, chef, to) = (&app, &chef, to.to_string());
        async move {
            chef.post_form_from(
                app,
                &format!("/stagiaires/{alice}"),
                &format!("/stagiaires/{alice}/proa/{open}/fin"),
                &[("to", to)],
            )
            .await
        }
    };
    assert_eq!(end("2025-06-01").await.status(), 422, "not after its start");
    assert_eq!(end("2025-06-11").await.status(), 303);
    let res = end("2025-06-20").await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("déjà terminée"));
    let page = chef.get_text(&app, &format!("/stagiaires/{alice}")).await;
    assert!(page.contains("23/03/2027"), "50 days: {page}");
    assert_eq!(
        windows(&app, alice)
            .iter()
            .map(|w| (w.0, w.1))
            .collect::<Vec<_>>(),
        [
            (d(2025, 3, 1), Some(d(2025, 3, 31))),
            (d(2025, 3, 15), Some(d(2025, 4, 10))),
            (d(2025, 6, 1), Some(d(2025, 6, 11))),
        ]
    );
    assert_eq!(
        actions(&app, alice, "proa%"),
        [
            "proa_suspension_added",
            "proa_suspension_added",
            "proa_suspension_added",
            "proa_suspension_ended"
        ]
    );

    // The API: the same refusals as JSON, a new window, its end.
    let bearer = api_token(&app, "chef@a.fr").await;
    let post = |path: String, body: serde_json::Value| {
        client()
            .post(app.url(&path))
            .bearer_auth(&bearer)
            .json(&body)
            .send()
    };
    let res = post(
        format!("/api/v1/trainees/{bruno}/proa-suspensions"),
        serde_json::json!({"from": "2025-03-01", "reason": "OPCO"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 422);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(
        body["error"]["message"].as_str().unwrap().contains("ProA"),
        "{body}"
    );
    assert!(windows(&app, bruno).is_empty());
    let res = post(
        format!("/api/v1/trainees/{alice}/proa-suspensions"),
        serde_json::json!({"from": "01/09/2025", "reason": "OPCO"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 201);
    let body: serde_json::Value = res.json().await.unwrap();
    let window = body["suspension_id"].as_i64().unwrap();
    assert_eq!(body["suspensions"].as_array().unwrap().len(), 4, "{body}");
    let res = post(
        format!("/api/v1/trainees/{alice}/proa-suspensions/{window}/end"),
        serde_json::json!({"to": "2025-09-11"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["deadline"], "2027-04-02", "60 days: {body}");
    let res = post(
        format!("/api/v1/trainees/{alice}/proa-suspensions/{window}/end"),
        serde_json::json!({"to": "2025-09-20"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 422);
    // Another trainee's window, or none: as unknown.
    let res = post(
        format!("/api/v1/trainees/{bruno}/proa-suspensions/{window}/end"),
        serde_json::json!({"to": "2025-09-20"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(actions(&app, alice, "proa%").len(), 6);
}

/// A cohort beginning today (no late entry) and the hire dates around its edge: hired on
/// `inside`, the deadline is the cohort's last day; a day earlier, it falls before it.
struct Edge {
    end: NaiveDate,
    inside: NaiveDate,
    outside: NaiveDate,
}

fn edge() -> Edge {
    let today = parcours::base::paris::today();
    let inside = today - Months::new(13);
    let end = inside + Months::new(24);
    Edge {
        end,
        inside,
        outside: inside - Duration::days(1),
    }
}

fn line(name: &str, email: &str, hire: NaiveDate) -> String {
    format!(
        "{name};Léa;{email};aucun;{};Dr A;a@med.fr;Contrat de professionnalisation\r\n",
        format::date(hire)
    )
}

#[tokio::test]
async fn an_enrolment_past_the_deadline_waits_for_staff_and_is_flagged() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    let today = parcours::base::paris::today();
    let e = edge();
    let cohort = cohort_between(&app, org, today, e.end);
    let enrolled = |c: i64| -> i64 {
        enrolments::table
            .filter(enrolments::cohort_id.eq(c))
            .count()
            .get_result(&mut *app.conn())
            .unwrap()
    };
    let send = |c: i64, text: String, confirm: bool| {
        let (app, chef) = (&app, chef.clone());
        async move {
            chef.post_multipart(app, &format!("/promotions/{c}/import"), |form| {
                let form = form.part(
                    "file",
                    reqwest::multipart::Part::bytes(text.into_bytes()).file_name("s.csv"),
                );
                if confirm {
                    form.text("confirm", "1")
                } else {
                    form
                }
            })
            .await
        }
    };
    // At the edge (deadline on the cohort's last day): no confirmation needed.
    let res = send(
        cohort,
        format!("{HEADER}{}", line("Dans", "dans@a.fr", e.inside)),
        false,
    )
    .await;
    assert_eq!(res.status(), 303);
    // A day earlier: refused until confirmed, with both dates; nothing written.
    let outside = format!("{HEADER}{}", line("Hors", "hors@a.fr", e.outside));
    let res = send(cohort, outside.clone(), false).await;
    assert_eq!(res.status(), 409);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Échéance dépassée avant la fin de la promotion")
            && html.contains(&format::date(e.end))
            && html.contains(&format::date(e.outside + Months::new(24)))
            && html.contains("ligne 2 (")
            && html.contains("Hors")
            && html.contains("Je confirme les inscriptions signalées"),
        "{html}"
    );
    assert_eq!(enrolled(cohort), 1);
    assert_eq!(send(cohort, outside, true).await.status(), 303);
    assert_eq!(enrolled(cohort), 2);
    let (dans, hors) = (id_of(&app, "dans@a.fr"), id_of(&app, "hors@a.fr"));
    assert_eq!(
        actions(&app, hors, "deadline%"),
        ["deadline_flag_confirmed"]
    );
    assert!(actions(&app, dans, "deadline%").is_empty());

    // The file, the cohort's page and its follow-up show the flag, with both dates.
    let file = chef.get_text(&app, &format!("/stagiaires/{hors}")).await;
    assert!(
        file.contains(
            "Échéance dépassée avant la fin de la promotion : la promotion se termine le"
        ) && file.contains(&format::date(e.end)),
        "{file}"
    );
    let file = chef.get_text(&app, &format!("/stagiaires/{dans}")).await;
    assert!(!file.contains("Échéance dépassée avant la fin"), "{file}");
    for page in [
        format!("/promotions/{cohort}"),
        format!("/promotions/{cohort}/suivi"),
    ] {
        let html = chef.get_text(&app, &page).await;
        assert_eq!(
            html.matches("échéance dépassée avant la fin de la promotion")
                .count(),
            1,
            "{page}: {html}"
        );
    }

    // The API: 409 with its code, then `?confirm=true`; the trainee carries the flag.
    let bearer = api_token(&app, "chef@a.fr").await;
    let api_import = |confirm: &'static str| {
        client()
            .post(app.url(&format!("/api/v1/cohorts/{cohort}/import{confirm}")))
            .bearer_auth(&bearer)
            .header("content-type", "text/csv")
            .body(format!("{HEADER}{}", line("Api", "api@a.fr", e.outside)))
            .send()
    };
    let res = api_import("").await.unwrap();
    assert_eq!(res.status(), 409);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "confirmation_required", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Échéance dépassée avant la fin de la promotion"),
        "{body}"
    );
    assert_eq!(enrolled(cohort), 2);
    let res = api_import("?confirm=true").await.unwrap();
    assert_eq!(res.status(), 200);
    let summary: serde_json::Value = res.json().await.unwrap();
    assert!(
        summary["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("Échéance dépassée")),
        "{summary}"
    );
    let api = id_of(&app, "api@a.fr");
    let body: serde_json::Value = client()
        .get(app.url(&format!("/api/v1/trainees/{api}")))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["deadline_flags"][0]["kind"], "cohort_end", "{body}");
    assert_eq!(body["deadline_flags"][0]["on"], e.end.to_string(), "{body}");
}

#[tokio::test]
async fn a_transfer_into_a_cohort_ending_past_the_deadline_waits_for_staff() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (chef, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@a.fr").await;
    let today = parcours::base::paris::today();
    let e = edge();
    let first = cohort_between(&app, org, today, e.end);
    // Begins today too (no late entry), a day longer: past the deadline of one hired on `inside`.
    let longer = cohort_between(&app, org, today, e.end + Duration::days(1));
    let text = format!(
        "{HEADER}{}{}",
        line("Page", "page@a.fr", e.inside),
        line("Api", "api@a.fr", e.inside)
    );
    assert_eq!(
        upload_import(&app, &chef, first, text.into_bytes())
            .await
            .status(),
        200
    );
    let (page, api) = (id_of(&app, "page@a.fr"), id_of(&app, "api@a.fr"));
    let active = |t: i64| -> i64 {
        enrolments::table
            .filter(enrolments::trainee_id.eq(t))
            .filter(enrolments::ended_on.is_null())
            .select(enrolments::cohort_id)
            .first(&mut *app.conn())
            .unwrap()
    };
    let transfer = |confirm: bool| {
        let (app, chef) = (&app, &chef);
        let mut form = vec![("cohort_id", longer.to_string())];
        if confirm {
            form.push(("confirm", "1".into()));
        }
        async move {
            chef.post_form_from(
                app,
                &format!("/stagiaires/{page}"),
                &format!("/stagiaires/{page}/transfert"),
                &form,
            )
            .await
        }
    };
    let res = transfer(false).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Échéance dépassée avant la fin de la promotion")
            && html.contains(&format::date(e.end + Duration::days(1)))
            && !html.contains("durée minimale du programme (10 mois"),
        "{html}"
    );
    assert_eq!(active(page), first, "nothing changed");
    assert!(actions(&app, page, "deadline%").is_empty());
    assert_eq!(transfer(true).await.status(), 303);
    assert_eq!(active(page), longer);
    assert_eq!(
        actions(&app, page, "deadline%"),
        ["deadline_flag_confirmed"]
    );

    let bearer = api_token(&app, "chef@a.fr").await;
    let send = |confirm: bool| {
        client()
            .post(app.url(&format!("/api/v1/trainees/{api}/transfer")))
            .bearer_auth(&bearer)
            .json(&serde_json::json!({"cohort_id": longer, "confirm": confirm}))
            .send()
    };
    let res = send(false).await.unwrap();
    assert_eq!(res.status(), 409);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "confirmation_required", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Échéance dépassée avant la fin de la promotion"),
        "{body}"
    );
    assert_eq!(active(api), first);
    assert_eq!(send(true).await.unwrap().status(), 200);
    assert_eq!(active(api), longer);
    assert_eq!(actions(&app, api, "deadline%"), ["deadline_flag_confirmed"]);
}
