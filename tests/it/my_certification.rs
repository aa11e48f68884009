//! The trainee reads her own certification record (#20 item 2): `/ma-certification`, the
//! JSON `GET /api/v1/me/certification` and her programme page follow her from a first session
//! (one bloc not acquired) to a second one for that bloc alone, then the CQP; an FAE trainee
//! is told she has no certification; nobody else reads a trainee's record through these
//! routes, and a trainee reads only hers.

use chrono::{Duration, NaiveDate};
use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::base::format;
use parcours::db::DbConn;
use parcours::db::schema::vae_requests;
use serde_json::{Value, json};

use crate::certification::complete;
use crate::common::*;
use crate::vae::{form_path, request_form};

const PAGE: &str = "/ma-certification";
const API: &str = "/api/v1/me/certification";
const PROGRAMME: &str = "/programmes/CQP-AM";

/// Creates a session of the CQP's four blocs on `day` through the staff's page; its id.
async fn session_on(app: &TestApp, admin: &reqwest::Client, org: i64, day: NaiveDate) -> i64 {
    let held_on = day.format("%Y-%m-%d").to_string();
    let mut fields = vec![
        ("held_on", held_on.as_str()),
        ("place", "Lyon, CCI"),
        ("jury", "Jury paritaire de branche"),
    ];
    fields.extend(["M1", "M2", "M3", "M4"].map(|b| ("blocs", b)));
    let r = admin
        .post_form(app, &format!("/organismes/{org}/certification"), &fields)
        .await;
    assert_eq!(r.status(), 303, "session created");
    r.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/certification/")
        .parse()
        .unwrap()
}

async fn register(app: &TestApp, admin: &reqwest::Client, session: i64, trainee: i64) {
    let id = trainee.to_string();
    let r = admin
        .post_form(
            app,
            &format!("/certification/{session}/candidats"),
            &[("trainee_id", id.as_str()), ("derogation", "")],
        )
        .await;
    assert_eq!(r.status(), 303, "registered");
}

async fn results(
    app: &TestApp,
    admin: &reqwest::Client,
    session: i64,
    trainee: i64,
    fields: &[(&str, &str)],
) {
    let r = admin
        .post_form(
            app,
            &format!("/certification/{session}/candidats/{trainee}/resultats"),
            fields,
        )
        .await;
    assert_eq!(r.status(), 303, "results recorded");
}

/// The status and JSON of the API's "me" record, asked with the browser's cookie.
async fn api(app: &TestApp, client: &reqwest::Client) -> (u16, Value) {
    let r = client
        .get(app.url(API))
        .header(
            "x-csrf-token",
            csrf_from(client, &app.url(TOKEN_PAGE)).await,
        )
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Her record read on the API, which must answer 200.
async fn record(app: &TestApp, client: &reqwest::Client) -> Value {
    let (status, body) = api(app, client).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn bloc<'a>(record: &'a Value, code: &str) -> &'a Value {
    record["blocs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["code"] == code)
        .unwrap_or_else(|| panic!("no bloc {code} in {record}"))
}

fn iso(day: NaiveDate) -> Value {
    json!(day.format("%Y-%m-%d").to_string())
}

/// What her page says of the session of `day`: its place, her blocs and results there.
fn session_row(page: &str, day: NaiveDate) -> &str {
    let start = page
        .find(&format!("<h3>Session du {}</h3>", format::date(day)))
        .unwrap_or_else(|| panic!("no session of {day} in {page}"));
    let end = page[start..].find("</ul>").unwrap() + start;
    &page[start..end]
}

/// Camille's story, and Zoé's at the same sessions.
struct Story<'a> {
    app: &'a TestApp,
    admin: reqwest::Client,
    org: i64,
    camille_c: reqwest::Client,
    camille: i64,
    zoe_c: reqwest::Client,
    zoe: i64,
    /// The first session's day (past) and the second's (today).
    first: NaiveDate,
    second: NaiveDate,
}

impl Story<'_> {
    fn days(&self) -> (String, String) {
        (format::date(self.first), format::date(self.second))
    }
}

#[tokio::test]
async fn my_certification_follows_a_failed_bloc_to_its_second_session_and_the_cqp() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (admin, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "dir@a.fr").await;
    let (camille_c, camille) = app.trainee_in(org, "CQP-AM", "camille@a.fr").await;
    let (zoe_c, zoe) = app.trainee_in(org, "CQP-AM", "zoe@a.fr").await;
    complete(&app, org, camille, &["M1", "M2", "M3", "M4"]);
    complete(&app, org, zoe, &["M1", "M2", "M3", "M4"]);
    let today = parcours::base::paris::today();
    let st = Story {
        app: &app,
        admin,
        org,
        camille_c,
        camille,
        zoe_c,
        zoe,
        first: today - Duration::days(14),
        // Results wait for the session's day: the second is held today, still "à venir".
        second: today,
    };
    before_any_session(&st).await;
    first_session(&st).await;
    let s2 = second_session(&st).await;
    acquired_then_cqp(&st, s2).await;
}

