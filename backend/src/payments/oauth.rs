//! OAuth 2.0 client-credentials tokens, cached until shortly before they expire and refreshed
//! once when the provider says a cached one is no longer valid (401).

use super::ProviderError;
use serde_json::Value;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

struct Cached {
    value: String,
    refresh_at: Instant,
}

#[derive(Default)]
pub(super) struct TokenCache {
    slot: Mutex<Option<Cached>>,
}

impl TokenCache {
    /// The cached token, or a fresh one from `fetch` (which returns the token and its lifetime).
    /// One fetch at a time: concurrent callers wait for it instead of each asking for a token.
    pub async fn get<F, Fut>(&self, fetch: F) -> Result<String, ProviderError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(String, Duration), ProviderError>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some(c) = slot.as_ref() {
            if Instant::now() < c.refresh_at {
                return Ok(c.value.clone());
            }
        }
        let (value, lifetime) = fetch().await?;
        // Refresh a little early so a token does not expire between the check and its use.
        let margin = (lifetime / 10).min(Duration::from_secs(60));
        *slot = Some(Cached {
            value: value.clone(),
            refresh_at: Instant::now() + lifetime.saturating_sub(margin),
        });
        Ok(value)
    }

    /// Drops `rejected` (the provider answered 401 with it), unless another task already replaced it.
    pub async fn invalidate(&self, rejected: &str) {
        let mut slot = self.slot.lock().await;
        if slot.as_ref().is_some_and(|c| c.value == rejected) {
            *slot = None;
        }
    }
}

/// `expires_in` as providers send it: a number (MTN) or a numeric string (Airtel's `"180"`).
/// A missing or unreadable value is treated as a short lifetime, never as "forever".
pub(super) fn lifetime(expires_in: Option<&Value>) -> Duration {
    let secs = match expires_in {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    Duration::from_secs(secs.unwrap_or(60))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_token_is_fetched_once_until_it_is_invalidated() {
        let cache = TokenCache::default();
        let fetches = AtomicUsize::new(0);
        let fetch = || async {
            let n = fetches.fetch_add(1, Ordering::SeqCst);
            Ok((format!("t{n}"), Duration::from_secs(3600)))
        };
        assert_eq!(cache.get(fetch).await.ok().as_deref(), Some("t0"));
        assert_eq!(cache.get(fetch).await.ok().as_deref(), Some("t0"));
        cache.invalidate("someone-else").await;
        assert_eq!(cache.get(fetch).await.ok().as_deref(), Some("t0"));
        cache.invalidate("t0").await;
        assert_eq!(cache.get(fetch).await.ok().as_deref(), Some("t1"));
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn lifetimes_are_read_from_numbers_and_strings() {
        assert_eq!(lifetime(Some(&json!(3600))), Duration::from_secs(3600));
        assert_eq!(lifetime(Some(&json!("180"))), Duration::from_secs(180));
        assert_eq!(lifetime(Some(&json!("soon"))), Duration::from_secs(60));
        assert_eq!(lifetime(None), Duration::from_secs(60));
    }
}
