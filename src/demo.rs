//! Demo data and the first platform administrator, for a newcomer's first run.

use crate::accounts::store::{self as users, NewUser};
use crate::accounts::{Role, password, rules};
use crate::cohorts::rules::Organism;
use crate::cohorts::store as organisms;
use crate::db::{self, DbConn};

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
    let email = rules::normalize_email(email).map_err(|m| anyhow::anyhow!(m))?;
    let name = rules::validate_name(name).map_err(|m| anyhow::anyhow!(m))?;
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
        let cohort = match organisms::cohort_by_name(conn, org_id, DEMO_COHORT)? {
            Some(id) => id,
            None => {
                let today = crate::web::format::to_paris(db::now()).date_naive();
                organisms::create_cohort(
                    conn,
                    None,
                    &organisms::NewCohort {
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
            && organisms::trainee(conn, None, trainee)?.is_none()
        {
            let employer = organisms::employer_for(conn, *doctor, doctor_name, None)?;
            organisms::create_profile(
                conn,
                &organisms::NewProfile {
                    user_id: trainee,
                    organism_id: org_id,
                    profile: "aucun",
                    hire_date: crate::web::format::to_paris(db::now()).date_naive(),
                    funding: "contrat_pro",
                    employer_id: Some(employer),
                },
            )?;
        }
        if let Some(trainee) = trainee
            && !organisms::is_enrolled(conn, trainee)?
        {
            let today = crate::web::format::to_paris(db::now()).date_naive();
            organisms::enrol(conn, None, org_id, cohort, trainee, today)?;
        }
        Ok(())
    })?;
    Ok(logins)
}
