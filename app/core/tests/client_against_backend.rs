//! The client engine against the real backend binary: sign-in, live sync of a deposit, offline
//! reading after the backend dies, and a self-driven reconnect that resumes from the cursor; then
//! the marketplace: a seller lists a code, a buyer buys it, the purchase (with its secret code)
//! reaches SQLite through the purchases stream and stays readable offline after a restart, a vote
//! cast offline waits in the outbox and is delivered when the backend is back, and the seller is
//! paid at finalization.
//!
//! Needs the backend binary (`ODDXER_BACKEND_BIN`, else `$CARGO_TARGET_DIR/debug/oddxer-backend`,
//! else the workspace `target/debug/oddxer-backend`; `cargo build -p oddxer-backend` makes it) and a
//! MongoDB-compatible database at `MONGODB_URI` (default `mongodb://127.0.0.1:27117`). Every run
//! uses a fresh `DB_NAME`.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use oddxer_client::{
    ClientConfig, ClientError, FallbackSecretStore, FileSecretStore, OddxerClient, SecretStore,
    Store,
};
use oddxer_shared::api::{CodeIn, Settlement, SmsOut, TransactionOut, UserOut, UserPatch};
use oddxer_shared::client::{
    AdminUsersIn, AppSnapshot, BrowseIn, ConnectionState, LeaderboardIn, OutboxState,
};
use oddxer_shared::{CodeStatus, Outcome, PaymentMethod, Role, Sport, TransactionStatus, VoteType};
use rand::distributions::Alphanumeric;
use rand::Rng;
use tokio::process::{Child, Command};

/// Generous: a debug backend on a 2-core CI machine, FerretDB underneath, and a reconnect
/// backoff capped at 10 s.
const PATIENCE: Duration = Duration::from_secs(45);

// ---- the backend process -----------------------------------------------------------------------

/// Settings shared by every start of the backend in one test: same database, same secret.
struct BackendEnv {
    dir: TempDir,
    mongodb_uri: String,
    db_name: String,
    jwt_secret: String,
    extra: Vec<(&'static str, &'static str)>,
}

struct Backend {
    child: Child,
    port: u16,
    log: PathBuf,
    http: reqwest::Client,
}

impl BackendEnv {
    fn fresh() -> Self {
        let mut rng = rand::thread_rng();
        let tag: String = (&mut rng)
            .sample_iter(&Alphanumeric)
            .take(10)
            .map(char::from)
            .collect();
        BackendEnv {
            dir: TempDir::new("it"),
            mongodb_uri: std::env::var("MONGODB_URI")
                .unwrap_or_else(|_| "mongodb://127.0.0.1:27117".into()),
            db_name: format!("oddxer_client_it_{}", tag.to_lowercase()),
            jwt_secret: (&mut rng)
                .sample_iter(&Alphanumeric)
                .take(48)
                .map(char::from)
                .collect(),
            extra: Vec::new(),
        }
    }

    fn with(mut self, key: &'static str, value: &'static str) -> Self {
        self.extra.push((key, value));
        self
    }

    /// Starts the backend on `port` (0 = any) and waits until `/health` answers.
    async fn start_backend(&self, port: u16) -> Backend {
        let bin = backend_binary();
        let started = std::fs::read_dir(self.dir.path())
            .map(|d| d.count())
            .unwrap_or(0);
        let port_file = self.dir.path().join(format!("port-{started}"));
        let log = self.dir.path().join(format!("backend-{started}.log"));
        let log_file = std::fs::File::create(&log).unwrap();
        let child = Command::new(&bin)
            // A directory without a `.env`, so only what is set here applies.
            .current_dir(self.dir.path())
            .env("PORT", port.to_string())
            .env("PORT_FILE", &port_file)
            .env("MONGODB_URI", &self.mongodb_uri)
            .env("DB_NAME", &self.db_name)
            .env("JWT_SECRET", &self.jwt_secret)
            .env("SMS_PROVIDER", "outbox")
            .env("PAYMENT_PROVIDER", "sandbox")
            .env("APP_ENV", "test")
            .env("SEED_DEMO", "false")
            .env("RUST_LOG", "info")
            .envs(self.extra.iter().copied())
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the backend at {}: {e}", bin.display()));
        let mut backend = Backend {
            child,
            port: 0,
            log,
            http: reqwest::Client::new(),
        };
        backend.port = backend.wait_for_port_file(&port_file).await;
        backend.wait_until_healthy().await;
        backend
    }
}

