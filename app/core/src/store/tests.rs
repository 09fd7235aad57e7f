//! Unit tests of `store.rs`.

use super::*;
use crate::testutil::{entry, user, TempDir};
use oddxer_shared::api::WalletOut;
use oddxer_shared::Currency;
use oddxer_shared::VoteType;

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

// ---- purchases stream ------------------------------------------------------------------------

mod purchases {
    use super::*;
    use crate::testutil::{purchase, purchase_row};

    #[test]
    fn the_purchases_cursor_advances_only_over_contiguous_positions() {
        let mut s = Store::open_in_memory().unwrap();
        let a = s
            .apply_purchase_entries(&[purchase_row(1, "p1", 1)])
            .unwrap();
        assert_eq!((a.cursor, a.saw_gap, a.changed), (1, false, true));

        // 3 before 2: kept (readable at once) but the cursor waits for the hole.
        let a = s
            .apply_purchase_entries(&[purchase_row(3, "p3", 1)])
            .unwrap();
        assert_eq!((a.cursor, a.saw_gap), (1, true));
        assert_eq!(s.cursor(PURCHASES_STREAM).unwrap(), 1);
        assert_eq!(s.purchases_len().unwrap(), 2);

        let a = s
            .apply_purchase_entries(&[purchase_row(2, "p2", 1)])
            .unwrap();
        assert_eq!((a.cursor, a.saw_gap), (3, false));
        assert_eq!(s.cursor(PURCHASES_STREAM).unwrap(), 3);
        assert_eq!(
            a.balance_at_cursor, None,
            "the purchases checkpoint has no balance"
        );
    }

    #[test]
    fn a_purchase_keeps_its_highest_version() {
        let mut s = Store::open_in_memory().unwrap();
        s.apply_purchase_entries(&[purchase_row(1, "p1", 1), purchase_row(2, "p1", 2)])
            .unwrap();
        let p = s.purchases(None).unwrap();
        assert_eq!(p.len(), 1);
        assert!(p[0].settlement.is_some(), "version 2 is the settled row");

        // A replay of the older row (a re-sync from 0) does not take it back.
        let a = s
            .apply_purchase_entries(&[purchase_row(1, "p1", 1)])
            .unwrap();
        assert!(!a.changed);
        assert!(s.purchases(None).unwrap()[0].settlement.is_some());
        assert_eq!(s.cursor(PURCHASES_STREAM).unwrap(), 2);
    }

    #[test]
    fn a_replayed_batch_changes_nothing() {
        let mut s = Store::open_in_memory().unwrap();
        let rows = [purchase_row(1, "p1", 1), purchase_row(2, "p2", 1)];
        assert!(s.apply_purchase_entries(&rows).unwrap().changed);
        let again = s.apply_purchase_entries(&rows).unwrap();
        assert!(!again.changed);
        assert_eq!(s.purchases_len().unwrap(), 2);
    }

    #[test]
    fn the_purchase_answer_is_kept_until_its_stream_row_replaces_it() {
        let mut s = Store::open_in_memory().unwrap();
        let mut direct = purchase("p1", "cp1", false);
        direct.code.title = "from the answer".into();
        assert!(s.put_purchase_if_absent(&direct).unwrap());
        assert!(!s.put_purchase_if_absent(&direct).unwrap());
        assert_eq!(s.cursor(PURCHASES_STREAM).unwrap(), 0, "no stream position");
        s.apply_purchase_entries(&[purchase_row(1, "p1", 1)])
            .unwrap();
        let p = s.purchase_of_code("cp1").unwrap().unwrap();
        assert_eq!(p.code.title, "Code cp1", "the stream row won");
        // And an answer arriving late never replaces a stream row.
        assert!(!s.put_purchase_if_absent(&direct).unwrap());
    }

    #[test]
    fn purchases_keep_their_secret_code_across_a_reopen() {
        let dir = TempDir::new("store-purchases");
        let path = dir.path().join("db.sqlite3");
        let mut s = Store::open(&path).unwrap();
        s.set_user(&user("u1")).unwrap();
        s.apply_purchase_entries(&[purchase_row(1, "p1", 1)])
            .unwrap();
        drop(s);
        let s = Store::open(&path).unwrap();
        let p = s.purchases(None).unwrap();
        assert_eq!(p[0].code.code.as_deref(), Some("SECRET-cp1"));
        assert_eq!(s.cursor(PURCHASES_STREAM).unwrap(), 1);
    }

