//! Votes: cast at once when the server answers, otherwise queued in the outbox and replayed by
//! the shared replay rules when the sync connection is back.

use oddxer_shared::api::{VoteIn, VoteOut};
use oddxer_shared::client::{CastVoteIn, OutboxItemOut, OutboxState, VoteResultOut};
use oddxer_shared::VoteType;
use oddxer_sync::{replay_verdict, ReplayFailure, ReplayVerdict};

use super::R;
use crate::web::error::{Result, WebError};
use crate::web::http::Call;
use crate::web::{changed, new_key, now_rfc3339, path_id, with};

async fn post_vote(code_id: &str, vote: VoteType) -> Result<VoteOut> {
    Call::post(&format!("/codes/{code_id}/votes"))
        .json(&VoteIn { vote_type: vote })
        .signed_in()
        .fetch()
        .await
}

fn vote_delivered(code_id: &str, vote: VoteType) {
    if with(|s| s.doc.streams.record_my_vote(code_id, vote)) {
        changed();
    }
}

/// `POST /codes/{id}/votes`; queued in the outbox (`queued: true`) when the server cannot be
/// reached, and delivered when the sync connection is back.
pub async fn cast_vote(input: &CastVoteIn) -> R<VoteResultOut> {
    let code_id = path_id(&input.code_id)?;
    match post_vote(code_id, input.vote_type).await {
        Ok(v) => {
            vote_delivered(code_id, input.vote_type);
            Ok(VoteResultOut {
                vote: Some(v),
                queued: false,
            })
        }
        Err(e) if e.is_unreachable() => {
            with(|s| {
                let already = s
                    .doc
                    .outbox
                    .iter()
                    .any(|i| i.code_id == code_id && i.state == OutboxState::Pending);
                if !already {
                    s.doc.outbox.push(OutboxItemOut {
                        id: new_key(),
                        kind: "VOTE".into(),
                        code_id: code_id.to_owned(),
                        vote_type: input.vote_type,
                        state: OutboxState::Pending,
                        attempts: 0,
                        last_error: None,
                        created_at: now_rfc3339(),
                    });
                }
            });
            changed();
            Ok(VoteResultOut {
                vote: None,
                queued: true,
            })
        }
        Err(e) => Err(e.into()),
    }
}

fn replay_failure(e: &WebError) -> ReplayFailure {
    match e {
        _ if e.is_unreachable() => ReplayFailure::Unreachable,
        WebError::Unauthenticated => ReplayFailure::Unauthenticated,
        WebError::Api { status, code, .. } => ReplayFailure::Api {
            status: *status,
            code: code.clone(),
        },
        _ => ReplayFailure::Protocol,
    }
}

thread_local! {
    static REPLAYING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Sends the pending votes oldest first, one replay at a time, by the shared replay rules.
pub(in crate::web) async fn replay_outbox() {
    if REPLAYING.with(|r| r.replace(true)) {
        return;
    }
    let pending: Vec<OutboxItemOut> = with(|s| {
        s.doc
            .outbox
            .iter()
            .filter(|i| i.state == OutboxState::Pending)
            .cloned()
            .collect()
    });
    for item in pending {
        let outcome = post_vote(&item.code_id, item.vote_type).await;
        let verdict = match &outcome {
            Ok(_) => replay_verdict(Ok(())),
            Err(e) => replay_verdict(Err(&replay_failure(e))),
        };
        let message = outcome.as_ref().err().map(WebError::user_message);
        with(|s| {
            let slot = s.doc.outbox.iter().position(|i| i.id == item.id);
            match (verdict, slot) {
                (ReplayVerdict::Delivered, Some(i)) => {
                    s.doc.outbox.remove(i);
                }
                (ReplayVerdict::TryLater, Some(i)) => {
                    s.doc.outbox[i].attempts += 1;
                    s.doc.outbox[i].last_error = message.clone();
                }
                (ReplayVerdict::Refused, Some(i)) => {
                    s.doc.outbox[i].attempts += 1;
                    s.doc.outbox[i].state = OutboxState::Failed;
                    s.doc.outbox[i].last_error = message.clone();
                }
                (_, None) => {}
            }
        });
        if outcome.is_ok() {
            vote_delivered(&item.code_id, item.vote_type);
        }
        changed();
        if verdict == ReplayVerdict::TryLater {
            break;
        }
    }
    REPLAYING.with(|r| r.set(false));
}

/// Whether any vote waits for delivery.
pub(in crate::web) fn outbox_pending() -> bool {
    with(|s| s.doc.outbox.iter().any(|i| i.state == OutboxState::Pending))
}
