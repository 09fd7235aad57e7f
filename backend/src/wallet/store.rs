//! Queries of the wallet area: the `transactions` documents (one per transfer).

use crate::clock;
use crate::db::{de, Db};
use crate::error::is_duplicate_key;
use crate::ledger::accounts;
use crate::ledger::transfer::{Leg, TransferSpec};
use futures_util::TryStreamExt;
use mongodb::bson::{doc, oid::ObjectId, DateTime, Document};
use oddxer_shared::api::TransactionOut;
use oddxer_shared::{Currency, Money, PaymentMethod, TransactionStatus, TransactionType};

#[derive(Debug, Clone)]
pub struct Transaction {
    pub id: ObjectId,
    pub reference: String,
    pub kind: TransactionType,
    pub user: ObjectId,
    pub amount: i64,
    pub currency: Currency,
    pub payment_method: Option<PaymentMethod>,
    pub phone_number: Option<String>,
    pub status: TransactionStatus,
    pub legs: Vec<Leg>,
    pub description: String,
    /// The transaction this transfer finishes (a withdrawal's payout or reversal).
    pub parent: Option<ObjectId>,
    pub betting_code: Option<ObjectId>,
    /// The reference the journal shows when it is not this transfer's own: a withdrawal's payout
    /// and reversal show the withdrawal's provider reference (`metadata.paymentReference`).
    pub payment_reference: Option<String>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

/// A `transactions` document as stored; what only some transfers carry sits in `metadata`.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct TransactionDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    reference: String,
    #[serde(rename = "type")]
    kind: TransactionType,
    user: ObjectId,
    amount: i64,
    currency: Currency,
    payment_method: Option<PaymentMethod>,
    status: TransactionStatus,
    #[serde(default)]
    legs: Vec<Leg>,
    #[serde(default)]
    description: String,
    betting_code: Option<ObjectId>,
    metadata: Option<TransactionMetadata>,
    created_at: DateTime,
    #[serde(default = "de::earliest")]
    updated_at: DateTime,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct TransactionMetadata {
    phone_number: Option<String>,
    parent: Option<ObjectId>,
    payment_reference: Option<String>,
}

impl<'de> serde::Deserialize<'de> for Transaction {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let t = TransactionDoc::deserialize(d)?;
        let metadata = t.metadata.unwrap_or_default();
        Ok(Transaction {
            id: t.id,
            reference: t.reference,
            kind: t.kind,
            user: t.user,
            amount: t.amount,
            currency: t.currency,
            payment_method: t.payment_method,
            phone_number: metadata.phone_number,
            status: t.status,
            legs: t.legs,
            description: t.description,
            parent: metadata.parent,
            betting_code: t.betting_code,
            payment_reference: metadata.payment_reference,
            created_at: t.created_at,
            updated_at: t.updated_at,
        })
    }
}

