//! Demo data and the first platform administrator, for a newcomer's first run.

use crate::accounts::store::{self as users, NewUser};
use crate::accounts::{Role, password, rules};
use crate::cohorts::store as cohorts;
use crate::db::{self, DbConn};
use crate::organisms::rules::Organism;
use crate::organisms::store as organisms;

pub const DEMO_ORGANISM: &str = "Institut Santé Formation (démo)";

pub struct Login {
    pub role: Role,
    pub email: String,
    pub password: String,
}

/// Creates a platform administrator; the address must be free.
pub fn create_admin(
    conn: &mut DbConn,
    email: &str,
    name: &str,
    password: &str,
) -> anyhow::Result<i64> {
    let email = crate::base::field::normalize_email(email).map_err(|m| anyhow::anyhow!(m))?;
    let name = crate::base::field::validate_name(name).map_err(|m| anyhow::anyhow!(m))?;
    rules::validate_password(password).map_err(|m| anyhow::anyhow!(m))?;
    let hash = password::hash(password)?;
    db::transaction(conn, |conn| {
        if users::email_taken(conn, &email)? {
            anyhow::bail!("un compte existe déjà avec l'adresse {email}");
        }
        Ok(users::create(
            conn,
            None,
            NewUser {
                email: &email,
                name: &name,
                role: Role::Admin,
                organism_id: None,
                password_hash: Some(&hash),
            },
        )?)
    })
}

pub const DEMO_COHORT: &str = "Promotion CQP démo";

