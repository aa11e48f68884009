//! Who opens a programme's pages, and which version of it they see.

use std::sync::Arc;

use actix_web::web;

use super::store;
use super::{Content, Edition};
use crate::accounts::{CurrentUser, Role};
use crate::db::DbConn;
use crate::web::{AppError, AppResult, State};

/// Who is looking: a trainee of this programme, or staff previewing it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Viewer {
    Trainee(i64),
    Preview,
}

/// Who is looking, the version of the programme they see, and what `read` finds for them, in
/// one trip to the database. A trainee sees her cohort's version and no other programme; staff
/// see the current version of a reference programme or of their own organism's (any other is
/// unknown to them); a doctor sees none.
pub async fn viewer_with<T, F>(
    state: &State,
    content: &web::Data<Content>,
    me: &CurrentUser,
    program: &str,
    read: F,
) -> AppResult<(Viewer, Arc<Edition>, T)>
where
    F: FnOnce(&mut DbConn, Viewer, &Edition) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    if me.is(Role::Doctor) {
        return Err(AppError::forbidden());
    }
    let (me, program, content) = (me.clone(), program.to_string(), content.clone());
    state
        .db(move |c| {
            let (viewer, ed) = edition_for(c, &content, &me, &program)?;
            let found = read(c, viewer, &ed)?;
            Ok((viewer, ed, found))
        })
        .await
}

/// The version of a programme someone may open (see `viewer_with`). Blocking.
pub fn edition_for(
    c: &mut DbConn,
    content: &Content,
    me: &CurrentUser,
    program: &str,
) -> AppResult<(Viewer, Arc<Edition>)> {
    if me.is(Role::Trainee) {
        return match store::trainee_version(c, me.id)? {
            Some((code, version)) if code == program => {
                Ok((Viewer::Trainee(me.id), content.edition(c, version)?))
            }
            // A reference programme is no secret: not hers, it is refused. An organism's own
            // programme that is not hers is answered as if it did not exist.
            _ => match super::versions::program_by_code(c, program)? {
                Some((_, _, None)) => Err(AppError::forbidden()),
                _ => Err(AppError::NotFound),
            },
        };
    }
    if !me.role.is_staff() && !me.is(Role::Admin) {
        return Err(AppError::forbidden());
    }
    let ed = content.current(c, program)?.ok_or(AppError::NotFound)?;
    match ed.organism_id {
        Some(org) if !me.is(Role::Admin) && me.organism_id != Some(org) => Err(AppError::NotFound),
        _ => Ok((Viewer::Preview, ed)),
    }
}

pub async fn viewer(
    state: &State,
    content: &web::Data<Content>,
    me: &CurrentUser,
    program: &str,
) -> AppResult<(Viewer, Arc<Edition>)> {
    let (v, ed, ()) = viewer_with(state, content, me, program, |_, _, _| Ok(())).await?;
    Ok((v, ed))
}
