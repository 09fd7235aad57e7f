//! Load benchmark of issue 3: `POST /auth/verify-otp` and `POST /auth/refresh` under sustained
//! concurrent load, beside the seed's 300 ms target, the design's 30 ms (10x better), and a raw
//! database round trip measured in the same run.
//!
//! `MONGODB_URI=mongodb://127.0.0.1:27700 cargo bench -p oddxer-backend --bench auth`
//! (see `backend/benches/common/mod.rs` for `BENCH_CONCURRENCY`, `BENCH_SECS`, `BENCH_KEEP_DB`;
//! `BENCH_AUTH_PAD_USERS`: how many other users are added before the last verify-otp phase, default 1000).

mod common;

use common::*;
use mongodb::bson::{doc, oid::ObjectId, DateTime, Document};
use oddxer_backend::auth::{otp, refresh, store};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const AUTH_TARGET: Duration = Duration::from_millis(300);

/// Puts a fresh OTP with a known code in place for `phone`: the database write `login` does
/// (its user lookup is untimed too).
async fn prepare_otp(app: &BenchApp, phone: &str) -> Result<String, String> {
    let user = store::find_by_phone(&app.db, phone)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no such user")?;
    let code = otp::generate(app.config.otp_length);
    let now = DateTime::now();
    let pending = store::PendingOtp {
        id: refresh::new_family(),
        user: user.id,
        user_verified: user.is_verified,
        user_role: user.role,
        hash: otp::keyed_hash(&app.config.otp_key, phone, &code),
        expires_at: DateTime::from_millis(now.timestamp_millis() + 600_000),
        created_at: now,
    };
    store::put_otp(&app.db, phone, &pending)
        .await
        .map_err(|e| e.to_string())?;
    Ok(code)
}

/// One verification: an untimed OTP insert, then the timed `POST /auth/verify-otp`.
async fn verify_once(app: &BenchApp, phone: &str) -> Result<Timed<&'static str>, String> {
    let code = prepare_otp(app, phone).await?;
    let body = json!({ "phoneNumber": phone, "otp": code });
    let (latency, r) = timed(app.post("/auth/verify-otp", None, &body, None)).await;
    r?.expect(200)?;
    Ok(Timed {
        latency,
        value: "verify",
    })
}

/// One rotation of the client's refresh token (each client holds its own token chain).
async fn refresh_once(app: &BenchApp, slot: &Mutex<String>) -> Result<Timed<&'static str>, String> {
    let token = slot.lock().map_err(|_| "poisoned")?.clone();
    let (latency, r) = timed(app.post(
        "/auth/refresh",
        None,
        &json!({ "refreshToken": token }),
        None,
    ))
    .await;
    let r = r?.expect(200)?;
    let next = r.data()["refreshToken"]
        .as_str()
        .ok_or("no refresh token")?
        .to_owned();
    *slot.lock().map_err(|_| "poisoned")? = next;
    Ok(Timed {
        latency,
        value: "refresh",
    })
}

async fn pad_users(app: &BenchApp, n: usize) {
    let now = DateTime::now();
    let docs: Vec<Document> = (0..n)
        .map(|i| {
            doc! {
                "_id": ObjectId::new(), "phoneNumber": format!("+2569{i:09}"), "username": format!("pad_{i}"),
                "role": "BUYER", "isVerified": true, "isActive": true, "createdAt": now, "updatedAt": now,
            }
        })
        .collect();
    for chunk in docs.chunks(500) {
        app.db
            .col("users")
            .insert_many(chunk.to_vec())
            .await
            .expect("pad users");
    }
}

fn split(load: &Load<&'static str>, kind: &str) -> Stats {
    let lat: Vec<Duration> = load
        .latencies
        .iter()
        .zip(&load.values)
        .filter(|(_, k)| **k == kind)
        .map(|(d, _)| *d)
        .collect();
    Stats::from(lat, 0, load.wall)
}

