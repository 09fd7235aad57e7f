//! Betting codes (issue 4): listing and editing one, what it may be listed with, and the market's sorts.

use serde::{Deserialize, Serialize};

/// `POST /codes`. Odds are a decimal with at most 2 places (stored exactly as integer hundredths);
/// `price` is in minor units of the deployment currency.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CodeIn {
    pub sport: crate::Sport,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub odds: f64,
    pub bookmaker: String,
    pub price: i64,
    /// The secret booking code, revealed only to the seller, buyers and admins.
    pub code: String,
    /// RFC 3339; when the code stops selling (kick-off of its first game).
    pub expires_at: String,
    /// 1 (the default) = exclusive; n = sold up to n times.
    #[serde(default)]
    pub max_buyers: Option<i64>,
}

/// `PATCH /codes/{id}`: any subset of the fields of `CodeIn`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CodePatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sport: Option<crate::Sport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub odds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bookmaker: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_buyers: Option<i64>,
}

/// A betting code as the caller may see it. `code` is present only for its seller, its buyers and
/// admins; never in lists or in events sent to others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CodeOut {
    pub id: String,
    pub seller_id: String,
    pub seller_username: String,
    pub sport: crate::Sport,
    pub title: String,
    pub description: String,
    /// Decimal odds, at most 2 places.
    pub odds: f64,
    pub bookmaker: String,
    pub price: crate::Money,
    pub status: crate::CodeStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub expires_at: String,
    /// `expiresAt + VOTING_WINDOW`: buyers vote between the two.
    pub voting_ends_at: String,
    pub max_buyers: i64,
    pub sales_count: i64,
    pub win_votes: i64,
    pub loss_votes: i64,
    pub total_votes: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<crate::Outcome>,
    /// A tie or no votes at the end of voting: an admin decides.
    pub needs_review: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sold_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finalized_at: Option<String>,
    /// The signed-in caller's vote on this code, if any (detail view only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub my_vote: Option<crate::VoteType>,
    pub created_at: String,
    pub updated_at: String,
}

/// `GET /codes/options`: what a code may be listed with, for forms and filters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CodeOptionsOut {
    pub sports: Vec<crate::Sport>,
    pub bookmakers: Vec<String>,
    pub min_price: crate::Money,
    pub max_price: crate::Money,
    pub min_odds: f64,
    pub max_odds: f64,
    pub max_buyers_limit: i64,
    pub voting_window_seconds: i64,
    pub max_expiry_horizon_seconds: i64,
}

/// Sorts of `GET /codes` (DESIGN.md section 5), as the `sort` query value (`newest`, `price`,
/// `-price`, `odds`, `-odds`, `expiresAt`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CodeSort {
    #[default]
    #[serde(rename = "newest")]
    Newest,
    #[serde(rename = "price")]
    Price,
    #[serde(rename = "-price")]
    PriceDesc,
    #[serde(rename = "odds")]
    Odds,
    #[serde(rename = "-odds")]
    OddsDesc,
    #[serde(rename = "expiresAt")]
    ExpiresAt,
}

impl CodeSort {
    pub const ALL: [CodeSort; 6] = [
        CodeSort::Newest,
        CodeSort::Price,
        CodeSort::PriceDesc,
        CodeSort::Odds,
        CodeSort::OddsDesc,
        CodeSort::ExpiresAt,
    ];

    /// The code field (as stored and in `CodeOut`) and direction (1 ascending, -1 descending);
    /// the id breaks ties in the same direction.
    pub fn key(self) -> (&'static str, i32) {
        match self {
            CodeSort::Newest => ("createdAt", -1),
            CodeSort::Price => ("price", 1),
            CodeSort::PriceDesc => ("price", -1),
            CodeSort::Odds => ("odds", 1),
            CodeSort::OddsDesc => ("odds", -1),
            CodeSort::ExpiresAt => ("expiresAt", 1),
        }
    }
}
