//! The purchases sync stream (DESIGN.md section 6): per buyer, an append-only stream of full
//! purchase rows. Positions are assigned by inserting `{stream}:{N+1}` after reading head N (never
//! reserved from a counter), so commit order equals cursor order; a row is appended once per
//! (purchase, version) thanks to the unique `{stream, key}` index.

use super::service::{load_code, purchase_out};
use super::store::Purchase;
use crate::clock;
use crate::db::Db;
use crate::error::{is_duplicate_key, AppError, Result};
use crate::state::AppState;
use futures_util::TryStreamExt;
use mongodb::bson::{doc, oid::ObjectId, Document};
use mongodb::options::FindOptions;
use oddxer_shared::api::PurchaseOut;
use oddxer_shared::sync::PurchaseStreamEntry;

pub const COLLECTION: &str = "purchase_stream";
const MAX_APPEND_TRIES: usize = 64;

pub fn stream_of(user: ObjectId) -> String {
    format!("purchases:{}", user.to_hex())
}

/// Version 1 when bought, 2 once settled (paid out or refunded).
pub fn version_of(p: &Purchase) -> i64 {
    if p.settlement.is_some() {
        2
    } else {
        1
    }
}

async fn row_at(db: &Db, stream: &str, seq: i64) -> mongodb::error::Result<Option<Document>> {
    db.col(COLLECTION).find_one(doc! { "_id": format!("{stream}:{seq}") }).await
}

/// The stream's last position (0 when empty), found by probing `_id`s forward from a sorted read.
pub async fn head(db: &Db, stream: &str) -> mongodb::error::Result<i64> {
    let options = mongodb::options::FindOneOptions::builder().sort(doc! { "seq": -1 }).build();
    let mut seq = db.col(COLLECTION).find_one(doc! { "stream": stream }).with_options(options).await?.and_then(|d| d.get_i64("seq").ok()).unwrap_or(0);
    while row_at(db, stream, seq + 1).await?.is_some() {
        seq += 1;
    }
    Ok(seq)
}

/// Appends the purchase as it stands now to its buyer's stream (once per version).
pub async fn append(state: &AppState, p: &Purchase) -> Result<()> {
    let code = load_code(state, p.code).await?;
    let row = purchase_out(state, p, &code).await;
    let version = version_of(p);
    let stream = stream_of(p.buyer);
    let key = format!("{}:v{version}", p.id.to_hex());
    let payload = mongodb::bson::to_bson(&row).map_err(AppError::internal)?;
    let db = &state.db;
    for _ in 0..MAX_APPEND_TRIES {
        let seq = head(db, &stream).await? + 1;
        let d = doc! {
            "_id": format!("{stream}:{seq}"), "stream": &stream, "seq": seq, "key": &key,
            "version": version, "purchase": payload.clone(), "createdAt": clock::now(),
        };
        match db.col(COLLECTION).insert_one(d).await {
            Ok(_) => {
                state.hub.purchases_changed(p.buyer);
                return Ok(());
            }
            Err(e) if is_duplicate_key(&e) => {
                // Either the position was taken (retry at the new head) or this version is in already.
                if db.col(COLLECTION).find_one(doc! { "stream": &stream, "key": &key }).await?.is_some() {
                    return Ok(());
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::internal(format!("purchases stream {stream}: too much contention")))
}

/// Rows after `cursor` up to `upto`, in position order.
pub async fn after(db: &Db, stream: &str, cursor: i64, upto: i64, limit: i64) -> mongodb::error::Result<Vec<PurchaseStreamEntry>> {
    let options = FindOptions::builder().sort(doc! { "seq": 1 }).limit(limit).build();
    let docs: Vec<Document> = db
        .col(COLLECTION)
        .find(doc! { "stream": stream, "seq": { "$gt": cursor, "$lte": upto } })
        .with_options(options)
        .await?
        .try_collect()
        .await?;
    Ok(docs
        .iter()
        .filter_map(|d| {
            let purchase: PurchaseOut = mongodb::bson::from_bson(d.get("purchase")?.clone()).ok()?;
            Some(PurchaseStreamEntry { seq: d.get_i64("seq").ok()?, version: d.get_i64("version").ok()?, purchase })
        })
        .collect())
}
