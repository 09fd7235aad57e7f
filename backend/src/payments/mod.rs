//! Mobile-money providers behind one trait. Statuses map to Pending | Succeeded | Failed | Unknown;
//! "Unknown" (timeout after the provider may have committed) is never guessed at: it is polled.
//!
//! `sandbox` is the development provider; `mobile_money` dispatches by `PaymentMethod` to the MTN
//! MoMo and Airtel Money adapters, each of which talks to the provider's published Open API.

pub mod airtel;
pub mod callback;
pub mod mobile_money;
pub mod mtn;
mod oauth;
pub mod sandbox;
pub mod settings;

use callback::{CallbackError, CallbackHint};
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

impl ProviderError {
    /// For status queries: a refused *query* says nothing about the payment, so it is never
    /// reported as a refused payment (which would fail a deposit or reverse a payout).
    fn unknown_outcome(self) -> ProviderError {
        match self {
            ProviderError::Refused(m) => {
                ProviderError::Transport(format!("status query refused: {m}"))
            }
            other => other,
        }
    }
}

pub trait PaymentProvider: Send + Sync {
    fn name(&self) -> &'static str;
    /// Asks the payer to approve a collection (deposit).
    fn request_payment<'a>(
        &'a self,
        req: &'a PaymentRequest,
    ) -> BoxFuture<'a, Result<ProviderStatus, ProviderError>>;
    /// Where a collection stands. Never `Refused`: a failed query is `Transport`, an unknown
    /// reference is `Ok(Unknown)`.
    fn payment_status<'a>(
        &'a self,
        method: PaymentMethod,
        reference: &'a str,
    ) -> BoxFuture<'a, Result<ProviderStatus, ProviderError>>;
    /// Sends money to a phone (withdrawal).
    fn payout<'a>(
        &'a self,
        req: &'a PaymentRequest,
    ) -> BoxFuture<'a, Result<ProviderStatus, ProviderError>>;
    fn payout_status<'a>(
        &'a self,
        method: PaymentMethod,
        reference: &'a str,
    ) -> BoxFuture<'a, Result<ProviderStatus, ProviderError>>;
    /// Reads the body of a callback posted to `/payments/callbacks/{provider}`: which payment it is
    /// about, nothing more (a callback is a hint; the status is then asked of the provider).
    /// Authentication is checked by the route with `callback::verify`.
    fn parse_callback(&self, provider: &str, body: &[u8]) -> Result<CallbackHint, CallbackError> {
        let _ = (provider, body);
        Err(CallbackError::UnknownProvider)
    }
}

/// Minor units as the decimal string providers expect: `150000` UGX -> `"150000"`, `1050` EUR -> `"10.50"`.
pub fn major_units(amount: i64, currency: &Currency) -> String {
    let digits = currency.minor_digits();
    if digits == 0 {
        return amount.to_string();
    }
    let scale = 10i64.pow(digits);
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    let scale = scale.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        abs / scale,
        abs % scale,
        width = digits as usize
    )
}

/// A reference as a provider may see it in a URL path: our references are UUIDs.
fn is_reference(reference: &str) -> bool {
    uuid::Uuid::parse_str(reference).is_ok()
}

/// A request error as the caller sees it: no answer, so the outcome is unknown.
fn transport(what: &str, e: reqwest::Error) -> ProviderError {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    ProviderError::Transport(format!("{what} {kind}: {}", e.without_url()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_rendered_in_major_units() {
        assert_eq!(major_units(150_000, &Currency("UGX".into())), "150000");
        assert_eq!(major_units(1050, &Currency("EUR".into())), "10.50");
        assert_eq!(major_units(5, &Currency("EUR".into())), "0.05");
    }
}