impl Backend {
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<_> = text.lines().rev().take(30).collect();
        lines.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    async fn wait_for_port_file(&mut self, path: &Path) -> u16 {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the backend exited ({status}) before listening. Is a database running at MONGODB_URI?\n{}",
                    self.log_tail()
                );
            }
            // The file may be caught half-written: only a whole number counts.
            if let Some(port) = std::fs::read_to_string(path)
                .ok()
                .and_then(|s| s.trim().parse().ok())
            {
                return port;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the backend never wrote PORT_FILE\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn wait_until_healthy(&self) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let r = self
                .http
                .get(format!("{}/api/v1/health", self.url()))
                .send()
                .await;
            if r.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the backend never became healthy\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The OTP of the newest SMS sent to `phone` (the only 6-digit run in its body).
    async fn otp_sent_to(&self, phone: &str) -> String {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let sms: Vec<SmsOut> = self
                .get_data(&format!(
                    "/api/v1/dev/sms?phoneNumber={}",
                    phone.replace('+', "%2B")
                ))
                .await;
            if let Some(otp) = sms.first().and_then(|m| six_digit_run(&m.body)) {
                return otp;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no OTP SMS for {phone}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Plays the mobile-money provider confirming the payment.
    async fn complete_payment(&self, reference: &str) -> TransactionOut {
        self.settle_payment(reference, "complete").await
    }

    /// The sandbox provider reports the payment declined on the phone.
    async fn fail_payment(&self, reference: &str) -> TransactionOut {
        self.settle_payment(reference, "fail").await
    }

    async fn settle_payment(&self, reference: &str, how: &str) -> TransactionOut {
        let url = format!("{}/api/v1/dev/payments/{reference}/{how}", self.url());
        let resp = self.http.post(url).send().await.unwrap();
        let status = resp.status();
        let body: serde_json::Value = resp.json().await.unwrap();
        assert!(
            status.is_success(),
            "completing {reference}: {status} {body}"
        );
        serde_json::from_value(body["data"].clone()).unwrap()
    }

    async fn get_data<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let resp = self
            .http
            .get(format!("{}{path}", self.url()))
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body: serde_json::Value = resp.json().await.unwrap();
        assert!(status.is_success(), "GET {path}: {status} {body}");
        serde_json::from_value(body["data"].clone()).unwrap()
    }

    /// Kills the process outright (no graceful shutdown): the client sees the socket die.
    async fn kill(mut self) {
        self.child.kill().await.unwrap();
    }
}

fn backend_binary() -> PathBuf {
    if let Ok(p) = std::env::var("ODDXER_BACKEND_BIN") {
        return PathBuf::from(p);
    }
    // `$CARGO_TARGET_DIR/debug`, else the folder this test binary was built into
    // (`<target>/debug/deps/..`), which is where `cargo build -p oddxer-backend` puts the backend.
    let dir = std::env::var("CARGO_TARGET_DIR")
        .map(|t| PathBuf::from(t).join("debug"))
        .ok()
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            Some(exe.parent()?.parent()?.to_owned())
        })
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/debug"));
    let bin = dir.join("oddxer-backend");
    assert!(
        bin.exists(),
        "no backend binary at {}: run `cargo build -p oddxer-backend` (or set ODDXER_BACKEND_BIN)",
        bin.display()
    );
    bin
}

fn six_digit_run(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() == 6)
        .map(str::to_owned)
}

// ---- the client side ---------------------------------------------------------------------------

struct Device {
    data_dir: TempDir,
    secrets: Arc<FileSecretStore>,
}

impl Device {
    fn new() -> Self {
        let data_dir = TempDir::new("device");
        let secrets = Arc::new(FileSecretStore::new(data_dir.path()));
        Device { data_dir, secrets }
    }

    async fn open_client(&self, api_url: &str) -> OddxerClient {
        OddxerClient::open(ClientConfig {
            api_url: api_url.to_owned(),
            data_dir: self.data_dir.path().to_owned(),
            secrets: self.secrets.clone(),
        })
        .await
        .unwrap()
    }

    /// The database file read directly, as a check independent of the client.
    fn store(&self) -> Store {
        Store::open(&self.data_dir.path().join(oddxer_client::DB_FILE)).unwrap()
    }
}

/// Waits until the snapshot satisfies `want`, woken by the client's change events (and a slow
/// tick, in case an event was missed). Returns that snapshot.
async fn eventually(
    client: &OddxerClient,
    what: &str,
    want: impl Fn(&AppSnapshot) -> bool,
) -> AppSnapshot {
    let mut events = client.subscribe();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let snap = client.snapshot().unwrap();
        if want(&snap) {
            return snap;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}\nlast snapshot: {snap:#?}"
        );
        let _ = tokio::time::timeout(Duration::from_millis(250), events.recv()).await;
    }
}

async fn connection_becomes(client: &OddxerClient, state: ConnectionState) -> AppSnapshot {
    eventually(client, &format!("connection {state:?}"), |s| {
        s.connection == state
    })
    .await
}

fn balance(s: &AppSnapshot) -> Option<i64> {
    s.wallet.as_ref().map(|w| w.balance.amount)
}

fn seqs(s: &AppSnapshot) -> Vec<i64> {
    s.ledger.iter().map(|e| e.seq).collect()
}

fn random_phone() -> String {
    format!(
        // 70x xxx xxx: a valid Ugandan mobile number (the backend refuses invalid ones).
        "+25670{:07}",
        rand::thread_rng().gen_range(0..10_000_000u32)
    )
}

