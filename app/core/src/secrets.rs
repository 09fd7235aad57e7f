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

    /// A one-line notice for the person when the token is not kept where they would expect
    /// (the OS keyring failed and a private file is used instead); `None` normally.
    fn notice(&self) -> Option<String> {
        None
    }
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
/// its owner. Weaker than a keyring: chosen with `ODDXER_SECRET_STORE=file`, or by
/// [`FallbackSecretStore`] when the keyring fails, and then said on screen.
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

/// The OS keyring, falling back to the 0600 file when the keyring cannot be used (a plain X
/// server without a Secret Service, a minimal desktop, a container): signing in must never fail
/// because of where the token is kept. Once the keyring failed, the file is used for the rest of
/// the process and [`SecretStore::notice`] says so. A token left in the file while the keyring
/// was down is still found, and moved back into the keyring by the next save that works.
pub struct FallbackSecretStore {
    /// `None` when the keyring entry could not even be created.
    keyring: Option<Box<dyn SecretStore>>,
    file: FileSecretStore,
    on_file: std::sync::atomic::AtomicBool,
}

impl FallbackSecretStore {
    /// `keyring` is the preferred store (normally [`KeyringSecretStore`]); `None` starts on the file.
    pub fn new(keyring: Option<Box<dyn SecretStore>>, file: FileSecretStore) -> Self {
        let on_file = keyring.is_none();
        FallbackSecretStore {
            keyring,
            file,
            on_file: std::sync::atomic::AtomicBool::new(on_file),
        }
    }

    /// True once the keyring failed and the file is in use.
    pub fn using_file(&self) -> bool {
        self.on_file.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The keyring, unless it already failed.
    fn keyring(&self) -> Option<&dyn SecretStore> {
        if self.using_file() {
            None
        } else {
            self.keyring.as_deref()
        }
    }

    fn fall_back(&self, what: &str, error: &crate::error::ClientError) {
        tracing::warn!(
            error = %crate::error::ErrorChain(error),
            file = %self.file.path().display(),
            "the OS keyring failed to {what} the sign-in token; using a private file instead"
        );
        self.on_file
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

impl SecretStore for FallbackSecretStore {
    fn load(&self) -> Result<Option<String>> {
        if let Some(keyring) = self.keyring() {
            match keyring.load() {
                Ok(Some(token)) => return Ok(Some(token)),
                Ok(None) => {}
                Err(e) => self.fall_back("read", &e),
            }
        }
        self.file.load()
    }

    fn save(&self, refresh_token: &str) -> Result<()> {
        if let Some(keyring) = self.keyring() {
            match keyring.save(refresh_token) {
                // One copy only: a token saved to the file while the keyring was down goes.
                Ok(()) => return self.file.clear(),
                Err(e) => self.fall_back("store", &e),
            }
        }
        self.file.save(refresh_token)
    }

    fn clear(&self) -> Result<()> {
        if let Some(keyring) = self.keyring() {
            if let Err(e) = keyring.clear() {
                self.fall_back("delete", &e);
            }
        }
        self.file.clear()
    }

    fn notice(&self) -> Option<String> {
        self.using_file().then(|| {
            "No system keyring here: your sign-in is kept in a private file on this device."
                .to_owned()
        })
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

    /// A keyring that fails every call, like the Secret Service missing under a plain X server.
    struct BrokenKeyring;

    impl SecretStore for BrokenKeyring {
        fn load(&self) -> Result<Option<String>> {
            Err(keyring::Error::PlatformFailure("no secret service".into()).into())
        }
        fn save(&self, _: &str) -> Result<()> {
            Err(keyring::Error::PlatformFailure("no secret service".into()).into())
        }
        fn clear(&self) -> Result<()> {
            Err(keyring::Error::PlatformFailure("no secret service".into()).into())
        }
    }

    #[test]
    fn a_failing_keyring_falls_back_to_the_private_file_and_says_so() {
        let dir = TempDir::new("fallback");
        let s = FallbackSecretStore::new(
            Some(Box::new(BrokenKeyring)),
            FileSecretStore::new(dir.path()),
        );
        assert_eq!(s.notice(), None, "nothing to say before the keyring failed");
        s.save("tok-f").unwrap();
        assert!(s.using_file());
        assert!(s.notice().is_some_and(|n| n.contains("private file")));
        assert_eq!(
            FileSecretStore::new(dir.path()).load().unwrap().as_deref(),
            Some("tok-f")
        );
        assert_eq!(s.load().unwrap().as_deref(), Some("tok-f"));
        s.clear().unwrap();
        assert_eq!(s.load().unwrap(), None);
    }

    #[test]
    fn a_working_keyring_keeps_the_only_copy_and_finds_a_token_left_in_the_file() {
        let dir = TempDir::new("fallback-ok");
        let file = FileSecretStore::new(dir.path());
        file.save("from-a-keyring-less-day").unwrap();
        let s = FallbackSecretStore::new(
            Some(Box::new(MemorySecretStore::new())),
            FileSecretStore::new(dir.path()),
        );
        assert_eq!(
            s.load().unwrap().as_deref(),
            Some("from-a-keyring-less-day")
        );
        s.save("tok-k").unwrap();
        assert_eq!(
            file.load().unwrap(),
            None,
            "the file copy is gone once the keyring holds it"
        );
        assert_eq!(s.load().unwrap().as_deref(), Some("tok-k"));
        assert_eq!(s.notice(), None);
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
