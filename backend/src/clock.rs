//! Time as stored (BSON date-times, millisecond precision) and as shown (RFC 3339 UTC).

use mongodb::bson::DateTime;
use std::time::Duration;

pub fn now() -> DateTime {
    DateTime::now()
}

pub fn after(base: DateTime, d: Duration) -> DateTime {
    DateTime::from_millis(base.timestamp_millis().saturating_add(d.as_millis() as i64))
}

pub fn before(base: DateTime, d: Duration) -> DateTime {
    DateTime::from_millis(base.timestamp_millis().saturating_sub(d.as_millis() as i64))
}

pub fn rfc3339(dt: DateTime) -> String {
    dt.try_to_rfc3339_string()
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

pub fn unix_seconds(dt: DateTime) -> i64 {
    dt.timestamp_millis() / 1000
}
