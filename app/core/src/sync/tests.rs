//! Unit tests of `sync.rs`.

use super::*;
use crate::store::{PURCHASES_STREAM, WALLET_STREAM};
use crate::testutil::{entry, purchase_row};
use oddxer_shared::sync::{Checkpoint, LiveEvent, StreamEntries, SyncCursors};
use oddxer_shared::sync::{PurchaseStreamEntry, SyncBatch};
use oddxer_shared::{Currency, Money};
use oddxer_sync::MAX_RESYNCS_IN_A_ROW;

fn batch(
    entries: Vec<oddxer_shared::api::LedgerEntryOut>,
    done: bool,
    head: i64,
    balance: Option<i64>,
) -> ServerFrame {
    let cursor = entries.last().map(|e| e.seq).unwrap_or(0);
    ServerFrame::SyncBatch(SyncBatch {
        entries: StreamEntries::Wallet(entries),
        cursor,
        done,
        checkpoint: Checkpoint { head, balance },
    })
}

fn wallet_from(cursor: i64) -> ClientFrame {
    Stream::Wallet.resync_frame(cursor)
}

fn purchases_from(cursor: i64) -> ClientFrame {
    Stream::Purchases.resync_frame(cursor)
}

fn purchases_batch(entries: Vec<PurchaseStreamEntry>, done: bool, head: i64) -> ServerFrame {
    let cursor = entries.last().map(|e| e.seq).unwrap_or(0);
    ServerFrame::SyncBatch(SyncBatch {
        entries: StreamEntries::Purchases(entries),
        cursor,
        done,
        checkpoint: Checkpoint {
            head,
            balance: None,
        },
    })
}

#[test]
fn a_catch_up_in_step_goes_online_once() {
    let mut s = Store::open_in_memory().unwrap();
    let mut w = Syncer::default();
    assert_eq!(w.start(&s).unwrap(), sync_frame(0, 0));

    let step = w
        .on_frame(&mut s, batch(vec![entry(1, 100, 100)], false, 2, Some(300)))
        .unwrap();
    assert!(step.changed && !step.caught_up && step.send.is_none());
    let step = w
        .on_frame(&mut s, batch(vec![entry(2, 200, 300)], true, 2, Some(300)))
        .unwrap();
    assert!(
        !step.caught_up,
        "the purchases stream has not caught up yet"
    );
    let step = w
        .on_frame(&mut s, purchases_batch(vec![], true, 0))
        .unwrap();
    assert!(step.caught_up);
    assert!(step.send.is_none());
    assert!(s.last_synced_at().unwrap().is_some());

    // A later live batch keeps it online without announcing it again.
    let step = w
        .on_frame(&mut s, batch(vec![entry(3, 50, 350)], true, 3, Some(350)))
        .unwrap();
    assert!(!step.caught_up && step.changed);
    assert_eq!(s.wallet().unwrap().unwrap().balance.amount, 350);
}

#[test]
fn a_gap_asks_again_from_the_stored_cursor() {
    let mut s = Store::open_in_memory().unwrap();
    let mut w = Syncer::default();
    w.on_frame(&mut s, batch(vec![entry(1, 100, 100)], true, 1, Some(100)))
        .unwrap();
    // Entry 2 got lost; 3 arrives live.
    let step = w
        .on_frame(&mut s, batch(vec![entry(3, 100, 300)], true, 3, Some(300)))
        .unwrap();
    assert_eq!(step.send, Some(wallet_from(1)));
    assert_eq!(s.cursor(WALLET_STREAM).unwrap(), 1);
    // The re-sync brings 2 (and 3 again): the cursor moves over both.
    let step = w
        .on_frame(
            &mut s,
            batch(
                vec![entry(2, 100, 200), entry(3, 100, 300)],
                true,
                3,
                Some(300),
            ),
        )
        .unwrap();
    assert!(step.send.is_none());
    assert_eq!(s.cursor(WALLET_STREAM).unwrap(), 3);
    assert_eq!(s.ledger_len().unwrap(), 3);
}

