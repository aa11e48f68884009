//! The launch, on the site's origin: the trainee's activity page frames this address, which
//! opens (or resumes) her attempt at one SCO or AU with a new secret and sends the frame to
//! the packages' origin (a SCO to its host page, a cmi5 AU to its own address with the
//! launch parameters). Her cookie is read here, and never leaves this origin.

use actix_web::{HttpResponse, web};
use chrono::Duration;

use super::play::token_sha;
use super::rules::LAUNCH_HOURS;
use crate::accounts::CurrentUser;
use crate::curriculum::Content;
use crate::curriculum::viewer::{Viewer, viewer};
use crate::scorm::cmi5::{Au, AuUrl};
use crate::scorm::cmi5_rules;
use crate::scorm::package::Found;
use crate::scorm::store;
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/programmes/{program}/{module}/paquets/{slug}/{item}",
        web::get().to(launch),
    );
}

async fn launch(
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<(String, String, String, usize)>,
) -> AppResult<HttpResponse> {
    let (pcode, mcode, slug, index) = path.into_inner();
    let Some(origin) = state.config.packages_url.clone() else {
        return Err(AppError::NotFound);
    };
    let (viewer, ed) = viewer(&state, &content, &me, &pcode).await?;
    let module = ed.module(&mcode).ok_or(AppError::NotFound)?;
    let (_, activity) = module.activity(&slug).ok_or(AppError::NotFound)?;
    let package = activity.package().ok_or(AppError::NotFound)?;
    let (item, _) = *package.items().get(index).ok_or(AppError::NotFound)?;
    let Viewer::Trainee(trainee) = viewer else {
        return Err(AppError::Forbidden(
            "L'aperçu ne lance pas les modules e-learning : ils s'ouvrent dans l'espace d'un stagiaire."
                .into(),
        ));
    };
    let lesson = ed.activity_id(&mcode, &slug).ok_or(AppError::NotFound)?;
    let standard = package.standard_key();
    let token = w::random_token(32)?;
    let session = w::random_token(16)?;
    let (sha, item2, session2) = (token_sha(&token), item.to_string(), session.clone());
    let attempt = state
        .db(move |c| {
            crate::db::transaction(c, |c| {
                let attempt = store::attempt_for(c, trainee, lesson, &item2, standard)?;
                let expires = crate::db::now() + Duration::hours(LAUNCH_HOURS);
                store::add_launch(
                    c,
                    &sha,
                    attempt.id,
                    expires,
                    &session2,
                    attempt.package_seconds,
                )?;
                Ok::<_, AppError>(attempt)
            })
        })
        .await?;
    let Found::Cmi5(course) = &package.opened.found else {
        return Ok(w::redirect(&format!("{origin}/paquets/{token}/")));
    };
    let au = course
        .aus
        .iter()
        .find(|a| a.id == item)
        .ok_or(AppError::NotFound)?;
    let base = format!("{origin}/paquets/{token}");
    // A file of the package plays in a host page that tells this page it is being used.
    if matches!(au.url, AuUrl::Relative(_)) {
        return Ok(w::redirect(&format!("{base}/")));
    }
    let location = cmi5_launch_url(
        au,
        &package.opened.root,
        &base,
        &state.config.base_url,
        &attempt,
    )?;
    Ok(w::redirect(&location))
}

/// The AU's address with the launch parameters of cmi5 §8.1: the endpoint is ours on the
/// packages' origin, and the fetch URL gives the credentials once.
pub(crate) fn cmi5_launch_url(
    au: &Au,
    root: &str,
    base: &str,
    site: &str,
    attempt: &store::Attempt,
) -> AppResult<String> {
    let raw = match &au.url {
        AuUrl::Relative(rel) => format!("{base}/f/{root}{rel}"),
        AuUrl::Absolute(abs) => abs.clone(),
    };
    let mut url = url::Url::parse(&raw)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("AU URL {raw}: {e}")))?;
    let actor = cmi5_rules::actor(site, attempt.trainee_id).to_string();
    let registration = cmi5_rules::registration(attempt.id, &attempt.started_at.to_string());
    url.query_pairs_mut()
        .append_pair("endpoint", &format!("{base}/xapi/"))
        .append_pair("fetch", &format!("{base}/xapi/fetch"))
        .append_pair("actor", &actor)
        .append_pair("registration", &registration)
        .append_pair("activityId", &au.id);
    Ok(url.to_string())
}
