//! `GET /admin/reconcile`: checks every money invariant of DESIGN.md section 4 against the stored
//! documents and lists what fails. It only reads.

use crate::auth::extract::AdminUser;
use crate::error::Result;
use crate::http::{ok, ApiResult};
use crate::ledger::accounts;
use crate::ledger::entries::Entry;
use crate::ledger::transfer::{legs_from_doc, void_id, Decision};
use crate::state::AppState;
use axum::extract::State;
use futures_util::TryStreamExt;
use mongodb::bson::{doc, Document};
use oddxer_shared::api::{ErrorEnvelope, ReconcileReport, Violation};
use std::collections::{BTreeMap, HashMap};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(reconcile))
}

fn violation(invariant: &str, subject: impl Into<String>, detail: impl Into<String>) -> Violation {
    Violation {
        invariant: invariant.into(),
        subject: subject.into(),
        detail: detail.into(),
    }
}

/// Plain check of one account's stream: seq contiguous from 1, each balanceAfter = previous + amount,
/// never below zero where overdraft is forbidden.
pub fn check_account(account: &str, entries: &[Entry]) -> Vec<Violation> {
    let mut out = vec![];
    let mut balance = 0i64;
    for (i, e) in entries.iter().enumerate() {
        let expected_seq = i as i64 + 1;
        if e.seq != expected_seq {
            out.push(violation(
                "seq_contiguous",
                account,
                format!("expected seq {expected_seq}, found {}", e.seq),
            ));
            break;
        }
        balance += e.amount;
        if e.balance_after != balance {
            out.push(violation(
                "balance_chain",
                &e.id,
                format!(
                    "balanceAfter {} but entries add up to {balance}",
                    e.balance_after
                ),
            ));
            break;
        }
        if accounts::no_overdraft(account) && balance < 0 {
            out.push(violation(
                "no_overdraft",
                &e.id,
                format!("balance {balance} below zero"),
            ));
        }
    }
    out
}

pub async fn run(state: &AppState) -> Result<ReconcileReport> {
    // Purchases this process answered but is still labelling count as in flight; let them land.
    state.pending.settle_all().await;
    let db = &state.db;
    let mut violations = vec![];
    let entries: Vec<Document> = db
        .col("ledger_entries")
        .find(doc! {})
        .await?
        .try_collect()
        .await?;
    let entries: Vec<Entry> = db.rows("ledger_entries", entries);
    let mut by_account: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
    let mut by_leg: HashMap<(&str, &str), i64> = HashMap::new();
    for e in &entries {
        by_account.entry(e.account.as_str()).or_default().push(e);
        *by_leg
            .entry((e.transfer_id.as_str(), e.account.as_str()))
            .or_default() += e.amount;
    }
    for (account, list) in by_account.iter_mut() {
        list.sort_by_key(|e| e.seq);
        let owned: Vec<Entry> = list.iter().map(|e| (*e).clone()).collect();
        violations.extend(check_account(account, &owned));
    }
    let heads: HashMap<&str, i64> = by_account
        .iter()
        .map(|(a, l)| (*a, l.last().map(|e| e.balance_after).unwrap_or(0)))
        .collect();

    let outcomes: Vec<Document> = db
        .col("transfer_outcomes")
        .find(doc! {})
        .await?
        .try_collect()
        .await?;
    let outcomes: HashMap<String, String> = db
        .rows::<Decision>("transfer_outcomes", outcomes)
        .into_iter()
        .map(|d| (d.transfer, d.outcome))
        .collect();
    let transfers: Vec<Document> = db
        .col("transactions")
        .find(doc! {})
        .await?
        .try_collect()
        .await?;
    let mut in_flight = 0usize;
    let mut in_flight_sum = 0i64;
    for t in &transfers {
        let Ok(id) = t.get_object_id("_id").map(|o| o.to_hex()) else {
            continue;
        };
        let legs = legs_from_doc(t);
        if legs.iter().map(|l| l.amount).sum::<i64>() != 0 {
            violations.push(violation("double_entry", &id, "legs do not sum to zero"));
        }
        let void = void_id(&id);
        let applied: Vec<i64> = legs
            .iter()
            .map(|l| {
                by_leg
                    .get(&(id.as_str(), l.account.as_str()))
                    .copied()
                    .unwrap_or(0)
            })
            .collect();
        let voided: Vec<i64> = legs
            .iter()
            .map(|l| {
                by_leg
                    .get(&(void.as_str(), l.account.as_str()))
                    .copied()
                    .unwrap_or(0)
            })
            .collect();
        let applied_count = applied.iter().filter(|a| **a != 0).count();
        let status = t.get_str("status").unwrap_or_default();
        match outcomes.get(&id).map(String::as_str) {
            Some("COMPLETED") => {
                if applied_count != legs.len() {
                    violations.push(violation(
                        "all_legs_or_none",
                        &id,
                        format!("completed with {applied_count} of {} legs", legs.len()),
                    ));
                }
            }
            Some(_) => {
                // FAILED: whatever was applied must have been voided.
                if applied.iter().zip(&voided).any(|(a, v)| a + v != 0) {
                    violations.push(violation(
                        "failed_transfer_voided",
                        &id,
                        "a leg of a failed transfer is still applied",
                    ));
                }
                if status == "COMPLETED" {
                    violations.push(violation(
                        "status_matches_outcome",
                        &id,
                        "labelled COMPLETED but decided FAILED",
                    ));
                }
            }
            None => {
                if applied_count > 0 {
                    in_flight += 1;
                    in_flight_sum += applied.iter().sum::<i64>();
                }
            }
        }
        let kind = t.get_str("type").unwrap_or_default();
        let is_top_level = t
            .get_document("metadata")
            .ok()
            .and_then(|m| m.get_object_id("parent").ok())
            .is_none();
        if kind == "DEPOSIT"
            && (status == "COMPLETED")
                != (outcomes.get(&id).map(String::as_str) == Some("COMPLETED"))
        {
            violations.push(violation(
                "deposit_credited_iff_confirmed",
                &id,
                format!("status {status} disagrees with the ledger"),
            ));
        }
        if kind == "WITHDRAWAL" && is_top_level {
            let hold = t
                .get_object_id("_id")
                .map(accounts::payout_hold)
                .unwrap_or_default();
            let result = db
                .col("withdrawal_results")
                .find_one(doc! { "_id": &id })
                .await?;
            let result = result
                .as_ref()
                .and_then(|d| d.get_str("result").ok())
                .unwrap_or("");
            let reversed = status == "REVERSED";
            if reversed != (result == "FAILED") {
                violations.push(violation(
                    "withdrawal_reversed_iff_failed",
                    &id,
                    format!("status {status}, provider result {result:?}"),
                ));
            }
            if (status == "COMPLETED" || reversed)
                && heads.get(hold.as_str()).copied().unwrap_or(0) != 0
            {
                violations.push(violation(
                    "withdrawal_hold_released",
                    &id,
                    "the hold still holds money",
                ));
            }
        }
    }
    let entries_sum: i64 = entries.iter().map(|e| e.amount).sum();
    if entries_sum != in_flight_sum {
        violations.push(violation(
            "zero_sum",
            "ledger",
            format!("entries sum to {entries_sum}, in flight {in_flight_sum}"),
        ));
    }
    violations.extend(check_purchases(state, &heads).await?);
    let account_count = db.col("accounts").count_documents(doc! {}).await? as usize;
    // A full run sees everything: what it finds replaces what the periodic passes held.
    let held = state.findings.replace(&violations);
    state
        .db
        .metrics
        .reconcile_finished(held, crate::clock::unix_seconds(crate::clock::now()) as f64);
    Ok(ReconcileReport {
        ok: violations.is_empty(),
        accounts: account_count.max(by_account.len()),
        entries: entries.len(),
        transfers: transfers.len(),
        in_flight,
        entries_sum,
        violations,
    })
}

