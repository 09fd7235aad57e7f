//! Double-entry transfers over the append-only entries, exactly once without transactions.
//!
//! A transfer is a `transactions` document listing its legs (summing to zero). Its fate is decided by
//! one insert into `transfer_outcomes {_id: transferId}`: COMPLETED after every leg is applied, or
//! FAILED when the first debit is refused (or, by recovery, when it was never applied). Legs are
//! applied debit first, so a crash leaves money in flight, never created. A leg applied under a
//! FAILED outcome (a slow driver racing recovery) is voided by an opposite entry `{T}:void`, by
//! whichever driver sees both.

use super::accounts;
use super::entries::{Entries, Entry, LegError, LegSpec};
use crate::clock;
use crate::db::Db;
use crate::error::is_duplicate_key;
use mongodb::bson::{doc, oid::ObjectId, Document};
use oddxer_shared::{TransactionStatus, TransactionType};

/// One movement of a transfer: `amount` signed minor units on `account` (negative debits).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct Leg {
    pub account: String,
    pub amount: i64,
}

#[derive(Debug, Clone)]
pub struct TransferSpec {
    pub id: ObjectId,
    pub kind: TransactionType,
    pub legs: Vec<Leg>,
    pub description: String,
    /// The status label written on the transaction document when the transfer completes. `None`
    /// for a transfer that is only the first step of its transaction (a withdrawal's hold stays
    /// PENDING until the provider answers).
    pub label_on_complete: Option<TransactionStatus>,
    /// The payment reference the journal shows on each entry (the provider reference of a deposit
    /// or withdrawal, including a withdrawal's payout and reversal; else the transfer id).
    pub reference: Option<String>,
    /// The payment method of a deposit or withdrawal, shown on each entry.
    pub payment_method: Option<oddxer_shared::PaymentMethod>,
}

