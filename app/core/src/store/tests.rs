//! Unit tests of `store.rs`.

use super::*;
use crate::testutil::{entry, user, TempDir};

#[test]
fn migrations_are_idempotent() {
    let dir = TempDir::new("store-migrate");
    let path = dir.path().join("db.sqlite3");
    let s = Store::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len());
    drop(s);
    let s = Store::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len());
}

#[test]
fn a_database_from_a_newer_version_is_refused() {
    let dir = TempDir::new("store-newer");
    let path = dir.path().join("db.sqlite3");
    drop(Store::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    assert!(matches!(Store::open(&path), Err(ClientError::Config(_))));
}

#[test]
fn reopening_the_store_keeps_data() {
    let dir = TempDir::new("store-reopen");
    let path = dir.path().join("db.sqlite3");
    let mut s = Store::open(&path).unwrap();
    s.set_user(&user("u1")).unwrap();
    s.apply_wallet_entries(&[entry(1, 500, 500), entry(2, 200, 700)])
        .unwrap();
    s.mark_synced().unwrap();
    drop(s);

    let s = Store::open(&path).unwrap();
    assert_eq!(s.cached_user().unwrap().unwrap().id, "u1");
    assert_eq!(s.cursor(WALLET_STREAM).unwrap(), 2);
    assert_eq!(s.wallet().unwrap().unwrap().balance.amount, 700);
    let ledger = s.ledger(10).unwrap();
    assert_eq!(ledger.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![2, 1]);
    assert!(s.last_synced_at().unwrap().is_some());
}

#[test]
fn cursor_advances_only_over_contiguous_positions() {
    let mut s = Store::open_in_memory().unwrap();
    let a = s
        .apply_wallet_entries(&[entry(1, 100, 100), entry(2, 100, 200)])
        .unwrap();
    assert_eq!((a.cursor, a.saw_gap), (2, false));

    // 4 arrives before 3: stored, but the cursor stays at 2 and the balance at seq 2.
    let a = s.apply_wallet_entries(&[entry(4, 100, 400)]).unwrap();
    assert_eq!(
        (a.cursor, a.saw_gap, a.balance_at_cursor),
        (2, true, Some(200))
    );
    assert_eq!(s.cursor(WALLET_STREAM).unwrap(), 2);
    assert_eq!(s.wallet().unwrap().unwrap().balance.amount, 200);

    // Filling the hole moves the cursor over both 3 and the 4 stored earlier.
    let a = s.apply_wallet_entries(&[entry(3, 100, 300)]).unwrap();
    assert_eq!(
        (a.cursor, a.saw_gap, a.balance_at_cursor),
        (4, false, Some(400))
    );
    assert_eq!(s.wallet().unwrap().unwrap().balance.amount, 400);
    assert_eq!(s.wallet().unwrap().unwrap().seq, 4);
}

#[test]
fn a_first_batch_not_starting_at_one_is_a_gap() {
    let mut s = Store::open_in_memory().unwrap();
    let a = s.apply_wallet_entries(&[entry(2, 100, 200)]).unwrap();
    assert_eq!((a.cursor, a.saw_gap, a.balance_at_cursor), (0, true, None));
    assert!(s.wallet().unwrap().is_none());
}

#[test]
fn duplicate_entries_are_stored_once() {
    let mut s = Store::open_in_memory().unwrap();
    let first = s
        .apply_wallet_entries(&[entry(1, 100, 100), entry(1, 100, 100)])
        .unwrap();
    assert!(first.changed);
    let replay = s.apply_wallet_entries(&[entry(1, 100, 100)]).unwrap();
    assert!(!replay.changed, "a replayed entry changes nothing");
    assert_eq!(s.ledger_len().unwrap(), 1);
    assert_eq!(s.cursor(WALLET_STREAM).unwrap(), 1);
}

#[test]
fn an_older_wallet_answer_never_overwrites_a_newer_position() {
    let mut s = Store::open_in_memory().unwrap();
    s.apply_wallet_entries(&[entry(1, 100, 100), entry(2, 100, 200)])
        .unwrap();
    let ugx = Currency("UGX".into());
    let stale = WalletOut {
        balance: Money::new(100, &ugx),
        currency: "UGX".into(),
        held: Money::new(0, &ugx),
        seq: 1,
    };
    assert!(!s.put_wallet(&stale).unwrap());
    assert_eq!(s.wallet().unwrap().unwrap().balance.amount, 200);
    let fresh = WalletOut {
        balance: Money::new(200, &ugx),
        currency: "UGX".into(),
        held: Money::new(50, &ugx),
        seq: 2,
    };
    assert!(s.put_wallet(&fresh).unwrap());
    assert!(
        !s.put_wallet(&fresh).unwrap(),
        "the same answer twice is no change"
    );
    assert_eq!(s.wallet().unwrap().unwrap().held.amount, 50);
}

#[test]
fn a_different_user_signing_in_wipes_the_previous_users_data() {
    let mut s = Store::open_in_memory().unwrap();
    s.set_user(&user("u1")).unwrap();
    s.apply_wallet_entries(&[entry(1, 100, 100)]).unwrap();
    s.set_user(&user("u1")).unwrap();
    assert_eq!(s.ledger_len().unwrap(), 1, "the same user keeps the cache");
    s.set_user(&user("u2")).unwrap();
    assert_eq!(s.ledger_len().unwrap(), 0);
    assert_eq!(s.cursor(WALLET_STREAM).unwrap(), 0);
    assert!(s.wallet().unwrap().is_none());
}

#[test]
fn an_expired_session_keeps_the_data_for_the_same_user_only() {
    let mut s = Store::open_in_memory().unwrap();
    s.set_user(&user("u1")).unwrap();
    s.apply_wallet_entries(&[entry(1, 100, 100)]).unwrap();
    s.forget_session().unwrap();
    assert!(s.cached_user().unwrap().is_none());
    assert_eq!(s.ledger_len().unwrap(), 1);
    s.set_user(&user("u1")).unwrap();
    assert_eq!(s.ledger_len().unwrap(), 1);
    s.forget_session().unwrap();
    s.set_user(&user("u2")).unwrap();
    assert_eq!(s.ledger_len().unwrap(), 0);
}

#[test]
fn sign_out_forgets_everything() {
    let mut s = Store::open_in_memory().unwrap();
    s.set_user(&user("u1")).unwrap();
    s.apply_wallet_entries(&[entry(1, 100, 100)]).unwrap();
    s.clear_session().unwrap();
    assert!(s.cached_user().unwrap().is_none());
    assert!(s.wallet().unwrap().is_none());
    assert_eq!(s.ledger_len().unwrap(), 0);
}

#[test]
fn reset_stream_allows_a_rebuild_from_zero() {
    let mut s = Store::open_in_memory().unwrap();
    s.apply_wallet_entries(&[entry(1, 100, 100), entry(2, 100, 200)])
        .unwrap();
    s.reset_wallet_stream().unwrap();
    assert_eq!(s.cursor(WALLET_STREAM).unwrap(), 0);
    let a = s.apply_wallet_entries(&[entry(1, 70, 70)]).unwrap();
    assert_eq!(a.cursor, 1);
    assert_eq!(s.wallet().unwrap().unwrap().balance.amount, 70);
}
