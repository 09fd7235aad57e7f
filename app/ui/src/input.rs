//! Parsing of what people type, for early feedback. The server stays authoritative.

use oddxer_shared::validate::{is_e164, is_username};
use thiserror::Error;

/// Country code assumed for local numbers such as `0772 123 456`: Oddxer launches in Uganda.
const HOME_COUNTRY_CODE: &str = "256";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InputError {
    #[error("Enter your phone number, for example +256 772 123 456.")]
    PhoneMissing,
    #[error("That phone number doesn't look right. Use the international format, e.g. +256 772 123 456.")]
    PhoneInvalid,
    #[error("Usernames are 3 to 20 characters: lowercase letters, digits and _.")]
    UsernameInvalid,
    #[error("Enter the code from the SMS (digits only).")]
    OtpInvalid,
    #[error("Enter an amount.")]
    AmountMissing,
    #[error("The amount must be a number, e.g. 50000.")]
    AmountNotANumber,
    #[error("{currency} amounts have no more than {digits} decimal places.")]
    AmountTooPrecise { currency: String, digits: u32 },
    #[error("The amount must be more than zero.")]
    AmountNotPositive,
    #[error("That amount is too large.")]
    AmountTooLarge,
}

/// Turns what people type (`0772 123456`, `256772123456`, `+256-772-123-456`) into E.164.
pub fn parse_phone(raw: &str) -> Result<String, InputError> {
    let compact: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
        .collect();
    if compact.is_empty() {
        return Err(InputError::PhoneMissing);
    }
    let e164 = if let Some(rest) = compact.strip_prefix("00") {
        format!("+{rest}")
    } else if compact.starts_with('+') {
        compact
    } else if let Some(local) = compact.strip_prefix('0') {
        format!("+{HOME_COUNTRY_CODE}{local}")
    } else if compact.starts_with(HOME_COUNTRY_CODE) {
        format!("+{compact}")
    } else {
        return Err(InputError::PhoneInvalid);
    };
    if is_e164(&e164) {
        Ok(e164)
    } else {
        Err(InputError::PhoneInvalid)
    }
}

/// Usernames are stored lowercase; accept `Ace_Tipster` and send `ace_tipster`.
pub fn parse_username(raw: &str) -> Result<String, InputError> {
    let name = raw.trim().to_lowercase();
    if is_username(&name) {
        Ok(name)
    } else {
        Err(InputError::UsernameInvalid)
    }
}

/// The OTP length is server configuration, so accept any plausible length.
pub fn parse_otp(raw: &str) -> Result<String, InputError> {
    let otp: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if (4..=8).contains(&otp.len()) && otp.bytes().all(|b| b.is_ascii_digit()) {
        Ok(otp)
    } else {
        Err(InputError::OtpInvalid)
    }
}

/// Parses a major-unit amount such as `50,000` or `10.5` into minor units, never via floats.
pub fn parse_amount(raw: &str, currency: &str, minor_digits: u32) -> Result<i64, InputError> {
    let text: String = raw
        .chars()
        .filter(|c| !matches!(c, ',' | ' ' | '_'))
        .collect();
    if text.is_empty() {
        return Err(InputError::AmountMissing);
    }
    let (major, fraction) = match text.split_once('.') {
        Some((major, fraction)) => (major, fraction),
        None => (text.as_str(), ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (major.is_empty() && fraction.is_empty()) || !all_digits(major) || !all_digits(fraction) {
        return Err(InputError::AmountNotANumber);
    }
    if fraction.len() > minor_digits as usize {
        return Err(InputError::AmountTooPrecise {
            currency: currency.to_owned(),
            digits: minor_digits,
        });
    }
    let scale = 10i64
        .checked_pow(minor_digits)
        .ok_or(InputError::AmountTooLarge)?;
    let major: i64 = if major.is_empty() {
        0
    } else {
        major.parse().map_err(|_| InputError::AmountTooLarge)?
    };
    // Right-pad the fraction so "10.5" in a 2-digit currency is 50 minor units, not 5.
    let fraction: i64 = if fraction.is_empty() {
        0
    } else {
        let padded = format!("{fraction:0<width$}", width = minor_digits as usize);
        padded.parse().map_err(|_| InputError::AmountNotANumber)?
    };
    let minor = major
        .checked_mul(scale)
        .and_then(|m| m.checked_add(fraction))
        .ok_or(InputError::AmountTooLarge)?;
    if minor <= 0 {
        return Err(InputError::AmountNotPositive);
    }
    Ok(minor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_and_international_phone_numbers_become_e164() {
        for raw in [
            "0772123456",
            "0772 123 456",
            "256772123456",
            "+256 772-123-456",
            "00256772123456",
        ] {
            assert_eq!(parse_phone(raw), Ok("+256772123456".to_owned()), "{raw}");
        }
        assert_eq!(parse_phone("+254712345678"), Ok("+254712345678".to_owned()));
    }

    #[test]
    fn nonsense_phone_numbers_are_refused_with_a_reason() {
        assert_eq!(parse_phone("  "), Err(InputError::PhoneMissing));
        for bad in ["12345", "+0772123456", "07721234x6", "+25677"] {
            assert_eq!(parse_phone(bad), Err(InputError::PhoneInvalid), "{bad}");
        }
    }

    #[test]
    fn usernames_are_lowercased_and_checked() {
        assert_eq!(
            parse_username(" Ace_Tipster "),
            Ok("ace_tipster".to_owned())
        );
        assert_eq!(parse_username("a b"), Err(InputError::UsernameInvalid));
    }

    #[test]
    fn otps_are_digits_of_a_plausible_length() {
        assert_eq!(parse_otp("123 456"), Ok("123456".to_owned()));
        for bad in ["123", "12a456", "123456789"] {
            assert_eq!(parse_otp(bad), Err(InputError::OtpInvalid), "{bad}");
        }
    }

    #[test]
    fn amounts_are_parsed_into_minor_units_without_floats() {
        assert_eq!(parse_amount("50,000", "UGX", 0), Ok(50_000));
        assert_eq!(parse_amount("10.5", "KES", 2), Ok(1050));
        assert_eq!(parse_amount(".25", "KES", 2), Ok(25));
        assert_eq!(parse_amount("7.", "KES", 2), Ok(700));
    }

    #[test]
    fn bad_amounts_are_refused_with_a_reason() {
        assert_eq!(parse_amount("", "UGX", 0), Err(InputError::AmountMissing));
        assert_eq!(
            parse_amount("-5", "UGX", 0),
            Err(InputError::AmountNotANumber)
        );
        assert_eq!(
            parse_amount("1e3", "UGX", 0),
            Err(InputError::AmountNotANumber)
        );
        assert_eq!(
            parse_amount(".", "UGX", 0),
            Err(InputError::AmountNotANumber)
        );
        assert_eq!(
            parse_amount("10.5", "UGX", 0),
            Err(InputError::AmountTooPrecise {
                currency: "UGX".into(),
                digits: 0
            })
        );
        assert_eq!(
            parse_amount("0", "UGX", 0),
            Err(InputError::AmountNotPositive)
        );
        assert_eq!(
            parse_amount("99999999999999999999", "UGX", 0),
            Err(InputError::AmountTooLarge)
        );
    }
}
