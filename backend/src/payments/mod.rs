//! Mobile-money providers behind one trait. Statuses map to Pending | Succeeded | Failed | Unknown;
//! "Unknown" (timeout after the provider may have committed) is never guessed at: it is polled.

pub mod sandbox;

use futures_util::future::BoxFuture;
use oddxer_shared::{Currency, PaymentMethod};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderStatus {
    Pending,
    Succeeded,
    Failed,
    Unknown,
}

#[derive(Debug, Clone)]
pub struct PaymentRequest {
    /// Our reference, a UUID stored before the call; MTN takes it as `X-Reference-Id`.
    pub reference: String,
    pub method: PaymentMethod,
    pub amount: i64,
    pub currency: Currency,
    pub phone_number: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The provider answered and refused: nothing will happen.
    #[error("provider refused: {0}")]
    Refused(String),
    /// No usable answer: the request may or may not have been taken.
    #[error("provider unreachable: {0}")]
    Transport(String),
    #[error("database: {0}")]
    Db(#[from] mongodb::error::Error),
}

pub trait PaymentProvider: Send + Sync {
    fn name(&self) -> &'static str;
    /// Asks the payer to approve a collection (deposit).
    fn request_payment<'a>(&'a self, req: &'a PaymentRequest) -> BoxFuture<'a, Result<ProviderStatus, ProviderError>>;
    fn payment_status<'a>(&'a self, reference: &'a str) -> BoxFuture<'a, Result<ProviderStatus, ProviderError>>;
    /// Sends money to a phone (withdrawal).
    fn payout<'a>(&'a self, req: &'a PaymentRequest) -> BoxFuture<'a, Result<ProviderStatus, ProviderError>>;
    fn payout_status<'a>(&'a self, reference: &'a str) -> BoxFuture<'a, Result<ProviderStatus, ProviderError>>;
}