#[test]
fn a_balance_that_disagrees_with_the_checkpoint_rebuilds_from_zero() {
    let mut s = Store::open_in_memory().unwrap();
    let mut w = Syncer::default();
    w.on_frame(&mut s, batch(vec![entry(1, 100, 100)], true, 1, Some(100)))
        .unwrap();
    let step = w
        .on_frame(&mut s, batch(vec![], true, 1, Some(999)))
        .unwrap();
    assert_eq!(step.send, Some(wallet_from(0)));
    assert_eq!(s.cursor(WALLET_STREAM).unwrap(), 0);
    assert_eq!(s.ledger_len().unwrap(), 0);
}

#[test]
fn a_server_behind_us_is_confirmed_once_before_a_rebuild() {
    let mut s = Store::open_in_memory().unwrap();
    let mut w = Syncer::default();
    w.on_frame(
        &mut s,
        batch(
            vec![entry(1, 100, 100), entry(2, 100, 200)],
            true,
            2,
            Some(200),
        ),
    )
    .unwrap();
    let step = w
        .on_frame(&mut s, batch(vec![], true, 1, Some(100)))
        .unwrap();
    assert_eq!(
        step.send,
        Some(wallet_from(2)),
        "first: ask again from our cursor"
    );
    assert_eq!(s.ledger_len().unwrap(), 2);
    let step = w
        .on_frame(&mut s, batch(vec![], true, 1, Some(100)))
        .unwrap();
    assert_eq!(step.send, Some(wallet_from(0)), "confirmed: rebuild");
    assert_eq!(s.ledger_len().unwrap(), 0);
}

#[test]
fn a_server_that_never_gets_in_step_ends_the_connection() {
    let mut s = Store::open_in_memory().unwrap();
    let mut w = Syncer::default();
    let mut last = Ok(Step::default());
    for _ in 0..=MAX_RESYNCS_IN_A_ROW {
        last = w.on_frame(&mut s, batch(vec![], true, 5, Some(1)));
    }
    assert!(matches!(last, Err(ClientError::OutOfStep)));
}

#[test]
fn duplicate_batches_are_applied_once() {
    let mut s = Store::open_in_memory().unwrap();
    let mut w = Syncer::default();
    let b = batch(
        vec![entry(1, 100, 100), entry(2, 100, 200)],
        true,
        2,
        Some(200),
    );
    w.on_frame(&mut s, b.clone()).unwrap();
    w.on_frame(&mut s, b).unwrap();
    assert_eq!(s.ledger_len().unwrap(), 2);
    assert_eq!(s.cursor(WALLET_STREAM).unwrap(), 2);
}

#[test]
fn wallet_updated_sets_the_balance() {
    let mut s = Store::open_in_memory().unwrap();
    let mut w = Syncer::default();
    let ev = ServerFrame::Event(LiveEvent::WalletUpdated {
        balance: Money::new(42, &Currency("UGX".into())),
    });
    assert!(w.on_frame(&mut s, ev.clone()).unwrap().changed);
    assert!(!w.on_frame(&mut s, ev).unwrap().changed);
    assert_eq!(s.wallet().unwrap().unwrap().balance.amount, 42);
}

#[test]
fn an_auth_error_frame_asks_for_a_refresh() {
    let mut s = Store::open_in_memory().unwrap();
    let mut w = Syncer::default();
    let f = ServerFrame::Error {
        code: "TOKEN_EXPIRED".into(),
        message: "expired".into(),
    };
    assert!(matches!(
        w.on_frame(&mut s, f),
        Err(ClientError::Api { status: 401, .. })
    ));
    let f = ServerFrame::Error {
        code: "SLOW_CONSUMER".into(),
        message: "x".into(),
    };
    assert_eq!(w.on_frame(&mut s, f).unwrap(), Step::default());
}

