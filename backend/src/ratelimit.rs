//! Rate limits: per IP and per phone on auth, per user on money routes. In one process the counters
//! are governor's (GCRA); with `REDIS_URL` they live in Redis so every backend process shares them,
//! and a Redis outage refuses the limited routes (auth, money) with 503 rather than open them.

use crate::config::RateLimit;
use crate::error::AppError;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The limited actions; the name prefixes the counter key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    AuthIp,
    AuthPhone,
    MoneyUser,
}

impl Bucket {
    fn name(self) -> &'static str {
        match self {
            Bucket::AuthIp => "auth_ip",
            Bucket::AuthPhone => "auth_phone",
            Bucket::MoneyUser => "money_user",
        }
    }
}

#[derive(Clone)]
pub struct RateLimiter {
    limits: Arc<[(Bucket, RateLimit)]>,
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Local(Arc<[(Bucket, DefaultKeyedRateLimiter<String>)]>),
    /// The connection and the deployment's key prefix.
    Redis(redis::aio::ConnectionManager, String),
}

fn quota(limit: RateLimit) -> Quota {
    let max = NonZeroU32::new(limit.max).unwrap_or(NonZeroU32::MIN);
    // `max` per `window`, allowing the whole allowance as a burst.
    let period = limit.window / limit.max.max(1);
    Quota::with_period(period.max(Duration::from_micros(1)))
        .unwrap_or_else(|| Quota::per_second(max))
        .allow_burst(max)
}

/// How long one limiter call to Redis may take before the request is refused as unavailable.
const LIMITER_TIMEOUT: Duration = Duration::from_millis(500);

/// Fixed-window counter: INCR, set the expiry on the first hit, answer count and time left.
const REDIS_SCRIPT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}
";

impl RateLimiter {
    pub fn local(limits: Vec<(Bucket, RateLimit)>) -> Self {
        let limiters: Vec<_> = limits
            .iter()
            .map(|(b, l)| (*b, DefaultKeyedRateLimiter::keyed(quota(*l))))
            .collect();
        RateLimiter {
            limits: limits.into(),
            backend: Backend::Local(limiters.into()),
        }
    }

    /// Counters in Redis, shared by every process of one deployment: `deployment` (its `DB_NAME`)
    /// prefixes the keys, so deployments sharing a Redis (staging beside production, test runs)
    /// never count each other's requests.
    pub async fn redis(
        url: &str,
        deployment: &str,
        limits: Vec<(Bucket, RateLimit)>,
    ) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        // Short timeouts and few reconnect tries: a limiter that does not answer must refuse in
        // well under a second (fail closed), not hold the request while it backs off.
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(LIMITER_TIMEOUT)
            .set_response_timeout(LIMITER_TIMEOUT)
            .set_number_of_retries(1);
        let manager = redis::aio::ConnectionManager::new_with_config(client, config).await?;
        Ok(RateLimiter {
            limits: limits.into(),
            backend: Backend::Redis(manager, deployment.to_owned()),
        })
    }

    fn limit(&self, bucket: Bucket) -> Option<RateLimit> {
        self.limits
            .iter()
            .find(|(b, _)| *b == bucket)
            .map(|(_, l)| *l)
    }

    /// Counts one hit for `key`; `RateLimited` (429 with Retry-After) when over the limit.
    pub async fn check(&self, bucket: Bucket, key: &str) -> Result<(), AppError> {
        let Some(limit) = self.limit(bucket) else {
            return Ok(());
        };
        match &self.backend {
            Backend::Local(limiters) => {
                let Some((_, limiter)) = limiters.iter().find(|(b, _)| *b == bucket) else {
                    return Ok(());
                };
                limiter.check_key(&key.to_owned()).map_err(|not_until| {
                    let wait = not_until.wait_time_from(DefaultClock::default().now());
                    AppError::RateLimited {
                        retry_after_secs: wait.as_secs_f64().ceil() as u64,
                    }
                })
            }
            Backend::Redis(manager, deployment) => {
                let window_ms = limit.window.as_millis() as u64;
                let now_ms = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_millis() as u64)
                    .unwrap_or(0);
                let redis_key = format!(
                    "oddxer:{deployment}:rl:{}:{key}:{}",
                    bucket.name(),
                    now_ms / window_ms.max(1)
                );
                let mut conn = manager.clone();
                let script = redis::Script::new(REDIS_SCRIPT);
                let mut invocation = script.key(&redis_key);
                invocation.arg(window_ms);
                let call = invocation.invoke_async::<(u64, i64)>(&mut conn);
                let result = match tokio::time::timeout(LIMITER_TIMEOUT * 2, call).await {
                    Ok(r) => r,
                    Err(_) => Err(redis::RedisError::from(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "rate limiter did not answer",
                    ))),
                };
                match result {
                    Ok((count, _)) if count <= limit.max as u64 => Ok(()),
                    Ok((_, ttl_ms)) => Err(AppError::RateLimited {
                        retry_after_secs: (ttl_ms.max(1) as u64).div_ceil(1000),
                    }),
                    // Fail closed: without the shared counters an attacker could guess OTPs or
                    // hammer money routes unthrottled across every instance, so these routes
                    // answer 503 RATE_LIMITER_UNAVAILABLE (with Retry-After) until Redis is back.
                    Err(e) => Err(AppError::RateLimiterUnavailable(e)),
                }
            }
        }
    }

    /// Prunes idle keys of the in-process limiters (called periodically).
    pub fn housekeeping(&self) {
        if let Backend::Local(limiters) = &self.backend {
            for (_, l) in limiters.iter() {
                l.retain_recent();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_local_limiter_allows_the_allowance_then_refuses_with_a_wait() {
        let rl = RateLimiter::local(vec![(
            Bucket::AuthIp,
            RateLimit {
                max: 3,
                window: Duration::from_secs(60),
            },
        )]);
        for _ in 0..3 {
            assert!(rl.check(Bucket::AuthIp, "1.2.3.4").await.is_ok());
        }
        match rl.check(Bucket::AuthIp, "1.2.3.4").await {
            Err(AppError::RateLimited { retry_after_secs }) => {
                assert!((1..=20).contains(&retry_after_secs))
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(
            rl.check(Bucket::AuthIp, "5.6.7.8").await.is_ok(),
            "keys are independent"
        );
        assert!(
            rl.check(Bucket::MoneyUser, "u").await.is_ok(),
            "unconfigured buckets are open"
        );
    }
}
