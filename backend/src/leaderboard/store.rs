//! `leaderboard_contributions` (one per finalized code, inserted once) and `leaderboards` (one row
//! per seller, rewritten from that seller's contributions).

use super::rules::{Contribution, Row};
use crate::clock;
use crate::codes::resolutions::RESOLUTIONS;
use crate::codes::store::{CODES, PURCHASES, PURCHASE_COMPLETED};
use crate::db::{de, Db};
use crate::error::is_duplicate_key;
use futures_util::TryStreamExt;
use mongodb::bson::{doc, oid::ObjectId, DateTime, Document};
use oddxer_shared::Outcome;
use std::collections::HashMap;

pub const CONTRIBUTIONS: &str = "leaderboard_contributions";
pub const ROWS: &str = "leaderboards";

/// The UTC day number (days since 1970-01-01) of an instant: contributions are read per day for
/// the 7- and 30-day leaderboards (equality on the indexed `day`, one read per day).
pub fn day_of(at: DateTime) -> i64 {
    at.timestamp_millis().div_euclid(86_400_000)
}

/// The contribution document [`insert_contribution`] inserts (also for bulk loads in benchmarks).
pub fn contribution_doc(c: &Contribution, now: DateTime) -> Document {
    let (w, l, v) = match c.outcome {
        oddxer_shared::Outcome::Won => (1i64, 0i64, 0i64),
        oddxer_shared::Outcome::Lost => (0, 1, 0),
        oddxer_shared::Outcome::Void => (0, 0, 1),
    };
    doc! {
        "_id": c.code, "seller": c.seller, "username": &c.username, "outcome": c.outcome.as_str(), "odds": c.odds,
        "sales": c.sales, "revenue": c.revenue, "wins": w, "losses": l, "voids": v, "roi": c.roi(),
        "sport": c.sport.map(|s| s.as_str()), "day": day_of(now), "createdAt": now,
    }
}

/// Inserts the code's contribution `{_id: codeId}`: the per-code marker that makes the
/// leaderboard update exactly once. False when it was already there.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_contribution(db: &Db, c: &Contribution) -> mongodb::error::Result<bool> {
    match db
        .col(CONTRIBUTIONS)
        .insert_one(contribution_doc(c, clock::now()))
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if is_duplicate_key(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The seller's sums over their contributions. Summed here, not by `$group`: FerretDB 1.24 computes
/// only the first `$sum` accumulator of a `$group` stage (the others come back 0).
#[tracing::instrument(level = "debug", skip_all, fields(seller = %seller))]
pub async fn seller_sums(db: &Db, seller: ObjectId, username: &str) -> mongodb::error::Result<Row> {
    let projection =
        doc! { "sales": 1, "revenue": 1, "wins": 1, "losses": 1, "voids": 1, "roi": 1 };
    let docs: Vec<Document> = db
        .col(CONTRIBUTIONS)
        .find(doc! { "seller": seller })
        .projection(projection)
        .await?
        .try_collect()
        .await?;
    let mut row = Row::new(seller, username);
    for c in db.rows::<Counted>(CONTRIBUTIONS, docs) {
        c.add_to(&mut row);
    }
    Ok(row)
}

/// A `leaderboard_contributions` document as the boards read it. A read may project fields
/// away: what it leaves out reads as absent or 0.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counted {
    pub seller: Option<ObjectId>,
    #[serde(default)]
    pub username: String,
    /// The code's sport (`None` on contributions recorded before sports were kept).
    pub sport: Option<oddxer_shared::Sport>,
    /// Completed sales of the code.
    #[serde(default, deserialize_with = "de::whole_number")]
    pub sales: i64,
    /// What the sales brought the seller, minor units.
    #[serde(default, deserialize_with = "de::whole_number")]
    pub revenue: i64,
    #[serde(default, deserialize_with = "de::whole_number")]
    pub wins: i64,
    #[serde(default, deserialize_with = "de::whole_number")]
    pub losses: i64,
    #[serde(default, deserialize_with = "de::whole_number")]
    pub voids: i64,
    /// The code's return on a unit stake, hundredths.
    #[serde(default, deserialize_with = "de::whole_number")]
    pub roi: i64,
    /// When the code was finalized.
    #[serde(default = "de::earliest")]
    pub created_at: DateTime,
}

