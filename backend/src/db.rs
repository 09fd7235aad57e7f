//! Collections and their indexes. Every index is created idempotently at startup.

use crate::metrics::{Metrics, PoolState};
use mongodb::bson::{doc, oid::ObjectId, DateTime, Document};
use mongodb::options::IndexOptions;
use mongodb::{Client, Collection, Database, IndexModel};
use std::sync::atomic::{AtomicU64, Ordering};

static COMMANDS_STARTED: AtomicU64 = AtomicU64::new(0);

/// Database commands sent by every client of this process since it started, counted by the driver's
/// command monitoring (per command: the driver copies the command and its reply into owned documents,
/// microseconds, then one relaxed atomic add). Benchmarks diff it around one request to count its
/// round trips; no request path sends two commands at once, so that is also the sequential count.
pub fn commands_started() -> u64 {
    COMMANDS_STARTED.load(Ordering::Relaxed)
}

/// The database commands of one request, counted by the driver's command monitoring in the
/// request's own task (the driver reports a command from the task that awaits it; work spawned
/// off the request path is not counted). `sequential` counts the round trips a request waits for
/// one after the other: commands started while another of the same request is in flight
/// (`tokio::join!`) share its round trip.
#[derive(Debug, Default)]
pub struct RoundTrips {
    in_flight: AtomicU64,
    sequential: AtomicU64,
    commands: AtomicU64,
}

