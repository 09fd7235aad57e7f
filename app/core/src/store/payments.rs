//! The user's deposits and withdrawals as last fetched (`GET /wallet/payments`), so the wallet
//! can answer "where is my money" offline and after a restart. One JSON list in `meta`: it is
//! small (the newest page), replaced whole by each live answer, and wiped on sign-out.

use oddxer_shared::api::PaymentOut;

use super::{from_json, to_json, Store};
use crate::error::Result;

const PAYMENTS_KEY: &str = "wallet_payments";

impl Store {
    /// Keeps `payments` (a live answer, newest first) as the wallet's payment list.
    pub fn cache_payments(&mut self, payments: &[PaymentOut]) -> Result<()> {
        let json = to_json(&payments, "wallet payments")?;
        self.set_meta(PAYMENTS_KEY, &json)
    }

    /// The kept payment list, newest first; empty when none was fetched yet.
    pub fn cached_payments(&self) -> Result<Vec<PaymentOut>> {
        match self.meta(PAYMENTS_KEY)? {
            Some(json) => from_json(&json, "wallet payments"),
            None => Ok(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use oddxer_shared::{Currency, Money, PaymentMethod, TransactionStatus, TransactionType};

    use super::*;

    fn failed_deposit() -> PaymentOut {
        PaymentOut {
            id: "656f1c2e9b1e8a0012345678".into(),
            reference: "dep-1".into(),
            kind: TransactionType::Deposit,
            payment_method: Some(PaymentMethod::MtnMomo),
            phone_number: Some("+256*******56".into()),
            amount: Money::new(20_000, &Currency("UGX".into())),
            status: TransactionStatus::Failed,
            failure_reason: Some("The payer declined the prompt".into()),
            created_at: "2026-12-01T06:00:00Z".into(),
            updated_at: "2026-12-01T06:01:00Z".into(),
        }
    }

    #[test]
    fn a_failed_deposit_is_still_there_after_a_restart_and_gone_after_sign_out() {
        let dir = crate::testutil::TempDir::new("payments");
        let path = dir.path().join("oddxer.sqlite3");
        {
            let mut s = Store::open(&path).unwrap();
            assert!(s.cached_payments().unwrap().is_empty());
            s.cache_payments(&[failed_deposit()]).unwrap();
        }
        let mut s = Store::open(&path).unwrap();
        assert_eq!(s.cached_payments().unwrap(), vec![failed_deposit()]);
        s.clear_session().unwrap();
        assert!(s.cached_payments().unwrap().is_empty());
    }
}
