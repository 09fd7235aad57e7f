//! The browser's side of live events: the same rules as the native core (`oddxer_sync`'s
//! `Syncer`, `market` and `notice`) over this core's documents. [`WebStore`] is the
//! `SyncStore` the sync loop hands each frame to: the streams live in
//! [`oddxer_sync::MemoryStreams`], the kept marketplace in the market document and the in-app
//! notifications in the user document.

use std::convert::Infallible;

use oddxer_shared::api::{CodeOut, LedgerEntryOut, UserOut};
use oddxer_shared::client::BrowseIn;
use oddxer_shared::client::NotificationOut;
use oddxer_shared::sync::PurchaseStreamEntry;
use oddxer_shared::Money;
use oddxer_sync::market::{place_on_page, rfc3339_ms};
use oddxer_sync::{Applied, Stream, SyncStore};

use super::{MarketDoc, UserDoc};

/// Notifications kept on the device (newest first); older ones are dropped.
pub(super) const NOTIFICATIONS_KEPT: usize = 200;

/// One frame's view of the browser core's documents.
pub(super) struct WebStore<'a> {
    pub(super) doc: &'a mut UserDoc,
    pub(super) market: &'a mut MarketDoc,
}

/// Upserts a public copy of `code` into the kept marketplace and moves it on every kept first
/// page; an older copy (by `updatedAt`) never replaces a newer one. Answers whether a page or
/// copy changed.
pub(super) fn apply_live_code(market: &mut MarketDoc, code: &CodeOut) -> bool {
    let code = oddxer_sync::live::public_copy(code.clone());
    let stored = match market.codes.get(&code.id) {
        Some(old) if rfc3339_ms(&old.updated_at) > rfc3339_ms(&code.updated_at) => old.clone(),
        _ => {
            market.codes.insert(code.id.clone(), code.clone());
            code
        }
    };
    let mut changed = false;
    for (key, page) in &mut market.pages {
        // A key this version cannot read (written by another version) is left alone.
        let Ok(q) = serde_json::from_str::<BrowseIn>(key) else {
            continue;
        };
        if let Some(items) = place_on_page(&q, &page.items, &stored) {
            page.items = items;
            changed = true;
        }
    }
    changed
}

impl SyncStore for WebStore<'_> {
    type Error = Infallible;

    fn cursor(&self, stream: Stream) -> Result<i64, Infallible> {
        self.doc.streams.cursor(stream)
    }

    fn apply_wallet_entries(&mut self, entries: &[LedgerEntryOut]) -> Result<Applied, Infallible> {
        self.doc.streams.apply_wallet_entries(entries)
    }

    fn apply_purchase_entries(
        &mut self,
        entries: &[PurchaseStreamEntry],
    ) -> Result<Applied, Infallible> {
        self.doc.streams.apply_purchase_entries(entries)
    }

    fn apply_wallet_balance(&mut self, balance: &Money) -> Result<bool, Infallible> {
        self.doc.streams.apply_wallet_balance(balance)
    }

    fn reset_stream(&mut self, stream: Stream) -> Result<(), Infallible> {
        self.doc.streams.reset_stream(stream)
    }

    fn mark_synced(&mut self) -> Result<(), Infallible> {
        self.doc.streams.mark_synced()
    }

    fn my_user_id(&self) -> Result<Option<String>, Infallible> {
        Ok(self.doc.user.as_ref().map(|u: &UserOut| u.id.clone()))
    }

    fn now_rfc3339(&self) -> String {
        super::now_rfc3339()
    }

    fn apply_live_code(&mut self, code: &CodeOut) -> Result<bool, Infallible> {
        Ok(apply_live_code(self.market, code))
    }

    fn apply_code_to_purchases(&mut self, code: &CodeOut) -> Result<bool, Infallible> {
        self.doc.streams.apply_code_to_purchases(code)
    }

    fn code_title(&self, id: &str) -> Result<Option<String>, Infallible> {
        Ok(self.market.codes.get(id).map(|c| c.title.clone()))
    }

    fn add_notification(&mut self, n: &NotificationOut) -> Result<bool, Infallible> {
        if self.doc.notifications.iter().any(|old| old.id == n.id) {
            return Ok(false);
        }
        self.doc.notifications.insert(0, n.clone());
        self.doc.notifications.truncate(NOTIFICATIONS_KEPT);
        Ok(true)
    }
}
