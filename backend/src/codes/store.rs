//! MongoDB queries of the marketplace: `bettingcodes` and the decisions about a listing
//! (cancellations, edits). The purchase facts it reads are in [`super::sales`], re-exported here.

use super::rules::{self, Listing};
use crate::clock;
use crate::db::{de, Db};
use crate::error::is_duplicate_key;
use futures_util::TryStreamExt;
use mongodb::bson::{doc, oid::ObjectId, Bson, DateTime, Document};
use oddxer_shared::api::CodeOut;
use oddxer_shared::{CodeStatus, Currency, Money, Outcome, Sport, VoteType};
use std::time::Duration;

pub const CODES: &str = "bettingcodes";
pub const PURCHASES: &str = "purchases";
pub const CANCELLATIONS: &str = "code_cancellations";
/// Edit markers `{_id: "{code}:{version}"}`: the decision that the listing becomes `version`.
pub const EDITS: &str = "code_edits";
/// A purchase counts as a sale (and its buyer as a buyer) in this status.
pub const PURCHASE_COMPLETED: &str = "COMPLETED";

/// A `bettingcodes` document.
#[derive(Debug, Clone, PartialEq)]
pub struct Code {
    pub id: ObjectId,
    pub seller: ObjectId,
    pub seller_username: String,
    pub listing: Listing,
    pub status: CodeStatus,
    pub sales_count: i64,
    pub sold_at: Option<DateTime>,
    pub win_votes: i64,
    pub loss_votes: i64,
    pub total_votes: i64,
    pub outcome: Option<Outcome>,
    pub needs_review: bool,
    pub finalized_at: Option<DateTime>,
    /// How many edits of the listing have landed (`listingVersion`, 0 for a code never edited).
    pub listing_version: i64,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

/// A `bettingcodes` document as stored: the listing's fields sit beside the rest.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct CodeDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    seller: ObjectId,
    #[serde(default)]
    seller_username: String,
    sport: Sport,
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default, deserialize_with = "de::whole_number")]
    odds: i64,
    #[serde(default)]
    bookmaker: String,
    #[serde(default, deserialize_with = "de::whole_number")]
    price: i64,
    #[serde(default)]
    code: String,
    expires_at: DateTime,
    #[serde(default, deserialize_with = "de::whole_number")]
    max_buyers: i64,
    status: CodeStatus,
    #[serde(default, deserialize_with = "de::whole_number")]
    sales_count: i64,
    sold_at: Option<DateTime>,
    #[serde(default, deserialize_with = "de::whole_number")]
    win_votes: i64,
    #[serde(default, deserialize_with = "de::whole_number")]
    loss_votes: i64,
    #[serde(default, deserialize_with = "de::whole_number")]
    total_votes: i64,
    outcome: Option<Outcome>,
    #[serde(default)]
    needs_review: bool,
    finalized_at: Option<DateTime>,
    #[serde(default, deserialize_with = "de::whole_number")]
    listing_version: i64,
    created_at: DateTime,
    #[serde(default = "de::earliest")]
    updated_at: DateTime,
}

impl<'de> serde::Deserialize<'de> for Code {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let c = CodeDoc::deserialize(d)?;
        Ok(Code {
            id: c.id,
            seller: c.seller,
            seller_username: c.seller_username,
            listing: Listing {
                sport: c.sport,
                title: c.title,
                description: c.description,
                odds: c.odds,
                bookmaker: c.bookmaker,
                price: c.price,
                code: c.code,
                expires_at: c.expires_at,
                max_buyers: c.max_buyers.max(1),
            },
            status: c.status,
            sales_count: c.sales_count,
            sold_at: c.sold_at,
            win_votes: c.win_votes,
            loss_votes: c.loss_votes,
            total_votes: c.total_votes,
            outcome: c.outcome,
            needs_review: c.needs_review,
            finalized_at: c.finalized_at,
            listing_version: c.listing_version,
            created_at: c.created_at,
            updated_at: c.updated_at,
        })
    }
}

