//! Tipster profiles as last seen, so a profile opened once still reads offline (like the
//! marketplace's first pages). One row per seller, replaced whole by each live answer; the
//! `following` flag in it belongs to the signed-in user, so sign-out wipes the table.

use oddxer_shared::client::SellerProfileView;
use rusqlite::{params, OptionalExtension};

use super::{from_json, now_ms, now_rfc3339, to_json, Store};
use crate::error::Result;

/// Profiles kept; the least recently fetched go first.
const MAX_PROFILES: i64 = 200;

impl Store {
    /// Keeps `view` (a live answer) as the seller's profile.
    pub fn cache_seller_profile(&mut self, view: &SellerProfileView) -> Result<()> {
        let json = to_json(view, "seller profile")?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO seller_profiles (seller_id, json, fetched_at, fetched_ms)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(seller_id) DO UPDATE SET json = excluded.json,
                 fetched_at = excluded.fetched_at, fetched_ms = excluded.fetched_ms",
            params![view.profile.id, json, now_rfc3339(), now_ms()],
        )?;
        tx.execute(
            "DELETE FROM seller_profiles WHERE seller_id NOT IN
               (SELECT seller_id FROM seller_profiles ORDER BY fetched_ms DESC LIMIT ?1)",
            [MAX_PROFILES],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The kept profile of `seller_id`, marked `fromCache` with when it was fetched.
    pub fn cached_seller_profile(&self, seller_id: &str) -> Result<Option<SellerProfileView>> {
        let row: Option<(String, String)> = self
            .conn
            .query_row(
                "SELECT json, fetched_at FROM seller_profiles WHERE seller_id = ?1",
                [seller_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        row.map(|(json, fetched_at)| {
            let mut view: SellerProfileView = from_json(&json, "seller profile")?;
            view.from_cache = true;
            view.cached_at = Some(fetched_at);
            Ok(view)
        })
        .transpose()
    }

    /// After a follow or unfollow: the kept profile shows the new state offline too.
    /// False when the seller's profile is not kept.
    pub fn set_cached_following(
        &mut self,
        seller_id: &str,
        following: bool,
        followers: i64,
    ) -> Result<bool> {
        let Some(mut view) = self.cached_seller_profile(seller_id)? else {
            return Ok(false);
        };
        view.profile.following = following;
        view.profile.followers = followers;
        view.from_cache = false;
        view.cached_at = None;
        let json = to_json(&view, "seller profile")?;
        let n = self.conn.execute(
            "UPDATE seller_profiles SET json = ?2 WHERE seller_id = ?1",
            params![seller_id, json],
        )?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{seller_profile_view as view, user, TempDir};

    #[test]
    fn a_profile_seen_once_reads_back_from_the_device_after_a_restart() {
        let dir = TempDir::new("store-profiles");
        let path = dir.path().join("db.sqlite3");
        let mut s = Store::open(&path).unwrap();
        assert_eq!(s.cached_seller_profile("s1").unwrap(), None);
        s.cache_seller_profile(&view("s1")).unwrap();
        drop(s);

        let mut s = Store::open(&path).unwrap();
        let kept = s.cached_seller_profile("s1").unwrap().unwrap();
        assert!(kept.from_cache);
        assert!(kept.cached_at.is_some());
        assert_eq!(kept.profile.stats.profit_units, 10.45);
        assert_eq!(kept.record[0].code.as_deref(), Some("BW-12345"));
        assert_eq!(kept.performance.len(), 1);

        assert!(s.set_cached_following("s1", true, 3).unwrap());
        let kept = s.cached_seller_profile("s1").unwrap().unwrap();
        assert!(kept.profile.following);
        assert_eq!(kept.profile.followers, 3);
        assert!(!s.set_cached_following("nobody", true, 1).unwrap());
    }

    #[test]
    fn sign_out_forgets_kept_profiles() {
        let mut s = Store::open_in_memory().unwrap();
        s.set_user(&user("u1")).unwrap();
        s.cache_seller_profile(&view("s1")).unwrap();
        s.clear_session().unwrap();
        assert_eq!(s.cached_seller_profile("s1").unwrap(), None);
    }
}
