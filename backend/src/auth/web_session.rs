//! Sessions of the web app (DESIGN.md section 7, issue 12): the refresh token lives in an HttpOnly
//! cookie that scripts cannot read, the access token in the page's memory. The desktop and mobile
//! apps keep sending the refresh token in the body (it sits in the OS keyring); rotation and reuse
//! detection are the same code for both (`service::refresh`).
//!
//! A request asks for the cookie transport with `X-Session-Transport: cookie` on
//! `/auth/verify-otp` and `/auth/refresh`: the answer then carries no `refreshToken` in its body and
//! sets `oddxer_refresh=<token>; HttpOnly; SameSite=Strict; Path=/api/v1/auth; Max-Age=<refresh
//! expiry in s>` (plus `Secure` over https). `/auth/refresh` and `/auth/logout` without a
//! `refreshToken` in the body read the cookie; logout clears it (`Max-Age=0`).
//!
//! `SameSite=Strict` and the path keep the cookie off every cross-site request and off every route
//! but the three above, so a page elsewhere cannot spend it, and no other route ever sees it.

use crate::error::AppError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use cookie::{Cookie, SameSite};

/// The cookie's name.
pub const COOKIE: &str = "oddxer_refresh";
/// The request header that asks for the cookie transport, and its one accepted value.
pub const TRANSPORT_HEADER: &str = "x-session-transport";
pub const TRANSPORT_COOKIE: &str = "cookie";
/// The routes that read or set the cookie share this path prefix; no other route receives it.
pub const COOKIE_PATH: &str = "/api/v1/auth";

/// How a request's session travels, read from its headers.
#[derive(Debug, Clone)]
pub struct SessionTransport {
    /// `X-Session-Transport: cookie` was sent.
    pub cookie_requested: bool,
    /// The `oddxer_refresh` cookie, when the request carries one.
    pub cookie: Option<String>,
    /// The request carries an `oddxer_refresh` cookie this server cannot have set (a character
    /// no refresh token has): refused where the cookie is read, never taken as "no cookie".
    pub bad_cookie: bool,
    /// The request reached us over https (directly, or as a `TRUSTED_PROXIES` peer says).
    pub https: bool,
}

impl FromRequestParts<AppState> for SessionTransport {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let cookie_requested = match parts.headers.get(TRANSPORT_HEADER).map(|v| v.to_str()) {
            None => false,
            Some(Ok(v)) if v.trim().eq_ignore_ascii_case(TRANSPORT_COOKIE) => true,
            Some(_) => {
                return Err(AppError::validation(
                    "X-Session-Transport must be `cookie` (or absent for a token in the body)",
                    "X-Session-Transport",
                    "cookie",
                ))
            }
        };
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        let forwarded_https = peer.is_some_and(|peer| state.config.trusted_proxies.trusts(peer))
            && parts
                .headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                // A chain of proxies appends: the first entry is what the client used.
                .and_then(|v| v.split(',').next())
                .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
        let (cookie, bad_cookie) = match refresh_cookie(&parts.headers) {
            Ok(cookie) => (cookie, false),
            Err(NotOurs) => (None, true),
        };
        Ok(SessionTransport {
            cookie_requested,
            cookie,
            bad_cookie,
            https: forwarded_https || parts.uri.scheme_str() == Some("https"),
        })
    }
}

impl SessionTransport {
    /// Whether the cookie gets `Secure`: `COOKIE_SECURE` when set, else when the request came over
    /// https or the configured `API_URL` is https (a browser drops a `Secure` cookie set over http).
    pub fn secure(&self, state: &AppState) -> bool {
        state
            .config
            .cookie_secure
            .unwrap_or_else(|| self.https || state.config.api_url.starts_with("https://"))
    }

    /// `Set-Cookie` carrying a refresh token, alive as long as the token.
    pub fn set_cookie(&self, state: &AppState, token: &str) -> Option<HeaderValue> {
        let max_age = i64::try_from(state.config.jwt_refresh_expiry.as_secs()).unwrap_or(i64::MAX);
        build(token.to_owned(), max_age, self.secure(state))
    }

