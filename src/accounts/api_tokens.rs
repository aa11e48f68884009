//! An organism's integration tokens: created and revoked by its administrator, scoped to the
//! organism, accepted on `/api` only. Only a SHA-256 of the secret is stored; the secret is
//! shown once, at creation. A token acts as the administrator who created it, so it dies
//! with that account (disabled, moved, or no longer an administrator). Every token expires:
//! after 30, 90 or 365 days, as its creator chooses.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::rules::Role;
use super::store::User;
use crate::audit::{self, Event};
use crate::db::schema::{api_tokens, users};
use crate::db::{self, DbConn};

/// Every token starts with this, so a Bearer value is told from a session JWT without parsing.
pub const SCHEME: &str = "prc_";
/// How many characters of the token are kept in clear to tell tokens apart in lists.
const PREFIX_LEN: usize = 12;
/// `last_used_at` is written at most this often per token, not on every call.
const USE_PRECISION_SECS: i64 = 60;

pub fn looks_like(bearer: &str) -> bool {
    bearer.starts_with(SCHEME)
}

fn digest(secret: &str) -> String {
    format!("{:x}", Sha256::digest(secret.as_bytes()))
}

/// The lifetimes an administrator may give a token, in days; the last is the default.
pub const LIFETIMES: [i64; 3] = [30, 90, 365];

/// A lifetime from the form: one of [`LIFETIMES`], the longest when left empty.
pub fn validate_lifetime(raw: &str) -> Result<i64, &'static str> {
    match raw.trim() {
        "" => Ok(LIFETIMES[LIFETIMES.len() - 1]),
        s => s
            .parse::<i64>()
            .ok()
            .filter(|d| LIFETIMES.contains(d))
            .ok_or("Choisissez une durée de validité de 30, 90 ou 365 jours."),
    }
}

/// A display name of 1 to 80 characters, without control characters.
pub fn validate_name(raw: &str) -> Result<String, &'static str> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("Donnez un nom au jeton (par exemple le logiciel qui l'utilise).");
    }
    if name.chars().count() > 80 {
        return Err("Le nom du jeton ne doit pas dépasser 80 caractères.");
    }
    if name.chars().any(char::is_control) {
        return Err("Le nom du jeton contient un caractère non autorisé.");
    }
    Ok(name.to_string())
}

#[derive(Debug, Serialize, Queryable, Selectable)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
}

#[derive(Debug, Serialize)]
pub struct Listed {
    #[serde(flatten)]
    pub token: ApiToken,
    pub created_by: String,
    pub expired: bool,
}

pub fn list(conn: &mut DbConn, organism: i64) -> QueryResult<Vec<Listed>> {
    let rows: Vec<(ApiToken, String)> = api_tokens::table
        .inner_join(users::table.on(users::id.eq(api_tokens::created_by)))
        .filter(api_tokens::organism_id.eq(organism))
        .order((api_tokens::revoked_at.is_not_null(), api_tokens::id.desc()))
        .select((ApiToken::as_select(), users::name))
        .load(conn)?;
    let now = db::now();
    Ok(rows
        .into_iter()
        .map(|(token, created_by)| Listed {
            expired: token.expires_at.is_some_and(|e| e <= now),
            token,
            created_by,
        })
        .collect())
}

/// Creates a token and returns its secret, the only time it is ever available.
pub fn create(
    conn: &mut DbConn,
    organism: i64,
    admin: i64,
    name: &str,
    secret_body: &str,
    lifetime_days: i64,
) -> QueryResult<String> {
    let secret = format!("{SCHEME}{secret_body}");
    let prefix: String = secret.chars().take(PREFIX_LEN).collect();
    let now = db::now();
    let expires_at = now + chrono::Duration::days(lifetime_days);
    db::transaction(conn, |c| {
        let id: i64 = diesel::insert_into(api_tokens::table)
            .values((
                api_tokens::organism_id.eq(organism),
                api_tokens::name.eq(name),
                api_tokens::prefix.eq(&prefix),
                api_tokens::secret_sha256.eq(digest(&secret)),
                api_tokens::created_by.eq(admin),
                api_tokens::created_at.eq(now),
                api_tokens::expires_at.eq(expires_at),
            ))
            .returning(api_tokens::id)
            .get_result(c)?;
        audit::record(
            c,
            Event::new("api_token.create", "api_token", Some(id))
                .by(Some(admin))
                .in_organism(Some(organism))
                .key(prefix.clone())
                .detail(serde_json::json!({"name": name, "expires_at": expires_at})),
        )?;
        Ok(secret)
    })
}

