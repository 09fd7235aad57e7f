//! Access tokens: HS256 JWTs with `sub`, `role`, `exp`, `iat`, `jti`.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use oddxer_shared::Role;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
}

#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    access_ttl: Duration,
}

impl JwtKeys {
    pub fn new(secret: &str, access_ttl: Duration) -> Self {
        JwtKeys {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            access_ttl,
        }
    }

    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    pub fn issue(&self, user_id: &str, role: Role, now_unix: i64) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = Claims {
            sub: user_id.to_owned(),
            role,
            iat: now_unix,
            exp: now_unix + self.access_ttl.as_secs() as i64,
            jti: uuid::Uuid::new_v4().to_string(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// Only HS256 is accepted: `alg: none` and other algorithms are refused by the validation.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        decode::<Claims>(token, &self.decoding, &validation).ok().map(|d| d.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
    }

    #[test]
    fn issued_tokens_verify_and_carry_the_claims() {
        let keys = JwtKeys::new("0123456789abcdef0123456789abcdef", Duration::from_secs(900));
        let token = keys.issue("abc", Role::Seller, now()).expect("issue");
        let claims = keys.verify(&token).expect("valid");
        assert_eq!(claims.sub, "abc");
        assert_eq!(claims.role, Role::Seller);
        assert_eq!(claims.exp - claims.iat, 900);
    }

    #[test]
    fn expired_foreign_and_unsigned_tokens_are_refused() {
        let keys = JwtKeys::new("0123456789abcdef0123456789abcdef", Duration::from_secs(900));
        let old = keys.issue("abc", Role::Buyer, now() - 3600).expect("issue");
        assert!(keys.verify(&old).is_none());
        let other = JwtKeys::new("another-secret-another-secret-xx", Duration::from_secs(900));
        assert!(keys.verify(&other.issue("abc", Role::Admin, now()).expect("issue")).is_none());
        // alg: none with the same claims
        let unsigned = format!(
            "{}.{}.",
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0",
            keys.issue("abc", Role::Admin, now()).expect("issue").split('.').nth(1).unwrap_or_default()
        );
        assert!(keys.verify(&unsigned).is_none());
    }
}