impl Transaction {
    /// A PENDING transfer document with no payment method, parent or code.
    pub fn new(
        id: ObjectId,
        kind: TransactionType,
        user: ObjectId,
        amount: i64,
        currency: &Currency,
        legs: Vec<Leg>,
        description: String,
    ) -> Self {
        let now = clock::now();
        Transaction {
            id,
            reference: id.to_hex(),
            kind,
            user,
            amount,
            currency: currency.clone(),
            payment_method: None,
            phone_number: None,
            status: TransactionStatus::Pending,
            legs,
            description,
            parent: None,
            betting_code: None,
            payment_reference: None,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn to_doc(&self) -> Document {
        let legs: Vec<Document> = self
            .legs
            .iter()
            .map(|l| doc! { "account": &l.account, "amount": l.amount })
            .collect();
        doc! {
            "_id": self.id, "reference": &self.reference, "type": self.kind.as_str(), "user": self.user,
            "amount": self.amount, "currency": &self.currency.0,
            "paymentMethod": self.payment_method.map(|m| m.as_str()),
            "status": self.status.as_str(), "legs": legs, "description": &self.description,
            "bettingCode": self.betting_code,
            "metadata": { "phoneNumber": self.phone_number.as_deref(), "parent": self.parent, "paymentReference": self.payment_reference.as_deref() },
            "createdAt": self.created_at, "updatedAt": self.updated_at,
        }
    }

    pub fn transfer_spec(&self) -> TransferSpec {
        // A withdrawal's own transfer only moves the money into the hold; the withdrawal completes
        // when the provider confirms the payout (a separate transfer with this one as parent).
        let holds = self.kind == TransactionType::Withdrawal && self.parent.is_none();
        TransferSpec {
            id: self.id,
            kind: self.kind,
            legs: self.legs.clone(),
            description: self.description.clone(),
            label_on_complete: if holds {
                None
            } else {
                Some(TransactionStatus::Completed)
            },
            reference: Some(
                self.payment_reference
                    .clone()
                    .unwrap_or_else(|| self.reference.clone()),
            ),
            payment_method: self.payment_method,
        }
    }

    pub fn to_out(&self) -> TransactionOut {
        TransactionOut {
            id: self.id.to_hex(),
            reference: self.reference.clone(),
            kind: self.kind,
            amount: Money::new(self.amount, &self.currency),
            payment_method: self.payment_method,
            status: self.status,
            created_at: clock::rfc3339(self.created_at),
            updated_at: clock::rfc3339(self.updated_at),
        }
    }
}

/// Inserts the transaction unless a document with its id exists; returns the stored one.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_or_get(
    db: &Db,
    tx: &Transaction,
) -> mongodb::error::Result<Option<Transaction>> {
    match db.col("transactions").insert_one(tx.to_doc()).await {
        Ok(_) => Ok(Some(tx.clone())),
        Err(e) if is_duplicate_key(&e) => find_by_id(db, tx.id).await,
        Err(e) => Err(e),
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn find_by_id(db: &Db, id: ObjectId) -> mongodb::error::Result<Option<Transaction>> {
    db.find_row("transactions", doc! { "_id": id }).await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_by_reference(
    db: &Db,
    reference: &str,
) -> mongodb::error::Result<Option<Transaction>> {
    db.find_row("transactions", doc! { "reference": reference })
        .await
}

/// PENDING transactions of a type created before `older_than` (for the recovery worker).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn pending(
    db: &Db,
    kind: TransactionType,
    older_than: DateTime,
    limit: i64,
) -> mongodb::error::Result<Vec<Transaction>> {
    let options = mongodb::options::FindOptions::builder()
        .limit(limit)
        .build();
    let docs: Vec<Document> = db
        .col("transactions")
        .find(
            doc! { "type": kind.as_str(), "status": "PENDING", "createdAt": { "$lt": older_than } },
        )
        .with_options(options)
        .await?
        .try_collect()
        .await?;
    Ok(db.rows("transactions", docs))
}

/// `held` as last written on the user's wallet account (0 when never written), minor units.
#[tracing::instrument(level = "debug", skip_all, fields(user = %user))]
pub async fn held(db: &Db, user: ObjectId) -> mongodb::error::Result<i64> {
    let account = db
        .col("accounts")
        .find_one(doc! { "_id": accounts::wallet(user) })
        .await?;
    Ok(account.and_then(|d| d.get_i64("held").ok()).unwrap_or(0))
}

/// Writes `held` (minor units) on the user's wallet account (a label, see
/// `service::refresh_held`).
#[tracing::instrument(level = "debug", skip_all, fields(user = %user))]
pub async fn write_held(db: &Db, user: ObjectId, held: i64) -> mongodb::error::Result<()> {
    db.col("accounts")
        .update_one(
            doc! { "_id": accounts::wallet(user) },
            doc! { "$set": { "held": held } },
        )
        .await?;
    Ok(())
}

/// The ids of the user's withdrawals still PENDING (their payout holds may hold money); few at
/// any time, read by equality on the indexed `{user, status}`.
#[tracing::instrument(level = "debug", skip_all, fields(user = %user))]
pub async fn pending_withdrawals(db: &Db, user: ObjectId) -> mongodb::error::Result<Vec<ObjectId>> {
    let filter =
        doc! { "user": user, "status": "PENDING", "type": "WITHDRAWAL", "metadata.parent": null };
    let docs: Vec<Document> = db
        .col("transactions")
        .find(filter)
        .projection(doc! { "_id": 1 })
        .await?
        .try_collect()
        .await?;
    Ok(docs
        .iter()
        .filter_map(|d| d.get_object_id("_id").ok())
        .collect())
}

/// One page of the payments of one `kind` (deposits or withdrawals, never their payout or
/// reversal transfers) matching `filter`, newest first (`createdAt`, `_id`), after `after` (a
/// `db::after_cursor` filter), at most `limit`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn payments_page(
    db: &Db,
    filter: &Document,
    kind: TransactionType,
    after: Option<&Document>,
    limit: i64,
) -> mongodb::error::Result<Vec<Transaction>> {
    let mut filter = filter.clone();
    filter.extend(doc! { "type": kind.as_str(), "metadata.parent": null });
    if let Some(a) = after {
        filter.extend(a.clone());
    }
    let docs: Vec<Document> = db
        .col("transactions")
        .find(filter)
        .sort(doc! { "createdAt": -1, "_id": -1 })
        .limit(limit)
        .await?
        .try_collect()
        .await?;
    Ok(db.rows("transactions", docs))
}
