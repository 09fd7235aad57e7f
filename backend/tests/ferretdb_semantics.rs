//! What the dev/CI database (FerretDB 1.24, SQLite backend) really does under concurrency, checked
//! with the `mongodb` driver directly (no backend code involved). DESIGN.md section 2 and 4 build on
//! these facts:
//!
//! - concurrent `$inc` on one document can lose updates (documented, printed, not asserted);
//! - a guarded update (`{balance: {$gte: 10}}` + `$inc: -10`) can succeed more often than the balance
//!   allows (documented, printed; only what holds on any server is asserted);
//! - an INSERT under a unique index (`_id` or a secondary unique index) is the one reliable
//!   exactly-once primitive: exactly one concurrent insert wins, every other one fails with code 11000
//!   (asserted strictly: the money design depends on it).
//!
//! Needs a database: `MONGODB_URI` (default `mongodb://127.0.0.1:27118`, the port `scripts/test.sh`
//! uses; start one with `scripts/ferretdb.sh start --port 27118 --data .data/ferretdb-test`).
//! Each test uses its own fresh database and drops it at the end.
//! See the figures with: `cargo test -p oddxer-backend --test ferretdb_semantics -- --nocapture`.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mongodb::bson::{doc, Document};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, Collection, Database, IndexModel};

const DUPLICATE_KEY: i32 = 11000;

fn uri() -> String {
    std::env::var("MONGODB_URI").unwrap_or_else(|_| "mongodb://127.0.0.1:27118".to_string())
}

/// A client and a database name nobody else uses.
async fn fresh_db(test: &str) -> (Client, Database) {
    let uri = uri();
    let mut opts = ClientOptions::parse(&uri).await.unwrap();
    opts.server_selection_timeout = Some(Duration::from_secs(10));
    opts.app_name = Some("oddxer-ferretdb-semantics".to_string());
    let client = Client::with_options(opts).unwrap();
    if let Err(e) = client.database("admin").run_command(doc! { "ping": 1 }).await {
        panic!(
            "no database at MONGODB_URI={uri}: {e}\n\
             start one with `bash scripts/ferretdb.sh start --port 27118 --data .data/ferretdb-test` \
             or run `bash scripts/test.sh`"
        );
    }
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    let name = format!("sem_{test}_{}_{}", std::process::id(), nanos % 1_000_000_000);
    let db = client.database(&name);
    (client, db)
}

