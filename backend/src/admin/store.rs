//! `admin_user_changes`: one document per change an admin made to a user (role, active), read
//! newest first by the indexed `user`.

use crate::db::Db;
use futures_util::TryStreamExt;
use mongodb::bson::{doc, oid::ObjectId, DateTime, Document};

const CHANGES: &str = "admin_user_changes";

/// One admin change of a user.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct AdminChange {
    /// The admin who made it (absent on a malformed record).
    pub by: Option<ObjectId>,
    pub at: DateTime,
    pub reason: Option<String>,
}

/// Records that `by` set `changes` (the fields as written to the user) on `user`.
#[tracing::instrument(skip_all, fields(user = %user, by = %by))]
pub async fn record_change(
    db: &Db,
    user: ObjectId,
    by: ObjectId,
    changes: Document,
    reason: Option<&str>,
) -> mongodb::error::Result<()> {
    let record = doc! { "user": user, "by": by, "at": crate::clock::now(), "changes": changes, "reason": reason };
    db.col(CHANGES).insert_one(record).await?;
    Ok(())
}

/// The newest change of `user`, if any (equality on the indexed `user`; a user has few).
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn last_change(db: &Db, user: ObjectId) -> mongodb::error::Result<Option<AdminChange>> {
    let docs: Vec<Document> = db
        .col(CHANGES)
        .find(doc! { "user": user })
        .await?
        .try_collect()
        .await?;
    Ok(db
        .rows::<AdminChange>(CHANGES, docs)
        .into_iter()
        .max_by_key(|c| c.at))
}
