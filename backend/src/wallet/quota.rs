//! The daily withdrawal limit, decided by inserts (DESIGN.md section 4), never by reading a sum and
//! then writing: each user and UTC day has a stream of reservations
//! `withdrawal_quota {_id: "{user}:{day}:{n}", stream: "{user}:{day}", n, amount, total}` appended
//! like a ledger account. A withdrawal reads the stream's head (n = N, running total T), refuses when
//! `T + amount` passes the limit, else inserts `{user}:{day}:{N+1}` with `total = T + amount`; a
//! concurrent withdrawal that took N+1 first makes the insert fail with 11000 and this one re-reads.
//! So two withdrawals can never both count on the same remaining allowance.
//!
//! Each reservation also carries `key = "{withdrawal}:reserve"` (unique), so one withdrawal reserves
//! at most once whatever its retries do. A withdrawal that fails (refused by the no-overdraft rule,
//! or its payout failed and the money was returned) gives its allowance back by appending a negative
//! reservation `key = "{withdrawal}:release"` to the stream it reserved in.
//!
//! Crash safety: a reservation whose withdrawal was never stored (a crash between the two inserts)
//! is simply counted for that day; a retry with the same Idempotency-Key finds and reuses it. A
//! withdrawal whose hold is found FAILED by recovery releases its reservation there.

use crate::clock;
use crate::db::Db;
use crate::error::{is_duplicate_key, AppError, Result};
use futures_util::TryStreamExt;
use mongodb::bson::{doc, oid::ObjectId, Document};

pub const COLLECTION: &str = "withdrawal_quota";

/// Appends tried before giving up on a stream many withdrawals of one user append to at once.
const MAX_APPEND_TRIES: usize = 64;

/// The UTC day number (days since 1970-01-01) of `at`.
pub fn day_of(at: mongodb::bson::DateTime) -> i64 {
    at.timestamp_millis().div_euclid(86_400_000)
}

fn stream_id(user: ObjectId, day: i64) -> String {
    format!("{}:{day}", user.to_hex())
}

/// The head of a stream: the highest `n` (0 when empty) and the running total (minor units) there.
fn head(docs: &[Document]) -> (i64, i64) {
    docs.iter()
        .filter_map(|d| Some((d.get_i64("n").ok()?, d.get_i64("total").ok()?)))
        .max_by_key(|(n, _)| *n)
        .unwrap_or((0, 0))
}

/// The reservations of one user and day: an equality match on the indexed `stream`, bounded by the
/// withdrawals one user makes in a day.
async fn read_stream(db: &Db, stream: &str) -> Result<Vec<Document>> {
    Ok(db
        .col(COLLECTION)
        .find(doc! { "stream": stream })
        .await?
        .try_collect()
        .await?)
}

/// Appends `amount` (signed, minor units) for `withdrawal` under `key` unless that key is already in
/// the stream. `limit` (minor units) refuses a positive amount that would take the total past it.
async fn append(
    db: &Db,
    stream: &str,
    withdrawal: ObjectId,
    key: &str,
    amount: i64,
    limit: Option<i64>,
) -> Result<()> {
    for _ in 0..MAX_APPEND_TRIES {
        let docs = read_stream(db, stream).await?;
        if docs.iter().any(|d| d.get_str("key") == Ok(key)) {
            return Ok(());
        }
        let (n, total) = head(&docs);
        if let Some(limit) = limit {
            if total.saturating_add(amount) > limit {
                return Err(AppError::validation(
                    format!("This would exceed the daily withdrawal limit of {limit} (minor units); {} left today", (limit - total).max(0)),
                    "amount",
                    "over the daily limit",
                ));
            }
        }
        let d = doc! {
            "_id": format!("{stream}:{}", n + 1), "stream": stream, "n": n + 1, "withdrawal": withdrawal, "key": key,
            "amount": amount, "total": total + amount, "createdAt": clock::now(),
        };
        match db.col(COLLECTION).insert_one(d).await {
            Ok(_) => return Ok(()),
            // Another withdrawal took n + 1 (or this key was written meanwhile): read again.
            Err(e) if is_duplicate_key(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::internal(format!(
        "withdrawal quota {stream}: too much contention"
    )))
}

/// Reserves `amount` (minor units) of `user`'s allowance for the UTC day of `at` for `withdrawal`,
/// or refuses with 422 naming `amount` when the day's reservations plus `amount` pass `limit`.
/// Idempotent per withdrawal.
#[tracing::instrument(level = "debug", skip_all, fields(user = %user, withdrawal = %withdrawal))]
pub async fn reserve(
    db: &Db,
    user: ObjectId,
    withdrawal: ObjectId,
    amount: i64,
    limit: i64,
    at: mongodb::bson::DateTime,
) -> Result<()> {
    let stream = stream_id(user, day_of(at));
    append(
        db,
        &stream,
        withdrawal,
        &format!("{}:reserve", withdrawal.to_hex()),
        amount,
        Some(limit),
    )
    .await
}

/// Gives back the allowance `withdrawal` reserved (in the stream of the day it reserved in), once;
/// nothing when it reserved none.
#[tracing::instrument(level = "debug", skip_all, fields(withdrawal = %withdrawal))]
pub async fn release(db: &Db, withdrawal: ObjectId) -> Result<()> {
    let reserved = db
        .col(COLLECTION)
        .find_one(doc! { "key": format!("{}:reserve", withdrawal.to_hex()) })
        .await?;
    let Some(reserved) = reserved else {
        return Ok(());
    };
    let (Ok(stream), Ok(amount)) = (reserved.get_str("stream"), reserved.get_i64("amount")) else {
        return Err(AppError::internal(format!(
            "withdrawal quota reservation of {withdrawal} unreadable"
        )));
    };
    append(
        db,
        stream,
        withdrawal,
        &format!("{}:release", withdrawal.to_hex()),
        -amount,
        None,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_is_the_highest_reservation_and_an_empty_stream_starts_at_zero() {
        assert_eq!(head(&[]), (0, 0));
        let docs = vec![
            doc! { "n": 2_i64, "total": 7_i64 },
            doc! { "n": 1_i64, "total": 5_i64 },
        ];
        assert_eq!(head(&docs), (2, 7));
    }

    #[test]
    fn days_are_utc_calendar_days() {
        let just_before_midnight = mongodb::bson::DateTime::from_millis(86_400_000 - 1);
        assert_eq!(day_of(just_before_midnight), 0);
        assert_eq!(day_of(mongodb::bson::DateTime::from_millis(86_400_000)), 1);
    }
}
