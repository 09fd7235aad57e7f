//! `OddxerClient`: the facade the UI bridge calls. Commands go to the server; everything shown comes
//! from SQLite plus the in-memory connection state, so `snapshot()` works offline.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use oddxer_shared::api::{
    AuthTokensOut, LoginIn, OtpSentOut, PaymentIn, RefreshIn, RegisterIn, TransactionOut, UserOut,
    VerifyOtpIn, WalletOut,
};
use oddxer_shared::client::{
    AppSnapshot, ConnectionState, LiveRevisions, NotificationOut, SyncProgress,
};
use oddxer_shared::{PaymentMethod, Role};
use reqwest::Method;
use tokio::sync::broadcast;

use crate::api::Api;
use crate::error::{ClientError, ErrorChain, Result};
use crate::secrets::SecretStore;
use crate::session::Session;
use crate::store::Store;
use crate::sync::SyncTask;

mod calls;
mod tokens;
pub(crate) use calls::{path_id, user_message};
pub(crate) use tokens::CursorQuery;

/// File name of the local database inside `data_dir`.
pub const DB_FILE: &str = "oddxer.sqlite3";
/// Ledger entries included in a snapshot (newest first). Older history stays in SQLite.
pub const SNAPSHOT_LEDGER_LIMIT: usize = 200;
/// Purchases included in a snapshot (newest first); `my_purchases` returns them all.
pub const SNAPSHOT_PURCHASES_LIMIT: usize = 200;
/// Notifications included in a snapshot (newest first).
pub const SNAPSHOT_NOTIFICATIONS_LIMIT: usize = 50;

pub struct ClientConfig {
    /// Server root, e.g. `http://127.0.0.1:6793` (a trailing `/api/v1` is accepted too).
    pub api_url: String,
    /// Where `oddxer.sqlite3` lives; created if missing.
    pub data_dir: PathBuf,
    pub secrets: Arc<dyn SecretStore>,
}

/// Notifications for the UI: re-read `snapshot()` on `Changed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientEvent {
    /// The snapshot changed: sync applied, connection state changed, signed in or out.
    Changed,
    /// A catch-up batch was committed to SQLite: entries received of the checkpoint's head, per
    /// stream (also in the next `snapshot()`, as `sync_progress`). Sent before the `Changed` of
    /// the same batch.
    SyncProgress(SyncProgress),
}

/// The local-first engine. Cheap to clone; all clones share one database, session and sync task.
/// The sync task stops when the last clone is dropped (or on `shutdown`).
#[derive(Clone)]
pub struct OddxerClient {
    pub(crate) inner: Arc<Inner>,
    _guard: Arc<StopOnDrop>,
}

/// The screens a change touched: each one's live revision moves, so an open screen reloads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Touched {
    /// The marketplace (codes listed, places left).
    pub market: bool,
    /// The seller's dashboard (listings, sales).
    pub seller: bool,
    /// The wallet's payments list.
    pub payments: bool,
}

pub(crate) struct Inner {
    pub(crate) api: Api,
    session: Session,
    secrets: Arc<dyn SecretStore>,
    store: Mutex<Store>,
    status: Mutex<Status>,
    events: broadcast::Sender<ClientEvent>,
    /// Notifications stored for the first time, for the OS notification centre (the bridge).
    pub(crate) notices: broadcast::Sender<NotificationOut>,
    sync: Mutex<Option<SyncTask>>,
    /// Held while the outbox is being replayed, so two replays never send the same vote at once.
    pub(crate) outbox_replay: tokio::sync::Mutex<()>,
}

struct Status {
    connection: ConnectionState,
    last_error: Option<String>,
    sync_progress: Option<SyncProgress>,
    live: LiveRevisions,
}

/// Held only by `OddxerClient` clones, never by the sync task, so its drop means "no user left".
struct StopOnDrop(Arc<Inner>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Some(task) = self
            .0
            .sync
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            task.abort();
        }
    }
}

