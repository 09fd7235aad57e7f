//! Crash recovery under fire (issue 5).
//!
//! The REAL backend binary runs as a child process against the test FerretDB. Concurrent clients run
//! well over a thousand mixed money operations (deposits, withdrawals, purchases, admin resolutions)
//! while a killer task SIGKILLs the process at random moments and starts it again on the same port.
//! Like a real app, a client that got no HTTP answer retries the SAME request with the SAME
//! `Idempotency-Key` until it gets one. Every answer that claimed success is recorded. At the end the
//! killing stops, the server is restarted once more, recovery runs, and then:
//! - `GET /admin/reconcile` is `ok` with no violations, nothing in flight and entries summing to zero;
//! - every claimed purchase is in the buyer's `GET /purchases`, COMPLETED, with the code revealed, and
//!   no purchase the client was refused is there;
//! - every wallet's history holds exactly the effects the clients were told about (a deposit credited
//!   once and only when confirmed, a withdrawal debited once and reversed only when it failed, each
//!   purchase debited once, refunds and seller payouts of resolved codes), its balance is the last
//!   `balanceAfter` of its history and never negative.
//!
//! Knobs: `CRASH_SEED` replays the operation choices and kill delays of a run (the interleaving still
//! depends on timing), `CRASH_OPS` (default 1000), `CRASH_CLIENTS` (default 8), `CRASH_KILL_MS`
//! (how long the server lives between kills, default `200-1500`; `off` for the same load without
//! kills). The server log and a timestamped event log (operations, kills, restarts) stay in the run
//! directory printed at start when the test fails (or with `CRASH_KEEP=1`).

