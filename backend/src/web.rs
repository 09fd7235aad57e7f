//! The web app (DESIGN.md section 7): the built UI (`WEB_DIST`, by default `app/ui/dist`, written by
//! `scripts/build-ui.sh`) served at `/` beside the API, so a browser on any device opens Oddxer
//! from the backend's own address.
//!
//! - Files come from tower-http's `ServeDir` (content types by extension: `.wasm` is
//!   `application/wasm`, `.webmanifest` `application/manifest+json`; `Last-Modified` and 304s).
//! - A path without a file extension that names no file is a deep link into the single-page app
//!   (`/codes/6650...`): it gets `index.html`, and the UI's router takes it from there. A missing
//!   path *with* an extension is a plain 404, so a stale script name never receives HTML.
//! - `/api/...` never reaches this module: unknown API paths keep the JSON error envelope.
//! - Cache: the build puts the wasm, its JS glue and the stylesheet in a content-addressed folder
//!   (`/bundle-<hash>/`), cached for a year as immutable; everything else (`index.html`,
//!   `bootstrap.js`, `sw.js`, the manifest, icons) is `no-cache`, i.e. revalidated on each use, so
//!   a new build is picked up at the next load.
//! - The page's Content-Security-Policy admits exactly what the app does: its own scripts plus
//!   wasm compilation (`'wasm-unsafe-eval'`), its own styles plus `style` attributes (the UI sets
//!   a progress bar's width that way), its own images and `data:` ones, fetch and the WebSocket to
//!   the serving host only, its own manifest and service worker; no plugins, frames or forms
//!   elsewhere.

use crate::error::error_response;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use std::path::{Path, PathBuf};
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// Prefix of the content-addressed folder the build writes (`bundle-<16 hex digits>`).
pub const BUNDLE_PREFIX: &str = "bundle-";
/// `Cache-Control` of files in the content-addressed folder: their name changes with their content.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of everything else the web app serves: revalidate before each use.
pub const REVALIDATE: &str = "no-cache";

/// The UI files the backend serves, resolved once at startup.
#[derive(Debug, Clone)]
pub struct WebApp {
    dir: PathBuf,
    index: PathBuf,
}

impl WebApp {
    /// Finds the built UI: `WEB_DIST` when set (`off` turns the web app off), else `app/ui/dist`
    /// under the current folder, else the one of the source tree this binary was built from.
    /// `None`, with a log line saying why and how to fix it, when there is none: the API still runs.
    pub fn locate(configured: Option<&str>) -> Option<WebApp> {
        let candidates: Vec<PathBuf> = match configured {
            Some(off) if off.eq_ignore_ascii_case("off") => {
                tracing::info!("WEB_DIST=off: the web app is not served");
                return None;
            }
            Some(dir) => vec![PathBuf::from(dir)],
            None => vec![
                PathBuf::from("app/ui/dist"),
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/ui/dist"),
            ],
        };
        for dir in &candidates {
            let index = dir.join("index.html");
            if index.is_file() {
                let dir = dir.canonicalize().unwrap_or_else(|_| dir.clone());
                tracing::info!(dir = %dir.display(), "serving the web app at /");
                return Some(WebApp {
                    index: dir.join("index.html"),
                    dir,
                });
            }
        }
        let tried: Vec<String> = candidates.iter().map(|d| d.display().to_string()).collect();
        tracing::warn!(
            "no web app to serve at / (no index.html in {}): build it with `bash scripts/build-ui.sh` or set WEB_DIST; the API is unaffected",
            tried.join(", ")
        );
        None
    }

    /// Serves `req` (a GET or HEAD outside `/api`) from the built UI, with the cache and
    /// security headers of the module comment.
    pub async fn serve(&self, req: Request) -> Response {
        let path = req.uri().path().to_owned();
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned);
        let served = ServeDir::new(&self.dir)
            .append_index_html_on_directories(true)
            .oneshot(req)
            .await;
        let mut response = match served {
            Ok(r) if r.status() == StatusCode::NOT_FOUND && is_app_route(&path) => {
                match self.index_page().await {
                    Ok(page) => page,
                    Err(response) => response,
                }
            }
            Ok(r) => r.map(axum::body::Body::new),
            Err(never) => match never {},
        };
        let cache = if is_hashed(&path) && response.status().is_success() {
            IMMUTABLE
        } else {
            REVALIDATE
        };
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        if let Ok(csp) = HeaderValue::from_str(&content_security_policy(host.as_deref())) {
            headers.insert(header::CONTENT_SECURITY_POLICY, csp);
        }
        response
    }

    /// `index.html` for a deep link (status 200: the app shows the screen, or its own not-found).
    async fn index_page(&self) -> Result<Response, Response> {
        match tokio::fs::read(&self.index).await {
            Ok(bytes) => {
                Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], bytes).into_response())
            }
            Err(e) => {
                tracing::error!(error = %e, file = %self.index.display(), "the web app's index.html cannot be read");
                Err(error_response(
                    StatusCode::NOT_FOUND,
                    "NOT_FOUND",
                    "No such page".into(),
                    None,
                ))
            }
        }
    }
}