impl OddxerClient {
    /// Opens (and migrates) the local database. Needs no network.
    pub async fn open(cfg: ClientConfig) -> Result<Self> {
        let api = Api::new(&cfg.api_url)?;
        let path = cfg.data_dir.join(DB_FILE);
        let store = tokio::task::spawn_blocking(move || Store::open(&path))
            .await
            .map_err(|_| ClientError::Config("the database opening task was cancelled"))??;
        let (events, _) = broadcast::channel(64);
        let (notices, _) = broadcast::channel(64);
        let inner = Arc::new(Inner {
            api,
            session: Session::default(),
            secrets: cfg.secrets,
            store: Mutex::new(store),
            status: Mutex::new(Status {
                connection: ConnectionState::Idle,
                last_error: None,
                sync_progress: None,
                live: LiveRevisions::default(),
            }),
            events,
            notices,
            sync: Mutex::new(None),
            outbox_replay: tokio::sync::Mutex::new(()),
        });
        Ok(OddxerClient {
            _guard: Arc::new(StopOnDrop(inner.clone())),
            inner,
        })
    }

    pub async fn register(&self, phone: &str, username: &str, role: Option<Role>) -> Result<()> {
        let body = RegisterIn {
            phone_number: phone.to_owned(),
            username: username.to_owned(),
            role,
        };
        let rb = self
            .inner
            .api
            .request(Method::POST, "/auth/register", None)
            .json(&body);
        let _: OtpSentOut = self.inner.api.send(rb, "register").await?;
        Ok(())
    }

    pub async fn request_login_otp(&self, phone: &str) -> Result<()> {
        let rb = self
            .inner
            .api
            .request(Method::POST, "/auth/login", None)
            .json(&LoginIn {
                phone_number: phone.to_owned(),
            });
        let _: OtpSentOut = self.inner.api.send(rb, "login").await?;
        Ok(())
    }

    /// Exchanges the OTP for a session: keeps the refresh token in the secret store, caches the
    /// user and starts syncing.
    pub async fn verify_otp(&self, phone: &str, otp: &str) -> Result<UserOut> {
        let body = VerifyOtpIn {
            phone_number: phone.to_owned(),
            otp: otp.trim().to_owned(),
        };
        let rb = self
            .inner
            .api
            .request(Method::POST, "/auth/verify-otp", None)
            .json(&body);
        let tokens: AuthTokensOut = self.inner.api.send(rb, "verify-otp").await?;
        let user = self.inner.adopt_tokens(tokens)?;
        self.inner.set_connection(ConnectionState::Connecting, None);
        self.start_sync();
        self.refresh_wallet_in_background();
        Ok(user)
    }

