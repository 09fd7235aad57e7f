//! `TestApp`: a real backend on a random port against a fresh database on the test FerretDB.

use mongodb::bson::doc;
#[path = "../support/app_config.rs"]
mod app_config;

use app_config::app_config;
use oddxer_backend::config::Config;
use oddxer_backend::db::Db;
use oddxer_backend::startup::Application;
use reqwest::StatusCode;
use serde_json::{json, Value};

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub db: Db,
    pub http: reqwest::Client,
    pub config: Config,
    pub state: oddxer_backend::state::AppState,
}

/// A signed-in user as a test sees it.
#[derive(Debug, Clone)]
pub struct Session {
    pub phone: String,
    pub user_id: String,
    pub access: String,
    pub refresh: String,
}

pub fn mongodb_uri() -> String {
    std::env::var("MONGODB_URI").unwrap_or_else(|_| "mongodb://127.0.0.1:27118".into())
}

/// A valid Ugandan mobile number (70x xxx xxx) no other test uses, in E.164.
pub fn unique_phone() -> String {
    let n: u64 = rand::random::<u64>() % 10_000_000;
    format!("+25670{n:07}")
}

pub fn unique_username() -> String {
    format!("u_{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// Database round trips a request waited for one after the other (the backend's `x-db-round-trips`
/// header, sent outside production).
pub fn round_trips(r: &Resp) -> u64 {
    r.headers
        .get("x-db-round-trips")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("x-db-round-trips header")
}

pub struct Resp {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Resp {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// Asserts the error envelope and the status; returns self for further checks.
    pub fn assert_error(&self, status: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status, body: {}",
            self.body
        );
        assert_eq!(
            self.body["success"],
            json!(false),
            "not an error envelope: {}",
            self.body
        );
        assert!(
            self.body["error"]["code"].is_string() && self.body["error"]["message"].is_string(),
            "{}",
            self.body
        );
        self
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(&[]).await
    }

    pub async fn spawn_with(overrides: &[(&str, &str)]) -> TestApp {
        let config = app_config(
            "test",
            mongodb_uri(),
            &[
                // Tests sign many users in from one address; the rate-limit tests lower these.
                ("RATE_LIMIT_AUTH_IP", "100000/1m"),
                ("RATE_LIMIT_AUTH_PHONE", "100000/1m"),
                ("RATE_LIMIT_MONEY_USER", "100000/1m"),
                // Tests read their own writes at once; the market cache has its own test (codes.rs).
                ("MARKET_CACHE_TTL", "0s"),
                // No web app unless a test brings its own (web.rs): whether the UI was built must
                // not change what the API tests see.
                ("WEB_DIST", "off"),
            ],
            overrides,
        );
        let app = Application::build(config.clone()).await.expect("build app");
        let port = app.port();
        let db = app.state.db.clone();
        let state = app.state.clone();
        tokio::spawn(app.run_until_stopped());
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            port,
            db,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            config,
            state,
        }
    }

    /// Two backend processes' worth of `Application`s on one database and one Redis, as a scaled-out
    /// deployment runs them (same `DB_NAME`, `JWT_SECRET` and `REDIS_URL`; `overrides` apply to both).
    /// `None`, with a message, when `REDIS_URL` is unset (scripts/test.sh always sets it).
    pub async fn spawn_pair(test: &str, overrides: &[(&str, &str)]) -> Option<(TestApp, TestApp)> {
        let Ok(redis) = std::env::var("REDIS_URL") else {
            eprintln!("SKIPPED {test}: REDIS_URL is unset; two instances need Redis to share events (scripts/test.sh sets it)");
            return None;
        };
        let db_name = format!("test_{}", uuid::Uuid::new_v4().simple());
        let secret = format!("test-secret-{}", uuid::Uuid::new_v4());
        let mut env: Vec<(&str, &str)> = overrides.to_vec();
        env.extend([
            ("REDIS_URL", redis.as_str()),
            ("DB_NAME", db_name.as_str()),
            ("JWT_SECRET", secret.as_str()),
        ]);
        let a = TestApp::spawn_with(&env).await;
        let b = TestApp::spawn_with(&env).await;
        Some((a, b))
    }

    /// Signs an admin in: `phone` must be in the app's `ADMIN_PHONE_NUMBERS`.
    pub async fn admin(&self, phone: &str) -> Session {
        self.register(phone, &unique_username()).await;
        self.sign_in(phone).await
    }

    /// The URL of a path outside `/api/v1` (the web app's pages and files).
    pub fn site_url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.address)
    }

    async fn read(resp: reqwest::Response) -> Resp {
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Resp {
            status,
            body,
            headers,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        let mut req = self.http.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Self::read(req.send().await.expect("send")).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.post_with(path, token, body, None).await
    }

    pub async fn post_with(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
        idempotency_key: Option<&str>,
    ) -> Resp {
        let mut req = self.http.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(k) = idempotency_key {
            req = req.header("Idempotency-Key", k);
        }
        Self::read(req.send().await.expect("send")).await
    }

    /// POSTs sent all at once, one per `(path, token, body, Idempotency-Key)`, through
    /// [`TestApp::post_with`]; the answers in the order of `requests`.
    pub async fn posts_at_once(&self, requests: Vec<(String, String, Value, String)>) -> Vec<Resp> {
        futures_util::future::join_all(
            requests
                .iter()
                .map(|(path, token, body, key)| self.post_with(path, Some(token), body, Some(key))),
        )
        .await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        let mut req = self.http.patch(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Self::read(req.send().await.expect("send")).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Resp {
        let mut req = self.http.delete(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Self::read(req.send().await.expect("send")).await
    }

    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Resp {
        let req = self
            .http
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body);
        Self::read(req.send().await.expect("send")).await
    }

    /// The newest OTP the outbox holds for a phone, read the way a developer would: `GET /dev/sms`.
    pub async fn last_otp(&self, phone: &str) -> String {
        let resp = self
            .http
            .get(self.url("/dev/sms"))
            .query(&[("phoneNumber", phone)])
            .send()
            .await
            .expect("send");
        let body: Value = resp.json().await.expect("json");
        let text = body["data"][0]["body"]
            .as_str()
            .expect("an SMS was sent")
            .to_owned();
        text.split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .expect("6-digit code in SMS")
            .to_owned()
    }

    pub async fn register(&self, phone: &str, username: &str) -> Resp {
        self.post(
            "/auth/register",
            None,
            &json!({ "phoneNumber": phone, "username": username }),
        )
        .await
    }

    pub async fn verify(&self, phone: &str, otp: &str) -> Resp {
        self.post(
            "/auth/verify-otp",
            None,
            &json!({ "phoneNumber": phone, "otp": otp }),
        )
        .await
    }

    /// Registers a fresh user with the role and signs in through the OTP flow.
    pub async fn signed_in_user(&self, role: &str) -> Session {
        let phone = unique_phone();
        let r = self
            .post(
                "/auth/register",
                None,
                &json!({ "phoneNumber": phone, "username": unique_username(), "role": role }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        self.sign_in(&phone).await
    }

    pub async fn sign_in(&self, phone: &str) -> Session {
        let otp = self.last_otp(phone).await;
        let r = self.verify(phone, &otp).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        Session {
            phone: phone.to_owned(),
            user_id: r.data()["user"]["id"].as_str().expect("id").to_owned(),
            access: r.data()["accessToken"].as_str().expect("access").to_owned(),
            refresh: r.data()["refreshToken"]
                .as_str()
                .expect("refresh")
                .to_owned(),
        }
    }

    pub async fn deposit(&self, s: &Session, amount: i64, key: &str) -> Resp {
        let body = json!({ "amount": amount, "paymentMethod": "MTN_MOMO", "phoneNumber": s.phone });
        self.post_with("/wallet/deposits", Some(&s.access), &body, Some(key))
            .await
    }

    /// Deposits and has the sandbox provider confirm it; returns the completed transaction.
    pub async fn funded(&self, s: &Session, amount: i64) -> Value {
        let r = self
            .deposit(s, amount, &uuid::Uuid::new_v4().to_string())
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
        let reference = r.data()["reference"]
            .as_str()
            .expect("reference")
            .to_owned();
        let done = self
            .post(
                &format!("/dev/payments/{reference}/complete"),
                None,
                &json!({}),
            )
            .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        done.data().clone()
    }

    pub async fn balance(&self, s: &Session) -> i64 {
        let r = self.get("/wallet", Some(&s.access)).await;
        r.data()["balance"]["amount"].as_i64().expect("balance")
    }

    /// A seller lists a code through `POST /codes`; returns its id.
    pub async fn create_code(&self, seller: &Session, price: i64, max_buyers: i64) -> String {
        let expires = time::OffsetDateTime::now_utc() + time::Duration::hours(6);
        let body = json!({
            "sport": "FOOTBALL",
            "title": format!("Weekend acca {}", &uuid::Uuid::new_v4().simple().to_string()[..6]),
            "description": "Five legs, home wins",
            "odds": 4.75,
            "bookmaker": "SportyBet",
            "price": price,
            "code": format!("SB-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]).to_uppercase(),
            "expiresAt": expires.format(&time::format_description::well_known::Rfc3339).expect("rfc3339"),
            "maxBuyers": max_buyers,
        });
        let r = self.post("/codes", Some(&seller.access), &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.data()["id"].as_str().expect("id").to_owned()
    }

    /// Buys a code through `POST /codes/{id}/purchase` with a fresh Idempotency-Key.
    ///
    /// Waits until the labels the purchase writes after its answer are in, as the server's own
    /// reads do: tests also look at the database directly.
    pub async fn purchase(&self, buyer: &Session, code_id: &str) -> Resp {
        let r = self
            .post_with(
                &format!("/codes/{code_id}/purchase"),
                Some(&buyer.access),
                &json!({}),
                Some(&uuid::Uuid::new_v4().to_string()),
            )
            .await;
        self.state.pending.settle_all().await;
        r
    }

    /// Runs the money invariants (the same code as `GET /admin/reconcile`) and fails on any violation.
    pub async fn assert_reconciled(&self) {
        self.state.pending.settle_all().await;
        let report = oddxer_backend::admin::reconcile::run(&self.state)
            .await
            .expect("reconcile");
        assert!(
            report.ok,
            "reconcile found violations: {:#?}",
            report.violations
        );
        assert_eq!(report.in_flight, 0, "transfers still in flight");
        assert_eq!(report.entries_sum, 0);
    }

    /// THE way marketplace tests make `buyer` a buyer of a code: a funded `POST /codes/{id}/purchase`.
    pub async fn buy(&self, buyer: &Session, code_id: &str) {
        // Through the real purchase: fund the buyer with the price, then pay into escrow.
        let code = self.get(&format!("/codes/{code_id}"), None).await;
        let price = code.data()["price"]["amount"].as_i64().expect("price");
        self.funded(buyer, price.max(self.config.deposit_min)).await;
        let r = self.purchase(buyer, code_id).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }

    /// Moves `code_id` past kick-off and has `admin` decide it (`WON`, `LOST` or `VOID`).
    pub async fn decide(&self, admin: &Session, code_id: &str, outcome: &str) {
        self.expire_code(code_id, std::time::Duration::from_secs(60))
            .await;
        let r = self
            .post(
                &format!("/admin/codes/{code_id}/resolve"),
                Some(&admin.access),
                &json!({ "outcome": outcome }),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.body);
    }

    /// Moves a code's `expiresAt` into the past (tests cannot list such a code through the API).
    pub async fn expire_code(&self, code_id: &str, ago: std::time::Duration) {
        let code = mongodb::bson::oid::ObjectId::parse_str(code_id).expect("code id");
        // A vote rewrites the code's counters after its answer, and FerretDB writes whole documents
        // back: let those writes land first so that they do not undo this one.
        let votes = self
            .db
            .col("votes")
            .count_documents(doc! { "bettingCode": code })
            .await
            .expect("count");
        for _ in 0..100 {
            let d = self
                .db
                .col("bettingcodes")
                .find_one(doc! { "_id": code })
                .await
                .expect("code")
                .expect("code exists");
            if d.get_i64("totalVotes")
                .or_else(|_| d.get_i32("totalVotes").map(i64::from))
                .unwrap_or(0)
                == votes as i64
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let at = mongodb::bson::DateTime::from_millis(
            mongodb::bson::DateTime::now().timestamp_millis() - ago.as_millis() as i64,
        );
        self.db
            .col("bettingcodes")
            .update_one(doc! { "_id": code }, doc! { "$set": { "expiresAt": at } })
            .await
            .expect("expire");
    }

    /// One marketplace worker pass as of now.
    pub async fn market_pass(&self) -> oddxer_backend::resolution::worker::PassReport {
        oddxer_backend::resolution::worker::run_once(&self.state, mongodb::bson::DateTime::now())
            .await
            .expect("market pass")
    }

    /// Serves one request in-process (the app's router, its state) and counts the database commands
    /// the request itself sends before its answer: its sequential round trips. Work it spawns for
    /// after the answer, other tests and the workers are not counted (`db::RoundTrips`).
    pub async fn count_commands(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u64, Resp) {
        use tower::ServiceExt;
        let mut req = axum::http::Request::builder()
            .method(method)
            .uri(format!("/api/v1{path}"));
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let body = match body {
            Some(b) => {
                req = req.header("content-type", "application/json");
                axum::body::Body::from(b.to_string())
            }
            None => axum::body::Body::empty(),
        };
        let router = oddxer_backend::startup::router(self.state.clone());
        // The router's own middleware counts the request's round trips (`x-db-round-trips`).
        let resp = router
            .oneshot(req.body(body).expect("request"))
            .await
            .expect("infallible");
        let (parts, body) = resp.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.expect("body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let resp = Resp {
            status: parts.status,
            body,
            headers: parts.headers,
        };
        (round_trips(&resp), resp)
    }

    pub async fn count(&self, collection: &str) -> u64 {
        self.db
            .col(collection)
            .count_documents(doc! {})
            .await
            .expect("count")
    }
}
