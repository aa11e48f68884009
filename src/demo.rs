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

/// Creates (or refreshes) the demo organism and its people, with new passwords each run.
pub fn seed(conn: &mut DbConn) -> anyhow::Result<Vec<Login>> {
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
        for (role, email, name, in_org, hash) in &prepared {
            match users::by_email(conn, email)? {
                Some(u) => users::set_password(conn, None, &u, hash)?,
                None => {
                    users::create(
                        conn,
                        None,
                        NewUser {
                            email,
                            name,
                            role: *role,
                            organism_id: in_org.then_some(org_id),
                            password_hash: Some(hash),
                        },
                    )?;
                }
            }
        }
        Ok(())
    })?;
    Ok(logins)
}