    /// At app start: turn the stored refresh token into a session and start syncing. When the
    /// server cannot be reached, returns the cached user and keeps trying in the background.
    pub async fn resume(&self) -> Result<Option<UserOut>> {
        if self.inner.secrets.load()?.is_none() {
            return Ok(None);
        }
        match self.inner.refresh(None).await {
            Ok(_) => {
                self.inner.set_connection(ConnectionState::Connecting, None);
                self.start_sync();
                self.refresh_wallet_in_background();
                self.inner.with_store(|s| s.cached_user())
            }
            Err(ClientError::Unauthenticated) => Ok(None),
            Err(e) if e.is_offline() => {
                let cached = self.inner.with_store(|s| s.cached_user())?;
                if cached.is_some() {
                    tracing::info!(
                        "server unreachable at start; working offline from the local cache"
                    );
                    self.inner.set_connection(
                        ConnectionState::Offline,
                        Some("The server cannot be reached.".into()),
                    );
                    // The sync task refreshes the token itself once the server answers.
                    self.start_sync();
                    Ok(cached)
                } else {
                    Err(e)
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Ends the session here and, when reachable, on the server. Local data of the user is wiped.
    pub async fn sign_out(&self) -> Result<()> {
        self.stop_sync().await;
        if let Ok(Some(refresh_token)) = self.inner.secrets.load() {
            // Best effort: offline, the token simply expires on the server.
            let body = RefreshIn { refresh_token };
            let r = self
                .inner
                .authed_unit(|t| {
                    self.inner
                        .api
                        .request(Method::POST, "/auth/logout", Some(t))
                        .json(&body)
                })
                .await;
            if let Err(e) = r {
                tracing::info!(error = %ErrorChain(&e), "server-side logout skipped");
            }
        }
        self.inner.secrets.clear()?;
        self.inner.session.clear();
        self.inner.with_store(|s| s.clear_session())?;
        self.inner.set_connection(ConnectionState::Idle, None);
        self.inner.notify();
        Ok(())
    }

    /// Everything the screens show, from SQLite and the in-memory connection state.
    pub fn snapshot(&self) -> Result<AppSnapshot> {
        let (connection, last_error, sync_progress, live) = {
            let st = self
                .inner
                .status
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            (
                st.connection,
                st.last_error.clone(),
                st.sync_progress,
                st.live,
            )
        };
        self.inner.with_store(|s| {
            Ok(AppSnapshot {
                user: s.cached_user()?,
                wallet: s.wallet()?,
                ledger: s.ledger(SNAPSHOT_LEDGER_LIMIT)?,
                purchases: s.purchases(Some(SNAPSHOT_PURCHASES_LIMIT))?,
                outbox: s.outbox()?,
                connection,
                last_synced_at: s.last_synced_at()?,
                last_error,
                sync_progress,
                notifications: s.notifications(SNAPSHOT_NOTIFICATIONS_LIMIT)?,
                unread_notifications: s.unread_notifications()?,
                live,
                credential_notice: self.inner.secrets.notice(),
            })
        })
    }

    /// Starts a mobile-money deposit (202 PENDING). The `Idempotency-Key` is made once per
    /// deposit and reused when the same deposit is retried after its answer was lost.
    pub async fn deposit(
        &self,
        amount: i64,
        method: PaymentMethod,
        phone: &str,
    ) -> Result<TransactionOut> {
        self.mobile_money("deposit", "/wallet/deposits", amount, method, phone)
            .await
    }

    /// A mobile-money payment (`what`: `deposit` or `withdraw`) posted to `path`: one
    /// `Idempotency-Key` per payment (amount, method, phone), reused when its answer was lost;
    /// never queued offline. The wallet is read again afterwards.
    pub(crate) async fn mobile_money(
        &self,
        what: &'static str,
        path: &'static str,
        amount: i64,
        method: PaymentMethod,
        phone: &str,
    ) -> Result<TransactionOut> {
        let body = PaymentIn {
            amount,
            payment_method: method,
            phone_number: phone.to_owned(),
        };
        let action = format!("{what}:{amount}:{}:{phone}", method.as_str());
        let tx = self
            .inner
            .money_call(&action, what, |t, key| {
                self.inner
                    .api
                    .request(Method::POST, path, Some(t))
                    .header("Idempotency-Key", key)
                    .json(&body)
            })
            .await?;
        self.refresh_wallet_in_background();
        Ok(tx)
    }

    /// `GET /wallet` into SQLite (also brings `held`, which the ledger stream does not carry).
    pub async fn refresh_wallet(&self) -> Result<()> {
        self.inner.refresh_wallet().await
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ClientEvent> {
        self.inner.events.subscribe()
    }

    /// Stops the sync task (closing its socket). Commands still work afterwards.
    pub async fn shutdown(&self) {
        self.stop_sync().await;
    }

    fn start_sync(&self) {
        let old = self
            .inner
            .sync
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .replace(SyncTask::spawn(self.inner.clone()));
        if let Some(old) = old {
            old.abort();
        }
    }

    async fn stop_sync(&self) {
        let task = self
            .inner
            .sync
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(task) = task {
            task.stop().await;
        }
        let mut st = self
            .inner
            .status
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        st.sync_progress = None;
        if st.connection != ConnectionState::Idle {
            let was_online = st.connection == ConnectionState::Online;
            st.connection = ConnectionState::Idle;
            drop(st);
            // Closing the app while live: the device holds everything up to now (see
            // `set_connection`), which the next offline start says as "last synced".
            // Signed out, the table is wiped anyway.
            if was_online {
                if let Err(e) = self.inner.with_store(|s| s.mark_synced()) {
                    tracing::warn!(error = %ErrorChain(&e), "could not record the last sync time");
                }
            }
            self.inner.notify();
        }
    }

    pub(crate) fn refresh_wallet_in_background(&self) {
        let inner = self.inner.clone();
        tokio::spawn(async move {
            if let Err(e) = inner.refresh_wallet().await {
                tracing::debug!(error = %ErrorChain(&e), "background wallet refresh failed");
            }
        });
    }
}

impl Inner {
    pub(crate) fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        // A panic mid-transaction rolls the transaction back when it unwinds, so the store is
        // consistent even if the lock is poisoned.
        let mut store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut store)
    }

    pub(crate) fn notify(&self) {
        // No receiver is fine: nobody is looking.
        let _ = self.events.send(ClientEvent::Changed);
    }

    /// Records where the catch-up stands and tells the UI (`ClientEvent::SyncProgress`); `None`
    /// when a new connection starts.
    pub(crate) fn set_sync_progress(&self, progress: Option<SyncProgress>) {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .sync_progress = progress;
        if let Some(p) = progress {
            // No receiver is fine: nobody is looking.
            let _ = self.events.send(ClientEvent::SyncProgress(p));
        }
    }

    /// Moves the live revisions of the screens a change touched (read by the next snapshot).
    pub(crate) fn bump_live(&self, touched: Touched) {
        if touched == Touched::default() {
            return;
        }
        let mut st = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        st.live.market += u64::from(touched.market);
        st.live.seller += u64::from(touched.seller);
        st.live.payments += u64::from(touched.payments);
    }

    pub(crate) fn set_connection(&self, connection: ConnectionState, last_error: Option<String>) {
        let mut st = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        if st.connection == connection && st.last_error == last_error {
            return;
        }
        tracing::info!(?connection, "connection state");
        // Live until this moment: the copy on the device is as fresh as now, whatever the time of
        // the last batch (a quiet wallet sends none), so "last synced" is when the link dropped.
        let dropped =
            st.connection == ConnectionState::Online && connection == ConnectionState::Offline;
        st.connection = connection;
        st.last_error = last_error;
        drop(st);
        if dropped {
            if let Err(e) = self.with_store(|s| s.mark_synced()) {
                tracing::warn!(error = %ErrorChain(&e), "could not record the last sync time");
            }
        }
        self.notify();
    }

    pub(crate) async fn refresh_wallet(&self) -> Result<()> {
        let wallet: WalletOut = self
            .authed(
                |t| self.api.request(Method::GET, "/wallet", Some(t)),
                "wallet",
            )
            .await?;
        if self.session.access().is_none() {
            // Signed out while the request was in flight: the answer belongs to nobody now.
            return Ok(());
        }
        if self.with_store(|s| s.put_wallet(&wallet))? {
            self.notify();
        }
        Ok(())
    }
}

#[cfg(test)]
impl OddxerClient {
    /// A session for HTTP calls without the sync connection.
    pub(crate) fn use_access_token(&self, access: &str, user: &UserOut) -> Result<()> {
        self.inner.session.set_access(access.to_owned());
        self.inner.with_store(|s| s.set_user(user))
    }

    /// Signs in without the HTTP API (the loopback tests have only a WebSocket server).
    pub(crate) fn start_with_access_token(&self, access: &str, user: &UserOut) -> Result<()> {
        self.use_access_token(access, user)?;
        self.inner.set_connection(ConnectionState::Connecting, None);
        self.start_sync();
        Ok(())
    }
}
