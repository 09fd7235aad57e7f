//! The crate's one error enum, mapped once to the HTTP envelope of DESIGN.md section 5.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use oddxer_shared::api::{ErrorBody, ErrorEnvelope};
use serde_json::Value;

pub type Result<T, E = AppError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Malformed request: bad JSON, an unreadable body.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// A path parameter that must be a 24-hex ObjectId is not one (`crate::http::PathId`).
    #[error("{param} in the path must be a 24-hex id")]
    InvalidId { param: String },
    /// Well-formed but invalid input; `details` names the fields.
    #[error("{message}")]
    Validation {
        message: String,
        details: Option<Value>,
    },
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
    /// A JSON route got a body whose `Content-Type` is not `application/json` (415).
    #[error("Expected Content-Type: application/json")]
    UnsupportedMediaType,
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    #[error("an upstream service failed: {0}")]
    Upstream(String),
    /// A database command failed; [`is_unavailable`] tells an outage (503) from a fault (500).
    #[error("database error")]
    Database(#[from] mongodb::error::Error),
    /// A ledger transfer failed (its database cause, if any, is kept for the mapping).
    #[error("ledger transfer error")]
    Transfer(#[from] crate::ledger::TransferError),
    /// The shared rate limiter (Redis) does not answer: auth and money routes fail closed (503).
    #[error("rate limiter unavailable")]
    RateLimiterUnavailable(#[source] redis::RedisError),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

/// Seconds a client is asked to wait (Retry-After) after a 503 for a database outage.
const DATABASE_RETRY_AFTER_SECS: u64 = 2;
/// Seconds a client is asked to wait (Retry-After) after a 503 for a rate-limiter outage.
const LIMITER_RETRY_AFTER_SECS: u64 = 5;

/// Server error codes that mean "this server cannot serve right now, another try may succeed":
/// host unreachable or not found, time limits, network timeout, shutting down, primary stepped down
/// or not writable, interrupted by a replica-set change, socket errors.
const UNAVAILABLE_CODES: &[i32] = &[
    6, 7, 50, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436,
];

/// True when a database error is an outage (connection refused or reset, timeout, no server
/// selectable, pool cleared, server shutting down or stepping down) rather than a fault of the
/// command: the request may succeed if retried later.
pub fn is_unavailable(err: &mongodb::error::Error) -> bool {
    use mongodb::error::{ErrorKind, WriteFailure};
    match err.kind.as_ref() {
        ErrorKind::Io(_)
        | ErrorKind::ServerSelection { .. }
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::DnsResolve { .. }
        | ErrorKind::Shutdown => true,
        ErrorKind::Command(ce) => UNAVAILABLE_CODES.contains(&ce.code),
        ErrorKind::Write(WriteFailure::WriteConcernError(wc)) => {
            UNAVAILABLE_CODES.contains(&wc.code)
        }
        _ => err.contains_label("RetryableWriteError"),
    }
}

impl AppError {
    pub fn validation(message: impl Into<String>, field: &str, problem: &str) -> Self {
        AppError::Validation {
            message: message.into(),
            details: Some(serde_json::json!({ "fields": { field: problem } })),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Conflict {
            code,
            message: message.into(),
        }
    }

    /// An internal fault described by `message` (no cause to keep). For errors with a cause, use
    /// `?` (the `From` impls keep the source) or [`AppError::Internal`] with `anyhow::Error::from`.
    pub fn internal(message: impl std::fmt::Display) -> Self {
        AppError::Internal(anyhow::anyhow!("{message}"))
    }

    /// The database error under this one, if any (directly, inside a transfer, or in an internal
    /// error's chain).
    fn database_cause(&self) -> Option<&mongodb::error::Error> {
        use crate::ledger::{entries::LegError, TransferError};
        match self {
            AppError::Database(e)
            | AppError::Transfer(TransferError::Db(e) | TransferError::Leg(LegError::Db(e))) => {
                Some(e)
            }
            AppError::Internal(e) => e
                .chain()
                .find_map(|c| c.downcast_ref::<mongodb::error::Error>()),
            _ => None,
        }
    }

    /// Seconds for Retry-After: 429s and 503s carry one.
    fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::RateLimited { retry_after_secs } => Some((*retry_after_secs).max(1)),
            AppError::RateLimiterUnavailable(_) => Some(LIMITER_RETRY_AFTER_SECS),
            _ if self.status_and_code().0 == StatusCode::SERVICE_UNAVAILABLE => {
                Some(DATABASE_RETRY_AFTER_SECS)
            }
            _ => None,
        }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        use crate::ledger::{entries::LegError, TransferError};
        if self.database_cause().is_some_and(is_unavailable) {
            return (StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE");
        }
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
            AppError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_CONTENT_TYPE",
            ),
            AppError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED"),
            AppError::Upstream(_) => (StatusCode::BAD_GATEWAY, "UPSTREAM_ERROR"),
            // Too many writers on one account at once: busy, not broken.
            AppError::Transfer(TransferError::Leg(LegError::Contention(_))) => {
                (StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE")
            }
            AppError::RateLimiterUnavailable(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "RATE_LIMITER_UNAVAILABLE")
            }
            AppError::Database(_) | AppError::Transfer(_) | AppError::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR")
            }
        }
    }
}

