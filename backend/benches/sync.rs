//! Sync at scale (issue 14): the real client core (`oddxer-client`: SQLite, WebSocket, backoff)
//! against the real backend binary, with histories seeded through the backend's own bulk builders.
//!
//! `cargo bench -p oddxer-backend --bench sync`
//!
//! Prints, beside the same run's raw database round trips (`find_one {_id}` and one bucket read of
//! 64 ledger entries):
//! - **cold sync**: a user with `SYNC_ENTRIES` (10,000) ledger entries and `SYNC_PURCHASES` (500)
//!   purchases, client store empty: from the sign-in (which starts the sync task; the socket opens
//!   a few ms later) to both streams `done`, in step and committed in SQLite; again with
//!   `SYNC_BIG_ENTRIES` (100,000) entries for linearity; the server's resident memory before and
//!   at its peak during each (sampled every 10 ms, the server is a separate process);
//! - **checkpoint mismatch**: the 10,000-entry client's stored head balance is corrupted in its
//!   SQLite file, the client restarts: the stream it re-syncs, entries re-sent per stream, time;
//! - **live latency**: from the dev confirmation of a deposit being sent (the deposit completes
//!   inside that request) to the entry committed in the client's SQLite and the client's change
//!   event received, `SYNC_LIVE_SAMPLES` (200) deposits, with 1 client and then with
//!   `SYNC_CLIENTS` (1,000) more clients connected to the same server process;
//! - **reconnect storm**: the server is killed (SIGKILL) with `SYNC_CLIENTS` + 1 clients online,
//!   3 entries are appended to every client's wallet while it is down, it is restarted on the same
//!   port: time until every client is back online and exact (contiguous positions 1..=8, no
//!   duplicates, the server's balance), the spread of their reconnects, the server's memory
//!   during the storm, and the `oddxer_ws_connections` gauge afterwards.
//!
//! Environment: `MONGODB_URI` (default the dev FerretDB), the sizes above. The bench process holds
//! every client (a SQLite file and a socket each): the open-files limit must be above about
//! 6 x `SYNC_CLIENTS`. Prints figures, asserts nothing about their speed (DESIGN.md section 9); it
//! stops with a message when a client does not end exact, since then the figures mean nothing.

mod common;

use common::process::{mib, open_files_limit, Server};
use common::{mongodb_uri, ms, percentile, unique_phone, unique_username, Table};
use mongodb::bson::{doc, oid::ObjectId, Document};
use oddxer_backend::auth::store as users;
use oddxer_backend::db::Db;
use oddxer_backend::ledger::{accounts, entries::entry_doc, entries::BUCKET_SIZE};
use oddxer_backend::purchases::stream as purchase_stream;
use oddxer_client::{ClientConfig, ClientEvent, MemorySecretStore, OddxerClient};
use oddxer_shared::api::{CodeOut, PurchaseOut, PurchaseStatus};
use oddxer_shared::client::{AppSnapshot, ConnectionState, SyncProgress};
use oddxer_shared::{CodeStatus, Currency, Money, PaymentMethod, Sport};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CURRENCY: &str = "UGX";
/// Entries appended to every storm client's wallet while the server is down.
const STORM_NEW_ENTRIES: i64 = 3;
const STORM_OLD_ENTRIES: i64 = 5;
/// Sign-ins at once (each is register + OTP read + verify).
const SIGN_IN_PARALLEL: usize = 32;
const PATIENCE: Duration = Duration::from_secs(300);

