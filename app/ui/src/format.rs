//! How values read on screen.

use js_sys::{Date, Object, Reflect};
use oddxer_shared::client::ConnectionState;
use oddxer_shared::{PaymentMethod, TransactionType};
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
