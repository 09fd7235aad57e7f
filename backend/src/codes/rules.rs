//! The marketplace's rules as plain functions over plain types: validation of a listing, the
//! status machine, and when voting is open. No I/O here.

use mongodb::bson::DateTime;
use oddxer_shared::api::{CodeIn, CodePatch};
use oddxer_shared::{CodeStatus, Outcome, Sport};
use std::collections::BTreeMap;
use std::time::Duration;

pub use oddxer_shared::validate::{DESCRIPTION_MAX_CHARS, MAX_ODDS, MIN_ODDS};
use oddxer_shared::validate::{TITLE_MAX_CHARS, TITLE_MIN_CHARS};
/// A title's length in characters.
pub const TITLE_CHARS: std::ops::RangeInclusive<usize> = TITLE_MIN_CHARS..=TITLE_MAX_CHARS;
/// A bookmaker's booking code: how long it may be (characters are letters, digits and hyphens).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookingCodeRule {
    pub min_chars: usize,
    pub max_chars: usize,
}

/// The rule for a bookmaker without its own (`BOOKING_CODE_LENGTHS`): bookmakers' booking codes
/// are short strings of letters and digits (SportyBet's are 5-7, Betway's 6-10); 5 to 30 also
/// admits the hyphenated forms sellers paste, and refuses typos such as "ab".
pub const DEFAULT_BOOKING_CODE: BookingCodeRule = BookingCodeRule {
    min_chars: 5,
    max_chars: 30,
};

/// Limits a listing is checked against (from configuration).
#[derive(Debug, Clone)]
pub struct Limits {
    pub bookmakers: Vec<String>,
    pub price_min: i64,
    pub price_max: i64,
    pub expiry_horizon: Duration,
    pub max_buyers: i64,
    /// Booking-code rules by bookmaker (as configured); others get [`DEFAULT_BOOKING_CODE`].
    pub booking_codes: Vec<(String, BookingCodeRule)>,
    /// The deployment currency: price messages speak in it ("UGX 500"), not in minor units.
    pub currency: oddxer_shared::Currency,
}

impl Limits {
    pub fn from_config(c: &crate::config::Config) -> Limits {
        Limits {
            bookmakers: c.bookmakers.clone(),
            price_min: c.code_price_min,
            price_max: c.code_price_max,
            expiry_horizon: c.code_expiry_horizon,
            max_buyers: c.code_max_buyers,
            booking_codes: c.booking_code_lengths.clone(),
            currency: c.currency.clone(),
        }
    }

    /// The booking-code rule of a bookmaker (matched case-insensitively).
    pub fn booking_code(&self, bookmaker: &str) -> BookingCodeRule {
        self.booking_codes
            .iter()
            .find(|(b, _)| b.eq_ignore_ascii_case(bookmaker))
            .map(|(_, r)| *r)
            .unwrap_or(DEFAULT_BOOKING_CODE)
    }
}

/// A listing that passed validation, in stored units.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    pub sport: Sport,
    pub title: String,
    pub description: String,
    /// Hundredths: 2.50 is 250.
    pub odds: i64,
    pub bookmaker: String,
    pub price: i64,
    pub code: String,
    pub expires_at: DateTime,
    pub max_buyers: i64,
}

/// Field name -> what is wrong with it; empty means valid.
pub type Problems = BTreeMap<&'static str, String>;

/// Decimal odds to integer hundredths, refusing more than 2 decimal places. The check is exact for
/// any decimal a client can send: a value with a third significant decimal is at least 10^-k away
/// from a hundredth, far above the error of parsing it as a double.
pub fn odds_to_hundredths(odds: f64) -> Option<i64> {
    if !odds.is_finite() || odds <= 0.0 || odds > 1e9 {
        return None;
    }
    let scaled = odds * 100.0;
    let rounded = scaled.round();
    let tolerance = scaled.abs() * 1e-14 + 1e-12;
    ((scaled - rounded).abs() <= tolerance).then_some(rounded as i64)
}

/// Hundredths back to the number shown on the wire (the nearest double, printed as `2.5`, `2.67`).
pub fn odds_to_decimal(hundredths: i64) -> f64 {
    hundredths as f64 / 100.0
}

