//! Opening the client core inside the Tauri app, and forwarding its change events to the webview.

use std::sync::Arc;

use oddxer_client::{
    ClientConfig, ClientError, ClientEvent, FallbackSecretStore, FileSecretStore,
    KeyringSecretStore, OddxerClient, SecretStore,
};
use oddxer_shared::client::CommandError;
use tauri::{AppHandle, Emitter, Manager, Runtime};
use thiserror::Error;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use crate::config::{BridgeConfig, ConfigError, SecretStoreKind};
use crate::CHANGED_EVENT;

/// Why the core could not be opened at start-up.
#[derive(Debug, Error)]
pub enum OpenError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("no app data directory on this platform")]
    DataDir(#[source] tauri::Error),
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// Managed Tauri state. Holds the error instead of the client when opening failed, so the window
/// still comes up and every command explains the problem instead of the app vanishing at launch.
pub struct Core(Result<OddxerClient, CommandError>);

impl Core {
    pub(crate) fn open<R: Runtime>(app: &AppHandle<R>) -> Core {
        match open_client(app) {
            Ok(client) => {
                forward_changes(app.clone(), client.clone());
                forward_notifications(app.clone(), client.clone());
                Core(Ok(client))
            }
            Err(error) => {
                tracing::error!(error = %ErrorChain(&error), "could not open the Oddxer client core");
                Core(Err(CommandError::new(
                    "STARTUP",
                    format!(
                        "Oddxer could not start its local engine: {}",
                        ErrorChain(&error)
                    ),
                )))
            }
        }
    }

    pub fn client(&self) -> Result<&OddxerClient, CommandError> {
        self.0.as_ref().map_err(Clone::clone)
    }
}

fn open_client<R: Runtime>(app: &AppHandle<R>) -> Result<OddxerClient, OpenError> {
    let cfg = BridgeConfig::from_env()?;
    let data_dir = match cfg.data_dir {
        Some(dir) => dir,
        None => app.path().app_data_dir().map_err(OpenError::DataDir)?,
    };
    let secrets: Arc<dyn SecretStore> = match cfg.secret_store {
        SecretStoreKind::Auto => {
            let keyring = match KeyringSecretStore::new(&cfg.api_url) {
                Ok(k) => Some(Box::new(k) as Box<dyn SecretStore>),
                Err(error) => {
                    tracing::warn!(error = %ErrorChain(&error), "no OS keyring; the sign-in token goes to a private file");
                    None
                }
            };
            Arc::new(FallbackSecretStore::new(
                keyring,
                FileSecretStore::new(&data_dir),
            ))
        }
        SecretStoreKind::Keyring => Arc::new(KeyringSecretStore::new(&cfg.api_url)?),
        SecretStoreKind::File => Arc::new(FileSecretStore::new(&data_dir)),
    };
    tracing::info!(api_url = %cfg.api_url, data_dir = %data_dir.display(), secret_store = ?cfg.secret_store, "opening the client core");
    // Setup runs before the event loop, so no IPC call can arrive before the client is managed.
    let client = tauri::async_runtime::block_on(OddxerClient::open(ClientConfig {
        api_url: cfg.api_url,
        data_dir,
        secrets,
    }))?;
    Ok(client)
}

/// Emits a fresh snapshot for every change. A burst of changes (a sync batch of many entries)
/// becomes one emit: the snapshot read after draining the queue covers them all.
fn forward_changes<R: Runtime>(app: AppHandle<R>, client: OddxerClient) {
    let mut events = client.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                // Progress is also in the snapshot, so every event means "emit a fresh one".
                Ok(ClientEvent::Changed | ClientEvent::SyncProgress(_))
                | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            }
            while matches!(events.try_recv(), Ok(_) | Err(TryRecvError::Lagged(_))) {}
            match client.snapshot() {
                Ok(snapshot) => {
                    if let Err(error) = app.emit(CHANGED_EVENT, &snapshot) {
                        tracing::warn!(%error, "could not emit {CHANGED_EVENT}");
                    }
                }
                Err(error) => {
                    tracing::warn!(error = %ErrorChain(&error), "could not read the snapshot to emit")
                }
            }
        }
    });
}

/// Shows each new notification of the core (a followed tipster's new code, a sale, a result, a
/// payment) in the OS notification centre. Permission is asked once, at the first notification,
/// and the answer kept for the run (the OS remembers it across runs). The in-app list and badge
/// do not depend on it.
fn forward_notifications<R: Runtime>(app: AppHandle<R>, client: OddxerClient) {
    use tauri_plugin_notification::NotificationExt;
    let mut notices = client.subscribe_notifications();
    tauri::async_runtime::spawn(async move {
        let mut allowed: Option<bool> = None;
        loop {
            let n = match notices.recv().await {
                Ok(n) => n,
                // Missed ones are still in the in-app list.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            };
            let ok = *allowed.get_or_insert_with(|| os_permission(&app));
            if !ok {
                continue;
            }
            if let Err(error) = app
                .notification()
                .builder()
                .title(&n.title)
                .body(&n.body)
                .show()
            {
                tracing::info!(%error, "could not show an OS notification");
            }
        }
    });
}

/// Whether OS notifications may be shown, asking the user when the OS has not been told yet.
fn os_permission<R: Runtime>(app: &AppHandle<R>) -> bool {
    use tauri::plugin::PermissionState;
    use tauri_plugin_notification::NotificationExt;
    let n = app.notification();
    match n.permission_state() {
        Ok(PermissionState::Granted) => true,
        Ok(PermissionState::Denied) => false,
        Ok(_) => matches!(n.request_permission(), Ok(PermissionState::Granted)),
        Err(error) => {
            tracing::info!(%error, "cannot tell whether OS notifications are allowed");
            false
        }
    }
}

/// `Display` of an error followed by its sources: `a: b: c`.
pub(crate) struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}
