//! `GET /api/v1/metrics` (DESIGN.md section 10): each family moves by what happened, with bounded
//! labels; the Grafana dashboard only queries families the backend exports.

use crate::helpers::{unique_phone, unique_username, Session, TestApp};
use crate::websocket::{connect, next_frame, send};
use mongodb::bson::{doc, DateTime};
use oddxer_shared::sync::{ClientFrame, LiveEvent, ServerFrame, StreamEntries, SyncCursors};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

/// One parsed sample: family name, labels, value.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// The samples of a Prometheus text exposition (label values here never hold `,` or `"`).
fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("sample line has a value");
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => {
                    let body = rest.strip_suffix('}').expect("closed labels");
                    let labels = body
                        .split("\",")
                        .filter(|p| !p.is_empty())
                        .map(|p| {
                            let (k, v) = p.split_once("=\"").expect("label=\"value\"");
                            (k.to_owned(), v.trim_end_matches('"').to_owned())
                        })
                        .collect();
                    (name.to_owned(), labels)
                }
                None => (series.to_owned(), BTreeMap::new()),
            };
            Sample {
                name,
                labels,
                value: value.parse().expect("numeric value"),
            }
        })
        .collect()
}

struct Scrape(Vec<Sample>);

impl Scrape {
    async fn of(app: &TestApp) -> Scrape {
        let r = app
            .http
            .get(app.url("/metrics"))
            .send()
            .await
            .expect("scrape");
        assert_eq!(r.status().as_u16(), 200);
        let content_type = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        assert!(content_type.starts_with("text/plain"), "{content_type}");
        Scrape(parse(&r.text().await.expect("body")))
    }

    /// The value of the series with exactly these labels (0 when it does not exist yet).
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let want: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.0
            .iter()
            .find(|s| s.name == name && s.labels == want)
            .map(|s| s.value)
            .unwrap_or(0.0)
    }

    fn has_family(&self, name: &str) -> bool {
        self.0.iter().any(|s| {
            s.name == name
                || s.name
                    .strip_prefix(name)
                    .is_some_and(|rest| ["_bucket", "_sum", "_count"].contains(&rest))
        })
    }
}

/// How much a series moved between two scrapes.
fn moved(before: &Scrape, after: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    after.get(name, labels) - before.get(name, labels)
}

async fn admin_app() -> (TestApp, Session) {
    let admin_phone = unique_phone();
    let app = TestApp::spawn_with(&[("ADMIN_PHONE_NUMBERS", admin_phone.as_str())]).await;
    app.register(&admin_phone, &unique_username()).await;
    let admin = app.sign_in(&admin_phone).await;
    (app, admin)
}

/// Milliseconds since the epoch, shifted.
fn now_plus(d: Duration) -> DateTime {
    DateTime::from_millis(DateTime::now().timestamp_millis() + d.as_millis() as i64)
}

