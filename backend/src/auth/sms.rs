//! Sending OTP text messages: a development outbox and the Africa's Talking bulk SMS adapter.

use crate::clock;
use crate::db::Db;
use futures_util::future::BoxFuture;
use mongodb::bson::doc;
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("SMS provider refused the message: {0}")]
    Refused(String),
    #[error("SMS provider unreachable: {0}")]
    Transport(#[from] reqwest::Error),
    #[error("outbox write failed: {0}")]
    Outbox(#[from] mongodb::error::Error),
}

pub trait SmsSender: Send + Sync {
    fn send<'a>(&'a self, to: &'a str, body: &'a str) -> BoxFuture<'a, Result<(), SmsError>>;
}

/// Development only: messages land in `sms_outbox` and are read back through `GET /dev/sms`.
pub struct OutboxSms {
    pub db: Db,
}

impl SmsSender for OutboxSms {
    fn send<'a>(&'a self, to: &'a str, body: &'a str) -> BoxFuture<'a, Result<(), SmsError>> {
        Box::pin(async move {
            self.db
                .col("sms_outbox")
                .insert_one(doc! { "phoneNumber": to, "body": body, "createdAt": clock::now() })
                .await?;
            Ok(())
        })
    }
}

/// A message in `sms_outbox`, as stored.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxMessage {
    pub phone_number: String,
    pub body: String,
    pub created_at: mongodb::bson::DateTime,
}

/// The newest `limit` messages sent to `phone` (normalized), newest first (development only).
#[tracing::instrument(skip_all, fields(limit))]
pub async fn outbox(
    db: &Db,
    phone: &str,
    limit: i64,
) -> mongodb::error::Result<Vec<OutboxMessage>> {
    let docs: Vec<mongodb::bson::Document> = futures_util::TryStreamExt::try_collect(
        db.col("sms_outbox")
            .find(doc! { "phoneNumber": phone })
            .sort(doc! { "createdAt": -1 })
            .limit(limit)
            .await?,
    )
    .await?;
    Ok(db.rows("sms_outbox", docs))
}

/// Africa's Talking `POST /version1/messaging`: form fields `username`, `to`, `message`, `from`,
/// header `apiKey`; success is a recipient `statusCode` of 100 (processed), 101 (sent) or 102 (queued).
pub struct AfricasTalkingSms {
    pub http: reqwest::Client,
    pub url: String,
    pub username: String,
    pub api_key: String,
    pub sender_id: Option<String>,
}

#[derive(Deserialize)]
struct AtResponse {
    #[serde(rename = "SMSMessageData")]
    data: AtMessageData,
}

#[derive(Deserialize)]
struct AtMessageData {
    #[serde(rename = "Message", default)]
    message: String,
    #[serde(rename = "Recipients", default)]
    recipients: Vec<AtRecipient>,
}

#[derive(Deserialize)]
struct AtRecipient {
    #[serde(rename = "statusCode")]
    status_code: i64,
    #[serde(default)]
    status: String,
}

impl SmsSender for AfricasTalkingSms {
    fn send<'a>(&'a self, to: &'a str, body: &'a str) -> BoxFuture<'a, Result<(), SmsError>> {
        Box::pin(async move {
            let mut form = vec![
                ("username", self.username.as_str()),
                ("to", to),
                ("message", body),
            ];
            if let Some(from) = &self.sender_id {
                form.push(("from", from.as_str()));
            }
            let response = self
                .http
                .post(&self.url)
                .header("apiKey", &self.api_key)
                .header("Accept", "application/json")
                .form(&form)
                .send()
                .await?;
            let status = response.status();
            let text = response.text().await?;
            if !status.is_success() {
                // The API answers errors as plain text ("The supplied authentication is invalid").
                return Err(SmsError::Refused(format!(
                    "HTTP {status}: {}",
                    text.chars().take(200).collect::<String>()
                )));
            }
            let parsed: AtResponse = serde_json::from_str(&text)
                .map_err(|_| SmsError::Refused("unexpected response body".into()))?;
            match parsed.data.recipients.first() {
                Some(r) if matches!(r.status_code, 100..=102) => Ok(()),
                Some(r) => Err(SmsError::Refused(format!(
                    "{} ({})",
                    r.status, r.status_code
                ))),
                None => Err(SmsError::Refused(parsed.data.message)),
            }
        })
    }
}
