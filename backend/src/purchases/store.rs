//! Queries of the purchases area: purchases, the per-(code, buyer) claim, sale slots, settlements.

use crate::clock;
use crate::db::Db;
use crate::error::is_duplicate_key;
use futures_util::TryStreamExt;
use mongodb::bson::{doc, oid::ObjectId, DateTime, Document};
use oddxer_shared::api::{PurchaseStatus, Settlement};

#[derive(Debug, Clone)]
pub struct Purchase {
    pub id: ObjectId,
    pub code: ObjectId,
    pub buyer: ObjectId,
    pub seller: ObjectId,
    pub price: i64,
    pub status: PurchaseStatus,
    pub settlement: Option<Settlement>,
    pub created_at: DateTime,
}

fn status_str(s: PurchaseStatus) -> &'static str {
    match s {
        PurchaseStatus::Pending => "PENDING",
        PurchaseStatus::Completed => "COMPLETED",
        PurchaseStatus::Failed => "FAILED",
    }
}

pub fn settlement_str(s: Settlement) -> &'static str {
    match s {
        Settlement::PaidOut => "PAID_OUT",
        Settlement::Refunded => "REFUNDED",
    }
}

pub fn parse_settlement(s: &str) -> Option<Settlement> {
    match s {
        "PAID_OUT" => Some(Settlement::PaidOut),
        "REFUNDED" => Some(Settlement::Refunded),
        _ => None,
    }
}

impl Purchase {
    pub fn from_doc(d: &Document) -> Option<Purchase> {
        Some(Purchase {
            id: d.get_object_id("_id").ok()?,
            code: d.get_object_id("bettingCode").ok()?,
            buyer: d.get_object_id("buyer").ok()?,
            seller: d.get_object_id("seller").ok()?,
            price: d.get_i64("price").ok()?,
            status: match d.get_str("status").ok()? {
                "COMPLETED" => PurchaseStatus::Completed,
                "FAILED" => PurchaseStatus::Failed,
                _ => PurchaseStatus::Pending,
            },
            settlement: d.get_str("settlement").ok().and_then(parse_settlement),
            created_at: d.get_datetime("createdAt").copied().unwrap_or(DateTime::MIN),
        })
    }
}

pub async fn insert_or_get(db: &Db, p: &Purchase) -> mongodb::error::Result<Option<Purchase>> {
    let d = doc! {
        "_id": p.id, "bettingCode": p.code, "buyer": p.buyer, "seller": p.seller, "price": p.price,
        "status": status_str(p.status), "createdAt": p.created_at, "updatedAt": p.created_at,
    };
    match db.col("purchases").insert_one(d).await {
        Ok(_) => Ok(Some(p.clone())),
        Err(e) if is_duplicate_key(&e) => find(db, p.id).await,
        Err(e) => Err(e),
    }
}

pub async fn find(db: &Db, id: ObjectId) -> mongodb::error::Result<Option<Purchase>> {
    Ok(db.col("purchases").find_one(doc! { "_id": id }).await?.as_ref().and_then(Purchase::from_doc))
}

pub async fn set_status(db: &Db, id: ObjectId, status: PurchaseStatus) -> mongodb::error::Result<()> {
    db.col("purchases")
        .update_one(doc! { "_id": id }, doc! { "$set": { "status": status_str(status), "updatedAt": clock::now() } })
        .await?;
    Ok(())
}

pub async fn set_settlement(db: &Db, id: ObjectId, s: Settlement) -> mongodb::error::Result<()> {
    db.col("purchases")
        .update_one(doc! { "_id": id }, doc! { "$set": { "settlement": settlement_str(s), "updatedAt": clock::now() } })
        .await?;
    Ok(())
}

pub async fn list(db: &Db, filter: Document, sort: Document, limit: i64) -> mongodb::error::Result<Vec<Purchase>> {
    let options = mongodb::options::FindOptions::builder().sort(sort).limit(limit).build();
    let docs: Vec<Document> = db.col("purchases").find(filter).with_options(options).await?.try_collect().await?;
    Ok(docs.iter().filter_map(Purchase::from_doc).collect())
}

pub fn claim_id(code: ObjectId, buyer: ObjectId) -> String {
    format!("{}:{}", code.to_hex(), buyer.to_hex())
}

/// One buyer, one purchase of a code: the claim insert decides. Returns the purchase that holds it.
pub async fn claim(db: &Db, code: ObjectId, buyer: ObjectId, purchase: ObjectId) -> mongodb::error::Result<ObjectId> {
    let id = claim_id(code, buyer);
    match db.col("purchase_claims").insert_one(doc! { "_id": &id, "purchase": purchase, "createdAt": clock::now() }).await {
        Ok(_) => Ok(purchase),
        Err(e) if is_duplicate_key(&e) => {
            let held = db.col("purchase_claims").find_one(doc! { "_id": &id }).await?;
            Ok(held.and_then(|d| d.get_object_id("purchase").ok()).unwrap_or(purchase))
        }
        Err(e) => Err(e),
    }
}

/// Frees the claim of a purchase that did not happen, so the buyer may try again.
pub async fn release_claim(db: &Db, code: ObjectId, buyer: ObjectId, purchase: ObjectId) -> mongodb::error::Result<()> {
    db.col("purchase_claims").delete_one(doc! { "_id": claim_id(code, buyer), "purchase": purchase }).await?;
    Ok(())
}

/// Takes one of the code's `max_buyers` sale slots `{code}:{n}` (or finds the one this purchase
/// already holds). `None` when all are taken: sold out.
pub async fn take_slot(db: &Db, code: ObjectId, purchase: ObjectId, max_buyers: i64) -> mongodb::error::Result<Option<i64>> {
    let col = db.col("sale_slots");
    if let Some(held) = col.find_one(doc! { "purchase": purchase }).await? {
        return Ok(held.get_i64("slot").ok());
    }
    for n in 1..=max_buyers {
        let d = doc! { "_id": format!("{}:{n}", code.to_hex()), "bettingCode": code, "slot": n, "purchase": purchase, "createdAt": clock::now() };
        match col.insert_one(d).await {
            Ok(_) => return Ok(Some(n)),
            Err(e) if is_duplicate_key(&e) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

pub async fn release_slot(db: &Db, purchase: ObjectId) -> mongodb::error::Result<()> {
    db.col("sale_slots").delete_many(doc! { "purchase": purchase }).await?;
    Ok(())
}

/// How a purchase is settled is decided once, by inserting `settlements {_id: purchase}`.
pub async fn decide_settlement(db: &Db, purchase: ObjectId, s: Settlement) -> mongodb::error::Result<Settlement> {
    match db.col("settlements").insert_one(doc! { "_id": purchase, "kind": settlement_str(s), "createdAt": clock::now() }).await {
        Ok(_) => Ok(s),
        Err(e) if is_duplicate_key(&e) => {
            let stored = db.col("settlements").find_one(doc! { "_id": purchase }).await?;
            Ok(stored.as_ref().and_then(|d| d.get_str("kind").ok()).and_then(parse_settlement).unwrap_or(s))
        }
        Err(e) => Err(e),
    }
}

pub async fn count_completed(db: &Db, code: ObjectId) -> mongodb::error::Result<u64> {
    db.col("purchases").count_documents(doc! { "bettingCode": code, "status": "COMPLETED" }).await
}