impl Code {
    /// The view without the secret `code`; `reveal` adds it (seller, buyers, admins only).
    pub fn to_out(
        &self,
        currency: &Currency,
        voting_window: Duration,
        now: DateTime,
        reveal: bool,
    ) -> CodeOut {
        let l = &self.listing;
        CodeOut {
            id: self.id.to_hex(),
            seller_id: self.seller.to_hex(),
            seller_username: self.seller_username.clone(),
            sport: l.sport,
            title: l.title.clone(),
            description: l.description.clone(),
            odds: rules::odds_to_decimal(l.odds),
            bookmaker: l.bookmaker.clone(),
            price: Money::new(l.price, currency),
            status: rules::effective_status(self.status, l.expires_at, now),
            code: reveal.then(|| l.code.clone()),
            expires_at: clock::rfc3339(l.expires_at),
            voting_ends_at: clock::rfc3339(clock::after(l.expires_at, voting_window)),
            max_buyers: l.max_buyers,
            sales_count: self.sales_count,
            win_votes: self.win_votes,
            loss_votes: self.loss_votes,
            total_votes: self.total_votes,
            outcome: self.outcome,
            needs_review: self.needs_review,
            sold_at: self.sold_at.map(clock::rfc3339),
            finalized_at: self.finalized_at.map(clock::rfc3339),
            my_vote: None,
            created_at: clock::rfc3339(self.created_at),
            updated_at: clock::rfc3339(self.updated_at),
        }
    }
}

pub fn listing_fields(l: &Listing) -> Document {
    doc! {
        "sport": l.sport.as_str(), "title": &l.title, "description": &l.description, "odds": l.odds,
        "bookmaker": &l.bookmaker, "price": l.price, "code": &l.code, "expiresAt": l.expires_at,
        "maxBuyers": l.max_buyers,
    }
}

/// A new ACTIVE code with the seed's fields plus `maxBuyers`, `salesCount`, `outcome`.
pub fn new_code_doc(
    id: ObjectId,
    seller: ObjectId,
    seller_username: &str,
    l: &Listing,
    now: DateTime,
) -> Document {
    let mut d = doc! { "_id": id, "seller": seller, "sellerUsername": seller_username };
    d.extend(listing_fields(l));
    d.extend(doc! {
        "status": CodeStatus::Active.as_str(), "soldTo": Bson::Null, "soldAt": Bson::Null, "finalizedAt": Bson::Null,
        "winVotes": 0i64, "lossVotes": 0i64, "totalVotes": 0i64, "salesCount": 0i64, "outcome": Bson::Null,
        // `updatedAt` is the time of this write even when `createdAt` is backdated (seeds): the
        // market cache reads changes by `updatedAt`.
        "needsReview": false, "createdAt": now,
    });
    d.extend(touched(clock::now().max(now)));
    d
}

/// Length of one `updatedBucket`: the market cache reads what changed bucket by bucket.
pub const UPDATE_BUCKET_MS: i64 = 5_000;

/// The update bucket of a time: `updatedAt` in whole [`UPDATE_BUCKET_MS`] since the epoch.
pub fn update_bucket(at: DateTime) -> i64 {
    at.timestamp_millis().div_euclid(UPDATE_BUCKET_MS)
}

/// `updatedAt` and its indexed bucket, written by every write to a code: a refresh of the market
/// cache reads the few buckets since its last pass by equality (index-served), where a range on
/// `updatedAt` would read the whole collection on FerretDB.
pub fn touched(at: DateTime) -> Document {
    doc! { "updatedAt": at, "updatedBucket": update_bucket(at) }
}

