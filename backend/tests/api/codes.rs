//! Betting codes: listing, the reveal rule, editing, cancelling, browsing and paging.

use crate::helpers::{Session, TestApp};
use mongodb::bson::{doc, oid::ObjectId};
use oddxer_backend::codes::query::{index_for, CodeSort};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;

pub fn in_hours(h: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::hours(h);
    t.format(&time::format_description::well_known::Rfc3339)
        .expect("rfc3339")
}

/// A valid `CodeIn` body, with `overrides` merged in.
pub fn code_body(overrides: Value) -> Value {
    let mut body = json!({
        "sport": "FOOTBALL",
        "title": "Saturday EPL accumulator",
        "description": "Five legs, all home wins",
        "odds": 4.75,
        "bookmaker": "SportyBet",
        "price": 2_000,
        "code": format!("SB{}", &uuid::Uuid::new_v4().simple().to_string()[..8]).to_uppercase(),
        "expiresAt": in_hours(6),
    });
    if let (Some(b), Some(o)) = (body.as_object_mut(), overrides.as_object()) {
        for (k, v) in o {
            b.insert(k.clone(), v.clone());
        }
    }
    body
}

/// Lists a code through `POST /codes`; returns the created code.
pub async fn list_code(app: &TestApp, seller: &Session, overrides: Value) -> Value {
    let r = app
        .post("/codes", Some(&seller.access), &code_body(overrides))
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    r.data().clone()
}

pub fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

async fn admin(app: &TestApp, phone: &str) -> Session {
    app.register(phone, &crate::helpers::unique_username())
        .await;
    app.sign_in(phone).await
}

#[tokio::test]
async fn a_seller_lists_a_code_and_only_its_seller_buyers_and_admins_see_the_secret() {
    let admin_phone = crate::helpers::unique_phone();
    let app = TestApp::spawn_with(&[("ADMIN_PHONE_NUMBERS", &admin_phone)]).await;
    let seller = app.signed_in_user("SELLER").await;
    let buyer = app.signed_in_user("BUYER").await;
    let stranger = app.signed_in_user("BUYER").await;
    let admin = admin(&app, &admin_phone).await;

    let created = list_code(&app, &seller, json!({ "code": "  SECRET-42 " })).await;
    assert_eq!(
        created["code"], "SECRET-42",
        "the seller sees the trimmed secret"
    );
    assert_eq!(created["status"], "ACTIVE");
    assert_eq!(created["maxBuyers"], 1);
    assert_eq!(
        created["price"],
        json!({ "amount": 2000, "currency": "UGX" })
    );
    assert_eq!(created["odds"], json!(4.75));
    assert_eq!(created["sellerId"], seller.user_id.as_str());
    let id = id_of(&created);

    let path = format!("/codes/{id}");
    assert!(
        app.get(&path, None).await.data().get("code").is_none(),
        "anonymous"
    );
    assert!(
        app.get(&path, Some(&stranger.access))
            .await
            .data()
            .get("code")
            .is_none(),
        "another user"
    );
    assert!(
        app.get(&path, Some("expired-or-forged"))
            .await
            .data()
            .get("code")
            .is_none(),
        "a bad token is anonymous here"
    );
    assert_eq!(
        app.get(&path, Some(&seller.access)).await.data()["code"],
        "SECRET-42"
    );
    assert_eq!(
        app.get(&path, Some(&admin.access)).await.data()["code"],
        "SECRET-42"
    );
    app.buy(&buyer, &id).await;
    let seen = app.get(&path, Some(&buyer.access)).await;
    assert_eq!(seen.data()["code"], "SECRET-42");
    assert_eq!(seen.data()["status"], "SOLD_OUT");
    assert_eq!(seen.data()["salesCount"], 1);

    // Lists never carry the secret, whoever asks.
    for status in ["ACTIVE", "SOLD_OUT"] {
        let list = app
            .get(&format!("/codes?status={status}"), Some(&seller.access))
            .await;
        assert_eq!(list.status.as_u16(), 200, "{}", list.body);
        for item in list.data()["items"].as_array().expect("items") {
            assert!(item.get("code").is_none(), "{item}");
        }
    }
    app.get("/codes/not-an-id", None).await.assert_error(400);
    app.get(&format!("/codes/{}", ObjectId::new().to_hex()), None)
        .await
        .assert_error(404);
}

