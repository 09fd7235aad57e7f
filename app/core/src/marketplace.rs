//! The marketplace side of `OddxerClient`: browsing (with the offline page cache), code detail,
//! buying, voting (with the offline outbox), the leaderboard and the seller's own listings.

use oddxer_shared::api::{
    CodeIn, CodeOptionsOut, CodeOut, CodePatch, LeaderboardEntryOut, Page, PurchaseOut,
    PurchaseResultOut, SalesSummaryOut, VoteIn, VoteOut,
};
use oddxer_shared::client::{BrowseIn, BrowseOut, LeaderboardIn, VoteResultOut};
use oddxer_shared::VoteType;
use reqwest::Method;

use crate::client::{path_id, OddxerClient};
use crate::error::{ErrorChain, Result};

impl OddxerClient {
    /// `GET /codes`. Online, the first page of each query is kept on the device; offline (or
    /// when a gateway says the backend is down) the kept page is returned with `fromCache: true`.
    pub async fn browse_codes(&self, q: &BrowseIn) -> Result<BrowseOut> {
        let rb = self.inner.api.request(Method::GET, "/codes", None).query(q);
        match self.inner.api.send::<Page<CodeOut>>(rb, "codes").await {
            Ok(page) => {
                let cached = self.inner.with_store(|s| match q.cursor {
                    None => s.cache_market_page(q, &page.items, page.next_cursor.as_deref()),
                    Some(_) => s.cache_market_codes(&page.items),
                });
                if let Err(e) = cached {
                    tracing::warn!(error = %ErrorChain(&e), "could not cache a marketplace page");
                }
                Ok(BrowseOut {
                    items: page.items,
                    next_cursor: page.next_cursor,
                    from_cache: false,
                    cached_at: None,
                })
            }
            Err(e) if e.is_unreachable() => {
                tracing::debug!("marketplace served from the local cache");
                self.inner.with_store(|s| s.cached_market_page(q))
            }
            Err(e) => Err(e),
        }
    }

    /// `GET /codes/{id}`, signed in when possible (so buyers and the seller get the secret code).
    /// Offline: my purchase of it (with the code) or the marketplace cache's copy.
    pub async fn code_detail(&self, id: &str) -> Result<CodeOut> {
        let id = path_id(id)?;
        let path = format!("/codes/{id}");
        let r: Result<CodeOut> = self
            .inner
            .maybe_authed(
                |t| self.inner.api.request(Method::GET, &path, t),
                "code detail",
            )
            .await;
        match r {
            Ok(code) => {
                self.inner.keep_code(&code);
                Ok(code)
            }
            Err(e) if e.is_unreachable() => {
                let cached = self.inner.with_store(|s| {
                    Ok(match s.purchase_of_code(id)? {
                        Some(p) => Some(p.code),
                        None => s.market_code(id)?,
                    })
                })?;
                cached.ok_or(e)
            }
            Err(e) => Err(e),
        }
    }

    /// `GET /codes/options`: sports, bookmakers and bounds for the create form and the filters.
    pub async fn code_options(&self) -> Result<CodeOptionsOut> {
        let rb = self.inner.api.request(Method::GET, "/codes/options", None);
        self.inner.api.send(rb, "code options").await
    }