/// Whether a request is for the web app rather than the API: a GET or HEAD outside `/api`.
pub fn is_web_request(method: &Method, path: &str) -> bool {
    (method == Method::GET || method == Method::HEAD)
        && path != "/api"
        && !path.starts_with("/api/")
}

/// The origin (`scheme://host[:port]`) of a URL such as `API_URL`, as a browser sends it in `Origin`.
pub fn origin_of(url: &str) -> Option<String> {
    reqwest::Url::parse(url)
        .ok()
        .map(|u| u.origin().ascii_serialization())
        .filter(|o| o != "null")
}

/// The browser origins allowed to call the API and open its socket: `SOCKET_CORS_ORIGIN`, plus the
/// origin of `API_URL`, whose web app this backend serves.
pub fn allowed_origins(config: &crate::config::Config) -> Vec<String> {
    config
        .cors_origins
        .iter()
        .cloned()
        .chain(origin_of(&config.api_url))
        .collect()
}

/// Whether `origin` (`scheme://host[:port]`, as a browser sends it) names `host` (the request's
/// `Host` header): a page this backend served itself, at whatever address it was opened.
pub fn is_same_origin(origin: &str, host: Option<&str>) -> bool {
    host.is_some_and(|host| {
        origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
    })
}

/// A path the single-page app routes itself: its last segment has no file extension.
fn is_app_route(path: &str) -> bool {
    !path.rsplit('/').next().unwrap_or("").contains('.')
}

/// A file in the build's content-addressed folder (`/bundle-<hex>/...`).
fn is_hashed(path: &str) -> bool {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    path.trim_start_matches('/').contains('/')
        && first
            .strip_prefix(BUNDLE_PREFIX)
            .is_some_and(|hash| hash.len() >= 8 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The web app's Content-Security-Policy. `connect-src` names the WebSocket on the serving host
/// explicitly (`ws:`/`wss:` of the request's `Host`), because older Safari does not count a socket
/// to the same host as `'self'`; a `Host` that is not a plain `host[:port]` is left out rather than
/// copied into the header.
pub fn content_security_policy(host: Option<&str>) -> String {
    let sockets = host
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .map(|h| format!(" ws://{h} wss://{h}"))
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'{sockets}; manifest-src 'self'; worker-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_served_here_names_the_host_it_was_opened_at() {
        assert!(is_same_origin(
            "http://192.168.1.20:8080",
            Some("192.168.1.20:8080")
        ));
        assert!(is_same_origin("https://App.Example", Some("app.example")));
        assert!(!is_same_origin("https://evil.example", Some("app.example")));
        assert!(!is_same_origin(
            "http://app.example:81",
            Some("app.example")
        ));
        assert!(!is_same_origin("null", Some("app.example")));
        assert!(!is_same_origin("http://app.example", None));
    }

    #[test]
    fn api_paths_and_writes_are_not_web_requests() {
        assert!(is_web_request(&Method::GET, "/"));
        assert!(is_web_request(&Method::HEAD, "/codes/abc"));
        assert!(is_web_request(&Method::GET, "/apiary"));
        assert!(!is_web_request(&Method::GET, "/api"));
        assert!(!is_web_request(&Method::GET, "/api/v1/nope"));
        assert!(!is_web_request(&Method::POST, "/"));
    }

    #[test]
    fn only_the_content_addressed_folder_is_immutable() {
        assert!(is_hashed("/bundle-0123abcd4567ef89/oddxer_ui_bg.wasm"));
        assert!(!is_hashed("/bundle-0123abcd4567ef89"));
        assert!(!is_hashed("/bundle-nothex00/oddxer_ui.js"));
        assert!(!is_hashed("/index.html"));
        assert!(!is_hashed("/sw.js"));
    }

    #[test]
    fn the_origin_of_the_api_url_is_what_a_browser_sends() {
        assert_eq!(
            origin_of("http://127.0.0.1:6793").as_deref(),
            Some("http://127.0.0.1:6793")
        );
        assert_eq!(
            origin_of("https://oddxer.example/base/").as_deref(),
            Some("https://oddxer.example")
        );
        assert_eq!(origin_of("not a url"), None);
    }

    #[test]
    fn deep_links_are_app_routes_and_files_are_not() {
        assert!(is_app_route("/"));
        assert!(is_app_route("/codes/6650a1b2c3d4e5f6a7b8c9d0"));
        assert!(!is_app_route("/bundle-0123abcd/missing.js"));
    }

    #[test]
    fn the_policy_names_the_socket_of_a_plain_host_only() {
        let csp = content_security_policy(Some("192.168.1.20:6793"));
        assert!(
            csp.contains("connect-src 'self' ws://192.168.1.20:6793 wss://192.168.1.20:6793;"),
            "{csp}"
        );
        assert!(csp.contains("'wasm-unsafe-eval'") && csp.contains("frame-ancestors 'none'"));
        let forged = content_security_policy(Some("x; script-src *"));
        assert!(
            forged.contains("connect-src 'self';") && !forged.contains("script-src *"),
            "{forged}"
        );
    }
}
