//! `PAYMENT_PROVIDER=mobile_money`: one deployment, both rails. Each call goes to the adapter of
//! the payment's method; a method whose rail is not configured is refused (nothing is sent).

use super::airtel::AirtelMoney;
use super::callback::{self, CallbackError, CallbackHint, CallbackTarget};
use super::mtn::MtnMomo;
use super::{PaymentProvider, PaymentRequest, ProviderError, ProviderStatus};
use crate::config::Config;
use futures_util::future::BoxFuture;
use oddxer_shared::PaymentMethod;
use std::time::Duration;

pub struct MobileMoney {
    pub mtn: Option<MtnMomo>,
    pub airtel: Option<AirtelMoney>,
}

impl MobileMoney {
    /// The adapters the configuration enables, sharing one HTTP client with the payment timeout.
    pub fn from_config(config: &Config) -> Result<MobileMoney, reqwest::Error> {
        let settings = &config.mobile_money;
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .build()?;
        let target = CallbackTarget {
            base_url: settings.callback_base(&config.api_url),
            secret: settings.callback_secret.clone(),
        };
        Ok(MobileMoney {
            mtn: settings
                .mtn
                .as_ref()
                .map(|s| MtnMomo::new(http.clone(), s, Some(target.clone()))),
            airtel: settings
                .airtel
                .as_ref()
                .map(|s| AirtelMoney::new(http.clone(), s, &config.currency)),
        })
    }

    fn rail(&self, method: PaymentMethod) -> Result<&dyn PaymentProvider, ProviderError> {
        let rail: Option<&dyn PaymentProvider> = match method {
            PaymentMethod::MtnMomo => self.mtn.as_ref().map(|a| a as &dyn PaymentProvider),
            PaymentMethod::AirtelMoney => self.airtel.as_ref().map(|a| a as &dyn PaymentProvider),
        };
        rail.ok_or_else(|| {
            ProviderError::Refused(format!(
                "{} is not enabled on this deployment",
                method.as_str()
            ))
        })
    }
}

impl PaymentProvider for MobileMoney {
    fn name(&self) -> &'static str {
        "mobile_money"
    }

    fn request_payment<'a>(
        &'a self,
        req: &'a PaymentRequest,
    ) -> BoxFuture<'a, Result<ProviderStatus, ProviderError>> {
        match self.rail(req.method) {
            Ok(rail) => rail.request_payment(req),
            Err(e) => Box::pin(async move { Err(e) }),
        }
    }

    fn payment_status<'a>(
        &'a self,
        method: PaymentMethod,
        reference: &'a str,
    ) -> BoxFuture<'a, Result<ProviderStatus, ProviderError>> {
        match self.rail(method) {
            Ok(rail) => rail.payment_status(method, reference),
            // A rail switched off since: nobody can be asked, which is not a refusal of the payment.
            Err(e) => Box::pin(async move { Err(e.unknown_outcome()) }),
        }
    }

    fn payout<'a>(
        &'a self,
        req: &'a PaymentRequest,
    ) -> BoxFuture<'a, Result<ProviderStatus, ProviderError>> {
        match self.rail(req.method) {
            Ok(rail) => rail.payout(req),
            Err(e) => Box::pin(async move { Err(e) }),
        }
    }

    fn payout_status<'a>(
        &'a self,
        method: PaymentMethod,
        reference: &'a str,
    ) -> BoxFuture<'a, Result<ProviderStatus, ProviderError>> {
        match self.rail(method) {
            Ok(rail) => rail.payout_status(method, reference),
            Err(e) => Box::pin(async move { Err(e.unknown_outcome()) }),
        }
    }

    fn parse_callback(&self, provider: &str, body: &[u8]) -> Result<CallbackHint, CallbackError> {
        let method = match provider {
            callback::MTN => PaymentMethod::MtnMomo,
            callback::AIRTEL => PaymentMethod::AirtelMoney,
            _ => return Err(CallbackError::UnknownProvider),
        };
        self.rail(method)
            .map_err(|_| CallbackError::UnknownProvider)?
            .parse_callback(provider, body)
    }
}
