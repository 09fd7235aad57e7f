//! Load benchmark of issue 4: 10,000 betting codes seeded, then `GET /codes` (several filter mixes),
//! `GET /leaderboard` and votes driven concurrently, printed beside the seed targets (browse 200 ms,
//! leaderboard 250 ms, vote 200 ms), the design's (10x better), and a raw driver query of the same
//! shape measured in the same run; plus the database commands of one request of each kind.
//!
//! `MONGODB_URI=mongodb://127.0.0.1:27700 cargo bench -p oddxer-backend --bench marketplace`
//! (see `backend/benches/common/mod.rs` for `BENCH_CONCURRENCY`, `BENCH_SECS`, `BENCH_KEEP_DB`).

mod common;

use common::*;
use futures_util::TryStreamExt;
use mongodb::bson::{doc, oid::ObjectId, DateTime, Document};
use oddxer_backend::codes::rules::Listing;
use oddxer_backend::codes::store::new_code_doc;
use oddxer_shared::{CodeStatus, Outcome, Sport};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

const CODES: usize = 10_000;
const SELLERS: usize = 60;
/// Codes in their voting window, each bought by every voter (plus one buyer who never votes, so
/// no code is decided during the run).
const VOTE_CODES: usize = 150;
const BROWSE_TARGET: Duration = Duration::from_millis(200);
const LEADERBOARD_TARGET: Duration = Duration::from_millis(250);
const VOTE_TARGET: Duration = Duration::from_millis(200);

/// The browse mixes: (label, query string).
const MIXES: &[(&str, &str)] = &[
    ("GET /codes (default: ACTIVE, newest)", "/codes"),
    (
        "GET /codes?sport=FOOTBALL&sort=price",
        "/codes?sport=FOOTBALL&sort=price",
    ),
    (
        "GET /codes odds+price ranges, sort=-odds",
        "/codes?minOdds=2&maxOdds=10&minPrice=1000&maxPrice=20000&sort=-odds",
    ),
    (
        "GET /codes?bookmaker=Betway&sort=expiresAt&limit=50",
        "/codes?bookmaker=Betway&sort=expiresAt&limit=50",
    ),
];

fn ms_from_now(d: i64) -> DateTime {
    DateTime::from_millis(DateTime::now().timestamp_millis() + d)
}

