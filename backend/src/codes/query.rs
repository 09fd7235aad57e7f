//! `GET /codes` as plain data: parsed filters, the MongoDB filter and sort they become, opaque
//! keyset cursors `(sort key, _id)`, and the index each query shape uses.

use super::rules;
use crate::db::INDEXES;
use crate::error::AppError;
use mongodb::bson::{doc, oid::ObjectId, Bson, DateTime, Document};
pub use oddxer_shared::api::CodeSort;
use oddxer_shared::{search, CodeStatus, Sport};
use serde::Deserialize;

/// The cursor tag of a sort (one letter): a cursor is only good for the sort that issued it.
fn sort_tag(sort: CodeSort) -> &'static str {
    match sort {
        CodeSort::Newest => "n",
        CodeSort::Price => "p",
        CodeSort::PriceDesc => "P",
        CodeSort::Odds => "o",
        CodeSort::OddsDesc => "O",
        CodeSort::ExpiresAt => "e",
    }
}

/// Whether the sort key is a date (milliseconds in the cursor) rather than a number.
fn sort_is_date(sort: CodeSort) -> bool {
    matches!(sort, CodeSort::Newest | CodeSort::ExpiresAt)
}

/// The MongoDB sort of `sort`: its field, then `_id`, in the same direction.
pub fn sort_doc(sort: CodeSort) -> Document {
    let (field, dir) = sort.key();
    doc! { field: dir, "_id": dir }
}

/// The query string of `GET /codes` (and, without `seller`, of `GET /seller/codes`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CodeQuery {
    pub sport: Option<Sport>,
    pub bookmaker: Option<String>,
    /// Decimal odds, inclusive.
    pub min_odds: Option<f64>,
    pub max_odds: Option<f64>,
    /// Minor units, inclusive.
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    /// Default ACTIVE (buyable now).
    pub status: Option<CodeStatus>,
    /// A seller's user id.
    pub seller: Option<String>,
    /// Words searched in titles and tipster usernames (at most 100 characters): a code matches
    /// when every word of two or more characters starts a word of either (`oddxer_shared::search`).
    pub q: Option<String>,
    /// Only tipsters ranked on the all-time leaderboard with at least this win rate (percent,
    /// 0 to 100).
    pub min_win_rate: Option<f64>,
    /// Only ranked tipsters with at least this yield (percent, -100 to 100000).
    pub min_yield: Option<f64>,
    /// newest (default), price, -price, odds, -odds, expiresAt.
    pub sort: Option<CodeSort>,
    /// 1 to 100, default 20.
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page, with the same sort.
    pub cursor: Option<String>,
}

/// A position in a sorted list: the last item's sort key and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub key: i64,
    pub id: ObjectId,
}

pub fn encode_cursor(sort: CodeSort, c: Cursor) -> String {
    hex::encode(format!("{}:{}:{}", sort_tag(sort), c.key, c.id.to_hex()))
}

pub fn decode_cursor(sort: CodeSort, raw: &str) -> Result<Cursor, AppError> {
    let bad = || {
        AppError::validation(
            "cursor is not one this server issued for this sort",
            "cursor",
            "invalid",
        )
    };
    let bytes = hex::decode(raw).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let mut parts = text.splitn(3, ':');
    let (tag, key, id) = (parts.next(), parts.next(), parts.next());
    if tag != Some(sort_tag(sort)) {
        return Err(bad());
    }
    let key = key.and_then(|k| k.parse::<i64>().ok()).ok_or_else(bad)?;
    let id = id
        .and_then(|i| ObjectId::parse_str(i).ok())
        .ok_or_else(bad)?;
    Ok(Cursor { key, id })
}

/// The sort key of a stored code, as a cursor holds it.
pub fn cursor_of(sort: CodeSort, code: &super::store::Code) -> Cursor {
    let key = match sort {
        CodeSort::Newest => code.created_at.timestamp_millis(),
        CodeSort::ExpiresAt => code.listing.expires_at.timestamp_millis(),
        CodeSort::Price | CodeSort::PriceDesc => code.listing.price,
        CodeSort::Odds | CodeSort::OddsDesc => code.listing.odds,
    };
    Cursor { key, id: code.id }
}

/// The minimum record of a tipster, from the marketplace's win-rate and yield filters, in basis
/// points (hundredths of a percent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordFloor {
    pub min_win_rate_bps: Option<i64>,
    pub min_yield_bps: Option<i64>,
}