#[test]
fn backoff_is_full_jitter_under_a_growing_capped_ceiling() {
    let samples = |attempt| (0..400).map(|_| backoff(attempt)).collect::<Vec<_>>();
    let first = samples(0);
    assert!(first.iter().all(|d| *d <= Duration::from_millis(300)));
    // Full jitter: the whole window is used, the lower half too (equal jitter never goes there).
    assert!(first.iter().any(|d| *d < Duration::from_millis(150)));
    assert!(samples(3).iter().all(|d| *d <= Duration::from_millis(2400)));
    let late = samples(30);
    assert!(late.iter().all(|d| *d <= Duration::from_millis(10_000)));
    assert!(late.iter().any(|d| *d > Duration::from_millis(5_000)));
    assert!(late.iter().any(|d| *d < Duration::from_millis(5_000)));
}

#[test]
fn progress_counts_entries_received_of_the_checkpoint_head() {
    let mut s = Store::open_in_memory().unwrap();
    let mut w = Syncer::default();
    let step = w
        .on_frame(
            &mut s,
            batch(
                vec![entry(1, 100, 100), entry(2, 100, 200)],
                false,
                3,
                Some(250),
            ),
        )
        .unwrap();
    let p = step.progress.unwrap();
    assert_eq!(
        (p.wallet.received, p.wallet.cursor, p.wallet.head),
        (2, 2, 3)
    );
    assert!(!p.caught_up);
    assert_eq!(p.totals(), (2, 3));
    w.on_frame(&mut s, batch(vec![entry(3, 50, 250)], true, 3, Some(250)))
        .unwrap();
    let step = w
        .on_frame(&mut s, purchases_batch(vec![], true, 0))
        .unwrap();
    let p = step.progress.unwrap();
    assert!(p.caught_up && step.caught_up);
    assert_eq!(
        (p.wallet.received, p.wallet.cursor, p.wallet.head),
        (3, 3, 3)
    );
    assert_eq!(p.totals(), (3, 3));
}

// ---- the purchases stream ----------------------------------------------------------------------

/// A syncer whose wallet stream is in step already (empty), so only purchases matter.
fn wallet_in_step(s: &mut Store) -> Syncer {
    let mut w = Syncer::default();
    w.on_frame(s, batch(vec![], true, 0, Some(0))).unwrap();
    w
}

#[test]
fn purchases_rows_land_and_online_waits_for_both_streams() {
    let mut s = Store::open_in_memory().unwrap();
    let mut w = Syncer::default();
    let step = w
        .on_frame(
            &mut s,
            purchases_batch(
                vec![purchase_row(1, "p1", 1), purchase_row(2, "p1", 2)],
                true,
                2,
            ),
        )
        .unwrap();
    assert!(
        step.changed && !step.caught_up,
        "the wallet has not caught up yet"
    );
    assert_eq!(s.cursor(PURCHASES_STREAM).unwrap(), 2);
    assert_eq!(s.purchases_len().unwrap(), 1);
    let step = w.on_frame(&mut s, batch(vec![], true, 0, Some(0))).unwrap();
    assert!(step.caught_up);
}

#[test]
fn a_purchases_gap_asks_again_for_purchases_only() {
    let mut s = Store::open_in_memory().unwrap();
    let mut w = wallet_in_step(&mut s);
    w.on_frame(
        &mut s,
        purchases_batch(vec![purchase_row(1, "p1", 1)], true, 1),
    )
    .unwrap();
    // Row 2 got lost; row 3 arrives live.
    let step = w
        .on_frame(
            &mut s,
            purchases_batch(vec![purchase_row(3, "p3", 1)], true, 3),
        )
        .unwrap();
    assert_eq!(step.send, Some(purchases_from(1)));
    assert_eq!(
        step.send,
        Some(ClientFrame::Sync {
            streams: SyncCursors {
                wallet: None,
                purchases: Some(1)
            }
        }),
        "the wallet stream is left alone"
    );
    let step = w
        .on_frame(
            &mut s,
            purchases_batch(
                vec![purchase_row(2, "p2", 1), purchase_row(3, "p3", 1)],
                true,
                3,
            ),
        )
        .unwrap();
    assert!(step.send.is_none());
    assert_eq!(s.cursor(PURCHASES_STREAM).unwrap(), 3);
    assert_eq!(s.purchases_len().unwrap(), 3);
}

