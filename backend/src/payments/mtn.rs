//! MTN MoMo Open API: Collection `requesttopay` for deposits, Disbursement `transfer` for payouts.
//!
//! Our reference (a UUID stored before the call) is the `X-Reference-Id` and the `externalId`, so
//! a retried request is the same payment at MTN (409 on a duplicate, then we read its status) and
//! the callback, which carries the `externalId`, names it. Mapping:
//! - submit: 2xx -> Pending; 409 -> status poll; other 4xx (401 after one token refresh) -> Refused;
//!   5xx, timeout, connection error -> Transport (outcome unknown, polled later, never guessed).
//! - status: SUCCESSFUL -> Succeeded; FAILED (and REJECTED, TIMEOUT, EXPIRED if ever sent raw) ->
//!   Failed; PENDING, CREATED, ONGOING -> Pending; 404 -> Unknown; any error -> Transport.

use super::callback::{self, CallbackError, CallbackHint, CallbackTarget};
use super::oauth::{self, TokenCache};
use super::settings::{MtnProductKeys, MtnSettings};
use super::{
    is_reference, major_units, transport, PaymentProvider, PaymentRequest, ProviderError,
    ProviderStatus,
};
use futures_util::future::BoxFuture;
use oddxer_shared::PaymentMethod;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

const SUBSCRIPTION_KEY: &str = "Ocp-Apim-Subscription-Key";

/// One MTN product: its paths, its party field and its own credentials and token.
struct Product {
    /// `collection` or `disbursement`
    path: &'static str,
    /// `requesttopay` or `transfer`
    resource: &'static str,
    /// `payer` (collection) or `payee` (disbursement)
    party: &'static str,
    keys: MtnProductKeys,
    token: TokenCache,
}

pub struct MtnMomo {
    http: reqwest::Client,
    base_url: String,
    target_environment: String,
    currency: Option<String>,
    callback: Option<CallbackTarget>,
    collection: Product,
    disbursement: Product,
}

/// `+256772123456` -> `256772123456` (MSISDN `partyId`: digits with the country code, no `+`).
fn party_id(phone: &str) -> Result<String, ProviderError> {
    match phone.strip_prefix('+') {
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(digits.to_owned())
        }
        _ => Err(ProviderError::Refused(
            "the phone number is not in E.164 format".into(),
        )),
    }
}

/// An MTN status word as ours.
pub fn map_status(status: &str) -> ProviderStatus {
    match status.to_ascii_uppercase().as_str() {
        "SUCCESSFUL" => ProviderStatus::Succeeded,
        "FAILED" | "REJECTED" | "TIMEOUT" | "EXPIRED" => ProviderStatus::Failed,
        "PENDING" | "CREATED" | "ONGOING" => ProviderStatus::Pending,
        _ => ProviderStatus::Unknown,
    }
}

/// The `code` of an MTN error body (`{"code": "RESOURCE_ALREADY_EXIST", "message": ...}`), if any.
async fn error_code(resp: reqwest::Response) -> String {
    let body: Option<Value> = resp.json().await.ok();
    body.as_ref()
        .and_then(|b| b.get("code").or_else(|| b.get("error")))
        .and_then(Value::as_str)
        .map(|c| {
            c.chars()
                .filter(|ch| ch.is_ascii_alphanumeric() || *ch == '_')
                .take(64)
                .collect()
        })
        .unwrap_or_default()
}

impl MtnMomo {
    pub fn new(
        http: reqwest::Client,
        settings: &MtnSettings,
        callback: Option<CallbackTarget>,
    ) -> MtnMomo {
        let product = |path, resource, party, keys: &MtnProductKeys| Product {
            path,
            resource,
            party,
            keys: keys.clone(),
            token: TokenCache::default(),
        };
        MtnMomo {
            http,
            base_url: settings.base_url.trim_end_matches('/').to_owned(),
            target_environment: settings.target_environment.clone(),
            currency: settings.currency.clone(),
            callback,
            collection: product("collection", "requesttopay", "payer", &settings.collection),
            disbursement: product("disbursement", "transfer", "payee", &settings.disbursement),
        }
    }