/// Filter bounds may have any precision: round a minimum up and a maximum down to hundredths.
pub fn odds_bound(odds: f64, is_min: bool) -> Option<i64> {
    if !odds.is_finite() || !(0.0..=1e9).contains(&odds) {
        return None;
    }
    let scaled = odds * 100.0;
    Some(if is_min {
        (scaled - 1e-9).ceil() as i64
    } else {
        (scaled + 1e-9).floor() as i64
    })
}

fn has_control(s: &str, allow_newlines: bool) -> bool {
    s.chars()
        .any(|c| c.is_control() && !(allow_newlines && (c == '\n' || c == '\t' || c == '\r')))
}

fn check_title(title: &str, problems: &mut Problems) -> String {
    let t = title.trim();
    let n = t.chars().count();
    if !TITLE_CHARS.contains(&n) {
        problems.insert(
            "title",
            format!(
                "must be {} to {} characters",
                TITLE_CHARS.start(),
                TITLE_CHARS.end()
            ),
        );
    } else if has_control(t, false) {
        problems.insert("title", "must not contain control characters".into());
    }
    t.to_owned()
}

fn check_description(d: &str, problems: &mut Problems) -> String {
    let d = d.trim();
    if d.chars().count() > DESCRIPTION_MAX_CHARS {
        problems.insert(
            "description",
            format!("must be at most {DESCRIPTION_MAX_CHARS} characters"),
        );
    } else if has_control(d, true) {
        problems.insert("description", "must not contain control characters".into());
    }
    d.to_owned()
}

fn check_odds(odds: f64, problems: &mut Problems) -> i64 {
    match odds_to_hundredths(odds) {
        Some(h) if (MIN_ODDS..=MAX_ODDS).contains(&h) => h,
        Some(_) => {
            problems.insert("odds", "must be between 1.01 and 100000".into());
            0
        }
        None => {
            problems.insert(
                "odds",
                "must be a decimal number with at most 2 decimal places".into(),
            );
            0
        }
    }
}

/// The configured spelling of a bookmaker, matched case-insensitively.
fn check_bookmaker(b: &str, limits: &Limits, problems: &mut Problems) -> String {
    match limits
        .bookmakers
        .iter()
        .find(|known| known.eq_ignore_ascii_case(b.trim()))
    {
        Some(known) => known.clone(),
        None => {
            problems.insert(
                "bookmaker",
                format!("must be one of: {}", limits.bookmakers.join(", ")),
            );
            String::new()
        }
    }
}

fn check_price(price: i64, limits: &Limits, problems: &mut Problems) {
    if price < limits.price_min.max(1) || price > limits.price_max {
        let money = |amount: i64| oddxer_shared::Money::new(amount, &limits.currency).display();
        problems.insert(
            "price",
            format!(
                "must be between {} and {}",
                money(limits.price_min.max(1)),
                money(limits.price_max)
            ),
        );
    }
}

/// A booking code as the bookmaker prints it: letters, digits and hyphens, of the length the
/// bookmaker's rule allows (checked against the listing's bookmaker, known or not yet).
fn check_code(code: &str, bookmaker: &str, limits: &Limits, problems: &mut Problems) -> String {
    let c = code.trim();
    let rule = limits.booking_code(bookmaker);
    let length = c.chars().count();
    let whose = if bookmaker.is_empty() {
        "a booking code".to_owned()
    } else {
        format!("a {bookmaker} booking code")
    };
    if c.is_empty() {
        problems.insert("code", "must not be empty".into());
    } else if !c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-') {
        problems.insert(
            "code",
            format!("must be letters, digits and hyphens only ({whose})"),
        );
    } else if length < rule.min_chars || length > rule.max_chars {
        problems.insert(
            "code",
            format!(
                "must be {} to {} characters long ({whose})",
                rule.min_chars, rule.max_chars
            ),
        );
    }
    c.to_owned()
}

fn check_expires_at(
    raw: &str,
    now: DateTime,
    limits: &Limits,
    problems: &mut Problems,
) -> DateTime {
    match DateTime::parse_rfc3339_str(raw.trim()) {
        Ok(t) if t <= now => {
            problems.insert("expiresAt", "must be in the future".into());
            t
        }
        Ok(t) if t > crate::clock::after(now, limits.expiry_horizon) => {
            problems.insert(
                "expiresAt",
                format!(
                    "must be within {} days",
                    limits.expiry_horizon.as_secs() / 86_400
                ),
            );
            t
        }
        Ok(t) => t,
        Err(_) => {
            problems.insert(
                "expiresAt",
                "must be an RFC 3339 time such as 2026-05-01T18:00:00Z".into(),
            );
            now
        }
    }
}

