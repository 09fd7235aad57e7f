//! `Idempotency-Key` for client money calls (DESIGN.md section 4). The key, scoped to the user,
//! names a record `{_id: "{user}:{key}"}` holding a hash of the request and, once known, the answer.
//! The operation itself derives its document ids from the key, so even two concurrent first
//! attempts produce one effect; the record only makes retries cheap and catches a reused key.

use crate::clock;
use crate::db::Db;
use crate::error::{is_duplicate_key, AppError, Result};
use axum::http::{HeaderMap, StatusCode};
use mongodb::bson::{doc, oid::ObjectId};
use sha2::{Digest, Sha256};

pub const HEADER: &str = "idempotency-key";

/// A validated key plus the ids derived from it.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub record_id: String,
    seed: [u8; 32],
}

impl IdempotencyKey {
    pub fn from_headers(headers: &HeaderMap, user: ObjectId) -> Result<IdempotencyKey> {
        let raw = headers
            .get(HEADER)
            .ok_or_else(|| {
                AppError::validation(
                    "The Idempotency-Key header is required",
                    "Idempotency-Key",
                    "missing",
                )
            })?
            .to_str()
            .map_err(|_| {
                AppError::validation(
                    "Idempotency-Key must be visible ASCII",
                    "Idempotency-Key",
                    "not ASCII",
                )
            })?;
        if raw.is_empty() || raw.len() > 255 || !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(AppError::validation(
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
                "Idempotency-Key",
                "1 to 255 visible ASCII characters",
            ));
        }
        let record_id = format!("{}:{raw}", user.to_hex());
        let seed: [u8; 32] = Sha256::digest(record_id.as_bytes()).into();
        Ok(IdempotencyKey { record_id, seed })
    }

    /// The ObjectId of the document this request creates: the same for every retry.
    pub fn object_id(&self) -> ObjectId {
        let mut bytes = [0u8; 12];
        bytes.copy_from_slice(&self.seed[..12]);
        ObjectId::from_bytes(bytes)
    }

    /// A UUID (v4 layout) for provider references, the same for every retry.
    pub fn uuid(&self) -> uuid::Uuid {
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&self.seed[12..28]);
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}

pub fn request_hash(route: &str, body: &impl serde::Serialize) -> String {
    let json = serde_json::to_string(body).unwrap_or_default();
    hex::encode(Sha256::digest(format!("{route}\n{json}").as_bytes()))
}

pub enum Begin {
    /// First time (or a concurrent twin still running): do the work.
    Proceed,
    /// A finished answer to replay: status and the whole response body (envelope).
    Replay(StatusCode, serde_json::Value),
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn begin(db: &Db, key: &IdempotencyKey, hash: &str) -> Result<Begin> {
    let col = db.col("idempotency_keys");
    let d = doc! { "_id": &key.record_id, "requestHash": hash, "createdAt": clock::now() };
    match col.insert_one(d).await {
        Ok(_) => return Ok(Begin::Proceed),
        Err(e) if is_duplicate_key(&e) => {}
        Err(e) => return Err(e.into()),
    }
    let existing = col
        .find_one(doc! { "_id": &key.record_id })
        .await?
        .ok_or_else(|| AppError::internal("idempotency record vanished"))?;
    if existing.get_str("requestHash").unwrap_or_default() != hash {
        return Err(AppError::Validation {
            message: "This Idempotency-Key was already used with a different request".into(),
            details: Some(
                serde_json::json!({ "fields": { "Idempotency-Key": "reused with a different body" } }),
            ),
        });
    }
    match (existing.get_i32("status"), existing.get_str("response")) {
        (Ok(status), Ok(body)) => {
            let status = StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK);
            let value = serde_json::from_str(body).map_err(|e| AppError::Internal(e.into()))?;
            Ok(Begin::Replay(status, value))
        }
        _ => Ok(Begin::Proceed),
    }
}

/// Stores the first final answer (the whole response body); later retries replay it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn finish(
    db: &Db,
    key: &IdempotencyKey,
    status: StatusCode,
    envelope: &serde_json::Value,
) -> Result<()> {
    let body = serde_json::to_string(envelope).map_err(|e| AppError::Internal(e.into()))?;
    db.col("idempotency_keys")
        .update_one(
            doc! { "_id": &key.record_id, "response": { "$exists": false } },
            doc! { "$set": { "status": status.as_u16() as i32, "response": body } },
        )
        .await?;
    Ok(())
}

/// Work a money call leaves for after its answer (labels, events), run in the background.
pub type FollowUp = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Runs a client money call once per key: replays a stored answer, or runs `work` and stores its
/// answer. `work` must itself be idempotent under the derived ids (a crash may cut it anywhere).
pub async fn run<T, F>(
    db: &Db,
    key: &IdempotencyKey,
    route: &str,
    body: &impl serde::Serialize,
    status: StatusCode,
    work: F,
) -> Result<axum::response::Response>
where
    T: serde::Serialize,
    F: std::future::Future<Output = Result<T>>,
{
    answer(db, key, route, body, status, async move {
        work.await.map(|data| (data, None))
    })
    .await
}

