//! Account and administration calls of `OddxerClient`: withdrawals, becoming a seller, and the
//! admin screens (users, resolutions, reconciliation). All online only.

use oddxer_shared::api::{
    CodeOut, Page, ReconcileReport, ResolutionOut, ResolveIn, TransactionOut, UserOut, UserPatch,
};
use oddxer_shared::client::AdminUsersIn;
use oddxer_shared::{Outcome, PaymentMethod};
use reqwest::Method;

use crate::client::{path_id, OddxerClient};
use crate::error::Result;

impl OddxerClient {
    /// `POST /wallet/withdrawals` (202 PENDING, debited at once into a hold). Same key rules as
    /// `deposit`; never queued.
    pub async fn withdraw(
        &self,
        amount: i64,
        method: PaymentMethod,
        phone: &str,
    ) -> Result<TransactionOut> {
        self.mobile_money("withdraw", "/wallet/withdrawals", amount, method, phone)
            .await
    }

    /// `POST /auth/become-seller`: BUYER -> SELLER. The cached user follows.
    pub async fn become_seller(&self) -> Result<UserOut> {
        let user: UserOut = self
            .inner
            .authed(
                |t| {
                    self.inner
                        .api
                        .request(Method::POST, "/auth/become-seller", Some(t))
                },
                "become seller",
            )
            .await?;
        self.inner.with_store(|s| s.set_user(&user))?;
        self.inner.notify();
        Ok(user)
    }

    /// `GET /admin/users`.
    pub async fn admin_users(&self, q: &AdminUsersIn) -> Result<Page<UserOut>> {
        self.inner
            .authed(
                |t| {
                    self.inner
                        .api
                        .request(Method::GET, "/admin/users", Some(t))
                        .query(q)
                },
                "admin users",
            )
            .await
    }

    /// `PATCH /admin/users/{id}`.
    pub async fn admin_update_user(&self, id: &str, patch: &UserPatch) -> Result<UserOut> {
        let path = format!("/admin/users/{}", path_id(id)?);
        self.inner
            .authed(
                |t| {
                    self.inner
                        .api
                        .request(Method::PATCH, &path, Some(t))
                        .json(patch)
                },
                "admin update user",
            )
            .await
    }

    /// `POST /admin/codes/{id}/resolve`, with the admin's reason (recorded with the decision).
    pub async fn admin_resolve(
        &self,
        id: &str,
        outcome: Outcome,
        reason: Option<&str>,
    ) -> Result<ResolutionOut> {
        let path = format!("/admin/codes/{}/resolve", path_id(id)?);
        let body = ResolveIn {
            outcome,
            reason: reason.map(str::to_owned),
        };
        self.inner
            .authed(
                |t| {
                    self.inner
                        .api
                        .request(Method::POST, &path, Some(t))
                        .json(&body)
                },
                "admin resolve",
            )
            .await
    }

    /// `GET /admin/codes/review`: codes whose voting ended in a tie or without votes.
    pub async fn admin_review_queue(&self, cursor: Option<&str>) -> Result<Page<CodeOut>> {
        self.inner
            .authed_page("/admin/codes/review", cursor, "admin review queue")
            .await
    }

    /// `GET /admin/reconcile`.
    pub async fn admin_reconcile(&self) -> Result<ReconcileReport> {
        self.inner
            .authed(
                |t| {
                    self.inner
                        .api
                        .request(Method::GET, "/admin/reconcile", Some(t))
                },
                "admin reconcile",
            )
            .await
    }
}
