//! Request helpers of the client beyond plain authenticated calls: optional sign-in, money calls
//! with their Idempotency-Key, and the checks on what goes into a URL path.

use reqwest::RequestBuilder;
use serde::de::DeserializeOwned;

use super::Inner;
use crate::error::{ClientError, ErrorChain, Result};

impl Inner {
    /// A call that anyone may make but that shows more to a signed-in caller (a code's secret to
    /// its buyers, their own vote): with the token when there is a session, else without.
    pub(crate) async fn maybe_authed<T: DeserializeOwned>(
        &self,
        build: impl Fn(Option<&str>) -> RequestBuilder,
        context: &'static str,
    ) -> Result<T> {
        let signed_in =
            self.session.access().is_some() || self.secrets.load().ok().flatten().is_some();
        if signed_in {
            match self.authed(|t| build(Some(t)), context).await {
                Err(ClientError::Unauthenticated) => {}
                other => return other,
            }
        }
        self.api.send(build(None), context).await
    }

    /// A money call (purchase, deposit, withdrawal) with an `Idempotency-Key` made once per user
    /// action: `action` names the call and its body, and while its outcome is unknown (no answer,
    /// a 5xx) the same key is used again for a retry, so the server moves the money at most once.
    /// A lost answer is retried once at once; a final answer (success or refusal) forgets the key.
    /// Never queued: offline it fails with `OFFLINE`.
    pub(crate) async fn money_call<T: DeserializeOwned>(
        &self,
        action: &str,
        context: &'static str,
        build: impl Fn(&str, &str) -> RequestBuilder,
    ) -> Result<T> {
        let key = self.with_store(|s| s.money_key(action))?;
        let mut result = self.authed(|t| build(t, &key), context).await;
        if matches!(&result, Err(e) if answer_lost(e)) {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            result = self.authed(|t| build(t, &key), context).await;
        }
        let unknown = matches!(&result, Err(e) if outcome_unknown(e));
        if !unknown {
            if let Err(e) = self.with_store(|s| s.clear_money_key(action)) {
                tracing::warn!(error = %ErrorChain(&e), "could not forget a used Idempotency-Key");
            }
        }
        result
    }
}

/// The message a user should read for a failure (the backend's own, or the client's wording).
pub(crate) fn user_message(e: ClientError) -> String {
    oddxer_shared::client::CommandError::from(e).message
}

/// The request may have reached the server but its answer did not come back.
fn answer_lost(e: &ClientError) -> bool {
    match e {
        ClientError::Offline(source) => source.is_timeout(),
        ClientError::Http(_) => true,
        _ => false,
    }
}

/// Whether the server may or may not have done it: keep the key for a retry.
fn outcome_unknown(e: &ClientError) -> bool {
    e.is_unreachable()
        || matches!(
            e,
            ClientError::Api {
                status: 500..=599,
                ..
            } | ClientError::Protocol { .. }
        )
}

/// An id that goes into a URL path: the backend's ids are hex, so anything else is refused here
/// rather than sent (no `/`, `?` or `..` can reach the path).
pub(crate) fn path_id(id: &str) -> Result<&str> {
    let id = id.trim();
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ClientError::InvalidInput("not a valid id"));
    }
    Ok(id)
}
