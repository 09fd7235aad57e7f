//! The local SQLite cache: the signed-in user, the wallet, its ledger, purchases with their codes,
//! the marketplace page cache, sync cursors and the outbox (`purchases.rs`, `market.rs` and
//! `outbox.rs` beside this file).
//!
//! Everything the UI shows is read from here, so the app works offline. Rows only ever come from
//! the server (money is never simulated locally); this module just applies what arrived, each
//! sync batch in one transaction so a crash never leaves entries without their cursor or balance.

use std::path::Path;

use oddxer_shared::api::{CodeOut, LedgerEntryOut, UserOut};
use oddxer_shared::client::NotificationOut;
use oddxer_shared::Money;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::error::{ClientError, Result};

/// Name of the wallet sync stream (DESIGN.md section 6).
pub const WALLET_STREAM: &str = "wallet";
/// Name of the purchases sync stream; its cursor is a row of `sync_cursors` like the wallet's.
pub const PURCHASES_STREAM: &str = "purchases";

/// Versioned schema. Entry `i` moves the database from `user_version = i` to `i + 1`.
/// Never edit a shipped entry: append a new one, installed apps migrate forward from where they are.
const MIGRATIONS: &[&str] = &[
    // v1: the first schema.
    "
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY NOT NULL,
        value TEXT NOT NULL
    );
    -- The signed-in user as last seen from the server (at most one row).
    CREATE TABLE session (
        id        INTEGER PRIMARY KEY CHECK (id = 1),
        user_id   TEXT NOT NULL,
        user_json TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    -- The wallet as last seen (at most one row). `seq` is the wallet stream position the balance
    -- belongs to, so an older answer never overwrites a newer one.
    CREATE TABLE wallet (
        id       INTEGER PRIMARY KEY CHECK (id = 1),
        balance  INTEGER NOT NULL,
        currency TEXT NOT NULL,
        held     INTEGER NOT NULL DEFAULT 0,
        seq      INTEGER NOT NULL DEFAULT 0
    );
    -- Wallet ledger entries, upserted by the server's id so a replayed entry lands once.
    CREATE TABLE ledger_entries (
        id   TEXT PRIMARY KEY NOT NULL,
        seq  INTEGER NOT NULL,
        json TEXT NOT NULL
    );
    CREATE INDEX ledger_entries_seq ON ledger_entries (seq);
    -- Last contiguous position applied per stream.
    CREATE TABLE sync_cursors (
        stream TEXT PRIMARY KEY NOT NULL,
        cursor INTEGER NOT NULL
    );
    -- Actions taken offline that are safe to replay later (votes), oldest first.
    CREATE TABLE outbox (
        id         TEXT PRIMARY KEY NOT NULL,
        kind       TEXT NOT NULL,
        payload    TEXT NOT NULL,
        created_at TEXT NOT NULL,
        attempts   INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
    );
    ",
    // v2: purchases (stream rows and the positions they came at), the marketplace page cache,
    // votes delivered, Idempotency-Keys of money calls whose outcome is unknown, and an outbox
    // with one row per (kind, subject). v1 never wrote to its outbox, so it is replaced.
    "
    -- My purchases with their revealed codes, one row per purchase at its highest version.
    CREATE TABLE purchases (
        id         TEXT PRIMARY KEY NOT NULL,
        code_id    TEXT NOT NULL,
        version    INTEGER NOT NULL,
        created_ms INTEGER NOT NULL,
        json       TEXT NOT NULL
    );
    CREATE INDEX purchases_newest ON purchases (created_ms DESC, id DESC);
    CREATE INDEX purchases_code ON purchases (code_id);
    -- Which purchase row arrived at each position of the purchases stream (for contiguity).
    CREATE TABLE purchase_positions (
        seq         INTEGER PRIMARY KEY NOT NULL,
        purchase_id TEXT NOT NULL,
        version     INTEGER NOT NULL
    );
    -- Public listings as last seen (never with the secret code), newest `updatedAt` wins.
    CREATE TABLE market_codes (
        id         TEXT PRIMARY KEY NOT NULL,
        updated_ms INTEGER NOT NULL,
        json       TEXT NOT NULL,
        seen_ms    INTEGER NOT NULL
    );
    CREATE INDEX market_codes_seen ON market_codes (seen_ms DESC);
    -- The first page of each marketplace query: its code ids in order.
    CREATE TABLE market_pages (
        query       TEXT PRIMARY KEY NOT NULL,
        ids         TEXT NOT NULL,
        next_cursor TEXT,
        fetched_at  TEXT NOT NULL,
        fetched_ms  INTEGER NOT NULL
    );
    -- Votes the server accepted from this device.
    CREATE TABLE my_votes (
        code_id   TEXT PRIMARY KEY NOT NULL,
        vote_type TEXT NOT NULL
    );
    -- The Idempotency-Key of a money call whose answer never arrived, reused when it is retried.
    CREATE TABLE money_keys (
        action     TEXT PRIMARY KEY NOT NULL,
        idem_key   TEXT NOT NULL,
        created_ms INTEGER NOT NULL
    );
    DROP TABLE outbox;
    CREATE TABLE outbox (
        id         TEXT PRIMARY KEY NOT NULL,
        kind       TEXT NOT NULL,
        subject    TEXT NOT NULL,
        payload    TEXT NOT NULL,
        state      TEXT NOT NULL DEFAULT 'PENDING',
        created_at TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        attempts   INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        UNIQUE (kind, subject)
    );
    ",
    // v3: tipster profiles as last seen (the profile, the first page of the record and the
    // performance points as one `SellerProfileView`), so a profile opened once reads offline.
    "
    CREATE TABLE seller_profiles (
        seller_id  TEXT PRIMARY KEY NOT NULL,
        json       TEXT NOT NULL,
        fetched_at TEXT NOT NULL,
        fetched_ms INTEGER NOT NULL
    );
    ",
    // v4: in-app notifications (a followed tipster's new code, a sale, a result, a payment), one
    // row per cause so a replayed event never notifies twice; `read` is set by the user.
    "
    CREATE TABLE notifications (
        id         TEXT PRIMARY KEY NOT NULL,
        kind       TEXT NOT NULL,
        json       TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        read       INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX notifications_newest ON notifications (created_ms DESC, id DESC);
    CREATE INDEX notifications_unread ON notifications (read);
    -- The first page of each leaderboard query (sort, period, sport) as last seen, for offline.
    CREATE TABLE leaderboard_pages (
        query      TEXT PRIMARY KEY NOT NULL,
        json       TEXT NOT NULL,
        fetched_at TEXT NOT NULL,
        fetched_ms INTEGER NOT NULL
    );
    ",
];

/// What applying a run of stream entries did (the type is shared with the browser core).
pub use oddxer_sync::Applied;

pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        Self::init(Connection::open(path)?)
    }

    pub fn open_in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self> {
        // WAL: readers (the UI snapshot) never wait on the sync writer; NORMAL sync is durable
        // enough under WAL and the server is the source of truth anyway.
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mut store = Store { conn };
        store.migrate()?;
        Ok(store)
    }

    pub fn schema_version(&self) -> Result<usize> {
        let v: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        Ok(usize::try_from(v).unwrap_or(0))
    }

    fn migrate(&mut self) -> Result<()> {
        let current = self.schema_version()?;
        if current > MIGRATIONS.len() {
            return Err(ClientError::Config(
                "the local database was written by a newer Oddxer version",
            ));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            // `user_version` is written inside the same transaction, so a crash re-runs the whole step.
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
            tracing::info!(version = i + 1, "local database migrated");
        }
        Ok(())
    }

    // ---- session -------------------------------------------------------------------------

    pub fn cached_user(&self) -> Result<Option<UserOut>> {
        let json: Option<String> = self
            .conn
            .query_row("SELECT user_json FROM session WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?;
        json.map(|j| {
            serde_json::from_str(&j).map_err(|source| ClientError::Corrupt {
                context: "session",
                source,
            })
        })
        .transpose()
    }

    /// Caches the signed-in user. When a different user signs in on this device, the previous
    /// user's wallet, ledger, cursors and outbox are wiped first: they must never be shown to,
    /// or replayed for, someone else. The owner of the cached data is kept apart from the
    /// session row so that an expired session keeps its offline data for the same user.
    pub fn set_user(&mut self, user: &UserOut) -> Result<()> {
        let json = serde_json::to_string(user).map_err(|source| ClientError::Corrupt {
            context: "session",
            source,
        })?;
        let tx = self.conn.transaction()?;
        let owner: Option<String> = tx
            .query_row(
                "SELECT value FROM meta WHERE key = 'owner_user_id'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        if owner.as_deref().is_some_and(|o| o != user.id) {
            wipe_user_data(&tx)?;
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('owner_user_id', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [&user.id],
        )?;
        tx.execute(
            "INSERT INTO session (id, user_id, user_json, updated_at) VALUES (1, ?1, ?2, ?3)
             ON CONFLICT(id) DO UPDATE SET user_id = excluded.user_id, user_json = excluded.user_json,
                                           updated_at = excluded.updated_at",
            params![user.id, json, now_rfc3339()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The session ended without a sign-out (the refresh token expired or was revoked): the
    /// user must sign in again, but their cached data stays for when they do.
    pub fn forget_session(&mut self) -> Result<()> {
        self.conn.execute("DELETE FROM session", [])?;
        Ok(())
    }

    /// Sign-out: forget the user and everything cached for them.
    pub fn clear_session(&mut self) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM session", [])?;
        tx.execute("DELETE FROM meta WHERE key = 'owner_user_id'", [])?;
        wipe_user_data(&tx)?;
        tx.commit()?;
        Ok(())
    }

    // ---- meta ----------------------------------------------------------------------------

    pub fn last_synced_at(&self) -> Result<Option<String>> {
        self.meta("last_synced_at")
    }

    pub fn mark_synced(&mut self) -> Result<()> {
        self.set_meta("last_synced_at", &now_rfc3339())
    }

    pub(crate) fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    pub(crate) fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }
}

fn read_cursor(conn: &Connection, stream: &str) -> rusqlite::Result<i64> {
    Ok(conn
        .query_row(
            "SELECT cursor FROM sync_cursors WHERE stream = ?1",
            [stream],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0))
}

fn write_cursor(tx: &Transaction<'_>, stream: &str, cursor: i64) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO sync_cursors (stream, cursor) VALUES (?1, ?2)
         ON CONFLICT(stream) DO UPDATE SET cursor = excluded.cursor",
        params![stream, cursor],
    )?;
    Ok(())
}

/// Everything that belongs to one user. The marketplace cache is public and stays.
fn wipe_user_data(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "DELETE FROM wallet; DELETE FROM ledger_entries; DELETE FROM sync_cursors; DELETE FROM outbox;
         DELETE FROM purchases; DELETE FROM purchase_positions; DELETE FROM my_votes;
         DELETE FROM money_keys; DELETE FROM meta WHERE key IN ('last_synced_at', 'wallet_payments', 'following');
         DELETE FROM seller_profiles; DELETE FROM notifications;",
    )
}