/// Revokes a token of this organism; false when there is no such live token.
pub fn revoke(conn: &mut DbConn, organism: i64, admin: i64, id: i64) -> QueryResult<bool> {
    db::transaction(conn, |c| {
        let prefix: Option<String> = diesel::update(
            api_tokens::table
                .filter(api_tokens::id.eq(id))
                .filter(api_tokens::organism_id.eq(organism))
                .filter(api_tokens::revoked_at.is_null()),
        )
        .set(api_tokens::revoked_at.eq(db::now()))
        .returning(api_tokens::prefix)
        .get_result(c)
        .optional()?;
        let Some(prefix) = prefix else {
            return Ok(false);
        };
        audit::record(
            c,
            Event::new("api_token.revoke", "api_token", Some(id))
                .by(Some(admin))
                .in_organism(Some(organism))
                .key(prefix),
        )?;
        Ok(true)
    })
}

/// Who a live token stands for: the organism's administrator who created it (`session.rs`
/// makes the current user of it).
pub struct TokenCaller {
    pub creator: User,
    pub organism_id: i64,
    /// The token's name.
    pub name: String,
}

/// The caller a live token stands for, or None. Notes the use, at most once a minute.
pub fn authenticate(conn: &mut DbConn, secret: &str) -> QueryResult<Option<TokenCaller>> {
    let found: Option<(i64, i64, String, Option<NaiveDateTime>, User)> = api_tokens::table
        .inner_join(users::table.on(users::id.eq(api_tokens::created_by)))
        .filter(api_tokens::secret_sha256.eq(digest(secret)))
        .filter(api_tokens::revoked_at.is_null())
        .filter(api_tokens::expires_at.gt(db::now()))
        .select((
            api_tokens::id,
            api_tokens::organism_id,
            api_tokens::name,
            api_tokens::last_used_at,
            User::as_select(),
        ))
        .first(conn)
        .optional()?;
    let Some((id, organism, name, last_used, creator)) = found else {
        return Ok(None);
    };
    let still_admin = !creator.disabled
        && creator.role() == Some(Role::OrganismAdmin)
        && creator.organism_id == Some(organism);
    if !still_admin {
        return Ok(None);
    }
    let now = db::now();
    if last_used.is_none_or(|t| (now - t).num_seconds() >= USE_PRECISION_SECS) {
        diesel::update(api_tokens::table.find(id))
            .set(api_tokens::last_used_at.eq(now))
            .execute(conn)?;
    }
    Ok(Some(TokenCaller {
        creator,
        organism_id: organism,
        name,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_are_one_of_the_choices() {
        assert_eq!(validate_lifetime(""), Ok(365));
        assert_eq!(validate_lifetime(" 30 "), Ok(30));
        assert_eq!(validate_lifetime("90"), Ok(90));
        for bad in ["0", "-30", "1000", "trente", "366"] {
            assert!(validate_lifetime(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(validate_name("  Logiciel RH "), Ok("Logiciel RH".into()));
        assert!(validate_name("   ").is_err());
        assert!(validate_name(&"x".repeat(81)).is_err());
        assert!(validate_name("a\nb").is_err());
    }

    #[test]
    fn tokens_are_told_from_session_jwts() {
        assert!(looks_like("prc_abc"));
        assert!(!looks_like("eyJhbGciOiJIUzI1NiJ9.e30.x"));
        assert_ne!(digest("prc_a"), digest("prc_b"));
        assert_eq!(digest("prc_a").len(), 64);
    }
}