/// Before any session: four blocs to pass, no session read, no CQP.
async fn before_any_session(st: &Story<'_>) {
    let page = st.camille_c.get_text(st.app, PAGE).await;
    assert!(page.contains("<h1>Ma certification</h1>"), "{page}");
    assert_eq!(page.matches("À passer").count(), 4, "{page}");
    assert!(page.contains("Blocs à passer : M1, M2, M3, M4."), "{page}");
    assert!(page.contains("Aucune inscription à une session de certification pour l'instant."));
    assert!(page.contains("Votre CQP n'est pas encore enregistré."));
    let r = record(st.app, &st.camille_c).await;
    assert_eq!(r["program_kind"], "cqp");
    assert_eq!(r["sessions"], json!([]));
    assert_eq!(r["cqp"], Value::Null);
    assert_eq!(bloc(&r, "M4")["state"], "to_pass");
    let path = st.camille_c.get_text(st.app, PROGRAMME).await;
    assert!(path.contains(r#"<a href="/ma-certification">"#), "{path}");
    assert!(!path.contains("Bloc acquis") && !path.contains("Bloc à repasser"));
}

/// Registered at a first session with Zoé; M4 not acquired there.
async fn first_session(st: &Story<'_>) {
    let (d1, _) = st.days();
    let s1 = session_on(st.app, &st.admin, st.org, st.first).await;
    register(st.app, &st.admin, s1, st.camille).await;
    register(st.app, &st.admin, s1, st.zoe).await;
    let page = st.camille_c.get_text(st.app, PAGE).await;
    let row = session_row(&page, st.first);
    assert!(row.contains("Lieu : Lyon, CCI"), "{row}");
    assert_eq!(
        row.matches("résultat pas encore enregistré").count(),
        4,
        "{row}"
    );
    assert!(page.contains(&format!("Inscription à la session du {d1}")));
    assert!(!page.contains("zoe@a.fr"));
    let r = record(st.app, &st.camille_c).await;
    assert_eq!(r["sessions"][0]["held_on"], iso(st.first));
    assert_eq!(bloc(&r, "M4")["registered_on"], iso(st.first));

    // Results: M4 not acquired for Camille; M1 absent for Zoé.
    let acquired = [
        ("bloc_M1", "acquired"),
        ("bloc_M2", "acquired"),
        ("bloc_M3", "acquired"),
        ("bloc_M4", "not_acquired"),
    ];
    results(st.app, &st.admin, s1, st.camille, &acquired).await;
    results(st.app, &st.admin, s1, st.zoe, &[("bloc_M1", "absent")]).await;
    let page = st.camille_c.get_text(st.app, PAGE).await;
    assert_eq!(
        page.matches(&format!("Acquis</strong> à la session du {d1}"))
            .count(),
        3,
        "{page}"
    );
    assert!(page.contains(&format!(
        "Non acquis</strong> à la session du {d1} : à repasser"
    )));
    assert!(page.contains("Blocs à passer : M4."), "{page}");
    assert!(
        !page.contains("Absence"),
        "Zoé's result is not Camille's: {page}"
    );
    let r = record(st.app, &st.camille_c).await;
    let m4 = bloc(&r, "M4");
    assert_eq!(
        (&m4["state"], &m4["source"], &m4["on"], &m4["registered_on"]),
        (
            &json!("not_acquired"),
            &json!("session"),
            &iso(st.first),
            &Value::Null
        )
    );
    assert_eq!(bloc(&r, "M1")["state"], "acquired");
    assert_eq!(r["remaining"], json!(["M4"]));
    let path = st.camille_c.get_text(st.app, PROGRAMME).await;
    assert_eq!(
        path.matches(&format!("Bloc acquis</strong> à la session du {d1}"))
            .count(),
        3,
        "{path}"
    );
    assert!(path.contains(&format!(
        "Bloc à repasser</strong> : non acquis à la session du {d1}"
    )));
}

/// A second session: registered again, for M4 alone. Returns the session.
async fn second_session(st: &Story<'_>) -> i64 {
    let (_, d2) = st.days();
    let s2 = session_on(st.app, &st.admin, st.org, st.second).await;
    register(st.app, &st.admin, s2, st.camille).await;
    let page = st.camille_c.get_text(st.app, PAGE).await;
    let row = session_row(&page, st.second);
    assert!(row.contains("<li>M4") && row.contains("à venir"), "{row}");
    assert!(!row.contains("<li>M1") && !row.contains("<li>M2"), "{row}");
    assert!(page.contains(&format!("Inscription à la session du {d2}")));
    let r = record(st.app, &st.camille_c).await;
    assert_eq!(r["sessions"].as_array().map(Vec::len), Some(2));
    assert_eq!(r["sessions"][1]["held_on"], iso(st.second));
    assert_eq!(
        r["sessions"][1]["blocs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| (b["code"].clone(), b["result"].clone()))
            .collect::<Vec<_>>(),
        [(json!("M4"), Value::Null)]
    );
    assert_eq!(r["sessions"][0]["blocs"][3]["result"], "not_acquired");
    assert_eq!(bloc(&r, "M4")["registered_on"], iso(st.second));
    assert_eq!(bloc(&r, "M1")["registered_on"], Value::Null);
    s2
}

/// M4 acquired at the second session, then the CQP; Zoé reads only her own record.
async fn acquired_then_cqp(st: &Story<'_>, s2: i64) {
    let (d1, d2) = st.days();
    let today = parcours::base::paris::today();
    results(
        st.app,
        &st.admin,
        s2,
        st.camille,
        &[("bloc_M4", "acquired")],
    )
    .await;
    let page = st.camille_c.get_text(st.app, PAGE).await;
    assert!(page.contains(&format!("Acquis</strong> à la session du {d2}")));
    assert!(page.contains("Tous les blocs sont acquis."), "{page}");
    let path = st.camille_c.get_text(st.app, PROGRAMME).await;
    assert!(path.contains(&format!("Bloc acquis</strong> à la session du {d2}")));
    assert!(!path.contains("Bloc à repasser"), "{path}");
    let obtained = today.format("%Y-%m-%d").to_string();
    let r = st
        .admin
        .post_form(
            st.app,
            &format!("/stagiaires/{}/certification", st.camille),
            &[
                ("obtained_on", obtained.as_str()),
                ("certificate_number", "CQP-2026-17"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let page = st.camille_c.get_text(st.app, PAGE).await;
    assert!(
        page.contains(&format!(
            "CQP obtenu</strong> le {}, certificat n° <span class=\"nowrap\">CQP-2026-17</span>",
            format::date(today)
        )),
        "{page}"
    );
    assert!(
        page.contains("n'a pas encore déposé le certificat"),
        "{page}"
    );
    let r = record(st.app, &st.camille_c).await;
    assert_eq!(
        r["cqp"],
        json!({"obtained_on": obtained, "certificate_number": "CQP-2026-17", "certificate": false})
    );
    assert_eq!(r["remaining"], json!([]));

    // Zoé reads her own record: her absence, her one session, not Camille's CQP.
    let page = st.zoe_c.get_text(st.app, PAGE).await;
    assert!(page.contains(&format!(
        "Absence</strong> à la session du {d1} : à repasser"
    )));
    assert!(
        !page.contains("CQP-2026-17") && !page.contains(&format!("Session du {d2}")),
        "{page}"
    );
    let r = record(st.app, &st.zoe_c).await;
    assert_eq!(r["cqp"], Value::Null);
    assert_eq!(r["sessions"].as_array().map(Vec::len), Some(1));
    assert_eq!(bloc(&r, "M1")["state"], "absent");
    assert_eq!(bloc(&r, "M4")["state"], "to_pass");
}

#[tokio::test]
async fn my_certification_an_fae_trainee_is_told_the_fae_ends_with_the_attestation() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (fae_c, _) = app.trainee_in(org, "FAE-AM", "ide@a.fr").await;
    let (cqp_c, _) = app.trainee_in(org, "CQP-AM", "camille@a.fr").await;
    let page = fae_c.get_text(&app, PAGE).await;
    assert!(
        page.contains("ne comporte pas de certification")
            && page.contains("attestation de fin de formation"),
        "{page}"
    );
    assert!(!page.contains("Mes blocs") && !page.contains("Mes sessions"));
    let r = record(&app, &fae_c).await;
    assert_eq!(r["program_kind"], "fae");
    assert_eq!(
        (&r["blocs"], &r["remaining"], &r["sessions"], &r["cqp"]),
        (&json!([]), &json!([]), &json!([]), &Value::Null)
    );
    // The link is on a CQP trainee's home and programme page only.
    let home = fae_c.get_text(&app, "/").await;
    assert!(!home.contains("/ma-certification"), "{home}");
    let path = fae_c.get_text(&app, "/programmes/FAE-AM").await;
    assert!(!path.contains("/ma-certification"), "{path}");
    let home = cqp_c.get_text(&app, "/").await;
    assert!(home.contains(r#"href="/ma-certification""#), "{home}");
}

#[tokio::test]
async fn my_certification_nobody_else_reads_it_through_the_me_routes() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let other = app.create_organism("Organisme B");
    let (admin, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "dir@a.fr").await;
    let (trainer, _) = signed_in(&app, Role::Trainer, Some(org), "form@a.fr").await;
    let (intruder, _) = signed_in(&app, Role::OrganismAdmin, Some(other), "dir@b.fr").await;
    let (platform, _) = signed_in(&app, Role::Admin, None, "admin@parcours.fr").await;
    let (doctor, doctor_id) = signed_in(&app, Role::Doctor, None, "dr@cabinet.fr").await;
    let (lea_c, lea) = app.trainee_in(org, "CQP-AM", "lea@a.fr").await;
    let (max_c, _) = app.trainee_in(other, "CQP-AM", "max@b.fr").await;
    app.employ(lea, doctor_id, "Dr Martin");
    complete(&app, org, lea, &["M1", "M2", "M3", "M4"]);
    let day = parcours::base::paris::today() + Duration::days(10);
    let s = session_on(&app, &admin, org, day).await;
    register(&app, &admin, s, lea).await;

    // Staff, her doctor and another organism: refused, nothing of hers in the answer.
    for (who, c) in [
        ("admin", &admin),
        ("trainer", &trainer),
        ("other organism", &intruder),
        ("platform", &platform),
        ("doctor", &doctor),
    ] {
        let r = c.get(app.url(PAGE)).send().await.unwrap();
        assert_eq!(r.status(), 403, "{who}");
        let body = r.text().await.unwrap();
        assert!(!body.contains(&format::date(day)), "{who}: {body}");
        let (status, body) = api(&app, c).await;
        assert_eq!(status, 403, "{who}: {body}");
        assert!(body.get("blocs").is_none(), "{who}: {body}");
    }
    // Not even with an id in the query, nor with an integration token of her organism.
    let r = admin
        .get(app.url(&format!("{API}?trainee_id={lea}")))
        .header(
            "x-csrf-token",
            csrf_from(&admin, &app.url(TOKEN_PAGE)).await,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let token = api_token(&app, "dir@a.fr").await;
    let r = client()
        .get(app.url(API))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Signed out: sign in first.
    let r = client().get(app.url(PAGE)).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let r = client().get(app.url(API)).send().await.unwrap();
    assert_eq!(r.status(), 401);

    // Another organism's trainee reads her own record only: no session, Léa's unseen.
    let page = max_c.get_text(&app, PAGE).await;
    assert!(page.contains("Aucune inscription à une session"), "{page}");
    assert!(!page.contains(&format::date(day)), "{page}");
    let r = record(&app, &max_c).await;
    assert_eq!(r["sessions"], json!([]));
    assert_eq!(bloc(&r, "M1")["registered_on"], Value::Null);
    // Léa herself reads her registration.
    let r = record(&app, &lea_c).await;
    assert_eq!(r["sessions"][0]["held_on"], iso(day));
    assert_eq!(bloc(&r, "M1")["registered_on"], iso(day));
}

#[tokio::test]
async fn my_certification_shows_the_blocs_a_vae_decision_granted() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (staff, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "dir@a.fr").await;
    let (camille_c, camille) = app.trainee_in(org, "CQP-AM", "camille@a.fr").await;
    let r = camille_c
        .post_multipart(&app, &form_path(org), |form| {
            request_form(form, None, "2000")
        })
        .await;
    assert_eq!(r.status(), 303);
    let mut conn = app.conn();
    let id: i64 = vae_requests::table
        .filter(vae_requests::candidate_id.eq(camille))
        .select(vae_requests::id)
        .first(&mut *conn as &mut DbConn)
        .unwrap();
    // Straight to a jury that has met (the steps before are `vae.rs`'s).
    diesel::update(vae_requests::table.find(id))
        .set((
            vae_requests::state.eq("jury_planifie"),
            vae_requests::jury_at.eq(chrono::Utc::now().naive_utc() - Duration::hours(1)),
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
    let today = parcours::base::paris::today();
    let decided = format!("par VAE, décision du {}", format::date(today));
    let page = camille_c.get_text(&app, PAGE).await;
    assert_eq!(
        page.matches(&format!("Acquis</strong> {decided}")).count(),
        2,
        "{page}"
    );
    assert!(page.contains("Blocs à passer : M1, M4."), "{page}");
    let r = record(&app, &camille_c).await;
    let m2 = bloc(&r, "M2");
    assert_eq!(
        (
            &m2["state"],
            &m2["source"],
            &m2["on"],
            &m2["vae_request_id"]
        ),
        (&json!("acquired"), &json!("vae"), &iso(today), &json!(id))
    );
    assert_eq!(bloc(&r, "M1")["state"], "to_pass");
    let path = camille_c.get_text(&app, PROGRAMME).await;
    assert_eq!(
        path.matches(&format!("Bloc acquis</strong> {decided}"))
            .count(),
        2,
        "{path}"
    );
}
