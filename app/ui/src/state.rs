//! UI state shared by every screen through the Dioxus context.

use std::future::Future;

use dioxus::prelude::*;
use futures_util::StreamExt;
use oddxer_shared::api::TransactionOut;
use oddxer_shared::client::{AppSnapshot, CommandError};
use oddxer_shared::Role;

use crate::ipc;

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
}
