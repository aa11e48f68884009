//! The home page of each role (`/`), whose cards say only what the data says: the staff's
//! alerts and VAE files, the trainee's deadline, the doctor's attestations and whether each
//! went to the CPAM. A top-level module, as it reads more than one domain.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

use crate::accounts::{CurrentUser, Role};
use crate::base::paris::today;
use crate::db::DbConn;
use crate::db::schema::{attendance_sheets, outbox, sessions};
use crate::tracking::rules::Status;
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home));
}

/// One line of the staff's alerts: how many, what, and where to look.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Alert {
    pub count: usize,
    pub label: String,
    pub link: String,
}

/// The alerts worth a line: those with something in them.
pub fn alerts(found: Vec<(usize, &str, String)>) -> Vec<Alert> {
    found
        .into_iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(count, label, link)| Alert {
            count,
            label: label.to_string(),
            link,
        })
        .collect()
}

/// What needs the organism's attention now, read from its cohorts, threads, sheets and mails.
fn staff_alerts(conn: &mut DbConn, me: i64, org: i64, today: NaiveDate) -> AppResult<Vec<Alert>> {
    use crate::cohorts::store as cohorts;
    let mut found = Vec::new();
    let (mut risky, mut idle, mut overdue) = (0, 0, 0);
    let mut first = [None, None, None];
    for (cohort, _) in cohorts::cohorts_of(conn, org)? {
        let trainees = cohorts::trainees_of_cohort(conn, org, cohort.id)?;
        for h in crate::tracking::progress::for_cohort(conn, &cohort, &trainees, today)? {
            let counters = [
                (h.pace.status == Status::ARisque, &mut risky, 0),
                (h.pace.status == Status::Inactif, &mut idle, 1),
                (h.deadline < today, &mut overdue, 2),
            ];
            for (hit, n, i) in counters {
                if hit {
                    *n += 1;
                    first[i].get_or_insert(cohort.id);
                }
            }
        }
    }
    let follow_up = |i: usize, filter: &str| match first[i] {
        Some(c) => format!("/promotions/{c}/suivi{filter}"),
        None => format!("/organismes/{org}/promotions"),
    };
    found.push((
        risky,
        "stagiaire(s) à risque",
        follow_up(0, "?statut=a_risque"),
    ));
    found.push((
        idle,
        "stagiaire(s) inactif(s)",
        follow_up(1, "?statut=inactif"),
    ));
    found.push((
        overdue,
        "stagiaire(s) dont l'échéance de certification est dépassée",
        first[2].map_or(format!("/organismes/{org}/promotions"), |c| {
            format!("/promotions/{c}")
        }),
    ));
    let waiting = crate::followup::store::lines(
        conn,
        me,
        crate::followup::store::Threads::OfOrganism {
            organism: org,
            cohort: None,
        },
        true,
    )?
    .len();
    found.push((
        waiting,
        "question(s) de stagiaires en attente de réponse",
        format!("/organismes/{org}/suivi"),
    ));
    let open_sheets: i64 = attendance_sheets::table
        .inner_join(sessions::table)
        .inner_join(
            crate::db::schema::cohorts::table
                .on(crate::db::schema::cohorts::id.eq(sessions::cohort_id)),
        )
        .filter(crate::db::schema::cohorts::organism_id.eq(org))
        .filter(attendance_sheets::status.eq(crate::tracking::rules::OPEN))
        .filter(sessions::day.lt(today))
        .count()
        .get_result(conn)?;
    found.push((
        usize::try_from(open_sheets).unwrap_or(0),
        "feuille(s) d'émargement restée(s) ouverte(s) après leur séance",
        format!("/organismes/{org}/promotions"),
    ));
    let failed: i64 = outbox::table
        .filter(outbox::organism_id.eq(org))
        .filter(outbox::status.eq(crate::mail::outbox::FAILED))
        .count()
        .get_result(conn)?;
    found.push((
        usize::try_from(failed).unwrap_or(0),
        "courriel(s) non remis",
        format!("/organismes/{org}"),
    ));
    Ok(alerts(found))
}

async fn home(
    req: HttpRequest,
    state: State,
    content: web::Data<crate::curriculum::Content>,
    user: CurrentUser,
) -> AppResult<HttpResponse> {
    let mut ctx = w::context(&req);
    ctx.insert("me", &user.view());
    let today = today();
    let me = user.id;
    match (user.role, user.organism_id) {
        (r, Some(org)) if r.is_staff() => {
            let (counts, alerts) = state
                .db(move |c| {
                    Ok((
                        crate::vae::store::counts(c, org)?,
                        staff_alerts(c, me, org, today)?,
                    ))
                })
                .await?;
            ctx.insert("vae_counts", &crate::vae::rules::state_counts(&counts));
            ctx.insert("alerts", &alerts);
        }
        (Role::Trainee, _) => {
            let content = content.clone();
            let (trainee, in_cohort, next, kind) = state
                .db(move |c| {
                    let in_cohort = crate::cohorts::store::active_cohort(c, me)?.is_some();
                    Ok((
                        crate::cohorts::store::trainee(
                            c,
                            crate::cohorts::store::Scope::Checked,
                            me,
                        )?,
                        in_cohort,
                        content.next_lesson(c, me)?,
                        crate::certification::store::program_kind_of(c, me)?,
                    ))
                })
                .await?;
            let view = trainee
                .as_ref()
                .map(|t| crate::cohorts::access::trainee_view(t, today));
            ctx.insert("trainee", &view);
            ctx.insert("in_cohort", &in_cohort);
            ctx.insert("next", &next);
            // Only the CQP has a certification to follow.
            ctx.insert("cqp", &(kind.as_deref() == Some("cqp")));
        }
        (Role::Doctor, _) => {
            let received = state
                .db(move |c| {
                    let assistants = crate::cohorts::store::assistants_of(c, me)?;
                    let list = crate::certification::copies::for_doctor(c, &assistants)?;
                    Ok::<_, AppError>(list)
                })
                .await?;
            ctx.insert("attestations", &received);
        }
        _ => {}
    }
    state.render("accounts/home.html", &ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_alerts_with_something_in_them_are_listed() {
        let found = alerts(vec![
            (0, "stagiaire(s) à risque", "/a".into()),
            (2, "courriel(s) non remis", "/b".into()),
        ]);
        assert_eq!(
            found,
            [Alert {
                count: 2,
                label: "courriel(s) non remis".into(),
                link: "/b".into()
            }]
        );
    }
}