/// The query shapes of verify-otp and refresh, raw, on the collections as the load left them.
async fn auth_shapes(db: &mongodb::Database, phone: &str) -> Table {
    let users = db.collection::<Document>("users");
    let otps = db.collection::<Document>("otps");
    let tokens = db.collection::<Document>("refresh_tokens");
    let n_users = users.estimated_document_count().await.unwrap_or(0);
    let n_otps = otps.estimated_document_count().await.unwrap_or(0);
    let n_tokens = tokens.estimated_document_count().await.unwrap_or(0);
    let user_id = users
        .find_one(doc! { "phoneNumber": phone })
        .await
        .ok()
        .flatten()
        .and_then(|d| d.get_object_id("_id").ok());
    let token_id = tokens
        .find_one(doc! {})
        .await
        .ok()
        .flatten()
        .and_then(|d| d.get_str("_id").ok().map(str::to_owned))
        .unwrap_or_default();
    let mut t = shape_table("Raw query shapes of these requests (after the load phases)");
    let (c, id) = (users.clone(), user_id.unwrap_or_default());
    let s = raw_shape(move || {
        let c = c.clone();
        async move { c.find_one(doc! { "_id": id }).await.map(|_| ()) }
    })
    .await;
    t.row(shape_row(
        "find_one {_id} (user of a token)",
        "users",
        n_users,
        &s,
    ));
    let (c, p) = (users.clone(), phone.to_owned());
    let s = raw_shape(move || {
        let (c, p) = (c.clone(), p.clone());
        async move { c.find_one(doc! { "phoneNumber": p }).await.map(|_| ()) }
    })
    .await;
    t.row(shape_row(
        "find_one {phoneNumber} (user by phone; newest user)",
        "users",
        n_users,
        &s,
    ));
    let (c, p) = (otps.clone(), phone.to_owned());
    let s = raw_shape(move || {
        let (c, p) = (c.clone(), p.clone());
        async move { c.find_one(doc! { "_id": p }).await.map(|_| ()) }
    })
    .await;
    t.row(shape_row(
        "find_one {_id: phone} (pending OTP)",
        "otps",
        n_otps,
        &s,
    ));
    let c = tokens.clone();
    let s = raw_shape(move || {
        let (c, id) = (c.clone(), token_id.clone());
        async move { c.find_one(doc! { "_id": id }).await.map(|_| ()) }
    })
    .await;
    t.row(shape_row(
        "find_one {_id} (refresh token generation)",
        "refresh_tokens",
        n_tokens,
        &s,
    ));
    t
}