    /// `POST /{product}/token/` with Basic auth (API user and key) and the subscription key.
    async fn fetch_token(&self, p: &Product) -> Result<(String, Duration), ProviderError> {
        let url = format!("{}/{}/token/", self.base_url, p.path);
        let resp = self
            .http
            .post(url)
            .basic_auth(&p.keys.api_user, Some(&p.keys.api_key))
            .header(SUBSCRIPTION_KEY, &p.keys.subscription_key)
            .header(reqwest::header::CONTENT_LENGTH, 0)
            .send()
            .await
            .map_err(|e| transport("MTN token request", e))?;
        let status = resp.status();
        if status.is_server_error() {
            return Err(ProviderError::Transport(format!(
                "MTN {} token endpoint answered {status}",
                p.path
            )));
        }
        if !status.is_success() {
            let code = error_code(resp).await;
            return Err(ProviderError::Refused(format!(
                "MTN {} token endpoint refused our credentials ({status} {code})",
                p.path
            )));
        }
        let body: Value = resp
            .json()
            .await
            .map_err(|e| transport("MTN token answer", e))?;
        let token = body
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty());
        let token = token.ok_or_else(|| {
            ProviderError::Transport("MTN token answer has no access_token".into())
        })?;
        Ok((token.to_owned(), oauth::lifetime(body.get("expires_in"))))
    }

    /// Sends the request built for the current token; on 401 refreshes the token once and resends.
    /// (A 401 is answered before MTN processes the request, so the resend is the first delivery.)
    async fn authorized<F>(&self, p: &Product, build: F) -> Result<reqwest::Response, ProviderError>
    where
        F: Fn(&str) -> reqwest::RequestBuilder,
    {
        let mut refreshed = false;
        loop {
            let token = p.token.get(|| self.fetch_token(p)).await?;
            let resp = build(&token)
                .send()
                .await
                .map_err(|e| transport(&format!("MTN {}", p.resource), e))?;
            if resp.status() == StatusCode::UNAUTHORIZED && !refreshed {
                p.token.invalidate(&token).await;
                refreshed = true;
                continue;
            }
            return Ok(resp);
        }
    }

    #[tracing::instrument(skip_all, fields(product = p.path, reference = %req.reference))]
    async fn submit(
        &self,
        p: &Product,
        req: &PaymentRequest,
    ) -> Result<ProviderStatus, ProviderError> {
        if req.method != PaymentMethod::MtnMomo {
            return Err(ProviderError::Refused(format!(
                "{} is not an MTN MoMo payment",
                req.method.as_str()
            )));
        }
        if !is_reference(&req.reference) {
            return Err(ProviderError::Refused("the reference is not a UUID".into()));
        }
        let mut body = json!({
            "amount": major_units(req.amount, &req.currency),
            "currency": self.currency.as_deref().unwrap_or(&req.currency.0),
            "externalId": req.reference,
            "payerMessage": "Oddxer",
            "payeeNote": "Oddxer",
        });
        body[p.party] = json!({ "partyIdType": "MSISDN", "partyId": party_id(&req.phone_number)? });
        let url = format!("{}/{}/v1_0/{}", self.base_url, p.path, p.resource);
        let callback_url = self
            .callback
            .as_ref()
            .map(|c| c.url(callback::MTN, &req.reference));
        let resp = self
            .authorized(p, |token| {
                let rb = self
                    .http
                    .post(&url)
                    .bearer_auth(token)
                    .header("X-Reference-Id", &req.reference)
                    .header("X-Target-Environment", &self.target_environment)
                    .header(SUBSCRIPTION_KEY, &p.keys.subscription_key)
                    .json(&body);
                match &callback_url {
                    Some(u) => rb.header("X-Callback-Url", u),
                    None => rb,
                }
            })
            .await?;
        let status = resp.status();
        match status.as_u16() {
            200..=299 => Ok(ProviderStatus::Pending),
            // Duplicated reference: this payment was submitted before (a retry); ask how it stands.
            409 => {
                tracing::info!("MTN already has this reference; reading its status");
                self.status(p, &req.reference).await
            }
            500..=599 => {
                let code = error_code(resp).await;
                Err(ProviderError::Transport(format!(
                    "MTN {} answered {status} {code}",
                    p.resource
                )))
            }
            _ => {
                let code = error_code(resp).await;
                Err(ProviderError::Refused(format!(
                    "MTN {} answered {status} {code}",
                    p.resource
                )))
            }
        }
    }

    #[tracing::instrument(skip_all, fields(product = p.path, reference = %reference))]
    async fn status(&self, p: &Product, reference: &str) -> Result<ProviderStatus, ProviderError> {
        if !is_reference(reference) {
            return Ok(ProviderStatus::Unknown);
        }
        let url = format!(
            "{}/{}/v1_0/{}/{reference}",
            self.base_url, p.path, p.resource
        );
        let resp = self
            .authorized(p, |token| {
                self.http
                    .get(&url)
                    .bearer_auth(token)
                    .header("X-Target-Environment", &self.target_environment)
                    .header(SUBSCRIPTION_KEY, &p.keys.subscription_key)
            })
            .await
            .map_err(ProviderError::unknown_outcome)?;
        let status = resp.status();
        if status == StatusCode::NOT_FOUND {
            return Ok(ProviderStatus::Unknown);
        }
        if !status.is_success() {
            let code = error_code(resp).await;
            return Err(ProviderError::Transport(format!(
                "MTN {} status answered {status} {code}",
                p.resource
            )));
        }
        let body: Value = resp
            .json()
            .await
            .map_err(|e| transport("MTN status answer", e))?;
        let word = body
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mapped = map_status(word);
        if mapped == ProviderStatus::Failed {
            let reason = body.get("reason").and_then(Value::as_str).unwrap_or("-");
            tracing::info!(reason, "MTN reports the payment failed");
        }
        Ok(mapped)
    }
}

