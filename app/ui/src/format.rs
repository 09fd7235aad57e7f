//! How values read on screen.

use js_sys::{Date, Object, Reflect};
use oddxer_shared::api::Settlement;
use oddxer_shared::client::ConnectionState;
use oddxer_shared::{CodeStatus, Outcome, PaymentMethod, Role, Sport, TransactionType, VoteType};
use wasm_bindgen::JsValue;

/// `2025-11-25T09:14:03Z` -> `25 Nov, 09:14` in the viewer's time zone; unknown text is shown as is.
pub fn timestamp(rfc3339: &str) -> String {
    let date = Date::new(&JsValue::from_str(rfc3339));
    if date.get_time().is_nan() {
        return rfc3339.to_owned();
    }
    let options = Object::new();
    for (key, value) in [
        ("day", "numeric"),
        ("month", "short"),
        ("hour", "2-digit"),
        ("minute", "2-digit"),
    ] {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&options, &JsValue::from_str(key), &JsValue::from_str(value));
    }
    date.to_locale_string("en-GB", &options).into()
}

pub fn transaction_type(kind: TransactionType) -> &'static str {
    match kind {
        TransactionType::Deposit => "Deposit",
        TransactionType::Withdrawal => "Withdrawal",
        TransactionType::Purchase => "Code purchase",
        TransactionType::SalePayout => "Sale payout",
        TransactionType::Fee => "Platform fee",
        TransactionType::Refund => "Refund",
        TransactionType::Reversal => "Reversal",
        TransactionType::Adjustment => "Adjustment",
    }
}

pub fn payment_method(method: PaymentMethod) -> &'static str {
    match method {
        PaymentMethod::MtnMomo => "MTN MoMo",
        PaymentMethod::AirtelMoney => "Airtel Money",
    }
}

/// The badge text. The e2e test reads it, so keep these words stable.
pub fn connection(state: ConnectionState) -> &'static str {
    match state {
        ConnectionState::Idle => "Idle",
        ConnectionState::Connecting => "Connecting",
        ConnectionState::Online => "Online",
        ConnectionState::Offline => "Offline",
    }
}

pub fn connection_class(state: ConnectionState) -> &'static str {
    match state {
        ConnectionState::Idle => "badge badge-idle",
        ConnectionState::Connecting => "badge badge-connecting",
        ConnectionState::Online => "badge badge-online",
        ConnectionState::Offline => "badge badge-offline",
    }
}

pub fn role(role: Role) -> &'static str {
    match role {
        Role::Buyer => "Bettor",
        Role::Seller => "Tipster",
        Role::Admin => "Admin",
    }
}

pub fn sport(sport: Sport) -> &'static str {
    match sport {
        Sport::Football => "Football",
        Sport::Basketball => "Basketball",
        Sport::Tennis => "Tennis",
        Sport::Cricket => "Cricket",
        Sport::Rugby => "Rugby",
        Sport::IceHockey => "Ice hockey",
        Sport::Baseball => "Baseball",
        Sport::Volleyball => "Volleyball",
        Sport::Esports => "Esports",
        Sport::Other => "Other",
    }
}

/// Decimal odds always with two places: `2.5` -> `2.50`.
pub fn odds(odds: f64) -> String {
    format!("{odds:.2}")
}

pub fn code_status(status: CodeStatus) -> &'static str {
    match status {
        CodeStatus::Active => "On sale",
        CodeStatus::SoldOut => "Sold out",
        CodeStatus::AwaitingResult => "Awaiting result",
        CodeStatus::Won => "Won",
        CodeStatus::Lost => "Lost",
        CodeStatus::Void => "Void",
        CodeStatus::Cancelled => "Cancelled",
    }
}

/// A bought code's state as its buyer cares about it: still for sale to others is "upcoming".
pub fn purchase_status(status: CodeStatus) -> CodeStatusLabel {
    match status {
        CodeStatus::Active | CodeStatus::SoldOut => ("Before kick-off", "status status-active"),
        other => (code_status(other), code_status_class(other)),
    }
}

