//! The one configuration struct, read once from the environment (`.env` honoured) at startup.

use oddxer_shared::Currency;
use std::time::Duration;

mod env;
use env::parse_booking_code_length;
pub use env::{parse_duration, EnvSource, RateLimit};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Test,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsProviderKind {
    /// Development: messages are stored in the database and readable through `/dev/sms`.
    Outbox,
    /// Africa's Talking bulk SMS API.
    AfricasTalking,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentProviderKind {
    Sandbox,
    /// MTN MoMo and Airtel Money through their Open APIs (`payments::settings`).
    MobileMoney,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettlementPolicy {
    Standard,
    RefundOnLoss,
}

#[derive(Clone)]
pub struct Config {
    pub app_env: AppEnv,
    pub host: String,
    pub port: u16,
    /// When set, the bound port is written here (tests and scripts start the server on port 0).
    pub port_file: Option<String>,
    pub api_url: String,
    pub mongodb_uri: String,
    pub db_name: String,
    pub jwt_secret: String,
    /// Key of the OTP HMAC, derived from `JWT_SECRET` with HKDF-SHA256 under its own label, so a
    /// stored OTP hash reveals nothing about the key that signs access tokens and vice versa.
    pub otp_key: [u8; 32],
    pub jwt_access_expiry: Duration,
    pub jwt_refresh_expiry: Duration,
    pub otp_expiry: Duration,
    pub otp_length: usize,
    pub otp_resend_interval: Duration,
    pub sms_provider: SmsProviderKind,
    pub sms_api_key: Option<String>,
    pub sms_username: String,
    pub sms_sender_id: Option<String>,
    pub sms_api_url: String,
    pub payment_provider: PaymentProviderKind,
    pub mobile_money: crate::payments::settings::MobileMoneySettings,
    pub cors_origins: Vec<String>,
    pub redis_url: Option<String>,
    pub currency: Currency,
    pub platform_fee_bps: u32,
    pub settlement_policy: SettlementPolicy,
    pub voting_window: Duration,
    pub leaderboard_min_finalized: u32,
    /// `ADMIN_PHONE_NUMBERS`, each normalized to E.164 like every number that signs in.
    pub admin_phone_numbers: Vec<String>,
    /// Region national phone numbers (`0700 123 456`) are read in (`DEFAULT_REGION`, default UG).
    pub default_region: phonenumber::country::Id,
    /// How long an authenticated request may trust the in-process copy of its user
    /// (`USER_CACHE_TTL`, at most 1s, `0s` turns the cache off; see `auth::cache`).
    pub user_cache_ttl: Duration,
    pub deposit_min: i64,
    pub deposit_max: i64,
    pub withdrawal_daily_limit: i64,
    pub seed_demo: bool,
    pub recovery_interval: Duration,
    /// Per client IP on the `/auth` routes.
    pub rate_auth_ip: RateLimit,
    /// Peers whose `X-Forwarded-For` names the client for per-IP limits (`TRUSTED_PROXIES`,
    /// comma-separated addresses or CIDR networks; empty: the TCP peer is the client).
    pub trusted_proxies: crate::client_ip::TrustedProxies,
    /// Per phone number on OTP sends and verifications.
    pub rate_auth_phone: RateLimit,
    /// Per user on money routes (deposits, withdrawals, purchases).
    pub rate_money_user: RateLimit,
    /// Transfers still PENDING after this long are re-driven by the recovery worker.
    pub recovery_after: Duration,
    /// Marketplace (issue 4): bookmakers a code may name (`BOOKMAKERS`, comma-separated).
    pub bookmakers: Vec<String>,
    /// Booking-code lengths by bookmaker (`BOOKING_CODE_LENGTHS`, e.g. `SportyBet=5-8,Betway=6-10`);
    /// a bookmaker not named gets `codes::rules::DEFAULT_BOOKING_CODE` (5 to 30 characters).
    pub booking_code_lengths: Vec<(String, crate::codes::rules::BookingCodeRule)>,
    /// Bounds of a code's price in minor units (`CODE_PRICE_MIN`, `CODE_PRICE_MAX`).
    pub code_price_min: i64,
    pub code_price_max: i64,
    /// How far ahead a code's `expiresAt` may be (`CODE_EXPIRY_HORIZON`).
    pub code_expiry_horizon: Duration,
    /// Upper bound of `maxBuyers` (`CODE_MAX_BUYERS`).
    pub code_max_buyers: i64,
    /// How often the marketplace worker moves expired codes and finalizes due ones (`MARKET_WORKER_INTERVAL`).
    pub market_worker_interval: Duration,
    /// Staleness bound of the in-process market cache behind `GET /codes` (`MARKET_CACHE_TTL`, 0 = off).
    pub market_cache_ttl: Duration,
    /// The built web app served at `/` (`WEB_DIST`; unset: `app/ui/dist` found from the current
    /// folder or the source tree; `off`: none). See `web::WebApp::locate`.
    pub web_dist: Option<String>,
    /// `Secure` on the web session cookie (`COOKIE_SECURE`): `Some(true)` always, `Some(false)`
    /// never, `None` (default, `auto`) when `API_URL` is https or a `TRUSTED_PROXIES` peer says
    /// `X-Forwarded-Proto: https`.
    pub cookie_secure: Option<bool>,
}

impl std::fmt::Debug for Config {
    // Hand-written so that secrets never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("app_env", &self.app_env)
            .field("port", &self.port)
            .field("db_name", &self.db_name)
            .field("sms_provider", &self.sms_provider)
            .field("payment_provider", &self.payment_provider)
            .field("currency", &self.currency)
            .field("redis", &self.redis_url.is_some())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} has an invalid value: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error("refusing to start in production: {0}")]
    UnsafeForProduction(String),
    /// Production settings checks failed while `APP_ENV` was not set at all: say that unset means
    /// production, so a developer who forgot it knows what to do.
    #[error("refusing to start: APP_ENV is not set, which means production, and {0}; set APP_ENV=development (or test) to run with development settings")]
    AppEnvUnset(String),
}

