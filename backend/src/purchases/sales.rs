//! The seller's view of their sales: what is still in escrow, what was paid out, the fees.
//!
//! Totals come from the seller's running totals ([`super::totals`], one `_id` read); the page of
//! sales is one query over the seller's completed purchases, newest first, with the code's title
//! and the buyer's name copied onto each purchase when it was made.

use super::rules::split;
use super::store::{self, parse_settlement};
use super::totals;
use crate::clock;
use crate::error::{AppError, Result};
use crate::http::PageQuery;
use crate::state::AppState;
use mongodb::bson::{doc, oid::ObjectId, DateTime, Document};
use oddxer_shared::api::{SaleOut, SalesSummaryOut, Settlement};
use oddxer_shared::Money;

pub async fn summary(state: &AppState, seller: ObjectId, q: &PageQuery) -> Result<SalesSummaryOut> {
    state.pending.settle_user(seller).await;
    let limit = q.limit()?;
    let currency = &state.config.currency;
    let mut filter = doc! { "seller": seller, "status": "COMPLETED" };
    if let Some(c) = &q.cursor {
        let after = crate::db::after_cursor(c).ok_or_else(|| {
            AppError::validation("cursor is not one this server issued", "cursor", "invalid")
        })?;
        filter.extend(after);
    }
    let (_, totals) = totals::head(&state.db, seller).await?;
    // Newest first: ObjectIds of purchases are derived from idempotency keys (not time-ordered),
    // so sort by the time of sale, then id.
    let docs = store::list_docs(
        &state.db,
        filter,
        doc! { "createdAt": -1, "_id": -1 },
        limit,
    )
    .await?;
    let mut items = Vec::with_capacity(docs.len());
    for d in &docs {
        if let Some(row) = sale_out(state, d).await? {
            items.push(row);
        }
    }
    let next_cursor = match docs.last() {
        Some(d) if docs.len() as i64 == limit => {
            match (d.get_datetime("createdAt"), d.get_object_id("_id")) {
                (Ok(at), Ok(id)) => Some(crate::db::page_cursor(*at, id)),
                _ => None,
            }
        }
        _ => None,
    };
    Ok(SalesSummaryOut {
        items,
        next_cursor,
        total_sales: totals.sales,
        total_held: Money::new(totals.held, currency),
        total_paid_out: Money::new(totals.paid_out, currency),
    })
}

/// One row: held, paid out and fee follow from the price and the settlement (escrow holds exactly
/// the price until settlement moves all of it).
async fn sale_out(state: &AppState, d: &Document) -> Result<Option<SaleOut>> {
    let currency = &state.config.currency;
    let (Ok(id), Ok(code), Ok(buyer), Ok(price)) = (
        d.get_object_id("_id"),
        d.get_object_id("bettingCode"),
        d.get_object_id("buyer"),
        d.get_i64("price"),
    ) else {
        tracing::warn!(purchase = ?d.get("_id"), "purchase document without its fields; left out of the sales list");
        return Ok(None);
    };
    let settlement = d.get_str("settlement").ok().and_then(parse_settlement);
    let (held, paid, fee) = match settlement {
        None => (price, 0, 0),
        Some(Settlement::PaidOut) => {
            let (seller_part, fee) = split(price, state.config.platform_fee_bps);
            (0, seller_part, fee)
        }
        Some(Settlement::Refunded) => (0, 0, 0),
    };
    // Purchases made before the title and buyer name were copied onto them: look them up.
    let title = match d.get_str("title") {
        Ok(t) => t.to_owned(),
        Err(_) => crate::codes::store::find(&state.db, code)
            .await?
            .map(|c| c.listing.title)
            .unwrap_or_default(),
    };
    let buyer_username = match d.get_str("buyerUsername") {
        Ok(u) => u.to_owned(),
        Err(_) => crate::auth::store::find_by_id(&state.db, buyer)
            .await?
            .map(|u| u.username)
            .unwrap_or_default(),
    };
    Ok(Some(SaleOut {
        purchase_id: id.to_hex(),
        code_id: code.to_hex(),
        title,
        buyer_username,
        price: Money::new(price, currency),
        held: Money::new(held, currency),
        paid_out: Money::new(paid, currency),
        fee: Money::new(fee, currency),
        settlement,
        sold_at: clock::rfc3339(
            d.get_datetime("createdAt")
                .copied()
                .unwrap_or(DateTime::MIN),
        ),
    }))
}
