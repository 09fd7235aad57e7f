//! A tiny in-process cache of users for the per-request "is this account still active, with
//! which role?" check (`extract::authenticate`).
//!
//! Why: every authenticated request used to re-read its user, one database round trip before any
//! work; the round-trip budgets of DESIGN.md section 9 (vote 4, refresh 3) cannot afford it.
//!
//! What it keeps of the guarantee "a deactivated user is refused even with a valid token":
//! - a user read from the database is trusted for at most `USER_CACHE_TTL` (default and maximum
//!   1 s), so a deactivation or role change made by another process takes effect within a second;
//! - every change made through this process (admin PATCH of role or `isActive`, become-seller,
//!   sign-in promotions) calls `forget`, so it takes effect at once here;
//! - the cache is bounded (`MAX_ENTRIES`); when full, expired entries are dropped, then all.

use super::store::User;
use mongodb::bson::oid::ObjectId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Upper bound of cached users: a second's worth of distinct active users on one process.
const MAX_ENTRIES: usize = 50_000;

/// A user by id with the instant it was read; `None` marks a user forgotten at that instant.
type Entries = HashMap<ObjectId, (Instant, Option<User>)>;

/// Users by id with the instant they were read. Cloning shares the cache.
#[derive(Clone)]
pub struct UserCache {
    ttl: Duration,
    /// `None` marks a user forgotten at that instant: a read that began before it is not cached.
    entries: Arc<Mutex<Entries>>,
}

impl UserCache {
    /// A cache whose entries live `ttl`; `Duration::ZERO` caches nothing.
    pub fn new(ttl: Duration) -> Self {
        UserCache {
            ttl,
            entries: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The user read less than `ttl` ago, if any.
    pub fn get(&self, id: ObjectId) -> Option<User> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().ok()?;
        entries
            .get(&id)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .and_then(|(_, u)| u.clone())
    }

    /// Remembers a user just read from (or written to) the database.
    pub fn put(&self, user: &User) {
        self.put_read_at(user, Instant::now())
    }

    /// Remembers a user whose database read began at `read_at`, unless this process changed (and
    /// forgot) the user after that: a read racing a role change or deactivation must not put the
    /// old user back. The entry ages from `read_at`.
    pub fn put_read_at(&self, user: &User, read_at: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        // A poisoned lock means a panic elsewhere while holding it; caching is optional, skip.
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            entries.retain(|_, (at, _)| at.elapsed() < ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        if let Some((forgotten_at, None)) = entries.get(&user.id) {
            if *forgotten_at >= read_at {
                return;
            }
        }
        entries.insert(user.id, (read_at, Some(user.clone())));
    }

    /// Drops a user after a change of role or activity made by this process (and keeps reads that
    /// began before now from caching the old user).
    pub fn forget(&self, id: ObjectId) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(id, (Instant::now(), None));
        }
    }

    /// Forgets every user (when a deactivation may have been missed).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// Sessions (refresh-token families) ended by logout or reuse detection, as this process heard of
/// them through the hub (on every instance, via Redis): their access tokens are refused at once
/// rather than until they expire. An entry is kept for the access-token lifetime, after which no
/// token of the session can be valid anyway; so the set holds at most the sessions ended within
/// one `JWT_ACCESS_EXPIRY`.
#[derive(Clone)]
pub struct RevokedSessions {
    keep: Duration,
    ended: Arc<Mutex<HashMap<String, Instant>>>,
}

impl RevokedSessions {
    /// Remembers ended sessions for `keep` (the access-token lifetime).
    pub fn new(keep: Duration) -> Self {
        RevokedSessions {
            keep,
            ended: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    pub fn revoke(&self, session: &str) {
        if let Ok(mut ended) = self.ended.lock() {
            let keep = self.keep;
            ended.retain(|_, at| at.elapsed() < keep);
            ended.insert(session.to_owned(), Instant::now());
        }
    }

    pub fn is_revoked(&self, session: &str) -> bool {
        self.ended
            .lock()
            .map(|ended| {
                ended
                    .get(session)
                    .is_some_and(|at| at.elapsed() < self.keep)
            })
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oddxer_shared::Role;

    fn user() -> User {
        User {
            id: ObjectId::new(),
            phone_number: "+256700000009".into(),
            username: "someone".into(),
            role: Role::Buyer,
            is_verified: true,
            is_active: true,
            created_at: mongodb::bson::DateTime::now(),
        }
    }

    #[test]
    fn a_cached_user_is_served_until_the_ttl_or_until_forgotten() {
        let cache = UserCache::new(Duration::from_millis(200));
        let u = user();
        assert!(cache.get(u.id).is_none());
        cache.put(&u);
        assert_eq!(cache.get(u.id).map(|c| c.id), Some(u.id));
        cache.forget(u.id);
        assert!(cache.get(u.id).is_none());
        cache.put(&u);
        std::thread::sleep(Duration::from_millis(250));
        assert!(cache.get(u.id).is_none(), "served after its TTL");
    }

    #[test]
    fn a_read_that_began_before_a_change_does_not_put_the_old_user_back() {
        let cache = UserCache::new(Duration::from_secs(1));
        let u = user();
        let read_at = Instant::now();
        // The role changes (and the user is forgotten) while that read is in flight.
        std::thread::sleep(Duration::from_millis(2));
        cache.forget(u.id);
        cache.put_read_at(&u, read_at);
        assert!(
            cache.get(u.id).is_none(),
            "a stale read was cached after the change"
        );
        // A read that began after the change is cached.
        cache.put(&u);
        assert!(cache.get(u.id).is_some());
    }

    #[test]
    fn a_zero_ttl_caches_nothing() {
        let cache = UserCache::new(Duration::ZERO);
        let u = user();
        cache.put(&u);
        assert!(cache.get(u.id).is_none());
    }

    #[test]
    fn an_ended_session_is_refused_for_the_access_token_lifetime_only() {
        let sessions = RevokedSessions::new(Duration::from_millis(50));
        sessions.revoke("family-1");
        assert!(sessions.is_revoked("family-1"));
        assert!(!sessions.is_revoked("family-2"));
        std::thread::sleep(Duration::from_millis(60));
        assert!(
            !sessions.is_revoked("family-1"),
            "no token of it is valid any more: forgotten"
        );
    }
}
