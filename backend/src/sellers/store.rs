//! `follows`: one document per (follower, seller), `_id` = "{follower}:{seller}", so a follow is
//! a unique insert (PUT twice, or two devices at once, make one) and an unfollow a delete by `_id`.
//! Counts are counted, never kept: the follower count is recomputable by definition.

use crate::clock;
use crate::db::Db;
use crate::error::is_duplicate_key;
use futures_util::TryStreamExt;
use mongodb::bson::{doc, oid::ObjectId, DateTime, Document};

pub const FOLLOWS: &str = "follows";

fn follow_id(follower: ObjectId, seller: ObjectId) -> String {
    format!("{}:{}", follower.to_hex(), seller.to_hex())
}

/// Follows; true when this call made the follow (false: it was there).
#[tracing::instrument(level = "debug", skip_all, fields(follower = %follower, seller = %seller))]
pub async fn follow(db: &Db, follower: ObjectId, seller: ObjectId) -> mongodb::error::Result<bool> {
    let d = doc! { "_id": follow_id(follower, seller), "follower": follower, "seller": seller, "createdAt": clock::now() };
    match db.col(FOLLOWS).insert_one(d).await {
        Ok(_) => Ok(true),
        Err(e) if is_duplicate_key(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(follower = %follower, seller = %seller))]
pub async fn unfollow(db: &Db, follower: ObjectId, seller: ObjectId) -> mongodb::error::Result<()> {
    db.col(FOLLOWS)
        .delete_one(doc! { "_id": follow_id(follower, seller) })
        .await?;
    Ok(())
}

/// One `_id` lookup.
#[tracing::instrument(level = "debug", skip_all, fields(follower = %follower, seller = %seller))]
pub async fn is_following(
    db: &Db,
    follower: ObjectId,
    seller: ObjectId,
) -> mongodb::error::Result<bool> {
    Ok(db
        .col(FOLLOWS)
        .find_one(doc! { "_id": follow_id(follower, seller) })
        .await?
        .is_some())
}

/// Equality on the indexed `seller`.
#[tracing::instrument(level = "debug", skip_all, fields(seller = %seller))]
pub async fn follower_count(db: &Db, seller: ObjectId) -> mongodb::error::Result<i64> {
    Ok(db
        .col(FOLLOWS)
        .count_documents(doc! { "seller": seller })
        .await? as i64)
}

/// Ids of the seller's followers (equality on the indexed `seller`).
#[tracing::instrument(level = "debug", skip_all, fields(seller = %seller))]
pub async fn followers(db: &Db, seller: ObjectId) -> mongodb::error::Result<Vec<ObjectId>> {
    let docs: Vec<Document> = db
        .col(FOLLOWS)
        .find(doc! { "seller": seller })
        .projection(doc! { "follower": 1 })
        .await?
        .try_collect()
        .await?;
    Ok(docs
        .iter()
        .filter_map(|d| d.get_object_id("follower").ok())
        .collect())
}

/// One page of (seller, followed at) that `follower` follows, most recently followed first
/// (`createdAt`, then `seller`, descending), after `after` (a filter of `db::after_cursor_by`
/// on `seller`); equality on the indexed `follower`, so bounded by what one user follows.
#[tracing::instrument(level = "debug", skip_all, fields(follower = %follower))]
pub async fn following(
    db: &Db,
    follower: ObjectId,
    after: Option<Document>,
    limit: i64,
) -> mongodb::error::Result<Vec<(ObjectId, DateTime)>> {
    let mut filter = doc! { "follower": follower };
    if let Some(after) = after {
        filter.extend(after);
    }
    let docs: Vec<Document> = db
        .col(FOLLOWS)
        .find(filter)
        .sort(doc! { "createdAt": -1, "seller": -1 })
        .limit(limit)
        .await?
        .try_collect()
        .await?;
    Ok(db
        .rows::<Follow>(FOLLOWS, docs)
        .into_iter()
        .map(|f| (f.seller, f.created_at))
        .collect())
}

/// A `follows` document as [`following`] reads it.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Follow {
    seller: ObjectId,
    created_at: DateTime,
}
