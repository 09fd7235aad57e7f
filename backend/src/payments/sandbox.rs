//! The development provider: every request stays PENDING until `/dev/payments/{reference}/complete`
//! or `/fail` settles it. State lives in the database so several backend processes agree.

use super::{PaymentProvider, PaymentRequest, ProviderError, ProviderStatus};
use crate::clock;
use crate::db::Db;
use crate::error::is_duplicate_key;
use futures_util::future::BoxFuture;
use mongodb::bson::doc;
use oddxer_shared::PaymentMethod;

pub struct SandboxProvider {
    pub db: Db,
}

impl SandboxProvider {
    async fn record(
        &self,
        req: &PaymentRequest,
        direction: &str,
    ) -> Result<ProviderStatus, ProviderError> {
        let d = doc! {
            "_id": &req.reference, "direction": direction, "amount": req.amount, "status": "PENDING",
            "method": req.method.as_str(), "createdAt": clock::now(),
        };
        match self.db.col("sandbox_payments").insert_one(d).await {
            Ok(_) => Ok(ProviderStatus::Pending),
            // A retried request with the same reference is the same payment (as at MTN).
            Err(e) if is_duplicate_key(&e) => self.status(&req.reference).await,
            Err(e) => Err(e.into()),
        }
    }

    async fn status(&self, reference: &str) -> Result<ProviderStatus, ProviderError> {
        let found = self
            .db
            .col("sandbox_payments")
            .find_one(doc! { "_id": reference })
            .await?;
        Ok(
            match found.as_ref().and_then(|d| d.get_str("status").ok()) {
                Some("SUCCESSFUL") => ProviderStatus::Succeeded,
                Some("FAILED") => ProviderStatus::Failed,
                Some(_) => ProviderStatus::Pending,
                None => ProviderStatus::Unknown,
            },
        )
    }

    /// Settles a sandbox payment (development routes). Returns false for an unknown reference.
    pub async fn settle(db: &Db, reference: &str, succeeded: bool) -> mongodb::error::Result<bool> {
        let status = if succeeded { "SUCCESSFUL" } else { "FAILED" };
        let result = db
            .col("sandbox_payments")
            .update_one(
                doc! { "_id": reference, "status": "PENDING" },
                doc! { "$set": { "status": status } },
            )
            .await?;
        if result.matched_count == 1 {
            return Ok(true);
        }
        Ok(db
            .col("sandbox_payments")
            .find_one(doc! { "_id": reference })
            .await?
            .is_some())
    }
}

impl PaymentProvider for SandboxProvider {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    fn request_payment<'a>(
        &'a self,
        req: &'a PaymentRequest,
    ) -> BoxFuture<'a, Result<ProviderStatus, ProviderError>> {
        Box::pin(crate::db::uncounted(self.record(req, "collection")))
    }

    fn payment_status<'a>(
        &'a self,
        _method: PaymentMethod,
        reference: &'a str,
    ) -> BoxFuture<'a, Result<ProviderStatus, ProviderError>> {
        Box::pin(crate::db::uncounted(self.status(reference)))
    }

    fn payout<'a>(
        &'a self,
        req: &'a PaymentRequest,
    ) -> BoxFuture<'a, Result<ProviderStatus, ProviderError>> {
        Box::pin(crate::db::uncounted(self.record(req, "disbursement")))
    }

    fn payout_status<'a>(
        &'a self,
        _method: PaymentMethod,
        reference: &'a str,
    ) -> BoxFuture<'a, Result<ProviderStatus, ProviderError>> {
        Box::pin(crate::db::uncounted(self.status(reference)))
    }
}
