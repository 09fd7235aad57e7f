//! `votes` queries. A vote is an insert under the unique index `{bettingCode, voter}`; the counters
//! on the code are recomputed from the votes, never incremented.

use crate::codes::store as codes;
use crate::db::Db;
use crate::error::is_duplicate_key;
use futures_util::TryStreamExt;
use mongodb::bson::{doc, oid::ObjectId, DateTime, Document};
use oddxer_shared::VoteType;

pub const VOTES: &str = "votes";

/// Inserts the vote; `None` when this voter already voted on this code.
#[tracing::instrument(level = "debug", skip_all, fields(code = %code, voter = %voter))]
pub async fn insert(
    db: &Db,
    code: ObjectId,
    voter: ObjectId,
    vote: VoteType,
    now: DateTime,
) -> mongodb::error::Result<Option<ObjectId>> {
    let id = ObjectId::new();
    let d = doc! { "_id": id, "bettingCode": code, "voter": voter, "voteType": vote.as_str(), "createdAt": now };
    match db.col(VOTES).insert_one(d).await {
        Ok(_) => Ok(Some(id)),
        Err(e) if is_duplicate_key(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether `voter` holds a COMPLETED purchase of `code`: one query, equality on `bettingCode` (the
/// first key of an index, so served from it on the dev database) matching the code's purchases,
/// which are bounded by its `maxBuyers` and the buyers' failed attempts.
#[tracing::instrument(level = "debug", skip_all, fields(code = %code, voter = %voter))]
pub async fn bought(db: &Db, code: ObjectId, voter: ObjectId) -> mongodb::error::Result<bool> {
    let filter = doc! { "bettingCode": code, "buyer": voter, "status": codes::PURCHASE_COMPLETED };
    Ok(db
        .col(codes::PURCHASES)
        .find_one(filter)
        .projection(doc! { "_id": 1 })
        .await?
        .is_some())
}

/// (WIN votes, LOSS votes) stored for a code, counted by the database.
#[tracing::instrument(level = "debug", skip_all, fields(code = %code))]
pub async fn tally(db: &Db, code: ObjectId) -> mongodb::error::Result<(i64, i64)> {
    let pipeline = vec![
        doc! { "$match": { "bettingCode": code } },
        doc! { "$group": { "_id": "$voteType", "n": { "$sum": 1 } } },
    ];
    let groups: Vec<Document> = db
        .col(VOTES)
        .aggregate(pipeline)
        .await?
        .try_collect()
        .await?;
    let (mut win, mut loss) = (0, 0);
    for g in groups {
        let n = match g.get("n") {
            Some(mongodb::bson::Bson::Int32(n)) => *n as i64,
            Some(mongodb::bson::Bson::Int64(n)) => *n,
            _ => 0,
        };
        match g.get_str("_id").ok().and_then(VoteType::parse) {
            Some(VoteType::Win) => win += n,
            Some(VoteType::Loss) => loss += n,
            None => {}
        }
    }
    Ok((win, loss))
}

/// Recomputes `winVotes`, `lossVotes`, `totalVotes` from the votes and writes them until a count
/// taken after the write equals what was written. Concurrent voters may each write a count; a
/// writer whose count went stale sees it in its next count and writes again, so the last write is
/// always a fresh one. (A label overwritten by an unrelated whole-document write is put right by the
/// next vote, and at finalization by `ensure_labels`.)
#[tracing::instrument(level = "debug", skip_all, fields(code = %code))]
pub async fn refresh_counters(db: &Db, code: ObjectId) -> mongodb::error::Result<(i64, i64)> {
    let mut counted = tally(db, code).await?;
    for _ in 0..8 {
        let (win, loss) = counted;
        codes::set_labels(
            db,
            code,
            doc! { "winVotes": win, "lossVotes": loss, "totalVotes": win + loss },
        )
        .await?;
        let again = tally(db, code).await?;
        if again == counted {
            return Ok(again);
        }
        counted = again;
    }
    Ok(counted)
}