#[tokio::test]
async fn creating_a_code_needs_a_seller_and_validates_every_field() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    let buyer = app.signed_in_user("BUYER").await;
    app.post("/codes", None, &code_body(json!({})))
        .await
        .assert_error(401);
    app.post("/codes", Some(&buyer.access), &code_body(json!({})))
        .await
        .assert_error(403);

    let cases: Vec<(&str, Value)> = vec![
        ("sport", json!({ "sport": "CURLING" })),
        ("title", json!({ "title": "abc" })),
        ("title", json!({ "title": "x".repeat(121) })),
        ("description", json!({ "description": "x".repeat(2001) })),
        ("odds", json!({ "odds": 1.005 })),
        ("odds", json!({ "odds": 1.0 })),
        ("odds", json!({ "odds": 100000.01 })),
        ("odds", json!({ "odds": "2.5" })),
        ("bookmaker", json!({ "bookmaker": "Nowhere Bet" })),
        ("price", json!({ "price": 0 })),
        ("price", json!({ "price": -5 })),
        ("price", json!({ "price": 10.5 })),
        ("price", json!({ "price": 50_000_000 })),
        ("code", json!({ "code": "   " })),
        // A typo a buyer would pay for: too short to be any bookmaker's booking code, or not one.
        ("code", json!({ "code": "ab" })),
        ("code", json!({ "code": "BC 12345" })),
        ("expiresAt", json!({ "expiresAt": in_hours(-1) })),
        ("expiresAt", json!({ "expiresAt": in_hours(24 * 40) })),
        ("expiresAt", json!({ "expiresAt": "next saturday" })),
        ("maxBuyers", json!({ "maxBuyers": 0 })),
        ("soldTo", json!({ "soldTo": "someone" })),
    ];
    for (name, overrides) in cases {
        let r = app
            .post("/codes", Some(&seller.access), &code_body(overrides))
            .await;
        r.assert_error(422);
        // Every 422, also for a body of the wrong shape, names the field.
        let fields = &r.body["error"]["details"]["fields"];
        assert!(fields.get(name).is_some(), "{name}: {}", r.body);
    }
    assert_eq!(app.count("bettingcodes").await, 0, "nothing written");

    // What the person reads: the field and its problem, money in the currency, not minor units.
    let r = app
        .post(
            "/codes",
            Some(&seller.access),
            &code_body(json!({ "expiresAt": in_hours(24 * 40), "price": 1 })),
        )
        .await;
    r.assert_error(422);
    let message = r.body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("expiresAt must be within 30 days"),
        "{message}"
    );
    let price = r.body["error"]["details"]["fields"]["price"]
        .as_str()
        .unwrap_or_default();
    assert!(
        price.starts_with("must be between UGX ") && !price.contains("minor"),
        "{price}"
    );

    // Odds with 2 decimals are stored exactly as integer hundredths; the bookmaker is canonicalised.
    let c = list_code(
        &app,
        &seller,
        json!({ "odds": 2.67, "bookmaker": "BETWAY", "maxBuyers": 3 }),
    )
    .await;
    let stored = app
        .db
        .col("bettingcodes")
        .find_one(doc! {})
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(stored.get_i64("odds").expect("odds"), 267);
    assert_eq!(stored.get_i64("price").expect("price"), 2_000);
    assert_eq!(stored.get_str("bookmaker").expect("bookmaker"), "Betway");
    assert_eq!(
        (c["odds"].clone(), c["maxBuyers"].clone()),
        (json!(2.67), json!(3))
    );
}