/// Seeds codes, history and leaderboard rows straight into the database (untimed).
async fn seed(app: &BenchApp, voters: &[Session]) -> Vec<String> {
    let db = &app.db;
    let mut rng = StdRng::seed_from_u64(4);
    let mut sellers = vec![];
    for i in 0..SELLERS {
        let id = ObjectId::new();
        let d = doc! { "_id": id, "phoneNumber": format!("+2567990{i:05}"), "username": format!("tipster_{i}"), "role": "SELLER",
        "isVerified": true, "isActive": true, "createdAt": DateTime::now(), "updatedAt": DateTime::now() };
        db.col("users").insert_one(d).await.expect("seller");
        sellers.push((id, format!("tipster_{i}")));
    }
    let books = app.config.bookmakers.clone();
    let hour = 3_600_000i64;
    let mut docs = Vec::with_capacity(CODES);
    let mut finalized = vec![];
    for i in 0..CODES {
        let (seller, name) = &sellers[rng.gen_range(0..SELLERS)];
        // 80 % on sale, 5 % sold out, 5 % waiting for votes, 10 % finalized history.
        let roll = rng.gen_range(0..100);
        let (status, expires) = match roll {
            0..=79 => (CodeStatus::Active, ms_from_now(rng.gen_range(1..72) * hour)),
            80..=84 => (
                CodeStatus::SoldOut,
                ms_from_now(rng.gen_range(1..72) * hour),
            ),
            85..=89 => (
                CodeStatus::AwaitingResult,
                ms_from_now(-rng.gen_range(1..20) * hour),
            ),
            _ => (CodeStatus::Won, ms_from_now(-rng.gen_range(30..600) * hour)),
        };
        let l = Listing {
            sport: Sport::ALL[rng.gen_range(0..6)],
            title: format!("Bench accumulator {i}"),
            description: "Four legs, researched form".into(),
            odds: rng.gen_range(110..3_000),
            bookmaker: books[rng.gen_range(0..books.len())].clone(),
            price: [500, 1_000, 2_000, 5_000, 10_000, 25_000][rng.gen_range(0..6)],
            code: format!("BC{i:08}"),
            expires_at: expires,
            max_buyers: 1,
        };
        let id = ObjectId::new();
        let mut d = new_code_doc(
            id,
            *seller,
            name,
            &l,
            ms_from_now(-rng.gen_range(1..400) * hour),
        );
        d.insert("status", status.as_str());
        if status == CodeStatus::Won {
            let outcome = [
                Outcome::Won,
                Outcome::Lost,
                Outcome::Lost,
                Outcome::Won,
                Outcome::Void,
            ][rng.gen_range(0..5)];
            d.insert("status", outcome.as_str());
            d.insert("outcome", outcome.as_str());
            finalized.push((id, *seller, outcome, l.price));
        }
        docs.push(d);
    }
    for chunk in docs.chunks(500) {
        db.col("bettingcodes")
            .insert_many(chunk.to_vec())
            .await
            .expect("codes");
    }
    // History: a resolution and a sale per finalized code, then the rows recomputed from them.
    let mut resolutions = vec![];
    let mut purchases = vec![];
    for (code, seller, outcome, price) in &finalized {
        resolutions.push(doc! { "_id": code, "seller": seller, "outcome": outcome.as_str(), "decidedBy": "MAJORITY", "admin": null,
            "winVotes": 1i64, "lossVotes": 0i64, "applied": true, "createdAt": DateTime::now() });
        purchases.push(doc! { "_id": ObjectId::new(), "bettingCode": code, "buyer": ObjectId::new(), "seller": seller, "price": price,
            "status": "COMPLETED", "settlement": "PAID_OUT", "createdAt": DateTime::now() });
    }
    for chunk in resolutions.chunks(500) {
        db.col("code_resolutions")
            .insert_many(chunk.to_vec())
            .await
            .expect("resolutions");
    }
    // Vote codes: kicked off an hour ago, bought by every voter and one silent buyer.
    let mut vote_codes = vec![];
    let voter_ids: Vec<ObjectId> = voters
        .iter()
        .map(|v| ObjectId::parse_str(&v.user_id).expect("voter id"))
        .collect();
    let mut vote_docs = vec![];
    for i in 0..VOTE_CODES {
        let (seller, name) = &sellers[i % SELLERS];
        let l = Listing {
            sport: Sport::Football,
            title: format!("Bench vote code {i}"),
            description: String::new(),
            odds: 350,
            bookmaker: books[0].clone(),
            price: 1_000,
            code: format!("VC{i:06}"),
            expires_at: ms_from_now(-hour),
            max_buyers: voters.len() as i64 + 1,
        };
        let id = ObjectId::new();
        let mut d = new_code_doc(id, *seller, name, &l, ms_from_now(-5 * hour));
        d.insert("status", "AWAITING_RESULT");
        vote_docs.push(d);
        for buyer in voter_ids.iter().copied().chain([ObjectId::new()]) {
            let pid = ObjectId::new();
            purchases.push(doc! { "_id": pid, "claim": oddxer_backend::codes::sales::claim_id(id, buyer), "bettingCode": id,
                "buyer": buyer, "seller": seller, "price": 1_000i64, "status": "COMPLETED", "createdAt": DateTime::now() });
        }
        vote_codes.push(id.to_hex());
    }
    db.col("bettingcodes")
        .insert_many(vote_docs)
        .await
        .expect("vote codes");
    for chunk in purchases.chunks(500) {
        db.col("purchases")
            .insert_many(chunk.to_vec())
            .await
            .expect("purchases");
    }
    let rows = oddxer_backend::leaderboard::service::rebuild(&app.state)
        .await
        .expect("leaderboard");
    println!(
        "seeded {} codes ({} finalized, {} in voting), {rows} leaderboard rows",
        CODES + VOTE_CODES,
        finalized.len(),
        VOTE_CODES
    );
    vote_codes
}

