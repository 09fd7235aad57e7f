//! The outbox and money calls against the in-process fake backend: votes queued while the backend
//! is down are replayed on reconnect, refusals are kept, money is never queued and an unanswered
//! money call keeps its Idempotency-Key for the retry.

use super::*;
use oddxer_shared::client::OutboxState;
use oddxer_shared::VoteType;

fn vote_out(code_id: &str, vote: &str) -> serde_json::Value {
    serde_json::json!({"success": true, "data": {
        "id": "v1", "codeId": code_id, "voteType": vote, "winVotes": 1, "lossVotes": 0,
        "totalVotes": 1, "createdAt": "2026-01-01T00:00:00Z"}})
}

fn refusal(code: &str) -> serde_json::Value {
    serde_json::json!({"success": false, "error": {"code": code, "message": format!("refused: {code}")}})
}

/// Goes Online on `conn`: answers the first sync frame with empty, in-step batches.
async fn bring_online(client: &OddxerClient, conn: &mut FakeConn) {
    conn.receive().await;
    conn.send(wallet_batch(&[], 0, 0)).await;
    conn.send(purchases_batch(vec![], 0)).await;
    wait_for_connection(client, ConnectionState::Online).await;
}

#[tokio::test]
async fn a_vote_cast_while_the_backend_is_down_is_queued_and_sent_on_reconnect() {
    let mut backend = FakeBackend::start().await;
    let dir = TempDir::new("loopback-outbox");
    let client = open_client(backend.url(), &dir).await;
    client
        .start_with_access_token("access-1", &user("u1"))
        .unwrap();
    let mut conn = backend.next_connection().await;
    bring_online(&client, &mut conn).await;

    // A gateway says the backend is down: the vote waits in the outbox.
    backend.answer_next(503, refusal("SERVICE_UNAVAILABLE"));
    let r = client.cast_vote("c1", VoteType::Win).await.unwrap();
    assert_eq!((r.vote, r.queued), (None, true));
    let first = backend.next_request().await;
    assert_eq!(
        (first.method.as_str(), first.path.as_str()),
        ("POST", "/api/v1/codes/c1/votes")
    );
    let queued = client.snapshot().unwrap().outbox;
    assert_eq!(queued.len(), 1);
    assert_eq!(
        (queued[0].code_id.as_str(), queued[0].state),
        ("c1", OutboxState::Pending)
    );

    // The connection drops and comes back: reaching Online replays the vote by itself.
    backend.answer_next(201, vote_out("c1", "WIN"));
    drop(conn);
    wait_for_connection(&client, ConnectionState::Offline).await;
    let mut conn = backend.next_connection().await;
    bring_online(&client, &mut conn).await;
    let replayed = backend.next_request().await;
    assert_eq!(replayed.path, "/api/v1/codes/c1/votes");
    assert_eq!(replayed.authorization.as_deref(), Some("Bearer access-1"));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&replayed.body).unwrap(),
        serde_json::json!({"voteType": "WIN"})
    );
    let mut events = client.subscribe();
    tokio::time::timeout(PATIENCE, async {
        while !client.snapshot().unwrap().outbox.is_empty() {
            let _ = events.recv().await;
        }
    })
    .await
    .expect("the queued vote was never delivered");
}

