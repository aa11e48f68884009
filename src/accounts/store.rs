//! Account queries.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::rules::{self, Role, StaffSeen};
use crate::audit::{self, Event};
use crate::db::schema::users;
use crate::db::{self, DbConn};

#[derive(Clone, Debug, Queryable, Selectable, Serialize)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub role: String,
    pub organism_id: Option<i64>,
    pub disabled: bool,
    pub token_version: i32,
    pub last_login_at: Option<NaiveDateTime>,
}

impl User {
    pub fn role(&self) -> Option<Role> {
        Role::parse(&self.role)
    }
}

pub fn by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::email.eq(email))
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn by_id(conn: &mut DbConn, id: i64) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub organism_id: Option<i64>,
    pub password_hash: Option<&'a str>,
}

/// Creates an account (the email must be normalised already) and audits it.
/// Call inside a transaction; a taken address is a `Conflict` for the caller to explain.
pub fn create(conn: &mut DbConn, actor: Option<i64>, new: NewUser<'_>) -> QueryResult<i64> {
    let now = db::now();
    let id: i64 = diesel::insert_into(users::table)
        .values((
            users::email.eq(new.email),
            users::name.eq(new.name),
            users::password_hash.eq(new.password_hash),
            users::role.eq(new.role.as_str()),
            users::organism_id.eq(new.organism_id),
            users::disabled.eq(false),
            users::token_version.eq(0),
            users::created_at.eq(now),
            users::updated_at.eq(now),
        ))
        .returning(users::id)
        .get_result(conn)?;
    audit::record(
        conn,
        Event::new("user_created", "user", Some(id))
            .by(actor)
            .in_organism(new.organism_id)
            .key(new.email)
            .detail(serde_json::json!({"role": new.role.as_str(), "name": new.name})),
    )?;
    Ok(id)
}

pub fn email_taken(conn: &mut DbConn, email: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        users::table.filter(users::email.eq(email)),
    ))
    .get_result(conn)
}

/// Failed logins of an address since a time, newest first.
pub fn failures_since(
    conn: &mut DbConn,
    email: &str,
    since: NaiveDateTime,
) -> QueryResult<Vec<NaiveDateTime>> {
    use crate::db::schema::audit_events as a;
    a::table
        .filter(a::action.eq("login_failed"))
        .filter(a::subject_key.eq(email))
        .filter(a::at.gt(since))
        .order(a::at.desc())
        .select(a::at)
        .limit(100)
        .load(conn)
}

