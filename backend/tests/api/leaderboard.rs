//! The leaderboard: maintained at each finalization, equal to a recomputation from scratch, ranked
//! and paged as DESIGN.md section 3 says.

use crate::codes::{id_of, list_code};
use crate::helpers::{unique_phone, unique_username, Session, TestApp};
use mongodb::bson::oid::ObjectId;
use oddxer_backend::leaderboard::rules::rank_cmp;
use oddxer_backend::leaderboard::service::{recompute_all, stored_rows};
use oddxer_backend::resolution::finalize::{self, DecidedBy};
use oddxer_shared::Outcome;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::time::Duration;

/// Codes finalized by the big consistency test.
const CODES: i64 = 200;

#[tokio::test]
async fn a_few_hundred_codes_finalized_in_random_order_agree_with_the_recomputation() {
    let phone = unique_phone();
    let app = TestApp::spawn_with(&[
        ("ADMIN_PHONE_NUMBERS", &phone),
        ("MARKET_WORKER_INTERVAL", "1h"),
        ("LEADERBOARD_MIN_FINALIZED", "3"),
    ])
    .await;
    app.register(&phone, &unique_username()).await;
    let admin = app.sign_in(&phone).await;
    let seed: u64 = rand::random();
    println!("leaderboard test seed {seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut sellers = vec![];
    for _ in 0..6 {
        sellers.push(app.signed_in_user("SELLER").await);
    }
    // Buyers are funded once; every purchase below is a real one (money into escrow, settled at
    // finalization through the settlement hook).
    let mut buyers = vec![];
    for _ in 0..5 {
        let b = app.signed_in_user("BUYER").await;
        app.funded(&b, 5_000_000).await;
        buyers.push(b);
    }
    let mut codes = vec![];
    for i in 0..CODES {
        let seller = &sellers[rng.gen_range(0..sellers.len())];
        let odds = rng.gen_range(101..5_000) as f64 / 100.0;
        let price = rng.gen_range(500..20_000);
        let max_buyers = rng.gen_range(1..=3);
        let code = id_of(&list_code(&app, seller, json!({ "odds": odds, "price": price, "maxBuyers": max_buyers, "title": format!("Code number {i}") })).await);
        let n = rng.gen_range(0..=max_buyers.min(2)) as usize;
        for b in buyers.choose_multiple(&mut rng, n) {
            let r = app.purchase(b, &code).await;
            assert_eq!(r.status.as_u16(), 200, "{}", r.body);
        }
        codes.push(code);
    }
    for code in &codes {
        app.expire_code(code, Duration::from_secs(60)).await;
    }
    codes.shuffle(&mut rng);
    // Finalize in random order, several at a time, by the admin route and by direct decisions.
    for chunk in codes.chunks(8) {
        let jobs = chunk.iter().map(|code| {
            let outcome =
                [Outcome::Won, Outcome::Lost, Outcome::Won, Outcome::Void][rng.gen_range(0..4)];
            let by_route = rng.gen_bool(0.3);
            let (app, admin) = (&app, &admin);
            async move {
                if by_route {
                    let r = app
                        .post(
                            &format!("/admin/codes/{code}/resolve"),
                            Some(&admin.access),
                            &json!({ "outcome": outcome }),
                        )
                        .await;
                    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
                } else {
                    let c = oddxer_backend::codes::store::find(
                        &app.db,
                        ObjectId::parse_str(code).expect("oid"),
                    )
                    .await
                    .expect("read")
                    .expect("code");
                    finalize::resolve(&app.state, &c, outcome, DecidedBy::Verifier, None)
                        .await
                        .expect("resolve");
                }
            }
        });
        futures_util::future::join_all(jobs).await;
    }
    assert_eq!(app.count("code_resolutions").await, CODES as u64);
    assert_eq!(app.count("leaderboard_contributions").await, CODES as u64);

    let stored = stored_rows(&app.state).await.expect("stored");
    let recomputed = recompute_all(&app.state).await.expect("recompute");
    assert_eq!(
        stored, recomputed,
        "incremental rows differ from the recomputation (seed {seed})"
    );
    let finalized: i64 = stored.iter().map(|r| r.wins + r.losses + r.voids).sum();
    assert_eq!(finalized, CODES);

    // The API shows the same rows in rank order, ranked sellers first.
    let page = app.get("/leaderboard?limit=100", None).await;
    let items = page.data()["items"].as_array().expect("items").clone();
    let mut expected = recomputed.clone();
    expected.sort_by(|a, b| b.ranked(3).cmp(&a.ranked(3)).then(rank_cmp(a, b)));
    assert_eq!(
        items
            .iter()
            .map(|i| i["sellerId"].as_str().expect("id").to_owned())
            .collect::<Vec<_>>(),
        expected
            .iter()
            .map(|r| r.seller.to_hex())
            .collect::<Vec<_>>()
    );
    for (item, row) in items.iter().zip(&expected) {
        assert_eq!(item["totalSales"], row.total_sales);
        assert_eq!(item["totalRevenue"]["amount"], row.revenue);
        assert_eq!(item["winRate"], json!(row.win_rate_bps() as f64 / 100.0));
    }

    // Outside tests the leaderboard is served from an in-process read model: a second process on
    // the same database with it on walks every sort page by page to the same rows and ranks.
    let cached = TestApp::spawn_with(&[
        ("DB_NAME", app.config.db_name.as_str()),
        ("MARKET_CACHE_TTL", "60s"),
        ("MARKET_WORKER_INTERVAL", "1h"),
        ("LEADERBOARD_MIN_FINALIZED", "3"),
    ])
    .await;
    for query in [
        "limit=100",
        "limit=4",
        "sort=totalSales&limit=5",
        "sort=winRate&limit=100",
        "sort=totalRevenue&limit=3",
    ] {
        assert_eq!(
            walk(&cached, query).await,
            walk(&app, query).await,
            "GET /leaderboard?{query} from the cache"
        );
    }
    for seller in &sellers {
        let path = format!("/leaderboard/{}", seller.user_id);
        assert_eq!(
            cached.get(&path, None).await.body,
            app.get(&path, None).await.body,
            "{path} from the cache"
        );
    }
}

/// Every item of a leaderboard listing, following `nextCursor` to the end.
async fn walk(app: &TestApp, query: &str) -> Vec<Value> {
    let mut items = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/leaderboard?{query}&cursor={c}"),
            None => format!("/leaderboard?{query}"),
        };
        let page = app.get(&path, None).await;
        assert_eq!(page.status.as_u16(), 200, "{}", page.body);
        items.extend(
            page.data()["items"]
                .as_array()
                .expect("items")
                .iter()
                .cloned(),
        );
        match page.data()["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return items,
        }
    }
}

