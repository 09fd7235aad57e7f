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
    fn debug_output_never_shows_the_token() {
        let s = Session::default();
        let t = s.set_access("secret-token".into());
        assert!(!format!("{t:?}").contains("secret-token"));
    }
}
