//! Reconnect delays: "full jitter" under a ceiling of 300 ms doubling up to 10 s.
//!
//! Full jitter (a uniformly random point between 0 and the ceiling) spreads the thousands of
//! clients dropped by one server restart over the whole window instead of bringing them back in
//! waves at its upper half. The random number comes from the caller (`rand` natively,
//! `Math.random` in the browser), so the rule itself is deterministic and testable.

/// Ceiling of the first retry, in milliseconds.
pub const BACKOFF_FIRST_MS: u64 = 300;
/// Largest ceiling, in milliseconds.
pub const BACKOFF_CAP_MS: u64 = 10_000;

/// The ceiling (milliseconds) of reconnect attempt `attempt` (0-based).
pub fn backoff_ceiling_ms(attempt: u32) -> u64 {
    BACKOFF_FIRST_MS
        .saturating_mul(1u64 << attempt.min(16))
        .min(BACKOFF_CAP_MS)
}

/// The delay (milliseconds) before attempt `attempt`, given `unit`, a uniform random number in
/// `[0, 1]` (values outside are clamped): `unit` of the way up to the ceiling.
pub fn full_jitter_ms(attempt: u32, unit: f64) -> u64 {
    let unit = if unit.is_nan() {
        0.0
    } else {
        unit.clamp(0.0, 1.0)
    };
    let ceiling = backoff_ceiling_ms(attempt);
    // Rounded, so `unit = 1` reaches the ceiling exactly; never above it.
    ((ceiling as f64 * unit).round() as u64).min(ceiling)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_doubles_from_300_ms_and_stops_at_10_s() {
        let ceilings: Vec<u64> = (0..8).map(backoff_ceiling_ms).collect();
        assert_eq!(ceilings, [300, 600, 1200, 2400, 4800, 9600, 10_000, 10_000]);
        assert_eq!(backoff_ceiling_ms(u32::MAX), 10_000);
    }

    #[test]
    fn the_delay_is_anywhere_from_zero_to_the_ceiling() {
        assert_eq!(full_jitter_ms(3, 0.0), 0);
        assert_eq!(full_jitter_ms(3, 0.5), 1200);
        assert_eq!(full_jitter_ms(3, 1.0), 2400);
        assert_eq!(full_jitter_ms(30, 0.25), 2500);
        // Nonsense randomness never makes a negative or an over-long wait.
        assert_eq!(full_jitter_ms(0, -3.0), 0);
        assert_eq!(full_jitter_ms(0, 7.0), 300);
        assert_eq!(full_jitter_ms(0, f64::NAN), 0);
    }
}