/// Register, read the OTP the backend "texted", verify it through the client.
async fn sign_up_and_in(
    client: &OddxerClient,
    backend: &Backend,
    phone: &str,
    username: &str,
) -> UserOut {
    client.register(phone, username, None).await.unwrap();
    let otp = backend.otp_sent_to(phone).await;
    client.verify_otp(phone, &otp).await.unwrap()
}

// ---- the test ----------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deposit_syncs_live_survives_a_backend_outage_and_is_never_duplicated() {
    let env = BackendEnv::fresh();
    let backend = env.start_backend(0).await;
    let port = backend.port;
    let device = Device::new();
    let client = device.open_client(&backend.url()).await;
    let phone = random_phone();

    let user = sign_up_and_in(&client, &backend, &phone, "it_buyer").await;
    assert_eq!(user.phone_number, phone);
    assert!(
        device.secrets.load().unwrap().is_some(),
        "the refresh token is kept"
    );
    connection_becomes(&client, ConnectionState::Online).await;

    // A deposit completed by the provider arrives by itself through the sync socket.
    let deposit = client
        .deposit(50_000, PaymentMethod::MtnMomo, &phone)
        .await
        .unwrap();
    assert_eq!(deposit.status, TransactionStatus::Pending);
    backend.complete_payment(&deposit.reference).await;
    let snap = eventually(&client, "the deposit in the local ledger", |s| {
        balance(s) == Some(50_000) && s.ledger.len() == 1
    })
    .await;
    assert_eq!(seqs(&snap), vec![1]);
    assert_eq!(snap.ledger[0].amount.amount, 50_000);
    assert_eq!(device.store().cursor("wallet").unwrap(), 1);

    // The backend dies: the client says so.
    backend.kill().await;
    connection_becomes(&client, ConnectionState::Offline).await;

    // The app is closed and opened again while the backend is still down: everything is read
    // from the device.
    client.shutdown().await;
    drop(client);
    let client = device
        .open_client(&format!("http://127.0.0.1:{port}"))
        .await;
    let offline = client.snapshot().unwrap();
    assert_eq!(
        offline.user.as_ref().map(|u| u.id.clone()),
        Some(user.id.clone())
    );
    assert_eq!(balance(&offline), Some(50_000));
    assert_eq!(seqs(&offline), vec![1]);
    let resumed = client.resume().await.unwrap();
    assert_eq!(
        resumed.map(|u| u.id),
        Some(user.id.clone()),
        "offline resume serves the cached user"
    );
    assert_eq!(
        client.snapshot().unwrap().connection,
        ConnectionState::Offline
    );

    // The backend comes back on the same address and database: the client reconnects on its
    // own and resumes from its cursor.
    let backend = env.start_backend(port).await;
    connection_becomes(&client, ConnectionState::Online).await;
    assert_eq!(seqs(&client.snapshot().unwrap()), vec![1]);

    // A second deposit lands once; nothing is duplicated by the resume.
    let second = client
        .deposit(20_000, PaymentMethod::AirtelMoney, &phone)
        .await
        .unwrap();
    assert_ne!(second.reference, deposit.reference);
    backend.complete_payment(&second.reference).await;
    let snap = eventually(&client, "the second deposit", |s| {
        balance(s) == Some(70_000) && s.ledger.len() == 2
    })
    .await;
    assert_eq!(seqs(&snap), vec![2, 1]);
    let mut ids: Vec<_> = snap.ledger.iter().map(|e| e.id.clone()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 2);
    let store = device.store();
    assert_eq!(store.ledger_len().unwrap(), 2);
    assert_eq!(store.cursor("wallet").unwrap(), 2);

    // The wallet answer of the server agrees with what sync built.
    client.refresh_wallet().await.unwrap();
    let wallet = client.snapshot().unwrap().wallet.unwrap();
    assert_eq!((wallet.balance.amount, wallet.seq), (70_000, 2));

    client.shutdown().await;
    backend.kill().await;
}

