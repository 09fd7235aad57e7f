//! The stored decision of a code: one `code_resolutions {_id: codeId}` document, inserted once by
//! `resolution::finalize::resolve` (the insert under the `_id` is the exactly-once decision) and
//! marked `applied` once everything that follows it is done. Read by purchases, the leaderboard and
//! the admin pages, which is why it lives here, below them, and not with the code that decides.

use crate::clock;
use crate::db::Db;
use crate::error::{AppError, Result};
use futures_util::TryStreamExt;
use mongodb::bson::{doc, oid::ObjectId, DateTime, Document};
use oddxer_shared::api::ResolutionOut;
use oddxer_shared::Outcome;

pub const RESOLUTIONS: &str = "code_resolutions";

#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resolution {
    /// The code decided (the document's `_id`).
    #[serde(rename = "_id")]
    pub code: ObjectId,
    pub seller: ObjectId,
    pub outcome: Outcome,
    /// Who decided, as `resolution::finalize::DecidedBy` names it (`ADMIN`, `MAJORITY`, ...).
    #[serde(default)]
    pub decided_by: String,
    pub admin: Option<ObjectId>,
    #[serde(default, deserialize_with = "crate::db::de::whole_number")]
    pub win_votes: i64,
    #[serde(default, deserialize_with = "crate::db::de::whole_number")]
    pub loss_votes: i64,
    #[serde(default)]
    pub applied: bool,
    pub created_at: DateTime,
    /// The deciding admin's reason, written by that admin's request after its insert won.
    pub reason: Option<String>,
}

impl Resolution {
    pub fn to_out(&self) -> ResolutionOut {
        ResolutionOut {
            code_id: self.code.to_hex(),
            outcome: self.outcome,
            decided_by: self.decided_by.clone(),
            win_votes: self.win_votes,
            loss_votes: self.loss_votes,
            decided_at: clock::rfc3339(self.created_at),
            reason: self.reason.clone(),
        }
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(code = %code))]
/// Records the deciding admin's reason on the decision of `code` (a label, not a decision).
#[tracing::instrument(level = "debug", skip_all, fields(code = %code))]
pub async fn set_reason(db: &Db, code: ObjectId, reason: &str) -> mongodb::error::Result<()> {
    db.col(RESOLUTIONS)
        .update_one(doc! { "_id": code }, doc! { "$set": { "reason": reason } })
        .await?;
    Ok(())
}

pub async fn find_resolution(
    db: &Db,
    code: ObjectId,
) -> mongodb::error::Result<Option<Resolution>> {
    db.find_row(RESOLUTIONS, doc! { "_id": code }).await
}

/// Resolutions whose follow-up has not finished, decided before `before` (for the re-drive).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn unapplied(
    db: &Db,
    before: DateTime,
    limit: i64,
) -> mongodb::error::Result<Vec<Resolution>> {
    let docs: Vec<Document> = db
        .col(RESOLUTIONS)
        .find(doc! { "applied": false, "createdAt": { "$lte": before } })
        .limit(limit)
        .await?
        .try_collect()
        .await?;
    Ok(db.rows(RESOLUTIONS, docs))
}

/// An admin's reason: trimmed, 1 to 500 characters (absent is fine; present and blank is not).
pub fn check_reason(reason: Option<&str>) -> Result<Option<String>> {
    match reason.map(str::trim) {
        None => Ok(None),
        Some(r) if r.is_empty() || r.chars().count() > 500 || r.chars().any(char::is_control) => {
            Err(AppError::validation(
                "The reason must be 1 to 500 characters, without control characters",
                "reason",
                "must be 1 to 500 characters, without control characters",
            ))
        }
        Some(r) => Ok(Some(r.to_owned())),
    }
}
