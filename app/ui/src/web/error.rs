//! The web core's one error type, and how each failure reads on screen (the same codes and
//! wording as the native core, so the screens cannot tell the cores apart).

use oddxer_shared::client::CommandError;

/// A failed web-core operation.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The backend answered with its error envelope (or a gateway answered for it).
    #[error("backend refused the request ({status} {code}): {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
        /// `details.fields` of a refused form: field name -> what is wrong with it.
        fields: std::collections::BTreeMap<String, String>,
    },
    /// `fetch` or the WebSocket could not reach the server (or timed out).
    #[error("the server cannot be reached: {0}")]
    Offline(String),
    /// An answer that does not parse as what the contract says.
    #[error("unexpected answer ({context}): {source}")]
    Protocol {
        context: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// A stream did not come in step after repeated re-syncs.
    #[error("the sync streams did not come in step")]
    OutOfStep,
    /// No session (or the refresh cookie was refused): sign in again.
    #[error("not signed in")]
    Unauthenticated,
    /// IndexedDB failed.
    #[error("browser storage failed: {0}")]
    Storage(String),
    /// A command argument refused before asking the server.
    #[error("invalid input: {0}")]
    InvalidInput(&'static str),
}

/// The result type of the web core.
pub type Result<T, E = WebError> = std::result::Result<T, E>;

impl WebError {
    /// Could not talk to the backend, or a gateway says it is down (502-504): read the cache,
    /// queue what is safe to replay.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            WebError::Offline(_)
                | WebError::Api {
                    status: 502..=504,
                    ..
                }
        )
    }

    /// The code the UI switches on: the backend's own, or one of the client's.
    pub fn code(&self) -> &str {
        match self {
            WebError::Api { code, .. } => code,
            WebError::Offline(_) => "OFFLINE",
            WebError::Protocol { .. } | WebError::OutOfStep => "PROTOCOL",
            WebError::Unauthenticated => "UNAUTHENTICATED",
            WebError::Storage(_) => "STORAGE",
            WebError::InvalidInput(_) => "INVALID_INPUT",
        }
    }
}

impl WebError {
    /// The message a user should read (the backend's own, or the client's wording).
    pub fn user_message(&self) -> String {
        match self {
            WebError::Api { message, .. } => message.clone(),
            WebError::Offline(_) => {
                "You are offline: the Oddxer server cannot be reached.".to_owned()
            }
            WebError::Protocol { .. } | WebError::OutOfStep => {
                "The server sent an unexpected answer.".to_owned()
            }
            WebError::Unauthenticated => "Please sign in.".to_owned(),
            WebError::Storage(_) => "The local data store failed.".to_owned(),
            WebError::InvalidInput(what) => format!("Invalid input: {what}"),
        }
    }
}

impl From<WebError> for CommandError {
    fn from(err: WebError) -> Self {
        let message = err.user_message();
        if !matches!(
            err,
            WebError::Api { .. } | WebError::Unauthenticated | WebError::InvalidInput(_)
        ) {
            super::log_warn(&format!("web core command failed: {err}"));
        }
        let fields = match &err {
            WebError::Api { fields, .. } => fields.clone(),
            _ => Default::default(),
        };
        CommandError {
            code: err.code().to_owned(),
            message,
            fields,
        }
    }
}
