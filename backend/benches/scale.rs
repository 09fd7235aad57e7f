//! Scale benchmark (issue 8 item 4, DESIGN.md section 9: "cost flat as data grows"): every main
//! request measured on an empty database, then again after bulk-loading 1,000,000 ledger entries,
//! 100,000 users, 100,000 codes and 200,000 purchases, at 1 client and at `BENCH_CONCURRENCY`
//! clients; printed side by side with the large/empty ratio, the request's sequential database
//! round trips (`x-db-round-trips`), the design's p99 target and a raw `_id` round trip of the same run.
//! A second table times the background worker's pass (issue 15: the periodic windowed reconcile
//! over the transfers each phase decided, the metrics gauges) against the full reconcile.
//!
//! `MONGODB_URI=mongodb://127.0.0.1:27180 cargo bench -p oddxer-backend --bench scale`
//!
//! `SCALE_FACTOR` (default 1.0) scales the loaded sizes (0.01 for a quick run on the SQLite dev
//! database); `BENCH_LOAD_PARALLEL` (default 4) concurrent inserters, `BENCH_LOAD_BATCH` (default
//! 2000) documents per `insert_many`; see `backend/benches/common/mod.rs` for `BENCH_CONCURRENCY`,
//! `BENCH_SECS` (the 1-client phase of each request runs half of it), `BENCH_KEEP_DB`.
//!
//! The load goes through the stores' own document builders (`…_doc`), so it has exactly the shapes
//! the backend writes: ledger entries with their `bucket`, contiguous `seq` and a `balanceAfter`
//! chain, purchases with their `claim`, leaderboard contributions and rows from the backend's rules.
//! Figures only; nothing is asserted.

mod common;

use common::*;
use mongodb::bson::{oid::ObjectId, Bson, DateTime, Document};
use oddxer_backend::auth::store::user_doc;
use oddxer_backend::codes::rules::Listing;
use oddxer_backend::codes::store::{new_code_doc, touched};
use oddxer_backend::leaderboard::rules::{Contribution, Row, Terms};
use oddxer_backend::leaderboard::store::{contribution_doc, row_doc};
use oddxer_backend::ledger::accounts;
use oddxer_backend::ledger::entries::entry_doc;
use oddxer_backend::ledger::transfer::minute_bucket;
use oddxer_backend::purchases::store::{purchase_doc, Purchase};
use oddxer_shared::api::{PurchaseStatus, Settlement};
use oddxer_shared::{CodeStatus, Outcome, Role, Sport};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const HOUR: i64 = 3_600_000;
/// Codes of the purchase phases: each client buys each at most once, so a pool per phase set-up.
const PURCHASE_CODES: usize = 600;
/// Codes in their voting window, each bought by every client and one buyer who never votes (so
/// no code is decided by its last vote during the run).
const VOTE_CODES: usize = 300;
const PRICE: i64 = 1_000;

// ---------------------------------------------------------------------------------------------
// Sizes

#[derive(Debug, Clone, Copy)]
struct Sizes {
    entries: usize,
    users: usize,
    codes: usize,
    purchases: usize,
    /// Users `0..sellers` are sellers; the loaded codes are theirs.
    sellers: usize,
    /// Wallet accounts carrying the entries: owned by users `sellers..sellers + wallets`.
    wallets: usize,
    /// The first `heavy` wallets (the clients measured on the large database sign in as their
    /// owners) carry a quarter of all entries between them.
    heavy: usize,
}

impl Sizes {
    fn new(factor: f64, clients: usize) -> Sizes {
        let n = |full: f64, min: usize| ((full * factor) as usize).max(min);
        let users = n(100_000.0, 4 * clients + 100);
        let sellers = (users / 50).max(10);
        let entries = n(1_000_000.0, 1000);
        let heavy = clients;
        let wallets = (entries / 100).clamp(heavy + 1, users - sellers);
        Sizes {
            entries,
            users,
            codes: n(100_000.0, 100),
            purchases: n(200_000.0, 200),
            sellers,
            wallets,
            heavy,
        }
    }

    /// Entries of wallet `w`: contiguous ranges, so wallet `w` holds `start..start + len`.
    fn wallet_len(&self, w: usize) -> usize {
        let heavy_total = self.entries / 4;
        let rest = self.entries - heavy_total;
        let light = self.wallets - self.heavy;
        if w < self.heavy {
            heavy_total / self.heavy + usize::from(w < heavy_total % self.heavy)
        } else {
            let i = w - self.heavy;
            rest / light + usize::from(i < rest % light)
        }
    }

    fn wallet_owner(&self, w: usize) -> usize {
        self.sellers + w
    }

    /// Loaded purchases of code `i` (they are spread round-robin over the codes).
    fn purchases_of(&self, i: usize) -> usize {
        self.purchases / self.codes + usize::from(i < self.purchases % self.codes)
    }

    /// The `k`-th buyer of code `i`: distinct for the few `k` a code has, never a seller.
    fn buyer_of(&self, i: usize, k: usize) -> usize {
        let buyers = self.users - self.sellers;
        self.sellers + (i * 7 + k * 7919) % buyers
    }
}