use harness::{Answer, Api, Events, Server};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// Spawning, killing and talking to the real server binary.
mod harness {
    use serde_json::Value;
    use std::collections::HashMap;
    use std::fs::OpenOptions;
    use std::io::Write;
    use std::path::{Path, PathBuf};
    use std::process::Stdio;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};
    use tokio::process::{Child, Command};

    pub fn mongodb_uri() -> String {
        std::env::var("MONGODB_URI").unwrap_or_else(|_| "mongodb://127.0.0.1:27118".into())
    }

    /// A timestamped record of what happened (operations, kills, restarts), for replaying a failure.
    #[derive(Clone)]
    pub struct Events {
        start: Instant,
        lines: Arc<Mutex<Vec<String>>>,
    }

    impl Events {
        pub fn new() -> Events {
            Events {
                start: Instant::now(),
                lines: Arc::new(Mutex::new(Vec::new())),
            }
        }

        pub fn elapsed(&self) -> Duration {
            self.start.elapsed()
        }

        pub fn log(&self, line: impl AsRef<str>) {
            let at = self.start.elapsed().as_millis();
            if let Ok(mut l) = self.lines.lock() {
                l.push(format!("{at:>8}ms {}", line.as_ref()));
            }
        }

        /// Writes the log to `path` when dropped, also when the test panics.
        pub fn file_guard(&self, path: PathBuf) -> EventsFile {
            EventsFile(self.clone(), path)
        }

        pub fn write_to(&self, path: &Path) {
            let text = self.lines.lock().map(|l| l.join("\n")).unwrap_or_default();
            let _ = std::fs::write(path, text + "\n");
        }

        /// The lines around every line mentioning `needle` (at most `max` groups).
        pub fn around(&self, needle: &str, before: usize, after: usize, max: usize) -> Vec<String> {
            let Ok(lines) = self.lines.lock() else {
                return vec![];
            };
            let mut out = Vec::new();
            for (i, l) in lines
                .iter()
                .enumerate()
                .filter(|(_, l)| l.contains(needle))
                .take(max)
            {
                let from = i.saturating_sub(before);
                let to = (i + after + 1).min(lines.len());
                out.push(format!("--- around line {i} ({l})"));
                out.extend(lines[from..to].iter().cloned());
            }
            out
        }
    }

    pub struct EventsFile(Events, PathBuf);

    impl Drop for EventsFile {
        fn drop(&mut self) {
            self.0.write_to(&self.1);
        }
    }

    /// The backend binary as a child process: always the same port after the first start.
    pub struct Server {
        exe: PathBuf,
        env: Vec<(String, String)>,
        dir: PathBuf,
        port: Option<u16>,
        child: Option<Child>,
        pub starts: u32,
        events: Events,
    }

    const SETPRIV: &str = "/usr/bin/setpriv";

    /// The server writes PORT_FILE with a plain (non-atomic) write: accept a value only once it parses
    /// and a second read agrees.
    fn read_port(path: &Path) -> Option<u16> {
        let first: u16 = std::fs::read_to_string(path)
            .ok()?
            .trim()
            .parse()
            .ok()
            .filter(|p| *p > 0)?;
        std::thread::sleep(Duration::from_millis(5));
        let second: u16 = std::fs::read_to_string(path).ok()?.trim().parse().ok()?;
        (first == second).then_some(first)
    }

    impl Server {
        pub fn new(exe: &str, env: Vec<(String, String)>, dir: PathBuf, events: Events) -> Server {
            Server {
                exe: PathBuf::from(exe),
                env,
                dir,
                port: None,
                child: None,
                starts: 0,
                events,
            }
        }

        pub fn port(&self) -> u16 {
            self.port.expect("the server was started once")
        }

        pub fn log_file(&self) -> PathBuf {
            self.dir.join("server.log")
        }

        fn port_file(&self) -> PathBuf {
            self.dir.join("port")
        }

        /// Starts the process (PORT=0 the first time, the port it bound afterwards) without waiting.
        pub fn spawn(&mut self) {
            let _ = std::fs::remove_file(self.port_file());
            let mut log = OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.log_file())
                .expect("server log");
            let _ = writeln!(
                log,
                "===== harness: start #{} at {:?} =====",
                self.starts + 1,
                self.events.elapsed()
            );
            // Under setpriv the server dies with this process even when the test is killed (no orphan
            // keeps hammering the database); SIGKILL still reaches the server itself (setpriv execs).
            let mut cmd = if Path::new(SETPRIV).exists() {
                let mut c = Command::new(SETPRIV);
                c.args(["--pdeathsig", "SIGKILL", "--"]).arg(&self.exe);
                c
            } else {
                Command::new(&self.exe)
            };
            // A clean environment: nothing from the developer's shell or a .env file (cwd is the run dir).
            cmd.env_clear().current_dir(&self.dir);
            for k in ["PATH", "HOME", "RUST_BACKTRACE"] {
                if let Ok(v) = std::env::var(k) {
                    cmd.env(k, v);
                }
            }
            // Requests and their status in the server log, to line them up with the event log.
            cmd.env(
                "RUST_LOG",
                std::env::var("CRASH_RUST_LOG")
                    .unwrap_or_else(|_| "info,tower_http=debug,mongodb=warn".into()),
            );
            cmd.envs(self.env.iter().cloned());
            cmd.env("PORT", self.port.unwrap_or(0).to_string())
                .env("PORT_FILE", self.port_file());
            cmd.stdin(Stdio::null())
                .stdout(log.try_clone().expect("log fd"))
                .stderr(log)
                .kill_on_drop(true);
            self.child = Some(cmd.spawn().expect("spawn the backend binary"));
            self.starts += 1;
        }

        /// Waits until the running process wrote its port; `false` if it exited first.
        async fn wait_ready(&mut self) -> bool {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                if let Some(port) = read_port(&self.port_file()) {
                    match self.port {
                        None => self.port = Some(port),
                        Some(p) => assert_eq!(p, port, "the server bound another port than PORT"),
                    }
                    return true;
                }
                let Some(child) = self.child.as_mut() else {
                    return false;
                };
                if let Ok(Some(status)) = child.try_wait() {
                    self.events
                        .log(format!("SERVER exited before it was ready: {status}"));
                    self.child = None;
                    return false;
                }
                assert!(
                    Instant::now() < deadline,
                    "the backend did not write its port within 60 s; log tail:\n{}",
                    self.log_tail(40)
                );
                tokio::time::sleep(Duration::from_millis(15)).await;
            }
        }

        /// Starts the process and waits until it listens; retries a start that died (port not yet free).
        pub async fn start(&mut self) -> u16 {
            let began = Instant::now();
            for attempt in 1..=10u64 {
                self.spawn();
                if self.wait_ready().await {
                    self.events.log(format!(
                        "START #{} ready after {} ms",
                        self.starts,
                        began.elapsed().as_millis()
                    ));
                    return self.port();
                }
                tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
            }
            panic!(
                "the backend failed to start 10 times in a row; log tail:\n{}",
                self.log_tail(60)
            );
        }

        /// SIGKILL (what `Child::kill` sends on Unix) and reap.
        pub async fn kill(&mut self) {
            if let Some(mut child) = self.child.take() {
                let _ = child.start_kill();
                let _ = child.wait().await;
            }
        }

        pub fn log_tail(&self, n: usize) -> String {
            let text = std::fs::read_to_string(self.log_file()).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(n)..].join("\n")
        }
    }

    #[derive(Debug, Clone)]
    pub struct Answer {
        pub status: u16,
        pub body: Value,
        /// Requests sent until this answer (1 when the first one was answered).
        pub attempts: u32,
        /// How long the answered request took.
        pub took: Duration,
    }

    impl Answer {
        pub fn data(&self) -> &Value {
            &self.body["data"]
        }

        pub fn error_code(&self) -> &str {
            self.body["error"]["code"].as_str().unwrap_or("")
        }
    }

    #[derive(Default)]
    pub struct Stats {
        /// Requests that got no HTTP answer (connection refused or cut by a kill).
        pub transport_errors: AtomicU64,
        /// Calls that needed more than one request.
        pub retried_calls: AtomicU64,
        /// 5xx answers (retried too, with the same key).
        pub server_errors: AtomicU64,
        /// HTTP answers received (any status).
        pub answers: AtomicU64,
        next_call: AtomicU64,
        /// Calls not answered yet, with when they were first sent.
        in_flight: Mutex<HashMap<u64, Instant>>,
    }

    impl Stats {
        /// How long the oldest unanswered call has been waiting.
        pub fn oldest_call(&self) -> Duration {
            let calls = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            calls
                .values()
                .map(|t| t.elapsed())
                .max()
                .unwrap_or_default()
        }
    }

    /// Removes a call from `in_flight` however it ends.
    struct CallGuard<'a>(&'a Stats, u64);

    impl Drop for CallGuard<'_> {
        fn drop(&mut self) {
            self.0
                .in_flight
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&self.1);
        }
    }

    /// An HTTP client that behaves like a real app: no answer means send the same request again.
    #[derive(Clone)]
    pub struct Api {
        http: reqwest::Client,
        base: String,
        pub stats: Arc<Stats>,
        events: Events,
    }

    const MAX_5XX: u32 = 10;
    const NO_ANSWER_TIMEOUT: Duration = Duration::from_secs(120);

    impl Api {
        pub fn new(port: u16, events: Events) -> Api {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(90))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("http client");
            Api {
                http,
                base: format!("http://127.0.0.1:{port}/api/v1"),
                stats: Arc::new(Stats::default()),
                events,
            }
        }

        pub async fn call(
            &self,
            method: reqwest::Method,
            path: &str,
            token: Option<&str>,
            body: Option<&Value>,
            key: Option<&str>,
        ) -> Answer {
            let started = Instant::now();
            let call = self.stats.next_call.fetch_add(1, Ordering::Relaxed);
            self.stats
                .in_flight
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(call, started);
            let _done = CallGuard(&self.stats, call);
            let mut attempts = 0u32;
            let mut server_errors = 0u32;
            loop {
                attempts += 1;
                let sent = Instant::now();
                let mut req = self
                    .http
                    .request(method.clone(), format!("{}{path}", self.base));
                if let Some(t) = token {
                    req = req.bearer_auth(t);
                }
                if let Some(b) = body {
                    req = req.json(b);
                }
                if let Some(k) = key {
                    req = req.header("Idempotency-Key", k);
                }
                let result = match req.send().await {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        resp.text().await.map(|t| (status, t))
                    }
                    Err(e) => Err(e),
                };
                match result {
                    Ok((status, text)) => {
                        self.stats.answers.fetch_add(1, Ordering::Relaxed);
                        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
                        if status >= 500 && server_errors < MAX_5XX {
                            server_errors += 1;
                            self.stats.server_errors.fetch_add(1, Ordering::Relaxed);
                            self.events.log(format!(
                                "HTTP {status} on {method} {path} key={key:?}: {body}"
                            ));
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            continue;
                        }
                        if attempts > 1 {
                            self.stats.retried_calls.fetch_add(1, Ordering::Relaxed);
                        }
                        return Answer {
                            status,
                            body,
                            attempts,
                            took: sent.elapsed(),
                        };
                    }
                    Err(e) => {
                        self.stats.transport_errors.fetch_add(1, Ordering::Relaxed);
                        assert!(
                            started.elapsed() < NO_ANSWER_TIMEOUT,
                            "no answer to {method} {path} for {NO_ANSWER_TIMEOUT:?}: {e}"
                        );
                        tokio::time::sleep(Duration::from_millis(
                            40 + u64::from(attempts % 4) * 20,
                        ))
                        .await;
                    }
                }
            }
        }

        pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
            self.call(reqwest::Method::GET, path, token, None, None)
                .await
        }

        /// One POST that the client gives up on after `patience` (an app killed mid-request, which
        /// forgets its Idempotency-Key): `None` when no answer came in time.
        pub async fn post_once(
            &self,
            path: &str,
            token: &str,
            body: &Value,
            key: &str,
            patience: Duration,
        ) -> Option<Answer> {
            let sent = Instant::now();
            let req = self
                .http
                .post(format!("{}{path}", self.base))
                .bearer_auth(token)
                .json(body)
                .header("Idempotency-Key", key)
                .timeout(patience);
            let resp = req.send().await.ok()?;
            let status = resp.status().as_u16();
            let text = resp.text().await.ok()?;
            self.stats.answers.fetch_add(1, Ordering::Relaxed);
            Some(Answer {
                status,
                body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
                attempts: 1,
                took: sent.elapsed(),
            })
        }

        /// The WebSocket URL of the same server.
        pub fn ws_url(&self) -> String {
            format!("{}/ws", self.base.replacen("http://", "ws://", 1))
        }

        pub async fn post(
            &self,
            path: &str,
            token: Option<&str>,
            body: &Value,
            key: Option<&str>,
        ) -> Answer {
            self.call(reqwest::Method::POST, path, token, Some(body), key)
                .await
        }
    }
}

const FEE_BPS: u32 = 1000;
const BUYERS: usize = 10;
const SELLERS: usize = 3;

#[derive(Debug, Clone)]
struct User {
    phone: String,
    token: String,
}

#[derive(Debug, Clone)]
struct CodeInfo {
    id: String,
    seller: usize,
    price: i64,
    max_buyers: i64,
    /// Expires during the run, so an admin can resolve it WON or LOST (both need the games started).
    short: bool,
    expires_at: OffsetDateTime,
}

