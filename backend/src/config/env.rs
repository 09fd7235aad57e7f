//! Reading the environment: one value at a time, each with its default and a [`ConfigError`]
//! naming the variable when it does not parse (durations `30s`/`15m`/`24h`/`7d`, rate limits
//! `N/duration`, booking code lengths `Bookmaker=MIN-MAX`).

use super::ConfigError;
use std::time::Duration;

/// Reads `KEY` through a lookup function so tests can feed a map instead of the process env.
pub struct EnvSource<'a>(pub &'a dyn Fn(&str) -> Option<String>);

impl EnvSource<'_> {
    pub fn get(&self, key: &str) -> Option<String> {
        (self.0)(key)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    pub(super) fn string(&self, key: &str, default: &str) -> String {
        self.get(key).unwrap_or_else(|| default.to_owned())
    }

    pub(super) fn parse<T: std::str::FromStr>(
        &self,
        key: &'static str,
        default: T,
    ) -> Result<T, ConfigError> {
        match self.get(key) {
            None => Ok(default),
            Some(raw) => raw.parse().map_err(|_| ConfigError::Invalid {
                name: key,
                reason: format!("cannot parse {raw:?}"),
            }),
        }
    }

    pub(super) fn rate(
        &self,
        key: &'static str,
        default: RateLimit,
    ) -> Result<RateLimit, ConfigError> {
        match self.get(key) {
            None => Ok(default),
            Some(raw) => RateLimit::parse(&raw).ok_or(ConfigError::Invalid {
                name: key,
                reason: format!("{raw:?} is not N/duration such as 30/1m"),
            }),
        }
    }

    pub(super) fn duration(
        &self,
        key: &'static str,
        default: Duration,
    ) -> Result<Duration, ConfigError> {
        match self.get(key) {
            None => Ok(default),
            Some(raw) => parse_duration(&raw).ok_or(ConfigError::Invalid {
                name: key,
                reason: format!("{raw:?} is not a duration such as 15m, 24h, 7d or 30s"),
            }),
        }
    }
}

/// `max` requests per `window`, written `30/1m` in the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub max: u32,
    pub window: Duration,
}

impl RateLimit {
    pub fn parse(raw: &str) -> Option<RateLimit> {
        let (max, window) = raw.split_once('/')?;
        let max: u32 = max.trim().parse().ok().filter(|m| *m > 0)?;
        let window = parse_duration(window).filter(|w| !w.is_zero())?;
        Some(RateLimit { max, window })
    }
}

/// `30s`, `15m`, `24h`, `7d`, or a bare number of seconds.
pub fn parse_duration(raw: &str) -> Option<Duration> {
    let raw = raw.trim();
    let (num, unit) = match raw.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => raw.split_at(i),
        None => (raw, "s"),
    };
    let n: u64 = num.parse().ok()?;
    let secs = match unit {
        "ms" => return Some(Duration::from_millis(n)),
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
}

/// One `BOOKING_CODE_LENGTHS` entry, `Bookmaker=MIN-MAX` (1 <= MIN <= MAX <= 100).
pub(super) fn parse_booking_code_length(
    entry: &str,
) -> Option<(String, crate::codes::rules::BookingCodeRule)> {
    let (bookmaker, range) = entry.split_once('=')?;
    let (min, max) = range.split_once('-')?;
    let (min_chars, max_chars): (usize, usize) =
        (min.trim().parse().ok()?, max.trim().parse().ok()?);
    let bookmaker = bookmaker.trim();
    (!bookmaker.is_empty() && (1..=max_chars).contains(&min_chars) && max_chars <= 100).then(|| {
        (
            bookmaker.to_owned(),
            crate::codes::rules::BookingCodeRule {
                min_chars,
                max_chars,
            },
        )
    })
}