fn env_num(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

fn yes(ok: bool) -> String {
    if ok { "yes" } else { "NO" }.into()
}

// ---- the devices ---------------------------------------------------------------------------------

/// One phone: its data folder (SQLite), its secret store (refresh token) and the client core.
struct Device {
    dir: PathBuf,
    secrets: Arc<MemorySecretStore>,
    client: OddxerClient,
    phone: String,
}

impl Device {
    async fn open(api: &str, phone: String) -> Device {
        let dir = std::env::temp_dir().join(format!(
            "oddxer-bench-sync-dev-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let secrets = Arc::new(MemorySecretStore::new());
        let client = open_client(api, &dir, &secrets).await;
        Device {
            dir,
            secrets,
            client,
            phone,
        }
    }

    /// The app restarted on the same phone: same SQLite file, same stored refresh token.
    async fn reopen(&mut self, api: &str) {
        self.client.shutdown().await;
        self.client = open_client(api, &self.dir, &self.secrets).await;
    }

    fn snapshot(&self) -> AppSnapshot {
        self.client.snapshot().expect("snapshot")
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn open_client(
    api: &str,
    dir: &std::path::Path,
    secrets: &Arc<MemorySecretStore>,
) -> OddxerClient {
    OddxerClient::open(ClientConfig {
        api_url: api.to_owned(),
        data_dir: dir.to_owned(),
        secrets: secrets.clone(),
    })
    .await
    .expect("open the client core")
}

/// The newest OTP texted to `phone` (development SMS outbox).
async fn otp(http: &reqwest::Client, api: &str, phone: &str) -> String {
    let body: serde_json::Value = http
        .get(format!("{api}/api/v1/dev/sms"))
        .query(&[("phoneNumber", phone)])
        .send()
        .await
        .expect("dev sms")
        .json()
        .await
        .expect("dev sms body");
    let text = body["data"][0]["body"].as_str().unwrap_or_default();
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("an OTP in the SMS")
        .to_owned()
}

/// Registers the device's user through the client (the server texts an OTP).
async fn register(d: &Device) {
    d.client
        .register(&d.phone, &unique_username(), None)
        .await
        .expect("register");
}

/// Verifies the OTP through the client, which starts its sync task.
async fn verify(http: &reqwest::Client, api: &str, d: &Device) {
    let code = otp(http, api, &d.phone).await;
    d.client
        .verify_otp(&d.phone, &code)
        .await
        .expect("verify otp");
}

/// Waits until the device's snapshot satisfies `want`, woken by its change events; returns the
/// instant the satisfying event was received (before the snapshot was read) and the snapshot.
async fn until(
    d: &Device,
    what: &str,
    want: impl Fn(&AppSnapshot) -> bool,
) -> (Instant, AppSnapshot) {
    let mut events = d.client.subscribe();
    let deadline = Instant::now() + PATIENCE;
    let mut at = Instant::now();
    loop {
        let snap = d.snapshot();
        if want(&snap) {
            return (at, snap);
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; last snapshot: {:?} {:?}",
            snap.connection,
            snap.sync_progress
        );
        let _ = tokio::time::timeout(Duration::from_millis(200), events.recv()).await;
        at = Instant::now();
    }
}

/// Waits for the `SyncProgress` event that says both streams are in step (sent right after the
/// last batch's SQLite commit); returns when it was received and the progress it carried. Reads
/// no snapshot meanwhile, so the wait costs the client nothing.
async fn caught_up_event(
    events: &mut tokio::sync::broadcast::Receiver<ClientEvent>,
) -> (Instant, SyncProgress) {
    loop {
        match tokio::time::timeout(PATIENCE, events.recv()).await {
            Ok(Ok(ClientEvent::SyncProgress(p))) if p.caught_up => return (Instant::now(), p),
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            _ => panic!("no caught-up event within {PATIENCE:?}"),
        }
    }
}

/// [`caught_up_event`], also returning when the first batch's progress arrived.
async fn caught_up_event_with_first(
    events: &mut tokio::sync::broadcast::Receiver<ClientEvent>,
) -> (Instant, SyncProgress, Instant) {
    let mut first = None;
    loop {
        match tokio::time::timeout(PATIENCE, events.recv()).await {
            Ok(Ok(ClientEvent::SyncProgress(p))) => {
                let now = Instant::now();
                let first = *first.get_or_insert(now);
                if p.caught_up {
                    return (now, p, first);
                }
            }
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            _ => panic!("no caught-up event within {PATIENCE:?}"),
        }
    }
}

fn caught_up(s: &AppSnapshot) -> bool {
    s.connection == ConnectionState::Online && s.sync_progress.is_some_and(|p| p.caught_up)
}

// ---- seeding through the backend's bulk builders ------------------------------------------------

/// Appends `n` entries to `user`'s wallet after position `from` (whose balance was `balance`):
/// contiguous positions, chained `balanceAfter`, as `Entries::apply` writes them. Returns the
/// documents and the new balance.
fn wallet_entries(user: ObjectId, from: i64, n: i64, mut balance: i64) -> (Vec<Document>, i64) {
    let account = accounts::wallet(user);
    let mut docs = Vec::with_capacity(n as usize);
    let now = mongodb::bson::DateTime::now().timestamp_millis();
    for seq in from + 1..=from + n {
        let (amount, kind, description) = if seq == 1 || seq % 3 != 0 {
            (5_000 + seq % 7 * 1_000, "DEPOSIT", "Deposit via MTN MoMo")
        } else {
            (
                -(1_000 + seq % 5 * 500),
                "PURCHASE",
                "Purchase of a betting code",
            )
        };
        balance += amount;
        let at = mongodb::bson::DateTime::from_millis(now - (from + n - seq) * 60_000);
        docs.push(entry_doc(
            &account,
            seq,
            &ObjectId::new().to_hex(),
            amount,
            balance,
            kind,
            description,
            at,
        ));
    }
    (docs, balance)
}

fn purchase_out(buyer: ObjectId, i: i64) -> PurchaseOut {
    let now = "2026-11-30T12:00:00Z".to_owned();
    let id = ObjectId::new().to_hex();
    let price = Money::new(1_000 + i % 5 * 500, &Currency(CURRENCY.into()));
    PurchaseOut {
        id,
        code_id: ObjectId::new().to_hex(),
        buyer_id: buyer.to_hex(),
        price: price.clone(),
        status: PurchaseStatus::Completed,
        settlement: None,
        code: CodeOut {
            id: ObjectId::new().to_hex(),
            seller_id: ObjectId::new().to_hex(),
            seller_username: "bench_seller".into(),
            sport: Sport::Football,
            title: format!("Bench code {i}"),
            description: "Weekend accumulator".into(),
            odds: 3.45,
            bookmaker: "Betway".into(),
            price,
            status: CodeStatus::Active,
            code: Some(format!("BW{i:08}")),
            expires_at: "2026-12-30T12:00:00Z".into(),
            voting_ends_at: "2027-01-01T12:00:00Z".into(),
            max_buyers: 100,
            sales_count: 1,
            win_votes: 0,
            loss_votes: 0,
            total_votes: 0,
            outcome: None,
            needs_review: false,
            sold_at: None,
            finalized_at: None,
            my_vote: None,
            created_at: now.clone(),
            updated_at: now.clone(),
        },
        created_at: now,
    }
}

async fn insert_all(db: &Db, collection: &str, docs: Vec<Document>) {
    let chunks: Vec<Vec<Document>> = docs.chunks(2_000).map(|c| c.to_vec()).collect();
    let mut set = tokio::task::JoinSet::new();
    for chunk in chunks {
        let (db, collection) = (db.clone(), collection.to_owned());
        set.spawn(async move {
            db.col(&collection)
                .insert_many(chunk)
                .await
                .expect("bulk insert")
        });
        while set.len() >= 4 {
            set.join_next().await;
        }
    }
    while set.join_next().await.is_some() {}
}

/// A whole history for `user`: `entries` wallet entries and `purchases` purchase-stream rows.
/// Returns the final balance.
async fn seed_history(db: &Db, user: ObjectId, entries: i64, purchases: i64) -> i64 {
    let currency = Currency(CURRENCY.into());
    db.col("accounts")
        .insert_one(accounts::account_doc(
            &accounts::wallet(user),
            Some(user),
            &currency,
            mongodb::bson::DateTime::now(),
        ))
        .await
        .ok(); // the sign-in may have created it already
    let (docs, balance) = wallet_entries(user, 0, entries, 0);
    insert_all(db, "ledger_entries", docs).await;
    let stream = purchase_stream::stream_of(user);
    let rows = (1..=purchases)
        .map(|seq| {
            purchase_stream::row_doc(&stream, seq, 1, &purchase_out(user, seq)).expect("row")
        })
        .collect();
    insert_all(db, purchase_stream::COLLECTION, rows).await;
    balance
}

async fn user_id(db: &Db, phone: &str) -> ObjectId {
    users::find_by_phone(db, phone)
        .await
        .expect("user read")
        .expect("registered user")
        .id
}

// ---- memory sampling -----------------------------------------------------------------------------

/// Samples a process's VmRSS every 10 ms on a thread of its own; `stop` returns the peak (KiB).
struct RssSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: std::thread::JoinHandle<()>,
}

impl RssSampler {
    fn start(pid: u32) -> RssSampler {
        let (stop, peak) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicU64::new(0)),
        );
        let (s, p) = (stop.clone(), peak.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(common::process::status_kib(pid, "VmRSS"), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        RssSampler { stop, peak, thread }
    }

    fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        self.peak.load(Ordering::Relaxed)
    }
}

// ---- measurements --------------------------------------------------------------------------------

struct ColdSync {
    entries: i64,
    purchases: i64,
    took: Duration,
    rss_before: u64,
    rss_peak: u64,
    exact: bool,
}

/// Seeds a user with a history, signs a fresh device in and times its first sync to the end.
async fn cold_sync(
    server: &Server,
    db: &Db,
    http: &reqwest::Client,
    api: &str,
    entries: i64,
    purchases: i64,
) -> (Device, ColdSync, i64) {
    let d = Device::open(api, unique_phone()).await;
    register(&d).await;
    let user = user_id(db, &d.phone).await;
    let t = Instant::now();
    let balance = seed_history(db, user, entries, purchases).await;
    println!(
        "  seeded {entries} entries and {purchases} purchases in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = server.rss();
    let sampler = RssSampler::start(server.pid());
    let code = otp(http, api, &d.phone).await;
    let mut events = d.client.subscribe();
    d.client
        .verify_otp(&d.phone, &code)
        .await
        .expect("verify otp");
    let started = Instant::now();
    let (done_at, _, first_at) = caught_up_event_with_first(&mut events).await;
    let took = done_at - started;
    println!(
        "  first batch after {:.3} s, caught up after {:.3} s",
        (first_at - started).as_secs_f64(),
        took.as_secs_f64()
    );
    let (_, snap) = until(&d, "the cold sync online", caught_up).await;
    let rss_peak = sampler.stop();
    let len = d.client.my_purchases().expect("purchases").len() as i64;
    let exact = snap
        .sync_progress
        .is_some_and(|p| p.wallet.cursor == entries && p.purchases.cursor == purchases)
        && snap.ledger.first().map(|e| e.balance_after.amount) == Some(balance)
        && len == purchases;
    (
        d,
        ColdSync {
            entries,
            purchases,
            took,
            rss_before,
            rss_peak,
            exact,
        },
        balance,
    )
}

/// `n` deposits to the device's wallet: each timed from sending the dev confirmation to the
/// device's change event that shows the new entry committed. Returns (latencies, confirmation
/// request times).
async fn live_latency(
    http: &reqwest::Client,
    api: &str,
    d: &Device,
    n: usize,
) -> (Vec<Duration>, Vec<Duration>) {
    let mut latencies = Vec::with_capacity(n);
    let mut confirmations = Vec::with_capacity(n);
    for i in 0..n {
        let head = d.snapshot().ledger.first().map_or(0, |e| e.seq);
        let tx = d
            .client
            .deposit(5_000 + i as i64, PaymentMethod::MtnMomo, &d.phone)
            .await
            .expect("deposit");
        // Let the deposit's own background wallet refresh settle, so its event is not counted.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let mut events = d.client.subscribe();
        let t0 = Instant::now();
        let confirm = {
            let http = http.clone();
            let url = format!("{api}/api/v1/dev/payments/{}/complete", tx.reference);
            tokio::spawn(async move {
                let t = Instant::now();
                let r = http.post(url).send().await.expect("complete");
                assert!(r.status().is_success(), "dev complete: {}", r.status());
                t.elapsed()
            })
        };
        let landed = loop {
            match tokio::time::timeout(PATIENCE, events.recv()).await {
                Ok(Ok(ClientEvent::Changed))
                | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {
                    let at = Instant::now();
                    if d.snapshot().ledger.first().map_or(0, |e| e.seq) > head {
                        break at;
                    }
                }
                Ok(Ok(ClientEvent::SyncProgress(_))) => {}
                _ => panic!("no change event within {PATIENCE:?} after a deposit"),
            }
        };
        latencies.push(landed - t0);
        confirmations.push(confirm.await.expect("confirmation task"));
    }
    (latencies, confirmations)
}

fn lat_row(
    t: &mut Table,
    what: &str,
    lat: &mut [Duration],
    conf: &mut [Duration],
    target: Option<Duration>,
) {
    lat.sort();
    conf.sort();
    let p99 = percentile(lat, 0.99);
    t.row(vec![
        what.into(),
        lat.len().to_string(),
        ms(percentile(lat, 0.50)),
        ms(percentile(lat, 0.95)),
        ms(p99),
        ms(percentile(conf, 0.50)),
        target.map_or("-".into(), |t| format!("p99 < {} ms", t.as_millis())),
        target.map_or("-".into(), |t| yes(p99 < t)),
    ]);
}

/// Sequential `find_one {_id}` on `ledger_entries` and bucket reads (64 entries) of one account.
async fn raw_round_trips(db: &Db, user: ObjectId, entries: i64) -> (Vec<Duration>, Vec<Duration>) {
    let account = accounts::wallet(user);
    let (mut one, mut bucket) = (Vec::new(), Vec::new());
    for i in 0..300i64 {
        let seq = 1 + (i * 7919) % entries;
        let t = Instant::now();
        let _ = db
            .col("ledger_entries")
            .find_one(doc! { "_id": format!("{account}:{seq}") })
            .await
            .expect("raw read");
        one.push(t.elapsed());
        let t = Instant::now();
        let mut cur = db
            .col("ledger_entries")
            .find(doc! { "bucket": format!("{account}#{}", seq / BUCKET_SIZE) })
            .await
            .expect("raw bucket");
        let mut n = 0;
        while cur.advance().await.expect("raw bucket docs") {
            n += 1;
        }
        assert!(n > 0);
        bucket.push(t.elapsed());
    }
    one.sort();
    bucket.sort();
    (one, bucket)
}

/// Bucket reads (64 rows) of one buyer's purchases stream.
async fn raw_purchase_buckets(db: &Db, user: ObjectId, purchases: i64) -> Vec<Duration> {
    let stream = purchase_stream::stream_of(user);
    let mut out = Vec::new();
    for i in 0..100i64 {
        let seq = 1 + (i * 7919) % purchases;
        let t = Instant::now();
        let mut cur = db
            .col(purchase_stream::COLLECTION)
            .find(doc! { "bucket": purchase_stream::bucket_of(&stream, seq) })
            .await
            .expect("raw bucket");
        while cur.advance().await.expect("raw bucket docs") {}
        out.push(t.elapsed());
    }
    out.sort();
    out
}

/// The `oddxer_ws_connections` gauge from `/metrics`.
async fn ws_gauge(http: &reqwest::Client, api: &str) -> Option<f64> {
    let text = http
        .get(format!("{api}/api/v1/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("oddxer_ws_connections "))
        .and_then(|v| v.trim().parse().ok())
}

/// Signs in `n` devices (registered through their clients), seeds `STORM_OLD_ENTRIES` wallet
/// entries for each, and waits until every one is online with them.
async fn crowd(
    db: &Db,
    http: &reqwest::Client,
    api: &str,
    n: usize,
) -> Vec<(Device, ObjectId, i64)> {
    let mut devices = Vec::with_capacity(n);
    for _ in 0..n {
        devices.push(Device::open(api, unique_phone()).await);
    }
    let devices = Arc::new(devices);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..SIGN_IN_PARALLEL {
        let (devices, next) = (devices.clone(), next.clone());
        set.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(d) = devices.get(i) else { break };
                register(d).await;
            }
        });
    }
    while set.join_next().await.is_some() {}
    let mut docs = Vec::new();
    let mut owners = Vec::new();
    for d in devices.iter() {
        let user = user_id(db, &d.phone).await;
        let (mut e, balance) = wallet_entries(user, 0, STORM_OLD_ENTRIES, 0);
        docs.append(&mut e);
        owners.push((user, balance));
    }
    insert_all(db, "ledger_entries", docs).await;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for _ in 0..SIGN_IN_PARALLEL {
        let (devices, next, http, api) =
            (devices.clone(), next.clone(), http.clone(), api.to_owned());
        set.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(d) = devices.get(i) else { break };
                verify(&http, &api, d).await;
            }
        });
    }
    while set.join_next().await.is_some() {}
    let devices = Arc::try_unwrap(devices).unwrap_or_else(|_| panic!("devices still shared"));
    for d in &devices {
        until(d, "a crowd client online", |s| {
            caught_up(s) && s.ledger.len() as i64 == STORM_OLD_ENTRIES
        })
        .await;
    }
    devices
        .into_iter()
        .zip(owners)
        .map(|(d, (u, b))| (d, u, b))
        .collect()
}

