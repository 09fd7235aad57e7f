//! Where the long-lived refresh token lives. The access token never leaves memory (see `session.rs`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::Result;

/// Storage for the one secret the client keeps across restarts: the refresh token.
pub trait SecretStore: Send + Sync {
    fn load(&self) -> Result<Option<String>>;
    fn save(&self, refresh_token: &str) -> Result<()>;
    fn clear(&self) -> Result<()>;
}

/// The OS credential store (Secret Service / kernel keyring, macOS Keychain, Windows Credential Manager).
pub struct KeyringSecretStore {
    entry: keyring::Entry,
}

impl KeyringSecretStore {
    pub const SERVICE: &'static str = "oddxer";

    /// One entry per backend, so a device signed in to staging and production keeps both sessions apart.
    pub fn new(api_url: &str) -> Result<Self> {
        let account = format!("refresh-token@{}", api_url.trim_end_matches('/'));
        Ok(KeyringSecretStore {
            entry: keyring::Entry::new(Self::SERVICE, &account)?,
        })
    }
}

impl SecretStore for KeyringSecretStore {
    fn load(&self) -> Result<Option<String>> {
        match self.entry.get_password() {
            Ok(token) => Ok(Some(token)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn save(&self, refresh_token: &str) -> Result<()> {
        Ok(self.entry.set_password(refresh_token)?)
    }

    fn clear(&self) -> Result<()> {
        match self.entry.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// For machines without a keyring daemon (CI, headless servers, tests): a file readable only by
/// its owner. Weaker than a keyring, so it is opt-in, never a silent fallback.
pub struct FileSecretStore {
    path: PathBuf,
}

impl FileSecretStore {
    pub const FILE_NAME: &'static str = "refresh-token";

    pub fn new(data_dir: &Path) -> Self {
        FileSecretStore {
            path: data_dir.join(Self::FILE_NAME),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl SecretStore for FileSecretStore {
    fn load(&self) -> Result<Option<String>> {
        match std::fs::read_to_string(&self.path) {
            Ok(s) if s.trim().is_empty() => Ok(None),
            Ok(s) => Ok(Some(s.trim().to_owned())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn save(&self, refresh_token: &str) -> Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        // Write a fresh 0600 file and rename it over the old one: a crash mid-write never leaves a
        // half token, and the secret is never readable by others even for an instant.
        let tmp = self.path.with_extension("tmp");
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(refresh_token.as_bytes())?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, &self.path)?;
        Ok(())
    }

    fn clear(&self) -> Result<()> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// Keeps the token for the life of the process only. For tests.
#[derive(Default)]
pub struct MemorySecretStore {
    token: Mutex<Option<String>>,
}

impl MemorySecretStore {
    pub fn new() -> Self {
        Self::default()
    }
}

impl SecretStore for MemorySecretStore {
    fn load(&self) -> Result<Option<String>> {
        Ok(self.token.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }

    fn save(&self, refresh_token: &str) -> Result<()> {
        *self.token.lock().unwrap_or_else(|p| p.into_inner()) = Some(refresh_token.to_owned());
        Ok(())
    }

    fn clear(&self) -> Result<()> {
        *self.token.lock().unwrap_or_else(|p| p.into_inner()) = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    #[test]
    fn file_store_round_trips_and_clears() {
        let dir = TempDir::new("secrets");
        let s = FileSecretStore::new(dir.path());
        assert_eq!(s.load().unwrap(), None);
        s.save("tok-1").unwrap();
        s.save("tok-2").unwrap();
        assert_eq!(s.load().unwrap().as_deref(), Some("tok-2"));
        s.clear().unwrap();
        s.clear().unwrap();
        assert_eq!(s.load().unwrap(), None);
    }

    #[cfg(unix)]
    #[test]
    fn file_store_is_private_to_its_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = TempDir::new("secrets-mode");
        let s = FileSecretStore::new(dir.path());
        s.save("tok").unwrap();
        let mode = std::fs::metadata(s.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    /// The OS keyring is not available everywhere (containers without a session keyring):
    /// there the test reports that it could not run instead of failing.
    #[test]
    fn keyring_store_round_trips_where_a_keyring_exists() {
        let api_url = format!("http://keyring-test-{}.invalid", uuid::Uuid::new_v4());
        let s = KeyringSecretStore::new(&api_url).unwrap();
        if let Err(e) = s.save("tok-k") {
            eprintln!(
                "no usable OS keyring here, keyring test not run: {}",
                crate::error::ErrorChain(&e)
            );
            return;
        }
        assert_eq!(s.load().unwrap().as_deref(), Some("tok-k"));
        s.clear().unwrap();
        s.clear().unwrap();
        assert_eq!(s.load().unwrap(), None);
    }

    #[test]
    fn memory_store_round_trips() {
        let s = MemorySecretStore::new();
        s.save("a").unwrap();
        assert_eq!(s.load().unwrap().as_deref(), Some("a"));
        s.clear().unwrap();
        assert_eq!(s.load().unwrap(), None);
    }
}
