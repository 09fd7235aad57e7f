//! The outbox (actions taken offline that are safe to replay: votes) and the Idempotency-Keys of
//! money calls whose answer never arrived.

use oddxer_shared::client::{OutboxItemOut, OutboxState};
use oddxer_shared::VoteType;
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::{from_json, now_ms, now_rfc3339, to_json, Store};
use crate::error::Result;

/// Outbox kind of a vote; its subject is the code id (one queued vote per code).
pub const VOTE: &str = "VOTE";
/// A money call's key is reused for a retry within this time; later it is a new action.
pub const MONEY_KEY_TTL_MS: i64 = 15 * 60 * 1000;
/// Refused items shown to the user (the newest); older ones are dropped.
const MAX_FAILED: i64 = 20;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VotePayload {
    vote_type: VoteType,
}

impl Store {
    /// Queues a vote for delivery; a newer vote for the same code replaces a queued one.
    pub fn enqueue_vote(&mut self, code_id: &str, vote: VoteType) -> Result<OutboxItemOut> {
        let id = uuid::Uuid::new_v4().to_string();
        let payload = to_json(&VotePayload { vote_type: vote }, "outbox")?;
        self.conn.execute(
            "INSERT INTO outbox (id, kind, subject, payload, state, created_at, created_ms, attempts, last_error)
             VALUES (?1, ?2, ?3, ?4, 'PENDING', ?5, ?6, 0, NULL)
             ON CONFLICT(kind, subject) DO UPDATE SET id = excluded.id, payload = excluded.payload,
                 state = 'PENDING', created_at = excluded.created_at, created_ms = excluded.created_ms,
                 attempts = 0, last_error = NULL",
            params![id, VOTE, code_id, payload, now_rfc3339(), now_ms()],
        )?;
        self.outbox_item(&id)?
            .ok_or(crate::error::ClientError::Config(
                "the queued vote vanished",
            ))
    }

    /// Every item: pending ones oldest first, then the refused ones.
    pub fn outbox(&self) -> Result<Vec<OutboxItemOut>> {
        self.outbox_where("1 = 1")
    }

    /// Items still to deliver, oldest first.
    pub fn pending_outbox(&self) -> Result<Vec<OutboxItemOut>> {
        self.outbox_where("state = 'PENDING'")
    }

    /// Delivered (or found already done on the server): gone.
    pub fn outbox_delivered(&mut self, id: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM outbox WHERE id = ?1", [id])?;
        Ok(())
    }

    /// Not delivered this time (server unreachable or busy): retried on the next reconnect.
    pub fn outbox_attempted(&mut self, id: &str, error: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
            params![id, error],
        )?;
        Ok(())
    }

    /// The server refused it for good (voting closed, not a buyer...): kept to be shown, not retried.
    pub fn outbox_refused(&mut self, id: &str, error: &str) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE outbox SET state = 'FAILED', attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
            params![id, error],
        )?;
        tx.execute(
            "DELETE FROM outbox WHERE state = 'FAILED' AND id NOT IN
               (SELECT id FROM outbox WHERE state = 'FAILED' ORDER BY created_ms DESC LIMIT ?1)",
            [MAX_FAILED],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn outbox_item(&self, id: &str) -> Result<Option<OutboxItemOut>> {
        Ok(self
            .outbox_where_params("id = ?1", [id])?
            .into_iter()
            .next())
    }

    fn outbox_where(&self, condition: &str) -> Result<Vec<OutboxItemOut>> {
        self.outbox_where_params(condition, params![])
    }

    fn outbox_where_params<P: rusqlite::Params>(
        &self,
        condition: &str,
        p: P,
    ) -> Result<Vec<OutboxItemOut>> {
        let sql = format!(
            "SELECT id, kind, subject, payload, state, attempts, last_error, created_at FROM outbox
             WHERE {condition} ORDER BY state = 'FAILED', created_ms, rowid"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(p, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, String>(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, kind, subject, payload, state, attempts, last_error, created_at) = row?;
            let payload: VotePayload = from_json(&payload, "outbox")?;
            out.push(OutboxItemOut {
                id,
                kind,
                code_id: subject,
                vote_type: payload.vote_type,
                state: if state == "FAILED" {
                    OutboxState::Failed
                } else {
                    OutboxState::Pending
                },
                attempts,
                last_error,
                created_at,
            });
        }
        Ok(out)
    }

    // ---- money keys ------------------------------------------------------------------------

    /// The Idempotency-Key for a money action: the one kept from an unanswered attempt of the
    /// same action (same call, same body) if recent, else a new one, kept until `clear_money_key`.
    pub fn money_key(&mut self, action: &str) -> Result<String> {
        let now = now_ms();
        let tx = self.conn.transaction()?;
        let kept: Option<String> = tx
            .query_row(
                "SELECT idem_key FROM money_keys WHERE action = ?1 AND created_ms > ?2",
                params![action, now - MONEY_KEY_TTL_MS],
                |r| r.get(0),
            )
            .optional()?;
        let key = match kept {
            Some(k) => k,
            None => {
                let k = uuid::Uuid::new_v4().to_string();
                tx.execute(
                    "INSERT INTO money_keys (action, idem_key, created_ms) VALUES (?1, ?2, ?3)
                     ON CONFLICT(action) DO UPDATE SET idem_key = excluded.idem_key,
                                                       created_ms = excluded.created_ms",
                    params![action, k, now],
                )?;
                k
            }
        };
        tx.execute(
            "DELETE FROM money_keys WHERE created_ms <= ?1",
            [now - MONEY_KEY_TTL_MS],
        )?;
        tx.commit()?;
        Ok(key)
    }

    /// The action got its final answer: a repeat is a new action with a new key.
    pub fn clear_money_key(&mut self, action: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM money_keys WHERE action = ?1", [action])?;
        Ok(())
    }
}
