//! Types shared by the backend, the native client core and the UI.
//!
//! Everything here is plain data plus parsing: no I/O, so it compiles for wasm32 as well.
//! Wire names are camelCase; enum values are SCREAMING_SNAKE_CASE as in DESIGN.md.

pub mod api;
pub mod client;
pub mod money;
pub mod search;
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

    /// The method named by its wire value (`MTN_MOMO`, `AIRTEL_MONEY`).
    pub fn parse(s: &str) -> Option<PaymentMethod> {
        match s {
            "MTN_MOMO" => Some(PaymentMethod::MtnMomo),
            "AIRTEL_MONEY" => Some(PaymentMethod::AirtelMoney),
            _ => None,
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

impl Sport {
    pub const ALL: [Sport; 10] = [
        Sport::Football,
        Sport::Basketball,
        Sport::Tennis,
        Sport::Cricket,
        Sport::Rugby,
        Sport::IceHockey,
        Sport::Baseball,
        Sport::Volleyball,
        Sport::Esports,
        Sport::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Sport::Football => "FOOTBALL",
            Sport::Basketball => "BASKETBALL",
            Sport::Tennis => "TENNIS",
            Sport::Cricket => "CRICKET",
            Sport::Rugby => "RUGBY",
            Sport::IceHockey => "ICE_HOCKEY",
            Sport::Baseball => "BASEBALL",
            Sport::Volleyball => "VOLLEYBALL",
            Sport::Esports => "ESPORTS",
            Sport::Other => "OTHER",
        }
    }

    pub fn parse(s: &str) -> Option<Sport> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Where a betting code is in its life (DESIGN.md section 3):
/// ACTIVE -> SOLD_OUT -> AWAITING_RESULT -> WON | LOST | VOID, or CANCELLED by its seller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CodeStatus {
    Active,
    SoldOut,
    AwaitingResult,
    Won,
    Lost,
    Void,
    Cancelled,
}

impl CodeStatus {
    pub const ALL: [CodeStatus; 7] = [
        CodeStatus::Active,
        CodeStatus::SoldOut,
        CodeStatus::AwaitingResult,
        CodeStatus::Won,
        CodeStatus::Lost,
        CodeStatus::Void,
        CodeStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CodeStatus::Active => "ACTIVE",
            CodeStatus::SoldOut => "SOLD_OUT",
            CodeStatus::AwaitingResult => "AWAITING_RESULT",
            CodeStatus::Won => "WON",
            CodeStatus::Lost => "LOST",
            CodeStatus::Void => "VOID",
            CodeStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(s: &str) -> Option<CodeStatus> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// WON, LOST, VOID and CANCELLED never change again.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            CodeStatus::Won | CodeStatus::Lost | CodeStatus::Void | CodeStatus::Cancelled
        )
    }
}

/// A buyer's verdict on a code they bought.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VoteType {
    Win,
    Loss,
}

impl VoteType {
    pub fn as_str(self) -> &'static str {
        match self {
            VoteType::Win => "WIN",
            VoteType::Loss => "LOSS",
        }
    }

    pub fn parse(s: &str) -> Option<VoteType> {
        match s {
            "WIN" => Some(VoteType::Win),
            "LOSS" => Some(VoteType::Loss),
            _ => None,
        }
    }
}

/// How a code was finally resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    Won,
    Lost,
    Void,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Won => "WON",
            Outcome::Lost => "LOST",
            Outcome::Void => "VOID",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        match s {
            "WON" => Some(Outcome::Won),
            "LOST" => Some(Outcome::Lost),
            "VOID" => Some(Outcome::Void),
            _ => None,
        }
    }

    pub fn status(self) -> CodeStatus {
        match self {
            Outcome::Won => CodeStatus::Won,
            Outcome::Lost => CodeStatus::Lost,
            Outcome::Void => CodeStatus::Void,
        }
    }
}