/// Reads an MTN callback: the body is the payment resource, whose `externalId` is our reference.
pub fn parse_callback(body: &[u8]) -> Result<CallbackHint, CallbackError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| CallbackError::Malformed("the body is not JSON"))?;
    let reference = value
        .get("externalId")
        .and_then(Value::as_str)
        .filter(|r| is_reference(r))
        .ok_or(CallbackError::Malformed(
            "externalId is missing or not one of our references",
        ))?;
    Ok(CallbackHint {
        method: PaymentMethod::MtnMomo,
        reference: reference.to_owned(),
        token_subject: reference.to_owned(),
    })
}

impl PaymentProvider for MtnMomo {
    fn name(&self) -> &'static str {
        "mtn_momo"
    }

    fn request_payment<'a>(
        &'a self,
        req: &'a PaymentRequest,
    ) -> BoxFuture<'a, Result<ProviderStatus, ProviderError>> {
        Box::pin(self.submit(&self.collection, req))
    }

    fn payment_status<'a>(
        &'a self,
        _method: PaymentMethod,
        reference: &'a str,
    ) -> BoxFuture<'a, Result<ProviderStatus, ProviderError>> {
        Box::pin(self.status(&self.collection, reference))
    }

    fn payout<'a>(
        &'a self,
        req: &'a PaymentRequest,
    ) -> BoxFuture<'a, Result<ProviderStatus, ProviderError>> {
        Box::pin(self.submit(&self.disbursement, req))
    }

    fn payout_status<'a>(
        &'a self,
        _method: PaymentMethod,
        reference: &'a str,
    ) -> BoxFuture<'a, Result<ProviderStatus, ProviderError>> {
        Box::pin(self.status(&self.disbursement, reference))
    }

    fn parse_callback(&self, provider: &str, body: &[u8]) -> Result<CallbackHint, CallbackError> {
        if provider != callback::MTN {
            return Err(CallbackError::UnknownProvider);
        }
        parse_callback(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_words_map_without_guessing() {
        assert_eq!(map_status("SUCCESSFUL"), ProviderStatus::Succeeded);
        for failed in ["FAILED", "REJECTED", "TIMEOUT", "EXPIRED"] {
            assert_eq!(map_status(failed), ProviderStatus::Failed, "{failed}");
        }
        for pending in ["PENDING", "CREATED", "ONGOING"] {
            assert_eq!(map_status(pending), ProviderStatus::Pending, "{pending}");
        }
        assert_eq!(map_status("SOMETHING_NEW"), ProviderStatus::Unknown);
        assert_eq!(map_status(""), ProviderStatus::Unknown);
    }

    #[test]
    fn party_ids_are_digits_without_plus() {
        assert_eq!(
            party_id("+46733123450").ok().as_deref(),
            Some("46733123450")
        );
        assert!(party_id("46733123450").is_err());
        assert!(party_id("+4673312345x").is_err());
    }

    #[test]
    fn callbacks_name_the_payment_by_external_id() {
        let r = "0b1d8c4e-6a61-4b6f-9d3c-2f1e0c9a7b55";
        let body =
            format!(r#"{{"financialTransactionId":"1","externalId":"{r}","status":"SUCCESSFUL"}}"#);
        let hint = parse_callback(body.as_bytes()).expect("parsed");
        assert_eq!(hint.reference, r);
        assert_eq!(hint.token_subject, r);
        assert!(matches!(
            parse_callback(b"not json"),
            Err(CallbackError::Malformed(_))
        ));
        assert!(matches!(
            parse_callback(br#"{"externalId":"../x"}"#),
            Err(CallbackError::Malformed(_))
        ));
    }
}