/// HKDF-SHA256 (RFC 5869) of the JWT secret with the label of the OTP key: one configured secret,
/// two independent keys.
fn derive_otp_key(jwt_secret: &str) -> [u8; 32] {
    let mut key = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's 255 * 32 output limit, so expand cannot fail.
    if hkdf::Hkdf::<sha2::Sha256>::new(Some(b"oddxer"), jwt_secret.as_bytes())
        .expand(b"otp-hmac-v1", &mut key)
        .is_err()
    {
        tracing::error!("HKDF refused a 32-byte output");
    }
    key
}

/// Bookmakers accepted when `BOOKMAKERS` is not set.
pub use oddxer_shared::validate::DEFAULT_BOOKMAKERS;

const DEV_JWT_SECRET: &str = "oddxer-development-secret-not-for-production-use!";

impl Config {
    /// Loads `.env` (if any) and reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        // A missing .env is normal; a malformed one is reported but not fatal.
        if let Err(e) = dotenvy::dotenv() {
            if !e.not_found() {
                eprintln!("warning: could not read .env: {e}");
            }
        }
        Config::from_source(&EnvSource(&|k| std::env::var(k).ok()))
    }

    pub fn from_source(env: &EnvSource<'_>) -> Result<Config, ConfigError> {
        // Unset means production: development conveniences (outbox SMS, sandbox payments, `/dev`
        // routes, demo seed, a built-in JWT secret) must be asked for, never fallen into.
        let app_env_set = env.get("APP_ENV").is_some();
        let app_env = match env
            .string("APP_ENV", "production")
            .to_ascii_lowercase()
            .as_str()
        {
            "development" | "dev" => AppEnv::Development,
            "test" => AppEnv::Test,
            "production" | "prod" => AppEnv::Production,
            other => {
                return Err(ConfigError::Invalid {
                    name: "APP_ENV",
                    reason: format!("{other:?} is not development, test or production"),
                })
            }
        };
        let sms_provider = match env
            .string("SMS_PROVIDER", "outbox")
            .to_ascii_lowercase()
            .as_str()
        {
            "outbox" => SmsProviderKind::Outbox,
            "africastalking" | "africas_talking" => SmsProviderKind::AfricasTalking,
            other => {
                return Err(ConfigError::Invalid {
                    name: "SMS_PROVIDER",
                    reason: format!("unknown provider {other:?}"),
                })
            }
        };
        let payment_provider = match env
            .string("PAYMENT_PROVIDER", "sandbox")
            .to_ascii_lowercase()
            .as_str()
        {
            "sandbox" => PaymentProviderKind::Sandbox,
            "mobile_money" | "mobilemoney" => PaymentProviderKind::MobileMoney,
            other => {
                return Err(ConfigError::Invalid {
                    name: "PAYMENT_PROVIDER",
                    reason: format!("unknown provider {other:?}"),
                })
            }
        };
        let settlement_policy = match env
            .string("SETTLEMENT_POLICY", "STANDARD")
            .to_ascii_uppercase()
            .as_str()
        {
            "STANDARD" => SettlementPolicy::Standard,
            "REFUND_ON_LOSS" => SettlementPolicy::RefundOnLoss,
            other => {
                return Err(ConfigError::Invalid {
                    name: "SETTLEMENT_POLICY",
                    reason: format!("{other:?} is not STANDARD or REFUND_ON_LOSS"),
                })
            }
        };
        let jwt_secret = match env.get("JWT_SECRET") {
            Some(s) => s,
            None if app_env == AppEnv::Production => {
                let problem = "JWT_SECRET is not set".to_owned();
                return Err(if app_env_set {
                    ConfigError::UnsafeForProduction(problem)
                } else {
                    ConfigError::AppEnvUnset(problem)
                });
            }
            None => DEV_JWT_SECRET.to_owned(),
        };
        let list = |key: &str| -> Vec<String> {
            env.get(key)
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        };
        let default_region = match env.get("DEFAULT_REGION") {
            None => crate::phone::DEFAULT_REGION,
            Some(raw) => crate::phone::parse_region(&raw).ok_or(ConfigError::Invalid {
                name: "DEFAULT_REGION",
                reason: format!("{raw:?} is not a two-letter region code such as UG"),
            })?,
        };
        let mut admin_phone_numbers = Vec::new();
        for raw in list("ADMIN_PHONE_NUMBERS") {
            let phone = crate::phone::PhoneNumber::parse(&raw, default_region).ok_or(
                ConfigError::Invalid {
                    name: "ADMIN_PHONE_NUMBERS",
                    reason: format!("{raw:?} is not a valid phone number"),
                },
            )?;
            admin_phone_numbers.push(phone.into_string());
        }
        let user_cache_ttl = env.duration("USER_CACHE_TTL", Duration::from_secs(1))?;
        if user_cache_ttl > Duration::from_secs(1) {
            return Err(ConfigError::Invalid {
                name: "USER_CACHE_TTL",
                reason: "must be at most 1s: a deactivation must take effect within a second"
                    .into(),
            });
        }
        let port = env.parse("PORT", 6793u16)?;
        let platform_fee_bps = env.parse("PLATFORM_FEE_BPS", 1000u32)?;
        if platform_fee_bps > 10_000 {
            return Err(ConfigError::Invalid {
                name: "PLATFORM_FEE_BPS",
                reason: "must be at most 10000".into(),
            });
        }
        let otp_length = env.parse("OTP_LENGTH", 6usize)?;
        if !(4..=10).contains(&otp_length) {
            return Err(ConfigError::Invalid {
                name: "OTP_LENGTH",
                reason: "must be between 4 and 10".into(),
            });
        }
        let cors = list("SOCKET_CORS_ORIGIN");
        let config = Config {
            app_env,
            host: env.string("HOST", "127.0.0.1"),
            port,
            port_file: env.get("PORT_FILE"),
            api_url: env.string("API_URL", &format!("http://127.0.0.1:{port}")),
            mongodb_uri: env.string("MONGODB_URI", "mongodb://127.0.0.1:27117"),
            db_name: env.string("DB_NAME", "oddxer"),
            otp_key: derive_otp_key(&jwt_secret),
            jwt_secret,
            jwt_access_expiry: env.duration("JWT_ACCESS_EXPIRY", Duration::from_secs(15 * 60))?,
            jwt_refresh_expiry: env
                .duration("JWT_REFRESH_EXPIRY", Duration::from_secs(7 * 86_400))?,
            otp_expiry: env.duration("OTP_EXPIRY", Duration::from_secs(10 * 60))?,
            otp_length,
            otp_resend_interval: env.duration("OTP_RESEND_INTERVAL", Duration::from_secs(30))?,
            sms_provider,
            sms_api_key: env.get("SMS_API_KEY"),
            sms_username: env.string("SMS_USERNAME", "sandbox"),
            sms_sender_id: env.get("SMS_SENDER_ID"),
            sms_api_url: env.string(
                "SMS_API_URL",
                "https://api.africastalking.com/version1/messaging",
            ),
            payment_provider,
            mobile_money: crate::payments::settings::MobileMoneySettings::from_env(
                env,
                payment_provider,
            )?,
            cors_origins: if cors.is_empty() {
                vec![
                    "http://localhost:1420".into(),
                    "tauri://localhost".into(),
                    "http://tauri.localhost".into(),
                ]
            } else {
                cors
            },
            redis_url: env.get("REDIS_URL"),
            currency: Currency(env.string("CURRENCY", "UGX").to_ascii_uppercase()),
            platform_fee_bps,
            settlement_policy,
            voting_window: env.duration("VOTING_WINDOW", Duration::from_secs(24 * 3600))?,
            leaderboard_min_finalized: env.parse("LEADERBOARD_MIN_FINALIZED", 5u32)?,
            admin_phone_numbers,
            default_region,
            user_cache_ttl,
            deposit_min: env.parse("DEPOSIT_MIN", 500i64)?,
            deposit_max: env.parse("DEPOSIT_MAX", 5_000_000i64)?,
            withdrawal_daily_limit: env.parse("WITHDRAWAL_DAILY_LIMIT", 10_000_000i64)?,
            seed_demo: matches!(
                env.string("SEED_DEMO", "false").as_str(),
                "1" | "true" | "yes"
            ),
            recovery_interval: env.duration("RECOVERY_INTERVAL", Duration::from_secs(60))?,
            trusted_proxies: crate::client_ip::TrustedProxies::parse(
                &env.get("TRUSTED_PROXIES").unwrap_or_default(),
            )
            .map_err(|bad| ConfigError::Invalid {
                name: "TRUSTED_PROXIES",
                reason: format!("{bad:?} is not an IP address or CIDR network"),
            })?,
            rate_auth_ip: env.rate(
                "RATE_LIMIT_AUTH_IP",
                RateLimit {
                    max: 60,
                    window: Duration::from_secs(60),
                },
            )?,
            rate_auth_phone: env.rate(
                "RATE_LIMIT_AUTH_PHONE",
                RateLimit {
                    max: 10,
                    window: Duration::from_secs(600),
                },
            )?,
            rate_money_user: env.rate(
                "RATE_LIMIT_MONEY_USER",
                RateLimit {
                    max: 30,
                    window: Duration::from_secs(60),
                },
            )?,
            recovery_after: env.duration("RECOVERY_AFTER", Duration::from_secs(120))?,
            bookmakers: {
                let listed = list("BOOKMAKERS");
                if listed.is_empty() {
                    DEFAULT_BOOKMAKERS.iter().map(|b| b.to_string()).collect()
                } else {
                    listed
                }
            },
            booking_code_lengths: list("BOOKING_CODE_LENGTHS")
                .iter()
                .map(|entry| {
                    parse_booking_code_length(entry).ok_or_else(|| ConfigError::Invalid {
                        name: "BOOKING_CODE_LENGTHS",
                        reason: format!("{entry:?} is not Bookmaker=MIN-MAX such as SportyBet=5-8"),
                    })
                })
                .collect::<Result<_, _>>()?,
            code_price_min: env.parse("CODE_PRICE_MIN", 500i64)?,
            code_price_max: env.parse("CODE_PRICE_MAX", 5_000_000i64)?,
            code_expiry_horizon: env
                .duration("CODE_EXPIRY_HORIZON", Duration::from_secs(30 * 86_400))?,
            code_max_buyers: env.parse("CODE_MAX_BUYERS", 1000i64)?,
            market_worker_interval: env
                .duration("MARKET_WORKER_INTERVAL", Duration::from_secs(15))?,
            market_cache_ttl: env.duration("MARKET_CACHE_TTL", Duration::from_secs(2))?,
            web_dist: env.get("WEB_DIST"),
            cookie_secure: match env
                .string("COOKIE_SECURE", "auto")
                .to_ascii_lowercase()
                .as_str()
            {
                "auto" => None,
                "1" | "true" | "yes" => Some(true),
                "0" | "false" | "no" => Some(false),
                other => {
                    return Err(ConfigError::Invalid {
                        name: "COOKIE_SECURE",
                        reason: format!("{other:?} is not auto, true or false"),
                    })
                }
            },
        };
        match config.check_production() {
            Err(ConfigError::UnsafeForProduction(problem)) if !app_env_set => {
                Err(ConfigError::AppEnvUnset(problem))
            }
            Err(e) => Err(e),
            Ok(()) => Ok(config),
        }
    }

    pub fn dev_routes_enabled(&self) -> bool {
        self.app_env != AppEnv::Production
    }

    /// A production deployment must not run with development conveniences or weak secrets.
    fn check_production(&self) -> Result<(), ConfigError> {
        if self.app_env != AppEnv::Production {
            return Ok(());
        }
        let refuse = |m: &str| Err(ConfigError::UnsafeForProduction(m.to_owned()));
        if self.jwt_secret.len() < 32 || self.jwt_secret == DEV_JWT_SECRET {
            return refuse(
                "JWT_SECRET must be at least 32 characters and not the development default",
            );
        }
        if self.sms_provider == SmsProviderKind::Outbox {
            return refuse("SMS_PROVIDER=outbox is for development only");
        }
        if self.payment_provider == PaymentProviderKind::Sandbox {
            return refuse("PAYMENT_PROVIDER=sandbox is for development only");
        }
        self.mobile_money
            .check_production(self.payment_provider, &self.api_url)?;
        if self.seed_demo {
            return refuse("SEED_DEMO must be off in production");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_source(&EnvSource(&|k| map.get(k).cloned()))
    }

    #[test]
    fn development_defaults_are_usable() {
        let c = load(&[("APP_ENV", "development")]).expect("defaults");
        assert_eq!(c.port, 6793);
        assert_eq!(c.currency.0, "UGX");
        assert_eq!(c.platform_fee_bps, 1000);
        assert_eq!(c.otp_expiry, Duration::from_secs(600));
    }

    #[test]
    fn production_refuses_missing_or_weak_secrets_and_dev_providers() {
        assert!(matches!(
            load(&[("APP_ENV", "production")]),
            Err(ConfigError::UnsafeForProduction(_))
        ));
        let weak = load(&[("APP_ENV", "production"), ("JWT_SECRET", "short")]);
        assert!(
            matches!(weak, Err(ConfigError::UnsafeForProduction(m)) if m.contains("JWT_SECRET"))
        );
        let outbox = load(&[("APP_ENV", "production"), ("JWT_SECRET", &"x".repeat(40))]);
        assert!(
            matches!(outbox, Err(ConfigError::UnsafeForProduction(m)) if m.contains("SMS_PROVIDER"))
        );
    }

    #[test]
    fn an_unset_app_env_is_production_and_refuses_development_settings_saying_why() {
        let dev_settings = [
            ("JWT_SECRET", "x".repeat(40)),
            ("SMS_PROVIDER", "outbox".into()),
            ("PAYMENT_PROVIDER", "sandbox".into()),
        ];
        let pairs: Vec<(&str, &str)> = dev_settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let err = load(&pairs).expect_err("refused");
        let message = err.to_string();
        assert!(matches!(err, ConfigError::AppEnvUnset(_)), "{message}");
        assert!(
            message.contains("APP_ENV is not set")
                && message.contains("SMS_PROVIDER=outbox")
                && message.contains("APP_ENV=development"),
            "{message}"
        );
        let bare = load(&[]).expect_err("refused").to_string();
        assert!(
            bare.contains("APP_ENV is not set") && bare.contains("JWT_SECRET"),
            "{bare}"
        );
        assert!(load(&[("APP_ENV", "development")])
            .expect("dev")
            .dev_routes_enabled());
    }

    #[test]
    fn the_otp_key_is_derived_and_differs_from_the_jwt_secret() {
        let c = load(&[
            ("APP_ENV", "development"),
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
        ])
        .expect("config");
        assert_ne!(&c.otp_key[..], c.jwt_secret.as_bytes());
        assert_eq!(
            c.otp_key,
            derive_otp_key("0123456789abcdef0123456789abcdef")
        );
        assert_ne!(
            c.otp_key,
            derive_otp_key("another-secret-another-secret-xx")
        );
    }

    #[test]
    fn admin_numbers_and_the_region_are_normalized() {
        let c = load(&[
            ("APP_ENV", "test"),
            ("ADMIN_PHONE_NUMBERS", "0700 123 456, +256-700-000-001"),
        ])
        .expect("config");
        assert_eq!(
            c.admin_phone_numbers,
            vec!["+256700123456".to_owned(), "+256700000001".to_owned()]
        );
        assert!(matches!(
            load(&[("APP_ENV", "test"), ("ADMIN_PHONE_NUMBERS", "12")]),
            Err(ConfigError::Invalid {
                name: "ADMIN_PHONE_NUMBERS",
                ..
            })
        ));
        assert!(matches!(
            load(&[("APP_ENV", "test"), ("DEFAULT_REGION", "Uganda")]),
            Err(ConfigError::Invalid {
                name: "DEFAULT_REGION",
                ..
            })
        ));
        assert!(matches!(
            load(&[("APP_ENV", "test"), ("USER_CACHE_TTL", "5s")]),
            Err(ConfigError::Invalid {
                name: "USER_CACHE_TTL",
                ..
            })
        ));
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("15m"), Some(Duration::from_secs(900)));
        assert_eq!(parse_duration("7d"), Some(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("45"), Some(Duration::from_secs(45)));
        assert_eq!(parse_duration("abc"), None);
        assert!(matches!(
            load(&[("APP_ENV", "development"), ("VOTING_WINDOW", "soon")]),
            Err(ConfigError::Invalid {
                name: "VOTING_WINDOW",
                ..
            })
        ));
    }

    #[test]
    fn booking_code_lengths_are_read_per_bookmaker_and_nonsense_is_refused() {
        use crate::codes::rules::BookingCodeRule;
        assert_eq!(
            parse_booking_code_length(" SportyBet = 5-8 "),
            Some((
                "SportyBet".into(),
                BookingCodeRule {
                    min_chars: 5,
                    max_chars: 8
                }
            ))
        );
        for bad in [
            "SportyBet",
            "SportyBet=8-5",
            "=5-8",
            "SportyBet=0-8",
            "SportyBet=5-101",
            "SportyBet=five-8",
        ] {
            assert_eq!(parse_booking_code_length(bad), None, "{bad}");
        }
    }
}
