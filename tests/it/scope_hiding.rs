//! Someone outside an organism gets the same answer for its trainee or cohort as for an id
//! that does not exist: ids tell other organisms, doctors and trainees nothing.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::schema::enrolments;

use crate::common::*;

const NOBODY: i64 = 987_654;

async fn get(c: &reqwest::Client, url: String, bearer: Option<&str>) -> (u16, String) {
    let mut req = c.get(url);
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn post(app: &TestApp, c: &reqwest::Client, path: String) -> (u16, String) {
    let res = c.post_form(app, &path, &[("from", ""), ("to", "")]).await;
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn a_foreign_trainee_or_cohort_answers_like_one_that_does_not_exist() {
    let app = spawn_app().await;
    let a = app.create_organism("Organisme A");
    let b = app.create_organism("Organisme B");
    let (chef_a, _) = signed_in(&app, Role::OrganismAdmin, Some(a), "chef@a.fr").await;
    let (_lea, lea) = app.trainee_in(a, "CQP-AM", "lea@a.fr").await;
    let cohort: i64 = enrolments::table
        .filter(enrolments::trainee_id.eq(lea))
        .select(enrolments::cohort_id)
        .first(&mut *app.conn())
        .unwrap();
    let (chef_b, _) = signed_in(&app, Role::OrganismAdmin, Some(b), "chef@b.fr").await;
    let (trainer_b, _) = signed_in(&app, Role::Trainer, Some(b), "forma@b.fr").await;
    let (doctor, _) = signed_in(&app, Role::Doctor, None, "dr@exemple.fr").await;
    let (bob, _) = app.trainee_in(b, "CQP-AM", "bob@b.fr").await;
    let outsiders = [
        ("another organism's admin", chef_b, "chef@b.fr"),
        ("another organism's trainer", trainer_b, "forma@b.fr"),
        ("a doctor who does not employ her", doctor, "dr@exemple.fr"),
        ("another organism's trainee", bob, "bob@b.fr"),
    ];
    let pages = [
        "/stagiaires/{t}",
        "/stagiaires/{t}/heures",
        "/stagiaires/{t}/attestations",
        "/promotions/{c}",
        "/promotions/{c}/calendrier",
        "/promotions/{c}/suivi",
        "/promotions/{c}/attestations",
        "/promotions/{c}/stagiaires.csv",
    ];
    let forms = [
        "/stagiaires/{t}/proa",
        "/stagiaires/{t}/agenda/renouveler",
        "/promotions/{c}/calendrier/renouveler",
    ];
    let api = [
        "/api/v1/trainees/{t}",
        "/api/v1/trainees/{t}/hours",
        "/api/v1/cohorts/{c}",
        "/api/v1/cohorts/{c}/trainees",
        "/api/v1/cohorts/{c}/progress",
    ];
    let with = |path: &str, t: i64, c: i64| {
        path.replace("{t}", &t.to_string())
            .replace("{c}", &c.to_string())
    };
    // The ids are real: their organism's staff sees them.
    for page in pages {
        let (status, _) = get(&chef_a, app.url(&with(page, lea, cohort)), None).await;
        assert_eq!(status, 200, "{page} for its own staff");
    }
    for (who, c, email) in &outsiders {
        for page in pages {
            let real = get(c, app.url(&with(page, lea, cohort)), None).await;
            let none = get(c, app.url(&with(page, NOBODY, NOBODY)), None).await;
            assert_eq!(real.0, 404, "{who} on {page}");
            assert_eq!(real, none, "{who} on {page}");
        }
        for form in forms {
            let real = post(&app, c, with(form, lea, cohort)).await;
            let none = post(&app, c, with(form, NOBODY, NOBODY)).await;
            assert_eq!(real.0, 404, "{who} posting {form}");
            assert_eq!(real, none, "{who} posting {form}");
        }
        let token = api_token(&app, email).await;
        for path in api {
            let real = get(&client(), app.url(&with(path, lea, cohort)), Some(&token)).await;
            let none = get(
                &client(),
                app.url(&with(path, NOBODY, NOBODY)),
                Some(&token),
            )
            .await;
            assert_eq!(real.0, 404, "{who} on {path}");
            assert_eq!(real, none, "{who} on {path}");
        }
    }
}
