//! Settings of the mobile-money rails, read with the rest of `Config` (`PAYMENT_PROVIDER=mobile_money`).
//!
//! A rail is enabled when its keys are set: MTN MoMo with `MTN_API_USER`, `MTN_API_KEY` and
//! `MTN_SUBSCRIPTION_KEY`; Airtel Money with `AIRTEL_CLIENT_ID` and `AIRTEL_API_KEY` (the client
//! secret). A rail with only some of its keys is refused at startup, and so is `mobile_money` with
//! no rail. Production also refuses sandbox or UAT endpoints, a missing or weak
//! `PAYMENT_CALLBACK_SECRET`, a callback URL that is not HTTPS and Airtel without a disbursement PIN.

use crate::config::{parse_duration, ConfigError, EnvSource, PaymentProviderKind};
use std::time::Duration;

pub const MTN_SANDBOX_URL: &str = "https://sandbox.momodeveloper.mtn.com";
pub const AIRTEL_UAT_URL: &str = "https://openapiuat.airtel.africa";
const DEV_CALLBACK_SECRET: &str = "oddxer-development-callback-secret-not-for-production";

/// API user, key and subscription key of one MTN product (Collection or Disbursement).
#[derive(Clone)]
pub struct MtnProductKeys {
    pub api_user: String,
    pub api_key: String,
    pub subscription_key: String,
}

#[derive(Clone)]
pub struct MtnSettings {
    /// `MTN_BASE_URL`, default the sandbox.
    pub base_url: String,
    /// `MTN_TARGET_ENVIRONMENT`: `sandbox`, or the country environment such as `mtnuganda`.
    pub target_environment: String,
    /// `MTN_CURRENCY`: overrides the wallet currency on the wire (the sandbox takes only EUR).
    pub currency: Option<String>,
    pub collection: MtnProductKeys,
    /// `MTN_DISBURSEMENT_*` keys, each defaulting to the Collection one.
    pub disbursement: MtnProductKeys,
}

#[derive(Clone)]
pub struct AirtelSettings {
    /// `AIRTEL_BASE_URL`, default the UAT environment.
    pub base_url: String,
    pub client_id: String,
    /// `AIRTEL_API_KEY`: the OAuth client secret.
    pub client_secret: String,
    /// `AIRTEL_COUNTRY`, ISO 3166 alpha-2, default `UG`.
    pub country: String,
    /// The international dialling code of `country` (msisdns go to Airtel without it).
    pub dial_code: &'static str,
    /// `AIRTEL_DISBURSEMENT_PIN`: the disbursement PIN already encrypted with Airtel's public key,
    /// as their API expects it (we do not hold the clear PIN).
    pub disbursement_pin: Option<String>,
}

#[derive(Clone)]
pub struct MobileMoneySettings {
    /// `PAYMENT_CALLBACK_SECRET`: keys the tokens of our callback URLs.
    pub callback_secret: String,
    /// `PAYMENT_CALLBACK_URL`: base of the callback URLs; default `{API_URL}/api/v1/payments/callbacks`.
    pub callback_url: Option<String>,
    /// `PAYMENT_TIMEOUT` of one provider request (default 30s); past it the outcome is unknown.
    pub timeout: Duration,
    pub mtn: Option<MtnSettings>,
    pub airtel: Option<AirtelSettings>,
}

/// Airtel Money countries and their dialling codes.
const AIRTEL_COUNTRIES: &[(&str, &str)] = &[
    ("UG", "256"),
    ("KE", "254"),
    ("TZ", "255"),
    ("RW", "250"),
    ("ZM", "260"),
    ("MW", "265"),
    ("NG", "234"),
    ("CD", "243"),
    ("CG", "242"),
    ("GA", "241"),
    ("TD", "235"),
    ("NE", "227"),
    ("MG", "261"),
    ("SC", "248"),
];

/// Either all of `names` are set, or none; a partial set is a configuration error.
fn all_or_none<const N: usize>(
    env: &EnvSource<'_>,
    names: [&'static str; N],
) -> Result<Option<[String; N]>, ConfigError> {
    let values = names.map(|n| env.get(n));
    if values.iter().all(Option::is_none) {
        return Ok(None);
    }
    let present: Vec<&str> = names
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.is_some())
        .map(|(n, _)| *n)
        .collect();
    let mut out = Vec::with_capacity(N);
    for (name, value) in names.into_iter().zip(values) {
        match value {
            Some(v) => out.push(v),
            None => {
                return Err(ConfigError::Invalid {
                    name,
                    reason: format!("is required when {} is set", present.join(", ")),
                })
            }
        }
    }
    out.try_into().map(Some).map_err(|_| ConfigError::Invalid {
        name: names[0],
        reason: "internal error reading keys".into(),
    })
}

