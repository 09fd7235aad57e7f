//! Early checks of a new listing, mirroring the server's rules (backend/src/codes/rules.rs) so
//! sellers see every problem at once before anything is sent. The server stays authoritative.

use std::collections::BTreeMap;

use oddxer_shared::api::{CodeIn, CodeOptionsOut};
use oddxer_shared::{Currency, Money, Sport};

use crate::input::parse_amount;

pub use oddxer_shared::validate::{
    DEFAULT_BOOKMAKERS, DESCRIPTION_MAX_CHARS, MAX_ODDS, MIN_ODDS, TITLE_MAX_CHARS, TITLE_MIN_CHARS,
};
pub const CODE_MAX_CHARS: usize = 100;
/// The server's default cap on `maxBuyers` (`CODE_MAX_BUYERS`) when it does not say otherwise.
pub const DEFAULT_MAX_BUYERS_LIMIT: i64 = 1_000;

/// What the seller typed, as typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Draft {
    pub sport: Option<Sport>,
    pub title: String,
    pub description: String,
    pub odds: String,
    pub bookmaker: String,
    pub price: String,
    pub code: String,
    /// The `datetime-local` value converted to RFC 3339 UTC and epoch ms, if it parsed.
    pub expires_at: Option<(String, f64)>,
    pub max_buyers: String,
}

/// Field (the wire name, as the server reports it) -> what is wrong with it.
pub type Problems = BTreeMap<&'static str, String>;

pub struct Rules<'a> {
    pub currency: &'a Currency,
    pub bookmakers: &'a [String],
    pub max_buyers_limit: i64,
    /// The server's price bounds in minor units, once it told them.
    pub price_bounds: Option<(Money, Money)>,
    pub now_ms: f64,
}

impl<'a> Rules<'a> {
    /// The rules at `now_ms` (epoch milliseconds), with the server's limits from `options` once it
    /// told them (`GET /codes/options`), the defaults before.
    pub fn new(
        currency: &'a Currency,
        bookmakers: &'a [String],
        options: Option<&CodeOptionsOut>,
        now_ms: f64,
    ) -> Self {
        Rules {
            currency,
            bookmakers,
            max_buyers_limit: options.map_or(DEFAULT_MAX_BUYERS_LIMIT, |o| o.max_buyers_limit),
            price_bounds: options.map(|o| (o.min_price.clone(), o.max_price.clone())),
            now_ms,
        }
    }
}

