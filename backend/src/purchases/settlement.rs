//! Settlement at finalization, exactly once per purchase: the `settlements {_id: purchase}` insert
//! decides paid-out or refunded; the transfers have ids derived from the purchase, so re-driving
//! after a crash applies each of them once.
//!
//! WON or LOST: escrow -> seller (price minus `PLATFORM_FEE_BPS`) and escrow -> fees. VOID, or LOST
//! under `SETTLEMENT_POLICY=REFUND_ON_LOSS`: escrow -> buyer in full.

use super::rules::{settlement_for, split};
use super::store::{self, Purchase};
use crate::error::{AppError, Result};
use crate::ledger::{accounts, derived_id, Leg, Outcome as TransferOutcome};
use crate::state::AppState;
use crate::wallet::store::{self as tx_store, Transaction};
use mongodb::bson::oid::ObjectId;
use oddxer_shared::api::Settlement;
use oddxer_shared::{Outcome, TransactionType};

/// One transfer out of the purchase's escrow, described by what it is.
struct Step {
    label: &'static str,
    kind: TransactionType,
    to: String,
    user: ObjectId,
    amount: i64,
    description: String,
}

/// Settles one purchase for `outcome`, once: the `settlements` insert decides, the transfers have
/// ids derived from the purchase. Safe to call again after a crash.
pub async fn settle_purchase(
    state: &AppState,
    p: &Purchase,
    outcome: Outcome,
) -> Result<Settlement> {
    let wanted = settlement_for(outcome, state.config.settlement_policy);
    let decided = store::decide_settlement(&state.db, p.id, wanted).await?;
    let currency = state.config.currency.clone();
    let pid = p.id.to_hex();
    // The wallet entries name the code: "Sale payout (Won)" alone does not say which sale it was.
    let code = crate::codes::service::load(state, p.code).await?;
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
        let legs = vec![
            Leg {
                account: accounts::escrow(p.id),
                amount: -step.amount,
            },
            Leg {
                account: step.to.clone(),
                amount: step.amount,
            },
        ];
        let mut tx = Transaction::new(
            derived_id(&format!("{}:{pid}", step.label)),
            step.kind,
            step.user,
            step.amount,
            &currency,
            legs,
            step.description,
        );
        tx.parent = Some(p.id);
        tx.betting_code = Some(p.code);
        let tx = tx_store::insert_or_get(&state.db, &tx).await?.unwrap_or(tx);
        let (done, _) = state
            .ledger
            .transfers()
            .drive(&tx.transfer_spec(), step.kind.as_str())
            .await?;
        if done != TransferOutcome::Completed {
            // Escrow holds exactly the price, so this cannot be refused; if it is, stop loudly.
            return Err(AppError::internal(format!(
                "settlement transfer {} of purchase {pid} failed",
                step.label
            )));
        }
        state.hub.wallet_changed(step.user);
    }
    super::totals::record(
        &state.db,
        p,
        super::totals::Event::Settled(decided),
        state.config.platform_fee_bps,
    )
    .await?;
    super::stream::append(
        state,
        &Purchase {
            settlement: Some(decided),
            ..p.clone()
        },
        &code,
    )
    .await?;
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