/// Refusals that are decisions (funds short, sold out, already bought) are answers too: the same
/// key gets the same refusal even if the balance changes meanwhile. Validation and transient
/// errors are not stored, so a corrected or later retry can still succeed.
async fn store_refusal(
    db: &Db,
    key: &IdempotencyKey,
    e: AppError,
) -> Result<axum::response::Response> {
    use axum::response::IntoResponse;
    match e {
        // PURCHASE_IN_PROGRESS says "not decided yet": a retry must look again.
        AppError::Conflict {
            code: "PURCHASE_IN_PROGRESS",
            ..
        } => Err(e),
        e @ (AppError::InsufficientFunds | AppError::Conflict { .. }) => {
            let response = e.into_response();
            let stored_status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024)
                .await
                .map_err(|e| AppError::Internal(e.into()))?;
            let envelope: serde_json::Value =
                serde_json::from_slice(&bytes).map_err(|e| AppError::Internal(e.into()))?;
            finish(db, key, stored_status, &envelope).await?;
            Ok((stored_status, axum::Json(envelope)).into_response())
        }
        e => Err(e),
    }
}

/// [`run`] for work that answers before it is finished: `work` returns its answer and a
/// [`FollowUp`]; the answer goes to the client at once, the follow-up runs in the background and
/// the answer is stored for replays after it (a retry that comes earlier runs the idempotent work
/// again and gets the same answer).
pub async fn run_then<T, F>(
    db: &Db,
    key: &IdempotencyKey,
    route: &str,
    body: &impl serde::Serialize,
    status: StatusCode,
    work: F,
) -> Result<axum::response::Response>
where
    T: serde::Serialize,
    F: std::future::Future<Output = Result<(T, FollowUp)>>,
{
    answer(db, key, route, body, status, async move {
        work.await.map(|(data, follow_up)| (data, Some(follow_up)))
    })
    .await
}

/// Replays a stored answer, or runs `work` and answers: its answer is stored at once, or after its
/// follow-up when it has one; a refusal that is a decision is stored too.
async fn answer<T, F>(
    db: &Db,
    key: &IdempotencyKey,
    route: &str,
    body: &impl serde::Serialize,
    status: StatusCode,
    work: F,
) -> Result<axum::response::Response>
where
    T: serde::Serialize,
    F: std::future::Future<Output = Result<(T, Option<FollowUp>)>>,
{
    use axum::response::IntoResponse;
    let hash = request_hash(route, body);
    if let Begin::Replay(stored_status, envelope) = begin(db, key, &hash).await? {
        return Ok((stored_status, axum::Json(envelope)).into_response());
    }
    match work.await {
        Ok((data, follow_up)) => {
            let data = serde_json::to_value(data).map_err(|e| AppError::Internal(e.into()))?;
            let envelope = serde_json::json!({ "success": true, "data": data });
            match follow_up {
                None => finish(db, key, status, &envelope).await?,
                Some(follow_up) => {
                    let (db, key, stored) = (db.clone(), key.clone(), envelope.clone());
                    tokio::spawn(async move {
                        follow_up.await;
                        if let Err(e) = finish(&db, &key, status, &stored).await {
                            tracing::warn!(error = %e, "idempotent answer not stored; a retry will redo the (idempotent) work");
                        }
                    });
                }
            }
            Ok((status, axum::Json(envelope)).into_response())
        }
        Err(e) => store_refusal(db, key, e).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_per_user_and_key() {
        let user = ObjectId::new();
        let mut h = HeaderMap::new();
        h.insert(HEADER, "abc-123".parse().expect("header"));
        let a = IdempotencyKey::from_headers(&h, user).expect("key");
        let b = IdempotencyKey::from_headers(&h, user).expect("key");
        assert_eq!(a.object_id(), b.object_id());
        assert_eq!(a.uuid(), b.uuid());
        let other = IdempotencyKey::from_headers(&h, ObjectId::new()).expect("key");
        assert_ne!(a.object_id(), other.object_id());
    }

    #[test]
    fn keys_must_be_present_and_short_visible_ascii() {
        let user = ObjectId::new();
        assert!(IdempotencyKey::from_headers(&HeaderMap::new(), user).is_err());
        let mut h = HeaderMap::new();
        h.insert(HEADER, "x".repeat(256).parse().expect("header"));
        assert!(IdempotencyKey::from_headers(&h, user).is_err());
        h.insert(HEADER, "with space".parse().expect("header"));
        assert!(IdempotencyKey::from_headers(&h, user).is_err());
    }
}
