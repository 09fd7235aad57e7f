//! Two backend instances on one database and one Redis (issue 8 item 6): the money rules hold
//! across processes, and live events reach sockets held by the other instance.

use crate::helpers::{unique_phone, Session, TestApp};
use crate::websocket::{connect, next_frame};
use futures_util::stream::{self, StreamExt};
use oddxer_shared::sync::{LiveEvent, ServerFrame};
use reqwest::StatusCode;
use serde_json::json;
use std::collections::HashSet;

const BUYERS: usize = 100;
const MAX_BUYERS: i64 = 10;
const PRICE: i64 = 2_000;
/// Every fifth buyer also deposits this much while the purchases race.
const EXTRA_DEPOSIT: i64 = 1_000;
/// Requests in flight at once while preparing (the race itself sends all 100 together).
const PARALLEL: usize = 16;

/// `i`-th of a pair: even on A, odd on B.
fn pick(apps: &(TestApp, TestApp), i: usize) -> &TestApp {
    if i.is_multiple_of(2) {
        &apps.0
    } else {
        &apps.1
    }
}

/// Deposits on `on` and has the sandbox confirm it through the other instance's dev route.
async fn deposit_across(on: &TestApp, confirm_on: &TestApp, s: &Session, amount: i64) {
    let r = on
        .deposit(s, amount, &uuid::Uuid::new_v4().to_string())
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let reference = r.data()["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    let done = confirm_on
        .post(
            &format!("/dev/payments/{reference}/complete"),
            None,
            &json!({}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
}

#[tokio::test]
async fn two_instances_sell_a_code_exactly_max_buyers_times_and_share_live_events() {
    let admin_phone = unique_phone();
    let Some(apps) =
        TestApp::spawn_pair("scale-out", &[("ADMIN_PHONE_NUMBERS", &admin_phone)]).await
    else {
        return;
    };
    let (a, b) = (&apps.0, &apps.1);
    let seller = a.signed_in_user("SELLER").await;
    let code = a.create_code(&seller, PRICE, MAX_BUYERS).await;
    let mut seller_socket = connect(b, Some(&seller.access))
        .await
        .expect("seller's socket on B");

    // 100 buyers, signed in and funded with the price on alternating instances.
    let buyers: Vec<Session> = stream::iter(0..BUYERS)
        .map(|i| {
            let apps = &apps;
            async move {
                let s = pick(apps, i).signed_in_user("BUYER").await;
                deposit_across(pick(apps, i), pick(apps, i + 1), &s, PRICE).await;
                s
            }
        })
        .buffered(PARALLEL)
        .collect()
        .await;

    // The race: every buyer at once, half through each instance, with deposits landing meanwhile.
    let purchases = futures_util::future::join_all(buyers.iter().enumerate().map(|(i, s)| {
        let apps = &apps;
        let code = &code;
        async move { (i, pick(apps, i).purchase(s, code).await) }
    }));
    let deposits = futures_util::future::join_all(
        buyers
            .iter()
            .enumerate()
            .filter(|(i, _)| i.is_multiple_of(5))
            .map(|(i, s)| deposit_across(pick(&apps, i + 1), pick(&apps, i), s, EXTRA_DEPOSIT)),
    );
    let (results, _) = tokio::join!(purchases, deposits);

    let mut winners = HashSet::new();
    let mut sold_out = 0;
    for (i, r) in &results {
        match r.status {
            StatusCode::OK => {
                winners.insert(*i);
            }
            StatusCode::CONFLICT => {
                assert_eq!(r.error_code(), "SOLD_OUT", "{}", r.body);
                sold_out += 1;
            }
            other => panic!("buyer {i}: unexpected {other}: {}", r.body),
        }
    }
    assert_eq!(winners.len() as i64, MAX_BUYERS, "sales");
    assert_eq!(sold_out, BUYERS - MAX_BUYERS as usize, "SOLD_OUT answers");

    // Every balance exact, read through either instance.
    for (i, s) in buyers.iter().enumerate() {
        let paid = if winners.contains(&i) { PRICE } else { 0 };
        let extra = if i.is_multiple_of(5) {
            EXTRA_DEPOSIT
        } else {
            0
        };
        assert_eq!(
            pick(&apps, i + 1).balance(s).await,
            PRICE + extra - paid,
            "buyer {i}"
        );
    }
    let listed = b.get(&format!("/codes/{code}"), Some(&seller.access)).await;
    assert_eq!(
        listed.data()["status"],
        json!("SOLD_OUT"),
        "{}",
        listed.body
    );

    // The seller's socket on B heard of every sale, whichever instance made it.
    let mut sold: HashSet<String> = HashSet::new();
    while sold.len() < MAX_BUYERS as usize {
        if let ServerFrame::Event(LiveEvent::CodePurchased(data)) =
            next_frame(&mut seller_socket).await
        {
            assert_eq!(data["codeId"], json!(code));
            sold.insert(data["purchaseId"].as_str().expect("purchaseId").to_owned());
        }
    }
    // And an event emitted on A is delivered to B: a deposit confirmed by A updates the wallet
    // shown on the seller's socket on B.
    deposit_across(b, a, &seller, 1_500).await;
    loop {
        if let ServerFrame::Event(LiveEvent::WalletUpdated { balance }) =
            next_frame(&mut seller_socket).await
        {
            if balance.amount == 1_500 {
                break;
            }
        }
    }

    let admin = b.admin(&admin_phone).await;
    let report = b.get("/admin/reconcile", Some(&admin.access)).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    assert_eq!(report.data()["ok"], json!(true), "{}", report.body);
    a.assert_reconciled().await;
}
