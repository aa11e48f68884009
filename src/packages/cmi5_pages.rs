//! The small xAPI endpoint a cmi5 AU talks to, on the packages' origin under its launch's
//! secret: the one-time fetch URL, the state documents (`LMS.LaunchData` first), the learner's
//! preferences and the statements. Only what cmi5 needs: this is no general LRS.
//!
//! Paths accept a doubled slash after `xapi/` (`{sep}`): cmi5.js appends `/statements` to an
//! endpoint that already ends with one.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use serde_json::{Value, json};

use super::Player;
use super::frame_pages::on_packages_origin;
use super::play::{self, Opened};
use crate::curriculum::Content;
use crate::scorm::cmi5::Au;
use crate::scorm::cmi5_rules::{self as rules, Expected};
use crate::scorm::cmi5_store;
use crate::scorm::package::Found;
use crate::web::{AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    use super::cmi5_statements as st;
    cfg.route("/paquets/{token}/xapi/fetch", web::post().to(fetch))
        .route("/paquets/{token}/xapi/{sep:/?}about", web::get().to(about))
        .route("/paquets/{token}/fin", web::get().to(end))
        .route(
            "/paquets/{token}/xapi/{sep:/?}activities/state",
            web::get().to(state_get),
        )
        .route(
            "/paquets/{token}/xapi/{sep:/?}activities/state",
            web::put().to(state_put),
        )
        .route(
            "/paquets/{token}/xapi/{sep:/?}activities/state",
            web::post().to(state_post),
        )
        .route(
            "/paquets/{token}/xapi/{sep:/?}activities/state",
            web::delete().to(state_delete),
        )
        .route(
            "/paquets/{token}/xapi/{sep:/?}agents/profile",
            web::get().to(profile),
        )
        .route(
            "/paquets/{token}/xapi/{sep:/?}statements",
            web::put().to(st::put),
        )
        .route(
            "/paquets/{token}/xapi/{sep:/?}statements",
            web::post().to(st::post),
        );
}

pub const VERSION: &str = "1.0.3";

/// Every answer carries the xAPI version (xAPI §6.2).
pub fn answer(status: StatusCode) -> actix_web::HttpResponseBuilder {
    let mut b = HttpResponse::build(status);
    b.insert_header(("X-Experience-API-Version", VERSION))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    b
}

/// A refusal: JSON with a French message; nothing was changed.
pub fn refuse(status: StatusCode, message: &str) -> HttpResponse {
    answer(status).json(json!({ "error": message }))
}

/// The AU's credentials: derived from the launch's secret, so only the server makes them.
pub fn auth_token(state: &State, token: &str) -> String {
    let mac = state.sign("cmi5-auth", token.as_bytes());
    let user_pass = format!("parcours:{}", crate::base::digest::hex(&mac));
    base64::engine::general_purpose::STANDARD.encode(user_pass)
}

fn authorized(req: &HttpRequest, state: &State, token: &str) -> bool {
    let want = format!("Basic {}", auth_token(state, token));
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|got| {
            got.len() == want.len()
                && got
                    .bytes()
                    .zip(want.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        })
}

/// One launch of one AU, as the xAPI calls see it.
pub struct Session {
    pub token: String,
    /// The AU was done before this launch: played again for review, its result stays.
    pub review: bool,
    pub opened: Opened,
    pub au: Au,
    pub expected: Expected,
}

/// The launch the path's secret opens, if it is a cmi5 AU's (and, `auth`, if the call carries
/// the fetched credentials). `Err` is the answer to give.
pub async fn session(
    req: &HttpRequest,
    state: &State,
    content: &web::Data<Content>,
    auth: bool,
) -> AppResult<Result<Session, HttpResponse>> {
    let unknown = || {
        refuse(
            StatusCode::NOT_FOUND,
            "Ce lancement n'existe pas ou a expiré.",
        )
    };
    let token = req
        .match_info()
        .get("token")
        .unwrap_or_default()
        .to_string();
    if !on_packages_origin(req, state) || token.is_empty() {
        return Ok(Err(unknown()));
    }
    let (content, t) = (content.clone(), token.clone());
    let found = state
        .db(move |c| {
            let o = play::open(c, &content, &t)?;
            let at = cmi5_store::launched_at(c, &play::token_sha(&t))?;
            Ok((o, at))
        })
        .await;
    let (opened, launched_at) = match found {
        Ok(o) => o,
        Err(AppError::NotFound) => return Ok(Err(unknown())),
        Err(e) => return Err(e),
    };
    let au = match opened.package().map(|p| &p.opened.found) {
        Some(Found::Cmi5(course)) => course.aus.iter().find(|a| a.id == opened.attempt.item),
        _ => None,
    };
    let Some(au) = au.cloned() else {
        return Ok(Err(unknown()));
    };
    if auth && !authorized(req, state, &token) {
        return Ok(Err(refuse(
            StatusCode::UNAUTHORIZED,
            "Identifiants xAPI absents ou invalides : le module doit d'abord appeler l'adresse fetch.",
        )));
    }
    let a = &opened.attempt;
    let expected = Expected {
        home_page: state.config.base_url.clone(),
        name: format!("parcours-{}", a.trainee_id),
        registration: rules::registration(a.id, &a.started_at.to_string()),
        session_id: opened.launch.session_id.clone(),
        activity_id: au.id.clone(),
        mastery_score: au.mastery_score,
    };
    let review = opened.attempt.completed_at.is_some_and(|d| d < launched_at);
    Ok(Ok(Session {
        token,
        review,
        opened,
        au,
        expected,
    }))
}

