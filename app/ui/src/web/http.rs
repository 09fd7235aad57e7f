//! `fetch` against the page's own origin's `/api/v1`: one request helper ([`Call`]) that unwraps
//! the envelope, adds the access token when asked, and refreshes it once on a 401.

use gloo_net::http::{Method, RequestBuilder};
use oddxer_shared::api::ErrorEnvelope;
use oddxer_shared::client::CommandError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use web_sys::{AbortSignal, RequestCredentials};

use super::error::{Result, WebError};
use super::session;

/// A request taking longer than this counts as "the server cannot be reached".
const REQUEST_TIMEOUT_MS: u32 = 20_000;

/// The `data` of a success envelope; a missing `data` (e.g. logout) reads as `null`.
#[derive(Deserialize)]
struct Data<T> {
    data: T,
}

/// Whether a call carries the access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    /// Anonymous.
    None,
    /// Signed in, refreshing the token once on a 401.
    Required,
    /// Signed in when there is a session (a code's secret for its buyers), else anonymous.
    Optional,
}

/// One `/api/v1` request, built like `Call::get("/codes").query(&filters).send().await`.
#[must_use]
pub struct Call {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    body: Option<std::result::Result<String, serde_json::Error>>,
    auth: Auth,
    headers: Vec<(&'static str, String)>,
}

impl Call {
    fn new(method: Method, path: &str) -> Self {
        Call {
            method,
            path: path.to_owned(),
            query: Vec::new(),
            body: None,
            auth: Auth::None,
            headers: Vec::new(),
        }
    }

    pub fn get(path: &str) -> Self {
        Self::new(Method::GET, path)
    }

    pub fn post(path: &str) -> Self {
        Self::new(Method::POST, path)
    }

    pub fn put(path: &str) -> Self {
        Self::new(Method::PUT, path)
    }

    pub fn patch(path: &str) -> Self {
        Self::new(Method::PATCH, path)
    }

    pub fn delete(path: &str) -> Self {
        Self::new(Method::DELETE, path)
    }

    /// The query string from a struct's fields (camelCase, `None` left out), as reqwest's
    /// `.query()` writes it natively.
    pub fn query<Q: Serialize>(mut self, q: &Q) -> Self {
        if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(q) {
            for (name, value) in fields {
                let text = match value {
                    serde_json::Value::Null => continue,
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                self.query.push((name, text));
            }
        }
        self
    }

    /// A JSON body.
    pub fn json<B: Serialize>(mut self, body: &B) -> Self {
        self.body = Some(serde_json::to_string(body));
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Sent with the access token (refreshed once on a 401).
    pub fn signed_in(mut self) -> Self {
        self.auth = Auth::Required;
        self
    }

    /// With the access token when signed in, else anonymous.
    pub fn maybe_signed_in(mut self) -> Self {
        self.auth = Auth::Optional;
        self
    }

    /// Sends it and unwraps `data`, as the screens want it.
    pub async fn send<T: DeserializeOwned>(self) -> std::result::Result<T, CommandError> {
        self.fetch().await.map_err(CommandError::from)
    }

    /// Sends it and unwraps `data`, keeping the web core's error for the caller to judge.
    pub async fn fetch<T: DeserializeOwned>(&self) -> Result<T> {
        let text = match self.auth {
            Auth::None => self.send_with(None).await?,
            Auth::Required => self.send_authed().await?,
            Auth::Optional if session::has_session() => match self.send_authed().await {
                Err(WebError::Unauthenticated) => self.send_with(None).await?,
                other => other?,
            },
            Auth::Optional => self.send_with(None).await?,
        };
        unwrap_data(&text)
    }

    /// Sends it without any token, whatever was asked (the refresh call itself).
    pub async fn fetch_anonymous<T: DeserializeOwned>(&self) -> Result<T> {
        unwrap_data(&self.send_with(None).await?)
    }

    async fn send_authed(&self) -> Result<String> {
        let token = session::access_token().await?;
        match self.send_with(Some(&token.token)).await {
            Err(WebError::Api { status: 401, .. }) => {
                let token = session::refresh(Some(token.generation)).await?;
                self.send_with(Some(&token.token)).await
            }
            other => other,
        }
    }

    /// One `fetch`: the success body's text, or the error it stands for.
    async fn send_with(&self, access: Option<&str>) -> Result<String> {
        let mut rb = RequestBuilder::new(&format!("{}{}", api_base(), self.path))
            .method(self.method.clone())
            // Same origin only: the refresh cookie goes where it belongs and nowhere else.
            .credentials(RequestCredentials::SameOrigin)
            .abort_signal(Some(&AbortSignal::timeout_with_u32(REQUEST_TIMEOUT_MS)));
        if !self.query.is_empty() {
            rb = rb.query(self.query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        for (name, value) in &self.headers {
            rb = rb.header(name, value);
        }
        if let Some(token) = access {
            rb = rb.header("Authorization", &format!("Bearer {token}"));
        }
        let request = match &self.body {
            Some(Ok(json)) => rb
                .header("Content-Type", "application/json")
                .body(json.as_str()),
            Some(Err(_)) => return Err(WebError::InvalidInput("the request could not be encoded")),
            None => rb.build(),
        }
        .map_err(|e| WebError::Offline(e.to_string()))?;
        // A rejected fetch is a network failure (or the timeout): the server was not reached.
        let response = request
            .send()
            .await
            .map_err(|e| WebError::Offline(e.to_string()))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| WebError::Offline(e.to_string()))?;
        if (200..300).contains(&status) {
            return Ok(text);
        }
        Err(error_from_body(status, &text))
    }
}

fn unwrap_data<T: DeserializeOwned>(text: &str) -> Result<T> {
    let env: Data<T> = serde_json::from_str(text).map_err(|source| WebError::Protocol {
        context: "answer",
        source,
    })?;
    Ok(env.data)
}

/// The backend's error envelope, or a made-up code when a proxy or a crash answered instead.
pub fn error_from_body(status: u16, body: &str) -> WebError {
    match serde_json::from_str::<ErrorEnvelope>(body) {
        Ok(env) => WebError::Api {
            status,
            fields: env.error.field_messages(),
            code: env.error.code,
            message: env.error.message,
        },
        Err(_) => {
            let code = match status {
                401 => "UNAUTHENTICATED",
                403 => "FORBIDDEN",
                404 => "NOT_FOUND",
                429 => "RATE_LIMITED",
                500..=599 => "SERVER_ERROR",
                _ => "HTTP_ERROR",
            };
            WebError::Api {
                status,
                code: code.to_owned(),
                message: format!("The server answered {status}."),
                fields: Default::default(),
            }
        }
    }
}

fn location() -> Option<web_sys::Location> {
    web_sys::window().map(|w| w.location())
}

/// `https://host[:port]/api/v1` of the page's own origin.
pub fn api_base() -> String {
    let origin = location().and_then(|l| l.origin().ok()).unwrap_or_default();
    format!("{origin}/api/v1")
}

/// `wss://host[:port]/api/v1/ws` (`ws://` when the page is plain http).
pub fn ws_url() -> String {
    let (protocol, host) = location()
        .map(|l| {
            (
                l.protocol().unwrap_or_default(),
                l.host().unwrap_or_default(),
            )
        })
        .unwrap_or_default();
    let scheme = if protocol == "https:" { "wss" } else { "ws" };
    format!("{scheme}://{host}/api/v1/ws")
}