/// Builds an error response; also used by middleware that answers before a handler runs.
pub fn error_response(
    status: StatusCode,
    code: &str,
    message: String,
    details: Option<Value>,
) -> Response {
    let body = ErrorEnvelope {
        success: false,
        error: ErrorBody {
            code: code.to_owned(),
            message,
            details,
        },
    };
    (status, axum::Json(body)).into_response()
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let retry_after = self.retry_after();
        // Internal causes are logged with their chain and never sent to the client.
        let message = match &self {
            AppError::Database(_) | AppError::Transfer(_) | AppError::Internal(_) => {
                let chain = error_chain(&self);
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    tracing::warn!(error = %chain, "service unavailable");
                    "The service is briefly unavailable, please retry".to_owned()
                } else {
                    tracing::error!(error = %chain, "internal error");
                    "Something went wrong on our side".to_owned()
                }
            }
            AppError::RateLimiterUnavailable(e) => {
                tracing::error!(error = %e, "rate limiter unavailable; refusing the request");
                "Sign-in and payments are paused for a moment, please retry".to_owned()
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
        if let Some(secs) = retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

/// The error and its sources, `a: b: c`, for the log.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut next = err.source();
    while let Some(e) = next {
        out.push_str(": ");
        out.push_str(&e.to_string());
        next = e.source();
    }
    out
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            // Valid JSON whose shape is wrong (missing field, wrong type, unknown enum value).
            JsonRejection::JsonDataError(e) => AppError::Validation {
                message: "The request body does not match the expected shape".into(),
                details: Some(serde_json::json!({ "reason": e.body_text() })),
            },
            JsonRejection::MissingJsonContentType(_) => AppError::UnsupportedMediaType,
            JsonRejection::BytesRejection(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                AppError::PayloadTooLarge
            }
            JsonRejection::BytesRejection(_) => AppError::BadRequest {
                code: "BODY_UNREADABLE",
                message: "The request body could not be read (too large or interrupted)".into(),
            },
            other => AppError::BadRequest {
                code: "MALFORMED_JSON",
                message: format!("Malformed JSON: {}", other.body_text()),
            },
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        let reason = rejection.body_text();
        let mut details = serde_json::json!({ "reason": reason });
        if let Some(field) = query_field(&reason) {
            details["fields"] = serde_json::json!({ field: "invalid" });
        }
        AppError::Validation {
            message: "Invalid query parameters".into(),
            details: Some(details),
        }
    }
}

/// The parameter a query-string rejection is about, from serde's text: "…query string: limit:
/// invalid digit…", "…unknown field `foo`…" or "…duplicate field `q`…" (so a 422 names its field
/// like a body's does).
fn query_field(reason: &str) -> Option<String> {
    let rest = reason
        .split_once("query string: ")
        .map_or(reason, |(_, r)| r);
    for lead in ["unknown field `", "duplicate field `"] {
        if let Some((_, after)) = rest.split_once(lead) {
            return after.split_once('`').map(|(name, _)| name.to_owned());
        }
    }
    let (name, _) = rest.split_once(": ")?;
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    plain.then(|| name.to_owned())
}

