//! Tipster profiles (issue 10): the record's figures against hand-computed values, the record with
//! booking codes public once finalized (never before), the performance line, following.

use crate::codes::{id_of, list_code};
use crate::helpers::{unique_phone, Session, TestApp};
use crate::market_events::{connect, next_event, send, settle};
use oddxer_shared::sync::{ClientFrame, LiveEvent};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

async fn with_admin() -> (TestApp, Session) {
    let admin_phone = unique_phone();
    let app = TestApp::spawn_with(&[("ADMIN_PHONE_NUMBERS", &admin_phone)]).await;
    let admin = app.admin(&admin_phone).await;
    (app, admin)
}

/// Lists a code with these odds and booking code, sells it to `buyer`, and has an admin decide it.
async fn finalized(
    app: &TestApp,
    admin: &Session,
    seller: &Session,
    buyer: &Session,
    odds: f64,
    booking: &str,
    outcome: &str,
) -> String {
    let code = id_of(
        &list_code(
            app,
            seller,
            json!({ "odds": odds, "code": booking, "maxBuyers": 5 }),
        )
        .await,
    );
    app.buy(buyer, &code).await;
    app.decide(admin, &code, outcome).await;
    code
}

#[tokio::test]
async fn a_profile_shows_the_hand_computed_record_and_live_booking_codes_stay_secret() {
    let (app, admin) = with_admin().await;
    let seller = app.signed_in_user("SELLER").await;
    let buyer = app.signed_in_user("BUYER").await;
    app.funded(&buyer, 100_000).await;
    // Odds 12.45 won, one lost, one void: profit +10.45 units, yield 5.225, win rate 50 %.
    let won = finalized(&app, &admin, &seller, &buyer, 12.45, "WON-1245", "WON").await;
    finalized(&app, &admin, &seller, &buyer, 3.0, "LOST-300", "LOST").await;
    finalized(&app, &admin, &seller, &buyer, 5.0, "VOID-500", "VOID").await;
    let live = id_of(&list_code(&app, &seller, json!({ "code": "LIVE-SECRET-9" })).await);

    let p = app.get(&format!("/sellers/{}", seller.user_id), None).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    let s = &p.data()["stats"];
    assert_eq!(
        (
            s["totalWins"].clone(),
            s["totalLosses"].clone(),
            s["totalVoids"].clone()
        ),
        (json!(1), json!(1), json!(1))
    );
    assert_eq!(s["winRate"], json!(50.0));
    assert_eq!(s["profitUnits"], json!(10.45));
    assert_eq!(s["yield"], json!(5.225));
    assert_eq!(
        s["averageROI"],
        json!(522.5),
        "the leaderboard's average ROI is the yield in percent"
    );
    assert_eq!(
        (s["currentStreak"].clone(), s["longestStreak"].clone()),
        (json!(0), json!(1))
    );
    assert_eq!(
        (
            p.data()["recordSize"].clone(),
            p.data()["liveListings"].clone()
        ),
        (json!(3), json!(1))
    );
    assert_eq!(p.data()["bySport"][0]["sport"], "FOOTBALL");
    assert_eq!(
        (p.data()["followers"].clone(), p.data()["following"].clone()),
        (json!(0), json!(false))
    );

    let record = app
        .get(&format!("/sellers/{}/codes", seller.user_id), None)
        .await;
    let items = record.data()["items"].as_array().expect("items").clone();
    assert_eq!(
        items.len(),
        4,
        "three finalized and one live, newest first: {items:?}"
    );
    assert_eq!(items[0]["id"], live.as_str());
    assert!(
        items[0].get("code").is_none(),
        "a live listing never shows its booking code"
    );
    let booking: Vec<&str> = items[1..]
        .iter()
        .map(|c| c["code"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        booking,
        vec!["VOID-500", "LOST-300", "WON-1245"],
        "finalized codes show theirs, anyone can check it"
    );

    let line = app
        .get(&format!("/sellers/{}/performance", seller.user_id), None)
        .await;
    let points = line.data().as_array().expect("points").clone();
    let profits: Vec<f64> = points
        .iter()
        .map(|p| p["cumulativeProfitUnits"].as_f64().unwrap_or(f64::NAN))
        .collect();
    assert_eq!(profits, vec![11.45, 10.45, 10.45]);
    assert_eq!(points[0]["codeId"], won.as_str());
    assert_eq!(points[2]["cumulativeYield"], json!(5.225));
    let week = app
        .get(
            &format!("/sellers/{}/performance?period=7d", seller.user_id),
            None,
        )
        .await;
    assert_eq!(week.data().as_array().map(Vec::len), Some(3));
    app.get(
        &format!("/sellers/{}/performance?period=year", seller.user_id),
        None,
    )
    .await
    .assert_error(422);

    // The live booking code appears in no profile route.
    for path in [
        format!("/sellers/{}", seller.user_id),
        format!("/sellers/{}/codes", seller.user_id),
        format!("/sellers/{}/performance", seller.user_id),
    ] {
        let body = app.get(&path, Some(&buyer.access)).await.body.to_string();
        assert!(
            !body.contains("LIVE-SECRET-9"),
            "{path} leaks a live booking code"
        );
    }
    // A buyer has no profile; a bad id is 400.
    app.get(&format!("/sellers/{}", buyer.user_id), None)
        .await
        .assert_error(404);
    app.get("/sellers/abc", None).await.assert_error(400);
}

#[tokio::test]
async fn following_is_idempotent_under_concurrency_and_never_of_yourself() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    let fan = app.signed_in_user("BUYER").await;
    let url = format!("/sellers/{}/follow", seller.user_id);
    let puts = (0..10).map(|_| {
        let (http, url, token) = (app.http.clone(), app.url(&url), fan.access.clone());
        tokio::spawn(async move {
            http.put(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("send")
                .status()
        })
    });
    for p in puts {
        assert_eq!(p.await.expect("join"), StatusCode::OK);
    }
    let p = app
        .get(&format!("/sellers/{}", seller.user_id), Some(&fan.access))
        .await;
    assert_eq!(
        (p.data()["followers"].clone(), p.data()["following"].clone()),
        (json!(1), json!(true))
    );
    let mine = app.get("/me/following", Some(&fan.access)).await;
    assert_eq!(
        mine.data()["items"].as_array().map(|a| a
            .iter()
            .map(|f| f["sellerId"].clone())
            .collect::<Vec<Value>>()),
        Some(vec![json!(seller.user_id)])
    );

    for _ in 0..2 {
        let r = app.delete(&url, Some(&fan.access)).await;
        assert_eq!(
            (
                r.status,
                r.data()["followers"].clone(),
                r.data()["following"].clone()
            ),
            (StatusCode::OK, json!(0), json!(false))
        );
    }
    assert_eq!(
        app.get("/me/following", Some(&fan.access)).await.data(),
        &json!({ "items": [], "nextCursor": null })
    );
    let own = app
        .http
        .put(app.url(&format!("/sellers/{}/follow", seller.user_id)))
        .bearer_auth(&seller.access)
        .send()
        .await
        .expect("send");
    assert_eq!(own.status(), StatusCode::CONFLICT);
    let not_a_seller = app
        .http
        .put(app.url(&format!("/sellers/{}/follow", fan.user_id)))
        .bearer_auth(&seller.access)
        .send()
        .await
        .expect("send");
    assert_eq!(not_a_seller.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.http
            .put(app.url(&url))
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_follower_hears_of_a_new_code_whatever_the_sport_and_only_once() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    let fan = app.signed_in_user("BUYER").await;
    let stranger = app.signed_in_user("BUYER").await;
    let r = app
        .http
        .put(app.url(&format!("/sellers/{}/follow", seller.user_id)))
        .bearer_auth(&fan.access)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    let mut fan_ws = connect(&app, &fan.access).await;
    let mut stranger_ws = connect(&app, &stranger.access).await;
    // The fan watches tennis only; the code is football.
    send(
        &mut fan_ws,
        &ClientFrame::Subscribe {
            sport: "TENNIS".into(),
        },
    )
    .await;
    settle(&mut fan_ws).await;
    settle(&mut stranger_ws).await;
    let listed = list_code(
        &app,
        &seller,
        json!({ "sport": "FOOTBALL", "code": "FOLLOW-SECRET-1" }),
    )
    .await;
    match next_event(&mut fan_ws, Duration::from_secs(10)).await {
        Some(LiveEvent::CodeCreated(data)) => {
            assert_eq!(data["id"], listed["id"]);
            assert_eq!(data["followed"], true, "marked for the follower: {data}");
            assert!(
                !data.to_string().contains("FOLLOW-SECRET-1"),
                "never the secret: {data}"
            );
        }
        other => panic!("expected code:created, got {other:?}"),
    }
    assert!(
        next_event(&mut stranger_ws, Duration::from_millis(700))
            .await
            .is_none(),
        "not a follower, not subscribed"
    );

    // Subscribed to the sport as well: one event, not two, still marked. A subscribed
    // non-follower gets it plain (its device does not notify).
    for ws in [&mut fan_ws, &mut stranger_ws] {
        send(
            ws,
            &ClientFrame::Subscribe {
                sport: "FOOTBALL".into(),
            },
        )
        .await;
        settle(ws).await;
    }
    list_code(&app, &seller, json!({ "sport": "FOOTBALL" })).await;
    match next_event(&mut fan_ws, Duration::from_secs(10)).await {
        Some(LiveEvent::CodeCreated(data)) => assert_eq!(data["followed"], true),
        other => panic!("expected code:created, got {other:?}"),
    }
    assert!(
        next_event(&mut fan_ws, Duration::from_millis(700))
            .await
            .is_none(),
        "the same code twice"
    );
    match next_event(&mut stranger_ws, Duration::from_secs(10)).await {
        Some(LiveEvent::CodeCreated(data)) => {
            assert!(data.get("followed").is_none(), "{data}")
        }
        other => panic!("expected code:created, got {other:?}"),
    }
}

#[tokio::test]
async fn a_follower_on_another_instance_hears_of_a_new_code() {
    let Some((a, b)) = TestApp::spawn_pair("follow", &[]).await else {
        return;
    };
    let seller = a.signed_in_user("SELLER").await;
    let fan = a.signed_in_user("BUYER").await;
    let r = a
        .http
        .put(a.url(&format!("/sellers/{}/follow", seller.user_id)))
        .bearer_auth(&fan.access)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    let mut on_b = connect(&b, &fan.access).await;
    settle(&mut on_b).await;
    let listed = list_code(&a, &seller, json!({ "sport": "BASKETBALL" })).await;
    match next_event(&mut on_b, Duration::from_secs(10)).await {
        Some(LiveEvent::CodeCreated(data)) => assert_eq!(data["id"], listed["id"]),
        other => panic!("expected code:created on instance B, got {other:?}"),
    }
}

/// The profile's figures, computed on read from the per-code contributions, agree with the
/// leaderboard row kept incrementally and with its recomputation from the resolutions.
#[tokio::test]
async fn recomputed_and_incremental_figures_agree_over_many_random_finalizations() {
    use rand::{Rng, SeedableRng};
    let (app, admin) = with_admin().await;
    let seller = app.signed_in_user("SELLER").await;
    let buyer = app.signed_in_user("BUYER").await;
    app.funded(&buyer, 1_000_000).await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let (mut profit, mut stakes, mut wins) = (0i64, 0i64, 0i64);
    for i in 0..24 {
        let odds_hundredths: i64 = rng.gen_range(101..2_000);
        let outcome = ["WON", "LOST", "VOID"][rng.gen_range(0..3)];
        finalized(
            &app,
            &admin,
            &seller,
            &buyer,
            odds_hundredths as f64 / 100.0,
            &format!("RND-{i:04}"),
            outcome,
        )
        .await;
        match outcome {
            "WON" => {
                (profit, stakes, wins) = (profit + odds_hundredths - 100, stakes + 1, wins + 1)
            }
            "LOST" => (profit, stakes) = (profit - 100, stakes + 1),
            _ => {}
        }
    }
    let p = app.get(&format!("/sellers/{}", seller.user_id), None).await;
    let s = &p.data()["stats"];
    assert_eq!(s["profitUnits"].as_f64(), Some(profit as f64 / 100.0));
    assert_eq!(s["totalWins"], json!(wins));
    assert_eq!(
        s["totalWins"].as_i64().unwrap_or(-1) + s["totalLosses"].as_i64().unwrap_or(-1),
        stakes
    );
    let yield_ratio = s["yield"].as_f64().unwrap_or(f64::NAN);
    let expected = (profit as f64 / (100.0 * stakes as f64) * 10_000.0).round() / 10_000.0;
    assert!(
        (yield_ratio - expected).abs() < 1e-9,
        "{yield_ratio} vs {expected}"
    );
    // averageROI (the leaderboard's, incremental) is the yield in percent, rounded down.
    assert_eq!(
        s["averageROI"].as_f64(),
        Some(((profit * 100).div_euclid(stakes)) as f64 / 100.0)
    );
    let recomputed = oddxer_backend::leaderboard::service::recompute_all(&app.state)
        .await
        .expect("recompute");
    assert_eq!(
        recomputed
            .iter()
            .find(|r| r.seller.to_hex() == seller.user_id)
            .map(|r| r.roi_sum),
        Some(profit)
    );
}

#[tokio::test]
async fn my_following_comes_a_page_at_a_time_newest_first_with_every_seller_once() {
    let app = TestApp::spawn().await;
    let fan = app.signed_in_user("BUYER").await;
    let mut followed = vec![];
    for _ in 0..5 {
        let seller = app.signed_in_user("SELLER").await;
        let r = app
            .http
            .put(app.url(&format!("/sellers/{}/follow", seller.user_id)))
            .bearer_auth(&fan.access)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), StatusCode::OK);
        followed.push(seller.user_id.clone());
    }
    let mut seen: Vec<Value> = vec![];
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/me/following?limit=2&cursor={c}"),
            None => "/me/following?limit=2".to_owned(),
        };
        let page = app.get(&path, Some(&fan.access)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let items = page.data()["items"].as_array().cloned().unwrap_or_default();
        assert!(items.len() <= 2, "{}", page.body);
        seen.extend(items.iter().map(|f| f["sellerId"].clone()));
        pages += 1;
        match page.data()["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }
    // Followed one after the other: newest first is the reverse order, each seller exactly once.
    let expected: Vec<Value> = followed.iter().rev().map(|id| json!(id)).collect();
    assert_eq!(seen, expected);
    assert_eq!(pages, 3);
    let bad = app
        .get("/me/following?cursor=nonsense", Some(&fan.access))
        .await;
    bad.assert_error(422);
    app.get("/me/following?limit=0", Some(&fan.access))
        .await
        .assert_error(422);
}
