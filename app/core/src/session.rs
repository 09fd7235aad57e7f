//! The session's in-memory half: the short-lived access token. The refresh token lives in the
//! `SecretStore`; this module never writes either token to a log.

use std::sync::{Mutex, PoisonError};

/// An access token and the generation it was issued in. A caller that got a 401 passes the
/// generation back to `refresh`, which then knows whether someone else already refreshed.
#[derive(Clone)]
pub(crate) struct AccessToken {
    pub(crate) generation: u64,
    pub(crate) token: String,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

/// When to renew an access token on an open socket: the rule shared with the browser core.
pub(crate) use oddxer_sync::renew_after;

#[derive(Default)]
pub(crate) struct Session {
    state: Mutex<State>,
    /// Serialises refreshes: refresh tokens are single-use with reuse detection, so two
    /// concurrent refreshes with the same token would get the whole session revoked.
    pub(crate) refresh_lock: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct State {
    generation: u64,
    access: Option<String>,
}

impl Session {
    pub(crate) fn access(&self) -> Option<AccessToken> {
        let st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        st.access.as_ref().map(|t| AccessToken {
            generation: st.generation,
            token: t.clone(),
        })
    }

    #[cfg(test)]
    pub(crate) fn generation(&self) -> u64 {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .generation
    }

    pub(crate) fn set_access(&self, token: String) -> AccessToken {
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        st.generation += 1;
        st.access = Some(token.clone());
        AccessToken {
            generation: st.generation,
            token,
        }
    }

    pub(crate) fn clear(&self) {
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        st.generation += 1;
        st.access = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_change_bumps_the_generation() {
        let s = Session::default();
        assert!(s.access().is_none());
        let a = s.set_access("t1".into());
        let b = s.set_access("t2".into());
        assert!(b.generation > a.generation);
        s.clear();
        assert!(s.generation() > b.generation);
        assert!(s.access().is_none());
    }

    #[test]
    fn tokens_are_renewed_before_they_expire() {
        use crate::testutil::fake_jwt;
        use std::time::Duration;
        let now = 1_800_000_000;
        // A fresh 15-minute token: a minute before expiry.
        assert_eq!(
            renew_after(&fake_jwt(now, now + 900), now),
            Some(Duration::from_secs(840))
        );
        // Ten minutes into its life: four minutes from now.
        assert_eq!(
            renew_after(&fake_jwt(now - 600, now + 300), now),
            Some(Duration::from_secs(240))
        );
        // A 3-second token (tests): a second before expiry.
        assert_eq!(
            renew_after(&fake_jwt(now, now + 3), now),
            Some(Duration::from_secs(2))
        );
        // Already expired: at once.
        assert_eq!(
            renew_after(&fake_jwt(now - 900, now - 1), now),
            Some(Duration::ZERO)
        );
        // A client clock an hour behind never waits longer than the token lives.
        assert_eq!(
            renew_after(&fake_jwt(now, now + 900), now - 3600),
            Some(Duration::from_secs(840))
        );
        // Not a JWT: no schedule (the server's TOKEN_EXPIRED still leads to a refresh).
        assert_eq!(renew_after("access-1", now), None);
    }

    #[test]
    fn debug_output_never_shows_the_token() {
        let s = Session::default();
        let t = s.set_access("secret-token".into());
        assert!(!format!("{t:?}").contains("secret-token"));
    }
}
