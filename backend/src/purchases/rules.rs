//! Plain rules of a purchase's money, no I/O: where it goes for an outcome, and the seller's and
//! the platform's parts of a price (minor units).

use crate::config::SettlementPolicy;
use oddxer_shared::api::Settlement;
use oddxer_shared::money::basis_points_of;
use oddxer_shared::Outcome;

/// Plain rule: where the money of a purchase goes for an outcome.
pub fn settlement_for(outcome: Outcome, policy: SettlementPolicy) -> Settlement {
    match (outcome, policy) {
        (Outcome::Void, _) | (Outcome::Lost, SettlementPolicy::RefundOnLoss) => {
            Settlement::Refunded
        }
        _ => Settlement::PaidOut,
    }
}

/// Plain rule: the seller's and the platform's parts of a price. The fee rounds down; the two
/// parts always add up to the price.
pub fn split(price: i64, fee_bps: u32) -> (i64, i64) {
    let fee = basis_points_of(price, fee_bps);
    (price - fee, fee)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn won_and_lost_pay_the_seller_void_refunds_and_the_policy_can_refund_losses() {
        assert_eq!(
            settlement_for(Outcome::Won, SettlementPolicy::Standard),
            Settlement::PaidOut
        );
        assert_eq!(
            settlement_for(Outcome::Lost, SettlementPolicy::Standard),
            Settlement::PaidOut
        );
        assert_eq!(
            settlement_for(Outcome::Void, SettlementPolicy::Standard),
            Settlement::Refunded
        );
        assert_eq!(
            settlement_for(Outcome::Lost, SettlementPolicy::RefundOnLoss),
            Settlement::Refunded
        );
        assert_eq!(
            settlement_for(Outcome::Won, SettlementPolicy::RefundOnLoss),
            Settlement::PaidOut
        );
    }

    #[test]
    fn the_fee_rounds_down_and_the_parts_add_up_on_odd_amounts() {
        assert_eq!(split(10_000, 1000), (9_000, 1_000));
        assert_eq!(split(999, 1000), (900, 99));
        assert_eq!(split(1, 1000), (1, 0));
        for price in [1, 7, 13, 999, 1001, 123_457] {
            for bps in [0, 1, 250, 1000, 3333, 10_000] {
                let (seller, fee) = split(price, bps);
                assert_eq!(seller + fee, price);
                assert!(fee >= 0 && seller >= 0);
            }
        }
    }
}