/// Who passes a [`RecordFloor`]: the leaderboard knows the records, the marketplace asks
/// (implemented by `leaderboard::cache::RecordFloors`, so `codes` does not depend on it).
pub trait SellerRecords: Send + Sync {
    /// The ids of the ranked tipsters whose all-time record reaches `floor`.
    fn passing(
        &self,
        floor: RecordFloor,
    ) -> futures_util::future::BoxFuture<'_, Result<Vec<ObjectId>, AppError>>;
}

/// A checked query, ready to become a MongoDB filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Browse {
    pub sport: Option<Sport>,
    pub bookmaker: Option<String>,
    pub odds: (Option<i64>, Option<i64>),
    pub price: (Option<i64>, Option<i64>),
    pub status: Option<CodeStatus>,
    pub seller: Option<ObjectId>,
    /// Search words ([`oddxer_shared::search::query_words`]); empty: no search.
    pub words: Vec<String>,
    /// The tipster's minimum record, resolved by [`Browse::restrict_sellers`] before the query.
    pub record: Option<RecordFloor>,
    /// The tipsters passing `record` (`None`: no such filter).
    pub sellers_in: Option<std::collections::BTreeSet<ObjectId>>,
    pub sort: CodeSort,
    pub limit: i64,
    pub after: Option<Cursor>,
}

impl Browse {
    /// `default_status` is ACTIVE for the public marketplace and `None` (every status) for a seller's own list.
    pub fn parse(
        q: &CodeQuery,
        default_status: Option<CodeStatus>,
        bookmakers: &[String],
    ) -> Result<Browse, AppError> {
        let limit = crate::http::PageQuery {
            limit: q.limit,
            cursor: None,
        }
        .limit()?;
        let sort = q.sort.unwrap_or_default();
        let invalid = |field: &str, problem: &str| {
            AppError::validation(format!("{field} {problem}"), field, problem)
        };
        let min_odds = q
            .min_odds
            .map(|o| {
                rules::odds_bound(o, true)
                    .ok_or_else(|| invalid("minOdds", "must be a positive number"))
            })
            .transpose()?;
        let max_odds = q
            .max_odds
            .map(|o| {
                rules::odds_bound(o, false)
                    .ok_or_else(|| invalid("maxOdds", "must be a positive number"))
            })
            .transpose()?;
        if let (Some(a), Some(b)) = (q.min_price, q.max_price) {
            if a > b {
                return Err(invalid("minPrice", "must not exceed maxPrice"));
            }
        }
        if q.min_odds.is_some() && q.max_odds.is_some() && q.min_odds > q.max_odds {
            return Err(invalid("minOdds", "must not exceed maxOdds"));
        }
        if q.q.as_deref().is_some_and(search::is_too_long) {
            return Err(invalid("q", search::TOO_LONG));
        }
        let percent_bps = |v: Option<f64>, field: &str, min: f64, max: f64| match v {
            None => Ok(None),
            Some(p) if p.is_finite() && (min..=max).contains(&p) => {
                Ok(Some((p * 100.0).round() as i64))
            }
            Some(_) => Err(invalid(
                field,
                &format!("must be a percent from {min} to {max}"),
            )),
        };
        let min_win_rate_bps = percent_bps(q.min_win_rate, "minWinRate", 0.0, 100.0)?;
        let min_yield_bps = percent_bps(q.min_yield, "minYield", -100.0, 100_000.0)?;
        let record =
            (min_win_rate_bps.is_some() || min_yield_bps.is_some()).then_some(RecordFloor {
                min_win_rate_bps,
                min_yield_bps,
            });
        let seller = match &q.seller {
            None => None,
            Some(s) => {
                Some(ObjectId::parse_str(s).map_err(|_| invalid("seller", "must be a user id"))?)
            }
        };
        // A bookmaker outside the list matches nothing; the configured spelling matches any case.
        let bookmaker = q.bookmaker.as_ref().map(|b| {
            bookmakers
                .iter()
                .find(|k| k.eq_ignore_ascii_case(b.trim()))
                .cloned()
                .unwrap_or_else(|| b.trim().to_owned())
        });
        let after = q
            .cursor
            .as_deref()
            .map(|c| decode_cursor(sort, c))
            .transpose()?;
        Ok(Browse {
            sport: q.sport,
            bookmaker,
            odds: (min_odds, max_odds),
            price: (q.min_price, q.max_price),
            status: q.status.or(default_status),
            seller,
            words: q.q.as_deref().map(search::query_words).unwrap_or_default(),
            record,
            sellers_in: None,
            sort,
            limit,
            after,
        })
    }

