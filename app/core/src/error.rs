//! One error type for the whole client core, and its mapping to the IPC-safe `CommandError`.

use oddxer_shared::client::CommandError;

pub type Result<T, E = ClientError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The backend answered with its error envelope (`{"success": false, "error": {code, message}}`).
    #[error("backend refused the request ({status} {code}): {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
        /// `details.fields` of a 422: field name -> what is wrong with it.
        fields: std::collections::BTreeMap<String, String>,
    },

    /// The backend could not be reached at all (connection refused, DNS, timeout).
    #[error("the backend cannot be reached")]
    Offline(#[source] reqwest::Error),

    /// The WebSocket could not be opened or broke.
    #[error("the sync connection failed")]
    WebSocket(#[source] Box<tokio_tungstenite::tungstenite::Error>),

    /// Any other HTTP transport failure (TLS, a body cut short, ...).
    #[error("HTTP request failed")]
    Http(#[source] reqwest::Error),

    /// The backend answered something that is not the documented shape.
    #[error("unexpected response from the backend ({context})")]
    Protocol {
        context: &'static str,
        #[source]
        source: serde_json::Error,
    },

    /// The server's sync stream kept contradicting the local copy after several re-syncs.
    #[error("the sync stream could not be brought in step with the server")]
    OutOfStep,

    /// No session: never signed in, signed out, or the refresh token was revoked.
    #[error("not signed in")]
    Unauthenticated,

    #[error("local database failed")]
    Storage(#[from] rusqlite::Error),

    /// A cached row that no longer parses (written by a different version, or corrupted).
    #[error("local database holds unreadable data ({context})")]
    Corrupt {
        context: &'static str,
        #[source]
        source: serde_json::Error,
    },

    #[error("local file access failed")]
    Io(#[from] std::io::Error),

    #[error("OS keyring failed")]
    Keyring(#[from] keyring::Error),

    #[error("invalid configuration: {0}")]
    Config(&'static str),

    /// A command argument the client refuses before asking the server (e.g. an id that is not one).
    #[error("invalid input: {0}")]
    InvalidInput(&'static str),
}

impl ClientError {
    /// The code the UI switches on: the backend's own code, or one of the client's.
    pub fn code(&self) -> &str {
        match self {
            ClientError::Api { code, .. } => code,
            ClientError::Offline(_) | ClientError::WebSocket(_) | ClientError::Http(_) => "OFFLINE",
            ClientError::Protocol { .. } | ClientError::OutOfStep => "PROTOCOL",
            ClientError::Unauthenticated => "UNAUTHENTICATED",
            ClientError::Storage(_)
            | ClientError::Corrupt { .. }
            | ClientError::Io(_)
            | ClientError::Keyring(_) => "STORAGE",
            ClientError::Config(_) => "CONFIG",
            ClientError::InvalidInput(_) => "INVALID_INPUT",
        }
    }

    /// True when the failure is "could not talk to the backend", i.e. worth retrying later.
    pub fn is_offline(&self) -> bool {
        matches!(
            self,
            ClientError::Offline(_) | ClientError::WebSocket(_) | ClientError::Http(_)
        )
    }

    /// Offline, or a gateway in front of the backend saying the backend is down (502, 503, 504):
    /// the request surely did not reach the backend or its outcome is unknown; read the cache,
    /// queue what is safe to replay.
    pub fn is_unreachable(&self) -> bool {
        self.is_offline()
            || matches!(
                self,
                ClientError::Api {
                    status: 502..=504,
                    ..
                }
            )
    }
}

impl From<ClientError> for CommandError {
    fn from(err: ClientError) -> Self {
        // Backend messages are written for users; local failures are described generically
        // (the details go to the log, not to the screen).
        let message = match &err {
            ClientError::Api { message, .. } => message.clone(),
            ClientError::Offline(_) | ClientError::WebSocket(_) | ClientError::Http(_) => {
                "You are offline: the Oddxer server cannot be reached.".to_owned()
            }
            ClientError::Protocol { .. } | ClientError::OutOfStep => {
                "The server sent an unexpected answer.".to_owned()
            }
            ClientError::Unauthenticated => "Please sign in.".to_owned(),
            ClientError::Storage(_) | ClientError::Corrupt { .. } | ClientError::Io(_) => {
                "The local data store failed.".to_owned()
            }
            ClientError::Keyring(_) => "The secure credential store failed.".to_owned(),
            ClientError::Config(what) => format!("Invalid configuration: {what}"),
            ClientError::InvalidInput(what) => format!("Invalid input: {what}"),
        };
        if !matches!(
            err,
            ClientError::Api { .. } | ClientError::Unauthenticated | ClientError::InvalidInput(_)
        ) {
            tracing::warn!(error = %ErrorChain(&err), "client command failed");
        }
        let fields = match &err {
            ClientError::Api { fields, .. } => fields.clone(),
            _ => Default::default(),
        };
        CommandError {
            code: err.code().to_owned(),
            message,
            fields,
        }
    }
}

/// Displays an error with its whole `source()` chain, for logs.
pub(crate) struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = self.0.source();
        while let Some(e) = next {
            write!(f, ": {e}")?;
            next = e.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_codes_pass_through_to_the_ui() {
        let e = ClientError::Api {
            status: 400,
            code: "INVALID_OTP".into(),
            message: "Wrong code".into(),
            fields: Default::default(),
        };
        let c = CommandError::from(e);
        assert_eq!(c.code, "INVALID_OTP");
        assert_eq!(c.message, "Wrong code");
    }

    #[test]
    fn a_refused_forms_field_messages_reach_the_ui() {
        let e = ClientError::Api {
            status: 422,
            code: "VALIDATION_ERROR".into(),
            message: "The amount must be between UGX 500 and UGX 5,000,000".into(),
            fields: [(
                "amount".to_owned(),
                "must be between UGX 500 and UGX 5,000,000".to_owned(),
            )]
            .into(),
        };
        let c = CommandError::from(e);
        assert_eq!(
            c.field("amount"),
            Some("must be between UGX 500 and UGX 5,000,000")
        );
        assert_eq!(c.field("phoneNumber"), None);
    }

    #[test]
    fn local_failures_get_client_codes() {
        let e = ClientError::Storage(rusqlite::Error::InvalidQuery);
        assert_eq!(CommandError::from(e).code, "STORAGE");
        assert_eq!(
            CommandError::from(ClientError::Unauthenticated).code,
            "UNAUTHENTICATED"
        );
    }
}
