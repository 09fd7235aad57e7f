//! UI state shared by every screen through the Dioxus context.

use std::collections::HashMap;
use std::future::Future;

use dioxus::prelude::*;
use futures_util::StreamExt;
use oddxer_shared::api::{CodeOptionsOut, TransactionOut};
use oddxer_shared::client::{AppSnapshot, CommandError, ConnectionState};
use oddxer_shared::{Currency, Role, VoteType};

use crate::browser;
use crate::ipc;
use crate::listing::DEFAULT_BOOKMAKERS;
use crate::screens::MarketState;

/// A vote cast from this device: sent, or queued by the core while offline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VoteCast {
    pub vote_type: VoteType,
    pub queued: bool,
}

/// Shown before the first sync has brought the wallet (and so the currency) down.
pub const DEFAULT_CURRENCY: &str = "UGX";

/// Which screen is shown. Plain state rather than URLs: the app has no address bar.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    Marketplace,
    /// One code, opened from `from` (where its back button goes).
    Code {
        id: String,
        from: Box<Route>,
    },
    MyCodes,
    Wallet,
    Leaderboard,
    Seller,
    Admin,
    /// A tipster's public profile, opened from `from` (where its back button goes).
    Tipster {
        id: String,
        from: Box<Route>,
    },
    /// The in-app notifications, opened (from the bell) over `from`.
    Notifications {
        from: Box<Route>,
    },
    /// The tipsters I follow.
    Following,
    /// Editing one of my listings (from the seller dashboard).
    EditCode {
        id: String,
    },
}

#[derive(Clone, Copy)]
pub struct AppState {
    /// Latest snapshot from the core; `None` until the first one arrives.
    pub snapshot: Signal<Option<AppSnapshot>>,
    /// Label of the command in flight, shown with the progress bar.
    pub busy: Signal<Option<&'static str>>,
    /// Last command error, shown in the banner until dismissed or the next command.
    pub error: Signal<Option<CommandError>>,
    /// True until the stored session has been looked at, so sign-in doesn't flash.
    pub booting: Signal<bool>,
    /// Role a new account defaults to: SELLER on desktop, BUYER on mobile.
    pub preferred_role: Signal<Role>,
    /// Deposits started from this device that the ledger doesn't show yet.
    pub pending_deposits: Signal<Vec<TransactionOut>>,
    /// The screen shown once signed in; `None` until the landing screen is picked.
    pub route: Signal<Option<Route>>,
    /// The marketplace's filters and loaded pages, kept while another screen is shown.
    pub market: Signal<MarketState>,
    /// What a listing may name, when the core could tell (`code_options`); built-in defaults otherwise.
    pub options: Signal<Option<CodeOptionsOut>>,
    options_asked: CopyValue<bool>,
    /// Votes cast from this device, by code id: the purchase rows may not carry them yet.
    pub votes_cast: Signal<HashMap<String, VoteCast>>,
    /// The viewer's clock (ms since the epoch), ticking every few seconds for countdowns.
    pub now_ms: Signal<f64>,
    /// Change events received so far (not reactive: only `refresh` reads it).
    events_seen: CopyValue<u64>,
}

impl AppState {
    pub fn new() -> Self {
        AppState {
            snapshot: Signal::new(None),
            busy: Signal::new(None),
            error: Signal::new(None),
            booting: Signal::new(true),
            preferred_role: Signal::new(Role::Buyer),
            pending_deposits: Signal::new(Vec::new()),
            route: Signal::new(None),
            market: Signal::new(MarketState::default()),
            now_ms: Signal::new(browser::now_ms()),
            votes_cast: Signal::new(HashMap::new()),
            options: Signal::new(None),
            options_asked: CopyValue::new(false),
            events_seen: CopyValue::new(0),
        }
    }

    pub fn is_busy(&self) -> bool {
        self.busy.read().is_some()
    }

    /// Runs one command with the progress bar up; its error goes to the banner.
    /// A second command while one runs is ignored: buttons are disabled meanwhile anyway.
    pub async fn run<T>(
        mut self,
        label: &'static str,
        command: impl Future<Output = Result<T, CommandError>>,
    ) -> Option<T> {
        if self.busy.peek().is_some() {
            return None;
        }
        self.busy.set(Some(label));
        self.error.set(None);
        let outcome = command.await;
        self.busy.set(None);
        match outcome {
            Ok(value) => Some(value),
            Err(error) => {
                self.error.set(Some(error));
                None
            }
        }
    }

    /// Like [`run`](Self::run), but the error is handed back for the screen to show in place
    /// (a purchase's "sold out" belongs in its dialog, not in the page banner).
    /// `None` when another command is still running.
    pub async fn attempt<T>(
        mut self,
        label: &'static str,
        command: impl Future<Output = Result<T, CommandError>>,
    ) -> Option<Result<T, CommandError>> {
        if self.busy.peek().is_some() {
            return None;
        }
        self.busy.set(Some(label));
        self.error.set(None);
        let outcome = command.await;
        self.busy.set(None);
        Some(outcome)
    }

