//! Leaderboard arithmetic on integers: win rate and average ROI in basis points from integer sums,
//! the seller's net per sale, and the ranking order.

use crate::config::SettlementPolicy;
use mongodb::bson::oid::ObjectId;
use oddxer_shared::money::basis_points_of;
use oddxer_shared::Outcome;
use std::cmp::Ordering;

/// The settlement terms a sale's net is computed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    pub fee_bps: u32,
    pub policy: SettlementPolicy,
}

impl Terms {
    pub fn from_config(c: &crate::config::Config) -> Terms {
        Terms {
            fee_bps: c.platform_fee_bps,
            policy: c.settlement_policy,
        }
    }
}

/// What one finalized code adds to its seller's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contribution {
    pub code: ObjectId,
    pub seller: ObjectId,
    pub username: String,
    pub outcome: Outcome,
    /// Hundredths.
    pub odds: i64,
    /// Completed purchases counted as sales (WON or LOST codes only).
    pub sales: i64,
    /// The seller's net from those sales.
    pub revenue: i64,
    /// The code's sport (for the per-sport leaderboard); `None` where unknown (bulk loads).
    pub sport: Option<oddxer_shared::Sport>,
}

/// What the seller keeps of one sale: price minus the fee (rounded down, so the fee never exceeds
/// its share) for WON and LOST; nothing for VOID, or for LOST under REFUND_ON_LOSS.
pub fn seller_net(price: i64, outcome: Outcome, fee_bps: u32, policy: SettlementPolicy) -> i64 {
    match (outcome, policy) {
        (Outcome::Void, _) | (Outcome::Lost, SettlementPolicy::RefundOnLoss) => 0,
        _ => price - basis_points_of(price, fee_bps),
    }
}

impl Contribution {
    pub fn new(
        code: ObjectId,
        seller: ObjectId,
        username: &str,
        outcome: Outcome,
        odds: i64,
        prices: &[i64],
        terms: Terms,
    ) -> Contribution {
        let counted = outcome != Outcome::Void;
        Contribution {
            code,
            seller,
            username: username.to_owned(),
            outcome,
            odds,
            sales: if counted { prices.len() as i64 } else { 0 },
            revenue: prices
                .iter()
                .map(|p| seller_net(*p, outcome, terms.fee_bps, terms.policy))
                .sum(),
            sport: None,
        }
    }

    /// The same contribution, recorded under the code's sport.
    pub fn in_sport(self, sport: oddxer_shared::Sport) -> Contribution {
        Contribution {
            sport: Some(sport),
            ..self
        }
    }

    /// Return per unit stake in hundredths: odds - 1 for a win, -1 for a loss, nothing for VOID.
    pub fn roi(&self) -> i64 {
        match self.outcome {
            Outcome::Won => self.odds - 100,
            Outcome::Lost => -100,
            Outcome::Void => 0,
        }
    }
}

/// A seller's row as integer sums; the shown figures derive from them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    pub seller: ObjectId,
    pub username: String,
    pub total_sales: i64,
    pub wins: i64,
    pub losses: i64,
    pub voids: i64,
    /// Sum of per-code returns, hundredths of a unit stake.
    pub roi_sum: i64,
    pub revenue: i64,
}

impl Row {
    pub fn new(seller: ObjectId, username: &str) -> Row {
        Row {
            seller,
            username: username.to_owned(),
            ..Default::default()
        }
    }

    pub fn add(&mut self, c: &Contribution) {
        self.total_sales += c.sales;
        self.revenue += c.revenue;
        self.roi_sum += c.roi();
        match c.outcome {
            Outcome::Won => self.wins += 1,
            Outcome::Lost => self.losses += 1,
            Outcome::Void => self.voids += 1,
        }
    }

    /// Codes with a result (WON or LOST): the base of the win rate, the ROI and the ranking threshold.
    pub fn results(&self) -> i64 {
        self.wins + self.losses
    }

    /// Floor of wins / results in basis points (0 with no results).
    pub fn win_rate_bps(&self) -> i64 {
        if self.results() == 0 {
            0
        } else {
            self.wins * 10_000 / self.results()
        }
    }

    /// Floor of the average return per unit stake, in basis points (hundredths * 100).
    pub fn average_roi_bps(&self) -> i64 {
        if self.results() == 0 {
            0
        } else {
            (self.roi_sum * 100).div_euclid(self.results())
        }
    }

    pub fn ranked(&self, min_finalized: u32) -> bool {
        self.results() >= i64::from(min_finalized)
    }
}

