//! Parsing of user input shared by the server (authoritative) and the UI (early feedback).

/// An E.164 phone number: `+`, a non-zero digit, 7 to 14 more digits.
pub fn is_e164(phone: &str) -> bool {
    let Some(digits) = phone.strip_prefix('+') else {
        return false;
    };
    let len_ok = (8..=15).contains(&digits.len());
    len_ok && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
}

/// Usernames are 3 to 20 of `[a-z0-9_]`.
pub fn is_username(name: &str) -> bool {
    (3..=20).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// An OTP is exactly `len` ASCII digits.
pub fn is_otp(otp: &str, len: usize) -> bool {
    otp.len() == len && otp.bytes().all(|b| b.is_ascii_digit())
}

/// A listing's odds bounds in hundredths: 1.01 to 100,000.
pub const MIN_ODDS: i64 = 101;
/// See [`MIN_ODDS`].
pub const MAX_ODDS: i64 = 10_000_000;
/// A listing's title: 5 to 120 characters.
pub const TITLE_MIN_CHARS: usize = 5;
/// See [`TITLE_MIN_CHARS`].
pub const TITLE_MAX_CHARS: usize = 120;
/// A listing's description: at most 2,000 characters.
pub const DESCRIPTION_MAX_CHARS: usize = 2_000;
/// The bookmakers a listing may name when the server's `BOOKMAKERS` is not set (the apps use
/// them until the server tells its own list, `GET /codes/options`).
pub const DEFAULT_BOOKMAKERS: [&str; 10] = [
    "SportyBet",
    "Betway",
    "1xBet",
    "Betika",
    "Bet9ja",
    "BetPawa",
    "Fortebet",
    "22Bet",
    "Melbet",
    "Gal Sport Betting",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_e164_and_refuses_the_rest() {
        assert!(is_e164("+256772123456"));
        for bad in [
            "256772123456",
            "+0772123456",
            "+2567",
            "+25677212345678901",
            "+2567721234a6",
            "",
            "+",
        ] {
            assert!(!is_e164(bad), "{bad}");
        }
    }

    #[test]
    fn usernames_are_lowercase_ascii_3_to_20() {
        assert!(is_username("ace_tipster9"));
        for bad in [
            "ab",
            "Ace",
            "a b",
            "émile",
            "a\u{0}bc",
            "abcdefghijklmnopqrstu",
        ] {
            assert!(!is_username(bad), "{bad:?}");
        }
    }
}
