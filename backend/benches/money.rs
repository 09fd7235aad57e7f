//! Load benchmark of issue 5: purchases (uncontended and contended), `GET /wallet` and deposits
//! under sustained concurrent load, beside the seed targets (purchase 500 ms, wallet 300 ms), the
//! design's (10x better), and a raw database round trip (`find_one` by `_id`, `insert_one`) measured
//! in the same run; plus the database round trips of one request of each kind.
//!
//! `MONGODB_URI=mongodb://127.0.0.1:27700 cargo bench -p oddxer-backend --bench money`
//! (see `backend/benches/common/mod.rs` for `BENCH_CONCURRENCY`, `BENCH_SECS`, `BENCH_KEEP_DB`).

mod common;

use common::*;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const PURCHASE_TARGET: Duration = Duration::from_millis(500);
const WALLET_TARGET: Duration = Duration::from_millis(300);
const PRICE: i64 = 1_000;
/// Contended phase: every client walks the same list of codes of `SLOTS` sale slots each.
const SLOTS: i64 = 10;
const CONTENDED_CODES: usize = 80;
/// Uncontended phase: a pool of exclusive codes, each bought once (the phase also stops when it is spent).
const UNCONTENDED_CODES: usize = 1500;

fn sellers_of(sellers: &[Session], i: usize) -> &Session {
    &sellers[i % sellers.len()]
}

async fn create_codes(
    app: &Arc<BenchApp>,
    sellers: &Arc<Vec<Session>>,
    n: usize,
    max_buyers: i64,
) -> Vec<String> {
    let (a, s) = (app.clone(), sellers.clone());
    let load = run_load(16, Stop::Count(n), move |_, i| {
        let (a, s) = (a.clone(), s.clone());
        async move { a.create_code(sellers_of(&s, i), PRICE, max_buyers).await }
    })
    .await;
    assert!(
        load.errors == 0,
        "creating codes failed: {:?}",
        load.error_examples
    );
    load.values
}

async fn purchase(app: &BenchApp, buyer: &Session, code: &str) -> Result<Resp, String> {
    app.post(
        &format!("/codes/{code}/purchase"),
        Some(&buyer.access),
        &json!({}),
        Some(&new_key()),
    )
    .await
}

async fn deposit_request(app: &BenchApp, s: &Session, amount: i64) -> Result<String, String> {
    let body = json!({ "amount": amount, "paymentMethod": "MTN_MOMO", "phoneNumber": s.phone });
    let r = app
        .post("/wallet/deposits", Some(&s.access), &body, Some(&new_key()))
        .await?
        .expect(202)?;
    r.data()["reference"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "no reference".into())
}

async fn deposit_complete(app: &BenchApp, reference: &str) -> Result<(), String> {
    app.post(
        &format!("/dev/payments/{reference}/complete"),
        None,
        &json!({}),
        None,
    )
    .await?
    .expect(200)?;
    Ok(())
}

/// Latencies of the operations whose value satisfies `keep`.
fn select<T>(load: &Load<T>, keep: impl Fn(&T) -> bool) -> Stats {
    let lat: Vec<Duration> = load
        .latencies
        .iter()
        .zip(&load.values)
        .filter(|(_, v)| keep(v))
        .map(|(d, _)| *d)
        .collect();
    Stats::from(lat, 0, load.wall)
}