    /// `POST /codes/{id}/purchase`. Never queued: offline it fails with `OFFLINE`. The bought
    /// purchase is kept on the device at once (its stream row replaces it when it arrives).
    pub async fn purchase_code(&self, id: &str) -> Result<PurchaseResultOut> {
        let id = path_id(id)?;
        let path = format!("/codes/{id}/purchase");
        let result: PurchaseResultOut = self
            .inner
            .money_call(&format!("purchase:{id}"), "purchase", |t, key| {
                self.inner
                    .api
                    .request(Method::POST, &path, Some(t))
                    .header("Idempotency-Key", key)
            })
            .await?;
        let changed = self.inner.with_store(|s| {
            let a = s.put_purchase_if_absent(&result.purchase)?;
            let b = s.put_wallet(&result.wallet)?;
            Ok(a || b)
        });
        match changed {
            Ok(true) => self.inner.notify(),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %ErrorChain(&e), "could not keep the purchase"),
        }
        Ok(result)
    }

    /// My purchases with their codes, from the device (kept current by the purchases stream).
    pub fn my_purchases(&self) -> Result<Vec<PurchaseOut>> {
        self.inner.with_store(|s| s.purchases(None))
    }

    /// `POST /codes/{id}/votes`. When the server cannot be reached the vote is queued in the
    /// outbox (`queued: true`) and delivered when the sync connection is back.
    pub async fn cast_vote(&self, code_id: &str, vote: VoteType) -> Result<VoteResultOut> {
        let code_id = path_id(code_id)?;
        match self.inner.post_vote(code_id, vote).await {
            Ok(v) => {
                self.inner.vote_delivered(code_id, vote);
                Ok(VoteResultOut {
                    vote: Some(v),
                    queued: false,
                })
            }
            Err(e) if e.is_unreachable() => {
                tracing::info!("offline: the vote is queued for delivery");
                self.inner.with_store(|s| s.enqueue_vote(code_id, vote))?;
                self.inner.notify();
                Ok(VoteResultOut {
                    vote: None,
                    queued: true,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// `GET /leaderboard`. The first page of each query is kept on the device; when the server
    /// cannot be reached the kept page is answered (the error when there is none).
    pub async fn leaderboard(&self, q: &LeaderboardIn) -> Result<Page<LeaderboardEntryOut>> {
        let rb = self
            .inner
            .api
            .request(Method::GET, "/leaderboard", None)
            .query(q);
        match self
            .inner
            .api
            .send::<Page<LeaderboardEntryOut>>(rb, "leaderboard")
            .await
        {
            Ok(page) => {
                if q.cursor.is_none() {
                    if let Err(e) = self.inner.with_store(|s| s.cache_leaderboard(q, &page)) {
                        tracing::warn!(error = %ErrorChain(&e), "could not keep a leaderboard page");
                    }
                }
                Ok(page)
            }
            Err(e) if e.is_unreachable() => {
                tracing::debug!("leaderboard served from the device");
                self.inner.with_store(|s| s.cached_leaderboard(q))?.ok_or(e)
            }
            Err(e) => Err(e),
        }
    }

    /// `GET /seller/codes`: my listings in every status, with their codes.
    pub async fn seller_codes(&self, cursor: Option<&str>) -> Result<Page<CodeOut>> {
        self.inner
            .authed_page("/seller/codes", cursor, "seller codes")
            .await
    }

    /// `GET /seller/sales`: my sales, held and paid out.
    pub async fn seller_sales(&self, cursor: Option<&str>) -> Result<SalesSummaryOut> {
        self.inner
            .authed_page("/seller/sales", cursor, "seller sales")
            .await
    }

    /// `POST /codes`.
    pub async fn create_code(&self, input: &CodeIn) -> Result<CodeOut> {
        self.inner
            .authed(
                |t| {
                    self.inner
                        .api
                        .request(Method::POST, "/codes", Some(t))
                        .json(input)
                },
                "create code",
            )
            .await
    }

    /// `DELETE /codes/{id}`: cancels an ACTIVE code with no sales.
    pub async fn cancel_code(&self, id: &str) -> Result<CodeOut> {
        let path = format!("/codes/{}", path_id(id)?);
        let code: CodeOut = self
            .inner
            .authed(
                |t| self.inner.api.request(Method::DELETE, &path, Some(t)),
                "cancel code",
            )
            .await?;
        self.inner.keep_code(&code);
        Ok(code)
    }

    /// `PATCH /codes/{id}`: edits my listing while it is ACTIVE with no sales (booking code,
    /// title, odds, price, kick-off...). A refusal keeps the server's field messages
    /// (`CommandError::fields`) for the form.
    pub async fn update_code(&self, id: &str, patch: &CodePatch) -> Result<CodeOut> {
        let path = format!("/codes/{}", path_id(id)?);
        let code: CodeOut = self
            .inner
            .authed(
                |t| {
                    self.inner
                        .api
                        .request(Method::PATCH, &path, Some(t))
                        .json(patch)
                },
                "update code",
            )
            .await?;
        self.inner.keep_code(&code);
        Ok(code)
    }
}

impl crate::client::Inner {
    pub(crate) async fn post_vote(&self, code_id: &str, vote: VoteType) -> Result<VoteOut> {
        let path = format!("/codes/{code_id}/votes");
        let body = VoteIn { vote_type: vote };
        self.authed(
            |t| self.api.request(Method::POST, &path, Some(t)).json(&body),
            "vote",
        )
        .await
    }

    /// Remembers a vote the server has, so my purchases show it offline.
    pub(crate) fn vote_delivered(&self, code_id: &str, vote: VoteType) {
        match self.with_store(|s| s.record_my_vote(code_id, vote)) {
            Ok(true) => self.notify(),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %ErrorChain(&e), "could not remember a vote"),
        }
    }

    /// Keeps a public copy of `code` for offline reading; a failure to keep it is logged, not the
    /// caller's error (the answer itself arrived).
    fn keep_code(&self, code: &CodeOut) {
        if let Err(e) = self.with_store(|s| s.cache_market_codes(std::slice::from_ref(code))) {
            tracing::warn!(error = %ErrorChain(&e), "could not cache a code");
        }
    }
}
