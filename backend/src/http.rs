//! Request extractors whose rejections use the error envelope, and success envelope helpers.

use crate::error::AppError;
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::request::Parts;
use axum::http::StatusCode;
use mongodb::bson::oid::ObjectId;
use axum::response::{IntoResponse, Response};
use oddxer_shared::api::Envelope;
use serde::Serialize;

/// `axum::Json` whose rejections are `AppError`s, so bad bodies get the envelope.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct Json<T>(pub T);

/// `axum::extract::Query` with envelope rejections.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct Query<T>(pub T);

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
        let (name, raw) = params.into_iter().next().ok_or_else(|| AppError::internal("PathId on a route without a path parameter"))?;
        ObjectId::parse_str(&raw).map(PathId).map_err(|_| AppError::InvalidId { param: name })
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
        (self.0, axum::Json(Envelope { success: true, data: self.1, message: self.2 })).into_response()
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
            Some(_) => Err(AppError::validation("limit must be between 1 and 100", "limit", "1..=100")),
        }
    }

    /// A cursor that is a stream position (an integer rendered as a string).
    pub fn seq_cursor(&self) -> Result<Option<i64>, AppError> {
        match &self.cursor {
            None => Ok(None),
            Some(c) => c.parse::<i64>().ok().filter(|n| *n > 0).map(Some).ok_or_else(|| {
                AppError::validation("cursor is not one this server issued", "cursor", "invalid")
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
    if matches!(*req.method(), axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS) {
        return next.run(req).await;
    }
    let work = tokio::spawn(next.run(req).instrument(tracing::Span::current()));
    match work.await {
        Ok(response) => response,
        Err(e) => AppError::internal(format!("request task ended abnormally: {e}")).into_response(),
    }
}