#[test]
fn a_purchases_checkpoint_below_our_cursor_is_confirmed_then_rebuilt() {
    let mut s = Store::open_in_memory().unwrap();
    let mut w = wallet_in_step(&mut s);
    w.on_frame(
        &mut s,
        purchases_batch(
            vec![purchase_row(1, "p1", 1), purchase_row(2, "p2", 1)],
            true,
            2,
        ),
    )
    .unwrap();
    let step = w
        .on_frame(&mut s, purchases_batch(vec![], true, 1))
        .unwrap();
    assert_eq!(step.send, Some(purchases_from(2)), "first: ask again");
    assert_eq!(s.purchases_len().unwrap(), 2);
    let step = w
        .on_frame(&mut s, purchases_batch(vec![], true, 1))
        .unwrap();
    assert_eq!(
        step.send,
        Some(purchases_from(0)),
        "confirmed: rebuild from 0"
    );
    assert_eq!(s.purchases_len().unwrap(), 0);
    assert_eq!(s.cursor(PURCHASES_STREAM).unwrap(), 0);
    // The rebuild restores the server's state exactly.
    w.on_frame(
        &mut s,
        purchases_batch(vec![purchase_row(1, "p1", 1)], true, 1),
    )
    .unwrap();
    assert_eq!(s.purchases_len().unwrap(), 1);
    assert_eq!(s.cursor(PURCHASES_STREAM).unwrap(), 1);
}

#[test]
fn a_mid_catch_up_purchases_batch_is_not_judged() {
    let mut s = Store::open_in_memory().unwrap();
    let mut w = wallet_in_step(&mut s);
    let step = w
        .on_frame(
            &mut s,
            purchases_batch(vec![purchase_row(1, "p1", 1)], false, 5),
        )
        .unwrap();
    assert!(step.send.is_none() && !step.caught_up);
    let step = w
        .on_frame(
            &mut s,
            purchases_batch(
                (2..=5)
                    .map(|i| purchase_row(i, &format!("p{i}"), 1))
                    .collect(),
                true,
                5,
            ),
        )
        .unwrap();
    assert!(step.caught_up);
    assert_eq!(s.cursor(PURCHASES_STREAM).unwrap(), 5);
}

// ---- live events (issue 10) ----------------------------------------------------------------

fn created(c: &oddxer_shared::api::CodeOut) -> ServerFrame {
    ServerFrame::Event(LiveEvent::CodeCreated(serde_json::to_value(c).unwrap()))
}

/// `code:created` as a follower of its seller receives it.
fn created_followed(c: &oddxer_shared::api::CodeOut) -> ServerFrame {
    let mut data = serde_json::to_value(c).unwrap();
    data["followed"] = serde_json::Value::Bool(true);
    ServerFrame::Event(LiveEvent::CodeCreated(data))
}

fn updated(c: &oddxer_shared::api::CodeOut) -> ServerFrame {
    ServerFrame::Event(LiveEvent::CodeUpdated(serde_json::to_value(c).unwrap()))
}

fn finalized(c: &oddxer_shared::api::CodeOut) -> ServerFrame {
    ServerFrame::Event(LiveEvent::CodeFinalized(serde_json::to_value(c).unwrap()))
}

/// The ids on the kept page of query `q`, in order.
fn kept_ids(s: &Store, q: &oddxer_shared::client::BrowseIn) -> Vec<String> {
    s.cached_market_page(q)
        .unwrap()
        .items
        .into_iter()
        .map(|c| c.id)
        .collect()
}

fn newest_first_page() -> oddxer_shared::client::BrowseIn {
    oddxer_shared::client::BrowseIn {
        limit: Some(20),
        ..Default::default()
    }
}

