//! The marketplace: browsing codes and the leaderboard (first pages kept for reading offline), a
//! code's detail, buying a code and my purchases.

use oddxer_shared::api::{CodeOut, LeaderboardEntryOut, Page, PurchaseOut, PurchaseResultOut};
use oddxer_shared::client::{BrowseIn, BrowseOut, LeaderboardIn};

use super::wallet::money_call;
use super::R;
use crate::web::http::Call;
use crate::web::{
    changed, now_rfc3339, path_id, schedule_save, with, CachedPage, MARKET_PAGES_KEPT,
};

/// `GET /leaderboard`: the first page of each query is kept beside the marketplace pages for
/// reading offline, as the native core keeps it in SQLite; when the server cannot be reached the
/// kept page answers (the error when there is none).
pub async fn leaderboard(q: &LeaderboardIn) -> R<Page<LeaderboardEntryOut>> {
    let key = serde_json::to_string(q).unwrap_or_default();
    match Call::get("/leaderboard")
        .query(q)
        .fetch::<Page<LeaderboardEntryOut>>()
        .await
    {
        Ok(page) => {
            if q.cursor.is_none() {
                with(|s| {
                    s.market.boards.retain(|(k, _)| *k != key);
                    s.market.boards.push((key, page.clone()));
                    let excess = s.market.boards.len().saturating_sub(MARKET_PAGES_KEPT);
                    s.market.boards.drain(..excess);
                });
                schedule_save();
            }
            Ok(page)
        }
        Err(e) if e.is_unreachable() && q.cursor.is_none() => with(|s| {
            s.market
                .boards
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, p)| p.clone())
        })
        .ok_or_else(|| e.into()),
        Err(e) => Err(e.into()),
    }
}

/// `GET /codes`; the first page of each query is kept, and served (`fromCache`) when the
/// server cannot be reached.
pub async fn browse_codes(q: &BrowseIn) -> R<BrowseOut> {
    match Call::get("/codes").query(q).fetch::<Page<CodeOut>>().await {
        Ok(page) => {
            with(|s| {
                for c in &page.items {
                    s.market.codes.insert(c.id.clone(), c.clone());
                }
                if q.cursor.is_none() {
                    let key = serde_json::to_string(q).unwrap_or_default();
                    s.market.pages.retain(|(k, _)| *k != key);
                    s.market.pages.push((
                        key,
                        CachedPage {
                            items: page.items.clone(),
                            next_cursor: page.next_cursor.clone(),
                            cached_at: now_rfc3339(),
                        },
                    ));
                    let excess = s.market.pages.len().saturating_sub(MARKET_PAGES_KEPT);
                    s.market.pages.drain(..excess);
                }
            });
            schedule_save();
            Ok(BrowseOut {
                items: page.items,
                next_cursor: page.next_cursor,
                from_cache: false,
                cached_at: None,
            })
        }
        Err(e) if e.is_unreachable() => {
            let mut first = q.clone();
            first.cursor = None;
            let key = serde_json::to_string(&first).unwrap_or_default();
            let cached = with(|s| {
                s.market
                    .pages
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, p)| p.clone())
            });
            match cached {
                // A later page offline: nothing more kept.
                Some(_) if q.cursor.is_some() => Ok(BrowseOut {
                    items: Vec::new(),
                    next_cursor: None,
                    from_cache: true,
                    cached_at: None,
                }),
                Some(p) => Ok(BrowseOut {
                    items: p.items,
                    next_cursor: None,
                    from_cache: true,
                    cached_at: Some(p.cached_at),
                }),
                None => Ok(BrowseOut {
                    items: Vec::new(),
                    next_cursor: None,
                    from_cache: true,
                    cached_at: None,
                }),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /codes/{id}`, signed in when possible. Offline: my purchase of it (with the code) or
/// the marketplace copy.
pub async fn code_detail(id: &str) -> R<CodeOut> {
    let id = path_id(id)?;
    match Call::get(&format!("/codes/{id}"))
        .maybe_signed_in()
        .fetch::<CodeOut>()
        .await
    {
        Ok(code) => {
            with(|s| s.market.codes.insert(code.id.clone(), code.clone()));
            schedule_save();
            Ok(code)
        }
        Err(e) if e.is_unreachable() => with(|s| {
            s.doc
                .streams
                .purchase_of_code(id)
                .map(|p| p.code)
                .or_else(|| s.market.codes.get(id).cloned())
        })
        .ok_or_else(|| e.into()),
        Err(e) => Err(e.into()),
    }
}

/// `POST /codes/{id}/purchase`. Never queued. The purchase is kept at once (its stream row
/// replaces it when it arrives).
pub async fn purchase_code(id: &str) -> R<PurchaseResultOut> {
    let id = path_id(id)?;
    let result: PurchaseResultOut = money_call(
        &format!("purchase:{id}"),
        Call::post(&format!("/codes/{id}/purchase")),
    )
    .await?;
    let kept = with(|s| {
        let a = s.doc.streams.put_purchase_if_absent(&result.purchase);
        let b = s.doc.streams.put_wallet(&result.wallet);
        a || b
    });
    if kept {
        changed();
    }
    Ok(result)
}

/// My purchases with their codes, from the device.
pub fn my_purchases() -> Vec<PurchaseOut> {
    with(|s| s.doc.streams.purchases(None))
}
