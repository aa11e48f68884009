//! Sessions as signed JWTs: in an HttpOnly cookie for pages, as a Bearer token for the API.
//! The database stays the truth: every request checks, in one read, that the token's session
//! is still open (see `sessions`), the account enabled and the token generation current, so a
//! logout, a password or a role change ends old sessions at once.

use anyhow::Context;
use std::future::Future;
use std::pin::Pin;

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::rules::Role;
use super::sessions;
use super::store::User;
use crate::config::AppConfig;
use crate::web::{AppError, AppResult, State, csrf};

pub const COOKIE: &str = "parcours_session";
const ISSUER: &str = "parcours";

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: i64,
    pub role: String,
    pub org: Option<i64>,
    /// Token generation of the account when issued.
    pub tv: i32,
    /// The `login_sessions` row this token belongs to; tokens from before sessions had
    /// rows carry 0, which names none.
    #[serde(default)]
    pub sid: i64,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
}

impl Claims {
    pub fn for_session(user: &User, sid: i64, ttl_secs: i64) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            sub: user.id,
            role: user.role.clone(),
            org: user.organism_id,
            tv: user.token_version,
            sid,
            iat: now,
            exp: now + ttl_secs,
            iss: ISSUER.into(),
        }
    }
}

pub fn encode(config: &AppConfig, claims: &Claims) -> AppResult<String> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(&config.secret),
    )
    .context("jwt encode")
    .map_err(AppError::from)
}

/// Only HS256 under our secret, unexpired, from us: `alg: none` and forged tokens fail here.
pub fn decode(config: &AppConfig, token: &str) -> Option<Claims> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_issuer(&[ISSUER]);
    validation.set_required_spec_claims(&["exp", "iat", "iss"]);
    jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(&config.secret),
        &validation,
    )
    .ok()
    .map(|d| d.claims)
}

/// Opens a session for someone who just proved who they are, and signs its token.
pub async fn start(
    state: &State,
    req: &HttpRequest,
    user: &User,
    kind: sessions::Kind,
    ttl_secs: i64,
) -> AppResult<(String, Claims)> {
    let agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let device = super::rules::device_label(agent, kind == sessions::Kind::Api);
    let ip = crate::web::client_ip(req).to_string();
    let user_id = user.id;
    let sid = state
        .db(move |c| {
            Ok(sessions::open(
                c,
                &sessions::NewSession {
                    user_id,
                    kind,
                    device: &device,
                    ip: Some(ip),
                    ttl_secs,
                },
            )?)
        })
        .await?;
    let claims = Claims::for_session(user, sid, ttl_secs);
    Ok((encode(&state.config, &claims)?, claims))
}

pub fn session_cookie(config: &AppConfig, token: String) -> Cookie<'static> {
    Cookie::build(COOKIE, token)
        .path("/")
        .http_only(true)
        .secure(config.base_url.starts_with("https://"))
        .same_site(SameSite::Lax)
        .max_age(time::Duration::minutes(config.session_minutes))
        .finish()
}

pub fn removal_cookie() -> Cookie<'static> {
    let mut c = Cookie::build(COOKIE, "")
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .finish();
    c.make_removal();
    c
}

/// The signed-in person, checked against the database on every request.
#[derive(Clone, Debug, Serialize)]
pub struct CurrentUser {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub organism_id: Option<i64>,
    /// The open session of a person signed in; none for an integration token.
    #[serde(skip)]
    pub session_id: Option<i64>,
}

impl CurrentUser {
    pub fn is(&self, role: Role) -> bool {
        self.role == role
    }

    pub fn require(&self, roles: &[Role]) -> AppResult<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::forbidden())
        }
    }

    /// Platform admins, or staff (admin or trainer) of this very organism.
    pub fn require_staff_of(&self, organism_id: i64) -> AppResult<()> {
        match self.role {
            Role::Admin => Ok(()),
            r if r.is_staff() && self.organism_id == Some(organism_id) => Ok(()),
            _ => Err(AppError::forbidden()),
        }
    }

    /// `require_staff_of` for what is reached by its id: anyone outside the organism gets the
    /// answer of an id that does not exist, so ids tell other organisms nothing.
    pub fn hide_unless_staff_of(&self, organism_id: i64) -> AppResult<()> {
        self.require_staff_of(organism_id)
            .map_err(|_| AppError::NotFound)
    }

    /// Platform admins, or an administrator of this very organism.
    pub fn require_org_admin_of(&self, organism_id: i64) -> AppResult<()> {
        match self.role {
            Role::Admin => Ok(()),
            Role::OrganismAdmin if self.organism_id == Some(organism_id) => Ok(()),
            _ => Err(AppError::forbidden()),
        }
    }

    /// An administrator of this very organism, not a platform admin: for what acts in the
    /// organism's own name, such as its integration tokens.
    pub fn require_own_admin_of(&self, organism_id: i64) -> AppResult<()> {
        if self.role == Role::OrganismAdmin && self.organism_id == Some(organism_id) {
            Ok(())
        } else {
            Err(AppError::forbidden())
        }
    }

    /// The organism of a staff member; anyone else is refused.
    pub fn staff_organism(&self) -> AppResult<i64> {
        match (self.role.is_staff(), self.organism_id) {
            (true, Some(org)) => Ok(org),
            _ => Err(AppError::forbidden()),
        }
    }

    /// A view for templates.
    pub fn view(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "role": self.role.as_str(),
            "role_label": self.role.label(),
            "organism_id": self.organism_id,
        })
    }
}