/// Creates (or refreshes) the demo organism and its people, with new passwords each run;
/// the trainee is enrolled in a CQP cohort that started today.
pub fn seed(conn: &mut DbConn, content: &crate::curriculum::Content) -> anyhow::Result<Vec<Login>> {
    let people = [
        (Role::Admin, "admin@parcours.local", "Camille Admin", false),
        (
            Role::OrganismAdmin,
            "direction@isf-demo.fr",
            "Nadia Benali",
            true,
        ),
        (
            Role::Trainer,
            "formatrice@isf-demo.fr",
            "Sophie Lefèvre",
            true,
        ),
        (
            Role::Doctor,
            "dr.martin@cabinet-demo.fr",
            "Dr Paul Martin",
            false,
        ),
        (
            Role::Trainee,
            "assistante@cabinet-demo.fr",
            "Julie Moreau",
            true,
        ),
    ];
    let mut logins = Vec::new();
    let mut prepared = Vec::new();
    for (role, email, name, in_org) in people {
        let pw = password::generate()?;
        prepared.push((role, email, name, in_org, password::hash(&pw)?));
        logins.push(Login {
            role,
            email: email.to_string(),
            password: pw,
        });
    }
    db::transaction(conn, |conn| -> anyhow::Result<()> {
        let org_id = match organisms::by_name(conn, DEMO_ORGANISM)? {
            Some(o) => o.id,
            None => organisms::create(
                conn,
                None,
                &Organism {
                    name: DEMO_ORGANISM.into(),
                    siret: Some("73282932000074".into()),
                    nda: Some("11755555575".into()),
                    address: Some("12 rue des Écoles, 75005 Paris".into()),
                    qualiopi_number: Some("QUALIOPI-DEMO-2026".into()),
                    contact_email: Some("contact@isf-demo.fr".into()),
                    contact_phone: Some("01 23 45 67 89".into()),
                },
            )?,
        };
        // What attestations print: the identity and the place of issue.
        let (identity, _) = crate::attestation::store::organism_identity(conn, org_id)?
            .ok_or_else(|| anyhow::anyhow!("demo organism vanished"))?;
        crate::attestation::store::set_identity(
            conn,
            None,
            org_id,
            &crate::attestation::store::Identity {
                siret: identity.siret.or(Some("73282932000074".into())),
                nda: identity.nda.or(Some("11755555575".into())),
                qualiopi_number: identity
                    .qualiopi_number
                    .or(Some("QUALIOPI-DEMO-2026".into())),
                address: identity
                    .address
                    .or(Some("12 rue des Écoles, 75005 Paris".into())),
                city: Some("Paris".into()),
            },
        )?;
        let mut trainee = None;
        let mut trainer = None;
        let mut doctor = None;
        for (role, email, name, in_org, hash) in &prepared {
            let id = match users::by_email(conn, email)? {
                Some(u) => {
                    users::set_password(conn, None, &u, hash)?;
                    u.id
                }
                None => users::create(
                    conn,
                    None,
                    NewUser {
                        email,
                        name,
                        role: *role,
                        organism_id: in_org.then_some(org_id),
                        password_hash: Some(hash),
                    },
                )?,
            };
            if *role == Role::Trainee {
                trainee = Some(id);
            }
            if *role == Role::Trainer {
                trainer = Some(id);
            }
            if *role == Role::Doctor {
                doctor = Some((id, name.to_string()));
            }
        }
        let cqp = "CQP-AM";
        let (Some(&program_id), Some(&version_id)) =
            (content.ids.programs.get(cqp), content.ids.versions.get(cqp))
        else {
            anyhow::bail!("the CQP programme ({cqp}) is missing from the content folder");
        };
        let cohort = match cohorts::cohort_by_name(conn, org_id, DEMO_COHORT)? {
            Some(id) => id,
            None => {
                // Started two months ago, so that the demo has past activity to show.
                let today = crate::base::paris::today();
                let today = today - chrono::Months::new(2);
                cohorts::create_cohort(
                    conn,
                    None,
                    &cohorts::NewCohort {
                        organism_id: org_id,
                        program_id,
                        content_version_id: version_id,
                        name: DEMO_COHORT,
                        start_date: today,
                        end_date: today + chrono::Months::new(11),
                    },
                )?
            }
        };
        // The demo doctor employs the demo trainee: the doctor follows her and receives her
        // attestation.
        if let (Some(trainee), Some((doctor, doctor_name))) = (trainee, &doctor)
            && crate::cohorts::store::trainee(conn, crate::cohorts::store::Scope::Checked, trainee)?
                .is_none()
        {
            let employer =
                crate::cohorts::employers::doctor_employer(conn, org_id, *doctor, doctor_name)?;
            cohorts::create_profile(
                conn,
                &cohorts::NewProfile {
                    user_id: trainee,
                    organism_id: org_id,
                    profile: "aucun",
                    hire_date: crate::base::paris::today(),
                    funding: "contrat_pro",
                    employer_id: Some(employer),
                },
            )?;
        }
        if let Some(trainee) = trainee
            && !cohorts::is_enrolled(conn, trainee)?
        {
            let start = cohorts::cohort(conn, cohort)?
                .map(|c| c.start_date)
                .unwrap_or_else(crate::base::paris::today);
            cohorts::enrol(conn, None, org_id, cohort, trainee, start)?;
        }
        if let (Some(trainee), Some(trainer)) = (trainee, trainer) {
            activity(conn, org_id, cohort, program_id, trainee, trainer)?;
        }
        Ok(())
    })?;
    Ok(logins)
}

