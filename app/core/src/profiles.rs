//! Tipster profiles (`GET /sellers/{id}`, its record and performance) with the offline copy, and
//! following (`PUT` / `DELETE /sellers/{id}/follow`).

use oddxer_shared::api::{
    CodeOut, FollowOut, FollowedSellerOut, Page, PerformancePointOut, SellerProfileOut,
};
use oddxer_shared::client::SellerProfileView;
use reqwest::Method;

use crate::client::{path_id, OddxerClient};
use crate::error::{ErrorChain, Result};

impl OddxerClient {
    /// The profile screen of seller `id`: `GET /sellers/{id}` (signed in when possible, for
    /// `following`), the first page of `/sellers/{id}/codes` and all-time `/performance`, fetched
    /// together. A live answer is kept on the device; when the server cannot be reached the kept
    /// copy is answered with `fromCache: true` (the error when there is none).
    pub async fn seller_profile(&self, id: &str) -> Result<SellerProfileView> {
        let id = path_id(id)?;
        let live = async {
            let path = format!("/sellers/{id}");
            let profile = async {
                let profile: SellerProfileOut = self
                    .inner
                    .maybe_authed(
                        |t| self.inner.api.request(Method::GET, &path, t),
                        "seller profile",
                    )
                    .await?;
                Ok(profile)
            };
            let record = self.seller_record(id, None);
            let performance = async {
                let rb = self.inner.api.request(
                    Method::GET,
                    &format!("/sellers/{id}/performance"),
                    None,
                );
                self.inner
                    .api
                    .send::<Vec<PerformancePointOut>>(rb, "seller performance")
                    .await
            };
            // Three independent reads: one wait, not three in a row.
            let (profile, record, performance) =
                futures_util::future::try_join3(profile, record, performance).await?;
            Ok::<_, crate::error::ClientError>(SellerProfileView {
                profile,
                record: record.items,
                record_next_cursor: record.next_cursor,
                performance,
                from_cache: false,
                cached_at: None,
            })
        };
        match live.await {
            Ok(view) => {
                if let Err(e) = self.inner.with_store(|s| s.cache_seller_profile(&view)) {
                    tracing::warn!(error = %ErrorChain(&e), "could not keep a seller profile");
                }
                Ok(view)
            }
            Err(e) if e.is_unreachable() => {
                tracing::debug!("seller profile served from the device");
                self.inner
                    .with_store(|s| s.cached_seller_profile(id))?
                    .ok_or(e)
            }
            Err(e) => Err(e),
        }
    }

    /// `GET /sellers/{id}` alone: the figures a code's page shows next to its buy button, without
    /// the record and chart the profile screen fetches. Offline, the kept profile's figures.
    pub async fn seller_summary(&self, id: &str) -> Result<SellerProfileOut> {
        let id = path_id(id)?;
        let path = format!("/sellers/{id}");
        let live: Result<SellerProfileOut> = self
            .inner
            .maybe_authed(
                |t| self.inner.api.request(Method::GET, &path, t),
                "seller profile",
            )
            .await;
        match live {
            Err(e) if e.is_unreachable() => self
                .inner
                .with_store(|s| s.cached_seller_profile(id))?
                .map(|v| v.profile)
                .ok_or(e),
            other => other,
        }
    }

    /// `GET /sellers/{id}/codes`: one page of the record, newest first. Booking codes appear on
    /// finalized codes only (the server's rule).
    pub async fn seller_record(&self, id: &str, cursor: Option<&str>) -> Result<Page<CodeOut>> {
        let path = format!("/sellers/{}/codes", path_id(id)?);
        let rb = self
            .inner
            .api
            .request(Method::GET, &path, None)
            .query(&crate::client::CursorQuery { cursor });
        self.inner.api.send(rb, "seller record").await
    }

    /// `GET /me/following`: the tipsters I follow, most recently followed first. Kept on the
    /// device; offline, the kept list (the error when there is none).
    pub async fn my_following(&self) -> Result<Vec<FollowedSellerOut>> {
        // One page of the largest size: the list a person keeps up with fits in it.
        let live: Result<Page<FollowedSellerOut>> = self
            .inner
            .authed(
                |t| {
                    self.inner
                        .api
                        .request(Method::GET, "/me/following?limit=100", Some(t))
                },
                "following",
            )
            .await;
        let live = live.map(|page| page.items);
        match live {
            Ok(list) => {
                if let Err(e) = self.inner.with_store(|s| s.cache_following(&list)) {
                    tracing::warn!(error = %ErrorChain(&e), "could not keep the following list");
                }
                Ok(list)
            }
            Err(e) if e.is_unreachable() => {
                self.inner.with_store(|s| s.cached_following())?.ok_or(e)
            }
            Err(e) => Err(e),
        }
    }

    /// `PUT` (`follow`) or `DELETE` (`!follow`) `/sellers/{id}/follow`; idempotent on the server.
    /// The kept profile is updated so it shows the new state offline. Never queued.
    pub async fn follow_seller(&self, id: &str, follow: bool) -> Result<FollowOut> {
        let path = format!("/sellers/{}/follow", path_id(id)?);
        let method = if follow { Method::PUT } else { Method::DELETE };
        let out: FollowOut = self
            .inner
            .authed(
                |t| self.inner.api.request(method.clone(), &path, Some(t)),
                "follow",
            )
            .await?;
        if let Err(e) = self
            .inner
            .with_store(|s| s.set_cached_following(&out.seller_id, out.following, out.followers))
        {
            tracing::warn!(error = %ErrorChain(&e), "could not update a kept profile");
        }
        Ok(out)
    }
}