    /// Keeps only the listings of `passing` (the tipsters who reach [`Browse::record`]).
    pub fn restrict_sellers(&mut self, passing: impl IntoIterator<Item = ObjectId>) {
        self.sellers_in = Some(passing.into_iter().collect());
    }

    /// The MongoDB filter: equality fields first (`seller`, `status`, `sport`), ranges after, then
    /// the keyset condition. ACTIVE and SOLD_OUT mean "and not yet expired"; AWAITING_RESULT also
    /// takes codes whose label the worker has not moved yet.
    pub fn filter(&self, now: DateTime) -> Document {
        let mut f = Document::new();
        let mut and: Vec<Document> = vec![];
        match (self.seller, &self.sellers_in) {
            (Some(s), Some(ids)) if !ids.contains(&s) => {
                f.insert("seller", doc! { "$in": [] });
            }
            (Some(s), _) => {
                f.insert("seller", s);
            }
            (None, Some(ids)) => {
                f.insert("seller", doc! { "$in": ids.iter().collect::<Vec<_>>() });
            }
            (None, None) => {}
        }
        match self.status {
            Some(st @ (CodeStatus::Active | CodeStatus::SoldOut)) => {
                f.insert("status", st.as_str());
                f.insert("expiresAt", doc! { "$gt": now });
            }
            Some(CodeStatus::AwaitingResult) => and.push(doc! { "$or": [
                { "status": CodeStatus::AwaitingResult.as_str() },
                { "status": { "$in": [CodeStatus::Active.as_str(), CodeStatus::SoldOut.as_str()] }, "expiresAt": { "$lte": now } },
            ] }),
            Some(st) => {
                f.insert("status", st.as_str());
            }
            None => {}
        }
        if let Some(s) = self.sport {
            f.insert("sport", s.as_str());
        }
        if let Some(b) = &self.bookmaker {
            f.insert("bookmaker", b);
        }
        if let Some(r) = range(self.odds) {
            f.insert("odds", r);
        }
        if let Some(r) = range(self.price) {
            f.insert("price", r);
        }
        // Each word starts a word of the title or the username (words are letters and digits
        // only, so they need no escaping in a pattern).
        for w in &self.words {
            let pattern = format!(r"(^|[^\p{{L}}\p{{N}}]){w}");
            and.push(doc! { "$or": [
                { "title": { "$regex": &pattern, "$options": "i" } },
                { "sellerUsername": { "$regex": &pattern, "$options": "i" } },
            ] });
        }
        if let Some(c) = self.after {
            let (field, dir) = self.sort.key();
            let op = if dir > 0 { "$gt" } else { "$lt" };
            let key: Bson = if sort_is_date(self.sort) {
                Bson::DateTime(DateTime::from_millis(c.key))
            } else {
                Bson::Int64(c.key)
            };
            and.push(doc! { "$or": [ { field: { op: key.clone() } }, { field: key, "_id": { op: c.id } } ] });
        }
        match and.len() {
            0 => {}
            1 => f.extend(and.remove(0)),
            _ => {
                f.insert("$and", and);
            }
        }
        f
    }

    /// The same filter as `filter`, evaluated in memory over a stored code (the market cache).
    pub fn matches(&self, c: &super::store::Code, now: DateTime) -> bool {
        let l = &c.listing;
        let status_ok = match self.status {
            Some(st @ (CodeStatus::Active | CodeStatus::SoldOut)) => {
                c.status == st && l.expires_at > now
            }
            Some(CodeStatus::AwaitingResult) => {
                c.status == CodeStatus::AwaitingResult
                    || (matches!(c.status, CodeStatus::Active | CodeStatus::SoldOut)
                        && l.expires_at <= now)
            }
            Some(st) => c.status == st,
            None => true,
        };
        let within = |v: i64, (min, max): (Option<i64>, Option<i64>)| {
            min.is_none_or(|m| v >= m) && max.is_none_or(|m| v <= m)
        };
        status_ok
            && self.seller.is_none_or(|s| c.seller == s)
            && self
                .sellers_in
                .as_ref()
                .is_none_or(|ids| ids.contains(&c.seller))
            && search::matches_words(&self.words, &l.title, &c.seller_username)
            && self.sport.is_none_or(|s| l.sport == s)
            && self.bookmaker.as_ref().is_none_or(|b| &l.bookmaker == b)
            && within(l.odds, self.odds)
            && within(l.price, self.price)
            && self.after.is_none_or(|after| {
                let k = cursor_of(self.sort, c);
                let ord = (k.key, k.id).cmp(&(after.key, after.id));
                if self.sort.key().1 > 0 {
                    ord == std::cmp::Ordering::Greater
                } else {
                    ord == std::cmp::Ordering::Less
                }
            })
    }

