//! The purchases sync stream (DESIGN.md section 6): per buyer, an append-only stream of full
//! purchase rows. Positions are assigned by inserting `{stream}:{N+1}` after reading head N (never
//! reserved from a counter), so commit order equals cursor order; a row is appended once per
//! (purchase, version) thanks to the unique `{stream, key}` index.

use super::store::Purchase;
use crate::clock;
use crate::codes::store::Code;
use crate::db::Db;
use crate::error::{is_duplicate_key, AppError, Result};
use crate::state::AppState;
use futures_util::TryStreamExt;
use mongodb::bson::{doc, oid::ObjectId, Document};
use mongodb::options::FindOptions;
use oddxer_shared::api::{CodeOut, PurchaseOut};
use oddxer_shared::sync::PurchaseStreamEntry;
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, OnceLock};

pub const COLLECTION: &str = "purchase_stream";
const MAX_APPEND_TRIES: usize = 64;

pub fn stream_of(user: ObjectId) -> String {
    format!("purchases:{}", user.to_hex())
}

/// Row version when bought.
pub const VERSION_BOUGHT: i64 = 1;
/// Row version once the code kicked off: AWAITING_RESULT, voting open on the device.
pub const VERSION_KICKED_OFF: i64 = 2;
/// Row version once settled (paid out or refunded); the code's final status is labelled before.
pub const VERSION_SETTLED: i64 = 3;

/// The version a purchase's row has by the purchase alone: bought or settled. A client keeps the
/// highest version of each purchase, so versions only grow along a code's life.
pub fn version_of(p: &Purchase) -> i64 {
    if p.settlement.is_some() {
        VERSION_SETTLED
    } else {
        VERSION_BOUGHT
    }
}

/// Marker collection: `_id` = code id once every completed purchase of the code has its
/// [`VERSION_KICKED_OFF`] row (inserted after the rows, so a crash in between redoes the rows,
/// which the unique `{stream, key}` index makes harmless).
pub const KICKOFF_MARKERS: &str = "purchase_kickoffs";

fn kickoffs_done() -> &'static Mutex<HashSet<ObjectId>> {
    static DONE: OnceLock<Mutex<HashSet<ObjectId>>> = OnceLock::new();
    DONE.get_or_init(|| Mutex::new(HashSet::new()))
}