/// Past activity of the demo trainee, once: ten evenings of distance study of M1, a closed
/// sign-in sheet of an in-person morning, and a question answered in her M1 thread. So the
/// dashboards, the funders' export and the evidence pack have something true to show.
fn activity(
    conn: &mut DbConn,
    org_id: i64,
    cohort: i64,
    program_id: i64,
    trainee: i64,
    trainer: i64,
) -> anyhow::Result<()> {
    use crate::db::schema::{daily_activity, module_totals};
    use diesel::prelude::*;
    let done: i64 = daily_activity::table
        .filter(daily_activity::trainee_id.eq(trainee))
        .count()
        .get_result(conn)?;
    if done > 0 {
        return Ok(());
    }
    let Some((m1, code, title, _)) = cohorts::program_modules(conn, program_id)?
        .into_iter()
        .next()
    else {
        return Ok(());
    };
    let today = crate::base::paris::today();
    let at = |d: chrono::NaiveDate, h: u32, m: u32| {
        crate::base::paris::paris_to_utc(
            d.and_time(chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default()),
        )
    };

    // The in-person morning two weeks ago, signed by the trainee and closed by the trainer.
    let day = today - chrono::Duration::days(14);
    let t = |h, m| chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default();
    cohorts::add_sessions(
        conn,
        trainer,
        org_id,
        cohort,
        &[cohorts::NewSession {
            module_id: m1,
            trainer_id: Some(trainer),
            day,
            starts_at: t(9, 0),
            ends_at: t(12, 30),
            place: "Salle 2, 12 rue des Écoles",
        }],
    )?;
    let session = cohorts::sessions_of(conn, cohort)?
        .into_iter()
        .find(|s| s.day == day && s.module_id == m1)
        .ok_or_else(|| anyhow::anyhow!("demo session not created"))?;
    use crate::tracking::attendance;
    attendance::open(conn, trainer, org_id, &session)?;
    // Signed during the half-day itself, as she would have.
    let signed_at = crate::base::paris::paris_to_utc(session.day.and_time(session.starts_at));
    attendance::sign(
        conn,
        trainee,
        org_id,
        session.id,
        trainee,
        "stagiaire",
        signed_at,
    )?
    .map_err(|e| anyhow::anyhow!("demo signature: {}", e.message()))?;
    attendance::close(conn, Some(trainer), org_id, &session)?
        .map_err(|e| anyhow::anyhow!("demo sheet: {}", e.message()))?;

    // Ten evenings of study, 35 to 53 minutes each.
    let mut total = 0i64;
    let mut last = None;
    for i in 0..10i64 {
        let d = today - chrono::Duration::days(20 - i);
        let secs = (35 + 2 * i) * 60;
        let first = at(d, 18, 30);
        let end = first + chrono::Duration::seconds(secs + 120);
        diesel::insert_into(daily_activity::table)
            .values((
                daily_activity::trainee_id.eq(trainee),
                daily_activity::day.eq(d),
                daily_activity::module_id.eq(m1),
                daily_activity::distance_seconds.eq(secs),
                daily_activity::first_at.eq(first),
                daily_activity::last_at.eq(end),
            ))
            .execute(conn)?;
        total += secs;
        last = Some(end);
    }
    let updated = diesel::update(
        module_totals::table
            .filter(module_totals::trainee_id.eq(trainee))
            .filter(module_totals::module_id.eq(m1)),
    )
    .set((
        module_totals::distance_seconds.eq(module_totals::distance_seconds + total),
        module_totals::last_activity_at.eq(last),
    ))
    .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(module_totals::table)
            .values((
                module_totals::trainee_id.eq(trainee),
                module_totals::module_id.eq(m1),
                module_totals::distance_seconds.eq(total),
                module_totals::presentiel_seconds.eq(0i64),
                module_totals::correction_seconds.eq(0i64),
                module_totals::last_activity_at.eq(last),
            ))
            .execute(conn)?;
    }

    // A question in her M1 thread, and the trainer's answer.
    use crate::followup::rules::MessageKind;
    use crate::followup::store::{self as followup, NewMessage, Target};
    let (thread, _) = followup::post(
        conn,
        Target::Module {
            organism_id: org_id,
            cohort_id: cohort,
            trainee_id: trainee,
            module_id: m1,
            subject: format!("{code} — {title}"),
        },
        NewMessage {
            author_id: trainee,
            kind: MessageKind::Question,
            body: "Bonjour, quand un patient appelle pour un renouvellement d'ordonnance, \
                   dois-je lui proposer un rendez-vous ou transmettre au médecin ?",
            attachment: None,
            ip: "127.0.0.1".into(),
        },
    )?;
    followup::post(
        conn,
        Target::Thread(thread),
        NewMessage {
            author_id: trainer,
            kind: MessageKind::Reponse,
            body: "Bonjour Julie, suivez le protocole du cabinet : notez la demande et \
                   transmettez-la au médecin, qui décide. Nous le reverrons en séance.",
            attachment: None,
            ip: "127.0.0.1".into(),
        },
    )?;
    Ok(())
}