#[tokio::test]
async fn only_the_owner_edits_or_cancels_and_only_while_active_without_sales() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    let other = app.signed_in_user("SELLER").await;
    let buyer = app.signed_in_user("BUYER").await;
    let id = id_of(&list_code(&app, &seller, json!({ "maxBuyers": 2 })).await);
    let path = format!("/codes/{id}");

    app.patch(&path, None, &json!({ "price": 3000 }))
        .await
        .assert_error(401);
    app.patch(&path, Some(&buyer.access), &json!({ "price": 3000 }))
        .await
        .assert_error(403);
    app.patch(&path, Some(&other.access), &json!({ "price": 3000 }))
        .await
        .assert_error(403);
    app.delete(&path, Some(&other.access))
        .await
        .assert_error(403);
    app.patch(&path, Some(&seller.access), &json!({ "odds": 1.234 }))
        .await
        .assert_error(422);
    let r = app
        .patch(
            &path,
            Some(&seller.access),
            &json!({ "price": 3000, "odds": 5.5, "title": "Sunday accumulator" }),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(
        (
            r.data()["price"]["amount"].clone(),
            r.data()["odds"].clone()
        ),
        (json!(3000), json!(5.5))
    );
    assert_eq!(r.data()["title"], "Sunday accumulator");

    app.buy(&buyer, &id).await;
    let r = app
        .patch(&path, Some(&seller.access), &json!({ "price": 100 }))
        .await;
    r.assert_error(409);
    assert_eq!(r.error_code(), "HAS_SALES");
    app.delete(&path, Some(&seller.access))
        .await
        .assert_error(409);
    assert_eq!(app.get(&path, None).await.data()["price"]["amount"], 3000);

    let unsold = id_of(&list_code(&app, &seller, json!({})).await);
    let upath = format!("/codes/{unsold}");
    let r = app.delete(&upath, Some(&seller.access)).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(r.data()["status"], "CANCELLED");
    app.delete(&upath, Some(&seller.access))
        .await
        .assert_error(409);
    app.patch(&upath, Some(&seller.access), &json!({ "price": 900 }))
        .await
        .assert_error(409);
    let ids: Vec<String> = app.get("/codes", None).await.data()["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(id_of)
        .collect();
    assert!(!ids.contains(&unsold), "a cancelled code is not for sale");

    let expired = id_of(&list_code(&app, &seller, json!({})).await);
    app.expire_code(&expired, Duration::from_secs(60)).await;
    app.patch(
        &format!("/codes/{expired}"),
        Some(&seller.access),
        &json!({ "price": 900 }),
    )
    .await
    .assert_error(409);
    app.patch(
        &format!("/codes/{}", ObjectId::new().to_hex()),
        Some(&seller.access),
        &json!({}),
    )
    .await
    .assert_error(404);
}

#[tokio::test]
async fn browsing_filters_and_sorts_the_marketplace() {
    let app = TestApp::spawn().await;
    let s1 = app.signed_in_user("SELLER").await;
    let s2 = app.signed_in_user("SELLER").await;
    let buyer = app.signed_in_user("BUYER").await;
    let a = list_code(&app, &s1, json!({ "sport": "FOOTBALL", "price": 1000, "odds": 2.5, "bookmaker": "Betway", "expiresAt": in_hours(5) })).await;
    let b = list_code(
        &app,
        &s1,
        json!({ "sport": "TENNIS", "price": 3000, "odds": 1.8, "expiresAt": in_hours(2) }),
    )
    .await;
    let c = list_code(
        &app,
        &s2,
        json!({ "sport": "FOOTBALL", "price": 2000, "odds": 12.0, "expiresAt": in_hours(9) }),
    )
    .await;
    let sold = list_code(&app, &s2, json!({ "sport": "FOOTBALL", "price": 500 })).await;
    let expired = list_code(&app, &s2, json!({ "sport": "FOOTBALL", "price": 700 })).await;
    app.buy(&buyer, &id_of(&sold)).await;
    app.expire_code(&id_of(&expired), Duration::from_secs(30))
        .await;

    let ids = |r: &crate::helpers::Resp| -> Vec<String> {
        r.data()["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(id_of)
            .collect()
    };
    let get = |q: &'static str| app.get(q, None);
    assert_eq!(
        ids(&get("/codes").await),
        vec![id_of(&c), id_of(&b), id_of(&a)],
        "ACTIVE, unexpired, newest first"
    );
    assert_eq!(
        ids(&get("/codes?sort=price").await),
        vec![id_of(&a), id_of(&c), id_of(&b)]
    );
    assert_eq!(
        ids(&get("/codes?sort=-price").await),
        vec![id_of(&b), id_of(&c), id_of(&a)]
    );
    assert_eq!(
        ids(&get("/codes?sort=odds").await),
        vec![id_of(&b), id_of(&a), id_of(&c)]
    );
    assert_eq!(
        ids(&get("/codes?sort=-odds").await),
        vec![id_of(&c), id_of(&a), id_of(&b)]
    );
    assert_eq!(
        ids(&get("/codes?sort=expiresAt").await),
        vec![id_of(&b), id_of(&a), id_of(&c)]
    );
    assert_eq!(
        ids(&get("/codes?sport=FOOTBALL").await),
        vec![id_of(&c), id_of(&a)]
    );
    assert_eq!(ids(&get("/codes?bookmaker=betway").await), vec![id_of(&a)]);
    assert_eq!(
        ids(&get("/codes?minOdds=2&maxOdds=12").await),
        vec![id_of(&c), id_of(&a)]
    );
    assert_eq!(
        ids(&get("/codes?minPrice=1500&maxPrice=3000").await),
        vec![id_of(&c), id_of(&b)]
    );
    assert_eq!(
        ids(&app
            .get(&format!("/codes?seller={}", s1.user_id), None)
            .await),
        vec![id_of(&b), id_of(&a)]
    );
    assert_eq!(
        ids(&get("/codes?status=SOLD_OUT").await),
        vec![id_of(&sold)]
    );
    let awaiting = get("/codes?status=AWAITING_RESULT").await;
    assert_eq!(
        ids(&awaiting),
        vec![id_of(&expired)],
        "expired before the worker moved it"
    );
    assert_eq!(awaiting.data()["items"][0]["status"], "AWAITING_RESULT");

    for bad in [
        "/codes?sport=CURLING",
        "/codes?status=OPEN",
        "/codes?sort=cheapest",
        "/codes?limit=0",
        "/codes?limit=101",
        "/codes?cursor=zzz",
        "/codes?seller=nobody",
        "/codes?minPrice=abc",
        "/codes?minPrice=9&maxPrice=1",
        "/codes?color=red",
    ] {
        get(bad).await.assert_error(422);
    }
    // A cursor from one sort is refused by another.
    let first = get("/codes?limit=1&sort=price").await;
    let cursor = first.data()["nextCursor"]
        .as_str()
        .expect("more pages")
        .to_owned();
    app.get(&format!("/codes?limit=1&sort=odds&cursor={cursor}"), None)
        .await
        .assert_error(422);
}

/// Walks every page of a sort, adding new codes between pages: every code that existed at the start
/// appears exactly once, and nothing appears twice.
async fn walk(app: &TestApp, seller: &Session, sort: &str, added: &mut Vec<String>) -> Vec<String> {
    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let mut q = format!("/codes?limit=7&sort={sort}");
        if let Some(c) = &cursor {
            q.push_str(&format!("&cursor={c}"));
        }
        let r = app.get(&q, None).await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.body);
        seen.extend(
            r.data()["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(id_of),
        );
        // A newcomer on every page, priced and timed to land anywhere in the order.
        let n = added.len() as i64;
        let extra = list_code(app, seller, json!({ "price": 600 + (n * 397) % 4000, "odds": 1.5 + (n % 7) as f64, "expiresAt": in_hours(1 + n % 9) })).await;
        added.push(id_of(&extra));
        match r.data()["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    seen
}

#[tokio::test]
async fn paging_is_stable_while_codes_are_added() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    let mut original = vec![];
    for i in 0..25i64 {
        // Repeated prices and odds: ties are broken by id.
        let c = list_code(&app, &seller, json!({ "price": 1000 + (i % 4) * 500, "odds": 2.0 + (i % 3) as f64, "expiresAt": in_hours(1 + i % 5) })).await;
        original.push(id_of(&c));
    }
    for sort in ["newest", "price", "-price", "odds", "-odds", "expiresAt"] {
        let mut added = vec![];
        let seen = walk(&app, &seller, sort, &mut added).await;
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "{sort}: a code appeared twice");
        for id in &original {
            assert!(unique.contains(id), "{sort}: {id} was skipped");
        }
        original.extend(added);
    }
}

#[tokio::test]
async fn a_seller_lists_their_own_codes_in_every_status_with_secrets() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    let other = app.signed_in_user("SELLER").await;
    let buyer = app.signed_in_user("BUYER").await;
    let a = list_code(&app, &seller, json!({})).await;
    let b = list_code(&app, &seller, json!({})).await;
    list_code(&app, &other, json!({})).await;
    app.delete(&format!("/codes/{}", id_of(&b)), Some(&seller.access))
        .await;

    let r = app.get("/seller/codes", Some(&seller.access)).await;
    let items = r.data()["items"].as_array().expect("items").clone();
    assert_eq!(
        items.iter().map(id_of).collect::<Vec<_>>(),
        vec![id_of(&b), id_of(&a)]
    );
    assert!(
        items.iter().all(|i| i["code"].is_string()),
        "own codes are revealed"
    );
    assert_eq!(items[0]["status"], "CANCELLED");
    let active = app
        .get("/seller/codes?status=ACTIVE", Some(&seller.access))
        .await;
    assert_eq!(active.data()["items"].as_array().expect("items").len(), 1);
    app.get("/seller/codes", Some(&buyer.access))
        .await
        .assert_error(403);
    app.get("/seller/codes", None).await.assert_error(401);
}