impl MobileMoneySettings {
    pub fn from_env(
        env: &EnvSource<'_>,
        kind: PaymentProviderKind,
    ) -> Result<MobileMoneySettings, ConfigError> {
        let timeout = match env.get("PAYMENT_TIMEOUT") {
            None => Duration::from_secs(30),
            Some(raw) => {
                parse_duration(&raw)
                    .filter(|d| !d.is_zero())
                    .ok_or(ConfigError::Invalid {
                        name: "PAYMENT_TIMEOUT",
                        reason: format!("{raw:?} is not a duration such as 30s"),
                    })?
            }
        };
        let mut settings = MobileMoneySettings {
            callback_secret: env
                .get("PAYMENT_CALLBACK_SECRET")
                .unwrap_or_else(|| DEV_CALLBACK_SECRET.to_owned()),
            callback_url: env.get("PAYMENT_CALLBACK_URL"),
            timeout,
            mtn: None,
            airtel: None,
        };
        if kind != PaymentProviderKind::MobileMoney {
            return Ok(settings);
        }
        if let Some([api_user, api_key, subscription_key]) =
            all_or_none(env, ["MTN_API_USER", "MTN_API_KEY", "MTN_SUBSCRIPTION_KEY"])?
        {
            let or = |key: &str, default: &str| env.get(key).unwrap_or_else(|| default.to_owned());
            let disbursement = MtnProductKeys {
                api_user: or("MTN_DISBURSEMENT_API_USER", &api_user),
                api_key: or("MTN_DISBURSEMENT_API_KEY", &api_key),
                subscription_key: or("MTN_DISBURSEMENT_SUBSCRIPTION_KEY", &subscription_key),
            };
            settings.mtn = Some(MtnSettings {
                base_url: or("MTN_BASE_URL", MTN_SANDBOX_URL)
                    .trim_end_matches('/')
                    .to_owned(),
                target_environment: or("MTN_TARGET_ENVIRONMENT", "sandbox"),
                currency: env.get("MTN_CURRENCY").map(|c| c.to_ascii_uppercase()),
                collection: MtnProductKeys {
                    api_user,
                    api_key,
                    subscription_key,
                },
                disbursement,
            });
        }
        if let Some([client_id, client_secret]) =
            all_or_none(env, ["AIRTEL_CLIENT_ID", "AIRTEL_API_KEY"])?
        {
            let country = env
                .get("AIRTEL_COUNTRY")
                .unwrap_or_else(|| "UG".into())
                .to_ascii_uppercase();
            let dial_code = AIRTEL_COUNTRIES
                .iter()
                .find(|(c, _)| *c == country)
                .map(|(_, d)| *d)
                .ok_or_else(|| ConfigError::Invalid {
                    name: "AIRTEL_COUNTRY",
                    reason: format!(
                        "{country:?} is not an Airtel Money country we know the dialling code of"
                    ),
                })?;
            settings.airtel = Some(AirtelSettings {
                base_url: env
                    .get("AIRTEL_BASE_URL")
                    .unwrap_or_else(|| AIRTEL_UAT_URL.into())
                    .trim_end_matches('/')
                    .to_owned(),
                client_id,
                client_secret,
                country,
                dial_code,
                disbursement_pin: env.get("AIRTEL_DISBURSEMENT_PIN"),
            });
        }
        if settings.mtn.is_none() && settings.airtel.is_none() {
            return Err(ConfigError::Invalid {
                name: "PAYMENT_PROVIDER",
                reason: "mobile_money needs the keys of at least one rail: MTN_API_USER, MTN_API_KEY and MTN_SUBSCRIPTION_KEY, or AIRTEL_CLIENT_ID and AIRTEL_API_KEY".into(),
            });
        }
        Ok(settings)
    }

