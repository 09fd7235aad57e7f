//! Airtel Money Open API: Collection (USSD push, `POST /merchant/v1/payments/`) for deposits,
//! Disbursement (`POST /standard/v1/disbursements/`) for payouts, transaction enquiries
//! (`GET /standard/v1/{payments|disbursements}/{id}`) and a client-credentials token
//! (`POST /auth/oauth2/token`). Our reference is the transaction `id`; msisdns go without the
//! country code; `X-Country` and `X-Currency` on every call.
//!
//! Airtel often answers HTTP 200 with `status.success: false` and a `response_code`, so answers are
//! read by their body. Mapping:
//! - submit: success -> Pending (or the transaction status if the answer has one); an
//!   ambiguous / in-process / timed-out / duplicate code -> enquiry; a documented refusal code or a
//!   4xx -> enquiry first (a duplicate id must not fail a payment that exists), Refused if the
//!   transaction is not found; 5xx, timeout, connection error, unreadable answer -> Transport.
//! - enquiry: `TS` -> Succeeded; `TF`, `TE` -> Failed; `TIP`, `TA` -> Pending; not found -> Unknown;
//!   any error -> Transport.

use super::callback::{self, CallbackError, CallbackHint};
use super::oauth::{self, TokenCache};
use super::settings::AirtelSettings;
use super::{
    is_reference, major_units, transport, PaymentProvider, PaymentRequest, ProviderError,
    ProviderStatus,
};
use futures_util::future::BoxFuture;
use oddxer_shared::{Currency, PaymentMethod};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Collection,
    Disbursement,
}

impl Kind {
    fn submit_path(self) -> &'static str {
        match self {
            Kind::Collection => "merchant/v1/payments/",
            Kind::Disbursement => "standard/v1/disbursements/",
        }
    }

    fn enquiry_path(self) -> &'static str {
        match self {
            Kind::Collection => "standard/v1/payments",
            Kind::Disbursement => "standard/v1/disbursements",
        }
    }

    /// Codes after which only an enquiry can tell: ambiguous, in process, timed out, duplicate id.
    fn must_enquire(self, code: &str) -> bool {
        match self {
            Kind::Collection => matches!(code, "DP00800001000" | "DP00800001006" | "DP00800001024"),
            Kind::Disbursement => {
                matches!(
                    code,
                    "DP00900001000"
                        | "DP00900001006"
                        | "DP00900001011"
                        | "DP00900001014"
                        | "DP00900001017"
                )
            }
        }
    }

    /// Documented refusals: wrong PIN, limits, invalid amount, not enough funds, refused, barred...
    fn is_refusal(self, code: &str) -> bool {
        match self {
            Kind::Collection => matches!(
                code,
                "DP00800001002"
                    | "DP00800001003"
                    | "DP00800001004"
                    | "DP00800001005"
                    | "DP00800001007"
                    | "DP00800001008"
                    | "DP00800001009"
                    | "DP00800001010"
                    | "DP00800001026"
                    | "DP00800001029"
            ),
            Kind::Disbursement => matches!(
                code,
                "DP00900001003"
                    | "DP00900001004"
                    | "DP00900001005"
                    | "DP00900001007"
                    | "DP00900001009"
                    | "DP00900001010"
                    | "DP00900001012"
                    | "DP00900001013"
                    | "DP00900001016"
            ),
        }
    }

    fn is_not_found(code: &str) -> bool {
        matches!(code, "DP00800001025" | "DP00900001015")
    }
}

/// A transaction status as Airtel words it (`data.transaction.status` or a callback's `status_code`).
pub fn map_status(status: &str) -> ProviderStatus {
    match status.to_ascii_uppercase().as_str() {
        "TS" => ProviderStatus::Succeeded,
        "TF" | "TE" => ProviderStatus::Failed,
        "TIP" | "TA" => ProviderStatus::Pending,
        _ => ProviderStatus::Unknown,
    }
}

/// How a submission was answered, before any enquiry.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    Accepted(ProviderStatus),
    Enquire(String),
    Refused(String),
    Unknown(String),
}

