//! The periodic reconcile: the invariants of DESIGN.md section 4 that concern one transfer,
//! checked for the transfers decided in the last minutes only, so its cost follows the traffic
//! and not the size of the ledger (the full `GET /admin/reconcile` reads every entry).
//!
//! Per decided transfer (found through `transfer_outcomes.bucket`, one indexed equality read per
//! minute) it reads the transaction, the transfer's entries and their voids (indexed equality
//! reads, at once) and then, for each entry at once, the entry before it in its account (by
//! `_id`), and checks: a
//! completed transfer has every leg and they sum to zero; a failed one is voided leg by leg; the
//! label agrees with the outcome (a deposit is COMPLETED iff credited); each entry extends its
//! account's chain (contiguous `seq`, `balanceAfter` = previous + amount) without an overdraft
//! where none is allowed. Not covered here (full run only): the global zero sum, withdrawal holds
//! against provider results, settled purchases against resolutions.

use crate::db::Db;
use crate::error::Result;
use crate::ledger::accounts;
use crate::ledger::entries::Entry;
use crate::ledger::transfer::{legs_from_doc, void_id, Decision};
use futures_util::TryStreamExt;
use mongodb::bson::{doc, oid::ObjectId, Document};
use oddxer_shared::api::Violation;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

/// Transfers checked at once (each check is two rounds of concurrent reads).
const CONCURRENCY: usize = 8;
/// Minutes one pass looks at, at most (after a pause the watcher catches up over several passes).
const MAX_BUCKETS_PER_PASS: i64 = 30;

/// Violations found and not yet cleared, as (invariant, subject). A periodic pass adds what it
/// finds (it sees a window only, so it cannot tell that an older violation was repaired); a full
/// reconcile replaces the set. `oddxer_reconcile_violations` shows its size, so an alert on it
/// stays firing until a full run finds the ledger clean.
#[derive(Clone, Default)]
pub struct Findings(Arc<Mutex<BTreeSet<(String, String)>>>);

impl Findings {
    /// Adds a periodic pass's violations; returns how many are held.
    pub fn add(&self, found: &[Violation]) -> usize {
        let Ok(mut set) = self.0.lock() else {
            return found.len();
        };
        set.extend(
            found
                .iter()
                .map(|v| (v.invariant.clone(), v.subject.clone())),
        );
        set.len()
    }

    /// Replaces the set with a full run's violations; returns how many are held.
    pub fn replace(&self, found: &[Violation]) -> usize {
        let Ok(mut set) = self.0.lock() else {
            return found.len();
        };
        *set = found
            .iter()
            .map(|v| (v.invariant.clone(), v.subject.clone()))
            .collect();
        set.len()
    }
}

/// Where the periodic reconcile stands: the next minute bucket to check.
#[derive(Debug, Default)]
pub struct Watermark {
    next: Option<i64>,
}

/// What one pass looked at.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PassReport {
    pub buckets: usize,
    pub transfers: usize,
    pub violations: Vec<Violation>,
}

impl Watermark {
    /// A watermark whose next pass starts at minute `bucket` (tests, and a catch-up after a restart).
    pub fn starting_at(bucket: i64) -> Self {
        Watermark { next: Some(bucket) }
    }

    /// Checks every minute bucket that ended before `upto` (exclusive) not checked yet, at most
    /// [`MAX_BUCKETS_PER_PASS`]. The first pass checks the one bucket before `upto`: history
    /// before the process started is the full reconcile's.
    pub async fn pass(&mut self, db: &Db, upto: i64) -> Result<PassReport> {
        let from = self
            .next
            .unwrap_or(upto - 1)
            .max(upto - MAX_BUCKETS_PER_PASS);
        let mut report = PassReport::default();
        for bucket in from..upto {
            let (transfers, violations) = check_bucket(db, bucket).await?;
            report.buckets += 1;
            report.transfers += transfers;
            report.violations.extend(violations);
            self.next = Some(bucket + 1);
        }
        Ok(report)
    }
}

/// Checks the transfers decided in one minute bucket; returns how many and the violations.
pub async fn check_bucket(db: &Db, bucket: i64) -> Result<(usize, Vec<Violation>)> {
    let outcomes: Vec<Document> = db
        .col("transfer_outcomes")
        .find(doc! { "bucket": bucket })
        .await?
        .try_collect()
        .await?;
    let decided: Vec<(String, String)> = db
        .rows::<Decision>("transfer_outcomes", outcomes)
        .into_iter()
        .map(|d| (d.transfer, d.outcome))
        .collect();
    let mut violations = vec![];
    for chunk in decided.chunks(CONCURRENCY) {
        let checks: Vec<_> = chunk
            .iter()
            .map(|(id, outcome)| check_transfer(db, id, outcome))
            .collect();
        for r in futures_util::future::join_all(checks).await {
            violations.extend(r?);
        }
    }
    Ok((decided.len(), violations))
}

