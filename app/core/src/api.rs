//! HTTP transport to the backend: builds `/api/v1` requests, unwraps the success envelope and turns
//! error envelopes into `ClientError::Api`. Token refresh on 401 lives one level up (`client.rs`),
//! because it also has to touch the secret store and the local cache.

use std::time::Duration;

use oddxer_shared::api::ErrorEnvelope;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::{ClientError, Result};

/// The `data` of a success envelope. Lenient on purpose: `success` and `message` are not needed
/// to use the answer, and a missing `data` (e.g. on logout) is read as `null`.
#[derive(Deserialize)]
struct Data<T> {
    data: T,
}

#[derive(Clone)]
pub(crate) struct Api {
    http: reqwest::Client,
    /// `http(s)://host:port/api/v1`, no trailing slash.
    base: String,
    /// `ws(s)://host:port/api/v1/ws`.
    ws_url: String,
}

impl Api {
    pub(crate) fn new(api_url: &str) -> Result<Self> {
        let root = api_url.trim().trim_end_matches('/');
        let root = root.strip_suffix("/api/v1").unwrap_or(root);
        let ws_root = if let Some(rest) = root.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = root.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            return Err(ClientError::Config(
                "api_url must start with http:// or https://",
            ));
        };
        let http = reqwest::Client::builder()
            // Short connect timeout: "the server is down" must turn into offline mode quickly.
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            .user_agent(concat!("oddxer-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(ClientError::Http)?;
        Ok(Api {
            http,
            base: format!("{root}/api/v1"),
            ws_url: format!("{ws_root}/api/v1/ws"),
        })
    }

    pub(crate) fn ws_url(&self) -> &str {
        &self.ws_url
    }

    /// A request to `/api/v1{path}`, with the access token when one is given.
    pub(crate) fn request(
        &self,
        method: Method,
        path: &str,
        access: Option<&str>,
    ) -> RequestBuilder {
        let rb = self.http.request(method, format!("{}{}", self.base, path));
        match access {
            Some(token) => rb.bearer_auth(token),
            None => rb,
        }
    }

    /// Sends and unwraps `data` of the envelope.
    pub(crate) async fn send<T: DeserializeOwned>(
        &self,
        rb: RequestBuilder,
        context: &'static str,
    ) -> Result<T> {
        let bytes = self.send_raw(rb).await?;
        let env: Data<T> = serde_json::from_slice(&bytes)
            .map_err(|source| ClientError::Protocol { context, source })?;
        Ok(env.data)
    }

    /// Sends and ignores the body of a success answer.
    pub(crate) async fn send_unit(&self, rb: RequestBuilder) -> Result<()> {
        self.send_raw(rb).await.map(drop)
    }

    async fn send_raw(&self, rb: RequestBuilder) -> Result<Vec<u8>> {
        let resp = rb.send().await.map_err(transport_error)?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(transport_error)?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        Err(error_from_body(status, &bytes))
    }
}

pub(crate) fn transport_error(e: reqwest::Error) -> ClientError {
    if e.is_connect() || e.is_timeout() {
        ClientError::Offline(e)
    } else {
        ClientError::Http(e)
    }
}

/// The backend's error envelope, or a made-up code when a proxy or a crash answered instead.
pub(crate) fn error_from_body(status: StatusCode, body: &[u8]) -> ClientError {
    match serde_json::from_slice::<ErrorEnvelope>(body) {
        Ok(env) => ClientError::Api {
            status: status.as_u16(),
            fields: env.error.field_messages(),
            code: env.error.code,
            message: env.error.message,
        },
        Err(_) => {
            let code = match status.as_u16() {
                401 => "UNAUTHENTICATED",
                403 => "FORBIDDEN",
                404 => "NOT_FOUND",
                429 => "RATE_LIMITED",
                500..=599 => "SERVER_ERROR",
                _ => "HTTP_ERROR",
            };
            ClientError::Api {
                status: status.as_u16(),
                code: code.to_owned(),
                message: format!("The server answered {status}."),
                fields: Default::default(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_derived_from_the_api_root() {
        let api = Api::new("http://127.0.0.1:6793/").unwrap();
        assert_eq!(api.base, "http://127.0.0.1:6793/api/v1");
        assert_eq!(api.ws_url(), "ws://127.0.0.1:6793/api/v1/ws");
        let api = Api::new("https://api.oddxer.example/api/v1").unwrap();
        assert_eq!(api.base, "https://api.oddxer.example/api/v1");
        assert_eq!(api.ws_url(), "wss://api.oddxer.example/api/v1/ws");
        assert!(matches!(Api::new("ftp://x"), Err(ClientError::Config(_))));
    }

    #[test]
    fn error_envelopes_become_api_errors() {
        let body = br#"{"success":false,"error":{"code":"INVALID_OTP","message":"Wrong code"}}"#;
        match error_from_body(StatusCode::BAD_REQUEST, body) {
            ClientError::Api {
                status,
                code,
                message,
                ..
            } => {
                assert_eq!(
                    (status, code.as_str(), message.as_str()),
                    (400, "INVALID_OTP", "Wrong code")
                );
            }
            other => panic!("unexpected {other:?}"),
        }
        match error_from_body(StatusCode::BAD_GATEWAY, b"<html>bad gateway</html>") {
            ClientError::Api { code, .. } => assert_eq!(code, "SERVER_ERROR"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_422_keeps_the_message_of_each_field() {
        let body = br#"{"success":false,"error":{"code":"VALIDATION_ERROR","message":"expiresAt must be within 30 days","details":{"fields":{"expiresAt":"must be within 30 days","price":"must be between UGX 500 and UGX 50,000"}}}}"#;
        match error_from_body(StatusCode::UNPROCESSABLE_ENTITY, body) {
            ClientError::Api { fields, .. } => {
                assert_eq!(
                    fields.get("expiresAt").map(String::as_str),
                    Some("must be within 30 days")
                );
                assert_eq!(fields.len(), 2);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn success_envelopes_are_unwrapped() {
        let d: Data<oddxer_shared::api::OtpSentOut> = serde_json::from_slice(
            br#"{"success":true,"data":{"phoneNumber":"+256700000001","otpExpiresInSeconds":600}}"#,
        )
        .unwrap();
        assert_eq!(d.data.otp_expires_in_seconds, 600);
    }
}