#[tokio::test]
async fn the_options_name_what_a_code_may_be_listed_with() {
    let app = TestApp::spawn_with(&[
        ("BOOKMAKERS", "Betway, SportyBet"),
        ("CODE_PRICE_MIN", "1000"),
    ])
    .await;
    let r = app.get("/codes/options", None).await;
    assert_eq!(r.data()["bookmakers"], json!(["Betway", "SportyBet"]));
    assert_eq!(r.data()["minPrice"]["amount"], 1000);
    assert_eq!(r.data()["sports"][0], "FOOTBALL");
    assert_eq!(r.data()["votingWindowSeconds"], 86_400);
}

#[tokio::test]
async fn every_browse_shape_has_its_index_in_the_database() {
    let app = TestApp::spawn().await;
    let indexes: Vec<mongodb::bson::Document> = {
        use futures_util::TryStreamExt;
        let cursor = app
            .db
            .db
            .run_cursor_command(doc! { "listIndexes": "bettingcodes" })
            .await
            .expect("listIndexes");
        cursor.try_collect().await.expect("indexes")
    };
    let keys: Vec<Vec<(String, i32)>> = indexes
        .iter()
        .map(|i| {
            i.get_document("key")
                .expect("key")
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_i32()
                            .or_else(|| v.as_i64().map(|n| n as i32))
                            .or_else(|| v.as_f64().map(|f| f as i32))
                            .unwrap_or(0),
                    )
                })
                .collect()
        })
        .collect();
    for seller in [false, true] {
        for sport in [false, true] {
            for sort in CodeSort::ALL {
                let want: Vec<(String, i32)> = index_for(seller, sport, true, sort)
                    .into_iter()
                    .map(|(k, d)| (k.to_owned(), d))
                    .collect();
                assert!(keys.contains(&want), "no index {want:?} among {keys:?}");
            }
        }
    }
}