impl Counted {
    /// Adds this contribution's sums to a row.
    pub fn add_to(&self, row: &mut Row) {
        row.total_sales += self.sales;
        row.revenue += self.revenue;
        row.wins += self.wins;
        row.losses += self.losses;
        row.voids += self.voids;
        row.roi_sum += self.roi;
    }
}

/// Contributions finalized on these UTC days (one equality read per day, all at once).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn contributions_on_days(
    db: &Db,
    days: impl IntoIterator<Item = i64>,
) -> mongodb::error::Result<Vec<Counted>> {
    let reads = days.into_iter().map(|day| async move {
        db.col(CONTRIBUTIONS)
            .find(doc! { "day": day })
            .await?
            .try_collect::<Vec<Document>>()
            .await
    });
    let docs = futures_util::future::try_join_all(reads)
        .await?
        .into_iter()
        .flatten()
        .collect();
    Ok(db.rows(CONTRIBUTIONS, docs))
}

/// Every contribution in a sport (equality on the indexed `sport`).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn contributions_in_sport(db: &Db, sport: &str) -> mongodb::error::Result<Vec<Counted>> {
    let docs = db
        .col(CONTRIBUTIONS)
        .find(doc! { "sport": sport })
        .await?
        .try_collect()
        .await?;
    Ok(db.rows(CONTRIBUTIONS, docs))
}

pub fn row_doc(row: &Row, now: DateTime) -> Document {
    doc! {
        "_id": row.seller, "seller": row.seller, "username": &row.username,
        "totalSales": row.total_sales, "totalWins": row.wins, "totalLosses": row.losses, "totalVoids": row.voids,
        "results": row.results(), "roiSum": row.roi_sum, "winRate": row.win_rate_bps(), "averageROI": row.average_roi_bps(),
        "totalRevenue": row.revenue, "updatedAt": now, "updatedBucket": update_bucket(now),
    }
}

/// The 5-second bucket of a row's `updatedAt` (indexed): the leaderboard cache reads the rows
/// written since its last refresh by equality on it.
pub fn update_bucket(at: DateTime) -> i64 {
    crate::codes::store::update_bucket(at)
}

/// A `leaderboards` row as stored; [`RowDoc::into_pair`] gives the row and its `updatedAt`.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RowDoc {
    seller: ObjectId,
    #[serde(default)]
    username: String,
    #[serde(default, deserialize_with = "de::whole_number")]
    total_sales: i64,
    #[serde(default, deserialize_with = "de::whole_number")]
    total_wins: i64,
    #[serde(default, deserialize_with = "de::whole_number")]
    total_losses: i64,
    #[serde(default, deserialize_with = "de::whole_number")]
    total_voids: i64,
    #[serde(default, deserialize_with = "de::whole_number")]
    roi_sum: i64,
    #[serde(default, deserialize_with = "de::whole_number")]
    total_revenue: i64,
    #[serde(default = "de::earliest")]
    updated_at: DateTime,
}

impl RowDoc {
    /// The row and when it was last written.
    pub fn into_pair(self) -> (Row, DateTime) {
        let row = Row {
            seller: self.seller,
            username: self.username,
            total_sales: self.total_sales,
            wins: self.total_wins,
            losses: self.total_losses,
            voids: self.total_voids,
            roi_sum: self.roi_sum,
            revenue: self.total_revenue,
        };
        (row, self.updated_at)
    }
}

/// Writes the row (replace or create). Two first writers may race on the insert; the loser replaces.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn write_row(db: &Db, row: &Row) -> mongodb::error::Result<()> {
    let d = row_doc(row, clock::now());
    let col = db.col(ROWS);
    for _ in 0..3 {
        match col
            .replace_one(doc! { "_id": row.seller }, d.clone())
            .upsert(true)
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if is_duplicate_key(&e) => continue,
            Err(e) => return Err(e),
        }
    }
    col.replace_one(doc! { "_id": row.seller }, d).await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all, fields(seller = %seller))]
