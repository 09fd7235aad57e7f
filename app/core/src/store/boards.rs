//! The leaderboard's first pages and the list of tipsters I follow, as last seen, so both read
//! offline (like the marketplace's first pages and the profiles opened before).

use oddxer_shared::api::{FollowedSellerOut, LeaderboardEntryOut, Page};
use oddxer_shared::client::LeaderboardIn;
use rusqlite::{params, OptionalExtension};

use super::{from_json, now_ms, now_rfc3339, to_json, Store};
use crate::error::Result;

/// Leaderboard queries kept (sort x period x sport); the least recently fetched go first.
const MAX_BOARDS: i64 = 40;
const FOLLOWING_KEY: &str = "following";

/// The cache key of a leaderboard query: its sort, period and sport, without the cursor.
fn board_key(q: &LeaderboardIn) -> String {
    let first = LeaderboardIn {
        cursor: None,
        ..q.clone()
    };
    serde_json::to_string(&first).unwrap_or_default()
}

impl Store {
    /// Keeps the first page of leaderboard query `q`.
    pub fn cache_leaderboard(
        &mut self,
        q: &LeaderboardIn,
        page: &Page<LeaderboardEntryOut>,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO leaderboard_pages (query, json, fetched_at, fetched_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(query) DO UPDATE SET json = excluded.json, fetched_at = excluded.fetched_at,
                                              fetched_ms = excluded.fetched_ms",
            params![board_key(q), to_json(page, "leaderboard")?, now_rfc3339(), now_ms()],
        )?;
        tx.execute(
            "DELETE FROM leaderboard_pages WHERE query NOT IN
               (SELECT query FROM leaderboard_pages ORDER BY fetched_ms DESC LIMIT ?1)",
            [MAX_BOARDS],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The kept first page of `q` (later pages are not kept: a cursor gets `None`).
    pub fn cached_leaderboard(
        &self,
        q: &LeaderboardIn,
    ) -> Result<Option<Page<LeaderboardEntryOut>>> {
        if q.cursor.is_some() {
            return Ok(None);
        }
        let json: Option<String> = self
            .conn
            .query_row(
                "SELECT json FROM leaderboard_pages WHERE query = ?1",
                [board_key(q)],
                |r| r.get(0),
            )
            .optional()?;
        json.map(|j| from_json(&j, "leaderboard")).transpose()
    }

    /// Keeps the list of tipsters I follow (wiped with the user's other data).
    pub fn cache_following(&mut self, list: &[FollowedSellerOut]) -> Result<()> {
        self.set_meta(FOLLOWING_KEY, &to_json(&list, "following")?)
    }

    pub fn cached_following(&self) -> Result<Option<Vec<FollowedSellerOut>>> {
        self.meta(FOLLOWING_KEY)?
            .map(|j| from_json(&j, "following"))
            .transpose()
    }
}
