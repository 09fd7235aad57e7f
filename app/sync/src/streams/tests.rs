//! The sync rules over the in-memory store (the SQLite store runs the same `Syncer` in app/core's
//! `sync/tests.rs`).

use super::*;
use crate::fixtures::{entry, purchase_row, purchases_batch, wallet_batch};
use crate::MemoryStreams;

fn wallet_from(cursor: i64) -> ClientFrame {
    Stream::Wallet.resync_frame(cursor)
}

#[test]
fn positions_advance_only_over_a_contiguous_run() {
    assert_eq!(contiguous_from(0, [1, 2, 3]), (3, false));
    assert_eq!(contiguous_from(0, [1, 2, 4, 5]), (2, true));
    assert_eq!(
        contiguous_from(2, [1, 2, 3, 3, 4]),
        (4, false),
        "old and repeated positions are skipped"
    );
    assert_eq!(contiguous_from(5, []), (5, false));
    assert_eq!(contiguous_from(0, [2]), (0, true));
}

#[test]
fn checkpoints_are_judged_against_the_cursor_and_the_balance() {
    let at = |cursor, balance| Applied {
        cursor,
        balance_at_cursor: balance,
        ..Applied::default()
    };
    let cp = |head, balance| Checkpoint { head, balance };
    assert_eq!(judge(&at(3, Some(50)), &cp(3, Some(50))), Verdict::InStep);
    assert_eq!(judge(&at(3, None), &cp(3, None)), Verdict::InStep);
    assert_eq!(judge(&at(2, Some(50)), &cp(3, Some(80))), Verdict::Behind);
    assert_eq!(
        judge(&at(4, Some(50)), &cp(3, Some(50))),
        Verdict::AheadOfServer
    );
    assert_eq!(judge(&at(3, Some(49)), &cp(3, Some(50))), Verdict::Diverged);
}

#[test]
fn a_catch_up_in_step_goes_online_once() {
    let mut s = MemoryStreams::default();
    let mut w = Syncer::default();
    assert_eq!(w.start(&s).unwrap(), sync_frame(0, 0));
    let step = w
        .on_frame(
            &mut s,
            wallet_batch(
                vec![entry(1, 500, 500), entry(2, -200, 300)],
                true,
                2,
                Some(300),
            ),
        )
        .unwrap();
    assert!(
        step.changed && !step.caught_up && step.send.is_none(),
        "purchases not in step yet"
    );
    let step = w
        .on_frame(
            &mut s,
            purchases_batch(vec![purchase_row(1, "p1", 1)], true, 1),
        )
        .unwrap();
    assert!(step.caught_up && w.is_online());
    assert_eq!(s.synced_marks, 1);
    assert_eq!(s.wallet().map(|w| w.balance.amount), Some(300));
    assert_eq!(
        w.start(&s).unwrap(),
        sync_frame(2, 1),
        "the next connection resumes from the cursors"
    );

    // A later live batch in step is not a second "caught up".
    let step = w
        .on_frame(
            &mut s,
            wallet_batch(vec![entry(3, 100, 400)], true, 3, Some(400)),
        )
        .unwrap();
    assert!(!step.caught_up && step.changed);
}

#[test]
fn a_hole_asks_again_from_the_cursor_and_fills_in_later() {
    let mut s = MemoryStreams::default();
    let mut w = Syncer::default();
    let step = w
        .on_frame(
            &mut s,
            wallet_batch(
                vec![entry(1, 500, 500), entry(3, 100, 700)],
                true,
                3,
                Some(700),
            ),
        )
        .unwrap();
    assert_eq!(step.send, Some(wallet_from(1)));
    assert_eq!(s.cursor(Stream::Wallet).unwrap(), 1);
    // Position 2 commits late; the stored 3 is picked up with it.
    let step = w
        .on_frame(
            &mut s,
            wallet_batch(
                vec![entry(2, 100, 600), entry(3, 100, 700)],
                true,
                3,
                Some(700),
            ),
        )
        .unwrap();
    assert!(step.send.is_none());
    assert_eq!(s.cursor(Stream::Wallet).unwrap(), 3);
    assert_eq!(s.wallet().map(|w| w.balance.amount), Some(700));
}

#[test]
fn a_different_balance_at_the_same_head_rebuilds_from_zero() {
    let mut s = MemoryStreams::default();
    let mut w = Syncer::default();
    w.on_frame(
        &mut s,
        wallet_batch(vec![entry(1, 500, 500)], true, 1, Some(500)),
    )
    .unwrap();
    let step = w
        .on_frame(&mut s, wallet_batch(vec![], true, 1, Some(900)))
        .unwrap();
    assert_eq!(step.send, Some(wallet_from(0)));
    assert_eq!(step.rebuilt, Some(Stream::Wallet));
    assert_eq!(s.cursor(Stream::Wallet).unwrap(), 0);
    assert_eq!(s.ledger_len(), 0);
}

#[test]
fn a_server_behind_us_is_asked_once_more_before_the_rebuild() {
    let mut s = MemoryStreams::default();
    let mut w = Syncer::default();
    w.on_frame(
        &mut s,
        wallet_batch(vec![entry(1, 5, 5), entry(2, 5, 10)], true, 2, Some(10)),
    )
    .unwrap();
    let step = w
        .on_frame(&mut s, wallet_batch(vec![], true, 1, Some(5)))
        .unwrap();
    assert_eq!(step.send, Some(wallet_from(2)), "first: ask again");
    assert!(step.rebuilt.is_none());
    let step = w
        .on_frame(&mut s, wallet_batch(vec![], true, 1, Some(5)))
        .unwrap();
    assert_eq!(step.send, Some(wallet_from(0)), "confirmed: rebuild");
}

#[test]
fn a_stream_that_never_comes_in_step_gives_up() {
    let mut s = MemoryStreams::default();
    let mut w = Syncer::default();
    let mut last = Ok(Step::default());
    for _ in 0..=MAX_RESYNCS_IN_A_ROW {
        last = w.on_frame(&mut s, wallet_batch(vec![], true, 9, Some(1)));
    }
    assert_eq!(last, Err(SyncError::OutOfStep));
}

#[test]
fn a_mid_catch_up_batch_is_not_judged() {
    let mut s = MemoryStreams::default();
    let mut w = Syncer::default();
    let step = w
        .on_frame(
            &mut s,
            purchases_batch(vec![purchase_row(1, "p1", 1)], false, 2),
        )
        .unwrap();
    assert!(step.send.is_none() && !step.caught_up);
    let p = step.progress.unwrap();
    assert_eq!(
        (p.purchases.received, p.purchases.cursor, p.purchases.head),
        (1, 1, 2)
    );
}

#[test]
fn error_frames_say_what_the_connection_must_do() {
    let mut s = MemoryStreams::default();
    let mut w = Syncer::default();
    let err = |code: &str| ServerFrame::Error {
        code: code.into(),
        message: "m".into(),
    };
    assert!(matches!(
        w.on_frame(&mut s, err("TOKEN_EXPIRED")),
        Err(SyncError::Auth { .. })
    ));
    assert!(matches!(
        w.on_frame(&mut s, err("SESSION_REVOKED")),
        Err(SyncError::SessionEnded { .. })
    ));
    assert!(matches!(
        w.on_frame(&mut s, err("SYNC_UNAVAILABLE")),
        Err(SyncError::Unavailable { .. })
    ));
    let step = w.on_frame(&mut s, err("SOMETHING_ELSE")).unwrap();
    assert_eq!(
        step.server_error,
        Some(("SOMETHING_ELSE".into(), "m".into()))
    );
}