/// Every settled purchase has exactly one resolution of its code and an empty escrow.
async fn check_purchases(state: &AppState, heads: &HashMap<&str, i64>) -> Result<Vec<Violation>> {
    let mut out = vec![];
    let settled: Vec<Document> = state
        .db
        .col("purchases")
        .find(doc! { "settlement": { "$exists": true } })
        .await?
        .try_collect()
        .await?;
    for p in settled {
        let (Ok(id), Ok(code)) = (p.get_object_id("_id"), p.get_object_id("bettingCode")) else {
            continue;
        };
        let resolutions = state
            .db
            .col("code_resolutions")
            .count_documents(doc! { "_id": code })
            .await?;
        if resolutions != 1 {
            out.push(violation(
                "one_resolution_per_settled_purchase",
                id.to_hex(),
                format!("{resolutions} resolutions"),
            ));
        }
        if heads
            .get(accounts::escrow(id).as_str())
            .copied()
            .unwrap_or(0)
            != 0
        {
            out.push(violation(
                "settled_escrow_empty",
                id.to_hex(),
                "escrow still holds money",
            ));
        }
    }
    Ok(out)
}

#[utoipa::path(get, path = "/admin/reconcile", tag = "admin", security(("bearer" = [])), responses(
    (status = 200, description = "The invariants checked and the violations found", body = ReconcileReport),
    (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
#[tracing::instrument(skip_all)]
async fn reconcile(State(state): State<AppState>, _admin: AdminUser) -> ApiResult<ReconcileReport> {
    Ok(ok(run(&state).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(account: &str, seq: i64, amount: i64, balance_after: i64) -> Entry {
        Entry {
            reference: None,
            payment_method: None,
            id: format!("{account}:{seq}"),
            account: account.into(),
            seq,
            transfer_id: "t".into(),
            amount,
            balance_after,
            kind: "DEPOSIT".into(),
            description: String::new(),
            created_at: mongodb::bson::DateTime::now(),
        }
    }

    #[test]
    fn a_clean_stream_passes() {
        let e = [
            entry("wallet:a", 1, 100, 100),
            entry("wallet:a", 2, -40, 60),
        ];
        assert!(check_account("wallet:a", &e).is_empty());
    }

    #[test]
    fn gaps_broken_chains_and_overdrafts_are_reported() {
        let gap = [entry("wallet:a", 1, 100, 100), entry("wallet:a", 3, 5, 105)];
        assert_eq!(
            check_account("wallet:a", &gap)[0].invariant,
            "seq_contiguous"
        );
        let chain = [entry("wallet:a", 1, 100, 100), entry("wallet:a", 2, 5, 200)];
        assert_eq!(
            check_account("wallet:a", &chain)[0].invariant,
            "balance_chain"
        );
        let overdraft = [entry("wallet:a", 1, -5, -5)];
        assert_eq!(
            check_account("wallet:a", &overdraft)[0].invariant,
            "no_overdraft"
        );
        assert!(check_account(
            "provider_clearing:MTN_MOMO",
            &[entry("provider_clearing:MTN_MOMO", 1, -5, -5)]
        )
        .is_empty());
    }
}
