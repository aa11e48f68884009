//! The public verification pages: anyone holding a document (a CPAM agent, an employer)
//! types or scans its code and sees what it states and whether it is still valid. No login,
//! a rate limit per address, and nothing beyond what the document itself prints.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::rules::{self, Statement};
use super::store;
use crate::db::DbConn;
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/verifier", web::get().to(verify_form))
        .route("/verifier/{code}", web::get().to(verify));
}

/// What the public page shows of a code.
#[derive(Clone, Debug)]
enum Verification {
    /// Not a code (typo, wrong length): nothing was looked up.
    Malformed,
    Unknown,
    /// Found, but the stored content no longer matches its signature.
    Tampered,
    Genuine {
        statement: Box<Statement>,
        /// Its holder's personal data was erased: valid, without a name.
        erased: bool,
        revoked: Option<(chrono::NaiveDateTime, Option<String>)>,
    },
}

/// Looks a typed code up and checks the stored document against its signature.
fn look_up(conn: &mut DbConn, key: &[u8; 32], raw: &str) -> AppResult<Verification> {
    let code = match rules::parse_code(raw) {
        rules::CodeInput::Valid(c) => c,
        rules::CodeInput::Malformed => return Ok(Verification::Malformed),
    };
    let Some(row) = store::by_code(conn, &code)? else {
        return Ok(Verification::Unknown);
    };
    let genuine = match (row.erased_at, row.erased_signature.as_deref()) {
        (Some(_), Some(seal)) => rules::is_genuine_erased(key, &row.payload, seal, &row.code),
        (Some(_), None) => false,
        (None, _) => rules::is_genuine(key, &row.payload, &row.signature, &row.code),
    };
    if !genuine {
        tracing::warn!(
            attestation = row.id,
            "attestation content does not match its signature"
        );
        return Ok(Verification::Tampered);
    }
    let Ok(statement) = serde_json::from_str::<Statement>(&row.payload) else {
        return Ok(Verification::Tampered);
    };
    Ok(Verification::Genuine {
        statement: Box::new(statement),
        erased: row.erased_at.is_some(),
        revoked: row.revoked_at.map(|at| (at, row.revoked_reason.clone())),
    })
}

#[derive(Deserialize)]
struct VerifyQuery {
    code: Option<String>,
}

async fn verify_form(req: HttpRequest, state: State) -> AppResult<HttpResponse> {
    if let Ok(q) = web::Query::<VerifyQuery>::from_query(req.query_string())
        && let Some(code) = q.code.as_deref().map(str::trim).filter(|c| !c.is_empty())
    {
        let safe: String = url::form_urlencoded::byte_serialize(code.as_bytes()).collect();
        return Ok(w::redirect(&format!("/verifier/{safe}")));
    }
    let mut ctx = w::context(&req);
    ctx.insert("outcome", "form");
    state.render("attestation/verify.html", &ctx)
}

/// The public page: what the document states and whether it is valid, nothing more.
async fn verify(
    req: HttpRequest,
    state: State,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    if let Err(retry_after) = state.check_verify_ip(w::client_ip(&req)) {
        return Err(AppError::TooManyRequests {
            message: format!(
                "Trop de vérifications depuis votre adresse. Réessayez dans {retry_after} secondes."
            ),
            retry_after,
        });
    }
    let raw: String = path.into_inner().chars().take(64).collect();
    let key = rules::derive_key(&state.config.secret);
    let r2 = raw.clone();
    let outcome = state.db(move |c| look_up(c, &key, &r2)).await?;
    let mut ctx = w::context(&req);
    ctx.insert("code", &raw);
    let status = match outcome {
        Verification::Malformed => {
            ctx.insert("outcome", "malformed");
            actix_web::http::StatusCode::NOT_FOUND
        }
        Verification::Unknown => {
            ctx.insert("outcome", "unknown");
            actix_web::http::StatusCode::NOT_FOUND
        }
        Verification::Tampered => {
            ctx.insert("outcome", "tampered");
            actix_web::http::StatusCode::NOT_FOUND
        }
        Verification::Genuine {
            statement,
            erased,
            revoked,
        } => {
            ctx.insert(
                "outcome",
                if revoked.is_some() {
                    "revoked"
                } else {
                    "valid"
                },
            );
            ctx.insert("revoked_at", &revoked.map(|r| r.0));
            // Only what the document states; never the trainee's contact or other files.
            ctx.insert(
                "doc",
                &serde_json::json!({
                    "title": statement.kind.title(),
                    "number": statement.number,
                    "trainee_name": statement.trainee_name,
                    "erased": erased,
                    "program_title": statement.program_title,
                    "certification": statement.certification,
                    "period_from": statement.period_from,
                    "period_to": statement.period_to,
                    "issued_on": statement.issued_on,
                    "place": statement.place,
                    "organism": statement.organism,
                    "done_secs": statement.done_secs(),
                    "distance_secs": statement.distance_secs(),
                    "presentiel_secs": statement.presentiel_secs(),
                    "exempted_secs": statement.exempted_secs(),
                    "is_final": statement.kind.is_final(),
                    "funding_ref": statement.funding_ref,
                }),
            );
            actix_web::http::StatusCode::OK
        }
    };
    state.render_status(status, "attestation/verify.html", &ctx)
}