#[test]
fn a_followed_tipsters_new_code_lands_at_the_top_of_the_kept_page_and_notifies_once() {
    use crate::testutil::{code, user};
    let mut s = Store::open_in_memory().unwrap();
    s.set_user(&user("u1")).unwrap();
    let q = newest_first_page();
    let mut old = code("c1", "2026-01-01T00:00:00Z");
    old.created_at = "2026-01-01T00:00:00Z".into();
    s.cache_market_page(&q, &[old], None).unwrap();

    let mut fresh = code("c2", "2026-02-01T00:00:00Z");
    fresh.created_at = "2026-02-01T00:00:00Z".into();
    fresh.seller_username = "ace".into();
    let mut w = Syncer::default();
    let step = w.on_frame(&mut s, created_followed(&fresh)).unwrap();
    assert!(step.changed && step.market_changed);
    assert_eq!(step.notified.len(), 1);

    let page = s.cached_market_page(&q).unwrap();
    let ids: Vec<&str> = page.items.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        ["c2", "c1"],
        "the new listing is first on the kept newest page"
    );

    // The same event again (a reconnect): no second notification.
    let again = w.on_frame(&mut s, created_followed(&fresh)).unwrap();
    assert!(again.notified.is_empty());
    let list = s.notifications(50).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].title, "New code from @ace");
    assert_eq!(list[0].code_id.as_deref(), Some("c2"));
    assert_eq!(s.unread_notifications().unwrap(), 1);

    assert!(s.mark_notifications_read(None).unwrap());
    assert_eq!(s.unread_notifications().unwrap(), 0);
    assert!(s.notifications(50).unwrap()[0].read);
}

#[test]
fn an_unfollowed_tipsters_new_code_joins_the_kept_page_without_a_notification() {
    use crate::testutil::{code, user};
    let mut s = Store::open_in_memory().unwrap();
    s.set_user(&user("u1")).unwrap();
    let q = newest_first_page();
    s.cache_market_page(&q, &[code("c1", "2026-01-01T00:00:00Z")], None)
        .unwrap();
    let mut fresh = code("c2", "2026-02-01T00:00:00Z");
    fresh.created_at = "2026-02-01T00:00:00Z".into();
    let step = Syncer::default().on_frame(&mut s, created(&fresh)).unwrap();
    assert!(step.market_changed);
    assert!(step.notified.is_empty(), "{:?}", step.notified);
    assert_eq!(s.unread_notifications().unwrap(), 0);
    let ids = kept_ids(&s, &q);
    assert_eq!(ids, ["c2", "c1"]);
}

#[test]
fn code_updated_moves_places_left_on_the_kept_page_and_a_cancellation_removes_the_card() {
    use crate::testutil::{code, user};
    let mut s = Store::open_in_memory().unwrap();
    s.set_user(&user("u1")).unwrap();
    let q = newest_first_page();
    let mut three = code("c1", "2026-01-01T00:00:00Z");
    three.max_buyers = 3;
    s.cache_market_page(
        &q,
        &[three.clone(), code("c2", "2026-01-01T00:00:00Z")],
        None,
    )
    .unwrap();

    // Someone else bought a place: the card reads 2 of 3 left.
    let mut sold = three.clone();
    sold.sales_count = 1;
    sold.updated_at = "2026-01-02T00:00:00Z".into();
    let step = Syncer::default().on_frame(&mut s, updated(&sold)).unwrap();
    assert!(step.market_changed && !step.seller_changed);
    assert!(step.notified.is_empty());
    let page = s.cached_market_page(&q).unwrap();
    let card = page.items.iter().find(|c| c.id == "c1").unwrap();
    assert_eq!(card.max_buyers - card.sales_count, 2);

    // Its seller cancelled another listing: it leaves the ACTIVE page.
    let mut cancelled = code("c2", "2026-01-03T00:00:00Z");
    cancelled.status = oddxer_shared::CodeStatus::Cancelled;
    Syncer::default()
        .on_frame(&mut s, updated(&cancelled))
        .unwrap();
    let ids = kept_ids(&s, &q);
    assert_eq!(ids, ["c1"]);
}

