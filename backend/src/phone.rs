//! Phone numbers as one subscriber is one account (DESIGN.md section 5): every number that enters
//! the backend (register, login, verify-otp, deposits, withdrawals, `ADMIN_PHONE_NUMBERS`) is parsed
//! with libphonenumber's rules (the `phonenumber` crate) and kept only in its E.164 form, so
//! `0700 123 456`, `+256 700 123 456`, `+256-700-123-456` and `+2560700123456` are one account.

use crate::error::AppError;
use phonenumber::country::Id as Region;
use phonenumber::Mode;

/// The region national numbers (`0700 123 456`) are read in when `DEFAULT_REGION` is not set.
pub const DEFAULT_REGION: Region = Region::UG;

/// A valid phone number in E.164 (`+256700123456`). Only `parse` makes one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses `raw` as a number of `region` unless it starts with `+` (then its own country code
    /// decides). Spaces, dashes, dots and brackets are accepted; a national trunk `0` written after
    /// the country code (`+2560700...`) is dropped, as libphonenumber does. Numbers that are not
    /// valid for their country (wrong length, unassigned range) are refused.
    pub fn parse(raw: &str, region: Region) -> Option<PhoneNumber> {
        let raw = raw.trim();
        if raw.is_empty() || raw.len() > 40 {
            return None;
        }
        let country = if raw.starts_with('+') {
            None
        } else {
            Some(region)
        };
        let number = phonenumber::parse(country, raw).ok()?;
        if number.extension().is_some() || !phonenumber::is_valid(&number) {
            return None;
        }
        Some(PhoneNumber(number.format().mode(Mode::E164).to_string()))
    }

    /// As `parse`, answering 422 `VALIDATION_ERROR` naming the field `field` (the JSON name).
    pub fn parse_field(raw: &str, region: Region, field: &str) -> Result<PhoneNumber, AppError> {
        PhoneNumber::parse(raw, region).ok_or_else(|| {
            AppError::validation(
                format!("{field} is not a valid phone number; write it as +256700123456 or 0700 123 456"),
                field,
                "not a valid phone number",
            )
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reads a `DEFAULT_REGION` value such as `UG` or `ke`.
pub fn parse_region(raw: &str) -> Option<Region> {
    raw.trim().to_ascii_uppercase().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(raw: &str) -> Option<String> {
        PhoneNumber::parse(raw, DEFAULT_REGION).map(PhoneNumber::into_string)
    }

    #[test]
    fn the_ways_people_write_one_ugandan_number_are_one_number() {
        for raw in [
            "+256700123456",
            "+2560700123456",
            "0700 123 456",
            "0700123456",
            "700123456",
            "+256 700 123 456",
            "+256-700-123-456",
            " (0700) 123-456 ",
        ] {
            assert_eq!(e164(raw).as_deref(), Some("+256700123456"), "{raw}");
        }
    }

    #[test]
    fn numbers_of_other_countries_keep_their_country() {
        assert_eq!(e164("+254 712 345 678").as_deref(), Some("+254712345678"));
        assert_eq!(
            PhoneNumber::parse("0712 345 678", parse_region("ke").expect("KE"))
                .map(PhoneNumber::into_string)
                .as_deref(),
            Some("+254712345678")
        );
    }

    #[test]
    fn invalid_numbers_are_refused() {
        for raw in [
            "",
            "12345",
            "+2567001234567",
            "+25670012345",
            "abc",
            "+256 700 123 45x",
            "0700123456 ext. 12",
            "+0700123456",
            "+256 000 123 456",
        ] {
            assert_eq!(e164(raw), None, "{raw}");
        }
    }

    #[test]
    fn regions_are_read_case_insensitively() {
        assert_eq!(parse_region("ug"), Some(Region::UG));
        assert_eq!(parse_region("XX"), None);
    }
}
