//! A seller's running sales totals: an append-only stream `seller_totals {_id: "{seller}:{seq}"}`
//! whose every row carries the totals after one event (a sale, a payout, a refund), so the totals
//! are the head row, read by `_id` however many sales the seller has. Positions are decided by
//! inserting `{seller}:{N+1}` after reading head N (as the ledger does, DESIGN.md section 4); each
//! event is applied once, named by `{purchase}:{event}` under a unique index. Recomputable: the
//! totals equal the sums over the seller's purchases ([`recompute`]).

use super::rules::split;
use super::store::Purchase;
use crate::clock;
use crate::db::Db;
use crate::error::{is_duplicate_key, AppError, Result};
use mongodb::bson::{doc, oid::ObjectId, Document};
use oddxer_shared::api::Settlement;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

pub const COLLECTION: &str = "seller_totals";
const MAX_APPEND_TRIES: usize = 64;

/// A seller's totals: sales counted, and money in minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Completed sales.
    pub sales: i64,
    /// Prices still held in escrow (sales not settled yet).
    pub held: i64,
    /// Paid to the seller (price minus the platform fee) for settled sales.
    pub paid_out: i64,
    /// Platform fees taken from settled sales.
    pub fees: i64,
}

/// What happened to one sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Sold,
    Settled(Settlement),
}

impl Event {
    fn key(self, purchase: ObjectId) -> String {
        let name = match self {
            Event::Sold => "sold",
            Event::Settled(_) => "settled",
        };
        format!("{}:{name}", purchase.to_hex())
    }
}

/// Plain rule: the totals after an event on a sale of `price` with the given fee.
pub fn apply(t: Totals, event: Event, price: i64, fee_bps: u32) -> Totals {
    match event {
        Event::Sold => Totals {
            sales: t.sales + 1,
            held: t.held + price,
            ..t
        },
        Event::Settled(Settlement::PaidOut) => {
            let (seller_part, fee) = split(price, fee_bps);
            Totals {
                held: t.held - price,
                paid_out: t.paid_out + seller_part,
                fees: t.fees + fee,
                ..t
            }
        }
        Event::Settled(Settlement::Refunded) => Totals {
            held: t.held - price,
            ..t
        },
    }
}

/// Totals recomputed from a seller's purchases (the check that the stream adds up).
pub fn recompute(purchases: &[Purchase], fee_bps: u32) -> Totals {
    purchases.iter().fold(Totals::default(), |t, p| {
        let t = apply(t, Event::Sold, p.price, fee_bps);
        match p.settlement {
            Some(s) => apply(t, Event::Settled(s), p.price, fee_bps),
            None => t,
        }
    })
}

fn known_heads() -> &'static Mutex<HashMap<String, i64>> {
    static HEADS: OnceLock<Mutex<HashMap<String, i64>>> = OnceLock::new();
    HEADS.get_or_init(|| Mutex::new(HashMap::new()))
}

fn row_id(seller: ObjectId, seq: i64) -> String {
    format!("{}:{seq}", seller.to_hex())
}

fn totals_of(d: &Document) -> Totals {
    let int = |k: &str| d.get_i64(k).unwrap_or(0);
    Totals {
        sales: int("sales"),
        held: int("held"),
        paid_out: int("paidOut"),
        fees: int("fees"),
    }
}