pub(crate) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub(crate) fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

pub(crate) use oddxer_sync::market::rfc3339_ms;

fn to_json<T: serde::Serialize>(value: &T, context: &'static str) -> Result<String> {
    serde_json::to_string(value).map_err(|source| ClientError::Corrupt { context, source })
}

fn from_json<T: serde::de::DeserializeOwned>(json: &str, context: &'static str) -> Result<T> {
    serde_json::from_str(json).map_err(|source| ClientError::Corrupt { context, source })
}

/// The contiguity rule of `oddxer_sync` over the positions listed by `sql` (which takes the cursor
/// as `?1` and returns positions in order): the last position of the contiguous run, and whether
/// a position beyond a hole was seen.
fn contiguous_from(tx: &Transaction<'_>, sql: &str, before: i64) -> rusqlite::Result<(i64, bool)> {
    let mut stmt = tx.prepare_cached(sql)?;
    let positions = stmt
        .query_map([before], |r| r.get::<_, i64>(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(oddxer_sync::contiguous_from(before, positions))
}

/// The SQLite store as the shared sync rules see it.
impl oddxer_sync::SyncStore for Store {
    type Error = ClientError;

    fn cursor(&self, stream: oddxer_sync::Stream) -> Result<i64> {
        Store::cursor(self, stream.name())
    }

    fn apply_wallet_entries(&mut self, entries: &[LedgerEntryOut]) -> Result<Applied> {
        Store::apply_wallet_entries(self, entries)
    }

    fn apply_purchase_entries(
        &mut self,
        entries: &[oddxer_shared::sync::PurchaseStreamEntry],
    ) -> Result<Applied> {
        Store::apply_purchase_entries(self, entries)
    }

    fn apply_wallet_balance(&mut self, balance: &Money) -> Result<bool> {
        Store::apply_wallet_balance(self, balance)
    }

    fn reset_stream(&mut self, stream: oddxer_sync::Stream) -> Result<()> {
        match stream {
            oddxer_sync::Stream::Wallet => self.reset_wallet_stream(),
            oddxer_sync::Stream::Purchases => self.reset_purchases_stream(),
        }
    }

    fn mark_synced(&mut self) -> Result<()> {
        Store::mark_synced(self)
    }

    fn my_user_id(&self) -> Result<Option<String>> {
        Ok(self.cached_user()?.map(|u| u.id))
    }

    fn now_rfc3339(&self) -> String {
        now_rfc3339()
    }

    fn apply_live_code(&mut self, code: &CodeOut) -> Result<bool> {
        Store::apply_live_code(self, code)
    }

    fn apply_code_to_purchases(&mut self, code: &CodeOut) -> Result<bool> {
        Store::apply_code_to_purchases(self, code)
    }

    fn code_title(&self, id: &str) -> Result<Option<String>> {
        Ok(self.market_code(id)?.map(|c| c.title))
    }

    fn add_notification(&mut self, n: &NotificationOut) -> Result<bool> {
        Store::add_notification(self, n)
    }
}

mod boards;
mod market;
mod notifications;
mod outbox;
mod payments;
mod profiles;
mod purchases;
mod wallet;

#[cfg(test)]
mod tests;