/// Ranking order: win rate desc, total sales desc, total revenue desc, then seller id (stable).
pub fn rank_cmp(a: &Row, b: &Row) -> Ordering {
    b.win_rate_bps()
        .cmp(&a.win_rate_bps())
        .then(b.total_sales.cmp(&a.total_sales))
        .then(b.revenue.cmp(&a.revenue))
        .then(a.seller.cmp(&b.seller))
}

pub use oddxer_shared::api::Period;

/// The start of `period`'s window ending at `now` (`None`: all time).
pub fn since(period: Period, now: mongodb::bson::DateTime) -> Option<mongodb::bson::DateTime> {
    period
        .days()
        .map(|d| mongodb::bson::DateTime::from_millis(now.timestamp_millis() - d * 86_400_000))
}

/// Basis points to the percent shown on the wire (2 decimals, exact as text).
pub fn bps_to_percent(bps: i64) -> f64 {
    bps as f64 / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contribution(outcome: Outcome, odds: i64, prices: &[i64]) -> Contribution {
        Contribution::new(
            ObjectId::new(),
            ObjectId::new(),
            "s",
            outcome,
            odds,
            prices,
            Terms {
                fee_bps: 1000,
                policy: SettlementPolicy::Standard,
            },
        )
    }

    #[test]
    fn net_per_sale_keeps_the_fee_remainder_with_the_seller() {
        assert_eq!(
            seller_net(1_000, Outcome::Won, 1000, SettlementPolicy::Standard),
            900
        );
        assert_eq!(
            seller_net(999, Outcome::Lost, 1000, SettlementPolicy::Standard),
            900
        );
        assert_eq!(
            seller_net(999, Outcome::Lost, 1000, SettlementPolicy::RefundOnLoss),
            0
        );
        assert_eq!(
            seller_net(999, Outcome::Void, 1000, SettlementPolicy::Standard),
            0
        );
        assert_eq!(
            seller_net(999, Outcome::Won, 0, SettlementPolicy::Standard),
            999
        );
    }

    #[test]
    fn win_rate_and_roi_come_from_integer_sums() {
        let mut row = Row::new(ObjectId::new(), "s");
        row.add(&contribution(Outcome::Won, 250, &[1_000, 1_000]));
        row.add(&contribution(Outcome::Lost, 300, &[2_000]));
        row.add(&contribution(Outcome::Won, 180, &[]));
        row.add(&contribution(Outcome::Void, 500, &[5_000]));
        assert_eq!(
            (row.wins, row.losses, row.voids, row.results()),
            (2, 1, 1, 3)
        );
        assert_eq!(row.total_sales, 3);
        assert_eq!(row.revenue, 900 + 900 + 1_800);
        assert_eq!(row.win_rate_bps(), 6_666);
        // (1.5 - 1 + 0.8) / 3 = 0.4333.. per unit stake
        assert_eq!(row.roi_sum, 150 - 100 + 80);
        assert_eq!(row.average_roi_bps(), 4_333);
        assert_eq!(bps_to_percent(row.average_roi_bps()), 43.33);
        assert!(row.ranked(3) && !row.ranked(4));
    }

    #[test]
    fn negative_roi_rounds_down_and_empty_rows_are_zero() {
        let mut row = Row::new(ObjectId::new(), "s");
        assert_eq!((row.win_rate_bps(), row.average_roi_bps()), (0, 0));
        row.add(&contribution(Outcome::Lost, 200, &[]));
        row.add(&contribution(Outcome::Lost, 200, &[]));
        row.add(&contribution(Outcome::Won, 120, &[]));
        // (-1 - 1 + 0.2) / 3 = -0.6
        assert_eq!(row.average_roi_bps(), -6_000);
        row.add(&contribution(Outcome::Won, 101, &[]));
        // (-1.8 + 0.01) / 4 = -0.4475
        assert_eq!(row.average_roi_bps(), -4_475);
    }

    #[test]
    fn ranking_orders_by_win_rate_then_sales_then_revenue_then_id() {
        let row = |w: i64, l: i64, sales: i64, revenue: i64| Row {
            seller: ObjectId::new(),
            wins: w,
            losses: l,
            total_sales: sales,
            revenue,
            ..Default::default()
        };
        let a = row(3, 1, 10, 100); // 75%
        let b = row(3, 1, 12, 50); // 75%, more sales
        let c = row(3, 1, 12, 80); // 75%, same sales, more revenue
        let d = row(1, 0, 1, 1); // 100%
        let mut rows = vec![a.clone(), b.clone(), c.clone(), d.clone()];
        rows.sort_by(rank_cmp);
        assert_eq!(rows, vec![d, c, b, a]);
    }
}