/// Access tokens live 1 s here (plus the backend's 5 s clock leeway): long enough to sign in.
const SHORT_ACCESS_TOKEN: &str = "1s";
/// Waiting this long makes the current access token stale. Setup, not an assertion.
const TOKEN_GOES_STALE: Duration = Duration::from_secs(8);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_access_token_is_refreshed_for_calls_and_for_the_sync_socket() {
    let env = BackendEnv::fresh().with("JWT_ACCESS_EXPIRY", SHORT_ACCESS_TOKEN);
    let backend = env.start_backend(0).await;
    let port = backend.port;
    let device = Device::new();
    let client = device.open_client(&backend.url()).await;
    let phone = random_phone();
    let user = sign_up_and_in(&client, &backend, &phone, "it_refresher").await;
    connection_becomes(&client, ConnectionState::Online).await;
    let first_refresh_token = device.secrets.load().unwrap();

    // An API call with a stale token: 401, one refresh, the call succeeds.
    tokio::time::sleep(TOKEN_GOES_STALE).await;
    client.refresh_wallet().await.unwrap();
    let second_refresh_token = device.secrets.load().unwrap();
    assert_ne!(
        second_refresh_token, first_refresh_token,
        "the refresh token was rotated and stored"
    );

    // The socket reconnects with a stale token: the upgrade is refused, the client refreshes
    // and comes back online by itself.
    backend.kill().await;
    connection_becomes(&client, ConnectionState::Offline).await;
    tokio::time::sleep(TOKEN_GOES_STALE).await;
    let backend = env.start_backend(port).await;
    connection_becomes(&client, ConnectionState::Online).await;
    assert_ne!(device.secrets.load().unwrap(), second_refresh_token);

    // The next app start resumes the stored session online.
    client.shutdown().await;
    drop(client);
    let client = device.open_client(&backend.url()).await;
    assert_eq!(client.resume().await.unwrap().map(|u| u.id), Some(user.id));
    connection_becomes(&client, ConnectionState::Online).await;

    // Sign-out forgets the session and the user's data on this device.
    client.sign_out().await.unwrap();
    let snap = client.snapshot().unwrap();
    assert_eq!(
        (snap.user, snap.wallet, snap.connection),
        (None, None, ConnectionState::Idle)
    );
    assert_eq!(device.secrets.load().unwrap(), None);
    assert_eq!(client.resume().await.unwrap(), None);

    backend.kill().await;
}

/// How far ahead the listed code's games start. The purchase has to happen before that and the
/// vote after; the backend cannot move its clock, so the test waits for it. Setup, not an assertion.
const EXPIRY_LEAD: Duration = Duration::from_secs(15);