/// A seller with a given record: codes finalized WON/LOST, each sold to `sales` buyers.
async fn record(
    app: &TestApp,
    admin: &Session,
    seller: &Session,
    buyer: &Session,
    outcomes: &[(&str, i64)],
    odds: f64,
) {
    for (outcome, price) in outcomes {
        let code = id_of(&list_code(app, seller, json!({ "odds": odds, "price": price })).await);
        app.buy(buyer, &code).await;
        app.decide(admin, &code, outcome).await;
    }
}

fn sellers_of(r: &crate::helpers::Resp) -> Vec<String> {
    r.data()["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["sellerId"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn the_leaderboard_ranks_sorts_pages_and_shows_one_seller() {
    let phone = unique_phone();
    let app = TestApp::spawn_with(&[
        ("ADMIN_PHONE_NUMBERS", &phone),
        ("LEADERBOARD_MIN_FINALIZED", "2"),
    ])
    .await;
    app.register(&phone, &unique_username()).await;
    let admin = app.sign_in(&phone).await;
    let buyer = app.signed_in_user("BUYER").await;
    let (ace, steady, rookie, idle) = (
        app.signed_in_user("SELLER").await,
        app.signed_in_user("SELLER").await,
        app.signed_in_user("SELLER").await,
        app.signed_in_user("SELLER").await,
    );
    record(
        &app,
        &admin,
        &ace,
        &buyer,
        &[("WON", 1000), ("WON", 1000), ("LOST", 1000)],
        3.0,
    )
    .await; // 66.66 %
    record(
        &app,
        &admin,
        &steady,
        &buyer,
        &[("WON", 5000), ("LOST", 5000), ("WON", 5000), ("LOST", 5000)],
        2.0,
    )
    .await; // 50 %
    record(&app, &admin, &rookie, &buyer, &[("WON", 800)], 9.99).await; // 100 % but unranked (1 < 2)

    let r = app.get("/leaderboard", None).await;
    assert_eq!(
        sellers_of(&r),
        vec![
            ace.user_id.clone(),
            steady.user_id.clone(),
            rookie.user_id.clone()
        ]
    );
    let items = r.data()["items"].as_array().expect("items");
    assert_eq!(
        (items[0]["rank"].clone(), items[1]["rank"].clone()),
        (json!(1), json!(2))
    );
    assert!(
        items[2].get("rank").is_none(),
        "too few results to be ranked"
    );
    assert_eq!(items[0]["winRate"], json!(66.66));
    // (2 + 2 - 1) / 3 = 1 per unit stake
    assert_eq!(items[0]["averageROI"], json!(100.0));
    assert_eq!(items[1]["averageROI"], json!(0.0));
    assert_eq!(items[1]["totalRevenue"]["amount"], 4 * 4500);

    let by_revenue = app.get("/leaderboard?sort=totalRevenue", None).await;
    assert_eq!(sellers_of(&by_revenue)[0], steady.user_id);
    assert_eq!(by_revenue.data()["items"][0]["rank"], 2);
    let by_rate = app.get("/leaderboard?sort=winRate", None).await;
    assert_eq!(sellers_of(&by_rate)[0], rookie.user_id);
    assert_eq!(
        sellers_of(&app.get("/leaderboard?sort=totalSales", None).await)[0],
        steady.user_id
    );

    // Pages of one cover everyone once, ranks continuing across pages.
    let mut all = vec![];
    let mut ranks = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("/leaderboard?limit=1&cursor={c}"),
            None => "/leaderboard?limit=1".to_owned(),
        };
        let p = app.get(&q, None).await;
        all.extend(sellers_of(&p));
        ranks.push(
            p.data()["items"][0]
                .get("rank")
                .cloned()
                .unwrap_or(Value::Null),
        );
        match p.data()["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        all,
        vec![
            ace.user_id.clone(),
            steady.user_id.clone(),
            rookie.user_id.clone()
        ]
    );
    assert_eq!(ranks, vec![json!(1), json!(2), Value::Null]);

    let one = app
        .get(&format!("/leaderboard/{}", steady.user_id), None)
        .await;
    assert_eq!(
        (
            one.data()["rank"].clone(),
            one.data()["totalWins"].clone(),
            one.data()["totalLosses"].clone()
        ),
        (json!(2), json!(2), json!(2))
    );
    let zero = app
        .get(&format!("/leaderboard/{}", idle.user_id), None)
        .await;
    assert_eq!(
        (zero.status.as_u16(), zero.data()["totalSales"].clone()),
        (200, json!(0))
    );
    app.get(&format!("/leaderboard/{}", ObjectId::new().to_hex()), None)
        .await
        .assert_error(404);
    app.get("/leaderboard/nobody", None).await.assert_error(400);
    app.get("/leaderboard?sort=luck", None)
        .await
        .assert_error(422);
    app.get("/leaderboard?cursor=00ff", None)
        .await
        .assert_error(422);
    app.get("/leaderboard?limit=500", None)
        .await
        .assert_error(422);
}

