//! The configuration of an in-process backend in the API tests (`tests/api/helpers.rs`) and the
//! benchmarks (`benches/common`), written once and included by both with `#[path]`: a database of
//! its own, the outbox SMS sender, the sandbox payment provider, no OTP resend wait, and a random
//! JWT secret.

use oddxer_backend::config::{Config, EnvSource};
use std::collections::HashMap;

/// A config whose `DB_NAME` is `{prefix}_{random}` on `mongodb_uri`: the shared test settings,
/// then the caller's `defaults`, then `overrides` (each later one wins).
pub fn app_config(
    prefix: &str,
    mongodb_uri: String,
    defaults: &[(&str, &str)],
    overrides: &[(&str, &str)],
) -> Config {
    let mut env: HashMap<String, String> = HashMap::from([
        ("APP_ENV".into(), "test".into()),
        ("PORT".into(), "0".into()),
        ("MONGODB_URI".into(), mongodb_uri),
        (
            "DB_NAME".into(),
            format!("{prefix}_{}", uuid::Uuid::new_v4().simple()),
        ),
        (
            "JWT_SECRET".into(),
            format!("{prefix}-secret-{}", uuid::Uuid::new_v4()),
        ),
        ("SMS_PROVIDER".into(), "outbox".into()),
        ("PAYMENT_PROVIDER".into(), "sandbox".into()),
        ("OTP_RESEND_INTERVAL".into(), "0s".into()),
    ]);
    for (k, v) in defaults.iter().chain(overrides) {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    Config::from_source(&EnvSource(&|k| env.get(k).cloned())).expect("app config")
}
