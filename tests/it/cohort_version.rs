//! A cohort keeps the programme version it started with until its organism's administrator
//! moves it on to the programme's current version: a page shown before a later publish moves
//! nothing, nobody else moves it, and the trainees' recorded hours, attempts and progress stay
//! exactly as they were.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{
    activity_totals, audit_events, cohorts, content_versions, daily_activity, evaluation_attempts,
    lesson_progress, lessons, module_totals, modules, programs, study_sessions,
};

use crate::common::*;

const LESSON: &str = "01-role-assistant-parcours-sante";

/// Organism A with its administrator, a trainer and a cohort on the reference CQP; organism B
/// with its administrator.
struct Setup {
    app: TestApp,
    org: i64,
    cohort: i64,
    admin: reqwest::Client,
    trainer: reqwest::Client,
    other_admin: reqwest::Client,
}

async fn setup() -> Setup {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let other = app.create_organism("Organisme B");
    let cohort = app.create_cohort(org, "CQP-AM");
    let (admin, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "direction@a.fr").await;
    let (trainer, _) = signed_in(&app, Role::Trainer, Some(org), "formatrice@a.fr").await;
    let (other_admin, _) =
        signed_in(&app, Role::OrganismAdmin, Some(other), "direction@b.fr").await;
    Setup {
        app,
        org,
        cohort,
        admin,
        trainer,
        other_admin,
    }
}

