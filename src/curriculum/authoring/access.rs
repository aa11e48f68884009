//! Who may edit an organism's programme: its organism's administrators, and the staff they
//! named authors. Everyone else gets the answer of a programme that does not exist (another
//! organism's people, references edited as files) or a 403 (a trainer of the organism who is
//! no author). Blocking: call inside `state.db`.

use diesel::prelude::*;

use super::drafts::{self, Draft};
use crate::accounts::{CurrentUser, Role};
use crate::db::DbConn;
use crate::db::schema::{programs, users};
use crate::web::{AppError, AppResult};

/// Organism admins, and the staff they named authors, of this organism.
pub fn may_author(c: &mut DbConn, me: &CurrentUser, organism: i64) -> AppResult<()> {
    me.hide_unless_staff_of(organism)?;
    if me.is(Role::Admin) || me.is(Role::OrganismAdmin) {
        return Ok(());
    }
    let author: bool = users::table
        .find(me.id)
        .select(users::can_author)
        .first(c)?;
    if author {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Seuls les auteurs nommés par l'organisme modifient ses programmes.".into(),
        ))
    }
}

/// An organism's programme its author may edit, by code: its id, organism and draft.
pub fn authored(c: &mut DbConn, me: &CurrentUser, code: &str) -> AppResult<(i64, i64, Draft)> {
    let (id, organism): (i64, Option<i64>) = programs::table
        .filter(programs::code.eq(code))
        .select((programs::id, programs::organism_id))
        .first(c)
        .optional()?
        .ok_or(AppError::NotFound)?;
    // The references are edited as files, never in the browser.
    let organism = organism.ok_or(AppError::NotFound)?;
    may_author(c, me, organism)?;
    let draft = drafts::get(c, id)?.ok_or(AppError::NotFound)?;
    Ok((id, organism, draft))
}