fn rfc3339_in(d: Duration) -> String {
    (time::OffsetDateTime::now_utc() + d)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bought_code_is_readable_offline_and_an_offline_vote_is_delivered_on_reconnect() {
    let admin_phone: &'static str = Box::leak(random_phone().into_boxed_str());
    let env = BackendEnv::fresh().with("ADMIN_PHONE_NUMBERS", admin_phone);
    let backend = env.start_backend(0).await;
    let port = backend.port;

    // A seller (who starts as a buyer) lists a code.
    let seller_device = Device::new();
    let seller = seller_device.open_client(&backend.url()).await;
    sign_up_and_in(&seller, &backend, &random_phone(), "it_tipster").await;
    assert_eq!(seller.become_seller().await.unwrap().role, Role::Seller);
    assert_eq!(
        seller.snapshot().unwrap().user.map(|u| u.role),
        Some(Role::Seller),
        "the cached user follows"
    );
    let options = seller.code_options().await.unwrap();
    let price = options.min_price.amount.max(5_000);
    let expires_at = rfc3339_in(EXPIRY_LEAD);
    let listed = seller
        .create_code(&CodeIn {
            sport: Sport::Football,
            title: "Weekend double".into(),
            description: "Two home wins".into(),
            odds: 2.5,
            bookmaker: options.bookmakers[0].clone(),
            price,
            code: "BOOK-SECRET-42".into(),
            expires_at: expires_at.clone(),
            max_buyers: None,
        })
        .await
        .unwrap();
    assert_eq!(listed.code.as_deref(), Some("BOOK-SECRET-42"));
    let mine = seller.seller_codes(None).await.unwrap();
    assert!(mine.items.iter().any(|c| c.id == listed.id));

    // A funded buyer finds it in the marketplace (without the secret) and buys it.
    let buyer_device = Device::new();
    let buyer = buyer_device.open_client(&backend.url()).await;
    let buyer_phone = random_phone();
    sign_up_and_in(&buyer, &backend, &buyer_phone, "it_bettor").await;
    connection_becomes(&buyer, ConnectionState::Online).await;
    let deposit = buyer
        .deposit(50_000, PaymentMethod::MtnMomo, &buyer_phone)
        .await
        .unwrap();
    backend.complete_payment(&deposit.reference).await;
    eventually(&buyer, "the deposit", |s| balance(s) == Some(50_000)).await;
    let market = buyer
        .browse_codes(&BrowseIn {
            sport: Some(Sport::Football),
            ..BrowseIn::default()
        })
        .await
        .unwrap();
    assert!(!market.from_cache);
    let found = market.items.iter().find(|c| c.id == listed.id).unwrap();
    assert_eq!(found.code, None, "lists never carry the secret");

    let bought = buyer.purchase_code(&listed.id).await.unwrap();
    assert_eq!(bought.code, "BOOK-SECRET-42");
    assert_eq!(bought.wallet.balance.amount, 50_000 - price);

    // The purchase reaches SQLite through the purchases stream, secret included.
    let snap = eventually(&buyer, "the purchase through the stream", |s| {
        s.purchases.len() == 1 && balance(s) == Some(50_000 - price)
    })
    .await;
    assert_eq!(
        snap.purchases[0].code.code.as_deref(),
        Some("BOOK-SECRET-42")
    );
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while buyer_device.store().cursor("purchases").unwrap() < 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no purchases stream row"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Wait for the games to start (voting opens at expiresAt).
    let opens =
        time::OffsetDateTime::parse(&expires_at, &time::format_description::well_known::Rfc3339)
            .unwrap();
    let wait = (opens - time::OffsetDateTime::now_utc())
        .whole_milliseconds()
        .max(0) as u64
        + 1_000;
    tokio::time::sleep(Duration::from_millis(wait)).await;

    // The backend dies. Buying is refused offline; the vote is queued.
    backend.kill().await;
    connection_becomes(&buyer, ConnectionState::Offline).await;
    let refused = buyer.purchase_code(&listed.id).await.unwrap_err();
    assert_eq!(refused.code(), "OFFLINE");
    let vote = buyer.cast_vote(&listed.id, VoteType::Win).await.unwrap();
    assert!(vote.queued && vote.vote.is_none());

    // The app restarts while the backend is still down: everything is read from the device.
    buyer.shutdown().await;
    drop(buyer);
    let buyer = buyer_device
        .open_client(&format!("http://127.0.0.1:{port}"))
        .await;
    let offline = buyer.snapshot().unwrap();
    assert_eq!(offline.purchases.len(), 1);
    assert_eq!(
        offline.purchases[0].code.code.as_deref(),
        Some("BOOK-SECRET-42")
    );
    assert_eq!(buyer.my_purchases().unwrap(), offline.purchases);
    assert_eq!(offline.outbox.len(), 1);
    assert_eq!(offline.outbox[0].state, OutboxState::Pending);
    assert!(buyer.resume().await.unwrap().is_some());
    let cached = buyer
        .browse_codes(&BrowseIn {
            sport: Some(Sport::Football),
            ..BrowseIn::default()
        })
        .await
        .unwrap();
    assert!(cached.from_cache);
    // Its only place sold (`code:updated`, SOLD_OUT): the kept ACTIVE page dropped it, as the
    // server's listing does; the code itself is read from My codes below.
    assert!(
        !cached.items.iter().any(|c| c.id == listed.id),
        "{:?}",
        cached.items
    );
    let detail = buyer.code_detail(&listed.id).await.unwrap();
    assert_eq!(
        detail.code.as_deref(),
        Some("BOOK-SECRET-42"),
        "offline detail of a bought code"
    );

    // The backend comes back: the client reconnects by itself and delivers the vote. It was the
    // only buyer's vote, so the code is decided WON and the seller is paid.
    let backend = env.start_backend(port).await;
    connection_becomes(&buyer, ConnectionState::Online).await;
    eventually(&buyer, "the queued vote delivered", |s| s.outbox.is_empty()).await;
    let detail = buyer.code_detail(&listed.id).await.unwrap();
    assert_eq!(detail.my_vote, Some(VoteType::Win));
    assert_eq!(detail.win_votes, 1);
    let settled = eventually(&buyer, "the settled purchase through the stream", |s| {
        s.purchases
            .first()
            .is_some_and(|p| p.settlement == Some(Settlement::PaidOut))
    })
    .await;
    assert_eq!(
        settled.purchases.len(),
        1,
        "one purchase, at its latest version"
    );
    assert_eq!(settled.purchases[0].code.my_vote, Some(VoteType::Win));
    let fee = price * 1_000 / 10_000;
    eventually(&seller, "the seller paid at finalization", |s| {
        balance(s) == Some(price - fee)
    })
    .await;
    let sales = seller.seller_sales(None).await.unwrap();
    assert_eq!(sales.total_sales, 1);
    let board = buyer.leaderboard(&LeaderboardIn::default()).await.unwrap();
    assert!(board.items.iter().any(|e| e.username == "it_tipster"));

    // An admin sees the users, the decision, and books that balance.
    let admin_device = Device::new();
    let admin = admin_device.open_client(&backend.url()).await;
    sign_up_and_in(&admin, &backend, admin_phone, "it_admin").await;
    let sellers = admin
        .admin_users(&AdminUsersIn {
            role: Some(Role::Seller),
            ..AdminUsersIn::default()
        })
        .await
        .unwrap();
    let seller_row = sellers
        .items
        .iter()
        .find(|u| u.username == "it_tipster")
        .unwrap();
    let resolution = admin
        .admin_resolve(&listed.id, Outcome::Won, Some("checked at the bookmaker"))
        .await
        .unwrap();
    assert_eq!(
        resolution.outcome,
        Outcome::Won,
        "already decided the same way"
    );
    assert_eq!(
        buyer.code_detail(&listed.id).await.unwrap().status,
        CodeStatus::Won
    );
    let report = admin.admin_reconcile().await.unwrap();
    assert!(report.ok, "reconcile: {:?}", report.violations);
    let patched = admin
        .admin_update_user(
            &seller_row.id,
            &UserPatch {
                role: None,
                is_active: Some(false),
                reason: Some("e2e: deactivation test".into()),
            },
        )
        .await
        .unwrap();
    assert!(!patched.is_active);

    for c in [&buyer, &seller, &admin] {
        c.shutdown().await;
    }
    backend.kill().await;
}

// ---- reconnect storm ---------------------------------------------------------------------------

/// Clients in the storm test: a few hundred, fewer when the open-files limit is low (each client
/// holds a SQLite file with its WAL, a sync socket and an HTTP connection or two).
fn storm_clients() -> usize {
    let limit: usize = std::fs::read_to_string("/proc/self/limits")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1024);
    ((limit.saturating_sub(300)) / 8).clamp(50, 200)
}

