//! My purchases: the `purchases` sync stream applied to SQLite, so bought codes (with their secret
//! `code`) stay readable offline and across restarts.
//!
//! Each stream row is the whole purchase at some version. Rows are upserted by purchase id,
//! keeping the highest version; the stream cursor advances only over contiguous positions, exactly
//! like the wallet's.

use oddxer_shared::api::{CodeOut, PurchaseOut};
use oddxer_shared::sync::PurchaseStreamEntry;
use oddxer_shared::VoteType;
use rusqlite::{params, OptionalExtension, Transaction};

use super::{
    contiguous_from, from_json, read_cursor, rfc3339_ms, to_json, write_cursor, Applied, Store,
    PURCHASES_STREAM,
};
use crate::error::Result;

/// Version given to a purchase taken from a purchase answer rather than from the stream: lower
/// than any stream row, so the stream's copy always replaces it.
const DIRECT_VERSION: i64 = 0;

impl Store {
    /// Applies a run of purchases-stream rows in one transaction.
    pub fn apply_purchase_entries(&mut self, entries: &[PurchaseStreamEntry]) -> Result<Applied> {
        let tx = self.conn.transaction()?;
        let before = read_cursor(&tx, PURCHASES_STREAM)?;
        let mut changed = false;
        {
            let mut position = tx.prepare_cached(
                "INSERT INTO purchase_positions (seq, purchase_id, version) VALUES (?1, ?2, ?3)
                 ON CONFLICT(seq) DO UPDATE SET purchase_id = excluded.purchase_id,
                                                version = excluded.version
                 WHERE (purchase_positions.purchase_id, purchase_positions.version)
                       IS NOT (excluded.purchase_id, excluded.version)",
            )?;
            for e in entries {
                position.execute(params![e.seq, e.purchase.id, e.version])?;
                changed |= upsert_purchase(&tx, &e.purchase, e.version)?;
            }
        }
        let (cursor, saw_gap) = contiguous_from(
            &tx,
            "SELECT seq FROM purchase_positions WHERE seq > ?1 ORDER BY seq",
            before,
        )?;
        if cursor != before {
            write_cursor(&tx, PURCHASES_STREAM, cursor)?;
            changed = true;
        }
        tx.commit()?;
        Ok(Applied {
            changed,
            cursor,
            balance_at_cursor: None,
            saw_gap,
        })
    }

    /// Keeps a purchase from the purchase call's answer until its stream row arrives. Returns
    /// whether it was new here.
    pub fn put_purchase_if_absent(&mut self, p: &PurchaseOut) -> Result<bool> {
        let tx = self.conn.transaction()?;
        let changed = upsert_purchase(&tx, p, DIRECT_VERSION)?;
        tx.commit()?;
        Ok(changed)
    }

    /// My purchases, newest first (all of them when `limit` is `None`), each with my delivered
    /// vote filled in when the stored row does not carry one.
    pub fn purchases(&self, limit: Option<usize>) -> Result<Vec<PurchaseOut>> {
        let limit = limit.map_or(-1, |l| l as i64);
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.json, v.vote_type FROM purchases p LEFT JOIN my_votes v ON v.code_id = p.code_id
             ORDER BY p.created_ms DESC, p.id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (json, vote) = row?;
            out.push(with_vote(from_json(&json, "purchase")?, vote.as_deref()));
        }
        Ok(out)
    }

    pub fn purchases_len(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM purchases", [], |r| r.get(0))?)
    }

    /// Copies a live copy of a code (`code:finalized`: status, outcome, votes) into my purchases
    /// of it, keeping the secret and my vote that only the purchase row carries. An older copy
    /// (by `updatedAt`) changes nothing; the purchase's version stays, so the stream's next row
    /// still replaces it. Returns whether a purchase changed.
    pub fn apply_code_to_purchases(&mut self, code: &CodeOut) -> Result<bool> {
        let tx = self.conn.transaction()?;
        let rows: Vec<(String, String)> = {
            let mut stmt =
                tx.prepare_cached("SELECT id, json FROM purchases WHERE code_id = ?1")?;
            let rows = stmt.query_map([&code.id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut changed = false;
        for (id, json) in rows {
            let mut p: PurchaseOut = from_json(&json, "purchase")?;
            if rfc3339_ms(&code.updated_at) < rfc3339_ms(&p.code.updated_at) {
                continue;
            }
            let merged = CodeOut {
                code: p.code.code.take(),
                my_vote: p.code.my_vote,
                ..code.clone()
            };
            if merged == p.code {
                continue;
            }
            p.code = merged;
            tx.execute(
                "UPDATE purchases SET json = ?1 WHERE id = ?2",
                params![to_json(&p, "purchase")?, id],
            )?;
            changed = true;
        }
        tx.commit()?;
        Ok(changed)
    }

    /// My purchase of a code, if I bought it.
    pub fn purchase_of_code(&self, code_id: &str) -> Result<Option<PurchaseOut>> {
        let row: Option<(String, Option<String>)> = self
            .conn
            .query_row(
                "SELECT p.json, v.vote_type FROM purchases p LEFT JOIN my_votes v ON v.code_id = p.code_id
                 WHERE p.code_id = ?1 ORDER BY p.version DESC LIMIT 1",
                [code_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        row.map(|(json, vote)| Ok(with_vote(from_json(&json, "purchase")?, vote.as_deref())))
            .transpose()
    }

    /// Forgets the purchases stream so it is rebuilt from position 0 (the server's history
    /// diverged from ours). The rebuild follows at once on the same connection.
    pub fn reset_purchases_stream(&mut self) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM purchases", [])?;
        tx.execute("DELETE FROM purchase_positions", [])?;
        tx.execute(
            "DELETE FROM sync_cursors WHERE stream = ?1",
            [PURCHASES_STREAM],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// A vote the server accepted (or already had) for a code.
    pub fn record_my_vote(&mut self, code_id: &str, vote: VoteType) -> Result<bool> {
        let n = self.conn.execute(
            "INSERT INTO my_votes (code_id, vote_type) VALUES (?1, ?2)
             ON CONFLICT(code_id) DO UPDATE SET vote_type = excluded.vote_type
             WHERE my_votes.vote_type IS NOT excluded.vote_type",
            params![code_id, vote.as_str()],
        )?;
        Ok(n > 0)
    }
}

/// Upserts by purchase id, replacing the stored row only with a higher version.
fn upsert_purchase(tx: &Transaction<'_>, p: &PurchaseOut, version: i64) -> Result<bool> {
    let json = to_json(p, "purchase")?;
    let n = tx
        .prepare_cached(
            "INSERT INTO purchases (id, code_id, version, created_ms, json) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(id) DO UPDATE SET code_id = excluded.code_id, version = excluded.version,
                                           created_ms = excluded.created_ms, json = excluded.json
             WHERE excluded.version > purchases.version",
        )?
        .execute(params![
            p.id,
            p.code_id,
            version,
            rfc3339_ms(&p.created_at),
            json
        ])?;
    Ok(n > 0)
}

fn with_vote(mut p: PurchaseOut, vote: Option<&str>) -> PurchaseOut {
    if p.code.my_vote.is_none() {
        p.code.my_vote = vote.and_then(VoteType::parse);
    }
    p
}
