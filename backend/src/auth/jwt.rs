//! Access tokens: HS256 JWTs with `sub`, `role`, `exp`, `iat`, `jti`, and `sid`, the session
//! (refresh-token family) they were issued in, so a socket can be closed when that session ends.

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
    /// The refresh-token family this token was issued in; absent in tokens issued outside a session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
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

    /// A token outside any session (`now_unix` in seconds).
    pub fn issue(
        &self,
        user_id: &str,
        role: Role,
        now_unix: i64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        self.encode(user_id, role, now_unix, None)
    }

    /// A token of the session `session` (the refresh-token family), so that ending the session can
    /// also end the sockets opened with its tokens (`now_unix` in seconds).
    pub fn issue_for_session(
        &self,
        user_id: &str,
        role: Role,
        now_unix: i64,
        session: &str,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        self.encode(user_id, role, now_unix, Some(session.to_owned()))
    }

    fn encode(
        &self,
        user_id: &str,
        role: Role,
        now_unix: i64,
        sid: Option<String>,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = Claims {
            sub: user_id.to_owned(),
            role,
            iat: now_unix,
            exp: now_unix + self.access_ttl.as_secs() as i64,
            jti: uuid::Uuid::new_v4().to_string(),
            sid,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// Only HS256 is accepted: `alg: none` and other algorithms are refused by the validation.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        decode::<Claims>(token, &self.decoding, &validation)
            .ok()
            .map(|d| d.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }

    #[test]
    fn issued_tokens_verify_and_carry_the_claims() {
        let keys = JwtKeys::new("0123456789abcdef0123456789abcdef", Duration::from_secs(900));
        let token = keys.issue("abc", Role::Seller, now()).expect("issue");
        let claims = keys.verify(&token).expect("valid");
        assert_eq!(claims.sub, "abc");
        assert_eq!(claims.role, Role::Seller);
        assert_eq!(claims.exp - claims.iat, 900);
        assert_eq!(claims.sid, None);
        let in_session = keys
            .issue_for_session("abc", Role::Buyer, now(), "family-1")
            .expect("issue");
        assert_eq!(
            keys.verify(&in_session).expect("valid").sid.as_deref(),
            Some("family-1")
        );
    }

    #[test]
    fn expired_foreign_and_unsigned_tokens_are_refused() {
        let keys = JwtKeys::new("0123456789abcdef0123456789abcdef", Duration::from_secs(900));
        let old = keys.issue("abc", Role::Buyer, now() - 3600).expect("issue");
        assert!(keys.verify(&old).is_none());
        let other = JwtKeys::new("another-secret-another-secret-xx", Duration::from_secs(900));
        assert!(keys
            .verify(&other.issue("abc", Role::Admin, now()).expect("issue"))
            .is_none());
        // alg: none with the same claims
        let unsigned = format!(
            "{}.{}.",
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0",
            keys.issue("abc", Role::Admin, now())
                .expect("issue")
                .split('.')
                .nth(1)
                .unwrap_or_default()
        );
        assert!(keys.verify(&unsigned).is_none());
    }
}
