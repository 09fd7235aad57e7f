//! Settlement at finalization, exactly once per purchase: the `settlements {_id: purchase}` insert
//! decides paid-out or refunded; the transfers have ids derived from the purchase, so re-driving
//! after a crash applies each of them once.
//!
//! WON or LOST: escrow -> seller (price minus `PLATFORM_FEE_BPS`) and escrow -> fees. VOID, or LOST
//! under `SETTLEMENT_POLICY=REFUND_ON_LOSS`: escrow -> buyer in full.

use super::store::{self, Purchase};
use crate::config::SettlementPolicy;
use crate::error::{AppError, Result};
use crate::ledger::{accounts, derived_id, Leg, Outcome as TransferOutcome};
use crate::state::AppState;
use crate::wallet::store::{self as tx_store, Transaction};
use mongodb::bson::{doc, oid::ObjectId};
use oddxer_shared::api::Settlement;
use oddxer_shared::money::basis_points_of;
use oddxer_shared::{Outcome, TransactionType};

/// Plain rule: where the money of a purchase goes for an outcome.
pub fn settlement_for(outcome: Outcome, policy: SettlementPolicy) -> Settlement {
    match (outcome, policy) {
        (Outcome::Void, _) | (Outcome::Lost, SettlementPolicy::RefundOnLoss) => Settlement::Refunded,
        _ => Settlement::PaidOut,
    }
}

/// Plain rule: the seller's and the platform's parts of a price. The fee rounds down; the two
/// parts always add up to the price.
pub fn split(price: i64, fee_bps: u32) -> (i64, i64) {
    let fee = basis_points_of(price, fee_bps);
    (price - fee, fee)
}

/// One transfer out of the purchase's escrow, described by what it is.
struct Step {
    label: &'static str,
    kind: TransactionType,
    to: String,
    user: ObjectId,
    amount: i64,
    description: String,
}

/// Settles every purchase of a code. Called after the code's resolution insert won, and again by
/// the recovery worker until the resolution is applied; both are safe. A purchase still PENDING
/// (its buyer was answered but its labels are not all written, or a crash cut it) is finished
/// first, or abandoned when its money never moved, so none is left unsettled behind an applied
/// resolution.
pub async fn settle_code(state: &AppState, code: ObjectId, outcome: Outcome) -> Result<usize> {
    let purchases = store::list(&state.db, doc! { "bettingCode": code, "status": { "$ne": "FAILED" } }, doc! { "_id": 1 }, 10_000).await?;
    let mut settled = 0;
    for p in &purchases {
        if p.status == oddxer_shared::api::PurchaseStatus::Pending {
            super::service::recover(state, p).await?;
            match store::find(&state.db, p.id).await? {
                Some(done) if done.status == oddxer_shared::api::PurchaseStatus::Completed => {
                    settle_purchase(state, &done, outcome).await?;
                    settled += 1;
                }
                _ => {}
            }
            continue;
        }
        settle_purchase(state, p, outcome).await?;
        settled += 1;
    }
    Ok(settled)
}

pub async fn settle_purchase(state: &AppState, p: &Purchase, outcome: Outcome) -> Result<Settlement> {
    let wanted = settlement_for(outcome, state.config.settlement_policy);
    let decided = store::decide_settlement(&state.db, p.id, wanted).await?;
    let currency = state.config.currency.clone();
    let pid = p.id.to_hex();
    // The wallet entries name the code: "Sale payout (Won)" alone does not say which sale it was.
    let code = super::service::load_code(state, p.code).await?;
    let title = &code.listing.title;
    let steps = match decided {
        Settlement::Refunded => vec![Step {
            label: "refund",
            kind: TransactionType::Refund,
            to: accounts::wallet(p.buyer),
            user: p.buyer,
            amount: p.price,
            description: refund_description(title, outcome),
        }],
        Settlement::PaidOut => {
            let (seller_part, fee) = split(p.price, state.config.platform_fee_bps);
            let mut steps = vec![Step {
                label: "payout",
                kind: TransactionType::SalePayout,
                to: accounts::wallet(p.seller),
                user: p.seller,
                amount: seller_part,
                description: format!("Sale payout — {title} ({})", outcome_word(outcome)),
            }];
            if fee > 0 {
                steps.push(Step {
                    label: "fee",
                    kind: TransactionType::Fee,
                    to: accounts::fees_for(p.id),
                    user: p.seller,
                    amount: fee,
                    description: format!("Platform fee — {title}"),
                });
            }
            steps.retain(|s| s.amount > 0);
            steps
        }
    };
    accounts::ensure(&state.db, &accounts::fees_for(p.id), None, &currency).await?;
    for step in steps {
        let legs = vec![Leg { account: accounts::escrow(p.id), amount: -step.amount }, Leg { account: step.to.clone(), amount: step.amount }];
        let mut tx = Transaction::new(derived_id(&format!("{}:{pid}", step.label)), step.kind, step.user, step.amount, &currency, legs, step.description);
        tx.parent = Some(p.id);
        tx.betting_code = Some(p.code);
        let tx = tx_store::insert_or_get(&state.db, &tx).await?.unwrap_or(tx);
        let (done, _) = state.ledger.transfers().drive(&tx.transfer_spec(), step.kind.as_str()).await?;
        if done != TransferOutcome::Completed {
            // Escrow holds exactly the price, so this cannot be refused; if it is, stop loudly.
            return Err(AppError::internal(format!("settlement transfer {} of purchase {pid} failed", step.label)));
        }
        state.hub.wallet_changed(step.user);
    }
    super::totals::record(&state.db, p, super::totals::Event::Settled(decided), state.config.platform_fee_bps).await?;
    super::stream::append(state, &Purchase { settlement: Some(decided), ..p.clone() }, &code).await?;
    store::set_settlement(&state.db, p.id, decided).await?;
    Ok(decided)
}

/// The outcome as a wallet entry says it: "Won", "Lost", "Void".
fn outcome_word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Won => "Won",
        Outcome::Lost => "Lost",
        Outcome::Void => "Void",
    }
}

/// A buyer's refund entry: the code and why ("voided", or lost under REFUND_ON_LOSS).
fn refund_description(title: &str, outcome: Outcome) -> String {
    match outcome {
        Outcome::Void => format!("Refund — {title} (code voided)"),
        other => format!("Refund — {title} ({})", outcome_word(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn won_and_lost_pay_the_seller_void_refunds_and_the_policy_can_refund_losses() {
        assert_eq!(settlement_for(Outcome::Won, SettlementPolicy::Standard), Settlement::PaidOut);
        assert_eq!(settlement_for(Outcome::Lost, SettlementPolicy::Standard), Settlement::PaidOut);
        assert_eq!(settlement_for(Outcome::Void, SettlementPolicy::Standard), Settlement::Refunded);
        assert_eq!(settlement_for(Outcome::Lost, SettlementPolicy::RefundOnLoss), Settlement::Refunded);
        assert_eq!(settlement_for(Outcome::Won, SettlementPolicy::RefundOnLoss), Settlement::PaidOut);
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