/// Re-versions the purchase rows of a code that kicked off, so a buyer's synced copy stops
/// counting down to kick-off and opens voting (the row's code reads AWAITING_RESULT). Called by
/// the marketplace worker for every code awaiting its result; a code is done once per database
/// (marker) and looked up once per process. Waits (returns `false`) while a purchase of the code is
/// still PENDING: its own append, later, carries the status of that moment.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn kicked_off(state: &AppState, code: &Code) -> Result<bool> {
    if code.listing.expires_at > clock::now() {
        return Ok(false);
    }
    if kickoffs_done()
        .lock()
        .map(|d| d.contains(&code.id))
        .unwrap_or(false)
    {
        return Ok(true);
    }
    let db = &state.db;
    if db
        .col(KICKOFF_MARKERS)
        .find_one(doc! { "_id": code.id })
        .await?
        .is_none()
    {
        if !super::store::pending_of_code(db, code.id).await?.is_empty() {
            return Ok(false);
        }
        let completed = super::store::list(
            db,
            doc! { "bettingCode": code.id, "status": "COMPLETED" },
            doc! { "_id": 1 },
            code.listing.max_buyers.max(1),
        )
        .await?;
        for p in completed.iter().filter(|p| p.settlement.is_none()) {
            append_version(state, p, code, VERSION_KICKED_OFF).await?;
        }
        match db
            .col(KICKOFF_MARKERS)
            .insert_one(doc! { "_id": code.id, "at": clock::now() })
            .await
        {
            Ok(_) => {}
            Err(e) if is_duplicate_key(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if let Ok(mut done) = kickoffs_done().lock() {
        if done.len() >= MAX_KNOWN_HEADS {
            done.clear();
        }
        done.insert(code.id);
    }
    Ok(true)
}

async fn row_at(db: &Db, stream: &str, seq: i64) -> mongodb::error::Result<Option<Document>> {
    db.col(COLLECTION)
        .find_one(doc! { "_id": format!("{stream}:{seq}") })
        .await
}

/// Last known positions of streams this process has seen (keyed by database and stream); only a
/// starting point: [`head`] always confirms it by `_id`.
fn known_heads() -> &'static Mutex<HashMap<String, i64>> {
    static HEADS: OnceLock<Mutex<HashMap<String, i64>>> = OnceLock::new();
    HEADS.get_or_init(|| Mutex::new(HashMap::new()))
}

const MAX_KNOWN_HEADS: usize = 100_000;

fn remember(key: String, seq: i64) {
    if let Ok(mut heads) = known_heads().lock() {
        if heads.len() >= MAX_KNOWN_HEADS {
            heads.clear();
        }
        let slot = heads.entry(key).or_insert(0);
        *slot = (*slot).max(seq);
    }
}

/// The stream's last position (0 when empty), by `_id` lookups only: rows exist for exactly the
/// positions `1..=N`, so from the last known position it gallops forward and bisects (one lookup
/// when nothing was appended elsewhere, O(log N) for a stream this process has not seen).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn head(db: &Db, stream: &str) -> mongodb::error::Result<i64> {
    let key = format!("{}/{stream}", db.db.name());
    let mut lo = known_heads()
        .lock()
        .ok()
        .and_then(|h| h.get(&key).copied())
        .unwrap_or(0);
    let mut step = 1i64;
    let mut hi = loop {
        if row_at(db, stream, lo + step).await?.is_some() {
            lo += step;
            step = step.saturating_mul(2);
        } else {
            break lo + step;
        }
    };
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if row_at(db, stream, mid).await?.is_some() {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    remember(key, lo);
    Ok(lo)
}

/// Appends the purchase as it stands now to its buyer's stream (once per version).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn append(state: &AppState, p: &Purchase, code: &Code) -> Result<()> {
    append_version(state, p, code, version_of(p)).await
}