fn violation(invariant: &str, subject: impl Into<String>, detail: impl Into<String>) -> Violation {
    Violation {
        invariant: invariant.into(),
        subject: subject.into(),
        detail: detail.into(),
    }
}

async fn entries_of(db: &Db, transfer: &str) -> Result<Vec<Entry>> {
    let docs: Vec<Document> = db
        .col("ledger_entries")
        .find(doc! { "transferId": transfer })
        .await?
        .try_collect()
        .await?;
    Ok(db.rows("ledger_entries", docs))
}

/// The checks of one decided transfer (see the module comment).
pub async fn check_transfer(db: &Db, id: &str, outcome: &str) -> Result<Vec<Violation>> {
    let mut out = vec![];
    // The three reads are independent: one round trip of latency, not three.
    let void = void_id(id);
    let tx = async {
        match ObjectId::parse_str(id) {
            Ok(oid) => db.col("transactions").find_one(doc! { "_id": oid }).await,
            Err(_) => Ok(None),
        }
    };
    let (tx, applied, voided) = tokio::join!(tx, entries_of(db, id), entries_of(db, &void));
    let (tx, applied, voided) = (tx?, applied?, voided?);
    let mut net: HashMap<&str, i64> = HashMap::new();
    for e in applied.iter().chain(&voided) {
        *net.entry(e.account.as_str()).or_default() += e.amount;
    }
    let status = tx
        .as_ref()
        .and_then(|t| t.get_str("status").ok())
        .unwrap_or_default();
    if outcome == "COMPLETED" {
        if applied.iter().map(|e| e.amount).sum::<i64>() != 0 {
            out.push(violation(
                "double_entry",
                id,
                "the applied legs do not sum to zero",
            ));
        }
        if let Some(t) = &tx {
            let legs = legs_from_doc(t);
            if legs.iter().map(|l| l.amount).sum::<i64>() != 0 {
                out.push(violation("double_entry", id, "legs do not sum to zero"));
            }
            if applied.len() != legs.len() {
                out.push(violation(
                    "all_legs_or_none",
                    id,
                    format!("completed with {} of {} legs", applied.len(), legs.len()),
                ));
            }
            if status == "FAILED" {
                out.push(violation(
                    "status_matches_outcome",
                    id,
                    "labelled FAILED but decided COMPLETED",
                ));
            }
        }
    } else {
        if net.values().any(|n| *n != 0) {
            out.push(violation(
                "failed_transfer_voided",
                id,
                "a leg of a failed transfer is still applied",
            ));
        }
        if status == "COMPLETED" {
            out.push(violation(
                "status_matches_outcome",
                id,
                "labelled COMPLETED but decided FAILED",
            ));
        }
    }
    if tx.as_ref().and_then(|t| t.get_str("type").ok()) == Some("DEPOSIT")
        && (status == "COMPLETED") != (outcome == "COMPLETED")
    {
        out.push(violation(
            "deposit_credited_iff_confirmed",
            id,
            format!("status {status} disagrees with the ledger"),
        ));
    }
    let links =
        futures_util::future::join_all(applied.iter().chain(&voided).map(|e| check_link(db, e)))
            .await;
    for link in links {
        out.extend(link?);
    }
    Ok(out)
}

/// One entry against the one before it in its account.
async fn check_link(db: &Db, e: &Entry) -> Result<Vec<Violation>> {
    let mut out = vec![];
    let before = if e.seq > 1 {
        let prev: Option<Entry> = db
            .find_row(
                "ledger_entries",
                doc! { "_id": format!("{}:{}", e.account, e.seq - 1) },
            )
            .await?;
        match prev {
            Some(p) => Some(p.balance_after),
            None => {
                out.push(violation(
                    "seq_contiguous",
                    &e.account,
                    format!("no entry before seq {}", e.seq),
                ));
                None
            }
        }
    } else {
        Some(0)
    };
    if let Some(before) = before {
        if before + e.amount != e.balance_after {
            out.push(violation(
                "balance_chain",
                &e.id,
                format!(
                    "balanceAfter {} but the previous balance plus {} is {}",
                    e.balance_after,
                    e.amount,
                    before + e.amount
                ),
            ));
        }
    }
    if accounts::no_overdraft(&e.account) && e.balance_after < 0 {
        out.push(violation(
            "no_overdraft",
            &e.id,
            format!("balance {} below zero", e.balance_after),
        ));
    }
    Ok(out)
}