/// `period` counts only codes finalized in the window, `sport` only that sport's codes, and
/// `sort=yield` orders by profit per unit staked.
#[tokio::test]
async fn the_board_of_a_period_or_a_sport_counts_only_its_codes_and_sorts_by_yield() {
    use mongodb::bson::{doc, DateTime};
    let phone = unique_phone();
    let app = TestApp::spawn_with(&[
        ("ADMIN_PHONE_NUMBERS", &phone),
        ("LEADERBOARD_MIN_FINALIZED", "1"),
    ])
    .await;
    let admin = app.admin(&phone).await;
    let (steady, lucky) = (
        app.signed_in_user("SELLER").await,
        app.signed_in_user("SELLER").await,
    );
    let decide = |seller: &Session, sport: &'static str, odds: f64, outcome: &'static str| {
        let (app, admin, seller) = (&app, &admin, seller.clone());
        async move {
            let code =
                id_of(&list_code(app, &seller, json!({ "sport": sport, "odds": odds })).await);
            app.decide(admin, &code, outcome).await;
            code
        }
    };
    // steady: two football wins at 1.50 (yield +50 %), and an old tennis loss (40 days ago).
    decide(&steady, "FOOTBALL", 1.5, "WON").await;
    decide(&steady, "FOOTBALL", 1.5, "WON").await;
    let old = decide(&steady, "TENNIS", 2.0, "LOST").await;
    let long_ago = DateTime::from_millis(DateTime::now().timestamp_millis() - 40 * 86_400_000);
    let old_id = ObjectId::parse_str(&old).expect("oid");
    app.db
        .col("leaderboard_contributions")
        .update_one(doc! { "_id": old_id }, doc! { "$set": { "createdAt": long_ago, "day": oddxer_backend::leaderboard::store::day_of(long_ago) } })
        .await
        .expect("age the contribution");
    // lucky: one tennis win at 5.00 (yield +400 %) and one football loss.
    decide(&lucky, "TENNIS", 5.0, "WON").await;
    decide(&lucky, "FOOTBALL", 3.0, "LOST").await;

    let board = |query: &'static str| {
        let app = &app;
        async move {
            let r = app.get(&format!("/leaderboard?{query}"), None).await;
            assert_eq!(r.status.as_u16(), 200, "{query}: {}", r.body);
            r.data()["items"].as_array().expect("items").clone()
        }
    };
    let row = |items: &[Value], who: &Session| {
        items
            .iter()
            .find(|i| i["sellerId"] == who.user_id.as_str())
            .cloned()
    };

    // All time: steady has 2 wins and 1 loss.
    let all = board("period=all").await;
    assert_eq!(
        row(&all, &steady).map(|r| (r["totalWins"].clone(), r["totalLosses"].clone())),
        Some((json!(2), json!(1)))
    );
    // The last 30 days: the old tennis loss is outside.
    let month = board("period=30d").await;
    let s = row(&month, &steady).expect("steady in the 30-day board");
    assert_eq!(
        (
            s["totalWins"].clone(),
            s["totalLosses"].clone(),
            s["winRate"].clone()
        ),
        (json!(2), json!(0), json!(100.0))
    );
    assert_eq!(
        month[0]["sellerId"],
        steady.user_id.as_str(),
        "100 % beats 50 % in the 30-day ranking"
    );
    // Tennis only: lucky's win and steady's old loss.
    let tennis = board("sport=TENNIS").await;
    assert_eq!(
        row(&tennis, &lucky).map(|r| (r["totalWins"].clone(), r["totalLosses"].clone())),
        Some((json!(1), json!(0)))
    );
    assert_eq!(
        row(&tennis, &steady).map(|r| (r["totalWins"].clone(), r["totalLosses"].clone())),
        Some((json!(0), json!(1)))
    );
    assert!(
        board("period=7d&sport=TENNIS")
            .await
            .iter()
            .all(|r| r["sellerId"] != steady.user_id.as_str()),
        "the old loss is not in the last 7 days"
    );
    // By yield over the month: lucky (4 - 1) / 2 = +150 % beats steady's +50 %.
    let by_yield = board("period=30d&sort=yield").await;
    assert_eq!(
        by_yield
            .iter()
            .map(|r| r["sellerId"].clone())
            .collect::<Vec<_>>(),
        vec![json!(lucky.user_id), json!(steady.user_id)]
    );
    assert_eq!(by_yield[0]["averageROI"], json!(150.0));
    // All time by yield: steady (0.5 + 0.5 - 1) / 3 = 0 % stays below lucky.
    let all_by_yield = board("sort=yield").await;
    assert_eq!(all_by_yield[0]["sellerId"], lucky.user_id.as_str());
    // Paging a window by its own cursor; a cursor of another window is refused.
    let first = app.get("/leaderboard?period=30d&limit=1", None).await;
    let cursor = first.data()["nextCursor"]
        .as_str()
        .expect("a second page")
        .to_owned();
    let second = app
        .get(
            &format!("/leaderboard?period=30d&limit=1&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(
        second.data()["items"][0]["sellerId"],
        lucky.user_id.as_str()
    );
    app.get(
        &format!("/leaderboard?period=7d&limit=1&cursor={cursor}"),
        None,
    )
    .await
    .assert_error(422);
    app.get("/leaderboard?period=year", None)
        .await
        .assert_error(422);
}

