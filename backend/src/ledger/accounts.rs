//! Account ids and the per-account rules. An account is a stream of entries `{account}:{seq}`.

use crate::clock;
use crate::db::Db;
use crate::error::is_duplicate_key;
use mongodb::bson::{doc, oid::ObjectId};
use oddxer_shared::Currency;

pub fn wallet(user: ObjectId) -> String {
    format!("wallet:{}", user.to_hex())
}

pub fn escrow(purchase: ObjectId) -> String {
    format!("escrow:{}", purchase.to_hex())
}

pub fn payout_hold(withdrawal: ObjectId) -> String {
    format!("payout_hold:{}", withdrawal.to_hex())
}

/// Money that is on its way in from or out to a mobile-money provider; it goes negative as deposits arrive.
pub fn provider_clearing(provider: &str) -> String {
    format!("provider_clearing:{provider}")
}

pub const FEES: &str = "fees";

/// Shards of each hot platform account (a provider's clearing account, the fee account): every
/// deposit, payout and settlement appends to one of them, and appends to one account are
/// serialized by its position inserts (DESIGN.md section 4 allows splitting the fee account).
pub const PLATFORM_SHARDS: u8 = 16;

fn shard(key: ObjectId) -> u8 {
    // Ids here are fresh ObjectIds (counter in the last bytes) or derived from a hash: both spread.
    key.bytes()[11] % PLATFORM_SHARDS
}

/// The clearing account shard of `provider` that a payment `transfer` moves through.
pub fn provider_clearing_for(provider: &str, transfer: ObjectId) -> String {
    format!("{}:{}", provider_clearing(provider), shard(transfer))
}

/// The fee account shard a settlement of `purchase` pays its fee into.
pub fn fees_for(purchase: ObjectId) -> String {
    format!("{FEES}:{}", shard(purchase))
}

/// Which accounts may never go below zero. Clearing and fee accounts mirror money outside the
/// platform and may.
pub fn no_overdraft(account: &str) -> bool {
    !(account.starts_with("provider_clearing:") || account == FEES || account.starts_with("fees:"))
}

pub fn kind_of(account: &str) -> &str {
    account.split(':').next().unwrap_or(account)
}

/// Creates the account document if it is missing. Entries do not need it (an account with no entries
/// has balance 0), but reconciliation lists accounts from here.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn ensure(
    db: &Db,
    account: &str,
    owner: Option<ObjectId>,
    currency: &Currency,
) -> mongodb::error::Result<()> {
    let d = doc! {
        "_id": account, "kind": kind_of(account), "owner": owner, "currency": &currency.0,
        "noOverdraft": no_overdraft(account), "createdAt": clock::now(),
    };
    match db.col("accounts").insert_one(d).await {
        Ok(_) => Ok(()),
        Err(e) if is_duplicate_key(&e) => Ok(()),
        Err(e) => Err(e),
    }
}

/// For bulk loading (benchmarks): the account document [`ensure`] inserts (keep the two in step).
pub fn account_doc(
    account: &str,
    owner: Option<ObjectId>,
    currency: &Currency,
    created_at: mongodb::bson::DateTime,
) -> mongodb::bson::Document {
    doc! {
        "_id": account, "kind": kind_of(account), "owner": owner, "currency": &currency.0,
        "noOverdraft": no_overdraft(account), "createdAt": created_at,
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(user = %user))]
pub async fn ensure_wallet(
    db: &Db,
    user: ObjectId,
    currency: &Currency,
) -> mongodb::error::Result<()> {
    ensure(db, &wallet(user), Some(user), currency).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_clearing_and_fee_accounts_may_go_negative() {
        let id = ObjectId::new();
        assert!(no_overdraft(&wallet(id)));
        assert!(no_overdraft(&escrow(id)));
        assert!(no_overdraft(&payout_hold(id)));
        assert!(!no_overdraft(&provider_clearing("MTN_MOMO")));
        assert!(!no_overdraft(FEES));
        assert_eq!(kind_of(&wallet(id)), "wallet");
    }
}