#[test]
fn a_declined_deposit_notifies_with_its_reason_and_reloads_the_payments() {
    let mut s = Store::open_in_memory().unwrap();
    let payment = serde_json::to_value(oddxer_shared::api::PaymentOut {
        id: "t1".into(),
        reference: "DEP-1".into(),
        kind: oddxer_shared::TransactionType::Deposit,
        payment_method: Some(oddxer_shared::PaymentMethod::MtnMomo),
        phone_number: Some("+256*******56".into()),
        amount: oddxer_shared::Money::new(20_000, &oddxer_shared::Currency("UGX".into())),
        status: oddxer_shared::TransactionStatus::Failed,
        failure_reason: Some(
            "The payment was declined or not approved on the phone; nothing was charged".into(),
        ),
        created_at: "2026-01-01T00:00:00Z".into(),
        updated_at: "2026-01-01T00:01:00Z".into(),
    })
    .unwrap();
    let frame = ServerFrame::Event(LiveEvent::PaymentUpdated(payment.clone()));
    let step = Syncer::default().on_frame(&mut s, frame).unwrap();
    assert!(step.payments_changed);
    assert_eq!(step.notified.len(), 1);
    let n = &step.notified[0];
    assert_eq!(n.id, "payment:DEP-1:FAILED");
    assert_eq!(n.title, "Deposit declined");
    assert!(n.body.contains("UGX 20,000"), "{}", n.body);
    assert_eq!(
        n.body,
        "Your deposit of UGX 20,000 did not go through. The payment was declined or not \
         approved on the phone; nothing was charged."
    );

    // Told twice (two instances, a reconnect): one notification.
    let frame = ServerFrame::Event(LiveEvent::PaymentUpdated(payment));
    let again = Syncer::default().on_frame(&mut s, frame).unwrap();
    assert!(again.notified.is_empty());
    assert_eq!(s.unread_notifications().unwrap(), 1);
}

#[test]
fn my_own_new_code_moves_the_dashboard_but_does_not_notify() {
    use crate::testutil::{code, user};
    let mut s = Store::open_in_memory().unwrap();
    s.set_user(&user("s1")).unwrap();
    let step = Syncer::default()
        .on_frame(&mut s, created(&code("c9", "2026-02-01T00:00:00Z")))
        .unwrap();
    assert!(step.seller_changed);
    assert!(step.notified.is_empty());
    assert_eq!(s.unread_notifications().unwrap(), 0);
}

#[test]
fn a_finalized_code_leaves_the_kept_active_page_and_updates_my_purchase() {
    use crate::testutil::{code, purchase, user};
    let mut s = Store::open_in_memory().unwrap();
    s.set_user(&user("u1")).unwrap();
    let q = newest_first_page();
    s.cache_market_page(
        &q,
        &[
            code("c1", "2026-01-01T00:00:00Z"),
            code("c2", "2026-01-01T00:00:00Z"),
        ],
        None,
    )
    .unwrap();
    s.put_purchase_if_absent(&purchase("p1", "c1", false))
        .unwrap();

    let mut done = code("c1", "2026-03-01T00:00:00Z");
    done.status = oddxer_shared::CodeStatus::Won;
    done.outcome = Some(oddxer_shared::Outcome::Won);
    done.win_votes = 1;
    let step = Syncer::default()
        .on_frame(&mut s, finalized(&done))
        .unwrap();
    assert!(step.changed && step.market_changed);

    let ids = kept_ids(&s, &q);
    assert_eq!(
        ids,
        ["c2"],
        "a finalized code is no longer on the ACTIVE page"
    );

    let mine = s.purchase_of_code("c1").unwrap().unwrap();
    assert_eq!(mine.code.status, oddxer_shared::CodeStatus::Won);
    assert_eq!(mine.code.outcome, Some(oddxer_shared::Outcome::Won));
    assert_eq!(
        mine.code.code.as_deref(),
        Some("SECRET-c1"),
        "the secret stays on my purchase"
    );
    let n = &s.notifications(10).unwrap()[0];
    assert_eq!(n.title, "“Code c1” won");

    // An older copy arriving late changes nothing.
    let stale = code("c1", "2026-02-01T00:00:00Z");
    Syncer::default()
        .on_frame(&mut s, finalized(&stale))
        .unwrap();
    let mine = s.purchase_of_code("c1").unwrap().unwrap();
    assert_eq!(mine.code.status, oddxer_shared::CodeStatus::Won);
}