    /// The sort of `sort_doc`, in memory.
    pub fn order(&self, a: &super::store::Code, b: &super::store::Code) -> std::cmp::Ordering {
        let (ka, kb) = (cursor_of(self.sort, a), cursor_of(self.sort, b));
        let ord = (ka.key, ka.id).cmp(&(kb.key, kb.id));
        if self.sort.key().1 > 0 {
            ord
        } else {
            ord.reverse()
        }
    }

    /// The index of `db::INDEXES` that serves this shape on MongoDB (equality, sort, range rule).
    pub fn index(&self) -> Vec<(&'static str, i32)> {
        index_for(
            self.seller.is_some(),
            self.sport.is_some(),
            self.status.is_some(),
            self.sort,
        )
    }
}

fn range((min, max): (Option<i64>, Option<i64>)) -> Option<Document> {
    let mut r = Document::new();
    if let Some(a) = min {
        r.insert("$gte", a);
    }
    if let Some(b) = max {
        r.insert("$lte", b);
    }
    (!r.is_empty()).then_some(r)
}

/// Equality fields, then the sort key, then `_id`, all ascending except a descending date sort.
pub fn index_for(
    seller: bool,
    sport: bool,
    status: bool,
    sort: CodeSort,
) -> Vec<(&'static str, i32)> {
    let (field, dir) = sort.key();
    // An ascending index also serves the descending sort, walked backwards.
    let dir = if field == "createdAt" { -1 } else { dir.abs() };
    let mut keys = vec![];
    if seller {
        keys.push(("seller", 1));
        if status {
            keys.push(("status", 1));
        }
    } else {
        keys.push(("status", 1));
        if sport {
            keys.push(("sport", 1));
        }
    }
    keys.push((field, dir));
    keys.push(("_id", dir));
    keys
}

