//! Shared by the load benchmarks (`auth`, `money`, `marketplace`): start the backend in-process
//! against a fresh database, drive concurrent load, compute percentiles, measure a raw database
//! round trip in the same run, count the database commands of one request, print tables.
//!
//! Benchmarks print figures; they never assert timings (DESIGN.md section 9).
//!
//! Environment: `MONGODB_URI` (default `mongodb://127.0.0.1:27117`, the dev FerretDB),
//! `BENCH_CONCURRENCY` (default 32), `BENCH_SECS` (seconds per load phase, default 10),
//! `BENCH_KEEP_DB=1` keeps the benchmark database instead of dropping it at the end.
#![allow(dead_code)]

pub mod process;

#[path = "../../tests/support/app_config.rs"]
mod app_config;

use app_config::app_config;
use mongodb::bson::{doc, oid::ObjectId, Document};
use oddxer_backend::config::Config;
use oddxer_backend::db::Db;
use oddxer_backend::startup::Application;
use serde_json::{json, Value};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Settings

pub fn mongodb_uri() -> String {
    std::env::var("MONGODB_URI").unwrap_or_else(|_| "mongodb://127.0.0.1:27117".into())
}

fn env_num(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// Concurrent clients per load phase (`BENCH_CONCURRENCY`, default 32).
pub fn concurrency() -> usize {
    env_num("BENCH_CONCURRENCY", 32) as usize
}

/// Length of one sustained load phase (`BENCH_SECS`, default 10).
pub fn phase_time() -> Duration {
    Duration::from_secs(env_num("BENCH_SECS", 10))
}

// ---------------------------------------------------------------------------------------------
// The application, in-process

/// A backend on 127.0.0.1:0 in this process, over a fresh database `bench_{name}_{random}`.
pub struct BenchApp {
    pub address: String,
    pub http: reqwest::Client,
    pub state: oddxer_backend::state::AppState,
    pub db: Db,
    pub config: Config,
}

/// A signed-in user as a benchmark client holds it.
#[derive(Debug, Clone)]
pub struct Session {
    pub phone: String,
    pub user_id: String,
    pub access: String,
    pub refresh: String,
}

pub struct Resp {
    pub status: u16,
    pub body: Value,
    /// The request's sequential database round trips, from the `x-db-round-trips` response header
    /// (set by the backend outside production).
    pub round_trips: Option<u64>,
}

impl Resp {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// `Ok(self)` for the expected status, otherwise a short description for the error column.
    pub fn expect(self, status: u16) -> Result<Resp, String> {
        if self.status == status {
            Ok(self)
        } else {
            let text = self.body.to_string();
            Err(format!(
                "HTTP {} {}",
                self.status,
                &text[..text.len().min(160)]
            ))
        }
    }
}

/// A valid Ugandan mobile number (70x xxx xxx) in E.164.
pub fn unique_phone() -> String {
    let n: u64 = rand::random::<u64>() % 10_000_000;
    format!("+25670{n:07}")
}

pub fn unique_username() -> String {
    format!("b_{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

pub fn new_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl BenchApp {
    /// Starts the app. Rate limits are raised so the limiter does not shape the figures, and the
    /// background workers tick once an hour so they do not add database work to the measurements
    /// (they still run once at startup). `overrides` win over these defaults.
    pub async fn spawn(name: &str, overrides: &[(&str, &str)]) -> BenchApp {
        let config = app_config(
            &format!("bench_{name}"),
            mongodb_uri(),
            &[
                ("RATE_LIMIT_AUTH_IP", "100000000/1m"),
                ("RATE_LIMIT_AUTH_PHONE", "100000000/1m"),
                ("RATE_LIMIT_MONEY_USER", "100000000/1m"),
                ("RECOVERY_INTERVAL", "1h"),
                ("RECOVERY_AFTER", "1h"),
                ("MARKET_WORKER_INTERVAL", "1h"),
            ],
            overrides,
        );
        let app = Application::build(config.clone())
            .await
            .expect("build app (is MONGODB_URI reachable?)");
        let port = app.port();
        let state = app.state.clone();
        tokio::spawn(app.run_until_stopped());
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(1024)
            .build()
            .expect("http client");
        BenchApp {
            address: format!("http://127.0.0.1:{port}"),
            http,
            db: state.db.clone(),
            state,
            config,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.address)
    }

    async fn read(resp: reqwest::Response) -> Result<Resp, String> {
        let status = resp.status().as_u16();
        let round_trips = resp
            .headers()
            .get(oddxer_backend::telemetry::ROUND_TRIPS_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let text = resp.text().await.map_err(|e| format!("body: {e}"))?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Resp {
            status,
            body,
            round_trips,
        })
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Result<Resp, String> {
        let mut req = self.http.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Self::read(req.send().await.map_err(|e| format!("send: {e}"))?).await
    }

    pub async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
        idempotency_key: Option<&str>,
    ) -> Result<Resp, String> {
        let mut req = self.http.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(k) = idempotency_key {
            req = req.header("Idempotency-Key", k);
        }
        Self::read(req.send().await.map_err(|e| format!("send: {e}"))?).await
    }

    /// The newest OTP in the development SMS outbox for a phone.
    pub async fn last_otp(&self, phone: &str) -> Result<String, String> {
        let resp = self
            .http
            .get(self.url("/dev/sms"))
            .query(&[("phoneNumber", phone)])
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let body: Value = resp.json().await.map_err(|e| e.to_string())?;
        let text = body["data"][0]["body"].as_str().ok_or("no SMS")?.to_owned();
        text.split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .map(str::to_owned)
            .ok_or_else(|| "no code in SMS".into())
    }

    /// Registers a fresh user with the role and signs in through the OTP flow (`register`,
    /// `/dev/sms`, `verify-otp`).
    pub async fn signed_in_user(&self, role: &str) -> Result<Session, String> {
        let phone = unique_phone();
        self.post(
            "/auth/register",
            None,
            &json!({ "phoneNumber": phone, "username": unique_username(), "role": role }),
            None,
        )
        .await?
        .expect(201)?;
        let otp = self.last_otp(&phone).await?;
        let r = self
            .post(
                "/auth/verify-otp",
                None,
                &json!({ "phoneNumber": phone, "otp": otp }),
                None,
            )
            .await?
            .expect(200)?;
        Ok(session_from(&phone, r.data()))
    }

    /// Signs in a user who exists already (e.g. bulk-loaded): `POST /auth/login` sends an OTP to
    /// the development outbox, `/dev/sms` reads it, `verify-otp` signs in.
    pub async fn sign_in_existing(&self, phone: &str) -> Result<Session, String> {
        self.post("/auth/login", None, &json!({ "phoneNumber": phone }), None)
            .await?
            .expect(200)?;
        let otp = self.last_otp(phone).await?;
        let r = self
            .post(
                "/auth/verify-otp",
                None,
                &json!({ "phoneNumber": phone, "otp": otp }),
                None,
            )
            .await?
            .expect(200)?;
        Ok(session_from(phone, r.data()))
    }

    /// Registers `n` users, `parallel` at a time.
    pub async fn signed_in_users(
        self: &Arc<Self>,
        role: &str,
        n: usize,
        parallel: usize,
    ) -> Vec<Session> {
        let role = role.to_owned();
        let app = self.clone();
        let out = run_load(parallel, Stop::Count(n), move |_, _| {
            let (app, role) = (app.clone(), role.clone());
            async move { app.signed_in_user(&role).await }
        })
        .await;
        assert!(
            out.errors == 0,
            "signing users in failed: {:?}",
            out.error_examples
        );
        out.values
    }

    /// `POST /wallet/deposits` then the sandbox provider's `complete`: the wallet holds `amount` more.
    pub async fn fund(&self, s: &Session, amount: i64) -> Result<(), String> {
        let body = json!({ "amount": amount, "paymentMethod": "MTN_MOMO", "phoneNumber": s.phone });
        let r = self
            .post("/wallet/deposits", Some(&s.access), &body, Some(&new_key()))
            .await?
            .expect(202)?;
        let reference = r.data()["reference"]
            .as_str()
            .ok_or("no reference")?
            .to_owned();
        self.post(
            &format!("/dev/payments/{reference}/complete"),
            None,
            &json!({}),
            None,
        )
        .await?
        .expect(200)?;
        Ok(())
    }

    /// A seller lists a code through `POST /codes` (expires in 6 hours); returns its id.
    pub async fn create_code(
        &self,
        seller: &Session,
        price: i64,
        max_buyers: i64,
    ) -> Result<String, String> {
        let expires = time::OffsetDateTime::now_utc() + time::Duration::hours(6);
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let body = json!({
            "sport": "FOOTBALL",
            "title": format!("Bench acca {}", &tag[..6]),
            "description": "Five legs, home wins",
            "odds": 4.75,
            "bookmaker": "SportyBet",
            "price": price,
            "code": format!("SB-{}", &tag[6..14]).to_uppercase(),
            "expiresAt": expires.format(&time::format_description::well_known::Rfc3339).map_err(|e| e.to_string())?,
            "maxBuyers": max_buyers,
        });
        let r = self
            .post("/codes", Some(&seller.access), &body, None)
            .await?
            .expect(201)?;
        r.data()["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| "no id".into())
    }

    /// Documents per collection, for the "database size" line printed beside the tables.
    pub async fn collection_sizes(&self, names: &[&str]) -> String {
        let mut parts = Vec::new();
        for name in names {
            let n = self
                .db
                .col(name)
                .estimated_document_count()
                .await
                .unwrap_or(0);
            parts.push(format!("{name}={n}"));
        }
        parts.join(" ")
    }

    /// Drops the benchmark database unless `BENCH_KEEP_DB=1`.
    pub async fn finish(&self) {
        if std::env::var("BENCH_KEEP_DB").is_ok_and(|v| v == "1") {
            println!("kept database {}", self.config.db_name);
        } else if let Err(e) = self.db.db.drop().await {
            println!("could not drop {}: {e}", self.config.db_name);
        }
    }
}

pub fn session_from(phone: &str, data: &Value) -> Session {
    Session {
        phone: phone.to_owned(),
        user_id: data["user"]["id"].as_str().unwrap_or_default().to_owned(),
        access: data["accessToken"].as_str().unwrap_or_default().to_owned(),
        refresh: data["refreshToken"].as_str().unwrap_or_default().to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Bulk loading (untimed set-up of large databases)

/// Inserts the documents `make(b)` returns for every batch `b` in `0..batches`, `parallel` batches
/// at a time (each batch generated in its own task, so generation overlaps the inserts), with
/// `insert_many` per collection part of a batch. `make` must be a pure function of the batch
/// index, so batches can be generated in any order. Returns the documents inserted.
pub async fn bulk_load<F>(db: &Db, batches: usize, parallel: usize, make: F) -> usize
where
    F: Fn(usize) -> Vec<(&'static str, Vec<Document>)> + Send + Sync + 'static,
{
    use futures_util::StreamExt;
    let make = Arc::new(make);
    let inserted = Arc::new(AtomicUsize::new(0));
    let tasks = futures_util::stream::iter(0..batches).map(|b| {
        let (db, make, inserted) = (db.clone(), make.clone(), inserted.clone());
        tokio::spawn(async move {
            for (collection, docs) in make(b) {
                if docs.is_empty() {
                    continue;
                }
                let n = docs.len();
                db.col(collection)
                    .insert_many(docs)
                    .await
                    .unwrap_or_else(|e| panic!("bulk insert into {collection}: {e}"));
                inserted.fetch_add(n, Ordering::Relaxed);
            }
        })
    });
    let mut done = tasks.buffer_unordered(parallel.max(1));
    while let Some(r) = done.next().await {
        r.expect("bulk load task panicked");
    }
    inserted.load(Ordering::Relaxed)
}

/// `find_one({_id})` of the given ids (taken in turn) on one collection, `concurrency` clients for
/// `time`: a raw round trip on a collection of the size the requests see.
pub async fn raw_find_ids(
    db: &mongodb::Database,
    collection: &str,
    ids: Vec<mongodb::bson::Bson>,
    concurrency: usize,
    time: Duration,
) -> Stats {
    let col = db.collection::<Document>(collection);
    let ids = Arc::new(ids);
    let load = run_load(concurrency, Stop::Time(time), move |_, n| {
        let (col, ids) = (col.clone(), ids.clone());
        async move {
            let id = ids
                .get(n.wrapping_mul(7919) % ids.len().max(1))
                .cloned()
                .ok_or("no ids")?;
            col.find_one(doc! { "_id": id })
                .await
                .map_err(|e| e.to_string())?
                .map(|_| ())
                .ok_or_else(|| "missing".to_owned())
        }
    })
    .await;
    print_errors(&format!("raw find_one by _id on {collection}"), &load);
    load.stats()
}

// ---------------------------------------------------------------------------------------------
// Load

/// When a load phase ends: after a number of operations, after a time, or whichever comes first.
#[derive(Debug, Clone, Copy)]
pub enum Stop {
    Count(usize),
    Time(Duration),
    CountOrTime(usize, Duration),
}

/// What one operation reports: its measured latency (the closure decides what it times, so
/// untimed preparation can sit in the same closure) or an error message.
pub struct Timed<T> {
    pub latency: Duration,
    pub value: T,
}

/// Times a future.
pub async fn timed<T>(fut: impl Future<Output = T>) -> (Duration, T) {
    let start = Instant::now();
    let out = fut.await;
    (start.elapsed(), out)
}

/// The outcome of a load phase.
pub struct Load<T> {
    /// Latencies of the operations that succeeded.
    pub latencies: Vec<Duration>,
    /// Their values, in completion order per worker.
    pub values: Vec<T>,
    pub errors: usize,
    /// The first few error messages.
    pub error_examples: Vec<String>,
    /// Wall time of the whole phase.
    pub wall: Duration,
}

impl<T> Load<T> {
    pub fn stats(&self) -> Stats {
        Stats::from(self.latencies.clone(), self.errors, self.wall)
    }
}

/// Something a load closure may return: a plain value (latency = the whole closure), or a
/// `Timed` value (the closure measured its own latency, e.g. excluding untimed preparation).
pub trait IntoSample {
    type Value;
    fn into_sample(self, whole: Duration) -> (Duration, Self::Value);
}

impl<T> IntoSample for Timed<T> {
    type Value = T;
    fn into_sample(self, _: Duration) -> (Duration, T) {
        (self.latency, self.value)
    }
}

macro_rules! plain_sample {
    ($($t:ty),*) => {$(
        impl IntoSample for $t {
            type Value = $t;
            fn into_sample(self, whole: Duration) -> (Duration, $t) {
                (whole, self)
            }
        }
    )*};
}
plain_sample!((), u16, u64, usize, i64, bool, String, Value, Session, Resp);

/// Runs `f(worker, n)` from `concurrency` concurrent clients until `stop`, where `n` is the
/// operation's global index (0, 1, 2, ... in start order). `Ok` values are samples; `Err`
/// messages are counted as errors (and do not contribute latencies).
pub async fn run_load<F, Fut, S>(concurrency: usize, stop: Stop, f: F) -> Load<S::Value>
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<S, String>> + Send + 'static,
    S: IntoSample + Send + 'static,
    S::Value: Send + 'static,
{
    let f = Arc::new(f);
    let issued = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let (max_count, max_time) = match stop {
        Stop::Count(n) => (Some(n), None),
        Stop::Time(t) => (None, Some(t)),
        Stop::CountOrTime(n, t) => (Some(n), Some(t)),
    };
    let mut workers = Vec::with_capacity(concurrency);
    for worker in 0..concurrency.max(1) {
        let (f, issued) = (f.clone(), issued.clone());
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut values = Vec::new();
            let mut errors = Vec::new();
            loop {
                if max_time.is_some_and(|t| start.elapsed() >= t) {
                    break;
                }
                let n = issued.fetch_add(1, Ordering::Relaxed);
                if max_count.is_some_and(|m| n >= m) {
                    break;
                }
                let op_start = Instant::now();
                match f(worker, n).await {
                    Ok(sample) => {
                        let (latency, value) = sample.into_sample(op_start.elapsed());
                        lat.push(latency);
                        values.push(value);
                    }
                    Err(e) => errors.push(e),
                }
            }
            (lat, values, errors)
        }));
    }
    let mut load = Load {
        latencies: Vec::new(),
        values: Vec::new(),
        errors: 0,
        error_examples: Vec::new(),
        wall: Duration::ZERO,
    };
    for w in workers {
        let (lat, values, errors) = w.await.expect("load worker panicked");
        load.latencies.extend(lat);
        load.values.extend(values);
        load.errors += errors.len();
        for e in errors {
            if load.error_examples.len() < 3 {
                load.error_examples.push(e);
            }
        }
    }
    load.wall = start.elapsed();
    load
}

// ---------------------------------------------------------------------------------------------
// Statistics

/// Nearest-rank percentile of sorted durations (`q` in 0..=1).
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    pub n: usize,
    pub errors: usize,
    pub p50: Duration,
    pub p95: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub mean: Duration,
    /// Successful operations per second of wall time.
    pub per_sec: f64,
}

impl Stats {
    pub fn from(mut latencies: Vec<Duration>, errors: usize, wall: Duration) -> Stats {
        latencies.sort_unstable();
        let n = latencies.len();
        let total: Duration = latencies.iter().sum();
        Stats {
            n,
            errors,
            p50: percentile(&latencies, 0.50),
            p95: percentile(&latencies, 0.95),
            p99: percentile(&latencies, 0.99),
            max: latencies.last().copied().unwrap_or_default(),
            mean: if n == 0 {
                Duration::ZERO
            } else {
                total / n as u32
            },
            per_sec: if wall.is_zero() {
                0.0
            } else {
                n as f64 / wall.as_secs_f64()
            },
        }
    }
}

/// `12.3` (milliseconds, one decimal; two below 10 ms).
pub fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1000.0;
    if v < 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.1}")
    }
}

