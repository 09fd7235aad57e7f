//! The session's tokens: the access token in memory, renewed with the refresh token (kept in the
//! secret store) one task at a time, and the authenticated calls that renew it once on a 401.

use oddxer_shared::api::{AuthTokensOut, RefreshIn, UserOut};
use oddxer_shared::client::ConnectionState;
use reqwest::{Method, RequestBuilder};
use serde::de::DeserializeOwned;

use super::Inner;
use crate::error::{ClientError, ErrorChain, Result};
use crate::session::AccessToken;

/// The query of a cursor-paged list: `?cursor=` the previous page's `nextCursor`, left out for
/// the first page.
#[derive(serde::Serialize)]
pub(crate) struct CursorQuery<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<&'a str>,
}

impl Inner {
    /// Stores a fresh token pair and the user it belongs to.
    pub(super) fn adopt_tokens(&self, tokens: AuthTokensOut) -> Result<UserOut> {
        self.secrets.save(&tokens.refresh_token)?;
        self.session.set_access(tokens.access_token);
        self.with_store(|s| s.set_user(&tokens.user))?;
        self.notify();
        Ok(tokens.user)
    }

    /// The refresh token was refused: the user has to sign in again. Their cached data stays.
    pub(crate) fn session_expired(&self) {
        tracing::info!("session expired; sign-in required");
        if let Err(e) = self.secrets.clear() {
            tracing::warn!(error = %ErrorChain(&e), "could not clear the stored refresh token");
        }
        self.session.clear();
        if let Err(e) = self.with_store(|s| s.forget_session()) {
            tracing::warn!(error = %ErrorChain(&e), "could not forget the cached session");
        }
        self.set_connection(
            ConnectionState::Idle,
            Some("Your session has expired. Please sign in again.".into()),
        );
        self.notify();
    }

    pub(crate) async fn access_token(&self) -> Result<AccessToken> {
        match self.session.access() {
            Some(t) => Ok(t),
            None => self.refresh(None).await,
        }
    }

    /// Trades the refresh token for a new pair. `seen` is the generation of the access token
    /// the caller found wanting; if another task refreshed meanwhile, its token is returned
    /// instead of spending the refresh token a second time.
    pub(crate) async fn refresh(&self, seen: Option<u64>) -> Result<AccessToken> {
        let _one_at_a_time = self.session.refresh_lock.lock().await;
        if let Some(current) = self.session.access() {
            if Some(current.generation) != seen {
                return Ok(current);
            }
        }
        let Some(refresh_token) = self.secrets.load()? else {
            return Err(ClientError::Unauthenticated);
        };
        let rb = self
            .api
            .request(Method::POST, "/auth/refresh", None)
            .json(&RefreshIn { refresh_token });
        match self.api.send::<AuthTokensOut>(rb, "refresh").await {
            Ok(tokens) => {
                self.adopt_tokens(tokens)?;
                self.session.access().ok_or(ClientError::Unauthenticated)
            }
            Err(ClientError::Api {
                status: 401 | 403,
                code,
                ..
            }) => {
                tracing::info!(%code, "refresh token refused");
                self.session_expired();
                Err(ClientError::Unauthenticated)
            }
            Err(e) => Err(e),
        }
    }

    /// `GET path` for one page of a cursor-paged list, authenticated as [`Inner::authed`]:
    /// `cursor` is the previous page's `nextCursor`, `None` for the first page.
    pub(crate) async fn authed_page<T: DeserializeOwned>(
        &self,
        path: &str,
        cursor: Option<&str>,
        context: &'static str,
    ) -> Result<T> {
        self.authed(
            |t| {
                self.api
                    .request(Method::GET, path, Some(t))
                    .query(&CursorQuery { cursor })
            },
            context,
        )
        .await
    }

    /// An authenticated call, retried once with a refreshed token on 401.
    pub(crate) async fn authed<T: DeserializeOwned>(
        &self,
        build: impl Fn(&str) -> RequestBuilder,
        context: &'static str,
    ) -> Result<T> {
        let token = self.access_token().await?;
        match self.api.send(build(&token.token), context).await {
            Err(ClientError::Api { status: 401, .. }) => {
                let token = self.refresh(Some(token.generation)).await?;
                self.api.send(build(&token.token), context).await
            }
            other => other,
        }
    }

    pub(crate) async fn authed_unit(&self, build: impl Fn(&str) -> RequestBuilder) -> Result<()> {
        let token = self.access_token().await?;
        match self.api.send_unit(build(&token.token)).await {
            Err(ClientError::Api { status: 401, .. }) => {
                let token = self.refresh(Some(token.generation)).await?;
                self.api.send_unit(build(&token.token)).await
            }
            other => other,
        }
    }
}
