//! One-time passwords: generated uniformly, stored only as a keyed hash, compared in constant time.

use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

pub fn generate(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect()
}

/// HMAC-SHA256 over phone and code with the server secret: a leaked table reveals nothing usable,
/// and unlike bcrypt it costs nothing that a 6-digit space would not already lose.
pub fn keyed_hash(secret: &[u8], phone: &str, otp: &str) -> String {
    // new_from_slice accepts keys of any length for HMAC, so this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(phone.as_bytes());
    mac.update(b":");
    mac.update(otp.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

pub fn matches(secret: &[u8], phone: &str, otp: &str, stored_hash: &str) -> bool {
    let candidate = keyed_hash(secret, phone, otp);
    !stored_hash.is_empty() && candidate.as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

/// Digest under which a refresh token is stored; the token itself is never stored.
pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// A random 256-bit token, hex encoded.
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::thread_rng().gen();
    hex::encode(bytes)
}

/// `+256772123456` -> `+256*******56` for log lines (DESIGN: no phone number in clear in logs).
pub fn mask_phone(phone: &str) -> String {
    let n = phone.chars().count();
    phone
        .chars()
        .enumerate()
        .map(|(i, c)| if i < 4 || i + 2 >= n { c } else { '*' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_have_the_length_and_only_digits() {
        for _ in 0..100 {
            let otp = generate(6);
            assert_eq!(otp.len(), 6);
            assert!(otp.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn a_code_matches_only_its_own_hash_phone_and_secret() {
        let h = keyed_hash(b"secret", "+256700000001", "123456");
        assert!(matches(b"secret", "+256700000001", "123456", &h));
        assert!(!matches(b"secret", "+256700000001", "123457", &h));
        assert!(!matches(b"secret", "+256700000002", "123456", &h));
        assert!(!matches(b"other", "+256700000001", "123456", &h));
        assert!(!matches(b"secret", "+256700000001", "123456", ""));
        assert!(!h.contains("123456"));
    }

    #[test]
    fn masks_phone_numbers() {
        assert_eq!(mask_phone("+256772123456"), "+256*******56");
    }
}
