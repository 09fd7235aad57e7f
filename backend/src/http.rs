//! Request extractors whose rejections use the error envelope, and success envelope helpers.

use crate::error::AppError;
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mongodb::bson::oid::ObjectId;
use oddxer_shared::api::Envelope;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A JSON body whose rejections are `AppError`s, so bad bodies get the envelope: 400 for a body
/// that is not JSON (or not `application/json`), 413 over the body limit, and 422
/// `VALIDATION_ERROR` for JSON of the wrong shape, with `details.fields` naming the field (its
/// path, e.g. `price` or `items[2].amount`; `body` when the body is not a JSON object) and
/// `details.reason` saying what is wrong with it. Only objects are accepted: serde would also
/// read a struct from an array (`[null, null]`), which no route means to take.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = AppError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(mut value) =
            axum::Json::<serde_json::Value>::from_request(req, state).await?;
        integral_floats_as_integers(&mut value);
        if !value.is_object() {
            return Err(AppError::Validation {
                message: "The request body must be a JSON object".into(),
                details: Some(serde_json::json!({ "fields": { "body": "must be a JSON object" } })),
            });
        }
        serde_path_to_error::deserialize(value)
            .map(Json)
            .map_err(shape_error)
    }
}

/// JSON has one number type: `2000.0` is the integer 2000 (as JSON Schema's `integer` says), so an
/// integer field takes it. Whole numbers written with a fraction become integers; fields of type
/// `f64` take integers as well, so nothing else changes.
fn integral_floats_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
                // Exactly representable and in range: |f| < 2^63.
                if f.fract() == 0.0 && f.abs() < 9.2e18 {
                    *value = Value::from(f as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}

/// The field a deserialization error is about (its path, e.g. `price` or `items[2].amount`), and
/// the error.
fn shape_error(err: serde_path_to_error::Error<serde_json::Error>) -> AppError {
    let reason = err.inner().to_string();
    let path = err.path().to_string();
    // A missing field is reported at the object that lacks it; an unknown one at its own path.
    let missing = reason
        .strip_prefix("missing field `")
        .and_then(|r| r.split('`').next());
    let field = match (path.as_str(), missing) {
        (".", Some(name)) => name.to_owned(),
        (".", None) => "body".to_owned(),
        (p, Some(name)) => format!("{p}.{name}"),
        (p, None) => p.to_owned(),
    };
    AppError::Validation {
        message: format!("{field}: {reason}"),
        details: Some(serde_json::json!({ "fields": { field: reason }, "reason": reason })),
    }
}

/// `axum::extract::Query` with envelope rejections. A parameter holding a control character
/// (NUL among them, which the database refuses in a filter: a 500 before) is refused first with 422
/// naming it: no id, cursor, phone number, bookmaker or search holds one.
pub struct Query<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Ok(axum::extract::Query(pairs)) =
            axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
        {
            if let Some((name, _)) = pairs
                .iter()
                .find(|(_, value)| value.chars().any(char::is_control))
            {
                return Err(AppError::validation(
                    format!("{name} must not contain control characters"),
                    name,
                    "no control characters",
                ));
            }
        }
        let axum::extract::Query(value) =
            axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(Query(value))
    }
}

/// `axum::extract::Path` with envelope rejections.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct Path<T>(pub T);

/// The one id of a route's path (`/codes/{id}`, `/admin/users/{id}`, `/leaderboard/{sellerId}`,
/// ...), parsed as an ObjectId. Every route with an id in its path takes it through this extractor,
/// so a malformed id gets one answer everywhere: 400 `INVALID_ID` naming the parameter
/// (DESIGN.md section 5), before authentication-independent work and before the body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathId(pub ObjectId);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(params) =
            axum::extract::Path::<Vec<(String, String)>>::from_request_parts(parts, state).await?;
        // Routes using this extractor have exactly one path parameter.
        let (name, raw) = params
            .into_iter()
            .next()
            .ok_or_else(|| AppError::internal("PathId on a route without a path parameter"))?;
        ObjectId::parse_str(&raw)
            .map(PathId)
            .map_err(|_| AppError::InvalidId { param: name })
    }
}

/// A success answer: `{"success": true, "data": ...}` with a status.
pub struct Reply<T>(pub StatusCode, pub T, pub Option<String>);

pub fn ok<T: Serialize>(data: T) -> Reply<T> {
    Reply(StatusCode::OK, data, None)
}

pub fn created<T: Serialize>(data: T) -> Reply<T> {
    Reply(StatusCode::CREATED, data, None)
}

pub fn accepted<T: Serialize>(data: T) -> Reply<T> {
    Reply(StatusCode::ACCEPTED, data, None)
}

impl<T> Reply<T> {
    pub fn message(mut self, m: impl Into<String>) -> Self {
        self.2 = Some(m.into());
        self
    }
}

impl<T: Serialize> IntoResponse for Reply<T> {
    fn into_response(self) -> Response {
        (
            self.0,
            axum::Json(Envelope {
                success: true,
                data: self.1,
                message: self.2,
            }),
        )
            .into_response()
    }
}

pub type ApiResult<T> = Result<Reply<T>, AppError>;

/// `?limit=&cursor=` of every list (DESIGN.md section 5).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn limit(&self) -> Result<i64, AppError> {
        match self.limit {
            None => Ok(20),
            Some(n) if (1..=100).contains(&n) => Ok(n),
            Some(_) => Err(AppError::validation(
                "limit must be between 1 and 100",
                "limit",
                "1..=100",
            )),
        }
    }

    /// A cursor that is a stream position (an integer rendered as a string).
    pub fn seq_cursor(&self) -> Result<Option<i64>, AppError> {
        match &self.cursor {
            None => Ok(None),
            Some(c) => c
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .map(Some)
                .ok_or_else(|| {
                    AppError::validation(
                        "cursor is not one this server issued",
                        "cursor",
                        "invalid",
                    )
                }),
        }
    }
}

/// Middleware: a request that changes something (any method but GET/HEAD/OPTIONS) runs to its end
/// in its own task even when the client hangs up. Otherwise hyper drops the handler at its next
/// await when the connection closes (a phone losing signal mid-purchase), cutting a money call
/// between two of its steps: its purchase would stay PENDING, holding the buyer's claim, until
/// the recovery worker passes. Reads are dropped as usual.
pub async fn finish_writes(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    use tracing::Instrument;
    if matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    ) {
        return next.run(req).await;
    }
    let work = tokio::spawn(next.run(req).instrument(tracing::Span::current()));
    match work.await {
        Ok(response) => response,
        Err(e) => AppError::internal(format!("request task ended abnormally: {e}")).into_response(),
    }
}