pub async fn read_row(
    db: &Db,
    seller: ObjectId,
) -> mongodb::error::Result<Option<(Row, DateTime)>> {
    let row: Option<RowDoc> = db.find_row(ROWS, doc! { "_id": seller }).await?;
    Ok(row.map(RowDoc::into_pair))
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_rows(
    db: &Db,
    filter: Document,
    sort: Document,
    limit: Option<i64>,
    projection: Option<Document>,
) -> mongodb::error::Result<Vec<(Row, DateTime)>> {
    let col = db.col(ROWS);
    let mut find = col.find(filter).sort(sort);
    if let Some(n) = limit {
        find = find.limit(n);
    }
    if let Some(p) = projection {
        find = find.projection(p);
    }
    let docs: Vec<Document> = find.await?.try_collect().await?;
    Ok(db
        .rows(ROWS, docs)
        .into_iter()
        .map(RowDoc::into_pair)
        .collect())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn count_rows(db: &Db, filter: Document) -> mongodb::error::Result<i64> {
    Ok(db.col(ROWS).count_documents(filter).await? as i64)
}

/// One finalized code as the seller's contributions record it.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct Recorded {
    #[serde(rename = "_id")]
    pub code: ObjectId,
    pub outcome: oddxer_shared::Outcome,
    /// Hundredths.
    #[serde(default, deserialize_with = "de::whole_number")]
    pub odds: i64,
    /// When the contribution was inserted: the code's finalization.
    #[serde(rename = "createdAt", default = "de::earliest")]
    pub at: DateTime,
}

/// Every contribution of a seller (equality on the indexed `seller`): one per finalized code.
#[tracing::instrument(level = "debug", skip_all, fields(seller = %seller))]
pub async fn recorded(db: &Db, seller: ObjectId) -> mongodb::error::Result<Vec<Recorded>> {
    let projection = doc! { "outcome": 1, "odds": 1, "createdAt": 1 };
    let docs: Vec<Document> = db
        .col(CONTRIBUTIONS)
        .find(doc! { "seller": seller })
        .projection(projection)
        .await?
        .try_collect()
        .await?;
    Ok(db.rows(CONTRIBUTIONS, docs))
}

/// Prices (minor units) of the COMPLETED purchases of each of these codes, read 1,000 codes at a
/// time (`bettingCode` `$in`, indexed).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn sale_prices(
    db: &Db,
    codes: &[ObjectId],
) -> mongodb::error::Result<HashMap<ObjectId, Vec<i64>>> {
    let mut out: HashMap<ObjectId, Vec<i64>> = HashMap::new();
    for chunk in codes.chunks(1000) {
        let docs: Vec<Document> = db
            .col(PURCHASES)
            .find(doc! { "bettingCode": { "$in": chunk }, "status": PURCHASE_COMPLETED })
            .projection(doc! { "bettingCode": 1, "price": 1 })
            .await?
            .try_collect()
            .await?;
        for sale in db.rows::<SalePrice>(PURCHASES, docs) {
            out.entry(sale.code).or_default().push(sale.price);
        }
    }
    Ok(out)
}

/// What [`sale_prices`] reads of a purchase.
#[derive(serde::Deserialize)]
struct SalePrice {
    #[serde(rename = "bettingCode")]
    code: ObjectId,
    price: i64,
}

/// Every decided code's outcome (all of `code_resolutions`: the audit's full recomputation).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn all_outcomes(db: &Db) -> mongodb::error::Result<HashMap<ObjectId, Outcome>> {
    let docs: Vec<Document> = db
        .col(RESOLUTIONS)
        .find(doc! {})
        .projection(doc! { "outcome": 1 })
        .await?
        .try_collect()
        .await?;
    Ok(db
        .rows::<Decided>(RESOLUTIONS, docs)
        .into_iter()
        .map(|d| (d.code, d.outcome))
        .collect())
}

/// A code's decided outcome, as [`all_outcomes`] reads `code_resolutions`.
#[derive(serde::Deserialize)]
struct Decided {
    #[serde(rename = "_id")]
    code: ObjectId,
    outcome: Outcome,
}

/// What the recomputation reads of a code (a projection of `bettingcodes`).
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Listed {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub seller: ObjectId,
    #[serde(default)]
    pub seller_username: String,
    /// Hundredths.
    #[serde(default, deserialize_with = "de::whole_number")]
    pub odds: i64,
}

/// The codes of `ids` (at most 1,000), their seller and odds only.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn listed(db: &Db, ids: &[ObjectId]) -> mongodb::error::Result<Vec<Listed>> {
    let docs: Vec<Document> = db
        .col(CODES)
        .find(doc! { "_id": { "$in": ids } })
        .projection(doc! { "seller": 1, "sellerUsername": 1, "odds": 1 })
        .await?
        .try_collect()
        .await?;
    Ok(db.rows(CODES, docs))
}