/// What the clients know about the market, to choose sensible operations.
#[derive(Default)]
struct Market {
    codes: Vec<CodeInfo>,
    /// (buyer, code) pairs with a purchase attempted and not refused for money.
    attempted: HashSet<(usize, usize)>,
    /// Codes no longer worth trying: sold out, expired, resolved.
    closed: HashSet<usize>,
    resolve_tried: HashSet<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asked {
    Complete,
    Fail,
    Leave,
}

#[derive(Debug, Clone)]
struct DepositClaim {
    op: usize,
    buyer: usize,
    id: String,
    amount: i64,
    asked: Asked,
    /// The status the server answered after being asked to settle (PENDING when left alone).
    status: String,
}

#[derive(Debug, Clone)]
struct WithdrawalClaim {
    op: usize,
    buyer: usize,
    id: String,
    amount: i64,
    asked: Asked,
    status: String,
}

#[derive(Debug, Clone)]
struct PurchaseClaim {
    op: usize,
    buyer: usize,
    code: usize,
    id: String,
    price: i64,
    secret: String,
}

/// Every answer that claimed success, plus what looked odd.
#[derive(Default)]
struct Claims {
    deposits: Vec<DepositClaim>,
    withdrawals: Vec<WithdrawalClaim>,
    purchases: Vec<PurchaseClaim>,
    /// (op, code, outcome asked, HTTP status, error code).
    resolutions: Vec<(usize, usize, String, u16, String)>,
    /// (op, buyer, code) of purchases whose first request the client abandoned (no answer in time,
    /// key forgotten) before buying again with a new key that did not answer 200: the buyer may or
    /// may not own the code; `true` when the new key was told ALREADY_BOUGHT (then it must own it).
    abandoned: Vec<(usize, usize, usize, bool)>,
    /// Answers that contradict the clients' own knowledge (not money errors by themselves).
    anomalies: Vec<String>,
    /// "KIND STATUS[ CODE]" -> count.
    outcomes: BTreeMap<String, u64>,
    /// Kind -> milliseconds the answered request took.
    latency: BTreeMap<String, Vec<u128>>,
}

struct World {
    seed: u64,
    api: Api,
    events: Events,
    admin: User,
    buyers: Vec<User>,
    market: Mutex<Market>,
    claims: Mutex<Claims>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn random_phone(rng: &mut StdRng) -> String {
    // A valid Ugandan mobile number (70x xxx xxx): the backend refuses numbers that are not.
    format!("+25670{:07}", rng.gen_range(0..10_000_000u64))
}

async fn sign_up(api: &Api, phone: &str, role: Option<&str>) -> User {
    let mut body = json!({ "phoneNumber": phone, "username": format!("u_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]) });
    if let Some(r) = role {
        body["role"] = json!(r);
    }
    let r = api.post("/auth/register", None, &body, None).await;
    assert_eq!(r.status, 201, "register {phone}: {}", r.body);
    let sms = api
        .get(
            &format!("/dev/sms?phoneNumber={}", phone.replace('+', "%2B")),
            None,
        )
        .await;
    let text = sms.data()[0]["body"]
        .as_str()
        .unwrap_or_else(|| panic!("an SMS to {phone}: {}", sms.body))
        .to_owned();
    let otp = text
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a 6-digit code in the SMS")
        .to_owned();
    let v = api
        .post(
            "/auth/verify-otp",
            None,
            &json!({ "phoneNumber": phone, "otp": otp }),
            None,
        )
        .await;
    assert_eq!(v.status, 200, "verify {phone}: {}", v.body);
    User {
        phone: phone.to_owned(),
        token: v.data()["accessToken"]
            .as_str()
            .expect("access token")
            .to_owned(),
    }
}

async fn create_code(
    api: &Api,
    seller: &User,
    n: usize,
    price: i64,
    max_buyers: i64,
    expires_at: OffsetDateTime,
) -> String {
    let body = json!({
        "sport": "FOOTBALL",
        "title": format!("Crash acca number {n}"),
        "description": "Four legs, away wins",
        "odds": 3.5,
        "bookmaker": "SportyBet",
        "price": price,
        "code": format!("CR-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]).to_uppercase(),
        "expiresAt": expires_at.format(&time::format_description::well_known::Rfc3339).expect("rfc3339"),
        "maxBuyers": max_buyers,
    });
    let r = api.post("/codes", Some(&seller.token), &body, None).await;
    assert_eq!(r.status, 201, "create code: {}", r.body);
    r.data()["id"].as_str().expect("code id").to_owned()
}

fn method(rng: &mut StdRng) -> &'static str {
    if rng.gen_bool(0.5) {
        "MTN_MOMO"
    } else {
        "AIRTEL_MONEY"
    }
}

fn asked(rng: &mut StdRng, complete: u32, fail: u32) -> Asked {
    let x = rng.gen_range(0..100);
    if x < complete {
        Asked::Complete
    } else if x < complete + fail {
        Asked::Fail
    } else {
        Asked::Leave
    }
}

/// Has the sandbox provider settle a payment, the way a developer would; returns the status answered.
async fn settle_payment(w: &World, reference: &str, asked: Asked, what: &str) -> String {
    let action = match asked {
        Asked::Complete => "complete",
        Asked::Fail => "fail",
        Asked::Leave => return "PENDING".into(),
    };
    let r = w
        .api
        .post(
            &format!("/dev/payments/{reference}/{action}"),
            None,
            &json!({}),
            None,
        )
        .await;
    if r.status != 200 {
        lock(&w.claims).anomalies.push(format!(
            "{what}: /dev/payments/{reference}/{action} answered {} {}",
            r.status, r.body
        ));
    }
    r.data()["status"].as_str().unwrap_or("?").to_owned()
}

fn count(w: &World, kind: &str, r: &Answer) {
    let key = if r.status >= 400 {
        format!("{kind} {} {}", r.status, r.error_code())
    } else {
        format!("{kind} {}", r.status)
    };
    let mut claims = lock(&w.claims);
    *claims.outcomes.entry(key).or_default() += 1;
    claims
        .latency
        .entry(kind.to_owned())
        .or_default()
        .push(r.took.as_millis());
}

async fn deposit(w: &World, op: usize, rng: &mut StdRng, b: usize) {
    let user = &w.buyers[b];
    let amount = rng.gen_range(1_000..=40_000i64);
    let key = format!("op{op}-deposit-{}", w.seed);
    let body = json!({ "amount": amount, "paymentMethod": method(rng), "phoneNumber": user.phone });
    let r = w
        .api
        .post("/wallet/deposits", Some(&user.token), &body, Some(&key))
        .await;
    count(w, "deposit", &r);
    w.events.log(format!(
        "op#{op} b{b} DEPOSIT {amount} key={key} -> {} (attempts {})",
        r.status, r.attempts
    ));
    if r.status != 202 {
        lock(&w.claims)
            .anomalies
            .push(format!("op#{op} deposit answered {} {}", r.status, r.body));
        return;
    }
    let id = r.data()["id"].as_str().expect("deposit id").to_owned();
    let reference = r.data()["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    let asked = asked(rng, 80, 19);
    let status = settle_payment(w, &reference, asked, &format!("op#{op} deposit {id}")).await;
    w.events.log(format!(
        "op#{op} b{b} DEPOSIT {id} asked {asked:?} -> {status}"
    ));
    let expected = match asked {
        Asked::Complete => "COMPLETED",
        Asked::Fail => "FAILED",
        Asked::Leave => "PENDING",
    };
    let mut claims = lock(&w.claims);
    if status != expected {
        claims.anomalies.push(format!(
            "op#{op} deposit {id} asked {asked:?} but answered {status}"
        ));
    }
    claims.deposits.push(DepositClaim {
        op,
        buyer: b,
        id,
        amount,
        asked,
        status,
    });
}

async fn withdraw(w: &World, op: usize, rng: &mut StdRng, b: usize) {
    let user = &w.buyers[b];
    let amount = rng.gen_range(1_000..=25_000i64);
    let key = format!("op{op}-withdrawal-{}", w.seed);
    let body = json!({ "amount": amount, "paymentMethod": method(rng), "phoneNumber": user.phone });
    let r = w
        .api
        .post("/wallet/withdrawals", Some(&user.token), &body, Some(&key))
        .await;
    count(w, "withdrawal", &r);
    w.events.log(format!(
        "op#{op} b{b} WITHDRAW {amount} key={key} -> {} {} (attempts {})",
        r.status,
        r.error_code(),
        r.attempts
    ));
    match r.status {
        202 => {}
        402 => return,
        _ => {
            lock(&w.claims).anomalies.push(format!(
                "op#{op} withdrawal answered {} {}",
                r.status, r.body
            ));
            return;
        }
    }
    let id = r.data()["id"].as_str().expect("withdrawal id").to_owned();
    let reference = r.data()["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    let asked = asked(rng, 69, 30);
    let status = settle_payment(w, &reference, asked, &format!("op#{op} withdrawal {id}")).await;
    w.events.log(format!(
        "op#{op} b{b} WITHDRAW {id} asked {asked:?} -> {status}"
    ));
    let expected = match asked {
        Asked::Complete => "COMPLETED",
        Asked::Fail => "REVERSED",
        Asked::Leave => "PENDING",
    };
    let mut claims = lock(&w.claims);
    if status != expected {
        claims.anomalies.push(format!(
            "op#{op} withdrawal {id} asked {asked:?} but answered {status}"
        ));
    }
    claims.withdrawals.push(WithdrawalClaim {
        op,
        buyer: b,
        id,
        amount,
        asked,
        status,
    });
}

/// Buys a code this buyer has not bought or tried yet; `false` when there is none left to try.
async fn purchase(w: &World, op: usize, rng: &mut StdRng, b: usize) -> bool {
    let now = OffsetDateTime::now_utc();
    let chosen = {
        let mut m = lock(&w.market);
        let open: Vec<usize> = (0..m.codes.len())
            .filter(|c| {
                !m.closed.contains(c)
                    && !m.attempted.contains(&(b, *c))
                    && m.codes[*c].expires_at > now + time::Duration::seconds(1)
            })
            .collect();
        let short: Vec<usize> = open.iter().copied().filter(|c| m.codes[*c].short).collect();
        let pick = if !short.is_empty() && rng.gen_bool(0.4) {
            short.choose(rng).copied()
        } else {
            open.choose(rng).copied()
        };
        if let Some(c) = pick {
            m.attempted.insert((b, c));
        }
        pick.map(|c| (c, m.codes[c].clone()))
    };
    let Some((c, code)) = chosen else {
        return false;
    };
    let user = &w.buyers[b];
    let path = format!("/codes/{}/purchase", code.id);
    // A forgetful client (a third of purchases): the app dies mid-request, losing its key, and the
    // user taps Buy again, which sends a new key. Whatever the first request left behind (a place,
    // a claim, a debit) must neither lock the buyer out nor buy twice.
    let mut abandoned = false;
    let mut first = None;
    if rng.gen_bool(0.33) {
        let patience = Duration::from_millis(rng.gen_range(2..120));
        let lost_key = format!("op{op}-purchase-lost-{}", w.seed);
        first = w
            .api
            .post_once(&path, &user.token, &json!({}), &lost_key, patience)
            .await;
        abandoned = first.is_none();
        w.events.log(format!(
            "op#{op} b{b} PURCHASE code#{c} key={lost_key} abandoned after {patience:?}: {}",
            if abandoned { "no answer" } else { "answered" }
        ));
    }
    let key = format!("op{op}-purchase-{}", w.seed);
    let r = match first {
        Some(answer) => answer,
        None => {
            w.api
                .post(&path, Some(&user.token), &json!({}), Some(&key))
                .await
        }
    };
    if abandoned && r.status != 200 {
        lock(&w.claims)
            .abandoned
            .push((op, b, c, r.error_code() == "ALREADY_BOUGHT"));
    }
    count(w, "purchase", &r);
    w.events.log(format!(
        "op#{op} b{b} PURCHASE code#{c} {} price {} key={key} -> {} {} (attempts {})",
        code.id,
        code.price,
        r.status,
        r.error_code(),
        r.attempts
    ));
    match (r.status, r.error_code()) {
        (200, _) => {
            let id = r.data()["purchase"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let secret = r.data()["code"].as_str().unwrap_or_default().to_owned();
            let mut claims = lock(&w.claims);
            if r.data()["purchase"]["status"] != "COMPLETED"
                || r.data()["purchase"]["code"]["code"] != secret.as_str()
                || secret.is_empty()
            {
                claims.anomalies.push(format!(
                    "op#{op} purchase answer is not a completed, revealed purchase: {}",
                    r.body
                ));
            }
            claims.purchases.push(PurchaseClaim {
                op,
                buyer: b,
                code: c,
                id,
                price: code.price,
                secret,
            });
        }
        (402, _) => {
            // Refused for money: this buyer may try the code again later (the claim must be free).
            lock(&w.market).attempted.remove(&(b, c));
        }
        (409, "SOLD_OUT" | "CODE_EXPIRED" | "NOT_FOR_SALE") => {
            lock(&w.market).closed.insert(c);
        }
        (409, "ALREADY_BOUGHT") if abandoned => {} // recorded above, checked against GET /purchases at the end
        (409, "ALREADY_BOUGHT")
            if lock(&w.claims)
                .abandoned
                .iter()
                .any(|a| (a.1, a.2) == (b, c)) =>
        {
            // An earlier abandoned request bought it: checked against GET /purchases at the end.
            lock(&w.claims).abandoned.push((op, b, c, true));
        }
        (409, "PURCHASE_IN_PROGRESS") if abandoned => {
            // The abandoned request is still deciding: the buyer may try again later.
            lock(&w.market).attempted.remove(&(b, c));
        }
        (409, "ALREADY_BOUGHT") => {
            // The clients never retry a bought code with a new key: this buyer has no purchase of it.
            lock(&w.claims).anomalies.push(format!(
                "op#{op} b{b} code#{c}: ALREADY_BOUGHT but this buyer was never told it bought it"
            ));
        }
        _ => lock(&w.claims)
            .anomalies
            .push(format!("op#{op} purchase answered {} {}", r.status, r.body)),
    }
    true
}

/// An admin resolves a code: WON or LOST for a short code whose games started, VOID for another one.
async fn resolve(w: &World, op: usize, rng: &mut StdRng, only_short: bool) -> bool {
    let now = OffsetDateTime::now_utc();
    let bought: HashSet<usize> = lock(&w.claims).purchases.iter().map(|p| p.code).collect();
    let chosen = {
        let mut m = lock(&w.market);
        let expired: Vec<usize> = (0..m.codes.len())
            .filter(|c| {
                m.codes[*c].short
                    && !m.resolve_tried.contains(c)
                    && m.codes[*c].expires_at + time::Duration::seconds(1) < now
            })
            .collect();
        let voidable: Vec<usize> = (0..m.codes.len())
            .filter(|c| !m.codes[*c].short && !m.resolve_tried.contains(c) && bought.contains(c))
            .collect();
        let pick = match expired.choose(rng) {
            Some(c) => Some((*c, if rng.gen_bool(0.5) { "WON" } else { "LOST" })),
            None if only_short => None,
            None => voidable.choose(rng).map(|c| (*c, "VOID")),
        };
        if let Some((c, _)) = pick {
            m.resolve_tried.insert(c);
            if !m.codes[c].short {
                m.closed.insert(c);
            }
        }
        pick.map(|(c, o)| (c, o, m.codes[c].id.clone()))
    };
    let Some((c, outcome, id)) = chosen else {
        return false;
    };
    let key = format!("op{op}-resolve-{}", w.seed);
    let r = w
        .api
        .post(
            &format!("/admin/codes/{id}/resolve"),
            Some(&w.admin.token),
            &json!({ "outcome": outcome }),
            Some(&key),
        )
        .await;
    count(w, "resolve", &r);
    w.events.log(format!(
        "op#{op} ADMIN RESOLVE code#{c} {id} {outcome} -> {} {} (attempts {})",
        r.status,
        r.error_code(),
        r.attempts
    ));
    let mut claims = lock(&w.claims);
    if r.status != 200 && r.status != 409 {
        claims
            .anomalies
            .push(format!("op#{op} resolve answered {} {}", r.status, r.body));
    }
    claims.resolutions.push((
        op,
        c,
        outcome.to_owned(),
        r.status,
        r.error_code().to_owned(),
    ));
    true
}

async fn run_op(w: &World, op: usize) {
    let mut rng = StdRng::seed_from_u64(w.seed ^ (op as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let b = rng.gen_range(0..w.buyers.len());
    if op % 100 == 50 && resolve(w, op, &mut rng, false).await {
        return;
    }
    let x = rng.gen_range(0..100);
    if x < 45 && purchase(w, op, &mut rng, b).await {
        return;
    }
    if x < 72 {
        deposit(w, op, &mut rng, b).await;
    } else {
        withdraw(w, op, &mut rng, b).await;
    }
}

async fn all_pages(api: &Api, path: &str, token: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}?limit=100&cursor={c}"),
            None => format!("{path}?limit=100"),
        };
        let r = api.get(&url, Some(token)).await;
        assert_eq!(r.status, 200, "GET {url}: {}", r.body);
        items.extend(r.data()["items"].as_array().cloned().unwrap_or_default());
        match r.data()["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return items,
        }
    }
}

fn amount(v: &Value) -> i64 {
    v["amount"].as_i64().unwrap_or(i64::MIN)
}

/// One wallet's history checked against what its owner was told. `known` maps a transfer id the
/// client knows to the net amount it must have moved (0: nothing); `derived` lists the amounts of
/// entries of a type the server creates on its own (REVERSAL, REFUND, SALE_PAYOUT).
async fn check_wallet(
    w: &World,
    who: &str,
    token: &str,
    known: &HashMap<String, (i64, String)>,
    derived: &BTreeMap<&str, Vec<i64>>,
    problems: &mut Vec<String>,
) {
    let history = all_pages(&w.api, "/wallet/transactions", token).await;
    let wallet = w.api.get("/wallet", Some(token)).await;
    let balance = amount(&wallet.data()["balance"]);
    let head = history
        .first()
        .map(|e| amount(&e["balanceAfter"]))
        .unwrap_or(0);
    if balance != head {
        problems.push(format!("{who}: GET /wallet balance {balance} but the last balanceAfter of its history is {head}"));
    }
    if balance < 0 {
        problems.push(format!("{who}: negative balance {balance}"));
    }
    if let Some(e) = history.iter().find(|e| amount(&e["balanceAfter"]) < 0) {
        problems.push(format!("{who}: an entry left the wallet below zero: {e}"));
    }
    // Net per transfer (a void `{T}:void` belongs to T) and the plain entries per transfer.
    let mut net: HashMap<String, i64> = HashMap::new();
    let mut plain: HashMap<String, Vec<&Value>> = HashMap::new();
    for e in &history {
        let tid = e["transferId"].as_str().unwrap_or_default();
        let base = tid.strip_suffix(":void").unwrap_or(tid);
        *net.entry(base.to_owned()).or_default() += amount(&e["amount"]);
        if base == tid {
            plain.entry(base.to_owned()).or_default().push(e);
        }
    }
    for (id, (want, what)) in known {
        let got = net.get(id).copied().unwrap_or(0);
        if got != *want {
            problems.push(format!("{who}: transfer {id} ({what}) moved {got}, the client was told {want}; entries: {:?}", plain.get(id)));
        }
        if *want != 0 && plain.get(id).map_or(0, Vec::len) != 1 {
            problems.push(format!(
                "{who}: transfer {id} ({what}) has {} entries, want exactly 1: {:?}",
                plain.get(id).map_or(0, Vec::len),
                plain.get(id)
            ));
        }
    }
    let mut seen: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (id, entries) in &plain {
        if known.contains_key(id) || net.get(id).copied().unwrap_or(0) == 0 {
            continue;
        }
        for e in entries {
            let kind = e["type"].as_str().unwrap_or("?").to_owned();
            if derived.contains_key(kind.as_str()) {
                seen.entry(kind).or_default().push(amount(&e["amount"]));
            } else {
                problems.push(format!("{who}: an entry no client operation explains: {e}"));
            }
        }
    }
    for (kind, want) in derived {
        let mut want = want.clone();
        want.sort_unstable();
        let mut got = seen.remove(*kind).unwrap_or_default();
        got.sort_unstable();
        if got != want {
            problems.push(format!("{who}: {kind} entries {got:?}, expected {want:?}"));
        }
    }
}

/// A phone's view after syncing both streams from cursor 0.
struct Synced {
    wallet_sum: i64,
    wallet_checkpoint: Option<i64>,
    /// Purchase id -> its row at the highest version received.
    purchases: HashMap<String, Value>,
}

/// Syncs both streams from cursor 0 over the real WebSocket, as a freshly installed app does.
async fn sync_from_zero(w: &World, token: &str) -> Result<Synced, String> {
    use futures_util::{SinkExt, StreamExt};
    use oddxer_shared::sync::{ClientFrame, ServerFrame, StreamEntries, SyncCursors};
    use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};
    let mut req = w
        .api
        .ws_url()
        .into_client_request()
        .map_err(|e| e.to_string())?;
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {token}")
            .parse()
            .map_err(|_| "header".to_owned())?,
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .map_err(|e| e.to_string())?;
    let frame = ClientFrame::Sync {
        streams: SyncCursors {
            wallet: Some(0),
            purchases: Some(0),
        },
    };
    ws.send(Message::Text(
        serde_json::to_string(&frame)
            .map_err(|e| e.to_string())?
            .into(),
    ))
    .await
    .map_err(|e| e.to_string())?;
    let mut synced = Synced {
        wallet_sum: 0,
        wallet_checkpoint: None,
        purchases: HashMap::new(),
    };
    let mut versions: HashMap<String, i64> = HashMap::new();
    let (mut wallet_done, mut purchases_done) = (false, false);
    while !(wallet_done && purchases_done) {
        let msg = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .map_err(|_| "no frame for 30 s".to_owned())?;
        let Some(Ok(Message::Text(text))) = msg else {
            continue;
        };
        let Ok(ServerFrame::SyncBatch(batch)) = serde_json::from_str::<ServerFrame>(&text) else {
            continue;
        };
        match batch.entries {
            StreamEntries::Wallet(entries) => {
                synced.wallet_sum += entries.iter().map(|e| e.amount.amount).sum::<i64>();
                if batch.done {
                    wallet_done = true;
                    synced.wallet_checkpoint = batch.checkpoint.balance;
                }
            }
            StreamEntries::Purchases(rows) => {
                for row in rows {
                    if versions
                        .get(&row.purchase.id)
                        .is_none_or(|v| *v < row.version)
                    {
                        versions.insert(row.purchase.id.clone(), row.version);
                        synced.purchases.insert(
                            row.purchase.id.clone(),
                            serde_json::to_value(&row.purchase).map_err(|e| e.to_string())?,
                        );
                    }
                }
                purchases_done |= batch.done;
            }
        }
    }
    let _ = ws.close(None).await;
    Ok(synced)
}

/// Every check of the end state; empty when all hold. Also returns the reconcile report.
async fn verify(w: &World, sellers: &[User]) -> (Vec<String>, Value) {
    let mut problems = Vec::new();
    let rec = w.api.get("/admin/reconcile", Some(&w.admin.token)).await;
    let report = rec.data().clone();
    if rec.status != 200
        || report["ok"] != true
        || report["inFlight"] != 0
        || report["entriesSum"] != 0
        || report["violations"]
            .as_array()
            .is_none_or(|v| !v.is_empty())
    {
        problems.push(format!(
            "reconcile: {} {}",
            rec.status,
            serde_json::to_string_pretty(&rec.body).unwrap_or_default()
        ));
    }

    let codes = lock(&w.market).codes.clone();
    let claims = {
        let c = lock(&w.claims);
        (
            c.deposits.clone(),
            c.withdrawals.clone(),
            c.purchases.clone(),
            c.abandoned.clone(),
        )
    };
    let (deposits, withdrawals, mut purchases, abandoned) = claims;
    // Purchases of abandoned requests: the buyer owns the code at most once, and surely when a new
    // key was told ALREADY_BOUGHT (else the leftovers of the first request lock the buyer out).
    let mut listed_of: HashMap<usize, Vec<Value>> = HashMap::new();
    for &(op, b, c, told_bought) in &abandoned {
        if purchases.iter().any(|p| (p.buyer, p.code) == (b, c)) {
            continue;
        }
        if let std::collections::hash_map::Entry::Vacant(slot) = listed_of.entry(b) {
            slot.insert(all_pages(&w.api, "/purchases", &w.buyers[b].token).await);
        }
        let of_code: Vec<&Value> = listed_of[&b]
            .iter()
            .filter(|p| p["codeId"] == codes[c].id.as_str())
            .collect();
        match of_code.as_slice() {
            [] if told_bought => problems.push(format!(
                "buyer b{b} code#{c} (op#{op}): a new key was told ALREADY_BOUGHT after an abandoned request, but GET /purchases has no purchase of it (locked out)"
            )),
            [] => {}
            [p] => purchases.push(PurchaseClaim {
                op,
                buyer: b,
                code: c,
                id: p["id"].as_str().unwrap_or_default().to_owned(),
                price: codes[c].price,
                secret: p["code"]["code"].as_str().unwrap_or_default().to_owned(),
            }),
            more => problems.push(format!("buyer b{b} code#{c} (op#{op}): {} purchases of one code: {more:?}", more.len())),
        }
    }
    // The outcome each code ended with, as the API shows it.
    let mut outcome: HashMap<usize, String> = HashMap::new();
    for (i, c) in codes.iter().enumerate() {
        let r = w
            .api
            .get(&format!("/codes/{}", c.id), Some(&w.admin.token))
            .await;
        if let Some(o) = r.data()["outcome"].as_str() {
            outcome.insert(i, o.to_owned());
        }
    }
    let mut sold: HashMap<usize, i64> = HashMap::new();
    for p in &purchases {
        *sold.entry(p.code).or_default() += 1;
    }
    for (c, n) in &sold {
        if *n > codes[*c].max_buyers {
            problems.push(format!(
                "code#{c} {}: {n} purchases claimed, maxBuyers {}",
                codes[*c].id, codes[*c].max_buyers
            ));
        }
    }

    for (b, user) in w.buyers.iter().enumerate() {
        let who = format!("buyer b{b}");
        let mut known: HashMap<String, (i64, String)> = HashMap::new();
        for d in deposits.iter().filter(|d| d.buyer == b) {
            let want = if d.status == "COMPLETED" { d.amount } else { 0 };
            known.insert(
                d.id.clone(),
                (
                    want,
                    format!(
                        "deposit op#{} of {} asked {:?}, answered {}",
                        d.op, d.amount, d.asked, d.status
                    ),
                ),
            );
        }
        let mut reversals = Vec::new();
        for x in withdrawals.iter().filter(|x| x.buyer == b) {
            let what = format!(
                "withdrawal op#{} of {} asked {:?}, answered {}",
                x.op, x.amount, x.asked, x.status
            );
            known.insert(x.id.clone(), (-x.amount, what));
            if x.asked == Asked::Fail {
                reversals.push(x.amount);
            }
        }
        let mut refunds = Vec::new();
        for p in purchases.iter().filter(|p| p.buyer == b) {
            known.insert(
                p.id.clone(),
                (-p.price, format!("purchase op#{} of code#{}", p.op, p.code)),
            );
            if outcome.get(&p.code).map(String::as_str) == Some("VOID") {
                refunds.push(p.price);
            }
        }
        let derived = BTreeMap::from([("REVERSAL", reversals), ("REFUND", refunds)]);
        check_wallet(w, &who, &user.token, &known, &derived, &mut problems).await;

        // GET /purchases lists exactly the purchases this buyer was told about, revealed.
        let listed = all_pages(&w.api, "/purchases", &user.token).await;
        let listed: HashMap<String, &Value> = listed
            .iter()
            .map(|p| (p["id"].as_str().unwrap_or_default().to_owned(), p))
            .collect();
        let mine: Vec<&PurchaseClaim> = purchases.iter().filter(|p| p.buyer == b).collect();
        for p in &mine {
            match listed.get(&p.id) {
                None => problems.push(format!("{who}: purchase {} of code#{} (op#{}) answered 200 but is not in GET /purchases", p.id, p.code, p.op)),
                Some(item) => {
                    if item["status"] != "COMPLETED" || item["code"]["code"] != p.secret.as_str() || item["codeId"] != codes[p.code].id.as_str() {
                        problems.push(format!("{who}: purchase {} (op#{}) listed as {item}, expected COMPLETED with {}", p.id, p.op, p.secret));
                    }
                }
            }
        }
        let claimed: HashSet<&str> = mine.iter().map(|p| p.id.as_str()).collect();
        for (id, item) in &listed {
            if !claimed.contains(id.as_str()) {
                problems.push(format!("{who}: GET /purchases lists {id} that no answer claimed (the client was refused or never told): {item}"));
            }
        }

        // What a phone syncing from scratch stores: both streams, as the offline copy reads them.
        match sync_from_zero(w, &user.token).await {
            Err(e) => problems.push(format!("{who}: sync from cursor 0 failed: {e}")),
            Ok(synced) => {
                let balance =
                    amount(&w.api.get("/wallet", Some(&user.token)).await.data()["balance"]);
                if synced.wallet_sum != balance || synced.wallet_checkpoint != Some(balance) {
                    problems.push(format!(
                        "{who}: synced wallet entries sum to {} with checkpoint {:?}, GET /wallet says {balance}",
                        synced.wallet_sum, synced.wallet_checkpoint
                    ));
                }
                for p in &mine {
                    let want = match outcome.get(&p.code).map(String::as_str) {
                        Some("VOID") => Some("REFUNDED"),
                        Some("WON" | "LOST") => Some("PAID_OUT"),
                        _ => None,
                    };
                    match synced.purchases.get(&p.id) {
                        None => problems.push(format!("{who}: purchase {} (op#{}) is missing from the synced purchases stream", p.id, p.op)),
                        Some(row) => {
                            let settlement = row["settlement"].as_str();
                            if row["status"] != "COMPLETED" || row["code"]["code"] != p.secret.as_str() || (want.is_some() && settlement != want) {
                                problems.push(format!("{who}: synced row of purchase {} (op#{}) is {row}, expected COMPLETED, revealed, settlement {want:?}", p.id, p.op));
                            }
                        }
                    }
                }
                for (id, row) in &synced.purchases {
                    if !claimed.contains(id.as_str()) {
                        problems.push(format!("{who}: the synced purchases stream holds {id} that no answer claimed: {row}"));
                    }
                }
            }
        }
    }

    // The labels buyers and sellers read: each code's salesCount, each seller's sales list.
    for (i, c) in codes.iter().enumerate() {
        let r = w
            .api
            .get(&format!("/codes/{}", c.id), Some(&w.admin.token))
            .await;
        let want = sold.get(&i).copied().unwrap_or(0);
        if r.data()["salesCount"] != want {
            problems.push(format!(
                "code#{i} {}: salesCount {} but {want} purchases were claimed",
                c.id,
                r.data()["salesCount"]
            ));
        }
    }
    for (s, seller) in sellers.iter().enumerate() {
        let listed = all_pages(&w.api, "/seller/sales", &seller.token).await;
        let want: HashSet<&str> = purchases
            .iter()
            .filter(|p| codes[p.code].seller == s)
            .map(|p| p.id.as_str())
            .collect();
        let got: HashSet<&str> = listed
            .iter()
            .filter_map(|x| x["purchaseId"].as_str())
            .collect();
        if got != want || listed.len() != want.len() {
            problems.push(format!("seller s{s}: GET /seller/sales lists {} sales {got:?}, the buyers were told of {want:?}", listed.len()));
        }
    }

    for (s, seller) in sellers.iter().enumerate() {
        let mut payouts = Vec::new();
        for p in purchases.iter().filter(|p| codes[p.code].seller == s) {
            if matches!(
                outcome.get(&p.code).map(String::as_str),
                Some("WON" | "LOST")
            ) {
                payouts.push(oddxer_backend::purchases::rules::split(p.price, FEE_BPS).0);
            }
        }
        let derived = BTreeMap::from([("SALE_PAYOUT", payouts)]);
        check_wallet(
            w,
            &format!("seller s{s}"),
            &seller.token,
            &HashMap::new(),
            &derived,
            &mut problems,
        )
        .await;
    }
    (problems, report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn money_stays_exact_while_the_server_is_killed_at_random() {
    let seed: u64 = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    let target_ops: usize = std::env::var("CRASH_OPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let clients: usize = std::env::var("CRASH_CLIENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    // Milliseconds the server lives between kills, "MIN-MAX"; "off" runs the same load without kills.
    let kill_ms = std::env::var("CRASH_KILL_MS").unwrap_or_else(|_| "200-1500".into());
    let kill_range: Option<(u64, u64)> = kill_ms
        .split_once('-')
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)));
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(seed);
    let db_name = format!(
        "crash_{seed}_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let dir = std::env::temp_dir().join(format!("oddxer-{db_name}"));
    std::fs::create_dir_all(&dir).expect("run dir");
    println!("crash_recovery: seed={seed} (replay with CRASH_SEED={seed}) ops={target_ops} clients={clients} kill_ms={kill_ms} db={db_name} dir={}", dir.display());

    let admin_phone = random_phone(&mut rng);
    let env: Vec<(String, String)> = [
        ("APP_ENV", "test".to_owned()),
        ("MONGODB_URI", harness::mongodb_uri()),
        ("DB_NAME", db_name.clone()),
        (
            "JWT_SECRET",
            format!("crash-recovery-secret-{seed}-0123456789abcdef"),
        ),
        ("JWT_ACCESS_EXPIRY", "2h".into()),
        ("ADMIN_PHONE_NUMBERS", admin_phone.clone()),
        ("SMS_PROVIDER", "outbox".into()),
        ("PAYMENT_PROVIDER", "sandbox".into()),
        ("OTP_RESEND_INTERVAL", "0s".into()),
        ("RATE_LIMIT_AUTH_IP", "100000/1m".into()),
        ("RATE_LIMIT_AUTH_PHONE", "100000/1m".into()),
        ("RATE_LIMIT_MONEY_USER", "100000/1m".into()),
        (
            "RECOVERY_INTERVAL",
            std::env::var("CRASH_RECOVERY_INTERVAL").unwrap_or_else(|_| "1s".into()),
        ),
        ("RECOVERY_AFTER", "2s".into()),
        ("PLATFORM_FEE_BPS", FEE_BPS.to_string()),
        ("SETTLEMENT_POLICY", "STANDARD".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();

    let events = Events::new();
    let _events_file = events.file_guard(dir.join("events.log"));
    let mut server = Server::new(
        env!("CARGO_BIN_EXE_oddxer-backend"),
        env,
        dir.clone(),
        events.clone(),
    );
    let port = server.start().await;
    let api = Api::new(port, events.clone());

    // Setup, without kills: an admin, sellers with codes, funded buyers.
    let admin = sign_up(&api, &admin_phone, None).await;
    let mut sellers = Vec::new();
    for _ in 0..SELLERS {
        sellers.push(sign_up(&api, &random_phone(&mut rng), Some("SELLER")).await);
    }
    let mut buyers = Vec::new();
    for _ in 0..BUYERS {
        buyers.push(sign_up(&api, &random_phone(&mut rng), Some("BUYER")).await);
    }
    let mut claims = Claims::default();
    for (b, user) in buyers.iter().enumerate() {
        let amount = 300_000;
        let body =
            json!({ "amount": amount, "paymentMethod": "MTN_MOMO", "phoneNumber": user.phone });
        let r = api
            .post(
                "/wallet/deposits",
                Some(&user.token),
                &body,
                Some(&format!("setup-{b}")),
            )
            .await;
        assert_eq!(r.status, 202, "setup deposit: {}", r.body);
        let reference = r.data()["reference"]
            .as_str()
            .expect("reference")
            .to_owned();
        let done = api
            .post(
                &format!("/dev/payments/{reference}/complete"),
                None,
                &json!({}),
                None,
            )
            .await;
        assert_eq!(
            done.data()["status"],
            "COMPLETED",
            "setup deposit: {}",
            done.body
        );
        let id = r.data()["id"].as_str().expect("deposit id").to_owned();
        claims.deposits.push(DepositClaim {
            op: usize::MAX,
            buyer: b,
            id,
            amount,
            asked: Asked::Complete,
            status: "COMPLETED".into(),
        });
    }
    let mut codes = Vec::new();
    let later = OffsetDateTime::now_utc() + time::Duration::hours(6);
    let soon = OffsetDateTime::now_utc() + time::Duration::seconds(25);
    // Per seller: 16 open to every buyer, 10 exclusive, 6 for three buyers, 2 that expire during the run.
    let kinds: [(usize, i64, bool); 4] =
        [(16, 10, false), (10, 1, false), (6, 3, false), (2, 5, true)];
    for (s, seller) in sellers.iter().enumerate() {
        for &(n, max_buyers, short) in &kinds {
            for _ in 0..n {
                // Odd prices too, so fee rounding is exercised.
                let price = rng.gen_range(500..=3_000i64);
                let expires_at = if short { soon } else { later };
                let id =
                    create_code(&api, seller, codes.len(), price, max_buyers, expires_at).await;
                codes.push(CodeInfo {
                    id,
                    seller: s,
                    price,
                    max_buyers,
                    short,
                    expires_at,
                });
            }
        }
    }
    let setup_time = started.elapsed();
    events.log(format!(
        "SETUP done: {} codes, {} buyers, {} sellers",
        codes.len(),
        buyers.len(),
        sellers.len()
    ));
    println!("crash_recovery: setup took {setup_time:?}");

    let world = Arc::new(World {
        seed,
        api: api.clone(),
        events: events.clone(),
        admin,
        buyers,
        market: Mutex::new(Market {
            codes,
            ..Default::default()
        }),
        claims: Mutex::new(claims),
    });

    // The killer: SIGKILL at a random moment, restart on the same port, again; now and then while the
    // server is still starting (its startup recovery pass included).
    let server = Arc::new(tokio::sync::Mutex::new(server));
    let stop = Arc::new(AtomicBool::new(false));
    let kills = Arc::new(AtomicU64::new(0));
    // Two brakes keep a slow or loaded machine from livelocking the run (every life of the server cut
    // short before anything finishes): a server is not killed before it answered a random number of
    // calls (1 to the number of clients) since it came up, nor while a call has been waiting for an
    // answer longer than STARVING. The kill then lands wherever the other calls happen to be.
    const STARVING: Duration = Duration::from_secs(20);
    let killer = {
        let (server, stop, kills, events, stats) = (
            server.clone(),
            stop.clone(),
            kills.clone(),
            events.clone(),
            api.stats.clone(),
        );
        tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed ^ 0x6b69_6c6c_6572);
            let Some((min_ms, max_ms)) = kill_range else {
                return;
            };
            while !stop.load(Ordering::SeqCst) {
                let answers_at_start = stats.answers.load(Ordering::SeqCst);
                let answers_wanted = rng.gen_range(1..=clients as u64);
                let delay = Duration::from_millis(rng.gen_range(min_ms..=max_ms));
                let until = Instant::now() + delay;
                let mut braked = false;
                while !stop.load(Ordering::SeqCst) {
                    let due = Instant::now() >= until;
                    let answered =
                        stats.answers.load(Ordering::SeqCst) >= answers_at_start + answers_wanted;
                    let starving = stats.oldest_call() > STARVING;
                    if due && answered && !starving {
                        break;
                    }
                    if due && starving && !braked {
                        braked = true;
                        events.log("KILL held back: a call has waited for an answer too long");
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let mut s = server.lock().await;
                s.kill().await;
                let n = kills.fetch_add(1, Ordering::SeqCst) + 1;
                events.log(format!(
                    "KILL #{n} after {} ms up, {} answers",
                    (Instant::now() - until + delay).as_millis(),
                    stats.answers.load(Ordering::SeqCst) - answers_at_start
                ));
                if rng.gen_bool(0.1) {
                    s.spawn();
                    tokio::time::sleep(Duration::from_millis(rng.gen_range(0..400))).await;
                    s.kill().await;
                    let n = kills.fetch_add(1, Ordering::SeqCst) + 1;
                    events.log(format!("KILL #{n} while starting"));
                }
                s.start().await;
            }
        })
    };

    let next_op = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (world, next_op, kills) = (world.clone(), next_op.clone(), kills.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let op = next_op.fetch_add(1, Ordering::SeqCst);
                if op >= target_ops {
                    break;
                }
                if op % 100 == 0 && op > 0 {
                    println!(
                        "crash_recovery: op {op} at {:.0?}, {} kills so far",
                        world.events.elapsed(),
                        kills.load(Ordering::SeqCst)
                    );
                }
                run_op(&world, op).await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("client task");
    }
    let ops_time = started.elapsed() - setup_time;
    stop.store(true, Ordering::SeqCst);
    killer.await.expect("killer task");
    // Short codes that expired with nobody resolving them under fire get their WON/LOST now (once
    // their games have started: wait for the clock, not for the server).
    while OffsetDateTime::now_utc() < soon + time::Duration::seconds(2) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut op = target_ops;
    loop {
        let mut rng = StdRng::seed_from_u64(seed ^ op as u64);
        let pending_short = {
            let m = lock(&world.market);
            m.codes
                .iter()
                .enumerate()
                .any(|(c, code)| code.short && !m.resolve_tried.contains(&c))
        };
        if !pending_short || !resolve(&world, op, &mut rng, true).await {
            break;
        }
        op += 1;
    }

    // The end: one more crash and restart, then let recovery finish.
    {
        let mut s = server.lock().await;
        s.kill().await;
        kills.fetch_add(1, Ordering::SeqCst);
        events.log("FINAL KILL");
        s.start().await;
    }
    let kills = kills.load(Ordering::SeqCst);
    let settle_started = Instant::now();
    let deadline = settle_started + Duration::from_secs(60);
    let mut polls = 0;
    loop {
        polls += 1;
        let rec = api.get("/admin/reconcile", Some(&world.admin.token)).await;
        events.log(format!(
            "RECONCILE: inFlight {} ok {}",
            rec.data()["inFlight"],
            rec.data()["ok"]
        ));
        if rec.data()["inFlight"] == 0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let (problems, report) = loop {
        let checked = Instant::now();
        let (problems, report) = verify(&world, &sellers).await;
        events.log(format!(
            "VERIFY: {} problems (checked in {} ms)",
            problems.len(),
            checked.elapsed().as_millis()
        ));
        if problems.is_empty() || Instant::now() > deadline {
            break (problems, report);
        }
        // Not yet: recovery may still be settling (a purchase completed after its code's resolution).
        for p in problems.iter().take(3) {
            events.log(format!("VERIFY (will look again): {p}"));
        }
        polls += 1;
        tokio::time::sleep(Duration::from_millis(1000)).await;
    };
    let settle_time = settle_started.elapsed();

    events.write_to(&dir.join("events.log"));
    let stats = &api.stats;
    // A scope, not `drop`: the std mutex guard must end before the awaits below.
    {
        let claims = lock(&world.claims);
        println!("crash_recovery: answers {:?}", claims.outcomes);
        println!(
        "crash_recovery: claimed {} deposits ({} completed), {} withdrawals ({} reversed), {} purchases, {} resolutions",
        claims.deposits.len(),
        claims.deposits.iter().filter(|d| d.status == "COMPLETED").count(),
        claims.withdrawals.len(),
        claims.withdrawals.iter().filter(|x| x.status == "REVERSED").count(),
        claims.purchases.len(),
        claims.resolutions.len(),
    );
        for (kind, ms) in &claims.latency {
            let mut ms = ms.clone();
            ms.sort_unstable();
            let at = |q: f64| {
                ms.get(((ms.len() as f64 - 1.0) * q) as usize)
                    .copied()
                    .unwrap_or(0)
            };
            println!(
                "crash_recovery: {kind} answered in p50 {} ms, p95 {} ms, max {} ms ({} answers)",
                at(0.5),
                at(0.95),
                at(1.0),
                ms.len()
            );
        }
        println!(
        "crash_recovery: {} purchases abandoned by their client and bought again with a new key that did not answer 200 ({} told ALREADY_BOUGHT)",
        claims.abandoned.len(),
        claims.abandoned.iter().filter(|a| a.3).count()
    );
        println!("crash_recovery: reconcile {report}");
        for a in &claims.anomalies {
            println!("crash_recovery: anomaly: {a}");
        }
    }
    println!(
        "crash_recovery: SUMMARY seed={seed} ops={} kills={kills} starts={} transport_errors={} retried_calls={} http_5xx={} setup={:.1}s ops_time={:.1}s recovery_wait={:.1}s ({polls} polls) total={:.1}s problems={}",
        op,
        server.lock().await.starts,
        stats.transport_errors.load(Ordering::Relaxed),
        stats.retried_calls.load(Ordering::Relaxed),
        stats.server_errors.load(Ordering::Relaxed),
        setup_time.as_secs_f64(),
        ops_time.as_secs_f64(),
        settle_time.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        problems.len(),
    );
    if !problems.is_empty() {
        let mut context = Vec::new();
        for p in problems.iter().take(5) {
            // The operation sequence around the first transfer id or op number a problem names.
            if let Some(token) = p
                .split(|c: char| !c.is_ascii_alphanumeric() && c != '#')
                .find(|t| t.len() == 24 || t.starts_with("op#"))
            {
                context.extend(events.around(token, 6, 6, 3));
            }
        }
        server.lock().await.kill().await;
        panic!(
            "crash recovery failed (seed {seed}, replay with CRASH_SEED={seed}); {} problems:\n{}\n\nevents around them:\n{}\n\nserver log: {}\nevent log: {}",
            problems.len(),
            problems.join("\n"),
            context.join("\n"),
            dir.join("server.log").display(),
            dir.join("events.log").display(),
        );
    }
    server.lock().await.kill().await;
    if std::env::var_os("CRASH_KEEP").is_some() {
        return;
    }
    // A passing run leaves nothing behind (CRASH_KEEP=1 keeps the database and the logs).
    if let Ok(client) = mongodb::Client::with_uri_str(harness::mongodb_uri()).await {
        let _ = client.database(&db_name).drop().await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}
