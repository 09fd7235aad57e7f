//! Where the client core points, read once from the environment at start-up.

use std::path::PathBuf;

use thiserror::Error;

/// The dev backend (`oddxer-backend` with its default `PORT`).
pub const DEFAULT_API_URL: &str = "http://127.0.0.1:6793";

/// Where the refresh token is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretStoreKind {
    /// The default: the OS credential store, falling back to the 0600 file (with a notice on
    /// screen) when the keyring cannot be used, so nobody is left unable to sign in.
    Auto,
    /// The OS credential store only (`ODDXER_SECRET_STORE=keyring`): a failing keyring is an error.
    Keyring,
    /// A 0600 file in the data dir only (`ODDXER_SECRET_STORE=file`): CI, headless test runs.
    File,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeConfig {
    /// `ODDXER_API_URL`.
    pub api_url: String,
    /// `ODDXER_DATA_DIR`; `None` means the platform's app data dir.
    pub data_dir: Option<PathBuf>,
    /// `ODDXER_SECRET_STORE` (`keyring` or `file` force one; unset means keyring with the file
    /// as fallback).
    pub secret_store: SecretStoreKind,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("ODDXER_SECRET_STORE must be `keyring` or `file`, not `{0}`")]
    SecretStore(String),
    #[error("ODDXER_API_URL must start with http:// or https://, not `{0}`")]
    ApiUrl(String),
}

impl BridgeConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// `from_env` over any lookup, so tests don't have to mutate the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let set = |key: &str| {
            lookup(key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let api_url = set("ODDXER_API_URL").unwrap_or_else(|| DEFAULT_API_URL.to_owned());
        if !(api_url.starts_with("http://") || api_url.starts_with("https://")) {
            return Err(ConfigError::ApiUrl(api_url));
        }
        let secret_store = match set("ODDXER_SECRET_STORE").as_deref() {
            None => default_secret_store(),
            Some("keyring") => SecretStoreKind::Keyring,
            Some("file") => SecretStoreKind::File,
            Some(other) => return Err(ConfigError::SecretStore(other.to_owned())),
        };
        Ok(BridgeConfig {
            api_url,
            data_dir: set("ODDXER_DATA_DIR").map(PathBuf::from),
            secret_store,
        })
    }
}

/// `keyring` has no Android backend; there the app's private data dir is the safe place.
fn default_secret_store() -> SecretStoreKind {
    if cfg!(target_os = "android") {
        SecretStoreKind::File
    } else {
        SecretStoreKind::Auto
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<BridgeConfig, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        BridgeConfig::from_lookup(|k| vars.get(k).cloned())
    }

    #[test]
    fn defaults_point_at_the_local_dev_backend_with_the_keyring_and_its_fallback() {
        let cfg = config(&[]).unwrap();
        assert_eq!(cfg.api_url, DEFAULT_API_URL);
        assert_eq!(cfg.data_dir, None);
        assert_eq!(cfg.secret_store, SecretStoreKind::Auto);
        let forced = config(&[("ODDXER_SECRET_STORE", "keyring")]).unwrap();
        assert_eq!(forced.secret_store, SecretStoreKind::Keyring);
    }

    #[test]
    fn environment_overrides_url_data_dir_and_secret_store() {
        let cfg = config(&[
            ("ODDXER_API_URL", "http://127.0.0.1:9999"),
            ("ODDXER_DATA_DIR", "/tmp/oddxer-e2e"),
            ("ODDXER_SECRET_STORE", "file"),
        ])
        .unwrap();
        assert_eq!(cfg.api_url, "http://127.0.0.1:9999");
        assert_eq!(cfg.data_dir, Some(PathBuf::from("/tmp/oddxer-e2e")));
        assert_eq!(cfg.secret_store, SecretStoreKind::File);
    }

    #[test]
    fn empty_values_count_as_unset() {
        let cfg = config(&[("ODDXER_API_URL", " "), ("ODDXER_DATA_DIR", "")]).unwrap();
        assert_eq!(cfg.api_url, DEFAULT_API_URL);
        assert_eq!(cfg.data_dir, None);
    }

    #[test]
    fn unknown_secret_stores_and_urls_are_refused() {
        assert_eq!(
            config(&[("ODDXER_SECRET_STORE", "vault")]),
            Err(ConfigError::SecretStore("vault".into()))
        );
        assert_eq!(
            config(&[("ODDXER_API_URL", "127.0.0.1:6793")]),
            Err(ConfigError::ApiUrl("127.0.0.1:6793".into()))
        );
    }
}