#[test]
fn a_sale_notifies_the_seller_and_asks_for_the_codes_new_places_left() {
    use crate::testutil::{code, user};
    let mut s = Store::open_in_memory().unwrap();
    s.set_user(&user("s1")).unwrap();
    s.cache_market_codes(&[code("c1", "2026-01-01T00:00:00Z")])
        .unwrap();
    let frame = ServerFrame::Event(LiveEvent::CodePurchased(
        serde_json::json!({"codeId": "c1", "purchaseId": "p7"}),
    ));
    let step = Syncer::default().on_frame(&mut s, frame).unwrap();
    assert!(step.seller_changed);
    assert_eq!(step.refetch_code.as_deref(), Some("c1"));
    let n = &s.notifications(10).unwrap()[0];
    assert_eq!(n.id, "sale:p7");
    assert!(n.body.contains("Code c1"), "{}", n.body);

    // The refetched copy (one place taken of one) drops the sold-out code from the kept page
    // only if its filters no longer admit it; an ACTIVE copy just replaces the old one.
    let mut sold = code("c1", "2026-01-02T00:00:00Z");
    sold.sales_count = 1;
    s.apply_live_code(&sold).unwrap();
    assert_eq!(s.market_code("c1").unwrap().unwrap().sales_count, 1);
}

#[test]
fn a_deposit_completing_while_online_notifies_but_a_first_sync_of_history_does_not() {
    let mut s = Store::open_in_memory().unwrap();
    let mut w = Syncer::default();
    // First sync from 0: history.
    let step = w
        .on_frame(&mut s, batch(vec![entry(1, 100, 100)], true, 1, Some(100)))
        .unwrap();
    assert!(step.notified.is_empty());
    // A later deposit arrives live.
    let step = w
        .on_frame(
            &mut s,
            batch(vec![entry(2, 5_000, 5_100)], true, 2, Some(5_100)),
        )
        .unwrap();
    assert_eq!(step.notified.len(), 1);
    assert_eq!(step.notified[0].title, "Deposit completed");
    assert_eq!(step.notified[0].body, "UGX 5,000 is in your wallet.");
    assert_eq!(s.unread_notifications().unwrap(), 1);
}

#[test]
fn notifications_survive_reopening_the_database() {
    let dir = std::env::temp_dir().join(format!("oddxer-notif-{}", std::process::id()));
    let path = dir.join("db.sqlite3");
    let _ = std::fs::remove_dir_all(&dir);
    {
        let mut s = Store::open(&path).unwrap();
        let mut w = Syncer::default();
        w.on_frame(&mut s, batch(vec![entry(1, 100, 100)], true, 1, Some(100)))
            .unwrap();
        w.on_frame(&mut s, batch(vec![entry(2, 200, 300)], true, 2, Some(300)))
            .unwrap();
    }
    let s = Store::open(&path).unwrap();
    assert_eq!(s.unread_notifications().unwrap(), 1);
    assert_eq!(s.notifications(10).unwrap()[0].id, "entry:wallet:u1:2");
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_live_purchase_row_updates_its_codes_card_in_the_kept_page() {
    use crate::testutil::code;
    let mut s = Store::open_in_memory().unwrap();
    let q = newest_first_page();
    let mut listed = code("cp9", "2026-01-01T00:00:00Z");
    listed.max_buyers = 3;
    s.cache_market_page(&q, &[listed], None).unwrap();
    let mut w = wallet_in_step(&mut s);
    let step = w
        .on_frame(&mut s, purchases_batch(vec![], true, 0))
        .unwrap();
    assert!(step.caught_up);

    let mut row = purchase_row(1, "p9", 1);
    row.purchase.code.max_buyers = 3;
    row.purchase.code.sales_count = 1;
    row.purchase.code.updated_at = "2026-01-02T00:00:00Z".into();
    let step = w
        .on_frame(&mut s, purchases_batch(vec![row], true, 1))
        .unwrap();
    assert!(step.market_changed);
    let card = &s.cached_market_page(&q).unwrap().items[0];
    assert_eq!(card.sales_count, 1, "the card shows the place taken");
    assert_eq!(
        card.code, None,
        "the secret never goes into the public cache"
    );
}