/// True when `db::INDEXES` declares exactly these keys on `bettingcodes`.
pub fn declared(keys: &[(&str, i32)]) -> bool {
    INDEXES.iter().any(|(col, k, _)| {
        *col == "bettingcodes" && k.len() == keys.len() && k.iter().zip(keys).all(|(a, b)| a == b)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn books() -> Vec<String> {
        vec!["SportyBet".into(), "Betway".into()]
    }

    #[test]
    fn cursors_round_trip_and_are_bound_to_their_sort() {
        let c = Cursor {
            key: 1_700_000_000_123,
            id: ObjectId::new(),
        };
        for s in CodeSort::ALL {
            let raw = encode_cursor(s, c);
            assert_eq!(decode_cursor(s, &raw).expect("decode"), c);
        }
        let raw = encode_cursor(CodeSort::Price, c);
        assert!(decode_cursor(CodeSort::Newest, &raw).is_err());
        for bad in [
            "",
            "zz",
            "6e3a",
            &hex::encode("n:abc:123"),
            &hex::encode("n:12"),
        ] {
            assert!(decode_cursor(CodeSort::Newest, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_default_browse_is_buyable_codes_newest_first() {
        let b = Browse::parse(&CodeQuery::default(), Some(CodeStatus::Active), &books())
            .expect("parse");
        let now = DateTime::from_millis(1_000);
        assert_eq!(
            b.filter(now),
            doc! { "status": "ACTIVE", "expiresAt": { "$gt": now } }
        );
        assert_eq!(sort_doc(b.sort), doc! { "createdAt": -1, "_id": -1 });
        assert_eq!(b.limit, 20);
    }

    #[test]
    fn filters_and_a_cursor_combine() {
        let id = ObjectId::new();
        let q = CodeQuery {
            sport: Some(Sport::Tennis),
            bookmaker: Some("betway".into()),
            min_odds: Some(1.5),
            max_odds: Some(3.0),
            min_price: Some(100),
            sort: Some(CodeSort::PriceDesc),
            cursor: Some(encode_cursor(CodeSort::PriceDesc, Cursor { key: 900, id })),
            ..Default::default()
        };
        let b = Browse::parse(&q, Some(CodeStatus::Active), &books()).expect("parse");
        let now = DateTime::from_millis(5);
        let f = b.filter(now);
        assert_eq!(f.get_str("bookmaker").expect("bookmaker"), "Betway");
        assert_eq!(
            f.get_document("odds").expect("odds"),
            &doc! { "$gte": 150i64, "$lte": 300i64 }
        );
        assert_eq!(
            f.get_document("price").expect("price"),
            &doc! { "$gte": 100i64 }
        );
        assert_eq!(f.get_array("$or").expect("keyset").len(), 2);
        assert_eq!(
            b.index(),
            vec![("status", 1), ("sport", 1), ("price", 1), ("_id", 1)]
        );
    }

    #[test]
    fn bad_filters_are_validation_errors() {
        let cases = [
            CodeQuery {
                seller: Some("nope".into()),
                ..Default::default()
            },
            CodeQuery {
                min_price: Some(10),
                max_price: Some(5),
                ..Default::default()
            },
            CodeQuery {
                min_odds: Some(3.0),
                max_odds: Some(2.0),
                ..Default::default()
            },
            CodeQuery {
                min_odds: Some(-1.0),
                ..Default::default()
            },
            CodeQuery {
                limit: Some(101),
                ..Default::default()
            },
            CodeQuery {
                cursor: Some("garbage".into()),
                ..Default::default()
            },
            CodeQuery {
                q: Some("x".repeat(101)),
                ..Default::default()
            },
            CodeQuery {
                min_win_rate: Some(100.5),
                ..Default::default()
            },
            CodeQuery {
                min_win_rate: Some(f64::NAN),
                ..Default::default()
            },
            CodeQuery {
                min_yield: Some(-101.0),
                ..Default::default()
            },
        ];
        for q in cases {
            assert!(
                matches!(
                    Browse::parse(&q, None, &books()),
                    Err(AppError::Validation { .. })
                ),
                "{q:?}"
            );
        }
    }

    #[test]
    fn a_search_and_a_record_floor_filter_in_the_database_as_in_memory() {
        let q = CodeQuery {
            q: Some("@Ace ars".into()),
            min_win_rate: Some(55.5),
            ..Default::default()
        };
        let mut b = Browse::parse(&q, Some(CodeStatus::Active), &books()).expect("parse");
        assert_eq!(b.words, vec!["ace", "ars"]);
        assert_eq!(
            b.record,
            Some(RecordFloor {
                min_win_rate_bps: Some(5_550),
                min_yield_bps: None
            })
        );
        let (good, bad) = (ObjectId::new(), ObjectId::new());
        b.restrict_sellers([good]);
        let f = b.filter(DateTime::from_millis(5));
        assert_eq!(
            f.get_document("seller").expect("seller"),
            &doc! { "$in": [good] }
        );
        let words = f.get_array("$and").expect("one condition per word");
        assert_eq!(words.len(), 2);
        let pattern = r"(^|[^\p{L}\p{N}])ace";
        assert_eq!(
            words[0],
            Bson::Document(doc! { "$or": [
                { "title": { "$regex": pattern, "$options": "i" } },
                { "sellerUsername": { "$regex": pattern, "$options": "i" } },
            ] })
        );

        // A seller filter outside the passing tipsters matches nothing.
        let mut one = b.clone();
        one.seller = Some(bad);
        assert_eq!(
            one.filter(DateTime::from_millis(5))
                .get_document("seller")
                .expect("seller"),
            &doc! { "$in": [] }
        );
    }

    #[test]
    fn every_query_shape_has_a_declared_index() {
        for seller in [false, true] {
            for sport in [false, true] {
                for status in [false, true] {
                    for sort in CodeSort::ALL {
                        if !status && (!seller || sort != CodeSort::Newest) {
                            continue; // the public list always filters by status; a seller's own list sorts newest first
                        }
                        let keys = index_for(seller, sport, status, sort);
                        assert!(declared(&keys), "no index {keys:?}");
                    }
                }
            }
        }
    }
}