    /// The route shown: the chosen one, or where this user lands in this shell.
    pub fn current_route(&self) -> Route {
        if let Some(route) = self.route.read().clone() {
            return route;
        }
        crate::nav::landing(self.role())
    }

    /// The signed-in user's role (BUYER when unknown).
    pub fn role(&self) -> Role {
        self.snapshot
            .read()
            .as_ref()
            .and_then(|s| s.user.as_ref().map(|u| u.role))
            .unwrap_or(Role::Buyer)
    }

    /// The deployment currency as the wallet reports it (UGX before the first sync).
    pub fn currency(&self) -> Currency {
        self.snapshot
            .read()
            .as_ref()
            .and_then(|s| s.wallet.as_ref().map(|w| w.balance.currency.clone()))
            .unwrap_or_else(|| Currency(DEFAULT_CURRENCY.to_owned()))
    }

    /// Asks the core once for the listing options; screens fall back to defaults meanwhile.
    pub fn want_options(mut self) {
        if *self.options_asked.peek() {
            return;
        }
        self.options_asked.set(true);
        spawn_command(async move {
            match ipc::code_options().await {
                Ok(options) => self.options.set(Some(options)),
                // A core without the command (IPC) keeps the built-in lists; offline, ask again later.
                Err(e) if e.code != "IPC" => self.options_asked.set(false),
                Err(_) => {}
            }
        });
    }

    /// Bookmakers a code may name: the server's list, or its default one.
    pub fn bookmakers(&self) -> Vec<String> {
        match self.options.read().as_ref() {
            Some(o) if !o.bookmakers.is_empty() => o.bookmakers.clone(),
            _ => DEFAULT_BOOKMAKERS.iter().map(|b| (*b).to_owned()).collect(),
        }
    }

    pub fn is_offline(&self) -> bool {
        self.snapshot
            .read()
            .as_ref()
            .is_some_and(|s| s.connection == ConnectionState::Offline)
    }

    pub fn go(mut self, route: Route) {
        self.route.set(Some(route));
        browser::scroll_to_top();
    }

    /// Re-reads the snapshot after a command, in case its change event is still on the way.
    ///
    /// Change events are the source of truth: the bridge emits them in order, and every change is
    /// followed by an event read after it. An answer to this call travels on another channel and
    /// can overtake an event or be overtaken by one: a snapshot read before "Online" but delivered
    /// after it would leave the badge on "Connecting" for good. So the answer is used only when no
    /// event arrived while it was in flight; if one did, that event (or a later one) is newer.
    pub async fn refresh(mut self) {
        let seen = *self.events_seen.peek();
        match ipc::snapshot().await {
            Ok(snapshot) if *self.events_seen.peek() == seen => self.snapshot.set(Some(snapshot)),
            Ok(_) => {}
            Err(error) => self.error.set(Some(error)),
        }
    }

    fn apply_event(mut self, snapshot: AppSnapshot) {
        *self.events_seen.write() += 1;
        self.snapshot.set(Some(snapshot));
    }

    pub fn show_error(mut self, error: CommandError) {
        self.error.set(Some(error));
    }

    /// Forgets what belongs to the signed-out user.
    pub fn clear_session(mut self) {
        self.pending_deposits.set(Vec::new());
        self.route.set(None);
        self.market.set(MarketState::default());
        self.votes_cast.set(HashMap::new());
    }
}

/// Spawns a command's task on the root scope. A command outlives the screen that started it:
/// a successful `verify_otp` swaps the sign-in screen for the wallet while the task still has to
/// clear the progress bar, and a task scoped to the sign-in screen would be dropped mid-way.
pub fn spawn_command(task: impl Future<Output = ()> + 'static) {
    dioxus::prelude::dioxus_core::spawn_forever(task);
}

/// Sets a screen-local signal unless its screen is gone by the time a command finishes.
pub fn set_if_mounted<T: 'static>(mut signal: Signal<T>, value: T) {
    if let Ok(mut slot) = signal.try_write() {
        *slot = value;
    }
}

/// Subscribes to core changes, restores the stored session and loads the first snapshot.
pub async fn boot(mut state: AppState) {
    let (tx, mut rx) = futures_channel::mpsc::unbounded::<AppSnapshot>();
    spawn(async move {
        while let Some(snapshot) = rx.next().await {
            state.apply_event(snapshot);
        }
    });
    if let Err(error) = ipc::listen_changes(tx).await {
        state.show_error(error);
        state.booting.set(false);
        return;
    }
    if let Ok(role) = ipc::preferred_role().await {
        state.preferred_role.set(role);
    }
    // Offline, `resume` still yields the cached user; the snapshot then says Offline.
    state.run("Restoring your session", ipc::resume()).await;
    state.refresh().await;
    state.booting.set(false);
    tick(state).await;
}

/// Keeps `now_ms` current so "kick-off in 5m" and open voting windows move on their own.
async fn tick(mut state: AppState) {
    loop {
        browser::sleep_ms(15_000).await;
        state.now_ms.set(browser::now_ms());
    }
}
