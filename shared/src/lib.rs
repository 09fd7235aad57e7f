//! Types shared by the backend, the native client core and the UI.
//!
//! Everything here is plain data plus parsing: no I/O, so it compiles for wasm32 as well.
//! Wire names are camelCase; enum values are SCREAMING_SNAKE_CASE as in DESIGN.md.

pub mod api;
pub mod client;
pub mod money;
pub mod sync;
pub mod validate;

pub use money::{Currency, Money};

use serde::{Deserialize, Serialize};

/// A user's role. A SELLER can also buy; ADMINs come from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    Buyer,
    Seller,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Buyer => "BUYER",
            Role::Seller => "SELLER",
            Role::Admin => "ADMIN",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "BUYER" => Some(Role::Buyer),
            "SELLER" => Some(Role::Seller),
            "ADMIN" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// Mobile-money rails a wallet can be funded from or paid out to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentMethod {
    MtnMomo,
    AirtelMoney,
}

impl PaymentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::MtnMomo => "MTN_MOMO",
            PaymentMethod::AirtelMoney => "AIRTEL_MONEY",
        }
    }
}

/// The kind of a transfer (one `transactions` document each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransactionType {
    Deposit,
    Withdrawal,
    Purchase,
    SalePayout,
    Fee,
    Refund,
    Reversal,
    Adjustment,
}

impl TransactionType {
    pub fn as_str(self) -> &'static str {
        match self {
            TransactionType::Deposit => "DEPOSIT",
            TransactionType::Withdrawal => "WITHDRAWAL",
            TransactionType::Purchase => "PURCHASE",
            TransactionType::SalePayout => "SALE_PAYOUT",
            TransactionType::Fee => "FEE",
            TransactionType::Refund => "REFUND",
            TransactionType::Reversal => "REVERSAL",
            TransactionType::Adjustment => "ADJUSTMENT",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Deposit,
            Self::Withdrawal,
            Self::Purchase,
            Self::SalePayout,
            Self::Fee,
            Self::Refund,
            Self::Reversal,
            Self::Adjustment,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransactionStatus {
    Pending,
    Completed,
    Failed,
    Reversed,
}

impl TransactionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TransactionStatus::Pending => "PENDING",
            TransactionStatus::Completed => "COMPLETED",
            TransactionStatus::Failed => "FAILED",
            TransactionStatus::Reversed => "REVERSED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Completed, Self::Failed, Self::Reversed]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// Sports a betting code can be listed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Sport {
    Football,
    Basketball,
    Tennis,
    Cricket,
    Rugby,
    IceHockey,
    Baseball,
    Volleyball,
    Esports,
    Other,
}