async fn money_shapes(db: &mongodb::Database, buyer: &Session) -> Table {
    use mongodb::bson::{doc, oid::ObjectId, DateTime, Document};
    let tx = db.collection::<Document>("transactions");
    let entries = db.collection::<Document>("ledger_entries");
    let purchases = db.collection::<Document>("purchases");
    let n_tx = tx.estimated_document_count().await.unwrap_or(0);
    let n_entries = entries.estimated_document_count().await.unwrap_or(0);
    let n_purchases = purchases.estimated_document_count().await.unwrap_or(0);
    let user = ObjectId::parse_str(&buyer.user_id).expect("user id");
    let wallet = format!("wallet:{}", buyer.user_id);
    // The newest of the buyer's transactions: a scan that stops at the first match finds it last.
    let some_tx = tx
        .find_one(doc! { "user": user })
        .sort(doc! { "createdAt": -1 })
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    let tx_id = some_tx.get_object_id("_id").ok().unwrap_or_default();
    let reference = some_tx.get_str("reference").unwrap_or_default().to_owned();
    let entry_id = format!("{wallet}:1");
    let code = purchases
        .find_one(doc! {})
        .await
        .ok()
        .flatten()
        .and_then(|d| d.get_object_id("bettingCode").ok())
        .unwrap_or_default();

    let mut t = shape_table("Raw query shapes of these requests (after the load phases)");
    let c = entries.clone();
    let s = raw_shape(move || {
        let (c, id) = (c.clone(), entry_id.clone());
        async move { c.find_one(doc! { "_id": id }).await.map(|_| ()) }
    })
    .await;
    t.row(shape_row(
        "find_one {_id} (ledger head probe)",
        "ledger_entries",
        n_entries,
        &s,
    ));
    let c = entries.clone();
    let w = wallet.clone();
    let s = raw_shape(move || {
        let (c, w) = (c.clone(), w.clone());
        async move {
            c.find_one(doc! { "account": w })
                .sort(doc! { "seq": -1 })
                .await
                .map(|_| ())
        }
    })
    .await;
    t.row(shape_row(
        "find_one {account} sort seq -1 (head of an uncached account)",
        "ledger_entries",
        n_entries,
        &s,
    ));
    let c = tx.clone();
    let s = raw_shape(move || {
        let c = c.clone();
        async move {
            let filter = doc! { "user": user, "type": "WITHDRAWAL", "status": "PENDING", "metadata.parent": null };
            let mut cursor = c.find(filter).await?;
            while cursor.advance().await? {}
            Ok(())
        }
    })
    .await;
    t.row(shape_row(
        "find {user, type, status, metadata.parent} (GET /wallet: held)",
        "transactions",
        n_tx,
        &s,
    ));
    let c = tx.clone();
    let s = raw_shape(move || {
        let (c, r) = (c.clone(), reference.clone());
        async move { c.find_one(doc! { "reference": r }).await.map(|_| ()) }
    })
    .await;
    t.row(shape_row(
        "find_one {reference} (deposit confirmation; newest)",
        "transactions",
        n_tx,
        &s,
    ));
    let c = tx.clone();
    let s = raw_shape(move || {
        let c = c.clone();
        async move {
            c.update_one(
                doc! { "_id": tx_id },
                doc! { "$set": { "updatedAt": DateTime::now() } },
            )
            .await
            .map(|_| ())
        }
    })
    .await;
    t.row(shape_row(
        "update_one {_id} (newest)",
        "transactions",
        n_tx,
        &s,
    ));
    let c = tx.clone();
    let s = raw_shape(move || {
        let c = c.clone();
        async move {
            let filter = doc! { "_id": tx_id, "status": { "$ne": "NO_SUCH_STATUS" } };
            c.update_one(filter, doc! { "$set": { "updatedAt": DateTime::now() } })
                .await
                .map(|_| ())
        }
    })
    .await;
    t.row(shape_row(
        "update_one {_id, status: {$ne}} (status label; newest)",
        "transactions",
        n_tx,
        &s,
    ));
    let c = purchases.clone();
    let s = raw_shape(move || {
        let c = c.clone();
        async move {
            c.count_documents(doc! { "bettingCode": code, "status": "COMPLETED" })
                .await
                .map(|_| ())
        }
    })
    .await;
    t.row(shape_row(
        "count {bettingCode, status} (sales recount)",
        "purchases",
        n_purchases,
        &s,
    ));
    t
}

