//! The marketplace page cache: the first page of each `GET /codes` query, so the marketplace still
//! shows something offline. Eventually consistent: codes are upserted by id and a copy never
//! replaces one with a later `updatedAt` (ties go to the newer arrival, which is harmless: same
//! `(updatedAt, id)` means the same version).

use oddxer_shared::api::CodeOut;
use oddxer_shared::client::{BrowseIn, BrowseOut};
use oddxer_sync::market::{compare, matches};
use rusqlite::{params, OptionalExtension, Transaction};

use super::{from_json, now_ms, now_rfc3339, rfc3339_ms, to_json, Store};
use crate::error::Result;

/// Queries whose first page is kept; the least recently fetched go first.
const MAX_PAGES: i64 = 50;
/// Codes kept; the least recently seen go first.
const MAX_CODES: i64 = 2000;

/// The cache key of a query: its filters, sort and limit, without the cursor.
pub fn page_key(q: &BrowseIn) -> String {
    let first = BrowseIn {
        cursor: None,
        ..q.clone()
    };
    serde_json::to_string(&first).unwrap_or_default()
}

impl Store {
    /// Stores the first page of `q` (ids in order) and upserts its codes.
    pub fn cache_market_page(
        &mut self,
        q: &BrowseIn,
        items: &[CodeOut],
        next_cursor: Option<&str>,
    ) -> Result<()> {
        let ids: Vec<&str> = items.iter().map(|c| c.id.as_str()).collect();
        let ids = to_json(&ids, "market page")?;
        let tx = self.conn.transaction()?;
        upsert_codes(&tx, items)?;
        tx.execute(
            "INSERT INTO market_pages (query, ids, next_cursor, fetched_at, fetched_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(query) DO UPDATE SET ids = excluded.ids, next_cursor = excluded.next_cursor,
                                              fetched_at = excluded.fetched_at, fetched_ms = excluded.fetched_ms",
            params![page_key(q), ids, next_cursor, now_rfc3339(), now_ms()],
        )?;
        tx.execute(
            "DELETE FROM market_pages WHERE query NOT IN
               (SELECT query FROM market_pages ORDER BY fetched_ms DESC LIMIT ?1)",
            [MAX_PAGES],
        )?;
        tx.execute(
            "DELETE FROM market_codes WHERE id NOT IN
               (SELECT id FROM market_codes ORDER BY seen_ms DESC LIMIT ?1)",
            [MAX_CODES],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Upserts codes seen outside a first page (later pages, a detail view).
    pub fn cache_market_codes(&mut self, items: &[CodeOut]) -> Result<()> {
        let tx = self.conn.transaction()?;
        upsert_codes(&tx, items)?;
        tx.commit()?;
        Ok(())
    }

    /// Applies a code pushed by a live event (`code:created`, `code:finalized`, a refetch after a
    /// sale): upserts it (an older copy never replaces a newer one) and puts it where it now
    /// belongs in every kept first page: added where its filters admit it, in the page's order
    /// (dropped off the end when the page is full and it sorts last), removed where they no
    /// longer do (sold out, finalized). Returns whether any kept page changed.
    pub fn apply_live_code(&mut self, code: &CodeOut) -> Result<bool> {
        let tx = self.conn.transaction()?;
        upsert_codes(&tx, std::slice::from_ref(code))?;
        let Some(stored) = code_in(&tx, &code.id)? else {
            tx.commit()?;
            return Ok(false);
        };
        let pages: Vec<(String, String)> = {
            let mut stmt = tx.prepare_cached("SELECT query, ids FROM market_pages")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut changed = false;
        for (key, ids_json) in pages {
            // A key this version cannot read (written by another version) is left alone.
            let Ok(q) = serde_json::from_str::<BrowseIn>(&key) else {
                continue;
            };
            let ids: Vec<String> = from_json(&ids_json, "market page")?;
            let mut page = Vec::with_capacity(ids.len());
            for id in &ids {
                if let Some(c) = code_in(&tx, id)? {
                    page.push(c);
                }
            }
            let Some(next) = oddxer_sync::market::place_on_page(&q, &page, &stored) else {
                continue;
            };
            let new_ids: Vec<String> = next.into_iter().map(|c| c.id).collect();
            if new_ids != ids {
                tx.execute(
                    "UPDATE market_pages SET ids = ?1 WHERE query = ?2",
                    params![to_json(&new_ids, "market page")?, key],
                )?;
                changed = true;
            }
        }
        tx.commit()?;
        Ok(changed)
    }

    pub fn market_code(&self, id: &str) -> Result<Option<CodeOut>> {
        let json: Option<String> = self
            .conn
            .query_row("SELECT json FROM market_codes WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        json.map(|j| from_json(&j, "market code")).transpose()
    }

    /// The marketplace as this device last saw it. The cached first page of the same query when
    /// there is one; else the cached codes that match the filters, in the requested order. Later
    /// pages are not kept: a cursor gets an empty page.
    pub fn cached_market_page(&self, q: &BrowseIn) -> Result<BrowseOut> {
        let mut out = BrowseOut {
            items: Vec::new(),
            next_cursor: None,
            from_cache: true,
            cached_at: None,
        };
        if q.cursor.is_some() {
            return Ok(out);
        }
        let page: Option<(String, String)> = self
            .conn
            .query_row(
                "SELECT ids, fetched_at FROM market_pages WHERE query = ?1",
                [page_key(q)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((ids, fetched_at)) = page {
            let ids: Vec<String> = from_json(&ids, "market page")?;
            for id in ids {
                if let Some(code) = self.market_code(&id)? {
                    out.items.push(code);
                }
            }
            out.cached_at = Some(fetched_at);
            return Ok(out);
        }
        let mut stmt = self.conn.prepare_cached("SELECT json FROM market_codes")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        for json in rows {
            let code: CodeOut = from_json(&json?, "market code")?;
            if matches(q, &code) {
                out.items.push(code);
            }
        }
        let sort = q.sort.unwrap_or_default();
        out.items.sort_by(|a, b| compare(sort, a, b));
        out.items.truncate(oddxer_sync::market::page_limit(q));
        Ok(out)
    }
}

fn code_in(tx: &Transaction<'_>, id: &str) -> Result<Option<CodeOut>> {
    let json: Option<String> = tx
        .query_row("SELECT json FROM market_codes WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?;
    json.map(|j| from_json(&j, "market code")).transpose()
}

fn upsert_codes(tx: &Transaction<'_>, items: &[CodeOut]) -> Result<()> {
    let seen = now_ms();
    let mut stmt = tx.prepare_cached(
        "INSERT INTO market_codes (id, updated_ms, json, seen_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(id) DO UPDATE SET
             json = CASE WHEN excluded.updated_ms >= market_codes.updated_ms
                         THEN excluded.json ELSE market_codes.json END,
             updated_ms = MAX(excluded.updated_ms, market_codes.updated_ms),
             seen_ms = excluded.seen_ms",
    )?;
    for code in items {
        // Public copy only: the secret and the viewer's own vote never go into this cache.
        let public = CodeOut {
            code: None,
            my_vote: None,
            ..code.clone()
        };
        stmt.execute(params![
            public.id,
            rfc3339_ms(&public.updated_at),
            to_json(&public, "market code")?,
            seen
        ])?;
    }
    Ok(())
}
