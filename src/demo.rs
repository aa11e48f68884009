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

/// The demo people: role, address, name, and whether they belong to the demo organism.
const PEOPLE: [(Role, &str, &str, bool); 5] = [
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

/// One demo person with the hash of their new password.
struct Prepared {
    role: Role,
    email: &'static str,
    name: &'static str,
    in_org: bool,
    hash: String,
}

/// The demo people that the cohort, the follow-up and the activity need.
#[derive(Default)]
struct Cast {
    trainee: Option<i64>,
    trainer: Option<i64>,
    doctor: Option<(i64, String)>,
}

/// Creates (or refreshes) the demo organism and its people, with new passwords each run;
/// the trainee, hired five months ago, is enrolled in a CQP cohort that started two months ago,
/// led by the demo trainer.
/// The reference programmes must be recorded first (`curriculum::load_and_sync`).
pub fn seed(conn: &mut DbConn) -> anyhow::Result<Vec<Login>> {
    // Passwords are hashed before the transaction, which then stays short.
    let mut logins = Vec::new();
    let mut prepared = Vec::new();
    for (role, email, name, in_org) in PEOPLE {
        let pw = password::generate()?;
        prepared.push(Prepared {
            role,
            email,
            name,
            in_org,
            hash: password::hash(&pw)?,
        });
        logins.push(Login {
            role,
            email: email.to_string(),
            password: pw,
        });
    }
    db::transaction(conn, |conn| -> anyhow::Result<()> {
        let org_id = demo_organism(conn)?;
        let cast = people(conn, org_id, &prepared)?;
        let cqp = "CQP-AM";
        let Some((program_id, version_id, _)) =
            crate::curriculum::versions::program_by_code(conn, cqp)?
        else {
            anyhow::bail!("the CQP programme ({cqp}) is missing from the content folder");
        };
        let cohort = demo_cohort(conn, org_id, program_id, version_id)?;
        employ_and_enrol(conn, org_id, cohort, &cast)?;
        if let Some(trainer) = cast.trainer {
            // The trainer who leads the sessions is the cohort's.
            cohorts::set_trainers(conn, cohort, &[trainer])?;
        }
        if let (Some(trainee), Some(trainer)) = (cast.trainee, cast.trainer) {
            activity(conn, org_id, cohort, program_id, trainee, trainer)?;
        }
        Ok(())
    })?;
    Ok(logins)
}

/// The demo organism, created once, with what attestations print: the identity and the place
/// of issue.
fn demo_organism(conn: &mut DbConn) -> anyhow::Result<i64> {
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
    Ok(org_id)
}

/// Creates the demo people, or gives the existing ones their new password.
fn people(conn: &mut DbConn, org_id: i64, prepared: &[Prepared]) -> anyhow::Result<Cast> {
    let mut cast = Cast::default();
    for p in prepared {
        let id = match users::by_email(conn, p.email)? {
            Some(u) => {
                users::set_password(conn, None, &u, &p.hash)?;
                u.id
            }
            None => users::create(
                conn,
                None,
                NewUser {
                    email: p.email,
                    name: p.name,
                    role: p.role,
                    organism_id: p.in_org.then_some(org_id),
                    password_hash: Some(&p.hash),
                },
            )?,
        };
        if p.role == Role::Trainee {
            cast.trainee = Some(id);
        }
        if p.role == Role::Trainer {
            cast.trainer = Some(id);
        }
        if p.role == Role::Doctor {
            cast.doctor = Some((id, p.name.to_string()));
        }
    }
    Ok(cast)
}

fn demo_cohort(
    conn: &mut DbConn,
    org_id: i64,
    program_id: i64,
    version_id: i64,
) -> anyhow::Result<i64> {
    if let Some(id) = cohorts::cohort_by_name(conn, org_id, DEMO_COHORT)? {
        return Ok(id);
    }
    // Started two months ago, so that the demo has past activity to show.
    let today = crate::base::paris::today();
    let today = today - chrono::Months::new(2);
    Ok(cohorts::create_cohort(
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
    )?)
}

/// The demo doctor employs the demo trainee (he follows her and receives her attestation),
/// and she is enrolled in the demo cohort.
fn employ_and_enrol(
    conn: &mut DbConn,
    org_id: i64,
    cohort: i64,
    cast: &Cast,
) -> anyhow::Result<()> {
    if let (Some(trainee), Some((doctor, doctor_name))) = (cast.trainee, &cast.doctor)
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
                // Hired some months before the cohort started, as assistants are.
                hire_date: crate::base::paris::today() - chrono::Months::new(5),
                funding: "contrat_pro",
                employer_id: Some(employer),
            },
        )?;
    }
    if let Some(trainee) = cast.trainee
        && !cohorts::is_enrolled(conn, trainee)?
    {
        let start = cohorts::cohort(conn, cohort)?
            .map(|c| c.start_date)
            .unwrap_or_else(crate::base::paris::today);
        cohorts::enrol(conn, None, org_id, cohort, trainee, start)?;
    }
    Ok(())
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
    use crate::db::schema::daily_activity;
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
    let scene = Scene {
        org_id,
        cohort,
        m1,
        trainee,
        trainer,
        today: crate::base::paris::today(),
    };
    signed_morning(conn, &scene)?;
    study_evenings(conn, &scene)?;
    question_answered(conn, &scene, &format!("{code} — {title}"))
}