/// Deterministic ids: the loaders generate batches independently and in any order.
fn oid(kind: u8, i: usize) -> ObjectId {
    let mut b = [0u8; 12];
    b[0..4].copy_from_slice(&0x6500_0000u32.to_be_bytes());
    b[4] = kind;
    b[5..12].copy_from_slice(&(i as u64).to_be_bytes()[1..8]);
    ObjectId::from_bytes(b)
}

fn user_id(i: usize) -> ObjectId {
    oid(1, i)
}
fn phone(i: usize) -> String {
    // Valid Ugandan mobile numbers (077x), apart from the `+25670…` of `common::unique_phone`.
    format!("+25677{i:07}")
}
fn username(i: usize) -> String {
    format!("load_{i}")
}
fn at(ms: i64) -> DateTime {
    DateTime::from_millis(ms)
}

// ---------------------------------------------------------------------------------------------
// The loaded data

/// What one loaded code is (a pure function of its index).
struct CodePlan {
    id: ObjectId,
    seller: usize,
    status: CodeStatus,
    outcome: Option<Outcome>,
    listing: Listing,
    created: i64,
}

fn code_plan(i: usize, now: i64, bookmakers: &[String]) -> CodePlan {
    let mut rng = StdRng::seed_from_u64(0xC0DE_0000 + i as u64);
    let seller_roll: usize = rng.gen();
    // 85 % finalized history, 10 % waiting for votes, 5 % live.
    let roll = rng.gen_range(0..100);
    let (status, outcome, expires) = match roll {
        0..=84 => {
            let o = [
                Outcome::Won,
                Outcome::Lost,
                Outcome::Lost,
                Outcome::Won,
                Outcome::Won,
                Outcome::Lost,
                Outcome::Void,
            ][rng.gen_range(0..7)];
            let s = match o {
                Outcome::Won => CodeStatus::Won,
                Outcome::Lost => CodeStatus::Lost,
                Outcome::Void => CodeStatus::Void,
            };
            (s, Some(o), now - rng.gen_range(30..2_000) * HOUR)
        }
        85..=94 => (
            CodeStatus::AwaitingResult,
            None,
            now - rng.gen_range(1..20) * HOUR,
        ),
        _ => (CodeStatus::Active, None, now + rng.gen_range(1..72) * HOUR),
    };
    let listing = Listing {
        sport: Sport::ALL[rng.gen_range(0..Sport::ALL.len())],
        title: format!("Loaded accumulator {i}"),
        description: "Four legs, researched form".into(),
        odds: rng.gen_range(110..3_000),
        bookmaker: bookmakers[rng.gen_range(0..bookmakers.len())].clone(),
        price: [500, 1_000, 2_000, 5_000, 10_000, 25_000][rng.gen_range(0..6)],
        code: format!("LD{i:09}"),
        expires_at: at(expires),
        max_buyers: 5,
    };
    CodePlan {
        id: oid(2, i),
        seller: seller_roll,
        status,
        outcome,
        listing,
        created: expires - rng.gen_range(2..48) * HOUR,
    }
}

/// Codes `range`: the code documents, their purchases and (finalized codes) their leaderboard contributions.
fn code_batch(
    s: Sizes,
    range: std::ops::Range<usize>,
    now: i64,
    bookmakers: &[String],
    terms: Terms,
) -> Vec<(&'static str, Vec<Document>)> {
    let (mut codes, mut purchases, mut contributions) = (vec![], vec![], vec![]);
    for i in range {
        let p = code_plan(i, now, bookmakers);
        let seller = p.seller % s.sellers;
        let sales = s.purchases_of(i);
        let mut d = new_code_doc(
            p.id,
            user_id(seller),
            &username(seller),
            &Listing {
                max_buyers: p.listing.max_buyers.max(sales as i64),
                ..p.listing.clone()
            },
            at(p.created),
        );
        d.insert("status", p.status.as_str());
        d.insert("salesCount", sales as i64);
        // History was last written when it was finalized (or expired): its `updatedBucket` lies in
        // the past, as the backend's writes left it. Live codes keep the fresh one `new_code_doc`
        // gives, so the market cache picks them up as it would a new listing.
        if p.status != CodeStatus::Active {
            let last = p.listing.expires_at.timestamp_millis()
                + if p.outcome.is_some() { 20 * HOUR } else { 0 };
            d.extend(touched(at(last)));
        }
        if let Some(o) = p.outcome {
            let finalized = p.listing.expires_at.timestamp_millis() + 20 * HOUR;
            let win = if o == Outcome::Won { sales as i64 } else { 0 };
            d.insert("outcome", o.as_str());
            d.insert("finalizedAt", at(finalized));
            d.insert("winVotes", win);
            d.insert("lossVotes", sales as i64 - win);
            d.insert("totalVotes", sales as i64);
            let c = Contribution::new(
                p.id,
                user_id(seller),
                &username(seller),
                o,
                p.listing.odds,
                &vec![p.listing.price; sales],
                terms,
            );
            contributions.push(contribution_doc(&c, at(finalized)));
        }
        codes.push(d);
        for k in 0..sales {
            let buyer = s.buyer_of(i, k);
            let created = p.created + (k as i64 + 1) * 60_000;
            let settlement = match p.outcome {
                Some(Outcome::Void) => Some(Settlement::Refunded),
                Some(_) => Some(Settlement::PaidOut),
                None => None,
            };
            let purchase = Purchase {
                id: oid(3, i * 64 + k),
                code: p.id,
                buyer: user_id(buyer),
                seller: user_id(seller),
                price: p.listing.price,
                status: PurchaseStatus::Completed,
                settlement,
                created_at: at(created),
            };
            purchases.push(purchase_doc(
                &purchase,
                &p.listing.title,
                &username(buyer),
                at(created),
            ));
        }
    }
    vec![
        ("bettingcodes", codes),
        ("purchases", purchases),
        ("leaderboard_contributions", contributions),
    ]
}

