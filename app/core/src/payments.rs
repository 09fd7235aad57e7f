//! Deposits and withdrawals as their user follows them (`GET /wallet/payments`), kept on the
//! device for offline reading, and the admin's payment lookup (`GET /admin/payments`) and user
//! detail (`GET /admin/users/{id}`).

use oddxer_shared::api::{AdminUserOut, Page, PaymentOut};
use oddxer_shared::client::{AdminPaymentsIn, WalletPaymentsOut};
use reqwest::Method;
use serde::Serialize;

use crate::client::{path_id, OddxerClient};
use crate::error::{ErrorChain, Result};

/// Payments shown on the wallet screen (the newest; older ones are rare to look for).
pub const WALLET_PAYMENTS_LIMIT: i64 = 50;

#[derive(Serialize)]
struct LimitQuery {
    limit: i64,
}

impl OddxerClient {
    /// My deposits and withdrawals, newest first, with status and failure reason. A live answer
    /// is kept on the device; when the server cannot be reached the kept list is answered with
    /// `fromCache: true` (an empty one if none was ever fetched).
    pub async fn wallet_payments(&self) -> Result<WalletPaymentsOut> {
        let live: Result<Page<PaymentOut>> = self
            .inner
            .authed(
                |t| {
                    self.inner
                        .api
                        .request(Method::GET, "/wallet/payments", Some(t))
                        .query(&LimitQuery {
                            limit: WALLET_PAYMENTS_LIMIT,
                        })
                },
                "wallet payments",
            )
            .await;
        match live {
            Ok(page) => {
                if let Err(e) = self.inner.with_store(|s| s.cache_payments(&page.items)) {
                    tracing::warn!(error = %ErrorChain(&e), "could not keep the payment list");
                }
                Ok(WalletPaymentsOut {
                    items: page.items,
                    from_cache: false,
                })
            }
            Err(e) if e.is_unreachable() => Ok(WalletPaymentsOut {
                items: self.inner.with_store(|s| s.cached_payments())?,
                from_cache: true,
            }),
            Err(e) => Err(e),
        }
    }

    /// `GET /admin/payments`: deposits and withdrawals of everyone, newest first, filtered by
    /// status, reference or user.
    pub async fn admin_payments(&self, q: &AdminPaymentsIn) -> Result<Page<PaymentOut>> {
        self.inner
            .authed(
                |t| {
                    self.inner
                        .api
                        .request(Method::GET, "/admin/payments", Some(t))
                        .query(q)
                },
                "admin payments",
            )
            .await
    }

    /// `GET /admin/users/{id}`: a user with wallet, purchases, sales, payments and the last
    /// recorded admin change.
    pub async fn admin_user(&self, id: &str) -> Result<AdminUserOut> {
        let path = format!("/admin/users/{}", path_id(id)?);
        self.inner
            .authed(
                |t| self.inner.api.request(Method::GET, &path, Some(t)),
                "admin user",
            )
            .await
    }
}