    /// The base URL our callback URLs start with.
    pub fn callback_base(&self, api_url: &str) -> String {
        match &self.callback_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!(
                "{}/api/v1/payments/callbacks",
                api_url.trim_end_matches('/')
            ),
        }
    }

    /// Refusals for a production deployment (called by `Config::check_production`).
    pub fn check_production(
        &self,
        kind: PaymentProviderKind,
        api_url: &str,
    ) -> Result<(), ConfigError> {
        if kind != PaymentProviderKind::MobileMoney {
            return Ok(());
        }
        let refuse = |m: &str| Err(ConfigError::UnsafeForProduction(m.to_owned()));
        if self.callback_secret.len() < 32 || self.callback_secret == DEV_CALLBACK_SECRET {
            return refuse("PAYMENT_CALLBACK_SECRET must be set to at least 32 characters for PAYMENT_PROVIDER=mobile_money");
        }
        if !self.callback_base(api_url).starts_with("https://") {
            return refuse("payment callbacks must reach us over HTTPS: set PAYMENT_CALLBACK_URL (or API_URL) to an https:// URL");
        }
        if let Some(mtn) = &self.mtn {
            if mtn.base_url == MTN_SANDBOX_URL || mtn.target_environment == "sandbox" {
                return refuse(
                    "MTN_BASE_URL and MTN_TARGET_ENVIRONMENT point at the MTN MoMo sandbox",
                );
            }
        }
        if let Some(airtel) = &self.airtel {
            if airtel.base_url == AIRTEL_UAT_URL {
                return refuse("AIRTEL_BASE_URL points at the Airtel Money UAT environment");
            }
            if airtel.disbursement_pin.is_none() {
                return refuse("AIRTEL_DISBURSEMENT_PIN (the encrypted PIN) is required to pay out through Airtel Money");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(pairs: &[(&str, &str)]) -> Result<MobileMoneySettings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        MobileMoneySettings::from_env(
            &EnvSource(&|k| map.get(k).cloned()),
            PaymentProviderKind::MobileMoney,
        )
    }

    const MTN: &[(&str, &str)] = &[
        ("MTN_API_USER", "u"),
        ("MTN_API_KEY", "k"),
        ("MTN_SUBSCRIPTION_KEY", "s"),
    ];

    #[test]
    fn a_rail_is_enabled_by_its_keys_and_a_partial_set_is_refused() {
        let s = load(MTN).expect("mtn");
        let mtn = s.mtn.expect("mtn enabled");
        assert!(s.airtel.is_none());
        assert_eq!(mtn.base_url, MTN_SANDBOX_URL);
        assert_eq!(mtn.disbursement.subscription_key, "s");
        assert!(matches!(
            load(&[("MTN_API_USER", "u")]),
            Err(ConfigError::Invalid {
                name: "MTN_API_KEY",
                ..
            })
        ));
        assert!(matches!(
            load(&[("AIRTEL_API_KEY", "x")]),
            Err(ConfigError::Invalid {
                name: "AIRTEL_CLIENT_ID",
                ..
            })
        ));
        assert!(matches!(
            load(&[]),
            Err(ConfigError::Invalid {
                name: "PAYMENT_PROVIDER",
                ..
            })
        ));
        let airtel = load(&[
            ("AIRTEL_CLIENT_ID", "i"),
            ("AIRTEL_API_KEY", "x"),
            ("AIRTEL_COUNTRY", "ke"),
        ])
        .expect("airtel")
        .airtel
        .expect("on");
        assert_eq!((airtel.country.as_str(), airtel.dial_code), ("KE", "254"));
        assert!(matches!(
            load(&[
                ("AIRTEL_CLIENT_ID", "i"),
                ("AIRTEL_API_KEY", "x"),
                ("AIRTEL_COUNTRY", "XX")
            ]),
            Err(ConfigError::Invalid {
                name: "AIRTEL_COUNTRY",
                ..
            })
        ));
    }

    #[test]
    fn production_refuses_sandbox_endpoints_weak_secrets_and_plain_http_callbacks() {
        let kind = PaymentProviderKind::MobileMoney;
        let secret = "x".repeat(40);
        let mut pairs = MTN.to_vec();
        pairs.push(("PAYMENT_CALLBACK_SECRET", secret.as_str()));
        let sandbox = load(&pairs).expect("load");
        let err = sandbox.check_production(kind, "https://api.example.com");
        assert!(matches!(err, Err(ConfigError::UnsafeForProduction(m)) if m.contains("sandbox")));
        pairs.extend([
            ("MTN_BASE_URL", "https://proxy.momoapi.mtn.com"),
            ("MTN_TARGET_ENVIRONMENT", "mtnuganda"),
        ]);
        let live = load(&pairs).expect("load");
        assert!(live
            .check_production(kind, "https://api.example.com")
            .is_ok());
        assert!(
            matches!(live.check_production(kind, "http://api.example.com"), Err(ConfigError::UnsafeForProduction(m)) if m.contains("HTTPS"))
        );
        let weak = load(MTN).expect("load");
        assert!(
            matches!(weak.check_production(kind, "https://api.example.com"), Err(ConfigError::UnsafeForProduction(m)) if m.contains("PAYMENT_CALLBACK_SECRET"))
        );
    }
}