#[tokio::test]
async fn replay_counts_already_voted_as_done_keeps_refusals_and_stops_when_unreachable() {
    let mut backend = FakeBackend::start().await;
    let dir = TempDir::new("loopback-replay");
    let client = open_client(backend.url(), &dir).await;
    client.use_access_token("access-1", &user("u1")).unwrap();
    client
        .inner
        .with_store(|s| {
            s.enqueue_vote("c1", VoteType::Win)?;
            s.enqueue_vote("c2", VoteType::Loss)?;
            s.enqueue_vote("c3", VoteType::Win)?;
            s.enqueue_vote("c4", VoteType::Win)
        })
        .unwrap();

    // c1: its first delivery had arrived after all; c2: voting closed meanwhile;
    // c3: the backend is busy, so c3 and c4 wait for the next replay.
    backend.answer_next(409, refusal("ALREADY_VOTED"));
    backend.answer_next(409, refusal("VOTING_CLOSED"));
    backend.answer_next(503, refusal("SERVICE_UNAVAILABLE"));
    let report = client.replay_outbox().await.unwrap();
    assert_eq!(
        report,
        crate::ReplayReport {
            delivered: 1,
            refused: 1,
            pending: 2
        }
    );
    let paths: Vec<_> = [
        backend.next_request().await,
        backend.next_request().await,
        backend.next_request().await,
    ]
    .into_iter()
    .map(|r| r.path)
    .collect();
    assert_eq!(
        paths,
        [
            "/api/v1/codes/c1/votes",
            "/api/v1/codes/c2/votes",
            "/api/v1/codes/c3/votes"
        ]
    );
    let outbox = client.snapshot().unwrap().outbox;
    let summary: Vec<_> = outbox
        .iter()
        .map(|i| (i.code_id.as_str(), i.state, i.attempts))
        .collect();
    assert_eq!(
        summary,
        [
            ("c3", OutboxState::Pending, 1),
            ("c4", OutboxState::Pending, 0),
            ("c2", OutboxState::Failed, 1)
        ]
    );
    assert_eq!(
        outbox[2].last_error.as_deref(),
        Some("refused: VOTING_CLOSED")
    );

    // The next replay delivers the rest, each exactly once.
    backend.answer_next(201, vote_out("c3", "WIN"));
    backend.answer_next(201, vote_out("c4", "WIN"));
    let report = client.replay_outbox().await.unwrap();
    assert_eq!((report.delivered, report.pending), (2, 0));
    let again = client.replay_outbox().await.unwrap();
    assert_eq!(
        again,
        crate::ReplayReport::default(),
        "nothing is sent twice"
    );
    assert_eq!(
        client.snapshot().unwrap().outbox.len(),
        1,
        "only the refusal stays"
    );
}

#[tokio::test]
async fn purchases_and_money_moves_are_never_queued() {
    // Nothing listens here.
    let dir = TempDir::new("loopback-money");
    let client = open_client("http://127.0.0.1:9".into(), &dir).await;
    client.use_access_token("access-1", &user("u1")).unwrap();
    let e = client.purchase_code("c1").await.unwrap_err();
    assert_eq!(e.code(), "OFFLINE");
    let e = client
        .withdraw(
            1_000,
            oddxer_shared::PaymentMethod::MtnMomo,
            "+256700000009",
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "OFFLINE");
    assert!(client.snapshot().unwrap().outbox.is_empty());
    // The key of an unanswered purchase is kept for its retry.
    let k1 = client
        .inner
        .with_store(|s| s.money_key("purchase:c1"))
        .unwrap();
    let k2 = client
        .inner
        .with_store(|s| s.money_key("purchase:c1"))
        .unwrap();
    assert_eq!(k1, k2);
}

#[tokio::test]
async fn a_money_call_reuses_its_key_on_retry_and_forgets_it_once_answered() {
    let mut backend = FakeBackend::start().await;
    let dir = TempDir::new("loopback-idem");
    let client = open_client(backend.url(), &dir).await;
    client.use_access_token("access-1", &user("u1")).unwrap();

    // The server failed inside: outcome unknown, the retry must carry the same key.
    backend.answer_next(500, refusal("INTERNAL"));
    backend.answer_next(402, refusal("INSUFFICIENT_FUNDS"));
    backend.answer_next(402, refusal("INSUFFICIENT_FUNDS"));
    for _ in 0..3 {
        let _ = client.purchase_code("c1").await.unwrap_err();
    }
    let keys: Vec<_> = [
        backend.next_request().await,
        backend.next_request().await,
        backend.next_request().await,
    ]
    .into_iter()
    .map(|r| r.idempotency_key)
    .collect();
    assert_eq!(
        keys[0], keys[1],
        "a retry after an unknown outcome reuses the key"
    );
    assert_ne!(
        keys[1], keys[2],
        "a refusal is an answer: the next attempt is a new action"
    );
    assert!(keys
        .iter()
        .all(|k| k.as_ref().is_some_and(|k| !k.is_empty())));
}