#[tokio::test]
async fn the_market_cache_answers_like_the_database_and_catches_up_with_writes() {
    let app = TestApp::spawn_with(&[("MARKET_CACHE_TTL", "200ms")]).await;
    let s1 = app.signed_in_user("SELLER").await;
    let s2 = app.signed_in_user("SELLER").await;
    let buyer = app.signed_in_user("BUYER").await;
    let mut ids = vec![];
    for i in 0..24i64 {
        let seller = if i % 3 == 0 { &s2 } else { &s1 };
        let sport = ["FOOTBALL", "TENNIS", "BASKETBALL"][(i % 3) as usize];
        let c = list_code(&app, seller, json!({
            "sport": sport,
            "price": 500 + (i % 5) * 700, "odds": 1.5 + (i % 4) as f64, "expiresAt": in_hours(1 + i % 6),
            "bookmaker": if i % 2 == 0 { "Betway" } else { "SportyBet" }, "maxBuyers": 1 + i % 2,
        })).await;
        ids.push(id_of(&c));
    }
    app.buy(&buyer, &ids[0]).await;
    app.buy(&buyer, &ids[1]).await;
    app.expire_code(&ids[2], Duration::from_secs(60)).await;
    // The cache's refresh reads by `updatedAt`; a direct write in a test must set it too.
    app.db
        .col("bettingcodes")
        .update_one(
            doc! { "_id": ObjectId::parse_str(&ids[2]).expect("oid") },
            doc! { "$set": { "updatedAt": mongodb::bson::DateTime::now() } },
        )
        .await
        .expect("touch");
    tokio::time::sleep(Duration::from_millis(300)).await;

    let queries = [
        "",
        "sort=price",
        "sort=-price",
        "sort=odds",
        "sort=-odds",
        "sort=expiresAt",
        "sport=TENNIS",
        "bookmaker=betway&sort=price",
        "minOdds=2&maxOdds=4&sort=-odds",
        "minPrice=1000&maxPrice=2500",
        "status=SOLD_OUT",
        "status=AWAITING_RESULT",
    ];
    let state = &app.state;
    for q in queries {
        // Walk every page through the API (served by the cache) and compare with the database query.
        let mut via_api = vec![];
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/codes?limit=5&{q}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let r = app.get(&path, None).await;
            assert_eq!(r.status.as_u16(), 200, "{q}: {}", r.body);
            via_api.extend(
                r.data()["items"]
                    .as_array()
                    .expect("items")
                    .iter()
                    .map(id_of),
            );
            match r.data()["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        let parsed: oddxer_backend::codes::query::CodeQuery =
            serde_json::from_value(query_json(q)).expect("query");
        let mut b = oddxer_backend::codes::query::Browse::parse(
            &parsed,
            Some(oddxer_shared::CodeStatus::Active),
            &state.config.bookmakers,
        )
        .expect("browse");
        assert!(state.market.serves(&b), "{q} is served by the cache");
        b.limit = 100;
        let from_db = oddxer_backend::codes::store::find_many(
            &app.db,
            b.filter(mongodb::bson::DateTime::now()),
            oddxer_backend::codes::query::sort_doc(b.sort),
            1000,
        )
        .await
        .expect("db");
        assert_eq!(
            via_api,
            from_db.iter().map(|c| c.id.to_hex()).collect::<Vec<_>>(),
            "{q}"
        );
    }

    // A purchase made in the database shows within the TTL.
    app.buy(&buyer, &ids[4]).await; // exclusive: sold out
    tokio::time::sleep(Duration::from_millis(400)).await;
    app.get("/codes", None).await; // triggers the refresh
    tokio::time::sleep(Duration::from_millis(100)).await;
    let active: Vec<String> = app.get("/codes?limit=100", None).await.data()["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(id_of)
        .collect();
    assert!(
        !active.contains(&ids[4]),
        "a sold-out code left the ACTIVE list"
    );
    assert!(state.market.size().await >= 20);
}

/// `a=1&b=x` as the JSON object serde reads a query into (numbers where they parse).
fn query_json(q: &str) -> Value {
    let mut m = serde_json::Map::new();
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').expect("pair");
        let value = match v.parse::<f64>() {
            Ok(n) if k != "cursor" => {
                if n.fract() == 0.0 && !k.contains("Odds") {
                    json!(n as i64)
                } else {
                    json!(n)
                }
            }
            _ => json!(v),
        };
        m.insert(k.to_owned(), value);
    }
    Value::Object(m)
}

#[tokio::test]
async fn a_cancellation_racing_an_edit_leaves_the_code_cancelled_and_off_the_market() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    for round in 0..6 {
        let id = id_of(&list_code(&app, &seller, json!({ "price": 1000 })).await);
        let path = format!("/codes/{id}");
        let price = json!({ "price": 4000 });
        let (cancel, edit) = tokio::join!(
            app.delete(&path, Some(&seller.access)),
            app.patch(&path, Some(&seller.access), &price)
        );
        let shown = app.get(&path, Some(&seller.access)).await;
        if cancel.status.as_u16() == 200 {
            assert_eq!(
                shown.data()["status"],
                json!("CANCELLED"),
                "round {round}: cancelled (edit answered {}), {}",
                edit.status,
                shown.body
            );
            let market = app.get("/codes", None).await;
            let listed = market.data()["items"]
                .as_array()
                .expect("items")
                .iter()
                .any(|c| c["id"] == json!(id));
            assert!(
                !listed,
                "round {round}: a cancelled code is still on the market"
            );
        } else {
            assert_eq!(
                shown.data()["status"],
                json!("ACTIVE"),
                "round {round}: {}",
                shown.body
            );
        }
    }
}