    #[test]
    fn purchases_are_newest_first_and_capped() {
        let mut s = Store::open_in_memory().unwrap();
        let mut older = purchase_row(1, "p1", 1);
        older.purchase.created_at = "2026-01-01T00:00:00.5Z".into();
        let mut newer = purchase_row(2, "p2", 1);
        newer.purchase.created_at = "2026-01-01T00:00:01Z".into();
        s.apply_purchase_entries(&[older, newer]).unwrap();
        let ids: Vec<_> = s
            .purchases(None)
            .unwrap()
            .into_iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(ids, vec!["p2", "p1"]);
        assert_eq!(s.purchases(Some(1)).unwrap().len(), 1);
    }

    #[test]
    fn a_delivered_vote_shows_on_the_purchase() {
        let mut s = Store::open_in_memory().unwrap();
        s.apply_purchase_entries(&[purchase_row(1, "p1", 1)])
            .unwrap();
        assert!(s.record_my_vote("cp1", VoteType::Loss).unwrap());
        assert!(!s.record_my_vote("cp1", VoteType::Loss).unwrap());
        assert_eq!(
            s.purchases(None).unwrap()[0].code.my_vote,
            Some(VoteType::Loss)
        );
    }

    #[test]
    fn resetting_the_stream_forgets_purchases_for_a_rebuild() {
        let mut s = Store::open_in_memory().unwrap();
        s.apply_purchase_entries(&[purchase_row(1, "p1", 1)])
            .unwrap();
        s.reset_purchases_stream().unwrap();
        assert_eq!(s.cursor(PURCHASES_STREAM).unwrap(), 0);
        assert_eq!(s.purchases_len().unwrap(), 0);
        assert_eq!(
            s.apply_purchase_entries(&[purchase_row(1, "p9", 1)])
                .unwrap()
                .cursor,
            1
        );
    }

    #[test]
    fn another_user_never_sees_my_purchases_or_outbox() {
        let mut s = Store::open_in_memory().unwrap();
        s.set_user(&user("u1")).unwrap();
        s.apply_purchase_entries(&[purchase_row(1, "p1", 1)])
            .unwrap();
        s.enqueue_vote("cp1", VoteType::Win).unwrap();
        s.money_key("purchase:cp1").unwrap();
        s.set_user(&user("u2")).unwrap();
        assert_eq!(s.purchases_len().unwrap(), 0);
        assert_eq!(s.cursor(PURCHASES_STREAM).unwrap(), 0);
        assert!(s.outbox().unwrap().is_empty());
    }
}

// ---- marketplace page cache ------------------------------------------------------------------

mod market {
    use super::*;
    use crate::testutil::code;
    use oddxer_shared::client::{BrowseIn, CodeSort};
    use oddxer_shared::{CodeStatus, Sport};

    #[test]
    fn the_first_page_of_a_query_is_served_back_in_order() {
        let mut s = Store::open_in_memory().unwrap();
        let q = BrowseIn {
            sport: Some(Sport::Football),
            ..BrowseIn::default()
        };
        let items = [
            code("b", "2026-01-01T00:00:00Z"),
            code("a", "2026-01-01T00:00:00Z"),
        ];
        s.cache_market_page(&q, &items, Some("next")).unwrap();
        let page = s.cached_market_page(&q).unwrap();
        assert!(page.from_cache);
        assert!(page.cached_at.is_some());
        assert_eq!(page.items, items.to_vec());
        assert_eq!(page.next_cursor, None, "later pages are not kept offline");
        // A later page offline: nothing more.
        let later = BrowseIn {
            cursor: Some("next".into()),
            ..q.clone()
        };
        assert!(s.cached_market_page(&later).unwrap().items.is_empty());
    }

    #[test]
    fn upserts_are_idempotent_and_never_go_back_in_time() {
        let mut s = Store::open_in_memory().unwrap();
        let mut newer = code("a", "2026-01-02T00:00:00Z");
        newer.sales_count = 1;
        let older = code("a", "2026-01-01T00:00:00.999Z");
        s.cache_market_codes(std::slice::from_ref(&newer)).unwrap();
        s.cache_market_codes(std::slice::from_ref(&newer)).unwrap();
        s.cache_market_codes(std::slice::from_ref(&older)).unwrap();
        assert_eq!(s.market_code("a").unwrap().unwrap(), newer);
        let count: i64 = s
            .conn
            .query_row("SELECT COUNT(*) FROM market_codes", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, 1);
        // A page fetched later but carrying the older copy shows the newer one.
        s.cache_market_page(&BrowseIn::default(), &[older], None)
            .unwrap();
        let page = s.cached_market_page(&BrowseIn::default()).unwrap();
        assert_eq!(page.items, vec![newer]);
    }