/// `GET /codes?q=&minWinRate=&minYield=`: the search finds words at the start of title and
/// username words, the floors keep ranked tipsters with that record; the same answers from the
/// market cache (`ttl` > 0) and from the database (`0s`).
async fn search_and_floors(ttl: &str) {
    let phone = unique_phone();
    let app = TestApp::spawn_with(&[
        ("ADMIN_PHONE_NUMBERS", &phone),
        ("LEADERBOARD_MIN_FINALIZED", "2"),
        ("MARKET_CACHE_TTL", ttl),
    ])
    .await;
    let admin = app.admin(&phone).await;
    let (sharp, cold, novice) = (
        app.signed_in_user("SELLER").await,
        app.signed_in_user("SELLER").await,
        app.signed_in_user("SELLER").await,
    );
    let decide = |seller: &Session, odds: f64, outcome: &'static str| {
        let (app, admin, seller) = (&app, &admin, seller.clone());
        async move {
            let code = id_of(&list_code(app, &seller, json!({ "odds": odds })).await);
            app.decide(admin, &code, outcome).await;
        }
    };
    // sharp: two wins at 2.00 (win rate 100 %, yield +100 %); cold: a win at 1.50 and a loss
    // (50 %, yield -25 %); novice: one win, too few results to be ranked.
    decide(&sharp, 2.0, "WON").await;
    decide(&sharp, 2.0, "WON").await;
    decide(&cold, 1.5, "WON").await;
    decide(&cold, 1.5, "LOST").await;
    decide(&novice, 3.0, "WON").await;
    let a = id_of(&list_code(&app, &sharp, json!({ "title": "Arsenal to win at home" })).await);
    let b = id_of(
        &list_code(
            &app,
            &cold,
            json!({ "title": "Arsenal and Chelsea both score" }),
        )
        .await,
    );
    let c = id_of(&list_code(&app, &novice, json!({ "title": "Tennis double" })).await);
    let ids = |query: &'static str| {
        let app = &app;
        async move {
            let r = app.get(&format!("/codes?limit=100&{query}"), None).await;
            assert_eq!(r.status.as_u16(), 200, "{query}: {}", r.body);
            let mut ids: Vec<String> = r.data()["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|i| i["id"].as_str().expect("id").to_owned())
                .collect();
            ids.sort();
            ids
        }
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(ids("q=ars").await, sorted(vec![a.clone(), b.clone()]));
    assert_eq!(ids("q=ARS%20chel").await, vec![b.clone()], "every word");
    assert!(
        ids("q=senal").await.is_empty(),
        "a word's start, not its middle"
    );
    assert_eq!(ids("q=%40ten%20dou").await, vec![c.clone()]);
    assert_eq!(ids("q=a").await.len(), 3, "nothing searchable: everything");

    assert_eq!(ids("minWinRate=60").await, vec![a.clone()]);
    assert_eq!(
        ids("minWinRate=50").await,
        sorted(vec![a.clone(), b.clone()])
    );
    assert_eq!(ids("minYield=0").await, vec![a.clone()]);
    assert_eq!(
        ids("minWinRate=0&minYield=-30").await,
        sorted(vec![a.clone(), b.clone()]),
        "an unranked tipster never passes a floor"
    );
    assert_eq!(ids("q=arsenal&minWinRate=60").await, vec![a.clone()]);

    for (query, field) in [
        ("minWinRate=101", "minWinRate"),
        ("minYield=-150", "minYield"),
    ] {
        let r = app.get(&format!("/codes?{query}"), None).await;
        assert_eq!(r.status.as_u16(), 422, "{query}: {}", r.body);
        assert!(r.body.to_string().contains(field), "{query}: {}", r.body);
    }
    let r = app
        .get(&format!("/codes?q={}", "x".repeat(101)), None)
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.body);
    assert!(
        r.body["error"]["details"]["fields"]["q"].is_string(),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn search_and_record_floors_from_the_database() {
    search_and_floors("0s").await;
}

#[tokio::test]
async fn search_and_record_floors_from_the_market_cache() {
    search_and_floors("200ms").await;
}
