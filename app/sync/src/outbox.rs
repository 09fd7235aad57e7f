//! Replaying the outbox: which queued votes a replay counts as delivered, refused or pending.
//!
//! Votes are safe to replay because the server keeps one vote per (code, voter): a replay of a
//! vote that did arrive earlier (its answer was lost) is refused with 409 `ALREADY_VOTED`, which
//! counts as delivered. Purchases and money moves are never queued.

/// How one attempt to deliver a queued vote failed, as far as the replay rules care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayFailure {
    /// The server could not be reached, or a gateway said it is down (502-504).
    Unreachable,
    /// No session to send it with (the refresh token is dead or missing).
    Unauthenticated,
    /// The server's answer could not be read.
    Protocol,
    /// The server answered with its error envelope.
    Api { status: u16, code: String },
}

/// What to do with a queued vote after one delivery attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayVerdict {
    /// The server has it now (or had it already): drop it from the outbox.
    Delivered,
    /// The server may take it later: keep it pending and stop this replay (oldest first).
    TryLater,
    /// Refused for good (voting closed, not a buyer, ...): keep it as FAILED so the UI can say so.
    Refused,
}

/// The verdict for one attempt: `Ok(())` is a vote the server accepted.
pub fn replay_verdict(outcome: Result<(), &ReplayFailure>) -> ReplayVerdict {
    match outcome {
        Ok(()) => ReplayVerdict::Delivered,
        Err(ReplayFailure::Api { status: 409, code }) if code == "ALREADY_VOTED" => {
            ReplayVerdict::Delivered
        }
        Err(
            ReplayFailure::Unreachable
            | ReplayFailure::Unauthenticated
            | ReplayFailure::Protocol
            | ReplayFailure::Api {
                status: 401 | 408 | 429 | 500..=599,
                ..
            },
        ) => ReplayVerdict::TryLater,
        Err(ReplayFailure::Api { .. }) => ReplayVerdict::Refused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, code: &str) -> ReplayFailure {
        ReplayFailure::Api {
            status,
            code: code.to_owned(),
        }
    }

    #[test]
    fn an_accepted_or_already_stored_vote_is_delivered() {
        assert_eq!(replay_verdict(Ok(())), ReplayVerdict::Delivered);
        assert_eq!(
            replay_verdict(Err(&api(409, "ALREADY_VOTED"))),
            ReplayVerdict::Delivered
        );
    }

    #[test]
    fn transient_failures_keep_the_vote_for_later() {
        for f in [
            ReplayFailure::Unreachable,
            ReplayFailure::Unauthenticated,
            ReplayFailure::Protocol,
            api(401, "UNAUTHENTICATED"),
            api(408, "TIMEOUT"),
            api(429, "RATE_LIMITED"),
            api(500, "INTERNAL"),
            api(503, "SERVER_ERROR"),
        ] {
            assert_eq!(replay_verdict(Err(&f)), ReplayVerdict::TryLater, "{f:?}");
        }
    }

    #[test]
    fn a_final_refusal_is_kept_as_failed() {
        for f in [
            api(409, "VOTING_CLOSED"),
            api(403, "NOT_A_BUYER"),
            api(404, "NOT_FOUND"),
            api(422, "VALIDATION_ERROR"),
        ] {
            assert_eq!(replay_verdict(Err(&f)), ReplayVerdict::Refused, "{f:?}");
        }
    }
}
