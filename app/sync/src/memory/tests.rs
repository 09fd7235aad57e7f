//! The in-memory store keeps the SQLite store's rules.

use super::*;
use crate::fixtures::{entry, purchase, purchase_row, ugx};

fn wallet(balance: i64, held: i64, seq: i64) -> WalletOut {
    WalletOut {
        balance: Money::new(balance, &ugx()),
        currency: "UGX".into(),
        held: Money::new(held, &ugx()),
        seq,
    }
}

#[test]
fn a_replayed_batch_changes_nothing() {
    let mut s = MemoryStreams::default();
    let batch = [entry(1, 500, 500), entry(2, -100, 400)];
    let first = s.apply_wallet_entries(&batch).unwrap();
    assert!(first.changed);
    assert_eq!((first.cursor, first.balance_at_cursor), (2, Some(400)));
    let again = s.apply_wallet_entries(&batch).unwrap();
    assert!(!again.changed);
    assert_eq!(
        s.ledger(10).iter().map(|e| e.seq).collect::<Vec<_>>(),
        [2, 1],
        "newest first"
    );
}

#[test]
fn the_balance_follows_the_ledger_unless_a_newer_wallet_answer_is_held() {
    let mut s = MemoryStreams::default();
    assert!(s.put_wallet(&wallet(900, 50, 5)));
    s.apply_wallet_entries(&[entry(1, 500, 500)]).unwrap();
    assert_eq!(
        s.wallet(),
        Some(&wallet(900, 50, 5)),
        "an older ledger head does not win"
    );
    let mut later: Vec<_> = (2..=6)
        .map(|seq| entry(seq, 100, 500 + 100 * (seq - 1)))
        .collect();
    later.insert(0, entry(1, 500, 500));
    s.apply_wallet_entries(&later).unwrap();
    assert_eq!(
        s.wallet(),
        Some(&wallet(1000, 50, 6)),
        "held is kept, the balance moves on"
    );
    assert!(
        !s.put_wallet(&wallet(1, 0, 4)),
        "a stale GET /wallet is ignored"
    );
}

#[test]
fn purchases_keep_their_highest_version_and_a_direct_copy_yields_to_the_stream() {
    let mut s = MemoryStreams::default();
    let bought = purchase("p1", "cp1", false, "2026-01-01T00:00:00Z");
    assert!(s.put_purchase_if_absent(&bought));
    assert!(!s.put_purchase_if_absent(&bought));
    s.apply_purchase_entries(&[purchase_row(1, "p1", 2)])
        .unwrap();
    assert!(s
        .purchase_of_code("cp1")
        .is_some_and(|p| p.settlement.is_some()));
    // An older version arriving late does not overwrite the settled row.
    let a = s
        .apply_purchase_entries(&[purchase_row(1, "p1", 1)])
        .unwrap();
    assert!(!a.changed);
    assert!(s.purchases(None)[0].settlement.is_some());
}

#[test]
fn my_votes_show_on_purchases_until_the_row_carries_one() {
    let mut s = MemoryStreams::default();
    s.apply_purchase_entries(&[purchase_row(1, "p1", 1)])
        .unwrap();
    assert!(s.record_my_vote("cp1", VoteType::Win));
    assert!(!s.record_my_vote("cp1", VoteType::Win));
    assert_eq!(s.purchases(None)[0].code.my_vote, Some(VoteType::Win));
}

#[test]
fn purchases_are_listed_newest_first() {
    let mut s = MemoryStreams::default();
    s.put_purchase_if_absent(&purchase("a", "ca", false, "2026-01-01T00:00:00Z"));
    s.put_purchase_if_absent(&purchase("b", "cb", false, "2026-03-01T00:00:00Z"));
    let ids: Vec<_> = s.purchases(None).into_iter().map(|p| p.id).collect();
    assert_eq!(ids, ["b", "a"]);
    assert_eq!(s.purchases(Some(1)).len(), 1);
}

#[test]
fn the_whole_copy_survives_a_round_trip_through_json() {
    let mut s = MemoryStreams::default();
    s.apply_wallet_entries(&[entry(1, 500, 500)]).unwrap();
    s.apply_purchase_entries(&[purchase_row(1, "p1", 1), purchase_row(3, "p3", 1)])
        .unwrap();
    s.record_my_vote("cp1", VoteType::Loss);
    let text = serde_json::to_string(&s).unwrap();
    let back: MemoryStreams = serde_json::from_str(&text).unwrap();
    assert_eq!(back, s);
    assert_eq!(
        back.cursor(Stream::Purchases).unwrap(),
        1,
        "position 3 waits beyond the hole"
    );
}
