//! The leaderboard, tipster profiles and following.

use serde::{Deserialize, Serialize};

/// One seller's row of the leaderboard (DESIGN.md section 3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LeaderboardEntryOut {
    pub seller_id: String,
    pub username: String,
    /// 1-based; absent for sellers with fewer than `LEADERBOARD_MIN_FINALIZED` WON or LOST codes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<i64>,
    /// Purchases of this seller's codes that finalized WON or LOST.
    pub total_sales: i64,
    pub total_wins: i64,
    pub total_losses: i64,
    pub total_voids: i64,
    /// Percent of WON among WON + LOST codes, 2 decimals (from integer basis points).
    pub win_rate: f64,
    /// Average return per unit stake over WON + LOST codes, in percent with 2 decimals:
    /// (odds - 1) for a win, -1 for a loss.
    #[serde(rename = "averageROI")]
    pub average_roi: f64,
    /// Net earnings: sale prices minus the platform fee (nothing for VOID, or LOST under REFUND_ON_LOSS).
    pub total_revenue: crate::Money,
    pub updated_at: String,
}

// Tipster profiles and following (issue 10).

/// A seller's record by sport (finalized codes only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SportRecordOut {
    pub sport: crate::Sport,
    pub wins: i64,
    pub losses: i64,
    pub voids: i64,
    /// Profit in units of a flat one-unit stake per code: odds - 1 per WON, -1 per LOST, 0 per VOID.
    pub profit_units: f64,
    /// profit / stakes (WON + LOST codes), a ratio: 0.25 is +25 %.
    #[serde(rename = "yield")]
    pub yield_ratio: f64,
}

/// A seller's figures: the leaderboard's (incremental, recomputable from the resolutions) plus the
/// record's (yield, profit, streaks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SellerStatsOut {
    /// Purchases of this seller's codes that finalized WON or LOST.
    pub total_sales: i64,
    pub total_wins: i64,
    pub total_losses: i64,
    pub total_voids: i64,
    /// Percent of WON among WON + LOST codes, 2 decimals.
    pub win_rate: f64,
    /// Average return per unit stake in percent, 2 decimals (yield x 100, rounded down).
    #[serde(rename = "averageROI")]
    pub average_roi: f64,
    /// profitUnits / stakes (WON + LOST codes), a ratio (flat one-unit stakes; VOID not staked).
    #[serde(rename = "yield")]
    pub yield_ratio: f64,
    /// Sum over WON (odds - 1) and LOST (-1) codes, in units of stake.
    pub profit_units: f64,
    /// WON codes in a row up to the newest result (0 when the newest result is a loss).
    pub current_streak: i64,
    /// The longest run of WON codes (VOID codes neither break nor extend a run).
    pub longest_streak: i64,
    pub total_revenue: crate::Money,
    /// 1-based leaderboard rank; absent below `LEADERBOARD_MIN_FINALIZED` results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<i64>,
}

/// `GET /sellers/{id}`: a tipster's public profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SellerProfileOut {
    pub id: String,
    pub username: String,
    /// When the account was created (RFC 3339).
    pub joined_at: String,
    pub stats: SellerStatsOut,
    pub by_sport: Vec<SportRecordOut>,
    /// Finalized codes (WON, LOST, VOID) in the record.
    pub record_size: i64,
    /// Codes on sale now.
    pub live_listings: i64,
    pub followers: i64,
    /// Whether the signed-in caller follows this seller (false when anonymous).
    pub following: bool,
}

/// One point of `GET /sellers/{id}/performance`, in finalization order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PerformancePointOut {
    pub code_id: String,
    pub finalized_at: String,
    pub outcome: crate::Outcome,
    /// Decimal odds.
    pub odds: f64,
    /// Profit so far in units of stake (flat one-unit stakes).
    pub cumulative_profit_units: f64,
    /// Profit so far / stakes so far, a ratio (0 before the first WON or LOST).
    pub cumulative_yield: f64,
}

/// `PUT` / `DELETE /sellers/{id}/follow`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FollowOut {
    pub seller_id: String,
    pub following: bool,
    pub followers: i64,
}

/// One entry of `GET /me/following`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FollowedSellerOut {
    pub seller_id: String,
    pub username: String,
    pub followed_at: String,
}

/// The window a leaderboard or a performance line covers (`?period=all|30d|7d`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Period {
    #[default]
    #[serde(rename = "all")]
    All,
    #[serde(rename = "30d")]
    Days30,
    #[serde(rename = "7d")]
    Days7,
}

impl Period {
    /// Length in days; `None` for all time.
    pub fn days(self) -> Option<i64> {
        match self {
            Period::All => None,
            Period::Days30 => Some(30),
            Period::Days7 => Some(7),
        }
    }
}

/// Sorts of `GET /leaderboard` (DESIGN.md section 5), all descending: `rank` (win rate, then
/// the tie-breaks of the ranking), `winRate`, `totalSales`, `totalRevenue`, `yield`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum LeaderSort {
    #[default]
    #[serde(rename = "rank")]
    Rank,
    #[serde(rename = "winRate")]
    WinRate,
    #[serde(rename = "totalSales")]
    TotalSales,
    #[serde(rename = "totalRevenue")]
    TotalRevenue,
    /// Profit per unit staked (WON + LOST codes, flat stakes): the average ROI.
    #[serde(rename = "yield")]
    Yield,
}
