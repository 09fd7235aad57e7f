//! The wallet on the device: its balance (with the stream position it is good for) and its
//! ledger entries, applied from the wallet stream in one transaction per batch so a crash never
//! leaves entries without their cursor or balance.

use oddxer_shared::api::{LedgerEntryOut, WalletOut};
use oddxer_shared::{Currency, Money};
use rusqlite::{params, OptionalExtension};

use super::*;

impl Store {
    pub fn wallet(&self) -> Result<Option<WalletOut>> {
        let row: Option<(i64, String, i64, i64)> = self
            .conn
            .query_row(
                "SELECT balance, currency, held, seq FROM wallet WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        Ok(row.map(|(balance, currency, held, seq)| {
            let cur = Currency(currency.clone());
            WalletOut {
                balance: Money::new(balance, &cur),
                currency,
                held: Money::new(held, &cur),
                seq,
            }
        }))
    }

    /// Stores a `GET /wallet` answer unless the local copy already belongs to a later position.
    /// Returns whether anything changed.
    pub fn put_wallet(&mut self, w: &WalletOut) -> Result<bool> {
        let n = self.conn.execute(
            "INSERT INTO wallet (id, balance, currency, held, seq) VALUES (1, ?1, ?2, ?3, ?4)
             ON CONFLICT(id) DO UPDATE SET balance = excluded.balance, currency = excluded.currency,
                                           held = excluded.held, seq = excluded.seq
             WHERE excluded.seq >= wallet.seq
               AND (wallet.balance, wallet.currency, wallet.held, wallet.seq)
                   IS NOT (excluded.balance, excluded.currency, excluded.held, excluded.seq)",
            params![w.balance.amount, w.currency, w.held.amount, w.seq],
        )?;
        Ok(n > 0)
    }

    /// Applies a live `wallet:updated {balance}` push. It carries no position, so it only sets the
    /// balance; the ledger batch that follows it sets the position (and the same balance).
    pub fn apply_wallet_balance(&mut self, balance: &Money) -> Result<bool> {
        let n = self.conn.execute(
            "INSERT INTO wallet (id, balance, currency, held, seq) VALUES (1, ?1, ?2, 0, 0)
             ON CONFLICT(id) DO UPDATE SET balance = excluded.balance, currency = excluded.currency
             WHERE (wallet.balance, wallet.currency) IS NOT (excluded.balance, excluded.currency)",
            params![balance.amount, balance.currency.0],
        )?;
        Ok(n > 0)
    }

    // ---- ledger & sync -------------------------------------------------------------------

    /// Wallet ledger, newest first, at most `limit` entries.
    pub fn ledger(&self, limit: usize) -> Result<Vec<LedgerEntryOut>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT json FROM ledger_entries ORDER BY seq DESC LIMIT ?1")?;
        let rows = stmt.query_map([limit as i64], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for json in rows {
            let json = json?;
            out.push(
                serde_json::from_str(&json).map_err(|source| ClientError::Corrupt {
                    context: "ledger",
                    source,
                })?,
            );
        }
        Ok(out)
    }

    pub fn ledger_len(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM ledger_entries", [], |r| r.get(0))?)
    }

    pub fn cursor(&self, stream: &str) -> Result<i64> {
        Ok(read_cursor(&self.conn, stream)?)
    }

    /// Applies a run of wallet entries in one transaction: upsert each by id, advance the cursor
    /// over the contiguous run only, and move the cached balance with it.
    pub fn apply_wallet_entries(&mut self, entries: &[LedgerEntryOut]) -> Result<Applied> {
        let tx = self.conn.transaction()?;
        let before = read_cursor(&tx, WALLET_STREAM)?;
        let mut changed = false;
        {
            // Only rewrite a row whose content differs, so a replay reports "no change".
            let mut upsert = tx.prepare_cached(
                "INSERT INTO ledger_entries (id, seq, json) VALUES (?1, ?2, ?3)
                 ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, json = excluded.json
                 WHERE (ledger_entries.seq, ledger_entries.json) IS NOT (excluded.seq, excluded.json)",
            )?;
            for e in entries {
                let json = serde_json::to_string(e).map_err(|source| ClientError::Corrupt {
                    context: "ledger",
                    source,
                })?;
                changed |= upsert.execute(params![e.id, e.seq, json])? > 0;
            }
        }

        // Walk forward from the stored cursor over positions present locally. Entries stored
        // earlier beyond a hole are picked up here once the hole is filled.
        let (cursor, saw_gap) = contiguous_from(
            &tx,
            "SELECT DISTINCT seq FROM ledger_entries WHERE seq > ?1 ORDER BY seq",
            before,
        )?;

        let mut balance_at_cursor = None;
        if cursor > 0 {
            let json: Option<String> = tx
                .query_row(
                    "SELECT json FROM ledger_entries WHERE seq = ?1 LIMIT 1",
                    [cursor],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(json) = json {
                let head: LedgerEntryOut =
                    serde_json::from_str(&json).map_err(|source| ClientError::Corrupt {
                        context: "ledger",
                        source,
                    })?;
                balance_at_cursor = Some(head.balance_after.amount);
                if cursor != before || changed {
                    // The ledger head is the balance, unless a newer `GET /wallet` answer is stored.
                    changed |= tx.execute(
                        "INSERT INTO wallet (id, balance, currency, held, seq) VALUES (1, ?1, ?2, 0, ?3)
                         ON CONFLICT(id) DO UPDATE SET balance = excluded.balance,
                                                       currency = excluded.currency, seq = excluded.seq
                         WHERE excluded.seq >= wallet.seq
                           AND (wallet.balance, wallet.currency, wallet.seq)
                               IS NOT (excluded.balance, excluded.currency, excluded.seq)",
                        params![head.balance_after.amount, head.balance_after.currency.0, cursor],
                    )? > 0;
                }
            }
        }
        if cursor != before {
            write_cursor(&tx, WALLET_STREAM, cursor)?;
            changed = true;
        }
        tx.commit()?;
        Ok(Applied {
            changed,
            cursor,
            balance_at_cursor,
            saw_gap,
        })
    }

    /// Forgets a stream's local copy so it is rebuilt from position 0 (the server's state
    /// diverged from ours, e.g. its database was reset). The cached balance stays on screen until
    /// the rebuild replaces it, but loses its position so the rebuild may overwrite it.
    pub fn reset_wallet_stream(&mut self) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM ledger_entries", [])?;
        tx.execute(
            "DELETE FROM sync_cursors WHERE stream = ?1",
            [WALLET_STREAM],
        )?;
        tx.execute("UPDATE wallet SET seq = 0", [])?;
        tx.commit()?;
        Ok(())
    }
}