/// Runs `f(i)` for every `i` in `0..n`, `parallel` at a time.
async fn for_each_parallel<F, Fut>(n: usize, parallel: usize, f: F)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let f = Arc::new(f);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..parallel {
        let (f, next) = (f.clone(), next.clone());
        set.spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    break;
                }
                f(i).await;
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
}

/// The backend's `oddxer_ws_connections` gauge (open authenticated sockets).
async fn open_sockets(backend: &Backend) -> Option<f64> {
    let text = backend
        .http
        .get(format!("{}/api/v1/metrics", backend.url()))
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

async fn open_sockets_become(backend: &Backend, want: usize) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let now = open_sockets(backend).await;
        if now == Some(want as f64) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server counts {now:?} open sockets, not {want}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A few hundred clients online; the backend dies and comes back on the same port while every
/// client has a deposit being confirmed, so the confirmations race the reconnects (some entries
/// arrive by catch-up, some live). Every client must end exact: positions 1 and 2 once each, the
/// balance the server holds, the cursor at 2; and the server counts exactly one open socket per
/// client again. Not timed: how long the storm takes is the `sync` bench's business.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_storm_of_hundreds_of_clients_ends_exact_with_one_socket_each() {
    let n = storm_clients();
    let env = BackendEnv::fresh()
        .with("RATE_LIMIT_AUTH_IP", "100000000/1m")
        .with("RATE_LIMIT_AUTH_PHONE", "100000000/1m")
        .with("RATE_LIMIT_MONEY_USER", "100000000/1m")
        .with("OTP_RESEND_INTERVAL", "0s")
        .with("RUST_LOG", "warn");
    let backend = Arc::new(env.start_backend(0).await);
    let port = backend.port;
    let url = backend.url();

    let mut phones = Vec::new();
    let mut devices = Vec::new();
    let mut clients = Vec::new();
    for _ in 0..n {
        let device = Device::new();
        clients.push(device.open_client(&url).await);
        devices.push(device);
        phones.push(random_phone());
    }
    let (clients, phones) = (Arc::new(clients), Arc::new(phones));

    // Everyone signs in and receives a first deposit.
    {
        let (clients, phones, backend) = (clients.clone(), phones.clone(), backend.clone());
        for_each_parallel(n, 16, move |i| {
            let (clients, phones, backend) = (clients.clone(), phones.clone(), backend.clone());
            async move {
                let (client, phone) = (&clients[i], &phones[i]);
                sign_up_and_in(
                    client,
                    &backend,
                    phone,
                    &format!("storm_{i}_{}", &phone[6..]),
                )
                .await;
                let tx = client
                    .deposit(10_000 + i as i64, PaymentMethod::MtnMomo, phone)
                    .await
                    .unwrap();
                backend.complete_payment(&tx.reference).await;
            }
        })
        .await;
    }
    for (i, client) in clients.iter().enumerate() {
        eventually(client, "the first deposit synced", |s| {
            s.connection == ConnectionState::Online && seqs(s) == vec![1]
        })
        .await;
        assert_eq!(
            balance(&client.snapshot().unwrap()),
            Some(10_000 + i as i64)
        );
    }
    open_sockets_become(&backend, n).await;

    // A second deposit each, still pending when the backend dies.
    let references: Vec<String> = {
        let mut refs = Vec::new();
        for (i, client) in clients.iter().enumerate() {
            let tx = client
                .deposit(1_000 + i as i64, PaymentMethod::AirtelMoney, &phones[i])
                .await
                .unwrap();
            refs.push(tx.reference);
        }
        refs
    };
    let Ok(backend) = Arc::try_unwrap(backend) else {
        panic!("the backend is still shared")
    };
    backend.kill().await;
    for client in clients.iter() {
        connection_becomes(client, ConnectionState::Offline).await;
    }

    // Back on the same port; the confirmations go in while the clients come back.
    let backend = Arc::new(env.start_backend(port).await);
    {
        let (backend, references) = (backend.clone(), Arc::new(references));
        for_each_parallel(n, 8, move |i| {
            let (backend, references) = (backend.clone(), references.clone());
            async move {
                backend.complete_payment(&references[i]).await;
            }
        })
        .await;
    }
    for (i, client) in clients.iter().enumerate() {
        let want = 10_000 + 1_000 + 2 * i as i64;
        let snap = eventually(client, "every client exact after the storm", |s| {
            s.connection == ConnectionState::Online
                && seqs(s) == vec![2, 1]
                && balance(s) == Some(want)
        })
        .await;
        let mut ids: Vec<_> = snap.ledger.iter().map(|e| e.id.clone()).collect();
        ids.dedup();
        assert_eq!(ids.len(), 2, "client {i}: no entry twice");
        let store = devices[i].store();
        assert_eq!(
            (store.ledger_len().unwrap(), store.cursor("wallet").unwrap()),
            (2, 2),
            "client {i}: the SQLite copy holds positions 1 and 2 once, cursor at 2"
        );
    }
    open_sockets_become(&backend, n).await;

    for client in clients.iter() {
        client.shutdown().await;
    }
    open_sockets_become(&backend, 0).await;
    let Ok(backend) = Arc::try_unwrap(backend) else {
        panic!("the backend is still shared")
    };
    backend.kill().await;
}