/// The reference CQP's current version: its id and number.
fn current_version(app: &TestApp) -> (i64, i32) {
    programs::table
        .inner_join(content_versions::table.on(content_versions::id.eq(programs::version_id)))
        .filter(programs::code.eq("CQP-AM"))
        .filter(programs::organism_id.is_null())
        .select((content_versions::id, content_versions::number))
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

/// A new version of the reference CQP, published now and made the current one, as a publish
/// does (its empty manifest makes the application read the shipped files for it). Returns its
/// id, number and publish time.
fn publish_next(app: &TestApp) -> (i64, i32, NaiveDateTime) {
    let mut conn = app.conn();
    let c = &mut *conn as &mut DbConn;
    let program: i64 = programs::table
        .filter(programs::code.eq("CQP-AM"))
        .filter(programs::organism_id.is_null())
        .select(programs::id)
        .first(c)
        .unwrap();
    let last: Option<i32> = content_versions::table
        .filter(content_versions::program_code.eq("CQP-AM"))
        .select(diesel::dsl::max(content_versions::number))
        .first(c)
        .unwrap();
    let number = last.unwrap() + 1;
    let now = parcours::db::now();
    let id: i64 = diesel::insert_into(content_versions::table)
        .values((
            content_versions::program_code.eq("CQP-AM"),
            content_versions::program_id.eq(program),
            content_versions::number.eq(number),
            content_versions::hash.eq("x"),
            content_versions::snapshot.eq("{}"),
            content_versions::manifest.eq(""),
            content_versions::loaded_at.eq(now),
        ))
        .returning(content_versions::id)
        .get_result(c)
        .unwrap();
    diesel::update(programs::table.find(program))
        .set(programs::version_id.eq(id))
        .execute(c)
        .unwrap();
    (id, number, now)
}

/// The version the cohort follows, as its row says.
fn followed(app: &TestApp, cohort: i64) -> i64 {
    cohorts::table
        .find(cohort)
        .select(cohorts::content_version_id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

/// The `before` and `after` of every move of the cohort, oldest first.
fn moves(app: &TestApp, cohort: i64) -> Vec<(serde_json::Value, serde_json::Value)> {
    let rows: Vec<(Option<String>, Option<String>)> = audit_events::table
        .filter(audit_events::action.eq("cohort.version"))
        .filter(audit_events::subject_type.eq("cohort"))
        .filter(audit_events::subject_id.eq(cohort))
        .order(audit_events::id.asc())
        .select((audit_events::before_json, audit_events::after_json))
        .load(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let json = |t: Option<String>| serde_json::from_str(&t.unwrap()).unwrap();
    rows.into_iter().map(|(b, a)| (json(b), json(a))).collect()
}

async fn page(c: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// Sends the cohort page's version form with `version`, with a token read from the page.
async fn post_version(
    c: &reqwest::Client,
    app: &TestApp,
    cohort: i64,
    version: i32,
) -> reqwest::Response {
    let path = format!("/promotions/{cohort}/version");
    c.post_form(app, &path, &[("version", version.to_string())])
        .await
}

#[tokio::test]
async fn the_cohort_page_names_its_version_and_offers_a_newer_one_to_its_admin_only() {
    let s = setup().await;
    let (app, cohort) = (&s.app, s.cohort);
    let path = format!("/promotions/{cohort}");
    let (_, number) = current_version(app);
    assert_eq!(
        number, 1,
        "a fresh database has the reference CQP's version 1"
    );
    let (status, html) = page(&s.admin, app, &path).await;
    assert_eq!(status, 200);
    assert!(html.contains("Programme CQP-AM, version 1"), "{html}");
    assert!(!html.contains("publiée le"), "nothing newer to offer");
    assert!(!html.contains(&format!("/promotions/{cohort}/version")));

    let (_, next, at) = publish_next(app);
    assert_eq!(next, 2);
    let day = parcours::base::format::date(parcours::base::paris::paris_date(at));
    let (_, html) = page(&s.admin, app, &path).await;
    assert!(html.contains("Programme CQP-AM, version 1"), "{html}");
    assert!(
        html.contains(&format!("Version 2 publiée le {day}")),
        "{html}"
    );
    assert!(
        html.contains("Passer la promotion à la version 2"),
        "{html}"
    );
    assert!(html.contains(&format!("action=\"/promotions/{cohort}/version\"")));
    assert!(html.contains("name=\"version\" value=\"2\""), "{html}");
    // A trainer reads the same facts, without the button.
    let (status, html) = page(&s.trainer, app, &path).await;
    assert_eq!(status, 200);
    assert!(html.contains("Programme CQP-AM, version 1"), "{html}");
    assert!(
        html.contains(&format!("Version 2 publiée le {day}")),
        "{html}"
    );
    assert!(!html.contains("Passer la promotion"), "{html}");
    assert!(!html.contains(&format!("/promotions/{cohort}/version")));
    // Another organism's administrator does not learn the cohort exists.
    let (status, _) = page(&s.other_admin, app, &path).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn only_the_cohort_admin_moves_it_and_a_stale_page_moves_nothing() {
    let s = setup().await;
    let (app, cohort) = (&s.app, s.cohort);
    let (v1, _) = current_version(app);
    let (v2, n2, _) = publish_next(app);
    assert_eq!(
        post_version(&s.trainer, app, cohort, n2).await.status(),
        403
    );
    assert_eq!(
        post_version(&s.other_admin, app, cohort, n2).await.status(),
        404
    );
    // The administrator read the page offering version 2; version 3 is published before
    // she sends it: nothing moves.
    let (_, html) = page(&s.admin, app, &format!("/promotions/{cohort}")).await;
    assert!(
        html.contains("Passer la promotion à la version 2"),
        "{html}"
    );
    let (v3, n3, _) = publish_next(app);
    let res = s
        .admin
        .post_form_of(
            app,
            &html,
            &format!("/promotions/{cohort}/version"),
            &[("version", n2.to_string())],
        )
        .await;
    assert_eq!(res.status(), 409);
    let text = res.text().await.unwrap();
    assert!(
        text.contains("pas la version en cours du programme CQP-AM, qui est la version 3"),
        "{text}"
    );
    assert_eq!(followed(app, cohort), v1, "the cohort stays on version 1");
    assert!(moves(app, cohort).is_empty(), "no move recorded");
    assert_ne!(v2, v3);
    // A number no one published moves nothing either.
    assert_eq!(post_version(&s.admin, app, cohort, 99).await.status(), 409);
    assert_eq!(followed(app, cohort), v1);
    // The page now offers version 3, which she takes.
    let res = post_version(&s.admin, app, cohort, n3).await;
    assert_eq!(res.status(), 303);
    assert_eq!(followed(app, cohort), v3);
    // Sent twice, the form finds the cohort there already: nothing more is written.
    assert_eq!(post_version(&s.admin, app, cohort, n3).await.status(), 409);
    assert_eq!(moves(app, cohort).len(), 1);
    // The platform administrator may move a cohort too, as other cohort actions.
    let (platform, _) = signed_in(app, Role::Admin, None, "plateforme@parcours.fr").await;
    let (v4, n4, _) = publish_next(app);
    assert_eq!(post_version(&platform, app, cohort, n4).await.status(), 303);
    assert_eq!(followed(app, cohort), v4);
}

/// A row of `module_totals` and of `daily_activity`, every column.
type TotalRow = (i64, i64, i64, i64, i64, i64, Option<NaiveDateTime>);
type DayRow = (
    i64,
    i64,
    chrono::NaiveDate,
    i64,
    i64,
    NaiveDateTime,
    NaiveDateTime,
);

/// Every row a trainee's hours, attempts and progress are made of, as text.
fn records(app: &TestApp, trainee: i64) -> String {
    let mut conn = app.conn();
    let c = &mut *conn as &mut DbConn;
    let totals: Vec<TotalRow> = module_totals::table
        .filter(module_totals::trainee_id.eq(trainee))
        .order(module_totals::id)
        .load(c)
        .unwrap();
    let days: Vec<DayRow> = daily_activity::table
        .filter(daily_activity::trainee_id.eq(trainee))
        .order(daily_activity::id)
        .load(c)
        .unwrap();
    let activities: Vec<(i64, i64, i64, i64, NaiveDateTime)> = activity_totals::table
        .filter(activity_totals::trainee_id.eq(trainee))
        .order(activity_totals::id)
        .load(c)
        .unwrap();
    let done: Vec<(i64, i64, i64, NaiveDateTime)> = lesson_progress::table
        .filter(lesson_progress::trainee_id.eq(trainee))
        .order(lesson_progress::id)
        .load(c)
        .unwrap();
    let attempts: Vec<(i64, i64, String, i32, String, Option<String>)> = evaluation_attempts::table
        .filter(evaluation_attempts::trainee_id.eq(trainee))
        .order(evaluation_attempts::id)
        .select((
            evaluation_attempts::id,
            evaluation_attempts::module_id,
            evaluation_attempts::evaluation_hash,
            evaluation_attempts::attempt_no,
            evaluation_attempts::status,
            evaluation_attempts::answers,
        ))
        .load(c)
        .unwrap();
    let sessions: Vec<(i64, i64, i32)> = study_sessions::table
        .filter(study_sessions::trainee_id.eq(trainee))
        .order(study_sessions::id)
        .select((
            study_sessions::id,
            study_sessions::module_id,
            study_sessions::seconds_credited,
        ))
        .load(c)
        .unwrap();
    assert!(!totals.is_empty() && !days.is_empty() && !activities.is_empty());
    assert!(!done.is_empty() && !attempts.is_empty() && !sessions.is_empty());
    format!("{totals:?}\n{days:?}\n{activities:?}\n{done:?}\n{attempts:?}\n{sessions:?}")
}

#[tokio::test]
async fn moving_on_keeps_recorded_hours_attempts_and_progress() {
    let s = setup().await;
    let (app, cohort) = (&s.app, s.cohort);
    let (trainee_client, trainee) =
        signed_in(app, Role::Trainee, Some(s.org), "stagiaire@a.fr").await;
    app.enrol(s.org, cohort, trainee);
    // Twenty seconds of study, a finished lesson and an evaluation attempt.
    let token = api_token(app, "stagiaire@a.fr").await;
    let lesson: i64 = lessons::table
        .filter(lessons::slug.eq(LESSON))
        .select(lessons::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert_eq!(beat(app, &token, lesson, "vue", 1).await.status(), 200);
    rewind(app, trainee, 20);
    assert_eq!(beat(app, &token, lesson, "vue", 2).await.status(), 200);
    let lesson_page = format!("/programmes/CQP-AM/M1/activites/{LESSON}");
    let res = trainee_client
        .post_form(app, &format!("{lesson_page}/terminee"), NO_FIELDS)
        .await;
    assert_eq!(res.status(), 303);
    let res = trainee_client
        .post_form(app, "/programmes/CQP-AM/M1/evaluation", NO_FIELDS)
        .await;
    assert_eq!(res.status(), 303, "attempt started");
    let before = records(app, trainee);
    let (_, hours_before) = page(&trainee_client, app, "/api/v1/me/hours").await;

    let (v1, n1) = current_version(app);
    let (v2, n2, _) = publish_next(app);
    let res = post_version(&s.admin, app, cohort, n2).await;
    assert_eq!(res.status(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_string();
    assert!(
        to.starts_with(&format!("/promotions/{cohort}?passage=")),
        "{to}"
    );
    assert_eq!(followed(app, cohort), v2);
    let recorded = moves(app, cohort);
    assert_eq!(recorded.len(), 1);
    let (b, a) = &recorded[0];
    assert_eq!(b["version"], n1);
    assert_eq!(b["content_version_id"], v1);
    assert_eq!(a["version"], n2);
    assert_eq!(a["content_version_id"], v2);
    // The page after the move says so, and offers nothing more.
    let (_, html) = page(&s.admin, app, &to).await;
    assert!(
        html.contains("La promotion suit désormais la version 2 du programme."),
        "{html}"
    );
    assert!(html.contains("Programme CQP-AM, version 2"), "{html}");
    assert!(!html.contains("Passer la promotion"), "{html}");
    // Another cohort's event is no notice of this one.
    let other = app.create_cohort(s.org, "CQP-AM");
    let event = to.rsplit('=').next().unwrap();
    let (status, html) = page(
        &s.admin,
        app,
        &format!("/promotions/{other}?passage={event}"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(!html.contains("suit désormais"), "{html}");

    // Nothing the trainee did was rewritten, and she studies on.
    assert_eq!(records(app, trainee), before);
    let (status, hours_after) = page(&trainee_client, app, "/api/v1/me/hours").await;
    assert_eq!(status, 200);
    assert_eq!(hours_after, hours_before);
    let (status, _) = page(&trainee_client, app, &lesson_page).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_api_shows_the_version_and_moves_with_the_number_read() {
    let s = setup().await;
    let (app, cohort) = (&s.app, s.cohort);
    let admin = api_token(app, "direction@a.fr").await;
    let trainer = api_token(app, "formatrice@a.fr").await;
    let other = api_token(app, "direction@b.fr").await;
    let url = app.url(&format!("/api/v1/cohorts/{cohort}"));
    let shown: serde_json::Value = client()
        .get(&url)
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (v1, n1) = current_version(app);
    assert_eq!(shown["version_number"], n1);
    assert_eq!(shown["content_version_id"], v1);
    let (v2, n2, _) = publish_next(app);
    let send = |token: &str, version: i32| {
        client()
            .post(format!("{url}/version"))
            .bearer_auth(token)
            .json(&serde_json::json!({ "version": version }))
            .send()
    };
    assert_eq!(send(&trainer, n2).await.unwrap().status(), 403);
    assert_eq!(send(&other, n2).await.unwrap().status(), 404);
    let stale = send(&admin, n1).await.unwrap();
    assert_eq!(stale.status(), 409);
    let body: serde_json::Value = stale.json().await.unwrap();
    assert_eq!(body["error"]["code"], "conflict");
    assert_eq!(followed(app, cohort), v1);
    let res = send(&admin, n2).await.unwrap();
    assert_eq!(res.status(), 200);
    let moved: serde_json::Value = res.json().await.unwrap();
    assert_eq!(moved["version_number"], n2);
    assert_eq!(moved["content_version_id"], v2);
    assert_eq!(followed(app, cohort), v2);
    assert_eq!(moves(app, cohort).len(), 1);
}

/// The content of the CQP's first module as shipped, where the copy starts from.
fn shipped_module_toml() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/content/cqp-assistant-medical/01-suivi-parcours-sante/module.toml"
    );
    std::fs::read_to_string(path).unwrap()
}

/// The sequence of each line of the trainee's evidence pack's activities, as its CSV has them.
async fn pack_sequences(s: &Setup, trainee: i64) -> Vec<String> {
    let today = crate::evidence::fr(parcours::base::paris::today());
    let url = format!("/stagiaires/{trainee}/preuves.zip?du=01/09/2026&au={today}");
    let res = s.admin.get(s.app.url(&url)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let (dir, _) = crate::evidence::unpack(&res.bytes().await.unwrap());
    let csv = crate::evidence::read(&dir, "distanciel/activites.csv");
    csv.lines()
        .skip(1)
        .map(|l| l.split(';').nth(2).unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_cohorts_documents_read_the_version_it_follows() {
    use crate::authoring::{copy_of_cqp, revision_in};
    let s = setup().await;
    let app = &s.app;
    assert_eq!(
        copy_of_cqp(app, &s.admin, s.org, "CQP-LYON").await.status(),
        303
    );
    let cohort = app.create_cohort(s.org, "CQP-LYON");
    let (_, trainee) = signed_in(app, Role::Trainee, Some(s.org), "stagiaire@a.fr").await;
    app.enrol(s.org, cohort, trainee);
    let token = api_token(app, "stagiaire@a.fr").await;
    let lesson: i64 = lessons::table
        .inner_join(modules::table.inner_join(programs::table))
        .filter(programs::code.eq("CQP-LYON"))
        .filter(lessons::slug.eq(LESSON))
        .select(lessons::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert_eq!(beat(app, &token, lesson, "vue", 1).await.status(), 200);
    rewind(app, trainee, 30);
    assert_eq!(beat(app, &token, lesson, "vue", 2).await.status(), 200);

    // Version 2 renames the lesson's sequence.
    let old = "Le rôle de l'assistant médical dans le parcours de santé";
    let new = "Le rôle de l'assistant, à la lyonnaise";
    let editor = "/auteur/programmes/CQP-LYON";
    let file = format!("{editor}/fichiers/01-suivi-parcours-sante/module.toml");
    let (_, form) = page(&s.admin, app, &file).await;
    let text = shipped_module_toml().replace(old, new);
    let fields = [("revision", revision_in(&form)), ("texte", text)];
    assert_eq!(s.admin.post_form(app, &file, &fields).await.status(), 303);
    let (_, html) = page(&s.admin, app, editor).await;
    let fields = [("revision", revision_in(&html))];
    let res = s
        .admin
        .post_form(app, &format!("{editor}/publier"), &fields)
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());

    // The cohort is still on version 1: its pack names the sequence as version 1 does.
    assert_eq!(pack_sequences(&s, trainee).await, [old]);
    // Moved on to version 2, the same time is read under the new name.
    assert_eq!(post_version(&s.admin, app, cohort, 2).await.status(), 303);
    assert_eq!(pack_sequences(&s, trainee).await, [new]);
}