fn exact_after_storm(s: &AppSnapshot, balance: i64) -> bool {
    let want: Vec<i64> = (1..=STORM_OLD_ENTRIES + STORM_NEW_ENTRIES).rev().collect();
    let seqs: Vec<i64> = s.ledger.iter().map(|e| e.seq).collect();
    caught_up(s) && seqs == want && s.wallet.as_ref().map(|w| w.balance.amount) == Some(balance)
}

/// `SYNC_SEED_PHONE` set: only give that phone's account (created as a seller when missing) a
/// history of `SYNC_ENTRIES` entries and `SYNC_PURCHASES` purchases in database `SYNC_SEED_DB`,
/// then exit. For looking at the app's sync progress on a cold start (e2e `ODDXER_E2E_SYNC_PHONE`).
async fn seed_only(phone: &str) {
    let db_name = std::env::var("SYNC_SEED_DB").expect("SYNC_SEED_DB names the backend's database");
    let db = Db::connect(&mongodb_uri(), &db_name)
        .await
        .expect("database");
    let user = match users::find_by_phone(&db, phone).await.expect("user read") {
        Some(u) => u.id,
        None => {
            match users::insert_user(&db, phone, &unique_username(), oddxer_shared::Role::Seller)
                .await
                .expect("insert user")
            {
                users::InsertUser::Created(u) => u.id,
                _ => panic!("could not create the user of {phone}"),
            }
        }
    };
    let entries = env_num("SYNC_ENTRIES", 10_000) as i64;
    let purchases = env_num("SYNC_PURCHASES", 500) as i64;
    let balance = seed_history(&db, user, entries, purchases).await;
    println!("seeded {phone} ({user}) in {db_name}: {entries} entries (balance {balance}), {purchases} purchases");
}

