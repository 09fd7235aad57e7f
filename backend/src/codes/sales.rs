//! The purchase facts the marketplace reads (`purchases`, written by the purchase flow): who
//! bought a code, its sales, and the sales labels (`salesCount`, SOLD_OUT, `soldTo`) recounted
//! from them.

use super::rules;
use super::store::{find, set_labels, Code, PURCHASES, PURCHASE_COMPLETED};
use crate::db::Db;
use futures_util::TryStreamExt;
use mongodb::bson::{doc, oid::ObjectId, DateTime, Document};

/// The claim key of a buyer on a code: unique among purchases that are not FAILED.
pub fn claim_id(code: ObjectId, buyer: ObjectId) -> String {
    format!("{}:{}", code.to_hex(), buyer.to_hex())
}

/// Buyers of a code: users with a COMPLETED purchase of it.
#[tracing::instrument(level = "debug", skip_all, fields(code = %code))]
pub async fn buyers(db: &Db, code: ObjectId) -> mongodb::error::Result<Vec<ObjectId>> {
    let docs: Vec<Document> = db
        .col(PURCHASES)
        .find(doc! { "bettingCode": code, "status": PURCHASE_COMPLETED })
        .projection(doc! { "buyer": 1 })
        .await?
        .try_collect()
        .await?;
    Ok(docs
        .iter()
        .filter_map(|d| d.get_object_id("buyer").ok())
        .collect())
}

/// Whether `user` bought `code`: the purchase holding the claim `{code}:{buyer}` (unique among
/// purchases that are not FAILED) is COMPLETED. One equality lookup on an indexed field.
#[tracing::instrument(level = "debug", skip_all, fields(code = %code, user = %user))]
pub async fn is_buyer(db: &Db, code: ObjectId, user: ObjectId) -> mongodb::error::Result<bool> {
    let p = db
        .col(PURCHASES)
        .find_one(doc! { "claim": claim_id(code, user) })
        .await?;
    Ok(p.is_some_and(|p| p.get_str("status") == Ok(PURCHASE_COMPLETED)))
}

/// Purchases that exist in any state but FAILED: an edit or a cancellation must not race them.
#[tracing::instrument(level = "debug", skip_all, fields(code = %code))]
pub async fn has_purchases(db: &Db, code: ObjectId) -> mongodb::error::Result<bool> {
    Ok(db
        .col(PURCHASES)
        .find_one(doc! { "bettingCode": code, "status": { "$ne": "FAILED" } })
        .await?
        .is_some())
}

/// One completed sale of a code, as the sales labels need it.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
pub struct Sale {
    #[serde(rename = "_id")]
    pub purchase: ObjectId,
    pub buyer: ObjectId,
    #[serde(rename = "createdAt")]
    pub at: DateTime,
}

/// The sales of a code (at most its `maxBuyers`), from the purchases: the COMPLETED ones, and the
/// PENDING ones whose money already moved (their transfer is decided COMPLETED: they will be
/// labelled COMPLETED, by their own follow-up or by recovery). Counting those closes a gap: a
/// recount by another purchase that ran before this one's label, landing last, would otherwise
/// leave the count one short for good if this one's process died between its label and its own
/// final recount (found by the crash harness's label check).
#[tracing::instrument(level = "debug", skip_all, fields(code = %code))]
pub async fn sales(db: &Db, code: ObjectId) -> mongodb::error::Result<Vec<Sale>> {
    let read = |status: &'static str| async move {
        db.col(PURCHASES)
            .find(doc! { "bettingCode": code, "status": status })
            .projection(doc! { "_id": 1, "buyer": 1, "createdAt": 1 })
            .await?
            .try_collect::<Vec<Document>>()
            .await
    };
    let (completed, pending) = tokio::join!(read(PURCHASE_COMPLETED), read("PENDING"));
    let mut sales: Vec<Sale> = db.rows(PURCHASES, completed?);
    for p in db.rows::<Sale>(PURCHASES, pending?) {
        let decided = db
            .col("transfer_outcomes")
            .find_one(doc! { "_id": p.purchase.to_hex() })
            .await?;
        if decided.is_some_and(|d| d.get_str("outcome") == Ok("COMPLETED")) {
            sales.push(p);
        }
    }
    Ok(sales)
}

/// Recomputes `salesCount` from the purchases and writes the sales labels (`status` SOLD_OUT or back
/// to ACTIVE, `soldTo`/`soldAt` for an exclusive code). `finishing` is a sale whose purchase label
/// is written after this (the purchase flow writes COMPLETED last); it is counted once either way.
/// Safe to call any number of times. Answers the code as last read once its labels agreed with the
/// purchases (`None`: no such code, or still moving after five rounds).
#[tracing::instrument(level = "debug", skip_all, fields(code = %code))]
pub async fn refresh_sales_labels(
    db: &Db,
    code: ObjectId,
    finishing: Option<&Sale>,
) -> mongodb::error::Result<Option<Code>> {
    // FerretDB writes whole documents: a recount computed a moment earlier (another purchase's,
    // on any instance) may land after ours. Read back and recount until the stored labels agree
    // with the purchases (a few rounds at most; any later sale repeats this).
    for _ in 0..5 {
        let Some(c) = find(db, code).await? else {
            return Ok(None);
        };
        let mut sales = sales(db, code).await?;
        if let Some(f) = finishing {
            if !sales.iter().any(|s| s.purchase == f.purchase) {
                sales.push(*f);
            }
        }
        let count = sales.len() as i64;
        let status = rules::status_after_sales(c.status, count, c.listing.max_buyers);
        let first = if c.listing.max_buyers == 1 && c.sold_at.is_none() {
            sales.iter().min_by_key(|s| s.at).copied()
        } else {
            None
        };
        if c.sales_count == count && status == c.status && first.is_none() {
            return Ok(Some(c));
        }
        let mut fields = doc! { "salesCount": count };
        if status != c.status {
            fields.insert("status", status.as_str());
        }
        if let Some(first) = first {
            fields.insert("soldTo", first.buyer);
            fields.insert("soldAt", first.at);
        }
        set_labels(db, code, fields).await?;
    }
    // Still moving after five rounds (a burst of sales): the next sale recounts again.
    Ok(None)
}
