//! Queries of the purchases area: purchases, the per-(code, buyer) claim, sale slots, settlements.

use crate::clock;
use crate::codes::sales::claim_id;
use crate::db::{de, Db};
use crate::error::is_duplicate_key;
use futures_util::TryStreamExt;
use mongodb::bson::{doc, oid::ObjectId, DateTime, Document};
use oddxer_shared::api::{PurchaseStatus, Settlement};

/// A `purchases` document.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Purchase {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    #[serde(rename = "bettingCode")]
    pub code: ObjectId,
    pub buyer: ObjectId,
    pub seller: ObjectId,
    /// What the buyer paid, minor units.
    pub price: i64,
    pub status: PurchaseStatus,
    /// How the escrowed price left escrow, once the code is settled.
    pub settlement: Option<Settlement>,
    #[serde(default = "de::earliest")]
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

/// What inserting a purchase found.
#[derive(Debug)]
pub enum Inserted {
    /// Ours is in: the buyer holds the code's claim.
    New,
    /// This very purchase exists already (a retry with the same Idempotency-Key).
    Again(Purchase),
    /// Another purchase of the same buyer and code holds the claim.
    ClaimedBy(Purchase),
}

/// Inserts the purchase PENDING with its claim `{code}:{buyer}` (unique index on `claim`): one
/// insert both records the purchase and decides that a buyer buys a code at most once. A purchase
/// that does not happen gives its claim back ([`abandon`]), so the buyer may try again.
///
/// `title` and `buyer_username` are copied onto the record so the seller's sales list needs no
/// lookup per row.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_claimed(
    db: &Db,
    p: &Purchase,
    title: &str,
    buyer_username: &str,
) -> mongodb::error::Result<Inserted> {
    let d = doc! {
        "_id": p.id, "claim": claim_id(p.code, p.buyer), "bettingCode": p.code, "buyer": p.buyer, "seller": p.seller,
        "price": p.price, "status": status_str(p.status), "title": title, "buyerUsername": buyer_username,
        "createdAt": p.created_at, "updatedAt": p.created_at,
    };
    match db.col("purchases").insert_one(d.clone()).await {
        Ok(_) => Ok(Inserted::New),
        Err(e) if is_duplicate_key(&e) => {
            if let Some(again) = find(db, p.id).await? {
                return Ok(Inserted::Again(again));
            }
            match find_by_claim(db, p.code, p.buyer).await? {
                Some(holder) => Ok(Inserted::ClaimedBy(holder)),
                // The holder gave the claim back between our insert and this read: try once more.
                None => match db.col("purchases").insert_one(d).await {
                    Ok(_) => Ok(Inserted::New),
                    Err(e) if is_duplicate_key(&e) => {
                        match find_by_claim(db, p.code, p.buyer).await? {
                            Some(holder) => Ok(Inserted::ClaimedBy(holder)),
                            None => Err(e),
                        }
                    }
                    Err(e) => Err(e),
                },
            }
        }
        Err(e) => Err(e),
    }
}

/// For bulk loading (benchmarks): the purchase document [`insert_claimed`] inserts, with its
/// `claim` (keep the two in step), plus the status and settlement labels later writes put on it.
/// A FAILED purchase has given its claim back, so it carries none.
pub fn purchase_doc(
    p: &Purchase,
    title: &str,
    buyer_username: &str,
    updated_at: DateTime,
) -> Document {
    let mut d = doc! {
        "_id": p.id, "claim": claim_id(p.code, p.buyer), "bettingCode": p.code, "buyer": p.buyer, "seller": p.seller,
        "price": p.price, "status": status_str(p.status), "title": title, "buyerUsername": buyer_username,
        "createdAt": p.created_at, "updatedAt": updated_at,
    };
    if p.status == PurchaseStatus::Failed {
        d.remove("claim");
    }
    if let Some(s) = p.settlement {
        d.insert("settlement", settlement_str(s));
    }
    d
}

/// The purchase holding the claim of `buyer` on `code` (PENDING or COMPLETED), if any.
#[tracing::instrument(level = "debug", skip_all, fields(code = %code, buyer = %buyer))]
pub async fn find_by_claim(
    db: &Db,
    code: ObjectId,
    buyer: ObjectId,
) -> mongodb::error::Result<Option<Purchase>> {
    db.find_row("purchases", doc! { "claim": claim_id(code, buyer) })
        .await
}

/// Marks a purchase that will not happen FAILED and gives its claim back, in one write of the
/// purchase document (so no other label write can bring the claim back).
#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn abandon(db: &Db, id: ObjectId) -> mongodb::error::Result<()> {
    db.col("purchases")
        .update_one(doc! { "_id": id }, doc! { "$set": { "status": "FAILED", "updatedAt": clock::now() }, "$unset": { "claim": "" } })
        .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn find(db: &Db, id: ObjectId) -> mongodb::error::Result<Option<Purchase>> {
    db.find_row("purchases", doc! { "_id": id }).await
}