fn check_max_buyers(n: i64, limits: &Limits, problems: &mut Problems) {
    if n < 1 || n > limits.max_buyers {
        problems.insert(
            "maxBuyers",
            format!("must be between 1 and {}", limits.max_buyers),
        );
    }
}

/// Validates every field of a new listing at once, so the client can show all problems.
pub fn validate_new(input: &CodeIn, now: DateTime, limits: &Limits) -> Result<Listing, Problems> {
    let mut p = Problems::new();
    let listing = Listing {
        sport: input.sport,
        title: check_title(&input.title, &mut p),
        description: check_description(&input.description, &mut p),
        odds: check_odds(input.odds, &mut p),
        bookmaker: check_bookmaker(&input.bookmaker, limits, &mut p),
        price: input.price,
        code: String::new(),
        expires_at: check_expires_at(&input.expires_at, now, limits, &mut p),
        max_buyers: input.max_buyers.unwrap_or(1),
    };
    let listing = Listing {
        code: check_code(&input.code, &listing.bookmaker, limits, &mut p),
        ..listing
    };
    check_price(input.price, limits, &mut p);
    check_max_buyers(listing.max_buyers, limits, &mut p);
    if p.is_empty() {
        Ok(listing)
    } else {
        Err(p)
    }
}

/// Applies a patch over the current listing, validating only the fields it names.
pub fn apply_patch(
    current: &Listing,
    patch: &CodePatch,
    now: DateTime,
    limits: &Limits,
) -> Result<Listing, Problems> {
    let mut p = Problems::new();
    let mut next = current.clone();
    if let Some(s) = patch.sport {
        next.sport = s;
    }
    if let Some(t) = &patch.title {
        next.title = check_title(t, &mut p);
    }
    if let Some(d) = &patch.description {
        next.description = check_description(d, &mut p);
    }
    if let Some(o) = patch.odds {
        next.odds = check_odds(o, &mut p);
    }
    if let Some(b) = &patch.bookmaker {
        next.bookmaker = check_bookmaker(b, limits, &mut p);
    }
    if let Some(price) = patch.price {
        check_price(price, limits, &mut p);
        next.price = price;
    }
    // Checked against the bookmaker the listing will have (a patch may change both).
    if patch.code.is_some() || patch.bookmaker.is_some() {
        let code = patch.code.as_deref().unwrap_or(&current.code);
        next.code = check_code(code, &next.bookmaker, limits, &mut p);
    }
    if let Some(e) = &patch.expires_at {
        next.expires_at = check_expires_at(e, now, limits, &mut p);
    }
    if let Some(m) = patch.max_buyers {
        check_max_buyers(m, limits, &mut p);
        next.max_buyers = m;
    }
    if p.is_empty() {
        Ok(next)
    } else {
        Err(p)
    }
}

/// The status a reader should see: a buyable label past `expiresAt` is already AWAITING_RESULT,
/// even before the worker rewrites the label.
pub fn effective_status(stored: CodeStatus, expires_at: DateTime, now: DateTime) -> CodeStatus {
    match stored {
        CodeStatus::Active | CodeStatus::SoldOut if expires_at <= now => CodeStatus::AwaitingResult,
        other => other,
    }
}

/// The label after `sales` completed purchases (before expiry).
pub fn status_after_sales(stored: CodeStatus, sales: i64, max_buyers: i64) -> CodeStatus {
    match stored {
        CodeStatus::Active if sales >= max_buyers => CodeStatus::SoldOut,
        CodeStatus::SoldOut if sales < max_buyers => CodeStatus::Active,
        other => other,
    }
}

/// Whether the status machine allows a move. Finalization (to WON, LOST, VOID) is not a label move
/// but a decision (an insert); this only says which labels may be overwritten by which.
pub fn can_move(from: CodeStatus, to: CodeStatus) -> bool {
    use CodeStatus::*;
    match (from, to) {
        (a, b) if a == b => true,
        (Active, SoldOut) | (SoldOut, Active) => true,
        (Active | SoldOut, AwaitingResult) => true,
        (Active, Cancelled) => true,
        // VOID may be decided by an admin at any time before another final state.
        (Active | SoldOut | AwaitingResult, Void) => true,
        (AwaitingResult, Won | Lost) => true,
        _ => false,
    }
}