// ---------------------------------------------------------------------------------------------
// Raw database round trips, measured in the same run

/// A raw driver client on the same server (its own pool, the driver's defaults, as the app's).
pub async fn raw_client(db_name: &str) -> mongodb::Database {
    let options = mongodb::options::ClientOptions::parse(mongodb_uri())
        .await
        .expect("MONGODB_URI");
    mongodb::Client::with_options(options)
        .expect("raw client")
        .database(db_name)
}

/// `find_one({_id})` and `insert_one` on a scratch collection `bench_raw` (seeded with `seed` small
/// documents), `concurrency` clients for `time` each.
pub async fn raw_round_trips(
    db: &mongodb::Database,
    concurrency: usize,
    time: Duration,
    seed: usize,
) -> (Stats, Stats) {
    let col = db.collection::<Document>("bench_raw");
    let existing = col.estimated_document_count().await.unwrap_or(0) as usize;
    if existing < seed {
        let docs: Vec<Document> = (existing..seed)
            .map(|i| doc! { "_id": format!("seed:{i}"), "n": i as i64, "pad": "x".repeat(200) })
            .collect();
        for chunk in docs.chunks(500) {
            col.insert_many(chunk.to_vec())
                .await
                .expect("seed bench_raw");
        }
    }
    let seed = seed.max(1);
    let finder = col.clone();
    let find = run_load(concurrency, Stop::Time(time), move |_, n| {
        let col = finder.clone();
        async move {
            let id = format!("seed:{}", (n * 7919) % seed);
            col.find_one(doc! { "_id": id })
                .await
                .map_err(|e| e.to_string())?
                .map(|_| ())
                .ok_or_else(|| "missing".to_owned())
        }
    })
    .await;
    let inserter = col.clone();
    let insert = run_load(concurrency, Stop::Time(time), move |_, _| {
        let col = inserter.clone();
        async move {
            let d = doc! { "_id": ObjectId::new(), "n": 1i64, "pad": "x".repeat(200) };
            col.insert_one(d)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    })
    .await;
    (find.stats(), insert.stats())
}

/// One raw query shape, one client, up to 100 times or 3 seconds: the shapes the requests send,
/// so a request's time can be read against the queries it is made of (FerretDB serves only a
/// filter that is exactly `{_id: value}` without a full scan).
pub async fn raw_shape<F, Fut>(f: F) -> Stats
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), mongodb::error::Error>> + Send + 'static,
{
    let f = Arc::new(f);
    let load = run_load(
        1,
        Stop::CountOrTime(100, Duration::from_secs(3)),
        move |_, _| {
            let f = f.clone();
            async move { f().await.map_err(|e| e.to_string()) }
        },
    )
    .await;
    print_errors("raw shape", &load);
    load.stats()
}