/// The browse filter of mix `i`, as the backend builds it, for the raw query of the same shape.
fn raw_browse_shape(app: &BenchApp, i: usize) -> (Document, Document, i64) {
    use oddxer_backend::codes::query::{Browse, CodeQuery, CodeSort};
    let q = match i {
        0 => CodeQuery::default(),
        1 => CodeQuery {
            sport: Some(Sport::Football),
            sort: Some(CodeSort::Price),
            ..Default::default()
        },
        2 => CodeQuery {
            min_odds: Some(2.0),
            max_odds: Some(10.0),
            min_price: Some(1000),
            max_price: Some(20000),
            sort: Some(CodeSort::OddsDesc),
            ..Default::default()
        },
        _ => CodeQuery {
            bookmaker: Some("Betway".into()),
            sort: Some(CodeSort::ExpiresAt),
            limit: Some(50),
            ..Default::default()
        },
    };
    let b = Browse::parse(&q, Some(CodeStatus::Active), &app.config.bookmakers).expect("browse");
    (
        b.filter(DateTime::now()),
        oddxer_backend::codes::query::sort_doc(b.sort),
        b.limit + 1,
    )
}

#[tokio::main]
async fn main() {
    let c = concurrency();
    let secs = phase_time();
    let app = Arc::new(BenchApp::spawn("marketplace", &[]).await);
    print_context("marketplace", &app);
    let voters = app.signed_in_users("BUYER", c.max(8), 8).await;
    let vote_codes = Arc::new(seed(&app, &voters).await);
    let voters = Arc::new(voters);
    let sizes = [
        "bettingcodes",
        "purchases",
        "votes",
        "code_resolutions",
        "leaderboards",
        "users",
    ];
    println!("database: {}", app.collection_sizes(&sizes).await);

    // Database commands per request, one at a time.
    let mut rt = Table::new(
        "Database round trips per request (sequential, counted by driver command monitoring)",
        &[
            "request",
            "commands before the response",
            "after it (50 ms)",
        ],
    );
    for (name, q) in MIXES {
        let (d, a, r) = count_commands(app.get(q, None)).await;
        r.and_then(|r| r.expect(200)).expect("browse");
        rt.row(vec![name.to_string(), d.to_string(), a.to_string()]);
    }
    for q in ["/leaderboard", "/leaderboard?sort=totalRevenue"] {
        let (d, a, r) = count_commands(app.get(q, None)).await;
        r.and_then(|r| r.expect(200)).expect("leaderboard");
        rt.row(vec![format!("GET {q}"), d.to_string(), a.to_string()]);
    }
    let probe_code = vote_codes[VOTE_CODES - 1].clone();
    let (d, a, r) = count_commands(app.post(
        &format!("/codes/{probe_code}/votes"),
        Some(&voters[0].access),
        &json!({ "voteType": "WIN" }),
        None,
    ))
    .await;
    r.and_then(|r| r.expect(201)).expect("vote");
    rt.row(vec![
        "POST /codes/{id}/votes".into(),
        d.to_string(),
        a.to_string(),
    ]);

    // Raw driver queries of the same shapes, same server, same run, same concurrency.
    let raw_db = raw_client(&app.config.db_name).await;
    let mut raw_p50 = vec![];
    for i in 0..MIXES.len() {
        let (filter, sort, limit) = raw_browse_shape(&app, i);
        let col = raw_db.collection::<Document>("bettingcodes");
        let load = run_load(c, Stop::Time(secs / 2), move |_, _| {
            let (col, filter, sort) = (col.clone(), filter.clone(), sort.clone());
            async move {
                let docs: Vec<Document> = col
                    .find(filter)
                    .sort(sort)
                    .limit(limit)
                    .await
                    .map_err(|e| e.to_string())?
                    .try_collect()
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(docs.len() as u64)
            }
        })
        .await;
        raw_p50.push(load.stats());
    }
    let lcol = raw_db.collection::<Document>("leaderboards");
    let min = app.config.leaderboard_min_finalized as i64;
    let raw_board = run_load(c, Stop::Time(secs / 2), move |_, _| {
        let col = lcol.clone();
        async move {
            let docs: Vec<Document> = col
                .find(doc! { "results": { "$gte": min } })
                .sort(doc! { "winRate": -1, "totalSales": -1, "totalRevenue": -1, "_id": 1 })
                .limit(21)
                .await
                .map_err(|e| e.to_string())?
                .try_collect()
                .await
                .map_err(|e| e.to_string())?;
            Ok(docs.len() as u64)
        }
    })
    .await
    .stats();
    let (raw_find, raw_insert) = raw_round_trips(&raw_db, c, secs / 2, 1000).await;
    let (raw1_find, _) = raw_round_trips(&raw_db, 1, secs / 4, 1000).await;
    println!(
        "market cache: MARKET_CACHE_TTL = {:?} (0 = every browse queries the database)",
        app.config.market_cache_ttl
    );

    // One client, one request at a time: the cost of a request without queueing.
    let mut seq = latency_table("One client, sequential requests (no queueing); last column: p50 over the raw query of the same shape, also alone");
    for (i, (name, q)) in MIXES.iter().enumerate() {
        let (filter, sort, limit) = raw_browse_shape(&app, i);
        let col = raw_db.collection::<Document>("bettingcodes");
        let raw = run_load(1, Stop::Count(3), move |_, _| {
            let (col, filter, sort) = (col.clone(), filter.clone(), sort.clone());
            async move {
                let docs: Vec<Document> = col
                    .find(filter)
                    .sort(sort)
                    .limit(limit)
                    .await
                    .map_err(|e| e.to_string())?
                    .try_collect()
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(docs.len() as u64)
            }
        })
        .await
        .stats();
        let a = app.clone();
        let q = q.to_string();
        let api = run_load(1, Stop::Count(20), move |_, _| {
            let (a, q) = (a.clone(), q.clone());
            async move {
                a.get(&q, None).await?.expect(200)?;
                Ok(())
            }
        })
        .await
        .stats();
        seq.row(latency_row(
            name,
            1,
            &api,
            Some(BROWSE_TARGET),
            Some(raw.p50),
        ));
        seq.row(latency_row("  raw find, same shape", 1, &raw, None, None));
    }
    let a = app.clone();
    let board = run_load(1, Stop::Count(20), move |_, _| {
        let a = a.clone();
        async move {
            a.get("/leaderboard", None).await?.expect(200)?;
            Ok(())
        }
    })
    .await
    .stats();
    seq.row(latency_row(
        "GET /leaderboard (rank)",
        1,
        &board,
        Some(LEADERBOARD_TARGET),
        Some(raw1_find.p50),
    ));
    let (a, v, vc) = (app.clone(), voters.clone(), vote_codes.clone());
    let seq_votes = run_load(1, Stop::Count(v.len().min(20)), move |_, n| {
        let (a, v, vc) = (a.clone(), v.clone(), vc.clone());
        async move {
            // The second-to-last vote code, kept for this phase.
            let code = &vc[VOTE_CODES - 2];
            a.post(
                &format!("/codes/{code}/votes"),
                Some(&v[n].access),
                &json!({ "voteType": "WIN" }),
                None,
            )
            .await?
            .expect(201)?;
            Ok(())
        }
    })
    .await
    .stats();
    seq.row(latency_row(
        "POST /codes/{id}/votes",
        1,
        &seq_votes,
        Some(VOTE_TARGET),
        Some(raw1_find.p50),
    ));

    // The mixed phase: browse mixes, leaderboard and votes from the same clients at once.
    let cursor_page = app.get("/codes", None).await.expect("page 1").data()["nextCursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    let next_vote = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (a, v, vc, nv) = (
        app.clone(),
        voters.clone(),
        vote_codes.clone(),
        next_vote.clone(),
    );
    let page2 = Arc::new(format!("/codes?cursor={cursor_page}"));
    let mixed = run_load(c, Stop::Time(secs * 2), move |_, n| {
        let (a, v, vc, nv, page2) = (a.clone(), v.clone(), vc.clone(), nv.clone(), page2.clone());
        async move {
            let kind = n % 10;
            if kind < 5 {
                let (label, q): (usize, String) = if kind == 4 {
                    (MIXES.len(), page2.to_string())
                } else {
                    let m = (n / 10) % MIXES.len();
                    (m, MIXES[m].1.to_owned())
                };
                let (latency, r) = timed(a.get(&q, None)).await;
                r?.expect(200)?;
                Ok(Timed {
                    latency,
                    value: label,
                })
            } else if kind < 7 {
                let q = if kind == 5 {
                    "/leaderboard"
                } else {
                    "/leaderboard?sort=totalRevenue"
                };
                let (latency, r) = timed(a.get(q, None)).await;
                r?.expect(200)?;
                Ok(Timed {
                    latency,
                    value: 100 + kind - 5,
                })
            } else {
                // Each vote is a fresh (code, voter) pair: voter k of code j.
                let i = nv.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let (code, voter) = (
                    vc[..VOTE_CODES - 2]
                        .get(i / v.len())
                        .ok_or("out of vote codes")?,
                    &v[i % v.len()],
                );
                let body = json!({ "voteType": if i % 3 == 0 { "LOSS" } else { "WIN" } });
                let (latency, r) = timed(a.post(
                    &format!("/codes/{code}/votes"),
                    Some(&voter.access),
                    &body,
                    None,
                ))
                .await;
                r?.expect(201)?;
                Ok(Timed {
                    latency,
                    value: 200,
                })
            }
        }
    })
    .await;
    print_errors("mixed phase", &mixed);
    let of = |label: usize| {
        let lat: Vec<Duration> = mixed
            .latencies
            .iter()
            .zip(&mixed.values)
            .filter(|(_, v)| **v == label)
            .map(|(d, _)| *d)
            .collect();
        Stats::from(lat, 0, mixed.wall)
    };

    let mut t = latency_table(&format!("Mixed concurrent load: {c} clients for {} s (5/10 browse, 2/10 leaderboard, 3/10 votes); last column: p50 over the raw query of the same shape", (secs * 2).as_secs()));
    for (i, (name, _)) in MIXES.iter().enumerate() {
        t.row(latency_row(
            name,
            c,
            &of(i),
            Some(BROWSE_TARGET),
            Some(raw_p50[i].p50),
        ));
    }
    t.row(latency_row(
        "GET /codes?cursor=... (page 2, default)",
        c,
        &of(MIXES.len()),
        Some(BROWSE_TARGET),
        Some(raw_p50[0].p50),
    ));
    t.row(latency_row(
        "GET /leaderboard (rank)",
        c,
        &of(100),
        Some(LEADERBOARD_TARGET),
        Some(raw_board.p50),
    ));
    t.row(latency_row(
        "GET /leaderboard?sort=totalRevenue",
        c,
        &of(101),
        Some(LEADERBOARD_TARGET),
        Some(raw_board.p50),
    ));
    t.row(latency_row(
        "POST /codes/{id}/votes",
        c,
        &of(200),
        Some(VOTE_TARGET),
        Some(raw_insert.p50),
    ));
    t.print();

    let mut r = latency_table(&format!(
        "Raw driver queries of the same shapes, alone, {c} clients"
    ));
    for (i, (name, _)) in MIXES.iter().enumerate() {
        r.row(latency_row(
            &format!("raw find: {name}"),
            c,
            &raw_p50[i],
            None,
            None,
        ));
    }
    r.row(latency_row(
        "raw find: leaderboard rank page",
        c,
        &raw_board,
        None,
        None,
    ));
    r.row(latency_row("raw find_one by _id", c, &raw_find, None, None));
    r.row(latency_row("raw insert_one", c, &raw_insert, None, None));
    r.row(latency_row(
        "raw find_one by _id (1 client)",
        1,
        &raw1_find,
        None,
        None,
    ));
    r.print();
    seq.print();
    rt.print();
    println!("\nat the end: {}", app.collection_sizes(&sizes).await);
    app.finish().await;
}
