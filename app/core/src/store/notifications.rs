//! In-app notifications kept on the device: what live events told this user (a followed tipster's
//! new code, a sale, a result, a payment), with a read mark, so the list and its unread badge
//! survive a restart. One row per cause (the notification's id), so an event delivered twice
//! (a reconnect, a replayed batch) notifies once.

use oddxer_shared::client::NotificationOut;
use rusqlite::params;

use super::{from_json, now_ms, to_json, Store};
use crate::error::Result;

/// Notifications kept; the oldest go first.
const MAX_NOTIFICATIONS: i64 = 200;

impl Store {
    /// Stores `n` unless a notification with its id is already kept. Returns whether it was new
    /// (only a new one should reach the OS notification centre).
    pub fn add_notification(&mut self, n: &NotificationOut) -> Result<bool> {
        let json = to_json(n, "notification")?;
        let tx = self.conn.transaction()?;
        let added = tx.execute(
            "INSERT INTO notifications (id, kind, json, created_ms, read) VALUES (?1, ?2, ?3, ?4, 0)
             ON CONFLICT(id) DO NOTHING",
            params![n.id, kind_name(n), json, now_ms()],
        )? > 0;
        if added {
            tx.execute(
                "DELETE FROM notifications WHERE id NOT IN
                   (SELECT id FROM notifications ORDER BY created_ms DESC, id DESC LIMIT ?1)",
                [MAX_NOTIFICATIONS],
            )?;
        }
        tx.commit()?;
        Ok(added)
    }

    /// The newest `limit` notifications, newest first, with their read marks.
    pub fn notifications(&self, limit: usize) -> Result<Vec<NotificationOut>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT json, read FROM notifications ORDER BY created_ms DESC, id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (json, read) = row?;
            let mut n: NotificationOut = from_json(&json, "notification")?;
            n.read = read;
            out.push(n);
        }
        Ok(out)
    }

    /// How many notifications are not marked read.
    pub fn unread_notifications(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM notifications WHERE read = 0",
            [],
            |r| r.get(0),
        )?)
    }

    /// Marks one notification (`Some(id)`) or all of them read. Returns whether any changed.
    pub fn mark_notifications_read(&mut self, id: Option<&str>) -> Result<bool> {
        let n = match id {
            Some(id) => self.conn.execute(
                "UPDATE notifications SET read = 1 WHERE id = ?1 AND read = 0",
                [id],
            )?,
            None => self
                .conn
                .execute("UPDATE notifications SET read = 1 WHERE read = 0", [])?,
        };
        Ok(n > 0)
    }
}

fn kind_name(n: &NotificationOut) -> &'static str {
    use oddxer_shared::client::NotificationKind::*;
    match n.kind {
        NewCode => "NEW_CODE",
        Sale => "SALE",
        Result => "RESULT",
        Payment => "PAYMENT",
    }
}
