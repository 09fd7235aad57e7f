//! The wording of in-app notifications, as plain functions of what a live event or a new wallet
//! entry says. Ids name the cause, so the same event stored twice is one notification. `now` is
//! the caller's clock (RFC 3339): this crate has none of its own.

use oddxer_shared::api::{CodeOut, LedgerEntryOut, PaymentOut};
use oddxer_shared::client::{NotificationKind, NotificationOut};
use oddxer_shared::{Money, Outcome, TransactionStatus, TransactionType};

use crate::live::SaleEvent;

fn notification(
    id: String,
    kind: NotificationKind,
    title: String,
    body: String,
    code: Option<&CodeOut>,
    now: &str,
) -> NotificationOut {
    NotificationOut {
        id,
        kind,
        title,
        body,
        code_id: code.map(|c| c.id.clone()),
        seller_id: code.map(|c| c.seller_id.clone()),
        created_at: now.to_owned(),
        read: false,
    }
}

/// A followed tipster listed `code`.
pub fn new_code(code: &CodeOut, now: &str) -> NotificationOut {
    notification(
        format!("code:{}", code.id),
        NotificationKind::NewCode,
        format!("New code from @{}", code.seller_username),
        format!(
            "{} · odds {:.2} · {}",
            code.title,
            code.odds,
            code.price.display()
        ),
        Some(code),
        now,
    )
}

/// One of my codes sold (`title` when the code is kept on this device).
pub fn sale(sale: &SaleEvent, title: Option<&str>, now: &str) -> NotificationOut {
    let body = match title {
        Some(t) => format!("“{t}” was bought. The money is held until the result."),
        None => "One of your codes was bought. The money is held until the result.".to_owned(),
    };
    NotificationOut {
        code_id: Some(sale.code_id.clone()),
        ..notification(
            format!("sale:{}", sale.purchase_id),
            NotificationKind::Sale,
            "You made a sale".to_owned(),
            body,
            None,
            now,
        )
    }
}

/// `code` got its result; `mine` when I am its seller (else I bought it). `None` when the
/// payload carries no outcome.
pub fn result(code: &CodeOut, mine: bool, now: &str) -> Option<NotificationOut> {
    let outcome = code.outcome?;
    let (word, body) = match (outcome, mine) {
        (Outcome::Won, false) => ("won", "The code you bought won."),
        (Outcome::Lost, false) => ("lost", "The code you bought lost."),
        (Outcome::Void, false) => ("was voided", "Your payment is refunded to your wallet."),
        (Outcome::Won | Outcome::Lost, true) => (
            "is settled",
            "Its sales are paid out to your wallet, less the fee.",
        ),
        (Outcome::Void, true) => ("was voided", "Its buyers are refunded."),
    };
    let body = match (outcome, mine) {
        (Outcome::Won | Outcome::Lost, true) => format!("Result: {}. {body}", outcome.as_str()),
        _ => body.to_owned(),
    };
    Some(notification(
        format!("result:{}", code.id),
        NotificationKind::Result,
        format!("“{}” {word}", code.title),
        body,
        Some(code),
        now,
    ))
}

/// A new wallet entry worth telling: money in from a deposit, a failed withdrawal's reversal, a
/// refund or a payout. Purchases and withdrawals are the user's own doing and say nothing.
pub fn payment(e: &LedgerEntryOut, now: &str) -> Option<NotificationOut> {
    let amount = unsigned(&e.amount);
    let (title, body) = match e.kind {
        TransactionType::Deposit => (
            "Deposit completed".to_owned(),
            format!("{amount} is in your wallet."),
        ),
        TransactionType::Reversal => (
            "Withdrawal failed".to_owned(),
            format!("{amount} is back in your wallet."),
        ),
        TransactionType::Refund => (
            "Refund".to_owned(),
            format!("{amount} refunded to your wallet."),
        ),
        TransactionType::SalePayout => (
            "Earnings paid".to_owned(),
            format!("{amount} from your sales is in your wallet."),
        ),
        _ => return None,
    };
    Some(notification(
        format!("entry:{}", e.id),
        NotificationKind::Payment,
        title,
        body,
        None,
        now,
    ))
}

/// A decided deposit or withdrawal (`payment:updated`) worth telling that no wallet entry tells:
/// a declined deposit (nothing moved, so there is no entry) and a withdrawal paid out. A
/// completed deposit and a reversed withdrawal are told by their wallet entries ([`payment`]).
pub fn payment_update(p: &PaymentOut, now: &str) -> Option<NotificationOut> {
    let amount = unsigned(&p.amount);
    let (title, body) = match (p.kind, p.status) {
        (TransactionType::Deposit, TransactionStatus::Failed) => {
            // The server's reason says what happened and that nothing was charged.
            let why = p
                .failure_reason
                .as_deref()
                .map(|r| r.trim().trim_end_matches('.').to_owned())
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| "Nothing was taken from your wallet".to_owned());
            (
                "Deposit declined".to_owned(),
                format!("Your deposit of {amount} did not go through. {why}."),
            )
        }
        (TransactionType::Withdrawal, TransactionStatus::Completed) => (
            "Withdrawal sent".to_owned(),
            format!(
                "{amount} is on its way to {}.",
                p.phone_number.as_deref().unwrap_or("your phone")
            ),
        ),
        _ => return None,
    };
    Some(notification(
        format!("payment:{}:{}", p.reference, p.status.as_str()),
        NotificationKind::Payment,
        title,
        body,
        None,
        now,
    ))
}

/// The amount without its sign, as the wallet shows it.
fn unsigned(m: &Money) -> String {
    Money::new(m.amount.saturating_abs(), &m.currency).display()
}
