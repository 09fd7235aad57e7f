//! Queries of the wallet area: the `transactions` documents (one per transfer).

use crate::clock;
use crate::db::Db;
use crate::error::is_duplicate_key;
use crate::ledger::transfer::{legs_from_doc, Leg, TransferSpec};
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

    pub fn from_doc(d: &Document) -> Option<Transaction> {
        Some(Transaction {
            id: d.get_object_id("_id").ok()?,
            reference: d.get_str("reference").ok()?.to_owned(),
            kind: TransactionType::parse(d.get_str("type").ok()?)?,
            user: d.get_object_id("user").ok()?,
            amount: d.get_i64("amount").ok()?,
            currency: Currency(d.get_str("currency").ok()?.to_owned()),
            payment_method: d
                .get_str("paymentMethod")
                .ok()
                .and_then(PaymentMethod::parse),
            phone_number: d
                .get_document("metadata")
                .ok()
                .and_then(|m| m.get_str("phoneNumber").ok())
                .map(str::to_owned),
            status: TransactionStatus::parse(d.get_str("status").ok()?)?,
            legs: legs_from_doc(d),
            description: d.get_str("description").unwrap_or_default().to_owned(),
            parent: d
                .get_document("metadata")
                .ok()
                .and_then(|m| m.get_object_id("parent").ok()),
            betting_code: d.get_object_id("bettingCode").ok(),
            payment_reference: d
                .get_document("metadata")
                .ok()
                .and_then(|m| m.get_str("paymentReference").ok())
                .map(str::to_owned),
            created_at: *d.get_datetime("createdAt").ok()?,
            updated_at: d
                .get_datetime("updatedAt")
                .copied()
                .unwrap_or(DateTime::MIN),
        })
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
    Ok(db
        .col("transactions")
        .find_one(doc! { "_id": id })
        .await?
        .as_ref()
        .and_then(Transaction::from_doc))
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_by_reference(
    db: &Db,
    reference: &str,
) -> mongodb::error::Result<Option<Transaction>> {
    Ok(db
        .col("transactions")
        .find_one(doc! { "reference": reference })
        .await?
        .as_ref()
        .and_then(Transaction::from_doc))
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
    Ok(db.parsed("transactions", &docs, Transaction::from_doc))
}
