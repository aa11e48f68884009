//! The demo tells one consistent story (issue #26 item 11): the assistant was hired before
//! her cohort started, her morning was signed on its own day, the question was answered after
//! it was asked (a real delay in the Qualiopi figures), this month's chart has data, the trainer
//! who leads the sessions is the cohort's, and a doctor practising alone is not repeated as his
//! own "Cabinet".

use chrono::Datelike;
use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::schema::{
    attendance_entries, cohort_trainers, cohorts, daily_activity, followup_messages, sessions,
    trainee_profiles, users,
};

use crate::common::*;

#[tokio::test]
async fn the_demo_tells_one_consistent_story() {
    let app = spawn_app().await;
    let out = app.cli(&["demo"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut conn = app.conn();
    let (cohort, start, org): (i64, chrono::NaiveDate, i64) = cohorts::table
        .select((cohorts::id, cohorts::start_date, cohorts::organism_id))
        .first(&mut *conn)
        .unwrap();
    let (trainee, hired): (i64, chrono::NaiveDate) = trainee_profiles::table
        .select((trainee_profiles::user_id, trainee_profiles::hire_date))
        .first(&mut *conn)
        .unwrap();
    assert!(hired < start, "hired {hired}, cohort from {start}");
    // Her morning, signed on its own day, by a trainer of the cohort.
    let (day, trainer): (chrono::NaiveDate, Option<i64>) = sessions::table
        .filter(sessions::cohort_id.eq(cohort))
        .select((sessions::day, sessions::trainer_id))
        .first(&mut *conn)
        .unwrap();
    let signed: Option<chrono::NaiveDateTime> = attendance_entries::table
        .filter(attendance_entries::trainee_id.eq(trainee))
        .select(attendance_entries::signed_at)
        .first(&mut *conn)
        .unwrap();
    assert_eq!(signed.map(parcours::base::paris::paris_date), Some(day));
    let trainers: Vec<i64> = cohort_trainers::table
        .filter(cohort_trainers::cohort_id.eq(cohort))
        .select(cohort_trainers::trainer_id)
        .load(&mut *conn)
        .unwrap();
    assert!(
        trainer.is_some_and(|t| trainers.contains(&t)),
        "{trainer:?} {trainers:?}"
    );
    // The question, then its answer some hours later.
    let times: Vec<(i64, chrono::NaiveDateTime)> = followup_messages::table
        .order(followup_messages::id.asc())
        .select((followup_messages::author_id, followup_messages::created_at))
        .load(&mut *conn)
        .unwrap();
    assert_eq!(times.len(), 2);
    assert_eq!(times[0].0, trainee);
    let delay = times[1].1 - times[0].1;
    assert!(
        delay > chrono::Duration::hours(1) && delay < chrono::Duration::hours(48),
        "{delay}"
    );
    // This month has study time, whatever the day (but in the first minutes of a month).
    let today = parcours::base::paris::today();
    let first = today.with_day(1).unwrap();
    let this_month: i64 = daily_activity::table
        .filter(daily_activity::trainee_id.eq(trainee))
        .filter(daily_activity::day.ge(first))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    let minutes_into_month = (chrono::Utc::now().naive_utc()
        - parcours::base::paris::paris_midnight(first))
    .num_minutes();
    assert!(
        this_month > 0 || minutes_into_month < 4,
        "no study this month"
    );
    // The demo doctor practises alone: his name once on the file, no "Cabinet" repeating him.
    let doctor: String = users::table
        .filter(users::role.eq("doctor"))
        .select(users::name)
        .first(&mut *conn)
        .unwrap();
    drop(conn);
    let (staff, _) = signed_in(
        &app,
        Role::OrganismAdmin,
        Some(org),
        "relecture@isf-demo.fr",
    )
    .await;
    let file = staff
        .get_text(&app, &format!("/stagiaires/{trainee}"))
        .await;
    assert_eq!(file.matches(doctor.as_str()).count(), 1, "{file}");
    let csv = staff
        .get_text(&app, &format!("/promotions/{cohort}/stagiaires.csv"))
        .await;
    let line = csv.lines().nth(1).unwrap();
    assert!(line.contains(&format!(";{doctor};;")), "{line}");
}