#[tokio::main]
async fn main() {
    let c = concurrency();
    let secs = phase_time();
    let app = Arc::new(BenchApp::spawn("auth", &[]).await);
    print_context("auth", &app);
    let pad: usize = std::env::var("BENCH_AUTH_PAD_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let sessions = app.signed_in_users("BUYER", c, 8).await;
    let phones: Arc<Vec<String>> = Arc::new(sessions.iter().map(|s| s.phone.clone()).collect());
    let slots: Arc<Vec<Mutex<String>>> = Arc::new(
        sessions
            .iter()
            .map(|s| Mutex::new(s.refresh.clone()))
            .collect(),
    );
    let sizes = ["users", "otps", "otp_attempts", "refresh_tokens"];
    println!(
        "setup: {c} signed-in clients | {}",
        app.collection_sizes(&sizes).await
    );

    // Database commands per request, one request at a time.
    let mut rt = Table::new(
        "Database round trips per request (sequential, counted by driver command monitoring)",
        &[
            "request",
            "commands before the response",
            "after it (50 ms)",
        ],
    );
    for (name, is_verify) in [
        ("POST /auth/verify-otp", true),
        ("POST /auth/refresh", false),
    ] {
        let (mut during, mut after) = (Vec::new(), Vec::new());
        for _ in 0..5 {
            let (d, a, r) = if is_verify {
                let code = prepare_otp(&app, &phones[0]).await.expect("otp");
                let body = json!({ "phoneNumber": &phones[0], "otp": code });
                count_commands(async {
                    app.post("/auth/verify-otp", None, &body, None)
                        .await
                        .and_then(|r| r.expect(200))
                        .map(|_| ())
                })
                .await
            } else {
                count_commands(async { refresh_once(&app, &slots[0]).await.map(|_| ()) }).await
            };
            r.expect("sequential request");
            during.push(d);
            after.push(a);
        }
        rt.row(vec![
            name.into(),
            count_summary(during),
            count_summary(after),
        ]);
    }

    // One raw database round trip, same server, same run.
    let raw_db = raw_client(&app.config.db_name).await;
    let (raw1_find, raw1_insert) = raw_round_trips(&raw_db, 1, secs / 2, 1000).await;
    let (rawc_find, rawc_insert) = raw_round_trips(&raw_db, c, secs / 2, 1000).await;

    // One client at a time: the latency without queueing.
    let (a, p) = (app.clone(), phones.clone());
    let verify1 = run_load(1, Stop::Time(secs / 2), move |w, _| {
        let (a, p) = (a.clone(), p.clone());
        async move { verify_once(&a, &p[w]).await }
    })
    .await;
    print_errors("verify-otp, 1 client", &verify1);
    let (a, s) = (app.clone(), slots.clone());
    let refresh1 = run_load(1, Stop::Time(secs / 2), move |w, _| {
        let (a, s) = (a.clone(), s.clone());
        async move { refresh_once(&a, &s[w]).await }
    })
    .await;
    print_errors("refresh, 1 client", &refresh1);

    // verify-otp alone.
    let (a, p) = (app.clone(), phones.clone());
    let verify = run_load(c, Stop::Time(secs), move |w, _| {
        let (a, p) = (a.clone(), p.clone());
        async move { verify_once(&a, &p[w]).await }
    })
    .await;
    print_errors("verify-otp", &verify);

    // refresh alone.
    let (a, s) = (app.clone(), slots.clone());
    let refresh = run_load(c, Stop::Time(secs), move |w, _| {
        let (a, s) = (a.clone(), s.clone());
        async move { refresh_once(&a, &s[w]).await }
    })
    .await;
    print_errors("refresh", &refresh);

    // Both at once: half the clients verify, half refresh.
    let (a, p, s) = (app.clone(), phones.clone(), slots.clone());
    let mixed = run_load(c, Stop::Time(secs), move |w, _| {
        let (a, p, s) = (a.clone(), p.clone(), s.clone());
        async move {
            if w % 2 == 0 {
                verify_once(&a, &p[w]).await
            } else {
                refresh_once(&a, &s[w]).await
            }
        }
    })
    .await;
    print_errors("mixed", &mixed);
    let sizes_small = app.collection_sizes(&sizes).await;

    // verify-otp again once `users` holds `pad` more documents: FerretDB answers the lookup by
    // phone number with a scan, whatever the unique index.
    // The clients of this phase sign in after the padding: their documents come last, the worst
    // case for a scan that stops at the first match.
    pad_users(&app, pad).await;
    let late = app.signed_in_users("BUYER", c, 8).await;
    let late_phones: Arc<Vec<String>> = Arc::new(late.iter().map(|s| s.phone.clone()).collect());
    let (a, p) = (app.clone(), late_phones.clone());
    let verify_padded = run_load(c, Stop::Time(secs), move |w, _| {
        let (a, p) = (a.clone(), p.clone());
        async move { verify_once(&a, &p[w]).await }
    })
    .await;
    print_errors("verify-otp, padded users", &verify_padded);

    let shapes = auth_shapes(&raw_db, &late_phones[c - 1]).await;

    let mut t = latency_table(
        "Auth latency (HTTP, in-process server; seed target 300 ms, design target 30 ms p99)",
    );
    t.row(latency_row(
        "verify-otp, 1 client",
        1,
        &verify1.stats(),
        Some(AUTH_TARGET),
        Some(raw1_find.p50),
    ));
    t.row(latency_row(
        "refresh, 1 client",
        1,
        &refresh1.stats(),
        Some(AUTH_TARGET),
        Some(raw1_find.p50),
    ));
    t.row(latency_row(
        "POST /auth/verify-otp",
        c,
        &verify.stats(),
        Some(AUTH_TARGET),
        Some(rawc_find.p50),
    ));
    t.row(latency_row(
        "POST /auth/refresh",
        c,
        &refresh.stats(),
        Some(AUTH_TARGET),
        Some(rawc_find.p50),
    ));
    let half = c.div_ceil(2);
    t.row(latency_row(
        "mixed: verify-otp",
        half,
        &split(&mixed, "verify"),
        Some(AUTH_TARGET),
        Some(rawc_find.p50),
    ));
    t.row(latency_row(
        "mixed: refresh",
        c - half,
        &split(&mixed, "refresh"),
        Some(AUTH_TARGET),
        Some(rawc_find.p50),
    ));
    t.row(latency_row(
        "mixed: both",
        c,
        &mixed.stats(),
        Some(AUTH_TARGET),
        Some(rawc_find.p50),
    ));
    t.row(latency_row(
        &format!("verify-otp, +{pad} users"),
        c,
        &verify_padded.stats(),
        Some(AUTH_TARGET),
        Some(rawc_find.p50),
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
    println!("\nverify-otp latency excludes the untimed OTP insert before each try (the write `login` does).");
    println!("before the padded phase: {sizes_small}");
    println!("at the end: {}", app.collection_sizes(&sizes).await);
    print_load_average();
    app.finish().await;
}