/// The table `raw_shape` rows go in.
pub fn shape_table(title: &str) -> Table {
    Table::new(
        title,
        &[
            "query shape (raw driver, 1 client)",
            "collection",
            "docs",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "max ms",
        ],
    )
}

pub fn shape_row(shape: &str, collection: &str, docs: u64, s: &Stats) -> Vec<String> {
    vec![
        shape.to_owned(),
        collection.to_owned(),
        docs.to_string(),
        ms(s.p50),
        ms(s.p95),
        ms(s.p99),
        ms(s.max),
    ]
}

// ---------------------------------------------------------------------------------------------
// Database commands of one request

/// Runs `f` alone (nothing else may touch the database meanwhile) and returns how many database
/// commands it sent before it returned (`oddxer_backend::db::commands_started`, counted by the
/// driver's command monitoring), and how many more were sent within 50 ms after.
pub async fn count_commands<T>(f: impl Future<Output = T>) -> (u64, u64, T) {
    let before = oddxer_backend::db::commands_started();
    let out = f.await;
    let during = oddxer_backend::db::commands_started() - before;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let after = oddxer_backend::db::commands_started() - before - during;
    (during, after, out)
}

/// min / median / max of a few counts, as `7` or `7-9 (median 8)`.
pub fn count_summary(mut counts: Vec<u64>) -> String {
    counts.sort_unstable();
    match (counts.first(), counts.last()) {
        (Some(a), Some(b)) if a == b => a.to_string(),
        (Some(a), Some(b)) => format!("{a}-{b} (median {})", counts[counts.len() / 2]),
        _ => "-".into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Tables

/// A plain-text table: columns padded to their widest cell, first column left-aligned.
pub struct Table {
    pub title: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(title: &str, headers: &[&str]) -> Table {
        Table {
            title: title.to_owned(),
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn print(&self) {
        let cols = self.headers.len();
        let mut width = vec![0usize; cols];
        for r in std::iter::once(&self.headers).chain(self.rows.iter()) {
            for (i, c) in r.iter().enumerate().take(cols) {
                width[i] = width[i].max(c.chars().count());
            }
        }
        let line = |r: &Vec<String>| {
            let cells: Vec<String> = (0..cols)
                .map(|i| {
                    let c = r.get(i).map(String::as_str).unwrap_or("");
                    if i == 0 {
                        format!("{c:<w$}", w = width[i])
                    } else {
                        format!("{c:>w$}", w = width[i])
                    }
                })
                .collect();
            format!("| {} |", cells.join(" | "))
        };
        println!("\n{}", self.title);
        println!("{}", line(&self.headers));
        println!(
            "|{}|",
            width
                .iter()
                .map(|w| "-".repeat(w + 2))
                .collect::<Vec<_>>()
                .join("|")
        );
        for r in &self.rows {
            println!("{}", line(r));
        }
    }
}

/// The latency table used by the benchmarks: one row per operation, beside its seed target, the
/// design's target (10x better) and the raw `find_one` p50 at the same concurrency.
pub fn latency_table(title: &str) -> Table {
    Table::new(
        title,
        &[
            "operation",
            "clients",
            "ok",
            "err",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "max ms",
            "req/s",
            "seed p99",
            "10x p99",
            "p99 meets",
            "p50 / raw p50",
        ],
    )
}

/// A row of `latency_table`. `target` is the seed's target (the design's is a tenth of it).
pub fn latency_row(
    name: &str,
    clients: usize,
    s: &Stats,
    target: Option<Duration>,
    raw_p50: Option<Duration>,
) -> Vec<String> {
    let (seed, tenth, meets) = match target {
        Some(t) => {
            let tenth = t / 10;
            let meets = if s.n == 0 {
                "-"
            } else if s.p99 <= tenth {
                "10x"
            } else if s.p99 <= t {
                "seed only"
            } else {
                "neither"
            };
            (
                format!("{} ms", t.as_millis()),
                format!("{} ms", tenth.as_millis()),
                meets.to_owned(),
            )
        }
        None => ("-".into(), "-".into(), "-".into()),
    };
    let ratio = match raw_p50 {
        Some(r) if !r.is_zero() && s.n > 0 => {
            format!("{:.1}x", s.p50.as_secs_f64() / r.as_secs_f64())
        }
        _ => "-".into(),
    };
    vec![
        name.to_owned(),
        clients.to_string(),
        s.n.to_string(),
        s.errors.to_string(),
        ms(s.p50),
        ms(s.p95),
        ms(s.p99),
        ms(s.max),
        format!("{:.0}", s.per_sec),
        seed,
        tenth,
        meets,
        ratio,
    ]
}

/// Prints what the figures were measured on.
pub fn print_context(bench: &str, app: &BenchApp) {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let profile = if cfg!(debug_assertions) {
        "debug (numbers are not representative)"
    } else {
        "release"
    };
    println!("== oddxer {bench} benchmark ==");
    println!(
        "database {} on {} | {cores} cores | {profile} build | {} clients, {} s per phase | backend, load generator and FerretDB share the machine",
        app.config.db_name,
        redact(&mongodb_uri()),
        concurrency(),
        phase_time().as_secs(),
    );
    print_load_average();
}

/// The machine's load average (Linux), printed at the start and the end: other work on the machine
/// (builds, tests, other databases) shows up in every figure.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

pub fn print_load_average() {
    println!("load average (1, 5, 15 min): {}", load_average());
}

/// The URI without credentials.
fn redact(uri: &str) -> String {
    match (uri.find("://"), uri.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &uri[..s], &uri[at + 1..]),
        _ => uri.to_owned(),
    }
}

pub fn print_errors<T>(name: &str, load: &Load<T>) {
    if load.errors > 0 {
        println!(
            "  {name}: {} errors, e.g. {:?}",
            load.errors, load.error_examples
        );
    }
}