pub fn set_password(
    conn: &mut DbConn,
    actor: Option<i64>,
    user: &User,
    password_hash: &str,
) -> QueryResult<()> {
    // A new password ends every session opened with the old one.
    diesel::update(users::table.find(user.id))
        .set((
            users::password_hash.eq(password_hash),
            users::token_version.eq(users::token_version + 1),
            users::updated_at.eq(db::now()),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        Event::new("password_changed", "user", Some(user.id))
            .by(actor)
            .in_organism(user.organism_id)
            .key(user.email.clone()),
    )
}

pub fn set_role(conn: &mut DbConn, actor: i64, user: &User, role: Role) -> QueryResult<()> {
    diesel::update(users::table.find(user.id))
        .set((
            users::role.eq(role.as_str()),
            users::token_version.eq(users::token_version + 1),
            users::updated_at.eq(db::now()),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        Event::new("role_changed", "user", Some(user.id))
            .by(Some(actor))
            .in_organism(user.organism_id)
            .key(user.email.clone())
            .change(
                serde_json::json!({"role": user.role}),
                serde_json::json!({"role": role.as_str()}),
            ),
    )
}

pub fn set_disabled(conn: &mut DbConn, actor: i64, user: &User, disabled: bool) -> QueryResult<()> {
    let action = if disabled {
        "user_disabled"
    } else {
        "user_enabled"
    };
    let event = Event::new(action, "user", Some(user.id))
        .by(Some(actor))
        .change(
            serde_json::json!({"disabled": user.disabled}),
            serde_json::json!({"disabled": disabled}),
        );
    switch(conn, user, disabled, event).map(|_| ())
}

/// Disables or enables an account: its sessions and tokens end with the old `token_version`,
/// and `event` is audited. Only from the state `user` was read in, so that two instances of
/// the scheduled job switch it once: `false` when it had changed meanwhile.
fn switch(conn: &mut DbConn, user: &User, disabled: bool, event: Event<'_>) -> QueryResult<bool> {
    let target = users::table
        .filter(users::id.eq(user.id))
        .filter(users::disabled.eq(user.disabled));
    let changed = diesel::update(target)
        .set((
            users::disabled.eq(disabled),
            users::token_version.eq(users::token_version + 1),
            users::updated_at.eq(db::now()),
        ))
        .execute(conn)?;
    if changed == 0 {
        return Ok(false);
    }
    audit::record(
        conn,
        event.in_organism(user.organism_id).key(user.email.clone()),
    )?;
    Ok(true)
}

/// Disables the staff accounts without a sign-in for `months` at `now` (issue #23, the rule
/// `privacy::rules::Keep::StaffInactive`), each audited with no actor. Run by every instance
/// every minute: an account already disabled is left alone. Returns how many were disabled.
pub fn disable_inactive_staff(
    conn: &mut DbConn,
    now: NaiveDateTime,
    months: u32,
) -> QueryResult<usize> {
    let roles: Vec<&str> = Role::ALL
        .into_iter()
        .filter(|r| r.disabled_when_inactive())
        .map(Role::as_str)
        .collect();
    let rows: Vec<(User, NaiveDateTime)> = users::table
        .filter(users::disabled.eq(false))
        .filter(users::role.eq_any(roles))
        .select((User::as_select(), users::created_at))
        .load(conn)?;
    let pairs: Vec<(&User, StaffSeen)> = rows
        .iter()
        .filter_map(|(u, created_at)| {
            let s = StaffSeen {
                id: u.id,
                role: u.role()?,
                organism_id: u.organism_id,
                last_login_at: u.last_login_at,
                created_at: *created_at,
            };
            Some((u, s))
        })
        .collect();
    let seen: Vec<StaffSeen> = pairs.iter().map(|(_, s)| s.clone()).collect();
    let mut disabled = 0;
    for id in rules::staff_to_disable(&seen, now, months) {
        let Some((user, s)) = pairs.iter().find(|(u, _)| u.id == id) else {
            continue;
        };
        let event = Event::new("user_disabled", "user", Some(id)).change(
            serde_json::json!({"disabled": false}),
            serde_json::json!({
                "disabled": true,
                "reason": "staff_inactive",
                "months": months,
                "last_seen": s.last_seen(),
            }),
        );
        if db::transaction(conn, |c| switch(c, user, true, event))? {
            disabled += 1;
        }
    }
    Ok(disabled)
}

pub fn mark_login(conn: &mut DbConn, user: &User, ip: &str) -> QueryResult<()> {
    diesel::update(users::table.find(user.id))
        .set(users::last_login_at.eq(db::now()))
        .execute(conn)?;
    audit::record(
        conn,
        Event::new("login", "user", Some(user.id))
            .by(Some(user.id))
            .in_organism(user.organism_id)
            .key(user.email.clone())
            .from_ip(ip),
    )
}

/// Staff of one organism, by name.
pub fn staff_of(conn: &mut DbConn, organism_id: i64) -> QueryResult<Vec<User>> {
    users::table
        .filter(users::organism_id.eq(organism_id))
        .filter(users::role.eq_any([Role::OrganismAdmin.as_str(), Role::Trainer.as_str()]))
        .order(users::name.asc())
        .select(User::as_select())
        .load(conn)
}

pub fn count_admins(conn: &mut DbConn) -> QueryResult<i64> {
    users::table
        .filter(users::role.eq(Role::Admin.as_str()))
        .count()
        .get_result(conn)
}

/// A doctor's RPPS and Assurance Maladie numbers, for the text he forwards to his CPAM.
pub fn cpam_identifiers(
    conn: &mut DbConn,
    id: i64,
) -> QueryResult<(Option<String>, Option<String>)> {
    users::table
        .find(id)
        .select((users::rpps, users::am_number))
        .first(conn)
}

/// Records them (as he or his assistant's organism typed them, checked); audited by the caller.
pub fn set_cpam_identifiers(
    conn: &mut DbConn,
    id: i64,
    rpps: Option<&str>,
    am_number: Option<&str>,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((users::rpps.eq(rpps), users::am_number.eq(am_number)))
        .execute(conn)
}