/// The server error code of a failed operation, wherever the driver put it.
fn error_code(e: &mongodb::error::Error) -> Option<i32> {
    match &*e.kind {
        ErrorKind::Write(WriteFailure::WriteError(w)) => Some(w.code),
        ErrorKind::Write(WriteFailure::WriteConcernError(w)) => Some(w.code),
        ErrorKind::Command(c) => Some(c.code),
        ErrorKind::InsertMany(im) => im
            .write_errors
            .as_ref()
            .and_then(|es| es.first())
            .map(|w| w.code),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_inc_on_one_document_reports_lost_updates() {
    let (_client, db) = fresh_db("inc").await;
    let coll: Collection<Document> = db.collection("counters");
    coll.insert_one(doc! { "_id": "c", "n": 0_i64 }).await.unwrap();

    const TASKS: i64 = 20;
    const PER_TASK: i64 = 25;
    let coll = Arc::new(coll);
    let mut handles = Vec::new();
    for _ in 0..TASKS {
        let coll = Arc::clone(&coll);
        handles.push(tokio::spawn(async move {
            let mut matched = 0_u64;
            for _ in 0..PER_TASK {
                let r = coll
                    .update_one(doc! { "_id": "c" }, doc! { "$inc": { "n": 1_i64 } })
                    .await
                    .unwrap();
                matched += r.matched_count;
            }
            matched
        }));
    }
    let mut matched = 0;
    for h in handles {
        matched += h.await.unwrap();
    }
    let final_doc = coll.find_one(doc! { "_id": "c" }).await.unwrap().unwrap();
    let n = final_doc.get_i64("n").unwrap();
    let expected = TASKS * PER_TASK;
    let lost = expected - n;
    println!(
        "[$inc] {TASKS} tasks x {PER_TASK} $inc on one document: final n = {n}, expected {expected}, \
         lost {lost} ({:.1}%), matched {matched}",
        lost as f64 * 100.0 / expected as f64
    );
    if lost > 0 {
        println!("[$inc] => concurrent $inc LOSES updates on this server: never rely on it for money");
    }
    assert_eq!(matched, expected as u64, "every update must match the document");
    assert!(n >= 1 && n <= expected, "n = {n} is outside 1..={expected}");
    db.drop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_guarded_decrement_reports_oversell() {
    let (_client, db) = fresh_db("guard").await;
    let coll: Collection<Document> = db.collection("wallets");
    coll.insert_one(doc! { "_id": "w", "balance": 100_i64 }).await.unwrap();

    const TASKS: usize = 50;
    let coll = Arc::new(coll);
    let start = Arc::new(tokio::sync::Barrier::new(TASKS));
    let mut handles = Vec::new();
    for _ in 0..TASKS {
        let coll = Arc::clone(&coll);
        let start = Arc::clone(&start);
        handles.push(tokio::spawn(async move {
            start.wait().await;
            let r = coll
                .update_one(
                    doc! { "_id": "w", "balance": { "$gte": 10_i64 } },
                    doc! { "$inc": { "balance": -10_i64 } },
                )
                .await
                .unwrap();
            r.modified_count
        }));
    }
    let mut succeeded = 0;
    for h in handles {
        succeeded += h.await.unwrap();
    }
    let balance = coll
        .find_one(doc! { "_id": "w" })
        .await
        .unwrap()
        .unwrap()
        .get_i64("balance")
        .unwrap();
    println!(
        "[guard] {TASKS} concurrent `balance >= 10 -> $inc -10` on balance 100: {succeeded} reported \
         success (a correct server allows 10), final balance {balance}, below zero: {}, \
         debited {} but balance fell by {}",
        balance < 0,
        succeeded * 10,
        100 - balance
    );
    if succeeded > 10 {
        println!("[guard] => guarded updates can OVERSELL on this server: decisions must be inserts");
    }
    // Each write is computed from a read that satisfied the guard, so the stored balance stays in
    // 0..=100 and a multiple of 10 on any server. More than 10 successes is the documented hazard.
    assert!((0..=100).contains(&balance), "balance {balance} out of 0..=100");
    assert_eq!(balance % 10, 0);
    assert!(succeeded >= 1);
    db.drop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_inserts_with_same_id_one_wins_rest_get_11000() {
    let (_client, db) = fresh_db("dupid").await;
    let coll: Collection<Document> = db.collection("claims");
    // Make sure the collection exists so that the race is on the insert, not on creating it.
    db.create_collection("claims").await.unwrap();

    const TASKS: usize = 50;
    let coll = Arc::new(coll);
    let start = Arc::new(tokio::sync::Barrier::new(TASKS));
    let mut handles = Vec::new();
    for i in 0..TASKS {
        let coll = Arc::clone(&coll);
        let start = Arc::clone(&start);
        handles.push(tokio::spawn(async move {
            start.wait().await;
            coll.insert_one(doc! { "_id": "order-1", "task": i as i64 })
                .await
                .map_err(|e| (error_code(&e), e.to_string()))
        }));
    }
    let (mut ok, mut dup, mut other) = (0, 0, Vec::new());
    for h in handles {
        match h.await.unwrap() {
            Ok(_) => ok += 1,
            Err((Some(DUPLICATE_KEY), _)) => dup += 1,
            Err(e) => other.push(e),
        }
    }
    println!("[_id] {TASKS} concurrent inserts of one _id: {ok} ok, {dup} x 11000, other errors {other:?}");
    assert_eq!(ok, 1, "exactly one insert must win");
    assert_eq!(dup, TASKS - 1, "every other insert must fail with 11000; other errors: {other:?}");
    assert_eq!(coll.count_documents(doc! {}).await.unwrap(), 1);
    db.drop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unique_secondary_index_insert_conflict_is_11000() {
    let (_client, db) = fresh_db("uniq").await;
    let coll: Collection<Document> = db.collection("idem");
    coll.create_index(
        IndexModel::builder()
            .keys(doc! { "key": 1 })
            .options(IndexOptions::builder().unique(true).name("key_unique".to_string()).build())
            .build(),
    )
    .await
    .unwrap();

    // Sequential conflict.
    coll.insert_one(doc! { "key": "a", "v": 1 }).await.unwrap();
    let e = coll.insert_one(doc! { "key": "a", "v": 2 }).await.unwrap_err();
    assert_eq!(error_code(&e), Some(DUPLICATE_KEY), "duplicate unique key insert: {e}");

    // Concurrent conflict: distinct _ids, same unique key.
    const TASKS: usize = 50;
    let coll = Arc::new(coll);
    let start = Arc::new(tokio::sync::Barrier::new(TASKS));
    let mut handles = Vec::new();
    for i in 0..TASKS {
        let coll = Arc::clone(&coll);
        let start = Arc::clone(&start);
        handles.push(tokio::spawn(async move {
            start.wait().await;
            coll.insert_one(doc! { "key": "b", "task": i as i64 })
                .await
                .map_err(|e| (error_code(&e), e.to_string()))
        }));
    }
    let (mut ok, mut dup, mut other) = (0, 0, Vec::new());
    for h in handles {
        match h.await.unwrap() {
            Ok(_) => ok += 1,
            Err((Some(DUPLICATE_KEY), _)) => dup += 1,
            Err(e) => other.push(e),
        }
    }
    println!(
        "[unique] {TASKS} concurrent inserts of one unique key: {ok} ok, {dup} x 11000, other errors {other:?}"
    );
    assert_eq!(ok, 1, "exactly one insert must win");
    assert_eq!(dup, TASKS - 1, "every other insert must fail with 11000; other errors: {other:?}");
    assert_eq!(coll.count_documents(doc! { "key": "b" }).await.unwrap(), 1);

    // Documented, not asserted: an UPDATE that violates the unique index (FerretDB: code 1, MongoDB: 11000).
    coll.insert_one(doc! { "key": "c" }).await.unwrap();
    match coll
        .update_one(doc! { "key": "c" }, doc! { "$set": { "key": "a" } })
        .await
    {
        Ok(r) => println!("[unique] update into a taken key: NOT refused (modified {})", r.modified_count),
        Err(e) => println!("[unique] update into a taken key: refused with code {:?}", error_code(&e)),
    }
    db.drop().await.unwrap();
}