fn bearer(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(|t| t.trim().to_string())
}

/// The signed claims of a request (Bearer token, else session cookie), before the account is
/// checked against the database. A browser calling the API with its cookie must also prove
/// the call comes from our page (CSRF header).
pub fn claims_of(req: &HttpRequest, state: &State) -> AppResult<Claims> {
    let (token, via_cookie) = match bearer(req) {
        Some(t) => (t, false),
        None => (
            req.cookie(COOKIE)
                .map(|c| c.value().to_string())
                .ok_or(AppError::Unauthenticated)?,
            true,
        ),
    };
    let claims = decode(&state.config, &token).ok_or(AppError::Unauthenticated)?;
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD);
    if via_cookie && unsafe_method && crate::web::is_api(req) {
        let header = req
            .headers()
            .get(csrf::HEADER)
            .and_then(|v| v.to_str().ok());
        csrf::verify(req, header)?;
    }
    Ok(claims)
}

/// Whether an account still honours claims issued to it: enabled, same role, same token
/// generation (a password or role change ends old sessions).
pub fn still_valid(claims: &Claims, disabled: bool, token_version: i32, role: &str) -> bool {
    !disabled && token_version == claims.tv && role == claims.role
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            if let Some(user) = req.extensions().get::<CurrentUser>() {
                return Ok(user.clone());
            }
            let state = req
                .app_data::<State>()
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no app state")))?
                .clone();
            if let Some(secret) = bearer(&req).filter(|t| super::api_tokens::looks_like(t)) {
                // Integration tokens open the API only, never a page.
                if !crate::web::is_api(&req) {
                    return Err(AppError::Unauthenticated);
                }
                let caller = state
                    .db(move |conn| Ok(super::api_tokens::authenticate(conn, &secret)?))
                    .await?
                    .ok_or(AppError::Unauthenticated)?;
                let current = CurrentUser {
                    id: caller.creator.id,
                    email: caller.creator.email,
                    name: format!("Jeton « {} »", caller.name),
                    role: Role::OrganismAdmin,
                    organism_id: Some(caller.organism_id),
                    session_id: None,
                };
                req.extensions_mut().insert(current.clone());
                return Ok(current);
            }
            let claims = claims_of(&req, &state)?;
            let (sub, sid) = (claims.sub, claims.sid);
            let user = state
                .db(move |conn| Ok(sessions::user_of(conn, sub, sid)?))
                .await?
                .ok_or(AppError::Unauthenticated)?;
            let role = user.role().ok_or(AppError::Unauthenticated)?;
            if !still_valid(&claims, user.disabled, user.token_version, &user.role) {
                return Err(AppError::Unauthenticated);
            }
            let current = CurrentUser {
                id: user.id,
                email: user.email,
                name: user.name,
                role,
                organism_id: user.organism_id,
                session_id: Some(sid),
            };
            req.extensions_mut().insert(current.clone());
            Ok(current)
        })
    }
}

/// Renews the session of an active person once its token is a few minutes old: its row
/// first, so a session closed meanwhile (a copied cookie after logout) is never renewed.
pub async fn renew(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let old = req.cookie(COOKIE).map(|c| c.value().to_string());
    let mut res = next.call(req).await?;
    let Some(old) = old else { return Ok(res) };
    if !res.status().is_success() && !res.status().is_redirection() {
        return Ok(res);
    }
    if res.response().cookies().any(|c| c.name() == COOKIE) {
        return Ok(res); // login or logout set it already
    }
    let Some(state) = res.request().app_data::<State>().cloned() else {
        return Ok(res);
    };
    let config = &state.config;
    if let Some(mut claims) = decode(config, &old) {
        let now = chrono::Utc::now().timestamp();
        let ttl = config.session_minutes * 60;
        if now - claims.iat >= (ttl / 6).max(60) {
            claims.iat = now;
            claims.exp = now + ttl;
            let (sub, sid) = (claims.sub, claims.sid);
            let renewed = state
                .db(move |c| Ok(sessions::renew(c, sub, sid, ttl)?))
                .await
                .unwrap_or(false);
            if !renewed {
                return Ok(res);
            }
            if let Ok(token) = encode(config, &claims) {
                res.response_mut()
                    .add_cookie(&session_cookie(config, token))?;
            }
        }
    }
    Ok(res)
}