/// Decimal odds such as `2.5` or `1,250.75` into hundredths, refusing a third decimal place.
pub fn parse_odds(raw: &str) -> Result<i64, String> {
    let text: String = raw.chars().filter(|c| !matches!(c, ',' | ' ')).collect();
    let (whole, fraction) = text.split_once('.').unwrap_or((text.as_str(), ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if text.is_empty() || whole.is_empty() || !digits(whole) || !digits(fraction) {
        return Err("Enter the total odds as a decimal, e.g. 4.35.".to_owned());
    }
    if fraction.len() > 2 {
        return Err("Odds have at most 2 decimal places.".to_owned());
    }
    let padded = format!("{fraction:0<2}");
    let hundredths = whole
        .parse::<i64>()
        .ok()
        .and_then(|w| w.checked_mul(100))
        .zip(padded.parse::<i64>().ok())
        .and_then(|(w, f)| w.checked_add(f))
        .unwrap_or(i64::MAX);
    if (MIN_ODDS..=MAX_ODDS).contains(&hundredths) {
        Ok(hundredths)
    } else {
        Err("Odds must be between 1.01 and 100,000.".to_owned())
    }
}

fn has_control(s: &str, allow_newlines: bool) -> bool {
    s.chars()
        .any(|c| c.is_control() && !(allow_newlines && matches!(c, '\n' | '\t' | '\r')))
}

/// Checks every field at once; on success answers the request body for `create_code`.
pub fn validate(draft: &Draft, rules: &Rules) -> Result<CodeIn, Problems> {
    let mut problems = Problems::new();
    if draft.sport.is_none() {
        problems.insert("sport", "Pick the sport.".to_owned());
    }

    let title = draft.title.trim();
    let title_chars = title.chars().count();
    if !(TITLE_MIN_CHARS..=TITLE_MAX_CHARS).contains(&title_chars) {
        problems.insert(
            "title",
            format!("The title is {TITLE_MIN_CHARS} to {TITLE_MAX_CHARS} characters (now {title_chars})."),
        );
    } else if has_control(title, false) {
        problems.insert(
            "title",
            "The title cannot contain control characters.".to_owned(),
        );
    }

    let description = draft.description.trim();
    let description_chars = description.chars().count();
    if description_chars > DESCRIPTION_MAX_CHARS {
        problems.insert(
            "description",
            format!("The description is at most {DESCRIPTION_MAX_CHARS} characters (now {description_chars})."),
        );
    } else if has_control(description, true) {
        problems.insert(
            "description",
            "The description cannot contain control characters.".to_owned(),
        );
    }

    let odds = match parse_odds(&draft.odds) {
        Ok(h) => h,
        Err(e) => {
            problems.insert("odds", e);
            0
        }
    };

    let bookmaker = rules
        .bookmakers
        .iter()
        .find(|b| b.eq_ignore_ascii_case(draft.bookmaker.trim()))
        .cloned();
    if bookmaker.is_none() {
        problems.insert(
            "bookmaker",
            "Pick the bookmaker the code is for.".to_owned(),
        );
    }

    let price = match parse_amount(
        &draft.price,
        &rules.currency.0,
        rules.currency.minor_digits(),
    ) {
        Ok(p) => match &rules.price_bounds {
            Some((min, max)) if p < min.amount || p > max.amount => {
                problems.insert(
                    "price",
                    format!(
                        "The price is between {} and {}.",
                        min.display(),
                        max.display()
                    ),
                );
                p
            }
            _ => p,
        },
        Err(e) => {
            problems.insert("price", e.to_string());
            0
        }
    };

    let code = draft.code.trim();
    if code.is_empty() {
        problems.insert("code", "Enter the booking code buyers will get.".to_owned());
    } else if code.chars().count() > CODE_MAX_CHARS {
        problems.insert(
            "code",
            format!("The booking code is at most {CODE_MAX_CHARS} characters."),
        );
    } else if has_control(code, false) {
        problems.insert(
            "code",
            "The booking code cannot contain control characters.".to_owned(),
        );
    }

    let expires_at = match &draft.expires_at {
        Some((iso, ms)) if *ms > rules.now_ms => Some(iso.clone()),
        Some(_) => {
            problems.insert("expiresAt", "Kick-off must be in the future.".to_owned());
            None
        }
        None => {
            problems.insert(
                "expiresAt",
                "Pick the kick-off date and time of the first game.".to_owned(),
            );
            None
        }
    };

    let max_buyers = match draft.max_buyers.trim() {
        "" => Some(1),
        raw => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=rules.max_buyers_limit).contains(n)),
    };
    if max_buyers.is_none() {
        problems.insert(
            "maxBuyers",
            format!(
                "Buyers is a whole number from 1 to {}.",
                rules.max_buyers_limit
            ),
        );
    }

    match (
        problems.is_empty(),
        draft.sport,
        bookmaker,
        expires_at,
        max_buyers,
    ) {
        (true, Some(sport), Some(bookmaker), Some(expires_at), Some(max_buyers)) => Ok(CodeIn {
            sport,
            title: title.to_owned(),
            description: description.to_owned(),
            odds: odds as f64 / 100.0,
            bookmaker,
            price,
            code: code.to_owned(),
            expires_at,
            max_buyers: Some(max_buyers),
        }),
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(bookmakers: &[String]) -> Rules<'_> {
        static UGX: std::sync::OnceLock<Currency> = std::sync::OnceLock::new();
        Rules {
            currency: UGX.get_or_init(|| Currency("UGX".into())),
            bookmakers,
            max_buyers_limit: DEFAULT_MAX_BUYERS_LIMIT,
            price_bounds: None,
            now_ms: 1_000.0,
        }
    }

    fn good() -> Draft {
        Draft {
            sport: Some(Sport::Football),
            title: "Weekend accumulator".into(),
            description: "Five home wins".into(),
            odds: "4.35".into(),
            bookmaker: "sportybet".into(),
            price: "5,000".into(),
            code: "SB-12345".into(),
            expires_at: Some(("2030-01-01T18:00:00Z".into(), 2_000.0)),
            max_buyers: "3".into(),
        }
    }

    fn books() -> Vec<String> {
        DEFAULT_BOOKMAKERS.iter().map(|b| b.to_string()).collect()
    }

    #[test]
    fn a_good_draft_becomes_the_request_with_server_spellings() {
        let books = books();
        let code = validate(&good(), &rules(&books)).expect("valid");
        assert_eq!(code.bookmaker, "SportyBet");
        assert_eq!(code.price, 5_000);
        assert_eq!(code.odds, 4.35);
        assert_eq!(code.max_buyers, Some(3));
        assert_eq!(code.expires_at, "2030-01-01T18:00:00Z");
    }

    #[test]
    fn odds_are_hundredths_between_the_bounds() {
        assert_eq!(parse_odds("2.5"), Ok(250));
        assert_eq!(parse_odds("1.01"), Ok(101));
        assert_eq!(parse_odds("100,000"), Ok(10_000_000));
        for bad in [
            "",
            "1",
            "1.00",
            "2.555",
            "abc",
            ".5",
            "100000.01",
            "-2",
            "99999999999999999999",
        ] {
            assert!(parse_odds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let books = books();
        let draft = Draft {
            sport: None,
            title: "abc".into(),
            description: "x".repeat(DESCRIPTION_MAX_CHARS + 1),
            odds: "1.005".into(),
            bookmaker: "Nowhere Bets".into(),
            price: "0".into(),
            code: " ".into(),
            expires_at: Some(("2000-01-01T00:00:00Z".into(), 10.0)),
            max_buyers: "0".into(),
        };
        let problems = validate(&draft, &rules(&books)).expect_err("invalid");
        let fields: Vec<_> = problems.keys().copied().collect();
        assert_eq!(
            fields,
            [
                "bookmaker",
                "code",
                "description",
                "expiresAt",
                "maxBuyers",
                "odds",
                "price",
                "sport",
                "title"
            ]
        );
    }

    #[test]
    fn the_servers_price_bounds_apply_once_known() {
        let books = books();
        let ugx = Currency("UGX".into());
        let mut r = rules(&books);
        r.price_bounds = Some((Money::new(500, &ugx), Money::new(5_000_000, &ugx)));
        let mut draft = good();
        draft.price = "400".into();
        let problems = validate(&draft, &r).expect_err("too cheap");
        assert_eq!(
            problems.get("price").map(String::as_str),
            Some("The price is between UGX 500 and UGX 5,000,000.")
        );
    }

    #[test]
    fn a_missing_kickoff_and_an_empty_buyers_field() {
        let books = books();
        let mut draft = good();
        draft.max_buyers = String::new();
        assert_eq!(
            validate(&draft, &rules(&books)).expect("valid").max_buyers,
            Some(1)
        );
        draft.expires_at = None;
        assert!(validate(&draft, &rules(&books))
            .expect_err("invalid")
            .contains_key("expiresAt"));
    }
}

/// The fields of a listing form, by their wire names (as the server's `details.fields` names them).
pub const FORM_FIELDS: [&str; 9] = [
    "sport",
    "title",
    "description",
    "odds",
    "bookmaker",
    "price",
    "code",
    "expiresAt",
    "maxBuyers",
];

/// The server's field messages of a refused listing, to show beside each field. The server
/// speaks in the currency already ("must be between UGX 500 and UGX 50,000"); the field's name is
/// put in front so it reads as a sentence: "The price must be between UGX 500 and UGX 50,000."
pub fn server_problems(error: &oddxer_shared::client::CommandError) -> Problems {
    FORM_FIELDS
        .iter()
        .filter_map(|field| Some((*field, field_sentence(field, error.field(field)?))))
        .collect()
}

/// "expiresAt", "must be within 30 days" -> "Kick-off must be within 30 days."
pub fn field_sentence(field: &str, problem: &str) -> String {
    let name = match field {
        "sport" => "The sport",
        "title" => "The title",
        "description" => "The description",
        "odds" => "The odds",
        "bookmaker" => "The bookmaker",
        "price" => "The price",
        "code" => "The booking code",
        "expiresAt" => "Kick-off",
        "maxBuyers" => "The number of buyers",
        "amount" => "The amount",
        "phoneNumber" => "The number",
        _ => "",
    };
    if name.is_empty() || !problem.trim_start().starts_with("must") {
        return sentence(problem);
    }
    sentence(&format!("{name} {}", problem.trim()))
}

/// "must be within 30 days" -> "Must be within 30 days."
pub fn sentence(text: &str) -> String {
    let text = text.trim();
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let end = if text.ends_with('.') { "" } else { "." };
    format!("{}{}{end}", first.to_uppercase(), chars.as_str())
}