/// An ObjectId derived from a label: the same label always names the same document, which makes a
/// step that creates it idempotent (a settlement of purchase P is always `derived_id("settle:P")`).
pub fn derived_id(label: &str) -> ObjectId {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(label.as_bytes());
    let mut bytes = [0u8; 12];
    bytes.copy_from_slice(&digest[..12]);
    ObjectId::from_bytes(bytes)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Completed,
    Failed,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Completed => "COMPLETED",
            Outcome::Failed => "FAILED",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error("the legs of a transfer must sum to zero and move money")]
    Unbalanced,
    #[error(transparent)]
    Leg(#[from] LegError),
    #[error(transparent)]
    Db(#[from] mongodb::error::Error),
}

/// Plain check: legs sum to zero, no zero legs, one leg per account.
pub fn check_balanced(legs: &[Leg]) -> bool {
    let sum: i128 = legs.iter().map(|l| l.amount as i128).sum();
    let mut accounts: Vec<&str> = legs.iter().map(|l| l.account.as_str()).collect();
    accounts.sort_unstable();
    accounts.dedup();
    sum == 0
        && legs.len() >= 2
        && legs.iter().all(|l| l.amount != 0)
        && accounts.len() == legs.len()
}

/// Debits first: a crash between legs leaves money in flight, never created.
pub fn ordered_legs(legs: &[Leg]) -> Vec<Leg> {
    let mut v = legs.to_vec();
    v.sort_by_key(|l| l.amount >= 0);
    v
}

pub fn legs_from_doc(d: &Document) -> Vec<Leg> {
    d.get_array("legs")
        .map(|arr| {
            arr.iter()
                .filter_map(|b| b.as_document())
                .filter_map(|l| {
                    Some(Leg {
                        account: l.get_str("account").ok()?.to_owned(),
                        amount: l.get_i64("amount").ok()?,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The spec a FAILED outcome document carries (see `Transfers::decide_failed`).
fn failed_spec(d: &Document) -> Option<TransferSpec> {
    Some(TransferSpec {
        id: ObjectId::parse_str(d.get_str("_id").ok()?).ok()?,
        kind: TransactionType::parse(d.get_str("kind").ok()?)?,
        legs: legs_from_doc(d),
        description: d.get_str("description").unwrap_or_default().to_owned(),
        label_on_complete: None,
        reference: d.get_str("reference").ok().map(str::to_owned),
        payment_method: d
            .get_str("paymentMethod")
            .ok()
            .and_then(oddxer_shared::PaymentMethod::parse),
    })
}

/// A `transfer_outcomes` document as the audits read it: the transfer it decided (`_id`) and
/// how (`COMPLETED` or `FAILED`).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Decision {
    #[serde(rename = "_id")]
    pub transfer: String,
    pub outcome: String,
}

/// The minute a transfer was decided in (`transfer_outcomes.bucket`): Unix milliseconds / 60,000.
pub fn minute_bucket(at: mongodb::bson::DateTime) -> i64 {
    at.timestamp_millis().div_euclid(60_000)
}

pub fn void_id(transfer_id: &str) -> String {
    format!("{transfer_id}:void")
}

pub struct Transfers<'a> {
    pub db: &'a Db,
    pub entries: &'a Entries,
}

impl Transfers<'_> {
    pub async fn outcome(&self, id: &str) -> mongodb::error::Result<Option<Outcome>> {
        let found = self
            .db
            .col("transfer_outcomes")
            .find_one(doc! { "_id": id })
            .await?;
        Ok(found.and_then(|d| match d.get_str("outcome") {
            Ok("COMPLETED") => Some(Outcome::Completed),
            Ok("FAILED") => Some(Outcome::Failed),
            _ => None,
        }))
    }

    /// Inserts the outcome; returns the outcome that stands (ours, or the one decided first). The
    /// winning insert is where the transfer's business counters move, so each counts once.
    pub async fn decide(
        &self,
        spec: &TransferSpec,
        outcome: Outcome,
    ) -> mongodb::error::Result<Outcome> {
        self.insert_outcome(spec, outcome, Document::new()).await
    }

    /// The deciding insert with `extra` fields; counted once, by the insert that decides.
    async fn insert_outcome(
        &self,
        spec: &TransferSpec,
        outcome: Outcome,
        extra: Document,
    ) -> mongodb::error::Result<Outcome> {
        let id = spec.id.to_hex();
        let now = clock::now();
        // The minute bucket lets the periodic reconcile read the transfers decided in a minute
        // with one indexed equality read (`admin::recent`).
        let mut d = doc! { "_id": &id, "outcome": outcome.as_str(), "createdAt": now, "bucket": minute_bucket(now) };
        d.extend(extra);
        match self.db.col("transfer_outcomes").insert_one(d).await {
            Ok(_) => {
                // A withdrawal's own transfer (the hold) is the only one labelled later.
                let top_level = spec.label_on_complete.is_none();
                let moved = spec.legs.iter().map(|l| l.amount.max(0)).sum();
                self.db.metrics.transfer_decided(
                    spec.kind,
                    top_level,
                    spec.payment_method,
                    moved,
                    outcome == Outcome::Completed,
                );
                Ok(outcome)
            }
            Err(e) if is_duplicate_key(&e) => Ok(self.outcome(&id).await?.unwrap_or(outcome)),
            Err(e) => Err(e),
        }
    }

    /// Applies every leg and decides the outcome. Safe to call any number of times, concurrently,
    /// from any process: the result is the same single effect.
    pub async fn drive(
        &self,
        spec: &TransferSpec,
        entry_kind: &str,
    ) -> Result<(Outcome, Vec<Entry>), TransferError> {
        if !check_balanced(&spec.legs) {
            return Err(TransferError::Unbalanced);
        }
        let id = spec.id.to_hex();
        match self.outcome(&id).await? {
            Some(Outcome::Failed) => {
                self.void_applied(spec, entry_kind).await?;
                self.set_status(&id, TransactionStatus::Failed).await?;
                return Ok((Outcome::Failed, vec![]));
            }
            Some(Outcome::Completed) => {
                self.label_completed(spec).await?;
                return Ok((Outcome::Completed, self.applied_entries(spec).await?));
            }
            None => {}
        }
        match self.apply_legs(spec, entry_kind).await? {
            None => Ok((Outcome::Failed, vec![])),
            Some(applied) => match self.complete(spec, entry_kind).await? {
                Outcome::Completed => Ok((Outcome::Completed, applied)),
                Outcome::Failed => Ok((Outcome::Failed, vec![])),
            },
        }
    }

    /// Applies the legs of a transfer this caller has just created, debit first, without reading
    /// its outcome first (nobody else knows the transfer yet, so none can exist; a racing driver
    /// is still handled, since every leg is applied at most once and the outcome is an insert).
    /// `Some(entries)` when every leg is in: the caller then decides COMPLETED with
    /// [`Transfers::complete`], possibly after answering its client (a crash in between leaves a
    /// transfer whose legs are all in, which recovery rolls forward). `None` when the first debit
    /// was refused (insufficient funds) and the transfer is decided FAILED.
    pub async fn apply_legs(
        &self,
        spec: &TransferSpec,
        entry_kind: &str,
    ) -> Result<Option<Vec<Entry>>, TransferError> {
        if !check_balanced(&spec.legs) {
            return Err(TransferError::Unbalanced);
        }
        let id = spec.id.to_hex();
        let mut applied = Vec::with_capacity(spec.legs.len());
        for leg in ordered_legs(&spec.legs) {
            let result = self
                .entries
                .apply(&LegSpec {
                    account: &leg.account,
                    transfer_id: &id,
                    amount: leg.amount,
                    kind: entry_kind,
                    description: &spec.description,
                    reference: spec.reference.as_deref(),
                    payment_method: spec.payment_method.map(|m| m.as_str()),
                    enforce_no_overdraft: accounts::no_overdraft(&leg.account),
                })
                .await;
            match result {
                Ok(entry) => applied.push(entry),
                Err(LegError::InsufficientFunds) => {
                    return match self.fail(spec, entry_kind).await? {
                        Outcome::Failed => Ok(None),
                        Outcome::Completed => Ok(Some(self.applied_entries(spec).await?)),
                    };
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Some(applied))
    }

    /// Decides COMPLETED for a transfer whose legs are all applied ([`Transfers::apply_legs`]) and
    /// writes the label; should a FAILED outcome stand (a driver that saw the debit refused),
    /// voids the legs instead. Returns the outcome that stands.
    pub async fn complete(
        &self,
        spec: &TransferSpec,
        entry_kind: &str,
    ) -> Result<Outcome, TransferError> {
        let id = spec.id.to_hex();
        match self.decide(spec, Outcome::Completed).await? {
            Outcome::Completed => {
                self.label_completed(spec).await?;
                Ok(Outcome::Completed)
            }
            Outcome::Failed => {
                self.void_applied(spec, entry_kind).await?;
                self.set_status(&id, TransactionStatus::Failed).await?;
                Ok(Outcome::Failed)
            }
        }
    }

    /// Inserts a FAILED outcome that carries what voiding its legs needs (legs, kinds, reference,
    /// method) and `recheck: true`: a leg whose write was in flight when FAILED was decided (its
    /// driver slow, then killed) lands after every driver looked, and only
    /// [`Transfers::recheck_failed`] will see it. Returns the outcome that stands.
    async fn decide_failed(
        &self,
        spec: &TransferSpec,
        entry_kind: &str,
    ) -> mongodb::error::Result<Outcome> {
        let legs: Vec<Document> = spec
            .legs
            .iter()
            .map(|l| doc! { "account": &l.account, "amount": l.amount })
            .collect();
        let extra = doc! {
            "recheck": true, "legs": legs, "kind": spec.kind.as_str(), "entryKind": entry_kind, "description": &spec.description,
            "reference": spec.reference.as_deref(), "paymentMethod": spec.payment_method.map(|m| m.as_str()),
        };
        self.insert_outcome(spec, Outcome::Failed, extra).await
    }

    /// Second look at FAILED transfers decided before `cutoff` (long enough for any write in
    /// flight at the time to have landed): voids legs applied after every driver looked, then
    /// clears `recheck`. The `recheck` equality is served by its index and bounded by the
    /// failures of one recovery window. Returns how many legs were voided.
    pub async fn recheck_failed(
        &self,
        cutoff: mongodb::bson::DateTime,
        limit: i64,
    ) -> Result<usize, TransferError> {
        use futures_util::TryStreamExt;
        let options = mongodb::options::FindOptions::builder()
            .limit(limit)
            .build();
        let due: Vec<Document> = self
            .db
            .col("transfer_outcomes")
            .find(doc! { "recheck": true })
            .with_options(options)
            .await?
            .try_collect()
            .await?;
        let mut voided = 0;
        for d in due
            .iter()
            .filter(|d| d.get_datetime("createdAt").is_ok_and(|at| *at < cutoff))
        {
            let Some(spec) = failed_spec(d) else {
                tracing::warn!(outcome = ?d.get("_id"), "FAILED outcome without its legs; left for reconcile");
                continue;
            };
            let entry_kind = d
                .get_str("entryKind")
                .unwrap_or(spec.kind.as_str())
                .to_owned();
            voided += self.void_applied(&spec, &entry_kind).await?;
            self.db
                .col("transfer_outcomes")
                .update_one(
                    doc! { "_id": spec.id.to_hex() },
                    doc! { "$unset": { "recheck": "" } },
                )
                .await?;
        }
        Ok(voided)
    }

    /// Decides FAILED for a transfer that never started (recovery, or a provider that refused);
    /// voids whatever a racing driver applied meanwhile.
    pub async fn fail(
        &self,
        spec: &TransferSpec,
        entry_kind: &str,
    ) -> Result<Outcome, TransferError> {
        let id = spec.id.to_hex();
        let stands = self.decide_failed(spec, entry_kind).await?;
        match stands {
            Outcome::Failed => {
                self.void_applied(spec, entry_kind).await?;
                self.set_status(&id, TransactionStatus::Failed).await?;
            }
            Outcome::Completed => self.label_completed(spec).await?,
        }
        Ok(stands)
    }

    /// For a transfer found unfinished after a crash: roll forward when its first debit was applied
    /// (the money already left), otherwise decide FAILED. Either way the end state is final.
    pub async fn resolve_stale(
        &self,
        spec: &TransferSpec,
        entry_kind: &str,
    ) -> Result<Outcome, TransferError> {
        let id = spec.id.to_hex();
        if let Some(outcome) = self.outcome(&id).await? {
            return match outcome {
                Outcome::Completed => self.drive(spec, entry_kind).await.map(|(o, _)| o),
                Outcome::Failed => self.fail(spec, entry_kind).await,
            };
        }
        let first_debit = ordered_legs(&spec.legs).into_iter().next();
        let started = match first_debit {
            Some(leg) => self.entries.find_leg(&id, &leg.account).await?.is_some(),
            None => false,
        };
        if started {
            self.drive(spec, entry_kind).await.map(|(o, _)| o)
        } else {
            self.fail(spec, entry_kind).await
        }
    }

    async fn label_completed(&self, spec: &TransferSpec) -> mongodb::error::Result<()> {
        match spec.label_on_complete {
            Some(status) => self.set_status(&spec.id.to_hex(), status).await,
            None => Ok(()),
        }
    }

    async fn applied_entries(&self, spec: &TransferSpec) -> mongodb::error::Result<Vec<Entry>> {
        let id = spec.id.to_hex();
        let mut out = Vec::new();
        for leg in &spec.legs {
            if let Some(e) = self.entries.find_leg(&id, &leg.account).await? {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// Voids every applied leg (once: the void entry `{T}:void` is a leg like any other); returns
    /// how many legs were found applied.
    async fn void_applied(
        &self,
        spec: &TransferSpec,
        entry_kind: &str,
    ) -> Result<usize, TransferError> {
        let id = spec.id.to_hex();
        let void = void_id(&id);
        let mut applied = 0;
        for leg in &spec.legs {
            if self.entries.find_leg(&id, &leg.account).await?.is_some() {
                applied += 1;
                self.entries
                    .apply(&LegSpec {
                        account: &leg.account,
                        transfer_id: &void,
                        amount: -leg.amount,
                        kind: entry_kind,
                        description: "Reversed: transfer failed",
                        reference: spec.reference.as_deref(),
                        payment_method: spec.payment_method.map(|m| m.as_str()),
                        // A void restores what was there before; it must not be refused.
                        enforce_no_overdraft: false,
                    })
                    .await?;
            }
        }
        Ok(applied)
    }

    /// The status on the transaction document is a label written after the deciding insert.
    pub async fn set_status(
        &self,
        id: &str,
        status: TransactionStatus,
    ) -> mongodb::error::Result<()> {
        let oid = match ObjectId::parse_str(id) {
            Ok(o) => o,
            Err(_) => return Ok(()),
        };
        self.db
            .col("transactions")
            .update_one(
                doc! { "_id": oid, "status": { "$ne": status.as_str() } },
                doc! { "$set": { "status": status.as_str(), "updatedAt": clock::now() } },
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leg(account: &str, amount: i64) -> Leg {
        Leg {
            account: account.into(),
            amount,
        }
    }

    #[test]
    fn balanced_legs_sum_to_zero_on_distinct_accounts() {
        assert!(check_balanced(&[leg("a", -5), leg("b", 5)]));
        assert!(check_balanced(&[
            leg("a", -10),
            leg("b", 9),
            leg("fees", 1)
        ]));
        assert!(!check_balanced(&[leg("a", -5), leg("b", 4)]));
        assert!(!check_balanced(&[leg("a", -5), leg("a", 5)]));
        assert!(!check_balanced(&[leg("a", 0), leg("b", 0)]));
        assert!(!check_balanced(&[leg("a", 0)]));
    }

    #[test]
    fn debits_are_applied_before_credits() {
        let ordered = ordered_legs(&[leg("b", 5), leg("fees", 1), leg("a", -6)]);
        assert_eq!(ordered[0], leg("a", -6));
        assert!(ordered[1..].iter().all(|l| l.amount > 0));
    }
}
