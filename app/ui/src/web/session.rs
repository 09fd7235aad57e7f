//! The web session: the access token in memory only; the refresh token never reaches
//! JavaScript. The backend keeps it in an `HttpOnly; SameSite=Strict` cookie scoped to
//! `/api/v1/auth` when a request says `X-Session-Transport: cookie` (verify-otp and refresh), so
//! a refresh is `POST /auth/refresh {}` and the browser adds the cookie itself.

use std::cell::RefCell;
use std::rc::Rc;

use futures_util::lock::Mutex;
use js_sys::{Function, Promise};
use oddxer_shared::api::UserOut;
use serde::Deserialize;
use wasm_bindgen::prelude::*;

use super::error::{Result, WebError};
use super::http::Call;

/// The header that asks the backend to keep the refresh token in its cookie.
pub const TRANSPORT_HEADER: &str = "X-Session-Transport";

/// An access token and the generation it was issued in: a caller that got a 401 passes the
/// generation back to [`refresh`], which then knows whether someone else already refreshed.
#[derive(Clone)]
pub struct AccessToken {
    pub generation: u64,
    pub token: String,
}

/// `verify-otp` and `refresh` over the cookie transport: no `refreshToken` in the body.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebTokens {
    pub access_token: String,
    #[serde(default)]
    pub user: Option<UserOut>,
}

#[derive(Default)]
struct State {
    generation: u64,
    access: Option<String>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::default();
    /// Serialises refreshes: refresh tokens are single-use with reuse detection, so two
    /// concurrent refreshes with the same cookie would get the whole session revoked.
    static REFRESH_LOCK: Rc<Mutex<()>> = Rc::new(Mutex::new(()));
}

pub fn access() -> Option<AccessToken> {
    STATE.with(|s| {
        let s = s.borrow();
        s.access.as_ref().map(|t| AccessToken {
            generation: s.generation,
            token: t.clone(),
        })
    })
}

pub fn set_access(token: String) -> AccessToken {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.generation += 1;
        s.access = Some(token.clone());
        AccessToken {
            generation: s.generation,
            token,
        }
    })
}

pub fn clear() {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.generation += 1;
        s.access = None;
    });
}

/// Signed in now, or a user is cached (whose cookie may still be good).
pub fn has_session() -> bool {
    access().is_some() || super::cached_user().is_some()
}

#[wasm_bindgen]
extern "C" {
    /// The Web Locks API (`navigator.locks.request(name, callback)`): secure contexts only.
    #[wasm_bindgen(js_namespace = ["navigator", "locks"], js_name = request, catch)]
    fn locks_request(name: &str, callback: &JsValue) -> Result<Promise, JsValue>;
}

/// Holds the origin-wide refresh lock until dropped.
struct TabsLock(Rc<RefCell<Option<Function>>>);

impl Drop for TabsLock {
    fn drop(&mut self) {
        if let Some(release) = self.0.borrow_mut().take() {
            // Resolving the callback's promise releases the lock; it cannot fail.
            let _ = release.call0(&JsValue::NULL);
        }
    }
}

/// Waits for the lock every tab of this origin takes around a refresh: tabs share one cookie,
/// and two tabs spending it at once would look like token theft to the backend (reuse
/// detection revokes the whole session). `None` where the Web Locks API is missing (plain http
/// other than localhost): then only this tab's refreshes are serialised.
async fn lock_all_tabs() -> Option<TabsLock> {
    let release: Rc<RefCell<Option<Function>>> = Rc::default();
    let slot = release.clone();
    let (granted_tx, granted_rx) = futures_channel::oneshot::channel::<()>();
    let callback = Closure::once_into_js(move |_lock: JsValue| -> Promise {
        let held = Promise::new(&mut |resolve, _reject| {
            *slot.borrow_mut() = Some(resolve);
        });
        // The waiting side may be gone (its task dropped): the lock is then released at once.
        if granted_tx.send(()).is_err() {
            if let Some(r) = slot.borrow_mut().take() {
                let _ = r.call0(&JsValue::NULL);
            }
        }
        held
    });
    // Its promise settles when the lock is released; nothing to wait for there.
    let _settled = locks_request("oddxer-session-refresh", &callback).ok()?;
    granted_rx.await.ok()?;
    Some(TabsLock(release))
}

/// The current access token, refreshing (cookie) when there is none.
pub async fn access_token() -> Result<AccessToken> {
    match access() {
        Some(t) => Ok(t),
        None => refresh(None).await,
    }
}

/// Trades the refresh cookie for a new access token (the cookie is rotated by the answer).
/// `seen` is the generation the caller found wanting; if another task refreshed meanwhile, its
/// token is answered instead of spending the cookie twice. A refused cookie ends the session
/// (`Unauthenticated`).
pub async fn refresh(seen: Option<u64>) -> Result<AccessToken> {
    let lock = REFRESH_LOCK.with(Rc::clone);
    let _one_at_a_time = lock.lock().await;
    let _all_tabs = lock_all_tabs().await;
    if let Some(current) = access() {
        if seen != Some(current.generation) {
            return Ok(current);
        }
    }
    let answer: Result<WebTokens> = Call::post("/auth/refresh")
        .header(TRANSPORT_HEADER, "cookie")
        .json(&serde_json::json!({}))
        .fetch_anonymous()
        .await;
    match answer {
        Ok(tokens) => {
            if let Some(user) = &tokens.user {
                super::adopt_user(user);
            }
            Ok(set_access(tokens.access_token))
        }
        // No cookie, an expired or revoked one: sign in again.
        Err(WebError::Api {
            status: 400 | 401 | 403 | 422,
            ..
        }) => {
            super::session_expired();
            Err(WebError::Unauthenticated)
        }
        Err(e) => Err(e),
    }
}