    #[test]
    fn the_secret_and_my_vote_never_enter_the_cache() {
        let mut s = Store::open_in_memory().unwrap();
        let mut c = code("a", "2026-01-01T00:00:00Z");
        c.code = Some("SECRET".into());
        c.my_vote = Some(VoteType::Win);
        s.cache_market_codes(&[c]).unwrap();
        let cached = s.market_code("a").unwrap().unwrap();
        assert_eq!((cached.code, cached.my_vote), (None, None));
    }

    #[test]
    fn an_unseen_query_is_answered_from_cached_codes_that_match() {
        let mut s = Store::open_in_memory().unwrap();
        let mut cheap = code("cheap", "2026-01-01T00:00:00Z");
        cheap.price.amount = 500;
        let mut dear = code("dear", "2026-01-01T00:00:00Z");
        dear.price.amount = 5_000;
        let mut tennis = code("tennis", "2026-01-01T00:00:00Z");
        tennis.sport = Sport::Tennis;
        let mut sold = code("sold", "2026-01-01T00:00:00Z");
        sold.status = CodeStatus::SoldOut;
        s.cache_market_page(&BrowseIn::default(), &[cheap, dear, tennis, sold], None)
            .unwrap();

        let q = BrowseIn {
            sport: Some(Sport::Football),
            sort: Some(CodeSort::PriceDesc),
            ..BrowseIn::default()
        };
        let page = s.cached_market_page(&q).unwrap();
        let ids: Vec<_> = page.items.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            vec!["dear", "cheap"],
            "ACTIVE football codes, dearest first"
        );
        assert!(page.from_cache && page.cached_at.is_none());

        let q = BrowseIn {
            max_price: Some(1_000),
            sort: Some(CodeSort::Price),
            ..BrowseIn::default()
        };
        let ids: Vec<_> = s
            .cached_market_page(&q)
            .unwrap()
            .items
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(
            ids,
            vec!["cheap", "tennis"],
            "cheapest first, the dear one filtered out"
        );
        let q = BrowseIn {
            limit: Some(1),
            ..q
        };
        assert_eq!(s.cached_market_page(&q).unwrap().items.len(), 1);
    }

    #[test]
    fn the_cache_survives_a_sign_out() {
        let mut s = Store::open_in_memory().unwrap();
        s.set_user(&user("u1")).unwrap();
        s.cache_market_page(
            &BrowseIn::default(),
            &[code("a", "2026-01-01T00:00:00Z")],
            None,
        )
        .unwrap();
        s.clear_session().unwrap();
        assert_eq!(
            s.cached_market_page(&BrowseIn::default())
                .unwrap()
                .items
                .len(),
            1
        );
    }
}

// ---- outbox and money keys -------------------------------------------------------------------

mod outbox {
    use super::*;
    use oddxer_shared::client::OutboxState;

    #[test]
    fn a_newer_vote_for_the_same_code_replaces_the_queued_one() {
        let mut s = Store::open_in_memory().unwrap();
        let first = s.enqueue_vote("c1", VoteType::Win).unwrap();
        s.enqueue_vote("c2", VoteType::Win).unwrap();
        let again = s.enqueue_vote("c1", VoteType::Loss).unwrap();
        assert_ne!(first.id, again.id);
        let items = s.pending_outbox().unwrap();
        assert_eq!(items.len(), 2);
        let c1 = items.iter().find(|i| i.code_id == "c1").unwrap();
        assert_eq!(
            (c1.vote_type, c1.state, c1.attempts),
            (VoteType::Loss, OutboxState::Pending, 0)
        );
    }

