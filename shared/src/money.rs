//! Money is an integer count of minor units of one currency. Never a float.

use serde::{Deserialize, Serialize};
use std::fmt;

/// ISO 4217 code such as `UGX`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct Currency(pub String);

impl Currency {
    /// Digits after the decimal point when showing an amount. UGX has none.
    pub fn minor_digits(&self) -> u32 {
        match self.0.as_str() {
            "UGX" | "RWF" | "XAF" | "XOF" | "JPY" => 0,
            _ => 2,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Money {
    /// Signed minor units (a debit leg is negative).
    pub amount: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: i64, currency: &Currency) -> Self {
        Money {
            amount,
            currency: currency.clone(),
        }
    }

    /// Human text such as `UGX 12,500` or `KES 10.50`.
    pub fn display(&self) -> String {
        let digits = self.currency.minor_digits();
        let sign = if self.amount < 0 { "-" } else { "" };
        let abs = self.amount.unsigned_abs();
        let scale = 10u64.pow(digits);
        let major = group_thousands(abs / scale);
        if digits == 0 {
            format!("{sign}{} {major}", self.currency)
        } else {
            let minor = abs % scale;
            format!(
                "{sign}{} {major}.{minor:0width$}",
                self.currency,
                width = digits as usize
            )
        }
    }
}

fn group_thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `amount * bps / 10_000`, rounded down, computed without overflow.
/// The remainder stays with the other side of the split so the total is conserved.
pub fn basis_points_of(amount: i64, bps: u32) -> i64 {
    ((amount as i128 * bps as i128) / 10_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_ugx_without_decimals_and_groups_thousands() {
        let m = Money::new(1_234_500, &Currency("UGX".into()));
        assert_eq!(m.display(), "UGX 1,234,500");
    }

    #[test]
    fn shows_two_decimal_currencies_and_negative_amounts() {
        let m = Money::new(-1050, &Currency("KES".into()));
        assert_eq!(m.display(), "-KES 10.50");
    }

    #[test]
    fn fee_split_rounds_down_and_conserves_the_total() {
        for amount in [1, 9, 999, 1001, 12_345] {
            let fee = basis_points_of(amount, 1000);
            assert!(fee * 10 <= amount);
            assert_eq!(fee + (amount - fee), amount);
        }
        assert_eq!(basis_points_of(999, 1000), 99);
    }
}