// ---- small helpers -----------------------------------------------------------------------------

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!("oddxer-client-{tag}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---- live events and notifications (issue 10) -------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_followed_tipsters_listing_and_a_sale_reach_the_kept_pages_and_the_notifications() {
    let env = BackendEnv::fresh();
    let backend = env.start_backend(0).await;

    let seller_device = Device::new();
    let seller = seller_device.open_client(&backend.url()).await;
    let tipster = sign_up_and_in(&seller, &backend, &random_phone(), "it_live_tipster").await;
    seller.become_seller().await.unwrap();
    connection_becomes(&seller, ConnectionState::Online).await;

    let fan_device = Device::new();
    let fan = fan_device.open_client(&backend.url()).await;
    let fan_phone = random_phone();
    sign_up_and_in(&fan, &backend, &fan_phone, "it_live_fan").await;
    connection_becomes(&fan, ConnectionState::Online).await;
    fan.follow_seller(&tipster.id, true).await.unwrap();
    assert_eq!(fan.my_following().await.unwrap()[0].seller_id, tipster.id);
    let tennis = BrowseIn {
        sport: Some(Sport::Tennis),
        ..BrowseIn::default()
    };
    assert!(fan.browse_codes(&tennis).await.unwrap().items.is_empty());
    // A bettor who does not follow the tipster, with the tennis page kept.
    let watcher_device = Device::new();
    let watcher = watcher_device.open_client(&backend.url()).await;
    sign_up_and_in(&watcher, &backend, &random_phone(), "it_live_watcher").await;
    connection_becomes(&watcher, ConnectionState::Online).await;
    assert!(watcher
        .browse_codes(&tennis)
        .await
        .unwrap()
        .items
        .is_empty());
    let before = fan.snapshot().unwrap();
    assert_eq!(before.unread_notifications, 0);

    // The tipster lists a code: the fan hears of it without asking.
    let options = seller.code_options().await.unwrap();
    let price = options.min_price.amount.max(5_000);
    let listed = seller
        .create_code(&CodeIn {
            sport: Sport::Tennis,
            title: "Live set".into(),
            description: String::new(),
            odds: 1.9,
            bookmaker: options.bookmakers[0].clone(),
            price,
            code: "LIVE-SECRET-7".into(),
            expires_at: rfc3339_in(Duration::from_secs(3_600)),
            max_buyers: Some(3),
        })
        .await
        .unwrap();
    let snap = eventually(&fan, "the new code's notification", |s| {
        s.notifications
            .iter()
            .any(|n| n.code_id.as_deref() == Some(listed.id.as_str()))
    })
    .await;
    assert_eq!(snap.unread_notifications, 1);
    assert_eq!(
        snap.notifications[0].title,
        "New code from @it_live_tipster"
    );
    assert!(
        snap.live.market > before.live.market,
        "the marketplace is told to reload"
    );
    let kept = fan_device.store().cached_market_page(&tennis).unwrap();
    assert_eq!(
        kept.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        [listed.id.as_str()],
        "the kept page holds the new listing"
    );
    assert_eq!(kept.items[0].code, None, "never the secret");

    // The fan buys it: the tipster is told of the sale, and the tipster's kept copy of the code
    // shows the place taken.
    let deposit = fan
        .deposit(50_000, PaymentMethod::MtnMomo, &fan_phone)
        .await
        .unwrap();
    backend.complete_payment(&deposit.reference).await;
    eventually(&fan, "the deposit", |s| balance(s) == Some(50_000)).await;
    fan.purchase_code(&listed.id).await.unwrap();
    let seller_before = seller.snapshot().unwrap().live.seller;
    let s = eventually(&seller, "the sale notification", |s| {
        s.notifications.iter().any(|n| n.id.starts_with("sale:"))
    })
    .await;
    assert!(s.live.seller >= seller_before);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let copy = seller_device.store().market_code(&listed.id).unwrap();
        if copy.is_some_and(|c| c.sales_count == 1) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the sold code was not refreshed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The watcher's kept page took the listing (`code:created`) and the place sold
    // (`code:updated`) without asking, and was not notified of an unfollowed tipster's code.
    loop {
        let kept = watcher_device.store().cached_market_page(&tennis).unwrap();
        if kept
            .items
            .iter()
            .any(|c| c.id == listed.id && c.sales_count == 1)
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the watcher's kept page did not show the place sold: {:?}",
            kept.items
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(watcher.snapshot().unwrap().unread_notifications, 0);
    watcher.shutdown().await;

    // The deposit completing was news too; marking everything read clears the badge, and the
    // list survives a restart of the app.
    let fan_snap = eventually(&fan, "the deposit notification", |s| {
        s.notifications
            .iter()
            .any(|n| n.title == "Deposit completed")
    })
    .await;
    assert_eq!(fan_snap.unread_notifications, 2);
    fan.mark_notifications_read(None).unwrap();
    assert_eq!(fan.snapshot().unwrap().unread_notifications, 0);
    fan.shutdown().await;
    drop(fan);
    let reopened = fan_device.open_client(&backend.url()).await;
    let after = reopened.snapshot().unwrap();
    assert_eq!(after.notifications.len(), 2);
    assert!(after.notifications.iter().all(|n| n.read));
    reopened.shutdown().await;
    seller.shutdown().await;
    backend.kill().await;
}

// ---- everyday use: no keyring, a declined deposit --------------------------------------------

/// The OS keyring as a plain X server without a Secret Service has it: every call fails.
struct NoKeyring;

impl SecretStore for NoKeyring {
    fn load(&self) -> oddxer_client::Result<Option<String>> {
        Err(ClientError::Keyring(keyring::Error::PlatformFailure(
            "no secret service".into(),
        )))
    }
    fn save(&self, _: &str) -> oddxer_client::Result<()> {
        Err(ClientError::Keyring(keyring::Error::PlatformFailure(
            "no secret service".into(),
        )))
    }
    fn clear(&self) -> oddxer_client::Result<()> {
        Err(ClientError::Keyring(keyring::Error::PlatformFailure(
            "no secret service".into(),
        )))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_keyring_a_person_still_signs_in_and_a_declined_deposit_reads_failed_offline() {
    let env = BackendEnv::fresh();
    let backend = env.start_backend(0).await;
    let port = backend.port;
    let dir = TempDir::new("no-keyring");
    let open = |url: String| {
        let data_dir = dir.path().to_owned();
        async move {
            let secrets = Arc::new(FallbackSecretStore::new(
                Some(Box::new(NoKeyring)),
                FileSecretStore::new(&data_dir),
            ));
            OddxerClient::open(ClientConfig {
                api_url: url,
                data_dir,
                secrets,
            })
            .await
            .unwrap()
        }
    };
    let client = open(backend.url()).await;
    let phone = random_phone();

    // The keyring fails at the moment the token is kept: the sign-in still works, said once.
    let user = sign_up_and_in(&client, &backend, &phone, "it_nokeyring").await;
    connection_becomes(&client, ConnectionState::Online).await;
    let snap = client.snapshot().unwrap();
    assert!(
        snap.credential_notice
            .as_deref()
            .is_some_and(|n| n.contains("private file")),
        "{:?}",
        snap.credential_notice
    );
    assert!(
        FileSecretStore::new(dir.path()).load().unwrap().is_some(),
        "the refresh token is in the 0600 file"
    );

    // A deposit the person declines on the phone: failed, with the reason, never pending forever.
    let deposit = client
        .deposit(20_000, PaymentMethod::MtnMomo, &phone)
        .await
        .unwrap();
    let listed = client.wallet_payments().await.unwrap();
    assert_eq!(listed.items[0].reference, deposit.reference);
    assert_eq!(listed.items[0].status, TransactionStatus::Pending);
    backend.fail_payment(&deposit.reference).await;
    let listed = client.wallet_payments().await.unwrap();
    let failed = &listed.items[0];
    assert_eq!(
        (failed.status, failed.amount.amount),
        (TransactionStatus::Failed, 20_000)
    );
    assert!(failed
        .failure_reason
        .as_deref()
        .is_some_and(|r| !r.is_empty()));
    assert!(!listed.from_cache);
    assert_eq!(balance(&client.snapshot().unwrap()).unwrap_or(0), 0);

    // Restarted with the backend gone: still signed in (from the file), and the failed deposit
    // is read from the device.
    backend.kill().await;
    client.shutdown().await;
    drop(client);
    let client = open(format!("http://127.0.0.1:{port}")).await;
    assert_eq!(client.resume().await.unwrap().map(|u| u.id), Some(user.id));
    let offline = client.wallet_payments().await.unwrap();
    assert!(offline.from_cache);
    assert_eq!(offline.items[0].status, TransactionStatus::Failed);
    assert_eq!(offline.items[0].reference, deposit.reference);
}