/// Inserts a code; false when a code with this id exists (an idempotent retry or the seed).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(db: &Db, d: Document) -> mongodb::error::Result<bool> {
    match db.col(CODES).insert_one(d).await {
        Ok(_) => Ok(true),
        Err(e) if is_duplicate_key(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn find(db: &Db, id: ObjectId) -> mongodb::error::Result<Option<Code>> {
    db.find_row(CODES, doc! { "_id": id }).await
}

/// The codes of `ids` (a page's worth, up to 100), by `_id` equality reads sent all at once: on
/// FerretDB an `_id` `$in` is filtered in its own process after reading every code, while each
/// equality is one index lookup (DESIGN.md section 2). Keyed by id; an unknown id is absent.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_by_ids(
    db: &Db,
    ids: impl IntoIterator<Item = ObjectId>,
) -> mongodb::error::Result<std::collections::HashMap<ObjectId, Code>> {
    let unique: std::collections::HashSet<ObjectId> = ids.into_iter().collect();
    let found =
        futures_util::future::try_join_all(unique.into_iter().map(|id| find(db, id))).await?;
    Ok(found.into_iter().flatten().map(|c| (c.id, c)).collect())
}

/// Codes waiting for an admin decision (AWAITING_RESULT and `needsReview`: voting ended in a tie
/// or without a majority), earliest kick-off first, at most `limit` after `after` (the
/// `(expiresAt, _id)` of the last code of the previous page).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn review_queue(
    db: &Db,
    after: Option<(DateTime, ObjectId)>,
    limit: i64,
) -> mongodb::error::Result<Vec<Code>> {
    let mut filter = doc! { "status": CodeStatus::AwaitingResult.as_str(), "needsReview": true };
    if let Some((at, id)) = after {
        filter.insert(
            "$or",
            vec![
                doc! { "expiresAt": { "$gt": at } },
                doc! { "expiresAt": at, "_id": { "$gt": id } },
            ],
        );
    }
    find_many(db, filter, doc! { "expiresAt": 1, "_id": 1 }, limit).await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_many(
    db: &Db,
    filter: Document,
    sort: Document,
    limit: i64,
) -> mongodb::error::Result<Vec<Code>> {
    let docs: Vec<Document> = db
        .col(CODES)
        .find(filter)
        .sort(sort)
        .limit(limit)
        .await?
        .try_collect()
        .await?;
    Ok(db.rows(CODES, docs))
}

/// Writes labels (status, counters, flags). No decision rides on these writes: each is re-derived
/// from the deciding documents by whoever sees it stale.
#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn set_labels(db: &Db, id: ObjectId, mut fields: Document) -> mongodb::error::Result<()> {
    fields.extend(touched(clock::now()));
    db.col(CODES)
        .update_one(doc! { "_id": id }, doc! { "$set": fields })
        .await?;
    Ok(())
}

/// Writes a final status label until the stored document shows it: FerretDB writes whole
/// documents back, so a racing write (an edit's fields, a recount) may put the old status back.
#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn ensure_status(
    db: &Db,
    id: ObjectId,
    status: CodeStatus,
) -> mongodb::error::Result<()> {
    for _ in 0..5 {
        set_labels(db, id, doc! { "status": status.as_str() }).await?;
        if find(db, id).await?.is_none_or(|c| c.status == status) {
            return Ok(());
        }
    }
    Ok(())
}

/// Inserts the cancellation decision `{_id: code}`; false when it already exists.
#[tracing::instrument(level = "debug", skip_all, fields(code = %code, by = %by))]
pub async fn insert_cancellation(
    db: &Db,
    code: ObjectId,
    by: ObjectId,
) -> mongodb::error::Result<bool> {
    match db
        .col(CANCELLATIONS)
        .insert_one(doc! { "_id": code, "by": by, "createdAt": clock::now() })
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if is_duplicate_key(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(code = %code))]
pub async fn delete_cancellation(db: &Db, code: ObjectId) -> mongodb::error::Result<()> {
    db.col(CANCELLATIONS)
        .delete_one(doc! { "_id": code })
        .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all, fields(code = %code))]
pub async fn is_cancelled(db: &Db, code: ObjectId) -> mongodb::error::Result<bool> {
    Ok(db
        .col(CANCELLATIONS)
        .find_one(doc! { "_id": code })
        .await?
        .is_some())
}

fn edit_id(code: ObjectId, version: i64) -> String {
    format!("{}:{version}", code.to_hex())
}