#[cfg(test)]
mod query_field_tests {
    use super::query_field;

    #[test]
    fn the_parameter_is_named_from_serdes_text() {
        assert_eq!(
            query_field("Failed to deserialize query string: limit: invalid digit found in string")
                .as_deref(),
            Some("limit")
        );
        assert_eq!(query_field("Failed to deserialize query string: period: unknown variant `1y`, expected one of `all`, `30d`, `7d`").as_deref(), Some("period"));
        assert_eq!(query_field("Failed to deserialize query string: unknown field `foo`, expected one of `limit`, `cursor`").as_deref(), Some("foo"));
        assert_eq!(
            query_field("Failed to deserialize query string: duplicate field `period`").as_deref(),
            Some("period")
        );
    }
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> Self {
        AppError::BadRequest {
            code: "INVALID_PATH",
            message: rejection.body_text(),
        }
    }
}

/// True when a MongoDB write failed on a unique index (code 11000): "someone already decided".
pub fn is_duplicate_key(err: &mongodb::error::Error) -> bool {
    use mongodb::error::{ErrorKind, WriteFailure};
    match err.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(we)) => we.code == 11000,
        ErrorKind::InsertMany(e) => e
            .write_errors
            .as_ref()
            .is_some_and(|errs| errs.iter().any(|we| we.code == 11000)),
        ErrorKind::Command(ce) => ce.code == 11000,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{entries::LegError, TransferError};

    fn refused() -> mongodb::error::Error {
        std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "connection refused by 10.0.0.5:27017",
        )
        .into()
    }

    async fn body_text(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024)
            .await
            .expect("body");
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[tokio::test]
    async fn a_database_outage_inside_a_transfer_is_a_503_with_retry_after_that_hides_the_cause() {
        for err in [
            AppError::Transfer(TransferError::Db(refused())),
            AppError::Transfer(TransferError::Leg(LegError::Db(refused()))),
            AppError::Database(refused()),
            AppError::Internal(anyhow::Error::from(refused()).context("reading the head")),
        ] {
            let response = err.into_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert!(
                response.headers().get(header::RETRY_AFTER).is_some(),
                "a 503 says when to retry"
            );
            let body = body_text(response).await;
            assert!(body.contains("\"SERVICE_UNAVAILABLE\""), "{body}");
            assert!(
                !body.contains("10.0.0.5") && !body.contains("refused"),
                "the cause never reaches the client: {body}"
            );
        }
    }

    #[tokio::test]
    async fn no_server_to_select_is_an_outage() {
        let db = crate::db::Db::connect(
            "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=100&connectTimeoutMS=100",
            "x",
        )
        .await
        .expect("client");
        let err = db.ping().await.expect_err("nothing listens on port 1");
        assert!(is_unavailable(&err), "{err:?}");
        assert_eq!(
            AppError::from(err).into_response().status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[tokio::test]
    async fn faults_that_a_retry_will_not_fix_stay_500() {
        let unbalanced = AppError::Transfer(TransferError::Unbalanced).into_response();
        assert_eq!(unbalanced.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(unbalanced.headers().get(header::RETRY_AFTER).is_none());
        assert_eq!(
            AppError::internal("invariant broken")
                .into_response()
                .status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let not_a_db_outage: mongodb::error::Error = mongodb::bson::de::Error::EndOfStream.into();
        assert!(!is_unavailable(&not_a_db_outage));
    }

    #[tokio::test]
    async fn a_rate_limiter_outage_is_a_503_rate_limiter_unavailable() {
        let err = redis::RedisError::from(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "redis at 10.0.0.9 refused",
        ));
        let response = AppError::RateLimiterUnavailable(err).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().get(header::RETRY_AFTER).is_some());
        let body = body_text(response).await;
        assert!(
            body.contains("RATE_LIMITER_UNAVAILABLE") && !body.contains("10.0.0.9"),
            "{body}"
        );
    }
}