/// Wallets `range`: each wallet's whole history (contiguous `seq` from 1, `balanceAfter` chained,
/// never below zero, the first `heavy` ones kept above 10,000,000 so their owners can buy during
/// the measurement), and the wallet account documents.
fn wallet_batch(
    s: Sizes,
    range: std::ops::Range<usize>,
    now: i64,
    currency: &oddxer_shared::Currency,
) -> Vec<(&'static str, Vec<Document>)> {
    let (mut entries, mut accts) = (vec![], vec![]);
    for w in range {
        let owner = s.wallet_owner(w);
        let account = accounts::wallet(user_id(owner));
        let mut rng = StdRng::seed_from_u64(0x3A11_0000 + w as u64);
        let len = s.wallet_len(w) as i64;
        let start = now - 90 * 24 * HOUR;
        accts.push(accounts::account_doc(
            &account,
            Some(user_id(owner)),
            currency,
            at(start),
        ));
        let mut balance = 0i64;
        for seq in 1..=len {
            let roll = rng.gen_range(0..100);
            let price = [500, 1_000, 2_000, 5_000, 10_000, 25_000][rng.gen_range(0..6)];
            let (amount, kind, description) = if seq == 1 {
                (50_000_000, "DEPOSIT", "Deposit via MTN MoMo")
            } else if roll < 60 && balance - price >= 10_000_000 {
                (-price, "PURCHASE", "Purchase of a betting code")
            } else if roll < 85 {
                (
                    rng.gen_range(1..200) * 1_000,
                    "DEPOSIT",
                    "Deposit via MTN MoMo",
                )
            } else {
                (price - price / 10, "SALE_PAYOUT", "Sale payout")
            };
            balance += amount;
            let created = start + seq * (90 * 24 * HOUR) / (len + 1);
            entries.push(entry_doc(
                &account,
                seq,
                &ObjectId::new().to_hex(),
                amount,
                balance,
                kind,
                description,
                at(created),
            ));
        }
    }
    vec![("ledger_entries", entries), ("accounts", accts)]
}

/// Groups consecutive items of the given sizes into batches of about `batch` documents.
fn group(sizes: impl Iterator<Item = usize>, batch: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = vec![];
    let (mut start, mut filled, mut i) = (0, 0, 0);
    for n in sizes {
        filled += n;
        i += 1;
        if filled >= batch {
            out.push(start..i);
            start = i;
            filled = 0;
        }
    }
    if start < i {
        out.push(start..i);
    }
    out
}