/// Whether the owner may still edit or cancel: ACTIVE, not expired, nothing sold.
pub fn editable(
    stored: CodeStatus,
    expires_at: DateTime,
    now: DateTime,
    sales: i64,
) -> Result<(), &'static str> {
    match effective_status(stored, expires_at, now) {
        CodeStatus::Active if sales == 0 => Ok(()),
        CodeStatus::Active | CodeStatus::SoldOut => {
            Err("This code has sales and can no longer be changed")
        }
        CodeStatus::Cancelled => Err("This code is cancelled"),
        _ => Err("This code is no longer active"),
    }
}

/// Why a vote is refused, in the order the checks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoteWindow {
    Open,
    NotYet,
    Closed,
}

/// Buyers vote from `expiresAt` until `expiresAt + window`, and only before finalization.
pub fn vote_window(
    expires_at: DateTime,
    window: Duration,
    now: DateTime,
    finalized: bool,
    status: CodeStatus,
) -> VoteWindow {
    if finalized || status.is_final() {
        VoteWindow::Closed
    } else if now < expires_at {
        VoteWindow::NotYet
    } else if now >= crate::clock::after(expires_at, window) {
        VoteWindow::Closed
    } else {
        VoteWindow::Open
    }
}

/// What the votes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Decide now with this outcome.
    Resolve(Outcome),
    /// A tie or no votes with buyers: an admin decides.
    Review,
    /// Voting goes on.
    Wait,
}