#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn set_status(
    db: &Db,
    id: ObjectId,
    status: PurchaseStatus,
) -> mongodb::error::Result<()> {
    db.col("purchases")
        .update_one(
            doc! { "_id": id },
            doc! { "$set": { "status": status_str(status), "updatedAt": clock::now() } },
        )
        .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn set_settlement(db: &Db, id: ObjectId, s: Settlement) -> mongodb::error::Result<()> {
    db.col("purchases")
        .update_one(
            doc! { "_id": id },
            doc! { "$set": { "settlement": settlement_str(s), "updatedAt": clock::now() } },
        )
        .await?;
    Ok(())
}

/// Purchase documents as stored (with the copied `title` and `buyerUsername`), for listings.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_docs(
    db: &Db,
    filter: Document,
    sort: Document,
    limit: i64,
) -> mongodb::error::Result<Vec<Document>> {
    let options = mongodb::options::FindOptions::builder()
        .sort(sort)
        .limit(limit)
        .build();
    db.col("purchases")
        .find(filter)
        .with_options(options)
        .await?
        .try_collect()
        .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(
    db: &Db,
    filter: Document,
    sort: Document,
    limit: i64,
) -> mongodb::error::Result<Vec<Purchase>> {
    let options = mongodb::options::FindOptions::builder()
        .sort(sort)
        .limit(limit)
        .build();
    let docs: Vec<Document> = db
        .col("purchases")
        .find(filter)
        .with_options(options)
        .await?
        .try_collect()
        .await?;
    Ok(db.rows("purchases", docs))
}

fn slot_id(code: ObjectId, n: i64) -> String {
    format!("{}:{n}", code.to_hex())
}

/// What [`take_slot`] found.
#[derive(Debug, PartialEq)]
pub enum Slot {
    /// This purchase holds place `n` (1..=maxBuyers).
    Taken(i64),
    /// Every place is held, by these purchases.
    Full(Vec<ObjectId>),
}

/// Takes one of the code's `max_buyers` sale slots `{code}:{n}` (or finds the one this purchase
/// already holds). [`Slot::Full`] (with the holders) when all are taken. Probing starts after `sold`
/// (the code's `salesCount` label: the places below it are taken unless a purchase gave one back),
/// so the common case is one insert; it wraps around to find a place given back below.
#[tracing::instrument(level = "debug", skip_all, fields(code = %code, purchase = %purchase))]
pub async fn take_slot(
    db: &Db,
    code: ObjectId,
    purchase: ObjectId,
    max_buyers: i64,
    sold: i64,
) -> mongodb::error::Result<Slot> {
    let col = db.col("sale_slots");
    // Start at the first place after the sold ones: places stay packed from 1, so the next buyer's
    // first try is normally free (spreading buyers out leaves gaps that later buyers probe one by
    // one).
    let start = sold.clamp(0, max_buyers.max(1) - 1);
    let mut holders = Vec::new();
    for i in 0..max_buyers {
        let n = (start + i) % max_buyers + 1;
        let d = doc! { "_id": slot_id(code, n), "bettingCode": code, "slot": n, "purchase": purchase, "createdAt": clock::now() };
        match col.insert_one(d).await {
            Ok(_) => return Ok(Slot::Taken(n)),
            Err(e) if is_duplicate_key(&e) => {
                // Taken, possibly by this very purchase on an earlier attempt.
                let held = col.find_one(doc! { "_id": slot_id(code, n) }).await?;
                match held.as_ref().and_then(|d| d.get_object_id("purchase").ok()) {
                    Some(holder) if holder == purchase => return Ok(Slot::Taken(n)),
                    Some(holder) => holders.push(holder),
                    // Given back between the insert and this read: the next pass may take it.
                    None => {}
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Slot::Full(holders))
}

/// Ids of the code's purchases still PENDING (equality on the indexed `{bettingCode, status}`;
/// few at any time: a purchase is PENDING for the moments its money moves).
#[tracing::instrument(level = "debug", skip_all, fields(code = %code))]
pub async fn pending_of_code(db: &Db, code: ObjectId) -> mongodb::error::Result<Vec<ObjectId>> {
    let options = mongodb::options::FindOptions::builder()
        .projection(doc! { "_id": 1 })
        .build();
    let docs: Vec<Document> = db
        .col("purchases")
        .find(doc! { "bettingCode": code, "status": "PENDING" })
        .with_options(options)
        .await?
        .try_collect()
        .await?;
    Ok(docs
        .iter()
        .filter_map(|d| d.get_object_id("_id").ok())
        .collect())
}

/// Gives back the slot a purchase holds (indexed by `purchase`: a purchase holds at most one).
#[tracing::instrument(level = "debug", skip_all, fields(purchase = %purchase))]
pub async fn release_slot(db: &Db, purchase: ObjectId) -> mongodb::error::Result<()> {
    db.col("sale_slots")
        .delete_many(doc! { "purchase": purchase })
        .await?;
    Ok(())
}

/// How a purchase is settled is decided once, by inserting `settlements {_id: purchase}`.
#[tracing::instrument(level = "debug", skip_all, fields(purchase = %purchase))]
pub async fn decide_settlement(
    db: &Db,
    purchase: ObjectId,
    s: Settlement,
) -> mongodb::error::Result<Settlement> {
    match db
        .col("settlements")
        .insert_one(doc! { "_id": purchase, "kind": settlement_str(s), "createdAt": clock::now() })
        .await
    {
        Ok(_) => {
            db.metrics.settlement_decided(match s {
                Settlement::PaidOut => "paid_out",
                Settlement::Refunded => "refunded",
            });
            Ok(s)
        }
        Err(e) if is_duplicate_key(&e) => {
            let stored = db
                .col("settlements")
                .find_one(doc! { "_id": purchase })
                .await?;
            Ok(stored
                .as_ref()
                .and_then(|d| d.get_str("kind").ok())
                .and_then(parse_settlement)
                .unwrap_or(s))
        }
        Err(e) => Err(e),
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(code = %code))]
pub async fn count_completed(db: &Db, code: ObjectId) -> mongodb::error::Result<u64> {
    db.col("purchases")
        .count_documents(doc! { "bettingCode": code, "status": "COMPLETED" })
        .await
}