/// Text and CSS class of a status pill.
pub type CodeStatusLabel = (&'static str, &'static str);

pub fn code_status_class(status: CodeStatus) -> &'static str {
    match status {
        CodeStatus::Active => "status status-active",
        CodeStatus::SoldOut | CodeStatus::AwaitingResult => "status status-pending",
        CodeStatus::Won => "status status-won",
        CodeStatus::Lost => "status status-lost",
        CodeStatus::Void | CodeStatus::Cancelled => "status status-muted",
    }
}

pub fn outcome(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Won => "Won",
        Outcome::Lost => "Lost",
        Outcome::Void => "Void",
    }
}

pub fn settlement(settlement: Settlement) -> &'static str {
    match settlement {
        Settlement::PaidOut => "Paid out to the tipster",
        Settlement::Refunded => "Refunded to you",
    }
}

pub fn vote(vote: VoteType) -> &'static str {
    match vote {
        VoteType::Win => "Win",
        VoteType::Loss => "Loss",
    }
}

/// A percentage with up to two decimals, signed when asked: `12.5` -> `12.5%`, `+12.5%`.
pub fn percent(value: f64, signed: bool) -> String {
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if signed && value > 0.0 {
        format!("+{text}%")
    } else {
        format!("{text}%")
    }
}

/// Time left as people say it: `3d 4h`, `5h 12m`, `12m`, `under a minute`.
pub fn duration_left(ms: f64) -> String {
    let minutes = (ms / 60_000.0).floor().max(0.0) as i64;
    let (days, hours, mins) = (minutes / 1_440, (minutes / 60) % 24, minutes % 60);
    if days > 0 {
        format!("{days}d {hours}h")
    } else if hours > 0 {
        format!("{hours}h {mins}m")
    } else if mins > 0 {
        format!("{mins}m")
    } else {
        "under a minute".to_owned()
    }
}

/// "Kick-off in 5h 12m" or "Kicked off" for a code's `expiresAt`.
pub fn kickoff(expires_at: &str, now_ms: f64) -> String {
    match crate::browser::time_ms(expires_at) {
        Some(t) if t > now_ms => format!("Kick-off in {}", duration_left(t - now_ms)),
        Some(_) => "Kicked off".to_owned(),
        None => expires_at.to_owned(),
    }
}

/// A count with its noun, singular for exactly one: `counted(1, "follower", "followers")` ->
/// `1 follower`, `counted(1200, ..)` -> `1,200 followers`.
pub fn counted(n: i64, singular: &str, plural: &str) -> String {
    format!("{} {}", count(n), if n == 1 { singular } else { plural })
}

/// Thousands separators for counts: `12345` -> `12,345`.
pub fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_reads_like_people_say_it() {
        let min = 60_000.0;
        assert_eq!(duration_left(30_000.0), "under a minute");
        assert_eq!(duration_left(12.0 * min), "12m");
        assert_eq!(duration_left(312.0 * min), "5h 12m");
        assert_eq!(duration_left((3.0 * 1440.0 + 250.0) * min), "3d 4h");
        assert_eq!(duration_left(-5.0), "under a minute");
    }

    #[test]
    fn percentages_drop_trailing_zeros_and_sign_gains() {
        assert_eq!(percent(12.5, false), "12.5%");
        assert_eq!(percent(50.0, false), "50%");
        assert_eq!(percent(37.25, true), "+37.25%");
        assert_eq!(percent(-100.0, true), "-100%");
        assert_eq!(percent(0.0, true), "0%");
    }

    #[test]
    fn odds_always_show_two_places_and_counts_group_thousands() {
        assert_eq!(odds(2.5), "2.50");
        assert_eq!(odds(12.0), "12.00");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(count(12), "12");
    }

    #[test]
    fn a_count_of_one_takes_the_singular() {
        assert_eq!(
            counted(1, "live listing", "live listings"),
            "1 live listing"
        );
        assert_eq!(
            counted(0, "live listing", "live listings"),
            "0 live listings"
        );
        assert_eq!(counted(1200, "follower", "followers"), "1,200 followers");
    }
}