    #[test]
    fn delivered_items_go_refused_ones_stay_visible_and_attempts_count() {
        let mut s = Store::open_in_memory().unwrap();
        let a = s.enqueue_vote("c1", VoteType::Win).unwrap();
        let b = s.enqueue_vote("c2", VoteType::Win).unwrap();
        let c = s.enqueue_vote("c3", VoteType::Loss).unwrap();
        s.outbox_delivered(&a.id).unwrap();
        s.outbox_refused(&b.id, "Voting on this code is closed")
            .unwrap();
        s.outbox_attempted(&c.id, "offline").unwrap();

        let pending = s.pending_outbox().unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(
            (pending[0].code_id.as_str(), pending[0].attempts),
            ("c3", 1)
        );
        let all = s.outbox().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].state, OutboxState::Failed, "refused items come last");
        assert_eq!(
            all[1].last_error.as_deref(),
            Some("Voting on this code is closed")
        );
    }

    #[test]
    fn the_outbox_survives_a_restart() {
        let dir = TempDir::new("store-outbox");
        let path = dir.path().join("db.sqlite3");
        let mut s = Store::open(&path).unwrap();
        s.enqueue_vote("c1", VoteType::Win).unwrap();
        drop(s);
        assert_eq!(
            Store::open(&path).unwrap().pending_outbox().unwrap().len(),
            1
        );
    }

    #[test]
    fn a_money_key_is_reused_until_the_action_is_answered() {
        let mut s = Store::open_in_memory().unwrap();
        let k1 = s.money_key("purchase:c1").unwrap();
        assert_eq!(
            s.money_key("purchase:c1").unwrap(),
            k1,
            "a retry reuses the key"
        );
        assert_ne!(
            s.money_key("purchase:c2").unwrap(),
            k1,
            "another action, another key"
        );
        s.clear_money_key("purchase:c1").unwrap();
        assert_ne!(
            s.money_key("purchase:c1").unwrap(),
            k1,
            "answered: the next one is new"
        );
    }

    #[test]
    fn a_stale_money_key_is_not_reused() {
        let mut s = Store::open_in_memory().unwrap();
        let k1 = s.money_key("deposit:1").unwrap();
        s.conn
            .execute(
                "UPDATE money_keys SET created_ms = created_ms - ?1",
                [crate::store::outbox::MONEY_KEY_TTL_MS + 1],
            )
            .unwrap();
        assert_ne!(s.money_key("deposit:1").unwrap(), k1);
    }
}

mod boards {
    use super::*;
    use oddxer_shared::api::{FollowedSellerOut, LeaderboardEntryOut, Page};
    use oddxer_shared::client::{LeaderboardIn, LeaderboardPeriod, LeaderboardSort};
    use oddxer_shared::{Currency, Money, Sport};

    fn row(id: &str, win_rate: f64) -> LeaderboardEntryOut {
        LeaderboardEntryOut {
            seller_id: id.into(),
            username: format!("t_{id}"),
            rank: Some(1),
            total_sales: 4,
            total_wins: 3,
            total_losses: 1,
            total_voids: 0,
            win_rate,
            average_roi: 12.5,
            total_revenue: Money::new(9_000, &Currency("UGX".into())),
            updated_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn each_leaderboard_query_keeps_its_own_first_page_for_offline_reading() {
        let mut s = Store::open_in_memory().unwrap();
        let week = LeaderboardIn {
            sort: Some(LeaderboardSort::Yield),
            period: Some(LeaderboardPeriod::Days7),
            sport: Some(Sport::Football),
            cursor: None,
        };
        let all = LeaderboardIn::default();
        let page = |id: &str| Page {
            items: vec![row(id, 75.0)],
            next_cursor: None,
        };
        s.cache_leaderboard(&week, &page("a")).unwrap();
        s.cache_leaderboard(&all, &page("b")).unwrap();
        assert_eq!(
            s.cached_leaderboard(&week).unwrap().unwrap().items[0].seller_id,
            "a"
        );
        assert_eq!(
            s.cached_leaderboard(&all).unwrap().unwrap().items[0].seller_id,
            "b"
        );
        let month = LeaderboardIn {
            period: Some(LeaderboardPeriod::Days30),
            ..LeaderboardIn::default()
        };
        assert!(s.cached_leaderboard(&month).unwrap().is_none());
        let later = LeaderboardIn {
            cursor: Some("x".into()),
            ..all.clone()
        };
        assert!(s.cached_leaderboard(&later).unwrap().is_none());
    }

    #[test]
    fn the_following_list_is_kept_and_wiped_with_the_user() {
        let mut s = Store::open_in_memory().unwrap();
        s.set_user(&user("u1")).unwrap();
        let list = vec![FollowedSellerOut {
            seller_id: "s1".into(),
            username: "ace".into(),
            followed_at: "2026-01-01T00:00:00Z".into(),
        }];
        s.cache_following(&list).unwrap();
        assert_eq!(s.cached_following().unwrap().unwrap(), list);
        s.set_user(&user("u2")).unwrap();
        assert!(s.cached_following().unwrap().is_none());
    }
}
