//! The crate's one error enum, mapped once to the HTTP envelope of DESIGN.md section 5.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use oddxer_shared::api::{ErrorBody, ErrorEnvelope};
use serde_json::Value;

pub type Result<T, E = AppError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Malformed request: bad JSON, wrong content type, unparsable path or query.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// A path parameter that must be a 24-hex ObjectId is not one (`crate::http::PathId`).
    #[error("{param} in the path must be a 24-hex id")]
    InvalidId { param: String },
    /// Well-formed but invalid input; `details` names the fields.
    #[error("{message}")]
    Validation { message: String, details: Option<Value> },
    #[error("{0}")]
    Unauthenticated(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("insufficient funds")]
    InsufficientFunds,
    #[error("the request body is too large")]
    PayloadTooLarge,
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    #[error("an upstream service failed: {0}")]
    Upstream(String),
    #[error("database error")]
    Database(#[from] mongodb::error::Error),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn validation(message: impl Into<String>, field: &str, problem: &str) -> Self {
        AppError::Validation {
            message: message.into(),
            details: Some(serde_json::json!({ "fields": { field: problem } })),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Conflict { code, message: message.into() }
    }

    pub fn internal(message: impl std::fmt::Display) -> Self {
        AppError::Internal(anyhow::anyhow!("{message}"))
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            AppError::InvalidId { .. } => (StatusCode::BAD_REQUEST, "INVALID_ID"),
            AppError::Validation { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR"),
            AppError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"),
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "FORBIDDEN"),
            AppError::NotFound(_) => (StatusCode::NOT_FOUND, "NOT_FOUND"),
            AppError::Conflict { code, .. } => (StatusCode::CONFLICT, code),
            AppError::InsufficientFunds => (StatusCode::PAYMENT_REQUIRED, "INSUFFICIENT_FUNDS"),
            AppError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"),
            AppError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED"),
            AppError::Upstream(_) => (StatusCode::BAD_GATEWAY, "UPSTREAM_ERROR"),
            AppError::Database(_) => (StatusCode::SERVICE_UNAVAILABLE, "DATABASE_UNAVAILABLE"),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR"),
        }
    }
}

/// Builds an error response; also used by middleware that answers before a handler runs.
pub fn error_response(status: StatusCode, code: &str, message: String, details: Option<Value>) -> Response {
    let body = ErrorEnvelope { success: false, error: ErrorBody { code: code.to_owned(), message, details } };
    (status, axum::Json(body)).into_response()
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        // Internal causes are logged with their chain and never sent to the client.
        let message = match &self {
            AppError::Database(e) => {
                tracing::error!(error = %e, "database error");
                "The database is unavailable, please retry".to_owned()
            }
            AppError::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
                "Something went wrong on our side".to_owned()
            }
            AppError::Upstream(e) => {
                tracing::warn!(error = %e, "upstream error");
                "A payment or messaging provider did not answer as expected".to_owned()
            }
            other => other.to_string(),
        };
        let details = match &self {
            AppError::Validation { details, .. } => details.clone(),
            AppError::InvalidId { param } => Some(serde_json::json!({ "parameter": param })),
            _ => None,
        };
        let mut response = error_response(status, code, message, details);
        if let AppError::RateLimited { retry_after_secs } = self {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            // Valid JSON whose shape is wrong (missing field, wrong type, unknown enum value).
            JsonRejection::JsonDataError(e) => AppError::Validation {
                message: "The request body does not match the expected shape".into(),
                details: Some(serde_json::json!({ "reason": e.body_text() })),
            },
            JsonRejection::MissingJsonContentType(_) => AppError::BadRequest {
                code: "UNSUPPORTED_CONTENT_TYPE",
                message: "Expected Content-Type: application/json".into(),
            },
            JsonRejection::BytesRejection(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
            JsonRejection::BytesRejection(_) => AppError::BadRequest {
                code: "BODY_UNREADABLE",
                message: "The request body could not be read (too large or interrupted)".into(),
            },
            other => AppError::BadRequest { code: "MALFORMED_JSON", message: format!("Malformed JSON: {}", other.body_text()) },
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::Validation {
            message: "Invalid query parameters".into(),
            details: Some(serde_json::json!({ "reason": rejection.body_text() })),
        }
    }
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> Self {
        AppError::BadRequest { code: "INVALID_PATH", message: rejection.body_text() }
    }
}

/// True when a MongoDB write failed on a unique index (code 11000): "someone already decided".
pub fn is_duplicate_key(err: &mongodb::error::Error) -> bool {
    use mongodb::error::{ErrorKind, WriteFailure};
    match err.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(we)) => we.code == 11000,
        ErrorKind::InsertMany(e) => e.write_errors.as_ref().is_some_and(|errs| errs.iter().any(|we| we.code == 11000)),
        ErrorKind::Command(ce) => ce.code == 11000,
        _ => false,
    }
}