/// Majority of the buyers' votes once every buyer voted or the window closed; a tie or no votes
/// goes to review; a code nobody bought is void (nothing to settle, no result to vote on).
pub fn decide(win: i64, loss: i64, buyers: i64, window_over: bool) -> Decision {
    let all_voted = buyers > 0 && win + loss >= buyers;
    if !all_voted && !window_over {
        return Decision::Wait;
    }
    if buyers == 0 && win + loss == 0 {
        return Decision::Resolve(Outcome::Void);
    }
    match win.cmp(&loss) {
        std::cmp::Ordering::Greater => Decision::Resolve(Outcome::Won),
        std::cmp::Ordering::Less => Decision::Resolve(Outcome::Lost),
        std::cmp::Ordering::Equal => Decision::Review,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            bookmakers: vec!["SportyBet".into(), "Betway".into()],
            price_min: 500,
            price_max: 100_000,
            expiry_horizon: Duration::from_secs(30 * 86_400),
            max_buyers: 1000,
            booking_codes: vec![(
                "SportyBet".into(),
                BookingCodeRule {
                    min_chars: 5,
                    max_chars: 8,
                },
            )],
            currency: oddxer_shared::Currency("UGX".into()),
        }
    }

    #[test]
    fn a_price_out_of_range_is_explained_in_the_currency_not_in_minor_units() {
        let mut problems = Problems::new();
        check_price(100, &limits(), &mut problems);
        assert_eq!(
            problems.get("price").map(String::as_str),
            Some("must be between UGX 500 and UGX 100,000")
        );
    }

    fn now() -> DateTime {
        DateTime::parse_rfc3339_str("2026-05-01T12:00:00Z").expect("time")
    }

    fn input() -> CodeIn {
        CodeIn {
            sport: Sport::Football,
            title: "  Saturday EPL accumulator ".into(),
            description: "Five legs, home wins".into(),
            odds: 12.75,
            bookmaker: "sportybet".into(),
            price: 2_000,
            code: " BC12345 ".into(),
            expires_at: "2026-05-02T15:00:00Z".into(),
            max_buyers: None,
        }
    }

    #[test]
    fn odds_with_two_decimals_are_stored_exactly_as_hundredths() {
        for (odds, h) in [
            (1.01, 101),
            (2.5, 250),
            (2.67, 267),
            (12.75, 1275),
            (100000.0, 10_000_000),
            (99999.99, 9_999_999),
            (1.1, 110),
            (0.29, 29),
        ] {
            assert_eq!(odds_to_hundredths(odds), Some(h), "{odds}");
            assert_eq!(odds_to_decimal(h), odds);
            assert_eq!(
                serde_json::to_string(&odds_to_decimal(h)).expect("json"),
                serde_json::to_string(&odds).expect("json")
            );
        }
        for bad in [
            1.005,
            2.001,
            2.0000000001,
            1.999,
            f64::NAN,
            f64::INFINITY,
            -2.0,
            0.0,
        ] {
            assert_eq!(odds_to_hundredths(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_two_decimal_value_in_range_round_trips() {
        for h in (101..=200_000).step_by(7) {
            let text = format!("{}.{:02}", h / 100, h % 100);
            let parsed: f64 = text.parse().expect("parse");
            assert_eq!(odds_to_hundredths(parsed), Some(h), "{text}");
        }
    }

    #[test]
    fn filter_bounds_round_inwards() {
        assert_eq!(odds_bound(1.505, true), Some(151));
        assert_eq!(odds_bound(1.505, false), Some(150));
        assert_eq!(odds_bound(2.5, true), Some(250));
        assert_eq!(odds_bound(2.5, false), Some(250));
        assert_eq!(odds_bound(-1.0, true), None);
    }

    #[test]
    fn a_valid_listing_is_trimmed_and_canonicalised() {
        let l = validate_new(&input(), now(), &limits()).expect("valid");
        assert_eq!(l.title, "Saturday EPL accumulator");
        assert_eq!(l.code, "BC12345");
        assert_eq!(l.bookmaker, "SportyBet");
        assert_eq!(l.odds, 1275);
        assert_eq!(l.max_buyers, 1);
    }

    #[test]
    fn every_invalid_field_is_reported_at_once() {
        let bad = CodeIn {
            sport: Sport::Tennis,
            title: "abc".into(),
            description: "x".repeat(2_001),
            odds: 1.005,
            bookmaker: "Nowhere Bet".into(),
            price: 0,
            code: "   ".into(),
            expires_at: "2026-04-30T12:00:00Z".into(),
            max_buyers: Some(0),
        };
        let p = validate_new(&bad, now(), &limits()).expect_err("invalid");
        let fields: Vec<&str> = p.keys().copied().collect();
        assert_eq!(
            fields,
            vec![
                "bookmaker",
                "code",
                "description",
                "expiresAt",
                "maxBuyers",
                "odds",
                "price",
                "title"
            ]
        );
    }

    #[test]
    fn table_of_single_field_refusals() {
        type Edit = Box<dyn Fn(&mut CodeIn)>;
        let cases: Vec<(&str, Edit)> = vec![
            ("odds", Box::new(|c| c.odds = 1.0)),
            ("odds", Box::new(|c| c.odds = 100_000.01)),
            ("price", Box::new(|c| c.price = 499)),
            ("price", Box::new(|c| c.price = 100_001)),
            ("expiresAt", Box::new(|c| c.expires_at = "tomorrow".into())),
            (
                "expiresAt",
                Box::new(|c| c.expires_at = "2026-07-01T00:00:00Z".into()),
            ),
            ("title", Box::new(|c| c.title = "x".repeat(121))),
            ("title", Box::new(|c| c.title = "ab\u{0007}cdef".into())),
            ("code", Box::new(|c| c.code = "x".repeat(101))),
            // A typo: too short for any bookmaker, too long for SportyBet's rule, a space inside.
            ("code", Box::new(|c| c.code = "ab".into())),
            ("code", Box::new(|c| c.code = "BC1234567".into())),
            ("code", Box::new(|c| c.code = "BC 12345".into())),
            ("maxBuyers", Box::new(|c| c.max_buyers = Some(1001))),
        ];
        for (field, edit) in cases {
            let mut c = input();
            edit(&mut c);
            let p = validate_new(&c, now(), &limits()).expect_err(field);
            assert_eq!(p.keys().copied().collect::<Vec<_>>(), vec![field]);
        }
    }

    #[test]
    fn a_patch_validates_only_what_it_changes() {
        let l = validate_new(&input(), now(), &limits()).expect("valid");
        let patch = CodePatch {
            price: Some(3_000),
            odds: Some(3.1),
            ..Default::default()
        };
        let next = apply_patch(&l, &patch, now(), &limits()).expect("valid patch");
        assert_eq!(
            (next.price, next.odds, next.title.as_str()),
            (3_000, 310, l.title.as_str())
        );
        let bad = CodePatch {
            title: Some("no".into()),
            ..Default::default()
        };
        assert!(apply_patch(&l, &bad, now(), &limits())
            .expect_err("bad")
            .contains_key("title"));
    }

    #[test]
    fn the_status_machine() {
        use CodeStatus::*;
        let t = now();
        let past = crate::clock::before(t, Duration::from_secs(1));
        assert_eq!(effective_status(Active, past, t), AwaitingResult);
        assert_eq!(effective_status(SoldOut, past, t), AwaitingResult);
        assert_eq!(effective_status(Won, past, t), Won);
        assert_eq!(
            effective_status(Active, crate::clock::after(t, Duration::from_secs(1)), t),
            Active
        );
        assert_eq!(status_after_sales(Active, 1, 1), SoldOut);
        assert_eq!(status_after_sales(Active, 1, 3), Active);
        assert_eq!(status_after_sales(AwaitingResult, 3, 3), AwaitingResult);
        assert!(
            can_move(Active, SoldOut)
                && can_move(SoldOut, AwaitingResult)
                && can_move(AwaitingResult, Won)
        );
        assert!(can_move(Active, Cancelled) && can_move(Active, Void));
        assert!(
            !can_move(SoldOut, Cancelled)
                && !can_move(Won, Lost)
                && !can_move(Cancelled, Active)
                && !can_move(Active, Won)
        );
    }

    #[test]
    fn editing_needs_an_active_unsold_unexpired_code() {
        let t = now();
        let later = crate::clock::after(t, Duration::from_secs(60));
        assert!(editable(CodeStatus::Active, later, t, 0).is_ok());
        assert!(editable(CodeStatus::Active, later, t, 1).is_err());
        assert!(editable(CodeStatus::SoldOut, later, t, 1).is_err());
        assert!(editable(
            CodeStatus::Active,
            crate::clock::before(t, Duration::from_secs(1)),
            t,
            0
        )
        .is_err());
        assert!(editable(CodeStatus::Cancelled, later, t, 0).is_err());
    }

    #[test]
    fn voting_is_open_between_expiry_and_the_end_of_the_window() {
        let t = now();
        let w = Duration::from_secs(3600);
        let st = CodeStatus::AwaitingResult;
        assert_eq!(
            vote_window(
                crate::clock::after(t, Duration::from_secs(1)),
                w,
                t,
                false,
                st
            ),
            VoteWindow::NotYet
        );
        assert_eq!(vote_window(t, w, t, false, st), VoteWindow::Open);
        assert_eq!(
            vote_window(crate::clock::before(t, w), w, t, false, st),
            VoteWindow::Closed
        );
        assert_eq!(vote_window(t, w, t, true, st), VoteWindow::Closed);
        assert_eq!(
            vote_window(t, w, t, false, CodeStatus::Cancelled),
            VoteWindow::Closed
        );
    }

    #[test]
    fn majority_decides_ties_go_to_review_and_unsold_codes_are_void() {
        assert_eq!(decide(2, 1, 5, false), Decision::Wait);
        assert_eq!(decide(2, 1, 3, false), Decision::Resolve(Outcome::Won));
        assert_eq!(decide(1, 2, 5, true), Decision::Resolve(Outcome::Lost));
        assert_eq!(decide(1, 1, 2, false), Decision::Review);
        assert_eq!(decide(0, 0, 4, true), Decision::Review);
        assert_eq!(decide(0, 0, 0, true), Decision::Resolve(Outcome::Void));
        assert_eq!(decide(0, 0, 0, false), Decision::Wait);
    }

    #[test]
    fn a_booking_code_is_checked_against_the_bookmaker_the_listing_will_have() {
        let limits = limits();
        let mut c = input();
        c.bookmaker = "Betway".into();
        c.code = "BW-123456789".into(); // 12 characters: fine by the default rule, not by SportyBet's
        let listing = validate_new(&c, now(), &limits).expect("valid for Betway");
        let to_sportybet = CodePatch {
            bookmaker: Some("SportyBet".into()),
            ..Default::default()
        };
        let p = apply_patch(&listing, &to_sportybet, now(), &limits)
            .expect_err("too long for SportyBet");
        assert_eq!(
            p.get("code").map(String::as_str),
            Some("must be 5 to 8 characters long (a SportyBet booking code)")
        );
    }
}