#[tokio::main]
async fn main() {
    let c = concurrency();
    let secs = phase_time();
    let app = Arc::new(BenchApp::spawn("money", &[]).await);
    print_context("money", &app);

    // Setup (untimed): sellers, funded buyers, codes.
    let sellers = Arc::new(app.signed_in_users("SELLER", 4, 4).await);
    let buyers = Arc::new(app.signed_in_users("BUYER", c + 12, 8).await);
    for b in buyers.iter() {
        app.fund(b, 5_000_000).await.expect("fund buyer");
    }
    let uncontended = Arc::new(create_codes(&app, &sellers, UNCONTENDED_CODES, 1).await);
    let contended = Arc::new(create_codes(&app, &sellers, CONTENDED_CODES, SLOTS).await);
    let probe_codes = create_codes(&app, &sellers, 6, 1).await;
    let slot_code = create_codes(&app, &sellers, 1, SLOTS).await.remove(0);
    let sizes = [
        "users",
        "bettingcodes",
        "purchases",
        "sale_slots",
        "transactions",
        "ledger_entries",
        "accounts",
        "idempotency_keys",
    ];
    println!(
        "setup: {} sellers, {} buyers funded with 5,000,000 each, {} exclusive codes, {} codes of {SLOTS} slots, price {PRICE} | {}",
        sellers.len(),
        buyers.len(),
        uncontended.len(),
        contended.len(),
        app.collection_sizes(&sizes).await
    );

    // Database commands per request, one request at a time (the extra buyers beyond `c` are used
    // only here, so the load phases start from the same state whatever this does).
    let mut rt = Table::new(
        "Database round trips per request (sequential, counted by driver command monitoring)",
        &[
            "request",
            "commands before the response",
            "after it (50 ms)",
        ],
    );
    let probe = &buyers[c];
    let mut rows: Vec<(String, Vec<u64>, Vec<u64>)> = Vec::new();
    let mut record = |name: &str, d: u64, a: u64| match rows.iter_mut().find(|r| r.0 == name) {
        Some(r) => {
            r.1.push(d);
            r.2.push(a);
        }
        None => rows.push((name.to_owned(), vec![d], vec![a])),
    };
    for code in &probe_codes {
        let (d, a, r) = count_commands(purchase(&app, probe, code)).await;
        r.and_then(|r| r.expect(200)).expect("probe purchase");
        record(
            "POST /codes/{id}/purchase (exclusive code, uncontended)",
            d,
            a,
        );
    }
    for k in 1..=SLOTS as usize {
        let (d, a, r) = count_commands(purchase(&app, &buyers[c + k], &slot_code)).await;
        r.and_then(|r| r.expect(200)).expect("slot purchase");
        if k == 1 || k == SLOTS as usize {
            record(
                &format!("POST /codes/{{id}}/purchase (slot {k} of {SLOTS})"),
                d,
                a,
            );
        }
    }
    let (d, a, r) = count_commands(purchase(&app, &buyers[c + 11], &slot_code)).await;
    let sold_out = r.expect("sold-out purchase");
    record(
        &format!(
            "POST /codes/{{id}}/purchase (sold out: HTTP {})",
            sold_out.status
        ),
        d,
        a,
    );
    for _ in 0..5 {
        let (d, a, r) = count_commands(app.get("/wallet", Some(&probe.access))).await;
        r.and_then(|r| r.expect(200)).expect("wallet");
        record("GET /wallet", d, a);
    }
    for _ in 0..5 {
        let (d, a, r) = count_commands(deposit_request(&app, probe, 1_000)).await;
        let reference = r.expect("deposit request");
        record("POST /wallet/deposits (request)", d, a);
        let (d, a, r) = count_commands(deposit_complete(&app, &reference)).await;
        r.expect("deposit complete");
        record(
            "POST /dev/payments/{ref}/complete (sandbox confirms, wallet credited)",
            d,
            a,
        );
    }
    for (name, d, a) in rows {
        rt.row(vec![name, count_summary(d), count_summary(a)]);
    }

    // One raw database round trip, same server, same run.
    let raw_db = raw_client(&app.config.db_name).await;
    let (raw1_find, raw1_insert) = raw_round_trips(&raw_db, 1, secs / 2, 1000).await;
    let (rawc_find, rawc_insert) = raw_round_trips(&raw_db, c, secs / 2, 1000).await;

    // One client at a time (the latency without queueing): purchases of exclusive codes taken
    // from the end of the pool, GET /wallet, deposits.
    let single = (UNCONTENDED_CODES / 10).min(100);
    let (a, b, codes) = (app.clone(), buyers.clone(), uncontended.clone());
    let unc1 = run_load(1, Stop::CountOrTime(single, secs / 2), move |_, n| {
        let (a, b, codes) = (a.clone(), b.clone(), codes.clone());
        async move {
            purchase(&a, &b[0], &codes[codes.len() - 1 - n])
                .await?
                .expect(200)?;
            Ok(())
        }
    })
    .await;
    print_errors("purchase, 1 client", &unc1);
    let uncontended = Arc::new(uncontended[..uncontended.len() - single].to_vec());
    let (a, b) = (app.clone(), buyers.clone());
    let wallet1 = run_load(1, Stop::Time(secs / 2), move |_, _| {
        let (a, b) = (a.clone(), b.clone());
        async move {
            a.get("/wallet", Some(&b[0].access)).await?.expect(200)?;
            Ok(())
        }
    })
    .await;
    print_errors("wallet, 1 client", &wallet1);
    let (a, b) = (app.clone(), buyers.clone());
    let dep1 = run_load(1, Stop::Time(secs / 2), move |_, _| {
        let (a, b) = (a.clone(), b.clone());
        async move {
            let (t1, reference) = timed(deposit_request(&a, &b[0], 1_000)).await;
            let (t2, done) = timed(deposit_complete(&a, &reference?)).await;
            done?;
            Ok(Timed {
                latency: t1 + t2,
                value: (t1, t2),
            })
        }
    })
    .await;
    print_errors("deposit, 1 client", &dep1);

    // Uncontended purchases: each buyer buys a different exclusive code.
    let (a, b, codes) = (app.clone(), buyers.clone(), uncontended.clone());
    let unc = run_load(
        c,
        Stop::CountOrTime(uncontended.len(), secs),
        move |w, n| {
            let (a, b, codes) = (a.clone(), b.clone(), codes.clone());
            async move {
                purchase(&a, &b[w], &codes[n]).await?.expect(200)?;
                Ok(())
            }
        },
    )
    .await;
    print_errors("uncontended purchases", &unc);
    let unc_sizes = app.collection_sizes(&sizes).await;

    // Contended purchases: all clients walk the same codes in the same order and race for their
    // SLOTS sale slots; the losers get 409 SOLD_OUT.
    let next: Arc<Vec<AtomicUsize>> = Arc::new((0..c).map(|_| AtomicUsize::new(0)).collect());
    let (a, b, codes, nx) = (app.clone(), buyers.clone(), contended.clone(), next.clone());
    let con = run_load(c, Stop::Time(secs), move |w, _| {
        let (a, b, codes, nx) = (a.clone(), b.clone(), codes.clone(), nx.clone());
        async move {
            let i = nx[w].fetch_add(1, Ordering::Relaxed);
            let code = codes.get(i).ok_or("out of contended codes")?;
            let (latency, r) = timed(purchase(&a, &b[w], code)).await;
            let r = r?;
            match (r.status, r.error_code()) {
                (200, _) => Ok(Timed {
                    latency,
                    value: (i, true),
                }),
                (409, "SOLD_OUT") => Ok(Timed {
                    latency,
                    value: (i, false),
                }),
                _ => Err(r.expect(200).err().unwrap_or_default()),
            }
        }
    })
    .await;
    print_errors("contended purchases", &con);
    let mut sold: HashMap<usize, usize> = HashMap::new();
    for (i, bought) in &con.values {
        if *bought {
            *sold.entry(*i).or_default() += 1;
        }
    }
    let oversold = sold.values().filter(|n| **n > SLOTS as usize).count();
    let walked = next
        .iter()
        .map(|n| n.load(Ordering::Relaxed))
        .max()
        .unwrap_or(0)
        .min(contended.len());

    // GET /wallet.
    let (a, b) = (app.clone(), buyers.clone());
    let wallet = run_load(c, Stop::Time(secs), move |w, _| {
        let (a, b) = (a.clone(), b.clone());
        async move {
            a.get("/wallet", Some(&b[w].access)).await?.expect(200)?;
            Ok(())
        }
    })
    .await;
    print_errors("wallet", &wallet);

    // Deposits: request (202 PENDING), then the sandbox provider confirms (wallet credited).
    let (a, b) = (app.clone(), buyers.clone());
    let dep = run_load(c, Stop::Time(secs), move |w, _| {
        let (a, b) = (a.clone(), b.clone());
        async move {
            let (t1, reference) = timed(deposit_request(&a, &b[w], 1_000)).await;
            let reference = reference?;
            let (t2, done) = timed(deposit_complete(&a, &reference)).await;
            done?;
            Ok(Timed {
                latency: t1 + t2,
                value: (t1, t2),
            })
        }
    })
    .await;
    print_errors("deposits", &dep);
    let dep_req = Stats::from(
        dep.values.iter().map(|v| v.0).collect(),
        dep.errors,
        dep.wall,
    );
    let dep_done = Stats::from(
        dep.values.iter().map(|v| v.1).collect(),
        dep.errors,
        dep.wall,
    );

    // The query shapes these requests are made of, raw, on the collections as the load left them.
    let shapes = money_shapes(&raw_db, &buyers[0]).await;

    let mut t = latency_table(
        "Money latency (HTTP, in-process server; seed targets purchase 500 ms, wallet 300 ms; design 10x better)",
    );
    let raw = Some(rawc_find.p50);
    let raw1 = Some(raw1_find.p50);
    t.row(latency_row(
        "purchase, 1 client",
        1,
        &unc1.stats(),
        Some(PURCHASE_TARGET),
        raw1,
    ));
    t.row(latency_row(
        "GET /wallet, 1 client",
        1,
        &wallet1.stats(),
        Some(WALLET_TARGET),
        raw1,
    ));
    t.row(latency_row(
        "deposit request + complete, 1 client",
        1,
        &dep1.stats(),
        Some(WALLET_TARGET),
        raw1,
    ));
    t.row(latency_row(
        "purchase, uncontended",
        c,
        &unc.stats(),
        Some(PURCHASE_TARGET),
        raw,
    ));
    t.row(latency_row(
        "purchase, contended: all",
        c,
        &con.stats(),
        Some(PURCHASE_TARGET),
        raw,
    ));
    t.row(latency_row(
        "  bought (200)",
        c,
        &select(&con, |v| v.1),
        Some(PURCHASE_TARGET),
        raw,
    ));
    t.row(latency_row(
        "  sold out (409)",
        c,
        &select(&con, |v| !v.1),
        Some(PURCHASE_TARGET),
        raw,
    ));
    t.row(latency_row(
        "GET /wallet",
        c,
        &wallet.stats(),
        Some(WALLET_TARGET),
        raw,
    ));
    t.row(latency_row(
        "deposit: request (202)",
        c,
        &dep_req,
        Some(WALLET_TARGET),
        raw,
    ));
    t.row(latency_row(
        "deposit: sandbox complete",
        c,
        &dep_done,
        Some(WALLET_TARGET),
        raw,
    ));
    t.row(latency_row(
        "deposit: both",
        c,
        &dep.stats(),
        Some(WALLET_TARGET),
        raw,
    ));
    t.row(latency_row(
        "raw find_one by _id",
        1,
        &raw1_find,
        None,
        None,
    ));
    t.row(latency_row("raw insert_one", 1, &raw1_insert, None, None));
    t.row(latency_row(
        "raw find_one by _id",
        c,
        &rawc_find,
        None,
        None,
    ));
    t.row(latency_row("raw insert_one", c, &rawc_insert, None, None));
    t.print();
    rt.print();
    shapes.print();
    println!(
        "\ncontended: {walked} codes of {SLOTS} slots walked by {c} clients; codes sold beyond their slots: {oversold}"
    );
    println!("after the uncontended phase: {unc_sizes}");
    println!("at the end: {}", app.collection_sizes(&sizes).await);
    print_load_average();
    app.finish().await;
}
