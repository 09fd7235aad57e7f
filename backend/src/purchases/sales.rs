//! The seller's view of their sales: what is still in escrow, what was paid out, the fees.

use super::settlement::split;
use super::store::{self, Purchase};
use crate::auth::store as users;
use crate::clock;
use crate::error::{AppError, Result};
use crate::http::PageQuery;
use crate::ledger::accounts;
use crate::state::AppState;
use mongodb::bson::{doc, oid::ObjectId};
use oddxer_shared::api::{SaleOut, SalesSummaryOut, Settlement};
use oddxer_shared::Money;

pub async fn summary(state: &AppState, seller: ObjectId, q: &PageQuery) -> Result<SalesSummaryOut> {
    let limit = q.limit()?;
    let currency = &state.config.currency;
    let all = store::list(&state.db, doc! { "seller": seller, "status": "COMPLETED" }, doc! { "_id": -1 }, 100_000).await?;
    let start = match &q.cursor {
        None => 0,
        Some(c) => {
            let after = ObjectId::parse_str(c).map_err(|_| AppError::validation("cursor is not one this server issued", "cursor", "invalid"))?;
            all.iter().position(|p| p.id < after).unwrap_or(all.len())
        }
    };
    let (mut total_held, mut total_paid) = (0i64, 0i64);
    let mut rows = Vec::new();
    for (i, p) in all.iter().enumerate() {
        let (held, paid, fee) = amounts(state, p).await?;
        total_held += held;
        total_paid += paid;
        if i >= start && rows.len() < limit as usize {
            rows.push((p, held, paid, fee));
        }
    }
    let mut items = Vec::with_capacity(rows.len());
    for (p, held, paid, fee) in &rows {
        let title = crate::codes::store::find(&state.db, p.code).await?.map(|c| c.listing.title).unwrap_or_default();
        let buyer = users::find_by_id(&state.db, p.buyer).await?.map(|u| u.username).unwrap_or_default();
        items.push(SaleOut {
            purchase_id: p.id.to_hex(),
            code_id: p.code.to_hex(),
            title,
            buyer_username: buyer,
            price: Money::new(p.price, currency),
            held: Money::new(*held, currency),
            paid_out: Money::new(*paid, currency),
            fee: Money::new(*fee, currency),
            settlement: p.settlement,
            sold_at: clock::rfc3339(p.created_at),
        });
    }
    let next_cursor = if start + rows.len() < all.len() { rows.last().map(|(p, ..)| p.id.to_hex()) } else { None };
    Ok(SalesSummaryOut {
        items,
        next_cursor,
        total_sales: all.len() as i64,
        total_held: Money::new(total_held, currency),
        total_paid_out: Money::new(total_paid, currency),
    })
}

/// (still in escrow, paid to the seller, fee taken) for one sale, from the ledger.
async fn amounts(state: &AppState, p: &Purchase) -> Result<(i64, i64, i64)> {
    let held = state.ledger.entries.head(&accounts::escrow(p.id)).await?.balance;
    match p.settlement {
        Some(Settlement::PaidOut) => {
            let (seller_part, fee) = split(p.price, state.config.platform_fee_bps);
            Ok((held, seller_part, fee))
        }
        _ => Ok((held, 0, 0)),
    }
}