/// The head row: (position, totals); `(0, zero)` for a seller without sales. `_id` lookups only:
/// gallop forward from the last known position, then bisect.
#[tracing::instrument(level = "debug", skip_all, fields(seller = %seller))]
pub async fn head(db: &Db, seller: ObjectId) -> mongodb::error::Result<(i64, Totals)> {
    let key = format!("{}/{}", db.db.name(), seller.to_hex());
    let known = known_heads()
        .lock()
        .ok()
        .and_then(|h| h.get(&key).copied())
        .unwrap_or(0);
    let col = db.col(COLLECTION);
    let mut lo = (known, Totals::default());
    if known > 0 {
        match col.find_one(doc! { "_id": row_id(seller, known) }).await? {
            Some(d) => lo.1 = totals_of(&d),
            None => lo = (0, Totals::default()),
        }
    }
    let mut step = 1i64;
    let mut hi = loop {
        match col
            .find_one(doc! { "_id": row_id(seller, lo.0 + step) })
            .await?
        {
            Some(d) => {
                lo = (lo.0 + step, totals_of(&d));
                step = step.saturating_mul(2);
            }
            None => break lo.0 + step,
        }
    };
    while hi - lo.0 > 1 {
        let mid = lo.0 + (hi - lo.0) / 2;
        match col.find_one(doc! { "_id": row_id(seller, mid) }).await? {
            Some(d) => lo = (mid, totals_of(&d)),
            None => hi = mid,
        }
    }
    if let Ok(mut heads) = known_heads().lock() {
        if heads.len() >= 100_000 {
            heads.clear();
        }
        heads.insert(key, lo.0);
    }
    Ok(lo)
}

/// Records an event of a sale once (a second call with the same purchase and event does nothing).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn record(db: &Db, p: &Purchase, event: Event, fee_bps: u32) -> Result<()> {
    let key = event.key(p.id);
    let col = db.col(COLLECTION);
    for _ in 0..MAX_APPEND_TRIES {
        let (seq, totals) = head(db, p.seller).await?;
        let next = apply(totals, event, p.price, fee_bps);
        let d = doc! {
            "_id": row_id(p.seller, seq + 1), "seller": p.seller, "seq": seq + 1, "key": &key, "purchase": p.id,
            "sales": next.sales, "held": next.held, "paidOut": next.paid_out, "fees": next.fees, "createdAt": clock::now(),
        };
        match col.insert_one(d).await {
            Ok(_) => return Ok(()),
            Err(e) if is_duplicate_key(&e) => {
                // The position was taken (retry at the new head), or this event is in already.
                if col.find_one(doc! { "key": &key }).await?.is_some() {
                    return Ok(());
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::internal(format!(
        "seller totals of {}: too much contention",
        p.seller
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::DateTime;
    use oddxer_shared::api::PurchaseStatus;

    fn sale(price: i64, settlement: Option<Settlement>) -> Purchase {
        Purchase {
            id: ObjectId::new(),
            code: ObjectId::new(),
            buyer: ObjectId::new(),
            seller: ObjectId::new(),
            price,
            status: PurchaseStatus::Completed,
            settlement,
            created_at: DateTime::now(),
        }
    }

    #[test]
    fn totals_follow_sales_payouts_and_refunds() {
        let t = apply(Totals::default(), Event::Sold, 10_000, 1000);
        assert_eq!(
            t,
            Totals {
                sales: 1,
                held: 10_000,
                paid_out: 0,
                fees: 0
            }
        );
        let paid = apply(t, Event::Settled(Settlement::PaidOut), 10_000, 1000);
        assert_eq!(
            paid,
            Totals {
                sales: 1,
                held: 0,
                paid_out: 9_000,
                fees: 1_000
            }
        );
        let refunded = apply(t, Event::Settled(Settlement::Refunded), 10_000, 1000);
        assert_eq!(
            refunded,
            Totals {
                sales: 1,
                held: 0,
                paid_out: 0,
                fees: 0
            }
        );
    }

    #[test]
    fn recomputing_from_the_purchases_gives_the_same_totals_as_the_events() {
        let purchases = vec![
            sale(999, Some(Settlement::PaidOut)),
            sale(5_000, None),
            sale(2_500, Some(Settlement::Refunded)),
        ];
        let mut t = Totals::default();
        for p in &purchases {
            t = apply(t, Event::Sold, p.price, 1000);
        }
        for p in &purchases {
            if let Some(s) = p.settlement {
                t = apply(t, Event::Settled(s), p.price, 1000);
            }
        }
        assert_eq!(t, recompute(&purchases, 1000));
        assert_eq!(
            t,
            Totals {
                sales: 3,
                held: 5_000,
                paid_out: 900,
                fees: 99
            }
        );
    }
}