impl RoundTrips {
    fn started(&self) {
        self.commands.fetch_add(1, Ordering::Relaxed);
        if self.in_flight.fetch_add(1, Ordering::Relaxed) == 0 {
            self.sequential.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn ended(&self) {
        let _ = self
            .in_flight
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }

    /// Round trips waited for one after the other.
    pub fn sequential(&self) -> u64 {
        self.sequential.load(Ordering::Relaxed)
    }

    /// Commands sent, concurrent ones counted each.
    pub fn commands(&self) -> u64 {
        self.commands.load(Ordering::Relaxed)
    }
}

tokio::task_local! {
    static ROUND_TRIPS: std::sync::Arc<RoundTrips>;
}

/// Runs `work` counting its database round trips (see [`RoundTrips`]).
pub async fn count_round_trips<F: std::future::Future>(
    work: F,
) -> (F::Output, std::sync::Arc<RoundTrips>) {
    let trips = std::sync::Arc::new(RoundTrips::default());
    let out = ROUND_TRIPS.scope(trips.clone(), work).await;
    (out, trips)
}

/// Runs `work` outside the current request's count: for the sandbox payment provider, which
/// stands in for a provider's HTTP API and happens to keep its state in the same database.
pub async fn uncounted<F: std::future::Future>(work: F) -> F::Output {
    ROUND_TRIPS
        .scope(std::sync::Arc::new(RoundTrips::default()), work)
        .await
}

#[derive(Clone)]
pub struct Db {
    pub client: Client,
    pub db: Database,
    /// This application's metrics: the command monitor below feeds them, and every flow holding
    /// the database records its business events into them.
    pub metrics: Metrics,
}

impl Db {
    pub async fn connect(uri: &str, name: &str) -> Result<Db, mongodb::error::Error> {
        let mut options = mongodb::options::ClientOptions::parse(uri).await?;
        options.app_name = Some("oddxer-backend".into());
        options.server_selection_timeout = Some(std::time::Duration::from_secs(5));
        options.connect_timeout = Some(std::time::Duration::from_secs(5));
        let metrics = Metrics::new();
        let commands = metrics.clone();
        options.command_event_handler =
            Some(mongodb::event::EventHandler::callback(move |event| {
                use mongodb::event::command::CommandEvent;
                match event {
                    CommandEvent::Started(e) => {
                        COMMANDS_STARTED.fetch_add(1, Ordering::Relaxed);
                        let _ = ROUND_TRIPS.try_with(|t| t.started());
                        commands.db_command_started(e.request_id, &e.command_name, &e.command);
                    }
                    CommandEvent::Succeeded(e) => {
                        let _ = ROUND_TRIPS.try_with(|t| t.ended());
                        commands.db_command_finished(e.request_id, e.duration);
                    }
                    CommandEvent::Failed(e) => {
                        let _ = ROUND_TRIPS.try_with(|t| t.ended());
                        commands.db_command_finished(e.request_id, e.duration);
                    }
                    _ => {}
                }
            }));
        let pool = metrics.clone();
        options.cmap_event_handler = Some(mongodb::event::EventHandler::callback(move |event| {
            use mongodb::event::cmap::CmapEvent;
            match event {
                CmapEvent::ConnectionCreated(_) => pool.db_pool(PoolState::Open, 1.0),
                CmapEvent::ConnectionClosed(_) => pool.db_pool(PoolState::Open, -1.0),
                CmapEvent::ConnectionCheckedOut(_) => pool.db_pool(PoolState::InUse, 1.0),
                CmapEvent::ConnectionCheckedIn(_) => pool.db_pool(PoolState::InUse, -1.0),
                _ => {}
            }
        }));
        let client = Client::with_options(options)?;
        Ok(Db {
            db: client.database(name),
            client,
            metrics,
        })
    }

    pub fn col(&self, name: &str) -> Collection<Document> {
        self.db.collection(name)
    }

    /// `docs` of `collection` read into `T` with serde. A document that does not parse is not
    /// dropped silently: it is logged (warn, with the collection, its `_id` and the field serde
    /// names) and counted in `oddxer_db_rows_unreadable_total{collection}`, then left out.
    pub fn rows<T: serde::de::DeserializeOwned>(
        &self,
        collection: &'static str,
        docs: Vec<Document>,
    ) -> Vec<T> {
        docs.into_iter()
            .filter_map(|d| self.row(collection, d))
            .collect()
    }

    /// The one document of `collection` that `filter` matches, read into `T` as [`Db::row`] does:
    /// `None` when there is none, and when it does not parse (logged and counted).
    pub async fn find_row<T: serde::de::DeserializeOwned>(
        &self,
        collection: &'static str,
        filter: Document,
    ) -> mongodb::error::Result<Option<T>> {
        let found = self.col(collection).find_one(filter).await?;
        Ok(found.and_then(|d| self.row(collection, d)))
    }

    /// One document of `collection` read into `T`; `None` (logged and counted as in
    /// [`Db::rows`]) when it does not parse.
    pub fn row<T: serde::de::DeserializeOwned>(
        &self,
        collection: &'static str,
        doc: Document,
    ) -> Option<T> {
        let id = doc.get("_id").cloned();
        match mongodb::bson::from_document(doc) {
            Ok(row) => Some(row),
            Err(error) => {
                tracing::warn!(collection, id = ?id, %error, "a stored document does not parse; left out");
                self.metrics.row_unreadable(collection);
                None
            }
        }
    }

    pub async fn ping(&self) -> Result<(), mongodb::error::Error> {
        self.db.run_command(doc! { "ping": 1 }).await.map(|_| ())
    }

    pub async fn ensure_indexes(&self) -> Result<(), mongodb::error::Error> {
        for (collection, keys, unique) in INDEXES {
            let keys: Document = keys
                .iter()
                .map(|(k, dir)| (k.to_string(), (*dir).into()))
                .collect();
            let name = keys
                .keys()
                .zip(keys.values())
                .map(|(k, v)| format!("{k}_{v}"))
                .collect::<Vec<_>>()
                .join("_");
            let options = IndexOptions::builder().unique(*unique).name(name).build();
            let model = IndexModel::builder().keys(keys).options(options).build();
            self.col(collection).create_index(model).await?;
        }
        Ok(())
    }
}

type IndexSpec = (&'static str, &'static [(&'static str, i32)], bool);

/// The seed's indexes plus the unique ones the money rules need (DESIGN.md section 4).
pub const INDEXES: &[IndexSpec] = &[
    // users (seed)
    ("users", &[("phoneNumber", 1)], true),
    ("users", &[("username", 1)], true),
    ("users", &[("role", 1)], false),
    ("users", &[("isActive", 1)], false),
    // betting codes (seed)
    ("bettingcodes", &[("seller", 1), ("status", 1)], false),
    ("bettingcodes", &[("sport", 1), ("status", 1)], false),
    (
        "bettingcodes",
        &[("status", 1), ("sport", 1), ("price", 1)],
        false,
    ),
    ("bettingcodes", &[("price", 1)], false),
    ("bettingcodes", &[("expiresAt", 1)], false),
    ("bettingcodes", &[("createdAt", -1)], false),
    ("bettingcodes", &[("soldTo", 1)], false),
    // marketplace browsing (issue 4): equality fields, then the sort key, then `_id` (the keyset
    // tiebreak); `codes::store::index_for` names the one each query shape uses.
    (
        "bettingcodes",
        &[("status", 1), ("createdAt", -1), ("_id", -1)],
        false,
    ),
    (
        "bettingcodes",
        &[("status", 1), ("price", 1), ("_id", 1)],
        false,
    ),
    (
        "bettingcodes",
        &[("status", 1), ("odds", 1), ("_id", 1)],
        false,
    ),
    (
        "bettingcodes",
        &[("status", 1), ("expiresAt", 1), ("_id", 1)],
        false,
    ),
    (
        "bettingcodes",
        &[("status", 1), ("sport", 1), ("createdAt", -1), ("_id", -1)],
        false,
    ),
    (
        "bettingcodes",
        &[("status", 1), ("sport", 1), ("price", 1), ("_id", 1)],
        false,
    ),
    (
        "bettingcodes",
        &[("status", 1), ("sport", 1), ("odds", 1), ("_id", 1)],
        false,
    ),
    (
        "bettingcodes",
        &[("status", 1), ("sport", 1), ("expiresAt", 1), ("_id", 1)],
        false,
    ),
    (
        "bettingcodes",
        &[("seller", 1), ("status", 1), ("createdAt", -1), ("_id", -1)],
        false,
    ),
    (
        "bettingcodes",
        &[("seller", 1), ("status", 1), ("price", 1), ("_id", 1)],
        false,
    ),
    (
        "bettingcodes",
        &[("seller", 1), ("status", 1), ("odds", 1), ("_id", 1)],
        false,
    ),
    (
        "bettingcodes",
        &[("seller", 1), ("status", 1), ("expiresAt", 1), ("_id", 1)],
        false,
    ),
    (
        "bettingcodes",
        &[("seller", 1), ("createdAt", -1), ("_id", -1)],
        false,
    ),
    // the market cache reads what changed by update bucket (`codes::store::touched`)
    ("bettingcodes", &[("updatedBucket", 1)], false),
    // marketplace decisions and their read models
    (
        "code_resolutions",
        &[("applied", 1), ("createdAt", 1)],
        false,
    ),
    ("code_resolutions", &[("seller", 1)], false),
    ("leaderboard_contributions", &[("seller", 1)], false),
    // the 7- and 30-day and per-sport leaderboards read contributions per UTC day and per sport
    ("leaderboard_contributions", &[("day", 1)], false),
    ("leaderboard_contributions", &[("sport", 1)], false),
    // follows: `_id` = "{follower}:{seller}" decides; counted by seller, listed by follower
    ("follows", &[("seller", 1)], false),
    // admins' changes of users, read per user for the admin's user detail
    ("admin_user_changes", &[("user", 1)], false),
    ("follows", &[("follower", 1)], false),
    ("purchases", &[("bettingCode", 1), ("status", 1)], false),
    // one purchase per (code, buyer) among those not FAILED: `claim` is unset when one fails
    ("purchases", &[("claim", 1)], true),
    ("purchases", &[("buyer", 1), ("status", 1)], false),
    ("purchases", &[("seller", 1), ("status", 1)], false),
    ("purchases", &[("status", 1), ("createdAt", 1)], false),
    ("sale_slots", &[("purchase", 1)], false),
    // a seller's running sales totals: one row per (purchase, event)
    ("seller_totals", &[("key", 1)], true),
    // transactions (seed) — reference is unique: the provider reference is stored before the call
    ("transactions", &[("user", 1), ("type", 1)], false),
    ("transactions", &[("user", 1), ("status", 1)], false),
    ("transactions", &[("reference", 1)], true),
    ("transactions", &[("createdAt", -1)], false),
    // the recovery worker's PENDING transfers (few at any time)
    ("transactions", &[("status", 1), ("type", 1)], false),
    // the daily withdrawal limit: one reservation stream per (user, UTC day), a reservation and a
    // release at most once per withdrawal (`wallet::quota`)
    ("withdrawal_quota", &[("stream", 1)], false),
    ("withdrawal_quota", &[("key", 1)], true),
    // votes (seed)
    ("votes", &[("bettingCode", 1), ("voter", 1)], true),
    ("votes", &[("bettingCode", 1), ("voteType", 1)], false),
    ("votes", &[("voter", 1)], false),
    // leaderboards (seed)
    ("leaderboards", &[("seller", 1)], true),
    ("leaderboards", &[("winRate", -1)], false),
    ("leaderboards", &[("totalSales", -1)], false),
    ("leaderboards", &[("totalRevenue", -1)], false),
    (
        "leaderboards",
        &[("winRate", -1), ("totalSales", -1), ("totalRevenue", -1)],
        false,
    ),
    ("leaderboards", &[("rank", 1)], false),
    // the leaderboard cache reads rows written since its last refresh (`leaderboard::cache`)
    ("leaderboards", &[("updatedBucket", 1)], false),
    // ledger: a leg is applied once per transfer and account; entries are read per account in seq order
    ("ledger_entries", &[("transferId", 1), ("account", 1)], true),
    // the periodic reconcile reads the transfers decided in a minute (`admin::recent`)
    ("transfer_outcomes", &[("bucket", 1)], false),
    ("ledger_entries", &[("account", 1), ("seq", -1)], false),
    // pages of one account's history are read bucket by bucket (`ledger::entries::bucket_of`)
    ("ledger_entries", &[("bucket", 1)], false),
    // purchases sync stream: one row per (purchase, version)
    ("purchase_stream", &[("stream", 1), ("key", 1)], true),
    ("purchase_stream", &[("stream", 1), ("seq", 1)], false),
    // FAILED transfers awaiting their second look (ledger::transfer::Transfers::recheck_failed)
    ("transfer_outcomes", &[("recheck", 1)], false),
    // Sync reads a buyer's stream bucket by bucket (`purchases::stream::after`).
    ("purchase_stream", &[("bucket", 1)], false),
    // auth
    ("refresh_tokens", &[("family", 1)], false),
    (
        "sms_outbox",
        &[("phoneNumber", 1), ("createdAt", -1)],
        false,
    ),
];

/// The cursor of a newest-first page (purchases, wallet transactions): the last row's `createdAt` (milliseconds) and
/// id, `"{millis}_{hex}"`. Ids may be derived from idempotency keys, so they are not ordered
/// by time; the page is ordered by `(createdAt, _id)` descending.
pub fn page_cursor(created_at: DateTime, id: ObjectId) -> String {
    format!("{}_{}", created_at.timestamp_millis(), id.to_hex())
}

/// The filter part for rows after `cursor` in newest-first order (`createdAt`, then `_id`,
/// descending); `None` for a cursor this server did not issue.
pub fn after_cursor(cursor: &str) -> Option<Document> {
    after_cursor_by(cursor, "_id")
}

/// [`after_cursor`] for a page ordered by `createdAt`, then the ObjectId field `tie` (descending).
pub fn after_cursor_by(cursor: &str, tie: &str) -> Option<Document> {
    let (millis, hex) = cursor.split_once('_')?;
    let at = DateTime::from_millis(millis.parse().ok()?);
    let id = ObjectId::parse_str(hex).ok()?;
    Some(
        doc! { "$or": [ { "createdAt": { "$lt": at } }, { "createdAt": at, tie: { "$lt": id } } ] },
    )
}

/// Serde helpers for the stores' document types (`#[serde(deserialize_with = ...)]`).
pub mod de {
    use mongodb::bson::{Bson, DateTime};
    use serde::{Deserialize, Deserializer};

    /// A whole number field of any BSON number type (FerretDB and the drivers may store a count
    /// as int32, int64 or double); 0 when null or not a number. Minor units and counts only; use
    /// with `#[serde(default)]` so a missing field is 0 too.
    pub fn whole_number<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        Ok(match Bson::deserialize(d)? {
            Bson::Int64(n) => n,
            Bson::Int32(n) => i64::from(n),
            Bson::Double(f) => f as i64,
            _ => 0,
        })
    }

    /// The default of a time a document may lack (`updatedAt` on rows written before it
    /// existed): the earliest time, so such rows sort first and read as old.
    pub fn earliest() -> DateTime {
        DateTime::MIN
    }

    /// The default of a flag that is on unless said otherwise (`isActive`).
    pub fn yes() -> bool {
        true
    }
}