/// Who and what the demo activity is about.
struct Scene {
    org_id: i64,
    cohort: i64,
    /// The first module of the programme.
    m1: i64,
    trainee: i64,
    trainer: i64,
    today: chrono::NaiveDate,
}

/// The in-person morning two weeks ago, signed by the trainee and closed by the trainer.
fn signed_morning(conn: &mut DbConn, s: &Scene) -> anyhow::Result<()> {
    use crate::tracking::attendance;
    let day = s.today - chrono::Duration::days(14);
    let t = |h, m| chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default();
    cohorts::add_sessions(
        conn,
        s.trainer,
        s.org_id,
        s.cohort,
        &[cohorts::NewSession {
            module_id: s.m1,
            trainer_id: Some(s.trainer),
            day,
            starts_at: t(9, 0),
            ends_at: t(12, 30),
            place: "Salle 2, 12 rue des Écoles",
        }],
    )?;
    let session = cohorts::sessions_of(conn, s.cohort)?
        .into_iter()
        .find(|x| x.day == day && x.module_id == s.m1)
        .ok_or_else(|| anyhow::anyhow!("demo session not created"))?;
    attendance::open(conn, s.trainer, s.org_id, &session)?;
    // Signed during the half-day itself, as she would have.
    let signed_at = crate::base::paris::paris_to_utc(session.day.and_time(session.starts_at));
    attendance::sign(
        conn,
        s.trainee,
        s.org_id,
        session.id,
        s.trainee,
        "stagiaire",
        signed_at,
    )?
    .map_err(|e| anyhow::anyhow!("demo signature: {}", e.message()))?;
    attendance::close(conn, Some(s.trainer), s.org_id, &session)?
        .map_err(|e| anyhow::anyhow!("demo sheet: {}", e.message()))?;
    Ok(())
}

/// Ten evenings of study, 35 to 53 minutes each, added to the module's total.
fn study_evenings(conn: &mut DbConn, s: &Scene) -> anyhow::Result<()> {
    use crate::db::schema::{daily_activity, module_totals};
    use diesel::prelude::*;
    let at = |d: chrono::NaiveDate, h: u32, m: u32| {
        crate::base::paris::paris_to_utc(
            d.and_time(chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default()),
        )
    };
    let (trainee, m1) = (s.trainee, s.m1);
    let mut total = 0i64;
    let mut last = None;
    // Nine evenings before today, then a session that ended a moment ago: this month's chart
    // has data whatever the day the demo runs.
    let now = crate::db::now();
    for i in 0..10i64 {
        let d = s.today - chrono::Duration::days(9 - i);
        let mut secs = (35 + 2 * i) * 60;
        let mut first = at(d, 18, 30);
        if i == 9 {
            let since_midnight = (now - crate::base::paris::paris_midnight(d)).num_seconds();
            secs = secs.min(since_midnight - 180);
            if secs <= 0 {
                break;
            }
            first = now - chrono::Duration::seconds(secs + 120);
        }
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
    Ok(())
}

/// A question in her M1 thread, and the trainer's answer.
fn question_answered(conn: &mut DbConn, s: &Scene, subject: &str) -> anyhow::Result<()> {
    use crate::followup::rules::MessageKind;
    use crate::followup::store::{self as followup, NewMessage, Target};
    let (thread, _) = followup::post(
        conn,
        Target::Module {
            organism_id: s.org_id,
            cohort_id: s.cohort,
            trainee_id: s.trainee,
            module_id: s.m1,
            subject: subject.to_string(),
        },
        NewMessage {
            author_id: s.trainee,
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
            author_id: s.trainer,
            kind: MessageKind::Reponse,
            body: "Bonjour Julie, suivez le protocole du cabinet : notez la demande et \
                   transmettez-la au médecin, qui décide. Nous le reverrons en séance.",
            attachment: None,
            ip: "127.0.0.1".into(),
        },
    )?;
    // Asked three evenings ago, answered the next morning: the answer time the Qualiopi
    // figures show is a real one.
    use crate::db::schema::{followup_messages, followup_threads};
    use diesel::prelude::*;
    let at = |days: i64, h: u32, m: u32| {
        crate::base::paris::paris_to_utc(
            (s.today - chrono::Duration::days(days))
                .and_time(chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default()),
        )
    };
    let (asked, answered) = (at(3, 19, 10), at(2, 8, 45));
    let ids: Vec<i64> = followup_messages::table
        .filter(followup_messages::thread_id.eq(thread))
        .order(followup_messages::id.asc())
        .select(followup_messages::id)
        .load(conn)?;
    for (id, when) in ids.iter().zip([asked, answered]) {
        diesel::update(followup_messages::table.find(id))
            .set(followup_messages::created_at.eq(when))
            .execute(conn)?;
    }
    diesel::update(followup_threads::table.find(thread))
        .set((
            followup_threads::created_at.eq(asked),
            followup_threads::last_message_at.eq(answered),
        ))
        .execute(conn)?;
    Ok(())
}
