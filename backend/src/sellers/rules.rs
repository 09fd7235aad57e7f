//! A tipster's record as plain arithmetic: flat one-unit stakes on finalized codes (the convention
//! of tipster sites such as Blogabet and Tipstrr): WON adds odds - 1 units, LOST -1, VOID nothing
//! and is not staked. Profit is kept in hundredths of a unit (odds are stored in hundredths), so
//! every sum is exact; only the shown ratios are divided.

use mongodb::bson::{oid::ObjectId, DateTime};
use oddxer_shared::{Outcome, Sport};
use std::collections::BTreeMap;

/// One finalized code of the seller.
#[derive(Debug, Clone, PartialEq)]
pub struct Finalized {
    pub code: ObjectId,
    pub sport: Sport,
    pub outcome: Outcome,
    /// Hundredths: 12.45 is 1245.
    pub odds: i64,
    pub finalized_at: DateTime,
}

impl Finalized {
    /// Return of a one-unit stake in hundredths of a unit.
    pub fn profit(&self) -> i64 {
        match self.outcome {
            Outcome::Won => self.odds - 100,
            Outcome::Lost => -100,
            Outcome::Void => 0,
        }
    }
}

/// Wins, losses, voids and profit over some finalized codes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub wins: i64,
    pub losses: i64,
    pub voids: i64,
    /// Hundredths of a unit.
    pub profit: i64,
}

impl Tally {
    pub fn add(&mut self, f: &Finalized) {
        match f.outcome {
            Outcome::Won => self.wins += 1,
            Outcome::Lost => self.losses += 1,
            Outcome::Void => self.voids += 1,
        }
        self.profit += f.profit();
    }

    /// WON + LOST: the codes staked.
    pub fn stakes(&self) -> i64 {
        self.wins + self.losses
    }

    /// Profit in units (exact to the hundredth).
    pub fn profit_units(&self) -> f64 {
        self.profit as f64 / 100.0
    }

    /// profit / stakes as a ratio, rounded to 4 decimals; 0 with nothing staked.
    pub fn yield_ratio(&self) -> f64 {
        if self.stakes() == 0 {
            return 0.0;
        }
        // profit is in hundredths: ratio = profit / (100 * stakes); rounded in integers first.
        let per_ten_thousand =
            (self.profit * 100 * 2 + self.stakes()).div_euclid(2 * self.stakes());
        per_ten_thousand as f64 / 10_000.0
    }
}

/// The whole record: totals, streaks and the split by sport.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub total: Tally,
    pub current_streak: i64,
    pub longest_streak: i64,
    /// By sport name, in sport order.
    pub by_sport: BTreeMap<&'static str, (Sport, Tally)>,
}

/// Sorts by finalization time (then code id, so equal times have one order).
pub fn in_order(mut record: Vec<Finalized>) -> Vec<Finalized> {
    record.sort_by_key(|f| (f.finalized_at, f.code));
    record
}

/// The summary of a record in finalization order (see [`in_order`]). A streak counts WON codes in a
/// row; a LOST code ends it; a VOID code (no result) neither ends nor extends it.
pub fn summarize(record: &[Finalized]) -> Summary {
    let mut s = Summary::default();
    let mut run = 0;
    for f in record {
        s.total.add(f);
        s.by_sport
            .entry(f.sport.as_str())
            .or_insert((f.sport, Tally::default()))
            .1
            .add(f);
        match f.outcome {
            Outcome::Won => {
                run += 1;
                s.longest_streak = s.longest_streak.max(run);
            }
            Outcome::Lost => run = 0,
            Outcome::Void => {}
        }
    }
    s.current_streak = run;
    s
}

/// Cumulative profit and yield after each code of the record (finalization order) finalized at
/// or after `since`; the running sums start from the codes before `since`, so a 30-day chart
/// continues the all-time line rather than restarting at zero.
pub fn performance(record: &[Finalized], since: Option<DateTime>) -> Vec<(Finalized, Tally)> {
    let mut running = Tally::default();
    let mut points = Vec::new();
    for f in record {
        running.add(f);
        if since.is_none_or(|t| f.finalized_at >= t) {
            points.push((f.clone(), running));
        }
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> DateTime {
        DateTime::from_millis(ms)
    }

    fn f(outcome: Outcome, odds: i64, ms: i64) -> Finalized {
        Finalized {
            code: ObjectId::new(),
            sport: Sport::Football,
            outcome,
            odds,
            finalized_at: at(ms),
        }
    }

    #[test]
    fn the_hand_computed_record_of_the_issue() {
        // Odds 12.45 won, one lost, one void: profit +10.45 units, yield 5.225, win rate 50 %.
        let record = in_order(vec![
            f(Outcome::Won, 1245, 1),
            f(Outcome::Lost, 300, 2),
            f(Outcome::Void, 500, 3),
        ]);
        let s = summarize(&record);
        assert_eq!(
            (
                s.total.wins,
                s.total.losses,
                s.total.voids,
                s.total.stakes()
            ),
            (1, 1, 1, 2)
        );
        assert_eq!(s.total.profit, 1045);
        assert_eq!(s.total.profit_units(), 10.45);
        assert_eq!(s.total.yield_ratio(), 5.225);
        assert_eq!((s.current_streak, s.longest_streak), (0, 1));
    }

    #[test]
    fn streaks_count_wins_in_a_row_and_voids_do_not_break_them() {
        use Outcome::*;
        let outcomes = [Won, Won, Lost, Won, Void, Won, Won];
        let record: Vec<Finalized> = outcomes
            .iter()
            .enumerate()
            .map(|(i, o)| f(*o, 200, i as i64))
            .collect();
        let s = summarize(&record);
        assert_eq!((s.current_streak, s.longest_streak), (3, 3));
        assert_eq!(summarize(&[]).total.yield_ratio(), 0.0);
    }

    #[test]
    fn yield_rounds_to_four_decimals_in_integers_and_negative_values_stay_exact() {
        let t = Tally {
            wins: 0,
            losses: 3,
            voids: 0,
            profit: -300,
        };
        assert_eq!(t.yield_ratio(), -1.0);
        let t = Tally {
            wins: 1,
            losses: 2,
            voids: 0,
            profit: 101 - 100 - 200,
        }; // (0.01 - 2) / 3
        assert_eq!(t.yield_ratio(), -0.6633);
    }

    #[test]
    fn a_period_chart_continues_the_all_time_line() {
        let record = vec![
            f(Outcome::Won, 300, 1),
            f(Outcome::Lost, 200, 5),
            f(Outcome::Won, 150, 9),
        ];
        let points = performance(&record, Some(at(5)));
        let profits: Vec<i64> = points.iter().map(|(_, t)| t.profit).collect();
        assert_eq!(profits, vec![200 - 100, 100 + 50]);
        assert_eq!(performance(&record, None).len(), 3);
    }
}
