//! One error type for every handler, mapped once to HTTP. `/api/` gets a JSON body;
//! pages get a French HTML page (see `web::error_pages`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::base::field::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("authentication required")]
    Unauthenticated,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("too many requests")]
    TooManyRequests { message: String, retry_after: u64 },
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn forbidden() -> Self {
        AppError::Forbidden("Vous n'avez pas accès à cette page.".into())
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid(vec![FieldError::new(field, message)])
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound => "not_found",
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden(_) => "forbidden",
            AppError::Invalid(_) => "invalid_input",
            AppError::Conflict(_) => "conflict",
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::Unavailable(_) => "unavailable",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::Internal(_) => "internal",
        }
    }

    /// The French message shown to people; never internals.
    pub fn public_message(&self) -> String {
        match self {
            AppError::NotFound => "La page ou la ressource demandée n'existe pas.".into(),
            AppError::Unauthenticated => "Veuillez vous connecter.".into(),
            AppError::Forbidden(m)
            | AppError::Conflict(m)
            | AppError::Unavailable(m)
            | AppError::UnsupportedMediaType(m) => m.clone(),
            AppError::Invalid(fields) => match fields.as_slice() {
                [one] => one.message.clone(),
                _ => "Certaines informations sont invalides.".into(),
            },
            AppError::TooManyRequests { message, .. } => message.clone(),
            AppError::Internal(_) => {
                "Une erreur interne est survenue. Réessayez dans un instant.".into()
            }
        }
    }

    pub fn fields(&self) -> &[FieldError] {
        match self {
            AppError::Invalid(f) => f,
            _ => &[],
        }
    }
}

const STORE_DOWN: &str = "Le stockage des fichiers ne répond pas : rien n'a été enregistré. \
     Réessayez dans quelques minutes ; les pages sans fichier restent disponibles.";
const DISK_FULL: &str = "L'espace disque du serveur est plein : rien n'a été enregistré. \
     Réessayez plus tard ; l'équipe technique est prévenue.";
const DATABASE_DOWN: &str = "La base de données est momentanément injoignable : rien n'a été enregistré. Réessayez dans un instant.";

impl AppError {
    /// A file-system error: a full disk is the operator's to fix, and the person must know
    /// nothing was kept; anything else stays internal.
    pub fn io(context: &str, e: std::io::Error) -> AppError {
        if crate::objects::is_unavailable(&e) {
            tracing::error!(error = %e, context, "object storage unavailable");
            AppError::Unavailable(STORE_DOWN.into())
        } else if e.kind() == std::io::ErrorKind::StorageFull {
            tracing::error!(error = %e, context, "disk full");
            AppError::Unavailable(DISK_FULL.into())
        } else {
            AppError::Internal(anyhow::Error::new(e).context(context.to_string()))
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match e {
            E::NotFound => AppError::NotFound,
            E::DatabaseError(K::ClosedConnection | K::UnableToSendCommand, info) => {
                tracing::error!(error = info.message(), "database connection lost");
                AppError::Unavailable(DATABASE_DOWN.into())
            }
            E::DatabaseError(_, ref info) if info.message().contains("disk is full") => {
                tracing::error!(error = info.message(), "database disk full");
                AppError::Unavailable(DISK_FULL.into())
            }
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        tracing::error!(error = %e, "database pool");
        AppError::Unavailable(
            "Le service est momentanément indisponible. Réessayez dans un instant.".into(),
        )
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        AppError::Internal(anyhow::anyhow!("blocking task failed: {e}"))
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorInner<'a>,
}

#[derive(Serialize)]
struct ErrorInner<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    fields: &'a [FieldError],
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        // The one place an internal error is logged, with its whole chain of causes.
        if let AppError::Internal(e) = self {
            tracing::error!(error = ?e, "internal error");
        }
        let mut res = HttpResponse::build(self.status_code());
        if let AppError::TooManyRequests { retry_after, .. } = self {
            res.insert_header(("Retry-After", retry_after.to_string()));
        }
        res.json(ErrorBody {
            error: ErrorInner {
                code: self.code(),
                message: self.public_message(),
                fields: self.fields(),
            },
        })
    }
}

pub type AppResult<T> = Result<T, AppError>;
