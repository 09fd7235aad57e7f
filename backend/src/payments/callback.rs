//! Authenticating provider callbacks.
//!
//! MTN MoMo signs nothing, and Airtel's optional `hash` depends on a portal setting whose exact
//! input we could not confirm, so every callback URL we hand out carries our own token: a hex
//! HMAC-SHA256 under `PAYMENT_CALLBACK_SECRET`, compared in constant time.
//! - MTN takes a callback URL per request (`X-Callback-Url`), so its token names the payment: a
//!   token seen for one payment cannot be replayed for another.
//! - Airtel's callback URL is registered once in its partner portal, so its token names the
//!   deployment (`callback::url(base, AIRTEL, &token(secret, AIRTEL, ANY_PAYMENT))`).
//!
//! Either way a callback is only a hint: the route asks the provider for the payment's status and
//! the ledger credits once, so even a genuine, replayed callback moves nothing twice.

use hmac::{Hmac, Mac};
use oddxer_shared::PaymentMethod;
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub const MTN: &str = "mtn";
pub const AIRTEL: &str = "airtel";
/// The token subject of callbacks whose URL is registered once, not per payment.
pub const ANY_PAYMENT: &str = "*";

/// What a callback says, before anything in it is trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackHint {
    pub method: PaymentMethod,
    /// Our reference of the payment the callback is about.
    pub reference: String,
    /// What the URL token must have been made for: the reference (MTN) or `ANY_PAYMENT` (Airtel).
    pub token_subject: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    #[error("this deployment takes no callbacks from that provider")]
    UnknownProvider,
    #[error("{0}")]
    Malformed(&'static str),
}

/// The token for callbacks of `provider` about `subject`.
pub fn token(secret: &str, provider: &str, subject: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail; an empty token never verifies.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(b"oddxer-callback:");
    mac.update(provider.as_bytes());
    mac.update(b":");
    mac.update(subject.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

pub fn verify(secret: &str, provider: &str, subject: &str, presented: &str) -> bool {
    let expected = token(secret, provider, subject);
    !expected.is_empty() && expected.as_bytes().ct_eq(presented.as_bytes()).into()
}

/// Where a provider is told to send its callbacks.
#[derive(Clone)]
pub struct CallbackTarget {
    /// `https://api.example.com/api/v1/payments/callbacks`
    pub base_url: String,
    pub secret: String,
}

impl CallbackTarget {
    pub fn url(&self, provider: &str, subject: &str) -> String {
        format!(
            "{}/{provider}?token={}",
            self.base_url.trim_end_matches('/'),
            token(&self.secret, provider, subject)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_only_for_its_provider_subject_and_secret() {
        let t = token("s3cret", MTN, "ref-1");
        assert_eq!(t.len(), 64);
        assert!(verify("s3cret", MTN, "ref-1", &t));
        assert!(!verify("s3cret", MTN, "ref-2", &t));
        assert!(!verify("s3cret", AIRTEL, "ref-1", &t));
        assert!(!verify("other", MTN, "ref-1", &t));
        assert!(!verify("s3cret", MTN, "ref-1", ""));
        assert!(!verify("s3cret", MTN, "ref-1", &t[..63]));
    }

    #[test]
    fn callback_urls_carry_the_token() {
        let target = CallbackTarget {
            base_url: "https://api.example.com/api/v1/payments/callbacks/".into(),
            secret: "k".into(),
        };
        let url = target.url(MTN, "r");
        assert_eq!(
            url,
            format!(
                "https://api.example.com/api/v1/payments/callbacks/mtn?token={}",
                token("k", MTN, "r")
            )
        );
    }
}