#[tokio::main]
async fn main() {
    if let Ok(phone) = std::env::var("SYNC_SEED_PHONE") {
        seed_only(&phone).await;
        return;
    }
    let entries = env_num("SYNC_ENTRIES", 10_000) as i64;
    let purchases = env_num("SYNC_PURCHASES", 500) as i64;
    let big = env_num("SYNC_BIG_ENTRIES", 100_000) as i64;
    let n_clients = env_num("SYNC_CLIENTS", 1_000) as usize;
    let samples = env_num("SYNC_LIVE_SAMPLES", 200) as usize;
    let limit = open_files_limit();
    if limit < (n_clients as u64) * 6 + 1000 {
        println!("open-files limit {limit} is too low for {n_clients} clients: run `ulimit -n {}` first, or set SYNC_CLIENTS", n_clients * 6 + 1000);
        std::process::exit(2);
    }
    let db_name = format!(
        "bench_sync_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let secret = format!("bench-secret-{}", uuid::Uuid::new_v4());
    let env: &[(&str, &str)] = &[
        ("RATE_LIMIT_AUTH_IP", "100000000/1m"),
        ("RATE_LIMIT_AUTH_PHONE", "100000000/1m"),
        ("RATE_LIMIT_MONEY_USER", "100000000/1m"),
        ("OTP_RESEND_INTERVAL", "0s"),
        ("CURRENCY", CURRENCY),
    ];
    let mut server = Server::spawn_on(&db_name, &secret, 0, env);
    let port = server.port;
    let api = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let db = Db::connect(&mongodb_uri(), &db_name)
        .await
        .expect("database");
    println!(
        "sync bench: backend pid {} (release: {}) on {api}, database {db_name} at {}",
        server.pid(),
        !cfg!(debug_assertions),
        mongodb_uri()
    );
    println!("load average before: {}", common::load_average());

    // ---- cold sync, 10k ----
    println!("cold sync: {entries} entries + {purchases} purchases");
    let (mut heavy, cold, heavy_balance) =
        cold_sync(&server, &db, &http, &api, entries, purchases).await;
    let heavy_user = user_id(&db, &heavy.phone).await;
    let (raw_one, raw_bucket) = raw_round_trips(&db, heavy_user, entries).await;
    let raw_purchases = raw_purchase_buckets(&db, heavy_user, purchases).await;

    // ---- checkpoint mismatch on the same device ----
    println!("checkpoint mismatch");
    heavy.client.shutdown().await;
    {
        let conn = rusqlite::Connection::open(heavy.dir.join(oddxer_client::DB_FILE))
            .expect("device sqlite");
        let changed = conn
            .execute(
                "UPDATE ledger_entries SET json = json_set(json, '$.balanceAfter.amount', json_extract(json, '$.balanceAfter.amount') + 1)
                 WHERE seq = (SELECT MAX(seq) FROM ledger_entries)",
                [],
            )
            .expect("corrupt the head balance");
        assert_eq!(changed, 1);
    }
    heavy.reopen(&api).await;
    let mut events = heavy.client.subscribe();
    let started = Instant::now();
    heavy
        .client
        .resume()
        .await
        .expect("resume")
        .expect("a stored session");
    let (done_at, progress) = caught_up_event(&mut events).await;
    let mismatch_took = done_at - started;
    let (_, snap) = until(&heavy, "the re-sync after a mismatch online", caught_up).await;
    let mismatch_exact = snap.ledger.first().map(|e| e.balance_after.amount) == Some(heavy_balance)
        && progress.wallet.cursor == entries
        && heavy
            .client
            .my_purchases()
            .map(|p| p.len() as i64)
            .unwrap_or(0)
            == purchases;
    heavy.client.shutdown().await;
    drop(heavy);

    // ---- the same again for another user (the first catch-up of a run meets cold caches) ----
    println!("cold sync again, another user: {entries} entries + {purchases} purchases");
    let (again_dev, cold_again, _) = cold_sync(&server, &db, &http, &api, entries, purchases).await;
    again_dev.client.shutdown().await;
    drop(again_dev);

    // ---- cold sync, 100k ----
    println!("cold sync: {big} entries + {purchases} purchases");
    let (big_dev, cold_big, _) = cold_sync(&server, &db, &http, &api, big, purchases).await;
    big_dev.client.shutdown().await;
    drop(big_dev);

    // ---- live latency, 1 client ----
    println!("live latency, 1 client");
    let live = Device::open(&api, unique_phone()).await;
    register(&live).await;
    verify(&http, &api, &live).await;
    until(&live, "the live client online", caught_up).await;
    let (mut lat1, mut conf1) = live_latency(&http, &api, &live, samples).await;

    // ---- live latency with the crowd connected ----
    println!("signing in {n_clients} more clients");
    let t = Instant::now();
    let crowd = crowd(&db, &http, &api, n_clients).await;
    println!(
        "  {} clients online in {:.1} s",
        crowd.len(),
        t.elapsed().as_secs_f64()
    );
    let rss_crowd = server.rss();
    let gauge_crowd = ws_gauge(&http, &api).await;
    println!("live latency, {} clients connected", n_clients + 1);
    let (mut lat_n, mut conf_n) = live_latency(&http, &api, &live, samples).await;

    // ---- reconnect storm ----
    println!(
        "reconnect storm: kill the server, append {STORM_NEW_ENTRIES} entries per wallet, restart"
    );
    let live_before = live.snapshot();
    // Every client's next "caught up" event is the end of its storm (waited for on events alone:
    // a thousand clients polling snapshots would starve the clients of this process).
    let crowd = Arc::new(crowd);
    let mut waits = tokio::task::JoinSet::new();
    for i in 0..crowd.len() {
        let crowd = crowd.clone();
        let mut events = crowd[i].0.client.subscribe();
        waits.spawn(async move { (i, caught_up_event(&mut events).await.0) });
    }
    let mut live_events = live.client.subscribe();
    let down_at = Instant::now();
    server.stop();
    let mut docs = Vec::new();
    let mut expected = Vec::new();
    for (_, user, balance) in crowd.iter() {
        let (mut e, b) = wallet_entries(*user, STORM_OLD_ENTRIES, STORM_NEW_ENTRIES, *balance);
        docs.append(&mut e);
        expected.push(b);
    }
    insert_all(&db, "ledger_entries", docs).await;
    server = Server::spawn_on(&db_name, &secret, port, env);
    let restarted = Instant::now();
    let sampler = RssSampler::start(server.pid());
    let mut back = Vec::new();
    let mut caught = Vec::new();
    while let Some(r) = waits.join_next().await {
        let (i, at) = r.expect("storm wait");
        back.push(at.saturating_duration_since(restarted));
        caught.push(i);
    }
    let (live_at, _) = caught_up_event(&mut live_events).await;
    back.push(live_at.saturating_duration_since(restarted));
    let mut storm_exact = 0;
    for i in caught {
        let want = expected[i];
        let (_, snap) = until(&crowd[i].0, "a storm client exact", |s| {
            exact_after_storm(s, want)
        })
        .await;
        storm_exact += usize::from(exact_after_storm(&snap, want));
    }
    assert_eq!(live.snapshot().ledger.len(), live_before.ledger.len());
    back.sort();
    let all_back = back.last().copied().unwrap_or_default();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let storm_peak = sampler.stop().max(server.peak_rss());
    let storm_rss = server.rss();
    let gauge_after = ws_gauge(&http, &api).await;
    let clients_total = crowd.len() + 1;

    // ---- report ----
    let mut t = Table::new(
        "Raw database round trips (same run, sequential, from the bench process)",
        &["query", "n", "p50", "p95", "p99"],
    );
    t.row(vec![
        "find_one {_id} (ledger_entries)".into(),
        raw_one.len().to_string(),
        ms(percentile(&raw_one, 0.5)),
        ms(percentile(&raw_one, 0.95)),
        ms(percentile(&raw_one, 0.99)),
    ]);
    t.row(vec![
        format!("find {{bucket}} ({BUCKET_SIZE} entries)"),
        raw_bucket.len().to_string(),
        ms(percentile(&raw_bucket, 0.5)),
        ms(percentile(&raw_bucket, 0.95)),
        ms(percentile(&raw_bucket, 0.99)),
    ]);
    t.row(vec![
        format!("find {{bucket}} ({BUCKET_SIZE} purchase-stream rows)"),
        raw_purchases.len().to_string(),
        ms(percentile(&raw_purchases, 0.5)),
        ms(percentile(&raw_purchases, 0.95)),
        ms(percentile(&raw_purchases, 0.99)),
    ]);
    t.print();

    let mut t = Table::new(
        "Cold sync: sign-in to both streams done, in step and committed in SQLite",
        &[
            "history",
            "time",
            "entries/s",
            "server RSS before",
            "server RSS peak",
            "exact",
            "target",
            "met",
        ],
    );
    for c in [&cold, &cold_again, &cold_big] {
        let rate = (c.entries + c.purchases) as f64 / c.took.as_secs_f64();
        let (target, met) = if c.entries <= 10_000 {
            (
                "< 1 s, >= 10k/s".to_owned(),
                yes(c.took < Duration::from_secs(1)),
            )
        } else {
            (
                "linear".to_owned(),
                yes(c.took.as_secs_f64()
                    <= cold.took.as_secs_f64() * (c.entries as f64 / cold.entries as f64) * 1.5),
            )
        };
        t.row(vec![
            format!("{} entries + {} purchases", c.entries, c.purchases),
            format!("{:.3} s", c.took.as_secs_f64()),
            format!("{rate:.0}"),
            mib(c.rss_before),
            mib(c.rss_peak),
            yes(c.exact),
            target,
            met,
        ]);
    }
    t.print();
    println!(
        "  per entry: {:.1} us at {} vs {:.1} us at {} ({:.2}x)",
        cold.took.as_secs_f64() * 1e6 / cold.entries as f64,
        cold.entries,
        cold_big.took.as_secs_f64() * 1e6 / cold_big.entries as f64,
        cold_big.entries,
        (cold_big.took.as_secs_f64() / cold_big.entries as f64)
            / (cold.took.as_secs_f64() / cold.entries as f64)
    );

    let mut t = Table::new(
        "Checkpoint mismatch (the head balance corrupted in the device's SQLite, app restarted)",
        &["figure", "value"],
    );
    t.row(vec![
        "wallet entries re-sent".into(),
        format!("{} (of {entries})", progress.wallet.received),
    ]);
    t.row(vec![
        "purchases re-sent".into(),
        format!("{} (of {purchases})", progress.purchases.received),
    ]);
    t.row(vec![
        "restart (token refresh included) to in step".into(),
        format!("{:.3} s", mismatch_took.as_secs_f64()),
    ]);
    t.row(vec!["ends exact".into(), yes(mismatch_exact)]);
    t.print();

    let mut t = Table::new("Live latency: deposit confirmation sent -> entry committed in the client's SQLite and its change event", &["clients connected", "n", "p50", "p95", "p99", "confirmation request p50", "target", "met"]);
    lat_row(
        &mut t,
        "1",
        &mut lat1,
        &mut conf1,
        Some(Duration::from_millis(50)),
    );
    lat_row(
        &mut t,
        &format!("{}", n_clients + 1),
        &mut lat_n,
        &mut conf_n,
        None,
    );
    t.print();

    let mut t = Table::new(
        "Reconnect storm (server SIGKILLed and restarted on the same port)",
        &["figure", "value"],
    );
    t.row(vec!["clients".into(), clients_total.to_string()]);
    t.row(vec![
        "server down (kill, 3 entries x client appended, restart)".into(),
        format!("{:.2} s", (restarted - down_at).as_secs_f64()),
    ]);
    t.row(vec![
        "restart to all caught up and exact".into(),
        format!("{:.2} s", all_back.as_secs_f64()),
    ]);
    t.row(vec![
        "client back after restart p50 / p90 / p99".into(),
        format!(
            "{} / {} / {} ms",
            ms(percentile(&back, 0.5)),
            ms(percentile(&back, 0.9)),
            ms(percentile(&back, 0.99))
        ),
    ]);
    t.row(vec![
        "clients exact (positions 1..=8, server balance)".into(),
        format!("{storm_exact} of {}", crowd.len()),
    ]);
    t.row(vec![
        format!(
            "server RSS with {} sockets, before the storm",
            gauge_crowd.map_or("?".into(), |g| g.to_string())
        ),
        mib(rss_crowd),
    ]);
    t.row(vec![
        "server RSS peak during the storm / 2 s after".into(),
        format!("{} / {}", mib(storm_peak), mib(storm_rss)),
    ]);
    t.row(vec![
        "oddxer_ws_connections after the storm".into(),
        format!(
            "{} (clients: {clients_total})",
            gauge_after.map_or("?".into(), |g| g.to_string())
        ),
    ]);
    t.print();
    println!("load average after: {}", common::load_average());

    drop(live);
    if let Ok(crowd) = Arc::try_unwrap(crowd) {
        for (d, _, _) in crowd {
            d.client.shutdown().await;
        }
    }
    server.stop();
    if let Err(e) = db.db.drop().await {
        println!("could not drop {db_name}: {e}");
    }
}