#[tokio::test]
async fn each_family_moves_by_what_happened_with_bounded_labels() {
    let (app, admin) = admin_app().await;
    let seller = app.signed_in_user("SELLER").await;
    let buyer = app.signed_in_user("BUYER").await;
    let before = Scrape::of(&app).await;

    // A completed and a failed deposit (MTN), a purchase settled WON (10% fee), a withdrawal paid out (Airtel).
    app.funded(&buyer, 20_000).await;
    let failed = app
        .deposit(&buyer, 7_000, &uuid::Uuid::new_v4().to_string())
        .await;
    let reference = failed.data()["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    let r = app
        .post(&format!("/dev/payments/{reference}/fail"), None, &json!({}))
        .await;
    assert_eq!(r.data()["status"], "FAILED", "{}", r.body);
    let code = app.create_code(&seller, 10_000, 1).await;
    assert_eq!(app.purchase(&buyer, &code).await.status.as_u16(), 200);
    app.expire_code(&code, Duration::from_secs(60)).await;
    let r = app
        .post(
            &format!("/admin/codes/{code}/resolve"),
            Some(&admin.access),
            &json!({ "outcome": "WON" }),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let body =
        json!({ "amount": 5_000, "paymentMethod": "AIRTEL_MONEY", "phoneNumber": buyer.phone });
    let w = app
        .post_with(
            "/wallet/withdrawals",
            Some(&buyer.access),
            &body,
            Some("metrics-w1"),
        )
        .await;
    let reference = w.data()["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    let r = app
        .post(
            &format!("/dev/payments/{reference}/complete"),
            None,
            &json!({}),
        )
        .await;
    assert_eq!(r.data()["status"], "COMPLETED", "{}", r.body);

    // A socket syncs the buyer's wallet from the start, then hears of a new deposit.
    let mut ws = connect(&app, Some(&buyer.access)).await.expect("connect");
    send(
        &mut ws,
        &ClientFrame::Sync {
            streams: SyncCursors {
                wallet: Some(0),
                purchases: None,
            },
        },
    )
    .await;
    let mut synced = 0;
    loop {
        if let ServerFrame::SyncBatch(b) = next_frame(&mut ws).await {
            if let StreamEntries::Wallet(e) = &b.entries {
                synced += e.len();
            }
            if b.done {
                break;
            }
        }
    }
    // deposit credit, purchase debit, withdrawal hold
    assert_eq!(synced, 3);
    let connected = Scrape::of(&app).await;
    assert_eq!(connected.get("oddxer_ws_connections", &[]), 1.0);
    app.funded(&buyer, 1_000).await;
    loop {
        if let ServerFrame::Event(LiveEvent::WalletUpdated { .. }) = next_frame(&mut ws).await {
            break;
        }
    }
    // The sync batch after the event is queued just after it; let it be counted.
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(ws);

    let after = Scrape::of(&app).await;
    let payments = "oddxer_payments_total";
    assert_eq!(
        moved(
            &before,
            &after,
            payments,
            &[
                ("kind", "deposit"),
                ("method", "MTN_MOMO"),
                ("status", "completed")
            ]
        ),
        2.0
    );
    assert_eq!(
        moved(
            &before,
            &after,
            payments,
            &[
                ("kind", "deposit"),
                ("method", "MTN_MOMO"),
                ("status", "failed")
            ]
        ),
        1.0
    );
    assert_eq!(
        moved(
            &before,
            &after,
            payments,
            &[
                ("kind", "withdrawal"),
                ("method", "AIRTEL_MONEY"),
                ("status", "completed")
            ]
        ),
        1.0
    );
    assert_eq!(
        moved(
            &before,
            &after,
            payments,
            &[
                ("kind", "withdrawal"),
                ("method", "AIRTEL_MONEY"),
                ("status", "reversed")
            ]
        ),
        0.0
    );
    assert_eq!(
        moved(
            &before,
            &after,
            "oddxer_purchases_total",
            &[("outcome", "completed")]
        ),
        1.0
    );
    assert_eq!(
        moved(
            &before,
            &after,
            "oddxer_purchases_total",
            &[("outcome", "failed")]
        ),
        0.0
    );
    assert_eq!(
        moved(
            &before,
            &after,
            "oddxer_settlements_total",
            &[("outcome", "paid_out")]
        ),
        1.0
    );
    assert_eq!(
        moved(&before, &after, "oddxer_fees_collected_minor_total", &[]),
        1_000.0
    );
    assert_eq!(
        moved(
            &before,
            &after,
            "oddxer_sync_entries_sent_total",
            &[("stream", "wallet")]
        ),
        4.0,
        "3 synced, then the new deposit's entry"
    );
    assert_eq!(
        moved(
            &before,
            &after,
            "oddxer_ws_events_sent_total",
            &[("event", "wallet:updated")]
        ),
        1.0
    );
    // Every transfer decided (3 deposits, the purchase, payout and fee, the withdrawal's hold and
    // payout) is one insert into `transfer_outcomes`, timed by the command histogram.
    let outcome_inserts = [("collection", "transfer_outcomes"), ("command", "insert")];
    assert_eq!(
        moved(
            &before,
            &after,
            "oddxer_db_command_duration_seconds_count",
            &outcome_inserts
        ),
        8.0
    );
    assert!(after.get("oddxer_db_pool_connections", &[("state", "open")]) >= 1.0);
    // HTTP latency by route template and status class.
    let purchase = [
        ("method", "POST"),
        ("route", "/api/v1/codes/{id}/purchase"),
        ("status", "2xx"),
    ];
    assert_eq!(
        moved(
            &before,
            &after,
            "http_request_duration_seconds_count",
            &purchase
        ),
        1.0
    );
    assert_eq!(
        moved(&before, &after, "http_requests_total", &purchase),
        1.0
    );
    assert!(
        after.get(
            "http_request_duration_seconds_bucket",
            &[
                ("method", "POST"),
                ("route", "/api/v1/codes/{id}/purchase"),
                ("status", "2xx"),
                ("le", "+Inf")
            ]
        ) >= 1.0
    );

    // The socket is gone: the gauge comes back down.
    let mut sockets = 1.0;
    for _ in 0..50 {
        sockets = Scrape::of(&app).await.get("oddxer_ws_connections", &[]);
        if sockets == 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(sockets, 0.0);

    // No label value is an id, a phone number, a reference or a raw path.
    let ids = [
        buyer.user_id.as_str(),
        seller.user_id.as_str(),
        admin.user_id.as_str(),
        code.as_str(),
        reference.as_str(),
    ];
    let phones = [
        buyer.phone.as_str(),
        seller.phone.as_str(),
        admin.phone.as_str(),
    ];
    for s in &after.0 {
        for (k, v) in &s.labels {
            let hexish = v.len() >= 16 && v.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
            let digits = v.chars().filter(char::is_ascii_digit).count();
            assert!(!hexish, "{}: label {k}={v} looks like an id", s.name);
            assert!(
                digits < 7,
                "{}: label {k}={v} looks like a phone number",
                s.name
            );
            assert!(
                !ids.iter()
                    .chain(&phones)
                    .any(|x| v.contains(x.trim_start_matches('+'))),
                "{}: label {k}={v} names a user or payment",
                s.name
            );
        }
    }
}

#[tokio::test]
async fn the_worker_pass_counts_pending_transfers_users_and_redriven_items() {
    let (app, _admin) = admin_app().await;
    app.signed_in_user("SELLER").await;
    let buyer = app.signed_in_user("BUYER").await;
    let pending = app
        .deposit(&buyer, 3_000, &uuid::Uuid::new_v4().to_string())
        .await;
    assert_eq!(pending.data()["status"], "PENDING");
    let before = Scrape::of(&app).await;

    // Recovery asks the provider about the deposit (still pending there) and counts the re-drive.
    oddxer_backend::recovery::run_pass(&app.state, now_plus(Duration::from_secs(1)))
        .await
        .expect("recovery pass");
    let mut observer = oddxer_backend::observe::Observer::default();
    let report = observer
        .pass(&app.state, now_plus(Duration::from_secs(90)))
        .await
        .expect("observe pass");
    assert_eq!(report.pending, 1);

    let after = Scrape::of(&app).await;
    assert_eq!(
        moved(
            &before,
            &after,
            "oddxer_recovery_redriven_total",
            &[("kind", "deposit")]
        ),
        1.0
    );
    assert_eq!(after.get("oddxer_transfers_pending", &[]), 1.0);
    let oldest = after.get("oddxer_transfers_pending_oldest_seconds", &[]);
    assert!((89.0..200.0).contains(&oldest), "oldest pending {oldest} s");
    for (role, n) in [("BUYER", 1.0), ("SELLER", 1.0), ("ADMIN", 1.0)] {
        assert_eq!(
            after.get("oddxer_users_total", &[("role", role)]),
            n,
            "{role}"
        );
    }

    // Confirmed, it is no longer pending.
    let reference = pending.data()["reference"].as_str().expect("reference");
    app.post(
        &format!("/dev/payments/{reference}/complete"),
        None,
        &json!({}),
    )
    .await;
    observer
        .pass(&app.state, now_plus(Duration::from_secs(90)))
        .await
        .expect("observe pass");
    let done = Scrape::of(&app).await;
    assert_eq!(done.get("oddxer_transfers_pending", &[]), 0.0);
    assert_eq!(
        done.get("oddxer_transfers_pending_oldest_seconds", &[]),
        0.0
    );
}

#[tokio::test]
async fn a_broken_ledger_chain_shows_on_the_violations_gauge_until_a_full_run_finds_it_clean() {
    let (app, admin) = admin_app().await;
    let buyer = app.signed_in_user("BUYER").await;
    let start = oddxer_backend::ledger::transfer::minute_bucket(DateTime::now());
    app.funded(&buyer, 4_000).await;
    app.funded(&buyer, 6_000).await;
    // The periodic pass over the minutes just decided finds nothing wrong.
    let lag = app.config.recovery_after + app.config.recovery_interval + Duration::from_secs(120);
    let mut observer = oddxer_backend::observe::Observer::starting_at(start);
    let clean = observer
        .pass(&app.state, now_plus(lag))
        .await
        .expect("observe pass");
    assert!(clean.reconcile.transfers >= 2, "{clean:?}");
    assert!(
        clean.reconcile.violations.is_empty(),
        "{:?}",
        clean.reconcile.violations
    );
    assert_eq!(
        Scrape::of(&app)
            .await
            .get("oddxer_reconcile_violations", &[]),
        0.0
    );

    // Someone edits the second entry's balance in the database: the chain no longer adds up.
    let wallet = format!("wallet:{}", buyer.user_id);
    app.db
        .col("ledger_entries")
        .update_one(
            doc! { "_id": format!("{wallet}:2") },
            doc! { "$set": { "balanceAfter": 9_000_i64 } },
        )
        .await
        .expect("edit");
    let mut rerun = oddxer_backend::observe::Observer::starting_at(start);
    let found = rerun
        .pass(&app.state, now_plus(lag))
        .await
        .expect("observe pass");
    let invariants: Vec<&str> = found
        .reconcile
        .violations
        .iter()
        .map(|v| v.invariant.as_str())
        .collect();
    assert_eq!(invariants, vec!["balance_chain"]);
    let scrape = Scrape::of(&app).await;
    assert_eq!(scrape.get("oddxer_reconcile_violations", &[]), 1.0);
    assert!(scrape.get("oddxer_reconcile_last_run_timestamp_seconds", &[]) > 1.7e9);

    // A later window sees nothing new, but the violation stays reported...
    observer
        .pass(&app.state, now_plus(lag + Duration::from_secs(120)))
        .await
        .expect("observe pass");
    assert_eq!(
        Scrape::of(&app)
            .await
            .get("oddxer_reconcile_violations", &[]),
        1.0
    );
    // ...until the edit is undone and a full reconcile finds the ledger clean.
    app.db
        .col("ledger_entries")
        .update_one(
            doc! { "_id": format!("{wallet}:2") },
            doc! { "$set": { "balanceAfter": 10_000_i64 } },
        )
        .await
        .expect("undo");
    let r = app.get("/admin/reconcile", Some(&admin.access)).await;
    assert_eq!(r.data()["ok"], true, "{}", r.body);
    assert_eq!(
        Scrape::of(&app)
            .await
            .get("oddxer_reconcile_violations", &[]),
        0.0
    );
}

/// Every PromQL query of `backend/ops/grafana-dashboard.json` names only metric families a running
/// backend exports (so a renamed metric cannot leave a panel silently empty).
#[tokio::test]
async fn every_dashboard_query_names_an_exported_metric() {
    let app = TestApp::spawn().await;
    // Touch the families that appear on first use: a request, a socket, a sync.
    let s = app.signed_in_user("BUYER").await;
    app.funded(&s, 1_000).await;
    let mut ws = connect(&app, Some(&s.access)).await.expect("connect");
    send(
        &mut ws,
        &ClientFrame::Sync {
            streams: SyncCursors {
                wallet: Some(0),
                purchases: None,
            },
        },
    )
    .await;
    next_frame(&mut ws).await;
    let scrape = Scrape::of(&app).await;
    let exported: Vec<&str> = oddxer_backend::metrics::FAMILIES.to_vec();

    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/ops/grafana-dashboard.json");
    let text = std::fs::read_to_string(path).expect("dashboard file");
    let dashboard: serde_json::Value =
        serde_json::from_str(&text).expect("the dashboard is valid JSON");
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(panels.len() >= 10, "{} panels", panels.len());
    let mut queries = 0;
    for panel in panels {
        let title = panel["title"].as_str().unwrap_or("?");
        let targets = panel["targets"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        assert!(!targets.is_empty(), "panel {title} has no query");
        for t in targets {
            let expr = t["expr"]
                .as_str()
                .unwrap_or_else(|| panic!("panel {title}: a target without expr"));
            queries += 1;
            let names = metric_names(expr);
            assert!(!names.is_empty(), "panel {title}: {expr} names no metric");
            for name in names {
                let family = ["_bucket", "_count", "_sum"]
                    .iter()
                    .find_map(|s| name.strip_suffix(s))
                    .filter(|f| exported.contains(f))
                    .unwrap_or(&name);
                assert!(
                    exported.contains(&family),
                    "panel {title}: {name} is not a family the backend exports"
                );
                assert!(
                    scrape.has_family(family),
                    "panel {title}: {family} is not in a live scrape"
                );
            }
        }
    }
    assert!(queries >= 10);
    // Families listed as exported are really rendered (those a fresh server has already touched).
    for family in [
        "http_requests_total",
        "http_request_duration_seconds",
        "oddxer_db_command_duration_seconds",
        "oddxer_ws_connections",
        "oddxer_payments_total",
    ] {
        assert!(
            scrape.has_family(family),
            "{family} missing from the scrape"
        );
    }
}

/// Identifiers in a PromQL expression that are metric names: `http_…` or `oddxer_…` words (the
/// functions, label names and keywords this dashboard uses never start so).
fn metric_names(expr: &str) -> Vec<String> {
    let mut out = vec![];
    let mut word = String::new();
    let mut in_string = false;
    for c in expr.chars().chain(std::iter::once(' ')) {
        if c == '"' {
            in_string = !in_string;
            word.clear();
            continue;
        }
        if in_string {
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
            word.push(c);
        } else {
            if word.starts_with("oddxer_") || word.starts_with("http_") {
                out.push(word.clone());
            }
            word.clear();
        }
    }
    out
}

#[tokio::test]
async fn a_stored_code_that_does_not_read_is_counted_and_the_others_still_serve() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    let good = app.create_code(&seller, 1_000, 1).await;
    let broken = app.create_code(&seller, 1_000, 1).await;
    // A document no version of the backend writes: a status outside the enum.
    let id = mongodb::bson::oid::ObjectId::parse_str(&broken).expect("id");
    app.db
        .col("bettingcodes")
        .update_one(
            doc! { "_id": id },
            doc! { "$set": { "status": "MISPLACED" } },
        )
        .await
        .expect("corrupt the code");
    let before = Scrape::of(&app).await;
    let r = app.get(&format!("/codes/{broken}"), None).await;
    assert_eq!(r.status.as_u16(), 404, "{}", r.body);
    let r = app.get(&format!("/codes/{good}"), None).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let after = Scrape::of(&app).await;
    let labels = [("collection", "bettingcodes")];
    assert_eq!(
        moved(&before, &after, "oddxer_db_rows_unreadable_total", &labels),
        1.0
    );
}
