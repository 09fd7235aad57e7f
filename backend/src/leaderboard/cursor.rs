//! Sort keys and cursors of the leaderboard's paged reads: which stored field a sort reads, the
//! rank order (win rate, sales, revenue descending, then id), and the opaque cursors (hex of
//! `tag:...`) that are only good for the sort that issued them.

use super::rules::Row;
use crate::error::{AppError, Result};
use mongodb::bson::{doc, oid::ObjectId, Document};
use oddxer_shared::api::LeaderSort;

/// The stored row field a sort reads.
pub(super) fn sort_field(sort: LeaderSort) -> &'static str {
    match sort {
        LeaderSort::Rank | LeaderSort::WinRate => "winRate",
        LeaderSort::TotalSales => "totalSales",
        LeaderSort::TotalRevenue => "totalRevenue",
        LeaderSort::Yield => "averageROI",
    }
}

/// The row's value under this sort (descending order).
pub(super) fn sort_key(sort: LeaderSort, r: &Row) -> i64 {
    match sort {
        LeaderSort::TotalSales => r.total_sales,
        LeaderSort::TotalRevenue => r.revenue,
        LeaderSort::Yield => r.average_roi_bps(),
        LeaderSort::Rank | LeaderSort::WinRate => r.win_rate_bps(),
    }
}

/// The cursor tag of a sort (one letter): a cursor is only good for the sort that issued it.
pub(super) fn sort_tag(sort: LeaderSort) -> &'static str {
    match sort {
        LeaderSort::Rank => "r",
        LeaderSort::WinRate => "w",
        LeaderSort::TotalSales => "s",
        LeaderSort::TotalRevenue => "v",
        LeaderSort::Yield => "y",
    }
}

/// Keys of a row in rank order, as a cursor holds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RankKey {
    pub(super) win_rate: i64,
    pub(super) sales: i64,
    pub(super) revenue: i64,
    pub(super) id: ObjectId,
}

impl RankKey {
    pub(super) fn of(r: &Row) -> RankKey {
        RankKey {
            win_rate: r.win_rate_bps(),
            sales: r.total_sales,
            revenue: r.revenue,
            id: r.seller,
        }
    }

    /// Rows after this one in rank order (`after`) or before it (`!after`).
    pub(super) fn beyond(&self, after: bool) -> Document {
        let (lt, gt) = if after {
            ("$lt", "$gt")
        } else {
            ("$gt", "$lt")
        };
        doc! { "$or": [
            { "winRate": { lt: self.win_rate } },
            { "winRate": self.win_rate, "totalSales": { lt: self.sales } },
            { "winRate": self.win_rate, "totalSales": self.sales, "totalRevenue": { lt: self.revenue } },
            { "winRate": self.win_rate, "totalSales": self.sales, "totalRevenue": self.revenue, "_id": { gt: self.id } },
        ] }
    }
}

/// Rank order as a sortable tuple: win rate, sales, revenue descending, then id ascending (the
/// same order as [`rank_sort`], for rows served from the leaderboard cache).
pub(super) fn order(k: &RankKey) -> (i64, i64, i64, ObjectId) {
    (-k.win_rate, -k.sales, -k.revenue, k.id)
}

/// A row's place in rank order, as a sortable key (the leaderboard cache keeps its rows so).
pub fn rank_order(r: &Row) -> (i64, i64, i64, ObjectId) {
    order(&RankKey::of(r))
}

pub(super) fn rank_sort() -> Document {
    doc! { "winRate": -1, "totalSales": -1, "totalRevenue": -1, "_id": 1 }
}

/// Cursor of the rank sort: phase (1 ranked, 2 unranked), last key, last rank.
pub(super) fn encode_rank_cursor(phase: u8, k: RankKey, rank: i64) -> String {
    hex::encode(format!(
        "r:{phase}:{}:{}:{}:{}:{rank}",
        k.win_rate,
        k.sales,
        k.revenue,
        k.id.to_hex()
    ))
}

pub(super) fn bad_cursor() -> AppError {
    AppError::validation(
        "cursor is not one this server issued for this sort",
        "cursor",
        "invalid",
    )
}

pub(super) fn decode_parts(raw: &str, tag: &str) -> Result<Vec<String>> {
    let text =
        String::from_utf8(hex::decode(raw).map_err(|_| bad_cursor())?).map_err(|_| bad_cursor())?;
    let parts: Vec<String> = text.split(':').map(str::to_owned).collect();
    if parts.first().map(String::as_str) != Some(tag) {
        return Err(bad_cursor());
    }
    Ok(parts)
}

pub(super) fn num(parts: &[String], i: usize) -> Result<i64> {
    parts
        .get(i)
        .and_then(|p| p.parse().ok())
        .ok_or_else(bad_cursor)
}

pub(super) fn oid(parts: &[String], i: usize) -> Result<ObjectId> {
    parts
        .get(i)
        .and_then(|p| ObjectId::parse_str(p).ok())
        .ok_or_else(bad_cursor)
}