async fn load_large(app: &BenchApp, s: Sizes) {
    let parallel = std::env::var("BENCH_LOAD_PARALLEL")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4usize);
    let batch = std::env::var("BENCH_LOAD_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000usize);
    let now = DateTime::now().timestamp_millis();
    println!(
        "\nloading: {} ledger entries over {} wallets ({} heavy ones of ~{} entries), {} users ({} sellers), {} codes, {} purchases; {parallel} inserters, batches of {batch}",
        s.entries,
        s.wallets,
        s.heavy,
        s.wallet_len(0),
        s.users,
        s.sellers,
        s.codes,
        s.purchases
    );
    let started = Instant::now();

    let t = Instant::now();
    let users = bulk_load(&app.db, s.users.div_ceil(batch), parallel, move |b| {
        let created = at(now - 200 * 24 * HOUR);
        let docs = (b * batch..((b + 1) * batch).min(s.users))
            .map(|i| {
                user_doc(
                    user_id(i),
                    &phone(i),
                    &username(i),
                    if i < s.sellers {
                        Role::Seller
                    } else {
                        Role::Buyer
                    },
                    true,
                    created,
                )
            })
            .collect();
        vec![("users", docs)]
    })
    .await;
    println!(
        "  users: {users} documents in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let ranges = Arc::new(group((0..s.wallets).map(|w| s.wallet_len(w)), batch));
    let currency = app.config.currency.clone();
    let r = ranges.clone();
    let entries = bulk_load(&app.db, ranges.len(), parallel, move |b| {
        wallet_batch(s, r[b].clone(), now, &currency)
    })
    .await;
    println!(
        "  ledger entries and accounts: {entries} documents in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    // A code brings about three documents (itself, purchases, a contribution).
    let per = (batch / 3).max(1);
    let books = app.config.bookmakers.clone();
    let terms = Terms::from_config(&app.config);
    let codes = bulk_load(&app.db, s.codes.div_ceil(per), parallel, move |b| {
        code_batch(s, b * per..((b + 1) * per).min(s.codes), now, &books, terms)
    })
    .await;
    println!(
        "  codes, purchases, leaderboard contributions: {codes} documents in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // Leaderboard rows from the same plans, by the backend's rules (Row::add of each contribution).
    let t = Instant::now();
    let mut rows: HashMap<usize, Row> = HashMap::new();
    for i in 0..s.codes {
        let p = code_plan(i, now, &app.config.bookmakers);
        let Some(o) = p.outcome else { continue };
        let seller = p.seller % s.sellers;
        let c = Contribution::new(
            p.id,
            user_id(seller),
            &username(seller),
            o,
            p.listing.odds,
            &vec![p.listing.price; s.purchases_of(i)],
            terms,
        );
        rows.entry(seller)
            .or_insert_with(|| Row::new(user_id(seller), &username(seller)))
            .add(&c);
    }
    let docs: Vec<Document> = rows.values().map(|r| row_doc(r, DateTime::now())).collect();
    let chunks: Arc<Vec<Vec<Document>>> =
        Arc::new(docs.chunks(batch).map(|c| c.to_vec()).collect());
    let ch = chunks.clone();
    let n_rows = bulk_load(&app.db, chunks.len(), parallel, move |b| {
        vec![("leaderboards", ch[b].clone())]
    })
    .await;
    println!(
        "  leaderboard rows: {n_rows} in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    println!(
        "load time: {:.1} s ({} documents)",
        started.elapsed().as_secs_f64(),
        users + entries + codes + n_rows
    );
}

// ---------------------------------------------------------------------------------------------
// The measured requests

/// What a phase (empty or large) measures with: signed-in clients, their refresh-token chains,
/// codes to buy, codes to vote on, a code to view.
struct Fixture {
    clients: Arc<Vec<Session>>,
    refresh: Arc<Vec<Mutex<String>>>,
    purchase_codes: Arc<Vec<String>>,
    /// Next purchase code of each client.
    purchase_next: Arc<Vec<AtomicUsize>>,
    vote_codes: Arc<Vec<String>>,
    /// Next (code, voter) pair: pair `i` is voter `i % clients` on code `i / clients`.
    vote_next: Arc<AtomicUsize>,
    view_code: String,
    /// The fixture's seller (hex id), whose profile is read.
    seller: String,
}

/// Codes straight into the database through the store's builder (untimed set-up): `n` codes of
/// `seller` with `max_buyers` places; `past` ones kicked off an hour ago and wait for votes.
async fn insert_codes(
    app: &BenchApp,
    seller: ObjectId,
    seller_name: &str,
    n: usize,
    max_buyers: i64,
    past: bool,
    tag: &str,
) -> Vec<ObjectId> {
    let now = DateTime::now().timestamp_millis();
    let mut ids = vec![];
    let mut docs = vec![];
    for i in 0..n {
        let l = Listing {
            sport: Sport::Football,
            title: format!("Bench {tag} {i}"),
            description: "Five legs, home wins".into(),
            odds: 475,
            bookmaker: app.config.bookmakers[0].clone(),
            price: PRICE,
            code: format!("{}{i:06}", tag.to_uppercase()),
            expires_at: at(if past { now - HOUR } else { now + 6 * HOUR }),
            max_buyers,
        };
        let id = ObjectId::new();
        let mut d = new_code_doc(
            id,
            seller,
            seller_name,
            &l,
            at(now - if past { 5 * HOUR } else { 0 }),
        );
        if past {
            // Every place is bought (the purchases follow): the labels as the backend leaves them,
            // so a vote does not count buyers before the last one (resolution::voting).
            d.insert("status", CodeStatus::AwaitingResult.as_str());
            d.insert("salesCount", max_buyers);
        }
        docs.push(d);
        ids.push(id);
    }
    for chunk in docs.chunks(500) {
        app.db
            .col("bettingcodes")
            .insert_many(chunk.to_vec())
            .await
            .expect("insert bench codes");
    }
    ids
}

async fn fixture(
    app: &Arc<BenchApp>,
    clients: Vec<Session>,
    seller: ObjectId,
    seller_name: &str,
    tag: &str,
) -> Fixture {
    let c = clients.len();
    // Every client (and one silent buyer) bought every vote code: purchases as the backend writes them.
    let vote_ids = insert_codes(
        app,
        seller,
        seller_name,
        VOTE_CODES,
        c as i64 + 1,
        true,
        &format!("v{tag}"),
    )
    .await;
    let mut purchases = vec![];
    let now = DateTime::now();
    for code in &vote_ids {
        let buyers = clients
            .iter()
            .map(|s| {
                (
                    ObjectId::parse_str(&s.user_id).expect("client id"),
                    "client",
                )
            })
            .chain([(ObjectId::new(), "silent")]);
        for (buyer, name) in buyers {
            let p = Purchase {
                id: ObjectId::new(),
                code: *code,
                buyer,
                seller,
                price: PRICE,
                status: PurchaseStatus::Completed,
                settlement: None,
                created_at: now,
            };
            purchases.push(purchase_doc(&p, "Bench vote code", name, now));
        }
    }
    for chunk in purchases.chunks(1000) {
        app.db
            .col("purchases")
            .insert_many(chunk.to_vec())
            .await
            .expect("vote purchases");
    }
    let purchase_ids = insert_codes(
        app,
        seller,
        seller_name,
        PURCHASE_CODES,
        c as i64,
        false,
        &format!("p{tag}"),
    )
    .await;
    let view = insert_codes(app, seller, seller_name, 1, 1, false, &format!("w{tag}")).await;
    // Warm each client's wallet head once (the backend caches heads): both phases start warm.
    for s in &clients {
        app.get("/wallet", Some(&s.access))
            .await
            .and_then(|r| r.expect(200))
            .expect("warm wallet");
    }
    Fixture {
        refresh: Arc::new(
            clients
                .iter()
                .map(|s| Mutex::new(s.refresh.clone()))
                .collect(),
        ),
        clients: Arc::new(clients),
        purchase_codes: Arc::new(purchase_ids.iter().map(|i| i.to_hex()).collect()),
        purchase_next: Arc::new((0..c).map(|_| AtomicUsize::new(0)).collect()),
        vote_codes: Arc::new(vote_ids.iter().map(|i| i.to_hex()).collect()),
        vote_next: Arc::new(AtomicUsize::new(0)),
        view_code: view[0].to_hex(),
        seller: seller.to_hex(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Req {
    VerifyOtp,
    Refresh,
    Browse,
    ViewCode,
    Purchase,
    Wallet,
    Transactions,
    Vote,
    Leaderboard,
    DepositConfirm,
    MyPurchases,
    SellerProfile,
    Following,
}

impl Req {
    const ALL: [Req; 13] = [
        Req::VerifyOtp,
        Req::Refresh,
        Req::Browse,
        Req::ViewCode,
        Req::Purchase,
        Req::Wallet,
        Req::Transactions,
        Req::Vote,
        Req::Leaderboard,
        Req::DepositConfirm,
        Req::MyPurchases,
        Req::SellerProfile,
        Req::Following,
    ];

    fn name(self) -> &'static str {
        match self {
            Req::VerifyOtp => "POST /auth/verify-otp (new user)",
            Req::Refresh => "POST /auth/refresh",
            Req::Browse => "GET /codes",
            Req::ViewCode => "GET /codes/{id}",
            Req::Purchase => "POST /codes/{id}/purchase",
            Req::Wallet => "GET /wallet",
            Req::Transactions => "GET /wallet/transactions",
            Req::Vote => "POST /codes/{id}/votes",
            Req::Leaderboard => "GET /leaderboard",
            Req::DepositConfirm => "deposit confirmation",
            Req::MyPurchases => "GET /purchases",
            Req::SellerProfile => "GET /sellers/{id}",
            Req::Following => "GET /me/following",
        }
    }

    /// DESIGN.md section 9: (area, p99 target under 32 clients in ms, sequential round trips at most).
    fn target(self) -> (&'static str, u64, Option<u64>) {
        match self {
            Req::VerifyOtp => ("auth", 30, Some(4)),
            Req::Refresh => ("auth", 30, Some(3)),
            Req::Browse => ("browse", 20, Some(1)),
            Req::ViewCode => ("browse", 20, None),
            Req::Purchase => ("purchase", 50, Some(8)),
            Req::Wallet => ("wallet", 30, Some(2)),
            Req::Transactions => ("wallet", 30, None),
            Req::Vote => ("vote", 20, Some(4)),
            Req::Leaderboard => ("leaderboard", 25, None),
            Req::DepositConfirm => ("wallet", 30, Some(6)),
            // No targets of their own in DESIGN.md section 9: held to browse's, as reads a
            // person waits on.
            Req::MyPurchases => ("browse", 20, None),
            Req::SellerProfile => ("browse", 20, None),
            Req::Following => ("browse", 20, None),
        }
    }
}

/// One request of kind `req` by client `w`: its latency (only the request itself; preparation such
/// as registering the user or opening the deposit is untimed) and its round trips.
async fn one(
    app: &BenchApp,
    f: &Fixture,
    req: Req,
    w: usize,
) -> Result<Timed<Option<u64>>, String> {
    let me = &f.clients[w % f.clients.len()];
    let (latency, r) = match req {
        Req::VerifyOtp => {
            let phone = unique_phone();
            app.post(
                "/auth/register",
                None,
                &json!({ "phoneNumber": phone, "username": unique_username(), "role": "BUYER" }),
                None,
            )
            .await?
            .expect(201)?;
            let otp = app.last_otp(&phone).await?;
            let (l, r) = timed(app.post(
                "/auth/verify-otp",
                None,
                &json!({ "phoneNumber": phone, "otp": otp }),
                None,
            ))
            .await;
            (l, r?.expect(200)?)
        }
        Req::Refresh => {
            let slot = &f.refresh[w % f.refresh.len()];
            let token = slot.lock().map_err(|_| "poisoned")?.clone();
            let (l, r) = timed(app.post(
                "/auth/refresh",
                None,
                &json!({ "refreshToken": token }),
                None,
            ))
            .await;
            let r = r?.expect(200)?;
            *slot.lock().map_err(|_| "poisoned")? = r.data()["refreshToken"]
                .as_str()
                .ok_or("no refresh token")?
                .to_owned();
            (l, r)
        }
        Req::Browse => {
            let (l, r) = timed(app.get("/codes", None)).await;
            (l, r?.expect(200)?)
        }
        Req::ViewCode => {
            let (l, r) = timed(app.get(&format!("/codes/{}", f.view_code), Some(&me.access))).await;
            (l, r?.expect(200)?)
        }
        Req::Purchase => {
            let i = f.purchase_next[w % f.purchase_next.len()].fetch_add(1, Ordering::Relaxed);
            let code = f.purchase_codes.get(i).ok_or("out of purchase codes")?;
            let (l, r) = timed(app.post(
                &format!("/codes/{code}/purchase"),
                Some(&me.access),
                &json!({}),
                Some(&new_key()),
            ))
            .await;
            (l, r?.expect(200)?)
        }
        Req::Wallet => {
            let (l, r) = timed(app.get("/wallet", Some(&me.access))).await;
            (l, r?.expect(200)?)
        }
        Req::Transactions => {
            let (l, r) = timed(app.get("/wallet/transactions", Some(&me.access))).await;
            (l, r?.expect(200)?)
        }
        Req::MyPurchases => {
            let (l, r) = timed(app.get("/purchases", Some(&me.access))).await;
            (l, r?.expect(200)?)
        }
        Req::SellerProfile => {
            let path = format!("/sellers/{}", f.seller);
            let (l, r) = timed(app.get(&path, Some(&me.access))).await;
            (l, r?.expect(200)?)
        }
        Req::Following => {
            let (l, r) = timed(app.get("/me/following", Some(&me.access))).await;
            (l, r?.expect(200)?)
        }
        Req::Vote => {
            let i = f.vote_next.fetch_add(1, Ordering::Relaxed);
            let code = f
                .vote_codes
                .get(i / f.clients.len())
                .ok_or("out of vote codes")?;
            let voter = &f.clients[i % f.clients.len()];
            let body = json!({ "voteType": if i.is_multiple_of(3) { "LOSS" } else { "WIN" } });
            let (l, r) = timed(app.post(
                &format!("/codes/{code}/votes"),
                Some(&voter.access),
                &body,
                None,
            ))
            .await;
            (l, r?.expect(201)?)
        }
        Req::Leaderboard => {
            let (l, r) = timed(app.get("/leaderboard", None)).await;
            (l, r?.expect(200)?)
        }
        Req::DepositConfirm => {
            let body =
                json!({ "amount": 10_000, "paymentMethod": "MTN_MOMO", "phoneNumber": me.phone });
            let r = app
                .post(
                    "/wallet/deposits",
                    Some(&me.access),
                    &body,
                    Some(&new_key()),
                )
                .await?
                .expect(202)?;
            let reference = r.data()["reference"]
                .as_str()
                .ok_or("no reference")?
                .to_owned();
            let (l, r) = timed(app.post(
                &format!("/dev/payments/{reference}/complete"),
                None,
                &json!({}),
                None,
            ))
            .await;
            (l, r?.expect(200)?)
        }
    };
    Ok(Timed {
        latency,
        value: r.round_trips,
    })
}

#[derive(Default, Clone)]
struct Measured {
    one: Stats,
    many: Stats,
    /// Round trips of the 1-client requests.
    trips: Vec<u64>,
}

/// Each request at 1 client (half a phase, at most `cap1` requests) and at `c` clients (a phase).
async fn measure_all(
    app: &Arc<BenchApp>,
    f: &Arc<Fixture>,
    c: usize,
    secs: Duration,
    label: &str,
) -> HashMap<&'static str, Measured> {
    let mut out = HashMap::new();
    for req in Req::ALL {
        let mut m = Measured::default();
        for clients in [1, c] {
            // Votes draw from a fixed pool of (code, voter) pairs: the 1-client phase takes a bounded share.
            let stop = match (req, clients) {
                (Req::Vote, 1) => Stop::CountOrTime(VOTE_CODES / 4 * f.clients.len(), secs / 2),
                (Req::Vote, _) => Stop::CountOrTime(
                    (VOTE_CODES * f.clients.len())
                        .saturating_sub(f.vote_next.load(Ordering::Relaxed)),
                    secs,
                ),
                (Req::Purchase, 1) => Stop::CountOrTime(PURCHASE_CODES / 3, secs / 2),
                (_, 1) => Stop::Time(secs / 2),
                _ => Stop::Time(secs),
            };
            let (a, fx) = (app.clone(), f.clone());
            let load = run_load(clients, stop, move |w, _| {
                let (a, fx) = (a.clone(), fx.clone());
                async move { one(&a, &fx, req, w).await }
            })
            .await;
            print_errors(
                &format!("{label}: {} at {clients} clients", req.name()),
                &load,
            );
            if clients == 1 {
                m.trips = load.values.iter().flatten().copied().collect();
                m.one = load.stats();
            } else {
                m.many = load.stats();
            }
        }
        println!(
            "  {label}: {:<34} 1 client p50 {:>7} ms | {c} clients p50 {:>7} ms p99 {:>7} ms",
            req.name(),
            ms(m.one.p50),
            ms(m.many.p50),
            ms(m.many.p99)
        );
        out.insert(req.name(), m);
    }
    out
}

/// The raw `_id` round trips of the same run: `find_one` on the scratch collection of `raw_round_trips`
/// and on `ledger_entries` as it stands, at 1 and `c` clients.
async fn raw_figures(
    raw: &mongodb::Database,
    c: usize,
    secs: Duration,
    entry_ids: Vec<Bson>,
) -> [Stats; 4] {
    let (scratch1, _) = raw_round_trips(raw, 1, secs / 2, 1000).await;
    let (scratch, _) = raw_round_trips(raw, c, secs / 2, 1000).await;
    let entries1 = raw_find_ids(raw, "ledger_entries", entry_ids.clone(), 1, secs / 2).await;
    let entries = raw_find_ids(raw, "ledger_entries", entry_ids, c, secs / 2).await;
    [scratch1, scratch, entries1, entries]
}

fn scale_factor() -> f64 {
    std::env::var("SCALE_FACTOR")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|f: &f64| *f > 0.0)
        .unwrap_or(1.0)
}

/// What one background worker pass cost (see `worker_pass`).
struct WorkerFigures {
    transfers: usize,
    windowed: Duration,
    pass: Duration,
    full: String,
}

impl WorkerFigures {
    fn per_transfer(&self) -> String {
        if self.transfers == 0 {
            return "-".into();
        }
        format!(
            "{:.2} ms",
            self.windowed.as_secs_f64() * 1000.0 / self.transfers as f64
        )
    }
}

/// Times the periodic reconcile over the minutes since `from_bucket` (as the worker would once
/// they have settled), one whole metrics pass, and the full reconcile (at most 5 minutes).
async fn worker_pass(app: &BenchApp, from_bucket: i64) -> WorkerFigures {
    use oddxer_backend::admin::recent::Watermark;
    let upto = minute_bucket(DateTime::now()) + 1;
    let t = Instant::now();
    let report = Watermark::starting_at(from_bucket)
        .pass(&app.state.db, upto)
        .await
        .expect("windowed reconcile");
    let windowed = t.elapsed();
    if !report.violations.is_empty() {
        println!(
            "windowed reconcile found violations: {:?}",
            report.violations
        );
    }
    let lag = app.state.config.recovery_after
        + app.state.config.recovery_interval
        + Duration::from_secs(120);
    let later = DateTime::from_millis(DateTime::now().timestamp_millis() + lag.as_millis() as i64);
    let t = Instant::now();
    oddxer_backend::observe::Observer::starting_at(from_bucket)
        .pass(&app.state, later)
        .await
        .expect("metrics pass");
    let pass = t.elapsed();
    let t = Instant::now();
    let full = match tokio::time::timeout(
        Duration::from_secs(300),
        oddxer_backend::admin::reconcile::run(&app.state),
    )
    .await
    {
        Ok(Ok(r)) => format!(
            "{} ({} entries, {} transfers)",
            ms(t.elapsed()),
            r.entries,
            r.transfers
        ),
        Ok(Err(e)) => format!("failed: {e}"),
        Err(_) => "over 300 s".into(),
    };
    WorkerFigures {
        transfers: report.transfers,
        windowed,
        pass,
        full,
    }
}

const SIZES: [&str; 10] = [
    "ledger_entries",
    "accounts",
    "users",
    "bettingcodes",
    "purchases",
    "leaderboard_contributions",
    "leaderboards",
    "transactions",
    "votes",
    "refresh_tokens",
];

#[tokio::main]
async fn main() {
    let c = concurrency();
    let secs = phase_time();
    let factor = scale_factor();
    let app = Arc::new(BenchApp::spawn("scale", &[]).await);
    print_context("scale", &app);
    let sizes = Sizes::new(factor, c);
    println!("SCALE_FACTOR {factor}: the large database holds {} ledger entries, {} users, {} codes, {} purchases", sizes.entries, sizes.users, sizes.codes, sizes.purchases);
    let raw = raw_client(&app.config.db_name).await;

    // 1. The empty database: only the users and codes the measurement needs.
    let seller = app.signed_in_user("SELLER").await.expect("seller");
    let seller_id = ObjectId::parse_str(&seller.user_id).expect("seller id");
    let seller_name = app
        .get("/auth/me", Some(&seller.access))
        .await
        .ok()
        .and_then(|r| r.data()["username"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let clients = app.signed_in_users("BUYER", c, 8).await;
    for s in &clients {
        app.fund(s, 5_000_000).await.expect("fund client");
    }
    let empty_fx = Arc::new(fixture(&app, clients, seller_id, &seller_name, "e").await);
    let empty_sizes = app.collection_sizes(&SIZES).await;
    println!("\nempty database: {empty_sizes}");
    let empty_entry_ids: Vec<Bson> = empty_fx
        .clients
        .iter()
        .map(|s| Bson::String(format!("wallet:{}:1", s.user_id)))
        .collect();
    let empty_bucket = minute_bucket(DateTime::now());
    let empty = measure_all(&app, &empty_fx, c, secs, "empty").await;
    let raw_empty = raw_figures(&raw, c, secs, empty_entry_ids).await;
    let worker_empty = worker_pass(&app, empty_bucket).await;

    // 2. The large database, loaded through the stores' document builders.
    load_large(&app, sizes).await;
    let large_sizes = app.collection_sizes(&SIZES).await;
    println!("large database: {large_sizes}");

    // 3. The same requests by owners of loaded wallets (long histories), signed in through the API.
    let mut clients = vec![];
    for i in 0..c {
        clients.push(
            app.sign_in_existing(&phone(sizes.wallet_owner(i)))
                .await
                .expect("sign in a loaded user"),
        );
    }
    let large_fx = Arc::new(fixture(&app, clients, user_id(0), &username(0), "l").await);
    let mut rng = StdRng::seed_from_u64(9);
    let large_entry_ids: Vec<Bson> = (0..2000)
        .map(|_| {
            let w = rng.gen_range(0..sizes.wallets);
            let seq = rng.gen_range(1..=sizes.wallet_len(w).max(1));
            Bson::String(format!(
                "{}:{seq}",
                accounts::wallet(user_id(sizes.wallet_owner(w)))
            ))
        })
        .collect();
    let large_bucket = minute_bucket(DateTime::now());
    let large = measure_all(&app, &large_fx, c, secs, "large").await;
    let raw_large = raw_figures(&raw, c, secs, large_entry_ids).await;
    let worker_large = worker_pass(&app, large_bucket).await;

    // 4. One table.
    let mut t = Table::new(
        &format!(
            "Scale: empty vs large database (SCALE_FACTOR {factor}); p99 target under {c} clients from DESIGN.md section 9, flat = large/empty p50 within 1.5x; round trips from x-db-round-trips (1-client requests, empty / large, budget)"
        ),
        &["request", "clients", "p50", "p95", "p99 (empty)", "p50", "p95", "p99 (large)", "large/empty p50", "round trips", "target", "met?"],
    );
    let ratio = |a: &Stats, b: &Stats| {
        if a.n == 0 || b.n == 0 || a.p50.is_zero() {
            f64::NAN
        } else {
            b.p50.as_secs_f64() / a.p50.as_secs_f64()
        }
    };
    for req in Req::ALL {
        let (e, l) = (&empty[req.name()], &large[req.name()]);
        let (area, target, budget) = req.target();
        let trips = format!(
            "{} / {}{}",
            count_summary(e.trips.clone()),
            count_summary(l.trips.clone()),
            budget.map(|b| format!(" (<= {b})")).unwrap_or_default()
        );
        for (clients, es, ls) in [(1, &e.one, &l.one), (c, &e.many, &l.many)] {
            let r = ratio(es, ls);
            let flat = r.is_finite() && r <= 1.5;
            let mut misses = vec![];
            if !flat {
                misses.push(if r.is_finite() {
                    format!("{r:.1}x")
                } else {
                    "no data".into()
                });
            }
            let target_cell = if clients == c {
                if ls.p99 > Duration::from_millis(target) {
                    misses.push(format!("p99 {}", ms(ls.p99)));
                }
                format!("{area} p99 {target} ms, 1.5x")
            } else {
                "1.5x".into()
            };
            let met = if misses.is_empty() {
                "yes".into()
            } else {
                format!("no: {}", misses.join(", "))
            };
            t.row(vec![
                if clients == 1 {
                    req.name().to_owned()
                } else {
                    String::new()
                },
                clients.to_string(),
                ms(es.p50),
                ms(es.p95),
                ms(es.p99),
                ms(ls.p50),
                ms(ls.p95),
                ms(ls.p99),
                if r.is_finite() {
                    format!("{r:.2}x")
                } else {
                    "-".into()
                },
                if clients == 1 {
                    trips.clone()
                } else {
                    String::new()
                },
                target_cell,
                met,
            ]);
        }
    }
    let raw_rows = [
        ("raw find_one {_id} (bench_raw, 1,000 docs)", 0usize),
        ("raw find_one {_id} (ledger_entries)", 2),
    ];
    for (name, k) in raw_rows {
        for (j, clients) in [(0usize, 1usize), (1, c)] {
            let (es, ls) = (&raw_empty[k + j], &raw_large[k + j]);
            let r = ratio(es, ls);
            t.row(vec![
                if clients == 1 {
                    name.to_owned()
                } else {
                    String::new()
                },
                clients.to_string(),
                ms(es.p50),
                ms(es.p95),
                ms(es.p99),
                ms(ls.p50),
                ms(ls.p95),
                ms(ls.p99),
                if r.is_finite() {
                    format!("{r:.2}x")
                } else {
                    "-".into()
                },
                "1".into(),
                "-".into(),
                "-".into(),
            ]);
        }
    }
    t.print();
    let mut w = Table::new(
        "Background worker (issue 15): the periodic windowed reconcile over the transfers the phase above decided, the whole metrics pass (pending transfers, users by role, that reconcile), and the full GET /admin/reconcile for contrast",
        &["database", "transfers checked", "windowed reconcile", "per transfer", "metrics pass", "full reconcile"],
    );
    for (name, f) in [("empty", &worker_empty), ("large", &worker_large)] {
        w.row(vec![
            name.into(),
            f.transfers.to_string(),
            ms(f.windowed),
            f.per_transfer(),
            ms(f.pass),
            f.full.clone(),
        ]);
    }
    w.print();
    println!("\nsamples per cell (empty / large, 1 client | {c} clients):");
    for req in Req::ALL {
        let (e, l) = (&empty[req.name()], &large[req.name()]);
        println!(
            "  {:<34} {} / {} | {} / {}",
            req.name(),
            e.one.n,
            l.one.n,
            e.many.n,
            l.many.n
        );
    }
    println!("\ncollections, empty: {empty_sizes}");
    println!("collections, large: {large_sizes}");
    println!("at the end:         {}", app.collection_sizes(&SIZES).await);
    print_load_average();
    app.finish().await;
}