    /// `Set-Cookie` that deletes the cookie (`Max-Age=0`, empty value).
    pub fn clear_cookie(&self, state: &AppState) -> Option<HeaderValue> {
        build(String::new(), 0, self.secure(state))
    }
}

fn build(value: String, max_age_secs: i64, secure: bool) -> Option<HeaderValue> {
    let cookie = Cookie::build((COOKIE, value))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path(COOKIE_PATH)
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .secure(secure)
        .build();
    // A refresh token is URL-safe text; a value a header cannot hold would be a bug, logged.
    HeaderValue::from_str(&cookie.to_string())
        .map_err(|e| tracing::error!(error = %e, "session cookie is not a valid header value"))
        .ok()
}

/// An `oddxer_refresh` cookie whose value no refresh token has.
#[derive(Debug, PartialEq, Eq)]
pub struct NotOurs;

/// The `oddxer_refresh` cookie of a request (the last one, if a client sent several), if any and
/// not empty (a cleared cookie is no cookie). A value with a character a refresh token never has
/// (they are `[A-Za-z0-9._-]`, `auth::refresh`), or in a `Cookie` header that is not even text, is
/// `NotOurs`.
pub fn refresh_cookie(headers: &HeaderMap) -> Result<Option<String>, NotOurs> {
    let mut found = None;
    for raw in headers.get_all(header::COOKIE) {
        let Ok(text) = raw.to_str() else {
            if raw
                .as_bytes()
                .windows(COOKIE.len() + 1)
                .any(|w| w.starts_with(COOKIE.as_bytes()) && w.ends_with(b"="))
            {
                return Err(NotOurs);
            }
            continue;
        };
        for cookie in Cookie::split_parse(text)
            .filter_map(Result::ok)
            .filter(|c| c.name() == COOKIE)
        {
            let value = cookie.value();
            if value.len() > 200
                || !value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            {
                return Err(NotOurs);
            }
            found = (!value.is_empty()).then(|| value.to_owned());
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_http_only_strict_and_scoped_to_the_auth_routes() {
        let v = build("abc.def".into(), 604_800, false).expect("header");
        let text = v.to_str().expect("ascii");
        for part in [
            "oddxer_refresh=abc.def",
            "HttpOnly",
            "SameSite=Strict",
            "Path=/api/v1/auth",
            "Max-Age=604800",
        ] {
            assert!(text.contains(part), "{text} lacks {part}");
        }
        assert!(!text.contains("Secure"), "{text}");
        assert!(build("x".into(), 1, true)
            .expect("header")
            .to_str()
            .expect("ascii")
            .contains("Secure"));
        assert!(build(String::new(), 0, false)
            .expect("header")
            .to_str()
            .expect("ascii")
            .contains("Max-Age=0"));
    }

    #[test]
    fn the_refresh_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; oddxer_refresh=ab12.3.x_Y-z; other=1"),
        );
        assert_eq!(refresh_cookie(&h), Ok(Some("ab12.3.x_Y-z".to_owned())));
        h.insert(header::COOKIE, HeaderValue::from_static("oddxer_refresh="));
        assert_eq!(refresh_cookie(&h), Ok(None));
        assert_eq!(refresh_cookie(&HeaderMap::new()), Ok(None));
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("oddxer_refresh=a%20b"),
        );
        assert_eq!(refresh_cookie(&h), Err(NotOurs));
        h.insert(
            header::COOKIE,
            HeaderValue::from_bytes(b"oddxer_refresh=\xc2\x84").expect("obs-text is allowed"),
        );
        assert_eq!(refresh_cookie(&h), Err(NotOurs));
        h.insert(
            header::COOKIE,
            HeaderValue::from_bytes(b"theme=\xc2\x84").expect("obs-text is allowed"),
        );
        assert_eq!(
            refresh_cookie(&h),
            Ok(None),
            "someone else's cookie is not ours to judge"
        );
    }
}
