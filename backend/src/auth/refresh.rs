//! Refresh tokens as generations of a session family.
//!
//! A refresh token reads `{family}.{generation}.{secret}`: the family (32 hex, named after the OTP
//! that opened the session) and the generation are public addresses, the secret is a random 256-bit
//! value that is stored only as the SHA-256 digest of the whole token. Token `g` of a family is the
//! document `refresh_tokens {_id: "{family}:{g}"}`.
//!
//! Every decision is an insert under that `_id` (DESIGN.md section 4):
//! - signing in inserts generation 0 of the family named after the OTP, so an OTP opens at most
//!   one session (its single use);
//! - rotating token `g` inserts generation `g + 1`: of two refreshes of one token exactly one wins,
//!   the other meets a duplicate key, which means the token was used twice (stolen or replayed);
//! - revoking a family (reuse, logout) inserts a tombstone right after the family's newest
//!   generation, so the holder of the newest token can no longer rotate it. Generations are
//!   contiguous (each is inserted only after its predecessor was read), which lets the newest be
//!   found by galloping and bisecting over `_id` lookups.
//!
//! A refresh therefore costs one `_id` read and one insert, with no separate consumption marker or
//! revocation lookup.

use super::otp;
use rand::Rng;
use subtle::ConstantTimeEq;

/// A refresh token, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub family: String,
    pub generation: u64,
    secret: String,
}

impl RefreshToken {
    /// Generation 0 of a family.
    pub fn first(family: &str) -> Self {
        RefreshToken {
            family: family.to_owned(),
            generation: 0,
            secret: random_secret(),
        }
    }

    /// The token that replaces this one.
    pub fn next(&self) -> Self {
        RefreshToken {
            family: self.family.clone(),
            generation: self.generation + 1,
            secret: random_secret(),
        }
    }

    /// Reads a token a client presented; `None` for anything this server never issues.
    pub fn parse(raw: &str) -> Option<Self> {
        let mut parts = raw.trim().split('.');
        let (family, generation, secret) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some()
            || !is_hex(family, 32)
            || !is_hex(secret, 64)
            || generation.len() > 19
        {
            return None;
        }
        let generation = generation
            .parse()
            .ok()
            .filter(|_| generation.bytes().all(|b| b.is_ascii_digit()))?;
        Some(RefreshToken {
            family: family.to_owned(),
            generation,
            secret: secret.to_owned(),
        })
    }

    /// The `_id` of this token's document.
    pub fn slot(&self) -> String {
        slot(&self.family, self.generation)
    }

    /// What is stored instead of the token.
    pub fn digest(&self) -> String {
        otp::sha256_hex(&self.to_string())
    }

    /// Whether `stored` is this token's digest, compared in constant time.
    pub fn matches(&self, stored: &str) -> bool {
        let digest = self.digest();
        digest.len() == stored.len() && bool::from(digest.as_bytes().ct_eq(stored.as_bytes()))
    }
}

impl std::fmt::Display for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.family, self.generation, self.secret)
    }
}

/// `_id` of generation `generation` of `family`.
pub fn slot(family: &str, generation: u64) -> String {
    format!("{family}:{generation}")
}

/// A fresh family or OTP id: 128 random bits, 32 hex.
pub fn new_family() -> String {
    let bytes: [u8; 16] = rand::thread_rng().gen();
    hex::encode(bytes)
}

fn random_secret() -> String {
    otp::random_token()
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_rotate_within_their_family() {
        let family = new_family();
        let first = RefreshToken::first(&family);
        let parsed = RefreshToken::parse(&first.to_string()).expect("parses");
        assert_eq!(parsed, first);
        assert_eq!(first.slot(), format!("{family}:0"));
        let next = first.next();
        assert_eq!(
            (next.family.as_str(), next.generation),
            (family.as_str(), 1)
        );
        assert_ne!(next.to_string(), first.to_string());
        assert!(first.matches(&first.digest()));
        assert!(!next.matches(&first.digest()));
    }

    #[test]
    fn anything_else_is_not_a_token() {
        let good = RefreshToken::first(&new_family()).to_string();
        let (family, rest) = good.split_once('.').expect("dot");
        for bad in [
            String::new(),
            "abc".into(),
            format!("{family}.x.{}", &rest[2..]),
            format!("{family}.+1.{}", &rest[2..]),
            format!("{}.{rest}", &family[1..]),
            format!("{good}.0"),
            good.to_uppercase(),
            good[..good.len() - 1].to_owned(),
        ] {
            assert!(RefreshToken::parse(&bad).is_none(), "{bad}");
        }
    }
}