macro_rules! open_or_answer {
    ($e:expr) => {
        match $e.await? {
            Ok(s) => s,
            Err(res) => return Ok(res),
        }
    };
}
pub(crate) use open_or_answer;

/// The fetch URL (cmi5 §8.2.3): the credentials, once per launch.
async fn fetch(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
) -> AppResult<HttpResponse> {
    let s = open_or_answer!(session(&req, &state, &content, false));
    let sha = play::token_sha(&s.token);
    let first = state
        .db(move |c| Ok(crate::scorm::store::mark_fetched(c, &sha)?))
        .await?;
    if !first {
        return Ok(answer(StatusCode::CONFLICT).json(json!({
            "error-code": "1",
            "error-text": "Les identifiants de ce lancement ont déjà été remis : relancez le module.",
        })));
    }
    Ok(answer(StatusCode::OK).json(json!({ "auth-token": auth_token(&state, &s.token) })))
}

async fn about(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
) -> AppResult<HttpResponse> {
    open_or_answer!(session(&req, &state, &content, false));
    Ok(answer(StatusCode::OK).json(json!({ "version": [VERSION] })))
}

/// The query's parameters (the last of a repeated one).
pub fn query(req: &HttpRequest) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect()
}

fn agent_matches(q: &std::collections::HashMap<String, String>, e: &Expected) -> bool {
    q.get("agent")
        .and_then(|a| serde_json::from_str::<Value>(a).ok())
        .is_some_and(|a| rules::same_agent(&a, e))
}

/// The checks of a state call; `Ok(state_id)`, or why it is a bad request.
fn state_call(
    req: &HttpRequest,
    s: &Session,
    need_id: bool,
) -> Result<Option<String>, &'static str> {
    let q = query(req);
    if q.get("activityId") != Some(&s.au.id) {
        return Err("Le paramètre activityId n'est pas l'activité du module.");
    }
    if !agent_matches(&q, &s.expected) {
        return Err("Le paramètre agent n'est pas le stagiaire de ce lancement.");
    }
    if q.get("registration")
        .is_some_and(|r| *r != s.expected.registration)
    {
        return Err("Le paramètre registration n'est pas celui du lancement.");
    }
    let id = q.get("stateId").filter(|v| !v.is_empty()).cloned();
    if need_id && id.is_none() {
        return Err("Le paramètre stateId manque.");
    }
    Ok(id)
}

async fn state_get(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
) -> AppResult<HttpResponse> {
    let s = open_or_answer!(session(&req, &state, &content, true));
    let id = match state_call(&req, &s, true) {
        Ok(id) => id.unwrap_or_default(),
        Err(why) => return Ok(refuse(StatusCode::BAD_REQUEST, why)),
    };
    // Written by the LMS before the launch: made from the course structure each time.
    if id == rules::LAUNCH_DATA {
        let mut doc = rules::launch_data(&s.au, &s.expected.session_id, s.review);
        if let Some(origin) = &state.config.packages_url {
            doc["returnURL"] = json!(format!("{origin}/paquets/{}/fin", s.token));
        }
        return Ok(answer(StatusCode::OK).json(doc));
    }
    let attempt = s.opened.attempt.id;
    let found = state
        .db(move |c| Ok(cmi5_store::state(c, attempt, &id)?))
        .await?;
    Ok(match found {
        Some((body, kind)) => answer(StatusCode::OK).content_type(kind).body(body),
        None => refuse(StatusCode::NOT_FOUND, "Ce document d'état n'existe pas."),
    })
}

fn refuse_launch_data(id: &str) -> Option<HttpResponse> {
    (id == rules::LAUNCH_DATA).then(|| {
        refuse(
            StatusCode::FORBIDDEN,
            "LMS.LaunchData appartient à la plateforme : le module ne peut pas le modifier.",
        )
    })
}

fn content_type(req: &HttpRequest) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string()
}