/// Inserts the decision that the listing of `code` becomes `version` (the version read plus one);
/// false when another edit took that version first.
#[tracing::instrument(level = "debug", skip_all, fields(code = %code, by = %by))]
pub async fn insert_edit(
    db: &Db,
    code: ObjectId,
    version: i64,
    by: ObjectId,
) -> mongodb::error::Result<bool> {
    match db.col(EDITS).insert_one(doc! { "_id": edit_id(code, version), "bettingCode": code, "by": by, "createdAt": clock::now() }).await {
        Ok(_) => Ok(true),
        Err(e) if is_duplicate_key(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Withdraws an edit that found a purchase after its marker.
#[tracing::instrument(level = "debug", skip_all, fields(code = %code))]
pub async fn delete_edit(db: &Db, code: ObjectId, version: i64) -> mongodb::error::Result<()> {
    db.col(EDITS)
        .delete_one(doc! { "_id": edit_id(code, version) })
        .await?;
    Ok(())
}

/// When the edit that follows `read_version` was decided (its marker's time), if it was: a purchase
/// that read the listing at `read_version` may be selling an old price or code. One `_id` read.
#[tracing::instrument(level = "debug", skip_all, fields(code = %code))]
pub async fn edit_after(
    db: &Db,
    code: ObjectId,
    read_version: i64,
) -> mongodb::error::Result<Option<DateTime>> {
    let marker = db
        .col(EDITS)
        .find_one(doc! { "_id": edit_id(code, read_version + 1) })
        .await?;
    Ok(marker.map(|m| {
        m.get_datetime("createdAt")
            .copied()
            .unwrap_or(DateTime::MIN)
    }))
}

/// The caller's vote on a code, for the detail view.
#[tracing::instrument(level = "debug", skip_all, fields(code = %code, voter = %voter))]
pub async fn my_vote(
    db: &Db,
    code: ObjectId,
    voter: ObjectId,
) -> mongodb::error::Result<Option<VoteType>> {
    let found = db
        .col("votes")
        .find_one(doc! { "bettingCode": code, "voter": voter })
        .await?;
    Ok(found.and_then(|d| d.get_str("voteType").ok().and_then(VoteType::parse)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing() -> Listing {
        Listing {
            sport: Sport::IceHockey,
            title: "Oilers to win".into(),
            description: String::new(),
            odds: 250,
            bookmaker: "SportyBet".into(),
            price: 5_000,
            code: "ABC123".into(),
            expires_at: DateTime::from_millis(1_800_000_000_000),
            max_buyers: 3,
        }
    }

    #[test]
    fn a_new_code_document_reads_back_as_the_code_it_describes() {
        let (id, seller) = (ObjectId::new(), ObjectId::new());
        let at = DateTime::from_millis(1_700_000_000_000);
        let d = new_code_doc(id, seller, "tipster", &listing(), at);
        let code: Code = mongodb::bson::from_document(d).expect("reads");
        assert_eq!((code.id, code.seller), (id, seller));
        assert_eq!(code.listing, listing());
        assert_eq!(code.status, CodeStatus::Active);
        assert_eq!(
            (code.sales_count, code.outcome, code.sold_at),
            (0, None, None)
        );
        assert_eq!(code.created_at, at);
    }

    #[test]
    fn counts_stored_as_any_number_type_read_as_whole_numbers_and_missing_ones_as_zero() {
        let mut d = new_code_doc(
            ObjectId::new(),
            ObjectId::new(),
            "t",
            &listing(),
            clock::now(),
        );
        d.insert("salesCount", 2i32);
        d.insert("winVotes", 1.0f64);
        d.remove("lossVotes");
        d.insert("maxBuyers", 0i64);
        let code: Code = mongodb::bson::from_document(d).expect("reads");
        assert_eq!(
            (code.sales_count, code.win_votes, code.loss_votes),
            (2, 1, 0)
        );
        assert_eq!(code.listing.max_buyers, 1, "a code has at least one place");
    }

    #[test]
    fn a_code_without_its_sport_or_with_an_unknown_status_does_not_read() {
        let mut d = new_code_doc(
            ObjectId::new(),
            ObjectId::new(),
            "t",
            &listing(),
            clock::now(),
        );
        d.insert("status", "MISPLACED");
        assert!(mongodb::bson::from_document::<Code>(d.clone()).is_err());
        d.insert("status", "ACTIVE");
        d.remove("sport");
        assert!(mongodb::bson::from_document::<Code>(d).is_err());
    }
}