async fn append_version(state: &AppState, p: &Purchase, code: &Code, version: i64) -> Result<()> {
    let row = purchase_out(state, p, code);
    let stream = stream_of(p.buyer);
    let key = format!("{}:v{version}", p.id.to_hex());
    let payload = mongodb::bson::to_bson(&row).map_err(|e| AppError::Internal(e.into()))?;
    let db = &state.db;
    for _ in 0..MAX_APPEND_TRIES {
        let seq = head(db, &stream).await? + 1;
        let d = doc! {
            "_id": format!("{stream}:{seq}"), "stream": &stream, "seq": seq, "key": &key,
            "version": version, "purchase": payload.clone(), "createdAt": clock::now(),
            "bucket": bucket_of(&stream, seq),
        };
        match db.col(COLLECTION).insert_one(d).await {
            Ok(_) => {
                remember(format!("{}/{stream}", db.db.name()), seq);
                state.hub.purchases_changed(p.buyer);
                return Ok(());
            }
            Err(e) if is_duplicate_key(&e) => {
                // Either the position was taken (retry at the new head) or this version is in already.
                if db
                    .col(COLLECTION)
                    .find_one(doc! { "stream": &stream, "key": &key })
                    .await?
                    .is_some()
                {
                    return Ok(());
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::internal(format!(
        "purchases stream {stream}: too much contention"
    )))
}

/// Rows per bucket: the stream is read bucket by bucket, like the ledger (see
/// [`crate::ledger::entries::BUCKET_SIZE`]).
pub const BUCKET_SIZE: i64 = 64;

/// Up to this many positions are read by `_id` rather than by bucket.
const FEW_BY_ID: i64 = 4;

/// The bucket a row is filed under, `{stream}#{seq / BUCKET_SIZE}` (indexed): the development
/// database serves only `_id` equality and equality on an indexed field from an index, so a
/// range over `seq` would fetch the buyer's whole stream and filter it afterwards.
pub fn bucket_of(stream: &str, seq: i64) -> String {
    format!("{stream}#{}", seq / BUCKET_SIZE)
}

/// For bulk loading (benchmarks): the row [`append`] inserts at position `seq` of `stream` for
/// `purchase` at `version` (keep the two in step). The caller keeps positions contiguous and
/// `(stream, purchase, version)` unique.
pub fn row_doc(
    stream: &str,
    seq: i64,
    version: i64,
    purchase: &PurchaseOut,
) -> mongodb::bson::ser::Result<Document> {
    Ok(doc! {
        "_id": format!("{stream}:{seq}"), "stream": stream, "seq": seq, "key": format!("{}:v{version}", purchase.id),
        "version": version, "purchase": mongodb::bson::to_bson(purchase)?, "createdAt": clock::now(),
        "bucket": bucket_of(stream, seq),
    })
}

/// The rows of one bucket with positions in `(after, upto]`, in position order. A bucket that holds
/// fewer rows than those positions was (at least partly) written before rows carried a `bucket`:
/// that range is read with the older range query instead, so such streams still sync whole.
async fn bucket_rows(
    db: &Db,
    stream: &str,
    bucket: i64,
    after: i64,
    upto: i64,
) -> mongodb::error::Result<Vec<PurchaseStreamEntry>> {
    let lo = after.max(bucket * BUCKET_SIZE - 1);
    let hi = upto.min(bucket * BUCKET_SIZE + BUCKET_SIZE - 1);
    if lo >= hi {
        return Ok(Vec::new());
    }
    let docs: Vec<Document> = db
        .col(COLLECTION)
        .find(doc! { "bucket": format!("{stream}#{bucket}") })
        .await?
        .try_collect()
        .await?;
    let mut rows: Vec<PurchaseStreamEntry> = db.rows(COLLECTION, docs);
    rows.retain(|e| e.seq > lo && e.seq <= hi);
    if (rows.len() as i64) < hi - lo {
        let options = FindOptions::builder().sort(doc! { "seq": 1 }).build();
        let docs: Vec<Document> = db
            .col(COLLECTION)
            .find(doc! { "stream": stream, "seq": { "$gt": lo, "$lte": hi } })
            .with_options(options)
            .await?
            .try_collect()
            .await?;
        rows = db.rows(COLLECTION, docs);
    }
    rows.sort_by_key(|e| e.seq);
    Ok(rows)
}

/// Rows after `cursor` up to `upto`, in position order, from the next `buckets` buckets at most
/// (read at once, each an equality read on the indexed `bucket`): memory per call is bounded by
/// `buckets * BUCKET_SIZE` rows however long the stream. Empty when `cursor >= upto`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn after(
    db: &Db,
    stream: &str,
    cursor: i64,
    upto: i64,
    buckets: i64,
) -> mongodb::error::Result<Vec<PurchaseStreamEntry>> {
    if cursor >= upto || buckets < 1 {
        return Ok(Vec::new());
    }
    if upto - cursor <= FEW_BY_ID {
        // A live update is a row or two: read them by `_id` rather than their whole bucket.
        let reads = (cursor.max(0) + 1..=upto).map(|seq| row_at(db, stream, seq));
        let found = futures_util::future::try_join_all(reads).await?;
        return Ok(db.rows(COLLECTION, found.into_iter().flatten().collect()));
    }
    let first = (cursor.max(0) + 1) / BUCKET_SIZE;
    let last = (upto / BUCKET_SIZE).min(first + buckets - 1);
    let reads = (first..=last).map(|b| bucket_rows(db, stream, b, cursor, upto));
    Ok(futures_util::future::try_join_all(reads)
        .await?
        .into_iter()
        .flatten()
        .collect())
}

/// A purchase as its buyer sees it: with the code and its secret.
pub fn purchase_out(state: &AppState, p: &Purchase, code: &Code) -> PurchaseOut {
    let code = view_for_buyer(state, code);
    PurchaseOut {
        id: p.id.to_hex(),
        code_id: p.code.to_hex(),
        buyer_id: p.buyer.to_hex(),
        price: oddxer_shared::Money::new(p.price, &state.config.currency),
        status: p.status,
        settlement: p.settlement,
        code,
        created_at: clock::rfc3339(p.created_at),
    }
}

/// The code with its secret, as its buyer sees it.
pub fn view_for_buyer(state: &AppState, code: &Code) -> CodeOut {
    code.to_out(
        &state.config.currency,
        state.config.voting_window,
        clock::now(),
        true,
    )
}