/// PUT replaces the document; POST merges JSON objects into it (xAPI §7.3).
async fn write_state(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    body: web::Bytes,
    merge: bool,
) -> AppResult<HttpResponse> {
    let s = open_or_answer!(session(&req, &state, &content, true));
    let id = match state_call(&req, &s, true) {
        Ok(id) => id.unwrap_or_default(),
        Err(why) => return Ok(refuse(StatusCode::BAD_REQUEST, why)),
    };
    if let Some(res) = refuse_launch_data(&id) {
        return Ok(res);
    }
    let Ok(text) = String::from_utf8(body.to_vec()) else {
        return Ok(refuse(
            StatusCode::BAD_REQUEST,
            "Le document n'est pas en UTF-8.",
        ));
    };
    let kind = content_type(&req);
    let attempt = s.opened.attempt.id;
    let merged = state
        .db(move |c| {
            crate::db::transaction(c, |c| {
                let mut text = text;
                if merge {
                    let old = cmi5_store::state(c, attempt, &id)?;
                    let new: Option<serde_json::Map<String, Value>> =
                        serde_json::from_str(&text).ok();
                    match (old.map(|(b, _)| serde_json::from_str::<Value>(&b)), new) {
                        (Some(Ok(Value::Object(mut o))), Some(n)) => {
                            o.extend(n);
                            text = Value::Object(o).to_string();
                        }
                        (None, Some(_)) => {}
                        _ => return Ok(false),
                    }
                }
                cmi5_store::put_state(c, attempt, &id, &text, &kind)?;
                Ok::<_, AppError>(true)
            })
        })
        .await?;
    if !merged {
        return Ok(refuse(
            StatusCode::BAD_REQUEST,
            "Seuls deux objets JSON se fusionnent : utilisez PUT pour remplacer le document.",
        ));
    }
    Ok(answer(StatusCode::NO_CONTENT).finish())
}

async fn state_put(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    write_state(req, state, content, body, false).await
}

async fn state_post(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    write_state(req, state, content, body, true).await
}

async fn state_delete(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
) -> AppResult<HttpResponse> {
    let s = open_or_answer!(session(&req, &state, &content, true));
    let id = match state_call(&req, &s, false) {
        Ok(id) => id,
        Err(why) => return Ok(refuse(StatusCode::BAD_REQUEST, why)),
    };
    if let Some(res) = id.as_deref().and_then(refuse_launch_data) {
        return Ok(res);
    }
    let attempt = s.opened.attempt.id;
    state
        .db(move |c| Ok(cmi5_store::delete_states(c, attempt, id.as_deref())?))
        .await?;
    Ok(answer(StatusCode::NO_CONTENT).finish())
}

/// The learner's preferences (cmi5 §11): French, nothing else is known of her.
async fn profile(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
) -> AppResult<HttpResponse> {
    let s = open_or_answer!(session(&req, &state, &content, true));
    let q = query(&req);
    if !agent_matches(&q, &s.expected) {
        return Ok(refuse(
            StatusCode::BAD_REQUEST,
            "Le paramètre agent n'est pas le stagiaire de ce lancement.",
        ));
    }
    if q.get("profileId").map(String::as_str) != Some(rules::LEARNER_PREFERENCES) {
        return Ok(refuse(StatusCode::NOT_FOUND, "Ce profil n'existe pas."));
    }
    let mut res = answer(StatusCode::OK).json(json!({ "languagePreference": "fr-FR" }));
    res.headers_mut()
        .insert(header::ETAG, HeaderValue::from_static("\"fr-FR\""));
    Ok(res)
}

/// The page in the player's frame for an AU of the package: the AU in a frame of its own, on
/// this same origin, whose use it tells the activity page (our clock credits the time).
pub fn host(state: &State, o: &Opened, token: &str) -> AppResult<HttpResponse> {
    let package = o.package().ok_or(AppError::NotFound)?;
    let Found::Cmi5(course) = &package.opened.found else {
        return Err(AppError::NotFound);
    };
    let au = course
        .aus
        .iter()
        .find(|a| a.id == o.attempt.item)
        .ok_or(AppError::NotFound)?;
    let origin = state
        .config
        .packages_url
        .as_deref()
        .ok_or(AppError::NotFound)?;
    let src = super::launch_pages::cmi5_launch_url(
        au,
        &package.opened.root,
        &format!("{origin}/paquets/{token}"),
        &state.config.base_url,
        &o.attempt,
    )?;
    let mut ctx = tera::Context::new();
    ctx.insert("title", &au.title);
    ctx.insert("src", &src);
    state.render("packages/cmi5_host.html", &ctx)
}

/// The AU's `returnURL`: where it goes when it exits, in its frame. The activity page is told,
/// and shows the part's new state.
async fn end(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
) -> AppResult<HttpResponse> {
    open_or_answer!(session(&req, &state, &content, false));
    let mut res = state.render("packages/cmi5_end.html", &tera::Context::new())?;
    let csp = super::frame_pages::csp(&state.config.base_url);
    if let Ok(v) = HeaderValue::from_str(&csp) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    Ok(res)
}

/// The player's commit limit, shared with the SCORM commits: a flood is a bug or an attack.
pub fn flooded(player: &Player, s: &Session) -> Option<HttpResponse> {
    player
        .commits
        .check_key(&s.opened.attempt.trainee_id)
        .is_err()
        .then(|| {
            refuse(
                StatusCode::TOO_MANY_REQUESTS,
                "Trop de déclarations envoyées par le module : réessayez dans une minute.",
            )
        })
}
