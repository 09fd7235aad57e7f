//! When to renew an access token on an open socket: the server closes a socket whose token has
//! expired (`TOKEN_EXPIRED`), so each core sends a fresh `{"type":"auth"}` frame before then.

use std::time::Duration;

/// How long to wait before renewing `token` (a JWT with `iat` and `exp` claims in Unix seconds),
/// given the time `now_unix` (Unix seconds): a fifth of its lifetime before `exp`, at most a
/// minute before (a 15-minute token renews at 14 minutes). `None` for a token whose claims cannot
/// be read (the server's `TOKEN_EXPIRED` then still triggers a refresh and a reconnect).
/// Skew-safe: the wait never exceeds the token's lifetime, whatever the local clock says.
pub fn renew_after(token: &str, now_unix: i64) -> Option<Duration> {
    let (iat, exp) = token_times(token)?;
    let lifetime = exp.checked_sub(iat).filter(|l| *l > 0)?;
    let margin = (lifetime / 5).clamp(1, 60);
    let left = exp.saturating_sub(now_unix).clamp(0, lifetime);
    Some(Duration::from_secs(
        left.saturating_sub(margin).max(0) as u64
    ))
}

/// The `iat` and `exp` claims (Unix seconds) of a JWT, read without checking its signature: the
/// client only uses them to renew in time; the server alone decides what is valid.
fn token_times(token: &str) -> Option<(i64, i64)> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64url_decode(payload)?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    Some((claims["iat"].as_i64()?, claims["exp"].as_i64()?))
}

/// Unpadded base64url (RFC 4648 section 5), as JWT segments are written.
fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| *c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64url(bytes: &[u8]) -> String {
        const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
            for i in 0..=chunk.len() {
                out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }

    fn jwt(iat: i64, exp: i64) -> String {
        let claims = b64url(format!(r#"{{"sub":"u1","iat":{iat},"exp":{exp}}}"#).as_bytes());
        format!("eyJhbGciOiJIUzI1NiJ9.{claims}.c2ln")
    }

    #[test]
    fn tokens_are_renewed_before_they_expire() {
        let now = 1_800_000_000;
        assert_eq!(
            renew_after(&jwt(now, now + 900), now),
            Some(Duration::from_secs(840))
        );
        assert_eq!(
            renew_after(&jwt(now - 600, now + 300), now),
            Some(Duration::from_secs(240))
        );
        assert_eq!(
            renew_after(&jwt(now, now + 3), now),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            renew_after(&jwt(now - 900, now - 1), now),
            Some(Duration::ZERO)
        );
        // A clock an hour behind never waits longer than the token lives.
        assert_eq!(
            renew_after(&jwt(now, now + 900), now - 3600),
            Some(Duration::from_secs(840))
        );
        assert_eq!(renew_after("not-a-jwt", now), None);
        assert_eq!(
            renew_after(&jwt(now, now), now),
            None,
            "no lifetime, no schedule"
        );
    }
}