fn success_flag(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Reads an answer to a submission (see the module documentation).
fn classify(kind: Kind, http: StatusCode, body: Option<&Value>) -> Answer {
    if http.is_server_error() {
        return Answer::Unknown(format!("Airtel answered {http}"));
    }
    let Some(body) = body else {
        return if http.is_client_error() {
            Answer::Refused(format!("Airtel answered {http}"))
        } else {
            Answer::Unknown(format!("Airtel answered {http} with an unreadable body"))
        };
    };
    let status = body.get("status");
    let field = |name: &str| {
        status
            .and_then(|s| s.get(name))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let code = field("response_code");
    let detail = format!("{http} code {} {code}", field("code"));
    if http.is_success()
        && status
            .and_then(|s| s.get("success"))
            .is_some_and(success_flag)
    {
        let tx_status = body
            .pointer("/data/transaction/status")
            .and_then(Value::as_str)
            .unwrap_or_default();
        return Answer::Accepted(match map_status(tx_status) {
            ProviderStatus::Unknown => ProviderStatus::Pending,
            known => known,
        });
    }
    if kind.must_enquire(&code) {
        return Answer::Enquire(detail);
    }
    if kind.is_refusal(&code) || http.is_client_error() || field("code").starts_with('4') {
        return Answer::Refused(detail);
    }
    Answer::Unknown(detail)
}

/// What an enquiry found. `Found(Unknown)` (a status word we do not know) is not `NotFound`:
/// only the latter lets a refused submission be taken as "nothing happened".
#[derive(Debug, PartialEq, Eq)]
enum Enquiry {
    NotFound,
    Found(ProviderStatus),
}

/// Reads an enquiry answer (HTTP 2xx or 404).
fn enquiry_status(http: StatusCode, body: Option<&Value>) -> Result<Enquiry, ProviderError> {
    let code = body
        .and_then(|b| b.pointer("/status/response_code"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    if http == StatusCode::NOT_FOUND || Kind::is_not_found(code) {
        return Ok(Enquiry::NotFound);
    }
    if !http.is_success() {
        return Err(ProviderError::Transport(format!(
            "Airtel enquiry answered {http} {code}"
        )));
    }
    let body =
        body.ok_or_else(|| ProviderError::Transport("Airtel enquiry answer unreadable".into()))?;
    let word = body
        .pointer("/data/transaction/status")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Ok(Enquiry::Found(map_status(word)))
}

pub struct AirtelMoney {
    http: reqwest::Client,
    base_url: String,
    client_id: String,
    client_secret: String,
    country: String,
    dial_code: &'static str,
    disbursement_pin: Option<String>,
    /// The wallet currency, for enquiries (`X-Currency`); submissions use the request's.
    currency: String,
    token: TokenCache,
}

impl AirtelMoney {
    pub fn new(
        http: reqwest::Client,
        settings: &AirtelSettings,
        currency: &Currency,
    ) -> AirtelMoney {
        AirtelMoney {
            http,
            base_url: settings.base_url.trim_end_matches('/').to_owned(),
            client_id: settings.client_id.clone(),
            client_secret: settings.client_secret.clone(),
            country: settings.country.clone(),
            dial_code: settings.dial_code,
            disbursement_pin: settings.disbursement_pin.clone(),
            currency: currency.0.clone(),
            token: TokenCache::default(),
        }
    }

    /// `+256772123456` -> `772123456`: Airtel wants the msisdn without the country code.
    fn msisdn(&self, phone: &str) -> Result<String, ProviderError> {
        let digits = phone
            .strip_prefix('+')
            .filter(|d| d.bytes().all(|b| b.is_ascii_digit()));
        match digits.and_then(|d| d.strip_prefix(self.dial_code)) {
            Some(local) if !local.is_empty() => Ok(local.to_owned()),
            _ => Err(ProviderError::Refused(format!(
                "the phone number is not an Airtel Money {} number",
                self.country
            ))),
        }
    }

    async fn fetch_token(&self) -> Result<(String, Duration), ProviderError> {
        let url = format!("{}/auth/oauth2/token", self.base_url);
        let body = json!({ "client_id": self.client_id, "client_secret": self.client_secret, "grant_type": "client_credentials" });
        let resp = self
            .http
            .post(url)
            .header(reqwest::header::ACCEPT, "*/*")
            .json(&body)
            .send()
            .await
            .map_err(|e| transport("Airtel token request", e))?;
        let status = resp.status();
        if status.is_server_error() {
            return Err(ProviderError::Transport(format!(
                "Airtel token endpoint answered {status}"
            )));
        }
        let answer: Option<Value> = resp.json().await.ok();
        let token = answer
            .as_ref()
            .and_then(|a| a.get("access_token"))
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty());
        match token {
            Some(t) if status.is_success() => Ok((
                t.to_owned(),
                oauth::lifetime(answer.as_ref().and_then(|a| a.get("expires_in"))),
            )),
            _ if status.is_client_error() => {
                let error = answer
                    .as_ref()
                    .and_then(|a| a.get("error"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                Err(ProviderError::Refused(format!(
                    "Airtel token endpoint refused our credentials ({status} {error})"
                )))
            }
            _ => Err(ProviderError::Transport(format!(
                "Airtel token answer ({status}) has no access_token"
            ))),
        }
    }

    /// Sends the request built for the current token; when the token is refused (401, or 403
    /// `invalid_token`) refreshes it once and resends: a refused token means nothing was processed.
    async fn authorized<F>(
        &self,
        what: &str,
        build: F,
    ) -> Result<(StatusCode, Option<Value>), ProviderError>
    where
        F: Fn(&str) -> reqwest::RequestBuilder,
    {
        let mut refreshed = false;
        loop {
            let token = self.token.get(|| self.fetch_token()).await?;
            let resp = build(&token).send().await.map_err(|e| transport(what, e))?;
            let status = resp.status();
            let body: Option<Value> = resp.json().await.ok();
            let token_refused = status == StatusCode::UNAUTHORIZED
                || (status == StatusCode::FORBIDDEN
                    && body
                        .as_ref()
                        .and_then(|b| b.get("error"))
                        .and_then(Value::as_str)
                        == Some("invalid_token"));
            if token_refused && !refreshed {
                self.token.invalidate(&token).await;
                refreshed = true;
                continue;
            }
            return Ok((status, body));
        }
    }

    fn with_headers(
        &self,
        rb: reqwest::RequestBuilder,
        token: &str,
        currency: &str,
    ) -> reqwest::RequestBuilder {
        rb.bearer_auth(token)
            .header(reqwest::header::ACCEPT, "*/*")
            .header("X-Country", &self.country)
            .header("X-Currency", currency)
    }

    fn amount(amount: i64, currency: &Currency) -> Value {
        let text = major_units(amount, currency);
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    }

    #[tracing::instrument(skip_all, fields(kind = ?kind, reference = %req.reference))]
    async fn submit(
        &self,
        kind: Kind,
        req: &PaymentRequest,
    ) -> Result<ProviderStatus, ProviderError> {
        if req.method != PaymentMethod::AirtelMoney {
            return Err(ProviderError::Refused(format!(
                "{} is not an Airtel Money payment",
                req.method.as_str()
            )));
        }
        if !is_reference(&req.reference) {
            return Err(ProviderError::Refused("the reference is not a UUID".into()));
        }
        let msisdn = self.msisdn(&req.phone_number)?;
        let currency = req.currency.0.as_str();
        let amount = Self::amount(req.amount, &req.currency);
        let body = match kind {
            Kind::Collection => json!({
                "reference": "OddxerDeposit",
                "subscriber": { "country": self.country, "currency": currency, "msisdn": msisdn },
                "transaction": { "amount": amount, "country": self.country, "currency": currency, "id": req.reference },
            }),
            Kind::Disbursement => {
                let pin = self.disbursement_pin.as_deref().ok_or_else(|| {
                    ProviderError::Refused(
                        "AIRTEL_DISBURSEMENT_PIN is not configured: Airtel payouts are off".into(),
                    )
                })?;
                json!({
                    "payee": { "msisdn": msisdn },
                    "reference": "OddxerPayout",
                    "pin": pin,
                    "transaction": { "amount": amount, "id": req.reference },
                })
            }
        };
        let url = format!("{}/{}", self.base_url, kind.submit_path());
        let (http, answer) = self
            .authorized("Airtel payment request", |token| {
                self.with_headers(self.http.post(&url), token, currency)
                    .json(&body)
            })
            .await?;
        match classify(kind, http, answer.as_ref()) {
            Answer::Accepted(status) => Ok(status),
            Answer::Enquire(detail) => {
                tracing::info!(%detail, "Airtel answer is not final; enquiring");
                self.enquire(kind, &req.reference, currency).await
            }
            // A refusal may also be "this id exists already": only a missing transaction is refused.
            Answer::Refused(detail) => match self.enquiry(kind, &req.reference, currency).await {
                Ok(Enquiry::NotFound) => Err(ProviderError::Refused(format!("Airtel refused the payment ({detail})"))),
                Ok(Enquiry::Found(ProviderStatus::Unknown)) => {
                    Err(ProviderError::Transport(format!("Airtel refused ({detail}) but holds the transaction in a state we do not know")))
                }
                Ok(Enquiry::Found(existing)) => Ok(existing),
                Err(e) => Err(ProviderError::Transport(format!("Airtel refused ({detail}) and the enquiry failed: {e}"))),
            },
            Answer::Unknown(detail) => Err(ProviderError::Transport(detail)),
        }
    }

    /// The transaction's status; one Airtel does not know is `Unknown`.
    async fn enquire(
        &self,
        kind: Kind,
        reference: &str,
        currency: &str,
    ) -> Result<ProviderStatus, ProviderError> {
        Ok(match self.enquiry(kind, reference, currency).await? {
            Enquiry::NotFound => ProviderStatus::Unknown,
            Enquiry::Found(status) => status,
        })
    }

    #[tracing::instrument(skip_all, fields(kind = ?kind, reference = %reference))]
    async fn enquiry(
        &self,
        kind: Kind,
        reference: &str,
        currency: &str,
    ) -> Result<Enquiry, ProviderError> {
        if !is_reference(reference) {
            return Ok(Enquiry::NotFound);
        }
        let url = format!("{}/{}/{reference}", self.base_url, kind.enquiry_path());
        let (http, answer) = self
            .authorized("Airtel enquiry", |token| {
                self.with_headers(self.http.get(&url), token, currency)
            })
            .await
            .map_err(ProviderError::unknown_outcome)?;
        enquiry_status(http, answer.as_ref())
    }
}

/// Reads an Airtel callback: `{"transaction": {"id", "message", "status_code", "airtel_money_id"}, "hash"?}`.
pub fn parse_callback(body: &[u8]) -> Result<CallbackHint, CallbackError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| CallbackError::Malformed("the body is not JSON"))?;
    let reference = value
        .pointer("/transaction/id")
        .and_then(Value::as_str)
        .filter(|r| is_reference(r))
        .ok_or(CallbackError::Malformed(
            "transaction.id is missing or not one of our references",
        ))?;
    Ok(CallbackHint {
        method: PaymentMethod::AirtelMoney,
        reference: reference.to_owned(),
        token_subject: callback::ANY_PAYMENT.to_owned(),
    })
}

impl PaymentProvider for AirtelMoney {
    fn name(&self) -> &'static str {
        "airtel_money"
    }

    fn request_payment<'a>(
        &'a self,
        req: &'a PaymentRequest,
    ) -> BoxFuture<'a, Result<ProviderStatus, ProviderError>> {
        Box::pin(self.submit(Kind::Collection, req))
    }

    fn payment_status<'a>(
        &'a self,
        _method: PaymentMethod,
        reference: &'a str,
    ) -> BoxFuture<'a, Result<ProviderStatus, ProviderError>> {
        Box::pin(self.enquire(Kind::Collection, reference, &self.currency))
    }

    fn payout<'a>(
        &'a self,
        req: &'a PaymentRequest,
    ) -> BoxFuture<'a, Result<ProviderStatus, ProviderError>> {
        Box::pin(self.submit(Kind::Disbursement, req))
    }

    fn payout_status<'a>(
        &'a self,
        _method: PaymentMethod,
        reference: &'a str,
    ) -> BoxFuture<'a, Result<ProviderStatus, ProviderError>> {
        Box::pin(self.enquire(Kind::Disbursement, reference, &self.currency))
    }

    fn parse_callback(&self, provider: &str, body: &[u8]) -> Result<CallbackHint, CallbackError> {
        if provider != callback::AIRTEL {
            return Err(CallbackError::UnknownProvider);
        }
        parse_callback(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(success: bool, code: &str, tx_status: &str) -> Value {
        json!({ "data": { "transaction": { "id": "x", "status": tx_status } },
                "status": { "code": if success { "200" } else { "400" }, "success": success, "response_code": code, "message": "m" } })
    }

    #[test]
    fn submissions_are_read_by_their_body() {
        let ok = StatusCode::OK;
        let c = Kind::Collection;
        assert_eq!(
            classify(c, ok, Some(&answer(true, "DP00800001006", "SUCCESS"))),
            Answer::Accepted(ProviderStatus::Pending)
        );
        assert_eq!(
            classify(
                Kind::Disbursement,
                ok,
                Some(&answer(true, "DP00900001001", "TS"))
            ),
            Answer::Accepted(ProviderStatus::Succeeded)
        );
        assert!(matches!(
            classify(c, ok, Some(&answer(false, "DP00800001000", ""))),
            Answer::Enquire(_)
        ));
        assert!(matches!(
            classify(
                Kind::Disbursement,
                ok,
                Some(&answer(false, "DP00900001017", ""))
            ),
            Answer::Enquire(_)
        ));
        assert!(matches!(
            classify(c, ok, Some(&answer(false, "DP00800001007", ""))),
            Answer::Refused(_)
        ));
        assert!(matches!(
            classify(c, StatusCode::BAD_REQUEST, None),
            Answer::Refused(_)
        ));
        assert!(matches!(
            classify(c, StatusCode::BAD_GATEWAY, None),
            Answer::Unknown(_)
        ));
        assert!(matches!(classify(c, ok, None), Answer::Unknown(_)));
        let odd = json!({ "status": { "code": "200", "success": false, "response_code": "DP99" } });
        assert!(matches!(classify(c, ok, Some(&odd)), Answer::Unknown(_)));
    }

    #[test]
    fn enquiries_map_transaction_statuses_and_not_found() {
        let ok = StatusCode::OK;
        let found = |s| Some(Enquiry::Found(s));
        assert_eq!(
            enquiry_status(ok, Some(&answer(true, "DP00800001001", "TS"))).ok(),
            found(ProviderStatus::Succeeded)
        );
        assert_eq!(
            enquiry_status(ok, Some(&answer(true, "DP00800001001", "TF"))).ok(),
            found(ProviderStatus::Failed)
        );
        assert_eq!(
            enquiry_status(ok, Some(&answer(true, "DP00800001001", "TE"))).ok(),
            found(ProviderStatus::Failed)
        );
        assert_eq!(
            enquiry_status(ok, Some(&answer(true, "DP00800001006", "TIP"))).ok(),
            found(ProviderStatus::Pending)
        );
        assert_eq!(
            enquiry_status(ok, Some(&answer(true, "DP00800001000", "TA"))).ok(),
            found(ProviderStatus::Pending)
        );
        assert_eq!(
            enquiry_status(ok, Some(&answer(true, "DP00800001001", "NEW"))).ok(),
            found(ProviderStatus::Unknown)
        );
        assert_eq!(
            enquiry_status(ok, Some(&answer(false, "DP00800001025", ""))).ok(),
            Some(Enquiry::NotFound)
        );
        assert_eq!(
            enquiry_status(StatusCode::NOT_FOUND, None).ok(),
            Some(Enquiry::NotFound)
        );
        assert!(matches!(
            enquiry_status(StatusCode::SERVICE_UNAVAILABLE, None),
            Err(ProviderError::Transport(_))
        ));
    }

    #[test]
    fn callbacks_name_the_payment_by_transaction_id() {
        let r = "0b1d8c4e-6a61-4b6f-9d3c-2f1e0c9a7b55";
        let body = format!(
            r#"{{"transaction":{{"id":"{r}","message":"Paid","status_code":"TS","airtel_money_id":"MP1"}}}}"#
        );
        let hint = parse_callback(body.as_bytes()).expect("parsed");
        assert_eq!(hint.reference, r);
        assert_eq!(hint.token_subject, callback::ANY_PAYMENT);
        assert!(matches!(
            parse_callback(br#"{"transaction":{}}"#),
            Err(CallbackError::Malformed(_))
        ));
    }
}
